//! Describe: a survey file in, what a user needs to write a methodology's rules out — per
//! column its type, missing values, distinct values, the most common values, and for
//! Stata and SPSS files the variable label and value labels.
//!
//! A CSV file's dialect (separator, decimal mark, encoding) is found and said first. The
//! file is read whole with polars (CSV types inferred from every row, not the first
//! hundred: survey files change type deep inside); the counts are polars group-bys; the
//! labels come from the file's metadata through polars-readstat-rs. Values are shown as
//! the file stores them (codes, not labels), since rules compare codes.

use std::collections::BTreeMap;
use std::path::Path;

use polars::prelude::*;

use crate::error::{Error, Result};
use crate::read::{FileSettings, Format, Input};

/// One column's description.
#[derive(Clone, Debug)]
pub struct ColumnSummary {
    pub name: String,
    pub dtype: String,
    pub missing: usize,
    pub distinct: usize,
    /// The most common values with their counts, most common first: every value of a
    /// column with at most [`ALL_LEVELS`].
    pub common: Vec<(String, usize)>,
    /// The variable label (Stata, SPSS).
    pub label: Option<String>,
    /// Value labels, code to label (Stata, SPSS).
    pub value_labels: Vec<(String, String)>,
}

/// A file's description.
#[derive(Clone, Debug)]
pub struct Description {
    pub rows: usize,
    pub columns: Vec<ColumnSummary>,
    /// How a CSV file is written (separator, decimal mark, encoding), in words.
    pub dialect: Option<String>,
}

/// Values shown per column: every level of a column with at most [`ALL_LEVELS`]
/// distinct values, else the [`COMMON`] most common.
const COMMON: usize = 6;
pub const ALL_LEVELS: usize = 20;

/// Describes the file's columns (all of them, or those named in `only`).
pub fn describe(path: &Path, only: &[String], settings: &FileSettings) -> Result<Description> {
    let input = Input::open(path, settings)?;
    let format = input.format;
    let fail = |e: PolarsError| Error::input(path, format!("cannot read the file: {e}"));
    let pl_path = PlRefPath::try_from_path(path).map_err(fail)?;
    let frame = match format {
        Format::Csv => input
            .csv_reader(&settings.missing.text)?
            .with_infer_schema_length(None)
            .finish(),
        Format::Parquet => LazyFrame::scan_parquet(pl_path, ScanArgsParquet::default()),
        _ => polars_readstat_rs::readstat_scan(
            path,
            Some(crate::read::readstat_options(false)),
            None,
        ),
    }
    .map_err(fail)?;
    let mut frame = frame;
    let names: Vec<String> = frame
        .collect_schema()
        .map_err(fail)?
        .iter_names()
        .map(|n| n.to_string())
        .collect();
    for name in only {
        if !names.contains(name) {
            return Err(Error::data(
                path,
                name,
                None,
                format!(
                    "not in the file. Columns, closest first: {}",
                    crate::read::closest_first(name, &names)
                ),
            ));
        }
    }
    let chosen: Vec<&String> = if only.is_empty() {
        names.iter().collect()
    } else {
        only.iter().collect()
    };
    let collected = frame
        .select(chosen.iter().map(|c| col(c.as_str())).collect::<Vec<_>>())
        .collect();
    // The rows' check ran beside the read: its error is the file's, before polars'.
    input.rows_checked()?;
    let mut df = collected.map_err(fail)?;
    keep_tokens_in_text(&input, &mut df).map_err(fail)?;
    let labels = match format {
        Format::Stata | Format::Spss | Format::Sas => metadata_labels(path),
        _ => BTreeMap::new(),
    };
    let columns = chosen
        .into_iter()
        .map(|name| {
            let (label, value_labels) = labels.get(name.as_str()).cloned().unwrap_or_default();
            summarize(&df, name, label, value_labels).map_err(fail)
        })
        .collect::<Result<_>>()?;
    Ok(Description {
        rows: df.height(),
        columns,
        dialect: match (input.dialect(), input.rows_checked()?) {
            (Some(d), Some(check)) => Some(d.describe(check)),
            _ => None,
        },
    })
}

/// Missing tokens are for numbers: a text column of a CSV file that holds one (`NA` for
/// Namibia) is read again without them, as a run reads it.
fn keep_tokens_in_text(input: &Input, df: &mut DataFrame) -> PolarsResult<()> {
    let Ok(Some(check)) = input.rows_checked() else {
        return Ok(());
    };
    let text: Vec<String> = df
        .columns()
        .iter()
        .filter(|c| c.dtype() == &DataType::String)
        .map(|c| c.name().to_string())
        .filter(|c| check.columns_with_tokens.contains(c))
        .collect();
    if text.is_empty() {
        return Ok(());
    }
    let reader = input
        .csv_reader(&[])
        .map_err(|e| PolarsError::ComputeError(e.to_string().into()))?;
    let mut schema = Schema::default();
    for c in &text {
        schema.with_column(c.as_str().into(), DataType::String);
    }
    let again = reader
        .with_infer_schema_length(Some(0))
        .with_dtype_overwrite(Some(Arc::new(schema)))
        .finish()?
        .select(text.iter().map(|c| col(c.as_str())).collect::<Vec<_>>())
        .collect()?;
    for c in again.columns() {
        df.replace(c.name(), c.clone())?;
    }
    Ok(())
}

/// One column's type, missing and distinct values, and most common values.
fn summarize(
    df: &DataFrame,
    name: &str,
    label: Option<String>,
    value_labels: Vec<(String, String)>,
) -> PolarsResult<ColumnSummary> {
    let s = df.column(name)?.as_materialized_series();
    let counts = df
        .clone()
        .lazy()
        .select([col(name)])
        .drop_nulls(None)
        .group_by([col(name)])
        .agg([len().alias("__n")])
        .sort_by_exprs(
            [col("__n"), col(name)],
            SortMultipleOptions::default().with_order_descending_multi([true, false]),
        )
        .collect()?;
    let values = counts
        .column(name)?
        .as_materialized_series()
        .cast(&DataType::String)?;
    let n = counts
        .column("__n")?
        .as_materialized_series()
        .cast(&DataType::UInt64)?;
    let shown = if counts.height() <= ALL_LEVELS {
        ALL_LEVELS
    } else {
        COMMON
    };
    let common = values
        .str()?
        .iter()
        .zip(n.u64()?.iter())
        .take(shown)
        .map(|(v, k)| (v.unwrap_or("").to_string(), k.unwrap_or(0) as usize))
        .collect();
    Ok(ColumnSummary {
        name: name.to_string(),
        dtype: s.dtype().to_string(),
        missing: s.null_count(),
        distinct: counts.height(),
        common,
        label,
        value_labels,
    })
}

/// Variable labels and value labels from a Stata, SPSS or SAS file's metadata (none when
/// the metadata cannot be read: the rest of the description stands without them).
#[allow(clippy::type_complexity)]
fn metadata_labels(path: &Path) -> BTreeMap<String, (Option<String>, Vec<(String, String)>)> {
    let mut out = BTreeMap::new();
    let Ok(json) = polars_readstat_rs::readstat_metadata_json(path, None) else {
        return out;
    };
    let Ok(meta) = serde_json::from_str::<serde_json::Value>(&json) else {
        return out;
    };
    let Some(variables) = meta.get("variables").and_then(|v| v.as_array()) else {
        return out;
    };
    for v in variables {
        let Some(name) = v.get("name").and_then(|n| n.as_str()) else {
            continue;
        };
        let label = v
            .get("label")
            .and_then(|l| l.as_str())
            .filter(|l| !l.is_empty())
            .map(str::to_string);
        let mut value_labels: Vec<(String, String)> = ["value_labels", "value_label"]
            .iter()
            .filter_map(|k| v.get(*k).and_then(|m| m.as_object()))
            .flat_map(|m| {
                m.iter()
                    .map(|(code, l)| (code.clone(), l.as_str().unwrap_or("").to_string()))
            })
            .collect();
        value_labels.sort_by(|a, b| match (a.0.parse::<f64>(), b.0.parse::<f64>()) {
            (Ok(x), Ok(y)) => x.total_cmp(&y),
            _ => a.0.cmp(&b.0),
        });
        out.insert(name.to_string(), (label, value_labels));
    }
    out
}
