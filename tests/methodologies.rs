//! The shipped methodologies: each runs on the example raw survey, and the global MPI
//! written as rules over raw variables gives the same estimates as the global MPI on the
//! ready `d_*` columns, which the example's generator computes by its own code.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use afmpi::inference::Settings;
use afmpi::{analyse_file, output, Analysis};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join(name)
}

fn run(methodology: &Path) -> Analysis {
    let m = afmpi::methodology::from_file(methodology).unwrap_or_else(|e| panic!("{e}"));
    analyse_file(
        &m,
        &m.survey,
        &Settings::default(),
        &data("example_raw.csv"),
    )
    .unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn every_shipped_methodology_runs_on_the_example() {
    let mut names = Vec::new();
    for entry in std::fs::read_dir(data("methodologies")).unwrap() {
        let path = entry.unwrap().path();
        let text = std::fs::read_to_string(&path).unwrap();
        // Each file opens with a header that cites its source and says what is approximate.
        assert!(
            text.starts_with('#') && text.contains("Source:") && text.contains("Approximate:"),
            "{}",
            path.display()
        );
        let a = run(&path);
        assert!(
            a.report.rows_used > 8_000,
            "{}: {} rows used",
            path.display(),
            a.report.rows_used
        );
        let h = a
            .estimates
            .iter()
            .find(|e| e.measure == afmpi::measures::Measure::H && e.domain.subgroup.is_none())
            .unwrap();
        assert!(h.b > 0.05 && h.b < 0.99, "{}: H = {}", path.display(), h.b);
        names.push(a.methodology.name.clone());
    }
    names.sort();
    assert_eq!(
        names,
        [
            "chile-2015",
            "colombia-ipm",
            "ecuador-ipm",
            "el-salvador-ipm",
            "global-mpi-2010",
            "global-mpi-2018",
            "mexico-coneval"
        ]
    );
}

#[test]
fn global_mpi_from_raw_variables_equals_the_ready_columns() {
    let raw = run(&data("methodologies/global-mpi-2018.toml"));
    let ready = run(&data("global-mpi.toml"));
    assert_eq!(raw.report.rows_used, ready.report.rows_used);
    let frame = |a: &Analysis| {
        let f = output::levels_frame(a);
        let s = |c: &str| {
            f.column(c)
                .unwrap()
                .cast(&polars::prelude::DataType::String)
                .unwrap()
        };
        let (measure, indicator, k, group, loa, subg) = (
            s("measure"),
            s("indicator"),
            s("k"),
            s("group"),
            s("loa"),
            s("subg"),
        );
        let b = f.column("b").unwrap().f64().unwrap().clone();
        let se = f.column("se").unwrap().f64().unwrap().clone();
        let mut out = HashMap::new();
        for i in 0..f.height() {
            let key = [&measure, &indicator, &k, &group, &loa, &subg]
                .map(|c| c.str().unwrap().get(i).unwrap_or("").to_string());
            out.insert(key, (b.get(i), se.get(i)));
        }
        out
    };
    let (r, d) = (frame(&raw), frame(&ready));
    // 9 domains (national, 2 areas, 6 regions) × (3 cutoffs × 34 measures + 10 hd), the
    // 8 subgroup levels' popsh and contrib (per cutoff), the national ineq's parts
    // within and between the levels of each of the 2 columns (per cutoff); and the
    // sample facts: N and Neff per domain, mv and mv_w per indicator.
    assert_eq!(
        d.len(),
        9 * (3 * (4 + 3 * 10) + 10) + 8 * (1 + 3) + 3 * 2 * 2 + 9 * 2 + 10 * 2
    );
    assert_eq!(
        r.len(),
        d.len() + 9 * 6,
        "and the raw methodology adds its two groups"
    );
    for (key, (b, se)) in &d {
        let (rb, rse) = r
            .get(key)
            .unwrap_or_else(|| panic!("{key:?} missing from the raw run"));
        assert_eq!(b.map(f64::to_bits), rb.map(f64::to_bits), "{key:?}");
        let (x, y) = (se.unwrap_or(0.0), rse.unwrap_or(0.0));
        assert!(
            (x - y).abs() <= 1e-12 * x.abs().max(1e-12),
            "{key:?}: se {x} vs {y}"
        );
    }
}

/// MICS style: a household file and a member file joined on the household id give the
/// estimates of the one person-level file they were split from.
#[test]
fn a_household_file_and_a_member_file_are_joined() {
    use polars::prelude::*;
    let full = LazyCsvReader::new(PlRefPath::try_from_path(&data("example_raw.csv")).unwrap())
        .with_has_header(true)
        .with_infer_schema_length(None)
        .finish()
        .unwrap()
        .collect()
        .unwrap();
    let person = [
        "hh_id",
        "line",
        "age",
        "sex",
        "years_schooling",
        "attending",
        "undernourished",
        "child_deaths_5y",
    ];
    let household: Vec<String> = full
        .get_column_names()
        .iter()
        .map(|c| c.to_string())
        .filter(|c| c == "hh_id" || !person.contains(&c.as_str()))
        .collect();
    let mut members = full.select(person).unwrap();
    let mut households = full
        .clone()
        .lazy()
        .select(
            household
                .iter()
                .map(|c| col(c.as_str()))
                .collect::<Vec<_>>(),
        )
        .unique_stable(
            Some(Selector::ByName {
                names: vec!["hh_id".into()].into(),
                strict: true,
            }),
            UniqueKeepStrategy::First,
        )
        .collect()
        .unwrap();
    assert!(households.height() < members.height() / 2);
    let dir = tempfile::tempdir().unwrap();
    let (hh_path, hl_path) = (dir.path().join("hh.csv"), dir.path().join("hl.csv"));
    CsvWriter::new(std::fs::File::create(&hh_path).unwrap())
        .finish(&mut households)
        .unwrap();
    CsvWriter::new(std::fs::File::create(&hl_path).unwrap())
        .finish(&mut members)
        .unwrap();

    let m = afmpi::methodology::from_file(&data("methodologies/global-mpi-2018.toml")).unwrap();
    let joined = afmpi::analyse_files(
        &m,
        &m.survey,
        &Settings::default(),
        &hh_path,
        Some(&hl_path),
    )
    .unwrap();
    let single = run(&data("methodologies/global-mpi-2018.toml"));
    assert_eq!(joined.report.rows_used, single.report.rows_used);
    assert_eq!(joined.estimates.len(), single.estimates.len());
    for (a, b) in joined.estimates.iter().zip(&single.estimates) {
        assert_eq!(
            (a.measure, a.indicator, a.cutoff, a.group, a.domain),
            (b.measure, b.indicator, b.cutoff, b.group, b.domain)
        );
        assert!(
            (a.b - b.b).abs() <= 1e-12 || (a.b.is_nan() && b.b.is_nan()),
            "{:?}: {} vs {}",
            a.measure,
            a.b,
            b.b
        );
    }
}
