//! Rows that miss an indicator, both conventions (`missing_rows`): dropped before the
//! design is read (`drop`, as mpitb and mpitbR), or kept in the design as units outside
//! every domain (`domain`, as R's survey package on a subset design). The estimates are
//! the same; the standard errors are checked against R's survey package under both, and
//! against the linearized variance worked out here from the rows, with the PSUs each convention keeps — one PSU made to miss an
//! indicator in every row, so that it leaves the design under `drop` and stays under
//! `domain`.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use approx::assert_relative_eq;
use num_rational::Ratio;
use polars::prelude::*;

use afmpi::measures::Measure;
use afmpi::methodology::{MissingRows, SurveyColumns};
use afmpi::{analyse_frame, Analysis};
use common::global_mpi_weight;

/// The example with d_nutr missing in every row of its first PSU.
fn example() -> DataFrame {
    let mut df = common::read_csv(Path::new("data/example.csv"));
    let psu = common::texts(&df, "psu");
    let nutr: Vec<Option<f64>> = common::numbers(&df, "d_nutr")
        .into_iter()
        .zip(&psu)
        .map(|(v, p)| if *p == psu[0] { None } else { v })
        .collect();
    df.replace("d_nutr", Column::new("d_nutr".into(), nutr))
        .unwrap();
    df
}

struct Row {
    round: String,
    stratum: String,
    psu: String,
    weight: f64,
    rural: bool,
    /// Whether the row has every indicator, and then whether poor at k = 1/3.
    complete: bool,
    poor: bool,
}

fn rows(df: &DataFrame) -> Vec<Row> {
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
        .map(|i| {
            let complete = values.iter().all(|v| v[i].is_some());
            let score: Ratio<i64> = common::GLOBAL_MPI_INDICATORS
                .iter()
                .zip(&values)
                .filter(|(_, v)| v[i] == Some(1.0))
                .map(|(c, _)| global_mpi_weight(c))
                .sum();
            Row {
                round: t[i].clone(),
                stratum: h[i].clone(),
                psu: p[i].clone(),
                weight: w[i].unwrap(),
                rural: a[i] == "rural",
                complete,
                poor: complete && score >= Ratio::new(1, 3),
            }
        })
        .collect()
}

/// H of `round` among `member` rows, with its linearized standard error over the PSUs
/// of the rows `in_design` (every PSU of a stratum counts in n, those without members
/// with z = 0).
fn linearized_h(
    rows: &[Row],
    round: &str,
    member: impl Fn(&Row) -> bool,
    in_design: impl Fn(&Row) -> bool,
) -> (f64, f64) {
    let mut psus: BTreeMap<(&str, &str), (f64, f64)> = BTreeMap::new();
    for r in rows.iter().filter(|r| in_design(r)) {
        let t = psus.entry((&r.stratum, &r.psu)).or_default();
        if r.round == round && r.complete && member(r) {
            t.0 += r.weight * f64::from(u8::from(r.poor));
            t.1 += r.weight;
        }
    }
    let (y, x) = psus
        .values()
        .fold((0.0, 0.0), |(a, b), &(y, x)| (a + y, b + x));
    let h = y / x;
    let mut strata: BTreeMap<&str, Vec<f64>> = BTreeMap::new();
    for (&(s, _), &(py, px)) in &psus {
        strata.entry(s).or_default().push((py - h * px) / x);
    }
    let var = common::stratified_variance(strata.values());
    (h, var.sqrt())
}

/// R's survey package on the same data (`scripts/survey-reference.R`): per round and
/// domain, H and its standard error under `domain` (subset() of the design of every row)
/// and under `drop` (the design of the complete rows), as R prints them.
const SURVEY: [(u32, bool, f64, f64, f64); 4] = [
    (
        0,
        false,
        0.569791923501933,
        0.021556844852219,
        0.0214839917526666,
    ),
    (
        0,
        true,
        0.647889515960034,
        0.0250815988999784,
        0.0250815988999784,
    ),
    (
        1,
        false,
        0.427741877156183,
        0.0180056508231857,
        0.0180056508231857,
    ),
    (
        1,
        true,
        0.514920705383605,
        0.0222708830836199,
        0.0222708830836199,
    ),
];

#[test]
fn both_conventions_reproduce_r_survey() {
    let df = example();
    let (drop, domain) = (run(&df, MissingRows::Drop), run(&df, MissingRows::Domain));
    let rural = drop.sample.groupings[0]
        .levels
        .iter()
        .position(|l| l == "rural")
        .unwrap() as u32;
    for (round, is_rural, h, se_domain, se_drop) in SURVEY {
        let subgroup = is_rural.then_some((0, rural));
        let ((b, se_a), (_, se_b)) = (h_of(&domain, subgroup, round), h_of(&drop, subgroup, round));
        assert_relative_eq!(b, h, max_relative = 1e-13);
        assert_relative_eq!(se_a, se_domain, max_relative = 1e-12);
        assert_relative_eq!(se_b, se_drop, max_relative = 1e-12);
    }
}

fn run(df: &DataFrame, missing_rows: MissingRows) -> Analysis {
    let m = afmpi::methodology::from_toml(
        &std::fs::read_to_string("data/global-mpi.toml")
            .unwrap()
            .replace("cutoffs = [20, \"1/3\", 50]", "cutoffs = [\"1/3\"]"),
    )
    .unwrap();
    let survey = SurveyColumns {
        weight: Some("weight".into()),
        strata: Some("strata".into()),
        psu: Some("psu".into()),
        round: Some("t".into()),
        over: vec!["area".into()],
        missing_rows: Some(missing_rows),
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

fn h_of(a: &Analysis, subgroup: Option<(usize, u32)>, round: u32) -> (f64, f64) {
    let i = a
        .estimates
        .iter()
        .position(|e| {
            e.measure == Measure::H && e.domain.subgroup == subgroup && e.domain.round == round
        })
        .unwrap();
    (a.estimates[i].b, a.inference.levels[i].se)
}

#[test]
fn both_conventions_give_the_same_estimates_and_their_own_standard_errors() {
    let df = example();
    let rows = rows(&df);
    let (drop, domain) = (run(&df, MissingRows::Drop), run(&df, MissingRows::Domain));
    assert_eq!(drop.report.rows_used, domain.report.rows_used);
    // One PSU fewer under drop: the one whose every row misses d_nutr.
    assert_eq!(
        domain.inference.design.df,
        drop.inference.design.df + 1.0,
        "degrees of freedom"
    );
    assert!(domain
        .report
        .notes
        .iter()
        .any(|n| n.contains("stay in the design as units outside every domain")));
    let rural = drop.sample.groupings[0]
        .levels
        .iter()
        .position(|l| l == "rural")
        .unwrap() as u32;
    for (t, round) in ["1", "2"].into_iter().enumerate() {
        for subgroup in [None, Some((0, rural))] {
            let member = |r: &Row| subgroup.is_none() || r.rural;
            let (b_drop, se_drop) = h_of(&drop, subgroup, t as u32);
            let (b_domain, se_domain) = h_of(&domain, subgroup, t as u32);
            assert_eq!(b_drop, b_domain);
            let (h, se) = linearized_h(&rows, round, member, |r| r.complete);
            assert_relative_eq!(b_drop, h, max_relative = 1e-12);
            assert_relative_eq!(se_drop, se, max_relative = 1e-9);
            let (h, se) = linearized_h(&rows, round, member, |_| true);
            assert_relative_eq!(b_domain, h, max_relative = 1e-12);
            assert_relative_eq!(se_domain, se, max_relative = 1e-9);
            if t == 0 && subgroup.is_none() {
                // The PSU that leaves is of round 1: its stratum's n differs. (Its
                // stratum is urban, so the rural level has no unit there either way.)
                assert!(se_drop != se_domain, "{se_drop} {se_domain}");
            }
        }
    }
}
