//! Workbooks: `run -o results.xlsx` and `compare -o comparison.xlsx` write one sheet per
//! table, numbers as numbers equal to the CSV's, frozen header rows.

use std::io::Read;

use calamine::{open_workbook, Data, Reader, Xlsx};

mod common;

use common::EXAMPLE;

fn afmpi(args: &[&str]) {
    let o = common::afmpi(args);
    assert!(
        o.status.success(),
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
}

#[test]
fn a_run_workbook_holds_the_estimates_as_numbers() {
    let dir = tempfile::tempdir().unwrap();
    let (xlsx, csv) = (dir.path().join("r.xlsx"), dir.path().join("r.csv"));
    for out in [&xlsx, &csv] {
        afmpi(&[&["run"][..], &EXAMPLE, &["-o", out.to_str().unwrap()]].concat());
    }
    let mut book: Xlsx<_> = open_workbook(&xlsx).unwrap();
    assert_eq!(
        book.sheet_names(),
        [
            "national",
            "subgroups",
            "indicators",
            "changes",
            "methodology",
            "data"
        ]
    );

    // The national sheet: the CSV's national rows of M0, H and A, numbers as numbers.
    let text = std::fs::read_to_string(&csv).unwrap();
    let mut lines = text.lines();
    let header: Vec<&str> = lines.next().unwrap().split(',').collect();
    let at = |name: &str| header.iter().position(|h| *h == name).unwrap();
    let national: Vec<Vec<&str>> = lines
        .map(|l| l.split(',').collect::<Vec<_>>())
        .filter(|f| {
            f[at("loa")] == "nat" && f[at("indicator")].is_empty() && f[at("ctype")] == "lev"
        })
        .collect();
    let sheet = book.worksheet_range("national").unwrap();
    let rows: Vec<&[Data]> = sheet.rows().collect();
    let names: Vec<String> = rows[0].iter().map(|c| c.to_string()).collect();
    assert_eq!(names, afmpi::output::COLUMNS);
    assert_eq!(rows.len() - 1, national.len());
    let b = at("b");
    for (row, expected) in rows[1..].iter().zip(&national) {
        match &row[b] {
            Data::Float(x) => {
                let want: f64 = expected[b].parse().unwrap();
                assert!((x - want).abs() <= 1e-12 * want.abs(), "{x} vs {want}");
            }
            other => panic!("b is stored as {other:?}, not a number"),
        }
        assert_eq!(row[at("measure")].to_string(), expected[at("measure")]);
    }

    // The data sheet counts rows as numbers.
    let data = book.worksheet_range("data").unwrap();
    let read = data.rows().find(|r| r[0] == "rows read").unwrap();
    assert_eq!(read[1], Data::Float(12_000.0));

    // The methodology sheet: ten indicators with their weights as numbers.
    let m = book.worksheet_range("methodology").unwrap();
    let weights: Vec<f64> = m
        .rows()
        .skip(1)
        .take(10)
        .map(|r| match r[4] {
            Data::Float(w) => w,
            ref other => panic!("weight stored as {other:?}"),
        })
        .collect();
    assert!((weights.iter().sum::<f64>() - 1.0).abs() < 1e-12);

    // Header rows are frozen.
    let mut zip = zip::ZipArchive::new(std::fs::File::open(&xlsx).unwrap()).unwrap();
    let mut xml = String::new();
    zip.by_name("xl/worksheets/sheet1.xml")
        .unwrap()
        .read_to_string(&mut xml)
        .unwrap();
    assert!(
        xml.contains("ySplit=\"1\"") && xml.contains("state=\"frozen\""),
        "{xml:.400}"
    );
}

#[test]
fn a_comparison_workbook_has_a_sheet_per_part() {
    let dir = tempfile::tempdir().unwrap();
    let xlsx = dir.path().join("c.xlsx");
    afmpi(&[
        "compare",
        "data/methodologies/global-mpi-2018.toml",
        "data/methodologies/global-mpi-2010.toml",
        "data/example_raw.csv",
        "-o",
        xlsx.to_str().unwrap(),
    ]);
    let mut book: Xlsx<_> = open_workbook(&xlsx).unwrap();
    assert_eq!(
        book.sheet_names(),
        [
            "estimates",
            "overlap",
            "ranks",
            "differences",
            "concepts",
            "m global-mpi-2018",
            "m global-mpi-2010"
        ]
    );
    // The concepts sheet holds both methodologies' ten indicators and their facts.
    let concepts = book.worksheet_range("concepts").unwrap();
    let indicators = concepts.rows().filter(|r| r[0] == "indicator").count();
    assert_eq!(indicators, 20);
}
