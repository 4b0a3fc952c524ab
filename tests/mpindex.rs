//! R mpindex's own example reproduced at the household level: its household file and
//! member roster (`../shared/external`), joined on `uuid`, each household counted once
//! (`unit = "household"`), the deprivation cutoffs of its vignette
//! (`tests/mpindex/mpindex.toml`).
//!
//! The expected figures are mpindex's: printed by `scripts/mpindex-reference.R`, which
//! runs mpindex 0.3.0's own R code (compute_mpi, by class) on the same CSV files. They
//! are 15 significant digits as R prints them.

mod common;

use std::collections::HashMap;

use common::{afmpi, read_csv, shared_dir, texts};

/// mpindex's figures: (class, H, A, MPI) at k = 1/3.
const INDEX: [(&str, f64, f64, f64); 3] = [
    (
        "nat",
        0.378787878787879,
        0.471851853453333,
        0.178731762671717,
    ),
    (
        "Rural",
        0.479591836734694,
        0.513002365936170,
        0.246031746928571,
    ),
    (
        "Urban",
        0.280000000000000,
        0.402777778928571,
        0.112777778100000,
    ),
];

const INDICATORS: [&str; 10] = [
    "nutrition",
    "child_mortality",
    "year_schooling",
    "school_attendance",
    "cooking_fuel",
    "sanitation",
    "drinking_water",
    "electricity",
    "housing",
    "assets",
];

/// mpindex's uncensored headcount ratios by class (Rural, Urban).
const UNCENSORED: [[f64; 10]; 2] = [
    [
        0.306122448979592,
        0.0204081632653061,
        0.887755102040816,
        0.275510204081633,
        0.581632653061224,
        0.0816326530612245,
        0.0306122448979592,
        0.102040816326531,
        0.163265306122449,
        0.86734693877551,
    ],
    [0.17, 0.01, 0.74, 0.24, 0.01, 0.1, 0.01, 0.0, 0.01, 0.65],
];

/// mpindex's censored headcount ratios and contributions (percent), all households.
const CENSORED: [f64; 10] = [
    0.227272727272727,
    0.0151515151515152,
    0.363636363636364,
    0.217171717171717,
    0.196969696969697,
    0.0555555555555556,
    0.0202020202020202,
    0.0454545454545455,
    0.0858585858585859,
    0.343434343434343,
];
const CONTRIBUTION: [f64; 10] = [
    21.1930925921201,
    1.41287283947468,
    33.9089481473922,
    20.2511773658037,
    6.12244900779162,
    1.72684459194123,
    0.627943487978628,
    1.41287284795191,
    2.66875982390917,
    10.6750392956367,
];

fn close(ours: f64, theirs: f64, what: &str) {
    // R prints 15 significant digits.
    assert!(
        (ours - theirs).abs() <= 1e-13 * theirs.abs().max(1e-3),
        "{what}: afmpi {ours}, mpindex {theirs}"
    );
}

#[test]
fn mpindex_example_is_reproduced_household_by_household() {
    let Some(shared) = shared_dir() else { return };
    let external = shared.join("external");
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("results.csv");
    let run = afmpi(&[
        "run",
        "tests/mpindex/mpindex.toml",
        external.join("mpindex_household.csv").to_str().unwrap(),
        "--members",
        external.join("mpindex_roster.csv").to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    let stdout = String::from_utf8_lossy(&run.stdout);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    assert!(stdout.contains("rows: 905 read, 905 used"), "{stdout}");
    assert!(stdout.contains("198 households"), "{stdout}");
    let results = read_csv(&out);
    let (measure, indicator, subg) = (
        texts(&results, "measure"),
        texts(&results, "indicator"),
        texts(&results, "subg"),
    );
    let b = common::numbers(&results, "b");
    let mut value: HashMap<(String, String, String), f64> = HashMap::new();
    for i in 0..results.height() {
        if let Some(v) = b[i] {
            value.insert(
                (measure[i].clone(), indicator[i].clone(), subg[i].clone()),
                v,
            );
        }
    }
    let get = |m: &str, j: &str, s: &str| {
        *value
            .get(&(m.to_string(), j.to_string(), s.to_string()))
            .unwrap_or_else(|| panic!("no {m} {j} {s}"))
    };
    // The households mpindex counts: 98 rural, 100 urban.
    close(get("N", "", "Rural"), 98.0, "rural households");
    close(get("N", "", "Urban"), 100.0, "urban households");
    for (class, h, a, m0) in INDEX {
        close(get("H", "", class), h, &format!("H {class}"));
        close(get("A", "", class), a, &format!("A {class}"));
        close(get("M0", "", class), m0, &format!("M0 {class}"));
    }
    for (c, class) in ["Rural", "Urban"].into_iter().enumerate() {
        for (j, ind) in INDICATORS.iter().enumerate() {
            close(
                get("hd", ind, class),
                UNCENSORED[c][j],
                &format!("hd {ind} {class}"),
            );
        }
    }
    for (j, ind) in INDICATORS.iter().enumerate() {
        close(get("hdk", ind, "nat"), CENSORED[j], &format!("hdk {ind}"));
        close(
            100.0 * get("pctb", ind, "nat"),
            CONTRIBUTION[j],
            &format!("contribution {ind}"),
        );
    }
}

/// Counted as persons, the same files give the members' H: the share of the 905
/// members whose household is poor, as the persons file of the household run says.
#[test]
fn counted_as_persons_the_example_weighs_households_by_their_members() {
    let Some(shared) = shared_dir() else { return };
    let external = shared.join("external");
    let dir = tempfile::tempdir().unwrap();
    let (persons, results) = (dir.path().join("persons.csv"), dir.path().join("r.csv"));
    let files = [
        "tests/mpindex/mpindex.toml",
        external.join("mpindex_household.csv").to_str().unwrap(),
        "--members",
        external.join("mpindex_roster.csv").to_str().unwrap(),
    ]
    .map(String::from);
    let run = |extra: &[&str]| {
        let args: Vec<&str> = files
            .iter()
            .map(String::as_str)
            .chain(extra.iter().copied())
            .collect();
        let o = afmpi(&[&["run"][..], &args].concat());
        assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    };
    run(&["--persons", persons.to_str().unwrap()]);
    run(&["--unit", "person", "-o", results.to_str().unwrap()]);
    let members = read_csv(&persons);
    assert_eq!(members.height(), 905);
    let poor = common::numbers(&members, "I_k1over3");
    let share = poor.iter().map(|v| v.unwrap()).sum::<f64>() / 905.0;
    let r = read_csv(&results);
    let (measure, subg, b) = (
        texts(&r, "measure"),
        texts(&r, "subg"),
        common::numbers(&r, "b"),
    );
    let h = (0..r.height())
        .find(|&i| measure[i] == "H" && subg[i] == "nat")
        .map(|i| b[i].unwrap())
        .unwrap();
    close(h, share, "H of the members");
    assert!(
        (h - INDEX[0].1).abs() > 1e-3,
        "persons and households differ"
    );
}
