//! Rules in polars: the engine's rules (SQL text, [`afmpi_core::rules`]) in, polars
//! expressions that give each person's deprivation (true, false or null) out.
//!
//! polars' SQL front end parses the text, so afmpi has no expression language of its
//! own: [`PolarsSql`] tells the engine which columns an expression reads (validation),
//! [`expression`] and [`deprivation`] build what polars evaluates. A rule aggregated over
//! the household becomes window expressions over the household id: counts of eligible,
//! observed and meeting members, decided by the engine's steps
//! ([`Rule::household_steps`]), which `afmpi sql` writes as SQL too.

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

/// The expression of each person's deprivation: per member, or — for a rule with an
/// `aggregate` — the household's, by the engine's steps ([`Rule::household_steps`]) over
/// window counts of the household `household`'s members.
pub fn deprivation(rule: &Rule, household: Option<&str>) -> PolarsResult<Expr> {
    let Some(steps) = rule.household_steps() else {
        return expression(&rule.deprived);
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
    let household = Household {
        eligible: count(eligible.clone())?,
        observed: count(observed.clone())?,
        meeting: count(eligible.and(value.clone().fill_null(lit(false))))?,
        // The mean of a numeric expression over the eligible members with data: part of
        // the expression only where a step compares it.
        mean: when(observed)
            .then(value.cast(DataType::Float64))
            .otherwise(lit(NULL).cast(DataType::Float64))
            .mean()
            .over([col(hh)])?,
    };
    // The first step that holds decides; a household no step decides is missing.
    let mut decided = null();
    for (condition, outcome) in steps.into_iter().rev() {
        decided = when(household.condition(condition))
            .then(household.value(outcome))
            .otherwise(decided);
    }
    Ok(decided)
}

/// A missing Boolean.
fn null() -> Expr {
    lit(NULL).cast(DataType::Boolean)
}

fn compare(a: Expr, op: Comparison, b: Expr) -> Expr {
    match op {
        Comparison::Lt => a.lt(b),
        Comparison::Le => a.lt_eq(b),
        Comparison::Gt => a.gt(b),
        Comparison::Ge => a.gt_eq(b),
    }
}

/// A household's counts of eligible, observed and meeting members, and the mean of the
/// observed members' values, on every member's row.
struct Household {
    eligible: Expr,
    observed: Expr,
    meeting: Expr,
    mean: Expr,
}

impl Household {
    fn condition(&self, condition: Condition) -> Expr {
        let positive = |e: Expr| e.gt(lit(0.0));
        match condition {
            Condition::NoneEligible => self.eligible.clone().eq(lit(0.0)),
            Condition::AnyMeeting => positive(self.meeting.clone()),
            Condition::AnyObservedNotMeeting => {
                positive(self.observed.clone() - self.meeting.clone())
            }
            Condition::EnoughObserved { min_observed } => {
                let some = positive(self.observed.clone());
                match min_observed {
                    Some(m) => {
                        some.and((self.observed.clone() / self.eligible.clone()).gt_eq(lit(m)))
                    }
                    None => some,
                }
            }
        }
    }

    /// A household's value.
    fn value(&self, value: Value) -> Expr {
        match value {
            Value::NotDeprived => lit(false),
            Value::Deprived => lit(true),
            Value::Missing => null(),
            Value::ShareMeeting { share, strict } => {
                let ratio = self.meeting.clone() / self.observed.clone();
                compare(
                    ratio,
                    if strict {
                        Comparison::Gt
                    } else {
                        Comparison::Ge
                    },
                    lit(share),
                )
            }
            Value::MeanCompares { op, value } => compare(self.mean.clone(), op, lit(value)),
        }
    }
}

/// Guarded evaluations under way: while there is one, the program's panic hook
/// (`main.rs`) stays quiet, since the panic becomes an error that names the rule.
static GUARDED: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);

/// Whether a guarded evaluation is under way ([`collect_guarded`]).
pub fn guarded_evaluation() -> bool {
    GUARDED.load(std::sync::atomic::Ordering::SeqCst) > 0
}

/// Evaluates a frame of the user's expressions. polars 0.55 panics on some expressions
/// instead of refusing them (`1 AND '%'`: a Boolean operator between a number and a
/// text), so the evaluation is caught, and such a panic is an error like any other.
pub fn collect_guarded(frame: LazyFrame) -> PolarsResult<DataFrame> {
    use std::sync::atomic::Ordering;
    GUARDED.fetch_add(1, Ordering::SeqCst);
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| frame.collect()));
    GUARDED.fetch_sub(1, Ordering::SeqCst);
    outcome.unwrap_or_else(|panic| {
        let message = (panic.downcast_ref::<String>().map(String::as_str))
            .or_else(|| panic.downcast_ref::<&str>().copied())
            .unwrap_or("no message");
        Err(PolarsError::ComputeError(
            format!("polars cannot evaluate it ({message}): check that each operator's operands are of the types it takes").into(),
        ))
    })
}
