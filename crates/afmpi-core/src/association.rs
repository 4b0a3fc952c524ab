//! Association between indicators (Alkire et al. 2015, *Multidimensional Poverty
//! Measurement and Analysis*, ch. 7.3; Stata mpitb's `assoc`): the table's cells and the
//! methodology's integer weights in, for every pair of indicators the weighted Cramér's
//! V and the redundancy measure R0 out, as ndarray matrices — among everyone
//! (uncensored deprivations) and among the poor at each cutoff, for each round.
//!
//! Both measures come from the 2 × 2 table of two deprivations, in weighted shares: with
//! P_j and P_k the shares deprived in each and P_jk the share deprived in both,
//! Cramér's V (for a 2 × 2 table, the phi coefficient, signed) is
//! (P_jk − P_j P_k) / √(P_j (1 − P_j) P_k (1 − P_k)), and R0 = P_jk / min(P_j, P_k), the
//! share of the less common deprivation that comes with the other. The cells hold every
//! profile's weight, so one pass over them fills every matrix; nothing looks at rows.
//! A measure is NaN where it is undefined (an indicator nobody, or everybody, in the
//! population is deprived in).

use ndarray::Array2;

use crate::identification::IntegerWeights;
use crate::tally::Table;

/// Whose deprivations are associated.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Population {
    /// Everyone: the uncensored deprivations.
    All,
    /// The poor at the cutoff of this index (their deprivations are the censored ones).
    Poor(usize),
}

/// The association matrices of one population in one round.
#[derive(Clone, Debug)]
pub struct Association {
    pub population: Population,
    /// The round's index (in the sample's rounds).
    pub round: u32,
    /// The population's weight (sum of sampling weights).
    pub weight: f64,
    /// Cramér's V of each pair of indicators (1 on the diagonal).
    pub cramers_v: Array2<f64>,
    /// The redundancy R0 of each pair (1 on the diagonal).
    pub redundancy: Array2<f64>,
}

/// Weighted counts of one population: its weight, and for each pair of indicators the
/// weight deprived in both (the diagonal: deprived in one).
struct Counts {
    weight: f64,
    both: Array2<f64>,
}

impl Counts {
    fn new(n: usize) -> Counts {
        Counts {
            weight: 0.0,
            both: Array2::zeros((n, n)),
        }
    }

    fn add(&mut self, profile: u64, weight: f64) {
        self.weight += weight;
        let mut bits = profile;
        while bits != 0 {
            let j = bits.trailing_zeros() as usize;
            let mut rest = bits;
            while rest != 0 {
                let k = rest.trailing_zeros() as usize;
                self.both[[j, k]] += weight;
                rest &= rest - 1;
            }
            bits &= bits - 1;
        }
    }

    /// The matrices of these counts.
    fn matrices(&self) -> (Array2<f64>, Array2<f64>) {
        let n = self.both.nrows();
        let share = |j: usize, k: usize| self.both[[j.min(k), j.max(k)]] / self.weight;
        let mut v = Array2::from_elem((n, n), f64::NAN);
        let mut r0 = Array2::from_elem((n, n), f64::NAN);
        for j in 0..n {
            for k in 0..n {
                let (pj, pk, pjk) = (share(j, j), share(k, k), share(j, k));
                let spread = pj * (1.0 - pj) * pk * (1.0 - pk);
                if spread > 0.0 {
                    v[[j, k]] = if j == k {
                        1.0
                    } else {
                        (pjk - pj * pk) / spread.sqrt()
                    };
                }
                let smaller = pj.min(pk);
                if smaller > 0.0 {
                    r0[[j, k]] = if j == k { 1.0 } else { pjk / smaller };
                }
            }
        }
        (v, r0)
    }
}

/// Every population's association matrices in every round: everyone first, then the
/// poor at each cutoff in the methodology's order; round by round.
pub fn associations(
    table: &Table,
    weights: &IntegerWeights,
    n_indicators: usize,
    n_rounds: usize,
) -> Vec<Association> {
    let populations: Vec<Population> = std::iter::once(Population::All)
        .chain((0..weights.thresholds.len()).map(Population::Poor))
        .collect();
    let mut counts: Vec<Vec<Counts>> = (0..n_rounds.max(1))
        .map(|_| {
            populations
                .iter()
                .map(|_| Counts::new(n_indicators))
                .collect()
        })
        .collect();
    for cell in &table.cells {
        let Some(round) = counts.get_mut(cell.round as usize) else {
            continue;
        };
        if cell.flags & crate::sample::OUTSIDE_EVERY_DOMAIN != 0 {
            continue;
        }
        let score = weights.score(cell.profile);
        for (p, population) in populations.iter().enumerate() {
            let member = match population {
                Population::All => true,
                Population::Poor(c) => weights.poor(score, *c),
            };
            if member {
                // The diagonal and the upper triangle: `add` visits j <= k.
                round[p].add(cell.profile, cell.weight);
            }
        }
    }
    let mut out = Vec::new();
    for (p, &population) in populations.iter().enumerate() {
        for (t, round) in counts.iter().enumerate() {
            let c = &round[p];
            let (cramers_v, redundancy) = c.matrices();
            out.push(Association {
                population,
                round: t as u32,
                weight: c.weight,
                cramers_v,
                redundancy,
            });
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::tally::Cell;

    fn cell(round: u32, profile: u64, weight: f64) -> Cell {
        Cell {
            round,
            stratum: 0,
            psu: 0,
            levels: 0,
            profile,
            flags: 0,
            gaps: 0,
            weight,
            weight_sq: weight * weight,
            count: 1,
        }
    }

    /// Two indicators by hand: weights 1 (both), 2 (only the first), 3 (only the
    /// second), 4 (neither), out of 10.
    #[test]
    fn a_two_by_two_table_by_hand() {
        let table = Table::new(
            vec![
                cell(0, 0b11, 1.0),
                cell(0, 0b01, 2.0),
                cell(0, 0b10, 3.0),
                cell(0, 0, 4.0),
            ],
            Vec::new(),
        );
        let weights = IntegerWeights {
            denominator: 2,
            weights: vec![1, 1],
            thresholds: vec![1, 2],
        };
        let a = associations(&table, &weights, 2, 1);
        assert_eq!(a.len(), 3);
        let all = &a[0];
        assert_eq!(all.population, Population::All);
        assert_eq!(all.weight, 10.0);
        // P1 = 0.3, P2 = 0.4, P12 = 0.1: V = (0.1 - 0.12) / sqrt(0.3 0.7 0.4 0.6).
        let v = (0.1 - 0.12) / (0.3f64 * 0.7 * 0.4 * 0.6).sqrt();
        approx::assert_relative_eq!(all.cramers_v[[0, 1]], v, max_relative = 1e-12);
        approx::assert_relative_eq!(all.cramers_v[[1, 0]], v, max_relative = 1e-12);
        approx::assert_relative_eq!(all.redundancy[[0, 1]], 0.1 / 0.3, max_relative = 1e-12);
        assert_eq!(all.cramers_v[[0, 0]], 1.0);
        // Poor at k = 1/2 (one of two): weights 1, 2, 3, of 6. P1 = 1/2, P2 = 2/3,
        // P12 = 1/6: V = (1/6 - 1/3) / sqrt(1/2 1/2 2/3 1/3); R0 = (1/6)/(1/2).
        let poor = &a[1];
        assert_eq!(poor.population, Population::Poor(0));
        assert_eq!(poor.weight, 6.0);
        let v = (1.0 / 6.0 - 1.0 / 3.0) / (0.25f64 * 2.0 / 9.0).sqrt();
        approx::assert_relative_eq!(poor.cramers_v[[0, 1]], v, max_relative = 1e-12);
        approx::assert_relative_eq!(poor.redundancy[[0, 1]], 1.0 / 3.0, max_relative = 1e-12);
        // Poor at k = 1 (both): everyone of them deprived in both, so V is undefined
        // and R0 is 1.
        let all_deprived = &a[2];
        assert_eq!(all_deprived.weight, 1.0);
        assert!(all_deprived.cramers_v[[0, 1]].is_nan());
        assert_eq!(all_deprived.redundancy[[0, 1]], 1.0);
    }

    /// Against a row-by-row computation on the engine's synthetic sample.
    #[test]
    fn the_cells_give_the_row_by_row_shares() {
        let m = crate::testing::methodology();
        let sample = crate::testing::sample(3_000, 2);
        let table = crate::tally::tally(&sample).unwrap();
        let weights = IntegerWeights::new(&m).unwrap();
        let n = m.indicators.len();
        let a = associations(&table, &weights, n, sample.round_info.len());
        for assoc in a.iter().filter(|a| a.round == 0) {
            let member = |p: u64| match assoc.population {
                Population::All => true,
                Population::Poor(c) => weights.poor(weights.score(p), c),
            };
            let rows: Vec<usize> = (0..sample.len())
                .filter(|&i| sample.rounds[i] == 0 && member(sample.profiles[i]))
                .collect();
            let total: f64 = rows.iter().map(|&i| sample.weights[i]).sum();
            let share = |f: &dyn Fn(u64) -> bool| {
                rows.iter()
                    .filter(|&&i| f(sample.profiles[i]))
                    .map(|&i| sample.weights[i])
                    .sum::<f64>()
                    / total
            };
            for j in 0..n {
                for k in 0..n {
                    if j == k {
                        continue;
                    }
                    let pj = share(&|p| p >> j & 1 == 1);
                    let pk = share(&|p| p >> k & 1 == 1);
                    let pjk = share(&|p| p >> j & 1 == 1 && p >> k & 1 == 1);
                    let spread = pj * (1.0 - pj) * pk * (1.0 - pk);
                    if spread > 0.0 {
                        let v = (pjk - pj * pk) / spread.sqrt();
                        approx::assert_relative_eq!(
                            assoc.cramers_v[[j, k]],
                            v,
                            max_relative = 1e-9,
                            epsilon = 1e-12
                        );
                    }
                    if pj.min(pk) > 0.0 {
                        approx::assert_relative_eq!(
                            assoc.redundancy[[j, k]],
                            pjk / pj.min(pk),
                            max_relative = 1e-9,
                            epsilon = 1e-12
                        );
                    }
                }
            }
        }
    }
}
