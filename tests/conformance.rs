//! Conformance suite: every level estimate (`ctype = lev`) of mpitbR's reference results
//! in ../shared/reference is reproduced, row by row, and the Stata and SPSS copies of the
//! data give the same estimates as the CSV files. Without ../shared the tests say so and
//! pass (set AFMPI_REQUIRE_SHARED=1 to make that a failure, as .ci/run does).

mod common;

use std::collections::HashMap;
use std::path::Path;

use afmpi::{analyse_file, output};
use polars::prelude::*;

/// b of mpitbR carries about 1e-8 of numerical noise; the tolerance of the issue.
const B_TOLERANCE: f64 = 1e-7;
/// se, ll and ul: relative tolerance, or absolute near zero.
const SE_RELATIVE: f64 = 1e-6;
const SE_ABSOLUTE: f64 = 1e-9;

/// measure, indicator, k, loa, subg, t, ctype, yt0, yt1, ann.
type Key = Vec<String>;
/// b, se, ll, ul.
type Values = [Option<f64>; 4];

const KEY_COLUMNS: [&str; 10] = [
    "measure",
    "indicator",
    "k",
    "loa",
    "subg",
    "t",
    "ctype",
    "yt0",
    "yt1",
    "ann",
];
const VALUE_COLUMNS: [&str; 4] = ["b", "se", "ll", "ul"];

/// Rows of a results frame (ours or mpitbR's) by key. Columns a frame lacks are empty;
/// numbers in keys are written as numbers (20, not 20.0).
fn rows_by_key(frame: &DataFrame, only_ctype: Option<&str>) -> HashMap<Key, Values> {
    let text = |c: &str| -> Vec<Option<String>> {
        let Ok(col) = frame.column(c) else {
            return vec![None; frame.height()];
        };
        if col.dtype().is_primitive_numeric() {
            let f = col.cast(&DataType::Float64).unwrap();
            f.f64()
                .unwrap()
                .iter()
                .map(|v| v.map(|x| format!("{x}")))
                .collect()
        } else {
            let s = col.cast(&DataType::String).unwrap();
            s.str()
                .unwrap()
                .iter()
                .map(|v| v.map(str::to_string))
                .collect()
        }
    };
    let keys: Vec<Vec<Option<String>>> = KEY_COLUMNS.iter().map(|c| text(c)).collect();
    let values: Vec<Vec<Option<f64>>> = VALUE_COLUMNS
        .iter()
        .map(|c| {
            frame
                .column(c)
                .unwrap()
                .cast(&DataType::Float64)
                .unwrap()
                .f64()
                .unwrap()
                .iter()
                .collect()
        })
        .collect();
    let mut out = HashMap::new();
    for i in 0..frame.height() {
        let key: Key = keys
            .iter()
            .map(|k| k[i].clone().unwrap_or_default())
            .collect();
        if only_ctype.is_some_and(|c| key[6] != c) {
            continue;
        }
        let v = [values[0][i], values[1][i], values[2][i], values[3][i]];
        assert!(
            out.insert(key.clone(), v).is_none(),
            "duplicate row {key:?}"
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

fn close(ours: f64, theirs: f64, relative: f64, absolute: f64) -> bool {
    let diff = (ours - theirs).abs();
    diff <= absolute || diff <= relative * theirs.abs()
}

/// Checks every row of a reference file of `ctype` rows against ours: b within 1e-7, se,
/// ll and ul within 1e-6 relative (1e-9 absolute). Where mpitbR gives no standard error
/// (actb, pctb) ours is not compared. Returns the rows matched.
fn check(reference: &Path, ours: &HashMap<Key, Values>) -> usize {
    let theirs = rows_by_key(&read_reference(reference), None);
    let mut matched = 0;
    let mut failures = Vec::new();
    for (key, want) in &theirs {
        let Some(got) = ours.get(key) else {
            failures.push(format!("{key:?}: missing from our results"));
            continue;
        };
        let mut ok = true;
        for (c, (g, w)) in got.iter().zip(want).enumerate() {
            let fine = match (g, w) {
                (_, None) if c > 0 => true,
                (None, None) => true,
                (Some(g), Some(w)) if c == 0 => (g - w).abs() <= B_TOLERANCE,
                (Some(g), Some(w)) => close(*g, *w, SE_RELATIVE, SE_ABSOLUTE),
                _ => false,
            };
            if !fine {
                failures.push(format!(
                    "{key:?} {}: ours {g:?}, mpitbR {w:?}",
                    VALUE_COLUMNS[c]
                ));
                ok = false;
            }
        }
        if ok {
            matched += 1;
        }
    }
    failures.sort();
    assert!(
        failures.is_empty(),
        "{}: {} of {} rows differ, e.g.\n{}",
        reference.display(),
        theirs.len() - matched,
        theirs.len(),
        failures
            .iter()
            .take(20)
            .cloned()
            .collect::<Vec<_>>()
            .join("\n")
    );
    eprintln!(
        "{}: {matched} rows reproduced (b, se, ll, ul)",
        reference.display()
    );
    matched
}

fn run(shared: &Path, data: &str, toml: &str) -> HashMap<Key, Values> {
    let m = afmpi::methodology::from_toml(toml).unwrap();
    let a = analyse_file(
        &m,
        &m.survey,
        &Default::default(),
        &shared.join("data").join(data),
    )
    .unwrap();
    rows_by_key(&output::results_frame(&a), None)
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
fn syn_cdta_levels_and_changes() {
    let Some(shared) = common::shared_dir() else {
        return;
    };
    let ours = run(&shared, "syn_cdta.csv", &syn_toml());
    assert_eq!(
        check(&shared.join("reference/syn_cdta_lframe.csv"), &ours),
        3496
    );
    assert_eq!(
        check(&shared.join("reference/syn_cdta_cotframe.csv"), &ours),
        3312
    );
}

#[test]
fn benin_2017_levels() {
    let Some(shared) = common::shared_dir() else {
        return;
    };
    let ours = run(&shared, "ben_dhs17_18.csv", &benin_toml(false));
    assert_eq!(
        check(&shared.join("reference/ben_dhs17_18_lframe.csv"), &ours),
        1635
    );
}

#[test]
fn benin_two_rounds_levels_and_changes() {
    let Some(shared) = common::shared_dir() else {
        return;
    };
    let ours = run(&shared, "benin_2006_2017.csv", &benin_toml(true));
    assert_eq!(
        check(&shared.join("reference/benin_2006_2017_lframe.csv"), &ours),
        3270
    );
    assert_eq!(
        check(
            &shared.join("reference/benin_2006_2017_cotframe.csv"),
            &ours
        ),
        2940
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
        for (x, y) in va.iter().zip(vb) {
            match (x, y) {
                (Some(x), Some(y)) => assert!(
                    close(*y, *x, 1e-12, 1e-15),
                    "{other} {key:?}: {vb:?} vs {va:?} from {csv}"
                ),
                (None, None) => {}
                _ => panic!("{other} {key:?}: {vb:?} vs {va:?} from {csv}"),
            }
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
    let get = |m: &str, k: &str| {
        let key: Key = [m, "", k, "nat", "nat", "", "lev", "", "", ""]
            .iter()
            .map(|s| s.to_string())
            .collect();
        ours[&key][0].unwrap()
    };
    assert!((get("M0", "33") - 0.36686).abs() < 5e-6);
    assert!((get("H", "33") - 0.66751).abs() < 5e-6);
    assert!((get("A", "33") - 0.54960).abs() < 5e-6);
    // A score of exactly 1/2 (three weights of 1/6) is poor at k = 50.
    assert!(
        (get("H", "50") - 0.40834).abs() < 5e-6,
        "H at k = 50 is {}",
        get("H", "50")
    );
}

/// Value labels of subgroup columns come out as labels: a region reads "Alibori", not 1.
#[test]
fn stata_value_labels_name_the_subgroups() {
    let Some(shared) = common::shared_dir() else {
        return;
    };
    let m = afmpi::methodology::from_toml(&benin_toml(false)).unwrap();
    let a = analyse_file(
        &m,
        &m.survey,
        &Default::default(),
        &shared.join("data/ben_dhs17_18.dta"),
    )
    .unwrap();
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
    // The rows used are those of the CSV copy with every indicator and the design
    // (mpitbR's na.omit), counted here from that file.
    let needed = [
        &common::GLOBAL_MPI_INDICATORS[..],
        &["weight", "strata", "psu"],
    ]
    .concat();
    let (read, used) = common::complete_rows(&shared.join("data/ben_dhs17_18.csv"), &needed);
    assert_eq!((a.report.rows_read, a.report.rows_used), (read, used));
}
