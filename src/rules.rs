//! Rules: the text of an indicator's rule in the methodology file in, a polars expression
//! that gives each person's deprivation (true, false or null) out.
//!
//! A rule is an SQL boolean expression over the survey's columns (comparisons,
//! arithmetic, `IN (…)`, `BETWEEN`, `AND`/`OR`/`NOT`, `IS NULL`, `CASE`), parsed by polars'
//! SQL front end and evaluated by polars, so afmpi has no expression language of its own.
//! A rule can be evaluated per member and aggregated to the household: `eligible` says
//! who it applies to, `aggregate` which pattern over the eligible members deprives the
//! household (any, all, none, or a share of them), `no_eligible` what a household without
//! eligible members gets, and `min_observed` the share of eligible members with data
//! below which the household's value is missing. Every member receives the household's
//! value. A null reached by a rule makes the indicator missing, and the row is then
//! handled like any row with a missing indicator.

use polars::prelude::*;

/// How the eligible members' values make the household deprived.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Aggregate {
    /// Deprived when the rule holds for at least one eligible member.
    Any,
    /// Deprived when the rule holds for every eligible member.
    All,
    /// Deprived when the rule holds for no eligible member (the rule is then an
    /// achievement, such as `years_schooling >= 6`).
    None,
    /// Deprived when the rule holds for at least (or more than) this share of them.
    Share { share: f64, strict: bool },
    /// Deprived when the mean of a numeric expression over the eligible members with data
    /// compares so with the value (`mean < 9`: average years of schooling below nine).
    Mean { op: Comparison, value: f64 },
}

/// A comparison of a household's mean with a value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Comparison {
    Lt,
    Le,
    Gt,
    Ge,
}

impl Aggregate {
    pub fn parse(text: &str) -> Result<Aggregate, String> {
        let t = text.trim().to_ascii_lowercase();
        Ok(match t.as_str() {
            "any" => Aggregate::Any,
            "all" => Aggregate::All,
            "none" => Aggregate::None,
            _ if t.starts_with("mean") => {
                let rest = t["mean".len()..].trim();
                let (op, number) = if let Some(n) = rest.strip_prefix("<=") {
                    (Comparison::Le, n)
                } else if let Some(n) = rest.strip_prefix(">=") {
                    (Comparison::Ge, n)
                } else if let Some(n) = rest.strip_prefix('<') {
                    (Comparison::Lt, n)
                } else if let Some(n) = rest.strip_prefix('>') {
                    (Comparison::Gt, n)
                } else {
                    return Err(bad_aggregate(text));
                };
                let value = crate::methodology::Exact::parse(number.trim())
                    .map_err(|_| bad_aggregate(text))?
                    .to_f64();
                Aggregate::Mean { op, value }
            }
            _ => {
                let rest = t
                    .strip_prefix("share")
                    .map(str::trim)
                    .ok_or_else(|| bad_aggregate(text))?;
                let (strict, number) = if let Some(n) = rest.strip_prefix(">=") {
                    (false, n)
                } else if let Some(n) = rest.strip_prefix('>') {
                    (true, n)
                } else {
                    return Err(bad_aggregate(text));
                };
                let share = crate::methodology::Exact::parse(number.trim())
                    .map_err(|_| bad_aggregate(text))?
                    .to_f64();
                if !(0.0..=1.0).contains(&share) {
                    return Err(format!(
                        "aggregate \"{text}\": the share must lie in [0, 1]"
                    ));
                }
                Aggregate::Share { share, strict }
            }
        })
    }
}

fn bad_aggregate(text: &str) -> String {
    format!("aggregate \"{text}\" is not one of \"any\", \"all\", \"none\", \"share >= x\", \"share > x\" or \"mean < x\" (<, <=, >, >=)")
}

/// What a household without eligible members gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum NoEligible {
    NotDeprived,
    Deprived,
    Missing,
}

impl NoEligible {
    pub fn parse(text: &str) -> Result<NoEligible, String> {
        match text.trim() {
            "not_deprived" => Ok(NoEligible::NotDeprived),
            "deprived" => Ok(NoEligible::Deprived),
            "missing" => Ok(NoEligible::Missing),
            other => Err(format!(
                "no_eligible \"{other}\" is not one of \"not_deprived\", \"deprived\", \"missing\""
            )),
        }
    }
}

/// A parsed expression with its text, for error messages.
#[derive(Clone, Debug)]
pub struct Expression {
    pub text: String,
    pub expr: Expr,
}

impl Expression {
    /// Parses SQL expression text; the error shows the expression and what is wrong.
    pub fn parse(text: &str) -> Result<Expression, String> {
        if text.trim().is_empty() {
            return Err("the expression is empty".into());
        }
        let expr = polars::sql::sql_expr(text).map_err(|e| {
            let message = e.to_string();
            let message = message.trim_start_matches("SQLInterface:").trim();
            format!("cannot read the expression `{text}`: {message}")
        })?;
        Ok(Expression {
            text: text.to_string(),
            expr,
        })
    }

    /// The columns the expression reads.
    pub fn columns(&self) -> Vec<String> {
        let mut names: Vec<String> = self
            .expr
            .clone()
            .meta()
            .root_names()
            .into_iter()
            .map(|n| n.to_string())
            .collect();
        names.sort();
        names.dedup();
        names
    }
}

/// An indicator's rule.
#[derive(Clone, Debug)]
pub struct Rule {
    pub deprived: Expression,
    pub eligible: Option<Expression>,
    pub aggregate: Option<Aggregate>,
    pub no_eligible: NoEligible,
    pub min_observed: Option<f64>,
}

impl Rule {
    /// Every column the rule reads.
    pub fn columns(&self) -> Vec<String> {
        let mut c = self.deprived.columns();
        if let Some(e) = &self.eligible {
            c.extend(e.columns());
        }
        c.sort();
        c.dedup();
        c
    }

    /// The expression of each person's deprivation: per member, or aggregated over the
    /// household `household` when the rule has an `aggregate`.
    pub fn expr(&self, household: Option<&str>) -> PolarsResult<Expr> {
        let Some(aggregate) = self.aggregate else {
            return Ok(self.deprived.expr.clone());
        };
        let hh = household.expect("validated: aggregation needs a household column");
        let eligible = match &self.eligible {
            Some(e) => e.expr.clone().fill_null(lit(false)),
            None => lit(true),
        };
        let value = self.deprived.expr.clone();
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
        let enough = match self.min_observed {
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
        let none_eligible = match self.no_eligible {
            NoEligible::NotDeprived => lit(false),
            NoEligible::Deprived => lit(true),
            NoEligible::Missing => null(),
        };
        Ok(when(n_eligible.eq(lit(0.0)))
            .then(none_eligible)
            .otherwise(result))
    }
}
