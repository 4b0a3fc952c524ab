//! The results as files: the CSV that afmpi writes straight from its rows is, byte for
//! byte, the CSV that polars writes from the results frame.

mod common;

use std::path::Path;

use afmpi::output::{Part, Results};
use polars::prelude::*;

/// The simulated survey's design, subgroups and rounds.
const SURVEY: &str = "weight = \"weight\"\nstrata = \"strata\"\npsu = \"psu\"\n\
                      over = [\"area\", \"region\"]\nround = \"t\"\nyear = \"year\"\n";

#[test]
fn the_results_csv_is_the_one_polars_writes_from_the_frame() {
    let (df, _, _) = common::simulated(6_000);
    // Region labels that CSV must quote (a comma, quotes, a line break, an empty text)
    // and one that it must not.
    let labels = ["North, upper", "the \"south\"", "two\nlines", "", "Zoë"];
    let region = df.column("region").unwrap().str().unwrap().clone();
    let mut names: Vec<&str> = region.iter().flatten().collect();
    names.sort_unstable();
    names.dedup();
    assert!(names.len() >= labels.len());
    let relabelled: StringChunked = region
        .iter()
        .map(|r| r.map(|r| labels[names.binary_search(&r).unwrap() % labels.len()]))
        .collect();
    // Nobody in the last region is deprived: its intensity is undefined, so missing.
    let spared: Vec<bool> = relabelled.iter().map(|r| r == Some("Zoë")).collect();
    let mut df = df.clone();
    for name in afmpi::simulate::GLOBAL_MPI_COLUMNS {
        let column = df.column(name).unwrap().cast(&DataType::Int32).unwrap();
        let kept: Int32Chunked = column
            .i32()
            .unwrap()
            .iter()
            .zip(&spared)
            .map(|(v, &spared)| if spared { Some(0) } else { v })
            .collect();
        df.replace(name, kept.into_series().into()).unwrap();
    }
    df.replace("region", relabelled.into_series().into())
        .unwrap();
    let m = afmpi::methodology::from_toml(&common::global_mpi_toml(
        ["health", "education", "living standards"],
        "[20, \"1/3\", 50]",
        SURVEY,
    ))
    .unwrap();
    let a =
        afmpi::analyse_frame(&df, &m, &m.survey, &Default::default(), Path::new("t.csv")).unwrap();
    assert!(!a.inference.changes.is_empty(), "two rounds give changes");
    assert!(
        a.estimates.iter().any(|e| e.b.is_nan()),
        "an undefined estimate"
    );

    let dir = tempfile::tempdir().unwrap();
    for part in [Part::All, Part::Levels, Part::Changes] {
        let results = Results::new(&a, part);
        let path = dir.path().join("results.csv");
        results.write(&path).unwrap();
        let ours = String::from_utf8(std::fs::read(&path).unwrap()).unwrap();
        let mut frame = results.frame();
        assert_eq!(frame.height(), results.len());
        let mut polars_csv = Vec::new();
        CsvWriter::new(&mut polars_csv).finish(&mut frame).unwrap();
        let polars_csv = String::from_utf8(polars_csv).unwrap();
        for (n, (line, expected)) in ours.lines().zip(polars_csv.lines()).enumerate() {
            assert_eq!(line, expected, "{part:?}: line {} differs", n + 1);
        }
        assert_eq!(ours, polars_csv, "{part:?}: the files differ in length");
        for label in labels {
            let quoted = format!("\"{}\"", label.replace('"', "\"\""));
            let written = if label == "Zoë" {
                label.to_string()
            } else {
                quoted
            };
            assert!(
                ours.contains(&format!(",region,{written},")),
                "{part:?}: region {written}"
            );
        }
    }
}

#[test]
fn estimates_and_changes_come_in_the_order_of_the_rows() {
    // Three rounds, changes in sequence, two subgroup columns and named groups with and
    // without intensity: the results are written without sorting, so the engine must
    // give them in the rows' order.
    let df = afmpi::simulate::survey(&afmpi::simulate::Settings {
        rows: 9_000,
        rounds: 3,
        ..Default::default()
    });
    let mut toml = common::global_mpi_toml(
        ["health", "education", "living standards"],
        "[50, 20, \"1/3\"]",
        SURVEY,
    );
    toml.push_str(
        "[[group]]\nname = \"vulnerable\"\nrule = \"score >= 0.2 AND score < 1/3\"\n\
         intensity = false\n[[group]]\nname = \"severe\"\nrule = \"score >= 1/2\"\n",
    );
    let m = afmpi::methodology::from_toml(&toml).unwrap();
    let settings = afmpi::inference::Settings {
        changes: afmpi::inference::ChangePairs::Insequence,
        ..Default::default()
    };
    let a = afmpi::analyse_frame(&df, &m, &m.survey, &settings, Path::new("t.csv")).unwrap();
    let rounds: std::collections::BTreeSet<u32> =
        a.estimates.iter().map(|e| e.domain.round).collect();
    assert_eq!(rounds.len(), 3);
    assert!(a.estimates.iter().any(|e| e.group == Some(1)));
    assert!(a.inference.changes.iter().any(|c| (c.t0, c.t1) == (1, 2)));
    let keys: Vec<u128> = a.estimates.iter().map(afmpi::output::level_key).collect();
    assert!(
        keys.windows(2).all(|w| w[0] < w[1]),
        "estimates out of order"
    );
    let keys: Vec<u128> = a
        .inference
        .changes
        .iter()
        .map(afmpi::output::change_key)
        .collect();
    assert!(keys.windows(2).all(|w| w[0] < w[1]), "changes out of order");
}

/// The sample facts of the results (mpitb's `aux(mv N)`), worked out by hand on five
/// rows: b missing in row 2 (weight 2), the weight missing in row 3.
#[test]
fn missing_values_and_sample_sizes_are_rows_of_the_results() {
    let m = afmpi::methodology::from_toml(
        "name = \"t\"\ncutoffs = [\"1/2\"]\n[[dimension]]\nname = \"d\"\n\
         [[dimension.indicator]]\ncolumn = \"a\"\n[[dimension.indicator]]\ncolumn = \"b\"\n\
         [survey]\nweight = \"w\"\nover = [\"g\"]\n",
    )
    .unwrap();
    let df = df!(
        "a" => [1, 0, 1, 0, 1],
        "b" => [Some(1), None, Some(0), Some(0), Some(1)],
        "w" => [Some(1.0), Some(2.0), None, Some(1.0), Some(3.0)],
        "g" => ["x", "x", "x", "y", "y"],
    )
    .unwrap();
    let a =
        afmpi::analyse_frame(&df, &m, &m.survey, &Default::default(), Path::new("t.csv")).unwrap();
    let frame = Results::new(&a, Part::Levels).frame();
    let fact = |measure: &str, indicator: Option<&str>, subg: &str| -> f64 {
        let text = |c: &str| -> Vec<Option<String>> {
            frame
                .column(c)
                .unwrap()
                .str()
                .unwrap()
                .iter()
                .map(|v| v.map(str::to_string))
                .collect()
        };
        let (ms, is, ss) = (text("measure"), text("indicator"), text("subg"));
        let b = frame.column("b").unwrap().f64().unwrap();
        let i = (0..frame.height())
            .find(|&i| {
                ms[i].as_deref() == Some(measure)
                    && is[i].as_deref() == indicator
                    && ss[i].as_deref() == Some(subg)
            })
            .unwrap_or_else(|| panic!("no {measure} {indicator:?} {subg}"));
        assert!(frame.column("se").unwrap().f64().unwrap().get(i).is_none());
        b.get(i).unwrap()
    };
    // Missing values over the 5 rows read; weighted over the 4 with a weight (7 in all).
    assert_eq!(fact("mv", Some("b"), "nat"), 1.0 / 5.0);
    assert_eq!(fact("mv", Some("a"), "nat"), 0.0);
    assert_eq!(fact("mv_w", Some("b"), "nat"), 2.0 / 7.0);
    // Rows 1, 4 and 5 are used: weights 1, 1, 3; in g = x only row 1.
    assert_eq!(fact("N", None, "nat"), 3.0);
    assert!((fact("Neff", None, "nat") - 25.0 / 11.0).abs() < 1e-14);
    assert_eq!(fact("N", None, "x"), 1.0);
    assert_eq!(fact("N", None, "y"), 2.0);
    assert!((fact("Neff", None, "y") - 16.0 / 10.0).abs() < 1e-14);
}
