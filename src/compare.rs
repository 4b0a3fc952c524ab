//! Comparison: several analyses of one survey in (one per methodology), what a ministry
//! asks when it weighs one methodology against another out — each methodology's H, A
//! and M0 with their standard errors and intervals side by side, nationally and by
//! subgroup; how far the sets of poor persons overlap; and whether the methodologies rank
//! the subgroups alike (Kendall's tau-b and Spearman's rho).
//!
//! Every estimate and interval comes from each analysis as `afmpi run` computes it; this
//! module only lines the runs up. Persons are matched by their row in the file, so the
//! overlap counts the persons that both methodologies could classify.

use std::fmt::Write as _;

use polars::prelude::*;
use rustc_hash::FxHashMap;
use statrs::statistics::{Data, OrderStatistics, RankTieBreaker, Statistics};

use crate::measures::{is_poor, Measure};
use crate::methodology::{Headline, IntegerWeights};
use crate::output::count;
use crate::{Analysis, Result};

/// The headline identification of an analysis: its cutoff or group.
pub fn headline(a: &Analysis) -> (Option<usize>, Option<usize>) {
    match a.methodology.headline {
        Headline::Cutoff(c) => (Some(c), None),
        Headline::Group(g) => (None, Some(g)),
    }
}

/// How an analysis's headline is written: "k = 33.33" or the group's name.
pub fn headline_label(a: &Analysis) -> String {
    match a.methodology.headline {
        Headline::Cutoff(c) => format!(
            "k = {}",
            crate::indicators::number_label(
                (a.methodology.cutoffs[c].percent() * 100.0).round() / 100.0
            )
        ),
        Headline::Group(g) => a.methodology.groups[g].name.clone(),
    }
}

/// The headline estimate of `measure` in a domain, with its precision.
fn headline_estimate(
    a: &Analysis,
    measure: Measure,
    subgroup: Option<(usize, u32)>,
    round: u32,
) -> Option<(f64, crate::inference::Precision)> {
    let (cutoff, group) = headline(a);
    let i = a.estimates.iter().position(|e| {
        e.measure == measure
            && e.cutoff == cutoff
            && e.group == group
            && e.indicator.is_none()
            && e.domain.subgroup == subgroup
            && e.domain.round == round
    })?;
    Some((a.estimates[i].b, a.inference.levels[i]))
}

/// Each person's poverty status under the analysis's headline, by row of the file.
fn poor_by_row(a: &Analysis) -> Result<FxHashMap<u32, (bool, f64, u32)>> {
    let weights = IntegerWeights::new(&a.methodology)?;
    let (cutoff, group) = headline(a);
    let s = &a.sample;
    Ok((0..s.len())
        .map(|i| {
            let poor = is_poor(
                &weights,
                cutoff,
                group,
                weights.score(s.profiles[i]),
                s.flags[i],
            );
            (s.rows[i], (poor, s.weights[i], s.rounds[i]))
        })
        .collect())
}

/// Overlap of the poor between two methodologies, as shares of the persons both classify.
#[derive(Clone, Debug, PartialEq)]
pub struct Overlap {
    pub first: usize,
    pub second: usize,
    pub round: u32,
    pub both: f64,
    pub only_first: f64,
    pub only_second: f64,
    pub neither: f64,
    /// Persons (rows) classified by both.
    pub persons: usize,
}

/// Rank agreement of the subgroups' M0 between two methodologies.
#[derive(Clone, Debug, PartialEq)]
pub struct RankAgreement {
    pub first: usize,
    pub second: usize,
    pub round: u32,
    /// Index of the subgroup column (in the first analysis).
    pub grouping: usize,
    pub kendall_tau_b: f64,
    pub spearman_rho: f64,
    pub levels: usize,
}

/// All that `compare` reports.
pub struct Comparison<'a> {
    pub analyses: &'a [Analysis],
    pub overlaps: Vec<Overlap>,
    pub ranks: Vec<RankAgreement>,
}

/// Lines the analyses up.
pub fn compare(analyses: &[Analysis]) -> Result<Comparison<'_>> {
    let mut overlaps = Vec::new();
    let mut ranks = Vec::new();
    let status: Vec<FxHashMap<u32, (bool, f64, u32)>> =
        analyses.iter().map(poor_by_row).collect::<Result<_>>()?;
    for a in 0..analyses.len() {
        for b in a + 1..analyses.len() {
            // Overlap per round of the first analysis, over the persons both classify.
            let n_rounds = analyses[a].sample.round_info.len() as u32;
            for round in 0..n_rounds {
                let mut shares = [0.0; 4];
                let mut persons = 0;
                for (row, &(poor_a, w, r)) in &status[a] {
                    if r != round {
                        continue;
                    }
                    let Some(&(poor_b, _, _)) = status[b].get(row) else {
                        continue;
                    };
                    persons += 1;
                    shares[usize::from(!poor_a) * 2 + usize::from(!poor_b)] += w;
                }
                let total: f64 = shares.iter().sum();
                if persons == 0 || total == 0.0 {
                    continue;
                }
                overlaps.push(Overlap {
                    first: a,
                    second: b,
                    round,
                    both: shares[0] / total,
                    only_first: shares[1] / total,
                    only_second: shares[2] / total,
                    neither: shares[3] / total,
                    persons,
                });
            }
            // Rank agreement of M0 across the levels of each subgroup column both share.
            for (g, grouping) in analyses[a].sample.groupings.iter().enumerate() {
                let Some(h) = analyses[b]
                    .sample
                    .groupings
                    .iter()
                    .position(|o| o.column == grouping.column)
                else {
                    continue;
                };
                for round in 0..n_rounds {
                    let mut pairs = Vec::new();
                    for (level, label) in grouping.levels.iter().enumerate() {
                        let Some(other) = analyses[b].sample.groupings[h]
                            .levels
                            .iter()
                            .position(|l| l == label)
                        else {
                            continue;
                        };
                        let x = headline_estimate(
                            &analyses[a],
                            Measure::M0,
                            Some((g, level as u32)),
                            round,
                        );
                        let y = headline_estimate(
                            &analyses[b],
                            Measure::M0,
                            Some((h, other as u32)),
                            round,
                        );
                        if let (Some((x, _)), Some((y, _))) = (x, y) {
                            if x.is_finite() && y.is_finite() {
                                pairs.push((x, y));
                            }
                        }
                    }
                    if pairs.len() < 2 {
                        continue;
                    }
                    let (x, y): (Vec<f64>, Vec<f64>) = pairs.into_iter().unzip();
                    ranks.push(RankAgreement {
                        first: a,
                        second: b,
                        round,
                        grouping: g,
                        kendall_tau_b: kendall_tau_b(&x, &y),
                        spearman_rho: spearman_rho(&x, &y),
                        levels: x.len(),
                    });
                }
            }
        }
    }
    Ok(Comparison {
        analyses,
        overlaps,
        ranks,
    })
}

/// Kendall's tau-b (ties accounted for), by the kendalls crate; NaN when undefined.
pub fn kendall_tau_b(x: &[f64], y: &[f64]) -> f64 {
    kendalls::tau_b_with_comparator(x, y, |a: &f64, b: &f64| a.total_cmp(b))
        .map(|(tau, _)| tau)
        .unwrap_or(f64::NAN)
}

/// Spearman's rho: Pearson's correlation of the average ranks (statrs).
pub fn spearman_rho(x: &[f64], y: &[f64]) -> f64 {
    let rx = Data::new(x.to_vec()).ranks(RankTieBreaker::Average);
    let ry = Data::new(y.to_vec()).ranks(RankTieBreaker::Average);
    let cov = rx.iter().covariance(ry.iter());
    cov / (rx.iter().std_dev() * ry.iter().std_dev())
}

impl Comparison<'_> {
    fn spec(&self, i: usize) -> &str {
        &self.analyses[i].methodology.name
    }

    fn round_label(&self, round: u32) -> Option<&str> {
        let s = &self.analyses[0].sample;
        s.has_rounds
            .then(|| s.round_info[round as usize].label.as_str())
    }

    /// One long frame: `table` says which part a row belongs to (estimate, overlap, rank).
    pub fn frame(&self) -> DataFrame {
        let finite = |x: f64| Some(x).filter(|x| x.is_finite());
        let mut rows: Vec<Row> = Vec::new();
        for a in self.analyses {
            for round in 0..a.sample.round_info.len() as u32 {
                let t = a
                    .sample
                    .has_rounds
                    .then(|| a.sample.round_info[round as usize].label.clone());
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
        let pair = |table: &'static str,
                    first: usize,
                    second: usize,
                    measure: &str,
                    loa: String,
                    subg: Option<String>,
                    round: u32,
                    value: f64| Row {
            table,
            spec: self.spec(first).to_string(),
            spec2: Some(self.spec(second).to_string()),
            identification: None,
            measure: measure.to_string(),
            loa,
            subg,
            t: self.round_label(round).map(str::to_string),
            values: [finite(value), None, None, None],
        };
        for o in &self.overlaps {
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
        for r in &self.ranks {
            let column = self.analyses[r.first].sample.groupings[r.grouping]
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
    pub fn summary(&self) -> String {
        let mut s = String::new();
        let a0 = &self.analyses[0];
        let width = 26;
        let _ = writeln!(s, "methodologies (headline identification):");
        for a in self.analyses {
            let _ = writeln!(
                s,
                "  {:<24} {:<22} rows used {}",
                a.methodology.name,
                headline_label(a),
                count(a.report.rows_used)
            );
        }
        for round in 0..a0.sample.round_info.len() as u32 {
            let label = self
                .round_label(round)
                .map(|l| format!(", round {l}"))
                .unwrap_or_default();
            let _ = writeln!(s, "M0 [95% interval as run] by domain{label}");
            let mut header = format!("  {:<24}", "domain");
            for a in self.analyses {
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
            for (domain, name) in domains {
                let mut line = format!("  {:<24}", truncate(&name, 23));
                for a in self.analyses {
                    let subgroup = match &domain {
                        None => None,
                        Some((_, _, column, level)) => a
                            .sample
                            .groupings
                            .iter()
                            .enumerate()
                            .find_map(|(g, grouping)| {
                                (&grouping.column == column)
                                    .then(|| {
                                        grouping
                                            .levels
                                            .iter()
                                            .position(|l| l == level)
                                            .map(|l| (g, l as u32))
                                    })
                                    .flatten()
                            }),
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
        }
        if !self.overlaps.is_empty() {
            let _ = writeln!(
                s,
                "overlap of the poor (shares of the persons both classify)"
            );
            let _ = writeln!(
                s,
                "  {:<44}{:>8}{:>12}{:>13}{:>9}",
                "pair", "both", "only first", "only second", "neither"
            );
            for o in &self.overlaps {
                let round = self
                    .round_label(o.round)
                    .map(|l| format!(" (t {l})"))
                    .unwrap_or_default();
                let _ = writeln!(
                    s,
                    "  {:<44}{:>8.3}{:>12.3}{:>13.3}{:>9.3}",
                    format!("{} vs {}{round}", self.spec(o.first), self.spec(o.second)),
                    o.both,
                    o.only_first,
                    o.only_second,
                    o.neither
                );
            }
        }
        if !self.ranks.is_empty() {
            let _ = writeln!(s, "rank agreement of the subgroups' M0");
            let _ = writeln!(
                s,
                "  {:<44}{:<12}{:>8}{:>10}{:>8}",
                "pair", "subgroups", "tau-b", "rho", "levels"
            );
            for r in &self.ranks {
                let round = self
                    .round_label(r.round)
                    .map(|l| format!(" (t {l})"))
                    .unwrap_or_default();
                let _ = writeln!(
                    s,
                    "  {:<44}{:<12}{:>8.3}{:>10.3}{:>8}",
                    format!("{} vs {}{round}", self.spec(r.first), self.spec(r.second)),
                    self.analyses[r.first].sample.groupings[r.grouping].column,
                    r.kendall_tau_b,
                    r.spearman_rho,
                    r.levels
                );
            }
        }
        s
    }
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

fn truncate(s: &str, n: usize) -> String {
    if s.chars().count() <= n {
        s.to_string()
    } else {
        s.chars().take(n - 1).chain(['…']).collect()
    }
}
