//! `afmpi sql` and `run --from-table`: the emitted query, executed by polars' SQL engine
//! on the example surveys, gives a table from which every estimate equals the direct run.

use std::path::{Path, PathBuf};

mod common;

use afmpi::inference::Settings;
use afmpi::{analyse_file, analyse_table, sql};
use polars::prelude::*;

fn data(name: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("data")
        .join(name)
}

/// Runs the query of `methodology` with polars' SQL engine on `survey`, writes the table
/// as Parquet, finishes it, and compares with the direct run.
fn same_as_direct(methodology: &str, survey_file: &str, round: bool) {
    let m = afmpi::methodology::from_file(&data(methodology)).unwrap();
    let mut survey = m.survey.clone();
    if round {
        survey.round = Some("t".into());
        survey.year = Some("year".into());
    }
    same_as_direct_on(&m, &survey, &data(survey_file));
}

/// As [`same_as_direct`], for a methodology, survey settings and file.
fn same_as_direct_on(
    m: &afmpi::methodology::Methodology,
    survey: &afmpi::methodology::SurveyColumns,
    file: &Path,
) {
    let (m, survey) = (m.clone(), survey.clone());
    let query = sql::query(&m, &survey, "survey").unwrap();
    let frame = LazyCsvReader::new(PlRefPath::try_from_path(file).unwrap())
        .with_has_header(true)
        .with_infer_schema_length(None)
        .finish()
        .unwrap();
    let mut context = polars::sql::SQLContext::new();
    context.register("survey", frame);
    let mut table = context
        .execute(&query)
        .unwrap_or_else(|e| panic!("{e}\n{query}"))
        .collect()
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("table.parquet");
    ParquetWriter::new(std::fs::File::create(&path).unwrap())
        .finish(&mut table)
        .unwrap();

    let from_table = analyse_table(&m, &survey, &Settings::default(), &path).unwrap();
    let direct = analyse_file(&m, &survey, &Settings::default(), file).unwrap();
    assert_eq!(from_table.report.rows_used, direct.report.rows_used);
    let key = common::estimate_key;
    let mut compared = 0;
    for i in 0..direct.estimates.len() {
        let k = key(&direct, i);
        let j = (0..from_table.estimates.len())
            .find(|&j| key(&from_table, j) == k)
            .unwrap_or_else(|| panic!("{k:?}"));
        let (a, b) = (direct.estimates[i].b, from_table.estimates[j].b);
        assert!(
            (a - b).abs() <= 1e-12 || (a.is_nan() && b.is_nan()),
            "{k:?}: b {a} vs {b}"
        );
        let (a, b) = (
            direct.inference.levels[i].se,
            from_table.inference.levels[j].se,
        );
        assert!(
            (a - b).abs() <= 1e-10 * a.abs().max(1e-10) || (a.is_nan() && b.is_nan()),
            "{k:?}: se {a} vs {b}"
        );
        compared += 1;
    }
    assert!(compared > 300, "{compared}");
    assert_eq!(
        from_table.inference.changes.len(),
        direct.inference.changes.len()
    );
}

#[test]
fn ready_columns_through_sql() {
    same_as_direct("global-mpi.toml", "example.csv", true);
}

#[test]
fn rules_with_household_windows_through_sql() {
    same_as_direct("methodologies/colombia-ipm.toml", "example_raw.csv", false);
    same_as_direct(
        "methodologies/global-mpi-2010.toml",
        "example_raw.csv",
        false,
    );
}

/// Named groups (the global MPI's bands over the exact score, CONEVAL's over income and
/// the count) come through the query's flag columns.
#[test]
fn groups_through_sql() {
    same_as_direct(
        "methodologies/global-mpi-2018.toml",
        "example_raw.csv",
        false,
    );
    same_as_direct(
        "methodologies/mexico-coneval.toml",
        "example_raw.csv",
        false,
    );
}

/// Rounds whose strata and PSU ids restart: the table's PSUs are read as one PSU across
/// the rounds by default and as one per round under "distinct", as a direct run reads them.
#[test]
fn psus_shared_by_rounds_through_sql() {
    let m = afmpi::methodology::from_file(&data("global-mpi.toml")).unwrap();
    let mut df = CsvReadOptions::default()
        .with_infer_schema_length(None)
        .try_into_reader_with_file_path(Some(data("example.csv")))
        .unwrap()
        .finish()
        .unwrap();
    common::restart_ids_in_each_round(&mut df);
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("restarting.csv");
    CsvWriter::new(std::fs::File::create(&file).unwrap())
        .finish(&mut df)
        .unwrap();
    for setting in [None, Some(afmpi::methodology::PsuAcrossRounds::Distinct)] {
        let mut survey = m.survey.clone();
        survey.round = Some("t".into());
        survey.year = Some("year".into());
        survey.psu_across_rounds = setting;
        same_as_direct_on(&m, &survey, &file);
    }
}
