//! No panic on any input: generators of damaged methodology files, random rules, malformed
//! CSV files and malformed tables of `afmpi sql`, run through the parser, the rule
//! translator, the reading and the finishing step. Each must end in a result or an error,
//! never a panic (proptest counts a panic as a failure and shrinks it). The number of
//! cases follows PROPTEST_CASES (proptest's default, 256, when unset; .ci/run uses it).

use std::path::{Path, PathBuf};

use afmpi::inference::Settings;
use afmpi::{analyse_file, analyse_table};
use proptest::prelude::*;

fn root() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// The shipped methodologies and the corpus's small one, as text.
fn seeds() -> Vec<String> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(root().join("data/methodologies"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .collect();
    files.sort();
    files.push(root().join("data/global-mpi.toml"));
    files.push(root().join("tests/bad/tiny.toml"));
    files
        .iter()
        .map(|f| std::fs::read_to_string(f).unwrap())
        .collect()
}

/// Lines a damaged methodology file may gain.
const INSERTS: [&str; 18] = [
    "weight = -1",
    "weight = \"1/0\"",
    "weight = 1e400",
    "weight = \"0.000000000000000000000000000000000001\"",
    "cutoffs = []",
    "cutoffs = [0, 101, \"1/0\"]",
    "[[dimension]]",
    "[[dimension.indicator]]",
    "deprived = \"((\"",
    "deprived = \"x = \"",
    "aggregate = \"mean >= \"",
    "aggregate = \"share > 2\"",
    "min_observed = 7",
    "[[group]]\nname = \"g\"\nrule = \"score >\"",
    "headline = \"nothing\"",
    "[survey]\nmissing = [1e999, \"\"]",
    "optional = true",
    "\u{0}\u{feff}é",
];

fn mutate(text: &str, kind: u8, at: usize, insert: usize) -> String {
    let lines: Vec<&str> = text.lines().collect();
    let i = at % lines.len().max(1);
    let mut out: Vec<String> = lines.iter().map(|l| l.to_string()).collect();
    match kind % 4 {
        0 => return text.chars().take(at % (text.chars().count() + 1)).collect(),
        1 => {
            if !out.is_empty() {
                out.remove(i);
            }
        }
        2 => out.insert(i, out.get(i).cloned().unwrap_or_default()),
        _ => out.insert(i, INSERTS[insert % INSERTS.len()].to_string()),
    }
    out.join("\n")
}

/// Tokens of the rules a user might write, and mistype.
const TOKENS: [&str; 34] = [
    "age", "x", "name", "1", "0", "0.5", "-3", "'a'", "=", "<>", "<", ">=", "AND", "OR", "NOT",
    "(", ")", "+", "-", "*", "/", "BETWEEN", "IN", "CASE", "WHEN", "THEN", "ELSE", "END", "IS",
    "NULL", ",", "LIKE", "'%'", "1e308",
];

/// A small survey file for the rules: numbers, text and missing values.
fn rule_survey(dir: &Path) -> PathBuf {
    let path = dir.join("rules.csv");
    let mut text = String::from("hh,age,x,name,d0\n");
    for i in 0..12 {
        let x = if i % 5 == 0 {
            String::new()
        } else {
            (i % 3).to_string()
        };
        text.push_str(&format!("{},{},{x},n{},{}\n", i / 3, 5 * i, i % 2, i % 2));
    }
    std::fs::write(&path, text).unwrap();
    path
}

fn rule_methodology(rule: &str, aggregate: Option<&str>) -> String {
    let mut s = String::from(
        "name = \"r\"\ncutoffs = [50]\n[survey]\nhousehold = \"hh\"\n[[dimension]]\nname = \"a\"\n[[dimension.indicator]]\ncolumn = \"d0\"\n[[dimension]]\nname = \"b\"\n[[dimension.indicator]]\nname = \"rule\"\n",
    );
    s.push_str(&format!("deprived = {}\n", toml_string(rule)));
    if let Some(a) = aggregate {
        s.push_str(&format!("aggregate = {}\n", toml_string(a)));
    }
    s
}

fn toml_string(s: &str) -> String {
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Fields a malformed CSV file may hold.
const FIELDS: [&str; 16] = [
    "0", "1", "", "NA", ".", "2", "-1", "1.5", "x", "\"a,b\"", "\"", "9e999", "1,5", "-0", " 1",
    "NaN",
];

/// A plausible value of a column (by its index in the header list below), so that most
/// generated rows are good and the damage is in a few fields.
fn good_value(column: usize, draw: u8) -> String {
    let d = draw as usize;
    match column {
        0 => ["1.5", "0.25", "2", "1e3"][d % 4].to_string(),
        1 => ["1", "2"][d % 2].to_string(),
        2 => ((d % 4) + 1).to_string(),
        3 => ["North", "NA", "Atlántico", "\"a;b\""][d % 4].to_string(),
        4..=6 => ["0", "1"][d % 2].to_string(),
        _ => "z".to_string(),
    }
}

/// A CSV file of the columns `columns` (indices into its header list): each field a good
/// value unless its draw says to damage it; a row one field short or long when its
/// `ragged` draw says so.
fn csv_file(
    columns: &[usize],
    rows: &[(Vec<(u8, u8)>, u8)],
    sep: usize,
    crlf: bool,
    bom: bool,
    latin: bool,
) -> Vec<u8> {
    const HEADER: [&str; 8] = ["w", "st", "psu", "region", "d0", "d1", "d2", "junk"];
    let sep = [",", ";", "\t", "|"][sep % 4];
    let eol = if crlf { "\r\n" } else { "\n" };
    let header: Vec<&str> = columns.iter().map(|&c| HEADER[c % HEADER.len()]).collect();
    let mut text = header.join(sep) + eol;
    for (cells, ragged) in rows {
        let mut fields: Vec<String> = columns
            .iter()
            .zip(cells.iter().cycle())
            .map(|(&c, &(damage, draw))| {
                if damage < 230 {
                    good_value(c, draw)
                } else {
                    FIELDS[draw as usize % FIELDS.len()].to_string()
                }
            })
            .collect();
        match ragged {
            0 => {
                fields.pop();
            }
            1 => fields.push("1".into()),
            _ => {}
        }
        text.push_str(&(fields.join(sep) + eol));
    }
    let mut bytes = Vec::new();
    if bom {
        bytes.extend_from_slice(&[0xEF, 0xBB, 0xBF]);
    }
    bytes.extend_from_slice(text.as_bytes());
    if latin && bytes.len() > 4 {
        let at = bytes.len() / 2;
        bytes.insert(at, 0xE9);
    }
    bytes
}

/// Settings that let a design with lonely PSUs through to the estimates.
fn lenient() -> Settings {
    Settings {
        lonely_psu: afmpi::inference::LonelyPsu::Remove,
        ..Default::default()
    }
}

proptest! {
    #[test]
    fn damaged_methodology_files_give_errors_not_panics(
        seed in 0usize..64, kinds in proptest::collection::vec((any::<u8>(), any::<usize>(), any::<usize>()), 1..4)
    ) {
        let seeds = seeds();
        let mut text = seeds[seed % seeds.len()].clone();
        for (kind, at, insert) in kinds {
            text = mutate(&text, kind, at, insert);
        }
        if let Ok(m) = afmpi::methodology::from_toml(&text) {
            let _ = afmpi::methodology::IntegerWeights::new(&m);
            let _ = afmpi::sql::query(&m, &m.survey, "survey");
        }
    }

    #[test]
    fn random_rules_give_errors_not_panics(
        tokens in proptest::collection::vec(0usize..TOKENS.len(), 1..9),
        aggregate in proptest::option::of(0usize..6),
    ) {
        let rule: Vec<&str> = tokens.iter().map(|&t| TOKENS[t]).collect();
        let aggregate = aggregate.map(|a| ["any", "all", "mean >= 1", "share > 0.5", "count", "mean"][a]);
        let text = rule_methodology(&rule.join(" "), aggregate);
        let dir = tempfile::tempdir().unwrap();
        let data = rule_survey(dir.path());
        if let Ok(m) = afmpi::methodology::from_toml(&text) {
            let _ = analyse_file(&m, &m.survey, &Settings::default(), &data);
            let _ = afmpi::sql::query(&m, &m.survey, "survey");
        }
    }

    #[test]
    fn malformed_csv_files_give_errors_not_panics(
        columns in Just((0usize..8).collect::<Vec<_>>()).prop_shuffle(),
        drop_column in proptest::option::weighted(0.1, 0usize..8),
        rows in proptest::collection::vec((proptest::collection::vec(any::<(u8, u8)>(), 8), 0u8..100), 0..24),
        sep in 0usize..4, crlf in any::<bool>(), bom in any::<bool>(), latin in proptest::bool::weighted(0.1),
        encoding in proptest::option::weighted(0.3, 0usize..2), delimiter in proptest::option::weighted(0.2, 0usize..4),
    ) {
        let dir = tempfile::tempdir().unwrap();
        let data = dir.path().join("data.csv");
        let columns: Vec<usize> = columns.into_iter().filter(|&c| Some(c) != drop_column).collect();
        std::fs::write(&data, csv_file(&columns, &rows, sep, crlf, bom, latin)).unwrap();
        let m = afmpi::methodology::from_file(&root().join("tests/bad/tiny.toml")).unwrap();
        let mut survey = m.survey.clone();
        survey.over = vec!["region".into()];
        survey.encoding = encoding.map(|e| ["utf-8", "latin1"][e].to_string());
        survey.delimiter = delimiter.map(|d| [",", ";", "tab", "|"][d].to_string());
        let _ = analyse_file(&m, &survey, &lenient(), &data);
        let _ = afmpi::describe::describe(&data, &[], &afmpi::read::FileSettings::default());
    }

    #[test]
    fn malformed_tables_give_errors_not_panics(
        rows in proptest::collection::vec(proptest::collection::vec((any::<u8>(), 0usize..11), 9), 0..12),
        drop_column in proptest::option::weighted(0.1, 0usize..9),
    ) {
        const VALUES: [&str; 11] = ["", "0", "1", "-1", "2", "1.5", "-3", "x", "1e308", "NaN", "4"];
        // Most values plausible: a stratum 1-2, a PSU 1-4, flags and indicators 0/1,
        // sums positive; the rest drawn from VALUES.
        let good = |c: usize, i: usize| -> String {
            match c {
                0 => (1 + i % 2).to_string(),
                1 => (1 + i % 4).to_string(),
                2 => "0".to_string(),
                3..=5 => (i % 2).to_string(),
                6 => "2.5".to_string(),
                7 => "3.25".to_string(),
                _ => "3".to_string(),
            }
        };
        let header = ["stratum", "psu", "w_missing", "d0", "d1", "d2", "weight", "weight_sq", "persons"];
        let keep: Vec<usize> = (0..9).filter(|&c| Some(c) != drop_column).collect();
        let mut text = keep.iter().map(|&c| header[c]).collect::<Vec<_>>().join(",") + "\n";
        for row in &rows {
            let fields: Vec<String> = keep
                .iter()
                .map(|&c| {
                    let (damage, i) = row[c];
                    if damage < 235 { good(c, i) } else { VALUES[i].to_string() }
                })
                .collect();
            text.push_str(&(fields.join(",") + "\n"));
        }
        let dir = tempfile::tempdir().unwrap();
        let table = dir.path().join("table.csv");
        std::fs::write(&table, text).unwrap();
        let m = afmpi::methodology::from_file(&root().join("tests/bad/tiny.toml")).unwrap();
        let _ = analyse_table(&m, &m.survey, &lenient(), &table);
    }
}

/// The generators reach every stage: some cases of each kind read, tally and finish.
#[test]
fn the_generators_reach_the_estimates() {
    let dir = tempfile::tempdir().unwrap();
    let data = dir.path().join("data.csv");
    let rows: Vec<(Vec<(u8, u8)>, u8)> = (0..8).map(|i| (vec![(0, i); 8], 50)).collect();
    std::fs::write(
        &data,
        csv_file(&[0, 1, 2, 3, 4, 5, 6, 7], &rows, 1, true, true, false),
    )
    .unwrap();
    let m = afmpi::methodology::from_file(&root().join("tests/bad/tiny.toml")).unwrap();
    let settings = Settings {
        lonely_psu: afmpi::inference::LonelyPsu::Remove,
        ..Default::default()
    };
    let a = analyse_file(&m, &m.survey, &settings, &data).unwrap();
    assert_eq!(a.report.rows_used, 8);
    let text = rule_methodology("x = 1", Some("any"));
    let m = afmpi::methodology::from_toml(&text).unwrap();
    let mut survey = m.survey.clone();
    survey.weight = None;
    let a = analyse_file(&m, &survey, &Settings::default(), &rule_survey(dir.path())).unwrap();
    assert!(a.report.rows_used > 0);
}
