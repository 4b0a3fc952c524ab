//! Methodology: a TOML file in, a validated [`Methodology`] out.
//!
//! The file names the dimensions, their indicators (0/1 columns), their weights and the
//! poverty cutoffs k. Weights and cutoffs are kept as exact fractions ([`Exact`]): "1/18"
//! is exactly one eighteenth and a decimal such as 0.0555556 is exactly what was written,
//! so that identification (`c_i >= k`) can later be decided with integers, free of
//! floating-point error. Validation happens here, once, and every error points at the
//! key that caused it; the columns are checked against the data in [`crate::read`].

use std::collections::HashSet;
use std::fmt;
use std::path::Path;

use num_integer::Integer;
use num_rational::Ratio;
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::rules::{Aggregate, Expression, NoEligible, Rule};

/// An exact non-negative fraction, with a note of whether it was written as a decimal.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Exact {
    pub value: Ratio<i128>,
    /// True when the value was written as a decimal (0.0555556) rather than a fraction.
    pub decimal: bool,
}

impl Exact {
    pub fn to_f64(self) -> f64 {
        *self.value.numer() as f64 / *self.value.denom() as f64
    }

    /// Parses "1/18", "0.15", "3" or "2.5e-1" into an exact fraction.
    pub fn parse(text: &str) -> std::result::Result<Exact, String> {
        let text = text.trim();
        if let Some((num, den)) = text.split_once('/') {
            let num = parse_decimal(num.trim())?;
            let den = parse_decimal(den.trim())?;
            if *den.numer() == 0 {
                return Err(format!("\"{text}\" divides by zero"));
            }
            Ok(Exact {
                value: num / den,
                decimal: false,
            })
        } else {
            let value = parse_decimal(text)?;
            let decimal = text.contains('.') || text.contains(['e', 'E']);
            Ok(Exact { value, decimal })
        }
    }

    /// A TOML float becomes the decimal that prints it (0.15 stays 0.15, not its binary
    /// neighbour), so a number in the file means what it shows.
    pub fn from_f64(x: f64) -> std::result::Result<Exact, String> {
        if !x.is_finite() {
            return Err(format!("{x} is not a finite number"));
        }
        Exact::parse(&format!("{x}"))
    }
}

impl fmt::Display for Exact {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.value.is_integer() || !self.decimal {
            write!(f, "{}", self.value)
        } else {
            write!(f, "{}", self.to_f64())
        }
    }
}

fn parse_decimal(text: &str) -> std::result::Result<Ratio<i128>, String> {
    let bad = || {
        format!("\"{text}\" is not a number: write a decimal such as 0.15 or a fraction such as \"1/18\"")
    };
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(i) => (&text[..i], text[i + 1..].parse::<i32>().map_err(|_| bad())?),
        None => (text, 0),
    };
    let (negative, mantissa) = match mantissa.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, mantissa.strip_prefix('+').unwrap_or(mantissa)),
    };
    let (int_part, frac_part) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    if int_part.is_empty() && frac_part.is_empty() {
        return Err(bad());
    }
    if !int_part
        .chars()
        .chain(frac_part.chars())
        .all(|c| c.is_ascii_digit())
    {
        return Err(bad());
    }
    let digits = format!("{int_part}{frac_part}");
    let too_fine =
        || format!("\"{text}\" has more digits than afmpi can keep exactly (at most 30)");
    let mut numer: i128 = digits.parse().map_err(|_| too_fine())?;
    let scale = exponent - frac_part.len() as i32;
    let mut denom: i128 = 1;
    let pow = 10i128
        .checked_pow(scale.unsigned_abs())
        .ok_or_else(too_fine)?;
    if scale >= 0 {
        numer = numer.checked_mul(pow).ok_or_else(too_fine)?;
    } else {
        denom = pow;
    }
    if negative {
        numer = -numer;
    }
    Ok(Ratio::new(numer, denom))
}

/// A weight or cutoff as written in TOML: a number, or a string holding a decimal or fraction.
#[derive(Deserialize, Clone, Debug)]
#[serde(untagged)]
pub enum Number {
    Int(i64),
    Float(f64),
    Text(String),
}

impl Number {
    fn exact(&self) -> std::result::Result<Exact, String> {
        match self {
            Number::Int(i) => Ok(Exact {
                value: Ratio::from_integer(*i as i128),
                decimal: false,
            }),
            Number::Float(x) => Exact::from_f64(*x),
            Number::Text(s) => Exact::parse(s),
        }
    }
}

// ---------------------------------------------------------------------------------------
// The file as written.

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct FileSpec {
    name: String,
    title: Option<String>,
    source: Option<String>,
    cutoffs: Vec<Number>,
    #[serde(rename = "dimension", default)]
    dimensions: Vec<FileDimension>,
    #[serde(default)]
    survey: SurveyColumns,
    /// Named groups identified by rules over the score, the count and survey columns.
    #[serde(rename = "group", default)]
    groups: Vec<FileGroup>,
    /// The survey's own names of the columns the methodology uses: harmonized = "survey".
    #[serde(default)]
    columns: std::collections::BTreeMap<String, String>,
    /// The cutoff (a number or fraction, as in `cutoffs`) or group that `compare` uses.
    headline: Option<Number>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct FileGroup {
    name: String,
    rule: String,
    /// Report A and M0 beside H (default true).
    intensity: Option<bool>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct FileDimension {
    name: String,
    weight: Option<Number>,
    #[serde(rename = "indicator", default)]
    indicators: Vec<FileIndicator>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct FileIndicator {
    column: Option<String>,
    deprived: Option<String>,
    name: Option<String>,
    weight: Option<Number>,
    eligible: Option<String>,
    aggregate: Option<String>,
    no_eligible: Option<String>,
    min_observed: Option<Number>,
    #[serde(default)]
    optional: bool,
}

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

/// How far decimal weights may sum from 1: weights written as rounded decimals
/// (0.333333) are accepted, and used as written.
const DECIMAL_SUM_TOLERANCE: f64 = 1e-6;

impl Methodology {
    /// Reads and validates a methodology file.
    pub fn from_file(path: &Path) -> Result<Methodology> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| Error::input(path, format!("cannot read the methodology file: {e}")))?;
        Methodology::from_toml(&text).map_err(|e| e.in_file(path))
    }

    /// Parses and validates methodology TOML text.
    pub fn from_toml(text: &str) -> Result<Methodology> {
        let file: FileSpec = toml::from_str(text).map_err(|e| Error::Methodology {
            file: None,
            key: None,
            message: e.to_string().trim_end().to_string(),
        })?;
        validate(file)
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

fn key_err(key: impl Into<String>, message: impl Into<String>) -> Error {
    Error::Methodology {
        file: None,
        key: Some(key.into()),
        message: message.into(),
    }
}

fn validate(file: FileSpec) -> Result<Methodology> {
    if file.name.trim().is_empty() {
        return Err(key_err(
            "name",
            "the methodology needs a short id, e.g. name = \"global-mpi\"",
        ));
    }
    // Cutoffs: numbers are percent, strings are fractions of 1.
    if file.cutoffs.is_empty() {
        return Err(key_err(
            "cutoffs",
            "give at least one poverty cutoff, e.g. cutoffs = [33.33] or [\"1/3\"]",
        ));
    }
    let cutoffs = parse_cutoffs(&file.cutoffs, "cutoffs")?;

    if file.dimensions.is_empty() {
        return Err(key_err("dimension", "the methodology has no [[dimension]]: add at least one, each with its [[dimension.indicator]] entries"));
    }
    let mut seen_dims = HashSet::new();
    let mut seen_columns = HashSet::new();
    let zero = Ratio::from_integer(0);
    let one: Ratio<i128> = Ratio::from_integer(1);
    let any_decimal = std::cell::Cell::new(false);
    let weight_of = |key: &str, n: &Option<Number>| -> Result<Option<Exact>> {
        let Some(n) = n else { return Ok(None) };
        let w = n.exact().map_err(|m| key_err(key, m))?;
        if w.value < zero {
            return Err(key_err(
                key,
                format!("weight {w} is negative: weights are shares of 1, zero or more"),
            ));
        }
        if w.decimal {
            any_decimal.set(true);
        }
        Ok(Some(w))
    };

    // First pass: the dimension weights that are fixed by the file.
    struct Pending {
        dim_weight: Option<Exact>,
        given: Vec<Option<Exact>>,
        sources: Vec<(String, Source)>,
    }
    let mut pending = Vec::new();
    for (d, dim) in file.dimensions.iter().enumerate() {
        let key = format!("dimension[{d}]");
        if dim.name.trim().is_empty() {
            return Err(key_err(format!("{key}.name"), "a dimension needs a name"));
        }
        if !seen_dims.insert(dim.name.clone()) {
            return Err(key_err(
                format!("{key}.name"),
                format!("dimension \"{}\" is defined twice", dim.name),
            ));
        }
        if dim.indicators.is_empty() {
            return Err(key_err(
                key,
                format!(
                    "dimension \"{}\" is empty: give it at least one [[dimension.indicator]]",
                    dim.name
                ),
            ));
        }
        let dim_weight = weight_of(&format!("{key}.weight"), &dim.weight)?;
        let mut given = Vec::new();
        let mut sources = Vec::new();
        for (j, ind) in dim.indicators.iter().enumerate() {
            let ikey = format!("{key}.indicator[{j}]");
            let (id, source) = indicator_source(ind, &ikey, file.survey.household.is_some())?;
            if !seen_columns.insert(id.clone()) {
                return Err(key_err(
                    ikey,
                    format!("indicator \"{id}\" is defined twice: each indicator counts once"),
                ));
            }
            sources.push((id, source));
            given.push(weight_of(&format!("{ikey}.weight"), &ind.weight)?);
        }
        let given_sum: Ratio<i128> = given.iter().flatten().map(|w| w.value).sum();
        if let Some(w) = dim_weight {
            if given.iter().all(Option::is_some) {
                let decimal = given.iter().flatten().any(|g| g.decimal) || w.decimal;
                if !weights_equal(w.value, given_sum, decimal) {
                    return Err(key_err(format!("{key}.weight"), format!(
                        "dimension \"{}\" has weight {} but its indicators' weights sum to {}: make them agree, or leave one of them out",
                        dim.name, w, show(given_sum, decimal))));
                }
            } else if given_sum > w.value {
                return Err(key_err(format!("{key}.weight"), format!(
                    "dimension \"{}\" has weight {} but its indicators' given weights already sum to {}",
                    dim.name, w, show(given_sum, true))));
            }
        }
        pending.push(Pending {
            dim_weight,
            given,
            sources,
        });
    }

    // Dimensions without a weight, whose indicators all have one, take their sum; the
    // others share what is left equally.
    let mut dim_weights: Vec<Option<Exact>> = pending
        .iter()
        .map(|p| {
            p.dim_weight.or_else(|| {
                p.given.iter().all(Option::is_some).then(|| Exact {
                    value: p.given.iter().flatten().map(|w| w.value).sum(),
                    decimal: p.given.iter().flatten().any(|w| w.decimal),
                })
            })
        })
        .collect();
    let fixed: Ratio<i128> = dim_weights.iter().flatten().map(|w| w.value).sum();
    let open = dim_weights.iter().filter(|w| w.is_none()).count();
    if open > 0 {
        let left = one - fixed;
        if left < zero {
            return Err(key_err("dimension", format!(
                "the dimensions' given weights sum to {}, more than 1, leaving nothing for the {open} dimension(s) without a weight",
                show(fixed, any_decimal.get()))));
        }
        let share = left / Ratio::from_integer(open as i128);
        for w in dim_weights.iter_mut().filter(|w| w.is_none()) {
            *w = Some(Exact {
                value: share,
                decimal: false,
            });
        }
    }

    let mut dimensions = Vec::new();
    let mut indicators = Vec::new();
    for (d, (dim, p)) in file.dimensions.iter().zip(&pending).enumerate() {
        let weight = dim_weights[d].expect("every dimension has a weight by now");
        let given_sum: Ratio<i128> = p.given.iter().flatten().map(|w| w.value).sum();
        let open = p.given.iter().filter(|w| w.is_none()).count();
        let share = if open > 0 {
            (weight.value - given_sum) / Ratio::from_integer(open as i128)
        } else {
            zero
        };
        for (ind, given) in dim.indicators.iter().zip(&p.given) {
            let w = given.unwrap_or(Exact {
                value: share,
                decimal: weight.decimal,
            });
            let (id, source) = p.sources[indicators
                .iter()
                .filter(|i: &&Indicator| i.dimension == d)
                .count()]
            .clone();
            indicators.push(Indicator {
                name: ind.name.clone().unwrap_or_else(|| id.clone()),
                id,
                source,
                dimension: d,
                weight: w,
                optional: ind.optional,
            });
        }
        dimensions.push(Dimension {
            name: dim.name.clone(),
            weight,
        });
    }
    if indicators.len() > 64 {
        return Err(key_err(
            "dimension",
            format!(
                "the methodology has {} indicators; afmpi handles at most 64",
                indicators.len()
            ),
        ));
    }

    let sum: Ratio<i128> = indicators.iter().map(|i| i.weight.value).sum();
    let decimal = indicators.iter().any(|i| i.weight.decimal);
    let mut notes = Vec::new();
    if sum != one {
        if !weights_equal(sum, one, decimal) {
            return Err(key_err("dimension", format!(
                "the indicator weights sum to {}, not 1: fix the weights (write repeating decimals as fractions, e.g. \"1/18\")",
                show(sum, decimal))));
        }
        notes.push(format!(
            "weights written as decimals sum to {} rather than 1; they are used exactly as written (write \"1/3\", \"1/18\" for exact shares)",
            show(sum, true)));
    }
    if indicators.iter().any(|i| i.weight.value == zero) {
        let names: Vec<_> = indicators
            .iter()
            .filter(|i| i.weight.value == zero)
            .map(|i| i.id.as_str())
            .collect();
        notes.push(format!(
            "indicators with weight 0 count for nothing: {}",
            names.join(", ")
        ));
    }
    for name in file.survey.over.iter() {
        if file.survey.over.iter().filter(|o| *o == name).count() > 1 {
            return Err(key_err(
                "survey.over",
                format!("subgroup column \"{name}\" is listed twice"),
            ));
        }
    }

    let mut groups: Vec<Group> = Vec::new();
    for (g, group) in file.groups.iter().enumerate() {
        let key = format!("group[{g}]");
        if group.name.trim().is_empty() {
            return Err(key_err(format!("{key}.name"), "a group needs a name"));
        }
        if groups.iter().any(|o| o.name == group.name) {
            return Err(key_err(
                format!("{key}.name"),
                format!("group \"{}\" is defined twice", group.name),
            ));
        }
        let rule = Expression::parse(&group.rule).map_err(|m| key_err(format!("{key}.rule"), m))?;
        groups.push(Group {
            name: group.name.clone(),
            rule,
            intensity: group.intensity.unwrap_or(true),
        });
    }
    if groups.len() > 32 {
        return Err(key_err("group", "afmpi handles at most 32 groups"));
    }
    let headline = match &file.headline {
        None => Headline::Cutoff(0),
        Some(Number::Text(t)) if groups.iter().any(|g| &g.name == t) => {
            Headline::Group(groups.iter().position(|g| &g.name == t).unwrap())
        }
        Some(n) => {
            let k = parse_cutoffs(std::slice::from_ref(n), "headline")?[0];
            match cutoffs.iter().position(|c| c.value.value == k.value.value) {
                Some(c) => Headline::Cutoff(c),
                None => {
                    return Err(key_err(
                        "headline",
                        "the headline must be one of the cutoffs or the name of a group",
                    ))
                }
            }
        }
    };

    Ok(Methodology {
        name: file.name,
        title: file.title.unwrap_or_default(),
        source: file.source.unwrap_or_default(),
        cutoffs,
        dimensions,
        indicators,
        groups,
        survey: file.survey,
        columns: file.columns,
        headline,
        notes,
    })
}

/// An indicator's id and source: a ready column, or a rule with its household options.
fn indicator_source(
    ind: &FileIndicator,
    key: &str,
    has_household: bool,
) -> Result<(String, Source)> {
    let rule_only = [
        ("eligible", ind.eligible.is_some()),
        ("aggregate", ind.aggregate.is_some()),
        ("no_eligible", ind.no_eligible.is_some()),
        ("min_observed", ind.min_observed.is_some()),
    ];
    match (&ind.column, &ind.deprived) {
        (Some(_), Some(_)) => Err(key_err(key, "give either `column` (a ready 0/1 column) or `deprived` (a rule), not both")),
        (None, None) => Err(key_err(key, "an indicator needs `column` (a ready 0/1 column) or `deprived` (a rule over the survey's columns)")),
        (Some(column), None) => {
            if column.trim().is_empty() {
                return Err(key_err(format!("{key}.column"), "an indicator needs the name of its 0/1 column"));
            }
            if let Some((k, _)) = rule_only.iter().find(|(_, set)| *set) {
                return Err(key_err(format!("{key}.{k}"), format!("`{k}` goes with a rule: write the indicator as deprived = \"{column} = 1\"")));
            }
            Ok((column.clone(), Source::Column(column.clone())))
        }
        (None, Some(text)) => {
            let id = ind.name.clone().filter(|n| !n.trim().is_empty()).ok_or_else(|| {
                key_err(format!("{key}.name"), "an indicator given by a rule needs a `name`: it names the indicator in the results")
            })?;
            let deprived = Expression::parse(text).map_err(|m| key_err(format!("{key}.deprived"), m))?;
            let eligible = match &ind.eligible {
                Some(t) => Some(Expression::parse(t).map_err(|m| key_err(format!("{key}.eligible"), m))?),
                None => None,
            };
            let aggregate = match &ind.aggregate {
                Some(t) => Some(Aggregate::parse(t).map_err(|m| key_err(format!("{key}.aggregate"), m))?),
                None => None,
            };
            if aggregate.is_none() {
                if let Some((k, _)) = rule_only.iter().find(|(k, set)| *set && *k != "aggregate") {
                    return Err(key_err(format!("{key}.{k}"), format!("`{k}` applies to a rule aggregated over household members: add aggregate = \"any\" (or all, none, share >= x)")));
                }
            } else if !has_household {
                return Err(key_err(format!("{key}.aggregate"), "aggregating over members needs the household id: set household = \"...\" in [survey]"));
            }
            let no_eligible = match &ind.no_eligible {
                Some(t) => NoEligible::parse(t).map_err(|m| key_err(format!("{key}.no_eligible"), m))?,
                None => NoEligible::NotDeprived,
            };
            let min_observed = match &ind.min_observed {
                Some(n) => {
                    let v = n.exact().map_err(|m| key_err(format!("{key}.min_observed"), m))?.to_f64();
                    if !(0.0..=1.0).contains(&v) {
                        return Err(key_err(format!("{key}.min_observed"), "min_observed is a share of the eligible members, in [0, 1]"));
                    }
                    Some(v)
                }
                None => None,
            };
            Ok((id, Source::Rule(Box::new(Rule { deprived, eligible, aggregate, no_eligible, min_observed }))))
        }
    }
}

/// Cutoffs as written: numbers are percent, strings are fractions of 1 ("1/3").
pub fn parse_cutoffs(written: &[Number], key: &str) -> Result<Vec<Cutoff>> {
    let mut cutoffs: Vec<Cutoff> = Vec::new();
    for (i, c) in written.iter().enumerate() {
        let key = format!("{key}[{i}]");
        let exact = c.exact().map_err(|m| key_err(&key, m))?;
        let (fraction, shown) = match c {
            Number::Text(_) => (exact.value, format!("\"{}\"", exact)),
            _ => (exact.value / Ratio::from_integer(100), format!("{exact}")),
        };
        if fraction <= Ratio::from_integer(0) || fraction > Ratio::from_integer(1) {
            let hint = match c {
                Number::Text(_) => "a string cutoff is a fraction of 1 such as \"1/3\"; write percent as a number (33.33)",
                _ => "numbers are percent: k must lie in (0, 100]",
            };
            return Err(key_err(
                key,
                format!("cutoff {shown} is outside (0, 100] percent: {hint}"),
            ));
        }
        if cutoffs.iter().any(|k| k.value.value == fraction) {
            return Err(key_err(key, format!("cutoff {shown} is given twice")));
        }
        cutoffs.push(Cutoff {
            value: Exact {
                value: fraction,
                decimal: exact.decimal,
            },
        });
    }
    Ok(cutoffs)
}

/// Cutoffs from the command line: "20,33.33,1/3" (a fraction is of 1, a number is percent).
pub fn cutoffs_from_list(text: &str) -> Result<Vec<Cutoff>> {
    let mut written = Vec::new();
    for t in text.split(',').map(str::trim).filter(|t| !t.is_empty()) {
        written.push(if t.contains('/') {
            Number::Text(t.to_string())
        } else {
            Number::Float(t.parse().map_err(|_| {
                key_err(
                    "--cutoffs",
                    format!("\"{t}\" is not a number: write percent (33.33) or a fraction (1/3)"),
                )
            })?)
        });
    }
    if written.is_empty() {
        return Err(key_err(
            "--cutoffs",
            "give at least one cutoff, e.g. --cutoffs 20,33.33,50",
        ));
    }
    parse_cutoffs(&written, "--cutoffs")
}

fn weights_equal(a: Ratio<i128>, b: Ratio<i128>, decimal: bool) -> bool {
    if a == b {
        return true;
    }
    decimal && (ratio_f64(a) - ratio_f64(b)).abs() <= DECIMAL_SUM_TOLERANCE
}

fn ratio_f64(r: Ratio<i128>) -> f64 {
    *r.numer() as f64 / *r.denom() as f64
}

fn show(r: Ratio<i128>, decimal: bool) -> String {
    if decimal || r.denom().is_multiple_of(&10) {
        format!("{}", ratio_f64(r))
    } else {
        format!("{r}")
    }
}

/// Integer arithmetic for identification: every weight and cutoff over one common
/// denominator, so that `score >= k` is an integer comparison.
#[derive(Clone, Debug)]
pub struct IntegerWeights {
    /// The common denominator of all weights and cutoffs.
    pub denominator: i128,
    /// Indicator weights times the denominator.
    pub weights: Vec<i128>,
    /// Cutoffs times the denominator.
    pub cutoffs: Vec<i128>,
}

impl IntegerWeights {
    pub fn new(m: &Methodology) -> Result<IntegerWeights> {
        let all: Vec<Ratio<i128>> = m
            .indicators
            .iter()
            .map(|i| i.weight.value)
            .chain(m.cutoffs.iter().map(|c| c.value.value))
            .collect();
        let mut denominator: i128 = 1;
        for r in &all {
            denominator = denominator.lcm(r.denom());
            if denominator > (1i128 << 100) / 64 {
                return Err(key_err("dimension", "the weights and cutoffs together are written too finely for exact arithmetic: use fewer decimal places or simpler fractions"));
            }
        }
        let scale = |r: &Ratio<i128>| r.numer() * (denominator / r.denom());
        Ok(IntegerWeights {
            denominator,
            weights: m
                .indicators
                .iter()
                .map(|i| scale(&i.weight.value))
                .collect(),
            cutoffs: m.cutoffs.iter().map(|c| scale(&c.value.value)).collect(),
        })
    }

    /// The deprivation score of a profile, times the denominator.
    pub fn score(&self, profile: u64) -> i128 {
        let mut s = 0;
        let mut bits = profile;
        while bits != 0 {
            let j = bits.trailing_zeros() as usize;
            s += self.weights[j];
            bits &= bits - 1;
        }
        s
    }

    /// The score as a float, for reporting only.
    pub fn score_f64(&self, profile: u64) -> f64 {
        self.score(profile) as f64 / self.denominator as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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

    const BASE: &str = r#"
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
        let m = Methodology::from_toml(BASE).unwrap();
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
        let e = Methodology::from_toml(&BASE.replace("[33.33, \"1/3\"]", "[0]")).unwrap_err();
        assert!(e.to_string().contains("cutoffs[0]"), "{e}");
        let e = Methodology::from_toml(&BASE.replace("[33.33, \"1/3\"]", "[101]")).unwrap_err();
        assert!(e.to_string().contains("outside (0, 100]"), "{e}");
        let e =
            Methodology::from_toml(&BASE.replace("column = \"b\"", "column = \"a\"")).unwrap_err();
        assert!(e.to_string().contains("defined twice"), "{e}");
        let e = Methodology::from_toml(
            &BASE.replace("column = \"c\"", "column = \"c\"\nweight = -0.5"),
        )
        .unwrap_err();
        assert!(e.to_string().contains("negative"), "{e}");
        let over = BASE
            .replace("column = \"a\"", "column = \"a\"\nweight = 0.6")
            .replace("column = \"b\"", "column = \"b\"\nweight = 0.5");
        let e = Methodology::from_toml(&over).unwrap_err();
        assert!(e.to_string().contains("sum to 1.1"), "{e}");
    }

    #[test]
    fn dimension_weight_must_match_its_indicators() {
        let text = BASE
            .replace("name = \"living\"", "name = \"living\"\nweight = 0.5")
            .replace("column = \"c\"", "column = \"c\"\nweight = 0.4");
        let e = Methodology::from_toml(&text).unwrap_err();
        assert!(e.to_string().contains("dimension[1].weight"), "{e}");
    }

    #[test]
    fn integer_weights_decide_exactly() {
        let m = Methodology::from_toml(BASE).unwrap();
        let iw = IntegerWeights::new(&m).unwrap();
        // a + b = 1/2 >= 1/3 and >= 33.33%; a alone = 1/4 is below both.
        assert!(iw.score(0b011) >= iw.cutoffs[1]);
        assert!(iw.score(0b001) < iw.cutoffs[0]);
    }
}
