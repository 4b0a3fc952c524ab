//! Reading in batches: the same estimates, labels and report as reading the file whole;
//! errors that name the row in the whole file; the same bits on any number of threads.

mod common;

use std::path::{Path, PathBuf};

use afmpi::methodology::{Methodology, SurveyColumns};
use afmpi::{analyse_files_reading, Analysis, Error, Reading};
use polars::prelude::*;

fn write(df: &DataFrame, dir: &Path, name: &str) -> PathBuf {
    let path = dir.join(name);
    afmpi::output::write_frame(&mut df.clone(), &path).unwrap();
    path
}

/// Replaces a column by its values as text, changed by `f` (row, value).
fn with_text(df: &mut DataFrame, name: &str, f: impl Fn(usize, Option<&str>) -> Option<&str>) {
    let text = df.column(name).unwrap().cast(&DataType::String).unwrap();
    let changed: StringChunked = text
        .str()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, v)| f(i, v))
        .collect();
    df.replace(name, changed.with_name(name.into()).into_series().into())
        .unwrap();
}

fn run(m: &Methodology, survey: &SurveyColumns, path: &Path, reading: Reading) -> Analysis {
    analyse_files_reading(m, survey, &Default::default(), path, None, reading, &|_| {}).unwrap()
}

fn assert_same(whole: &Analysis, batched: &Analysis) {
    let (s, t) = (&whole.sample, &batched.sample);
    assert_eq!(s.stratum_labels, t.stratum_labels);
    assert_eq!(s.psu_labels, t.psu_labels);
    assert_eq!(s.round_info, t.round_info);
    assert_eq!(s.groupings.len(), t.groupings.len());
    for (a, b) in s.groupings.iter().zip(&t.groupings) {
        assert_eq!((&a.column, &a.levels), (&b.column, &b.levels));
    }
    let (r, q) = (&whole.report, &batched.report);
    assert_eq!(
        (
            r.rows_read,
            r.rows_used,
            &r.missing,
            &r.unassigned,
            &r.notes
        ),
        (
            q.rows_read,
            q.rows_used,
            &q.missing,
            &q.unassigned,
            &q.notes
        )
    );
    // The missing values per indicator and their weights, added batch by batch.
    assert_eq!(r.indicator_missing.len(), q.indicator_missing.len());
    for (a, b) in r.indicator_missing.iter().zip(&q.indicator_missing) {
        assert_eq!(a, b, "exact sums");
    }
    assert_eq!(r.weight_read, q.weight_read, "exact sums");
    // Exact sums of weights: the same table, so the same bits in every figure.
    assert!(whole.table == batched.table, "the tables differ");
    assert_eq!(whole.inference.design.df, batched.inference.design.df);
    assert_eq!(bits(whole), bits(batched));
}

/// Every figure of the results, to the bit: estimates, standard errors, intervals,
/// changes.
fn bits(a: &Analysis) -> Vec<u64> {
    let precision = |p: &afmpi::inference::Precision| [p.se, p.ll, p.ul];
    let estimates = a
        .estimates
        .iter()
        .zip(&a.inference.levels)
        .flat_map(|(e, p)| std::iter::once(e.b).chain(precision(p)));
    let changes = a
        .inference
        .changes
        .iter()
        .flat_map(|c| std::iter::once(c.b).chain(precision(&c.precision)));
    estimates.chain(changes).map(f64::to_bits).collect()
}

#[test]
fn batches_give_the_estimates_of_the_whole_file() {
    let (df, m, survey) = common::simulated(30_000);
    let dir = tempfile::tempdir().unwrap();
    for name in ["survey.csv", "survey.parquet"] {
        let path = write(&df, dir.path(), name);
        let whole = run(&m, &survey, &path, Reading::Whole);
        assert!(
            whole.report.rows_dropped() > 0,
            "the test needs dropped rows"
        );
        assert_eq!(whole.sample.len(), whole.report.rows_used);
        for rows in [1_000, 4_096, 29_999] {
            let batched = run(&m, &survey, &path, Reading::Batches(rows));
            assert!(
                batched.sample.is_empty(),
                "batches keep no per-person values"
            );
            assert_same(&whole, &batched);
        }
    }
}

#[test]
fn a_missing_subgroup_value_is_counted_across_batches() {
    let (df, m, survey) = common::simulated(5_000);
    let mut df = df.clone();
    with_text(&mut df, "area", |i, v| if i % 997 == 5 { None } else { v });
    let dir = tempfile::tempdir().unwrap();
    let path = write(&df, dir.path(), "survey.parquet");
    let whole = run(&m, &survey, &path, Reading::Whole);
    let batched = run(&m, &survey, &path, Reading::Batches(700));
    assert!(!whole.report.unassigned.is_empty());
    assert_same(&whole, &batched);
}

/// Subgroup levels that the batches meet in other orders than the file (numbers written
/// as text, two spellings of one number, met the other way round from row 1,500 on) and a
/// level whose every row is dropped: the whole file's levels, in its order, and its
/// figures, though a batch leaves its codes as it met them.
#[test]
fn levels_met_in_other_orders_by_batches_are_the_whole_files() {
    let (df, m, survey) = common::simulated(6_000);
    let mut df = df.clone();
    let spellings = ["10", "2", "2.0", " 7", "-1", "30"];
    with_text(&mut df, "area", |i, _| {
        Some(match (i % 1_000 == 999, (i / 1_500) % 2 == 1) {
            (true, _) => "99",
            (false, true) => spellings[5 - i % 6],
            (false, false) => spellings[i % 6],
        })
    });
    // The rows of level "99" miss an indicator: dropped, and "99" is no level.
    let column = m.indicators[0].columns()[0].clone();
    let values = df
        .column(&column)
        .unwrap()
        .cast(&DataType::Float64)
        .unwrap();
    let values: Float64Chunked = (values.f64().unwrap().iter().enumerate())
        .map(|(i, v)| if i % 1_000 == 999 { None } else { v })
        .collect();
    df.replace(
        &column,
        values
            .with_name(column.as_str().into())
            .into_series()
            .into(),
    )
    .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = write(&df, dir.path(), "survey.parquet");
    let whole = run(&m, &survey, &path, Reading::Whole);
    let area = whole.sample.groupings.iter().find(|g| g.column == "area");
    assert_eq!(
        area.unwrap().levels,
        ["-1", "2", "2.0", " 7", "10", "30"],
        "numbers in numeric order, equal ones in the file's order"
    );
    for rows in [700, 1_000, 1_499, 2_048] {
        let batched = run(&m, &survey, &path, Reading::Batches(rows));
        assert_same(&whole, &batched);
    }
}

#[test]
fn an_error_in_a_later_batch_names_the_row_of_the_file() {
    // Row 12,345: past the first batch, and past the first block of rows the checks take.
    let (df, m, survey) = common::simulated(13_000);
    let d_cm = df.column("d_cm").unwrap().cast(&DataType::Float64).unwrap();
    let d_cm: Float64Chunked = d_cm
        .f64()
        .unwrap()
        .iter()
        .enumerate()
        .map(|(i, v)| if i == 12_344 { Some(2.0) } else { v })
        .collect();
    let mut df = df.clone();
    df.replace("d_cm", d_cm.into_series().into()).unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = write(&df, dir.path(), "survey.csv");
    for reading in [Reading::Whole, Reading::Batches(5_000)] {
        let err = analyse_files_reading(
            &m,
            &survey,
            &Default::default(),
            &path,
            None,
            reading,
            &|_| {},
        )
        .err()
        .expect("the value 2 is an error");
        match &err {
            Error::Data { column, row, .. } => {
                assert_eq!((column.as_str(), *row), ("d_cm", Some(12_345)), "{err}")
            }
            other => panic!("expected a data error, got {other}"),
        }
    }
}

#[test]
fn batches_are_the_same_on_any_number_of_threads() {
    let (df, m, survey) = common::simulated(40_000);
    let dir = tempfile::tempdir().unwrap();
    let path = write(&df, dir.path(), "survey.parquet");
    let on = |threads: usize| {
        rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap()
            .install(|| run(&m, &survey, &path, Reading::Batches(6_000)))
    };
    let one = on(1);
    let three = on(3);
    assert!(one.table == three.table, "the tables differ");
    assert_eq!(bits(&one), bits(&three));
}

#[test]
fn household_rules_are_not_read_in_batches() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let m = afmpi::methodology::from_file(&root.join("data/methodologies/global-mpi-2018.toml"))
        .unwrap();
    let survey = m.survey.clone();
    let err = analyse_files_reading(
        &m,
        &survey,
        &Default::default(),
        &root.join("data/example_raw.csv"),
        None,
        Reading::Batches(1_000),
        &|_| {},
    )
    .err()
    .expect("household rules need whole households");
    assert!(err.to_string().contains("household-level rules"), "{err}");
}

/// A survey written in parts (as `afmpi simulate` writes 10^8 persons) has every person,
/// PSUs of its own in each part, and reads back in batches as it does whole.
#[test]
fn a_survey_written_in_parts_reads_as_one() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("parts.parquet");
    let settings = afmpi::simulate::Settings {
        rows: 12_000,
        ..Default::default()
    };
    assert_eq!(
        afmpi::simulate::write_survey(&settings, &path, 4_000).unwrap(),
        12_000
    );
    let df = LazyFrame::scan_parquet(
        PlRefPath::try_from_path(&path).unwrap(),
        ScanArgsParquet::default(),
    )
    .unwrap()
    .collect()
    .unwrap();
    assert_eq!(df.height(), 12_000);
    // Each PSU's rows are contiguous: no PSU id comes back in a later part.
    let psu: Vec<i64> = df
        .column("psu")
        .unwrap()
        .i64()
        .unwrap()
        .into_no_null_iter()
        .collect();
    let mut seen = std::collections::HashSet::new();
    for w in psu.windows(2) {
        if w[0] != w[1] {
            assert!(seen.insert(w[0]), "PSU {} comes back", w[0]);
        }
    }
    let (_, m, survey) = common::simulated(10);
    let whole = run(&m, &survey, &path, Reading::Whole);
    let batched = run(&m, &survey, &path, Reading::Batches(600));
    assert_same(&whole, &batched);
}

/// A CSV value that cannot be read stops the run, whichever batch it is in: no batch is
/// silently left out.
#[test]
fn a_csv_value_that_cannot_be_read_stops_a_batched_run() {
    let (df, m, survey) = common::simulated(3_000);
    let dir = tempfile::tempdir().unwrap();
    let path = write(&df, dir.path(), "survey.csv");
    let text = std::fs::read_to_string(&path).unwrap();
    let header: Vec<&str> = text.lines().next().unwrap().split(',').collect();
    let weight = header.iter().position(|c| *c == "weight").unwrap();
    let lines: Vec<String> = text
        .lines()
        .enumerate()
        .map(|(i, line)| {
            if i == 2_500 {
                let mut fields: Vec<&str> = line.split(',').collect();
                fields[weight] = "heavy";
                fields.join(",")
            } else {
                line.to_string()
            }
        })
        .collect();
    std::fs::write(&path, lines.join("\n") + "\n").unwrap();
    let err = analyse_files_reading(
        &m,
        &survey,
        &Default::default(),
        &path,
        None,
        Reading::Batches(1_000),
        &|_| {},
    )
    .err()
    .expect("an unreadable weight is an error");
    // The message names the file, the value and its column.
    let message = err.to_string();
    assert!(
        message.starts_with(&format!("{}: ", path.display()))
            && message.contains("`heavy`")
            && message.contains("column 'weight'"),
        "{message}"
    );
}

/// "NA" as a subgroup value (Namibia) in a CSV file read in batches: a level, as when
/// the file is read whole, while "NA" in an indicator stays a missing value.
#[test]
fn na_stays_a_subgroup_level_in_batches() {
    let (df, m, survey) = common::simulated(5_000);
    let mut df = df.clone();
    with_text(
        &mut df,
        "area",
        |i, v| if i % 3 == 0 { Some("NA") } else { v },
    );
    let column = m.indicators[0].columns()[0].clone();
    with_text(
        &mut df,
        &column,
        |i, v| if i % 101 == 7 { Some("NA") } else { v },
    );
    let dir = tempfile::tempdir().unwrap();
    let path = write(&df, dir.path(), "survey.csv");
    let whole = run(&m, &survey, &path, Reading::Whole);
    let area = whole
        .sample
        .groupings
        .iter()
        .find(|g| g.column == "area")
        .unwrap();
    assert!(area.levels.iter().any(|l| l == "NA"), "{:?}", area.levels);
    assert!(whole
        .report
        .missing
        .iter()
        .any(|(c, k)| *c == m.indicators[0].id && *k >= 49));
    for rows in [700, 4_999] {
        let batched = run(&m, &survey, &path, Reading::Batches(rows));
        assert_same(&whole, &batched);
    }
}

/// PSU ids that restart in each round: the same note and the same design whether the
/// file is read whole or in batches, under both settings.
#[test]
fn psus_shared_by_rounds_are_read_alike_in_batches() {
    let (df, m, survey) = common::simulated(6_000);
    let mut df = df.clone();
    common::restart_ids_in_each_round(&mut df);
    let dir = tempfile::tempdir().unwrap();
    let path = write(&df, dir.path(), "survey.parquet");
    for setting in [None, Some(afmpi::methodology::PsuAcrossRounds::Distinct)] {
        let mut survey = survey.clone();
        survey.psu_across_rounds = setting;
        let whole = run(&m, &survey, &path, Reading::Whole);
        assert!(
            whole
                .report
                .notes
                .iter()
                .any(|n| n.contains("occur in more than one round")),
            "{:?}",
            whole.report.notes
        );
        let batched = run(&m, &survey, &path, Reading::Batches(1_000));
        if setting.is_none() {
            assert_same(&whole, &batched);
        } else {
            // Distinct: the same design and estimates; the note on the ids is the whole
            // file's only (a batch sees one round).
            assert_eq!(
                whole.inference.design.n_psus,
                batched.inference.design.n_psus
            );
            assert_eq!(whole.sample.psu_labels, batched.sample.psu_labels);
        }
    }
}
