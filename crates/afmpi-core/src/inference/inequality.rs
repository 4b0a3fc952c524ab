//! Inequality among the poor split over a subgroup column: the table's cells of a round
//! at a poverty line in; the whole sample's inequality among the poor V (the variance of
//! the poor's scores) as the part within the levels of a column and the part between
//! them, each with its standard error, out.
//!
//! With q_l the poor of group l (each level, and the persons without a level as one more
//! group), A_l and V_l their mean score and its variance, V is exactly the sum of the
//! part within the groups, Σ_l (q_l/q)·V_l, and the part between them,
//! Σ_l (q_l/q)·(A_l − A)², the variance of the groups' intensities (Seth and Alkire
//! 2014). Within, W = (1/q) Σ_l Σ_{i∈l} w_i
//! (c_i − A_l)², linearizes to z_i = w_i [(c_i − A_l)² − W]/q over the poor, and the
//! between part B = V − W to the difference of V's and W's; a cell's persons share
//! their value per unit of weight, so each part's PSU totals come from one pass over the
//! cells, whatever the number of levels.

use rayon::prelude::*;

use super::decompose::Unitwise;
use super::intervals::Precision;
use super::variance::Context;
use crate::identification::IntegerWeights;
use crate::measures::{self, Estimate, Measure};
use crate::sample::OUTSIDE_EVERY_DOMAIN;
use crate::tally::{Cell, Table};

/// The whole sample's inequality among the poor in a round at a cutoff, split over the
/// levels of a subgroup column.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct InequalitySplit {
    pub column: usize,
    pub round: u32,
    pub cutoff: usize,
    /// Σ_l (q_l/q)·V_l and Σ_l (q_l/q)·(A_l − A)²: they add up to V.
    pub within: (f64, Precision),
    pub between: (f64, Precision),
}

/// The poor of each group: weight, Σ w·c, Σ w·c².
#[derive(Clone, Copy, Default)]
struct Moments {
    q: f64,
    s1: f64,
    s2: f64,
}

impl Moments {
    fn add(&mut self, w: f64, c: f64) {
        self.q += w;
        self.s1 += w * c;
        self.s2 += w * c * c;
    }

    fn mean(&self) -> f64 {
        self.s1 / self.q
    }

    /// The variance of the scores, times q (Σ w (c − A)²).
    fn spread(&self) -> f64 {
        if self.q > 0.0 {
            (self.s2 - self.s1 * self.s1 / self.q).max(0.0)
        } else {
            0.0
        }
    }
}

/// Every national inequality estimate split over every subgroup column, in parallel.
pub(super) fn inequality_splits(
    context: &Context,
    table: &Table,
    weights: &IntegerWeights,
) -> Vec<InequalitySplit> {
    let national = (context.estimates.iter())
        .filter(|e| e.measure == Measure::Ineq && e.domain.subgroup.is_none() && e.b.is_finite());
    let work: Vec<(&Estimate, usize)> = national
        .flat_map(|e| (0..context.sample.groupings.len()).map(move |g| (e, g)))
        .collect();
    work.into_par_iter()
        .filter_map(|(e, g)| context.inequality_split(table, weights, e, g))
        .collect()
}

/// A cell's persons' score when poor at `e`'s cutoff.
fn poor_score(weights: &IntegerWeights, e: &Estimate, cell: &Cell) -> Option<f64> {
    let score = weights.score(cell.profile);
    measures::is_poor(weights, e.cutoff, None, score, cell.flags)
        .then(|| weights.score_f64(cell.profile))
}

impl Context<'_> {
    /// The split of national estimate `e` over column `g`: the groups' moments from a
    /// pass over the round's cells, then the two parts' linearized variables from a
    /// second.
    fn inequality_split(
        &self,
        table: &Table,
        weights: &IntegerWeights,
        e: &Estimate,
        g: usize,
    ) -> Option<InequalitySplit> {
        let levels = self.sample.groupings[g].levels.len();
        let round = e.domain.round;
        let cells = || {
            (table.cells.iter())
                .filter(move |c| c.round == round && c.flags & OUTSIDE_EVERY_DOMAIN == 0)
        };
        // The persons without a level are the last group.
        let group = |cell: &Cell| table.level(cell, g).map_or(levels, |l| l as usize);
        let mut moments = vec![Moments::default(); levels + 1];
        let mut all = Moments::default();
        for cell in cells() {
            if let Some(c) = poor_score(weights, e, cell) {
                moments[group(cell)].add(cell.weight, c);
                all.add(cell.weight, c);
            }
        }
        if all.q <= 0.0 {
            return None;
        }
        let (q, a, v) = (all.q, all.mean(), all.spread() / all.q);
        let within = moments.iter().map(Moments::spread).sum::<f64>() / q;
        let means: Vec<f64> = moments
            .iter()
            .map(|m| if m.q > 0.0 { m.mean() } else { 0.0 })
            .collect();
        let design = self.design;
        let (n_psus, n_strata) = (design.psu_stratum.len(), design.n_strata());
        let mut sums = [
            Unitwise::new(n_psus, n_strata),
            Unitwise::new(n_psus, n_strata),
        ];
        for cell in cells() {
            let Some(c) = poor_score(weights, e, cell) else {
                continue;
            };
            let z_within = ((c - means[group(cell)]).powi(2) - within) / q;
            let z_all = ((c - a).powi(2) - v) / q;
            sums[0].add(design, cell, z_within);
            sums[1].add(design, cell, z_all - z_within);
        }
        let [v_within, v_between] = sums.map(|s| {
            let lin = s.linearized(design);
            self.covariance(&lin, &lin, true)
        });
        let interval = self.settings.interval;
        let between = (v - within).max(0.0);
        Some(InequalitySplit {
            column: g,
            round,
            cutoff: e.cutoff?,
            within: (within, self.quantiles.level(within, v_within, interval)),
            between: (between, self.quantiles.level(between, v_between, interval)),
        })
    }
}
