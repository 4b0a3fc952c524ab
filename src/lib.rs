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
//! The command-line layer (`src/cli/`, in the binary only) is thin on top. [`simulate`] makes synthetic surveys
//! for examples and benchmarks.

pub mod batches;
pub mod compare;
pub mod describe;
pub mod excel;
pub mod indicators;
pub mod methodology;
pub mod output;
pub mod read;
pub mod report;
pub mod rules;
pub mod simulate;
pub mod sql;

pub use afmpi_core::{
    comparison, curve, domain, error, exact, finish, identification, inference, measures,
    sample, tally, Analysis,
};
pub use afmpi_core::{Error, Result};

use std::path::Path;

use polars::prelude::{col, Column, DataFrame, IntoLazy, JoinArgs, JoinType};

use afmpi_core::identification::IntegerWeights;
use afmpi_core::methodology::{Methodology, Source, SurveyColumns};
use afmpi_core::sample::{DataReport, Sample};
use afmpi_core::tally::{self as tally_mod, Table};
use read::ColumnRequest;

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
            if !afmpi_core::methodology::GROUP_VARIABLES.contains(&c.as_str()) {
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
    analyse_frame_with(df, m, survey, settings, file, &|_| {})
}

/// As [`analyse_frame`], telling `progress` each stage as it starts.
pub fn analyse_frame_with(
    df: &DataFrame,
    m: &Methodology,
    survey: &SurveyColumns,
    settings: &inference::Settings,
    file: &Path,
    progress: &dyn Fn(&str),
) -> Result<Analysis> {
    let (sample, report, table) = tabulate(df, m, survey, file, progress)?;
    finish(m, sample, report, table, settings, progress)
}

/// The sample and its table from columns in memory.
fn tabulate(
    df: &DataFrame,
    m: &Methodology,
    survey: &SurveyColumns,
    file: &Path,
    progress: &dyn Fn(&str),
) -> Result<(Sample, DataReport, Table)> {
    IntegerWeights::new(m)?; // weights and cutoffs exact enough, before any work
    progress("checking values and building deprivation profiles");
    let (sample, report) = indicators::prepare(df, m, survey, file)?;
    afmpi_core::sample::check_not_empty(&report)?;
    progress("tallying");
    let table = tally_mod::tally(&sample);
    Ok((sample, report, table))
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
    analyse_files(m, survey, settings, path, None)
}

/// As [`analyse_file`], with an optional member file (MICS style): `path` holds one row
/// per household, `members` one row per person, joined on the household id
/// (`survey.household`). A needed column is read from the member file when it has it,
/// else from the household file; the analysis has one row per person.
pub fn analyse_files(
    m: &Methodology,
    survey: &SurveyColumns,
    settings: &inference::Settings,
    path: &Path,
    members: Option<&Path>,
) -> Result<Analysis> {
    analyse_files_with(m, survey, settings, path, members, &|_| {})
}

/// As [`analyse_files`], telling `progress` each stage as it starts.
pub fn analyse_files_with(
    m: &Methodology,
    survey: &SurveyColumns,
    settings: &inference::Settings,
    path: &Path,
    members: Option<&Path>,
    progress: &dyn Fn(&str),
) -> Result<Analysis> {
    analyse_files_reading(m, survey, settings, path, members, Reading::Auto, progress)
}

/// Files of this size or more are read in batches when they can be.
pub const LARGE_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// How a survey file is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reading {
    /// Whole, keeping every person's profile (what compare's overlap needs).
    Whole,
    /// In batches of this many rows, in memory bounded by the batch ([`batches`]): CSV
    /// and Parquet files, without a member file or household-level rules.
    Batches(usize),
    /// In batches of [`batches::BATCH_ROWS`] when the file has [`LARGE_FILE_BYTES`] or
    /// more and can be read so; else whole.
    Auto,
}

/// What a methodology needs from a survey file whose columns are `available`.
pub struct Plan {
    /// The methodology as it will run: optional indicators absent from the file dropped,
    /// their weight shared within their dimension.
    pub effective: Methodology,
    /// The optional indicators dropped (indices into the methodology's indicators).
    pub absent: Vec<usize>,
    /// The columns to read, named as the methodology names them.
    pub request: ColumnRequest,
}

/// Checks that the file has every column the methodology and survey settings need
/// (through the `[columns]` map), and says which optional indicators are absent. The
/// error names the key that asked for a missing column and lists the file's columns,
/// closest first.
pub fn plan(
    m: &Methodology,
    survey: &SurveyColumns,
    path: &Path,
    available: &[String],
) -> Result<Plan> {
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
    read::check_columns(path, available, &mapped)?;
    Ok(Plan {
        effective,
        absent,
        request,
    })
}

/// Why a file cannot be read in batches, if it cannot.
fn batches_impossible(
    m: &Methodology,
    request: &ColumnRequest,
    path: &Path,
    members: Option<&Path>,
) -> Option<&'static str> {
    let format = read::Format::of(path).ok()?;
    if !matches!(format, read::Format::Csv | read::Format::Parquet) {
        return Some("only CSV and Parquet files are read in batches");
    }
    if members.is_some() {
        return Some("a member file is joined to the whole household file");
    }
    if m.indicators
        .iter()
        .any(|i| matches!(&i.source, Source::Rule(r) if r.aggregate.is_some()))
    {
        return Some("household-level rules need every member of a household at once");
    }
    if format == read::Format::Csv && !request.raw.is_empty() {
        return Some("the columns of rules in a CSV file are typed from the whole file");
    }
    None
}

/// As [`analyse_files_with`], reading the file as `reading` says.
pub fn analyse_files_reading(
    m: &Methodology,
    survey: &SurveyColumns,
    settings: &inference::Settings,
    path: &Path,
    members: Option<&Path>,
    reading: Reading,
    progress: &dyn Fn(&str),
) -> Result<Analysis> {
    progress("reading");
    let mut available = read::column_names(path)?;
    let member_columns = match members {
        Some(p) => read::column_names(p)?,
        None => Vec::new(),
    };
    available.extend(member_columns.iter().cloned());
    let Plan {
        effective,
        absent,
        request,
    } = plan(m, survey, path, &available)?;
    let in_file = |c: &String| m.columns.get(c).unwrap_or(c).clone();
    let batch_rows = match (
        reading,
        batches_impossible(&effective, &request, path, members),
    ) {
        (Reading::Whole, _) => None,
        (Reading::Batches(n), None) => Some(n),
        (Reading::Batches(_), Some(why)) => {
            return Err(Error::Usage(format!(
                "{} cannot be read in batches: {why}; read it whole (without --batch-rows)",
                path.display()
            )))
        }
        (Reading::Auto, None)
            if std::fs::metadata(path).map(|f| f.len()).unwrap_or(0) >= LARGE_FILE_BYTES =>
        {
            Some(batches::BATCH_ROWS)
        }
        (Reading::Auto, _) => None,
    };
    if let Some(rows) = batch_rows {
        let frame =
            read::scan(path, &in_file_request(&request, &in_file))?.expect("CSV or Parquet");
        progress("reading and tallying in batches");
        let rename = |df: DataFrame| rename_columns(&df, &request, &in_file, path);
        let (sample, report, table) =
            batches::tally_in_batches(frame, &effective, survey, path, rows, &rename)?;
        let mut analysis = finish(&effective, sample, report, table, settings, progress)?;
        note_absent(m, &absent, &mut analysis);
        return Ok(analysis);
    }
    let df = match members {
        None => read_named(path, &request, &in_file)?,
        Some(member_path) => {
            let Some(key) = &survey.household else {
                return Err(Error::Usage(
                    "a member file is joined to the household file on the household id: set survey.household (or --household)".into(),
                ));
            };
            let file_key = in_file(key);
            for (file, columns) in [
                (path, &available[..available.len() - member_columns.len()]),
                (member_path, &member_columns[..]),
            ] {
                if !columns.contains(&file_key) {
                    return Err(Error::data(
                        file,
                        &file_key,
                        None,
                        "the household id is not in this file: both files need it to be joined",
                    ));
                }
            }
            // Each needed column from the member file when it has it.
            let split = |from_members: bool| read::ColumnRequest {
                numeric: request
                    .numeric
                    .iter()
                    .filter(|c| member_columns.contains(&in_file(c)) == from_members)
                    .cloned()
                    .collect(),
                labelled: request
                    .labelled
                    .iter()
                    .filter(|c| *c != key && member_columns.contains(&in_file(c)) == from_members)
                    .cloned()
                    .chain([key.clone()])
                    .collect(),
                raw: request
                    .raw
                    .iter()
                    .filter(|c| member_columns.contains(&in_file(c)) == from_members)
                    .cloned()
                    .collect(),
            };
            let people = read_named(member_path, &split(true), &in_file)?;
            let households = read_named(path, &split(false), &in_file)?;
            let rows = people.height();
            let joined = people
                .lazy()
                .join(
                    households.lazy(),
                    [col(key.as_str())],
                    [col(key.as_str())],
                    JoinArgs::new(JoinType::Left),
                )
                .collect()
                .map_err(|e| {
                    Error::input(
                        member_path,
                        format!("cannot join the member file to {}: {e}", path.display()),
                    )
                })?;
            if joined.height() != rows {
                return Err(Error::data(path, &file_key, None, format!(
                    "the household id is not unique in the household file ({} rows for {} members after the join): give one row per household",
                    joined.height(), rows)));
            }
            joined
        }
    };
    let (sample, report, table) = tabulate(&df, &effective, survey, path, progress)?;
    // The columns read are not needed once tallied: the memory they held serves the
    // standard errors and the results, which then need no fresh pages from the system.
    drop(df);
    let mut analysis = finish(&effective, sample, report, table, settings, progress)?;
    note_absent(m, &absent, &mut analysis);
    Ok(analysis)
}

/// Tells the report which optional indicators were absent and dropped.
fn note_absent(m: &Methodology, absent: &[usize], analysis: &mut Analysis) {
    for &j in absent {
        let ind = &m.indicators[j];
        analysis.report.notes.push(format!(
            "optional indicator `{}` is absent from the data ({}): dropped, its weight {} shared among the other indicators of dimension \"{}\"",
            ind.id,
            ind.columns().join(", "),
            ind.weight,
            m.dimensions[ind.dimension].name
        ));
    }
}

/// Reads the requested columns of a file under their names in the file (`in_file`), and
/// names them back as the methodology does.
fn read_named(
    path: &Path,
    request: &ColumnRequest,
    in_file: &dyn Fn(&String) -> String,
) -> Result<DataFrame> {
    let read = read::read(path, &in_file_request(request, in_file))?;
    rename_columns(&read, request, in_file, path)
}

/// The request with the file's names of the columns.
fn in_file_request(request: &ColumnRequest, in_file: &dyn Fn(&String) -> String) -> ColumnRequest {
    let translate = |list: &[String]| list.iter().map(in_file).collect::<Vec<_>>();
    ColumnRequest {
        numeric: translate(&request.numeric),
        labelled: translate(&request.labelled),
        raw: translate(&request.raw),
    }
}

/// The columns read (named as in the file) named as the methodology names them.
fn rename_columns(
    read: &DataFrame,
    request: &ColumnRequest,
    in_file: &dyn Fn(&String) -> String,
    path: &Path,
) -> Result<DataFrame> {
    let mut columns: Vec<Column> = Vec::new();
    for name in request
        .numeric
        .iter()
        .chain(&request.labelled)
        .chain(&request.raw)
    {
        if columns.iter().any(|c| c.name().as_str() == name) {
            continue;
        }
        let column = read
            .column(&in_file(name))
            .map_err(|e| Error::input(path, e.to_string()))?;
        columns.push(column.clone().with_name(name.as_str().into()));
    }
    DataFrame::new(read.height(), columns).map_err(|e| Error::input(path, e.to_string()))
}

/// Finishes every estimate from a sufficient-statistics table written by the query of
/// `afmpi sql` (by any engine), as a run on the survey would.
pub fn analyse_table(
    m: &Methodology,
    survey: &SurveyColumns,
    settings: &inference::Settings,
    path: &Path,
) -> Result<Analysis> {
    let (sample, table, report) = sql::read_table(path, m, survey)?;
    finish(m, sample, report, table, settings, &|_| {})
}
