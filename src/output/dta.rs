//! Stata files: a Parquet file of results (the persons file, written a batch at a time)
//! in, the same rows as a Stata .dta file (release 118, UTF-8) out, through the `dta`
//! crate. A .dta file declares each text column's width before its first row, and a
//! batched run knows its longest text only at the end: so the rows go to Parquet first,
//! a first pass over it finds the widths, a second writes the rows, a slice at a time.
//!
//! Types: 0/1 and true/false columns are Stata bytes, numbers doubles (whole numbers are
//! exact up to 2^53), text fixed-width strings (`str1`–`str2045`); an empty value is
//! Stata's missing (`.`) or the empty string.

use std::io::{Seek, Write};
use std::path::Path;

use dta::stata::dta::byte_order::ByteOrder;
use dta::stata::dta::dta_writer::DtaWriter;
use dta::stata::dta::header::Header;
use dta::stata::dta::release::Release;
use dta::stata::dta::schema::Schema as DtaSchema;
use dta::stata::dta::value::Value;
use dta::stata::dta::variable::Variable;
use dta::stata::dta::variable_type::VariableType;
use dta::stata::missing_value::MissingValue;
use dta::stata::stata_byte::StataByte;
use dta::stata::stata_double::StataDouble;
use polars::prelude::*;

use crate::error::{Error, Result};

/// Rows read from the Parquet file at once.
const SLICE_ROWS: usize = 1 << 16;

/// Stata's widest fixed-width string.
const MAX_STR: usize = 2045;

/// How a column is written.
#[derive(Clone, Copy, Debug)]
enum Kind {
    Byte,
    Double,
    Text(u16),
}

/// Writes the rows of `parquet` into `out` as a .dta file; `target` names the file in
/// errors. Returns the rows written.
pub fn parquet_to_dta(
    parquet: &Path,
    out: impl Write + Seek,
    target: &Path,
    label: &str,
) -> Result<usize> {
    let fail = |e: &dyn std::fmt::Display| {
        Error::input(target, format!("cannot write the Stata file: {e}"))
    };
    let scan = || {
        let path = PlRefPath::try_from_path(parquet).map_err(|e| fail(&e))?;
        LazyFrame::scan_parquet(path, ScanArgsParquet::default()).map_err(|e| fail(&e))
    };
    let schema = scan()?.collect_schema().map_err(|e| fail(&e))?;
    let rows = scan()?
        .select([len()])
        .collect()
        .map_err(|e| fail(&e))?
        .column("len")
        .ok()
        .and_then(|c| c.get(0).ok())
        .and_then(|v| v.extract::<usize>())
        .unwrap_or(0);
    let kinds = column_kinds(&schema, &scan, rows, target)?;
    let mut variables = Vec::new();
    for (name, _) in schema.iter() {
        check_name(name, target)?;
        let (t, format) = match kinds[name.as_str()] {
            Kind::Byte => (VariableType::Byte, "%8.0g".to_string()),
            Kind::Double => (VariableType::Double, "%10.0g".to_string()),
            Kind::Text(w) => (VariableType::FixedString(w), format!("%{w}s")),
        };
        variables.push(Variable::builder(t, name.as_str()).format(format));
    }
    let schema_out = DtaSchema::builder()
        .variables(variables)
        .build()
        .map_err(|e| fail(&e))?;
    let header = Header::builder(Release::V118, ByteOrder::LittleEndian)
        .dataset_label(label)
        .build();
    let mut records = DtaWriter::new()
        .from_writer(out)
        .write_header(header)
        .map_err(|e| fail(&e))?
        .write_schema(schema_out)
        .map_err(|e| fail(&e))?
        .into_record_writer()
        .map_err(|e| fail(&e))?;
    let names: Vec<PlSmallStr> = schema.iter_names().cloned().collect();
    for offset in (0..rows).step_by(SLICE_ROWS) {
        let slice = scan()?
            .slice(offset as i64, SLICE_ROWS as IdxSize)
            .collect()
            .map_err(|e| fail(&e))?;
        let columns: Vec<Typed> = names
            .iter()
            .map(|n| typed(&slice, n, kinds[n.as_str()], target))
            .collect::<Result<_>>()?;
        let mut values: Vec<Value> = Vec::with_capacity(columns.len());
        for i in 0..slice.height() {
            values.clear();
            values.extend(columns.iter().map(|c| c.value(i)));
            records.write_record(&values).map_err(|e| fail(&e))?;
        }
    }
    records
        .into_long_string_writer()
        .map_err(|e| fail(&e))?
        .into_value_label_writer()
        .map_err(|e| fail(&e))?
        .finish()
        .map_err(|e| fail(&e))?;
    Ok(rows)
}

/// Each column's Stata type; the width of a text column is its longest value's.
fn column_kinds(
    schema: &Schema,
    scan: &dyn Fn() -> Result<LazyFrame>,
    rows: usize,
    target: &Path,
) -> Result<PlHashMap<String, Kind>> {
    let mut kinds: PlHashMap<String, Kind> = PlHashMap::new();
    let mut text: Vec<PlSmallStr> = Vec::new();
    for (name, dtype) in schema.iter() {
        let kind = match dtype {
            DataType::Boolean | DataType::UInt8 | DataType::Int8 => Kind::Byte,
            d if d.is_primitive_numeric() => Kind::Double,
            _ => {
                text.push(name.clone());
                Kind::Text(1)
            }
        };
        kinds.insert(name.to_string(), kind);
    }
    if text.is_empty() {
        return Ok(kinds);
    }
    let fail = |e: &dyn std::fmt::Display| {
        Error::input(target, format!("cannot write the Stata file: {e}"))
    };
    let mut widths: Vec<usize> = vec![1; text.len()];
    for offset in (0..rows).step_by(SLICE_ROWS) {
        let slice = scan()?
            .select(text.iter().map(|n| col(n.clone())).collect::<Vec<_>>())
            .slice(offset as i64, SLICE_ROWS as IdxSize)
            .collect()
            .map_err(|e| fail(&e))?;
        for (w, name) in widths.iter_mut().zip(&text) {
            let s = slice
                .column(name)
                .map_err(|e| fail(&e))?
                .cast(&DataType::String)
                .map_err(|e| fail(&e))?;
            for v in s.str().map_err(|e| fail(&e))?.iter().flatten() {
                *w = (*w).max(v.len());
            }
        }
    }
    for (w, name) in widths.into_iter().zip(&text) {
        if w > MAX_STR {
            return Err(Error::data(target, name, None, format!(
                "a value of {w} bytes is longer than a Stata string can be ({MAX_STR}): write the file as .csv or .parquet")));
        }
        kinds.insert(name.to_string(), Kind::Text(w as u16));
    }
    Ok(kinds)
}

/// A Stata variable name: a letter or underscore, then letters, digits and underscores,
/// at most 32 characters.
fn check_name(name: &str, target: &Path) -> Result<()> {
    let mut chars = name.chars();
    let first_ok = chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_');
    let rest_ok = chars.all(|c| c.is_ascii_alphanumeric() || c == '_');
    if first_ok && rest_ok && name.len() <= 32 {
        return Ok(());
    }
    Err(Error::data(
        target,
        name,
        None,
        "is not a Stata variable name (a letter or _, then letters, digits and _, at most 32): write the file as .csv or .parquet, or leave the column out",
    ))
}

/// A slice's column in the type it is written as.
enum Typed {
    Byte(Vec<Option<i8>>),
    Double(Vec<Option<f64>>),
    Text(Vec<Option<String>>),
}

impl Typed {
    fn value(&self, i: usize) -> Value<'_> {
        match self {
            Typed::Byte(v) => Value::Byte(match v[i] {
                Some(x) => StataByte::Present(x),
                None => StataByte::Missing(MissingValue::System),
            }),
            Typed::Double(v) => Value::Double(match v[i] {
                Some(x) => StataDouble::Present(x),
                None => StataDouble::Missing(MissingValue::System),
            }),
            Typed::Text(v) => {
                Value::String(std::borrow::Cow::Borrowed(v[i].as_deref().unwrap_or("")))
            }
        }
    }
}

fn typed(df: &DataFrame, name: &str, kind: Kind, target: &Path) -> Result<Typed> {
    let fail = |e: &dyn std::fmt::Display| {
        Error::input(target, format!("cannot write the Stata file: {e}"))
    };
    let c = df.column(name).map_err(|e| fail(&e))?;
    Ok(match kind {
        Kind::Byte => {
            let c = c.cast(&DataType::Int8).map_err(|e| fail(&e))?;
            Typed::Byte(c.i8().map_err(|e| fail(&e))?.iter().collect())
        }
        Kind::Double => {
            let whole = c.dtype().is_integer();
            let c = c.cast(&DataType::Float64).map_err(|e| fail(&e))?;
            let values: Vec<Option<f64>> = c.f64().map_err(|e| fail(&e))?.iter().collect();
            // A whole number past 2^53 has no exact double: say so, never round it.
            if whole {
                if let Some(v) = values
                    .iter()
                    .flatten()
                    .find(|v| v.abs() > 9_007_199_254_740_992.0)
                {
                    return Err(Error::data(target, name, None, format!(
                        "the whole number {v} is too large for a Stata double to hold exactly: write the file as .csv or .parquet")));
                }
            }
            Typed::Double(values)
        }
        Kind::Text(_) => {
            let c = c.cast(&DataType::String).map_err(|e| fail(&e))?;
            Typed::Text(
                c.str()
                    .map_err(|e| fail(&e))?
                    .iter()
                    .map(|v| v.map(str::to_string))
                    .collect(),
            )
        }
    })
}
