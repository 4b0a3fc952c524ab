//! `afmpi report`: one self-contained page with every chart; the curve of H and M0
//! against k agrees with the run at the methodology's cutoffs; headless Chromium shows
//! every chart and logs no error (a screenshot is kept in
//! target/tmp/report.png, under CARGO_TARGET_DIR when it is set).

use std::path::{Path, PathBuf};
use std::process::Command;

use afmpi::measures::{Domain, Measure};

mod common;

use common::EXAMPLE;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The report of the example survey (two rounds; subgroups area and region).
fn report(dir: &Path) -> (PathBuf, String) {
    let path = dir.join("report.html");
    let o = common::afmpi(&[&["report"][..], &EXAMPLE, &["-o", path.to_str().unwrap()]].concat());
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let page = std::fs::read_to_string(&path).unwrap();
    (path, page)
}

/// Charts: contributions, headcounts, H and M0 against k, two per subgroup column (area,
/// region), levels over the rounds, the parts of the changes, the ranking of each column
/// under every specification of the robustness section, H against k for the rounds and
/// for rural against urban (dominance), each column's levels ranked by inequality among
/// the poor, scores, the association between indicators.
const CHARTS: usize = 17;

#[test]
fn the_report_is_self_contained_with_every_section() {
    let dir = tempfile::tempdir().unwrap();
    let (_, page) = report(dir.path());
    assert_eq!(page.matches("<svg").count(), CHARTS);
    // A table of contents links every section.
    let sections = page.matches("<h2 id=\"s").count();
    assert!(sections >= 10 && page.contains("<nav class=\"toc\">"));
    for n in 1..=sections {
        assert!(
            page.contains(&format!("<a href=\"#s{n}\">")),
            "no link to section {n}"
        );
    }
    for outside in ["<script", "<link", "src=", "@import", "url("] {
        assert!(
            !page.contains(outside),
            "the page refers outside: {outside}"
        );
    }
    let without_svg_namespace = page.replace("http://www.w3.org/2000/svg", "");
    assert!(!without_svg_namespace.contains("http"), "a link outside");
    for section in [
        "Headline estimates",
        "Contributions of the indicators to M0",
        "Headcount ratios by indicator",
        "Poverty against the cutoff k",
        "Subgroups: area",
        "Subgroups: region",
        "Changes over time",
        "Robustness of the comparisons",
        "Dominance",
        "Inequality among the poor",
        "Distribution of deprivation scores",
        "Association between indicators",
        "Methodology",
    ] {
        assert!(page.contains(section), "no {section}");
    }
    // The rows read, used and dropped, counted here from the file: a row is used when it
    // has every indicator and the weight, strata, PSU, round and year.
    let needed = [
        &common::GLOBAL_MPI_INDICATORS[..],
        &["weight", "strata", "psu", "t", "year"],
    ]
    .concat();
    let (read, used) = common::complete_rows(&root().join("data/example.csv"), &needed);
    assert!(used < read, "the example has rows to drop");
    let rows = format!(
        "{} read, {} used, {} dropped",
        common::thousands(read),
        common::thousands(used),
        common::thousands(read - used)
    );
    assert!(page.contains(&rows), "no {rows}");
    // Axis titles and legends are in the charts.
    for text in [
        "poverty cutoff k",
        "M0 (adjusted headcount ratio)",
        "population share",
        "parts of the change of M0 (percentage points)",
        "shifts between levels",
        "rank by M0",
        "H (%)",
        "living standards ×2",
        "area rural against area urban",
        "inequality among the poor (variance of the scores)",
    ] {
        assert!(page.contains(text), "no {text}");
    }
}

#[test]
fn the_cutoff_curve_meets_the_run_at_its_cutoffs() {
    let m = afmpi::methodology::from_file(&root().join("data/global-mpi.toml")).unwrap();
    let mut survey = m.survey.clone();
    survey.round = Some("t".into());
    survey.year = Some("year".into());
    let settings = Default::default();
    let a = afmpi::analyse_file(&m, &survey, &settings, &root().join("data/example.csv")).unwrap();
    let curve = afmpi::report::cutoff_curve(&a, &settings, 1).unwrap();
    // Every score of ten indicators weighted 1/6 and 1/18 is a multiple of 1/18.
    assert!(curve.len() > 10 && curve.len() <= 18);
    for (c, k) in [(1, 100.0 / 3.0), (2, 50.0)] {
        let point = curve
            .iter()
            .find(|p| (p.0 - k).abs() < 1e-9)
            .expect("the methodology's cutoff is a score");
        for (measure, (b, ll, ul)) in [(Measure::H, point.1), (Measure::M0, point.2)] {
            let i = a
                .estimates
                .iter()
                .position(|e| {
                    e.measure == measure
                        && e.cutoff == Some(c)
                        && e.group.is_none()
                        && e.domain
                            == Domain {
                                subgroup: None,
                                round: 1,
                            }
                })
                .unwrap();
            let p = a.inference.levels[i];
            for (x, y) in [(b, a.estimates[i].b), (ll, p.ll), (ul, p.ul)] {
                assert!(
                    (x - 100.0 * y).abs() < 1e-9,
                    "{measure:?} at {k}: {x} vs {}",
                    100.0 * y
                );
            }
        }
    }
    // H falls as k rises.
    assert!(curve.windows(2).all(|w| w[1].1 .0 <= w[0].1 .0));
}

#[test]
fn chromium_shows_every_chart_and_logs_no_error() {
    let Some(chromium) = ["chromium", "chromium-browser"].into_iter().find(|c| {
        Command::new(c)
            .arg("--version")
            .output()
            .is_ok_and(|o| o.status.success())
    }) else {
        if std::env::var_os("AFMPI_REQUIRE_CHROMIUM").is_some() {
            panic!("AFMPI_REQUIRE_CHROMIUM is set but chromium is not installed");
        }
        eprintln!("skipped: chromium not installed (apt-get install chromium)");
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let (path, page) = report(dir.path());
    // A copy of the page that counts the charts the browser lays out with a size.
    let probe = dir.path().join("probe.html");
    let script = "<script>window.addEventListener('load',()=>{const s=[...document.querySelectorAll('svg')];\
        const v=s.filter(e=>{const r=e.getBoundingClientRect();return r.width>100&&r.height>50&&getComputedStyle(e).visibility!=='hidden';});\
        document.body.setAttribute('data-visible',v.length+'/'+s.length);});</script>";
    std::fs::write(&probe, page.replace("</body>", &format!("{script}</body>"))).unwrap();
    let run = |args: &[&str], file: &Path| {
        Command::new(chromium)
            .args([
                "--headless",
                "--no-sandbox",
                "--disable-gpu",
                "--hide-scrollbars",
                "--enable-logging=stderr",
                "--v=0",
            ])
            .args(args)
            .arg(format!("file://{}", file.display()))
            .output()
            .unwrap()
    };
    let o = run(&["--dump-dom"], &probe);
    let dom = String::from_utf8_lossy(&o.stdout);
    assert!(
        dom.contains(&format!("data-visible=\"{CHARTS}/{CHARTS}\"")),
        "charts not all visible: {}",
        dom.split("data-visible")
            .nth(1)
            .unwrap_or("no probe result")
            .chars()
            .take(20)
            .collect::<String>()
    );
    // The page itself, as a person opens it: a screenshot, and no console message.
    // Kept in the target folder cargo gives integration tests (wherever CARGO_TARGET_DIR
    // puts it), and removed first so that an earlier run's picture cannot pass for it.
    let shot = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("report.png");
    std::fs::create_dir_all(shot.parent().unwrap()).unwrap();
    let _ = std::fs::remove_file(&shot);
    let o = run(
        &[
            "--window-size=1000,7000",
            &format!("--screenshot={}", shot.display()),
        ],
        &path,
    );
    let log = String::from_utf8_lossy(&o.stderr);
    assert!(
        !log.lines()
            .any(|l| l.contains("CONSOLE") || l.contains("Uncaught")),
        "the page logged: {log}"
    );
    assert!(
        std::fs::metadata(&shot).is_ok_and(|m| m.len() > 10_000),
        "no screenshot"
    );
    // Printed (the print stylesheet): a PDF of several pages, kept beside the screenshot.
    let pdf = shot.with_file_name("report.pdf");
    let _ = std::fs::remove_file(&pdf);
    run(&[&format!("--print-to-pdf={}", pdf.display())], &path);
    let printed = std::fs::read(&pdf).expect("no PDF printed");
    let pages = printed
        .windows(10)
        .filter(|w| w == b"/Type /Pag" || w == b"/Type/Page")
        .count();
    assert!(
        printed.len() > 50_000 && pages > 3,
        "{} bytes, {pages} pages",
        printed.len()
    );
}
