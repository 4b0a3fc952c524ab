//! Reading: a survey file in, a polars `DataFrame` of just the columns the run needs out.
//!
//! The format is chosen by extension: CSV, Parquet, Stata `.dta`, SPSS `.sav`/`.zsav`
//! (and SAS, which the same reader handles). Only the requested columns are read.
//! CSV type inference is never trusted: the columns the run reads get their types from
//! the request (numbers as Float64, subgroup and design columns as text), so a column that
//! changes type deep inside the file cannot be misread. Stata and SPSS value labels are
//! applied to the label columns (a region reads "Alibori", not 1) and never to the numeric
//! ones (an indicator stays 0/1 even when its values carry labels). Checking the values is
//! the next stage's work ([`crate::indicators`]).

use std::path::Path;

use polars::prelude::*;
use polars_readstat_rs::{readstat_scan, ScanOptions};

use crate::error::{Error, Result};

/// The file formats afmpi reads.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Format {
    Csv,
    Parquet,
    Stata,
    Spss,
    Sas,
}

impl Format {
    pub fn of(path: &Path) -> Result<Format> {
        let ext = path
            .extension()
            .and_then(|e| e.to_str())
            .unwrap_or("")
            .to_ascii_lowercase();
        Ok(match ext.as_str() {
            "csv" => Format::Csv,
            "parquet" | "pq" => Format::Parquet,
            "dta" => Format::Stata,
            "sav" | "zsav" => Format::Spss,
            "sas7bdat" | "xpt" => Format::Sas,
            _ => {
                return Err(Error::input(path, format!(
                    "cannot tell the format from the extension \"{ext}\": afmpi reads .csv, .parquet, .dta (Stata), .sav/.zsav (SPSS) and .sas7bdat/.xpt (SAS); rename the file or convert it")))
            }
        })
    }
}

/// The columns a run reads, by the type they are read as.
#[derive(Clone, Debug, Default)]
pub struct ColumnRequest {
    /// Read as numbers (indicators, weight, year): no value labels applied.
    pub numeric: Vec<String>,
    /// Read as text with value labels applied (subgroups, round, strata, PSU).
    pub labelled: Vec<String>,
    /// Read as they are, for rules: numbers stay numbers (codes, not labels), text stays
    /// text. In CSV files a column is a number when every value parses as one.
    pub raw: Vec<String>,
}

impl ColumnRequest {
    /// Every column asked for, once.
    pub fn all(&self) -> Vec<String> {
        let mut all = self.numeric.clone();
        for c in self.labelled.iter().chain(&self.raw) {
            if !all.contains(c) {
                all.push(c.clone());
            }
        }
        all
    }
}

fn polars_err(path: &Path, e: PolarsError) -> Error {
    Error::input(path, format!("cannot read the file: {e}"))
}

fn pl_path(path: &Path) -> Result<PlRefPath> {
    PlRefPath::try_from_path(path).map_err(|e| polars_err(path, e))
}

pub(crate) fn readstat_options(labels: bool) -> ScanOptions {
    ScanOptions {
        value_labels_as_strings: Some(labels),
        preserve_order: Some(true),
        ..ScanOptions::default()
    }
}

/// What a CSV file leaves missing: the empty field, `NA` and `.`.
const CSV_NULLS: [&str; 3] = ["", "NA", "."];

/// A CSV file as afmpi reads it: a header row, and [`CSV_NULLS`] missing in every column.
pub(crate) fn csv_reader(path: &Path) -> Result<LazyCsvReader> {
    Ok(LazyCsvReader::new(pl_path(path)?)
        .with_has_header(true)
        .with_null_values(Some(NullValues::AllColumns(
            CSV_NULLS.iter().map(|s| (*s).into()).collect(),
        ))))
}

/// The names of the file's columns, in file order.
pub fn column_names(path: &Path) -> Result<Vec<String>> {
    let format = Format::of(path)?;
    if !path.exists() {
        return Err(Error::input(path, "no such file: check the path"));
    }
    let schema = match format {
        Format::Csv => csv_reader(path)?
            .finish()
            .and_then(|mut lf| lf.collect_schema()),
        Format::Parquet => LazyFrame::scan_parquet(pl_path(path)?, ScanArgsParquet::default())
            .and_then(|mut lf| lf.collect_schema()),
        Format::Stata | Format::Spss | Format::Sas => {
            readstat_scan(path, Some(readstat_options(false)), None)
                .and_then(|mut lf| lf.collect_schema())
        }
    }
    .map_err(|e| polars_err(path, e))?;
    Ok(schema.iter_names().map(|n| n.to_string()).collect())
}

/// Checks that every needed column exists; the error lists the file's columns, closest
/// names first. `needed` pairs each column with the key or flag that asked for it.
pub fn check_columns(path: &Path, available: &[String], needed: &[(String, String)]) -> Result<()> {
    for (key, column) in needed {
        if !available.iter().any(|a| a == column) {
            return Err(Error::data(
                path,
                column,
                None,
                format!(
                    "not in the file (asked for by `{key}`). Columns, closest first: {}",
                    closest_first(column, available)
                ),
            ));
        }
    }
    Ok(())
}

/// The available names, most similar to `name` first (at most 30 shown).
pub fn closest_first(name: &str, available: &[String]) -> String {
    let lower = name.to_lowercase();
    let mut ranked: Vec<(f64, &String)> = available
        .iter()
        .map(|a| (strsim::jaro_winkler(&lower, &a.to_lowercase()), a))
        .collect();
    ranked.sort_by(|a, b| b.0.total_cmp(&a.0));
    let shown: Vec<&str> = ranked.iter().take(30).map(|(_, a)| a.as_str()).collect();
    let more = ranked.len().saturating_sub(30);
    if more > 0 {
        format!("{} … and {more} more", shown.join(", "))
    } else {
        shown.join(", ")
    }
}

/// Reads the requested columns of the file.
pub fn read(path: &Path, request: &ColumnRequest) -> Result<DataFrame> {
    let all = request.all();
    let exprs: Vec<Expr> = all.iter().map(|c| col(c.as_str())).collect();
    match Format::of(path)? {
        Format::Csv => {
            // Numbers first as Float64 (fast, typed); if a value does not parse, read them
            // as text so that the indicator checks can name the value and its row.
            let typed = read_csv(path, request, &exprs, DataType::Float64);
            let mut df = match typed {
                Ok(df) => df,
                Err(_) => read_csv(path, request, &exprs, DataType::String)
                    .map_err(|e| polars_err(path, e))?,
            };
            for name in &request.raw {
                if request.numeric.contains(name) || request.labelled.contains(name) {
                    continue;
                }
                let column = df
                    .column(name)
                    .map_err(|e| polars_err(path, e))?
                    .as_materialized_series()
                    .clone();
                if let Some(numbers) = as_numbers(&column) {
                    df.replace(name, numbers.into())
                        .map_err(|e| polars_err(path, e))?;
                }
            }
            Ok(df)
        }
        Format::Parquet => LazyFrame::scan_parquet(pl_path(path)?, ScanArgsParquet::default())
            .and_then(|lf| lf.select(exprs).collect())
            .map_err(|e| polars_err(path, e)),
        Format::Stata | Format::Spss | Format::Sas => {
            let scan = |labels: bool, cols: &[String]| -> PolarsResult<DataFrame> {
                let exprs: Vec<Expr> = cols.iter().map(|c| col(c.as_str())).collect();
                readstat_scan(path, Some(readstat_options(labels)), None)?
                    .select(exprs)
                    .collect()
            };
            // Numbers and raw values without labels (codes), subgroups with them.
            let mut plain: Vec<String> = request.numeric.clone();
            for c in &request.raw {
                if !plain.contains(c) && !request.labelled.contains(c) {
                    plain.push(c.clone());
                }
            }
            let labelled: Vec<String> = request
                .labelled
                .iter()
                .filter(|c| !plain.contains(c))
                .cloned()
                .collect();
            let mut df = scan(false, &plain).map_err(|e| polars_err(path, e))?;
            if labelled.is_empty() {
                return Ok(df);
            }
            let labelled = scan(true, &labelled).map_err(|e| polars_err(path, e))?;
            if df.width() == 0 {
                return Ok(labelled);
            }
            df.hstack_mut(labelled.columns())
                .map_err(|e| polars_err(path, e))?;
            Ok(df)
        }
    }
}

/// A text column as numbers, when every value that is there parses as one.
fn as_numbers(s: &Series) -> Option<Series> {
    if s.dtype() != &DataType::String {
        return None;
    }
    let numbers = s.cast(&DataType::Float64).ok()?;
    (numbers.null_count() == s.null_count()).then_some(numbers)
}

fn read_csv(
    path: &Path,
    request: &ColumnRequest,
    exprs: &[Expr],
    numeric: DataType,
) -> PolarsResult<DataFrame> {
    scan_csv(path, request, numeric)?.select(exprs).collect()
}

/// A CSV file as a lazy frame with the request's types: numbers as `numeric`, the rest as
/// text.
fn scan_csv(path: &Path, request: &ColumnRequest, numeric: DataType) -> PolarsResult<LazyFrame> {
    let mut schema = Schema::default();
    for c in request.labelled.iter().chain(&request.raw) {
        schema.with_column(c.as_str().into(), DataType::String);
    }
    for c in &request.numeric {
        schema.with_column(c.as_str().into(), numeric.clone());
    }
    csv_reader(path)
        .map_err(|e| PolarsError::ComputeError(e.to_string().into()))?
        .with_dtype_overwrite(Some(Arc::new(schema)))
        .finish()
}

/// The requested columns of a CSV or Parquet file as a lazy frame, for reading in batches
/// ([`crate::batches`]); `None` for the formats read whole. CSV numbers are read as
/// Float64 and raw columns as text (a batch cannot know whether a later one holds text).
pub fn scan(path: &Path, request: &ColumnRequest) -> Result<Option<LazyFrame>> {
    let exprs: Vec<Expr> = request.all().iter().map(|c| col(c.as_str())).collect();
    let frame = match Format::of(path)? {
        Format::Csv => scan_csv(path, request, DataType::Float64),
        Format::Parquet => LazyFrame::scan_parquet(pl_path(path)?, ScanArgsParquet::default()),
        _ => return Ok(None),
    };
    frame
        .map(|f| Some(f.select(exprs)))
        .map_err(|e| polars_err(path, e))
}
