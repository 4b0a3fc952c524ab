//! afmpi: Alkire-Foster multidimensional poverty indices from household survey microdata.
//!
//! The modules follow the pipeline of the design notes:
//!
//! ```text
//! methodology ─┐
//!              ├─> read ─> indicators ─> tally ─> measures ─> inference ─> output
//! survey file ─┘
//! ```
//!
//! [`methodology`] validates the TOML file (weights and cutoffs as exact fractions);
//! [`read`] reads just the needed columns of a CSV, Parquet, Stata or SPSS file;
//! [`indicators`] checks the values and turns each person into a deprivation profile;
//! [`tally`] builds the sufficient-statistics table in one parallel pass; [`measures`]
//! computes every estimate from that table; [`inference`] adds standard errors,
//! confidence intervals and changes between rounds; [`output`] writes the results frame.
//! The command-line layer ([`cli`]) is thin on top. [`simulate`] makes synthetic surveys
//! for examples and benchmarks.

pub mod cli;
pub mod error;
pub mod indicators;
pub mod inference;
pub mod measures;
pub mod methodology;
pub mod output;
pub mod read;
pub mod simulate;
pub mod tally;

use std::path::Path;

use polars::prelude::DataFrame;

pub use error::{Error, Result};
use indicators::{DataReport, Sample};
use inference::Inference;
use measures::Estimate;
use methodology::{IntegerWeights, Methodology, SurveyColumns};
use read::ColumnRequest;
use tally::Table;

/// Everything one run computes.
pub struct Analysis {
    pub sample: Sample,
    pub report: DataReport,
    pub table: Table,
    pub estimates: Vec<Estimate>,
    /// Standard errors, intervals and changes over time.
    pub inference: Inference,
}

/// The columns a methodology and its survey settings need, each with the key that asks
/// for it (for error messages).
pub fn needed_columns(
    m: &Methodology,
    survey: &SurveyColumns,
) -> (ColumnRequest, Vec<(String, String)>) {
    let mut request = ColumnRequest::default();
    let mut keys = Vec::new();
    for (j, ind) in m.indicators.iter().enumerate() {
        request.numeric.push(ind.column.clone());
        let d = ind.dimension;
        let within = m.indicators[..j]
            .iter()
            .filter(|i| i.dimension == d)
            .count();
        keys.push((
            format!("dimension[{d}].indicator[{within}].column"),
            ind.column.clone(),
        ));
    }
    for (key, value) in [
        ("survey.weight", &survey.weight),
        ("survey.year", &survey.year),
    ] {
        if let Some(c) = value {
            request.numeric.push(c.clone());
            keys.push((key.to_string(), c.clone()));
        }
    }
    for (key, value) in [
        ("survey.strata", &survey.strata),
        ("survey.psu", &survey.psu),
        ("survey.round", &survey.round),
    ] {
        if let Some(c) = value {
            request.labelled.push(c.clone());
            keys.push((key.to_string(), c.clone()));
        }
    }
    for c in &survey.over {
        request.labelled.push(c.clone());
        keys.push(("survey.over".to_string(), c.clone()));
    }
    (request, keys)
}

/// Runs the pipeline on columns already in memory.
pub fn analyse_frame(
    df: &DataFrame,
    m: &Methodology,
    survey: &SurveyColumns,
    settings: &inference::Settings,
    file: &Path,
) -> Result<Analysis> {
    let weights = IntegerWeights::new(m)?;
    let (sample, report) = indicators::prepare(df, m, survey, file)?;
    let table = tally::tally(&sample);
    let estimates = measures::estimate(&table, &weights, sample.round_info.len());
    let inference = inference::infer(&table, &sample, &weights, &estimates, settings)?;
    Ok(Analysis {
        sample,
        report,
        table,
        estimates,
        inference,
    })
}

/// Runs the pipeline on a survey file: checks the columns, reads them, analyses.
pub fn analyse_file(
    m: &Methodology,
    survey: &SurveyColumns,
    settings: &inference::Settings,
    path: &Path,
) -> Result<Analysis> {
    let (request, keys) = needed_columns(m, survey);
    let available = read::column_names(path)?;
    read::check_columns(path, &available, &keys)?;
    let df = read::read(path, &request)?;
    analyse_frame(&df, m, survey, settings, path)
}
