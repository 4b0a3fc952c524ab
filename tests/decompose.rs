//! The parts of a change of M0 due to H and to A (Shapley's split), and the indicators'
//! parts (actb's changes), against an independent route: every total of both rounds
//! added up per PSU straight from the rows, their stratified covariance matrix, and the
//! parts' gradients by central differences (a numerical delta method).

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use afmpi::inference::{Change, ChangeType, Settings};
use afmpi::measures::Measure;
use afmpi::methodology::{IntegerWeights, SurveyColumns};
use afmpi::{analyse_frame, Analysis};
use approx::assert_relative_eq;

/// The totals of both rounds, per person: poor, censored score and population in round
/// 0, then the same in round 1.
const TOTALS: usize = 6;

/// The parts (due to H, due to A) of M0's change, from the six totals.
fn parts(t: &[f64; TOTALS]) -> [f64; 2] {
    let (h0, a0) = (t[0] / t[2], t[1] / t[0]);
    let (h1, a1) = (t[3] / t[5], t[4] / t[3]);
    [(h1 - h0) * (a0 + a1) / 2.0, (a1 - a0) * (h0 + h1) / 2.0]
}

/// The variances of the two parts: the gradients of `parts` by central differences
/// and the stratified with-replacement covariance of the PSU totals (`units` gives
/// each row's stratum and PSU; a PSU met in both rounds is one PSU).
fn part_variances(rows: &[((u32, u64), [f64; TOTALS])]) -> ([f64; 2], [f64; 2]) {
    let mut psus: BTreeMap<(u32, u64), [f64; TOTALS]> = BTreeMap::new();
    let mut total = [0.0; TOTALS];
    for (unit, t) in rows {
        let p = psus.entry(*unit).or_insert([0.0; TOTALS]);
        for k in 0..TOTALS {
            p[k] += t[k];
            total[k] += t[k];
        }
    }
    let mut strata: BTreeMap<u32, Vec<[f64; TOTALS]>> = BTreeMap::new();
    for ((h, _), t) in psus {
        strata.entry(h).or_default().push(t);
    }
    let mut cov = [[0.0; TOTALS]; TOTALS];
    for units in strata.values().filter(|u| u.len() > 1) {
        let n = units.len() as f64;
        let mean: Vec<f64> = (0..TOTALS)
            .map(|k| units.iter().map(|u| u[k]).sum::<f64>() / n)
            .collect();
        for u in units {
            for a in 0..TOTALS {
                for b in 0..TOTALS {
                    cov[a][b] += n / (n - 1.0) * (u[a] - mean[a]) * (u[b] - mean[b]);
                }
            }
        }
    }
    let mut gradients = [[0.0; TOTALS]; 2];
    for k in 0..TOTALS {
        let step = total[k] * 1e-6;
        let (mut up, mut down) = (total, total);
        up[k] += step;
        down[k] -= step;
        let (pu, pd) = (parts(&up), parts(&down));
        for p in 0..2 {
            gradients[p][k] = (pu[p] - pd[p]) / (2.0 * step);
        }
    }
    let variance = |g: &[f64; TOTALS]| {
        (0..TOTALS)
            .map(|a| (0..TOTALS).map(|b| g[a] * cov[a][b] * g[b]).sum::<f64>())
            .sum::<f64>()
    };
    (
        parts(&total),
        [variance(&gradients[0]), variance(&gradients[1])],
    )
}

fn change(
    a: &Analysis,
    measure: Measure,
    ctype: ChangeType,
    subgroup: Option<(usize, u32)>,
    cutoff: usize,
    indicator: Option<usize>,
) -> &Change {
    a.inference
        .changes
        .iter()
        .find(|c| {
            (
                c.measure,
                c.ctype,
                c.subgroup,
                c.cutoff,
                c.indicator,
                c.annualized,
            ) == (measure, ctype, subgroup, Some(cutoff), indicator, false)
        })
        .unwrap_or_else(|| panic!("{measure:?} {ctype:?} {subgroup:?}"))
}

/// Checks the parts of every cutoff, nationally and in each level of the first subgroup
/// column, against the rows; `unit` gives a row's PSU. Returns the parts checked.
fn check_parts(
    a: &Analysis,
    m: &afmpi::methodology::Methodology,
    unit: impl Fn(usize) -> (u32, u64),
) -> usize {
    let iw = IntegerWeights::new(m).unwrap();
    let s = &a.sample;
    let levels = s.groupings[0].levels.len() as u32;
    let mut checked = 0;
    for cutoff in 0..m.cutoffs.len() {
        for subgroup in std::iter::once(None).chain((0..levels).map(|l| Some((0, l)))) {
            let rows: Vec<((u32, u64), [f64; TOTALS])> = (0..s.len())
                .map(|i| {
                    let inside = subgroup.is_none_or(|(g, l)| s.groupings[g].codes[i] == l);
                    let score = iw.score(s.profiles[i]);
                    let poor = iw.poor(score, cutoff);
                    let mut t = [0.0; TOTALS];
                    if inside {
                        let at = 3 * s.rounds[i] as usize;
                        let w = s.weights[i];
                        t[at] = if poor { w } else { 0.0 };
                        t[at + 1] = if poor {
                            w * iw.score_f64(s.profiles[i])
                        } else {
                            0.0
                        };
                        t[at + 2] = w;
                    }
                    (unit(i), t)
                })
                .collect();
            let (b, var) = part_variances(&rows);
            let abs = change(a, Measure::M0, ChangeType::Abs, subgroup, cutoff, None);
            let due_to_h = change(
                a,
                Measure::M0,
                ChangeType::AbsDueToH,
                subgroup,
                cutoff,
                None,
            );
            let due_to_a = change(
                a,
                Measure::M0,
                ChangeType::AbsDueToA,
                subgroup,
                cutoff,
                None,
            );
            // The two parts are the whole change.
            assert_relative_eq!(due_to_h.b + due_to_a.b, abs.b, max_relative = 1e-12);
            for (c, b, var) in [(due_to_h, b[0], var[0]), (due_to_a, b[1], var[1])] {
                assert_relative_eq!(c.b, b, max_relative = 1e-9);
                assert_relative_eq!(c.precision.se, var.sqrt(), max_relative = 1e-5);
                assert!(c.precision.ll < c.b && c.b < c.precision.ul);
            }
            // Each indicator's part (actb's change) is w_j times hdk's; they add up
            // to the whole change.
            let mut sum = 0.0;
            for j in 0..m.indicators.len() {
                let wj = m.indicators[j].weight.to_f64();
                let actb = change(a, Measure::Actb, ChangeType::Abs, subgroup, cutoff, Some(j));
                let hdk = change(a, Measure::Hdk, ChangeType::Abs, subgroup, cutoff, Some(j));
                assert_relative_eq!(actb.b, wj * hdk.b, max_relative = 1e-9);
                assert_relative_eq!(
                    actb.precision.se,
                    wj * hdk.precision.se,
                    max_relative = 1e-9
                );
                sum += actb.b;
            }
            assert_relative_eq!(sum, abs.b, max_relative = 1e-9);
            checked += 2;
        }
    }
    checked
}

/// A clustered design whose PSUs are visited in both rounds (a panel): the rounds'
/// estimates are correlated, and the parts' standard errors keep it.
#[test]
fn parts_of_a_change_in_a_panel_of_psus() {
    let (mut df, m, survey) = common::simulated(6000);
    // The same PSU codes in both rounds: one PSU visited twice.
    common::restart_ids_in_each_round(&mut df);
    let a = analyse_frame(&df, &m, &survey, &Settings::default(), Path::new("sim.csv")).unwrap();
    let s = &a.sample;
    let shared = (0..s.len())
        .filter(|&i| s.rounds[i] == 1)
        .any(|i| (0..s.len()).any(|k| s.rounds[k] == 0 && s.psus[k] == s.psus[i]));
    assert!(shared, "the test needs PSUs met in both rounds");
    let checked = check_parts(&a, &m, |i| (s.strata[i], u64::from(s.psus[i])));
    assert_eq!(
        checked,
        2 * m.cutoffs.len() * (1 + s.groupings[0].levels.len())
    );
}

/// Without a PSU column each row is its own PSU: H and A of a round share their rows,
/// the rounds share none.
#[test]
fn parts_of_a_change_when_each_row_is_a_psu() {
    let (df, m, survey) = common::simulated(3000);
    let survey = SurveyColumns {
        psu: None,
        ..survey
    };
    let a = analyse_frame(&df, &m, &survey, &Settings::default(), Path::new("sim.csv")).unwrap();
    assert!(a.inference.design.psu_is_row);
    let s = &a.sample;
    let checked = check_parts(&a, &m, |i| (s.strata[i], i as u64));
    assert!(checked > 0);
}
