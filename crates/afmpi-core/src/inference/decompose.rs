//! Decomposing a change of M0 between two rounds: the two rounds' H and A of one domain
//! at one poverty line in; the parts of M0's absolute change due to the change of H and
//! to the change of A, each with its variance, out.
//!
//! M0 = H × A, and Shapley's symmetric split (the average over the two orders in which H
//! and A can change) gives ΔM0 = ΔH·(A0 + A1)/2 + ΔA·(H0 + H1)/2 exactly, with nothing
//! left over. Each part is a smooth function of (H0, A0, H1, A1), so its variance is
//! g'Σg by the delta method, Σ being the joint covariance of the four estimates
//! ([`Context::joint_covariance`], an ndarray matrix): H and A of one round share every
//! unit of their domain, and the two rounds share the PSUs a panel visits twice. An
//! indicator's part of the change, w_j·Δhdk_j, is its actb's absolute change, reported
//! with the other changes.
//!
//! The whole sample's M0 is also Σ_l s_l·M0_l over the levels l of a subgroup column
//! (s_l the level's share of the population), and the same split over (s, M0) gives
//! ΔM0 = Σ_l s̄_l·ΔM0_l (the changes within the levels) + Σ_l M̄0_l·Δs_l (the shifts of
//! population between them), the persons without a level being one more group. These are functions of 4L estimates, too many for a
//! matrix over a column of hundreds of levels; instead their linearized variable is
//! made whole, cell by cell from the table (the persons of a cell share its value per
//! unit of weight), in one pass over the cells of the two rounds
//! ([`population_shifts`]).

use ndarray::{arr1, Array2};
use rayon::prelude::*;

use super::changes::{Change, ChangeType};
use super::totals::UnitTotals;
use super::variance::{Context, Keep, Linearized};
use super::Design;
use crate::domain::Domain;
use crate::identification::IntegerWeights;
use crate::measures::{self, Estimate, Measure};
use crate::sample::OUTSIDE_EVERY_DOMAIN;
use crate::tally::{Cell, Table};

/// M0's absolute change split into its part due to H and its part due to A: each
/// part's value and variance.
pub(super) struct ShapleyParts {
    pub(super) due_to_h: (f64, f64),
    pub(super) due_to_a: (f64, f64),
}

impl Context<'_> {
    /// The estimate of this measure at this poverty line in this domain, if estimated.
    fn find(&self, measure: Measure, like: &Estimate, round: u32) -> Option<usize> {
        let domain = Domain {
            subgroup: like.domain.subgroup,
            round,
        };
        self.find_in(measure, like.cutoff, like.group, domain)
    }

    /// The estimate of this measure (of no indicator) at this poverty line in `domain`.
    fn find_in(
        &self,
        measure: Measure,
        cutoff: Option<usize>,
        group: Option<usize>,
        domain: Domain,
    ) -> Option<usize> {
        let key = measures::order_of(measure, None, cutoff, group, domain);
        self.estimates
            .binary_search_by_key(&key, Estimate::order)
            .ok()
    }

    /// The parts of the change of `m0`'s M0 from round `t0` to `t1`; `None` when H or A
    /// is missing from a round.
    pub(super) fn shapley_parts(&self, m0: &Estimate, t0: u32, t1: u32) -> Option<ShapleyParts> {
        let members = [
            self.find(Measure::H, m0, t0)?,
            self.find(Measure::A, m0, t0)?,
            self.find(Measure::H, m0, t1)?,
            self.find(Measure::A, m0, t1)?,
        ];
        let [h0, a0, h1, a1] = members.map(|i| self.estimates[i].b);
        let cov = self.joint_covariance(&members);
        let (mean_h, mean_a) = ((h0 + h1) / 2.0, (a0 + a1) / 2.0);
        let (dh, da) = (h1 - h0, a1 - a0);
        // Gradients with respect to (H0, A0, H1, A1).
        let part = |b: f64, g: [f64; 4]| {
            let g = arr1(&g);
            (b, g.dot(&cov.dot(&g)))
        };
        Some(ShapleyParts {
            due_to_h: part(dh * mean_a, [-mean_a, dh / 2.0, mean_a, dh / 2.0]),
            due_to_a: part(da * mean_h, [da / 2.0, -mean_h, da / 2.0, mean_h]),
        })
    }

    /// The covariance matrix of these estimates, from their linearized variables over
    /// the design's units: any estimates of a clustered design; when each row is its
    /// own PSU, estimates of one domain, of different rounds or of levels of one column
    /// (others share rows that the units do not identify, and their covariance is NaN).
    pub(super) fn joint_covariance(&self, members: &[usize]) -> Array2<f64> {
        let empty = UnitTotals::default();
        let linear: Vec<Linearized> = members
            .iter()
            .map(|&i| {
                let e = &self.estimates[i];
                let domain = self.domains.get(&e.domain).unwrap_or(&empty);
                let mut lin = Linearized::default();
                if e.measure.of_the_whole_sample() {
                    let whole = Domain {
                        subgroup: None,
                        round: e.domain.round,
                    };
                    let whole = self.domains.get(&whole).unwrap_or(&empty);
                    self.linearize_share(domain, whole, e, true, &mut lin);
                } else {
                    self.linearize(domain, e, Keep::UnitValues, &mut lin);
                }
                lin
            })
            .collect();
        let n = members.len();
        let mut cov = Array2::zeros((n, n));
        for a in 0..n {
            for b in a..n {
                let v = self.covariance(&linear[a], &linear[b], a == b);
                cov[[a, b]] = v;
                cov[[b, a]] = v;
            }
        }
        cov
    }
}

/// The estimates of one round that split the whole sample's M0 over a column's levels:
/// per level, its population share and its M0, with the populations they are over.
struct LevelTerms {
    shares: Vec<f64>,
    m0: Vec<f64>,
    /// Each level's population, and the whole sample's.
    populations: Vec<f64>,
    whole: f64,
}

/// The two parts (within the levels, shifts between them) of the whole sample's change
/// of M0 over the levels of one column, with their gradients with respect to each
/// level's share and M0 in each round.
struct ShiftParts {
    within: f64,
    shift: f64,
    /// Per round (t0, t1) and level: ∂/∂share and ∂/∂M0 of the within part, then of the
    /// shift part.
    gradients: [[Vec<(f64, f64)>; 2]; 2],
}

impl ShiftParts {
    fn of(r0: &LevelTerms, r1: &LevelTerms) -> ShiftParts {
        let n = r0.shares.len();
        let (mut within, mut shift) = (0.0, 0.0);
        let mut gradients: [[Vec<(f64, f64)>; 2]; 2] = Default::default();
        for l in 0..n {
            let (present0, present1) = (r0.populations[l] > 0.0, r1.populations[l] > 0.0);
            // A group empty in one round takes its M0 there from the other round: all
            // of its part is a shift of population (none in both: no part at all).
            let (s0, s1) = (r0.shares[l], r1.shares[l]);
            let (m0, m1) = match (present0, present1) {
                (true, true) => (r0.m0[l], r1.m0[l]),
                (false, true) => (r1.m0[l], r1.m0[l]),
                (true, false) => (r0.m0[l], r0.m0[l]),
                (false, false) => (0.0, 0.0),
            };
            let (mean_s, mean_m) = ((s0 + s1) / 2.0, (m0 + m1) / 2.0);
            within += mean_s * (m1 - m0);
            shift += mean_m * (s1 - s0);
            // within = Σ s̄ (m1 − m0); shift = Σ m̄ (s1 − s0).
            let mut g = [
                [((m1 - m0) / 2.0, -mean_s), ((m1 - m0) / 2.0, mean_s)],
                [(-mean_m, (s1 - s0) / 2.0), (mean_m, (s1 - s0) / 2.0)],
            ];
            // An M0 taken from the other round: its gradient goes to that round's.
            for part in &mut g {
                match (present0, present1) {
                    (false, true) => (part[1].1, part[0].1) = (part[1].1 + part[0].1, 0.0),
                    (true, false) => (part[0].1, part[1].1) = (part[0].1 + part[1].1, 0.0),
                    _ => {}
                }
            }
            for (part, gradient) in gradients.iter_mut().zip(g) {
                part[0].push(gradient[0]);
                part[1].push(gradient[1]);
            }
        }
        ShiftParts {
            within,
            shift,
            gradients,
        }
    }
}

impl Context<'_> {
    /// The shares and M0 of every level of column `g` in `round`, at the poverty line of
    /// `m0` (the whole sample's M0), and last those of the persons without a level, as
    /// one more group (`outside`: their population and censored score, from the cells).
    /// A level absent from the round has population 0 (and no M0). `None` when a level
    /// with persons lacks an estimate, or the groups do not add up to the whole sample.
    fn level_terms(
        &self,
        totals: &super::Totals,
        m0: &Estimate,
        g: usize,
        round: u32,
        outside: (f64, f64),
    ) -> Option<LevelTerms> {
        let levels = self.sample.groupings.get(g)?.levels.len() as u32;
        let population = |d: Domain| totals.of(&d).map(|sums| sums[0]);
        let whole = population(Domain {
            subgroup: None,
            round,
        })?;
        let mut terms = LevelTerms {
            shares: Vec::new(),
            m0: Vec::new(),
            populations: Vec::new(),
            whole,
        };
        for l in 0..levels {
            let domain = Domain {
                subgroup: Some((g, l)),
                round,
            };
            let find = |measure, cutoff, group| {
                let i = self.find_in(measure, cutoff, group, domain)?;
                Some(self.estimates[i].b).filter(|b| b.is_finite())
            };
            match population(domain).filter(|&n| n > 0.0) {
                None => {
                    terms.shares.push(0.0);
                    terms.m0.push(f64::NAN);
                    terms.populations.push(0.0);
                }
                Some(n) => {
                    terms.shares.push(find(Measure::Popsh, None, None)?);
                    terms.m0.push(find(Measure::M0, m0.cutoff, m0.group)?);
                    terms.populations.push(n);
                }
            }
        }
        let (n, censored) = outside;
        terms.shares.push(n / whole);
        terms.m0.push(if n > 0.0 { censored / n } else { f64::NAN });
        terms.populations.push(n);
        let covered: f64 = terms.populations.iter().sum();
        ((covered - whole).abs() <= 1e-9 * whole).then_some(terms)
    }

    /// The population and censored score of the persons of `round` without a level of
    /// column `g`, at the poverty line of `m0`.
    fn without_level(
        &self,
        table: &Table,
        weights: &IntegerWeights,
        m0: &Estimate,
        g: usize,
        round: u32,
    ) -> (f64, f64) {
        let (mut n, mut censored) = (0.0, 0.0);
        for cell in table.cells.iter().filter(|c| c.round == round) {
            if cell.flags & OUTSIDE_EVERY_DOMAIN == 0 && table.level(cell, g).is_none() {
                n += cell.weight;
                censored += cell.weight * censored_score(weights, m0, cell);
            }
        }
        (n, censored)
    }
}

/// A cell's persons' censored score at the poverty line of `m0`.
fn censored_score(weights: &IntegerWeights, m0: &Estimate, cell: &Cell) -> f64 {
    let score = weights.score(cell.profile);
    match measures::is_poor(weights, m0.cutoff, m0.group, score, cell.flags) {
        true => weights.score_f64(cell.profile),
        false => 0.0,
    }
}

impl Context<'_> {
    /// The variances of the two parts over column `g`, from one pass over the cells of
    /// both rounds: a cell's persons share their linearized value per unit of weight,
    /// ∂/∂s_l (1[l] − s_l)/N summed over the levels, plus ∂/∂M0_l (c − M0_l)/N_l of
    /// their own level l (c their censored score); it is added per PSU, or per stratum
    /// with the cell's squared weights when each row is a PSU.
    #[allow(clippy::too_many_arguments)]
    fn shift_variances(
        &self,
        table: &Table,
        weights: &IntegerWeights,
        m0: &Estimate,
        g: usize,
        rounds: [(u32, &LevelTerms); 2],
        parts: &ShiftParts,
    ) -> [f64; 2] {
        let design = self.design;
        let n_strata = design.n_strata();
        let mut sums = [
            Unitwise::new(design.psu_stratum.len(), n_strata),
            Unitwise::new(design.psu_stratum.len(), n_strata),
        ];
        // What every person of a round has of each part's value: the shares' common
        // denominator.
        let common: [[f64; 2]; 2] = std::array::from_fn(|part| {
            std::array::from_fn(|r| {
                let (gradient, terms) = (&parts.gradients[part][r], rounds[r].1);
                let sum: f64 = (gradient.iter().zip(&terms.shares))
                    .map(|(g, s)| g.0 * s)
                    .sum();
                -sum / terms.whole
            })
        });
        for cell in &table.cells {
            let Some(r) = rounds.iter().position(|&(t, _)| t == cell.round) else {
                continue;
            };
            if cell.flags & OUTSIDE_EVERY_DOMAIN != 0 {
                continue;
            }
            let terms = rounds[r].1;
            let censored = censored_score(weights, m0, cell);
            // The persons without a level are the last group.
            let level = table
                .level(cell, g)
                .map_or(terms.shares.len() - 1, |l| l as usize);
            for (part, sum) in sums.iter_mut().enumerate() {
                let gradient = &parts.gradients[part][r];
                let l = level;
                let z = common[part][r]
                    + gradient[l].0 / terms.whole
                    + gradient[l].1 * (censored - terms.m0[l]) / terms.populations[l];
                sum.add(design, cell, z);
            }
        }
        sums.map(|s| {
            let lin = s.linearized(design);
            self.covariance(&lin, &lin, true)
        })
    }
}

/// A linearized variable added up cell by cell: per PSU (clustered designs) or per
/// stratum (each row a PSU).
pub(super) struct Unitwise {
    /// The last cell's (stratum, PSU) and the PSU's index: cells come PSU by PSU.
    last: Option<((u32, u32), usize)>,
    psu_sum: Vec<f64>,
    stratum_sum: Vec<f64>,
    stratum_sq: Vec<f64>,
}

impl Unitwise {
    pub(super) fn new(n_psus: usize, n_strata: usize) -> Unitwise {
        Unitwise {
            last: None,
            psu_sum: vec![0.0; n_psus],
            stratum_sum: vec![0.0; n_strata],
            stratum_sq: vec![0.0; n_strata],
        }
    }

    /// A cell whose persons' value per unit of weight is `z`.
    pub(super) fn add(&mut self, design: &Design, cell: &Cell, z: f64) {
        if design.psu_is_row {
            let h = cell.stratum as usize;
            self.stratum_sum[h] += z * cell.weight;
            self.stratum_sq[h] += z * z * cell.weight_sq;
        } else {
            let key = (cell.stratum, cell.psu);
            let p = match self.last {
                Some((last, p)) if last == key => Some(p),
                _ => design.psu_index.get(&key).copied(),
            };
            if let Some(p) = p {
                self.last = Some((key, p));
                self.psu_sum[p] += z * cell.weight;
            }
        }
    }

    pub(super) fn linearized(&self, design: &Design) -> Linearized {
        let mut lin = Linearized {
            strata: (0..self.stratum_sum.len() as u32).collect(),
            stratum_sum: self.stratum_sum.clone(),
            stratum_sq: self.stratum_sq.clone(),
            defined: true,
            ..Default::default()
        };
        if !design.psu_is_row {
            for (p, &z) in self.psu_sum.iter().enumerate() {
                let h = design.psu_stratum[p] as usize;
                lin.stratum_sum[h] += z;
                lin.stratum_sq[h] += z * z;
            }
        }
        lin.total = lin.stratum_sum.iter().sum();
        lin
    }
}

/// The whole sample's changes of M0 split, for each subgroup column, into the part due
/// to the changes within its levels and the part due to the shifts of population
/// between them (`AbsWithin`, `AbsShift`, with `over` the column), at every poverty
/// line, for every pair of rounds compared, plain and annualized. The persons without a
/// level are one more group; a group met in one round only takes its M0 there from the
/// other round (its part is all a shift). A column is not split when a level with
/// persons lacks the estimate of its share or its M0.
pub(super) fn population_shifts(
    context: &Context,
    totals: &super::Totals,
    table: &Table,
    weights: &IntegerWeights,
) -> Vec<Change> {
    // Each national M0, pair of rounds and column is a pass over the cells: in parallel.
    let mut splits = Vec::new();
    for m0 in (context.estimates.iter())
        .filter(|e| e.measure == Measure::M0 && e.domain.subgroup.is_none())
    {
        for &(t0, t1) in context.pairs.iter().filter(|p| p.0 == m0.domain.round) {
            splits.extend((0..context.sample.groupings.len()).map(|g| (m0, t0, t1, g)));
        }
    }
    splits
        .into_par_iter()
        .flat_map_iter(|(m0, t0, t1, g)| {
            let terms = |t| {
                let outside = context.without_level(table, weights, m0, g, t);
                context.level_terms(totals, m0, g, t, outside)
            };
            let (r0, r1) = (terms(t0), terms(t1));
            let parts = r0.zip(r1).map(|(r0, r1)| {
                let parts = ShiftParts::of(&r0, &r1);
                let rounds = [(t0, &r0), (t1, &r1)];
                let variances = context.shift_variances(table, weights, m0, g, rounds, &parts);
                (parts, variances)
            });
            parts
                .map(|(parts, variances)| context.shift_changes(m0, (t0, t1), g, &parts, variances))
                .unwrap_or_default()
        })
        .collect()
}

impl Context<'_> {
    /// The rows of one split: within and shift, plain and (with years) annualized.
    fn shift_changes(
        &self,
        m0: &Estimate,
        (t0, t1): (u32, u32),
        g: usize,
        parts: &ShiftParts,
        [v_within, v_shift]: [f64; 2],
    ) -> Vec<Change> {
        let span = self.span(t0, t1);
        let mut changes = Vec::new();
        for annualized in [false, true] {
            let per = match (annualized, span) {
                (false, _) => 1.0,
                (true, Some(dy)) => 1.0 / dy,
                (true, None) => continue,
            };
            for (ctype, b, var) in [
                (ChangeType::AbsWithin, parts.within, v_within),
                (ChangeType::AbsShift, parts.shift, v_shift),
            ] {
                changes.push(Change {
                    measure: Measure::M0,
                    indicator: None,
                    cutoff: m0.cutoff,
                    group: m0.group,
                    subgroup: None,
                    over: Some(g),
                    t0,
                    t1,
                    ctype,
                    annualized,
                    b: b * per,
                    precision: self.quantiles.change(b * per, var * per * per),
                });
            }
        }
        changes
    }
}
