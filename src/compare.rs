//! Comparison: several analyses of one survey in (one per methodology), what a ministry
//! asks when it weighs one methodology against another out — each methodology's H, A
//! and M0 with their standard errors and intervals side by side, nationally and by
//! subgroup; how far the sets of poor persons overlap; and whether the methodologies rank
//! the subgroups alike (Kendall's tau-b and Spearman's rho).
//!
//! Every estimate and interval comes from each analysis as `afmpi run` computes it; this
//! module only lines the runs up: the statistics are the engine's
//! ([`afmpi_core::comparison`]), the frame and the text are here. Persons are matched by their row in the file, so the
//! overlap counts the persons that both methodologies could classify.

use std::fmt::Write as _;

use polars::prelude::*;

pub use afmpi_core::comparison::*;
use afmpi_core::measures::Measure;
use afmpi_core::Analysis;

use crate::output::{count, finite, truncate};

fn spec<'c>(c: &'c Comparison, i: usize) -> &'c str {
    &c.analyses[i].methodology.name
}

fn round_label<'c>(c: &'c Comparison, round: u32) -> Option<&'c str> {
    c.analyses[0].sample.round_t(round)
}

/// One long frame: `table` says which part a row belongs to (estimate, overlap, rank).
pub fn frame(c: &Comparison) -> DataFrame {
    let mut rows = estimate_rows(c);
    rows.extend(pair_rows(c));
    rows.extend(difference_rows(c));
    rows_frame(&rows)
}

/// Each methodology's headline H, A and M0 in every domain.
fn estimate_rows(c: &Comparison) -> Vec<Row> {
    let mut rows = Vec::new();
    for a in c.analyses {
        for round in 0..a.sample.round_info.len() as u32 {
            let t = a.sample.round_t(round).map(str::to_string);
            let mut domains = vec![(None, "nat".to_string(), "nat".to_string())];
            for (g, grouping) in a.sample.groupings.iter().enumerate() {
                for (l, label) in grouping.levels.iter().enumerate() {
                    domains.push((Some((g, l as u32)), grouping.column.clone(), label.clone()));
                }
            }
            for (subgroup, loa, subg) in domains {
                for m in [Measure::M0, Measure::H, Measure::A] {
                    let Some((value, p)) = headline_estimate(a, m, subgroup, round) else {
                        continue;
                    };
                    rows.push(Row {
                        table: "estimate",
                        spec: a.methodology.name.clone(),
                        spec2: None,
                        identification: Some(headline_label(a)),
                        measure: m.name().to_string(),
                        loa: loa.clone(),
                        subg: Some(subg.clone()),
                        t: t.clone(),
                        values: [finite(value), finite(p.se), finite(p.ll), finite(p.ul)],
                    });
                }
            }
        }
    }
    rows
}

/// The overlaps of the poor and the rank agreements, pair by pair.
fn pair_rows(c: &Comparison) -> Vec<Row> {
    let mut rows = Vec::new();
    let pair = |table: &'static str,
                first: usize,
                second: usize,
                measure: &str,
                loa: String,
                subg: Option<String>,
                round: u32,
                value: f64| Row {
        table,
        spec: spec(c, first).to_string(),
        spec2: Some(spec(c, second).to_string()),
        identification: None,
        measure: measure.to_string(),
        loa,
        subg,
        t: round_label(c, round).map(str::to_string),
        values: [finite(value), None, None, None],
    };
    for o in &c.overlaps {
        for (name, value) in [
            ("poor_both", o.both),
            ("poor_only_first", o.only_first),
            ("poor_only_second", o.only_second),
            ("poor_neither", o.neither),
        ] {
            rows.push(pair(
                "overlap",
                o.first,
                o.second,
                name,
                "nat".into(),
                Some("nat".into()),
                o.round,
                value,
            ));
        }
    }
    for r in &c.ranks {
        let column = c.analyses[r.first].sample.groupings[r.grouping]
            .column
            .clone();
        for (name, value) in [
            ("kendall_tau_b", r.kendall_tau_b),
            ("spearman_rho", r.spearman_rho),
        ] {
            rows.push(pair(
                "rank",
                r.first,
                r.second,
                name,
                column.clone(),
                None,
                r.round,
                value,
            ));
        }
    }
    rows
}

/// Each pair's paired differences (first − second) of M0 and H, domain by domain.
fn difference_rows(c: &Comparison) -> Vec<Row> {
    c.differences
        .iter()
        .map(|d| {
            let (loa, subg) = domain_labels(&c.analyses[d.first], d.domain.subgroup);
            let p = &d.precision;
            Row {
                table: "difference",
                spec: spec(c, d.first).to_string(),
                spec2: Some(spec(c, d.second).to_string()),
                identification: None,
                measure: d.measure.name().to_string(),
                loa,
                subg: Some(subg),
                t: round_label(c, d.domain.round).map(str::to_string),
                values: [finite(d.b), finite(p.se), finite(p.ll), finite(p.ul)],
            }
        })
        .collect()
}

/// A domain's level of analysis and level, as in the results (`nat`, `nat` nationally).
pub(crate) fn domain_labels(a: &Analysis, subgroup: Option<(usize, u32)>) -> (String, String) {
    match subgroup {
        None => ("nat".into(), "nat".into()),
        Some((g, l)) => {
            let grouping = &a.sample.groupings[g];
            (grouping.column.clone(), grouping.levels[l as usize].clone())
        }
    }
}

/// The rows as a frame.
fn rows_frame(rows: &[Row]) -> DataFrame {
    let n = rows.len();
    let value = |k: usize| rows.iter().map(|r| r.values[k]).collect::<Vec<_>>();
    DataFrame::new(
        n,
        vec![
            Column::new(
                "table".into(),
                rows.iter().map(|r| r.table).collect::<Vec<_>>(),
            ),
            Column::new(
                "spec".into(),
                rows.iter().map(|r| r.spec.as_str()).collect::<Vec<_>>(),
            ),
            Column::new(
                "spec2".into(),
                rows.iter().map(|r| r.spec2.as_deref()).collect::<Vec<_>>(),
            ),
            Column::new(
                "identification".into(),
                rows.iter()
                    .map(|r| r.identification.as_deref())
                    .collect::<Vec<_>>(),
            ),
            Column::new(
                "measure".into(),
                rows.iter().map(|r| r.measure.as_str()).collect::<Vec<_>>(),
            ),
            Column::new(
                "loa".into(),
                rows.iter().map(|r| r.loa.as_str()).collect::<Vec<_>>(),
            ),
            Column::new(
                "subg".into(),
                rows.iter().map(|r| r.subg.as_deref()).collect::<Vec<_>>(),
            ),
            Column::new(
                "t".into(),
                rows.iter().map(|r| r.t.as_deref()).collect::<Vec<_>>(),
            ),
            Column::new("b".into(), value(0)),
            Column::new("se".into(), value(1)),
            Column::new("ll".into(), value(2)),
            Column::new("ul".into(), value(3)),
        ],
    )
    .expect("columns of equal length")
}

/// The tables for the terminal.
pub fn summary(c: &Comparison) -> String {
    let mut s = String::new();
    let a0 = &c.analyses[0];
    let width = 26;
    let _ = writeln!(s, "methodologies (headline identification):");
    for a in c.analyses {
        let _ = writeln!(
            s,
            "  {:<24} {:<22} rows used {}",
            a.methodology.name,
            headline_label(a),
            count(a.report.rows_used)
        );
    }
    for round in 0..a0.sample.round_info.len() as u32 {
        s.push_str(&m0_by_domain(c, round, width));
    }
    if !c.overlaps.is_empty() {
        let _ = writeln!(
            s,
            "overlap of the poor (shares of the persons both classify)"
        );
        let _ = writeln!(
            s,
            "  {:<44}{:>8}{:>12}{:>13}{:>9}",
            "pair", "both", "only first", "only second", "neither"
        );
        for o in &c.overlaps {
            let round = round_label(c, o.round)
                .map(|l| format!(" (t {l})"))
                .unwrap_or_default();
            let _ = writeln!(
                s,
                "  {:<44}{:>8.3}{:>12.3}{:>13.3}{:>9.3}",
                format!("{} vs {}{round}", spec(c, o.first), spec(c, o.second)),
                o.both,
                o.only_first,
                o.only_second,
                o.neither
            );
        }
    }
    if !c.ranks.is_empty() {
        let _ = writeln!(s, "rank agreement of the subgroups' M0");
        let _ = writeln!(
            s,
            "  {:<44}{:<12}{:>8}{:>10}{:>8}",
            "pair", "subgroups", "tau-b", "rho", "levels"
        );
        for r in &c.ranks {
            let round = round_label(c, r.round)
                .map(|l| format!(" (t {l})"))
                .unwrap_or_default();
            let _ = writeln!(
                s,
                "  {:<44}{:<12}{:>8.3}{:>10.3}{:>8}",
                format!("{} vs {}{round}", spec(c, r.first), spec(c, r.second)),
                c.analyses[r.first].sample.groupings[r.grouping].column,
                r.kendall_tau_b,
                r.spearman_rho,
                r.levels
            );
        }
    }
    s.push_str(&national_differences(c));
    s
}

/// The national paired differences, and how many of every domain's are significant.
fn national_differences(c: &Comparison) -> String {
    let mut s = String::new();
    if c.differences.is_empty() {
        return s;
    }
    let _ = writeln!(
        s,
        "paired differences (first − second, the same persons and PSUs; Wald intervals)"
    );
    let _ = writeln!(
        s,
        "  {:<44}{:<4}{:>10}{:>10}  {:>21}",
        "pair", "", "estimate", "se", "interval"
    );
    for d in c.differences.iter().filter(|d| d.domain.subgroup.is_none()) {
        let round = round_label(c, d.domain.round)
            .map(|l| format!(" (t {l})"))
            .unwrap_or_default();
        let p = &d.precision;
        let _ = writeln!(
            s,
            "  {:<44}{:<4}{:>10.5}{:>10.5}  {:>21}  {}",
            format!("{} − {}{round}", spec(c, d.first), spec(c, d.second)),
            d.measure.name(),
            d.b,
            p.se,
            format!("[{:.5}, {:.5}]", p.ll, p.ul),
            if d.significant() { "significant" } else { "" }
        );
    }
    let subgroups: Vec<_> = (c.differences.iter())
        .filter(|d| d.domain.subgroup.is_some())
        .collect();
    if !subgroups.is_empty() {
        let significant = subgroups.iter().filter(|d| d.significant()).count();
        let _ = writeln!(
            s,
            "  in the subgroups: {} of {} differences significant (all in the results file, table `difference`)",
            count(significant),
            count(subgroups.len())
        );
    }
    s
}

/// M0 with its interval under each methodology, domain by domain, in one round.
fn m0_by_domain(c: &Comparison, round: u32, width: usize) -> String {
    let mut s = String::new();
    let a0 = &c.analyses[0];
    let label = round_label(c, round)
        .map(|l| format!(", round {l}"))
        .unwrap_or_default();
    let _ = writeln!(s, "M0 [95% interval as run] by domain{label}");
    let mut header = format!("  {:<24}", "domain");
    for a in c.analyses {
        let _ = write!(
            header,
            "{:>width$}",
            truncate(&a.methodology.name, width - 2)
        );
    }
    let _ = writeln!(s, "{header}");
    let mut domains = vec![(None, "national".to_string())];
    for (g, grouping) in a0.sample.groupings.iter().enumerate() {
        for (l, level) in grouping.levels.iter().enumerate() {
            domains.push((
                Some((g, l as u32, grouping.column.clone(), level.clone())),
                format!("{}: {}", grouping.column, level),
            ));
        }
    }
    // Each analysis's subgroup levels by column and label, looked up, not searched.
    let levels: Vec<LevelsByLabel> = c.analyses.iter().map(levels_by_label).collect();
    for (domain, name) in domains {
        let mut line = format!("  {:<24}", truncate(&name, 23));
        for (a, levels) in c.analyses.iter().zip(&levels) {
            let subgroup = match &domain {
                None => None,
                Some((_, _, column, level)) => {
                    levels.get(&(column.as_str(), level.as_str())).copied()
                }
            };
            let cell = if domain.is_some() && subgroup.is_none() {
                "-".to_string()
            } else {
                match headline_estimate(a, Measure::M0, subgroup, round) {
                    Some((b, p)) if b.is_finite() => {
                        format!("{b:.3} [{:.3}, {:.3}]", p.ll, p.ul)
                    }
                    _ => "-".to_string(),
                }
            };
            let _ = write!(line, "{cell:>width$}");
        }
        let _ = writeln!(s, "{line}");
    }
    s
}

/// An analysis's subgroup levels, (column index, level), by (column, label).
type LevelsByLabel<'a> = rustc_hash::FxHashMap<(&'a str, &'a str), (usize, u32)>;

fn levels_by_label(a: &Analysis) -> LevelsByLabel<'_> {
    a.sample
        .groupings
        .iter()
        .enumerate()
        .flat_map(|(g, grouping)| {
            grouping
                .levels
                .iter()
                .enumerate()
                .map(move |(l, level)| ((grouping.column.as_str(), level.as_str()), (g, l as u32)))
        })
        .collect()
}

/// One row of the comparison frame.
struct Row {
    table: &'static str,
    spec: String,
    spec2: Option<String>,
    identification: Option<String>,
    measure: String,
    loa: String,
    subg: Option<String>,
    t: Option<String>,
    /// b, se, ll, ul.
    values: [Option<f64>; 4],
}
