//! A run: a methodology, the survey settings and a survey file (or columns in memory, or
//! a table made elsewhere) in, an [`Analysis`] out. This is the one place that wires the
//! reading layer to the engine: plan the columns ([`crate::plan`]), read them whole, in
//! batches ([`crate::batches`]) or joined to a member file ([`crate::members`]), build
//! the sample ([`crate::indicators`]) and its table, and hand the table to the engine's
//! finishing step ([`afmpi_core::finish`]).

use std::path::Path;

use polars::prelude::DataFrame;

use afmpi_core::identification::IntegerWeights;
use afmpi_core::methodology::{Methodology, Source, SurveyColumns};
use afmpi_core::sample::{check_not_empty, DataReport, Sample};
use afmpi_core::tally::{self, Table};
use afmpi_core::{finish, inference, Analysis};

use crate::error::{Error, Result};
use crate::naming::{in_file_request, read_named, rename_columns};
use crate::output::FrameSink;
use crate::plan::{plan, Plan};
use crate::read::{self, ColumnRequest};
use crate::{batches, indicators, members, persons, sql};

/// Runs the pipeline on columns already in memory (named as the methodology names them).
pub fn analyse_frame(
    df: &DataFrame,
    m: &Methodology,
    survey: &SurveyColumns,
    settings: &inference::Settings,
    file: &Path,
) -> Result<Analysis> {
    analyse_frame_with(df, m, survey, settings, file, &|_| {})
}

/// As [`analyse_frame`], telling `progress` each stage as it starts.
pub fn analyse_frame_with(
    df: &DataFrame,
    m: &Methodology,
    survey: &SurveyColumns,
    settings: &inference::Settings,
    file: &Path,
    progress: &dyn Fn(&str),
) -> Result<Analysis> {
    let (sample, report, table) = tabulate(df, m, survey, file, progress)?;
    finish(m, sample, report, table, settings, progress)
}

/// The sample and its table from columns in memory.
fn tabulate(
    df: &DataFrame,
    m: &Methodology,
    survey: &SurveyColumns,
    file: &Path,
    progress: &dyn Fn(&str),
) -> Result<(Sample, DataReport, Table)> {
    tabulate_persons(df, m, survey, file, progress, None)
}

/// The persons file of a run read whole: what it carries, where it goes, and the rows
/// of members without a household (merged in by row number).
type PersonsOut<'a> = (&'a persons::Request, &'a mut FrameSink, Option<DataFrame>);

/// As [`tabulate`], writing the persons' rows to `persons` when given.
fn tabulate_persons<D: std::borrow::Borrow<DataFrame>>(
    df: D,
    m: &Methodology,
    survey: &SurveyColumns,
    file: &Path,
    progress: &dyn Fn(&str),
    persons: Option<PersonsOut>,
) -> Result<(Sample, DataReport, Table)> {
    IntegerWeights::new(m)?; // weights and cutoffs exact enough, before any work
    progress("checking values and building deprivation profiles");
    let (sample, report, rows) = indicators::prepare_rows(
        df.borrow(),
        m,
        survey,
        file,
        indicators::Preparing {
            with_rows: persons.is_some(),
            batch: false,
        },
    )?;
    check_not_empty(&report)?;
    if let (Some((request, sink, unmatched)), Some(rows)) = (persons, rows) {
        progress("making the persons file");
        let frame = persons::frame(m, request, df.borrow(), &rows, 0, file)?;
        sink.write(&match unmatched {
            Some(other) => persons::in_row_order(frame, other, file)?,
            None => frame,
        })?;
    }
    // Columns owned here (a file read whole) are not needed once the sample is built:
    // the memory they held serves the tally, which then needs no fresh pages.
    drop(df);
    progress("tallying");
    let table = tally::tally(&sample)?;
    Ok((sample, report, table))
}

/// Runs the pipeline on a survey file: maps the methodology's column names to the
/// file's (`[columns]`), drops optional indicators whose data are absent, checks the
/// columns, reads them, analyses.
pub fn analyse_file(
    m: &Methodology,
    survey: &SurveyColumns,
    settings: &inference::Settings,
    path: &Path,
) -> Result<Analysis> {
    analyse_files(m, survey, settings, path, None)
}

/// As [`analyse_file`], with an optional member file (MICS style): `path` holds one row
/// per household, `members` one row per person, joined on the household id
/// (`survey.household`). A needed column is read from the member file when it has it,
/// else from the household file; the analysis has one row per person.
pub fn analyse_files(
    m: &Methodology,
    survey: &SurveyColumns,
    settings: &inference::Settings,
    path: &Path,
    members: Option<&Path>,
) -> Result<Analysis> {
    analyse_files_with(m, survey, settings, path, members, &|_| {})
}

/// As [`analyse_files`], telling `progress` each stage as it starts.
pub fn analyse_files_with(
    m: &Methodology,
    survey: &SurveyColumns,
    settings: &inference::Settings,
    path: &Path,
    members: Option<&Path>,
    progress: &dyn Fn(&str),
) -> Result<Analysis> {
    analyse_files_reading(m, survey, settings, path, members, Reading::Auto, progress)
}

/// Files of this size or more are read in batches when they can be.
pub const LARGE_FILE_BYTES: u64 = 64 * 1024 * 1024;

/// Parquet files of this many rows or more are read in batches when they can be: small
/// on disk, they are large once read, and a run that holds the whole file touches more
/// fresh memory than one that reuses a few batches' (the survey shape's 2.8 million
/// persons, 11 MB on disk: 636 against 473 MB at the peak, 491 against 422 ms;
/// BENCHMARKS.md, "Issue 15, sixth step").
pub const LARGE_PARQUET_ROWS: usize = 2 * batches::BATCH_ROWS;

/// How a survey file is read.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Reading {
    /// Whole, keeping every person's profile (what compare's overlap needs).
    Whole,
    /// In batches of this many rows, in memory bounded by the batch ([`batches`]): CSV
    /// and Parquet files, without a member file or household-level rules.
    Batches(usize),
    /// In batches of [`batches::BATCH_ROWS`] when the file has [`LARGE_FILE_BYTES`] or
    /// more, or is a Parquet file of [`LARGE_PARQUET_ROWS`] or more, and can be read so;
    /// else whole.
    Auto,
}

/// Why a file cannot be read in batches, if it cannot.
fn batches_impossible(
    m: &Methodology,
    survey: &SurveyColumns,
    request: &ColumnRequest,
    path: &Path,
    members: Option<&Path>,
) -> Option<&'static str> {
    let format = read::Format::of(path).ok()?;
    if !matches!(format, read::Format::Csv | read::Format::Parquet) {
        return Some("only CSV and Parquet files are read in batches");
    }
    if members.is_some() {
        return Some("a member file is joined to the whole household file");
    }
    if m.indicators
        .iter()
        .any(|i| matches!(&i.source, Source::Rule(r) if r.aggregate.is_some()))
    {
        return Some("household-level rules need every member of a household at once");
    }
    if survey.unit == Some(afmpi_core::methodology::Unit::Household) {
        return Some("under unit = \"household\" a household's rows are compared and counted once, so they are read together");
    }
    if format == read::Format::Csv && !request.raw.is_empty() {
        return Some("the columns of rules in a CSV file are typed from the whole file");
    }
    None
}

/// How the file will be read: in batches of so many rows, or whole (`None`).
fn batch_rows(
    reading: Reading,
    impossible: Option<&'static str>,
    path: &Path,
) -> Result<Option<usize>> {
    Ok(match (reading, impossible) {
        (Reading::Whole, _) => None,
        (Reading::Batches(n), None) => Some(n),
        (Reading::Batches(_), Some(why)) => {
            return Err(Error::Usage(format!(
                "{} cannot be read in batches: {why}; read it whole (without --batch-rows)",
                path.display()
            )))
        }
        (Reading::Auto, None)
            if std::fs::metadata(path).map(|f| f.len()).unwrap_or(0) >= LARGE_FILE_BYTES
                || read::parquet_rows(path).is_some_and(|rows| rows >= LARGE_PARQUET_ROWS) =>
        {
            Some(batches::BATCH_ROWS)
        }
        (Reading::Auto, _) => None,
    })
}

/// As [`analyse_files_with`], reading the file as `reading` says.
pub fn analyse_files_reading(
    m: &Methodology,
    survey: &SurveyColumns,
    settings: &inference::Settings,
    path: &Path,
    members: Option<&Path>,
    reading: Reading,
    progress: &dyn Fn(&str),
) -> Result<Analysis> {
    let (analysis, _) =
        analyse_files_persons(m, survey, settings, path, members, reading, None, progress)?;
    Ok(analysis)
}

/// Where a run writes its persons file ([`crate::persons`]) and the id columns it
/// carries beside the household id.
#[derive(Clone, Copy, Debug)]
pub struct PersonsFile<'a> {
    pub path: &'a Path,
    pub ids: &'a [String],
}

/// As [`analyse_files_reading`], writing one row per input row to the persons file when
/// `persons` is given (in batches as the survey is read in batches; renamed into place
/// once the whole run has succeeded). Returns the rows written to it.
#[allow(clippy::too_many_arguments)]
pub fn analyse_files_persons(
    m: &Methodology,
    survey: &SurveyColumns,
    settings: &inference::Settings,
    path: &Path,
    members: Option<&Path>,
    reading: Reading,
    persons: Option<PersonsFile>,
    progress: &dyn Fn(&str),
) -> Result<(Analysis, Option<usize>)> {
    progress("reading");
    let inputs = Inputs::open(path, members, survey)?;
    let available: Vec<String> = inputs
        .household_columns
        .iter()
        .chain(&inputs.member_columns)
        .cloned()
        .collect();
    let Plan {
        effective,
        absent,
        mut request,
    } = plan(m, survey, path, &available)?;
    let persons_request = match persons {
        Some(p) => Some(persons_request(
            p,
            &effective,
            survey,
            &mut request,
            path,
            &available,
        )?),
        None => None,
    };
    let mut sink = persons.map(|p| FrameSink::new(p.path)).transpose()?;
    let persons_out = persons_request.as_ref().zip(sink.as_mut());
    let run = Run {
        m,
        effective: &effective,
        survey,
        path,
        request: &request,
    };
    let impossible = batches_impossible(&effective, survey, &request, path, members);
    let mut notes: Vec<String> = Vec::new();
    let (sample, mut report, table) = match batch_rows(reading, impossible, path)? {
        Some(rows) => run.tabulate_batched(&inputs.input, rows, persons_out, progress)?,
        None => run.tabulate_whole(&inputs, persons_out, &mut notes, progress)?,
    };
    report.notes = inputs.notes_first(notes, std::mem::take(&mut report.notes))?;
    let mut analysis = finish(&effective, sample, report, table, settings, progress)?;
    note_absent(m, &absent, &mut analysis);
    let written = sink.map(FrameSink::finish).transpose()?;
    Ok((analysis, written))
}

/// The survey file and the member file, opened, with their column names.
struct Inputs {
    input: read::Input,
    member_input: Option<read::Input>,
    household_columns: Vec<String>,
    member_columns: Vec<String>,
}

impl Inputs {
    fn open(path: &Path, members: Option<&Path>, survey: &SurveyColumns) -> Result<Inputs> {
        let settings_of_files = read::FileSettings::of(survey)?;
        let input = read::Input::open(path, &settings_of_files)?;
        let member_input = members
            .map(|p| read::Input::open(p, &settings_of_files))
            .transpose()?;
        let household_columns = input.column_names()?;
        let member_columns = match &member_input {
            Some(i) => i.column_names()?,
            None => Vec::new(),
        };
        Ok(Inputs {
            input,
            member_input,
            household_columns,
            member_columns,
        })
    }

    /// The report's notes: how CSV files were read (once their rows' check, which ran
    /// beside the read, is done), the reading's notes, then the sample's.
    fn notes_first(&self, mut notes: Vec<String>, mut report: Vec<String>) -> Result<Vec<String>> {
        let mut read_as = Vec::new();
        for i in std::iter::once(&self.input).chain(self.member_input.as_ref()) {
            if i.dialect().is_some() {
                read_as.push(format!("read {}", i.describe()?));
            }
        }
        read_as.append(&mut notes);
        read_as.append(&mut report);
        Ok(read_as)
    }
}

/// What a run reads and how it names it: the steps of [`analyse_files_persons`].
struct Run<'a> {
    m: &'a Methodology,
    effective: &'a Methodology,
    survey: &'a SurveyColumns,
    path: &'a Path,
    request: &'a ColumnRequest,
}

impl Run<'_> {
    fn in_file(&self, c: &String) -> String {
        crate::naming::in_file(self.m, c)
    }

    /// The table of a file read in batches of `rows`.
    fn tabulate_batched(
        &self,
        input: &read::Input,
        rows: usize,
        persons_out: Option<(&persons::Request, &mut FrameSink)>,
        progress: &dyn Fn(&str),
    ) -> Result<(Sample, DataReport, Table)> {
        let in_file = |c: &String| self.in_file(c);
        let file_request = in_file_request(self.request, &in_file);
        let Some(frame) = input.scan(&file_request)? else {
            return Err(Error::input(
                self.path,
                "only CSV and Parquet files are read in batches",
            ));
        };
        progress("reading and tallying in batches");
        let rename = |df: DataFrame| {
            rename_columns(
                &input.batch(df, &file_request)?,
                self.request,
                &in_file,
                self.path,
            )
        };
        batches::tally_in_batches(
            frame,
            self.effective,
            self.survey,
            self.path,
            rows,
            &rename,
            persons_out,
        )
    }

    /// The table of a file read whole (joined to its member file, if any).
    fn tabulate_whole(
        &self,
        inputs: &Inputs,
        persons_out: Option<(&persons::Request, &mut FrameSink)>,
        notes: &mut Vec<String>,
        progress: &dyn Fn(&str),
    ) -> Result<(Sample, DataReport, Table)> {
        let in_file = |c: &String| self.in_file(c);
        let (df, unmatched) = match &inputs.member_input {
            None => (
                read_named(&inputs.input, self.request, &in_file, notes)?,
                None,
            ),
            Some(member_input) => members::join(
                &inputs.input,
                &inputs.household_columns,
                member_input,
                &inputs.member_columns,
                self.request,
                self.survey,
                &in_file,
                notes,
            )?,
        };
        // Members without a household have their rows too, in the member file's order.
        let persons_out = match (persons_out, &unmatched) {
            (Some((request, sink)), Some(u)) => {
                let rows = persons::unmatched_frame(
                    self.effective,
                    request,
                    &u.rows,
                    &u.reason,
                    self.path,
                )?;
                Some((request, sink, Some(rows)))
            }
            (Some((request, sink)), None) => Some((request, sink, None)),
            (None, _) => None,
        };
        // The columns read are handed over, to be dropped once the sample is built.
        let (sample, mut report, table) = tabulate_persons(
            df,
            self.effective,
            self.survey,
            self.path,
            progress,
            persons_out,
        )?;
        if let Some(members::Unmatched { reason, count, .. }) = unmatched {
            // Members without a household were read, and dropped first.
            report.rows_read += count;
            report.missing.insert(0, (reason, count));
        }
        Ok((sample, report, table))
    }
}

/// The id columns of the persons file, checked against the file's columns and added to
/// the columns read (as codes, never labels).
fn persons_request(
    persons: PersonsFile,
    m: &Methodology,
    survey: &SurveyColumns,
    request: &mut ColumnRequest,
    path: &Path,
    available: &[String],
) -> Result<persons::Request> {
    let ids: Vec<(String, String)> = persons
        .ids
        .iter()
        .map(|c| ("--id".to_string(), crate::naming::in_file(m, c)))
        .collect();
    read::check_columns(path, available, &ids)?;
    let out = persons::Request::new(persons.ids, survey);
    out.check_names(m)?;
    for id in &out.ids {
        if !request.all().contains(id) {
            request.codes.push(id.clone());
        }
    }
    Ok(out)
}

/// Tells the report which optional indicators were absent and dropped.
fn note_absent(m: &Methodology, absent: &[usize], analysis: &mut Analysis) {
    for &j in absent {
        let ind = &m.indicators[j];
        analysis.report.notes.push(format!(
            "optional indicator `{}` is absent from the data ({}): dropped, its weight {} shared among the other indicators of dimension \"{}\"",
            ind.id,
            ind.columns().join(", "),
            ind.weight,
            m.dimensions[ind.dimension].name
        ));
    }
}

/// Finishes every estimate from a sufficient-statistics table written by the query of
/// `afmpi sql` (by any engine), as a run on the survey would.
pub fn analyse_table(
    m: &Methodology,
    survey: &SurveyColumns,
    settings: &inference::Settings,
    path: &Path,
) -> Result<Analysis> {
    if survey.missing_rows == Some(afmpi_core::methodology::MissingRows::Domain) {
        return Err(Error::Usage(
            "missing_rows = \"domain\" is not read from a table of `afmpi sql` yet: run on the survey file, or use missing_rows = \"drop\"".into(),
        ));
    }
    if !m.alphas.is_empty()
        && m.indicators
            .iter()
            .any(|i| matches!(i.source, Source::Achievement { .. }))
    {
        return Err(Error::Usage(
            "M1 and M2 of cardinal indicators cannot be finished from a table of `afmpi sql`: the table holds no gaps; run on the survey file".into(),
        ));
    }
    let (effective, sample, table, report) = sql::read_table(path, m, survey)?;
    finish(&effective, sample, report, table, settings, &|_| {})
}
