//! Methodologies side by side, for `afmpi diff`: several methodology files' validated
//! methodologies in; their facts (unit, cutoffs, identification, dimensions) and their
//! indicators aligned by concept ([`afmpi_core::methodology::alignment`]) out, as text
//! for the terminal and as one long frame. No survey is read: this compares what the
//! methodologies say, not what they find (`afmpi compare` does that on a survey).

use std::fmt::Write as _;

use polars::prelude::{Column, DataFrame};

use crate::methodology::{Headline, Identification, Methodology, Unit};
use crate::output::truncate;
use afmpi_core::methodology::alignment::{align, deprivation_rule, Concept};

/// The facts of a methodology compared first: (what, value).
fn facts(m: &Methodology) -> Vec<(&'static str, String)> {
    let cutoffs: Vec<String> = m
        .cutoffs
        .iter()
        .map(|c| c.value.value.to_string())
        .collect();
    let headline = match m.headline {
        Headline::Cutoff(c) => format!("k = {}", m.cutoffs[c].value.value),
        Headline::Group(g) => m.groups[g].name.clone(),
    };
    let unit = match m.survey.unit.unwrap_or_default() {
        Unit::Person => "person",
        Unit::Household => "household",
    };
    let rule = match m.identification {
        Identification::AtLeast => "score >= k",
        Identification::Above => "score > k",
    };
    vec![
        ("title", m.title.clone()),
        ("unit", unit.to_string()),
        ("cutoffs", cutoffs.join(", ")),
        ("headline", headline),
        ("poor when", rule.to_string()),
        ("dimensions", m.dimensions.len().to_string()),
        ("indicators", m.indicators.len().to_string()),
    ]
}

/// An indicator as the tables show it: dimension, name, exact weight, weight in percent,
/// rule.
fn indicator(m: &Methodology, j: usize) -> (&str, &str, String, f64, String) {
    let ind = &m.indicators[j];
    (
        &m.dimensions[ind.dimension].name,
        &ind.name,
        ind.weight.value.to_string(),
        100.0 * ind.weight.to_f64(),
        deprivation_rule(&ind.source),
    )
}

/// The text for the terminal: the facts side by side, each concept with its indicators,
/// then what only one methodology measures.
pub fn summary(ms: &[&Methodology]) -> String {
    let concepts = align(ms);
    let mut s = facts_table(ms);
    let shared = concepts
        .iter()
        .filter(|c| c.methodologies().len() > 1)
        .count();
    let _ = writeln!(
        s,
        "concepts, by the variables their deprivations read: {} ({shared} measured by more than one)",
        concepts.len()
    );
    for c in concepts.iter().filter(|c| c.methodologies().len() > 1) {
        s.push_str(&concept_block(ms, c));
    }
    let _ = writeln!(s, "measured by one methodology only:");
    for (i, m) in ms.iter().enumerate() {
        let only: Vec<String> = (concepts.iter())
            .filter(|c| c.methodologies() == [i])
            .flat_map(|c| {
                c.members
                    .iter()
                    .map(|&(_, j)| format!("{} ({})", m.indicators[j].name, c.variables.join(", ")))
            })
            .collect();
        let list = if only.is_empty() {
            "nothing".to_string()
        } else {
            only.join("; ")
        };
        let _ = writeln!(s, "  {}: {list}", m.name);
    }
    s
}

fn facts_table(ms: &[&Methodology]) -> String {
    let width = 30;
    let line = |first: String, cells: Vec<String>| {
        let cells: String = cells
            .iter()
            .map(|c| format!(" {:<width$}", truncate(c, width)))
            .collect();
        format!("{first}{cells}").trim_end().to_string() + "\n"
    };
    let mut s = line(
        format!("{:<14}", "methodology"),
        ms.iter().map(|m| m.name.clone()).collect(),
    );
    let all: Vec<Vec<(&str, String)>> = ms.iter().map(|m| facts(m)).collect();
    for (row, (what, _)) in all[0].iter().enumerate() {
        s.push_str(&line(
            format!("  {what:<12}"),
            all.iter().map(|f| f[row].1.clone()).collect(),
        ));
    }
    s
}

/// A concept measured by several methodologies: its variables, then each indicator.
fn concept_block(ms: &[&Methodology], c: &Concept) -> String {
    let mut s = format!("  {}\n", c.variables.join(", "));
    for &(i, j) in &c.members {
        let (dimension, name, weight, pct, rule) = indicator(ms[i], j);
        let _ = writeln!(
            s,
            "    {:<18} {} / {}, weight {weight} ({pct:.2}%)\n      {rule}",
            truncate(&ms[i].name, 18),
            dimension,
            name
        );
    }
    s
}

/// The long frame: `table` = `methodology` (a fact: `key`, `value`) or `indicator` (its
/// concept, dimension, name, exact weight, weight in percent and rule), for every
/// methodology (`spec`).
pub fn frame(ms: &[&Methodology]) -> DataFrame {
    let mut table = Vec::new();
    let mut spec = Vec::new();
    let mut text: [Vec<Option<String>>; 7] = Default::default();
    let mut pct: Vec<Option<f64>> = Vec::new();
    let mut push = |t: &'static str, m: &Methodology, row: [Option<String>; 7], p: Option<f64>| {
        table.push(t);
        spec.push(m.name.clone());
        for (column, value) in text.iter_mut().zip(row) {
            column.push(value);
        }
        pct.push(p);
    };
    for m in ms {
        for (key, value) in facts(m) {
            push(
                "methodology",
                m,
                [Some(key.into()), Some(value), None, None, None, None, None],
                None,
            );
        }
    }
    for c in align(ms) {
        for &(i, j) in &c.members {
            let (dimension, name, weight, p, rule) = indicator(ms[i], j);
            let row = [
                None,
                None,
                Some(c.variables.join(", ")),
                Some(dimension.into()),
                Some(name.into()),
                Some(weight),
                Some(rule),
            ];
            push("indicator", ms[i], row, Some(p));
        }
    }
    let n = table.len();
    let names = [
        "key",
        "value",
        "concept",
        "dimension",
        "indicator",
        "weight",
        "rule",
    ];
    let mut columns = vec![
        Column::new("table".into(), table),
        Column::new("spec".into(), spec),
    ];
    for (name, values) in names.into_iter().zip(text) {
        columns.push(Column::new(name.into(), values));
        if name == "weight" {
            columns.push(Column::new("weight_pct".into(), std::mem::take(&mut pct)));
        }
    }
    DataFrame::new(n, columns).expect("columns of equal length")
}
