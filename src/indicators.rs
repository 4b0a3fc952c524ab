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

use std::path::Path;

use polars::prelude::*;
use rustc_hash::FxHashMap;

use afmpi_core::identification::IntegerWeights;
use afmpi_core::methodology::{Methodology, Source, SurveyColumns};
use afmpi_core::sample::codes::number_label;
use afmpi_core::sample::{Builder, Codes, DataReport, Sample, MISSING};

use crate::error::{Error, Result};
use crate::rules;

/// Builds the analysis sample from the columns read. `survey` holds the resolved survey
/// columns (methodology file merged with command-line flags). The columns are extracted
/// here and handed to the engine's [`Builder`] in the order of the report. An empty
/// sample is not an error here (a batch may lose all its rows); see
/// [`afmpi_core::sample::check_not_empty`].
pub fn prepare(
    df: &DataFrame,
    m: &Methodology,
    survey: &SurveyColumns,
    file: &Path,
) -> Result<(Sample, DataReport)> {
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
    let (profiles, keep, indicator_missing) = checked?;
    let mut sample = Builder::new(file, profiles, keep, indicator_missing);
    let weights = match &survey.weight {
        Some(name) => Some((name.as_str(), numbers(column(df, name, file)?, file, name)?)),
        None => None,
    };
    sample.weights(weights)?;
    if let Some(name) = &survey.household_size {
        sample.household_size(name, numbers(column(df, name, file)?, file, name)?)?;
    }
    if let Some(name) = &survey.strata {
        sample.strata(name, take(name));
    }
    if let Some(name) = &survey.psu {
        sample.psus(name, take(name));
    }
    if let Some(name) = &survey.round {
        sample.rounds(name, take(name));
    }
    if let Some(name) = &survey.year {
        sample.years(name, numbers(column(df, name, file)?, file, name)?);
    }
    // Named groups: rules over the score, the count and survey columns.
    let flags = group_flags(df, m, file, &mut sample)?;
    sample.flags(flags);
    for name in &survey.over {
        sample.subgroup(name, take(name));
    }
    sample.finish(survey)
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
            let expr = rules::deprivation(rule, survey.household.as_deref())
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
                let single = rules::deprivation(rule, survey.household.as_deref())
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

/// Evaluates the methodology's named groups per row: bit g set when in group g. A rule
/// that reaches a null leaves the row unclassified: it is dropped and counted.
fn group_flags(
    df: &DataFrame,
    m: &Methodology,
    file: &Path,
    sample: &mut Builder,
) -> Result<Vec<u32>> {
    let profiles = sample.profiles();
    let n = profiles.len();
    let mut flags = vec![0u32; n];
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
        if !afmpi_core::methodology::GROUP_VARIABLES.contains(&c.name().as_str()) {
            columns.push(c.clone());
        }
    }
    let frame = DataFrame::new(n, columns).map_err(|e| Error::input(file, e.to_string()))?;
    for (g, group) in m.groups.iter().enumerate() {
        let key = format!("group `{}`", group.name);
        let evaluated = frame
            .clone()
            .lazy()
            .select([rules::expression(&group.rule)
                .map_err(|e| Error::Methodology {
                    file: None,
                    key: Some(key.clone()),
                    message: format!("cannot evaluate the rule `{}`: {e}", group.rule.text),
                })?
                .alias("member")])
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
        sample.drop_missing(&format!("group {}", group.name), &missing);
        for (f, v) in flags.iter_mut().zip(&values) {
            if *v == Some(true) {
                *f |= 1 << g;
            }
        }
    }
    Ok(flags)
}
