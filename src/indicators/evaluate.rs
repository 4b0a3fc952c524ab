//! Rules evaluated: the columns read and the methodology's rules in, each rule
//! indicator's Boolean column (per member, or aggregated over the household) and each
//! person's membership of the named groups out, by polars. An error names the rule.

use std::path::Path;

use polars::prelude::*;

use afmpi_core::identification::IntegerWeights;
use afmpi_core::methodology::{Methodology, Source, SurveyColumns};
use afmpi_core::sample::Builder;

use crate::error::{Error, Result};
use crate::rules;

/// The name of the column holding indicator j's evaluated rule.
pub(super) fn rule_column(j: usize) -> String {
    format!("__afmpi_rule_{j}")
}

/// Evaluates every rule indicator in polars: one Boolean column per rule.
pub(super) fn evaluate_rules(
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
    let out = rules::collect_guarded(df.clone().lazy().select(exprs.clone()));
    out.map_err(|e| {
        for (j, ind) in m.indicators.iter().enumerate() {
            if let Source::Rule(rule) = &ind.source {
                let single = rules::deprivation(rule, survey.household.as_deref())
                    .map(|x| x.alias(rule_column(j)));
                let evaluated =
                    single.and_then(|x| rules::collect_guarded(df.clone().lazy().select([x])));
                if let Err(e) = evaluated {
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
pub(super) fn group_flags(
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
        let expression = rules::expression(&group.rule).map_err(|e| Error::Methodology {
            file: None,
            key: Some(key.clone()),
            message: format!("cannot evaluate the rule `{}`: {e}", group.rule.text),
        })?;
        let evaluated =
            rules::collect_guarded(frame.clone().lazy().select([expression.alias("member")]))
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
