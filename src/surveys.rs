//! Many surveys in one run (as Stata mpitb's `refsh`, `ctyselect` and `addmeta`): a
//! survey list file in — each survey's id, country, year, file, its own names of the
//! columns (`columns`) and its design and subgroup columns (`[survey.survey]`, the keys of
//! a methodology's `[survey]`) — and one methodology run on every survey out: one results
//! frame with `survey`, `ccty` and `year` first, and a table across the surveys.
//!
//! Each survey is a run of its own, with the methodology's settings overridden by the
//! survey's; a survey that fails (a missing file, a bad column) is reported by its id
//! and leaves the others' results whole. The surveys run in parallel (rayon), their
//! outcomes kept in the list's order, so the results are those of runs one by one.

use std::collections::BTreeMap;
use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use polars::prelude::*;
use rayon::prelude::*;
use serde::Deserialize;

use crate::error::{Error, Result};
use crate::inference::Settings;
use crate::measures::Measure;
use crate::methodology::{Methodology, SurveyColumns};
use crate::Analysis;

/// The survey list file as written.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
struct ListFile {
    #[serde(rename = "survey")]
    surveys: Vec<Entry>,
}

/// One survey of a list.
#[derive(Deserialize, Debug, Clone)]
#[serde(deny_unknown_fields)]
pub struct Entry {
    /// A short id of its own (the `survey` column).
    pub id: String,
    pub country: Option<String>,
    /// The country's code (ISO 3166 alpha-3, as mpitb's `ccty`).
    pub ccty: Option<String>,
    pub year: Option<f64>,
    /// The survey file, relative to the list file.
    pub file: PathBuf,
    /// The survey's own names of the columns the methodology uses (harmonized = "own").
    #[serde(default)]
    pub columns: BTreeMap<String, String>,
    /// Design, subgroup and file settings, as a methodology's `[survey]`: each key set
    /// here overrides the methodology's.
    #[serde(default)]
    pub survey: Option<SurveyColumns>,
}

/// Reads a survey list: at least one survey, ids unique and not empty.
pub fn read_list(path: &Path) -> Result<Vec<Entry>> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::input(path, format!("cannot read the survey list: {e}")))?;
    let list: ListFile = toml::from_str(&text).map_err(|e| {
        Error::input(
            path,
            format!(
                "{}: a survey list is [[survey]] tables with id, file and optionally country, ccty, year, columns and [survey.survey]",
                e.to_string().trim_end()
            ),
        )
    })?;
    let base = path.parent().unwrap_or(Path::new(""));
    let mut seen = std::collections::BTreeSet::new();
    let mut entries = Vec::new();
    for (i, mut e) in list.surveys.into_iter().enumerate() {
        if e.id.trim().is_empty() || !seen.insert(e.id.clone()) {
            return Err(Error::input(
                path,
                format!("survey[{i}]: each survey needs an id of its own (\"{}\" is empty or used twice)", e.id),
            ));
        }
        if e.file.is_relative() {
            e.file = base.join(&e.file);
        }
        entries.push(e);
    }
    if entries.is_empty() {
        return Err(Error::input(path, "the survey list has no [[survey]]"));
    }
    Ok(entries)
}

/// The methodology's survey settings with the survey's own over them.
fn merged(base: &SurveyColumns, own: &Option<SurveyColumns>) -> SurveyColumns {
    let Some(own) = own else {
        return base.clone();
    };
    let pick = |mine: &Option<String>, theirs: &Option<String>| mine.clone().or(theirs.clone());
    SurveyColumns {
        weight: pick(&own.weight, &base.weight),
        strata: pick(&own.strata, &base.strata),
        psu: pick(&own.psu, &base.psu),
        over: if own.over.is_empty() {
            base.over.clone()
        } else {
            own.over.clone()
        },
        round: pick(&own.round, &base.round),
        year: pick(&own.year, &base.year),
        household: pick(&own.household, &base.household),
        household_size: pick(&own.household_size, &base.household_size),
        delimiter: pick(&own.delimiter, &base.delimiter),
        decimal_comma: own.decimal_comma.or(base.decimal_comma),
        encoding: pick(&own.encoding, &base.encoding),
        missing: own.missing.clone().or(base.missing.clone()),
        psu_across_rounds: own.psu_across_rounds.or(base.psu_across_rounds),
        unit: own.unit.or(base.unit),
        missing_rows: own.missing_rows.or(base.missing_rows),
    }
    .resolved()
}

/// One survey's run: its analysis, or why it failed.
pub struct Outcome {
    pub entry: Entry,
    pub analysis: Result<Analysis>,
}

/// Runs the methodology on every survey of the list, with `survey` (the methodology's
/// settings and the command line's) under each survey's own.
pub fn run_all(
    m: &Methodology,
    survey: &SurveyColumns,
    settings: &Settings,
    entries: &[Entry],
) -> Vec<Outcome> {
    // In parallel (each run also uses the cores within); outcomes in the list's order.
    entries
        .par_iter()
        .map(|e| {
            let mut own = m.clone();
            own.columns.extend(e.columns.clone());
            let columns = merged(survey, &e.survey);
            Outcome {
                entry: e.clone(),
                analysis: crate::analyse_files(&own, &columns, settings, &e.file, None),
            }
        })
        .collect()
}

/// The results of every survey that ran, one frame: `survey`, `ccty`, `year`, then the
/// columns of a run's results.
pub fn results_frame(outcomes: &[Outcome]) -> Result<DataFrame> {
    let frames = outcomes.iter().filter_map(|o| {
        let a = o.analysis.as_ref().ok()?;
        Some(labelled(&o.entry, crate::output::results_frame(a)))
    });
    stacked(frames)
}

/// A survey's frame with `survey`, `ccty` and `year` first.
pub fn labelled(e: &Entry, mut df: DataFrame) -> Result<DataFrame> {
    let n = df.height();
    let lead = [
        Column::new("survey".into(), vec![e.id.as_str(); n]),
        Column::new("ccty".into(), vec![e.ccty.as_deref(); n]),
        Column::new("year".into(), vec![e.year; n]),
    ];
    for (i, c) in lead.into_iter().enumerate() {
        df.insert_column(i, c).map_err(|err| {
            Error::Usage(format!("cannot make the results of survey {}: {err}", e.id))
        })?;
    }
    Ok(df)
}

/// The surveys' frames one after another (an empty frame when there is none).
pub fn stacked(frames: impl Iterator<Item = Result<DataFrame>>) -> Result<DataFrame> {
    let mut out: Option<DataFrame> = None;
    for df in frames {
        let df = df?;
        match &mut out {
            None => out = Some(df),
            Some(all) => {
                all.vstack_mut_owned(df)
                    .map_err(|e| Error::Usage(format!("cannot stack the surveys' results: {e}")))?;
            }
        }
    }
    Ok(out.unwrap_or_else(DataFrame::empty))
}

/// Each of `methodologies` run on the survey of `e` (its columns and settings over
/// each methodology's), read whole: what `compare` needs of each survey.
pub fn analyses_of(
    e: &Entry,
    methodologies: &[(Methodology, SurveyColumns)],
    settings: &Settings,
) -> Result<Vec<Analysis>> {
    methodologies
        .iter()
        .map(|(m, survey)| {
            let mut own = m.clone();
            own.columns.extend(e.columns.clone());
            let columns = merged(survey, &e.survey);
            crate::analyse_files_reading(
                &own,
                &columns,
                settings,
                &e.file,
                None,
                crate::Reading::Whole,
                &|_| {},
            )
        })
        .collect()
}

/// The table across the surveys: each one's headline M0, H and A nationally (first
/// round), with the M0's interval; or why it failed.
pub fn cross_table(outcomes: &[Outcome]) -> String {
    let mut s =
        String::from("across the surveys (national, headline identification, first round):\n");
    let _ = writeln!(
        s,
        "  {:<12} {:<6} {:>7} {:>9} {:>9} {:>9}   {:<20} rows used",
        "survey", "ccty", "year", "M0", "H", "A", "M0 interval"
    );
    for o in outcomes {
        let e = &o.entry;
        let year = e
            .year
            .map_or("-".to_string(), crate::sample::codes::number_label);
        match &o.analysis {
            Err(err) => {
                let _ = writeln!(
                    s,
                    "  {:<12} {:<6} {:>7}   failed: {err}",
                    e.id,
                    e.ccty.as_deref().unwrap_or("-"),
                    year
                );
            }
            Ok(a) => {
                let get = |m: Measure| crate::compare::headline_estimate(a, m, None, 0);
                let f = |m: Measure| get(m).map_or("-".to_string(), |(b, _)| format!("{b:.4}"));
                let interval = get(Measure::M0).map_or("-".to_string(), |(_, p)| {
                    format!("[{:.4}, {:.4}]", p.ll, p.ul)
                });
                let _ = writeln!(
                    s,
                    "  {:<12} {:<6} {:>7} {:>9} {:>9} {:>9}   {:<20} {}",
                    e.id,
                    e.ccty.as_deref().unwrap_or("-"),
                    year,
                    f(Measure::M0),
                    f(Measure::H),
                    f(Measure::A),
                    interval,
                    crate::output::count(a.report.rows_used)
                );
            }
        }
    }
    s
}

/// A survey id as a file name: letters, digits, `-` and `_` kept, the rest `_`.
pub fn file_stem(id: &str) -> String {
    id.chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect()
}

/// `Ok` when no survey failed; else the error naming those that did (`failed`, of
/// `total`), once `what` of the others is written.
pub fn failures(failed: &[&str], total: usize, what: &str) -> Result<()> {
    if failed.is_empty() {
        return Ok(());
    }
    Err(Error::Usage(format!(
        "{} of {total} surveys failed: {} (the others' {what} are written)",
        failed.len(),
        failed.join(", ")
    )))
}

/// The ids of the surveys that failed.
pub fn failed(outcomes: &[Outcome]) -> Vec<&str> {
    (outcomes.iter())
        .filter(|o| o.analysis.is_err())
        .map(|o| o.entry.id.as_str())
        .collect()
}
