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
pub mod compare;
pub mod error;
pub mod indicators;
pub mod inference;
pub mod measures;
pub mod methodology;
pub mod output;
pub mod read;
pub mod rules;
pub mod simulate;
pub mod tally;

use std::path::Path;

use polars::prelude::DataFrame;

pub use error::{Error, Result};
use indicators::{DataReport, Sample};
use inference::Inference;
use measures::Estimate;
use methodology::{IntegerWeights, Methodology, Source, SurveyColumns};
use read::ColumnRequest;
use tally::Table;

/// Everything one run computes.
pub struct Analysis {
    /// The methodology as run: absent optional indicators dropped, their weight shared.
    pub methodology: Methodology,
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
    let mut add = |list: &mut Vec<String>, key: String, column: &str| {
        if !list.iter().any(|c| c == column) {
            list.push(column.to_string());
        }
        keys.push((key, column.to_string()));
    };
    for (j, ind) in m.indicators.iter().enumerate() {
        let d = ind.dimension;
        let within = m.indicators[..j]
            .iter()
            .filter(|i| i.dimension == d)
            .count();
        let key = format!("dimension[{d}].indicator[{within}]");
        match &ind.source {
            Source::Column(c) => add(&mut request.numeric, format!("{key}.column"), c),
            // Rules read raw columns whatever their type: the expression decides.
            Source::Rule(rule) => {
                for c in rule.columns() {
                    add(&mut request.raw, format!("{key} ({})", ind.id), &c);
                }
            }
        }
    }
    for (g, group) in m.groups.iter().enumerate() {
        for c in group.rule.columns() {
            if !methodology::GROUP_VARIABLES.contains(&c.as_str()) {
                add(&mut request.raw, format!("group[{g}].rule"), &c);
            }
        }
    }
    for (key, value) in [
        ("survey.weight", &survey.weight),
        ("survey.year", &survey.year),
        ("survey.household_size", &survey.household_size),
    ] {
        if let Some(c) = value {
            add(&mut request.numeric, key.to_string(), c);
        }
    }
    for (key, value) in [
        ("survey.strata", &survey.strata),
        ("survey.psu", &survey.psu),
        ("survey.round", &survey.round),
        ("survey.household", &survey.household),
    ] {
        if let Some(c) = value {
            add(&mut request.labelled, key.to_string(), c);
        }
    }
    for c in &survey.over {
        add(&mut request.labelled, "survey.over".to_string(), c);
    }
    (request, keys)
}

/// Runs the pipeline on columns already in memory (named as the methodology names them).
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
    let intensity: Vec<bool> = m.groups.iter().map(|g| g.intensity).collect();
    let estimates = measures::estimate(&table, &weights, &intensity, sample.round_info.len());
    let inference = inference::infer(&table, &sample, &weights, &estimates, settings)?;
    Ok(Analysis {
        methodology: m.clone(),
        sample,
        report,
        table,
        estimates,
        inference,
    })
}

/// Runs the pipeline on a survey file: maps the methodology's column names to the
/// file's (`[columns]`), drops optional indicators whose data are absent, checks the
/// columns, reads them, analyses.
pub fn analyse_file(
    m: &Methodology,
    survey: &SurveyColumns,
    settings: &inference::Settings,
    path: &Path,
) -> Result<Analysis> {
    let available = read::column_names(path)?;
    let in_file = |c: &String| m.columns.get(c).unwrap_or(c).clone();
    let absent: Vec<usize> = m
        .indicators
        .iter()
        .enumerate()
        .filter(|(_, ind)| {
            ind.optional
                && ind
                    .columns()
                    .iter()
                    .any(|c| !available.contains(&in_file(c)))
        })
        .map(|(j, _)| j)
        .collect();
    let effective = if absent.is_empty() {
        m.clone()
    } else {
        m.without(&absent)?
    };
    let (request, keys) = needed_columns(&effective, survey);
    let mapped: Vec<(String, String)> = keys
        .iter()
        .map(|(key, c)| {
            let f = in_file(c);
            let key = if &f == c {
                key.clone()
            } else {
                format!("{key}, as `{c}` in [columns]")
            };
            (key, f)
        })
        .collect();
    read::check_columns(path, &available, &mapped)?;
    let translate = |list: &[String]| list.iter().map(in_file).collect::<Vec<_>>();
    let file_request = read::ColumnRequest {
        numeric: translate(&request.numeric),
        labelled: translate(&request.labelled),
        raw: translate(&request.raw),
    };
    let read = read::read(path, &file_request)?;
    // Back to the methodology's names.
    let mut columns = Vec::new();
    for name in request
        .numeric
        .iter()
        .chain(&request.labelled)
        .chain(&request.raw)
    {
        if columns
            .iter()
            .any(|c: &polars::prelude::Column| c.name().as_str() == name)
        {
            continue;
        }
        let column = read
            .column(&in_file(name))
            .map_err(|e| Error::input(path, e.to_string()))?;
        columns.push(column.clone().with_name(name.as_str().into()));
    }
    let df =
        DataFrame::new(read.height(), columns).map_err(|e| Error::input(path, e.to_string()))?;
    let mut analysis = analyse_frame(&df, &effective, survey, settings, path)?;
    for &j in &absent {
        let ind = &m.indicators[j];
        analysis.report.notes.push(format!(
            "optional indicator `{}` is absent from the data ({}): dropped, its weight {} shared among the other indicators of dimension \"{}\"",
            ind.id,
            ind.columns().join(", "),
            ind.weight,
            m.dimensions[ind.dimension].name
        ));
    }
    Ok(analysis)
}
