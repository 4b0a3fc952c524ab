//! Member files (MICS style): a household file (one row per household) and a member
//! file (one row per person) in, one frame of persons out, joined on the household id.
//! A needed column is read from the member file when it has it, else from the household
//! file. A household id that is not unique in the household file is an error: the join
//! would count its members twice.

use std::path::Path;

use polars::prelude::{col, DataFrame, IntoLazy, JoinArgs, JoinType};

use afmpi_core::methodology::SurveyColumns;

use crate::error::{Error, Result};
use crate::naming;
use crate::read::{self, ColumnRequest};

/// The persons of `member_path` with their household's columns from `path`. The
/// columns of `request` are named as the methodology names them; `in_file` gives a
/// column's name in the files.
pub fn join(
    path: &Path,
    household_columns: &[String],
    member_path: &Path,
    member_columns: &[String],
    request: &ColumnRequest,
    survey: &SurveyColumns,
    in_file: &dyn Fn(&String) -> String,
) -> Result<DataFrame> {
    let Some(key) = &survey.household else {
        return Err(Error::Usage(
            "a member file is joined to the household file on the household id: set survey.household (or --household)".into(),
        ));
    };
    let file_key = in_file(key);
    for (file, columns) in [(path, household_columns), (member_path, member_columns)] {
        if !columns.contains(&file_key) {
            return Err(Error::data(
                file,
                &file_key,
                None,
                "the household id is not in this file: both files need it to be joined",
            ));
        }
    }
    // Each needed column from the member file when it has it.
    let split = |from_members: bool| read::ColumnRequest {
        numeric: request
            .numeric
            .iter()
            .filter(|c| member_columns.contains(&in_file(c)) == from_members)
            .cloned()
            .collect(),
        labelled: request
            .labelled
            .iter()
            .filter(|c| *c != key && member_columns.contains(&in_file(c)) == from_members)
            .cloned()
            .chain([key.clone()])
            .collect(),
        raw: request
            .raw
            .iter()
            .filter(|c| member_columns.contains(&in_file(c)) == from_members)
            .cloned()
            .collect(),
    };
    let people = naming::read_named(member_path, &split(true), &in_file)?;
    let households = naming::read_named(path, &split(false), &in_file)?;
    let rows = people.height();
    let joined = people
        .lazy()
        .join(
            households.lazy(),
            [col(key.as_str())],
            [col(key.as_str())],
            JoinArgs::new(JoinType::Left),
        )
        .collect()
        .map_err(|e| {
            Error::input(
                member_path,
                format!("cannot join the member file to {}: {e}", path.display()),
            )
        })?;
    if joined.height() != rows {
        return Err(Error::data(path, &file_key, None, format!(
            "the household id is not unique in the household file ({} rows for {} members after the join): give one row per household",
            joined.height(), rows)));
    }
    Ok(joined)
}
