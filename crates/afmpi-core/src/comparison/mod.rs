//! Comparison of methodologies on the same survey: several [`Analysis`] of one file in;
//! the overlap of their poor (person by person, by row of the file), the agreement of
//! their subgroup rankings (Kendall's tau-b, Spearman's rho) and the paired differences
//! of their M0 and H with standard errors ([`paired`]) out, each under the
//! methodology's headline identification. Presenting them is the caller's.

mod paired;

pub use paired::{paired_differences, PairedDifference};

use rustc_hash::FxHashMap;
use statrs::statistics::{Data, OrderStatistics, RankTieBreaker, Statistics};

use crate::error::Result;
use crate::identification::IntegerWeights;
use crate::inference::Settings;
use crate::measures::{is_poor, Measure};
use crate::methodology::Headline;
use crate::Analysis;

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
            crate::sample::codes::number_label(
                (a.methodology.cutoffs[c].percent() * 100.0).round() / 100.0
            )
        ),
        Headline::Group(g) => a.methodology.groups[g].name.clone(),
    }
}

/// The headline estimate of `measure` in a domain, with its precision.
pub fn headline_estimate(
    a: &Analysis,
    measure: Measure,
    subgroup: Option<(usize, u32)>,
    round: u32,
) -> Option<(f64, crate::inference::Precision)> {
    let (cutoff, group) = headline(a);
    let i = a.find(
        measure,
        None,
        cutoff,
        group,
        crate::domain::Domain { subgroup, round },
    )?;
    Some((a.estimates[i].b, a.inference.levels[i]))
}

/// Each person's poverty status under the analysis's headline, by row of the file.
fn poor_by_row(a: &Analysis) -> Result<Status> {
    let weights = IntegerWeights::new(&a.methodology)?;
    let (cutoff, group) = headline(a);
    let s = &a.sample;
    Ok((0..s.len())
        .filter(|&i| s.flags[i] & crate::sample::OUTSIDE_EVERY_DOMAIN == 0)
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
    /// Every pair's differences of M0 and H, domain by domain.
    pub differences: Vec<PairedDifference>,
}

/// The status of each person under an analysis's headline, by row of the file: poor,
/// weight, round.
type Status = FxHashMap<u32, (bool, f64, u32)>;

/// Lines the analyses up: every pair's overlap of the poor, rank agreement and paired
/// differences (`settings`: the confidence level and the single-PSU strata's treatment,
/// as the analyses were run).
pub fn compare<'a>(analyses: &'a [Analysis], settings: &Settings) -> Result<Comparison<'a>> {
    let mut overlaps = Vec::new();
    let mut ranks = Vec::new();
    let mut differences = Vec::new();
    let status: Vec<Status> = analyses.iter().map(poor_by_row).collect::<Result<_>>()?;
    for a in 0..analyses.len() {
        for b in a + 1..analyses.len() {
            let n_rounds = analyses[a].sample.round_info.len() as u32;
            overlaps.extend(overlaps_of(&status, a, b, n_rounds));
            ranks.extend(rank_agreements(analyses, a, b, n_rounds));
            differences.extend(paired_differences(analyses, a, b, settings)?);
        }
    }
    Ok(Comparison {
        analyses,
        overlaps,
        ranks,
        differences,
    })
}

/// Overlap per round of the first analysis, over the persons both classify.
fn overlaps_of(status: &[Status], a: usize, b: usize, n_rounds: u32) -> Vec<Overlap> {
    let mut overlaps = Vec::new();
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
    overlaps
}

/// Rank agreement of M0 across the levels of each subgroup column both analyses share.
fn rank_agreements(analyses: &[Analysis], a: usize, b: usize, n_rounds: u32) -> Vec<RankAgreement> {
    let mut ranks = Vec::new();
    for (g, grouping) in analyses[a].sample.groupings.iter().enumerate() {
        let Some(h) = analyses[b]
            .sample
            .groupings
            .iter()
            .position(|o| o.column == grouping.column)
        else {
            continue;
        };
        // The other analysis's levels of the column by label, looked up, not searched.
        let other_levels: rustc_hash::FxHashMap<&str, usize> = analyses[b].sample.groupings[h]
            .levels
            .iter()
            .enumerate()
            .map(|(l, label)| (label.as_str(), l))
            .collect();
        for round in 0..n_rounds {
            let mut pairs = Vec::new();
            for (level, label) in grouping.levels.iter().enumerate() {
                let Some(&other) = other_levels.get(label.as_str()) else {
                    continue;
                };
                let x =
                    headline_estimate(&analyses[a], Measure::M0, Some((g, level as u32)), round);
                let y =
                    headline_estimate(&analyses[b], Measure::M0, Some((h, other as u32)), round);
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
    ranks
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
