//! The `afmpi` command end to end: the README's main command, output formats, and the
//! errors a user meets (exit code, message, nothing half-written).

use std::path::{Path, PathBuf};
use std::process::Output;

mod common;

use common::{afmpi, EXAMPLE};

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn path_str(p: &Path) -> &str {
    p.to_str().unwrap()
}

/// Files in a folder, so a test can see that nothing was left behind.
fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    v.sort();
    v
}

#[test]
fn main_command_on_the_example_writes_every_format() {
    let dir = tempfile::tempdir().unwrap();
    for ext in ["csv", "parquet", "json"] {
        let out = dir.path().join(format!("results.{ext}"));
        let o = afmpi(&[&["run"][..], &EXAMPLE, &["-o", path_str(&out)]].concat());
        assert!(o.status.success(), "{}", text(&o));
        let t = text(&o);
        assert!(t.contains("rows: 12,000 read"), "{t}");
        assert!(
            t.contains("national estimates") && t.contains("2 (2019)"),
            "{t}"
        );
        assert!(out.metadata().unwrap().len() > 1000);
    }
    let csv = std::fs::read_to_string(dir.path().join("results.csv")).unwrap();
    assert_eq!(
        csv.lines().next().unwrap(),
        afmpi::output::COLUMNS.join(",")
    );
    // Levels: 3 cutoffs × (M0, H, A, ineq + 4 indicator measures × 10) + hd × 10, per
    // domain: 2 rounds × (national + 2 areas + 6 regions) = 18 domains; the 16 subgroup
    // domains' popsh and contrib (per cutoff); and the national ineq split within and
    // between the levels of each of the 2 columns, per round and cutoff.
    let levels = 18 * (3 * (4 + 3 * 10) + 10) + 16 * (1 + 3) + 2 * 3 * 2 * 2;
    // Changes from round 1 to 2 of M0, H, A, ineq, hdk and actb (per cutoff) and hd, in 9
    // domains: abs, rel, and both annualized; M0's two parts (due to H, due to A), plain
    // and annualized; and the national M0's two parts over each of the 2 columns (within
    // the levels, shifts between them), plain and annualized.
    let changes = 9 * (3 * (4 + 2 * 10) + 10) * 4 + 9 * 3 * 2 * 2 + 3 * 2 * 2 * 2;
    // The sample facts: N and Neff in the 18 domains, mv and mv_w of the 10 indicators.
    let facts = 2 * 18 + 2 * 10;
    assert_eq!(csv.lines().count() - 1, levels + facts + changes);
    assert_eq!(
        csv.lines().filter(|l| l.contains(",lev,")).count(),
        levels + facts
    );
    assert!(
        csv.contains(",M0,,20.0,,nat,nat,,rel,2012,2019,1,"),
        "annualized relative change"
    );
    assert_eq!(
        listing(dir.path()),
        vec!["results.csv", "results.json", "results.parquet"]
    );
}

#[test]
fn flags_override_the_methodology() {
    let o = afmpi(&[
        "run",
        "data/global-mpi.toml",
        "data/example.csv",
        "--cutoffs",
        "25,1/2",
        "--over",
        "sex",
        "-o",
        "-",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    assert!(stdout.contains(",sex,female,") && !stdout.contains(",region,"));
    assert!(stdout.contains(",25.0,") && stdout.contains(",50.0,") && !stdout.contains(",20.0,"));
    // Without --round the example's two rounds are one sample: its year column is not set.
    assert!(String::from_utf8_lossy(&o.stderr).contains("national estimates"));
}

fn write(dir: &Path, name: &str, content: &str) -> PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, content).unwrap();
    p
}

const TWO: &str = "name = \"two\"\ncutoffs = [50]\n[[dimension]]\nname = \"d\"\n[[dimension.indicator]]\ncolumn = \"a\"\n[[dimension.indicator]]\ncolumn = \"b\"\n";

#[test]
fn an_unknown_column_lists_the_closest_names_first() {
    let dir = tempfile::tempdir().unwrap();
    let m = write(
        dir.path(),
        "m.toml",
        &TWO.replace("column = \"a\"", "column = \"d_nutrr\""),
    );
    let o = afmpi(&["run", path_str(&m), "data/example.csv"]);
    assert_eq!(o.status.code(), Some(1));
    let t = text(&o);
    assert!(
        t.contains("data/example.csv: column `d_nutrr`")
            && t.contains("dimension[0].indicator[0].column"),
        "{t}"
    );
    assert!(t.contains("closest first: d_nutr,"), "{t}");
}

#[test]
fn a_bad_value_fails_and_leaves_the_previous_results_untouched() {
    let dir = tempfile::tempdir().unwrap();
    let m = write(dir.path(), "m.toml", TWO);
    let data = write(dir.path(), "s.csv", "a,b\n0,1\n1,1\n1,yes\n");
    let out = write(dir.path(), "out.csv", "previous results\n");
    let o = afmpi(&["run", path_str(&m), path_str(&data), "-o", path_str(&out)]);
    assert_eq!(o.status.code(), Some(1));
    let t = text(&o);
    assert!(
        t.contains("s.csv: column `b`, row 3: the value \"yes\" is not 0 or 1"),
        "{t}"
    );
    assert_eq!(std::fs::read_to_string(&out).unwrap(), "previous results\n");
    assert_eq!(listing(dir.path()), vec!["m.toml", "out.csv", "s.csv"]);
}

#[test]
fn a_type_change_deep_in_a_csv_is_read_right() {
    // The weight is an integer for 2,000 rows and then a decimal: inference from the
    // first rows would call it an integer column.
    let dir = tempfile::tempdir().unwrap();
    let m = write(
        dir.path(),
        "m.toml",
        &format!("{TWO}[survey]\nweight = \"w\"\n"),
    );
    let mut csv = String::from("a,b,w\n");
    for _ in 0..2000 {
        csv.push_str("0,0,1\n");
    }
    csv.push_str("1,1,2000.5\n");
    let data = write(dir.path(), "s.csv", &csv);
    let o = afmpi(&["run", path_str(&m), path_str(&data), "-o", "-"]);
    assert!(o.status.success(), "{}", text(&o));
    let stdout = String::from_utf8_lossy(&o.stdout);
    let h = stdout
        .lines()
        .find(|l| l.starts_with("two,H,,50.0,,nat"))
        .unwrap();
    // One heavy row among 2,000: its weight dominates, and so does its variance (each row
    // is its own PSU here, in one stratum of n = 2,001): H = W1 / W and, with
    // z_i = w_i (y_i − H) / W summing to zero, V = n/(n − 1) Σ z_i².
    let (heavy, n): (f64, f64) = (2000.5, 2001.0);
    let w = 2000.0 + heavy;
    let b = heavy / w;
    let squares = 2000.0 * (b / w).powi(2) + (heavy * (1.0 - b) / w).powi(2);
    let se = (n / (n - 1.0) * squares).sqrt();
    let fields: Vec<&str> = h.split(',').collect();
    let (ours_b, ours_se): (f64, f64) = (fields[12].parse().unwrap(), fields[13].parse().unwrap());
    assert!((ours_b - b).abs() <= 1e-15, "b {ours_b} against {b}: {h}");
    assert!(
        (ours_se - se).abs() <= 1e-12 * se,
        "se {ours_se} against {se}: {h}"
    );
    // The weight read as a decimal, not an integer: the heavy row counts 2000.5.
    assert!(ours_b > 0.5, "{h}");
}

#[test]
fn methodology_errors_point_at_the_key() {
    let dir = tempfile::tempdir().unwrap();
    let cases = [
        (TWO.replace("[50]", "[0]"), "cutoffs[0]"),
        (
            TWO.replace("column = \"b\"", "column = \"b\"\nweight = -1"),
            "dimension[0].indicator[1].weight",
        ),
        (
            TWO.replace("column = \"a\"", "column = \"a\"\nweight = 0.5")
                .replace("column = \"b\"", "column = \"b\"\nweight = 0.7"),
            "sum to 1.2",
        ),
        (
            TWO.replace("column = \"b\"", "column = \"b\"\nwieght = 0.5"),
            "unknown field `wieght`",
        ),
        (format!("{TWO}[[dimension]]\nname = \"e\"\n"), "is empty"),
    ];
    for (toml, expected) in cases {
        let m = write(dir.path(), "m.toml", &toml);
        let o = afmpi(&["run", path_str(&m), "data/example.csv"]);
        assert_eq!(o.status.code(), Some(1));
        let t = text(&o);
        assert!(
            t.contains("m.toml") && t.contains(expected),
            "expected {expected:?} in: {t}"
        );
    }
}

#[test]
fn unknown_formats_are_refused() {
    let o = afmpi(&["run", "data/global-mpi.toml", "data/survey.txt"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("afmpi reads .csv, .parquet, .dta"),
        "{}",
        text(&o)
    );
    let o = afmpi(&[
        "run",
        "data/global-mpi.toml",
        "data/example.csv",
        "-o",
        "/tmp/x.xls",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("use .csv, .parquet, .json or .dta (or .xlsx"),
        "{}",
        text(&o)
    );
}

#[test]
fn simulate_is_reproducible() {
    let dir = tempfile::tempdir().unwrap();
    let a = dir.path().join("a.csv");
    let b = dir.path().join("b.csv");
    for p in [&a, &b] {
        let o = afmpi(&[
            "simulate",
            "--rows",
            "500",
            "--seed",
            "7",
            "-o",
            path_str(p),
        ]);
        assert!(o.status.success(), "{}", text(&o));
    }
    assert_eq!(std::fs::read(&a).unwrap(), std::fs::read(&b).unwrap());
}

#[test]
fn changes_can_go_to_a_file_of_their_own() {
    let dir = tempfile::tempdir().unwrap();
    let levels = dir.path().join("levels.csv");
    let changes = dir.path().join("changes.parquet");
    let o = afmpi(
        &[
            &["run"][..],
            &EXAMPLE,
            &[
                "--changes",
                "insequence",
                "--ci",
                "wald",
                "--level",
                "0.9",
                "-o",
                path_str(&levels),
                "--changes-out",
                path_str(&changes),
            ],
        ]
        .concat(),
    );
    assert!(o.status.success(), "{}", text(&o));
    let t = text(&o);
    assert!(
        t.contains("90% confidence intervals, Wald") && t.contains("national changes"),
        "{t}"
    );
    assert!(t.contains("1 (2012) → 2 (2019)"), "{t}");
    let csv = std::fs::read_to_string(&levels).unwrap();
    assert!(csv.lines().skip(1).all(|l| l.contains(",lev,")));
    assert!(changes.metadata().unwrap().len() > 1000);
}

#[test]
fn a_confidence_level_outside_0_1_is_refused() {
    let o = afmpi(&[
        "run",
        "data/global-mpi.toml",
        "data/example.csv",
        "--level",
        "95",
    ]);
    assert_eq!(o.status.code(), Some(1));
    assert!(
        text(&o).contains("--level 95 is not a confidence level"),
        "{}",
        text(&o)
    );
}

#[test]
fn a_columns_file_maps_a_survey_s_own_names() {
    // The example's hh_id and age under other names, mapped back by a --columns file.
    let dir = tempfile::tempdir().unwrap();
    let raw = std::fs::read_to_string(root().join("data/example_raw.csv")).unwrap();
    let mut lines = raw.lines();
    let header = lines
        .next()
        .unwrap()
        .replace("hh_id,", "hhid,")
        .replace(",age,", ",hv105,");
    let renamed = std::iter::once(header.as_str())
        .chain(lines)
        .collect::<Vec<_>>()
        .join("\n");
    let data = write(dir.path(), "dhs.csv", &renamed);
    let map = write(
        dir.path(),
        "dhs-columns.toml",
        "[columns]\nhh_id = \"hhid\"\nage = \"hv105\"\n",
    );
    let run = |extra: &[&str]| {
        let mut args = vec![
            "run",
            "data/methodologies/global-mpi-2018.toml",
            path_str(&data),
            "-o",
            "-",
        ];
        args.extend_from_slice(extra);
        afmpi(&args)
    };
    let o = run(&[]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("column `age`"), "{}", text(&o));
    let o = run(&["--columns", path_str(&map)]);
    assert!(o.status.success(), "{}", text(&o));
    let mapped = String::from_utf8_lossy(&o.stdout).to_string();
    let o = afmpi(&[
        "run",
        "data/methodologies/global-mpi-2018.toml",
        "data/example_raw.csv",
        "-o",
        "-",
    ]);
    assert_eq!(mapped, String::from_utf8_lossy(&o.stdout));
}

/// `--batch-rows` gives the figures of a whole-file run; `--timings` names each stage.
#[test]
fn run_in_batches_and_with_timings() {
    let dir = tempfile::tempdir().unwrap();
    let whole = dir.path().join("whole.csv");
    let batched = dir.path().join("batched.csv");
    let base = [&["run"][..], &EXAMPLE].concat();
    let o = afmpi(&[&base[..], &["-o", path_str(&whole)]].concat());
    assert!(o.status.success(), "{}", text(&o));
    let o = afmpi(
        &[
            &base[..],
            &[
                "-o",
                path_str(&batched),
                "--batch-rows",
                "1000",
                "--timings",
            ],
        ]
        .concat(),
    );
    assert!(o.status.success(), "{}", text(&o));
    let stderr = String::from_utf8_lossy(&o.stderr);
    for stage in [
        "reading and tallying in batches",
        "standard errors",
        "writing",
    ] {
        assert!(stderr.contains(stage), "no timing of {stage}: {stderr}");
    }
    let (a, b) = (
        std::fs::read_to_string(&whole).unwrap(),
        std::fs::read_to_string(&batched).unwrap(),
    );
    let (a, b): (Vec<&str>, Vec<&str>) = (a.lines().collect(), b.lines().collect());
    assert_eq!(a.len(), b.len());
    assert_eq!(a[0], b[0]);
    for (x, y) in a.iter().zip(&b).skip(1) {
        for (u, v) in x.split(',').zip(y.split(',')) {
            match (u.parse::<f64>(), v.parse::<f64>()) {
                (Ok(u), Ok(v)) => assert!((u - v).abs() <= 1e-12 * u.abs().max(1e-3), "{x}\n{y}"),
                _ => assert_eq!(u, v),
            }
        }
    }
}

/// `init` writes each template; every one is a valid methodology; the default is the
/// global MPI on ready columns; an unknown name lists the templates.
#[test]
fn init_writes_valid_methodologies() {
    let dir = tempfile::tempdir().unwrap();
    let list = afmpi(&["init", "--list"]);
    assert!(list.status.success());
    let names: Vec<String> = String::from_utf8_lossy(&list.stdout)
        .lines()
        .map(|l| l.split_whitespace().next().unwrap().to_string())
        .collect();
    assert_eq!(names.len(), 8, "{names:?}");
    for name in &names {
        let o = afmpi(&["init", "--from", name]);
        assert!(o.status.success(), "{}", text(&o));
        let path = dir.path().join(format!("{name}.toml"));
        std::fs::write(&path, &o.stdout).unwrap();
        afmpi::methodology::from_file(&path).unwrap_or_else(|e| panic!("template {name}: {e}"));
        assert!(
            String::from_utf8_lossy(&o.stdout).starts_with('#'),
            "{name} opens with a comment"
        );
    }
    let default = afmpi(&["init"]);
    assert_eq!(
        String::from_utf8_lossy(&default.stdout),
        std::fs::read_to_string(root().join("data/global-mpi.toml")).unwrap()
    );
    let o = afmpi(&["init", "--from", "colombiaa"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("no template named `colombiaa`") && text(&o).contains("colombia,"));
}

/// `check` describes a valid methodology and finds its columns in the data; a column
/// the data lack is an error naming the column, the key and the closest names.
#[test]
fn check_validates_a_methodology_against_the_data() {
    let o = afmpi(&[
        "check",
        "data/methodologies/colombia-ipm.toml",
        "data/example_raw.csv",
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    assert!(
        out.contains("valid") && out.contains("5 dimensions, 15 indicators"),
        "{out}"
    );
    assert!(
        out.contains("analfabetismo") && out.contains("1/10"),
        "{out}"
    );
    assert!(out.contains("data/example_raw.csv: has the"), "{out}");

    let o = afmpi(&[
        "check",
        "data/global-mpi.toml",
        "data/example.csv",
        "--round",
        "round",
    ]);
    assert_eq!(o.status.code(), Some(1));
    let out = text(&o);
    assert!(
        out.contains("column `round`")
            && out.contains("survey.round")
            && out.contains("Columns, closest first"),
        "{out}"
    );

    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.toml");
    std::fs::write(
        &bad,
        std::fs::read_to_string(root().join("data/global-mpi.toml"))
            .unwrap()
            .replace("cutoffs = [20, \"1/3\", 50]", "cutoffs = [20, 150]"),
    )
    .unwrap();
    let o = afmpi(&["check", path_str(&bad)]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("cutoffs"), "{}", text(&o));
}

/// `describe` counts each column's missing and distinct values, the most common values
/// first, and shows Stata value labels.
#[test]
fn describe_lists_columns_counts_and_labels() {
    let o = afmpi(&["describe", "data/example.csv", "--columns", "d_cm,area"]);
    assert!(o.status.success(), "{}", text(&o));
    let out = text(&o);
    assert!(out.contains("12,000 rows, 2 columns"), "{out}");
    let d_cm = out.lines().find(|l| l.starts_with("d_cm")).unwrap();
    let expected_missing = std::fs::read_to_string(root().join("data/example.csv"))
        .unwrap()
        .lines()
        .skip(1)
        .filter(|l| {
            let header = "hh_id,ind_id,t,year,strata,psu,weight,area,region,sex,d_cm";
            let at = header.split(',').count() - 1;
            l.split(',').nth(at) == Some("")
        })
        .count();
    let fields: Vec<&str> = d_cm.split_whitespace().collect();
    assert_eq!(fields[2], afmpi::output::count(expected_missing), "{d_cm}");
    assert_eq!(fields[3], "2", "{d_cm}");
    assert!(
        out.lines()
            .any(|l| l.starts_with("area") && l.contains("rural (")),
        "{out}"
    );

    let o = afmpi(&["describe", "data/example.csv", "--columns", "regoin"]);
    assert_eq!(o.status.code(), Some(1));
    assert!(text(&o).contains("column `regoin`") && text(&o).contains("region"));

    if let Some(shared) = shared() {
        let dta = shared.join("data/ben_dhs17_18.dta");
        let o = afmpi(&["describe", path_str(&dta), "--columns", "region"]);
        assert!(o.status.success(), "{}", text(&o));
        assert!(
            text(&o).contains("values: 1 = Alibori, 2 = Atacora"),
            "{}",
            text(&o)
        );
    }
}

fn shared() -> Option<PathBuf> {
    let dir = root().join("../shared");
    dir.join("data/ben_dhs17_18.dta").exists().then_some(dir)
}

/// `robustness` and `dominance` on the example: every part of their tables, the
/// baseline's change of the national M0 as `run` reports it, and the errors of their
/// flags.
#[test]
fn robustness_and_dominance_on_the_example() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("robustness.csv");
    let o = afmpi(&[&["robustness"][..], &EXAMPLE, &["-o", path_str(&out)]].concat());
    assert!(o.status.success(), "{}", text(&o));
    let t = text(&o);
    for shown in [
        "equal indicators",
        "health ×2",
        "robust comparisons",
        "tau_b",
    ] {
        assert!(t.contains(shown), "{shown}: {t}");
    }
    let df = common::read_csv(&out);
    let tables = common::texts(&df, "table");
    let count = |name: &str| tables.iter().filter(|t| *t == name).count();
    // 7 specifications (the baseline, k = 20 and 50, [[weights]], each of 3 dimensions
    // doubled), 2 measures, 18 domains; per specification and measure, 16 pairs of
    // levels (1 of area, 15 of region) in each of 2 rounds and a pair of rounds in each
    // of 9 domains; 6 alternatives × 2 measures × 2 columns × 2 rounds ranked.
    assert_eq!(count("estimate"), 7 * 2 * 18);
    assert_eq!(count("difference"), 7 * 2 * (2 * 16 + 9));
    assert_eq!(count("verdict"), 2 * (2 * 16 + 9));
    assert_eq!(count("share"), 2 * 3);
    assert_eq!(count("rank"), 6 * 2 * 2 * 2);
    // The baseline's comparison of the rounds is `run`'s change of the national M0.
    let results = dir.path().join("results.csv");
    let o = afmpi(&[&["run"][..], &EXAMPLE, &["-o", path_str(&results)]].concat());
    assert!(o.status.success(), "{}", text(&o));
    let run = std::fs::read_to_string(&results).unwrap();
    let change = run
        .lines()
        .find(|l| l.contains("global-mpi,M0,,33.333333333333336,,nat,nat,,abs,2012,2019,0,"))
        .unwrap();
    let ours = std::fs::read_to_string(&out).unwrap();
    let row = ours
        .lines()
        .find(|l| {
            l.starts_with(
                "difference,baseline,baseline,33.333333333333336,M0,nat,nat,2 (2019),1 (2012),,",
            )
        })
        .unwrap();
    let tail = |l: &str, n: usize| l.split(',').skip(n).take(4).collect::<Vec<_>>().join(",");
    assert_eq!(tail(row, 10), tail(change, 12), "{row}\n{change}");

    let out = dir.path().join("dominance.csv");
    let o = afmpi(
        &[
            &["dominance"][..],
            &EXAMPLE,
            &["--k-range", "20:60", "-o", path_str(&out)],
        ]
        .concat(),
    );
    assert!(o.status.success(), "{}", text(&o));
    assert!(
        text(&o).contains("M0 2 (2019) against 1 (2012)"),
        "{}",
        text(&o)
    );
    let df = common::read_csv(&out);
    let k = common::numbers(&df, "k");
    assert!(k.iter().flatten().all(|&k| (20.0..=60.0).contains(&k)));
    let dominates = common::texts(&df, "poorer");
    assert!(dominates
        .iter()
        .filter(|d| !d.is_empty())
        .all(|d| ["first", "second", "neither"].contains(&d.as_str())));

    for (args, wanted) in [
        (&["--k-range", "50:20"][..], "the first at most the second"),
        (&["--k", "abc"][..], "key `--k`"),
        (&["--over", ""][..], "nothing to compare"),
        (
            &["--weights", "none", "--k", "1/3"][..],
            "nothing to compare the baseline with",
        ),
    ] {
        let bad = dir.path().join("bad.csv");
        let o = afmpi(
            &[
                &["robustness", "data/global-mpi.toml", "data/example.csv"][..],
                args,
                &["-o", path_str(&bad)],
            ]
            .concat(),
        );
        assert!(!o.status.success(), "{args:?}");
        assert!(text(&o).contains(wanted), "{args:?}: {}", text(&o));
        assert!(!bad.exists());
    }
}
