//! The persons file (`run --persons FILE`): the columns a run read and what became of
//! each row ([`RowOutcomes`]) in, one row per input row out — who is poor, person by
//! person, as mpitb's `est, gen` and `gafvars` give it — so that a ministry can target a
//! programme, profile the poor by other variables, or check a case by hand.
//!
//! The columns, in order (names as mpitb's where it has them):
//! - `row`: the row's number in the data file (the member file under `--members`), from 1;
//! - the household id and the `--id` columns, as read (codes, never labels);
//! - `used` (true when the row is in the estimates) and `dropped` (why not: the
//!   indicators or the column it misses);
//! - each indicator's deprivation (0, 1 or empty), after rules and household aggregation,
//!   under the indicator's id;
//! - `c_score`, the deprivation score as a fraction of 1, and `c_score_exact`, the same
//!   score as an exact fraction (`7/18`);
//! - per cutoff k: `I_k33` (1 when poor) and `c_k33` (the censored score: c_score when
//!   poor, else 0); k is written as its percent (`33`, `33_33` for 33.33) or, for a
//!   fraction that is no whole percent, as the fraction (`1over3`);
//! - per named group: `I_` and its name (1 when in the group).
//!
//! Score and status are given for the rows used, empty for the rows dropped. The frame
//! is built a batch at a time ([`frame`]) and written through a [`FrameSink`], so a census
//! never holds all its rows in memory.

use std::path::Path;

use num_rational::Ratio;
use polars::prelude::*;

use afmpi_core::identification::IntegerWeights;
use afmpi_core::methodology::{Methodology, SurveyColumns};
use afmpi_core::sample::{RowOutcomes, MISSING_INDICATOR};

use crate::error::{Error, Result};
pub use crate::output::FrameSink;

/// The column of a joined frame holding each member's row in the member file (0-based).
pub const ROW_COLUMN: &str = "__afmpi_row";

/// What the persons file holds beside the results: the id columns it carries (the
/// household id first, when there is one), named as the methodology names them.
#[derive(Clone, Debug, Default)]
pub struct Request {
    pub ids: Vec<String>,
}

impl Request {
    /// The id columns of `--id` with the household id first (once each).
    pub fn new(ids: &[String], survey: &SurveyColumns) -> Request {
        let mut all: Vec<String> = survey.household.iter().cloned().collect();
        for id in ids {
            if !all.contains(id) {
                all.push(id.clone());
            }
        }
        Request { ids: all }
    }
}

impl Request {
    /// An id column must not take the name of a column the persons file makes.
    pub fn check_names(&self, m: &Methodology) -> Result<()> {
        let made = made_columns(m);
        match self.ids.iter().find(|id| made.contains(id)) {
            Some(id) => Err(Error::Usage(format!(
                "--id {id}: the persons file makes a column of that name ({}); leave it out of --id",
                made.join(", ")
            ))),
            None => Ok(()),
        }
    }
}

/// The columns the persons file makes, beside the ids.
fn made_columns(m: &Methodology) -> Vec<String> {
    let mut made: Vec<String> = ["row", "used", "dropped", "c_score", "c_score_exact"]
        .map(String::from)
        .into();
    made.extend(m.indicators.iter().map(|i| i.id.clone()));
    for c in &m.cutoffs {
        let k = cutoff_label(c.value.value);
        made.push(format!("I_k{k}"));
        made.push(format!("c_k{k}"));
    }
    made.extend(m.groups.iter().map(|g| format!("I_{}", g.name)));
    made
}

/// The name that cutoff `k` (a fraction of 1) takes in column names: `33`, `33_33`,
/// `1over3`.
pub fn cutoff_label(k: Ratio<i128>) -> String {
    let percent = k * Ratio::from_integer(100);
    if percent.is_integer() {
        return percent.to_integer().to_string();
    }
    // A terminating decimal percent (33.33): its digits, the point as an underscore.
    let mut d = *percent.denom();
    while d % 2 == 0 {
        d /= 2;
    }
    while d % 5 == 0 {
        d /= 5;
    }
    if d == 1 {
        let whole = percent.trunc().to_integer();
        let mut rest = percent.fract();
        let mut digits = String::new();
        while rest != Ratio::from_integer(0) {
            rest *= Ratio::from_integer(10);
            digits.push_str(&rest.trunc().to_integer().to_string());
            rest = rest.fract();
        }
        return format!("{whole}_{digits}");
    }
    format!("{}over{}", k.numer(), k.denom())
}

/// The persons frame of one batch of rows: `df` the columns read (named as the
/// methodology names them), `rows` what became of each, `first_row` the batch's first
/// row in the file (0-based). A joined member frame carries its own row numbers
/// ([`ROW_COLUMN`]).
pub fn frame(
    m: &Methodology,
    request: &Request,
    df: &DataFrame,
    rows: &RowOutcomes,
    first_row: usize,
    file: &Path,
) -> Result<DataFrame> {
    let n = rows.profiles.len();
    let mut columns: Vec<Column> = vec![row_numbers(df, n, first_row, file)?];
    for id in &request.ids {
        let c = df
            .column(id)
            .map_err(|_| Error::data(file, id, None, "not in the data read"))?;
        columns.push(c.clone());
    }
    let used: Vec<bool> = (0..n).map(|i| rows.dropped[i] == 0).collect();
    let dropped: Vec<Option<String>> = (0..n).map(|i| why_dropped(m, rows, i)).collect();
    columns.push(Column::new("used".into(), &used));
    columns.push(Column::new("dropped".into(), dropped));
    columns.extend(deprivation_columns(m, rows));
    columns.extend(poverty_columns(m, rows, &used)?);
    DataFrame::new(n, columns)
        .map_err(|e| Error::input(file, format!("cannot make the persons file: {e}")))
}

/// Each indicator's deprivation: 0, 1, or empty where the row misses it.
fn deprivation_columns(m: &Methodology, rows: &RowOutcomes) -> Vec<Column> {
    let n = rows.profiles.len();
    m.indicators
        .iter()
        .enumerate()
        .map(|(j, ind)| {
            let values: Vec<Option<u8>> = (0..n)
                .map(|i| (rows.missing[i] >> j & 1 == 0).then(|| (rows.profiles[i] >> j & 1) as u8))
                .collect();
            Column::new(ind.id.as_str().into(), values)
        })
        .collect()
}

/// The score (a float and exact), per cutoff whether poor and the censored score, and
/// each named group's membership, for the rows `used` (empty for the others).
fn poverty_columns(m: &Methodology, rows: &RowOutcomes, used: &[bool]) -> Result<Vec<Column>> {
    let n = rows.profiles.len();
    let iw = IntegerWeights::new(m)?;
    let scores: Vec<Option<i128>> = (0..n)
        .map(|i| used[i].then(|| iw.score(rows.profiles[i])))
        .collect();
    let as_f64 = |s: i128| s as f64 / iw.denominator as f64;
    let mut columns = vec![
        Column::new(
            "c_score".into(),
            scores.iter().map(|s| s.map(as_f64)).collect::<Vec<_>>(),
        ),
        Column::new(
            "c_score_exact".into(),
            scores
                .iter()
                .map(|s| s.map(|s| Ratio::new(s, iw.denominator).to_string()))
                .collect::<Vec<_>>(),
        ),
    ];
    for (c, cutoff) in m.cutoffs.iter().enumerate() {
        let k = cutoff_label(cutoff.value.value);
        let poor: Vec<Option<u8>> = scores
            .iter()
            .map(|s| s.map(|s| u8::from(iw.poor(s, c))))
            .collect();
        let censored: Vec<Option<f64>> = scores
            .iter()
            .map(|s| s.map(|s| if iw.poor(s, c) { as_f64(s) } else { 0.0 }))
            .collect();
        columns.push(Column::new(format!("I_k{k}").into(), poor));
        columns.push(Column::new(format!("c_k{k}").into(), censored));
    }
    for (g, group) in m.groups.iter().enumerate() {
        let member: Vec<Option<u8>> = (0..n)
            .map(|i| used[i].then(|| (rows.flags[i] >> g & 1) as u8))
            .collect();
        columns.push(Column::new(format!("I_{}", group.name).into(), member));
    }
    Ok(columns)
}

/// Each row's number in its file, from 1.
fn row_numbers(df: &DataFrame, n: usize, first_row: usize, file: &Path) -> Result<Column> {
    let numbers: Vec<u64> = match df.column(ROW_COLUMN) {
        Ok(c) => {
            let c = c
                .cast(&DataType::UInt64)
                .map_err(|e| Error::input(file, e.to_string()))?;
            c.u64()
                .map_err(|e| Error::input(file, e.to_string()))?
                .iter()
                .map(|v| v.unwrap_or(0) + 1)
                .collect()
        }
        Err(_) => (0..n).map(|i| (first_row + i + 1) as u64).collect(),
    };
    Ok(Column::new("row".into(), numbers))
}

/// Why row `i` is not in the estimates: the indicators it misses, or the column.
fn why_dropped(m: &Methodology, rows: &RowOutcomes, i: usize) -> Option<String> {
    let reason = rows.dropped_because(i)?;
    if reason == MISSING_INDICATOR {
        let missing: Vec<&str> = m
            .indicators
            .iter()
            .enumerate()
            .filter(|(j, _)| rows.missing[i] >> j & 1 == 1)
            .map(|(_, ind)| ind.id.as_str())
            .collect();
        return Some(format!("missing {}", missing.join(", ")));
    }
    Some(format!("missing {reason}"))
}

/// The persons rows of members who have no household (`unmatched`, a frame of the
/// joined columns whose household columns are empty): dropped, with their ids.
pub fn unmatched_frame(
    m: &Methodology,
    request: &Request,
    unmatched: &DataFrame,
    reason: &str,
    file: &Path,
) -> Result<DataFrame> {
    let n = unmatched.height();
    let rows = RowOutcomes {
        profiles: vec![0; n],
        missing: vec![u64::MAX; n],
        dropped: vec![1; n],
        reasons: vec![reason.to_string()],
        flags: vec![0; n],
    };
    frame(m, request, unmatched, &rows, 0, file)
}

/// Two persons frames as one, in the order of their rows.
pub fn in_row_order(a: DataFrame, b: DataFrame, file: &Path) -> Result<DataFrame> {
    let fail = |e: PolarsError| Error::input(file, format!("cannot make the persons file: {e}"));
    a.vstack(&b)
        .map_err(fail)?
        .sort(["row"], SortMultipleOptions::default())
        .map_err(fail)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cutoffs_are_named_by_their_percent_or_their_fraction() {
        assert_eq!(cutoff_label(Ratio::new(33, 100)), "33");
        assert_eq!(cutoff_label(Ratio::new(3333, 10000)), "33_33");
        assert_eq!(cutoff_label(Ratio::new(1, 3)), "1over3");
        assert_eq!(cutoff_label(Ratio::new(1, 2)), "50");
        assert_eq!(cutoff_label(Ratio::new(1, 8)), "12_5");
        assert_eq!(cutoff_label(Ratio::new(1, 1)), "100");
    }
}
