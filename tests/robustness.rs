//! Robustness and dominance against a brute-force recomputation from the rows: under
//! each specification, every person's score from the exact weights (rationals, not the
//! engine's integer identification), each comparison's two totals per population added
//! up per PSU, their stratified covariance and the difference's gradient by central
//! differences (a numerical delta method, tests/common); then the directions, the
//! verdicts, the shares and the rank correlations worked out again from those.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use afmpi::domain::Domain;
use afmpi::inference::Settings;
use afmpi::measures::Measure;
use afmpi::robustness::{self, dominance, Outcome, Pair, Specification};
use afmpi::{analyse_frame, Analysis};
use approx::assert_relative_eq;
use num_rational::Ratio;

/// Per specification: the direction and the difference.
type Directions = Vec<(usize, i8, f64)>;

/// Ranges of k.
type Ranges = Vec<(f64, f64)>;

/// The normal quantile of a 95 % interval.
const Z: f64 = 1.959_963_984_540_054;

/// A person's poverty and censored score under exact weights and cutoff k.
fn censored(profile: u64, weights: &[Ratio<i128>], k: Ratio<i128>) -> (f64, f64) {
    let score: Ratio<i128> = (0..weights.len())
        .filter(|j| profile >> j & 1 == 1)
        .map(|j| weights[j])
        .sum();
    if score >= k {
        (1.0, *score.numer() as f64 / *score.denom() as f64)
    } else {
        (0.0, 0.0)
    }
}

fn in_domain(a: &Analysis, i: usize, d: Domain) -> bool {
    let s = &a.sample;
    s.rounds[i] == d.round && d.subgroup.is_none_or(|(g, l)| s.groupings[g].codes[i] == l)
}

/// The difference (first − second) of `measure` between the pair's two populations
/// under weights and k, and its variance, from the rows; `unit` gives a row's PSU.
fn from_rows(
    a: &Analysis,
    pair: Pair,
    measure: Measure,
    (weights, k): (&[Ratio<i128>], Ratio<i128>),
    unit: &impl Fn(usize) -> (u32, u64),
) -> (f64, f64) {
    let (d0, d1) = pair.domains();
    let s = &a.sample;
    let rows: Vec<((u32, u64), Vec<f64>)> = (0..s.len())
        .map(|i| {
            let (poor, score) = censored(s.profiles[i], weights, k);
            let w = s.weights[i];
            let mut t = vec![0.0; 6];
            for (at, d) in [(0, d0), (3, d1)] {
                if in_domain(a, i, d) {
                    t[at] = w * poor;
                    t[at + 1] = w * score;
                    t[at + 2] = w;
                }
            }
            (unit(i), t)
        })
        .collect();
    let at = if measure == Measure::M0 { 1 } else { 0 };
    let (b, v) = common::delta_method(&rows, |t| vec![t[at] / t[2] - t[3 + at] / t[5]]);
    (b[0], v[0])
}

/// A population's M0 under weights and k, from the rows.
fn m0_from_rows(a: &Analysis, d: Domain, weights: &[Ratio<i128>], k: Ratio<i128>) -> f64 {
    let s = &a.sample;
    let (mut num, mut den) = (0.0, 0.0);
    for i in (0..s.len()).filter(|&i| in_domain(a, i, d)) {
        num += s.weights[i] * censored(s.profiles[i], weights, k).1;
        den += s.weights[i];
    }
    num / den
}

fn direction(b: f64, se: f64) -> i8 {
    if b - Z * se > 0.0 {
        1
    } else if b + Z * se < 0.0 {
        -1
    } else {
        0
    }
}

/// Kendall's tau-b by counting pairs.
fn tau_b(x: &[f64], y: &[f64]) -> f64 {
    let (mut concordant, mut discordant, mut tied_x, mut tied_y) = (0.0f64, 0.0, 0.0, 0.0);
    for i in 0..x.len() {
        for j in i + 1..x.len() {
            let (dx, dy) = (x[i] - x[j], y[i] - y[j]);
            match (dx == 0.0, dy == 0.0) {
                (true, true) => {}
                (true, false) => tied_x += 1.0,
                (false, true) => tied_y += 1.0,
                _ if dx * dy > 0.0 => concordant += 1.0,
                _ => discordant += 1.0,
            }
        }
    }
    (concordant - discordant)
        / ((concordant + discordant + tied_x) * (concordant + discordant + tied_y)).sqrt()
}

/// Spearman's rho: Pearson's correlation of the ranks, ties sharing their average rank.
fn rho(x: &[f64], y: &[f64]) -> f64 {
    let ranks = |v: &[f64]| -> Vec<f64> {
        (0..v.len())
            .map(|i| {
                let below = v.iter().filter(|&&w| w < v[i]).count() as f64;
                let ties = v.iter().filter(|&&w| w == v[i]).count() as f64;
                below + (ties + 1.0) / 2.0
            })
            .collect()
    };
    let (rx, ry) = (ranks(x), ranks(y));
    let mean = |v: &[f64]| v.iter().sum::<f64>() / v.len() as f64;
    let (mx, my) = (mean(&rx), mean(&ry));
    let cov: f64 = rx.iter().zip(&ry).map(|(a, b)| (a - mx) * (b - my)).sum();
    let sd = |v: &[f64], m: f64| v.iter().map(|a| (a - m).powi(2)).sum::<f64>().sqrt();
    cov / (sd(&rx, mx) * sd(&ry, my))
}

fn spec_of(specs: &[Specification], o: &Outcome) -> (Vec<Ratio<i128>>, Ratio<i128>) {
    let s = &specs[o.spec];
    (s.weights.clone(), s.cutoff.value)
}

/// Every outcome of the engine against the rows; then the verdicts, shares and ranks.
/// Returns the number of outcomes checked.
fn check_robustness(a: &Analysis, unit: impl Fn(usize) -> (u32, u64)) -> usize {
    let k20 = afmpi::exact::Exact::parse("1/5").unwrap();
    let k50 = afmpi::exact::Exact::parse("1/2").unwrap();
    let mut weights = a.methodology.alternative_weights.clone();
    weights.extend(a.methodology.doubled_dimensions().unwrap());
    let specs = robustness::specifications(a, &[k20, k50], &weights);
    assert_eq!(specs.len(), 3 + weights.len());
    let r = robustness::robustness(a, specs.clone(), &Settings::default()).unwrap();
    // Every comparison under every specification, against the rows.
    let mut directions: BTreeMap<(u8, Pair), Directions> = BTreeMap::new();
    for o in &r.outcomes {
        let (w, k) = spec_of(&specs, o);
        let (b, var) = from_rows(a, o.pair, o.measure, (&w, k), &unit);
        assert_relative_eq!(o.contrast.b, b, max_relative = 1e-9, epsilon = 1e-12);
        assert_relative_eq!(o.contrast.precision.se, var.sqrt(), max_relative = 1e-5);
        let d = direction(b, var.sqrt());
        assert_eq!(o.contrast.direction(), d, "{o:?}");
        directions
            .entry((o.measure as u8, o.pair))
            .or_default()
            .push((o.spec, d, b));
    }
    // Every level pair of every column in every round, and every pair of rounds of
    // every domain, for both measures under every specification.
    let s = &a.sample;
    let levels: usize = s
        .groupings
        .iter()
        .map(|g| g.levels.len() * (g.levels.len() - 1) / 2)
        .sum();
    let domains = 1 + s.groupings.iter().map(|g| g.levels.len()).sum::<usize>();
    assert_eq!(
        r.outcomes.len(),
        2 * specs.len() * (2 * levels + domains),
        "no level of round 2 is missing here"
    );
    check_verdicts(&r, &directions);
    check_ranks(a, &r, &specs);
    r.outcomes.len()
}

/// The verdicts and shares against the directions worked out from the rows.
fn check_verdicts(r: &robustness::Robustness, directions: &BTreeMap<(u8, Pair), Directions>) {
    assert_eq!(r.verdicts.len(), directions.len());
    for v in &r.verdicts {
        let list = &directions[&(v.measure as u8, v.pair)];
        let base = list.iter().find(|x| x.0 == 0).unwrap();
        assert_eq!(v.baseline, base.1);
        assert_eq!(v.robust, base.1 != 0 && list.iter().all(|x| x.1 == base.1));
        assert_eq!(
            v.same_order,
            list.iter().all(|x| x.2.signum() == base.2.signum())
        );
    }
    for sh in &r.shares {
        let of: Vec<_> = r
            .verdicts
            .iter()
            .filter(|v| v.measure == sh.measure && v.pair.column() == sh.column)
            .collect();
        assert_eq!(sh.pairs, of.len());
        assert_eq!(sh.robust, of.iter().filter(|v| v.robust).count());
    }
    assert!(r.verdicts.iter().any(|v| v.robust) && r.verdicts.iter().any(|v| !v.robust));
}

/// Rank agreement of the levels' M0 with the baseline's, from the rows.
fn check_ranks(a: &Analysis, r: &robustness::Robustness, specs: &[Specification]) {
    let s = &a.sample;
    let mut checked_ranks = 0;
    for rank in r.ranks.iter().filter(|k| k.measure == Measure::M0) {
        let spec = &specs[rank.spec];
        let n = s.groupings[rank.column].levels.len() as u32;
        let at = |w: &[Ratio<i128>], k: Ratio<i128>| -> Vec<f64> {
            (0..n)
                .map(|l| {
                    m0_from_rows(
                        a,
                        Domain {
                            subgroup: Some((rank.column, l)),
                            round: rank.round,
                        },
                        w,
                        k,
                    )
                })
                .collect()
        };
        let base = at(&specs[0].weights, specs[0].cutoff.value);
        let alt = at(&spec.weights, spec.cutoff.value);
        assert_relative_eq!(rank.tau_b, tau_b(&base, &alt), max_relative = 1e-12);
        assert_relative_eq!(rank.rho, rho(&base, &alt), max_relative = 1e-12);
        checked_ranks += 1;
    }
    // Some alternative reorders the levels: the correlations are not all 1.
    assert!(checked_ranks > 0 && r.ranks.iter().any(|k| k.tau_b < 1.0));
}

/// A clustered design whose PSUs are visited in both rounds: levels share PSUs, and so
/// do the rounds.
#[test]
fn robustness_of_levels_and_rounds_in_a_panel_of_psus() {
    let (mut df, m, survey) = common::simulated(3000);
    common::restart_ids_in_each_round(&mut df);
    let a = analyse_frame(&df, &m, &survey, &Settings::default(), Path::new("sim.csv")).unwrap();
    assert_eq!(
        a.methodology.alternative_weights.len(),
        1,
        "the shipped [[weights]]"
    );
    let s = &a.sample;
    assert!(check_robustness(&a, |i| (s.strata[i], u64::from(s.psus[i]))) > 0);
}

/// Without a PSU column each row is its own PSU: the levels of a column share no row.
#[test]
fn robustness_when_each_row_is_a_psu() {
    let a = common::each_row_a_psu(2000);
    let s = &a.sample;
    assert!(check_robustness(&a, |i| (s.strata[i], i as u64)) > 0);
}

/// Dominance: every comparison at every attainable cutoff against the rows, and the
/// ranges and verdicts worked out again from the directions.
#[test]
fn dominance_against_the_rows() {
    let (mut df, m, survey) = common::simulated(2500);
    common::restart_ids_in_each_round(&mut df);
    let a = analyse_frame(&df, &m, &survey, &Settings::default(), Path::new("sim.csv")).unwrap();
    let s = &a.sample;
    let unit = |i: usize| (s.strata[i], u64::from(s.psus[i]));
    let d = dominance::dominance(&a, &Settings::default(), None, None).unwrap();
    // The global MPI's attainable scores over the ten indicators: multiples of 1/18.
    assert!(d.cutoffs.len() > 10);
    assert!(d.cutoffs.iter().all(|c| (c.value.value * 18).is_integer()));
    let weights: Vec<Ratio<i128>> = a
        .methodology
        .indicators
        .iter()
        .map(|i| i.weight.value)
        .collect();
    let mut checked = 0;
    for v in &d.verdicts {
        let (mut above, mut below): (Ranges, Ranges) = (Vec::new(), Vec::new());
        let mut signs: Vec<(f64, i8, f64)> = Vec::new();
        for (c, cutoff) in d.cutoffs.iter().enumerate() {
            let (b, var) = from_rows(&a, v.pair, v.measure, (&weights, cutoff.value.value), &unit);
            let o = d
                .outcomes
                .iter()
                .find(|o| (o.measure, o.pair, o.spec) == (v.measure, v.pair, c));
            if b == 0.0 && var == 0.0 {
                continue;
            }
            let o = o.expect("an outcome at every cutoff where someone is poor");
            assert_relative_eq!(o.contrast.b, b, max_relative = 1e-9, epsilon = 1e-12);
            let dir = direction(b, var.sqrt());
            let k = cutoff.percent();
            for (list, want) in [(&mut above, 1), (&mut below, -1)] {
                let extends = signs.last().is_some_and(|&(_, d, _)| d == want);
                match (dir == want, list.last_mut()) {
                    (true, Some(range)) if extends => range.1 = k,
                    (true, _) => list.push((k, k)),
                    _ => {}
                }
            }
            signs.push((k, dir, b));
            checked += 1;
        }
        assert_eq!(v.above, above, "{v:?}");
        assert_eq!(v.below, below, "{v:?}");
        let dominates = if signs.iter().all(|x| x.2 >= 0.0) && signs.iter().any(|x| x.2 > 0.0) {
            1
        } else if signs.iter().all(|x| x.2 <= 0.0) && signs.iter().any(|x| x.2 < 0.0) {
            -1
        } else {
            0
        };
        assert_eq!(v.dominates, dominates);
        let significantly = [1, -1]
            .into_iter()
            .find(|&w| !signs.is_empty() && signs.iter().all(|x| x.1 == w))
            .unwrap_or(0);
        assert_eq!(v.significantly, significantly);
    }
    assert!(checked > 100);
    assert!(
        d.verdicts.iter().any(|v| v.dominates != 0)
            && d.verdicts.iter().any(|v| !v.above.is_empty())
    );
}
