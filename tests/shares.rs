//! Subgroups' shares (`popsh`, `contrib`, as R convey's `svyafcdec`): each level's
//! population share and its contribution to the whole sample's M0, and their standard
//! errors. Checked against R's survey package (svyratio) and against a computation here
//! from the rows: the totals per PSU, the
//! ratio's gradient by finite differences (the numerical delta method) and the
//! stratified with-replacement variance of the PSU totals — for a clustered design and
//! for rows as their own PSUs.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use approx::assert_relative_eq;
use num_rational::Ratio;
use polars::prelude::*;

use afmpi::measures::Measure;
use afmpi::methodology::SurveyColumns;
use afmpi::{analyse_frame, Analysis};
use common::global_mpi_weight;

fn example() -> DataFrame {
    common::read_csv(Path::new("data/example.csv"))
}

/// One row used by the run: its round, stratum, PSU (or its own row), weight, area and
/// censored score at k = 1/3.
struct Row {
    round: String,
    stratum: String,
    psu: String,
    weight: f64,
    area: String,
    censored: f64,
}

fn rows(df: &DataFrame, clustered: bool) -> Vec<Row> {
    let values: Vec<Vec<Option<f64>>> = common::GLOBAL_MPI_INDICATORS
        .iter()
        .map(|c| common::numbers(df, c))
        .collect();
    let (t, h, p, a) = (
        common::texts(df, "t"),
        common::texts(df, "strata"),
        common::texts(df, "psu"),
        common::texts(df, "area"),
    );
    let w = common::numbers(df, "weight");
    (0..df.height())
        .filter(|&i| values.iter().all(|v| v[i].is_some()))
        .map(|i| {
            let score: Ratio<i64> = common::GLOBAL_MPI_INDICATORS
                .iter()
                .zip(&values)
                .filter(|(_, v)| v[i] == Some(1.0))
                .map(|(c, _)| global_mpi_weight(c))
                .sum();
            let poor = score >= Ratio::new(1, 3);
            Row {
                round: t[i].clone(),
                stratum: h[i].clone(),
                psu: if clustered {
                    p[i].clone()
                } else {
                    i.to_string()
                },
                weight: w[i].unwrap(),
                area: a[i].clone(),
                censored: if poor {
                    *score.numer() as f64 / *score.denom() as f64
                } else {
                    0.0
                },
            }
        })
        .collect()
}

/// A share Y/X of round `round`: the estimate and its standard error, from the PSU
/// totals of y and x, the gradient of Y/X taken by finite differences, and the
/// stratified variance of the linearized PSU totals (n/(n-1) within strata).
fn delta_method(
    rows: &[Row],
    round: &str,
    y: impl Fn(&Row) -> f64,
    x: impl Fn(&Row) -> f64,
) -> (f64, f64) {
    let mut psus: BTreeMap<(&str, &str), (f64, f64)> = BTreeMap::new();
    for r in rows.iter().filter(|r| r.round == round) {
        let t = psus.entry((&r.stratum, &r.psu)).or_default();
        t.0 += r.weight * y(r);
        t.1 += r.weight * x(r);
    }
    let (ty, tx): (f64, f64) = psus
        .values()
        .fold((0.0, 0.0), |(a, b), &(y, x)| (a + y, b + x));
    let f = |y: f64, x: f64| y / x;
    let step = 1e-4 * tx;
    let gy = (f(ty + step, tx) - f(ty - step, tx)) / (2.0 * step);
    let gx = (f(ty, tx + step) - f(ty, tx - step)) / (2.0 * step);
    let mut strata: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for (&(h, _), &(y, x)) in &psus {
        strata.entry(h).or_default().push(gy * y + gx * x);
    }
    let var = common::stratified_variance(strata.values());
    (f(ty, tx), var.sqrt())
}

fn run(df: &DataFrame, clustered: bool) -> Analysis {
    let m = afmpi::methodology::from_toml(
        &std::fs::read_to_string("data/global-mpi.toml")
            .unwrap()
            .replace("cutoffs = [20, \"1/3\", 50]", "cutoffs = [\"1/3\"]"),
    )
    .unwrap();
    let survey = SurveyColumns {
        weight: Some("weight".into()),
        strata: Some("strata".into()),
        psu: clustered.then(|| "psu".into()),
        round: Some("t".into()),
        over: vec!["area".into()],
        ..Default::default()
    };
    analyse_frame(
        df,
        &m,
        &survey,
        &Default::default(),
        Path::new("example.csv"),
    )
    .unwrap()
}

fn check(clustered: bool) {
    let df = example();
    let a = run(&df, clustered);
    let rows = rows(&df, clustered);
    let mut checked = 0;
    for (i, e) in a.estimates.iter().enumerate() {
        if !e.measure.of_the_whole_sample() {
            continue;
        }
        let (g, l) = e.domain.subgroup.expect("shares are of subgroup levels");
        let level = a.sample.groupings[g].levels[l as usize].clone();
        let round = a.sample.round_info[e.domain.round as usize].label.clone();
        let in_level = |r: &Row| if r.area == level { 1.0 } else { 0.0 };
        let (b, se) = match e.measure {
            Measure::Popsh => delta_method(&rows, &round, in_level, |_| 1.0),
            Measure::Contrib => {
                delta_method(&rows, &round, |r| in_level(r) * r.censored, |r| r.censored)
            }
            _ => unreachable!(),
        };
        assert_relative_eq!(e.b, b, max_relative = 1e-12);
        assert_relative_eq!(a.inference.levels[i].se, se, max_relative = 1e-6);
        checked += 1;
    }
    // popsh and contrib for 2 areas in 2 rounds.
    assert_eq!(checked, 8);
}

/// R's survey package on the same rows (`scripts/survey-reference.R`, svyratio): per
/// design (clustered or rows as PSUs), round and area, popsh and contrib with their
/// standard errors, as R prints them.
#[allow(clippy::type_complexity)]
const SURVEY: [(bool, u32, &str, f64, f64, f64, f64); 8] = [
    (
        true,
        0,
        "rural",
        0.783474153969296,
        0.0089215351816043,
        0.920429384260154,
        0.010136916469959,
    ),
    (
        true,
        0,
        "urban",
        0.216525846030704,
        0.0089215351816043,
        0.0795706157398456,
        0.010136916469959,
    ),
    (
        true,
        1,
        "rural",
        0.767136424214982,
        0.0089886442253203,
        0.925157775538428,
        0.0125823488918782,
    ),
    (
        true,
        1,
        "urban",
        0.232863575785018,
        0.0089886442253203,
        0.0748422244615715,
        0.0125823488918782,
    ),
    (
        false,
        0,
        "rural",
        0.783474153969296,
        0.00103964804841366,
        0.920429384260154,
        0.00305174866377278,
    ),
    (
        false,
        0,
        "urban",
        0.216525846030704,
        0.00103964804841366,
        0.0795706157398456,
        0.00305174866377278,
    ),
    (
        false,
        1,
        "rural",
        0.767136424214982,
        0.00106222807317543,
        0.925157775538428,
        0.0041135358315329,
    ),
    (
        false,
        1,
        "urban",
        0.232863575785018,
        0.00106222807317543,
        0.0748422244615715,
        0.0041135358315329,
    ),
];

#[test]
fn shares_of_subgroups_reproduce_r_survey() {
    let df = example();
    for clustered in [true, false] {
        let a = run(&df, clustered);
        for &(design, round, level, popsh, popsh_se, contrib, contrib_se) in &SURVEY {
            if design != clustered {
                continue;
            }
            let l = a.sample.groupings[0]
                .levels
                .iter()
                .position(|x| x == level)
                .unwrap() as u32;
            for (measure, b, se) in [
                (Measure::Popsh, popsh, popsh_se),
                (Measure::Contrib, contrib, contrib_se),
            ] {
                let i = a
                    .estimates
                    .iter()
                    .position(|e| {
                        e.measure == measure
                            && e.domain.subgroup == Some((0, l))
                            && e.domain.round == round
                    })
                    .unwrap();
                assert_relative_eq!(a.estimates[i].b, b, max_relative = 1e-13);
                assert_relative_eq!(a.inference.levels[i].se, se, max_relative = 1e-12);
            }
        }
    }
}

#[test]
fn shares_of_subgroups_match_the_delta_method_on_psu_totals() {
    check(true);
}

#[test]
fn shares_of_subgroups_match_the_delta_method_with_rows_as_psus() {
    check(false);
}

/// Over the levels of a column the shares add up to 1, and a level's contribution is its
/// population share times its M0 over the whole sample's.
#[test]
fn shares_add_up_and_contributions_are_popsh_times_relative_m0() {
    let a = run(&example(), true);
    let find = |m: Measure, subgroup: Option<(usize, u32)>, round: u32| {
        a.estimates
            .iter()
            .find(|e| {
                e.measure == m
                    && e.domain.subgroup == subgroup
                    && e.domain.round == round
                    && e.indicator.is_none()
            })
            .unwrap()
            .b
    };
    for round in 0..2 {
        let levels = [Some((0, 0)), Some((0, 1))];
        let total = |m| levels.iter().map(|&l| find(m, l, round)).sum::<f64>();
        assert_relative_eq!(total(Measure::Popsh), 1.0, max_relative = 1e-14);
        assert_relative_eq!(total(Measure::Contrib), 1.0, max_relative = 1e-14);
        for l in levels {
            assert_relative_eq!(
                find(Measure::Contrib, l, round),
                find(Measure::Popsh, l, round) * find(Measure::M0, l, round)
                    / find(Measure::M0, None, round),
                max_relative = 1e-12
            );
        }
    }
}
