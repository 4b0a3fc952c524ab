//! Column names: a survey's own names (the methodology's `[columns]` map, harmonized =
//! "survey") in, the methodology's names out. Columns are read under the file's names
//! and renamed, so that everything after reading sees the methodology's names only.

use std::path::Path;

use polars::prelude::{Column, DataFrame};

use afmpi_core::methodology::Methodology;

use crate::error::{Error, Result};
use crate::read::{ColumnRequest, Input};

/// Reads the requested columns of a file under their names in the file (`in_file`), and
/// names them back as the methodology does.
pub fn read_named(
    input: &Input,
    request: &ColumnRequest,
    in_file: &dyn Fn(&String) -> String,
    notes: &mut Vec<String>,
) -> Result<DataFrame> {
    let read = input.read(&in_file_request(request, in_file), notes)?;
    rename_columns(&read, request, in_file, &input.path)
}

/// The request with the file's names of the columns.
pub fn in_file_request(
    request: &ColumnRequest,
    in_file: &dyn Fn(&String) -> String,
) -> ColumnRequest {
    let translate = |list: &[String]| list.iter().map(in_file).collect::<Vec<_>>();
    ColumnRequest {
        numeric: translate(&request.numeric),
        labelled: translate(&request.labelled),
        codes: translate(&request.codes),
        one_label_per_code: translate(&request.one_label_per_code),
        raw: translate(&request.raw),
    }
}

/// The columns read (named as in the file) named as the methodology names them.
pub fn rename_columns(
    read: &DataFrame,
    request: &ColumnRequest,
    in_file: &dyn Fn(&String) -> String,
    path: &Path,
) -> Result<DataFrame> {
    let mut columns: Vec<Column> = Vec::new();
    for name in request
        .numeric
        .iter()
        .chain(&request.labelled)
        .chain(&request.codes)
        .chain(&request.raw)
    {
        if columns.iter().any(|c| c.name().as_str() == name) {
            continue;
        }
        let column = read
            .column(&in_file(name))
            .map_err(|e| Error::input(path, e.to_string()))?;
        columns.push(column.clone().with_name(name.as_str().into()));
    }
    DataFrame::new(read.height(), columns).map_err(|e| Error::input(path, e.to_string()))
}

/// A column's name in the survey file: the methodology's `[columns]` map, else its own.
pub fn in_file(m: &Methodology, column: &String) -> String {
    m.columns.get(column).unwrap_or(column).clone()
}
