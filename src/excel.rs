//! Excel: a run's (or a comparison's) results in, an .xlsx workbook out — one sheet per
//! table, numbers stored as numbers with display formats, header rows frozen and bold,
//! columns fitted. rust_xlsxwriter writes it; the workbook goes to a temporary file that
//! is renamed into place, as every output does.
//!
//! A run's sheets: national (H, A, M0 and the named groups' figures of the whole sample),
//! subgroups (the same per subgroup level), indicators (hd, hdk, actb, pctb), changes
//! (between rounds, when there are rounds), methodology (dimensions, indicators, weights,
//! cutoffs, source) and data (rows read, used, dropped and why). A comparison's: one sheet
//! per part of its frame (estimates, overlap, ranks, differences), then each methodology.

use std::path::Path;

use polars::prelude::*;
use rust_xlsxwriter::{Format, Workbook, Worksheet};

use crate::compare::Comparison;
use crate::error::{Error, Result};
use crate::methodology::{Methodology, Source};
use crate::{output, Analysis};
use afmpi_core::sample::DataReport;

/// Display formats by column: estimates with 4 decimals, cutoffs with 2, counts whole.
fn number_format(column: &str) -> &'static str {
    match column {
        "b" | "se" | "ll" | "ul" | "value" => "0.0000",
        "k" => "0.00",
        "weight" | "percent" => "0.00%",
        _ => "General",
    }
}

/// Writes a run's workbook.
pub fn write_run(a: &Analysis, path: &Path) -> Result<()> {
    let levels = output::levels_frame(a);
    let is_level_of = |national: bool| {
        let nat = col("loa").eq(lit("nat"));
        col("indicator")
            .is_null()
            .and(if national { nat } else { nat.not() })
    };
    let pick = |df: &DataFrame, keep: Expr| {
        df.clone()
            .lazy()
            .filter(keep)
            .collect()
            .map_err(|e| Error::input(path, format!("cannot make the workbook: {e}")))
    };
    let mut sheets = vec![
        ("national", pick(&levels, is_level_of(true))?),
        ("subgroups", pick(&levels, is_level_of(false))?),
        ("indicators", pick(&levels, col("indicator").is_not_null())?),
    ];
    let changes = output::changes_frame(a);
    if changes.height() > 0 {
        sheets.push(("changes", changes));
    }
    let mut workbook = Workbook::new();
    for (name, df) in &sheets {
        frame_sheet(workbook.add_worksheet(), name, df, path)?;
    }
    methodology_sheet(
        workbook.add_worksheet(),
        "methodology",
        &a.methodology,
        path,
    )?;
    data_sheet(workbook.add_worksheet(), "data", &a.report, path)?;
    save(&mut workbook, path)
}

/// Writes a comparison's workbook.
pub fn write_comparison(c: &Comparison, path: &Path) -> Result<()> {
    let frame = crate::compare::frame(c);
    let mut workbook = Workbook::new();
    for (table, sheet) in [
        ("estimate", "estimates"),
        ("overlap", "overlap"),
        ("rank", "ranks"),
        ("difference", "differences"),
    ] {
        let part = frame
            .clone()
            .lazy()
            .filter(col("table").eq(lit(table)))
            .collect()
            .map_err(|e| Error::input(path, format!("cannot make the workbook: {e}")))?;
        if part.height() > 0 {
            frame_sheet(workbook.add_worksheet(), sheet, &part, path)?;
        }
    }
    // The methodologies side by side, by concept (`afmpi diff`), before each one's own.
    let methodologies: Vec<_> = c.analyses.iter().map(|a| &a.methodology).collect();
    frame_sheet(
        workbook.add_worksheet(),
        "concepts",
        &crate::diff::frame(&methodologies),
        path,
    )?;
    for a in c.analyses {
        let name: String = format!("m {}", a.methodology.name)
            .chars()
            .take(31)
            .collect();
        methodology_sheet(workbook.add_worksheet(), &name, &a.methodology, path)?;
    }
    save(&mut workbook, path)
}

fn fail(path: &Path, e: impl std::fmt::Display) -> Error {
    Error::input(path, format!("cannot write the workbook: {e}"))
}

fn header(sheet: &mut Worksheet, names: &[&str], path: &Path) -> Result<()> {
    let bold = Format::new().set_bold();
    for (c, name) in names.iter().enumerate() {
        sheet
            .write_string_with_format(0, c as u16, *name, &bold)
            .map_err(|e| fail(path, e))?;
    }
    sheet.set_freeze_panes(1, 0).map_err(|e| fail(path, e))?;
    Ok(())
}

/// A frame as a sheet: text as text, numbers as numbers, missing values as blank cells.
fn frame_sheet(sheet: &mut Worksheet, name: &str, df: &DataFrame, path: &Path) -> Result<()> {
    sheet.set_name(name).map_err(|e| fail(path, e))?;
    let names: Vec<&str> = df.get_column_names().iter().map(|n| n.as_str()).collect();
    header(sheet, &names, path)?;
    for (c, column) in df.columns().iter().enumerate() {
        let s = column.as_materialized_series();
        let c = c as u16;
        if s.dtype().is_primitive_numeric() {
            let format = Format::new().set_num_format(number_format(s.name().as_str()));
            let values = s.cast(&DataType::Float64).map_err(|e| fail(path, e))?;
            for (r, v) in values.f64().expect("f64").iter().enumerate() {
                if let Some(v) = v.filter(|v| v.is_finite()) {
                    sheet
                        .write_number_with_format(r as u32 + 1, c, v, &format)
                        .map_err(|e| fail(path, e))?;
                }
            }
        } else {
            let values = s.cast(&DataType::String).map_err(|e| fail(path, e))?;
            for (r, v) in values.str().expect("text").iter().enumerate() {
                if let Some(v) = v {
                    sheet
                        .write_string(r as u32 + 1, c, v)
                        .map_err(|e| fail(path, e))?;
                }
            }
        }
    }
    sheet.autofit();
    Ok(())
}

/// The methodology as a table: one row per indicator, then the cutoffs and groups.
fn methodology_sheet(
    sheet: &mut Worksheet,
    name: &str,
    m: &Methodology,
    path: &Path,
) -> Result<()> {
    sheet.set_name(name).map_err(|e| fail(path, e))?;
    header(
        sheet,
        &[
            "dimension",
            "dimension weight",
            "indicator",
            "name",
            "weight",
            "weight (fraction)",
            "from",
        ],
        path,
    )?;
    let percent = Format::new().set_num_format("0.00%");
    let mut r = 1u32;
    for ind in &m.indicators {
        let d = &m.dimensions[ind.dimension];
        let from = match &ind.source {
            Source::Column(c) => format!("column {c}"),
            Source::Rule(rule) => format!("rule: {}", rule.deprived.text),
            Source::Achievement { column, cutoff } => {
                format!("achievement {column}, deprived below {cutoff}")
            }
        };
        let row: Result<()> = (|| {
            sheet.write_string(r, 0, &d.name)?;
            sheet.write_number_with_format(r, 1, d.weight.to_f64(), &percent)?;
            sheet.write_string(r, 2, &ind.id)?;
            sheet.write_string(r, 3, &ind.name)?;
            sheet.write_number_with_format(r, 4, ind.weight.to_f64(), &percent)?;
            sheet.write_string(r, 5, ind.weight.to_string())?;
            sheet.write_string(r, 6, from)?;
            Ok::<_, rust_xlsxwriter::XlsxError>(())
        })()
        .map_err(|e| fail(path, e));
        row?;
        r += 1;
    }
    r += 1;
    let bold = Format::new().set_bold();
    let lines: Vec<(String, String)> = [
        ("methodology".to_string(), m.name.clone()),
        ("title".to_string(), m.title.clone()),
        ("source".to_string(), m.source.clone()),
    ]
    .into_iter()
    .chain(m.cutoffs.iter().map(|c| {
        (
            "cutoff k".to_string(),
            format!("{} ({:.2}%)", c.value, c.percent()),
        )
    }))
    .chain(
        m.groups
            .iter()
            .map(|g| (format!("group {}", g.name), g.rule.text.clone())),
    )
    .collect();
    for (key, value) in lines {
        sheet
            .write_string_with_format(r, 0, key, &bold)
            .and_then(|s| s.write_string(r, 2, value))
            .map_err(|e| fail(path, e))?;
        r += 1;
    }
    sheet.autofit();
    Ok(())
}

/// What the run read, used and dropped, and why.
fn data_sheet(sheet: &mut Worksheet, name: &str, report: &DataReport, path: &Path) -> Result<()> {
    sheet.set_name(name).map_err(|e| fail(path, e))?;
    header(sheet, &["item", "rows", "note"], path)?;
    let count = Format::new().set_num_format("#,##0");
    let mut rows: Vec<(String, Option<usize>, String)> = vec![
        ("file".into(), None, report.file.display().to_string()),
        ("rows read".into(), Some(report.rows_read), String::new()),
        ("rows used".into(), Some(report.rows_used), String::new()),
        (
            "rows dropped".into(),
            Some(report.rows_dropped()),
            String::new(),
        ),
    ];
    for (column, k) in &report.missing {
        rows.push((
            format!("missing {column}"),
            Some(*k),
            "dropped (a row can miss several columns)".into(),
        ));
    }
    for (column, k) in &report.unassigned {
        rows.push((
            format!("no value of {column}"),
            Some(*k),
            "counted nationally, in none of its subgroups".into(),
        ));
    }
    for note in &report.notes {
        rows.push(("note".into(), None, note.clone()));
    }
    for (r, (item, k, note)) in rows.into_iter().enumerate() {
        let r = r as u32 + 1;
        sheet.write_string(r, 0, item).map_err(|e| fail(path, e))?;
        if let Some(k) = k {
            sheet
                .write_number_with_format(r, 1, k as f64, &count)
                .map_err(|e| fail(path, e))?;
        }
        if !note.is_empty() {
            sheet.write_string(r, 2, note).map_err(|e| fail(path, e))?;
        }
    }
    sheet.autofit();
    Ok(())
}

/// Saves through a temporary file renamed into place ([`output::write_atomically`]).
fn save(workbook: &mut Workbook, path: &Path) -> Result<()> {
    output::write_atomically(path, |file| {
        workbook.save_to_writer(file).map_err(|e| fail(path, e))
    })
}

/// Whether a path asks for a workbook.
pub fn is_workbook(path: &Path) -> bool {
    path.extension()
        .and_then(|e| e.to_str())
        .is_some_and(|e| e.eq_ignore_ascii_case("xlsx"))
}
