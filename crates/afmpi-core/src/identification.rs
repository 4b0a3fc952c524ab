//! Identification in integers: a validated [`Methodology`] in, its weights and cutoffs
//! over one common denominator out ([`IntegerWeights`]), so that "poor when c_i >= k" is
//! an integer comparison, never a floating-point one. Under `identification = ">"`
//! (c_i > k) the least poor score is the next integer above k: the same comparison, so
//! every measure, breakdown and route follows the rule from one place.

use num_integer::Integer;
use num_rational::Ratio;

use crate::error::Result;
use crate::methodology::{Identification, Methodology};

/// Integer arithmetic for identification: every weight and cutoff over one common
/// denominator, so that `score >= k` is an integer comparison.
#[derive(Clone, Debug)]
pub struct IntegerWeights {
    /// The common denominator of all weights and cutoffs.
    pub denominator: i128,
    /// Indicator weights times the denominator.
    pub weights: Vec<i128>,
    /// For each cutoff, the least score (times the denominator) that is poor: k times the
    /// denominator under `>=`, one more under `>`.
    pub thresholds: Vec<i128>,
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
            thresholds: m
                .cutoffs
                .iter()
                .map(|c| match m.identification {
                    Identification::AtLeast => scale(&c.value.value),
                    Identification::Above => scale(&c.value.value) + 1,
                })
                .collect(),
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

    /// Whether a score (times the denominator) is poor at cutoff `c`.
    pub fn poor(&self, score: i128, c: usize) -> bool {
        score >= self.thresholds[c]
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
        assert!(iw.poor(iw.score(0b011), 1));
        assert!(!iw.poor(iw.score(0b001), 0));
    }

    #[test]
    fn a_score_equal_to_the_cutoff_is_poor_only_under_at_least() {
        // Three indicators of weight 1/3: scores land exactly on the cutoffs.
        let text = "name = \"t\"\ncutoffs = [\"1/3\", \"2/3\"]\n[[dimension]]\nname = \"d\"\n\
                    [[dimension.indicator]]\ncolumn = \"a\"\n[[dimension.indicator]]\ncolumn = \"b\"\n\
                    [[dimension.indicator]]\ncolumn = \"c\"\n";
        let at_least = Methodology::from_toml(text, &Words).unwrap();
        assert_eq!(at_least.identification, Identification::AtLeast);
        let above =
            Methodology::from_toml(&format!("identification = \">\"\n{text}"), &Words).unwrap();
        let (ge, gt) = (
            IntegerWeights::new(&at_least).unwrap(),
            IntegerWeights::new(&above).unwrap(),
        );
        // One deprivation of three scores exactly 1/3; two score exactly 2/3.
        for (profile, ge_poor, gt_poor) in [
            (0b001, [true, false], [false, false]),
            (0b011, [true, true], [true, false]),
            (0b111, [true, true], [true, true]),
            (0b000, [false, false], [false, false]),
        ] {
            for c in 0..2 {
                assert_eq!(
                    ge.poor(ge.score(profile), c),
                    ge_poor[c],
                    "{profile:b} >= {c}"
                );
                assert_eq!(
                    gt.poor(gt.score(profile), c),
                    gt_poor[c],
                    "{profile:b} > {c}"
                );
            }
        }
        let e = Methodology::from_toml(&format!("identification = \"=>\"\n{text}"), &Words)
            .unwrap_err();
        assert!(e.to_string().contains("identification"), "{e}");
    }
}
