//! Conformance suite: every level estimate (`ctype = lev`) of mpitbR's reference results
//! in ../shared/reference is reproduced, row by row, and the Stata and SPSS copies of the
//! data give the same estimates as the CSV files. Without ../shared the tests say so and
//! pass (set AFMPI_REQUIRE_SHARED=1 to make that a failure, as .ci/run does).

mod common;

use std::collections::HashMap;
use std::path::Path;

use afmpi::methodology::Methodology;
use afmpi::{analyse_file, output};
use polars::prelude::*;

/// b of mpitbR carries about 1e-8 of numerical noise; the tolerance of the issue.
const B_TOLERANCE: f64 = 1e-7;

type Key = (String, String, String, String, String, String);

fn key_of(
    measure: &str,
    indicator: Option<&str>,
    k: Option<f64>,
    loa: &str,
    subg: &str,
    t: Option<&str>,
) -> Key {
    (
        measure.to_string(),
        indicator.unwrap_or("").to_string(),
        k.map(|k| format!("{k}")).unwrap_or_default(),
        loa.to_string(),
        subg.to_string(),
        t.unwrap_or("").to_string(),
    )
}

/// The estimates of a results frame by key.
fn estimates_by_key(frame: &DataFrame) -> HashMap<Key, Option<f64>> {
    let s = |c: &str| frame.column(c).unwrap().cast(&DataType::String).unwrap();
    let (measure, indicator, loa, subg, t) =
        (s("measure"), s("indicator"), s("loa"), s("subg"), s("t"));
    let k = frame.column("k").unwrap().f64().unwrap().clone();
    let b = frame.column("b").unwrap().f64().unwrap().clone();
    let mut out = HashMap::new();
    for i in 0..frame.height() {
        let key = key_of(
            measure.str().unwrap().get(i).unwrap(),
            indicator.str().unwrap().get(i),
            k.get(i),
            loa.str().unwrap().get(i).unwrap(),
            subg.str().unwrap().get(i).unwrap(),
            t.str().unwrap().get(i),
        );
        assert!(
            out.insert(key.clone(), b.get(i)).is_none(),
            "duplicate result row {key:?}"
        );
    }
    out
}

fn read_reference(path: &Path) -> DataFrame {
    LazyCsvReader::new(PlRefPath::try_from_path(path).unwrap())
        .with_has_header(true)
        .with_infer_schema_length(None)
        .with_null_values(Some(NullValues::AllColumnsSingle("NA".into())))
        .finish()
        .unwrap()
        .collect()
        .unwrap()
}

/// Checks every `lev` row of a reference lframe against a run; returns the rows matched.
fn check_levels(reference: &Path, ours: &HashMap<Key, Option<f64>>) -> usize {
    let r = read_reference(reference);
    let s = |c: &str| r.column(c).unwrap().cast(&DataType::String).unwrap();
    let (measure, indicator, loa, subg, ctype) = (
        s("measure"),
        s("indicator"),
        s("loa"),
        s("subg"),
        s("ctype"),
    );
    let t = r
        .column("t")
        .ok()
        .map(|c| c.cast(&DataType::String).unwrap());
    let k = r.column("k").unwrap().cast(&DataType::Float64).unwrap();
    let b = r.column("b").unwrap().cast(&DataType::Float64).unwrap();
    let mut matched = 0;
    let mut failures = Vec::new();
    for i in 0..r.height() {
        if ctype.str().unwrap().get(i) != Some("lev") {
            continue;
        }
        let key = key_of(
            measure.str().unwrap().get(i).unwrap(),
            indicator.str().unwrap().get(i),
            k.f64().unwrap().get(i),
            loa.str().unwrap().get(i).unwrap(),
            subg.str().unwrap().get(i).unwrap(),
            t.as_ref().and_then(|t| t.str().unwrap().get(i)),
        );
        let want = b.f64().unwrap().get(i);
        match (ours.get(&key), want) {
            (None, _) => failures.push(format!("{key:?}: missing from our results")),
            (Some(Some(got)), Some(want)) if (got - want).abs() <= B_TOLERANCE => matched += 1,
            (Some(None), None) => matched += 1,
            (Some(got), want) => failures.push(format!("{key:?}: ours {got:?}, mpitbR {want:?}")),
        }
    }
    assert!(
        failures.is_empty(),
        "{}: {} of {} rows differ, e.g.\n{}",
        reference.display(),
        failures.len(),
        failures.len() + matched,
        failures
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    eprintln!("{}: {matched} level rows reproduced", reference.display());
    matched
}

fn run(shared: &Path, data: &str, toml: &str) -> HashMap<Key, Option<f64>> {
    let m = Methodology::from_toml(toml).unwrap();
    let a = analyse_file(&m, &m.survey, &shared.join("data").join(data)).unwrap();
    estimates_by_key(&output::results_frame(&m, &a.sample, &a.estimates))
}

fn syn_toml() -> String {
    common::global_mpi_toml(
        ["d1", "d2", "d3"],
        "[20, 33]",
        "weight = \"weight\"\nstrata = \"stratum\"\npsu = \"psu\"\nover = [\"area\", \"region\"]\nround = \"t\"\nyear = \"year\"\n",
    )
}

fn benin_toml(rounds: bool) -> String {
    let mut survey =
        "weight = \"weight\"\nstrata = \"strata\"\npsu = \"psu\"\nover = [\"area\", \"region\"]\n"
            .to_string();
    if rounds {
        survey.push_str("round = \"t\"\nyear = \"year\"\n");
    }
    common::global_mpi_toml(["hl", "ed", "ls"], "[20, 33, 50]", &survey)
}

#[test]
fn syn_cdta_levels() {
    let Some(shared) = common::shared_dir() else {
        return;
    };
    let ours = run(&shared, "syn_cdta.csv", &syn_toml());
    assert_eq!(
        check_levels(&shared.join("reference/syn_cdta_lframe.csv"), &ours),
        3496
    );
}

#[test]
fn benin_2017_levels() {
    let Some(shared) = common::shared_dir() else {
        return;
    };
    let ours = run(&shared, "ben_dhs17_18.csv", &benin_toml(false));
    assert_eq!(
        check_levels(&shared.join("reference/ben_dhs17_18_lframe.csv"), &ours),
        1635
    );
}

#[test]
fn benin_two_rounds_levels() {
    let Some(shared) = common::shared_dir() else {
        return;
    };
    let ours = run(&shared, "benin_2006_2017.csv", &benin_toml(true));
    assert_eq!(
        check_levels(&shared.join("reference/benin_2006_2017_lframe.csv"), &ours),
        3270
    );
}

/// The Stata and SPSS copies hold the same data as the CSV files: same estimates.
fn same_estimates(shared: &Path, csv: &str, other: &str, toml: &str) {
    let a = run(shared, csv, toml);
    let b = run(shared, other, toml);
    assert_eq!(
        a.len(),
        b.len(),
        "{other}: a different number of estimates than {csv}"
    );
    for (key, va) in &a {
        let vb = b
            .get(key)
            .unwrap_or_else(|| panic!("{other}: no estimate for {key:?}"));
        match (va, vb) {
            (Some(x), Some(y)) => assert!(
                (x - y).abs() <= 1e-12,
                "{other} {key:?}: {y} vs {x} from {csv}"
            ),
            (None, None) => {}
            _ => panic!("{other} {key:?}: {vb:?} vs {va:?} from {csv}"),
        }
    }
}

#[test]
fn stata_and_spss_files_match_csv() {
    let Some(shared) = common::shared_dir() else {
        return;
    };
    same_estimates(&shared, "syn_cdta.csv", "syn_cdta.dta", &syn_toml());
    same_estimates(&shared, "syn_cdta.csv", "syn_cdta.sav", &syn_toml());
    same_estimates(
        &shared,
        "ben_dhs17_18.csv",
        "ben_dhs17_18.dta",
        &benin_toml(false),
    );
}

/// The facts the reference README states: published figures and exact identification.
#[test]
fn benin_2017_known_figures() {
    let Some(shared) = common::shared_dir() else {
        return;
    };
    let ours = run(&shared, "ben_dhs17_18.csv", &benin_toml(false));
    let get = |m: &str, k: f64| ours[&key_of(m, None, Some(k), "nat", "nat", None)].unwrap();
    assert!((get("M0", 33.0) - 0.36686).abs() < 5e-6);
    assert!((get("H", 33.0) - 0.66751).abs() < 5e-6);
    assert!((get("A", 33.0) - 0.54960).abs() < 5e-6);
    // A score of exactly 1/2 (three weights of 1/6) is poor at k = 50.
    assert!(
        (get("H", 50.0) - 0.40834).abs() < 5e-6,
        "H at k = 50 is {}",
        get("H", 50.0)
    );
}

/// Value labels of subgroup columns come out as labels: a region reads "Alibori", not 1.
#[test]
fn stata_value_labels_name_the_subgroups() {
    let Some(shared) = common::shared_dir() else {
        return;
    };
    let m = Methodology::from_toml(&benin_toml(false)).unwrap();
    let a = analyse_file(&m, &m.survey, &shared.join("data/ben_dhs17_18.dta")).unwrap();
    let region = a
        .sample
        .groupings
        .iter()
        .find(|g| g.column == "region")
        .unwrap();
    assert!(
        region.levels.iter().any(|l| l == "Alibori"),
        "{:?}",
        region.levels
    );
    assert_eq!(a.report.rows_used, 72_412);
}
