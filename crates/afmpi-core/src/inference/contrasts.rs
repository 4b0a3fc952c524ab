//! Contrasts: sets of estimates in — the levels of one subgroup column in one round at
//! one poverty line, or one domain's rounds — and every difference between two members
//! of a set, with its standard error, out.
//!
//! The levels of a column share strata and PSUs (one cluster holds persons of several
//! levels), and the rounds of a panel share PSUs: their estimates are correlated, and
//! Var(θ_a − θ_b) = V_a + V_b − 2·C_ab. Each set's covariance matrix is made once
//! ([`Context::joint_covariance`], an ndarray matrix), so that a column of L levels costs
//! L linearizations and L² covariances, not a linearization per pair. Intervals are Wald
//! intervals with the normal quantile, as for changes between rounds.

use ndarray::Array2;
use rayon::prelude::*;

use super::intervals::Precision;
use super::variance::Context;
use super::{Settings, Totals};
use crate::measures::Estimate;
use crate::sample::Sample;

/// The difference between two estimates, first minus second.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Contrast {
    /// The two estimates' indices.
    pub first: usize,
    pub second: usize,
    pub b: f64,
    pub precision: Precision,
}

impl Contrast {
    /// 1 when the first is significantly above the second, −1 when below, 0 when the
    /// interval holds 0 (or is undefined).
    pub fn direction(&self) -> i8 {
        if self.precision.ll > 0.0 {
            1
        } else if self.precision.ul < 0.0 {
            -1
        } else {
            0
        }
    }
}

/// The covariance matrix of these estimates (see [`Context::joint_covariance`]).
pub fn covariance_matrix(
    totals: &Totals,
    sample: &Sample,
    estimates: &[Estimate],
    settings: &Settings,
    members: &[usize],
) -> Array2<f64> {
    Context::new(totals, sample, estimates, settings).joint_covariance(members)
}

/// The variance of each of these estimates, in parallel.
pub fn variances(
    totals: &Totals,
    sample: &Sample,
    estimates: &[Estimate],
    settings: &Settings,
    members: &[usize],
) -> Vec<f64> {
    let context = Context::new(totals, sample, estimates, settings);
    members
        .par_iter()
        .map(|&i| context.joint_covariance(&[i])[[0, 0]])
        .collect()
}

/// For each set, the contrast of every two of its members (i before j in the set: the
/// difference member i − member j), sets in parallel.
pub fn contrasts(
    totals: &Totals,
    sample: &Sample,
    estimates: &[Estimate],
    settings: &Settings,
    sets: &[Vec<usize>],
) -> Vec<Vec<Contrast>> {
    let context = Context::new(totals, sample, estimates, settings);
    sets.par_iter()
        .map(|members| context.contrasts_within(members))
        .collect()
}

impl Context<'_> {
    fn contrasts_within(&self, members: &[usize]) -> Vec<Contrast> {
        let cov = self.joint_covariance(members);
        let n = members.len();
        let mut out = Vec::with_capacity(n * n.saturating_sub(1) / 2);
        for i in 0..n {
            for j in i + 1..n {
                let (first, second) = (members[i], members[j]);
                let b = self.estimates[first].b - self.estimates[second].b;
                let var = cov[[i, i]] + cov[[j, j]] - 2.0 * cov[[i, j]];
                out.push(Contrast {
                    first,
                    second,
                    b,
                    precision: self.quantiles.change(b, var),
                });
            }
        }
        out
    }
}
