//! `compare`: rank correlations against hand computations, the overlap of the poor on a
//! hand-built case, the paired differences against a numerical delta method, and the
//! command end to end.

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
    let c = compare(&analyses, &settings).unwrap();
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
    for part in ["estimate", "overlap", "rank", "difference"] {
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

mod common;

/// The paired difference's variance by an independent route: each person's values under
/// both methodologies, from the file's rows, added up per PSU (by label), their
/// stratified covariance, and the gradient of θ_A − θ_B by central differences.
fn delta_method_se(
    analyses: &[afmpi::Analysis],
    measure: afmpi::measures::Measure,
    level: Option<(&str, &str)>,
) -> f64 {
    use std::collections::BTreeMap;
    // Per PSU: Σ w y and Σ w under each methodology.
    let mut psus: BTreeMap<(String, String), [f64; 4]> = BTreeMap::new();
    for (k, a) in analyses.iter().enumerate() {
        let s = &a.sample;
        let iw = afmpi::methodology::IntegerWeights::new(&a.methodology).unwrap();
        let (cutoff, _) = afmpi::compare::headline(a);
        for i in 0..s.len() {
            let key = (
                s.stratum_labels[s.strata[i] as usize].clone(),
                s.psu_labels[s.psus[i] as usize].clone(),
            );
            let t = psus.entry(key).or_insert([0.0; 4]);
            // Round 0's domain; the other round's PSUs are in the design with zero totals.
            let inside = s.rounds[i] == 0
                && level.is_none_or(|(column, label)| {
                    let g = s.groupings.iter().position(|g| g.column == column).unwrap();
                    let code = s.groupings[g].codes[i];
                    s.groupings[g].levels.get(code as usize).map(String::as_str) == Some(label)
                });
            if !inside {
                continue;
            }
            let p = s.profiles[i];
            let poor = iw.poor(iw.score(p), cutoff.unwrap());
            let y = match (measure, poor) {
                (_, false) => 0.0,
                (afmpi::measures::Measure::H, true) => 1.0,
                (_, true) => iw.score_f64(p),
            };
            t[2 * k] += s.weights[i] * y;
            t[2 * k + 1] += s.weights[i];
        }
    }
    let mut strata: BTreeMap<String, Vec<[f64; 4]>> = BTreeMap::new();
    let mut total = [0.0; 4];
    for ((h, _), t) in psus {
        for k in 0..4 {
            total[k] += t[k];
        }
        strata.entry(h).or_default().push(t);
    }
    let f = |t: &[f64; 4]| t[0] / t[1] - t[2] / t[3];
    let mut g = [0.0; 4];
    for k in 0..4 {
        let step = total[k] * 1e-6;
        let (mut up, mut down) = (total, total);
        up[k] += step;
        down[k] -= step;
        g[k] = (f(&up) - f(&down)) / (2.0 * step);
    }
    let per_psu: Vec<Vec<f64>> = strata
        .values()
        .map(|units| {
            units
                .iter()
                .map(|t| (0..4).map(|k| g[k] * t[k]).sum::<f64>())
                .collect()
        })
        .collect();
    common::stratified_variance(&per_psu).sqrt()
}

/// Paired differences: zero against the methodology itself; against another, the
/// numerical delta method's standard error, much below the two standard errors combined
/// as if independent.
#[test]
fn paired_differences_by_a_numerical_delta_method() {
    use afmpi::measures::Measure;
    let (df, _, survey) = common::simulated(5000);
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/data/global-mpi.toml"))
            .unwrap();
    let at = |headline: &str| {
        let text: String = (text.lines())
            .filter(|l| !l.starts_with("headline"))
            .map(|l| format!("{l}\n"))
            .collect();
        let text = text.replacen(
            "cutoffs = ",
            &format!("headline = {headline}\ncutoffs = "),
            1,
        );
        let mut m2 = afmpi::methodology::from_toml(&text).unwrap();
        m2.survey = survey.clone();
        m2
    };
    let settings = Settings::default();
    let run = |m: &afmpi::methodology::Methodology| {
        analyse_frame(&df, m, &survey, &settings, Path::new("sim.csv")).unwrap()
    };
    let (low, high) = (at("20"), at("\"1/3\""));
    let itself = [run(&low), run(&low)];
    let c = compare(&itself, &settings).unwrap();
    assert!(!c.differences.is_empty());
    for d in &c.differences {
        assert_eq!(d.b, 0.0);
        assert!(d.precision.se < 1e-12, "{d:?}");
    }
    let pair = [run(&low), run(&high)];
    let c = compare(&pair, &settings).unwrap();
    let region = pair[0]
        .sample
        .groupings
        .iter()
        .position(|g| g.column == "region")
        .unwrap();
    let label = pair[0].sample.groupings[region].levels[0].clone();
    let mut checked = 0;
    for d in c.differences.iter().filter(|d| d.domain.round == 0) {
        let level = match d.domain.subgroup {
            None => None,
            Some((g, l)) if g == region && l == 0 => Some(("region", label.as_str())),
            _ => continue,
        };
        assert_relative_eq!(
            d.precision.se,
            delta_method_se(&pair, d.measure, level),
            max_relative = 1e-6
        );
        // Far below the standard errors of the two estimates as if independent.
        let se = |a: &afmpi::Analysis| {
            afmpi::compare::headline_estimate(a, d.measure, d.domain.subgroup, 0)
                .unwrap()
                .1
                .se
        };
        assert!(d.precision.se < 0.8 * (se(&pair[0]).powi(2) + se(&pair[1]).powi(2)).sqrt());
        checked += 1;
    }
    assert_eq!(checked, 4, "M0 and H, nationally and in one region");
    assert!(c
        .differences
        .iter()
        .any(|d| d.measure == Measure::H && d.significant()));
}
