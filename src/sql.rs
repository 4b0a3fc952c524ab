//! SQL: a methodology in, the standard SQL query that computes the sufficient-statistics
//! table from a survey table out; and such a table, written by any engine, back in as the
//! tally's [`Table`], from which `run --from-table` finishes every estimate.
//!
//! The table is a GROUP BY (see [`crate::tally`]), so a survey too large for one machine
//! can be tallied where it lives — DuckDB, Spark SQL, PostgreSQL — and only the small
//! table travels. The rules of the methodology are SQL expressions already and go into
//! the query as written; household aggregation becomes window sums over the household
//! id. The query keeps one column per indicator (`d0`, `d1`, … as 0/1), the design and
//! subgroup columns, one 0/1 column per named group (`f0`, … from the score computed in
//! exact integers), and `weight`, `weight_sq` and `persons` per cell; rows with a missing
//! value are left out by its WHERE clause, as `run` drops them.

use std::fmt::Write as _;
use std::path::Path;

use polars::prelude::*;

use crate::error::{Error, Result};
use crate::methodology::{Methodology, Source, SurveyColumns};
use crate::read::{read, ColumnRequest};
use crate::rules::{Condition, Rule, Value};
use crate::tally::{Cell, Table};
use afmpi_core::sample::codes::sort_labels;
use afmpi_core::sample::{DataReport, Grouping, Round, Sample, MISSING};

/// An identifier as SQL accepts it everywhere: bare when simple, else double-quoted.
fn ident(name: &str) -> String {
    let simple = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if simple {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
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

/// The columns of the table, beside `d0…` and the sums.
fn design_columns(survey: &SurveyColumns) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if let Some(t) = &survey.round {
        out.push(("t", t.clone()));
    }
    if let Some(y) = &survey.year {
        out.push(("year", y.clone()));
    }
    if let Some(h) = &survey.strata {
        out.push(("stratum", h.clone()));
    }
    if let Some(c) = &survey.psu {
        out.push(("psu", c.clone()));
    }
    out
}

/// The SQL query computing the sufficient-statistics table from the table `table`.
pub fn query(m: &Methodology, survey: &SurveyColumns, table: &str) -> Result<String> {
    let household = survey.household.as_deref();
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
            if !crate::methodology::GROUP_VARIABLES.contains(&c.as_str()) && !carried.contains(&c) {
                select.push(format!("    {} AS {}", ident(&c), ident(&c)));
                carried.push(c);
            }
        }
    }
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
        // The score in exact integers over the common denominator, divided once: the same
        // float as afmpi's, so that a rule such as `score < 1/3` decides alike.
        let weights = crate::methodology::IntegerWeights::new(m)?;
        if weights.denominator > (1i128 << 53)
            || weights.weights.iter().sum::<i128>() > (1i128 << 53)
        {
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

/// Reads a table written by the query (CSV or Parquet) into the tally's [`Table`], with
/// the sample's labels (rounds, strata, PSUs, subgroup levels) and a report.
pub fn read_table(
    path: &Path,
    m: &Methodology,
    survey: &SurveyColumns,
) -> Result<(Sample, Table, DataReport)> {
    let design = design_columns(survey);
    let mut request = ColumnRequest::default();
    for (alias, _) in &design {
        if *alias == "year" {
            request.numeric.push(alias.to_string());
        } else {
            request.labelled.push(alias.to_string());
        }
    }
    for g in 0..survey.over.len() {
        request.labelled.push(format!("g{g}"));
    }
    for j in 0..m.indicators.len() {
        request.numeric.push(format!("d{j}"));
    }
    for g in 0..m.groups.len() {
        request.numeric.push(format!("f{g}"));
    }
    request
        .numeric
        .extend(["weight", "weight_sq", "persons"].map(String::from));
    let available = crate::read::column_names(path)?;
    let needed: Vec<(String, String)> = request
        .numeric
        .iter()
        .chain(&request.labelled)
        .map(|c| ("the table of `afmpi sql`".to_string(), c.clone()))
        .collect();
    crate::read::check_columns(path, &available, &needed)?;
    let df = read(path, &request)?;
    let n = df.height();
    let text = |name: &str| -> Result<Vec<Option<String>>> {
        let c = df
            .column(name)
            .map_err(|e| Error::input(path, e.to_string()))?;
        let c = c
            .cast(&DataType::String)
            .map_err(|e| Error::input(path, e.to_string()))?;
        Ok(c.str()
            .expect("string")
            .iter()
            .map(|v| v.map(str::to_string))
            .collect())
    };
    let number = |name: &str| -> Result<Vec<f64>> {
        let c = df
            .column(name)
            .map_err(|e| Error::input(path, e.to_string()))?;
        let c = c
            .cast(&DataType::Float64)
            .map_err(|e| Error::input(path, e.to_string()))?;
        c.f64()
            .expect("float")
            .iter()
            .enumerate()
            .map(|(i, v)| {
                v.ok_or_else(|| {
                    Error::data(
                        path,
                        name,
                        Some(i + 1),
                        "is empty: the table holds no missing values",
                    )
                })
            })
            .collect()
    };
    let codes = |values: &[Option<String>]| -> (Vec<u32>, Vec<String>) {
        let mut labels: Vec<String> = values.iter().flatten().cloned().collect();
        labels.sort();
        labels.dedup();
        sort_labels(&mut labels);
        let index: std::collections::HashMap<&str, u32> = labels
            .iter()
            .enumerate()
            .map(|(i, l)| (l.as_str(), i as u32))
            .collect();
        (
            values
                .iter()
                .map(|v| v.as_deref().map_or(MISSING, |v| index[v]))
                .collect(),
            labels,
        )
    };
    let (rounds, round_labels) = match &survey.round {
        Some(_) => codes(&text("t")?),
        None => (vec![0; n], vec![String::new()]),
    };
    let years = match &survey.year {
        Some(_) => Some(number("year")?),
        None => None,
    };
    let mut round_info: Vec<Round> = round_labels
        .iter()
        .map(|l| Round {
            label: l.clone(),
            year: None,
        })
        .collect();
    if let Some(y) = &years {
        for (r, y) in rounds.iter().zip(y) {
            round_info[*r as usize].year = Some(*y);
        }
    }
    let (strata, stratum_labels) = match &survey.strata {
        Some(_) => codes(&text("stratum")?),
        None => (vec![0; n], vec!["1".into()]),
    };
    let (psus, psu_labels) = match &survey.psu {
        Some(_) => codes(&text("psu")?),
        None => (vec![0; n], Vec::new()),
    };
    let mut groupings = Vec::new();
    for (g, column) in survey.over.iter().enumerate() {
        let (codes, levels) = codes(&text(&format!("g{g}"))?);
        groupings.push(Grouping {
            column: column.clone(),
            levels,
            codes,
        });
    }
    let radices = crate::tally::radices(&groupings);
    let mut flags = vec![0u32; n];
    for g in 0..m.groups.len() {
        for (f, v) in flags.iter_mut().zip(number(&format!("f{g}"))?) {
            if v == 1.0 {
                *f |= 1 << g;
            }
        }
    }
    let mut profiles = vec![0u64; n];
    for j in 0..m.indicators.len() {
        for (p, v) in profiles.iter_mut().zip(number(&format!("d{j}"))?) {
            if v == 1.0 {
                *p |= 1 << j;
            }
        }
    }
    let (weight, weight_sq, persons) =
        (number("weight")?, number("weight_sq")?, number("persons")?);
    let cells: Vec<Cell> = (0..n)
        .map(|i| {
            let levels = crate::tally::pack_levels(groupings.iter().map(|g| g.codes[i]), &radices);
            Cell {
                round: rounds[i],
                stratum: strata[i],
                psu: psus[i],
                levels,
                profile: profiles[i],
                flags: flags[i],
                weight: weight[i],
                weight_sq: weight_sq[i],
                count: persons[i] as u64,
            }
        })
        .collect();
    let used = persons.iter().sum::<f64>() as usize;
    let report = DataReport {
        file: path.to_path_buf(),
        rows_read: used,
        rows_used: used,
        missing: Vec::new(),
        unassigned: Vec::new(),
        notes: vec![format!(
            "a table of {} cells made by `afmpi sql`: it counts the persons used; rows its query left out for missing values are not counted here",
            crate::output::count(n)
        )],
    };
    let sample = Sample::from_labels(
        stratum_labels,
        psu_labels,
        round_info,
        groupings,
        survey.round.is_some(),
        survey.psu.is_none(),
    );
    Ok((sample, Table::new(cells, radices), report))
}
