//! The shipped methodologies: each runs on the example raw survey, and the global MPI
//! written as rules over raw variables gives the same estimates as the global MPI on the
//! ready `d_*` columns, which the example's generator computes by its own code.

use std::collections::HashMap;
use std::path::{Path, PathBuf};

use afmpi::inference::Settings;
use afmpi::methodology::Methodology;
use afmpi::{analyse_file, output, Analysis};

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join(name)
}

fn run(methodology: &Path) -> Analysis {
    let m = Methodology::from_file(methodology).unwrap_or_else(|e| panic!("{e}"));
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
    // 9 domains (national, 2 areas, 6 regions) × (3 cutoffs × 33 measures + 10 hd).
    assert_eq!(d.len(), 9 * (3 * (3 + 3 * 10) + 10));
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
