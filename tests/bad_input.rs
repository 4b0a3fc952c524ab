//! The bad-input corpus: each folder of `tests/bad/` holds a file (or methodology) as the
//! field has them and a `case.toml` saying what afmpi must do with it — the exit code,
//! the fragments its messages must hold, and for the runs that succeed, fragments of the
//! results file. A run that fails must leave no file behind.

use std::path::{Path, PathBuf};
use std::process::Command;

#[derive(serde::Deserialize)]
#[serde(deny_unknown_fields)]
struct Case {
    args: Vec<String>,
    code: i32,
    #[serde(default)]
    stdout: Vec<String>,
    #[serde(default)]
    stderr: Vec<String>,
    /// Fragments of the results file (`run` only).
    #[serde(default)]
    output: Vec<String>,
    /// Fragments that must not be in the standard output.
    #[serde(default)]
    stdout_lacks: Vec<String>,
}

fn corpus() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/bad")
}

/// Runs one case in its folder; the results go to a fresh folder that must stay empty
/// when the run fails.
fn check(dir: &Path) -> Result<(), String> {
    let text = std::fs::read_to_string(dir.join("case.toml")).map_err(|e| e.to_string())?;
    let case: Case = toml::from_str(&text).map_err(|e| format!("case.toml: {e}"))?;
    let out = tempfile::tempdir().unwrap();
    let results = out.path().join("results.csv");
    let mut args = case.args.clone();
    if args[0] == "run" {
        args.push("-o".into());
        args.push(results.to_str().unwrap().into());
    }
    let o = Command::new(env!("CARGO_BIN_EXE_afmpi"))
        .args(&args)
        .current_dir(dir)
        .output()
        .unwrap();
    let (stdout, stderr) = (
        String::from_utf8_lossy(&o.stdout).to_string(),
        String::from_utf8_lossy(&o.stderr).to_string(),
    );
    let shown = format!("stdout:\n{stdout}\nstderr:\n{stderr}");
    if o.status.code() != Some(case.code) {
        return Err(format!(
            "exit code {:?}, not {}\n{shown}",
            o.status.code(),
            case.code
        ));
    }
    for (want, got, name) in [
        (&case.stdout, &stdout, "stdout"),
        (&case.stderr, &stderr, "stderr"),
    ] {
        for fragment in want {
            if !got.contains(fragment.as_str()) {
                return Err(format!("{name} lacks \"{fragment}\"\n{shown}"));
            }
        }
    }
    for fragment in &case.stdout_lacks {
        if stdout.contains(fragment.as_str()) {
            return Err(format!("stdout holds \"{fragment}\"\n{shown}"));
        }
    }
    if case.code != 0 {
        let left: Vec<_> = std::fs::read_dir(out.path()).unwrap().collect();
        if !left.is_empty() {
            return Err(format!("a failed run left {} files behind", left.len()));
        }
        if stderr.contains("panicked") {
            return Err(format!("a panic, not an error\n{shown}"));
        }
    }
    if !case.output.is_empty() {
        let written = std::fs::read_to_string(&results).map_err(|e| format!("results: {e}"))?;
        for fragment in &case.output {
            if !written.contains(fragment.as_str()) {
                return Err(format!("the results lack \"{fragment}\"\n{shown}"));
            }
        }
    }
    Ok(())
}

#[test]
fn every_case_of_the_corpus_gives_its_message_and_exit_code() {
    let mut dirs: Vec<PathBuf> = std::fs::read_dir(corpus())
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.join("case.toml").is_file())
        .collect();
    dirs.sort();
    assert!(dirs.len() >= 15, "the corpus has {} cases", dirs.len());
    let failures: Vec<String> = dirs
        .iter()
        .filter_map(|d| {
            check(d)
                .err()
                .map(|e| format!("{}: {e}", d.file_name().unwrap().to_string_lossy()))
        })
        .collect();
    assert!(failures.is_empty(), "{}", failures.join("\n\n"));
}

/// A column of a type afmpi cannot read (a date) is an error naming the column and its
/// type, never a column of missing values.
#[test]
fn an_unsupported_column_type_is_an_error_naming_it() {
    use polars::prelude::*;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("dates.parquet");
    let n = 8;
    let mut df = DataFrame::new(
        n,
        vec![
            Column::new("w".into(), vec![1.0f64; n]),
            Column::new(
                "st".into(),
                (0..n as i64).map(|i| i / 4).collect::<Vec<_>>(),
            ),
            Column::new(
                "psu".into(),
                (0..n as i64).map(|i| i / 2).collect::<Vec<_>>(),
            ),
            Column::new(
                "d0".into(),
                (0..n as i32).map(|i| 19_000 + i).collect::<Vec<_>>(),
            )
            .cast(&DataType::Date)
            .unwrap(),
            Column::new("d1".into(), vec![0i64; n]),
            Column::new("d2".into(), vec![1i64; n]),
        ],
    )
    .unwrap();
    ParquetWriter::new(std::fs::File::create(&path).unwrap())
        .finish(&mut df)
        .unwrap();
    let m = afmpi::methodology::from_file(&corpus().join("tiny.toml")).unwrap();
    for reading in [afmpi::Reading::Whole, afmpi::Reading::Batches(3)] {
        let run = afmpi::analyse_files_reading(
            &m,
            &m.survey,
            &Default::default(),
            &path,
            None,
            reading,
            &|_| {},
        );
        let e = match run {
            Ok(_) => panic!("a date column was read ({reading:?})"),
            Err(e) => e.to_string(),
        };
        assert!(
            e.contains("column `d0`") && e.contains("date"),
            "{reading:?}: {e}"
        );
    }
}
