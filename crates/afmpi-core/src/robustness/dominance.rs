//! Dominance: a finished [`Analysis`] in; for every two levels of a subgroup column and
//! every two rounds of a domain, the difference of H(k) and of M0(k) at every attainable
//! cutoff k (within bounds), the ranges of k where one is significantly above the other,
//! and whether one is above at every k out.
//!
//! H(k) is the share of persons whose deprivation score reaches k: the complementary
//! distribution function of the scores. When A's H(k) is at or above B's at every k,
//! A's scores first-order dominate B's, and A is at least as poor under every cutoff
//! (M0(k) = k·H(k) + ∫ₖ H follows). The comparisons are those of [`super::robustness`]
//! at every k, from one pass over the cells for all k at once. The cutoffs where
//! neither population has anyone poor say nothing and are left out of the verdict.

use super::{evaluate_lines, Outcome, Pair, Value};
use crate::curve::attainable_cutoffs;
use crate::error::Result;
use crate::exact::Exact;
use crate::inference::Settings;
use crate::measures::Measure;
use crate::methodology::Cutoff;
use crate::Analysis;

/// A comparison over the cutoffs.
#[derive(Clone, Debug, PartialEq)]
pub struct Verdict {
    pub measure: Measure,
    pub pair: Pair,
    /// Ranges of k (in percent, first and last cutoff of each run of cutoffs) where the
    /// first is significantly above the second, and where below.
    pub above: Vec<(f64, f64)>,
    pub below: Vec<(f64, f64)>,
    /// 1 when the first's estimate is at or above the second's at every cutoff (and
    /// above at one), −1 the reverse, 0 when the curves cross.
    pub dominates: i8,
    /// 1 (−1) when the first is significantly above (below) at every cutoff, else 0.
    pub significantly: i8,
    /// The cutoffs that count (at least one population has someone poor).
    pub cutoffs: usize,
}

/// Everything `dominance` finds.
pub struct Dominance {
    /// The cutoffs examined, ascending; a value's or outcome's `spec` indexes them.
    pub cutoffs: Vec<Cutoff>,
    pub values: Vec<Value>,
    pub outcomes: Vec<Outcome>,
    pub verdicts: Vec<Verdict>,
}

/// The comparisons at every attainable cutoff between `from` and `to` (inclusive).
pub fn dominance(
    a: &Analysis,
    settings: &Settings,
    from: Option<Exact>,
    to: Option<Exact>,
) -> Result<Dominance> {
    let cutoffs: Vec<Cutoff> = attainable_cutoffs(a)?
        .into_iter()
        .filter(|c| from.is_none_or(|f| c.value.value >= f.value))
        .filter(|c| to.is_none_or(|t| c.value.value <= t.value))
        .collect();
    let own: Vec<_> = a
        .methodology
        .indicators
        .iter()
        .map(|i| i.weight.value)
        .collect();
    if cutoffs.is_empty() {
        return Ok(Dominance {
            cutoffs,
            values: Vec::new(),
            outcomes: Vec::new(),
            verdicts: Vec::new(),
        });
    }
    let (values, mut outcomes) = evaluate_lines(a, &own, cutoffs.clone(), settings)?;
    outcomes.sort_by_key(|o| (o.measure as u8, o.pair, o.spec));
    let verdicts = outcomes
        .chunk_by(|x, y| (x.measure, x.pair) == (y.measure, y.pair))
        .map(|curve| verdict(curve, &cutoffs))
        .collect();
    Ok(Dominance {
        cutoffs,
        values,
        outcomes,
        verdicts,
    })
}

/// One comparison's verdict from its outcomes in the order of the cutoffs.
fn verdict(curve: &[Outcome], cutoffs: &[Cutoff]) -> Verdict {
    // A cutoff where both estimates are 0 (no one poor in either) says nothing.
    let informative: Vec<&Outcome> = curve
        .iter()
        .filter(|o| o.contrast.b != 0.0 || o.contrast.precision.se > 0.0)
        .collect();
    let k = |o: &Outcome| cutoffs[o.spec].percent();
    let runs = |direction: i8| {
        let mut ranges: Vec<(f64, f64)> = Vec::new();
        let mut open = false;
        for o in &informative {
            match (o.contrast.direction() == direction, open) {
                (true, true) => ranges.last_mut().expect("an open range").1 = k(o),
                (true, false) => ranges.push((k(o), k(o))),
                (false, _) => {}
            }
            open = o.contrast.direction() == direction;
        }
        ranges
    };
    let all =
        |f: &dyn Fn(&Outcome) -> bool| !informative.is_empty() && informative.iter().all(|o| f(o));
    let dominates =
        if all(&|o| o.contrast.b >= 0.0) && informative.iter().any(|o| o.contrast.b > 0.0) {
            1
        } else if all(&|o| o.contrast.b <= 0.0) && informative.iter().any(|o| o.contrast.b < 0.0) {
            -1
        } else {
            0
        };
    let significantly = [1, -1]
        .into_iter()
        .find(|&d| all(&|o| o.contrast.direction() == d))
        .unwrap_or(0);
    Verdict {
        measure: curve[0].measure,
        pair: curve[0].pair,
        above: runs(1),
        below: runs(-1),
        dominates,
        significantly,
        cutoffs: informative.len(),
    }
}
