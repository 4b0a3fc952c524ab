//! The cutoff curve: an [`Analysis`] in, national H and M0 with their intervals at every
//! attainable deprivation score as the cutoff k out. Each k is another pass over the
//! table's cells, not over the rows.

use crate::error::Result;
use crate::exact::Exact;
use crate::identification::IntegerWeights;
use crate::inference::{self, Settings};
use crate::measures::{self, Domain, Measure};
use crate::methodology::Cutoff;
use crate::Analysis;

/// H and M0 (with intervals) at every distinct score as the cutoff, in percent.
pub type CurvePoint = (f64, (f64, f64, f64), (f64, f64, f64));

/// The national H and M0 of round `round` with their intervals at every distinct positive
/// deprivation score as the cutoff k (k in percent), from the analysis's table.
pub fn cutoff_curve(a: &Analysis, settings: &Settings, round: u32) -> Result<Vec<CurvePoint>> {
    let mut m = a.methodology.clone();
    m.cutoffs = attainable_cutoffs(a)?;
    m.groups.clear();
    let curve_weights = IntegerWeights::new(&m)?;
    let totals =
        inference::Totals::new(&a.table, &a.sample, &curve_weights, 0, settings.lonely_psu)?;
    let estimates = measures::estimate(
        &a.table,
        &totals.layout,
        &[],
        a.sample.round_info.len(),
        |d| totals.of(d),
    );
    let inference = inference::infer(&totals, &a.sample, &estimates, settings)?;
    // The national estimates of the round by measure and cutoff, looked up, not searched.
    let national = Domain {
        subgroup: None,
        round,
    };
    let index: rustc_hash::FxHashMap<(Measure, usize), usize> = estimates
        .iter()
        .enumerate()
        .filter(|(_, e)| e.domain == national && e.indicator.is_none())
        .filter_map(|(i, e)| e.cutoff.map(|c| ((e.measure, c), i)))
        .collect();
    let at = |measure: Measure, c: usize| {
        index
            .get(&(measure, c))
            .map(|&i| {
                let p = inference.levels[i];
                (100.0 * estimates[i].b, 100.0 * p.ll, 100.0 * p.ul)
            })
            .unwrap_or((f64::NAN, f64::NAN, f64::NAN))
    };
    Ok((0..m.cutoffs.len())
        .map(|c| {
            (
                m.cutoffs[c].percent(),
                at(Measure::H, c),
                at(Measure::M0, c),
            )
        })
        .collect())
}

/// Every distinct positive deprivation score of the table's cells under the analysis's
/// weights, ascending, as cutoffs.
pub fn attainable_cutoffs(a: &Analysis) -> Result<Vec<Cutoff>> {
    let weights = IntegerWeights::new(&a.methodology)?;
    let mut scores: Vec<i128> = a
        .table
        .cells
        .iter()
        .map(|c| weights.score(c.profile))
        .filter(|&s| s > 0)
        .collect();
    scores.sort_unstable();
    scores.dedup();
    Ok(scores
        .iter()
        .map(|&s| Cutoff {
            value: Exact {
                value: num_rational::Ratio::new(s, weights.denominator),
                decimal: false,
            },
        })
        .collect())
}
