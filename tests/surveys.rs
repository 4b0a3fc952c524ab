//! Many surveys in one run (`afmpi run --surveys`): the shipped list of three synthetic
//! surveys, each survey's rows of the results those of a run on its file alone (with
//! its own column names mapped by flags), and a list with a failing survey.

mod common;

use common::afmpi;

/// The flags that run Syldavia's file alone under its own column names (a columns file
/// written in `dir`).
fn syldavia_alone(dir: &std::path::Path) -> Vec<String> {
    let columns = dir.join("columns.toml");
    std::fs::write(
        &columns,
        "[columns]\nd_cm = \"priv_mortalidad\"\nd_nutr = \"priv_nutricion\"\n",
    )
    .unwrap();
    let flags = [
        "--weight",
        "peso",
        "--strata",
        "estrato",
        "--psu",
        "upm",
        "--over",
        "zona,departamento",
        "--columns",
    ];
    let mut v: Vec<String> = flags.iter().map(|s| s.to_string()).collect();
    v.push(columns.to_str().unwrap().to_string());
    v
}

fn text(o: &std::process::Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[test]
fn the_shipped_list_is_each_survey_run_alone() {
    let dir = tempfile::tempdir().unwrap();
    let all = dir.path().join("all.csv");
    let o = afmpi(&[
        "run",
        "data/global-mpi.toml",
        "--surveys",
        "data/surveys.toml",
        "-o",
        all.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert!(text(&o).contains("across the surveys"), "{}", text(&o));
    let rows = std::fs::read_to_string(&all).unwrap();
    let mut lines = rows.lines();
    let header = lines.next().unwrap();
    assert!(
        header.starts_with("survey,ccty,year,spec,measure,"),
        "{header}"
    );
    // Syldavia alone: its own names given as flags and a columns file.
    let alone = dir.path().join("alone.csv");
    let mut args: Vec<String> = ["run", "data/global-mpi.toml", "data/surveys/syldavia.csv"]
        .map(String::from)
        .to_vec();
    args.extend(syldavia_alone(dir.path()));
    args.extend(["-o".to_string(), alone.to_str().unwrap().to_string()]);
    let o = afmpi(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(o.status.success(), "{}", text(&o));
    let alone = std::fs::read_to_string(&alone).unwrap();
    let ours: Vec<&str> = rows
        .lines()
        .filter_map(|l| l.strip_prefix("SYL-2022,SYL,2022.0,"))
        .collect();
    let theirs: Vec<&str> = alone.lines().skip(1).collect();
    assert_eq!(ours.len(), theirs.len());
    assert_eq!(ours, theirs, "Syldavia's rows are those of its run alone");
    // Every survey is there, Borduria over its region only.
    for id in ["ATL-2019,ATL,2019.0,", "BOR-2021,BOR,2021.0,"] {
        assert!(rows.lines().any(|l| l.starts_with(id)), "{id}");
    }
    assert!(!rows
        .lines()
        .any(|l| l.starts_with("BOR-2021") && l.contains(",area,")));
    // `-o -`: the results on standard output, the summary on standard error.
    let o = afmpi(&[
        "run",
        "data/global-mpi.toml",
        "--surveys",
        "data/surveys.toml",
        "-o",
        "-",
    ]);
    assert!(o.status.success());
    assert_eq!(String::from_utf8_lossy(&o.stdout), rows);
    assert!(String::from_utf8_lossy(&o.stderr).contains("across the surveys"));
}

#[test]
fn a_failing_survey_is_named_and_the_others_are_written() {
    let dir = tempfile::tempdir().unwrap();
    let root = env!("CARGO_MANIFEST_DIR");
    let list = dir.path().join("list.toml");
    std::fs::write(
        &list,
        format!("[[survey]]\nid = \"ok\"\nfile = \"{root}/data/surveys/atlantis.csv\"\n[[survey]]\nid = \"gone\"\nfile = \"nowhere.csv\"\n"),
    )
    .unwrap();
    let out = dir.path().join("r.csv");
    let o = afmpi(&[
        "run",
        "data/global-mpi.toml",
        "--surveys",
        list.to_str().unwrap(),
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    let t = text(&o);
    assert!(t.contains("1 of 2 surveys failed: gone"), "{t}");
    assert!(t.contains("nowhere.csv"), "{t}");
    let rows = std::fs::read_to_string(&out).unwrap();
    assert!(rows.lines().skip(1).all(|l| l.starts_with("ok,")) && rows.lines().count() > 100);
    // Two surveys of one id are refused before anything runs.
    std::fs::write(&list, format!("[[survey]]\nid = \"a\"\nfile = \"{root}/data/surveys/atlantis.csv\"\n[[survey]]\nid = \"a\"\nfile = \"x.csv\"\n")).unwrap();
    let o = afmpi(&[
        "run",
        "data/global-mpi.toml",
        "--surveys",
        list.to_str().unwrap(),
    ]);
    assert!(!o.status.success());
    assert!(text(&o).contains("survey[1]"), "{}", text(&o));
}

#[test]
fn compare_on_every_survey_of_the_list() {
    let dir = tempfile::tempdir().unwrap();
    let variant = dir.path().join("k20.toml");
    let text_of = std::fs::read_to_string("data/global-mpi.toml").unwrap();
    std::fs::write(
        &variant,
        text_of
            .replace("name = \"global-mpi\"", "name = \"k20\"")
            .replace("headline = \"1/3\"", "headline = 20"),
    )
    .unwrap();
    let all = dir.path().join("all.csv");
    let o = afmpi(&[
        "compare",
        "data/global-mpi.toml",
        variant.to_str().unwrap(),
        "--surveys",
        "data/surveys.toml",
        "-o",
        all.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    assert_eq!(text(&o).matches("== survey ").count(), 3);
    // Syldavia's comparison is that of `compare` on its file alone.
    let alone = dir.path().join("alone.csv");
    let mut args: Vec<String> = vec![
        "compare".into(),
        "data/global-mpi.toml".into(),
        variant.to_str().unwrap().into(),
        "data/surveys/syldavia.csv".into(),
    ];
    args.extend(syldavia_alone(dir.path()));
    args.extend(["-o".to_string(), alone.to_str().unwrap().to_string()]);
    let o = afmpi(&args.iter().map(String::as_str).collect::<Vec<_>>());
    assert!(o.status.success(), "{}", text(&o));
    let rows = std::fs::read_to_string(&all).unwrap();
    let ours: Vec<&str> = rows
        .lines()
        .filter_map(|l| l.strip_prefix("SYL-2022,SYL,2022.0,"))
        .collect();
    let alone = std::fs::read_to_string(&alone).unwrap();
    let theirs: Vec<&str> = alone.lines().skip(1).collect();
    assert!(ours.iter().any(|l| l.starts_with("difference,")));
    assert_eq!(ours, theirs);
}

#[test]
fn a_report_per_survey_and_an_index() {
    let dir = tempfile::tempdir().unwrap();
    let pages = dir.path().join("pages");
    let o = afmpi(&[
        "report",
        "data/global-mpi.toml",
        "--surveys",
        "data/surveys.toml",
        "-o",
        pages.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", text(&o));
    let index = std::fs::read_to_string(pages.join("index.html")).unwrap();
    for id in ["ATL-2019", "BOR-2021", "SYL-2022"] {
        assert!(
            index.contains(&format!("<a href=\"{id}.html\">{id}</a>")),
            "{id}"
        );
        let page = std::fs::read_to_string(pages.join(format!("{id}.html"))).unwrap();
        assert!(
            page.contains("Headline estimates") && page.contains("<svg"),
            "{id}"
        );
    }
    // The table's M0 is each run's national M0 at the headline.
    let all = dir.path().join("all.csv");
    let o = afmpi(&[
        "run",
        "data/global-mpi.toml",
        "--surveys",
        "data/surveys.toml",
        "-o",
        all.to_str().unwrap(),
    ]);
    assert!(o.status.success());
    let rows = std::fs::read_to_string(&all).unwrap();
    let m0 = rows
        .lines()
        .find(|l| l.starts_with("BOR-2021,BOR,2021.0,global-mpi,M0,,33.333333333333336,,nat,nat,"))
        .unwrap();
    let b: f64 = m0.split(',').nth(15).unwrap().parse().unwrap();
    assert!(index.contains(&format!("{b:.4}")), "{b}");
}
