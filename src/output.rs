//! Output: estimates in, the long results frame out — one estimate per row, with the
//! column names of Stata mpitb's results frames (`spec measure indicator k loa subg t
//! ctype b se ll ul`), so that code written for mpitb and mpitbR outputs keeps working —
//! written as CSV, Parquet or JSON, and a summary for the terminal.
//!
//! Files are written to a temporary file beside the target and renamed into place, so a
//! run that fails never leaves a half-written file behind.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use polars::prelude::*;

use crate::error::{Error, Result};
use crate::indicators::{DataReport, Sample};
use crate::measures::{Estimate, Measure};
use crate::methodology::Methodology;

/// The results frame's columns, in order.
pub const COLUMNS: [&str; 12] = [
    "spec",
    "measure",
    "indicator",
    "k",
    "loa",
    "subg",
    "t",
    "ctype",
    "b",
    "se",
    "ll",
    "ul",
];

/// Builds the long results frame of level estimates.
pub fn results_frame(m: &Methodology, sample: &Sample, estimates: &[Estimate]) -> DataFrame {
    let mut order: Vec<&Estimate> = estimates.iter().collect();
    order.sort_by_key(|e| (e.measure, e.indicator, e.cutoff, e.domain));
    let n = order.len();
    let mut measure = Vec::with_capacity(n);
    let mut indicator = Vec::with_capacity(n);
    let mut k = Vec::with_capacity(n);
    let mut loa = Vec::with_capacity(n);
    let mut subg = Vec::with_capacity(n);
    let mut t = Vec::with_capacity(n);
    let mut b = Vec::with_capacity(n);
    for e in order {
        measure.push(e.measure.name());
        indicator.push(e.indicator.map(|j| m.indicators[j].column.as_str()));
        k.push(e.cutoff.map(|c| m.cutoffs[c].percent()));
        match e.domain.subgroup {
            None => {
                loa.push("nat");
                subg.push("nat");
            }
            Some((g, level)) => {
                let grouping = &sample.groupings[g];
                loa.push(grouping.column.as_str());
                subg.push(grouping.levels[level as usize].as_str());
            }
        }
        t.push(
            sample
                .has_rounds
                .then(|| sample.round_info[e.domain.round as usize].label.as_str()),
        );
        b.push(Some(e.b).filter(|x| x.is_finite()));
    }
    let empty = || Column::full_null("".into(), n, &DataType::Float64);
    let columns = vec![
        Column::new("spec".into(), vec![m.name.as_str(); n]),
        Column::new("measure".into(), measure),
        Column::new("indicator".into(), indicator),
        Column::new("k".into(), k),
        Column::new("loa".into(), loa),
        Column::new("subg".into(), subg),
        Column::new("t".into(), t),
        Column::new("ctype".into(), vec!["lev"; n]),
        Column::new("b".into(), b),
        empty().with_name("se".into()),
        empty().with_name("ll".into()),
        empty().with_name("ul".into()),
    ];
    DataFrame::new(n, columns).expect("columns of equal length")
}

/// Writes a frame to `path`, format by extension (.csv, .parquet, .json), through a
/// temporary file renamed into place. `-` writes CSV to standard output.
pub fn write_frame(frame: &mut DataFrame, path: &Path) -> Result<()> {
    if path.as_os_str() == "-" {
        let stdout = std::io::stdout();
        let mut lock = stdout.lock();
        CsvWriter::new(&mut lock)
            .finish(frame)
            .map_err(|e| Error::input(path, e.to_string()))?;
        return lock.flush().map_err(|e| Error::input(path, e.to_string()));
    }
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    if !matches!(ext.as_str(), "csv" | "parquet" | "json") {
        return Err(Error::input(path, format!(
            "cannot tell the output format from the extension \"{ext}\": use .csv, .parquet or .json")));
    }
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        return Err(Error::input(
            path,
            format!(
                "the folder {} does not exist: create it first",
                dir.display()
            ),
        ));
    }
    let fail =
        |e: &dyn std::fmt::Display| Error::input(path, format!("cannot write the results: {e}"));
    let mut tmp = tempfile::Builder::new()
        .prefix(".afmpi-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| fail(&e))?;
    {
        let file = tmp.as_file_mut();
        match ext.as_str() {
            "csv" => CsvWriter::new(&mut *file)
                .finish(frame)
                .map_err(|e| fail(&e))?,
            "parquet" => {
                ParquetWriter::new(&mut *file)
                    .finish(frame)
                    .map_err(|e| fail(&e))?;
            }
            _ => JsonWriter::new(&mut *file)
                .with_json_format(JsonFormat::Json)
                .finish(frame)
                .map_err(|e| fail(&e))?,
        }
        file.sync_all().map_err(|e| fail(&e))?;
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o644));
    }
    tmp.persist(path).map_err(|e| fail(&e.error))?;
    Ok(())
}

/// Thousands separators for counts read by people.
pub fn count(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The data part of the terminal summary: rows read, used, dropped and why.
pub fn data_summary(report: &DataReport) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "rows: {} read, {} used, {} dropped",
        count(report.rows_read),
        count(report.rows_used),
        count(report.rows_dropped())
    );
    if !report.missing.is_empty() {
        let parts: Vec<String> = report
            .missing
            .iter()
            .map(|(c, k)| format!("{c} {}", count(*k)))
            .collect();
        let _ = writeln!(
            s,
            "  dropped for a missing value in: {} (a row can miss several)",
            parts.join(", ")
        );
    }
    for note in &report.notes {
        let _ = writeln!(s, "  note: {note}");
    }
    s
}

/// National H, A and M0 per cutoff and round, as a table for the terminal.
pub fn national_summary(m: &Methodology, sample: &Sample, estimates: &[Estimate]) -> String {
    let mut s = String::new();
    let show_t = sample.has_rounds;
    let _ = writeln!(s, "national estimates");
    let _ = writeln!(
        s,
        "  {}{:>8}  {:>8}  {:>8}  {:>8}",
        if show_t {
            format!("{:<10}", "round")
        } else {
            String::new()
        },
        "k (%)",
        "H",
        "A",
        "M0"
    );
    for (r, round) in sample.round_info.iter().enumerate() {
        for (c, cutoff) in m.cutoffs.iter().enumerate() {
            let get = |measure: Measure| {
                estimates
                    .iter()
                    .find(|e| {
                        e.measure == measure
                            && e.cutoff == Some(c)
                            && e.domain.subgroup.is_none()
                            && e.domain.round == r as u32
                    })
                    .map(|e| {
                        if e.b.is_finite() {
                            format!("{:.5}", e.b)
                        } else {
                            "-".into()
                        }
                    })
                    .unwrap_or_else(|| "-".into())
            };
            let label = match round.year {
                Some(y) if show_t => {
                    format!("{} ({})", round.label, crate::indicators::number_label(y))
                }
                _ => round.label.clone(),
            };
            let _ = writeln!(
                s,
                "  {}{:>8}  {:>8}  {:>8}  {:>8}",
                if show_t {
                    format!("{:<10}", label)
                } else {
                    String::new()
                },
                format_k(cutoff.percent()),
                get(Measure::H),
                get(Measure::A),
                get(Measure::M0)
            );
        }
    }
    s
}

fn format_k(k: f64) -> String {
    let rounded = (k * 100.0).round() / 100.0;
    if rounded == k {
        format!("{k}")
    } else {
        format!("{k:.2}")
    }
}
