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

use ndarray::{arr1, Array2};

use super::totals::UnitTotals;
use super::variance::{Context, Keep, Linearized};
use crate::domain::Domain;
use crate::measures::{self, Estimate, Measure};

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
        let key = measures::order_of(measure, None, like.cutoff, like.group, domain);
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
    /// own PSU, estimates of one domain or of different rounds (others share rows that
    /// the units do not identify, and their covariance is NaN).
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
