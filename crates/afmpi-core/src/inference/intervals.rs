//! Intervals: an estimate and its variance in, its standard error and confidence interval
//! out — logit intervals with the t quantile at the design's degrees of freedom for
//! levels (as the survey package's `svyciprop(method = "logit")`), Wald intervals with
//! the normal quantile for changes.

use statrs::distribution::{ContinuousCDF, Normal, StudentsT};

use super::Interval;

/// Standard error and confidence interval of one estimate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Precision {
    pub se: f64,
    pub ll: f64,
    pub ul: f64,
}

pub(super) const UNDEFINED: Precision = Precision {
    se: f64::NAN,
    ll: f64::NAN,
    ul: f64::NAN,
};

pub(super) fn normal_quantile(p: f64) -> f64 {
    Normal::new(0.0, 1.0)
        .expect("standard normal")
        .inverse_cdf(p)
}

/// Degrees of freedom above which the t quantile comes from its expansion about the
/// normal quantile.
pub(super) const LARGE_DF: f64 = 1e4;

/// The quantile of Student's t distribution at probability `p` with `df` degrees of
/// freedom (NaN below 1). statrs computes it from the inverse incomplete beta function,
/// which loses its accuracy for large `df` (statrs 0.18 gives 1.8266 for the 0.975
/// quantile at 10^7 degrees of freedom, not 1.95996) and does not return at 10^8 — the
/// degrees of freedom of a census, where each person is a PSU. Above `LARGE_DF` (10^4) the
/// Cornish-Fisher expansion of t about the normal quantile z (Abramowitz and Stegun
/// 26.7.5, four terms) is exact to the last bits; at 10^4 the two agree to 10^-12.
pub fn t_quantile(p: f64, df: f64) -> f64 {
    if df.is_nan() || df < 1.0 {
        return f64::NAN;
    }
    if df <= LARGE_DF {
        return StudentsT::new(0.0, 1.0, df)
            .map(|d| d.inverse_cdf(p))
            .unwrap_or(f64::NAN);
    }
    let z = normal_quantile(p);
    let (z2, v) = (z * z, df);
    let g1 = z * (z2 + 1.0) / 4.0;
    let g2 = z * ((5.0 * z2 + 16.0) * z2 + 3.0) / 96.0;
    let g3 = z * (((3.0 * z2 + 19.0) * z2 + 17.0) * z2 - 15.0) / 384.0;
    let g4 = z * ((((79.0 * z2 + 776.0) * z2 + 1482.0) * z2 - 1920.0) * z2 - 945.0) / 92160.0;
    z + g1 / v + g2 / (v * v) + g3 / v.powi(3) + g4 / v.powi(4)
}

/// The quantiles of the intervals.
pub(super) struct Quantiles {
    /// t quantile at the design's degrees of freedom (levels).
    pub(super) t: f64,
    /// Normal quantile (changes).
    pub(super) z: f64,
}

impl Quantiles {
    pub(super) fn new(level: f64, df: f64) -> Quantiles {
        let p = 1.0 - (1.0 - level) / 2.0;
        Quantiles {
            t: t_quantile(p, df),
            z: normal_quantile(p),
        }
    }

    pub(super) fn level(&self, b: f64, var: f64, interval: Interval) -> Precision {
        let se = var.max(0.0).sqrt();
        if !b.is_finite() || !se.is_finite() {
            return UNDEFINED;
        }
        match interval {
            Interval::Wald => Precision {
                se,
                ll: b - self.t * se,
                ul: b + self.t * se,
            },
            Interval::Logit if b <= 0.0 || b >= 1.0 => Precision { se, ll: b, ul: b },
            Interval::Logit => {
                // expit(logit(b) ∓ h) with odds = b/(1 − b) is odds/(odds + e^(±h)):
                // one exponential, no logarithm.
                let odds = b / (1.0 - b);
                let half = self.t * se / (b * (1.0 - b));
                let e = half.exp();
                Precision {
                    se,
                    ll: odds / (odds + e),
                    ul: odds / (odds + e.recip()),
                }
            }
        }
    }

    pub(super) fn change(&self, b: f64, var: f64) -> Precision {
        let se = var.max(0.0).sqrt();
        if !b.is_finite() || !se.is_finite() {
            return UNDEFINED;
        }
        Precision {
            se,
            ll: b - self.z * se,
            ul: b + self.z * se,
        }
    }
}
