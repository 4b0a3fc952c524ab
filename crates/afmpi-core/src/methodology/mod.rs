//! Methodology: the text of a TOML methodology file in, a validated [`Methodology`] out.
//!
//! The file names the dimensions, their indicators (0/1 columns or rules), their weights
//! and the poverty cutoffs k. Weights and cutoffs are kept as exact fractions
//! ([`Exact`]). Validation happens here, once (`validate`), and every error points at
//! the key that caused it. Rules stay text with the columns they read
//! ([`crate::rules`]); the columns are checked against a survey by the reading layer.
//! Reading the file from disk is the caller's: the engine does no I/O.

mod schema;
mod validate;

use num_rational::Ratio;
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::exact::Exact;
use crate::rules::{Expression, Rule, RuleLanguage};

pub use validate::{cutoffs_from_list, parse_cutoffs};

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
}

impl Indicator {
    /// The columns the indicator reads.
    pub fn columns(&self) -> Vec<String> {
        match &self.source {
            Source::Column(c) => vec![c.clone()],
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

#[derive(Clone, Debug)]
pub struct Methodology {
    pub name: String,
    pub title: String,
    pub source: String,
    pub cutoffs: Vec<Cutoff>,
    pub dimensions: Vec<Dimension>,
    pub indicators: Vec<Indicator>,
    pub groups: Vec<Group>,
    pub survey: SurveyColumns,
    /// The survey's own names of the columns the methodology uses (harmonized -> survey).
    pub columns: std::collections::BTreeMap<String, String>,
    /// What `compare` reports: a cutoff's index or a group's.
    pub headline: Headline,
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
    /// dimension, in proportion to their weights (equally, when they are equal). A
    /// dimension left without indicators is an error.
    pub fn without(&self, drop: &[usize]) -> Result<Methodology> {
        let mut m = self.clone();
        for (d, dim) in self.dimensions.iter().enumerate() {
            let kept: Vec<usize> = (0..self.indicators.len())
                .filter(|j| self.indicators[*j].dimension == d && !drop.contains(j))
                .collect();
            let dropped = (0..self.indicators.len())
                .any(|j| self.indicators[j].dimension == d && drop.contains(&j));
            if !dropped {
                continue;
            }
            if kept.is_empty() {
                return Err(key_err(
                    format!("dimension[{d}]"),
                    format!("dimension \"{}\" has no indicator left once the absent optional ones are dropped: the survey lacks its data", dim.name),
                ));
            }
            let kept_sum: Ratio<i128> = kept.iter().map(|&j| self.indicators[j].weight.value).sum();
            let dim_sum: Ratio<i128> = (0..self.indicators.len())
                .filter(|j| self.indicators[*j].dimension == d)
                .map(|j| self.indicators[j].weight.value)
                .sum();
            for &j in &kept {
                let w = &mut m.indicators[j].weight;
                w.value = w.value * dim_sum / kept_sum;
            }
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
}
