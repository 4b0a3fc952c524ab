//! The plan of a run: a methodology, the survey settings and a file's column names in;
//! what the run reads out ([`Plan`]) — the columns by the type they are read as, each
//! with the key of the methodology that asks for it, and the optional indicators the file
//! lacks (dropped, their weight shared in their dimension). A missing column is an error
//! here, before anything is read, naming the key and the file's closest columns.

use std::path::Path;

use afmpi_core::methodology::{Methodology, Source, SurveyColumns, GROUP_VARIABLES};

use crate::error::Result;
use crate::read::{self, ColumnRequest};

/// The columns a methodology and its survey settings need, each with the key that asks
/// for it (for error messages).
pub fn needed_columns(
    m: &Methodology,
    survey: &SurveyColumns,
) -> (ColumnRequest, Vec<(String, String)>) {
    let mut request = ColumnRequest::default();
    let mut keys = Vec::new();
    let mut add = |list: &mut Vec<String>, key: String, column: &str| {
        if !list.iter().any(|c| c == column) {
            list.push(column.to_string());
        }
        keys.push((key, column.to_string()));
    };
    for (j, ind) in m.indicators.iter().enumerate() {
        let d = ind.dimension;
        let within = m.indicators[..j]
            .iter()
            .filter(|i| i.dimension == d)
            .count();
        let key = format!("dimension[{d}].indicator[{within}]");
        match &ind.source {
            Source::Column(c) => add(&mut request.numeric, format!("{key}.column"), c),
            Source::Achievement { column, .. } => {
                add(&mut request.numeric, format!("{key}.achievement"), column)
            }
            // Rules read raw columns whatever their type: the expression decides.
            Source::Rule(rule) => {
                for c in rule.columns() {
                    add(&mut request.raw, format!("{key} ({})", ind.id), &c);
                }
            }
        }
    }
    for (g, group) in m.groups.iter().enumerate() {
        for c in group.rule.columns() {
            if !GROUP_VARIABLES.contains(&c.as_str()) {
                add(&mut request.raw, format!("group[{g}].rule"), &c);
            }
        }
    }
    for (key, value) in [
        ("survey.weight", &survey.weight),
        ("survey.year", &survey.year),
        ("survey.household_size", &survey.household_size),
    ] {
        if let Some(c) = value {
            add(&mut request.numeric, key.to_string(), c);
        }
    }
    for (key, value) in [
        ("survey.strata", &survey.strata),
        ("survey.psu", &survey.psu),
        ("survey.household", &survey.household),
    ] {
        if let Some(c) = value {
            add(&mut request.codes, key.to_string(), c);
        }
    }
    if let Some(c) = &survey.round {
        add(&mut request.labelled, "survey.round".to_string(), c);
        request.one_label_per_code.push(c.clone());
    }
    for c in &survey.over {
        add(&mut request.labelled, "survey.over".to_string(), c);
    }
    (request, keys)
}

/// What a methodology needs from a survey file whose columns are `available`.
pub struct Plan {
    /// The methodology as it will run: optional indicators absent from the file dropped,
    /// their weight shared within their dimension.
    pub effective: Methodology,
    /// The optional indicators dropped (indices into the methodology's indicators).
    pub absent: Vec<usize>,
    /// The columns to read, named as the methodology names them.
    pub request: ColumnRequest,
}

/// Checks that the file has every column the methodology and survey settings need
/// (through the `[columns]` map), and says which optional indicators are absent. The
/// error names the key that asked for a missing column and lists the file's columns,
/// closest first.
pub fn plan(
    m: &Methodology,
    survey: &SurveyColumns,
    path: &Path,
    available: &[String],
) -> Result<Plan> {
    check_unit(survey)?;
    let in_file = |c: &String| crate::naming::in_file(m, c);
    let absent: Vec<usize> = m
        .indicators
        .iter()
        .enumerate()
        .filter(|(_, ind)| {
            ind.optional
                && ind
                    .columns()
                    .iter()
                    .any(|c| !available.contains(&in_file(c)))
        })
        .map(|(j, _)| j)
        .collect();
    let effective = if absent.is_empty() {
        m.clone()
    } else {
        m.without(&absent)?
    };
    let (request, keys) = needed_columns(&effective, survey);
    let mapped: Vec<(String, String)> = keys
        .iter()
        .map(|(key, c)| {
            let f = in_file(c);
            let key = if &f == c {
                key.clone()
            } else {
                format!("{key}, as `{c}` in [columns]")
            };
            (key, f)
        })
        .collect();
    read::check_columns(path, available, &mapped)?;
    Ok(Plan {
        effective,
        absent,
        request,
    })
}

/// `unit = "household"` needs the household id, and cannot be read with a household
/// size (which counts persons).
fn check_unit(survey: &SurveyColumns) -> Result<()> {
    if survey.unit != Some(afmpi_core::methodology::Unit::Household) {
        return Ok(());
    }
    if survey.household.is_none() {
        return Err(crate::error::Error::Usage(
            "unit = \"household\" counts each household once: name the household id (household = \"...\" in [survey], or --household)".into(),
        ));
    }
    if survey.household_size.is_some() {
        return Err(crate::error::Error::Usage(
            "household_size makes each row count its persons, and unit = \"household\" counts each household once: leave out one of the two".into(),
        ));
    }
    Ok(())
}
