//! `afmpi sql` on real engines: the query of every shipped methodology runs in DuckDB and
//! in Spark SQL (through scripts/sql-engines.py) on the example surveys, and
//! `run --from-table` on the engine's table gives the direct run's estimates, standard
//! errors and report. Skipped (with a note) when Python lacks the engines, unless
//! `AFMPI_REQUIRE_ENGINES` is set, as .ci/run sets it after installing them.

use std::path::{Path, PathBuf};

mod common;
use std::process::Command;

use afmpi::inference::Settings;
use afmpi::methodology::{Methodology, SurveyColumns};
use afmpi::{analyse_file, analyse_table, read, sql};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn python() -> String {
    std::env::var("AFMPI_PYTHON").unwrap_or_else(|_| "python3".into())
}

/// Whether `python` can import the engine's module; a missing engine fails the test when
/// `AFMPI_REQUIRE_ENGINES` is set.
fn engine_available(module: &str) -> bool {
    let ok = Command::new(python())
        .args(["-c", &format!("import {module}")])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        assert!(
            std::env::var_os("AFMPI_REQUIRE_ENGINES").is_none(),
            "AFMPI_REQUIRE_ENGINES is set but `{} -c 'import {module}'` fails",
            python()
        );
        eprintln!("skipped: {} cannot import {module}", python());
    }
    ok
}

struct Job {
    name: String,
    methodology: Methodology,
    survey: SurveyColumns,
    data: PathBuf,
    query: PathBuf,
    table: PathBuf,
}

/// Every shipped methodology on the raw example, and the global MPI on the ready one
/// with its two rounds.
fn jobs(dir: &Path) -> Vec<Job> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("data/methodologies"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    let mut jobs: Vec<(PathBuf, PathBuf, bool)> = files
        .into_iter()
        .map(|f| (f, root().join("data/example_raw.csv"), false))
        .collect();
    jobs.push((
        root().join("data/global-mpi.toml"),
        root().join("data/example.csv"),
        true,
    ));
    jobs.into_iter()
        .map(|(file, data, rounds)| {
            let m = afmpi::methodology::from_file(&file).unwrap();
            let mut survey = m.survey.clone();
            if rounds {
                survey.round = Some("t".into());
                survey.year = Some("year".into());
            }
            let name = file.file_stem().unwrap().to_string_lossy().to_string();
            let columns = read::column_names(&data).unwrap();
            let (text, _) =
                sql::query_for_survey(&m, &survey, "survey", sql::Dialect::Double, &columns, &data)
                    .unwrap_or_else(|e| panic!("{name}: {e}"));
            let query = dir.join(format!("{name}.sql"));
            std::fs::write(&query, text).unwrap();
            Job {
                table: dir.join(format!("{name}.table.csv")),
                name,
                methodology: m,
                survey,
                data,
                query,
            }
        })
        .collect()
}

fn run_engine(engine: &str, jobs: &[Job], dir: &Path) {
    let list: Vec<serde_json::Value> = jobs
        .iter()
        .map(|j| {
            serde_json::json!({
                "query": j.query, "survey": j.data, "table": j.table,
            })
        })
        .collect();
    let file = dir.join("jobs.json");
    std::fs::write(&file, serde_json::to_string(&list).unwrap()).unwrap();
    let o = Command::new(python())
        .arg(root().join("scripts/sql-engines.py"))
        .arg(engine)
        .arg(&file)
        .output()
        .unwrap();
    assert!(
        o.status.success(),
        "{engine}: {}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

fn close(a: f64, b: f64) -> bool {
    (a.is_nan() && b.is_nan())
        || (a - b).abs() <= 1e-12 * a.abs().max(b.abs()).max(1e-300)
        || a == b
}

/// The engine's table finished by afmpi against the direct run: every estimate and
/// standard error within 1e-12 relative, the same rows read, used and dropped.
fn same_as_direct(engine: &str, job: &Job) {
    let settings = Settings::default();
    let from_table = analyse_table(&job.methodology, &job.survey, &settings, &job.table)
        .unwrap_or_else(|e| panic!("{engine} {}: {e}", job.name));
    let direct = analyse_file(&job.methodology, &job.survey, &settings, &job.data).unwrap();
    let who = format!("{engine} {}", job.name);
    let (r, q) = (&direct.report, &from_table.report);
    assert_eq!(
        (r.rows_read, r.rows_used),
        (q.rows_read, q.rows_used),
        "{who}: rows"
    );
    let mut a = r.missing.clone();
    let mut b = q.missing.clone();
    a.sort();
    b.sort();
    assert_eq!(a, b, "{who}: rows dropped per column");
    let key = common::estimate_key;
    assert_eq!(
        direct.estimates.len(),
        from_table.estimates.len(),
        "{who}: estimates"
    );
    let index: std::collections::HashMap<_, usize> = (0..from_table.estimates.len())
        .map(|j| (key(&from_table, j), j))
        .collect();
    for i in 0..direct.estimates.len() {
        let k = key(&direct, i);
        let j = *index
            .get(&k)
            .unwrap_or_else(|| panic!("{who}: {k:?} not from the table"));
        let (x, y) = (direct.estimates[i].b, from_table.estimates[j].b);
        assert!(close(x, y), "{who} {k:?}: b {x} vs {y}");
        let (x, y) = (
            direct.inference.levels[i].se,
            from_table.inference.levels[j].se,
        );
        assert!(close(x, y), "{who} {k:?}: se {x} vs {y}");
    }
}

fn check_engine(engine: &str, module: &str) {
    if !engine_available(module) {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let jobs = jobs(dir.path());
    run_engine(engine, &jobs, dir.path());
    for job in &jobs {
        same_as_direct(engine, job);
    }
}

#[test]
fn every_shipped_methodology_through_duckdb() {
    check_engine("duckdb", "duckdb");
}

#[test]
fn every_shipped_methodology_through_spark_sql() {
    check_engine("spark", "pyspark");
}
