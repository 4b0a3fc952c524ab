//! Methodology: the text of a TOML methodology file in, a validated [`Methodology`] out.
//!
//! The file names the dimensions, their indicators (0/1 columns or rules), their weights
//! and the poverty cutoffs k. Weights and cutoffs are kept as exact fractions
//! ([`Exact`]). Validation happens here, once (`validate`), and every error points at
//! the key that caused it. Rules stay text with the columns they read
//! ([`crate::rules`]); the columns are checked against a survey by the reading layer.
//! Reading the file from disk is the caller's: the engine does no I/O.

pub mod alignment;
mod alternatives;
mod schema;
mod validate;

use num_rational::Ratio;
use num_traits::{CheckedDiv, CheckedMul};
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::exact::Exact;
use crate::rules::{Expression, Rule, RuleLanguage};

pub use alternatives::WeightVector;
pub use validate::{cutoffs_from_flag, cutoffs_from_list, parse_cutoffs};

/// The survey's design and analysis columns. Every key can be set or overridden on the
/// command line.
#[derive(Deserialize, Debug, Clone, Default, PartialEq)]
#[serde(deny_unknown_fields)]
pub struct SurveyColumns {
    /// Sampling weight; without one every row weighs 1.
    pub weight: Option<String>,
    /// Stratum of the first sampling stage.
    pub strata: Option<String>,
    /// Primary sampling unit (cluster).
    pub psu: Option<String>,
    /// Subgroup columns, each analysed separately.
    #[serde(default)]
    pub over: Vec<String>,
    /// Survey round, for data holding several rounds.
    pub round: Option<String>,
    /// The year of each round (decimals allowed).
    pub year: Option<String>,
    /// Household id, for rules aggregated over a household's members.
    pub household: Option<String>,
    /// Household size, when each row is a household: it multiplies the weight so that
    /// persons are counted.
    pub household_size: Option<String>,
    /// The separator of a CSV file (`,` `;` `|` or `tab`); found in the header when unset.
    pub delimiter: Option<String>,
    /// Whether a CSV file's numbers have decimal commas; found in the file when unset.
    pub decimal_comma: Option<bool>,
    /// The text encoding of a CSV file (`utf-8`, `latin1`, `windows-1252`…); UTF-8 when
    /// unset.
    pub encoding: Option<String>,
    /// The values that are missing in numeric columns: text as written (`"."`, `"NA"`)
    /// and numeric codes (`-99`, `998`). Unset: `"."` and `"NA"`. An empty field is
    /// always missing.
    pub missing: Option<Vec<MissingCode>>,
    /// Whether a PSU id seen in several rounds is one PSU followed over time (`panel`) or
    /// a different PSU in each round (`distinct`, as when ids restart in each round).
    pub psu_across_rounds: Option<PsuAcrossRounds>,
    /// The unit of analysis: persons (the default) or households, each counted once with
    /// its household weight (its rows found by the household id).
    pub unit: Option<Unit>,
    /// Rows that miss an indicator: dropped from the design (`drop`, the default, as
    /// mpitb and mpitbR) or kept in it outside every domain (`domain`, as R's survey
    /// package on a subset design).
    pub missing_rows: Option<MissingRows>,
}

impl SurveyColumns {
    /// The settings with `psu = "household"` read as the household id's column: the
    /// households are the sampling units.
    pub fn resolved(mut self) -> SurveyColumns {
        if self.psu.as_deref() == Some(HOUSEHOLD_AS_PSU) {
            if let Some(hh) = &self.household {
                self.psu = Some(hh.clone());
            }
        }
        self
    }
}

/// The value of `psu` that names the household id's column.
pub const HOUSEHOLD_AS_PSU: &str = "household";

/// A missing-value code of `[survey] missing`: text as written, or a number.
#[derive(Deserialize, Debug, Clone, PartialEq)]
#[serde(untagged)]
pub enum MissingCode {
    Number(f64),
    Text(String),
}

/// How PSU ids that occur in several rounds (within a stratum) are read.
#[derive(Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum PsuAcrossRounds {
    /// The same id is the same PSU in every round: the rounds' estimates are correlated
    /// through it. The default, because it is what Stata's mpitb and R's mpitbR (and the
    /// survey package under them) do with pooled rounds, so that afmpi reproduces them;
    /// the run's summary says when it happens.
    #[default]
    Panel,
    /// Each round's PSUs are its own, whatever their ids: right for independent samples
    /// whose PSU numbers restart in each round (most DHS and MICS rounds).
    Distinct,
}

/// What becomes of the rows that miss an indicator. The estimates are the same either
/// way; the standard errors differ a little, since the design's PSUs and their number
/// per stratum differ.
#[derive(Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum MissingRows {
    /// Out of the sample before the design is read (Stata mpitb, R mpitbR).
    #[default]
    Drop,
    /// In the design as units outside every domain: n/(n-1) counts them, and a PSU
    /// whose every row misses an indicator stays (R's survey package, convey).
    Domain,
}

/// What the measures count.
#[derive(Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
#[serde(rename_all = "lowercase")]
pub enum Unit {
    /// Each row (person) once, with its weight.
    #[default]
    Person,
    /// Each household once, with its weight: the rows of a household (by the household
    /// id) must agree on everything the run uses, as household-level columns do. As R's
    /// mpindex, and the household tables Colombia and Uruguay publish.
    Household,
}

// ---------------------------------------------------------------------------------------
// The validated methodology.

#[derive(Clone, Debug)]
pub struct Dimension {
    pub name: String,
    pub weight: Exact,
}

#[derive(Clone, Debug)]
pub struct Indicator {
    /// The indicator's id in the results (`indicator` column): its column, or the name
    /// of its rule.
    pub id: String,
    /// Display name (defaults to the id).
    pub name: String,
    /// Where the deprivation comes from.
    pub source: Source,
    /// Index into [`Methodology::dimensions`].
    pub dimension: usize,
    pub weight: Exact,
    /// Dropped, its weight shared in its dimension, when its data are absent.
    pub optional: bool,
}

/// Where an indicator's deprivation comes from.
#[derive(Clone, Debug)]
pub enum Source {
    /// A ready 0/1 column, 1 = deprived.
    Column(String),
    /// A rule over the survey's columns.
    Rule(Box<Rule>),
    /// A cardinal indicator: an achievement x (a column) and its deprivation cutoff z;
    /// deprived when x < z, with the normalized gap (z - x)/z.
    Achievement { column: String, cutoff: f64 },
}

impl Indicator {
    /// The columns the indicator reads.
    pub fn columns(&self) -> Vec<String> {
        match &self.source {
            Source::Column(c) | Source::Achievement { column: c, .. } => vec![c.clone()],
            Source::Rule(r) => r.columns(),
        }
    }
}

/// A named group identified by a rule over `score` (the weighted deprivation score, a
/// fraction of 1), `count` (the number of deprivations) and survey columns.
#[derive(Clone, Debug)]
pub struct Group {
    pub name: String,
    pub rule: Expression,
    /// Report A and M0 beside H.
    pub intensity: bool,
}

/// The variables a group rule can use beside the survey's columns.
pub const GROUP_VARIABLES: [&str; 2] = ["score", "count"];

/// A poverty cutoff k: exact as a fraction of 1, and in percent for the `k` column.
#[derive(Clone, Copy, Debug)]
pub struct Cutoff {
    pub value: Exact,
}

impl Cutoff {
    /// k in percent, as mpitb reports it (33, 33.33, 33.333…).
    pub fn percent(&self) -> f64 {
        let p = self.value.value * Ratio::from_integer(100);
        *p.numer() as f64 / *p.denom() as f64
    }
}

/// How a score is compared with a cutoff k: `c_i >= k` (mpitb, OPHI, DANE: the
/// default) or `c_i > k` (Stata mpi's convention). Both are decided in exact integers.
#[derive(Deserialize, Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Identification {
    #[default]
    #[serde(rename = ">=")]
    AtLeast,
    #[serde(rename = ">")]
    Above,
}

impl Identification {
    /// The comparison as written in the methodology file.
    pub fn symbol(self) -> &'static str {
        match self {
            Identification::AtLeast => ">=",
            Identification::Above => ">",
        }
    }
}

#[derive(Clone, Debug)]
pub struct Methodology {
    pub name: String,
    pub title: String,
    pub source: String,
    pub cutoffs: Vec<Cutoff>,
    /// Whether a score equal to a cutoff is poor.
    pub identification: Identification,
    /// The M_alpha computed beside M0 (1, 2), ascending.
    pub alphas: Vec<u8>,
    /// Whether inequality among the poor is computed (`ineq`, with its split within and
    /// between the levels of each subgroup column).
    pub inequality: bool,
    pub dimensions: Vec<Dimension>,
    pub indicators: Vec<Indicator>,
    pub groups: Vec<Group>,
    pub survey: SurveyColumns,
    /// The survey's own names of the columns the methodology uses (harmonized -> survey).
    pub columns: std::collections::BTreeMap<String, String>,
    /// What `compare` reports: a cutoff's index or a group's.
    pub headline: Headline,
    /// The named alternative weight vectors of `[[weights]]`, for `robustness`.
    pub alternative_weights: Vec<WeightVector>,
    /// Notes for the user that are not errors (weights written as rounded decimals…).
    pub notes: Vec<String>,
}

/// The identification `compare` uses for a methodology.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Headline {
    Cutoff(usize),
    Group(usize),
}

impl Methodology {
    /// Parses and validates methodology TOML text; `language` reads the rules.
    pub fn from_toml(text: &str, language: &dyn RuleLanguage) -> Result<Methodology> {
        let file: schema::FileSpec = toml::from_str(text).map_err(|e| Error::Methodology {
            file: None,
            key: None,
            message: e.to_string().trim_end().to_string(),
        })?;
        validate::validate(file, language)
    }

    /// Drops indicators (by index) and shares each one's weight among the others of its
    /// dimension, in proportion to their weights (equally, when they are equal); the
    /// alternative weight vectors alike. A dimension left without indicators is an error.
    pub fn without(&self, drop: &[usize]) -> Result<Methodology> {
        let own: Vec<Ratio<i128>> = self.indicators.iter().map(|i| i.weight.value).collect();
        let shared = self.shared_out(&own, drop)?;
        let mut m = self.clone();
        for (ind, w) in m.indicators.iter_mut().zip(shared) {
            ind.weight.value = w;
        }
        for alt in &mut m.alternative_weights {
            let shared = self.shared_out(&alt.weights, drop)?;
            alt.weights = (shared.into_iter().enumerate())
                .filter(|(j, _)| !drop.contains(j))
                .map(|(_, w)| w)
                .collect();
        }
        m.indicators = m
            .indicators
            .into_iter()
            .enumerate()
            .filter(|(j, _)| !drop.contains(j))
            .map(|(_, i)| i)
            .collect();
        Ok(m)
    }

    /// `weights` (one per indicator) with each dropped indicator's weight shared among
    /// the kept ones of its dimension, in proportion to theirs.
    fn shared_out(&self, weights: &[Ratio<i128>], drop: &[usize]) -> Result<Vec<Ratio<i128>>> {
        let mut out = weights.to_vec();
        for (d, dim) in self.dimensions.iter().enumerate() {
            let of_d = |j: &usize| self.indicators[*j].dimension == d;
            let kept: Vec<usize> = (0..self.indicators.len())
                .filter(|j| of_d(j) && !drop.contains(j))
                .collect();
            if !(0..self.indicators.len()).any(|j| of_d(&j) && drop.contains(&j)) {
                continue;
            }
            if kept.is_empty() {
                return Err(key_err(
                    format!("dimension[{d}]"),
                    format!("dimension \"{}\" has no indicator left once the absent optional ones are dropped: the survey lacks its data", dim.name),
                ));
            }
            let too_fine = |e: String| key_err(format!("dimension[{d}]"), e);
            let kept_sum = crate::exact::sum(kept.iter().map(|&j| weights[j])).map_err(too_fine)?;
            let dim_sum =
                crate::exact::sum((0..self.indicators.len()).filter(of_d).map(|j| weights[j]))
                    .map_err(too_fine)?;
            if kept_sum == Ratio::from_integer(0) {
                return Err(key_err(
                    format!("dimension[{d}]"),
                    format!("dimension \"{}\": the indicators left once the absent optional ones are dropped all weigh 0, so its weight cannot be shared among them", dim.name),
                ));
            }
            for &j in &kept {
                out[j] = weights[j]
                    .checked_mul(&dim_sum)
                    .and_then(|x| x.checked_div(&kept_sum))
                    .ok_or_else(|| too_fine(crate::exact::TOO_FINE.to_string()))?;
            }
        }
        Ok(out)
    }

    /// Sum of the indicator weights (1, or within a rounding tolerance of 1).
    pub fn weight_sum(&self) -> Ratio<i128> {
        self.indicators.iter().map(|i| i.weight.value).sum()
    }
}

/// An error of the methodology file at `key`.
pub(crate) fn key_err(key: impl Into<String>, message: impl Into<String>) -> Error {
    Error::Methodology {
        file: None,
        key: Some(key.into()),
        message: message.into(),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::exact::Exact;
    use crate::rules::Words;
    use num_rational::Ratio;

    #[test]
    fn parses_fractions_and_decimals_exactly() {
        assert_eq!(Exact::parse("1/18").unwrap().value, Ratio::new(1, 18));
        assert_eq!(Exact::parse("0.15").unwrap().value, Ratio::new(3, 20));
        assert_eq!(Exact::from_f64(0.15).unwrap().value, Ratio::new(3, 20));
        assert_eq!(Exact::parse("2.5e-1").unwrap().value, Ratio::new(1, 4));
        assert!(Exact::parse("1/0").is_err());
        assert!(Exact::parse("abc").is_err());
        assert!(Exact::parse("0.1.2").is_err());
    }

    pub(crate) const BASE: &str = r#"
name = "t"
cutoffs = [33.33, "1/3"]
[[dimension]]
name = "health"
[[dimension.indicator]]
column = "a"
[[dimension.indicator]]
column = "b"
[[dimension]]
name = "living"
[[dimension.indicator]]
column = "c"
"#;

    #[test]
    fn default_weights_are_nested_equal() {
        let m = Methodology::from_toml(BASE, &Words).unwrap();
        let w: Vec<_> = m.indicators.iter().map(|i| i.weight.value).collect();
        assert_eq!(
            w,
            vec![Ratio::new(1, 4), Ratio::new(1, 4), Ratio::new(1, 2)]
        );
        assert_eq!(m.cutoffs[0].value.value, Ratio::new(3333, 10000));
        assert_eq!(m.cutoffs[1].value.value, Ratio::new(1, 3));
    }

    #[test]
    fn rejects_bad_cutoffs_duplicates_and_negative_weights() {
        let e =
            Methodology::from_toml(&BASE.replace("[33.33, \"1/3\"]", "[0]"), &Words).unwrap_err();
        assert!(e.to_string().contains("cutoffs[0]"), "{e}");
        let e =
            Methodology::from_toml(&BASE.replace("[33.33, \"1/3\"]", "[101]"), &Words).unwrap_err();
        assert!(e.to_string().contains("outside (0, 100]"), "{e}");
        let e = Methodology::from_toml(&BASE.replace("column = \"b\"", "column = \"a\""), &Words)
            .unwrap_err();
        assert!(e.to_string().contains("defined twice"), "{e}");
        let e = Methodology::from_toml(
            &BASE.replace("column = \"c\"", "column = \"c\"\nweight = -0.5"),
            &Words,
        )
        .unwrap_err();
        assert!(e.to_string().contains("negative"), "{e}");
        let over = BASE
            .replace("column = \"a\"", "column = \"a\"\nweight = 0.6")
            .replace("column = \"b\"", "column = \"b\"\nweight = 0.5");
        let e = Methodology::from_toml(&over, &Words).unwrap_err();
        assert!(e.to_string().contains("sum to 1.1"), "{e}");
    }

    #[test]
    fn dimension_weight_must_match_its_indicators() {
        let text = BASE
            .replace("name = \"living\"", "name = \"living\"\nweight = 0.5")
            .replace("column = \"c\"", "column = \"c\"\nweight = 0.4");
        let e = Methodology::from_toml(&text, &Words).unwrap_err();
        assert!(e.to_string().contains("dimension[1].weight"), "{e}");
    }

    /// The first 30 primes.
    const PRIMES: [u32; 30] = [
        2, 3, 5, 7, 11, 13, 17, 19, 23, 29, 31, 37, 41, 43, 47, 53, 59, 61, 67, 71, 73, 79, 83, 89,
        97, 101, 103, 107, 109, 113,
    ];

    #[test]
    fn thirty_prime_denominators_are_refused_before_any_overflow() {
        // One dimension per prime p: weight 1/p given to it, the rest to a last one. The
        // common denominator of the 30 primes is about 3e46, beyond i128 (1.7e38).
        let mut text = String::from("name = \"primes\"\ncutoffs = [33]\n");
        for (d, p) in PRIMES.iter().enumerate() {
            text.push_str(&format!(
                "[[dimension]]\nname = \"d{d}\"\nweight = \"1/{p}\"\n[[dimension.indicator]]\ncolumn = \"x{d}\"\n"
            ));
        }
        text.push_str("[[dimension]]\nname = \"rest\"\n[[dimension.indicator]]\ncolumn = \"y\"\n");
        let e = Methodology::from_toml(&text, &Words)
            .unwrap_err()
            .to_string();
        assert!(e.contains("too large for exact arithmetic"), "{e}");
        // The same with the weights on the indicators of one dimension.
        let mut text =
            String::from("name = \"primes\"\ncutoffs = [33]\n[[dimension]]\nname = \"all\"\n");
        for (j, p) in PRIMES.iter().enumerate() {
            text.push_str(&format!(
                "[[dimension.indicator]]\ncolumn = \"x{j}\"\nweight = \"1/{p}\"\n"
            ));
        }
        let e = Methodology::from_toml(&text, &Words)
            .unwrap_err()
            .to_string();
        assert!(e.contains("too large for exact arithmetic"), "{e}");
    }

    #[test]
    fn ten_prime_denominators_are_exact() {
        // 1/2 + 1/3 + … + 1/29 has denominator 6469693230: well inside i128, and the
        // indicator without a weight takes exactly what is left.
        let mut text =
            String::from("name = \"primes\"\ncutoffs = [\"1/7\"]\n[[dimension]]\nname = \"all\"\n");
        let ps = &PRIMES[..10];
        let mut given = Ratio::from_integer(0i128);
        for (j, p) in ps.iter().enumerate() {
            text.push_str(&format!(
                "[[dimension.indicator]]\ncolumn = \"x{j}\"\nweight = \"1/{}\"\n",
                p * 4
            ));
            given += Ratio::new(1, 4 * *p as i128);
        }
        text.push_str("[[dimension.indicator]]\ncolumn = \"y\"\n");
        let m = Methodology::from_toml(&text, &Words).unwrap();
        assert_eq!(
            m.indicators.last().unwrap().weight.value,
            Ratio::from_integer(1) - given
        );
        let w = crate::identification::IntegerWeights::new(&m).unwrap();
        assert_eq!(w.denominator, 4 * 6469693230);
    }

    #[test]
    fn psu_household_names_the_household_id() {
        let text = format!("{BASE}\n[survey]\npsu = \"household\"\nhousehold = \"hh\"\n");
        let m = Methodology::from_toml(&text, &Words).unwrap();
        assert_eq!(m.survey.psu.as_deref(), Some("hh"));
        // Without a household id, "household" is a column's name like any other.
        let text = format!("{BASE}\n[survey]\npsu = \"household\"\n");
        let m = Methodology::from_toml(&text, &Words).unwrap();
        assert_eq!(m.survey.psu.as_deref(), Some("household"));
    }
}
