//! Rules: the text of an indicator's rule in the methodology file in, its validated parts
//! out: the expressions as text with the columns they read, and how the members' values
//! make the household's.
//!
//! A rule is an SQL boolean expression over the survey's columns (comparisons,
//! arithmetic, `IN (…)`, `BETWEEN`, `AND`/`OR`/`NOT`, `IS NULL`, `CASE`). The engine keeps
//! it as text: the reading layer parses and evaluates it with polars' SQL front end (and
//! `afmpi sql` hands it to a database engine), so afmpi has no expression language of
//! its own.
//!
//! A rule can be evaluated per member and aggregated to the household: `eligible` says
//! who it applies to, `aggregate` which pattern over the eligible members deprives the
//! household (any, all, none, or a share of them), `no_eligible` what a household without
//! eligible members gets, and `min_observed` the share of eligible members with data
//! below which the household's value is missing. Every member receives the household's
//! value. A null reached by a rule makes the indicator missing, and the row is then
//! handled like any row with a missing indicator.

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
                let value = crate::exact::Exact::parse(number.trim())
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
                let share = crate::exact::Exact::parse(number.trim())
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

/// An expression of the methodology file: its SQL text and the columns it reads. The
/// engine keeps rules as text; the reading layer evaluates them (see [`RuleLanguage`]).
#[derive(Clone, Debug, PartialEq)]
pub struct Expression {
    pub text: String,
    /// The columns the expression reads, sorted, each once.
    pub columns: Vec<String>,
}

/// The language rules are written in: what the engine needs of it is the columns an
/// expression reads, and an error that says what is wrong with one that cannot be read.
/// afmpi's reading layer implements it with polars' SQL front end, which also evaluates
/// the rules; the engine never holds an evaluated expression.
pub trait RuleLanguage {
    /// The columns `text` reads, or why it cannot be read.
    fn columns(&self, text: &str) -> Result<Vec<String>, String>;
}

impl Expression {
    /// Reads SQL expression text; the error shows the expression and what is wrong.
    pub fn parse(text: &str, language: &dyn RuleLanguage) -> Result<Expression, String> {
        if text.trim().is_empty() {
            return Err("the expression is empty".into());
        }
        let mut columns = language.columns(text)?;
        columns.sort();
        columns.dedup();
        Ok(Expression {
            text: text.to_string(),
            columns,
        })
    }

    /// The columns the expression reads.
    pub fn columns(&self) -> Vec<String> {
        self.columns.clone()
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
}

/// One step of a household's decision: when `condition` holds (and no earlier step's
/// did), the household's value is `value`.
pub type Step = (Condition, Value);

/// A fact about a household's eligible members, from three counts per household — the
/// eligible members, those of them with data (observed), and those the rule holds for
/// (meeting) — and the rule's `min_observed`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Condition {
    /// No member is eligible.
    NoneEligible,
    /// At least one eligible member meets the rule.
    AnyMeeting,
    /// At least one eligible member with data does not meet it.
    AnyObservedNotMeeting,
    /// Enough eligible members have data to decide: at least one, and at least the share
    /// `min_observed` of the eligible, when it is set.
    EnoughObserved { min_observed: Option<f64> },
}

/// What a household gets.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Value {
    NotDeprived,
    Deprived,
    Missing,
    /// Deprived when the share of the observed members meeting the rule reaches (or,
    /// `strict`, exceeds) `share`.
    ShareMeeting {
        share: f64,
        strict: bool,
    },
    /// Deprived when the mean of the rule's numeric expression over the observed members
    /// compares so with `value`.
    MeanCompares {
        op: Comparison,
        value: f64,
    },
}

impl Rule {
    /// How the household's value follows from its members', as steps tried in order
    /// (a household no step decides is missing); `None` for a rule of each person. This
    /// is the one description of the household semantics: polars evaluates it
    /// (afmpi's `rules::deprivation`) and `afmpi sql` writes it as SQL, so the two
    /// cannot drift apart.
    pub fn household_steps(&self) -> Option<Vec<Step>> {
        let aggregate = self.aggregate?;
        let none_eligible = match self.no_eligible {
            NoEligible::NotDeprived => Value::NotDeprived,
            NoEligible::Deprived => Value::Deprived,
            NoEligible::Missing => Value::Missing,
        };
        let enough = Condition::EnoughObserved {
            min_observed: self.min_observed,
        };
        let mut steps = vec![(Condition::NoneEligible, none_eligible)];
        steps.extend(match aggregate {
            Aggregate::Any => vec![
                (Condition::AnyMeeting, Value::Deprived),
                (enough, Value::NotDeprived),
            ],
            Aggregate::None => vec![
                (Condition::AnyMeeting, Value::NotDeprived),
                (enough, Value::Deprived),
            ],
            Aggregate::All => vec![
                (Condition::AnyObservedNotMeeting, Value::NotDeprived),
                (enough, Value::Deprived),
            ],
            Aggregate::Share { share, strict } => {
                vec![(enough, Value::ShareMeeting { share, strict })]
            }
            Aggregate::Mean { op, value } => vec![(enough, Value::MeanCompares { op, value })],
        });
        Some(steps)
    }
}

impl Comparison {
    /// The comparison as SQL (and polars' SQL) writes it.
    pub fn symbol(self) -> &'static str {
        match self {
            Comparison::Lt => "<",
            Comparison::Le => "<=",
            Comparison::Gt => ">",
            Comparison::Ge => ">=",
        }
    }
}

/// A stand-in for the SQL front end in the engine's own tests: the columns of an
/// expression are its words that are not SQL keywords, outside quoted strings.
#[cfg(test)]
pub(crate) struct Words;

#[cfg(test)]
impl RuleLanguage for Words {
    fn columns(&self, text: &str) -> Result<Vec<String>, String> {
        const KEYWORDS: [&str; 14] = [
            "and", "or", "not", "in", "is", "null", "between", "case", "when", "then", "else",
            "end", "true", "false",
        ];
        let mut columns = Vec::new();
        let mut quoted = false;
        let mut word = String::new();
        for ch in text.chars().chain([' ']) {
            if ch == '\'' {
                quoted = !quoted;
            }
            if !quoted && (ch.is_ascii_alphanumeric() || ch == '_') {
                word.push(ch);
                continue;
            }
            let starts_with_letter =
                word.starts_with(|c: char| c.is_ascii_alphabetic() || c == '_');
            if starts_with_letter && !KEYWORDS.contains(&word.to_ascii_lowercase().as_str()) {
                columns.push(word.clone());
            }
            word.clear();
        }
        Ok(columns)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rule(aggregate: Option<Aggregate>, no_eligible: NoEligible) -> Rule {
        let e = Expression::parse("x = 1", &Words).unwrap();
        Rule {
            deprived: e,
            eligible: None,
            aggregate,
            no_eligible,
            min_observed: Some(0.5),
        }
    }

    /// The household steps of each aggregate, as the methodology file documents them.
    #[test]
    fn each_aggregate_decides_in_its_steps() {
        use Condition::*;
        let enough = EnoughObserved {
            min_observed: Some(0.5),
        };
        assert_eq!(rule(None, NoEligible::NotDeprived).household_steps(), None);
        let steps = |a| {
            rule(Some(a), NoEligible::Missing)
                .household_steps()
                .unwrap()
        };
        assert_eq!(
            steps(Aggregate::Any),
            [
                (NoneEligible, Value::Missing),
                (AnyMeeting, Value::Deprived),
                (enough, Value::NotDeprived)
            ]
        );
        assert_eq!(
            steps(Aggregate::None),
            [
                (NoneEligible, Value::Missing),
                (AnyMeeting, Value::NotDeprived),
                (enough, Value::Deprived)
            ]
        );
        assert_eq!(
            steps(Aggregate::All),
            [
                (NoneEligible, Value::Missing),
                (AnyObservedNotMeeting, Value::NotDeprived),
                (enough, Value::Deprived)
            ]
        );
        let share = Aggregate::parse("share > 1/4").unwrap();
        assert_eq!(
            steps(share)[1],
            (
                enough,
                Value::ShareMeeting {
                    share: 0.25,
                    strict: true
                }
            )
        );
        let mean = Aggregate::parse("mean < 9").unwrap();
        assert_eq!(
            steps(mean)[1],
            (
                enough,
                Value::MeanCompares {
                    op: Comparison::Lt,
                    value: 9.0
                }
            )
        );
        let deprived = rule(Some(Aggregate::Any), NoEligible::Deprived);
        assert_eq!(
            deprived.household_steps().unwrap()[0],
            (NoneEligible, Value::Deprived)
        );
    }
}
