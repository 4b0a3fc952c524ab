//! The query: a methodology and the survey settings in, the standard SQL that computes
//! the sufficient-statistics table in a database engine out. Rules go in as written;
//! household rules follow the engine's steps ([`Rule::household_steps`]). Nothing is
//! left to an engine's own arithmetic: the score is an integer numerator and the rules'
//! comparisons of it are integer comparisons ([`exact_score_comparisons`]); ratios are
//! divided in doubles, never in the DECIMAL some engines use for `1.0 * x`. Nothing is
//! filtered either: persons with a missing value travel as NULL keys and invalid
//! indicator values as [`INVALID`], so that `run --from-table` counts, drops and refuses
//! them as `run` does.

use std::fmt::Write as _;

use afmpi_core::identification::IntegerWeights;
use afmpi_core::methodology::{Methodology, Source, SurveyColumns, GROUP_VARIABLES};

use super::{design_columns, ident};
use crate::error::{Error, Result};
use crate::rules::{Condition, Rule, Value};

/// The SQL engines whose types the query names (all else is standard SQL).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub enum Dialect {
    /// DuckDB, Spark SQL and polars: `DOUBLE`.
    #[default]
    Double,
    /// PostgreSQL and standard SQL: `DOUBLE PRECISION`.
    DoublePrecision,
}

impl Dialect {
    fn float(self) -> &'static str {
        match self {
            Dialect::Double => "DOUBLE",
            Dialect::DoublePrecision => "DOUBLE PRECISION",
        }
    }
}

/// The SQL query computing the sufficient-statistics table from the table `table`, for
/// DuckDB, Spark SQL and polars.
pub fn query(m: &Methodology, survey: &SurveyColumns, table: &str) -> Result<String> {
    query_in(m, survey, table, Dialect::Double)
}

/// The SQL query, its floating-point type named as `dialect` names it.
pub fn query_in(
    m: &Methodology,
    survey: &SurveyColumns,
    table: &str,
    dialect: Dialect,
) -> Result<String> {
    let names: Vec<usize> = (0..m.indicators.len()).collect();
    query_named(m, survey, table, dialect, &names)
}

/// The query, indicator j's column named `d{names[j]}`.
fn query_named(
    m: &Methodology,
    survey: &SurveyColumns,
    table: &str,
    dialect: Dialect,
    names: &[usize],
) -> Result<String> {
    let cardinal = m
        .indicators
        .iter()
        .any(|i| matches!(i.source, Source::Achievement { .. }));
    if cardinal && !m.alphas.is_empty() {
        return Err(crate::error::Error::Usage(
            "M1 and M2 of cardinal indicators are not in the SQL query yet: their gaps vary person by person; run `afmpi run` on the survey file, or leave `alphas` out for M0".into(),
        ));
    }
    if survey.unit == Some(crate::methodology::Unit::Household) {
        return Err(crate::error::Error::Usage(
            "unit = \"household\" is not in the SQL query yet: a household's rows are checked against each other and counted once by `afmpi run` on the survey file".into(),
        ));
    }
    let mut s = String::new();
    let _ = writeln!(
        s,
        "-- afmpi: sufficient-statistics table of methodology {} ({})",
        m.name, m.title
    );
    let _ = writeln!(
        s,
        "-- finish it with: afmpi run --from-table TABLE_FILE METHODOLOGY"
    );
    let _ = writeln!(s, "WITH persons AS (\n  SELECT");
    let (select, mut keys) = person_columns(m, survey, dialect, names)?;
    let _ = writeln!(s, "{}", select.join(",\n"));
    // Mapped names: the survey's own columns under the methodology's names.
    if m.columns.is_empty() {
        let _ = writeln!(s, "  FROM {table}\n)");
    } else {
        let renames: Vec<String> = m
            .columns
            .iter()
            .map(|(harmonized, own)| format!("{} AS {}", ident(own), ident(harmonized)))
            .collect();
        let _ = writeln!(
            s,
            "  FROM (SELECT *, {} FROM {table}) AS survey\n)",
            renames.join(", ")
        );
    }
    let mut from = "persons";
    if !m.groups.is_empty() {
        s.push_str(&group_flags(m, dialect, names)?);
        keys.extend((0..m.groups.len()).map(|g| format!("f{g}")));
        from = "flagged";
    }
    let _ = writeln!(s, "SELECT {},", keys.join(", "));
    let _ = writeln!(
        s,
        "  SUM(w) AS weight, SUM(w * w) AS weight_sq, COUNT(*) AS persons"
    );
    let _ = writeln!(s, "FROM {from}");
    let _ = writeln!(s, "GROUP BY {}", keys.join(", "));
    Ok(s)
}

/// The query for a survey whose columns are `available`: optional indicators absent
/// from it are dropped (their weight shared in their dimension) as `run` drops them,
/// and a column the methodology needs and the survey lacks is an error naming it.
pub fn query_for_survey(
    m: &Methodology,
    survey: &SurveyColumns,
    table: &str,
    dialect: Dialect,
    available: &[String],
    source: &std::path::Path,
) -> Result<(String, Vec<String>)> {
    let plan = crate::plan::plan(m, survey, source, available)?;
    let notes = plan
        .absent
        .iter()
        .map(|&j| format!("optional indicator `{}` is absent from the survey: dropped, its weight shared within its dimension", m.indicators[j].id))
        .collect();
    // The table names each indicator by its place in the whole methodology, so that
    // --from-table sees which optional ones the query left out.
    let names: Vec<usize> = (0..m.indicators.len())
        .filter(|j| !plan.absent.contains(j))
        .collect();
    Ok((
        query_named(&plan.effective, survey, table, dialect, &names)?,
        notes,
    ))
}

/// The persons' columns of the query's first step, and the keys of the table among them.
fn person_columns(
    m: &Methodology,
    survey: &SurveyColumns,
    dialect: Dialect,
    names: &[usize],
) -> Result<(Vec<String>, Vec<String>)> {
    let household = survey.household.as_deref();
    let float = dialect.float();
    let mut select = Vec::new();
    let mut keys = Vec::new();
    for (alias, column) in design_columns(survey) {
        select.push(format!("    {} AS {alias}", ident(column.as_str())));
        keys.push(alias.to_string());
    }
    for (g, column) in survey.over.iter().enumerate() {
        select.push(format!("    {} AS g{g}", ident(column)));
        keys.push(format!("g{g}"));
    }
    let weight = match (&survey.weight, &survey.household_size) {
        (Some(w), Some(size)) => format!("CAST({} AS {float}) * {}", ident(w), ident(size)),
        (Some(w), None) => format!("CAST({} AS {float})", ident(w)),
        (None, Some(size)) => format!("CAST({} AS {float})", ident(size)),
        (None, None) => format!("CAST(1 AS {float})"),
    };
    select.push(format!("    {weight} AS w"));
    // Whether the weight is missing: a key, so that --from-table counts those persons.
    select.push(format!(
        "    CASE WHEN {weight} IS NULL THEN 1 ELSE 0 END AS {WEIGHT_MISSING}"
    ));
    keys.push(WEIGHT_MISSING.to_string());
    let household_rules = m
        .indicators
        .iter()
        .any(|i| matches!(&i.source, Source::Rule(r) if r.aggregate.is_some()));
    if let (Some(hh), true) = (household, household_rules) {
        // A person without a household id belongs to no household: flagged, so that
        // --from-table drops and counts them (the window pools them, but they go).
        select.push(format!(
            "    CASE WHEN {} IS NULL THEN 1 ELSE 0 END AS {HOUSEHOLD_MISSING}",
            ident(hh)
        ));
        keys.push(HOUSEHOLD_MISSING.to_string());
    }
    for (j, ind) in m.indicators.iter().enumerate() {
        select.push(format!(
            "    {} AS d{}",
            indicator_sql(&ind.source, household, float)?,
            names[j]
        ));
        keys.push(format!("d{}", names[j]));
    }
    // Survey columns the groups' rules read.
    let mut carried: Vec<String> = Vec::new();
    for group in &m.groups {
        for c in group.rule.columns() {
            if !GROUP_VARIABLES.contains(&c.as_str()) && !carried.contains(&c) {
                select.push(format!("    {} AS {}", ident(&c), ident(&c)));
                carried.push(c);
            }
        }
    }
    Ok((select, keys))
}

/// The steps that score each person and flag the named groups: the score in exact
/// integers over the common denominator, divided once.
fn group_flags(m: &Methodology, dialect: Dialect, names: &[usize]) -> Result<String> {
    let mut s = String::new();
    // The score in exact integers over the common denominator (`score_num`): rules that
    // compare the score with a number compare integers, which no engine rounds. Other
    // uses see the score as the double afmpi computes: the integer divided once.
    let weights = IntegerWeights::new(m)?;
    if weights.denominator > (1i128 << 53) || weights.weights.iter().sum::<i128>() > (1i128 << 53) {
        return Err(Error::Usage("the weights are written too finely for the score to be exact in SQL: use simpler fractions".into()));
    }
    let terms: Vec<String> = weights
        .weights
        .iter()
        .enumerate()
        .map(|(j, w)| format!("{w} * COALESCE(d{}, 0)", names[j]))
        .collect();
    // A missing indicator counts 0 here, as in afmpi's profiles: the person is dropped
    // for the indicator, and counted against it only.
    let count: Vec<String> = names.iter().map(|j| format!("COALESCE(d{j}, 0)")).collect();
    let _ = writeln!(
        s,
        ",\nnumbered AS (\n  SELECT *, {} AS score_num, {} AS count\n  FROM persons\n),\nscored AS (\n  SELECT *, CAST(score_num AS {}) / {} AS score\n  FROM numbered\n)",
        terms.join(" + "),
        count.join(" + "),
        dialect.float(),
        weights.denominator,
    );
    let flags: Vec<String> = m
        .groups
        .iter()
        .enumerate()
        .map(|(g, group)| {
            let r = format!(
                "({})",
                exact_score_comparisons(&group.rule.text, weights.denominator)
            );
            format!("    CASE WHEN {r} THEN 1 WHEN NOT {r} THEN 0 END AS f{g}")
        })
        .collect();
    let _ = writeln!(
        s,
        ",\nflagged AS (\n  SELECT *,\n{}\n  FROM scored\n)",
        flags.join(",\n")
    );
    Ok(s)
}

/// The 0/1 SQL expression of an indicator for each person.
/// A ready column's value other than 0, 1 or missing is [`INVALID`], which --from-table
/// refuses (naming the indicator), as `run` refuses it.
fn indicator_sql(source: &Source, household: Option<&str>, float: &str) -> Result<String> {
    Ok(match source {
        Source::Column(c) => format!(
            "CASE WHEN {c} = 1 THEN 1 WHEN {c} = 0 THEN 0 WHEN {c} IS NULL THEN NULL ELSE {INVALID} END",
            c = ident(c)
        ),
        Source::Rule(rule) => rule_sql(rule, household, float)?,
        Source::Achievement { column, cutoff } => format!(
            "CASE WHEN {c} IS NULL THEN NULL WHEN {c} < {z} THEN 1 ELSE 0 END",
            c = ident(column),
            z = cutoff
        ),
    })
}

/// The value of an indicator column that is neither 0, 1 nor missing.
pub(crate) const INVALID: i32 = -1;
/// The key column that is 1 for persons without a weight.
pub(crate) const WEIGHT_MISSING: &str = "w_missing";
/// The key column that is 1 for persons without a household id (under household rules).
pub(crate) const HOUSEHOLD_MISSING: &str = "hh_missing";

/// A rule's comparisons of the score with a number (`score >= 0.2`, `1/3 > score`)
/// rewritten as comparisons of integers: the score's numerator over `denominator`
/// against the number times the denominator, cross-multiplied when that is a fraction.
pub(crate) fn exact_score_comparisons(text: &str, denominator: i128) -> String {
    use std::sync::OnceLock;
    static FORWARD: OnceLock<regex::Regex> = OnceLock::new();
    static BACKWARD: OnceLock<regex::Regex> = OnceLock::new();
    const NUMBER: &str = r"([0-9]+(?:\.[0-9]+)?(?:\s*/\s*[0-9]+(?:\.[0-9]+)?)?)";
    const OP: &str = r"(<=|>=|<>|!=|=|<|>)";
    let forward = FORWARD.get_or_init(|| {
        regex::Regex::new(&format!(r"(?i)\bscore\s*{OP}\s*{NUMBER}")).expect("a valid pattern")
    });
    let backward = BACKWARD.get_or_init(|| {
        regex::Regex::new(&format!(r"(?i)\b{NUMBER}\s*{OP}\s*score\b")).expect("a valid pattern")
    });
    // The number times the denominator as p/q; None when it does not fit.
    let scaled = |number: &str| -> Option<(i128, i128)> {
        let exact = afmpi_core::exact::Exact::parse(number).ok()?.value;
        let x = num_traits::CheckedMul::checked_mul(
            &exact,
            &num_rational::Ratio::from_integer(denominator),
        )?;
        Some((*x.numer(), *x.denom()))
    };
    let side = |q: i128| {
        if q == 1 {
            "score_num".to_string()
        } else {
            format!("score_num * {q}")
        }
    };
    let text = forward.replace_all(text, |c: &regex::Captures| match scaled(&c[2]) {
        Some((p, q)) => format!("{} {} {p}", side(q), &c[1]),
        None => c[0].to_string(),
    });
    backward
        .replace_all(&text, |c: &regex::Captures| match scaled(&c[1]) {
            Some((p, q)) => format!("{p} {} {}", &c[2], side(q)),
            None => c[0].to_string(),
        })
        .into_owned()
}

/// A rule's 0/1 SQL expression: per person, or the household's by the engine's steps
/// ([`Rule::household_steps`]) over window sums of the household's members.
fn rule_sql(rule: &Rule, household: Option<&str>, float: &str) -> Result<String> {
    let r = format!("({})", rule.deprived.text);
    let Some(steps) = rule.household_steps() else {
        return Ok(format!("CASE WHEN {r} THEN 1 WHEN NOT {r} THEN 0 END"));
    };
    let hh = ident(
        household.ok_or_else(|| Error::Usage("aggregated rules need survey.household".into()))?,
    );
    let elig = rule
        .eligible
        .as_ref()
        .map(|e| format!("COALESCE(({}), FALSE)", e.text))
        .unwrap_or_else(|| "TRUE".into());
    let over = format!("OVER (PARTITION BY {hh})");
    let n_eligible = format!("SUM(CASE WHEN {elig} THEN 1 ELSE 0 END) {over}");
    let n_observed = format!("SUM(CASE WHEN {elig} AND {r} IS NOT NULL THEN 1 ELSE 0 END) {over}");
    let n_meets = format!("SUM(CASE WHEN {elig} AND {r} THEN 1 ELSE 0 END) {over}");
    let condition = |c: Condition| {
        match c {
        Condition::NoneEligible => format!("{n_eligible} = 0"),
        Condition::AnyMeeting => format!("{n_meets} > 0"),
        Condition::AnyObservedNotMeeting => format!("{n_observed} - {n_meets} > 0"),
        Condition::EnoughObserved { min_observed } => match min_observed {
            Some(m) => format!("{n_observed} > 0 AND CAST({n_observed} AS {float}) / {n_eligible} >= CAST({m:?} AS {float})"),
            None => format!("{n_observed} > 0"),
        },
    }
    };
    let value = |v: Value| match v {
        Value::NotDeprived => "0".to_string(),
        Value::Deprived => "1".to_string(),
        Value::Missing => "NULL".to_string(),
        Value::ShareMeeting { share, strict } => {
            let op = if strict { ">" } else { ">=" };
            format!("CASE WHEN CAST({n_meets} AS {float}) / {n_observed} {op} CAST({share:?} AS {float}) THEN 1 ELSE 0 END")
        }
        Value::MeanCompares { op, value } => {
            let mean = format!("AVG(CASE WHEN {elig} THEN CAST({r} AS {float}) END) {over}");
            format!(
                "CASE WHEN {mean} {} CAST({value:?} AS {float}) THEN 1 ELSE 0 END",
                op.symbol()
            )
        }
    };
    let steps: Vec<String> = steps
        .into_iter()
        .map(|(c, v)| format!("WHEN {} THEN {}", condition(c), value(v)))
        .collect();
    Ok(format!("CASE {} END", steps.join(" ")))
}

#[cfg(test)]
mod tests {
    use super::exact_score_comparisons;

    #[test]
    fn score_comparisons_become_integer_comparisons() {
        // Over a denominator of 90: 0.2 is 18/90, 1/3 is 30/90, 0.5 is 45/90.
        assert_eq!(
            exact_score_comparisons("score >= 0.2 AND score < 1/3", 90),
            "score_num >= 18 AND score_num < 30"
        );
        assert_eq!(
            exact_score_comparisons("1/3 <= score", 90),
            "30 <= score_num"
        );
        // 0.25 of 90 is 45/2: cross-multiplied.
        assert_eq!(
            exact_score_comparisons("score > 0.25", 90),
            "score_num * 2 > 45"
        );
        // Other uses of the score, and other names, are left as written.
        assert_eq!(
            exact_score_comparisons("score * 2 > 1", 90),
            "score * 2 > 1"
        );
        assert_eq!(
            exact_score_comparisons("myscore >= 0.5", 90),
            "myscore >= 0.5"
        );
        assert_eq!(exact_score_comparisons("count >= 3", 90), "count >= 3");
    }
}
