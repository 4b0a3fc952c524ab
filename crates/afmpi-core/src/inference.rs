//! Inference: the sufficient-statistics table and the point estimates in; standard
//! errors, confidence intervals and changes between rounds out.
//!
//! Every measure is a ratio R = Σ w·y / Σ w·x over a domain (a round, and the whole sample
//! or one subgroup level). Its Taylor linearization is z_i = D_i w_i (y_i − R x_i) / Σ D w x,
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
//! change intervals are Wald intervals with the normal quantile.
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

use rayon::prelude::*;
use rustc_hash::FxHashMap;
use statrs::distribution::{ContinuousCDF, Normal, StudentsT};

use crate::error::{Error, Result};
use crate::sample::codes::number_label;
use crate::sample::Sample;
use crate::measures::{Contribution, Domain, Estimate, Layout, Measure};
use crate::identification::IntegerWeights;
use crate::tally::Table;

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

/// The sampling design as the variance sees it.
#[derive(Clone, Debug)]
pub struct Design {
    /// Per stratum: its number of PSUs (of rows, when each row is a PSU).
    pub psus_per_stratum: Vec<f64>,
    /// All PSUs of the design.
    pub n_psus: f64,
    /// Degrees of freedom: PSUs minus strata.
    pub df: f64,
    /// Each row is its own PSU (no PSU column).
    pub psu_is_row: bool,
    /// The strata with a single PSU.
    pub lonely: Vec<u32>,
    pub lonely_psu: LonelyPsu,
    /// The stratum of each PSU, by the PSU's index.
    psu_stratum: Vec<u32>,
    /// Per stratum: n/(n − 1) for its n PSUs, 0 for a stratum with fewer than two.
    stratum_factor: Vec<f64>,
    /// Per stratum: 1/n (0 for a stratum without PSUs).
    per_psu: Vec<f64>,
    /// What the variance summed over the strata is multiplied by: under
    /// `LonelyPsu::Average`, the strata present over those that count (single-PSU
    /// strata get the average of the others); else 1.
    variance_scale: f64,
    /// Index of each (stratum, PSU) pair.
    psu_index: FxHashMap<(u32, u32), usize>,
}

impl Design {
    /// Reads the design off the table; with `LonelyPsu::Fail`, a stratum with a single
    /// PSU is an error that names it.
    pub fn new(table: &Table, sample: &Sample, lonely_psu: LonelyPsu) -> Result<Design> {
        let n_strata = sample.stratum_labels.len().max(1);
        let mut psus_per_stratum = vec![0.0; n_strata];
        let mut psu_stratum = Vec::new();
        let mut psu_index = FxHashMap::default();
        let mut rounds_of_stratum: Vec<Vec<u32>> = vec![Vec::new(); n_strata];
        for cell in &table.cells {
            let h = cell.stratum as usize;
            if !rounds_of_stratum[h].contains(&cell.round) {
                rounds_of_stratum[h].push(cell.round);
            }
            if sample.psu_is_row {
                psus_per_stratum[h] += cell.count as f64;
            } else if let std::collections::hash_map::Entry::Vacant(e) =
                psu_index.entry((cell.stratum, cell.psu))
            {
                e.insert(psu_stratum.len());
                psu_stratum.push(cell.stratum);
                psus_per_stratum[h] += 1.0;
            }
        }
        let n_psus: f64 = psus_per_stratum.iter().sum();
        let lonely: Vec<u32> = (0..n_strata as u32)
            .filter(|&h| psus_per_stratum[h as usize] == 1.0)
            .collect();
        if lonely_psu == LonelyPsu::Fail {
            if let Some(&h) = lonely.first() {
                let label = sample
                    .stratum_labels
                    .get(h as usize)
                    .cloned()
                    .unwrap_or_else(|| "1".into());
                let rounds = if sample.has_rounds {
                    let labels: Vec<&str> = rounds_of_stratum[h as usize]
                        .iter()
                        .map(|&r| sample.round_info[r as usize].label.as_str())
                        .collect();
                    format!(" (round {})", labels.join(", "))
                } else {
                    String::new()
                };
                return Err(Error::Usage(format!(
                    "stratum {label}{rounds} has a single primary sampling unit, so its variance cannot be estimated ({} such strata in all). Check the strata and PSU columns, or choose how to treat it with --lonely-psu remove|adjust|average",
                    lonely.len())));
            }
        }
        let stratum_factor = psus_per_stratum
            .iter()
            .map(|&n| if n > 1.0 { n / (n - 1.0) } else { 0.0 })
            .collect();
        let per_psu = psus_per_stratum
            .iter()
            .map(|&n| if n > 0.0 { 1.0 / n } else { 0.0 })
            .collect();
        let present = psus_per_stratum.iter().filter(|&&n| n > 0.0).count();
        let several = psus_per_stratum.iter().filter(|&&n| n > 1.0).count();
        let counted = match lonely_psu {
            LonelyPsu::Remove | LonelyPsu::Adjust => several + lonely.len(),
            LonelyPsu::Average | LonelyPsu::Fail => several,
        };
        let variance_scale = if lonely_psu == LonelyPsu::Average && counted > 0 {
            present as f64 / counted as f64
        } else {
            1.0
        };
        Ok(Design {
            psus_per_stratum,
            n_psus,
            df: n_psus - n_strata as f64,
            psu_is_row: sample.psu_is_row,
            lonely,
            lonely_psu,
            psu_stratum,
            stratum_factor,
            per_psu,
            variance_scale,
            psu_index,
        })
    }

    fn n_strata(&self) -> usize {
        self.psus_per_stratum.len()
    }
}

/// Standard error and confidence interval of one estimate.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Precision {
    pub se: f64,
    pub ll: f64,
    pub ul: f64,
}

const UNDEFINED: Precision = Precision {
    se: f64::NAN,
    ll: f64::NAN,
    ul: f64::NAN,
};

/// Absolute or relative change.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ChangeType {
    Abs,
    Rel,
}

impl ChangeType {
    pub fn name(self) -> &'static str {
        match self {
            ChangeType::Abs => "abs",
            ChangeType::Rel => "rel",
        }
    }
}

/// A change of one measure between two rounds.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    pub measure: Measure,
    pub indicator: Option<usize>,
    pub cutoff: Option<usize>,
    /// The named group, for a group's H, A and M0.
    pub group: Option<usize>,
    pub subgroup: Option<(usize, u32)>,
    /// The rounds compared (indices into the sample's rounds).
    pub t0: u32,
    pub t1: u32,
    pub ctype: ChangeType,
    /// Per year of time between the rounds.
    pub annualized: bool,
    /// Absolute changes in the measure's unit; relative changes in percent.
    pub b: f64,
    pub precision: Precision,
}

impl Change {
    /// The labels of the two rounds compared: their years when there are years, else
    /// the round labels.
    pub fn labels(&self, sample: &Sample) -> (String, String) {
        let label = |r: u32| {
            let round = &sample.round_info[r as usize];
            round
                .year
                .map(number_label)
                .unwrap_or_else(|| round.label.clone())
        };
        (label(self.t0), label(self.t1))
    }
}

/// The measures whose changes over time are reported (as mpitb does).
pub fn has_changes(measure: Measure) -> bool {
    matches!(
        measure,
        Measure::M0 | Measure::H | Measure::A | Measure::Hd | Measure::Hdk
    )
}

/// All that inference produces.
pub struct Inference {
    /// One per estimate, in the estimates' order.
    pub levels: Vec<Precision>,
    pub changes: Vec<Change>,
    pub design: Design,
}

/// Series' results: each estimate's precision, in the estimates' order, and the changes.
type SeriesResult = (Vec<Precision>, Vec<Change>);

/// Every domain's weighted totals per sampling unit, added up in one pass over the table:
/// their sums over the units give the point estimates ([`crate::measures::estimate`]),
/// their columns the standard errors ([`infer`]).
pub struct Totals {
    pub design: Design,
    /// Where each total sits in a domain's totals.
    pub layout: Layout,
    domains: FxHashMap<Domain, UnitTotals>,
}

impl Totals {
    /// The design read off the table (an error for a single-PSU stratum under
    /// `LonelyPsu::Fail`), and the totals of every domain with `n_groups` named groups.
    pub fn new(
        table: &Table,
        sample: &Sample,
        weights: &IntegerWeights,
        n_groups: usize,
        lonely_psu: LonelyPsu,
    ) -> Result<Totals> {
        let design = Design::new(table, sample, lonely_psu)?;
        let layout = Layout::new(weights, n_groups);
        let domains = unit_totals(table, &design, &layout, weights);
        Ok(Totals {
            design,
            layout,
            domains,
        })
    }

    /// A domain's totals over all its units; none for a domain without members.
    pub fn of(&self, domain: &Domain) -> Option<&[f64]> {
        self.domains.get(domain).map(|d| d.sums.as_slice())
    }
}

/// Computes standard errors, intervals and changes for every estimate.
pub fn infer(
    totals: &Totals,
    sample: &Sample,
    estimates: &[Estimate],
    settings: &Settings,
) -> Result<Inference> {
    let (design, layout, domains) = (&totals.design, &totals.layout, &totals.domains);

    // Series: one measure of one indicator at one cutoff in one subgroup, over the rounds.
    // The estimates come series by series, round by round ([`crate::measures::estimate`]).
    let order: Vec<usize> = (0..estimates.len()).collect();
    let series: Vec<&[usize]> = order
        .chunk_by(|&a, &b| same_series(&estimates[a], &estimates[b]))
        .collect();

    let n_rounds = sample.round_info.len() as u32;
    let pairs: Vec<(u32, u32)> = match settings.changes {
        _ if n_rounds < 2 => Vec::new(),
        ChangePairs::Total => vec![(0, n_rounds - 1)],
        ChangePairs::Insequence => (0..n_rounds - 1).map(|r| (r, r + 1)).collect(),
    };
    let context = Context {
        design,
        layout,
        domains,
        estimates,
        sample,
        settings,
        quantiles: Quantiles::new(settings.level, design.df),
        pairs,
    };
    // An indicator's actb is w_j times its hdk, and so is its linearized variable: its
    // covariances are w_j² times those of the hdk series, which are worked out once.
    let twins = actb_twins(&series, estimates);
    // The covariance matrix of every series (but the twins), in chunks of series, each
    // worked through with one set of buffers; then each series' levels and changes.
    let covariances: Vec<f64> = series
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
    for (members, twin) in series.iter().zip(&twins) {
        start.push(at);
        if twin.is_none() {
            at += members.len() * members.len();
        }
    }
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
                let r = members.len();
                let cov = &covariances[start[from]..start[from] + r * r];
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
    })
}

/// Series worked through by one task.
const SERIES_CHUNK: usize = 64;

/// For each actb series, the hdk series of the same indicator, cutoff and subgroup over
/// the same rounds. The estimates come measure by measure ([`crate::measures::estimate`]),
/// so the actb series follow the hdk ones in the same order; each pair is checked.
fn actb_twins(series: &[&[usize]], estimates: &[Estimate]) -> Vec<Option<usize>> {
    let measure = |s: usize| estimates[series[s][0]].measure;
    let first = |m: Measure| (0..series.len()).find(|&s| measure(s) == m);
    let (Some(hdk), Some(actb)) = (first(Measure::Hdk), first(Measure::Actb)) else {
        return vec![None; series.len()];
    };
    let twins = |a: &Estimate, h: &Estimate| {
        (h.measure, h.indicator, h.cutoff, h.group, h.domain)
            == (Measure::Hdk, a.indicator, a.cutoff, a.group, a.domain)
    };
    (0..series.len())
        .map(|s| {
            let t = (s + hdk).checked_sub(actb)?;
            let (a, h) = (series[s], series[t]);
            let same = measure(s) == Measure::Actb
                && a.len() == h.len()
                && a.iter()
                    .zip(h)
                    .all(|(&a, &h)| twins(&estimates[a], &estimates[h]));
            same.then_some(t)
        })
        .collect()
}

/// Buffers reused from one series to the next.
#[derive(Default)]
struct Scratch {
    /// The linearized variable of each round of the series.
    linear: Vec<Linearized>,
    /// Their covariance matrix, row by row.
    cov: Vec<f64>,
}

/// Whether two estimates are of one series (they may differ in their round only).
fn same_series(a: &Estimate, b: &Estimate) -> bool {
    (a.measure, a.indicator, a.cutoff, a.group, a.domain.subgroup)
        == (b.measure, b.indicator, b.cutoff, b.group, b.domain.subgroup)
}

/// A change and its gradient with respect to (b0, b1). `span` is the years between the
/// rounds for annualized changes.
pub fn change(ctype: ChangeType, span: Option<f64>, b0: f64, b1: f64) -> (f64, f64, f64) {
    match (ctype, span) {
        (ChangeType::Abs, None) => (b1 - b0, -1.0, 1.0),
        (ChangeType::Abs, Some(dy)) => ((b1 - b0) / dy, -1.0 / dy, 1.0 / dy),
        (ChangeType::Rel, None) => (100.0 * (b1 - b0) / b0, -100.0 * b1 / (b0 * b0), 100.0 / b0),
        (ChangeType::Rel, Some(dy)) => {
            let e = 1.0 / dy;
            let ratio = b1 / b0;
            let d = 100.0 * e * ratio.powf(e - 1.0);
            (100.0 * (ratio.powf(e) - 1.0), -d * b1 / (b0 * b0), d / b0)
        }
    }
}

/// A sampling unit of a domain: a PSU, or — when each row is its own PSU — the rows of a
/// stratum that share a profile (their totals are then all a variance needs, given the
/// sum of squared weights).
#[derive(Clone, Copy, Debug)]
struct Unit {
    /// The PSU's index in the design (clustered designs).
    id: usize,
    stratum: u32,
    /// Σ of the squared linearized values of the unit's PSUs over the square of their
    /// sum: 1 for a PSU; Σw²/(Σw)² for rows sharing a profile.
    factor: f64,
}

/// One domain's weighted totals per sampling unit: every measure of the domain, at every
/// cutoff, is a ratio of two of these columns, so its linearized value per unit is
/// (scale·Y_u − R·X_u) / X and a standard error costs one pass over the units — not
/// over the cells, nor the rows.
#[derive(Default)]
struct UnitTotals {
    /// Sorted by id for clustered designs.
    units: Vec<Unit>,
    /// Each unit's factor (see [`Unit`]), side by side.
    factors: Vec<f64>,
    /// Runs of consecutive units of one stratum: (stratum, first unit, end).
    runs: Vec<(u32, usize, usize)>,
    /// The strata that have units, in order.
    strata: Vec<u32>,
    /// By total: each total's values over the units side by side, so that a standard
    /// error reads two contiguous columns instead of two values from every row.
    totals: Vec<f64>,
    /// Each total over all the units (the denominators of the linearized values).
    sums: Vec<f64>,
}

impl UnitTotals {
    /// A total over all the units.
    fn sum(&self, k: usize) -> f64 {
        self.sums.get(k).copied().unwrap_or(0.0)
    }

    /// A total's values over the units (once built).
    fn column(&self, k: usize) -> &[f64] {
        let n = self.units.len();
        &self.totals[k * n..(k + 1) * n]
    }
}

/// The totals of every domain. One pass over the table's cells lists each domain's
/// cells (and works out once what each cell's persons add, and its PSU); then the
/// domains are added up in parallel, each into its own columns, in the table's order:
/// the same sums, in the same order, whatever the number of threads.
fn unit_totals(
    table: &Table,
    design: &Design,
    layout: &Layout,
    weights: &IntegerWeights,
) -> FxHashMap<Domain, UnitTotals> {
    let cells = &table.cells;
    let mut cell_of = CellFacts {
        contributions: Vec::new(),
        contribution: Vec::with_capacity(cells.len()),
        psu: Vec::with_capacity(cells.len()),
    };
    let mut contribution_index: FxHashMap<(u64, u32), u32> = FxHashMap::default();
    let mut domain_index: FxHashMap<Domain, usize> = FxHashMap::default();
    let mut members: Vec<(Domain, Vec<u32>)> = Vec::new();
    // Consecutive cells mostly share their PSU and subgroup levels.
    let mut last_psu = None;
    let mut last_levels = None;
    let mut cell_domains: Vec<usize> = Vec::new();
    for (i, cell) in cells.iter().enumerate() {
        let next = cell_of.contributions.len() as u32;
        let c = *contribution_index
            .entry((cell.profile, cell.flags))
            .or_insert(next);
        if c == next {
            let adds = layout.contribution(weights, cell.profile, cell.flags);
            cell_of.contributions.push(adds);
        }
        cell_of.contribution.push(c);
        if !design.psu_is_row {
            let key = (cell.stratum, cell.psu);
            if last_psu.is_none_or(|(k, _)| k != key) {
                last_psu = Some((key, design.psu_index[&key]));
            }
            cell_of.psu.push(last_psu.map_or(0, |(_, id)| id));
        }
        if last_levels != Some((cell.round, cell.levels)) {
            last_levels = Some((cell.round, cell.levels));
            cell_domains.clear();
            for domain in table.domains_of(cell) {
                let d = *domain_index.entry(domain).or_insert_with(|| {
                    members.push((domain, Vec::new()));
                    members.len() - 1
                });
                cell_domains.push(d);
            }
        }
        for &d in &cell_domains {
            members[d].1.push(i as u32);
        }
    }
    members
        .into_par_iter()
        .map(|(domain, cells)| {
            (
                domain,
                domain_totals(&cells, table, design, layout, &cell_of),
            )
        })
        .collect()
}

/// What [`unit_totals`] works out once per cell.
struct CellFacts {
    /// What a person of each (profile, flags) adds.
    contributions: Vec<Contribution>,
    /// Each cell's, in `contributions`.
    contribution: Vec<u32>,
    /// Each cell's PSU index in the design (clustered designs).
    psu: Vec<usize>,
}

/// One domain's totals per unit, from its cells (indices into the table, in order).
fn domain_totals(
    members: &[u32],
    table: &Table,
    design: &Design,
    layout: &Layout,
    cell_of: &CellFacts,
) -> UnitTotals {
    // Each cell's unit: its PSU, or — when each row is a PSU — the cells of its stratum
    // that share its profile and group flags.
    let mut units: Vec<Unit> = Vec::new();
    let mut unit_of: Vec<u32> = Vec::with_capacity(members.len());
    if design.psu_is_row {
        let mut index: FxHashMap<(u32, u64, u32), u32> = FxHashMap::default();
        let mut squares: Vec<(f64, f64)> = Vec::new();
        for &c in members {
            let cell = &table.cells[c as usize];
            let next = units.len() as u32;
            let u = *index
                .entry((cell.stratum, cell.profile, cell.flags))
                .or_insert(next);
            if u == next {
                units.push(Unit {
                    id: u as usize,
                    stratum: cell.stratum,
                    factor: 0.0,
                });
                squares.push((0.0, 0.0));
            }
            squares[u as usize].0 += cell.weight;
            squares[u as usize].1 += cell.weight_sq;
            unit_of.push(u);
        }
        for (unit, (w, w2)) in units.iter_mut().zip(squares) {
            unit.factor = if w > 0.0 { w2 / (w * w) } else { 0.0 };
        }
    } else {
        // A domain's cells come PSU by PSU (the table is sorted by stratum, PSU).
        for &c in members {
            let id = cell_of.psu[c as usize];
            if units.last().is_none_or(|last| last.id != id) {
                units.push(Unit {
                    id,
                    stratum: table.cells[c as usize].stratum,
                    factor: 1.0,
                });
            }
            unit_of.push(units.len() as u32 - 1);
        }
    }
    let n = units.len();
    let mut totals = vec![0.0; n * layout.width()];
    for (&c, &u) in members.iter().zip(&unit_of) {
        let adds = &cell_of.contributions[cell_of.contribution[c as usize] as usize];
        adds.add_to_columns(&mut totals, n, u as usize, table.cells[c as usize].weight);
    }
    layout.cumulate_columns(&mut totals, n);
    if !design.psu_is_row && !units.is_sorted_by_key(|u| u.id) {
        // Rounds that share PSUs: a later round meets them in another order.
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by_key(|&u| units[u].id);
        units = order.iter().map(|&u| units[u]).collect();
        totals = totals
            .chunks_exact(n)
            .flat_map(|column| order.iter().map(|&u| column[u]))
            .collect();
    }
    let sums = totals
        .chunks_exact(n.max(1))
        .map(|c| c.iter().sum())
        .collect();
    let mut runs: Vec<(u32, usize, usize)> = Vec::new();
    for (u, unit) in units.iter().enumerate() {
        match runs.last_mut() {
            Some((h, _, end)) if *h == unit.stratum => *end = u + 1,
            _ => runs.push((unit.stratum, u, u + 1)),
        }
    }
    let mut strata: Vec<u32> = runs.iter().map(|&(h, _, _)| h).collect();
    strata.sort_unstable();
    strata.dedup();
    UnitTotals {
        factors: units.iter().map(|u| u.factor).collect(),
        units,
        runs,
        strata,
        totals,
        sums,
    }
}

/// The linearized variable of one estimate, as totals per stratum and per PSU.
#[derive(Default)]
struct Linearized {
    /// The strata of the domain's units: elsewhere Σ z and Σ z² are 0.
    strata: Vec<u32>,
    /// Σ z per stratum.
    stratum_sum: Vec<f64>,
    /// Σ z per PSU, sorted by PSU index (clustered designs).
    psu_sum: Vec<(usize, f64)>,
    /// Σ z² per stratum, over PSUs (over rows, when each row is a PSU).
    stratum_sq: Vec<f64>,
    /// Σ z over the design.
    total: f64,
    defined: bool,
}

/// Σ z and Σ factor·z² of the units z(y, x), added in four lanes (the compiler's vector
/// registers) and the lanes then in a fixed order: the same bits on every machine and
/// thread count.
fn lane_sums(ys: &[f64], xs: &[f64], factors: &[f64], z: impl Fn(f64, f64) -> f64) -> (f64, f64) {
    let (mut sum, mut sq) = ([0.0; 4], [0.0; 4]);
    let (y4s, x4s, f4s) = (
        ys.chunks_exact(4),
        xs.chunks_exact(4),
        factors.chunks_exact(4),
    );
    let rest = y4s
        .remainder()
        .iter()
        .zip(x4s.remainder())
        .zip(f4s.remainder());
    for ((y4, x4), f4) in y4s.zip(x4s).zip(f4s) {
        for lane in 0..4 {
            let z = z(y4[lane], x4[lane]);
            sum[lane] += z;
            sq[lane] += f4[lane] * z * z;
        }
    }
    let (mut s, mut q) = (
        (sum[0] + sum[1]) + (sum[2] + sum[3]),
        (sq[0] + sq[1]) + (sq[2] + sq[3]),
    );
    for ((&y, &x), f) in rest {
        let z = z(y, x);
        s += z;
        q += f * z * z;
    }
    (s, q)
}

impl Linearized {
    /// Adds a run of units of stratum `h`: their Σ z and Σ factor·z².
    fn add_run(&mut self, h: u32, sum: f64, sq: f64) {
        if let (Some(s), Some(q)) = (
            self.stratum_sum.get_mut(h as usize),
            self.stratum_sq.get_mut(h as usize),
        ) {
            *s += sum;
            *q += sq;
        }
    }
}

/// What every series needs: the design, the totals and the estimates.
struct Context<'a> {
    design: &'a Design,
    layout: &'a Layout,
    domains: &'a FxHashMap<Domain, UnitTotals>,
    estimates: &'a [Estimate],
    sample: &'a Sample,
    settings: &'a Settings,
    quantiles: Quantiles,
    /// The pairs of rounds whose changes are reported.
    pairs: Vec<(u32, u32)>,
}

impl Context<'_> {
    /// The covariance matrix of one series' estimates, into `scratch.cov` (row by row).
    fn covariances(&self, members: &[usize], scratch: &mut Scratch) {
        let estimates = self.estimates;
        let empty = UnitTotals::default();
        let r = members.len();
        // PSU by PSU values are only needed to pair rounds.
        let pairs_rounds = r > 1;
        scratch.linear.resize_with(r, Linearized::default);
        for (lin, &i) in scratch.linear.iter_mut().zip(members) {
            let e = &estimates[i];
            let domain = self.domains.get(&e.domain).unwrap_or(&empty);
            self.linearize(domain, e, pairs_rounds, lin);
        }
        let (linear, cov) = (&scratch.linear[..r], &mut scratch.cov);
        cov.clear();
        cov.resize(r * r, 0.0);
        for a in 0..r {
            for b in a..r {
                let v = self.covariance(&linear[a], &linear[b], a == b);
                cov[a * r + b] = v;
                cov[b * r + a] = v;
            }
        }
    }

    /// One series' levels and changes from its covariance matrix times `scale`, added
    /// to `result`.
    fn levels_and_changes(
        &self,
        members: &[usize],
        cov: &[f64],
        scale: f64,
        result: &mut SeriesResult,
    ) {
        let estimates = self.estimates;
        let r = members.len();
        let cov = |a: usize, b: usize| scale * cov[a * r + b];
        let interval = self.settings.interval;
        for (a, &i) in members.iter().enumerate() {
            let level = self.quantiles.level(estimates[i].b, cov(a, a), interval);
            result.0.push(level);
        }
        let first = &estimates[members[0]];
        if !has_changes(first.measure) {
            return;
        }
        let round_info = &self.sample.round_info;
        for &(t0, t1) in &self.pairs {
            let find = |t: u32| members.iter().position(|&i| estimates[i].domain.round == t);
            let (Some(a), Some(b)) = (find(t0), find(t1)) else {
                continue;
            };
            let (b0, b1) = (estimates[members[a]].b, estimates[members[b]].b);
            let (v00, v01, v11) = (cov(a, a), cov(a, b), cov(b, b));
            let years = match (round_info[t0 as usize].year, round_info[t1 as usize].year) {
                (Some(y0), Some(y1)) if y1 != y0 => Some(y1 - y0),
                _ => None,
            };
            for (ctype, annualized) in [
                (ChangeType::Abs, false),
                (ChangeType::Rel, false),
                (ChangeType::Abs, true),
                (ChangeType::Rel, true),
            ] {
                let span = match (annualized, years) {
                    (false, _) => None,
                    (true, Some(dy)) => Some(dy),
                    (true, None) => continue,
                };
                let (b, g0, g1) = change(ctype, span, b0, b1);
                let var = g0 * g0 * v00 + 2.0 * g0 * g1 * v01 + g1 * g1 * v11;
                result.1.push(Change {
                    measure: first.measure,
                    indicator: first.indicator,
                    cutoff: first.cutoff,
                    group: first.group,
                    subgroup: first.domain.subgroup,
                    t0,
                    t1,
                    ctype,
                    annualized,
                    b,
                    precision: self.quantiles.change(b, var),
                });
            }
        }
    }

    /// The linearized variable of estimate `e` over its domain's units, into `lin`
    /// (whose buffers are reused).
    fn linearize(&self, domain: &UnitTotals, e: &Estimate, keep_psus: bool, lin: &mut Linearized) {
        let n_strata = self.design.n_strata();
        lin.stratum_sum.clear();
        lin.stratum_sum.resize(n_strata, 0.0);
        lin.stratum_sq.clear();
        lin.stratum_sq.resize(n_strata, 0.0);
        lin.psu_sum.clear();
        lin.strata.clear();
        lin.strata.extend_from_slice(&domain.strata);
        lin.total = 0.0;
        lin.defined = e.b.is_finite();
        if !lin.defined {
            return;
        }
        let ratio = e.measure.ratio(e.indicator, &self.layout.float_weights);
        let line = self.layout.line(e);
        let y = self.layout.index(ratio.numerator, line);
        let x = self.layout.index(ratio.denominator, line);
        let (ys, xs) = (domain.column(y), domain.column(x));
        // Σ z and Σ factor·z² over each run of one stratum's units, in loops without
        // branches that the compiler turns into vector instructions.
        let (scale, b, per_x) = (ratio.scale, e.b, 1.0 / domain.sum(x));
        let z = |y: f64, x: f64| (scale * y - b * x) * per_x;
        let mut total = 0.0;
        for &(h, start, end) in &domain.runs {
            let (sum, sq) = lane_sums(
                &ys[start..end],
                &xs[start..end],
                &domain.factors[start..end],
                z,
            );
            lin.add_run(h, sum, sq);
            total += sum;
        }
        if keep_psus && !self.design.psu_is_row {
            let zs = ys.iter().zip(xs).map(|(&y, &x)| z(y, x));
            lin.psu_sum
                .extend(domain.units.iter().map(|u| u.id).zip(zs));
        }
        lin.total = total;
    }

    /// The stratified with-replacement covariance of two linearized estimates.
    #[allow(clippy::needless_range_loop)]
    fn covariance(&self, a: &Linearized, b: &Linearized, same: bool) -> f64 {
        if !a.defined || !b.defined {
            return f64::NAN;
        }
        let d = self.design;
        let n_strata = d.n_strata();
        // Σ_c z_a,c z_b,c per stratum: an estimate's own sums of squares, or the products
        // of two estimates' PSU totals.
        let mut products = vec![0.0; if same { 0 } else { n_strata }];
        if !same && !d.psu_is_row {
            let (mut i, mut j) = (0, 0);
            while i < a.psu_sum.len() && j < b.psu_sum.len() {
                let (pa, za) = a.psu_sum[i];
                let (pb, zb) = b.psu_sum[j];
                match pa.cmp(&pb) {
                    std::cmp::Ordering::Less => i += 1,
                    std::cmp::Ordering::Greater => j += 1,
                    std::cmp::Ordering::Equal => {
                        products[d.psu_stratum[pa] as usize] += za * zb;
                        i += 1;
                        j += 1;
                    }
                }
            }
        }
        let cross: &[f64] = if same { &a.stratum_sq } else { &products };
        let mut v = 0.0;
        // Σ_c (z_a,c − z̄_a)(z_b,c − z̄_b) over each stratum's PSUs, times n/(n − 1):
        // nothing in the strata where a has no unit.
        for &h in &a.strata {
            let h = h as usize;
            let (sa, sb) = (a.stratum_sum[h], b.stratum_sum[h]);
            v += d.stratum_factor[h] * (cross[h] - sa * sb * d.per_psu[h]);
        }
        if d.lonely_psu == LonelyPsu::Adjust {
            // A single PSU is centred on the grand mean.
            let (centre_a, centre_b) = (a.total / d.n_psus, b.total / d.n_psus);
            for &h in &d.lonely {
                let (sa, sb) = (a.stratum_sum[h as usize], b.stratum_sum[h as usize]);
                v += cross[h as usize] - centre_a * sb - centre_b * sa + centre_a * centre_b;
            }
        }
        v * d.variance_scale
    }
}

fn normal_quantile(p: f64) -> f64 {
    Normal::new(0.0, 1.0)
        .expect("standard normal")
        .inverse_cdf(p)
}

/// Degrees of freedom above which the t quantile comes from its expansion about the
/// normal quantile.
const LARGE_DF: f64 = 1e4;

/// The quantile of Student's t distribution at probability `p` with `df` degrees of
/// freedom (NaN below 1). statrs computes it from the inverse incomplete beta function,
/// which loses its accuracy for large `df` (statrs 0.18 gives 1.8266 for the 0.975
/// quantile at 10^7 degrees of freedom, not 1.95996) and does not return at 10^8 — the
/// degrees of freedom of a census, where each person is a PSU. Above [`LARGE_DF`] the
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
struct Quantiles {
    /// t quantile at the design's degrees of freedom (levels).
    t: f64,
    /// Normal quantile (changes).
    z: f64,
}

impl Quantiles {
    fn new(level: f64, df: f64) -> Quantiles {
        let p = 1.0 - (1.0 - level) / 2.0;
        Quantiles {
            t: t_quantile(p, df),
            z: normal_quantile(p),
        }
    }

    fn level(&self, b: f64, var: f64, interval: Interval) -> Precision {
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

    fn change(&self, b: f64, var: f64) -> Precision {
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
