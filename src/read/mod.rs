//! Reading: a survey file and how to read it ([`FileSettings`]) in, a polars `DataFrame`
//! of just the columns the run needs out.
//!
//! The format is chosen by extension: CSV, Parquet, Stata `.dta`, SPSS `.sav`/`.zsav`
//! (and SAS, which the same reader handles). Only the requested columns are read. A CSV
//! file is first checked row by row and its dialect found ([`dialect`]). CSV type inference
//! is never trusted: the columns the run reads get their types from the request (numbers
//! as Float64, subgroup and design columns as text), so a column that changes type deep
//! inside the file cannot be misread. Missing codes apply by role ([`MissingCodes`]): to
//! numbers, not to a subgroup's text. Stata and SPSS value labels are applied to
//! subgroups and rounds (a region reads "Alibori", not 1) and never to numbers or design
//! codes (an indicator stays 0/1, two strata that share a label stay two). A column of a
//! type afmpi cannot read is an error here. Checking the values is the next stage's work
//! ([`crate::indicators`]).

use std::path::{Path, PathBuf};

use polars::prelude::*;
use polars_readstat_rs::{readstat_scan, ScanOptions};

use afmpi_core::methodology::{MissingCode, SurveyColumns};

use crate::error::{Error, Result};

pub mod dialect;

/// Files read whole whose columns take this much on disk or more fill memory enough that
/// transparent huge pages pay (the page faults of first touches are a third of such a
/// run's time): CSV, Stata and SPSS files hold their values about as large as they are read.
pub const MANY_BYTES: u64 = 24 * 1024 * 1024;

/// A Parquet file of this many rows or more counts as large: compressed, it is small on
/// disk (the survey shape's 2.8 million persons are 11 MB) and large once read.
pub const MANY_ROWS: usize = 250_000;

/// Whether a run on this file will hold enough of it in memory that huge pages pay:
/// [`MANY_BYTES`] on disk, or a Parquet file of [`MANY_ROWS`] rows (its footer says, without
/// reading the data). Measured in BENCHMARKS.md: below, they cost more than they save.
pub fn fills_memory(path: &Path) -> bool {
    let Ok(meta) = std::fs::metadata(path) else {
        return false;
    };
    if !meta.is_file() {
        return false;
    }
    if meta.len() >= MANY_BYTES {
        return true;
    }
    parquet_rows(path).is_some_and(|rows| rows >= MANY_ROWS)
}

/// The rows of a Parquet file, from its footer (`None` for another format, or a file
/// whose footer cannot be read: the reading proper says why).
pub fn parquet_rows(path: &Path) -> Option<usize> {
    if !matches!(Format::of(path), Ok(Format::Parquet)) {
        return None;
    }
    let file = std::fs::File::open(path).ok()?;
    ParquetReader::new(file).num_rows().ok()
}

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
    /// Read as text with value labels applied (subgroups, round): labels are for display.
    pub labelled: Vec<String>,
    /// Read as codes, never through value labels (strata, PSU, household id): two codes
    /// that share a label are two strata.
    pub codes: Vec<String>,
    /// Labelled columns whose every label must name one code (the round): two rounds
    /// that share a label are an error, not one round.
    pub one_label_per_code: Vec<String>,
    /// Read as they are, for rules: numbers stay numbers (codes, not labels), text stays
    /// text. In CSV files a column is a number when every value parses as one.
    pub raw: Vec<String>,
}

impl ColumnRequest {
    /// Every column asked for, once.
    pub fn all(&self) -> Vec<String> {
        let mut all = self.numeric.clone();
        for c in self.labelled.iter().chain(&self.codes).chain(&self.raw) {
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

/// Values that are missing wherever they appear in a numeric column: text tokens (`.`,
/// `NA`: matched as written in a CSV file) and numeric codes (`-99`, `998`: matched as
/// numbers in every format). An empty field is missing in every column; a text column
/// (subgroup, stratum, id) keeps `NA` as a value (Namibia's code).
#[derive(Clone, Debug, PartialEq)]
pub struct MissingCodes {
    pub text: Vec<String>,
    pub numbers: Vec<f64>,
}

impl Default for MissingCodes {
    fn default() -> Self {
        MissingCodes {
            text: vec![".".to_string(), "NA".to_string()],
            numbers: Vec::new(),
        }
    }
}

/// How the survey's files are read: the CSV dialect and the missing codes.
#[derive(Clone, Debug, Default)]
pub struct FileSettings {
    pub csv: dialect::CsvSettings,
    pub missing: MissingCodes,
}

impl FileSettings {
    /// The settings of `[survey]` (`delimiter`, `decimal_comma`, `encoding`, `missing`),
    /// command-line flags already applied.
    pub fn of(survey: &SurveyColumns) -> Result<FileSettings> {
        let missing = match &survey.missing {
            None => MissingCodes::default(),
            Some(codes) => {
                let mut m = MissingCodes {
                    text: Vec::new(),
                    numbers: Vec::new(),
                };
                for code in codes {
                    match code {
                        MissingCode::Number(x) => m.numbers.push(*x),
                        MissingCode::Text(t) => match t.trim().parse::<f64>() {
                            Ok(x) if !t.trim().is_empty() => m.numbers.push(x),
                            _ => m.text.push(t.clone()),
                        },
                    }
                }
                m
            }
        };
        Ok(FileSettings {
            csv: dialect::CsvSettings {
                delimiter: survey
                    .delimiter
                    .as_deref()
                    .map(dialect::parse_separator)
                    .transpose()?,
                decimal_comma: survey.decimal_comma,
                encoding: survey
                    .encoding
                    .as_deref()
                    .map(dialect::parse_encoding)
                    .transpose()?,
            },
            missing,
        })
    }
}

/// A survey file opened for reading: its format and, for CSV, its checked dialect.
#[derive(Debug)]
pub struct Input {
    /// The file as the user named it (every message names this one).
    pub path: PathBuf,
    pub format: Format,
    csv: Option<dialect::CsvFile>,
    missing: MissingCodes,
}

impl Input {
    /// Opens a survey file: its format from the extension; a CSV file checked row by row
    /// ([`dialect::open`]).
    pub fn open(path: &Path, settings: &FileSettings) -> Result<Input> {
        let format = Format::of(path)?;
        if !path.exists() {
            return Err(Error::input(path, "no such file: check the path"));
        }
        let csv = match format {
            Format::Csv => Some(dialect::open(path, &settings.csv, &settings.missing.text)?),
            _ => None,
        };
        Ok(Input {
            path: path.to_path_buf(),
            format,
            csv,
            missing: settings.missing.clone(),
        })
    }

    /// The CSV dialect, for CSV files.
    pub fn dialect(&self) -> Option<&dialect::Dialect> {
        self.csv.as_ref().map(|c| &c.dialect)
    }

    /// The check of a CSV file's rows (waiting for it if it runs beside the read);
    /// `None` for the other formats.
    pub fn rows_checked(&self) -> Result<Option<&dialect::RowCheck>> {
        self.csv.as_ref().map(|c| c.checked()).transpose()
    }

    /// How the file was read, in words, for the summary.
    pub fn describe(&self) -> Result<String> {
        Ok(match (&self.csv, self.rows_checked()?) {
            (Some(csv), Some(check)) => format!(
                "{}: CSV, {}",
                self.path.display(),
                csv.dialect.describe(check)
            ),
            _ => format!("{}: {:?}", self.path.display(), self.format),
        })
    }

    /// A CSV file as polars reads it: the header, the dialect, and `nulls` missing.
    pub(crate) fn csv_reader(&self, nulls: &[String]) -> Result<LazyCsvReader> {
        let Some(csv) = &self.csv else {
            return Err(Error::input(&self.path, "not a CSV file"));
        };
        let d = &csv.dialect;
        let reader = LazyCsvReader::new(pl_path(csv.readable())?)
            .with_has_header(true)
            .with_separator(d.separator)
            .with_decimal_comma(d.decimal_comma)
            .with_missing_is_null(true);
        Ok(if nulls.is_empty() {
            reader
        } else {
            reader.with_null_values(Some(NullValues::AllColumns(
                nulls.iter().map(|s| s.as_str().into()).collect(),
            )))
        })
    }

    /// The names of the file's columns, in file order.
    pub fn column_names(&self) -> Result<Vec<String>> {
        let path = &self.path;
        let schema = match self.format {
            Format::Csv => self
                .csv_reader(&[])?
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
}

/// The names of a file's columns, read with the default settings.
pub fn column_names(path: &Path) -> Result<Vec<String>> {
    Input::open(path, &FileSettings::default())?.column_names()
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

impl Input {
    /// Reads the requested columns of the file: numbers without value labels (numeric
    /// missing codes and Stata/SPSS user-missing values made missing, and counted in
    /// `notes`), subgroups and rounds with them, design codes without them.
    pub fn read(&self, request: &ColumnRequest, notes: &mut Vec<String>) -> Result<DataFrame> {
        let mut df = match self.format {
            Format::Csv => self.read_csv_columns(request)?,
            Format::Parquet => {
                let exprs: Vec<Expr> = request.all().iter().map(|c| col(c.as_str())).collect();
                LazyFrame::scan_parquet(pl_path(&self.path)?, ScanArgsParquet::default())
                    .and_then(|lf| lf.select(exprs).collect())
                    .map_err(|e| polars_err(&self.path, e))?
            }
            Format::Stata | Format::Spss | Format::Sas => self.read_stat(request, notes)?,
        };
        check_types(&self.path, &df)?;
        self.null_numeric_codes(&mut df, request, notes)?;
        Ok(df)
    }

    fn read_csv_columns(&self, request: &ColumnRequest) -> Result<DataFrame> {
        let path = &self.path;
        let exprs: Vec<Expr> = request.all().iter().map(|c| col(c.as_str())).collect();
        let tokens = &self.missing.text;
        // Numbers first as Float64 (fast, typed); if a value does not parse, read them
        // as text so that the indicator checks can name the value and its row.
        let typed = self
            .scan_csv(request, DataType::Float64, tokens)
            .and_then(|lf| lf.select(exprs.clone()).collect());
        // The rows' check ran beside the read: its error is the file's, before polars'.
        self.rows_checked()?;
        let mut df = match typed {
            Ok(df) => df,
            Err(_) => self
                .scan_csv(request, DataType::String, tokens)
                .and_then(|lf| lf.select(exprs).collect())
                .map_err(|e| polars_err(path, e))?,
        };
        // The missing tokens are for numbers: a text column that holds one (the row
        // check noted it) is read again without them (an empty field stays missing), so
        // that "NA" stays Namibia. Only then: most files have no such column.
        let text = self.text_columns_with_tokens(request)?;
        if !text.is_empty() {
            let again = self
                .scan_csv(request, DataType::Float64, &[])
                .and_then(|lf| {
                    lf.select(text.iter().map(|c| col(c.as_str())).collect::<Vec<_>>())
                        .collect()
                })
                .map_err(|e| polars_err(path, e))?;
            for c in again.columns() {
                df.replace(c.name(), c.clone())
                    .map_err(|e| polars_err(path, e))?;
            }
        }
        for name in &request.raw {
            if request.numeric.contains(name)
                || request.labelled.contains(name)
                || request.codes.contains(name)
            {
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

    /// Stata, SPSS and SAS: numbers and raw values without labels (codes), subgroups and
    /// rounds with them; user-missing values of numeric columns counted.
    fn read_stat(&self, request: &ColumnRequest, notes: &mut Vec<String>) -> Result<DataFrame> {
        let path = &self.path;
        let mut plain: Vec<String> = Vec::new();
        for c in request
            .numeric
            .iter()
            .chain(&request.raw)
            .chain(&request.codes)
        {
            if !plain.contains(c) {
                plain.push(c.clone());
            }
        }
        let labelled: Vec<String> = request
            .labelled
            .iter()
            .filter(|c| !plain.contains(c))
            .cloned()
            .collect();
        let scan = |labels: bool, cols: &[String]| -> PolarsResult<DataFrame> {
            let exprs: Vec<Expr> = cols.iter().map(|c| col(c.as_str())).collect();
            readstat_scan(path, Some(readstat_options(labels)), None)?
                .select(exprs)
                .collect()
        };
        let numeric: Vec<String> = plain
            .iter()
            .filter(|c| request.numeric.contains(c) || request.raw.contains(c))
            .cloned()
            .collect();
        let df = scan(false, &plain).map_err(|e| polars_err(path, e))?;
        count_user_missing(path, self.format, &numeric, notes)?;
        if labelled.is_empty() {
            return Ok(df);
        }
        let labelled = scan(true, &labelled).map_err(|e| polars_err(path, e))?;
        self.check_one_label_per_code(&labelled, request, &scan)?;
        if df.width() == 0 {
            return Ok(labelled);
        }
        let mut df = df;
        df.hstack_mut(labelled.columns())
            .map_err(|e| polars_err(path, e))?;
        Ok(df)
    }

    /// A round (or other column of `one_label_per_code`) read through its value labels:
    /// each label must stand for one code, else two rounds would become one.
    fn check_one_label_per_code(
        &self,
        labelled: &DataFrame,
        request: &ColumnRequest,
        scan: &dyn Fn(bool, &[String]) -> PolarsResult<DataFrame>,
    ) -> Result<()> {
        let path = &self.path;
        let names: Vec<String> = request
            .one_label_per_code
            .iter()
            .filter(|c| labelled.column(c).is_ok())
            .cloned()
            .collect();
        if names.is_empty() {
            return Ok(());
        }
        let codes = scan(false, &names).map_err(|e| polars_err(path, e))?;
        for name in &names {
            let text = |df: &DataFrame| -> Result<Vec<Option<String>>> {
                let s = df
                    .column(name)
                    .and_then(|c| c.cast(&DataType::String))
                    .map_err(|e| polars_err(path, e))?;
                Ok(s.str()
                    .map_err(|e| polars_err(path, e))?
                    .iter()
                    .map(|v| v.map(str::to_string))
                    .collect())
            };
            let mut code_of: std::collections::HashMap<String, String> = Default::default();
            for (label, code) in text(labelled)?.into_iter().zip(text(&codes)?) {
                let (Some(label), Some(code)) = (label, code) else {
                    continue;
                };
                match code_of.get(&label) {
                    Some(first) if *first != code => {
                        let show = |c: &str| c.strip_suffix(".0").unwrap_or(c).to_string();
                        let (first, code) = (show(first), show(&code));
                        return Err(Error::data(path, name, None, format!(
                            "codes {first} and {code} share the value label \"{label}\": rounds are told apart by their codes, so give them distinct labels in the file"
                        )));
                    }
                    Some(_) => {}
                    None => {
                        code_of.insert(label, code);
                    }
                }
            }
        }
        Ok(())
    }

    /// Numeric missing codes (99, 998…) made missing in the numeric and raw columns,
    /// counted per column in `notes`.
    fn null_numeric_codes(
        &self,
        df: &mut DataFrame,
        request: &ColumnRequest,
        notes: &mut Vec<String>,
    ) -> Result<()> {
        let codes = &self.missing.numbers;
        if codes.is_empty() {
            return Ok(());
        }
        let mut seen: Vec<&String> = Vec::new();
        for name in request.numeric.iter().chain(&request.raw) {
            if seen.contains(&name) {
                continue;
            }
            seen.push(name);
            let Ok(column) = df.column(name) else {
                continue;
            };
            let s = column.as_materialized_series();
            if !s.dtype().is_primitive_numeric() {
                continue;
            }
            let x = s
                .cast(&DataType::Float64)
                .map_err(|e| polars_err(&self.path, e))?;
            let x = x.f64().map_err(|e| polars_err(&self.path, e))?;
            let mut coded = 0usize;
            let cleaned: Float64Chunked = x
                .iter()
                .map(|v| match v {
                    Some(v) if codes.contains(&v) => {
                        coded += 1;
                        None
                    }
                    other => other,
                })
                .collect();
            if coded > 0 {
                notes.push(format!(
                    "column `{name}`: {} values are missing codes ({}) and were read as missing",
                    crate::output::count(coded),
                    codes
                        .iter()
                        .map(|c| c.to_string())
                        .collect::<Vec<_>>()
                        .join(", ")
                ));
                let cleaned = cleaned.with_name(name.as_str().into()).into_series();
                df.replace(name, cleaned.into())
                    .map_err(|e| polars_err(&self.path, e))?;
            }
        }
        Ok(())
    }

    /// A CSV file as a lazy frame with the request's types: numbers as `numeric`, the
    /// rest as text; `nulls` missing.
    fn scan_csv(
        &self,
        request: &ColumnRequest,
        numeric: DataType,
        nulls: &[String],
    ) -> PolarsResult<LazyFrame> {
        let mut schema = Schema::default();
        for c in request
            .labelled
            .iter()
            .chain(&request.codes)
            .chain(&request.raw)
        {
            schema.with_column(c.as_str().into(), DataType::String);
        }
        for c in &request.numeric {
            schema.with_column(c.as_str().into(), numeric.clone());
        }
        self.csv_reader(nulls)
            .map_err(|e| PolarsError::ComputeError(e.to_string().into()))?
            .with_dtype_overwrite(Some(Arc::new(schema)))
            .finish()
    }

    /// The requested columns of a CSV or Parquet file as a lazy frame, for reading in
    /// batches ([`crate::batches`]); `None` for the formats read whole. CSV numbers are
    /// read as Float64 and raw columns as text (a batch cannot know whether a later one
    /// holds text).
    ///
    /// When a text column of a CSV file holds a missing token, every column is read as
    /// text without the tokens, and [`Input::batch`] turns the numbers into numbers.
    pub fn scan(&self, request: &ColumnRequest) -> Result<Option<LazyFrame>> {
        let exprs: Vec<Expr> = request.all().iter().map(|c| col(c.as_str())).collect();
        let frame = match self.format {
            Format::Csv if self.text_holds_token(request)? => {
                self.scan_csv(request, DataType::String, &[])
            }
            Format::Csv => self.scan_csv(request, DataType::Float64, &self.missing.text),
            Format::Parquet => {
                LazyFrame::scan_parquet(pl_path(&self.path)?, ScanArgsParquet::default())
            }
            _ => return Ok(None),
        };
        frame
            .map(|f| Some(f.select(exprs)))
            .map_err(|e| polars_err(&self.path, e))
    }
}

impl Input {
    /// The text columns of the request (subgroups, rounds, design codes; not numbers nor
    /// rule inputs) in which the row check saw a missing token, once it is done.
    fn text_columns_with_tokens(&self, request: &ColumnRequest) -> Result<Vec<String>> {
        let Some(check) = self.rows_checked()? else {
            return Ok(Vec::new());
        };
        Ok(request
            .labelled
            .iter()
            .chain(&request.codes)
            .filter(|c| !request.numeric.contains(c) && !request.raw.contains(c))
            .filter(|c| check.columns_with_tokens.contains(c))
            .cloned()
            .collect())
    }

    /// Whether a text column of the request holds a missing token.
    fn text_holds_token(&self, request: &ColumnRequest) -> Result<bool> {
        Ok(!self.text_columns_with_tokens(request)?.is_empty())
    }

    /// A batch of [`Input::scan`] as the whole file would be read: its types checked;
    /// when the scan read
    /// every column as text, the numeric columns with their missing tokens made missing
    /// and turned into numbers (left as text when a value is not a number, so that the
    /// checks name it).
    pub fn batch(&self, mut df: DataFrame, request: &ColumnRequest) -> Result<DataFrame> {
        check_types(&self.path, &df)?;
        if self.format != Format::Csv || !self.text_holds_token(request)? {
            return Ok(df);
        }
        let fail = |e: PolarsError| polars_err(&self.path, e);
        for name in &request.numeric {
            let Ok(column) = df.column(name) else {
                continue;
            };
            let s = column.as_materialized_series();
            let Ok(text) = s.str() else { continue };
            let cleaned: StringChunked = text
                .iter()
                .map(|v| v.filter(|v| !self.missing.text.iter().any(|t| t == v)))
                .collect();
            let cleaned = cleaned.with_name(name.as_str().into()).into_series();
            let cleaned = as_numbers(&cleaned).unwrap_or(cleaned);
            df.replace(name, cleaned.into()).map_err(fail)?;
        }
        Ok(df)
    }
}

/// The suffix of the columns polars-readstat-rs adds with the user-missing code of a value.
const USER_MISSING_SUFFIX: &str = "_null";

/// Counts the user-missing values (Stata's .a to .z, SPSS's declared missing values) of
/// the numeric columns into `notes`: polars-readstat-rs reads them as missing and, asked
/// to, tells each one's code in a column `<name>_null`. That needs the eager readers (the
/// lazy scan cannot project those columns), so the numeric columns are read once more
/// for the count; the values used come from the scan.
fn count_user_missing(
    path: &Path,
    format: Format,
    numeric: &[String],
    notes: &mut Vec<String>,
) -> Result<()> {
    use polars_readstat_rs::{
        InformativeNullColumns, InformativeNullOpts, SpssReader, StataReader,
    };
    if numeric.is_empty() {
        return Ok(());
    }
    let options = || {
        Some(InformativeNullOpts::new(InformativeNullColumns::Selected(
            numeric.to_vec(),
        )))
    };
    fn fail<E: std::fmt::Display>(path: &Path) -> impl Fn(E) -> Error + '_ {
        move |e| {
            Error::input(
                path,
                format!("cannot read the file's missing-value codes: {e}"),
            )
        }
    }
    // The two readers are different types with the same builder.
    macro_rules! with_codes {
        ($reader:ident) => {
            $reader::open(path)
                .map_err(fail(path))?
                .read()
                .with_columns(numeric.to_vec())
                .value_labels_as_strings(false)
                .informative_nulls(options())
                .finish()
                .map_err(fail(path))?
        };
    }
    let df = match format {
        Format::Stata => with_codes!(StataReader),
        Format::Spss => with_codes!(SpssReader),
        _ => return Ok(()),
    };
    for name in numeric {
        let Ok(column) = df.column(&format!("{name}{USER_MISSING_SUFFIX}")) else {
            continue;
        };
        let s = column.as_materialized_series();
        let n = s.len() - s.null_count();
        if n == 0 {
            continue;
        }
        let mut kinds: Vec<(String, usize)> = Vec::new();
        if let Ok(text) = s.cast(&DataType::String) {
            if let Ok(text) = text.str() {
                for v in text.iter().flatten() {
                    match kinds.iter_mut().find(|(k, _)| k == v) {
                        Some((_, c)) => *c += 1,
                        None => kinds.push((v.to_string(), 1)),
                    }
                }
            }
        }
        kinds.sort();
        notes.push(format!(
            "column `{name}`: {} user-missing values (the file's own missing codes: {}), read as missing",
            crate::output::count(n),
            kinds
                .iter()
                .map(|(k, c)| format!("{k}: {}", crate::output::count(*c)))
                .collect::<Vec<_>>()
                .join(", ")
        ));
    }
    Ok(())
}

/// The types afmpi can read a column as: numbers, booleans and text.
fn check_types(path: &Path, df: &DataFrame) -> Result<()> {
    for c in df.columns() {
        let t = c.dtype();
        let readable = t.is_primitive_numeric()
            || matches!(t, DataType::Boolean | DataType::String | DataType::Null)
            || matches!(t, DataType::Categorical(..) | DataType::Enum(..));
        if !readable {
            return Err(Error::data(
                path,
                c.name().as_str(),
                None,
                format!(
                    "its type {t} cannot be read as a number or a code: afmpi reads numbers, booleans and text; convert the column (a date to its year, say) or leave it out of the methodology"
                ),
            ));
        }
    }
    Ok(())
}

/// A text column as numbers, when every value that is there parses as one.
fn as_numbers(s: &Series) -> Option<Series> {
    if s.dtype() != &DataType::String {
        return None;
    }
    let numbers = s.cast(&DataType::Float64).ok()?;
    (numbers.null_count() == s.null_count()).then_some(numbers)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A Parquet file counts by its rows (small on disk, large once read), any other by
    /// its size; a path that is not a file never counts.
    #[test]
    fn a_file_fills_memory_by_its_parquet_rows_or_its_size() {
        let dir = tempfile::tempdir().unwrap();
        let write = |name: &str, rows: usize| {
            let path = dir.path().join(name);
            let mut df = df!("x" => vec![1i32; rows]).unwrap();
            ParquetWriter::new(std::fs::File::create(&path).unwrap())
                .finish(&mut df)
                .unwrap();
            path
        };
        let many = write("many.parquet", MANY_ROWS);
        assert!(std::fs::metadata(&many).unwrap().len() < MANY_BYTES);
        assert!(fills_memory(&many));
        assert!(!fills_memory(&write("few.parquet", MANY_ROWS - 1)));
        let csv = dir.path().join("small.csv");
        std::fs::write(&csv, "x\n1\n").unwrap();
        assert!(!fills_memory(&csv));
        std::fs::File::create(dir.path().join("large.csv"))
            .unwrap()
            .set_len(MANY_BYTES)
            .unwrap();
        assert!(fills_memory(&dir.path().join("large.csv")));
        assert!(!fills_memory(dir.path()));
        assert!(!fills_memory(&dir.path().join("absent.parquet")));
    }
}
