//! Member files (MICS style): a household file (one row per household) and a member
//! file (one row per person) in, one frame of persons out, joined on the household id.
//! A needed column is read from the member file when it has it, else from the household
//! file. A household id that is not unique in the household file is an error: the join
//! would count its members twice. Members without a household (their id missing, or not
//! in the household file) are dropped and counted as unmatched.

use std::path::Path;

use polars::prelude::{
    col, lit, DataFrame, DataType, IntoLazy, JoinArgs, JoinType, SortMultipleOptions,
};

use afmpi_core::methodology::SurveyColumns;

use crate::error::{Error, Result};
use crate::naming;
use crate::persons::ROW_COLUMN;
use crate::read::{self, ColumnRequest, Input};

/// Members without a household: what they lack (as a report's entry), how many, and
/// their rows of the joined frame (household columns empty), for the persons file.
pub struct Unmatched {
    pub reason: String,
    pub count: usize,
    pub rows: DataFrame,
}

/// The persons of `member_path` with their household's columns from `path` (and each
/// one's row in the member file, [`crate::persons::ROW_COLUMN`]), and the members dropped
/// for want of a household. The columns of `request` are named as the methodology names
/// them; `in_file` gives a column's name in the files.
#[allow(clippy::too_many_arguments)]
pub fn join(
    households: &Input,
    household_columns: &[String],
    members: &Input,
    member_columns: &[String],
    request: &ColumnRequest,
    survey: &SurveyColumns,
    in_file: &dyn Fn(&String) -> String,
    notes: &mut Vec<String>,
) -> Result<(DataFrame, Option<Unmatched>)> {
    let (path, member_path) = (&households.path, &members.path);
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
    let split = |from_members| split_request(request, key, member_columns, in_file, from_members);
    let people = naming::read_named(members, &split(true), &in_file, notes)?
        .with_row_index(ROW_COLUMN.into(), None)
        .map_err(|e| Error::input(member_path, e.to_string()))?;
    let households = naming::read_named(households, &split(false), &in_file, notes)?;
    let rows = people.height();
    // In the member file's order, whatever order the join gives.
    let joined = people
        .lazy()
        .join(
            households.lazy().with_column(lit(true).alias(MATCHED)),
            [col(key.as_str())],
            [col(key.as_str())],
            JoinArgs::new(JoinType::Left),
        )
        .sort([ROW_COLUMN], SortMultipleOptions::default())
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
    drop_unmatched(joined, key, &file_key, path, member_path, notes)
}

/// The part of the request read from the member file (`from_members`) or from the
/// household file: each needed column from the member file when it has it; the key, as
/// a code, from both.
fn split_request(
    request: &ColumnRequest,
    key: &String,
    member_columns: &[String],
    in_file: &dyn Fn(&String) -> String,
    from_members: bool,
) -> ColumnRequest {
    let pick = |list: &[String]| -> Vec<String> {
        list.iter()
            .filter(|c| *c != key && member_columns.contains(&in_file(c)) == from_members)
            .cloned()
            .collect()
    };
    read::ColumnRequest {
        numeric: pick(&request.numeric),
        labelled: pick(&request.labelled),
        codes: pick(&request.codes)
            .into_iter()
            .chain([key.clone()])
            .collect(),
        raw: pick(&request.raw),
        one_label_per_code: pick(&request.one_label_per_code),
    }
}

/// The column that tells a member with a household from one without.
const MATCHED: &str = "__afmpi_household_found";

/// Members whose household id is missing or not in the household file: dropped, and
/// counted in `notes` with an example id (never read as members with missing values).
fn drop_unmatched(
    joined: DataFrame,
    key: &str,
    file_key: &str,
    path: &Path,
    member_path: &Path,
    notes: &mut Vec<String>,
) -> Result<(DataFrame, Option<Unmatched>)> {
    let fail = |e: polars::prelude::PolarsError| Error::input(member_path, e.to_string());
    let found = joined
        .column(MATCHED)
        .map_err(fail)?
        .as_materialized_series()
        .clone();
    let unmatched = found.null_count();
    if unmatched > 0 && unmatched == joined.height() {
        return Err(Error::data(member_path, file_key, None, format!(
            "none of the {} members has a household in {}: check that both files hold the same household ids (and the same type: 101 and \"0101\" differ)",
            crate::output::count(unmatched),
            path.display()
        )));
    }
    let (joined, unmatched_rows) = if unmatched == 0 {
        (joined, DataFrame::empty())
    } else {
        let example = joined
            .clone()
            .lazy()
            .filter(col(MATCHED).is_null())
            .select([col(key).cast(DataType::String)])
            .limit(1)
            .collect()
            .map_err(fail)?;
        let example = example
            .column(key)
            .ok()
            .and_then(|c| {
                c.as_materialized_series()
                    .str()
                    .ok()
                    .and_then(|s| s.get(0).map(str::to_string))
            })
            .unwrap_or_else(|| "missing".to_string());
        notes.push(format!(
            "{} members of {} have no household in {} (household id `{file_key}`, e.g. {example}): dropped as unmatched",
            crate::output::count(unmatched),
            member_path.display(),
            path.display()
        ));
        let part = |found: bool| {
            let matched = col(MATCHED).is_not_null();
            joined
                .clone()
                .lazy()
                .filter(if found { matched } else { matched.not() })
                .collect()
                .map_err(fail)
        };
        (part(true)?, part(false)?)
    };
    let dropped = (unmatched > 0).then(|| {
        let file = path
            .file_name()
            .map(|f| f.to_string_lossy().to_string())
            .unwrap_or_default();
        Unmatched {
            reason: format!("{file_key} (no household in {file})"),
            count: unmatched,
            rows: unmatched_rows,
        }
    });
    Ok((joined.drop(MATCHED).map_err(fail)?, dropped))
}
