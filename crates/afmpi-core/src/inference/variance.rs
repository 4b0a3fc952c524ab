//! Variance: a series of estimates (one measure of one indicator at one cutoff in one
//! domain, over the rounds) in; its covariance matrix, each level's standard error and
//! interval, and the changes between rounds out. Every estimate is linearized into
//! totals per stratum and PSU; covariances are sums over the strata of the design.

use rustc_hash::FxHashMap;

use super::changes::{change, has_changes, Change, ChangeType};
use super::intervals::Quantiles;
use super::totals::UnitTotals;
use super::{Design, LonelyPsu, SeriesResult, Settings};
use crate::domain::Domain;
use crate::measures::{Estimate, Layout, Measure, Total};
use crate::sample::Sample;

/// Series worked through by one task.
pub(super) const SERIES_CHUNK: usize = 64;

/// For each actb series, the hdk series of the same indicator, cutoff and subgroup over
/// the same rounds. The estimates come measure by measure ([`crate::measures::estimate`]),
/// so the actb series follow the hdk ones in the same order; each pair is checked.
pub(super) fn actb_twins(series: &[&[usize]], estimates: &[Estimate]) -> Vec<Option<usize>> {
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
pub(super) struct Scratch {
    /// The linearized variable of each round of the series.
    pub(super) linear: Vec<Linearized>,
    /// Their covariance matrix, row by row.
    pub(super) cov: Vec<f64>,
}

/// Whether two estimates are of one series (they may differ in their round only).
pub(super) fn same_series(a: &Estimate, b: &Estimate) -> bool {
    (a.measure, a.indicator, a.cutoff, a.group, a.domain.subgroup)
        == (b.measure, b.indicator, b.cutoff, b.group, b.domain.subgroup)
}

/// The linearized variable of one estimate, as totals per stratum and per PSU.
#[derive(Default)]
pub(super) struct Linearized {
    /// The strata of the domain's units: elsewhere Σ z and Σ z² are 0.
    pub(super) strata: Vec<u32>,
    /// Σ z per stratum.
    pub(super) stratum_sum: Vec<f64>,
    /// Σ z per PSU, sorted by PSU index (clustered designs).
    pub(super) psu_sum: Vec<(usize, f64)>,
    /// Σ z² per stratum, over PSUs (over rows, when each row is a PSU).
    pub(super) stratum_sq: Vec<f64>,
    /// Σ z over the design.
    pub(super) total: f64,
    pub(super) defined: bool,
    /// The estimate's domain.
    pub(super) domain: Option<Domain>,
    /// When each row is a PSU and asked for ([`Keep::UnitValues`]): each unit's stratum,
    /// factor and z, in the domain's order of units, so that two estimates of one
    /// domain and round can be paired unit by unit.
    pub(super) units: Vec<(u32, f64, f64)>,
}

/// What a linearization keeps beyond the sums per stratum.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) enum Keep {
    /// The sums per stratum only: an estimate's own variance.
    Sums,
    /// The PSU totals of a clustered design, to pair rounds that share PSUs (rows of
    /// different rounds are different rows).
    PsuTotals,
    /// Also, when each row is a PSU, each unit's value: to pair estimates of one domain
    /// in one round (as H and A, in [`super::decompose`]).
    UnitValues,
}

/// Σ z and Σ factor·z² of the units z(y, x), added in four lanes (the compiler's vector
/// registers) and the lanes then in a fixed order: the same bits on every machine and
/// thread count.
pub(super) fn lane_sums(
    ys: &[f64],
    xs: &[f64],
    factors: &[f64],
    z: impl Fn(f64, f64) -> f64,
) -> (f64, f64) {
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
    /// Empties the buffers for estimate `e` over a domain whose units are in `strata`;
    /// whether the estimate is defined (an undefined one has no linearized variable).
    pub(super) fn reset(&mut self, n_strata: usize, strata: &[u32], e: &Estimate) -> bool {
        self.stratum_sum.clear();
        self.stratum_sum.resize(n_strata, 0.0);
        self.stratum_sq.clear();
        self.stratum_sq.resize(n_strata, 0.0);
        self.psu_sum.clear();
        self.units.clear();
        self.domain = Some(e.domain);
        self.strata.clear();
        self.strata.extend_from_slice(strata);
        self.total = 0.0;
        self.defined = e.b.is_finite();
        self.defined
    }

    /// Adds a run of units of stratum `h`: their Σ z and Σ factor·z².
    pub(super) fn add_run(&mut self, h: u32, sum: f64, sq: f64) {
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
pub(super) struct Context<'a> {
    pub(super) design: &'a Design,
    pub(super) layout: &'a Layout,
    pub(super) domains: &'a FxHashMap<Domain, UnitTotals>,
    pub(super) estimates: &'a [Estimate],
    pub(super) sample: &'a Sample,
    pub(super) settings: &'a Settings,
    pub(super) quantiles: Quantiles,
    /// The pairs of rounds whose changes are reported.
    pub(super) pairs: Vec<(u32, u32)>,
}

impl Context<'_> {
    /// The years between two rounds, for annualized changes (none without years, or
    /// for rounds of one year).
    pub(super) fn span(&self, t0: u32, t1: u32) -> Option<f64> {
        let round_info = &self.sample.round_info;
        match (round_info[t0 as usize].year, round_info[t1 as usize].year) {
            (Some(y0), Some(y1)) if y1 != y0 => Some(y1 - y0),
            _ => None,
        }
    }

    /// The covariance matrix of one series' estimates, into `scratch.cov` (row by row).
    pub(super) fn covariances(&self, members: &[usize], scratch: &mut Scratch) {
        let estimates = self.estimates;
        let empty = UnitTotals::default();
        let r = members.len();
        // PSU by PSU values are only needed to pair rounds.
        let pairs_rounds = r > 1;
        scratch.linear.resize_with(r, Linearized::default);
        for (lin, &i) in scratch.linear.iter_mut().zip(members) {
            let e = &estimates[i];
            let domain = self.domains.get(&e.domain).unwrap_or(&empty);
            if e.measure.of_the_whole_sample() {
                let whole = Domain {
                    subgroup: None,
                    round: e.domain.round,
                };
                let whole = self.domains.get(&whole).unwrap_or(&empty);
                self.linearize_share(domain, whole, e, pairs_rounds, lin);
            } else {
                let keep = if pairs_rounds {
                    Keep::PsuTotals
                } else {
                    Keep::Sums
                };
                self.linearize(domain, e, keep, lin);
            }
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
    pub(super) fn levels_and_changes(
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
        for &(t0, t1) in &self.pairs {
            let find = |t: u32| members.iter().position(|&i| estimates[i].domain.round == t);
            let (Some(r0), Some(r1)) = (find(t0), find(t1)) else {
                continue;
            };
            let b = (estimates[members[r0]].b, estimates[members[r1]].b);
            let v = (cov(r0, r0), cov(r0, r1), cov(r1, r1));
            self.pair_changes(first, (t0, t1), b, v, result);
        }
    }

    /// The changes of one series between rounds `t0` and `t1`, whose estimates are
    /// (b0, b1) with covariances (v00, v01, v11), plain and annualized: absolute and
    /// relative, and for M0 its parts due to H and to A.
    fn pair_changes(
        &self,
        first: &Estimate,
        (t0, t1): (u32, u32),
        (b0, b1): (f64, f64),
        (v00, v01, v11): (f64, f64, f64),
        result: &mut SeriesResult,
    ) {
        let years = self.span(t0, t1);
        // M0's parts of its absolute change follow its changes, for each span.
        let parts = (first.measure == Measure::M0)
            .then(|| self.shapley_parts(first, t0, t1))
            .flatten();
        for annualized in [false, true] {
            let span = match (annualized, years) {
                (false, _) => None,
                (true, Some(dy)) => Some(dy),
                (true, None) => continue,
            };
            let push = |result: &mut SeriesResult, ctype, b: f64, var: f64| {
                result.1.push(Change {
                    measure: first.measure,
                    indicator: first.indicator,
                    cutoff: first.cutoff,
                    group: first.group,
                    subgroup: first.domain.subgroup,
                    over: None,
                    t0,
                    t1,
                    ctype,
                    annualized,
                    b,
                    precision: self.quantiles.change(b, var),
                })
            };
            for ctype in [ChangeType::Abs, ChangeType::Rel] {
                let (b, g0, g1) = change(ctype, span, b0, b1);
                let var = g0 * g0 * v00 + 2.0 * g0 * g1 * v01 + g1 * g1 * v11;
                push(result, ctype, b, var);
            }
            if let Some(parts) = &parts {
                let per = span.map_or(1.0, |dy| 1.0 / dy);
                for (ctype, (b, var)) in [
                    (ChangeType::AbsDueToH, parts.due_to_h),
                    (ChangeType::AbsDueToA, parts.due_to_a),
                ] {
                    push(result, ctype, b * per, var * per * per);
                }
            }
        }
    }

    /// The linearized variable of estimate `e` over its domain's units, into `lin`
    /// (whose buffers are reused).
    pub(super) fn linearize(
        &self,
        domain: &UnitTotals,
        e: &Estimate,
        keep: Keep,
        lin: &mut Linearized,
    ) {
        if !lin.reset(self.design.n_strata(), &domain.strata, e) {
            return;
        }
        if e.measure == Measure::Ineq {
            return self.linearize_inequality(domain, e, keep, lin);
        }
        let ratio = e.measure.ratio(e.indicator, &self.layout.float_weights);
        let line = self.layout.line(e);
        let y = self.layout.index(ratio.numerator, line);
        let x = self.layout.index(ratio.denominator, line);
        let (ys, xs) = (domain.column(y), domain.column(x));
        let (scale, b, per_x) = (ratio.scale, e.b, 1.0 / domain.sum(x));
        self.add_units(
            domain,
            (&ys, &xs),
            |y: f64, x: f64| (scale * y - b * x) * per_x,
            keep,
            lin,
        );
    }

    /// Inequality among the poor, V = S2/Q − (S1/Q)² of the poor's squared scores,
    /// scores and weights: its linearized variable is z = (s2 − 2A·s1 + (A² − V)·q)/Q,
    /// each unit's poor weighing (c − A)² − V per unit of weight.
    fn linearize_inequality(
        &self,
        domain: &UnitTotals,
        e: &Estimate,
        keep: Keep,
        lin: &mut Linearized,
    ) {
        let line = self.layout.line(e);
        let column = |t: Total| domain.column(self.layout.index(t, line));
        let (q, s1, s2) = (
            column(Total::Poor),
            column(Total::PoorScore),
            column(Total::PoorScoreSquared),
        );
        let poor = domain.sum(self.layout.index(Total::Poor, line));
        let a = domain.sum(self.layout.index(Total::PoorScore, line)) / poor;
        let v = e.b;
        // z is linear in the three columns: one column of its values per unit.
        let zs: Vec<f64> = (0..q.len())
            .map(|u| (s2[u] - 2.0 * a * s1[u] + (a * a - v) * q[u]) / poor)
            .collect();
        self.add_units(domain, (&zs, &zs), |z: f64, _| z, keep, lin);
    }

    /// Adds the units' linearized values z(y, x) to `lin`: Σ z and Σ factor·z² over each
    /// run of one stratum's units (in loops without branches that the compiler turns
    /// into vector instructions), and each unit's z as `keep` asks.
    fn add_units(
        &self,
        domain: &UnitTotals,
        (ys, xs): (&[f64], &[f64]),
        z: impl Fn(f64, f64) -> f64 + Copy,
        keep: Keep,
        lin: &mut Linearized,
    ) {
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
        let zs = ys.iter().zip(xs.iter()).map(|(&y, &x)| z(y, x));
        match (keep, self.design.psu_is_row) {
            (Keep::Sums, _) | (Keep::PsuTotals, true) => {}
            (_, false) => lin
                .psu_sum
                .extend(domain.units.iter().map(|u| u.id).zip(zs)),
            (Keep::UnitValues, true) => lin.units.extend(
                (domain.units.iter())
                    .zip(zs)
                    .map(|(u, z)| (u.stratum, u.factor, z)),
            ),
        }
        lin.total = total;
    }

    /// The linearized variable of a share of the whole sample (`popsh`, `contrib`): a
    /// total Y of the level `part` over a total X of the `whole` sample, so that
    /// z = (y·1[in the level] − b·x) / X over the whole sample's units.
    ///
    /// Every unit's z is −b·x/X outside the level, so each stratum's Σ z and Σ factor·z²
    /// start from the whole sample's sums of x and factor·x² in the stratum; then each of
    /// the level's units trades −b·x for y − b·x. The level's units are PSUs found among
    /// the whole's by index; when each row is its own PSU, a unit is the rows of a
    /// stratum sharing a profile (and groups), whose values are proportional to their
    /// weights, and the level's units are a part of those rows with their own x and
    /// factor. So a share costs its level's units, not the whole sample's.
    pub(super) fn linearize_share(
        &self,
        part: &UnitTotals,
        whole: &UnitTotals,
        e: &Estimate,
        keep_psus: bool,
        lin: &mut Linearized,
    ) {
        if !lin.reset(self.design.n_strata(), &whole.strata, e) {
            return;
        }
        let ratio = e.measure.ratio(e.indicator, &self.layout.float_weights);
        let line = self.layout.line(e);
        let y = self.layout.index(ratio.numerator, line);
        let x = self.layout.index(ratio.denominator, line);
        let (b, per_x) = (e.b, 1.0 / whole.sum(x));
        let ys = part.column(y);
        if keep_psus && !self.design.psu_is_row {
            lin.total = self.share_psu_by_psu(part, whole, ratio.scale, (x, b, per_x), &ys, lin);
            return;
        }
        // Every unit of the whole sample as if outside the level, z = −b·x/X: per
        // stratum, from the whole sample's sums of x and factor·x².
        let n_strata = self.design.n_strata();
        let by_stratum = whole.stratum_sums(x, n_strata);
        let mut total = 0.0;
        for &h in &whole.strata {
            let (sx, sx2) = by_stratum.get(h as usize).copied().unwrap_or_default();
            let z = -b * sx * per_x;
            lin.add_run(h, z, b * b * per_x * per_x * sx2);
            total += z;
        }
        // The level's units trade their value outside for their value inside.
        // A clustered design finds a unit's x among the whole sample's; when each row
        // is a PSU, the level's units are rows of their own, with their own x.
        let xs = match self.design.psu_is_row {
            true => part.column(x),
            false => whole.column(x),
        };
        for (j, unit) in part.units.iter().enumerate() {
            let x_u = if self.design.psu_is_row {
                xs[j]
            } else {
                match whole.place.get(unit.id) {
                    Some(&u) if u != u32::MAX => xs[u as usize],
                    _ => 0.0,
                }
            };
            let outside = -b * x_u * per_x;
            let inside = (ratio.scale * ys[j] - b * x_u) * per_x;
            lin.add_run(
                unit.stratum,
                inside - outside,
                unit.factor * (inside * inside - outside * outside),
            );
            total += inside - outside;
        }
        lin.total = total;
    }

    /// A share's linearization PSU by PSU over the whole sample's units, each PSU's value
    /// kept (to pair rounds); returns Σ z. `x` is the denominator's total with the share
    /// and 1 / X.
    fn share_psu_by_psu(
        &self,
        part: &UnitTotals,
        whole: &UnitTotals,
        scale: f64,
        (x, b, per_x): (usize, f64, f64),
        ys: &[f64],
        lin: &mut Linearized,
    ) -> f64 {
        let xs = whole.column(x);
        let mut total = 0.0;
        // Both domains' units are sorted by PSU index; the level's are among the whole's.
        let mut j = 0;
        for (u, unit) in whole.units.iter().enumerate() {
            let mut y_u = 0.0;
            if j < part.units.len() && part.units[j].id == unit.id {
                y_u = ys[j];
                j += 1;
            }
            let z = (scale * y_u - b * xs[u]) * per_x;
            lin.add_run(unit.stratum, z, z * z);
            total += z;
            lin.psu_sum.push((unit.id, z));
        }
        total
    }

    /// The stratified with-replacement covariance of two linearized estimates.
    #[allow(clippy::needless_range_loop)]
    pub(super) fn covariance(&self, a: &Linearized, b: &Linearized, same: bool) -> f64 {
        if !a.defined || !b.defined {
            return f64::NAN;
        }
        let d = self.design;
        let n_strata = d.n_strata();
        // Σ_c z_a,c z_b,c per stratum: an estimate's own sums of squares, or the products
        // of two estimates' PSU totals.
        let mut products = vec![0.0; if same { 0 } else { n_strata }];
        if !same && d.psu_is_row && !rows_paired(a, b, &mut products) {
            return f64::NAN;
        }
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

/// When each row is its own PSU: Σ_u factor·z_a·z_b per stratum, into `products`, for
/// two estimates whose rows can be paired. Rows of different rounds, or of two levels
/// of one subgroup column, are different rows (nothing to add); two estimates of one
/// domain and round pair unit by unit, when both kept their units' values
/// ([`Keep::UnitValues`]). Other pairs share rows that their units do not identify:
/// false.
fn rows_paired(a: &Linearized, b: &Linearized, products: &mut [f64]) -> bool {
    let (Some(da), Some(db)) = (a.domain, b.domain) else {
        return false;
    };
    let levels_of_one_column = match (da.subgroup, db.subgroup) {
        (Some((ga, la)), Some((gb, lb))) => ga == gb && la != lb,
        _ => false,
    };
    if da.round != db.round || levels_of_one_column {
        return true;
    }
    if da != db || a.units.len() != b.units.len() || a.units.is_empty() {
        return false;
    }
    for (&(h, f, za), &(_, _, zb)) in a.units.iter().zip(&b.units) {
        products[h as usize] += f * za * zb;
    }
    true
}
