//! The table back: a sufficient-statistics table written by the query of `afmpi sql` (by
//! any engine, as CSV or Parquet) in; the engine's [`Table`], with the sample's labels
//! (rounds, strata, PSUs, subgroup levels) and a data report, out — what `run
//! --from-table` finishes as a run on the survey would.

use std::collections::HashMap;
use std::path::Path;

use polars::prelude::*;

use afmpi_core::methodology::{Methodology, SurveyColumns};
use afmpi_core::sample::codes::sort_labels;
use afmpi_core::sample::{Codes, DataReport, Grouping, Round, Sample, MISSING};
use afmpi_core::tally::{self, Cell, Table};

use super::design_columns;
use super::query::{HOUSEHOLD_MISSING, INVALID, WEIGHT_MISSING};
use crate::error::{Error, Result};
use crate::read::{self, ColumnRequest};

/// Reads a table written by the query (CSV or Parquet) into the tally's [`Table`], with
/// the sample's labels (rounds, strata, PSUs, subgroup levels) and a report.
///
/// Indicator j of the methodology is column `d{j}`; an optional indicator without its
/// column was left out by the query (the survey lacked it): the methodology comes back
/// without it, its weight shared within its dimension, as `run` shares it.
pub fn read_table(
    path: &Path,
    m: &Methodology,
    survey: &SurveyColumns,
) -> Result<(Methodology, Sample, Table, DataReport)> {
    // The table is the engine's, not the survey's: its dialect is found in it.
    let input = read::Input::open(path, &read::FileSettings::default())?;
    let available = input.column_names()?;
    let (effective, names, absent_ids) = without_absent_indicators(m, &available)?;
    let m = &effective;
    let request = table_request(m, survey, &names, &available, path)?;
    let all = TableColumns {
        df: input.read(&request, &mut Vec::new())?,
        path,
    };
    let (kept, mut report) = kept_cells(&all, m, survey, &names)?;
    for id in &absent_ids {
        report.notes.push(format!(
            "optional indicator `{id}` is not in the table (the survey lacked it): dropped, its weight shared within its dimension"
        ));
    }
    let columns = TableColumns {
        df: all
            .df
            .filter(&kept)
            .map_err(|e| Error::input(path, e.to_string()))?,
        path,
    };
    let (sample, table) = columns.sample_and_table(m, survey, &names)?;
    Ok((effective.clone(), sample, table, report))
}

/// The methodology without the optional indicators whose `d{j}` column the table lacks:
/// it, the places in `m` of the indicators kept, and the ids of those dropped.
fn without_absent_indicators(
    m: &Methodology,
    available: &[String],
) -> Result<(Methodology, Vec<usize>, Vec<String>)> {
    let absent: Vec<usize> = (0..m.indicators.len())
        .filter(|&j| m.indicators[j].optional && !available.contains(&format!("d{j}")))
        .collect();
    let names: Vec<usize> = (0..m.indicators.len())
        .filter(|j| !absent.contains(j))
        .collect();
    let effective = if absent.is_empty() {
        m.clone()
    } else {
        m.without(&absent)?
    };
    let ids = absent.iter().map(|&j| m.indicators[j].id.clone()).collect();
    Ok((effective, names, ids))
}

impl TableColumns<'_> {
    /// The sample's labels and the table, from the cells kept.
    fn sample_and_table(
        &self,
        m: &Methodology,
        survey: &SurveyColumns,
        names: &[usize],
    ) -> Result<(Sample, Table)> {
        let n = self.df.height();
        let (rounds, round_info) = self.rounds(survey)?;
        let (strata, stratum_labels) = match &survey.strata {
            Some(_) => self.codes("stratum")?,
            None => (vec![0; n], vec!["1".into()]),
        };
        let (psus, psu_labels) = self.psus(survey)?;
        let mut groupings = Vec::new();
        for (g, column) in survey.over.iter().enumerate() {
            let (codes, levels) = self.codes(&format!("g{g}"))?;
            groupings.push(Grouping {
                column: column.clone(),
                levels,
                codes,
            });
        }
        let group_columns: Vec<String> = (0..m.groups.len()).map(|g| format!("f{g}")).collect();
        let flags = self.bits(&group_columns)?;
        let indicator_columns: Vec<String> = names.iter().map(|j| format!("d{j}")).collect();
        let profiles = self.bits::<u64>(&indicator_columns)?;
        let (weight, weight_sq, persons) = (
            self.number("weight")?,
            self.number("weight_sq")?,
            self.number("persons")?,
        );
        if let Some(i) = weight.iter().position(|&w| w < 0.0 || !w.is_finite()) {
            return Err(Error::data(self.path, "weight", Some(i + 1), format!(
                "the cell's sum of weights is {}: the survey's weights must be finite and zero or more; fix them in the survey table and run the query again",
                weight[i])));
        }
        let radices = tally::radices(&groupings)?;
        let cells: Vec<Cell> = (0..n)
            .map(|i| Cell {
                gaps: 0,
                round: rounds[i],
                stratum: strata[i],
                psu: psus[i],
                levels: tally::pack_levels(groupings.iter().map(|g| g.codes[i]), &radices),
                profile: profiles[i],
                flags: flags[i],
                weight: weight[i],
                weight_sq: weight_sq[i],
                count: persons[i] as u64,
            })
            .collect();
        let sample = Sample::from_labels(
            stratum_labels,
            psu_labels,
            round_info,
            groupings,
            survey.round.is_some(),
            survey.psu.is_none(),
        );
        Ok((sample, Table::new(cells, radices)))
    }

    /// The PSUs' codes: under `psu_across_rounds = "distinct"` each round's PSUs its own,
    /// labelled `id (round)` as a direct run labels them.
    fn psus(&self, survey: &SurveyColumns) -> Result<Codes> {
        let distinct =
            survey.psu_across_rounds == Some(afmpi_core::methodology::PsuAcrossRounds::Distinct);
        Ok(match &survey.psu {
            Some(_) if distinct && survey.round.is_some() => {
                let labels: Vec<Option<String>> = self
                    .text("psu")?
                    .into_iter()
                    .zip(self.text("t")?)
                    .map(|(p, t)| Some(format!("{} ({})", p?, t?)))
                    .collect();
                TableColumns::codes_of(labels)
            }
            Some(_) => self.codes("psu")?,
            None => (vec![0; self.df.height()], Vec::new()),
        })
    }
}

/// The columns of the table: the design and subgroup columns as labels, the
/// indicators (`d0…`), groups (`f0…`), year and sums as numbers.
///
/// Every column the methodology needs must be in the table (`available`); the flags of
/// missing weights and household ids are read when the query wrote them.
fn table_request(
    m: &Methodology,
    survey: &SurveyColumns,
    names: &[usize],
    available: &[String],
    path: &Path,
) -> Result<ColumnRequest> {
    let mut request = ColumnRequest::default();
    for (alias, _) in &design_columns(survey) {
        if *alias == "year" {
            request.numeric.push(alias.to_string());
        } else {
            request.labelled.push(alias.to_string());
        }
    }
    for g in 0..survey.over.len() {
        request.labelled.push(format!("g{g}"));
    }
    for j in names {
        request.numeric.push(format!("d{j}"));
    }
    for g in 0..m.groups.len() {
        request.numeric.push(format!("f{g}"));
    }
    request
        .numeric
        .extend(["weight", "weight_sq", "persons"].map(String::from));
    let needed: Vec<(String, String)> = request
        .numeric
        .iter()
        .chain(&request.labelled)
        .map(|c| ("the table of `afmpi sql`".to_string(), c.clone()))
        .collect();
    read::check_columns(path, available, &needed)?;
    for flag in [WEIGHT_MISSING, HOUSEHOLD_MISSING] {
        if available.iter().any(|c| c == flag) {
            request.numeric.push(flag.to_string());
        }
    }
    Ok(request)
}

/// The cells to finish and the report of the persons they hold: a cell with a missing
/// key (an indicator, the weight, the household id under household rules, a design
/// column, a group's membership) is dropped and its persons counted against that
/// column, in the order of `run`'s report; an indicator value other than 0/1 is an error.
fn kept_cells(
    all: &TableColumns,
    m: &Methodology,
    survey: &SurveyColumns,
    names: &[usize],
) -> Result<(BooleanChunked, DataReport)> {
    let n = all.df.height();
    let persons = all.number("persons")?;
    let mut keep = vec![true; n];
    let mut missing: Vec<(String, usize)> = Vec::new();
    let mut drop = |name: &str, mask: &[bool]| {
        let mut count = 0.0;
        for i in 0..n {
            if mask[i] {
                keep[i] = false;
                count += persons[i];
            }
        }
        if count > 0.0 {
            missing.push((name.to_string(), count as usize));
        }
    };
    for (ind, j) in m.indicators.iter().zip(names) {
        let values = all.optional_number(&format!("d{j}"))?;
        check_zero_one(all, &values, &persons, ind, *j)?;
        let mask: Vec<bool> = values.iter().map(Option::is_none).collect();
        drop(&ind.id, &mask);
    }
    let flag = |name: &str| -> Result<Vec<bool>> {
        if all.df.column(name).is_err() {
            return Ok(vec![false; n]);
        }
        Ok(all
            .optional_number(name)?
            .iter()
            .map(|v| *v == Some(1.0))
            .collect())
    };
    if let Some(hh) = &survey.household {
        drop(hh, &flag(HOUSEHOLD_MISSING)?);
    }
    let weight_name = survey.weight.as_deref().unwrap_or("weight");
    drop(weight_name, &flag(WEIGHT_MISSING)?);
    for (alias, column) in design_columns(survey) {
        let mask: Vec<bool> = all
            .df
            .column(alias)
            .map_err(|e| Error::input(all.path, e.to_string()))?
            .is_null()
            .iter()
            .map(|v| v.unwrap_or(true))
            .collect();
        drop(&column, &mask);
    }
    for (g, group) in m.groups.iter().enumerate() {
        let mask: Vec<bool> = all
            .optional_number(&format!("f{g}"))?
            .iter()
            .map(Option::is_none)
            .collect();
        drop(&format!("group {}", group.name), &mask);
    }
    let used: f64 = (0..n).filter(|&i| keep[i]).map(|i| persons[i]).sum();
    let report = DataReport {
        file: all.path.to_path_buf(),
        rows_read: persons.iter().sum::<f64>() as usize,
        rows_used: used as usize,
        missing,
        unassigned: Vec::new(),
        notes: vec![format!(
            "a table of {} cells made by `afmpi sql`: it counts the persons of the survey table",
            crate::output::count(n)
        )],
        households: None,
        // The missing values per indicator are not counted from a table.
        indicator_missing: Vec::new(),
        weight_read: Default::default(),
    };
    Ok((BooleanChunked::from_slice("keep".into(), &keep), report))
}

/// An indicator's column holds 0, 1 or nothing; the query writes a survey's other values
/// as [`INVALID`], an error that counts the persons.
fn check_zero_one(
    all: &TableColumns,
    values: &[Option<f64>],
    persons: &[f64],
    ind: &afmpi_core::methodology::Indicator,
    j: usize,
) -> Result<()> {
    let bad = |v: &Option<f64>| v.is_some_and(|v| v != 0.0 && v != 1.0);
    let Some(first) = values.iter().position(bad) else {
        return Ok(());
    };
    let count: f64 = values
        .iter()
        .zip(persons)
        .filter(|(v, _)| bad(v))
        .map(|(_, p)| p)
        .sum();
    Err(Error::data(all.path, &format!("d{j}"), Some(first + 1), format!(
        "{} persons of the survey have a value of indicator `{}` ({}) that is neither 0 nor 1 (the query writes such a value as {INVALID}): fix those values in the survey table, or write the indicator as a rule",
        count as usize, ind.id, ind.columns().join(", "))))
}

/// The table's columns as read.
struct TableColumns<'a> {
    df: DataFrame,
    path: &'a Path,
}

impl TableColumns<'_> {
    fn column(&self, name: &str, to: &DataType) -> Result<Column> {
        let c = self
            .df
            .column(name)
            .map_err(|e| Error::input(self.path, e.to_string()))?;
        c.cast(to)
            .map_err(|e| Error::input(self.path, e.to_string()))
    }

    /// A column as text (missing stays missing).
    fn text(&self, name: &str) -> Result<Vec<Option<String>>> {
        let c = self.column(name, &DataType::String)?;
        Ok(c.str()
            .map_err(|e| Error::input(self.path, e.to_string()))?
            .iter()
            .map(|v| v.map(str::to_string))
            .collect())
    }

    /// A column as numbers, missing where the cell's key is.
    fn optional_number(&self, name: &str) -> Result<Vec<Option<f64>>> {
        let c = self.column(name, &DataType::Float64)?;
        Ok(c.f64()
            .map_err(|e| Error::input(self.path, e.to_string()))?
            .iter()
            .collect())
    }

    /// A column as numbers: the cells kept hold no missing values.
    fn number(&self, name: &str) -> Result<Vec<f64>> {
        let c = self.column(name, &DataType::Float64)?;
        c.f64()
            .map_err(|e| Error::input(self.path, e.to_string()))?
            .iter()
            .enumerate()
            .map(|(i, v)| {
                v.ok_or_else(|| {
                    Error::data(
                        self.path,
                        name,
                        Some(i + 1),
                        "is empty: the table holds no missing values",
                    )
                })
            })
            .collect()
    }

    /// A column's codes, in its labels' sorted order ([`sort_labels`]).
    fn codes(&self, name: &str) -> Result<Codes> {
        Ok(Self::codes_of(self.text(name)?))
    }

    /// Values' codes, in their labels' sorted order ([`sort_labels`]).
    fn codes_of(values: Vec<Option<String>>) -> Codes {
        let mut labels: Vec<String> = values.iter().flatten().cloned().collect();
        labels.sort();
        labels.dedup();
        sort_labels(&mut labels);
        let index: HashMap<&str, u32> = labels
            .iter()
            .enumerate()
            .map(|(i, l)| (l.as_str(), i as u32))
            .collect();
        let codes = values
            .iter()
            .map(|v| v.as_deref().map_or(MISSING, |v| index[v]))
            .collect();
        (codes, labels)
    }

    /// 0/1 columns as bits: bit j set where column j is 1.
    fn bits<T>(&self, columns: &[String]) -> Result<Vec<T>>
    where
        T: Copy + Default + std::ops::BitOrAssign + std::ops::Shl<usize, Output = T> + From<u8>,
    {
        let mut bits = vec![T::default(); self.df.height()];
        for (j, name) in columns.iter().enumerate() {
            for (b, v) in bits.iter_mut().zip(self.number(name)?) {
                if v == 1.0 {
                    *b |= T::from(1u8) << j;
                }
            }
        }
        Ok(bits)
    }

    /// The rounds' codes and the rounds, each with the year of its rows.
    fn rounds(&self, survey: &SurveyColumns) -> Result<(Vec<u32>, Vec<Round>)> {
        let (rounds, labels) = match &survey.round {
            Some(_) => self.codes("t")?,
            None => (vec![0; self.df.height()], vec![String::new()]),
        };
        let mut info: Vec<Round> = labels
            .into_iter()
            .map(|label| Round { label, year: None })
            .collect();
        if survey.year.is_some() {
            for (i, (r, y)) in rounds.iter().zip(self.number("year")?).enumerate() {
                let round = &mut info[*r as usize];
                match round.year {
                    Some(x) if x != y => {
                        return Err(Error::data(self.path, "year", Some(i + 1), format!(
                            "round {} has two years, {x} and {y}: give each round one year in the survey table",
                            round.label)));
                    }
                    _ => round.year = Some(y),
                }
            }
        }
        Ok((rounds, info))
    }
}
