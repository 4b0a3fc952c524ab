//! `compare`: rank correlations against hand computations, the overlap of the poor on a
//! hand-built case, and the command end to end.

use std::path::Path;
use std::process::Command;

use afmpi::analyse_frame;
use afmpi::compare::{compare, kendall_tau_b, spearman_rho};
use afmpi::inference::{LonelyPsu, Settings};
use approx::assert_relative_eq;
use polars::prelude::*;

#[test]
fn rank_correlations_by_hand() {
    // Two discordant pairs of ten: tau = (8 - 2) / 10; rho = 1 - 6 Σd² / (n (n² - 1)).
    let (x, y) = ([1.0, 2.0, 3.0, 4.0, 5.0], [2.0, 1.0, 4.0, 3.0, 5.0]);
    assert_relative_eq!(kendall_tau_b(&x, &y), 0.6, max_relative = 1e-12);
    assert_relative_eq!(spearman_rho(&x, &y), 0.8, max_relative = 1e-12);
    // A tie in x: tau-b = 5 / √((6 − 1) · 6); rho from average ranks (1, 2.5, 2.5, 4).
    let (x, y) = ([1.0, 2.0, 2.0, 3.0], [1.0, 2.0, 3.0, 4.0]);
    assert_relative_eq!(
        kendall_tau_b(&x, &y),
        5.0 / 30f64.sqrt(),
        max_relative = 1e-12
    );
    assert_relative_eq!(
        spearman_rho(&x, &y),
        4.5 / (4.5f64 * 5.0).sqrt(),
        max_relative = 1e-12
    );
}

#[test]
fn overlap_of_the_poor_by_hand() {
    // Two one-indicator methodologies, poor when deprived in a (first) or in b (second).
    let one = |column: &str| {
        afmpi::methodology::from_toml(&format!(
            "name = \"{column}\"\ncutoffs = [100]\n[[dimension]]\nname = \"d\"\n[[dimension.indicator]]\ncolumn = \"{column}\"\n[survey]\nweight = \"w\"\nover = [\"g\"]\n"
        ))
        .unwrap()
    };
    // weights 1, 2, 3, 4: poor under both (w 1), first only (w 2), second only (w 3), neither (w 4).
    let df = df!(
        "a" => [1, 1, 0, 0],
        "b" => [1, 0, 1, 0],
        "w" => [1.0, 2.0, 3.0, 4.0],
        "g" => ["x", "x", "y", "y"]
    )
    .unwrap();
    let settings = Settings {
        lonely_psu: LonelyPsu::Remove,
        ..Settings::default()
    };
    let analyses: Vec<_> = ["a", "b"]
        .iter()
        .map(|c| {
            let m = one(c);
            analyse_frame(&df, &m, &m.survey, &settings, Path::new("t.csv")).unwrap()
        })
        .collect();
    let c = compare(&analyses).unwrap();
    let o = &c.overlaps[0];
    assert_relative_eq!(o.both, 0.1);
    assert_relative_eq!(o.only_first, 0.2);
    assert_relative_eq!(o.only_second, 0.3);
    assert_relative_eq!(o.neither, 0.4);
    assert_eq!(o.persons, 4);
    // Subgroups: x has M0 3/3 under a and 1/3 under b; y has 0 and 3/7: opposite ranks.
    let r = &c.ranks[0];
    assert_eq!(r.levels, 2);
    assert_relative_eq!(r.kendall_tau_b, -1.0);
    assert_relative_eq!(r.spearman_rho, -1.0);
    // The long frame holds every part.
    let frame = afmpi::compare::frame(&c);
    let tables = frame.column("table").unwrap().str().unwrap().clone();
    for part in ["estimate", "overlap", "rank"] {
        assert!(tables.iter().any(|t| t == Some(part)), "{part}");
    }
}

#[test]
fn compare_command_on_the_example() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("comparison.json");
    let o = Command::new(env!("CARGO_BIN_EXE_afmpi"))
        .args([
            "compare",
            "data/methodologies/global-mpi-2018.toml",
            "data/methodologies/mexico-coneval.toml",
            "data/example_raw.csv",
            "-o",
            out.to_str().unwrap(),
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    let text = String::from_utf8_lossy(&o.stdout);
    assert!(
        o.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    assert!(
        text.contains("global-mpi-2018 vs mexico-coneval") && text.contains("tau-b"),
        "{text}"
    );
    assert!(
        text.contains("pobreza"),
        "CONEVAL's headline is its poverty group: {text}"
    );
    assert!(out.metadata().unwrap().len() > 1000);
    let o = Command::new(env!("CARGO_BIN_EXE_afmpi"))
        .args([
            "compare",
            "data/methodologies/global-mpi-2018.toml",
            "data/example_raw.csv",
            "x.csv",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap();
    assert!(!o.status.success());
}
