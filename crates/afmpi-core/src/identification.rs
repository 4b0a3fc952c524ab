//! Identification in integers: a validated [`Methodology`] in, its weights and cutoffs
//! over one common denominator out ([`IntegerWeights`]), so that "poor when c_i >= k" is
//! an integer comparison, never a floating-point one.

use num_integer::Integer;
use num_rational::Ratio;

use crate::error::Result;
use crate::methodology::Methodology;

/// Integer arithmetic for identification: every weight and cutoff over one common
/// denominator, so that `score >= k` is an integer comparison.
#[derive(Clone, Debug)]
pub struct IntegerWeights {
    /// The common denominator of all weights and cutoffs.
    pub denominator: i128,
    /// Indicator weights times the denominator.
    pub weights: Vec<i128>,
    /// Cutoffs times the denominator.
    pub cutoffs: Vec<i128>,
}

impl IntegerWeights {
    pub fn new(m: &Methodology) -> Result<IntegerWeights> {
        let all: Vec<Ratio<i128>> = m
            .indicators
            .iter()
            .map(|i| i.weight.value)
            .chain(m.cutoffs.iter().map(|c| c.value.value))
            .collect();
        let mut denominator: i128 = 1;
        for r in &all {
            let step = denominator / denominator.gcd(r.denom());
            // Past i128, the denominator is as refused as one just past the bound below.
            denominator = step.checked_mul(*r.denom()).unwrap_or(i128::MAX);
            if denominator > (1i128 << 100) / 64 {
                return Err(crate::methodology::key_err("dimension", "the weights and cutoffs together are written too finely for exact arithmetic: use fewer decimal places or simpler fractions"));
            }
        }
        let scale = |r: &Ratio<i128>| r.numer() * (denominator / r.denom());
        Ok(IntegerWeights {
            denominator,
            weights: m
                .indicators
                .iter()
                .map(|i| scale(&i.weight.value))
                .collect(),
            cutoffs: m.cutoffs.iter().map(|c| scale(&c.value.value)).collect(),
        })
    }

    /// The deprivation score of a profile, times the denominator.
    pub fn score(&self, profile: u64) -> i128 {
        let mut s = 0;
        let mut bits = profile;
        while bits != 0 {
            let j = bits.trailing_zeros() as usize;
            s += self.weights[j];
            bits &= bits - 1;
        }
        s
    }

    /// The score as a float, for reporting only.
    pub fn score_f64(&self, profile: u64) -> f64 {
        self.score(profile) as f64 / self.denominator as f64
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::rules::Words;

    #[test]
    fn integer_weights_decide_exactly() {
        let m = Methodology::from_toml(crate::methodology::tests::BASE, &Words).unwrap();
        let iw = IntegerWeights::new(&m).unwrap();
        // a + b = 1/2 >= 1/3 and >= 33.33%; a alone = 1/4 is below both.
        assert!(iw.score(0b011) >= iw.cutoffs[1]);
        assert!(iw.score(0b001) < iw.cutoffs[0]);
    }
}
