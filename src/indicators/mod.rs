//! Indicators: the columns read from a survey file in, a [`Sample`] out — one deprivation
//! profile per person (a bitmask: bit j set when deprived in indicator j), the sampling
//! weight, and dense integer codes for stratum, PSU, round and each subgroup column.
//!
//! This is where the data are checked. Indicator values must be 0/1 (integers, floats or
//! booleans); any other value is an error naming the column, the value and the first row
//! where it occurs. Rows missing an indicator, the weight or a design variable (stratum,
//! PSU, round, year) are dropped, as mpitb does, and counted per column in a
//! [`DataReport`]; so are rows without a household id under household rules. A row missing a subgroup value stays in the national figures and is
//! left out of that column's subgroups, and the report says how many.

use std::path::Path;

use polars::prelude::*;
use rustc_hash::FxHashMap;

use afmpi_core::methodology::{Methodology, Source, SurveyColumns, Unit};
use afmpi_core::sample::{Builder, Codes, DataReport, RowOutcomes, Sample};

use crate::error::{Error, Result};

mod codes;
mod evaluate;
mod values;

use codes::factorize;
use evaluate::{evaluate_rules, group_flags, rule_column};
use values::{numbers, zero_one, zero_one_numeric};

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
    let (sample, report, _) = prepare_rows(df, m, survey, file, Preparing::default())?;
    Ok((sample, report))
}

/// What [`prepare_rows`] is asked for besides the sample.
#[derive(Clone, Copy, Debug, Default)]
pub struct Preparing {
    /// What became of every row (for the persons file).
    pub with_rows: bool,
    /// The rows are a batch of the file: codes as met ([`Builder::codes_as_met`]).
    pub batch: bool,
}

/// As [`prepare`], with what became of every row when asked (for the persons file).
pub fn prepare_rows(
    df: &DataFrame,
    m: &Methodology,
    survey: &SurveyColumns,
    file: &Path,
    asked: Preparing,
) -> Result<(Sample, DataReport, Option<RowOutcomes>)> {
    // The codes of the design and subgroup columns are worked out beside the checks of
    // the indicators.
    let households = survey
        .household
        .as_ref()
        .filter(|_| survey.unit == Some(Unit::Household));
    let coded: Vec<&String> = [&survey.strata, &survey.psu, &survey.round]
        .into_iter()
        .flatten()
        .chain(&survey.over)
        .chain(households)
        .collect();
    let (factorized, checked) = rayon::join(
        || -> Result<FxHashMap<&String, Codes>> {
            use rayon::prelude::*;
            // Each column a task of its own, so that the thread done with the
            // indicators takes the columns left.
            coded
                .par_iter()
                .map(|&name| Ok((name, factorize(column(df, name, file)?))))
                .collect::<Result<Vec<_>>>()
                .map(|codes| codes.into_iter().collect())
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
    let (profiles, missing, indicator_missing) = checked?;
    let mut sample = Builder::new(file, profiles, missing, indicator_missing);
    if asked.batch {
        sample.codes_as_met();
    }
    drop_rows_without_household(df, m, survey, file, &mut sample)?;
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
    if let Some((codes, vectors)) = gap_codes(df, m, file)? {
        sample.gaps(codes, vectors);
    }
    if let Some(name) = households {
        sample.households(name, take(name));
    }
    if asked.with_rows {
        let (sample, report, rows) = sample.finish_with_rows(survey)?;
        Ok((sample, report, Some(rows)))
    } else {
        let (sample, report) = sample.finish(survey)?;
        Ok((sample, report, None))
    }
}

/// Under household rules, a row without a household id belongs to no household: it is
/// dropped and counted against the id column, never pooled with the other rows that
/// lack one into a household of strangers.
fn drop_rows_without_household(
    df: &DataFrame,
    m: &Methodology,
    survey: &SurveyColumns,
    file: &Path,
    sample: &mut Builder,
) -> Result<()> {
    let household_rules = m
        .indicators
        .iter()
        .any(|i| matches!(&i.source, Source::Rule(r) if r.aggregate.is_some()));
    let Some(name) = survey.household.as_ref().filter(|_| household_rules) else {
        return Ok(());
    };
    let ids = column(df, name, file)?;
    if ids.null_count() == 0 {
        return Ok(());
    }
    let missing: Vec<bool> = ids.is_null().iter().map(|v| v.unwrap_or(true)).collect();
    sample.drop_missing(name, &missing);
    Ok(())
}

/// The indicators' 0/1 values into the profile bits (rules evaluated by polars first):
/// the profiles, the indicators each row misses (bit j for indicator j), and the rows
/// missing each.
#[allow(clippy::type_complexity)]
fn check_indicators(
    df: &DataFrame,
    m: &Methodology,
    survey: &SurveyColumns,
    file: &Path,
) -> Result<(Vec<u64>, Vec<u64>, Vec<(String, usize)>)> {
    let n = df.height();
    let mut missing_bits = vec![0u64; n];
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
            Source::Rule(_) | Source::Achievement { .. } => None,
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
                &mut missing_bits[start..end],
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
            Source::Rule(rule) => rule_values(&ruled, j, &ind.id, &rule.deprived.text, file)?,
            Source::Achievement { column: c, cutoff } => achievements(df, c, file)?
                .iter()
                .map(|x| (!x.is_nan()).then_some(*x < *cutoff))
                .collect(),
        };
        let mut count = 0;
        for ((p, m), v) in profiles.iter_mut().zip(&mut missing_bits).zip(&values) {
            match v {
                Some(true) => *p |= 1 << j,
                Some(false) => {}
                None => {
                    *m |= 1 << j;
                    count += 1;
                }
            }
        }
        if count > 0 {
            missing_counts.push((ind.id.clone(), count));
        }
    }

    Ok((profiles, missing_bits, missing_counts))
}

/// A cardinal indicator's achievements (NaN when missing): numbers of zero or more.
fn achievements(df: &DataFrame, name: &str, file: &Path) -> Result<Vec<f64>> {
    let x = numbers(column(df, name, file)?, file, name)?;
    if let Some((i, v)) = x
        .iter()
        .enumerate()
        .find(|(_, v)| **v < 0.0 || v.is_infinite())
    {
        return Err(Error::data(file, name, Some(i + 1), format!(
            "the achievement {v} is not a number of zero or more: a cardinal indicator's gap (z - x)/z is defined for x >= 0; fix the row or make it missing")));
    }
    Ok(x)
}

/// Under `alphas` with cardinal indicators: each row's normalized gaps (z - x)/z in the
/// cardinal indicators it is deprived in, as codes of distinct gap vectors (the first
/// empty). `None` when M1 and M2 need no gaps.
#[allow(clippy::type_complexity)]
fn gap_codes(
    df: &DataFrame,
    m: &Methodology,
    file: &Path,
) -> Result<Option<(Vec<u32>, Vec<afmpi_core::sample::Gaps>)>> {
    let cardinal: Vec<(usize, &String, f64)> = m
        .indicators
        .iter()
        .enumerate()
        .filter_map(|(j, ind)| match &ind.source {
            Source::Achievement { column, cutoff } => Some((j, column, *cutoff)),
            _ => None,
        })
        .collect();
    if cardinal.is_empty() || m.alphas.is_empty() {
        return Ok(None);
    }
    let columns: Vec<Vec<f64>> = cardinal
        .iter()
        .map(|(_, c, _)| achievements(df, c, file))
        .collect::<Result<_>>()?;
    let mut vectors: Vec<afmpi_core::sample::Gaps> = vec![Vec::new()];
    let mut index: FxHashMap<Vec<(usize, u64)>, u32> = FxHashMap::default();
    index.insert(Vec::new(), 0);
    let codes = (0..df.height())
        .map(|i| {
            let gaps: afmpi_core::sample::Gaps = cardinal
                .iter()
                .zip(&columns)
                .filter(|((_, _, z), x)| x[i] < *z)
                .map(|(&(j, _, z), x)| (j, (z - x[i]) / z))
                .collect();
            let key: Vec<(usize, u64)> = gaps.iter().map(|&(j, g)| (j, g.to_bits())).collect();
            *index.entry(key).or_insert_with(|| {
                vectors.push(gaps);
                (vectors.len() - 1) as u32
            })
        })
        .collect();
    Ok(Some((codes, vectors)))
}

/// A rule indicator's evaluated values: true, false or missing.
fn rule_values(
    ruled: &DataFrame,
    j: usize,
    id: &str,
    text: &str,
    file: &Path,
) -> Result<Vec<Option<bool>>> {
    let s = column(ruled, &rule_column(j), file)?;
    if !matches!(s.dtype(), DataType::Boolean | DataType::Null) {
        return Err(Error::Methodology {
            file: None,
            key: Some(format!("indicator `{id}`")),
            message: format!(
                "the rule `{text}` gives {} values, not true/false: write a condition such as `x = 1`",
                s.dtype()
            ),
        });
    }
    let b = s.cast(&DataType::Boolean).expect("boolean");
    Ok(b.bool().expect("boolean").iter().collect())
}

pub(super) fn column<'a>(df: &'a DataFrame, name: &str, file: &Path) -> Result<&'a Series> {
    df.column(name)
        .map(|c| c.as_materialized_series())
        .map_err(|_| Error::data(file, name, None, "not in the data read"))
}
