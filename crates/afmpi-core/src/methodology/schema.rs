//! The methodology file as written: the TOML keys, deserialized by serde with unknown
//! keys refused. Nothing here is checked; [`super::validate`] turns it into a
//! [`super::Methodology`].

use serde::Deserialize;

use super::SurveyColumns;
use crate::exact::Number;

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct FileSpec {
    pub name: String,
    pub title: Option<String>,
    pub source: Option<String>,
    pub cutoffs: Vec<Number>,
    #[serde(rename = "dimension", default)]
    pub dimensions: Vec<FileDimension>,
    #[serde(default)]
    pub survey: SurveyColumns,
    /// Named groups identified by rules over the score, the count and survey columns.
    #[serde(rename = "group", default)]
    pub groups: Vec<FileGroup>,
    /// The survey's own names of the columns the methodology uses: harmonized = "survey".
    #[serde(default)]
    pub columns: std::collections::BTreeMap<String, String>,
    /// The cutoff (a number or fraction, as in `cutoffs`) or group that `compare` uses.
    pub headline: Option<Number>,
    /// Poor when the score reaches the cutoff (`">="`, the default) or exceeds it (`">"`).
    #[serde(default)]
    pub identification: super::Identification,
    /// The M_alpha beside M0: 1 (M1, the adjusted poverty gap), 2 (M2, the adjusted
    /// squared gap).
    #[serde(default)]
    pub alphas: Vec<i64>,
    /// Inequality among the poor (the variance of their scores) beside M0.
    #[serde(default)]
    pub inequality: bool,
    /// Alternative weight vectors, for `robustness`.
    #[serde(rename = "weights", default)]
    pub weights: Vec<super::alternatives::FileWeights>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct FileGroup {
    pub name: String,
    pub rule: String,
    /// Report A and M0 beside H (default true).
    pub intensity: Option<bool>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct FileDimension {
    pub name: String,
    pub weight: Option<Number>,
    #[serde(rename = "indicator", default)]
    pub indicators: Vec<FileIndicator>,
}

#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct FileIndicator {
    pub column: Option<String>,
    pub deprived: Option<String>,
    pub name: Option<String>,
    pub weight: Option<Number>,
    pub eligible: Option<String>,
    pub aggregate: Option<String>,
    pub no_eligible: Option<String>,
    pub min_observed: Option<Number>,
    #[serde(default)]
    pub optional: bool,
    /// A cardinal indicator: the column of the achievement, deprived below `cutoff`.
    pub achievement: Option<String>,
    /// The deprivation cutoff z of a cardinal indicator (deprived when x < z).
    pub cutoff: Option<Number>,
}
