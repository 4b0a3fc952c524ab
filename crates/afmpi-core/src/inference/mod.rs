//! Inference: the sufficient-statistics table and the point estimates in; standard
//! errors, confidence intervals and changes between rounds out.
//!
//! Every measure but one is a ratio R = Σ w·y / Σ w·x over a domain (a round, and the
//! whole sample or one subgroup level); inequality among the poor, V = S2/Q − (S1/Q)²,
//! linearizes to z = w (c² − 2A c + A² − V)/Q over the poor, made from the same unit
//! totals. Its Taylor linearization is z_i = D_i w_i (y_i − R x_i) / Σ D w x,
//! and since y and x depend on the deprivation profile only, the PSU totals of z come
//! straight from the table's cells: no row is read again. The variance is the survey
//! package's stratified, with-replacement first-stage estimator
//!
//! ```text
//! V = Σ_h n_h/(n_h − 1) Σ_c (z_hc − z̄_h)²
//! ```
//!
//! where n_h counts every PSU of stratum h in the design, so PSUs without a member of the
//! domain contribute zero totals. The same sum over two estimates gives their covariance;
//! a change between rounds takes its standard error by the delta method from the joint
//! covariance of the two rounds' estimates (rounds that share PSUs are correlated, and
//! that is kept). Degrees of freedom are PSUs minus strata. Level intervals are logit
//! intervals with the t quantile, as the survey package's `svyciprop(method = "logit")`;
//! change intervals are Wald intervals with the normal quantile. A change of M0 also
//! comes split into its parts due to H and to A ([`decompose`]), each a function of four
//! estimates whose joint covariance the same sums give; and any two estimates of a set
//! (the levels of a column, a domain's rounds) are contrasted from the set's covariance
//! matrix ([`contrasts`]).
//!
//! Without a PSU column each row is its own PSU: then Σ_c z_c² within a cell is
//! (y − R x)² / X² times the cell's sum of squared weights, which the table keeps, so even
//! that design costs O(cells).
//!
//! Why it is fast: each domain's totals per sampling unit are added up once from the
//! table's cells, domain by domain in parallel, straight into one column per total
//! ([`Totals`]); the point estimates are ratios of the columns' sums. An estimate's
//! standard error is then one pass over two contiguous columns of its domain's units, in
//! four lanes, over the strata where the domain has units; an indicator's actb takes its
//! covariances from its hdk (the same linearized variable times w_j). The estimates come
//! in the results' order, so neither the series nor the results are sorted.

mod changes;
mod contrasts;
mod decompose;
mod design;
mod inequality;
mod intervals;
mod totals;
mod variance;

use rayon::prelude::*;

pub use changes::{change, has_changes, Change, ChangeType};
pub use contrasts::{contrasts, covariance_matrix, variances, Contrast};
pub use design::Design;
pub use inequality::InequalitySplit;
pub use intervals::{t_quantile, Precision};
pub use totals::Totals;

use crate::error::Result;
use crate::measures::Estimate;
use crate::sample::Sample;
use intervals::Quantiles;
use variance::{actb_twins, same_series, Context, Scratch, SERIES_CHUNK};

/// What to do with a stratum that has a single PSU (the survey package's options).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum LonelyPsu {
    /// Stop with an error naming the stratum (the default).
    Fail,
    /// The stratum contributes nothing to the variance.
    Remove,
    /// The stratum's PSU is centred on the grand mean of all PSU totals instead of its
    /// stratum's mean.
    Adjust,
    /// The stratum gets the average variance contribution of the other strata.
    Average,
}

/// The kind of confidence interval for levels.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Interval {
    /// On the logit scale with the t quantile (mpitbR, svyciprop): stays inside [0, 1].
    Logit,
    /// Symmetric: estimate ± t quantile × standard error.
    Wald,
}

/// Which pairs of rounds changes compare.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ChangePairs {
    /// First round to last.
    Total,
    /// Each round to the next.
    Insequence,
}

/// Settings of the inference.
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    /// Confidence level, e.g. 0.95.
    pub level: f64,
    pub interval: Interval,
    pub lonely_psu: LonelyPsu,
    pub changes: ChangePairs,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            level: 0.95,
            interval: Interval::Logit,
            lonely_psu: LonelyPsu::Fail,
            changes: ChangePairs::Total,
        }
    }
}

/// All that inference produces.
pub struct Inference {
    /// One per estimate, in the estimates' order.
    pub levels: Vec<Precision>,
    pub changes: Vec<Change>,
    pub design: Design,
    /// The national inequality among the poor split within and between the levels of
    /// each subgroup column (when the methodology asks for inequality).
    pub splits: Vec<InequalitySplit>,
}

/// Series' results: each estimate's precision, in the estimates' order, and the changes.
pub(super) type SeriesResult = (Vec<Precision>, Vec<Change>);

/// Computes standard errors, intervals and changes for every estimate.
pub fn infer(
    totals: &Totals,
    sample: &Sample,
    estimates: &[Estimate],
    settings: &Settings,
) -> Result<Inference> {
    let (design, layout) = (&totals.design, &totals.layout);
    // Series: one measure of one indicator at one cutoff in one subgroup, over the rounds.
    // The estimates come series by series, round by round ([`crate::measures::estimate`]).
    let order: Vec<usize> = (0..estimates.len()).collect();
    let series: Vec<&[usize]> = order
        .chunk_by(|&a, &b| same_series(&estimates[a], &estimates[b]))
        .collect();
    let context = Context::new(totals, sample, estimates, settings);
    // An indicator's actb is w_j times its hdk, and so is its linearized variable: its
    // covariances are w_j² times those of the hdk series, which are worked out once.
    let twins = actb_twins(&series, estimates);
    let covariances = Covariances::of(&context, &series, &twins);
    let results: Vec<SeriesResult> = series
        .par_chunks(SERIES_CHUNK)
        .enumerate()
        .map(|(c, chunk)| {
            let mut result = SeriesResult::default();
            for (s, members) in (c * SERIES_CHUNK..).zip(chunk) {
                let (from, scale) = match twins[s] {
                    None => (s, 1.0),
                    Some(hdk) => {
                        let j = estimates[members[0]].indicator.expect("an indicator");
                        (hdk, layout.float_weights[j].powi(2))
                    }
                };
                let cov = covariances.of_series(from, members.len());
                context.levels_and_changes(members, cov, scale, &mut result);
            }
            result
        })
        .collect();
    // The series are runs of the estimates in order, so their levels are too.
    let (mut levels, mut changes) = (Vec::with_capacity(estimates.len()), Vec::new());
    for (lv, ch) in results {
        levels.extend(lv);
        changes.extend(ch);
    }
    Ok(Inference {
        levels,
        changes,
        design: design.clone(),
        splits: Vec::new(),
    })
}

/// The whole sample's changes of M0 split, for each subgroup column, into the parts
/// within its levels and due to shifts of population between them
/// ([`decompose::population_shifts`]), in the order of [`Change::order`]: a pass over
/// the table's cells per column, poverty line and pair of rounds.
pub fn population_shifts(
    totals: &Totals,
    table: &crate::tally::Table,
    weights: &crate::identification::IntegerWeights,
    sample: &Sample,
    estimates: &[Estimate],
    settings: &Settings,
) -> Vec<Change> {
    let context = Context::new(totals, sample, estimates, settings);
    let mut changes = decompose::population_shifts(&context, totals, table, weights);
    changes.sort_by_key(Change::order);
    changes
}

/// Every national estimate of inequality among the poor split within and between the
/// levels of each subgroup column ([`inequality`]): a pass over the round's cells per
/// estimate and column, in parallel.
pub fn inequality_splits(
    totals: &Totals,
    table: &crate::tally::Table,
    weights: &crate::identification::IntegerWeights,
    sample: &Sample,
    estimates: &[Estimate],
    settings: &Settings,
) -> Vec<InequalitySplit> {
    let context = Context::new(totals, sample, estimates, settings);
    inequality::inequality_splits(&context, table, weights)
}

impl<'a> Context<'a> {
    pub(super) fn new(
        totals: &'a Totals,
        sample: &'a Sample,
        estimates: &'a [Estimate],
        settings: &'a Settings,
    ) -> Context<'a> {
        Context {
            design: &totals.design,
            layout: &totals.layout,
            domains: &totals.domains,
            estimates,
            sample,
            settings,
            quantiles: Quantiles::new(settings.level, totals.design.df),
            pairs: change_pairs(sample.round_info.len() as u32, settings.changes),
        }
    }
}

/// The pairs of rounds whose changes are reported.
fn change_pairs(n_rounds: u32, changes: ChangePairs) -> Vec<(u32, u32)> {
    match changes {
        _ if n_rounds < 2 => Vec::new(),
        ChangePairs::Total => vec![(0, n_rounds - 1)],
        ChangePairs::Insequence => (0..n_rounds - 1).map(|r| (r, r + 1)).collect(),
    }
}

/// The covariance matrix of every series but the actb twins, one after another.
struct Covariances {
    values: Vec<f64>,
    /// Where each series' matrix starts (a twin's is its hdk's).
    start: Vec<usize>,
}

impl Covariances {
    /// In chunks of series, each worked through with one set of buffers.
    fn of(context: &Context, series: &[&[usize]], twins: &[Option<usize>]) -> Covariances {
        let values: Vec<f64> = series
            .par_chunks(SERIES_CHUNK)
            .zip(twins.par_chunks(SERIES_CHUNK))
            .map(|(chunk, twins)| {
                let mut scratch = Scratch::default();
                let mut covariances = Vec::new();
                for (members, twin) in chunk.iter().zip(twins) {
                    if twin.is_none() {
                        context.covariances(members, &mut scratch);
                        covariances.extend_from_slice(&scratch.cov);
                    }
                }
                covariances
            })
            .flatten_iter()
            .collect();
        let mut start = Vec::with_capacity(series.len());
        let mut at = 0;
        for (members, twin) in series.iter().zip(twins) {
            start.push(at);
            if twin.is_none() {
                at += members.len() * members.len();
            }
        }
        Covariances { values, start }
    }

    /// Series `s`'s matrix, of `r` rounds.
    fn of_series(&self, s: usize, r: usize) -> &[f64] {
        &self.values[self.start[s]..self.start[s] + r * r]
    }
}

#[cfg(test)]
mod tests {
    use super::variance::{actb_twins, same_series};
    use super::*;
    use crate::measures::Measure;
    use crate::sample::DataReport;
    use crate::testing;

    #[test]
    fn every_actb_series_has_its_hdk_twin() {
        let m = testing::methodology();
        let sample = testing::sample(4_000, 2);
        let table = crate::tally::tally(&sample).unwrap();
        let a = crate::finish(
            &m,
            sample,
            DataReport::default(),
            table,
            &Settings::default(),
            &|_| {},
        )
        .unwrap();
        let order: Vec<usize> = (0..a.estimates.len()).collect();
        let series: Vec<&[usize]> = order
            .chunk_by(|&x, &y| same_series(&a.estimates[x], &a.estimates[y]))
            .collect();
        assert!(series.iter().any(|members| members.len() == 2));
        let twins = actb_twins(&series, &a.estimates);
        assert!(twins.iter().any(Option::is_some));
        for (s, members) in series.iter().enumerate() {
            let actb = a.estimates[members[0]].measure == Measure::Actb;
            assert_eq!(twins[s].is_some(), actb, "series {s}");
            if let Some(t) = twins[s] {
                let (e, h) = (&a.estimates[members[0]], &a.estimates[series[t][0]]);
                assert_eq!(
                    (h.measure, h.indicator, h.cutoff),
                    (Measure::Hdk, e.indicator, e.cutoff)
                );
                assert_eq!(h.domain.subgroup, e.domain.subgroup);
            }
        }
    }

    /// The design of tests/inference.rs worked out by hand, in the engine alone: persons
    /// (stratum, PSU, weight, deprived) a1 (1, 1), a1 (1, 0), a2 (2, 1), b1 (1, 0),
    /// b2 (1, 0), b2 (2, 1); one indicator, k = 100%. H = 5/8; 8 × the PSU totals of z are
    /// a1 −0.25, a2 0.75, b1 −0.625, b2 0.125, so V = (2 × 0.5 + 2 × 0.28125) / 64 and
    /// se = 0.15625 exactly, with 4 PSUs − 2 strata = 2 degrees of freedom.
    #[test]
    fn a_design_worked_out_by_hand() {
        use crate::methodology::Methodology;
        use crate::rules::Words;
        use crate::sample::{Round, Sample};
        let text = "name = \"h\"\ncutoffs = [100]\n[[dimension]]\nname = \"d\"\n[[dimension.indicator]]\ncolumn = \"y\"\n";
        let m = Methodology::from_toml(text, &Words).unwrap();
        let mut s = Sample::from_labels(
            vec!["A".into(), "B".into()],
            vec!["a1".into(), "a2".into(), "b1".into(), "b2".into()],
            vec![Round {
                label: String::new(),
                year: None,
            }],
            Vec::new(),
            false,
            false,
        );
        for (i, (h, c, w, y)) in [
            (0, 0, 1.0, 1),
            (0, 0, 1.0, 0),
            (0, 1, 2.0, 1),
            (1, 2, 1.0, 0),
            (1, 3, 1.0, 0),
            (1, 3, 2.0, 1),
        ]
        .into_iter()
        .enumerate()
        {
            s.profiles.push(y);
            s.flags.push(0);
            s.rows.push(i as u32);
            s.weights.push(w);
            s.strata.push(h);
            s.psus.push(c);
            s.rounds.push(0);
        }
        let table = crate::tally::tally(&s).unwrap();
        let a = crate::finish(
            &m,
            s,
            DataReport::default(),
            table,
            &Settings::default(),
            &|_| {},
        )
        .unwrap();
        let i = a
            .estimates
            .iter()
            .position(|e| e.measure == Measure::H && e.domain.subgroup.is_none())
            .unwrap();
        assert_eq!(a.estimates[i].b, 0.625);
        assert!((a.inference.levels[i].se - 0.15625).abs() < 1e-15);
        assert_eq!(a.inference.design.df, 2.0);
    }
}
