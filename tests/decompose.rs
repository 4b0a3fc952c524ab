//! The parts of a change of M0 due to H and to A (Shapley's split), the indicators'
//! parts (actb's changes), and the whole sample's change within and between the levels
//! of a subgroup column, against an independent route: every total of both rounds added
//! up per PSU straight from the rows, their stratified covariance matrix, and the parts'
//! gradients by central differences (a numerical delta method).

mod common;

use std::path::Path;

use afmpi::inference::{Change, ChangeType, Settings};
use afmpi::measures::Measure;
use afmpi::methodology::IntegerWeights;
use afmpi::{analyse_frame, Analysis};
use approx::assert_relative_eq;

/// The parts (due to H, due to A) of M0's change, from the totals of each round: poor,
/// censored score, population.
fn shapley(t: &[f64]) -> Vec<f64> {
    let (h0, a0) = (t[0] / t[2], t[1] / t[0]);
    let (h1, a1) = (t[3] / t[5], t[4] / t[3]);
    vec![(h1 - h0) * (a0 + a1) / 2.0, (a1 - a0) * (h0 + h1) / 2.0]
}

/// The parts (within the levels, shifts between them) of the whole sample's change of
/// M0 over `groups` groups (the levels, then the persons without a level), from the
/// totals of each round: each group's population and censored score, then the whole
/// population.
fn shifts(t: &[f64], groups: usize) -> Vec<f64> {
    let per_round = 2 * groups + 1;
    let (mut within, mut shift) = (0.0, 0.0);
    for l in 0..groups {
        let at = |r: usize| {
            let base = r * per_round;
            let population = t[base + 2 * l];
            (
                population / t[base + 2 * groups],
                t[base + 2 * l + 1] / population,
                population > 0.0,
            )
        };
        let ((s0, m0, in0), (s1, m1, in1)) = (at(0), at(1));
        // A group empty in a round has there the M0 of the other round.
        let (m0, m1) = match (in0, in1) {
            (true, true) => (m0, m1),
            (false, true) => (m1, m1),
            (true, false) => (m0, m0),
            (false, false) => continue,
        };
        within += (s0 + s1) / 2.0 * (m1 - m0);
        shift += (m0 + m1) / 2.0 * (s1 - s0);
    }
    vec![within, shift]
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
/// column, and the national change's parts within and between the levels of each
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
            let rows: Vec<((u32, u64), Vec<f64>)> = (0..s.len())
                .map(|i| {
                    let inside = subgroup.is_none_or(|(g, l)| s.groupings[g].codes[i] == l);
                    let poor = iw.poor(iw.score(s.profiles[i]), cutoff);
                    let mut t = vec![0.0; 6];
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
            let (b, var) = common::delta_method(&rows, shapley);
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
        checked += check_shifts(a, &iw, cutoff, &unit);
    }
    checked
}

/// The whole sample's change at one cutoff split within and between the levels of each
/// subgroup column, against the rows.
fn check_shifts(
    a: &Analysis,
    iw: &IntegerWeights,
    cutoff: usize,
    unit: &impl Fn(usize) -> (u32, u64),
) -> usize {
    let s = &a.sample;
    let mut checked = 0;
    for g in 0..s.groupings.len() {
        // The levels, then the persons without a level.
        let groups = s.groupings[g].levels.len() + 1;
        let per_round = 2 * groups + 1;
        let rows: Vec<((u32, u64), Vec<f64>)> = (0..s.len())
            .map(|i| {
                let p = s.profiles[i];
                let censored = if iw.poor(iw.score(p), cutoff) {
                    iw.score_f64(p)
                } else {
                    0.0
                };
                let (w, base) = (s.weights[i], s.rounds[i] as usize * per_round);
                let mut t = vec![0.0; 2 * per_round];
                let l = (s.groupings[g].codes[i] as usize).min(groups - 1);
                t[base + 2 * l] = w;
                t[base + 2 * l + 1] = w * censored;
                t[base + 2 * groups] = w;
                (unit(i), t)
            })
            .collect();
        let (b, var) = common::delta_method(&rows, |t| shifts(t, groups));
        let part = |ctype| {
            a.inference
                .changes
                .iter()
                .find(|c| {
                    (c.measure, c.ctype, c.over, c.cutoff, c.annualized)
                        == (Measure::M0, ctype, Some(g), Some(cutoff), false)
                })
                .unwrap_or_else(|| panic!("{ctype:?} over {g}"))
        };
        let abs = change(a, Measure::M0, ChangeType::Abs, None, cutoff, None);
        let (within, shift) = (part(ChangeType::AbsWithin), part(ChangeType::AbsShift));
        assert_relative_eq!(within.b + shift.b, abs.b, max_relative = 1e-9);
        for (c, b, var) in [(within, b[0], var[0]), (shift, b[1], var[1])] {
            assert_relative_eq!(c.b, b, max_relative = 1e-9);
            assert_relative_eq!(c.precision.se, var.sqrt(), max_relative = 1e-5);
        }
        checked += 2;
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
        2 * m.cutoffs.len() * (1 + s.groupings[0].levels.len() + s.groupings.len())
    );
}

/// Without a PSU column each row is its own PSU: H and A of a round share their rows,
/// the rounds share none.
#[test]
fn parts_of_a_change_when_each_row_is_a_psu() {
    let a = common::each_row_a_psu(3000);
    let s = &a.sample;
    let checked = check_parts(&a, &a.methodology, |i| (s.strata[i], i as u64));
    assert!(checked > 0);
}

/// Persons without a level of a column are one more group of its split; a level met in
/// one round only (here: region's first level, absent from round 1) has all of its part
/// as a shift of population. Both against the rows.
#[test]
fn persons_without_a_level_and_a_level_of_one_round() {
    let (df, m, survey) = common::simulated(4000);
    let region = df.column("region").unwrap().str().unwrap().clone();
    let rounds = df
        .column("t")
        .unwrap()
        .cast(&polars::prelude::DataType::Int64)
        .unwrap();
    let rounds: Vec<Option<i64>> = rounds.i64().unwrap().iter().collect();
    let first = region.iter().flatten().min().unwrap().to_string();
    let blanked: polars::prelude::StringChunked = (region.iter().enumerate())
        .map(|(i, v)| match v {
            _ if i % 50 == 0 => None,
            Some(v) if v == first && rounds[i] == rounds.iter().flatten().max().copied() => {
                Some("elsewhere")
            }
            v => v,
        })
        .collect();
    let mut df = df;
    let column = polars::prelude::IntoSeries::into_series(blanked.with_name("region".into()));
    df.replace("region", column.into()).unwrap();
    let a = analyse_frame(&df, &m, &survey, &Settings::default(), Path::new("sim.csv")).unwrap();
    let s = &a.sample;
    let g = s
        .groupings
        .iter()
        .position(|g| g.column == "region")
        .unwrap();
    assert!((0..s.len()).any(|i| s.groupings[g].codes[i] as usize >= s.groupings[g].levels.len()));
    let iw = IntegerWeights::new(&m).unwrap();
    let mut checked = 0;
    for cutoff in 0..m.cutoffs.len() {
        checked += check_shifts(&a, &iw, cutoff, &|i| (s.strata[i], u64::from(s.psus[i])));
    }
    assert_eq!(checked, 2 * m.cutoffs.len() * s.groupings.len());
}
