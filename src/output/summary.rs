//! The terminal summary: what a run read, used and dropped (the data report), the
//! design, the national H, A and M0 with their precision, the national changes, and the
//! methodology in words (`afmpi check`).

use std::fmt::Write as _;
use std::path::Path;

use afmpi_core::sample::codes::number_label;
use afmpi_core::sample::DataReport;

use crate::inference::{Change, ChangeType, Interval, LonelyPsu, Settings};
use crate::measures::Measure;
use crate::methodology::{Identification, Methodology};
use crate::Analysis;

/// Thousands separators for counts read by people.
/// At most `n` characters of `s`, the last an ellipsis when it is cut: for the
/// terminal's tables.
pub fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n - 1).chain(['…']).collect()
    }
}

pub fn count(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The first lines of a run's summary: the methodology, the data, the methodology's
/// notes.
pub fn run_header(m: &Methodology, data: &Path) -> String {
    let mut s = String::new();
    let title = if m.title.is_empty() {
        String::new()
    } else {
        format!(" ({})", m.title)
    };
    let _ = writeln!(s, "afmpi run: {}{} on {}", m.name, title, data.display());
    for note in &m.notes {
        let _ = writeln!(s, "  note: {note}");
    }
    s
}

/// The data part of the terminal summary: rows read, used, dropped and why.
pub fn data_summary(report: &DataReport) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "rows: {} read, {} used, {} dropped",
        count(report.rows_read),
        count(report.rows_used),
        count(report.rows_dropped())
    );
    if let Some(h) = report.households {
        let _ = writeln!(
            s,
            "unit: households ({} households from the {} rows used, each counted once)",
            count(h),
            count(report.rows_used)
        );
    }
    if !report.missing.is_empty() {
        let parts: Vec<String> = report
            .missing
            .iter()
            .map(|(c, k)| format!("{c} {}", count(*k)))
            .collect();
        let _ = writeln!(
            s,
            "  dropped for a missing value in: {} (a row can miss several)",
            parts.join(", ")
        );
    }
    for (column, k) in &report.unassigned {
        let _ = writeln!(
            s,
            "  note: {} rows have no value of `{column}`: they count nationally but in none of its subgroups",
            count(*k)
        );
    }
    for note in &report.notes {
        let _ = writeln!(s, "  note: {note}");
    }
    s
}

/// National H, A and M0 per cutoff and round with standard errors and intervals, and
/// their changes between rounds, as tables for the terminal.
pub fn national_summary(a: &Analysis, settings: &Settings) -> String {
    let mut s = design_summary(a);
    s.push_str(&national_levels(a, settings));
    s.push_str(&national_changes(a, settings));
    s
}

/// The design: strata, PSUs, degrees of freedom, and what became of lonely PSUs.
fn design_summary(a: &Analysis) -> String {
    let mut s = String::new();
    let design = &a.inference.design;
    let _ = writeln!(
        s,
        "design: {} strata, {} PSUs{}, {} degrees of freedom",
        count(design.psus_per_stratum.len()),
        count(design.n_psus as usize),
        if design.psu_is_row {
            " (each row a PSU)"
        } else {
            ""
        },
        count(design.df.max(0.0) as usize)
    );
    if !design.lonely.is_empty() {
        let policy = match design.lonely_psu {
            LonelyPsu::Remove => "contribute no variance (--lonely-psu remove)",
            LonelyPsu::Adjust => "are centred on the grand mean (--lonely-psu adjust)",
            LonelyPsu::Average => "get the other strata's average variance (--lonely-psu average)",
            LonelyPsu::Fail => "",
        };
        let _ = writeln!(
            s,
            "  note: {} strata have a single PSU and {policy}",
            design.lonely.len()
        );
    }
    if design.df <= 0.0 {
        let _ = writeln!(
            s,
            "  note: the design has no degree of freedom ({} PSUs in {} strata): no confidence interval can be formed, and the standard errors only say what the --lonely-psu setting makes of strata with one PSU; a design needs two PSUs or more in a stratum",
            count(design.n_psus as usize),
            count(design.psus_per_stratum.len())
        );
    }
    s
}

/// The national H, A and M0 of each round, at each cutoff and for each named group.
fn national_levels(a: &Analysis, settings: &Settings) -> String {
    let (m, sample) = (&a.methodology, &a.sample);
    let mut s = String::new();
    let interval = match settings.interval {
        Interval::Logit => "logit",
        Interval::Wald => "Wald",
    };
    let _ = writeln!(
        s,
        "national estimates ({}% confidence intervals, {interval})",
        number_label(settings.level * 100.0)
    );
    let _ = writeln!(
        s,
        "  {:<12}{:>12}  {:<4}{:>9}  {:>9}  {:>21}",
        if sample.has_rounds { "round" } else { "" },
        "k (%)",
        "",
        "estimate",
        "se",
        "interval"
    );
    for r in 0..sample.round_info.len() {
        // Each cutoff, then each named group (by name in the k column).
        let idents = m
            .cutoffs
            .iter()
            .enumerate()
            .map(|(c, cutoff)| (Some(c), None, format_k(cutoff.percent())))
            .chain(
                m.groups
                    .iter()
                    .enumerate()
                    .map(|(g, group)| (None, Some(g), group.name.clone())),
            );
        for (cutoff, group, label) in idents {
            for measure in [Measure::H, Measure::A, Measure::M0] {
                let national = crate::domain::Domain {
                    subgroup: None,
                    round: r as u32,
                };
                let Some(i) = a.find(measure, None, cutoff, group, national) else {
                    continue;
                };
                let p = &a.inference.levels[i];
                let _ = writeln!(
                    s,
                    "  {:<12}{:>12}  {:<4}{:>9}  {:>9}  {:>21}",
                    sample.round_name(r as u32).unwrap_or_default(),
                    label,
                    measure.name(),
                    fixed(a.estimates[i].b),
                    fixed(p.se),
                    format!("[{}, {}]", fixed(p.ll), fixed(p.ul))
                );
            }
        }
    }
    s
}

/// The national changes of H, A and M0 between rounds (not annualized).
fn national_changes(a: &Analysis, settings: &Settings) -> String {
    let (m, sample) = (&a.methodology, &a.sample);
    let mut s = String::new();
    let mut rows: Vec<&Change> = a
        .inference
        .changes
        .iter()
        .filter(|c| {
            c.subgroup.is_none()
                && !c.annualized
                && matches!(c.measure, Measure::H | Measure::A | Measure::M0)
        })
        .collect();
    if rows.is_empty() {
        return s;
    }
    let _ = writeln!(
        s,
        "national changes (absolute; relative in %; abs_H, abs_A: M0's change due to H, to A; within, shift: due to changes within a column's levels, to shifts of population between them; Wald {}% intervals; annualized changes are in the results file)",
        number_label(settings.level * 100.0)
    );
    let w = (rows.iter().map(|c| change_name(c, sample).len() + 1))
        .max()
        .unwrap_or(0)
        .max(9);
    let _ = writeln!(
        s,
        "  {:<24}{:>7}  {:<4}{:<w$}{:>9}  {:>9}  {:>21}",
        "rounds", "k (%)", "", "change", "estimate", "se", "interval"
    );
    rows.sort_by_key(|c| {
        (
            c.t0,
            c.t1,
            c.cutoff,
            c.measure,
            c.annualized,
            c.over,
            c.ctype,
        )
    });
    for c in rows {
        let _ = writeln!(
            s,
            "  {:<24}{:>7}  {:<4}{:<w$}{:>9}  {:>9}  {:>21}",
            format!(
                "{} → {}",
                sample.round_name(c.t0).unwrap_or_default(),
                sample.round_name(c.t1).unwrap_or_default()
            ),
            c.cutoff
                .map(|k| format_k(m.cutoffs[k].percent()))
                .unwrap_or_default(),
            c.measure.name(),
            change_name(c, sample),
            fixed(c.b),
            fixed(c.precision.se),
            format!("[{}, {}]", fixed(c.precision.ll), fixed(c.precision.ul))
        );
    }
    // A column with a level whose share or M0 is not estimated is not split.
    for (g, grouping) in sample.groupings.iter().enumerate() {
        if !a.inference.changes.iter().any(|c| c.over == Some(g)) {
            let _ = writeln!(
                s,
                "  not split within and between the levels of {}: a level with persons has no estimate of its share or M0",
                grouping.column
            );
        }
    }
    s
}

/// A change's type as the summary names it: a part over a column's levels with the
/// column ("within region", "shift region").
fn change_name(c: &Change, sample: &afmpi_core::sample::Sample) -> String {
    match (c.over, c.ctype) {
        (Some(g), ChangeType::AbsWithin) => format!("within {}", sample.groupings[g].column),
        (Some(g), ChangeType::AbsShift) => format!("shift {}", sample.groupings[g].column),
        _ => c.ctype.name().to_string(),
    }
}

/// A number with five decimals, or "-" when undefined.
fn fixed(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.5}")
    } else {
        "-".into()
    }
}

fn format_k(k: f64) -> String {
    let rounded = (k * 100.0).round() / 100.0;
    if rounded == k {
        format!("{k}")
    } else {
        format!("{k:.2}")
    }
}

/// The methodology in words, for the terminal: source, cutoffs, named groups, and each
/// dimension's indicators with their weights and where their values come from.
pub fn methodology_summary(m: &Methodology) -> String {
    use crate::methodology::Source;
    let mut s = String::new();
    let title = if m.title.is_empty() {
        &m.name
    } else {
        &m.title
    };
    let _ = writeln!(s, "{title} ({})", m.name);
    if !m.source.is_empty() {
        let _ = writeln!(s, "  source: {}", m.source);
    }
    let cutoffs: Vec<String> = m
        .cutoffs
        .iter()
        .map(|c| format!("{} ({:.2}%)", c.value, c.percent()))
        .collect();
    let _ = writeln!(
        s,
        "  {} dimensions, {} indicators; poor when the weighted deprivations {} k = {}",
        m.dimensions.len(),
        m.indicators.len(),
        match m.identification {
            Identification::AtLeast => "reach",
            Identification::Above => "exceed (c_i > k)",
        },
        cutoffs.join(", ")
    );
    for g in &m.groups {
        let _ = writeln!(s, "  group {}: {}", g.name, g.rule.text);
    }
    for (d, dimension) in m.dimensions.iter().enumerate() {
        let _ = writeln!(
            s,
            "  {} (weight {}, {:.2}%)",
            dimension.name,
            dimension.weight,
            100.0 * dimension.weight.to_f64()
        );
        for ind in m.indicators.iter().filter(|i| i.dimension == d) {
            let from = match &ind.source {
                Source::Column(c) => format!("column {c}"),
                Source::Achievement { column, cutoff } => {
                    format!("achievement {column}, deprived below {cutoff} (gap (z - x)/z)")
                }
                Source::Rule(rule) if rule.aggregate.is_some() => format!(
                    "rule per member, aggregated to the household: {}",
                    rule.deprived.text
                ),
                Source::Rule(rule) => format!("rule: {}", rule.deprived.text),
            };
            let _ = writeln!(
                s,
                "    {:<34} {:>6} {:>7.2}%  {from}{}",
                ind.name,
                ind.weight.to_string(),
                100.0 * ind.weight.to_f64(),
                if ind.optional { " (optional)" } else { "" }
            );
        }
    }
    if m.inequality {
        let _ = writeln!(
            s,
            "  also inequality among the poor (ineq): the variance of their scores"
        );
    }
    for w in &m.alternative_weights {
        let weights: Vec<String> = w.weights.iter().map(|x| x.to_string()).collect();
        let _ = writeln!(
            s,
            "  alternative weights \"{}\" (for robustness): {}",
            w.name,
            weights.join(", ")
        );
    }
    s
}
