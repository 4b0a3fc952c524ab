//! Inequality among the poor (the variance of their scores), its split within and
//! between the levels of each subgroup column and its changes between rounds, against
//! an independent route: the poor's weights, scores and squared scores added up per PSU
//! straight from the rows, and the numerical delta method of tests/common.

mod common;

use std::path::Path;

use afmpi::domain::Domain;
use afmpi::inference::{ChangeType, Settings};
use afmpi::measures::Measure;
use afmpi::methodology::IntegerWeights;
use afmpi::{analyse_frame, Analysis};
use approx::assert_relative_eq;

/// The variance of the poor's scores from their totals (weight, Σ w c, Σ w c²).
fn variance(t: &[f64]) -> f64 {
    let a = t[1] / t[0];
    t[2] / t[0] - a * a
}

/// Within and between parts over `groups` groups, from each group's three totals.
fn parts(t: &[f64], groups: usize) -> Vec<f64> {
    let all: Vec<f64> = (0..3)
        .map(|k| (0..groups).map(|l| t[3 * l + k]).sum())
        .collect();
    let within: f64 = (0..groups)
        .filter(|&l| t[3 * l] > 0.0)
        .map(|l| t[3 * l] * variance(&t[3 * l..3 * l + 3]))
        .sum::<f64>()
        / all[0];
    vec![within, variance(&all) - within]
}

/// A standard error against a variance by the delta method. Where every poor person of
/// a domain has one score, V and its variance are 0 and the central differences leave
/// noise of about 1e-16 (or NaN, from the square root of a tiny negative).
fn same_variance(se: f64, var: f64) {
    let var = if var.is_nan() { 0.0 } else { var };
    assert_relative_eq!(se * se, var, max_relative = 2e-5, epsilon = 1e-14);
}

/// Checks every level and change of `ineq` and every split against the rows; `unit`
/// gives a row's PSU. Returns the number of statistics checked.
fn check(a: &Analysis, unit: impl Fn(usize) -> (u32, u64)) -> usize {
    let s = &a.sample;
    let iw = IntegerWeights::new(&a.methodology).unwrap();
    let poor = |i: usize, c: usize| {
        let score = iw.score(s.profiles[i]);
        iw.poor(score, c).then(|| iw.score_f64(s.profiles[i]))
    };
    let mut checked = 0;
    for c in 0..a.methodology.cutoffs.len() {
        let subgroups = std::iter::once(None).chain(
            (0..s.groupings.len())
                .flat_map(|g| (0..s.groupings[g].levels.len() as u32).map(move |l| Some((g, l)))),
        );
        for subgroup in subgroups {
            let inside = |i: usize| subgroup.is_none_or(|(g, l)| s.groupings[g].codes[i] == l);
            // Each round's three totals, side by side: levels, and the change.
            let rows: Vec<((u32, u64), Vec<f64>)> = (0..s.len())
                .map(|i| {
                    let mut t = vec![0.0; 6];
                    if let (true, Some(score)) = (inside(i), poor(i, c)) {
                        let at = 3 * s.rounds[i] as usize;
                        let w = s.weights[i];
                        t[at..at + 3].copy_from_slice(&[w, w * score, w * score * score]);
                    }
                    (unit(i), t)
                })
                .collect();
            let (b, var) = common::delta_method(&rows, |t| {
                vec![
                    variance(&t[0..3]),
                    variance(&t[3..6]),
                    variance(&t[3..6]) - variance(&t[0..3]),
                ]
            });
            for round in 0..2u32 {
                let i = a
                    .find(
                        Measure::Ineq,
                        None,
                        Some(c),
                        None,
                        Domain { subgroup, round },
                    )
                    .unwrap();
                assert_relative_eq!(a.estimates[i].b, b[round as usize], max_relative = 1e-9);
                same_variance(a.inference.levels[i].se, var[round as usize]);
                checked += 1;
            }
            let change = a
                .inference
                .changes
                .iter()
                .find(|x| {
                    (x.measure, x.ctype, x.cutoff, x.subgroup, x.annualized)
                        == (Measure::Ineq, ChangeType::Abs, Some(c), subgroup, false)
                })
                .unwrap();
            assert_relative_eq!(change.b, b[2], max_relative = 1e-9);
            same_variance(change.precision.se, var[2]);
            checked += 1;
        }
        checked += check_splits(a, &poor, c, &unit);
    }
    checked
}

/// The within and between parts of the national inequality over each column, in each
/// round, against the rows (the persons without a level one more group).
fn check_splits(
    a: &Analysis,
    poor: &impl Fn(usize, usize) -> Option<f64>,
    c: usize,
    unit: &impl Fn(usize) -> (u32, u64),
) -> usize {
    let s = &a.sample;
    let mut checked = 0;
    for g in 0..s.groupings.len() {
        let groups = s.groupings[g].levels.len() + 1;
        for round in 0..2u32 {
            let rows: Vec<((u32, u64), Vec<f64>)> = (0..s.len())
                .map(|i| {
                    let mut t = vec![0.0; 3 * groups];
                    if let (true, Some(score)) = (s.rounds[i] == round, poor(i, c)) {
                        let l = (s.groupings[g].codes[i] as usize).min(groups - 1);
                        let w = s.weights[i];
                        t[3 * l..3 * l + 3].copy_from_slice(&[w, w * score, w * score * score]);
                    }
                    (unit(i), t)
                })
                .collect();
            let (b, var) = common::delta_method(&rows, |t| parts(t, groups));
            let split = (a.inference.splits.iter())
                .find(|x| (x.column, x.round, x.cutoff) == (g, round, c))
                .unwrap();
            let national = a
                .find(
                    Measure::Ineq,
                    None,
                    Some(c),
                    None,
                    Domain {
                        subgroup: None,
                        round,
                    },
                )
                .unwrap();
            assert_relative_eq!(
                split.within.0 + split.between.0,
                a.estimates[national].b,
                max_relative = 1e-9
            );
            for (part, k) in [(split.within, 0), (split.between, 1)] {
                assert_relative_eq!(part.0, b[k], max_relative = 1e-9);
                same_variance(part.1.se, var[k]);
            }
            checked += 2;
        }
    }
    checked
}

/// A clustered design whose PSUs are visited in both rounds, with persons without a
/// level (every 40th row's region blanked).
#[test]
fn inequality_in_a_panel_of_psus() {
    let (mut df, m, survey) = common::simulated(4000);
    common::restart_ids_in_each_round(&mut df);
    let region = df.column("region").unwrap().str().unwrap().clone();
    let blanked: polars::prelude::StringChunked = (region.iter().enumerate())
        .map(|(i, v)| if i % 40 == 0 { None } else { v })
        .collect();
    let column = polars::prelude::IntoSeries::into_series(blanked.with_name("region".into()));
    df.replace("region", column.into()).unwrap();
    assert!(
        m.inequality,
        "the shipped global MPI reports inequality among the poor"
    );
    let a = analyse_frame(&df, &m, &survey, &Settings::default(), Path::new("sim.csv")).unwrap();
    let s = &a.sample;
    assert!(s
        .groupings
        .iter()
        .any(|g| g.codes.iter().any(|&c| c as usize >= g.levels.len())));
    let checked = check(&a, |i| (s.strata[i], u64::from(s.psus[i])));
    let domains = 1 + s.groupings.iter().map(|g| g.levels.len()).sum::<usize>();
    assert_eq!(
        checked,
        m.cutoffs.len() * (3 * domains + 2 * 2 * s.groupings.len())
    );
}

/// Without a PSU column each row is its own PSU.
#[test]
fn inequality_when_each_row_is_a_psu() {
    let a = common::each_row_a_psu(2500);
    let s = &a.sample;
    assert!(check(&a, |i| (s.strata[i], i as u64)) > 0);
}

/// By hand: indicators a, b, c weighing 1/2, 1/3, 1/6, k = 1/2; four poor persons of
/// scores 1/2, 1/2, 5/6 and 1 (weight 1 each) and one of 1/6, not poor. A = 17/24 and
/// V = mean of c² − A² = 79/144 − 289/576 = 27/576; over the groups x {1/2, 1/2} and
/// y {5/6, 1}: within (2 × 0 + 2 × (1/12)²)/4 = 2/576, between
/// (1/2)(5/24)² + (1/2)(5/24)² = 25/576.
#[test]
fn inequality_by_hand() {
    use polars::prelude::*;
    let text = "name = \"h\"\ncutoffs = [\"1/2\"]\ninequality = true\n[[dimension]]\nname = \"d\"\n[[dimension.indicator]]\ncolumn = \"a\"\nweight = \"1/2\"\n[[dimension.indicator]]\ncolumn = \"b\"\nweight = \"1/3\"\n[[dimension.indicator]]\ncolumn = \"c\"\nweight = \"1/6\"\n[survey]\nover = [\"g\"]\n";
    let m = afmpi::methodology::from_toml(text).unwrap();
    let df = df!(
        "a" => [1, 1, 1, 1, 0],
        "b" => [0, 0, 1, 1, 0],
        "c" => [0, 0, 0, 1, 1],
        "g" => ["x", "x", "y", "y", "y"],
    )
    .unwrap();
    let a = analyse_frame(
        &df,
        &m,
        &m.survey,
        &Settings::default(),
        Path::new("hand.csv"),
    )
    .unwrap();
    let national = Domain {
        subgroup: None,
        round: 0,
    };
    let i = a
        .find(Measure::Ineq, None, Some(0), None, national)
        .unwrap();
    assert_relative_eq!(a.estimates[i].b, 27.0 / 576.0, max_relative = 1e-12);
    let split = a.inference.splits[0];
    assert_relative_eq!(split.within.0, 2.0 / 576.0, max_relative = 1e-12);
    assert_relative_eq!(split.between.0, 25.0 / 576.0, max_relative = 1e-12);
}
