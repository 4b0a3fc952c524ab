//! Rules in polars: the engine's rules (SQL text, [`afmpi_core::rules`]) in, polars
//! expressions that give each person's deprivation (true, false or null) out.
//!
//! polars' SQL front end parses the text, so afmpi has no expression language of its
//! own: [`PolarsSql`] tells the engine which columns an expression reads (validation),
//! [`expression`] and [`deprivation`] build what polars evaluates. A rule aggregated over
//! the household becomes window expressions over the household id: counts of eligible,
//! observed and deprived members, compared as the rule's `aggregate` says.

use polars::prelude::*;

pub use afmpi_core::rules::*;

/// polars' SQL front end as the engine's rule language.
pub struct PolarsSql;

impl RuleLanguage for PolarsSql {
    fn columns(&self, text: &str) -> Result<Vec<String>, String> {
        let expr = parse(text)?;
        Ok(expr
            .meta()
            .root_names()
            .into_iter()
            .map(|n| n.to_string())
            .collect())
    }
}

/// Parses SQL expression text; the error shows the expression and what is wrong.
fn parse(text: &str) -> Result<Expr, String> {
    polars::sql::sql_expr(text).map_err(|e| {
        let message = e.to_string();
        let message = message.trim_start_matches("SQLInterface:").trim();
        format!("cannot read the expression `{text}`: {message}")
    })
}

/// The polars expression of a validated expression.
pub fn expression(e: &Expression) -> PolarsResult<Expr> {
    parse(&e.text).map_err(|m| polars_err!(ComputeError: "{}", m))
}

/// The expression of each person's deprivation: per member, or aggregated over the
/// household `household` when the rule has an `aggregate`.
pub fn deprivation(rule: &Rule, household: Option<&str>) -> PolarsResult<Expr> {
    let Some(aggregate) = rule.aggregate else {
        return Ok(expression(&rule.deprived)?);
    };
    let hh = household.expect("validated: aggregation needs a household column");
    let eligible = match &rule.eligible {
        Some(e) => expression(e)?.fill_null(lit(false)),
        None => lit(true),
    };
    let value = expression(&rule.deprived)?;
    let observed = eligible.clone().and(value.clone().is_not_null());
    let count = |e: Expr| {
        e.cast(DataType::UInt32)
            .sum()
            .cast(DataType::Float64)
            .over([col(hh)])
    };
    let n_eligible = count(eligible.clone())?;
    let n_observed = count(observed.clone())?;
    let null = || lit(NULL).cast(DataType::Boolean);
    // Enough eligible members with data to decide what they do not settle.
    let enough = match rule.min_observed {
        Some(m) => n_observed
            .clone()
            .gt(lit(0.0))
            .and((n_observed.clone() / n_eligible.clone()).gt_eq(lit(m))),
        None => n_observed.clone().gt(lit(0.0)),
    };
    let n_meets = || count(eligible.clone().and(value.clone().fill_null(lit(false))));
    let result = match aggregate {
        Aggregate::Any => when(n_meets()?.gt(lit(0.0)))
            .then(lit(true))
            .when(enough)
            .then(lit(false))
            .otherwise(null()),
        Aggregate::None => when(n_meets()?.gt(lit(0.0)))
            .then(lit(false))
            .when(enough)
            .then(lit(true))
            .otherwise(null()),
        Aggregate::All => when((n_observed.clone() - n_meets()?).gt(lit(0.0)))
            .then(lit(false))
            .when(enough)
            .then(lit(true))
            .otherwise(null()),
        Aggregate::Mean {
            op,
            value: threshold,
        } => {
            // The mean of a numeric expression over the eligible members with data.
            let numbers = when(observed)
                .then(value.cast(DataType::Float64))
                .otherwise(lit(NULL).cast(DataType::Float64));
            let mean = numbers.mean().over([col(hh)])?;
            let compared = match op {
                Comparison::Lt => mean.lt(lit(threshold)),
                Comparison::Le => mean.lt_eq(lit(threshold)),
                Comparison::Gt => mean.gt(lit(threshold)),
                Comparison::Ge => mean.gt_eq(lit(threshold)),
            };
            when(enough).then(compared).otherwise(null())
        }
        Aggregate::Share { share, strict } => {
            let ratio = n_meets()? / n_observed;
            let passes = if strict {
                ratio.gt(lit(share))
            } else {
                ratio.gt_eq(lit(share))
            };
            when(enough).then(passes).otherwise(null())
        }
    };
    let none_eligible = match rule.no_eligible {
        NoEligible::NotDeprived => lit(false),
        NoEligible::Deprived => lit(true),
        NoEligible::Missing => null(),
    };
    Ok(when(n_eligible.eq(lit(0.0)))
        .then(none_eligible)
        .otherwise(result))
}
