//! Indicators: the columns read from a survey file in, a [`Sample`] out — one deprivation
//! profile per person (a bitmask: bit j set when deprived in indicator j), the sampling
//! weight, and dense integer codes for stratum, PSU, round and each subgroup column.
//!
//! This is where the data are checked. Indicator values must be 0/1 (integers, floats or
//! booleans); any other value is an error naming the column, the value and the first row
//! where it occurs. Rows missing an indicator, the weight or a design variable (stratum,
//! PSU, round, year) are dropped, as mpitb does, and counted per column in a
//! [`DataReport`]. A row missing a subgroup value stays in the national figures and is
//! left out of that column's subgroups, and the report says how many.

use std::path::{Path, PathBuf};

use polars::prelude::*;
use rustc_hash::FxHashMap;

use crate::error::{Error, Result};
use crate::methodology::{IntegerWeights, Methodology, Source, SurveyColumns};

/// A column's codes and the labels they stand for.
type Codes = (Vec<u32>, Vec<String>);

/// Code of a missing subgroup value.
pub const MISSING: u32 = u32::MAX;

/// One subgroup column: its levels (labels, sorted) and each person's level.
#[derive(Clone, Debug)]
pub struct Grouping {
    pub column: String,
    pub levels: Vec<String>,
    /// Index into `levels`, or [`MISSING`].
    pub codes: Vec<u32>,
}

/// One survey round.
#[derive(Clone, Debug, PartialEq)]
pub struct Round {
    pub label: String,
    pub year: Option<f64>,
}

/// The analysis sample: one entry per person kept.
#[derive(Clone, Debug)]
pub struct Sample {
    /// Deprivation profile: bit j set when deprived in indicator j.
    pub profiles: Vec<u64>,
    /// Membership of the methodology's named groups: bit g set when in group g.
    pub flags: Vec<u32>,
    /// Each person's row in the data read (0-based), to line up runs on the same file.
    pub rows: Vec<u32>,
    pub weights: Vec<f64>,
    pub strata: Vec<u32>,
    pub stratum_labels: Vec<String>,
    pub psus: Vec<u32>,
    pub psu_labels: Vec<String>,
    pub rounds: Vec<u32>,
    /// The rounds in time order (by year when there is one, else by label).
    pub round_info: Vec<Round>,
    pub groupings: Vec<Grouping>,
    /// True when the data have a round column (so results carry `t`).
    pub has_rounds: bool,
    /// True without a PSU column: each row is its own PSU, and `psus` is all zero (the
    /// tally then keeps the sum of squared weights, which is all the variance needs).
    pub psu_is_row: bool,
}

impl Sample {
    /// A sample of labels only, without per-person values: what a table made in batches
    /// or by a database engine comes with.
    pub fn from_labels(
        stratum_labels: Vec<String>,
        psu_labels: Vec<String>,
        round_info: Vec<Round>,
        groupings: Vec<Grouping>,
        has_rounds: bool,
        psu_is_row: bool,
    ) -> Sample {
        Sample {
            profiles: Vec::new(),
            flags: Vec::new(),
            rows: Vec::new(),
            weights: Vec::new(),
            strata: Vec::new(),
            stratum_labels,
            psus: Vec::new(),
            psu_labels,
            rounds: Vec::new(),
            round_info,
            groupings: groupings
                .into_iter()
                .map(|g| Grouping {
                    codes: Vec::new(),
                    ..g
                })
                .collect(),
            has_rounds,
            psu_is_row,
        }
    }

    /// The sample's labels without its per-person values.
    pub fn labels_only(self) -> Sample {
        Sample::from_labels(
            self.stratum_labels,
            self.psu_labels,
            self.round_info,
            self.groupings,
            self.has_rounds,
            self.psu_is_row,
        )
    }

    pub fn len(&self) -> usize {
        self.profiles.len()
    }

    pub fn is_empty(&self) -> bool {
        self.profiles.is_empty()
    }
}

/// What a run read, used and dropped, and why.
#[derive(Clone, Debug, Default)]
pub struct DataReport {
    pub file: PathBuf,
    pub rows_read: usize,
    pub rows_used: usize,
    /// Rows missing each column (a row missing several columns counts in each).
    pub missing: Vec<(String, usize)>,
    /// Rows used without a value of a subgroup column: they count nationally, in none of
    /// that column's subgroups.
    pub unassigned: Vec<(String, usize)>,
    /// Other facts the user should know (no weight column, no PSU column…).
    pub notes: Vec<String>,
}

impl DataReport {
    pub fn rows_dropped(&self) -> usize {
        self.rows_read - self.rows_used
    }

    /// Adds another batch's report to this one.
    pub fn absorb(&mut self, other: DataReport) {
        self.rows_read += other.rows_read;
        self.rows_used += other.rows_used;
        let add = |into: &mut Vec<(String, usize)>, from: Vec<(String, usize)>| {
            for (column, k) in from {
                match into.iter_mut().find(|(c, _)| *c == column) {
                    Some((_, total)) => *total += k,
                    None => into.push((column, k)),
                }
            }
        };
        add(&mut self.missing, other.missing);
        add(&mut self.unassigned, other.unassigned);
        for note in other.notes {
            if !self.notes.contains(&note) {
                self.notes.push(note);
            }
        }
    }
}

/// Builds the analysis sample from the columns read. `survey` holds the resolved survey
/// columns (methodology file merged with command-line flags). An empty sample is not an
/// error here (a batch may lose all its rows); see [`check_not_empty`].
pub fn prepare(
    df: &DataFrame,
    m: &Methodology,
    survey: &SurveyColumns,
    file: &Path,
) -> Result<(Sample, DataReport)> {
    let n = df.height();
    let mut report = DataReport {
        file: file.to_path_buf(),
        rows_read: n,
        ..Default::default()
    };
    // The codes of the design and subgroup columns are worked out on another thread
    // while this one checks the indicators.
    let coded: Vec<&String> = [&survey.strata, &survey.psu, &survey.round]
        .into_iter()
        .flatten()
        .chain(&survey.over)
        .collect();
    let (factorized, checked) = rayon::join(
        || -> Result<FxHashMap<&String, Codes>> {
            coded
                .iter()
                .map(|&name| Ok((name, factorize(column(df, name, file)?))))
                .collect()
        },
        || check_indicators(df, m, survey, file),
    );
    let mut factorized = factorized?;
    // A column can be both a design column and a subgroup: the last use takes it.
    let mut uses: FxHashMap<&String, usize> = FxHashMap::default();
    for &name in &coded {
        *uses.entry(name).or_default() += 1;
    }
    let mut take = |name: &String| {
        let left = uses.get_mut(name).expect("coded");
        *left -= 1;
        if *left == 0 {
            factorized.remove(name).expect("coded")
        } else {
            factorized[name].clone()
        }
    };
    let (profiles, mut keep, indicator_missing) = checked?;
    report.missing = indicator_missing;
    let drop_missing =
        |column: &str, missing: &[bool], keep: &mut [bool], report: &mut DataReport| {
            let mut count = 0;
            for (k, &miss) in keep.iter_mut().zip(missing) {
                if miss {
                    *k = false;
                    count += 1;
                }
            }
            if count > 0 {
                report.missing.push((column.to_string(), count));
            }
        };

    // Sampling weight.
    let weights = match &survey.weight {
        Some(name) => {
            let mut w = numbers(column(df, name, file)?, file, name)?;
            if let Some((i, v)) = w
                .iter()
                .enumerate()
                .find(|(_, v)| v.is_infinite() || **v < 0.0)
            {
                return Err(Error::data(file, name, Some(i + 1), format!(
                    "the sampling weight {v} is {}: weights must be finite and zero or more; fix the row or drop it",
                    if v.is_finite() { "negative" } else { "not a finite number" })));
            }
            let missing = drop_nan(&w, &mut keep);
            if missing > 0 {
                report.missing.push((name.clone(), missing));
                w.iter_mut().filter(|v| v.is_nan()).for_each(|v| *v = 0.0);
            }
            w
        }
        None => {
            report
                .notes
                .push("no weight column: every row weighs 1".into());
            vec![1.0; n]
        }
    };

    // Household-level rows: the household's size multiplies the weight (persons count).
    let weights = match &survey.household_size {
        Some(name) => {
            let size = numbers(column(df, name, file)?, file, name)?;
            if let Some((i, v)) = size
                .iter()
                .enumerate()
                .find(|(_, x)| x.is_infinite() || **x < 0.0)
            {
                return Err(Error::data(
                    file,
                    name,
                    Some(i + 1),
                    format!("the household size {v} is not a number of persons"),
                ));
            }
            let missing = drop_nan(&size, &mut keep);
            if missing > 0 {
                report.missing.push((name.clone(), missing));
            }
            weights
                .iter()
                .zip(&size)
                .map(|(w, s)| if s.is_nan() { 0.0 } else { w * s })
                .collect()
        }
        None => weights,
    };

    // Design and round columns: dense codes; missing values drop the row.
    let mut design = |name: &Option<String>,
                      keep: &mut Vec<bool>,
                      report: &mut DataReport|
     -> Result<Option<(Vec<u32>, Vec<String>)>> {
        let Some(name) = name else { return Ok(None) };
        let (codes, labels) = take(name);
        let mut missing = 0;
        for (k, &c) in keep.iter_mut().zip(&codes) {
            if c == MISSING {
                *k = false;
                missing += 1;
            }
        }
        if missing > 0 {
            report.missing.push((name.clone(), missing));
        }
        Ok(Some((codes, labels)))
    };
    let strata = design(&survey.strata, &mut keep, &mut report)?;
    let psus = design(&survey.psu, &mut keep, &mut report)?;
    let rounds = design(&survey.round, &mut keep, &mut report)?;
    let years = match &survey.year {
        Some(name) => {
            let y = numbers(column(df, name, file)?, file, name)?;
            let missing = drop_nan(&y, &mut keep);
            if missing > 0 {
                report.missing.push((name.clone(), missing));
            }
            Some(y)
        }
        None => None,
    };

    // Named groups: rules over the score, the count and survey columns.
    let flags = group_flags(
        df,
        m,
        &profiles,
        file,
        &mut keep,
        &mut report,
        &drop_missing,
    )?;

    // Subgroups: a missing value leaves the row out of that column's subgroups only.
    let mut groupings = Vec::new();
    for name in &survey.over {
        let (codes, levels) = take(name);
        let missing = codes
            .iter()
            .zip(&keep)
            .filter(|(&c, &k)| k && c == MISSING)
            .count();
        if missing > 0 {
            report.unassigned.push((name.clone(), missing));
        }
        groupings.push(Grouping {
            column: name.clone(),
            levels,
            codes,
        });
    }

    // Keep the rows with every value present.
    let kept: Vec<u32> = (0..n as u32).filter(|&i| keep[i as usize]).collect();
    report.rows_used = kept.len();
    let all_kept = kept.len() == n;
    let pick_u32 = |v| keep_rows::<u32>(v, &keep, all_kept);

    let (stratum_codes, stratum_labels) = match strata {
        Some((codes, labels)) => relabel(pick_u32(codes), labels),
        None => (vec![0; kept.len()], vec!["1".to_string()]),
    };
    let psu_is_row = psus.is_none();
    let (psu_codes, psu_labels) = match psus {
        Some((codes, labels)) => relabel(pick_u32(codes), labels),
        None => {
            report.notes.push(
                "no PSU column: each row is its own primary sampling unit (simple random sampling within strata)".into(),
            );
            (vec![0; kept.len()], Vec::new())
        }
    };
    let years = years.map(|y| keep_rows(y, &keep, all_kept));
    let (round_codes, round_info, has_rounds) = match rounds {
        Some((codes, labels)) => {
            let (codes, labels) = relabel(pick_u32(codes), labels);
            let (codes, info) = order_rounds(codes, labels, years, &kept, file, survey)?;
            (codes, info, true)
        }
        None => {
            let year = match &years {
                Some(ys) => {
                    let name = survey.year.as_deref().unwrap_or("year");
                    single_year(ys, file, name)?
                }
                None => None,
            };
            (
                vec![0; kept.len()],
                vec![Round {
                    label: String::new(),
                    year,
                }],
                false,
            )
        }
    };

    let sample = Sample {
        profiles: keep_rows(profiles, &keep, all_kept),
        flags: keep_rows(flags, &keep, all_kept),
        weights: keep_rows(weights, &keep, all_kept),
        rows: kept,
        strata: stratum_codes,
        stratum_labels,
        psus: psu_codes,
        psu_labels,
        rounds: round_codes,
        round_info,
        groupings: groupings
            .into_iter()
            .map(|g| {
                let (codes, levels) = relabel(pick_u32(g.codes), g.levels);
                Grouping {
                    column: g.column,
                    levels,
                    codes,
                }
            })
            .collect(),
        has_rounds,
        psu_is_row,
    };
    Ok((sample, report))
}

/// The values of the rows kept, moved to the front in place (no second vector).
fn keep_rows<T: Copy>(mut v: Vec<T>, keep: &[bool], all_kept: bool) -> Vec<T> {
    if all_kept {
        return v;
    }
    let mut to = 0;
    for from in 0..v.len() {
        if keep[from] {
            v[to] = v[from];
            to += 1;
        }
    }
    v.truncate(to);
    v
}

/// The error when no row is left to analyse.
pub fn check_not_empty(report: &DataReport) -> Result<()> {
    if report.rows_used > 0 {
        return Ok(());
    }
    Err(Error::input(&report.file, format!(
        "no row is left to analyse: all {} rows miss a value of an indicator, the weight or a design column ({})",
        report.rows_read,
        report.missing.iter().map(|(c, k)| format!("{c}: {k}")).collect::<Vec<_>>().join(", "))))
}

/// The indicators' 0/1 values into the profile bits (rules evaluated by polars first):
/// the profiles, which rows have every indicator, and the rows missing each.
#[allow(clippy::type_complexity)]
fn check_indicators(
    df: &DataFrame,
    m: &Methodology,
    survey: &SurveyColumns,
    file: &Path,
) -> Result<(Vec<u64>, Vec<bool>, Vec<(String, usize)>)> {
    let n = df.height();
    let mut keep = vec![true; n];
    let mut missing_counts = Vec::new();
    let ruled = evaluate_rules(df, m, survey, file)?;
    let mut profiles = vec![0u64; n];
    // The common case first: numeric 0/1 columns straight into the bits, a block of rows
    // at a time through every column, so that the block's profiles stay in cache.
    let mut missing_of = vec![0usize; m.indicators.len()];
    let numeric: Vec<(usize, &Series, &str)> = m
        .indicators
        .iter()
        .enumerate()
        .filter_map(|(j, ind)| match &ind.source {
            Source::Column(c) => column(df, c, file)
                .ok()
                .filter(|s| s.dtype().is_primitive_numeric())
                .map(|s| (j, s, c.as_str())),
            Source::Rule(_) => None,
        })
        .collect();
    const BLOCK: usize = 8192;
    for start in (0..n).step_by(BLOCK) {
        let end = (start + BLOCK).min(n);
        for &(j, s, c) in &numeric {
            let block = s.slice(start as i64, end - start);
            missing_of[j] += zero_one_numeric(
                &block,
                file,
                c,
                j,
                &mut profiles[start..end],
                &mut keep[start..end],
            )
            .map_err(|e| e.after_rows(start))?;
        }
    }
    for (j, ind) in m.indicators.iter().enumerate() {
        let values = match &ind.source {
            Source::Column(_) if numeric.iter().any(|&(k, _, _)| k == j) => {
                if missing_of[j] > 0 {
                    missing_counts.push((ind.id.clone(), missing_of[j]));
                }
                continue;
            }
            Source::Column(c) => zero_one(column(df, c, file)?, file, c)?,
            Source::Rule(rule) => {
                let s = column(&ruled, &rule_column(j), file)?;
                if !matches!(s.dtype(), DataType::Boolean | DataType::Null) {
                    return Err(Error::Methodology {
                        file: None,
                        key: Some(format!("indicator `{}`", ind.id)),
                        message: format!(
                            "the rule `{}` gives {} values, not true/false: write a condition such as `x = 1`",
                            rule.deprived.text,
                            s.dtype()
                        ),
                    });
                }
                let b = s.cast(&DataType::Boolean).expect("boolean");
                b.bool().expect("boolean").iter().collect()
            }
        };
        let missing: Vec<bool> = values.iter().map(|v| v.is_none()).collect();
        for (p, v) in profiles.iter_mut().zip(&values) {
            if *v == Some(true) {
                *p |= 1 << j;
            }
        }
        let count = missing.iter().filter(|&&x| x).count();
        for (k, &miss) in keep.iter_mut().zip(&missing) {
            *k &= !miss;
        }
        if count > 0 {
            missing_counts.push((ind.id.clone(), count));
        }
    }

    Ok((profiles, keep, missing_counts))
}

fn column<'a>(df: &'a DataFrame, name: &str, file: &Path) -> Result<&'a Series> {
    df.column(name)
        .map(|c| c.as_materialized_series())
        .map_err(|_| Error::data(file, name, None, "not in the data read"))
}

/// The error for an indicator value that is not 0 or 1 (`row` 0-based).
fn not_zero_one(file: &Path, name: &str, row: usize, value: String) -> Error {
    Error::data(file, name, Some(row + 1), format!(
        "the value {value} is not 0 or 1: indicators are 0/1 deprivation columns (1 = deprived, empty = missing); recode the column or build it with a rule"))
}

/// A boolean or text 0/1 column as present/absent deprivations; any other value is an
/// error. (Numeric columns take [`zero_one_numeric`].)
fn zero_one(s: &Series, file: &Path, name: &str) -> Result<Vec<Option<bool>>> {
    match s.dtype() {
        DataType::Boolean => Ok(s.bool().expect("boolean").iter().collect()),
        DataType::String => {
            let ca = s.str().expect("string");
            let mut out = Vec::with_capacity(s.len());
            for (i, v) in ca.iter().enumerate() {
                out.push(match v.map(str::trim) {
                    None => None,
                    Some(t) => match t.to_ascii_lowercase().as_str() {
                        "0" | "0.0" | "false" => Some(false),
                        "1" | "1.0" | "true" => Some(true),
                        _ => return Err(not_zero_one(file, name, i, format!("\"{t}\""))),
                    },
                });
            }
            Ok(out)
        }
        other => Err(Error::data(
            file,
            name,
            None,
            format!("has type {other}; an indicator must hold 0/1 numbers or booleans"),
        )),
    }
}

/// Calls `f(row, value)` for every value of a numeric column as a float, NaN where the
/// value is missing, reading polars' arrays in place: no cast copy of the column for the
/// common types, and one pass.
fn each_number(s: &Series, mut f: impl FnMut(usize, f64) -> Result<()>) -> Result<()> {
    macro_rules! each {
        ($ca:expr) => {{
            let mut row = 0;
            for array in $ca.downcast_iter() {
                let values = array.values();
                match array.validity() {
                    None => {
                        for (i, &v) in values.iter().enumerate() {
                            f(row + i, v as f64)?;
                        }
                    }
                    Some(valid) => {
                        for (i, &v) in values.iter().enumerate() {
                            f(row + i, if valid.get_bit(i) { v as f64 } else { f64::NAN })?;
                        }
                    }
                }
                row += array.len();
            }
            Ok(())
        }};
    }
    match s.dtype() {
        DataType::Float64 => each!(s.f64().expect("f64")),
        DataType::Float32 => each!(s.f32().expect("f32")),
        DataType::Int64 => each!(s.i64().expect("i64")),
        DataType::Int32 => each!(s.i32().expect("i32")),
        DataType::UInt32 => each!(s.u32().expect("u32")),
        DataType::UInt64 => each!(s.u64().expect("u64")),
        _ => {
            let f64s = s
                .cast(&DataType::Float64)
                .map_err(|e| Error::input(Path::new(""), e.to_string()))?;
            each!(f64s.f64().expect("f64"))
        }
    }
}

/// A numeric 0/1 column into bit `j` of the profiles; a missing value (null or NaN)
/// clears `keep`. Returns the number of rows missing it; any value but 0 and 1 is an error.
fn zero_one_numeric(
    s: &Series,
    file: &Path,
    name: &str,
    j: usize,
    profiles: &mut [u64],
    keep: &mut [bool],
) -> Result<usize> {
    let mut missing = 0;
    let mut bad = false;
    // Without branches, so that the compiler can use vector instructions: the bit is set
    // where the value is 1, NaN marks the row missing, anything else but 0 is noted and
    // looked for again below (to name its row). Values under nulls are arbitrary: the
    // null marks the row missing, and its bit does not matter.
    macro_rules! bits {
        ($ca:expr) => {{
            let mut row = 0;
            for array in $ca.downcast_iter() {
                let values = array.values();
                let end = row + values.len();
                let (p, k) = (&mut profiles[row..end], &mut keep[row..end]);
                for ((p, k), &v) in p.iter_mut().zip(k.iter_mut()).zip(values.iter()) {
                    let x = v as f64;
                    let nan = x.is_nan();
                    bad |= !(x == 0.0 || x == 1.0 || nan);
                    *p |= u64::from(x == 1.0) << j;
                    *k &= !nan;
                    missing += usize::from(nan);
                }
                if let Some(valid) = array.validity() {
                    for (i, ok) in valid.iter().enumerate() {
                        if !ok {
                            missing += usize::from(!(values[i] as f64).is_nan());
                            k[i] = false;
                        }
                    }
                }
                row = end;
            }
        }};
    }
    match s.dtype() {
        DataType::Float64 => bits!(s.f64().expect("f64")),
        DataType::Int64 => bits!(s.i64().expect("i64")),
        DataType::Int32 => bits!(s.i32().expect("i32")),
        _ => {
            let f = s
                .cast(&DataType::Float64)
                .map_err(|e| Error::data(file, name, None, e.to_string()))?;
            bits!(f.f64().expect("f64"))
        }
    }
    if bad {
        each_number(s, |i, x| {
            if x.is_nan() || x == 0.0 || x == 1.0 {
                Ok(())
            } else {
                Err(not_zero_one(file, name, i, format!("{x}")))
            }
        })?;
    }
    Ok(missing)
}

/// A numeric column (weight, year) as floats, NaN where a value is missing; text that is
/// not a number is an error.
fn numbers(s: &Series, file: &Path, name: &str) -> Result<Vec<f64>> {
    match s.dtype() {
        DataType::String => {
            let ca = s.str().expect("string");
            let mut out = Vec::with_capacity(s.len());
            for (i, v) in ca.iter().enumerate() {
                out.push(match v.map(str::trim) {
                    None => f64::NAN,
                    Some(t) => t.parse::<f64>().map_err(|_| {
                        Error::data(
                            file,
                            name,
                            Some(i + 1),
                            format!("the value \"{t}\" is not a number"),
                        )
                    })?,
                });
            }
            Ok(out)
        }
        dt if dt.is_primitive_numeric() || dt.is_bool() => {
            let mut out = vec![0.0; s.len()];
            each_number(s, |i, x| {
                out[i] = x;
                Ok(())
            })
            .map_err(|e| Error::data(file, name, None, e.to_string()))?;
            Ok(out)
        }
        other => Err(Error::data(
            file,
            name,
            None,
            format!("has type {other}; expected numbers"),
        )),
    }
}

/// Clears `keep` where a value is missing (NaN); returns how many are.
fn drop_nan(values: &[f64], keep: &mut [bool]) -> usize {
    let mut count = 0;
    for (k, v) in keep.iter_mut().zip(values) {
        if v.is_nan() {
            *k = false;
            count += 1;
        }
    }
    count
}

/// A column as codes in order of first appearance, and the label of each code; missing
/// values get [`MISSING`]. One hash look-up per change of value and no text per row for
/// numbers. The codes are put in the labels' sorted order by [`relabel`], once the rows
/// are kept: one pass over the kept rows instead of one over all rows and another after.
fn factorize(s: &Series) -> (Vec<u32>, Vec<String>) {
    // Over polars' arrays directly: the chunked array's own iterator costs more.
    match s.dtype() {
        DataType::Int32 => first_seen_numbers(s.i32().expect("i32"), Some, |v: i32| v.to_string()),
        dt if dt.is_integer() => {
            let i = s.cast(&DataType::Int64).expect("integer");
            first_seen_numbers(i.i64().expect("i64"), Some, |v: i64| v.to_string())
        }
        dt if dt.is_float() => {
            let f = s.cast(&DataType::Float64).expect("float");
            first_seen_numbers(
                f.f64().expect("float"),
                |x: f64| (!x.is_nan()).then_some(x.to_bits()),
                |b: u64| number_label(f64::from_bits(b)),
            )
        }
        _ => {
            let t = s.cast(&DataType::String).unwrap_or_else(|_| {
                Series::full_null(s.name().clone(), s.len(), &DataType::String)
            });
            first_seen_strings(t.str().expect("string"))
        }
    }
}

/// Codes of the values of a numeric column in order of first appearance, and the label of
/// each code. `key` gives the value's key, `None` for a missing one (NaN).
fn first_seen_numbers<T, K>(
    ca: &ChunkedArray<T>,
    key: impl Fn(T::Native) -> Option<K>,
    label: impl Fn(K) -> String,
) -> (Vec<u32>, Vec<String>)
where
    T: PolarsNumericType,
    K: std::hash::Hash + Eq + Copy,
{
    let mut index: FxHashMap<K, u32> = FxHashMap::default();
    let mut labels = Vec::new();
    let mut codes = Vec::with_capacity(ca.len());
    // Survey files come household by household, cluster by cluster: a value mostly
    // repeats the row before's, and then needs no look-up.
    let mut last: Option<(K, u32)> = None;
    for array in ca.downcast_iter() {
        let valid = array.validity();
        for (i, &v) in array.values().iter().enumerate() {
            let k = match valid {
                Some(bits) if !bits.get_bit(i) => None,
                _ => key(v),
            };
            codes.push(match k {
                None => MISSING,
                Some(k) => match last {
                    Some((l, code)) if l == k => code,
                    _ => {
                        let code = *index.entry(k).or_insert_with(|| {
                            labels.push(label(k));
                            labels.len() as u32 - 1
                        });
                        last = Some((k, code));
                        code
                    }
                },
            });
        }
    }
    (codes, labels)
}

/// As [`first_seen_numbers`] for text. A row whose 16-byte view (length, prefix and
/// place of the text in polars' buffers) equals the row before's holds the same text, so
/// the repeats of a household or cluster cost one comparison of two integers, and the
/// text itself is looked at only when the view changes.
fn first_seen_strings(ca: &StringChunked) -> (Vec<u32>, Vec<String>) {
    use polars_arrow::array::Array as _; // validity()
    let mut index: FxHashMap<&str, u32> = FxHashMap::default();
    let mut labels = Vec::new();
    let mut codes = Vec::with_capacity(ca.len());
    for array in ca.downcast_iter() {
        let valid = array.validity();
        // Views point into this array's buffers: a run does not cross arrays.
        let mut last: Option<(u128, u32)> = None;
        for (i, view) in array.views().iter().enumerate() {
            if valid.is_some_and(|bits| !bits.get_bit(i)) {
                codes.push(MISSING);
                continue;
            }
            let view = view.as_u128();
            let code = match last {
                Some((v, code)) if v == view => code,
                _ => {
                    let text = array.value(i);
                    let code = *index.entry(text).or_insert_with(|| {
                        labels.push(text.to_string());
                        labels.len() as u32 - 1
                    });
                    last = Some((view, code));
                    code
                }
            };
            codes.push(code);
        }
    }
    (codes, labels)
}

/// The codes of the rows kept, renumbered into the labels that some kept row has, in
/// sorted order ([`sort_labels`]); the others are dropped. When the codes are already so
/// numbered they are returned as they are.
fn relabel(mut codes: Vec<u32>, labels: Vec<String>) -> (Vec<u32>, Vec<String>) {
    let mut used = vec![false; labels.len()];
    for &c in &codes {
        if c != MISSING {
            used[c as usize] = true;
        }
    }
    let kept: Vec<String> = labels
        .iter()
        .zip(&used)
        .filter(|(_, &u)| u)
        .map(|(l, _)| l.clone())
        .collect();
    let (kept_code, sorted) = sorted_codes(&kept);
    let mut kept_code = kept_code.into_iter();
    let new_code: Vec<u32> = used
        .iter()
        .map(|&u| {
            if u {
                kept_code.next().expect("a code per kept label")
            } else {
                MISSING
            }
        })
        .collect();
    if new_code
        .iter()
        .enumerate()
        .all(|(old, &new)| new == old as u32)
    {
        return (codes, labels); // sorted, and every label has a row
    }
    for c in codes.iter_mut().filter(|c| **c != MISSING) {
        *c = new_code[*c as usize];
    }
    (codes, sorted)
}

/// The labels sorted ([`sort_labels`]), and each label's position among them: its code
/// once the codes follow the labels' order.
pub fn sorted_codes(labels: &[String]) -> (Vec<u32>, Vec<String>) {
    let mut sorted = labels.to_vec();
    sort_labels(&mut sorted);
    let position: FxHashMap<&str, u32> = sorted
        .iter()
        .enumerate()
        .map(|(i, l)| (l.as_str(), i as u32))
        .collect();
    let codes = labels.iter().map(|l| position[l.as_str()]).collect();
    (codes, sorted)
}

/// Labels in numeric order when all are numbers (2 before 10), else in text order.
pub fn sort_labels(labels: &mut [String]) {
    if labels.iter().all(|l| l.trim().parse::<f64>().is_ok()) {
        labels.sort_by(|a, b| {
            a.trim()
                .parse::<f64>()
                .unwrap()
                .total_cmp(&b.trim().parse::<f64>().unwrap())
        });
    } else {
        labels.sort();
    }
}

/// A number as a label: 2 not 2.0, 2018.5 as is.
pub fn number_label(x: f64) -> String {
    if x.fract() == 0.0 && x.abs() < 1e15 {
        format!("{}", x as i64)
    } else {
        format!("{x}")
    }
}

fn single_year(ys: &[f64], file: &Path, name: &str) -> Result<Option<f64>> {
    let Some(&first) = ys.first() else {
        return Ok(None);
    };
    if let Some(other) = ys.iter().find(|&&y| y != first) {
        return Err(Error::data(file, name, None, format!(
            "holds several years ({} and {}) but no round column is given: set `survey.round` (or --round) to the column that tells the rounds apart",
            number_label(first), number_label(*other))));
    }
    Ok(Some(first))
}

/// Orders rounds by year (when given) and checks that each round has one year.
fn order_rounds(
    codes: Vec<u32>,
    labels: Vec<String>,
    years: Option<Vec<f64>>,
    rows: &[u32],
    file: &Path,
    survey: &SurveyColumns,
) -> Result<(Vec<u32>, Vec<Round>)> {
    let mut year_of: Vec<Option<f64>> = vec![None; labels.len()];
    if let Some(years) = &years {
        let name = survey.year.as_deref().unwrap_or("year");
        for (i, (&c, &y)) in codes.iter().zip(years).enumerate() {
            match year_of[c as usize] {
                None => year_of[c as usize] = Some(y),
                Some(prev) if prev != y => {
                    return Err(Error::data(
                        file,
                        name,
                        Some(rows[i] as usize + 1),
                        format!(
                            "round {} has two years, {} and {}: each round needs one year",
                            labels[c as usize],
                            number_label(prev),
                            number_label(y)
                        ),
                    ))
                }
                _ => {}
            }
        }
    }
    // Rounds present after dropping rows, in time order.
    let mut seen = vec![false; labels.len()];
    for &c in &codes {
        seen[c as usize] = true;
    }
    let mut present: Vec<usize> = (0..labels.len()).filter(|&r| seen[r]).collect();
    if years.is_some() {
        present.sort_by(|&a, &b| {
            year_of[a]
                .unwrap_or(f64::NAN)
                .total_cmp(&year_of[b].unwrap_or(f64::NAN))
        });
    }
    let mut new_code = vec![MISSING; labels.len()];
    for (new, &old) in present.iter().enumerate() {
        new_code[old] = new as u32;
    }
    let info = present
        .iter()
        .map(|&r| Round {
            label: labels[r].clone(),
            year: year_of[r],
        })
        .collect();
    let codes = if new_code
        .iter()
        .enumerate()
        .all(|(old, &new)| new == old as u32)
    {
        codes // already in time order
    } else {
        codes.into_iter().map(|c| new_code[c as usize]).collect()
    };
    Ok((codes, info))
}

/// The name of the column holding indicator j's evaluated rule.
fn rule_column(j: usize) -> String {
    format!("__afmpi_rule_{j}")
}

/// Evaluates every rule indicator in polars: one Boolean column per rule.
fn evaluate_rules(
    df: &DataFrame,
    m: &Methodology,
    survey: &SurveyColumns,
    file: &Path,
) -> Result<DataFrame> {
    let mut exprs = Vec::new();
    for (j, ind) in m.indicators.iter().enumerate() {
        if let Source::Rule(rule) = &ind.source {
            let expr = rule
                .expr(survey.household.as_deref())
                .map_err(|e| rule_error(&ind.id, &rule.deprived.text, e))?;
            exprs.push(expr.alias(rule_column(j)));
        }
    }
    if exprs.is_empty() {
        return Ok(DataFrame::empty());
    }
    // One indicator at a time first, so that an error names its rule.
    let out = df.clone().lazy().select(exprs.clone()).collect();
    out.map_err(|e| {
        for (j, ind) in m.indicators.iter().enumerate() {
            if let Source::Rule(rule) = &ind.source {
                let single = rule
                    .expr(survey.household.as_deref())
                    .map(|x| x.alias(rule_column(j)));
                if let Err(e) = single.and_then(|x| df.clone().lazy().select([x]).collect()) {
                    return rule_error(&ind.id, &rule.deprived.text, e);
                }
            }
        }
        Error::input(file, format!("cannot evaluate the rules: {e}"))
    })
}

fn rule_error(id: &str, text: &str, e: PolarsError) -> Error {
    Error::Methodology {
        file: None,
        key: Some(format!("indicator `{id}`")),
        message: format!("cannot evaluate the rule `{text}`: {e}"),
    }
}

type DropMissing = dyn Fn(&str, &[bool], &mut [bool], &mut DataReport);

/// Evaluates the methodology's named groups per row: bit g set when in group g. A rule
/// that reaches a null leaves the row unclassified: it is dropped and counted.
fn group_flags(
    df: &DataFrame,
    m: &Methodology,
    profiles: &[u64],
    file: &Path,
    keep: &mut [bool],
    report: &mut DataReport,
    drop_missing: &DropMissing,
) -> Result<Vec<u32>> {
    let mut flags = vec![0u32; profiles.len()];
    if m.groups.is_empty() {
        return Ok(flags);
    }
    let iw = IntegerWeights::new(m)?;
    let score: Vec<f64> = profiles.iter().map(|&p| iw.score_f64(p)).collect();
    let count: Vec<u32> = profiles.iter().map(|p| p.count_ones()).collect();
    let mut columns = vec![
        Column::new("score".into(), score),
        Column::new("count".into(), count),
    ];
    for c in df.columns() {
        if !crate::methodology::GROUP_VARIABLES.contains(&c.name().as_str()) {
            columns.push(c.clone());
        }
    }
    let frame =
        DataFrame::new(profiles.len(), columns).map_err(|e| Error::input(file, e.to_string()))?;
    for (g, group) in m.groups.iter().enumerate() {
        let key = format!("group `{}`", group.name);
        let evaluated = frame
            .clone()
            .lazy()
            .select([group.rule.expr.clone().alias("member")])
            .collect()
            .map_err(|e| Error::Methodology {
                file: None,
                key: Some(key.clone()),
                message: format!("cannot evaluate the rule `{}`: {e}", group.rule.text),
            })?;
        let s = evaluated
            .column("member")
            .expect("selected")
            .as_materialized_series()
            .clone();
        if !matches!(s.dtype(), DataType::Boolean | DataType::Null) {
            return Err(Error::Methodology {
                file: None,
                key: Some(key),
                message: format!(
                    "the rule `{}` gives {} values, not true/false",
                    group.rule.text,
                    s.dtype()
                ),
            });
        }
        let s = s.cast(&DataType::Boolean).expect("boolean");
        let values: Vec<Option<bool>> = s.bool().expect("boolean").iter().collect();
        let missing: Vec<bool> = values.iter().map(Option::is_none).collect();
        drop_missing(&format!("group {}", group.name), &missing, keep, report);
        for (f, v) in flags.iter_mut().zip(&values) {
            if *v == Some(true) {
                *f |= 1 << g;
            }
        }
    }
    Ok(flags)
}
