//! The query: a methodology and the survey settings in, the standard SQL that computes
//! the sufficient-statistics table in a database engine out. Rules go in as written;
//! household rules follow the engine's steps ([`Rule::household_steps`]).

use std::fmt::Write as _;

use afmpi_core::identification::IntegerWeights;
use afmpi_core::methodology::{Methodology, Source, SurveyColumns, GROUP_VARIABLES};

use super::{design_columns, ident};
use crate::error::{Error, Result};
use crate::rules::{Condition, Rule, Value};

/// The SQL query computing the sufficient-statistics table from the table `table`.
pub fn query(m: &Methodology, survey: &SurveyColumns, table: &str) -> Result<String> {
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
    let (select, mut keys) = person_columns(m, survey)?;
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
        s.push_str(&group_flags(m)?);
        keys.extend((0..m.groups.len()).map(|g| format!("f{g}")));
        from = "flagged";
    }
    let present: Vec<String> = keys
        .iter()
        .chain(std::iter::once(&"w".to_string()))
        .filter(|k| !k.starts_with('g'))
        .map(|k| format!("{k} IS NOT NULL"))
        .collect();
    let _ = writeln!(s, "SELECT {},", keys.join(", "));
    let _ = writeln!(
        s,
        "  SUM(w) AS weight, SUM(w * w) AS weight_sq, COUNT(*) AS persons"
    );
    let _ = writeln!(s, "FROM {from}");
    let _ = writeln!(s, "WHERE {}", present.join("\n  AND "));
    let _ = writeln!(s, "GROUP BY {}", keys.join(", "));
    Ok(s)
}

/// The persons' columns of the query's first step, and the keys of the table among them.
fn person_columns(m: &Methodology, survey: &SurveyColumns) -> Result<(Vec<String>, Vec<String>)> {
    let household = survey.household.as_deref();
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
        (Some(w), Some(size)) => format!("1.0 * {} * {}", ident(w), ident(size)),
        (Some(w), None) => format!("1.0 * {}", ident(w)),
        (None, Some(size)) => format!("1.0 * {}", ident(size)),
        (None, None) => "1.0".into(),
    };
    select.push(format!("    {weight} AS w"));
    for (j, ind) in m.indicators.iter().enumerate() {
        select.push(format!(
            "    {} AS d{j}",
            indicator_sql(&ind.source, household)?
        ));
        keys.push(format!("d{j}"));
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
fn group_flags(m: &Methodology) -> Result<String> {
    let mut s = String::new();
    // The score in exact integers over the common denominator, divided once: the same
    // float as afmpi's, so that a rule such as `score < 1/3` decides alike.
    let weights = IntegerWeights::new(m)?;
    if weights.denominator > (1i128 << 53) || weights.weights.iter().sum::<i128>() > (1i128 << 53) {
        return Err(Error::Usage("the weights are written too finely for the score to be exact in SQL: use simpler fractions".into()));
    }
    let terms: Vec<String> = weights
        .weights
        .iter()
        .enumerate()
        .map(|(j, w)| format!("{w} * d{j}"))
        .collect();
    let count: Vec<String> = (0..m.indicators.len()).map(|j| format!("d{j}")).collect();
    let _ = writeln!(
        s,
        ",\nscored AS (\n  SELECT *, 1.0 * ({}) / {} AS score, {} AS count\n  FROM persons\n)",
        terms.join(" + "),
        weights.denominator,
        count.join(" + ")
    );
    let flags: Vec<String> = m
        .groups
        .iter()
        .enumerate()
        .map(|(g, group)| {
            let r = format!("({})", group.rule.text);
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
fn indicator_sql(source: &Source, household: Option<&str>) -> Result<String> {
    Ok(match source {
        Source::Column(c) => format!(
            "CASE WHEN {c} = 1 THEN 1 WHEN {c} = 0 THEN 0 END",
            c = ident(c)
        ),
        Source::Rule(rule) => rule_sql(rule, household)?,
    })
}

/// A rule's 0/1 SQL expression: per person, or the household's by the engine's steps
/// ([`Rule::household_steps`]) over window sums of the household's members.
fn rule_sql(rule: &Rule, household: Option<&str>) -> Result<String> {
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
    let condition = |c: Condition| match c {
        Condition::NoneEligible => format!("{n_eligible} = 0"),
        Condition::AnyMeeting => format!("{n_meets} > 0"),
        Condition::AnyObservedNotMeeting => format!("{n_observed} - {n_meets} > 0"),
        Condition::EnoughObserved { min_observed } => match min_observed {
            Some(m) => format!("{n_observed} > 0 AND 1.0 * {n_observed} / {n_eligible} >= {m}"),
            None => format!("{n_observed} > 0"),
        },
    };
    let value = |v: Value| match v {
        Value::NotDeprived => "0".to_string(),
        Value::Deprived => "1".to_string(),
        Value::Missing => "NULL".to_string(),
        Value::ShareMeeting { share, strict } => {
            let op = if strict { ">" } else { ">=" };
            format!("CASE WHEN 1.0 * {n_meets} / {n_observed} {op} {share} THEN 1 ELSE 0 END")
        }
        Value::MeanCompares { op, value } => {
            let mean = format!("AVG(CASE WHEN {elig} THEN 1.0 * {r} END) {over}");
            format!("CASE WHEN {mean} {} {value} THEN 1 ELSE 0 END", op.symbol())
        }
    };
    let steps: Vec<String> = steps
        .into_iter()
        .map(|(c, v)| format!("WHEN {} THEN {}", condition(c), value(v)))
        .collect();
    Ok(format!("CASE {} END", steps.join(" ")))
}
