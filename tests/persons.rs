//! The persons file (`run --persons`): one row per input row, checked against scores
//! and poverty worked out here from the survey's own 0/1 columns and the methodology's
//! weights (exact fractions), against the run's own H, and across the ways of reading a
//! file (whole, in batches, joined to a member file).

mod common;

use std::path::{Path, PathBuf};

use num_rational::Ratio;
use polars::prelude::*;

use afmpi::measures::Measure;
use afmpi::{analyse_files_persons, PersonsFile, Reading};
use common::{afmpi, global_mpi_weight, read_csv};

fn example_run(reading: Reading, out: &Path, ids: &[String]) -> (afmpi::Analysis, usize) {
    let m = afmpi::methodology::from_file(Path::new("data/global-mpi.toml")).unwrap();
    let mut survey = m.survey.clone();
    survey.round = Some("t".into());
    survey.year = Some("year".into());
    let (a, rows) = analyse_files_persons(
        &m,
        &survey,
        &Default::default(),
        Path::new("data/example.csv"),
        None,
        reading,
        Some(PersonsFile { path: out, ids }),
        &|_| {},
    )
    .unwrap();
    (a, rows.unwrap())
}

use common::numbers as column_f64;

fn column_text(df: &DataFrame, name: &str) -> Vec<Option<String>> {
    df.column(name)
        .unwrap()
        .cast(&DataType::String)
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|v| v.map(str::to_string))
        .collect()
}

/// Every row's score, exact score, poverty and censored score at each cutoff, worked out
/// from the example's d_* columns; the weighted share of the poor equals the run's H.
#[test]
fn scores_and_poverty_per_person_match_a_computation_from_the_columns() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("persons.csv");
    let ids = vec!["hh_id".to_string(), "ind_id".to_string()];
    let (a, rows) = example_run(Reading::Whole, &out, &ids);
    let data = read_csv(Path::new("data/example.csv"));
    let persons = read_csv(&out);
    assert_eq!(rows, data.height());
    assert_eq!(persons.height(), data.height());
    assert_eq!(
        column_text(&persons, "ind_id"),
        column_text(&data, "ind_id")
    );
    let rows_numbered: Vec<Option<f64>> = (1..=data.height()).map(|i| Some(i as f64)).collect();
    assert_eq!(column_f64(&persons, "row"), rows_numbered);
    let indicators = common::GLOBAL_MPI_INDICATORS;
    let values: Vec<Vec<Option<f64>>> = indicators.iter().map(|c| column_f64(&data, c)).collect();
    let (c_score, exact) = (
        column_f64(&persons, "c_score"),
        column_text(&persons, "c_score_exact"),
    );
    let cutoffs = [
        ("20", Ratio::new(1, 5)),
        ("1over3", Ratio::new(1, 3)),
        ("50", Ratio::new(1, 2)),
    ];
    // Per cutoff: the poverty flags and the censored scores.
    type Flags = (Vec<Option<f64>>, Vec<Option<f64>>);
    let flags: Vec<Flags> = cutoffs
        .iter()
        .map(|(label, _)| {
            (
                column_f64(&persons, &format!("I_k{label}")),
                column_f64(&persons, &format!("c_k{label}")),
            )
        })
        .collect();
    let weight = column_f64(&data, "weight");
    let round = column_f64(&data, "t");
    // Weighted poor and population per round and cutoff.
    let mut poor = [[0.0f64; 3]; 2];
    let mut total = [0.0f64; 2];
    for i in 0..data.height() {
        let complete = values.iter().all(|v| v[i].is_some());
        let score: Ratio<i64> = indicators
            .iter()
            .zip(&values)
            .filter(|(_, v)| v[i] == Some(1.0))
            .map(|(c, _)| global_mpi_weight(c))
            .sum();
        if !complete {
            assert_eq!(c_score[i], None, "row {}", i + 1);
            continue;
        }
        assert_eq!(
            exact[i].as_deref(),
            Some(score.to_string().as_str()),
            "row {}",
            i + 1
        );
        let as_f64 = *score.numer() as f64 / *score.denom() as f64;
        assert!(
            (c_score[i].unwrap() - as_f64).abs() < 1e-15,
            "row {}",
            i + 1
        );
        let t = round[i].unwrap() as usize - 1;
        total[t] += weight[i].unwrap();
        for (c, (label, k)) in cutoffs.iter().enumerate() {
            let is_poor = score >= *k;
            let (flag, censored) = (flags[c].0[i], flags[c].1[i]);
            assert_eq!(
                flag,
                Some(f64::from(u8::from(is_poor))),
                "row {} k {label}",
                i + 1
            );
            assert_eq!(
                censored,
                Some(if is_poor { c_score[i].unwrap() } else { 0.0 })
            );
            if is_poor {
                poor[t][c] += weight[i].unwrap();
            }
        }
    }
    for e in &a.estimates {
        if e.measure == Measure::H && e.domain.subgroup.is_none() {
            let (t, c) = (e.domain.round as usize, e.cutoff.unwrap());
            let h = poor[t][c] / total[t];
            assert!(
                (e.b - h).abs() < 1e-12,
                "H round {t} cutoff {c}: {} vs {h}",
                e.b
            );
        }
    }
}

/// A whole-file run and a batched run write the same persons file, CSV and Parquet.
#[test]
fn whole_and_batched_runs_write_the_same_persons_file() {
    let dir = tempfile::tempdir().unwrap();
    let ids = vec!["ind_id".to_string()];
    let path = |name: &str| -> PathBuf { dir.path().join(name) };
    example_run(Reading::Whole, &path("whole.csv"), &ids);
    example_run(Reading::Batches(777), &path("batched.csv"), &ids);
    assert_eq!(
        std::fs::read(path("whole.csv")).unwrap(),
        std::fs::read(path("batched.csv")).unwrap()
    );
    example_run(Reading::Whole, &path("whole.parquet"), &ids);
    example_run(Reading::Batches(1000), &path("batched.parquet"), &ids);
    let read = |p: PathBuf| {
        ParquetReader::new(std::fs::File::open(p).unwrap())
            .finish()
            .unwrap()
    };
    let (whole, batched) = (read(path("whole.parquet")), read(path("batched.parquet")));
    assert_eq!(whole.height(), 12_000);
    assert!(whole.equals_missing(&batched));
    // And the Parquet file holds what the CSV file says.
    let csv = read_csv(&path("whole.csv"));
    assert_eq!(whole.get_column_names(), csv.get_column_names());
    for name in csv.get_column_names() {
        assert_eq!(column_text(&whole, name), column_text(&csv, name), "{name}");
    }
}

/// Rows dropped say why; their deprivations are shown as read, their score left empty.
#[test]
fn dropped_rows_say_why() {
    let dir = tempfile::tempdir().unwrap();
    std::fs::write(
        dir.path().join("m.toml"),
        "name = \"t\"\ncutoffs = [\"1/3\"]\n[survey]\nweight = \"w\"\nhousehold = \"hh\"\n\
         [[dimension]]\nname = \"d\"\n[[dimension.indicator]]\ncolumn = \"a\"\n\
         [[dimension.indicator]]\ncolumn = \"b\"\n[[dimension.indicator]]\ncolumn = \"c\"\n",
    )
    .unwrap();
    std::fs::write(
        dir.path().join("s.csv"),
        "hh,person,w,a,b,c\n1,p1,1,1,0,0\n1,p2,1,,0,\n2,p3,,1,1,1\n2,p4,2,0,0,0\n",
    )
    .unwrap();
    let p = |f: &str| dir.path().join(f).to_string_lossy().to_string();
    let out = afmpi(&[
        "run",
        &p("m.toml"),
        &p("s.csv"),
        "--persons",
        &p("persons.csv"),
        "--id",
        "person",
    ]);
    let stdout = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(stdout.contains("(4 rows, one per row read)"), "{stdout}");
    let text = std::fs::read_to_string(p("persons.csv")).unwrap();
    let lines: Vec<&str> = text.lines().collect();
    assert_eq!(
        lines[0],
        "row,hh,person,used,dropped,a,b,c,c_score,c_score_exact,I_k1over3,c_k1over3"
    );
    assert_eq!(
        lines[1],
        "1,1,p1,true,,1,0,0,0.3333333333333333,1/3,1,0.3333333333333333"
    );
    assert_eq!(lines[2], "2,1,p2,false,\"missing a, c\",,0,,,,,");
    assert_eq!(lines[3], "3,2,p3,false,missing w,1,1,1,,,,");
    assert_eq!(lines[4], "4,2,p4,true,,0,0,0,0.0,0,0,0.0");
    // An id that would take the name of a column the file makes is refused.
    let clash = afmpi(&[
        "run",
        &p("m.toml"),
        &p("s.csv"),
        "--persons",
        &p("clash.csv"),
        "--id",
        "a",
    ]);
    assert!(!clash.status.success());
    let stderr = String::from_utf8_lossy(&clash.stderr);
    assert!(
        stderr.contains("--id a: the persons file makes a column of that name"),
        "{stderr}"
    );
    assert!(!Path::new(&p("clash.csv")).exists());
}

/// Under --members, one row per member, in the member file's order: the member without
/// a household is there, dropped, and says so.
#[test]
fn members_have_one_row_each_including_those_without_a_household() {
    let dir = tempfile::tempdir().unwrap();
    let case = Path::new("tests/bad/members-without-a-household");
    let out = dir.path().join("persons.csv");
    let run = afmpi(&[
        "run",
        case.join("members.toml").to_str().unwrap(),
        case.join("households.csv").to_str().unwrap(),
        "--members",
        case.join("members.csv").to_str().unwrap(),
        "--persons",
        out.to_str().unwrap(),
        "--id",
        "region",
    ]);
    assert!(
        run.status.success(),
        "{}",
        String::from_utf8_lossy(&run.stderr)
    );
    let persons = read_csv(&out);
    let members = read_csv(&case.join("members.csv"));
    assert_eq!(persons.height(), members.height());
    assert_eq!(column_text(&persons, "hh"), column_text(&members, "hh"));
    let used = column_text(&persons, "used");
    let dropped = column_text(&persons, "dropped");
    let last = members.height() - 1;
    assert_eq!(used[last].as_deref(), Some("false"));
    assert_eq!(
        dropped[last].as_deref(),
        Some("missing hh (no household in households.csv)")
    );
    assert!(used[..last].iter().all(|u| u.as_deref() == Some("true")));
    // Member 2 of household 100 is deprived in d0 and d1 of three equal weights.
    assert_eq!(
        column_text(&persons, "c_score_exact")[1].as_deref(),
        Some("2/3")
    );
}

/// The persons file as Stata's .dta (the `dta` crate's writer), read back by another
/// library (polars-readstat-rs, as afmpi reads survey files): the values of the CSV
/// file, whole and batched; numbers as numbers, 0/1 as bytes, empty values as missing.
#[test]
fn the_persons_file_as_stata_holds_the_csv_values() {
    let dir = tempfile::tempdir().unwrap();
    let ids = vec!["hh_id".to_string(), "ind_id".to_string()];
    let path = |name: &str| -> PathBuf { dir.path().join(name) };
    example_run(Reading::Whole, &path("p.csv"), &ids);
    example_run(Reading::Whole, &path("whole.dta"), &ids);
    example_run(Reading::Batches(1000), &path("batched.dta"), &ids);
    let csv = read_csv(&path("p.csv"));
    for name in ["whole.dta", "batched.dta"] {
        let stata = polars_readstat_rs::readstat_scan(path(name), None, None)
            .unwrap()
            .collect()
            .unwrap();
        assert_eq!(stata.get_column_names(), csv.get_column_names(), "{name}");
        assert_eq!(stata.height(), 12_000);
        for c in csv.get_column_names() {
            let b = csv.column(c).unwrap();
            if b.dtype().is_primitive_numeric() || b.dtype() == &DataType::Boolean {
                let (x, y) = (column_f64(&stata, c), column_f64(&csv, c));
                assert_eq!(x, y, "{name}: {c}");
            } else {
                // Text: Stata has no missing string, so an empty value reads as empty or
                // missing alike.
                let text = |df: &DataFrame| -> Vec<String> {
                    column_text(df, c)
                        .into_iter()
                        .map(|v| v.unwrap_or_default())
                        .collect()
                };
                assert_eq!(text(&stata), text(&csv), "{name}: {c}");
            }
        }
    }
}
