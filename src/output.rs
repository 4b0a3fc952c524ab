//! Output: estimates and their inference in, the long results frame out — one estimate
//! per row, with the column names of Stata mpitb's results frames (`spec measure
//! indicator k loa subg t ctype yt0 yt1 ann b se ll ul`), so that code written for mpitb
//! and mpitbR outputs keeps working — written as CSV, Parquet or JSON, and a summary for
//! the terminal.
//!
//! Files are written to a temporary file beside the target and renamed into place, so a
//! run that fails never leaves a half-written file behind.

use std::fmt::Write as _;
use std::io::Write as _;
use std::path::Path;

use polars::prelude::*;
use rayon::prelude::*;

use crate::error::{Error, Result};
use afmpi_core::sample::codes::number_label;
use afmpi_core::sample::DataReport;
use crate::inference::{Change, Interval, LonelyPsu, Precision, Settings};
use crate::measures::{packed, present, subgroup_fields, Estimate, Measure};
use crate::Analysis;

/// The results frame's columns, in order.
pub const COLUMNS: [&str; 16] = [
    "spec",
    "measure",
    "indicator",
    "k",
    "group",
    "loa",
    "subg",
    "t",
    "ctype",
    "yt0",
    "yt1",
    "ann",
    "b",
    "se",
    "ll",
    "ul",
];

/// One row of the results: a level or a change, in the columns after `spec`.
struct Row<'a> {
    measure: &'static str,
    indicator: Option<&'a str>,
    k: Option<f64>,
    group: Option<&'a str>,
    loa: &'a str,
    subg: &'a str,
    t: Option<&'a str>,
    ctype: &'static str,
    /// yt0 and yt1: the two rounds of a change.
    years: Option<(String, String)>,
    ann: Option<i32>,
    /// b, se, ll, ul; a value that is not finite is missing.
    values: [Option<f64>; 4],
}

fn finite(x: f64) -> Option<f64> {
    Some(x).filter(|x| x.is_finite())
}

/// The start of a CSV line — spec, measure, indicator, k, group — kept while rows share
/// it: consecutive rows differ mostly in their subgroup and round.
#[derive(Default)]
struct LineStart<'a> {
    key: Option<StartKey<'a>>,
    text: Vec<u8>,
}

/// The fields a [`LineStart`] renders, but `spec`: measure, indicator, k, group.
type StartKey<'a> = (&'static str, Option<&'a str>, Option<f64>, Option<&'a str>);

impl<'a> Row<'a> {
    /// The row as a line of CSV, written as polars' `CsvWriter` writes it: missing
    /// values empty, numbers in their shortest round-trip form (by zmij, polars' own
    /// float formatter), text quoted only where it must be ([`csv_text`]).
    fn write_csv(&self, spec: &str, start: &mut LineStart<'a>, out: &mut Vec<u8>) {
        let key = (self.measure, self.indicator, self.k, self.group);
        if start.key != Some(key) {
            let text = &mut start.text;
            text.clear();
            for field in [Some(spec), Some(self.measure), self.indicator] {
                csv_text(text, field);
                text.push(b',');
            }
            csv_number(text, self.k);
            text.push(b',');
            csv_text(text, self.group);
            start.key = Some(key);
        }
        out.extend_from_slice(&start.text);
        let (yt0, yt1) = match &self.years {
            Some((y0, y1)) => (Some(y0.as_str()), Some(y1.as_str())),
            None => (None, None),
        };
        for field in [
            Some(self.loa),
            Some(self.subg),
            self.t,
            Some(self.ctype),
            yt0,
            yt1,
        ] {
            out.push(b',');
            csv_text(out, field);
        }
        out.push(b',');
        if let Some(ann) = self.ann {
            let _ = write!(out, "{ann}");
        }
        for value in self.values {
            out.push(b',');
            csv_number(out, value);
        }
        out.push(b'\n');
    }
}

/// Which rows of a run's results.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// The level estimates (`ctype = lev`).
    Levels,
    /// The changes between rounds (`ctype = abs, rel`).
    Changes,
    /// Levels followed by changes.
    All,
}

/// The rows of a run's results in their order — levels by group, measure, indicator,
/// cutoff, subgroup and round, then changes by the same and their rounds and type — as a
/// frame, or straight into a file.
pub struct Results<'a> {
    a: &'a Analysis,
    /// The level rows: the first `levels` estimates (all or none).
    levels: usize,
    /// The change rows.
    changes: &'a [Change],
    /// Each cutoff in percent, worked out once from its exact fraction.
    percents: Vec<f64>,
}

/// Rows of results made at once, as a frame or as CSV (pieces are made in parallel).
const PIECE_ROWS: usize = 2048;

/// The fields by which result rows are ordered, for [`packed`]: group, measure,
/// indicator, cutoff, subgroup (column and level); rounds and change types follow.
fn row_fields(
    group: Option<usize>,
    measure: Measure,
    indicator: Option<usize>,
    cutoff: Option<usize>,
    subgroup: Option<(usize, u32)>,
) -> [(u128, u32); 6] {
    let [column, level] = subgroup_fields(subgroup);
    [
        (present(group), 16),
        (measure as u128, 4),
        (present(indicator), 8),
        (present(cutoff), 24),
        column,
        level,
    ]
}

/// The order of a level row (see [`packed`]).
pub fn level_key(e: &Estimate) -> u128 {
    let [g, m, j, k, column, level] =
        row_fields(e.group, e.measure, e.indicator, e.cutoff, e.domain.subgroup);
    packed(&[g, m, j, k, column, level, (e.domain.round as u128, 16)])
}

/// The order of a change row (see [`packed`]).
pub fn change_key(c: &Change) -> u128 {
    let [g, m, j, k, column, level] =
        row_fields(c.group, c.measure, c.indicator, c.cutoff, c.subgroup);
    packed(&[
        g,
        m,
        j,
        k,
        column,
        level,
        (c.t0 as u128, 16),
        (c.t1 as u128, 16),
        (u128::from(c.annualized), 1),
        (c.ctype as u128, 1),
    ])
}

impl<'a> Results<'a> {
    /// The rows of `part`. The estimates and changes come in the rows' order
    /// ([`crate::measures::estimate`]): nothing is sorted.
    pub fn new(a: &'a Analysis, part: Part) -> Results<'a> {
        debug_assert!(a.estimates.is_sorted_by_key(level_key));
        debug_assert!(a.inference.changes.is_sorted_by_key(change_key));
        let levels = match part {
            Part::Changes => 0,
            Part::Levels | Part::All => a.estimates.len(),
        };
        let changes = match part {
            Part::Levels => &[][..],
            Part::Changes | Part::All => &a.inference.changes[..],
        };
        Results {
            a,
            levels,
            changes,
            percents: a.methodology.cutoffs.iter().map(|c| c.percent()).collect(),
        }
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        self.levels + self.changes.len()
    }

    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    /// Row `n`: levels first, then changes.
    fn row(&self, n: usize) -> Row<'a> {
        let a = self.a;
        let m = &a.methodology;
        let key = |measure: Measure,
                   indicator: Option<usize>,
                   cutoff: Option<usize>,
                   group: Option<usize>,
                   subgroup: Option<(usize, u32)>| {
            let (loa, subg) = match subgroup {
                None => ("nat", "nat"),
                Some((g, level)) => {
                    let grouping = &a.sample.groupings[g];
                    (
                        grouping.column.as_str(),
                        grouping.levels[level as usize].as_str(),
                    )
                }
            };
            Row {
                measure: measure.name(),
                indicator: indicator.map(|j| m.indicators[j].id.as_str()),
                k: cutoff.map(|c| self.percents[c]),
                group: group.map(|g| m.groups[g].name.as_str()),
                loa,
                subg,
                t: None,
                ctype: "lev",
                years: None,
                ann: None,
                values: [None; 4],
            }
        };
        let values = |b: f64, p: &Precision| [b, p.se, p.ll, p.ul].map(finite);
        if n < self.levels {
            let e = &a.estimates[n];
            let round = &a.sample.round_info[e.domain.round as usize];
            Row {
                t: a.sample.has_rounds.then_some(round.label.as_str()),
                values: values(e.b, &a.inference.levels[n]),
                ..key(e.measure, e.indicator, e.cutoff, e.group, e.domain.subgroup)
            }
        } else {
            let c = &self.changes[n - self.levels];
            Row {
                ctype: c.ctype.name(),
                years: Some(c.labels(&a.sample)),
                ann: Some(i32::from(c.annualized)),
                values: values(c.b, &c.precision),
                ..key(c.measure, c.indicator, c.cutoff, c.group, c.subgroup)
            }
        }
    }

    /// The rows cut into pieces of [`PIECE_ROWS`].
    fn pieces(&self) -> Vec<std::ops::Range<usize>> {
        (0..self.len())
            .step_by(PIECE_ROWS)
            .map(|start| start..(start + PIECE_ROWS).min(self.len()))
            .collect()
    }

    /// The results as a frame of [`COLUMNS`].
    pub fn frame(&self) -> DataFrame {
        let spec = self.a.methodology.name.as_str();
        let pieces: Vec<DataFrame> = self
            .pieces()
            .into_par_iter()
            .map(|rows| {
                let mut columns = Columns::default();
                for n in rows {
                    columns.push(self.row(n));
                }
                columns.frame(spec)
            })
            .collect();
        let mut pieces = pieces.into_iter();
        let mut frame = pieces
            .next()
            .unwrap_or_else(|| Columns::default().frame(spec));
        for piece in pieces {
            frame.vstack_mut(&piece).expect("frames of one schema");
        }
        frame
    }

    /// Writes the results to `path`, format by extension (.csv, .parquet, .json), through
    /// a temporary file renamed into place; `-` writes CSV to standard output. CSV is
    /// written straight from the rows, in parallel pieces: the same bytes as polars'
    /// writer gives the frame (a test checks this), without building the frame first,
    /// which would take as long again as the standard errors of every estimate.
    pub fn write(&self, path: &Path) -> Result<()> {
        let to_stdout = path.as_os_str() == "-";
        let is_csv = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| e.eq_ignore_ascii_case("csv"));
        if !to_stdout && !is_csv {
            return write_frame(&mut self.frame(), path);
        }
        let spec = self.a.methodology.name.as_str();
        let pieces: Vec<Vec<u8>> = self
            .pieces()
            .into_par_iter()
            .map(|rows| {
                let mut out = Vec::with_capacity(rows.len() * 160);
                let mut start = LineStart::default();
                for n in rows {
                    self.row(n).write_csv(spec, &mut start, &mut out);
                }
                out
            })
            .collect();
        let write_all = |out: &mut dyn std::io::Write| {
            out.write_all(csv_header(&COLUMNS).as_bytes())?;
            for piece in &pieces {
                out.write_all(piece)?;
            }
            out.flush()
        };
        if to_stdout {
            write_all(&mut std::io::stdout().lock()).map_err(|e| Error::input(path, e.to_string()))
        } else {
            write_atomically(path, |file| {
                write_all(file)
                    .map_err(|e| Error::input(path, format!("cannot write the results: {e}")))
            })
        }
    }
}

/// The columns of a results frame, filled row by row.
#[derive(Default)]
struct Columns<'a> {
    measure: Vec<&'static str>,
    indicator: Vec<Option<&'a str>>,
    k: Vec<Option<f64>>,
    group: Vec<Option<&'a str>>,
    loa: Vec<&'a str>,
    subg: Vec<&'a str>,
    t: Vec<Option<&'a str>>,
    ctype: Vec<&'static str>,
    yt0: Vec<Option<String>>,
    yt1: Vec<Option<String>>,
    ann: Vec<Option<i32>>,
    b: Vec<Option<f64>>,
    se: Vec<Option<f64>>,
    ll: Vec<Option<f64>>,
    ul: Vec<Option<f64>>,
}

impl<'a> Columns<'a> {
    fn push(&mut self, row: Row<'a>) {
        self.measure.push(row.measure);
        self.indicator.push(row.indicator);
        self.k.push(row.k);
        self.group.push(row.group);
        self.loa.push(row.loa);
        self.subg.push(row.subg);
        self.t.push(row.t);
        self.ctype.push(row.ctype);
        let (y0, y1) = row.years.unzip();
        self.yt0.push(y0);
        self.yt1.push(y1);
        self.ann.push(row.ann);
        let [b, se, ll, ul] = row.values;
        self.b.push(b);
        self.se.push(se);
        self.ll.push(ll);
        self.ul.push(ul);
    }

    fn frame(self, spec: &str) -> DataFrame {
        let n = self.measure.len();
        let columns = vec![
            Column::new("spec".into(), vec![spec; n]),
            Column::new("measure".into(), self.measure),
            Column::new("indicator".into(), self.indicator),
            Column::new("k".into(), self.k),
            Column::new("group".into(), self.group),
            Column::new("loa".into(), self.loa),
            Column::new("subg".into(), self.subg),
            Column::new("t".into(), self.t),
            Column::new("ctype".into(), self.ctype),
            Column::new("yt0".into(), self.yt0),
            Column::new("yt1".into(), self.yt1),
            Column::new("ann".into(), self.ann),
            Column::new("b".into(), self.b),
            Column::new("se".into(), self.se),
            Column::new("ll".into(), self.ll),
            Column::new("ul".into(), self.ul),
        ];
        DataFrame::new(n, columns).expect("columns of equal length")
    }
}

/// The long results frame of level estimates (`ctype = lev`).
pub fn levels_frame(a: &Analysis) -> DataFrame {
    Results::new(a, Part::Levels).frame()
}

/// The long results frame of changes between rounds (`ctype = abs, rel`).
pub fn changes_frame(a: &Analysis) -> DataFrame {
    Results::new(a, Part::Changes).frame()
}

/// Levels followed by changes, in one frame.
pub fn results_frame(a: &Analysis) -> DataFrame {
    Results::new(a, Part::All).frame()
}

/// Writes a frame to `path`, format by extension (.csv, .parquet, .json), through a
/// temporary file renamed into place. `-` writes CSV to standard output.
pub fn write_frame(frame: &mut DataFrame, path: &Path) -> Result<()> {
    if path.as_os_str() == "-" {
        let stdout = std::io::stdout();
        let mut lock = stdout.lock();
        lock.write_all(csv_header(&frame.get_column_names()).as_bytes())
            .map_err(|e| Error::input(path, e.to_string()))?;
        CsvWriter::new(&mut lock)
            .include_header(false)
            .finish(frame)
            .map_err(|e| Error::input(path, e.to_string()))?;
        return lock.flush().map_err(|e| Error::input(path, e.to_string()));
    }
    write_frames(path, &mut std::iter::once(frame.clone())).map(|_| ())
}

/// Writes frames of one schema one after the other into one CSV or Parquet file (JSON
/// takes a single frame), through [`write_atomically`], so that a file too large for
/// memory can be written piece by piece. Returns the rows written.
pub fn write_frames(path: &Path, frames: &mut dyn Iterator<Item = DataFrame>) -> Result<usize> {
    let ext = path
        .extension()
        .and_then(|e| e.to_str())
        .unwrap_or("")
        .to_ascii_lowercase();
    if !matches!(ext.as_str(), "csv" | "parquet" | "json") {
        return Err(Error::input(path, format!(
            "cannot tell the output format from the extension \"{ext}\": use .csv, .parquet or .json (or .xlsx for the workbook of run and compare)")));
    }
    let fail =
        |e: &dyn std::fmt::Display| Error::input(path, format!("cannot write the results: {e}"));
    let mut rows = 0;
    write_atomically(path, |file| {
        let Some(mut first) = frames.next() else {
            return Err(fail(&"nothing to write"));
        };
        rows += first.height();
        if ext == "json" {
            if frames.next().is_some() {
                return Err(fail(&"JSON takes one frame: write .csv or .parquet"));
            }
            return JsonWriter::new(file)
                .with_json_format(JsonFormat::Json)
                .finish(&mut first)
                .map_err(|e| fail(&e));
        }
        // The rest one after the other, through the format's batched writer.
        let mut write_all = |write: &mut dyn FnMut(&DataFrame) -> PolarsResult<()>| {
            write(&first)?;
            for frame in &mut *frames {
                rows += frame.height();
                write(&frame)?;
            }
            Ok::<_, PolarsError>(())
        };
        if ext == "csv" {
            file.write_all(csv_header(&first.get_column_names()).as_bytes())
                .map_err(|e| fail(&e))?;
            let mut w = CsvWriter::new(file)
                .include_header(false)
                .batched(first.schema())
                .map_err(|e| fail(&e))?;
            write_all(&mut |df| w.write_batch(df)).map_err(|e| fail(&e))
        } else {
            let mut w = ParquetWriter::new(file)
                .batched(first.schema())
                .map_err(|e| fail(&e))?;
            write_all(&mut |df| w.write_batch(df)).map_err(|e| fail(&e))?;
            w.finish().map(|_| ()).map_err(|e| fail(&e))
        }
    })?;
    Ok(rows)
}

/// The header line of a CSV file with these column names, as polars writes it. polars
/// 0.55 writes its header through a null array whose first use allocates and zeroes an
/// 8 MiB buffer: 5 ms of every run that writes CSV, for one line.
fn csv_header<S: AsRef<str>>(names: &[S]) -> String {
    let mut out = Vec::new();
    for (i, name) in names.iter().enumerate() {
        if i > 0 {
            out.push(b',');
        }
        csv_text(&mut out, Some(name.as_ref()));
    }
    out.push(b'\n');
    String::from_utf8(out).expect("names are text")
}

/// A text field as polars quotes it: missing is empty; an empty text, or one holding the
/// separator, a quote or a line break, goes in quotes, its quotes doubled.
fn csv_text(out: &mut Vec<u8>, text: Option<&str>) {
    let Some(text) = text else { return };
    let special = |b: &u8| matches!(b, b',' | b'"' | b'\n' | b'\r');
    if text.is_empty() || text.as_bytes().iter().any(special) {
        out.push(b'"');
        for &byte in text.as_bytes() {
            if byte == b'"' {
                out.push(b'"');
            }
            out.push(byte);
        }
        out.push(b'"');
    } else {
        out.extend_from_slice(text.as_bytes());
    }
}

/// A number field: missing is empty; else the shortest text that reads back as the same
/// double, by zmij as polars writes it.
fn csv_number(out: &mut Vec<u8>, x: Option<f64>) {
    if let Some(x) = x {
        out.extend_from_slice(zmij::Buffer::new().format(x).as_bytes());
    }
}

/// Writes `path` through a temporary file in the same folder, synced and renamed into
/// place: a failed write never leaves a half-written file behind.
pub fn write_atomically(
    path: &Path,
    write: impl FnOnce(&mut std::fs::File) -> Result<()>,
) -> Result<()> {
    let dir = match path.parent() {
        Some(p) if !p.as_os_str().is_empty() => p,
        _ => Path::new("."),
    };
    if !dir.is_dir() {
        return Err(Error::input(
            path,
            format!(
                "the folder {} does not exist: create it first",
                dir.display()
            ),
        ));
    }
    let fail = |e: &dyn std::fmt::Display| Error::input(path, format!("cannot write: {e}"));
    let mut tmp = tempfile::Builder::new()
        .prefix(".afmpi-")
        .suffix(".tmp")
        .tempfile_in(dir)
        .map_err(|e| fail(&e))?;
    write(tmp.as_file_mut())?;
    tmp.as_file_mut().sync_all().map_err(|e| fail(&e))?;
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let _ = std::fs::set_permissions(tmp.path(), std::fs::Permissions::from_mode(0o644));
    }
    tmp.persist(path).map_err(|e| fail(&e.error))?;
    Ok(())
}

/// Thousands separators for counts read by people.
pub fn count(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The data part of the terminal summary: rows read, used, dropped and why.
pub fn data_summary(report: &DataReport) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "rows: {} read, {} used, {} dropped",
        count(report.rows_read),
        count(report.rows_used),
        count(report.rows_dropped())
    );
    if !report.missing.is_empty() {
        let parts: Vec<String> = report
            .missing
            .iter()
            .map(|(c, k)| format!("{c} {}", count(*k)))
            .collect();
        let _ = writeln!(
            s,
            "  dropped for a missing value in: {} (a row can miss several)",
            parts.join(", ")
        );
    }
    for (column, k) in &report.unassigned {
        let _ = writeln!(
            s,
            "  note: {} rows have no value of `{column}`: they count nationally but in none of its subgroups",
            count(*k)
        );
    }
    for note in &report.notes {
        let _ = writeln!(s, "  note: {note}");
    }
    s
}

/// National H, A and M0 per cutoff and round with standard errors and intervals, and
/// their changes between rounds, as tables for the terminal.
pub fn national_summary(a: &Analysis, settings: &Settings) -> String {
    let m = &a.methodology;
    let mut s = String::new();
    let sample = &a.sample;
    let design = &a.inference.design;
    let interval = match settings.interval {
        Interval::Logit => "logit",
        Interval::Wald => "Wald",
    };
    let _ = writeln!(
        s,
        "design: {} strata, {} PSUs{}, {} degrees of freedom",
        count(design.psus_per_stratum.len()),
        count(design.n_psus as usize),
        if design.psu_is_row {
            " (each row a PSU)"
        } else {
            ""
        },
        count(design.df.max(0.0) as usize)
    );
    if !design.lonely.is_empty() {
        let policy = match design.lonely_psu {
            LonelyPsu::Remove => "contribute no variance (--lonely-psu remove)",
            LonelyPsu::Adjust => "are centred on the grand mean (--lonely-psu adjust)",
            LonelyPsu::Average => "get the other strata's average variance (--lonely-psu average)",
            LonelyPsu::Fail => "",
        };
        let _ = writeln!(
            s,
            "  note: {} strata have a single PSU and {policy}",
            design.lonely.len()
        );
    }
    let _ = writeln!(
        s,
        "national estimates ({}% confidence intervals, {interval})",
        number_label(settings.level * 100.0)
    );
    let _ = writeln!(
        s,
        "  {:<12}{:>12}  {:<4}{:>9}  {:>9}  {:>21}",
        if sample.has_rounds { "round" } else { "" },
        "k (%)",
        "",
        "estimate",
        "se",
        "interval"
    );
    let round_label = |r: usize| {
        let round = &sample.round_info[r];
        match round.year {
            Some(y) if sample.has_rounds => format!("{} ({})", round.label, number_label(y)),
            _ => round.label.clone(),
        }
    };
    for r in 0..sample.round_info.len() {
        // Each cutoff, then each named group (by name in the k column).
        let idents = m
            .cutoffs
            .iter()
            .enumerate()
            .map(|(c, cutoff)| (Some(c), None, format_k(cutoff.percent())))
            .chain(
                m.groups
                    .iter()
                    .enumerate()
                    .map(|(g, group)| (None, Some(g), group.name.clone())),
            );
        for (cutoff, group, label) in idents {
            for measure in [Measure::H, Measure::A, Measure::M0] {
                let Some(i) = a.estimates.iter().position(|e| {
                    e.measure == measure
                        && e.cutoff == cutoff
                        && e.group == group
                        && e.indicator.is_none()
                        && e.domain.subgroup.is_none()
                        && e.domain.round == r as u32
                }) else {
                    continue;
                };
                let p = &a.inference.levels[i];
                let _ = writeln!(
                    s,
                    "  {:<12}{:>12}  {:<4}{:>9}  {:>9}  {:>21}",
                    round_label(r),
                    label,
                    measure.name(),
                    fixed(a.estimates[i].b),
                    fixed(p.se),
                    format!("[{}, {}]", fixed(p.ll), fixed(p.ul))
                );
            }
        }
    }
    let national: Vec<&Change> = a
        .inference
        .changes
        .iter()
        .filter(|c| {
            c.subgroup.is_none()
                && !c.annualized
                && matches!(c.measure, Measure::H | Measure::A | Measure::M0)
        })
        .collect();
    if !national.is_empty() {
        let _ = writeln!(
            s,
            "national changes (absolute; relative in %; Wald {}% intervals; annualized changes are in the results file)",
            number_label(settings.level * 100.0)
        );
        let _ = writeln!(
            s,
            "  {:<24}{:>7}  {:<4}{:<9}{:>9}  {:>9}  {:>21}",
            "rounds", "k (%)", "", "change", "estimate", "se", "interval"
        );
        let mut rows = national.clone();
        rows.sort_by_key(|c| (c.t0, c.t1, c.cutoff, c.measure, c.annualized, c.ctype));
        for c in rows {
            let _ = writeln!(
                s,
                "  {:<24}{:>7}  {:<4}{:<9}{:>9}  {:>9}  {:>21}",
                format!(
                    "{} → {}",
                    round_label(c.t0 as usize),
                    round_label(c.t1 as usize)
                ),
                c.cutoff
                    .map(|k| format_k(m.cutoffs[k].percent()))
                    .unwrap_or_default(),
                c.measure.name(),
                c.ctype.name(),
                fixed(c.b),
                fixed(c.precision.se),
                format!("[{}, {}]", fixed(c.precision.ll), fixed(c.precision.ul))
            );
        }
    }
    s
}

/// A number with five decimals, or "-" when undefined.
fn fixed(x: f64) -> String {
    if x.is_finite() {
        format!("{x:.5}")
    } else {
        "-".into()
    }
}

fn format_k(k: f64) -> String {
    let rounded = (k * 100.0).round() / 100.0;
    if rounded == k {
        format!("{k}")
    } else {
        format!("{k:.2}")
    }
}

/// The methodology in words, for the terminal: source, cutoffs, named groups, and each
/// dimension's indicators with their weights and where their values come from.
pub fn methodology_summary(m: &crate::methodology::Methodology) -> String {
    use crate::methodology::Source;
    let mut s = String::new();
    let title = if m.title.is_empty() {
        &m.name
    } else {
        &m.title
    };
    let _ = writeln!(s, "{title} ({})", m.name);
    if !m.source.is_empty() {
        let _ = writeln!(s, "  source: {}", m.source);
    }
    let cutoffs: Vec<String> = m
        .cutoffs
        .iter()
        .map(|c| format!("{} ({:.2}%)", c.value, c.percent()))
        .collect();
    let _ = writeln!(
        s,
        "  {} dimensions, {} indicators; poor when the weighted deprivations reach k = {}",
        m.dimensions.len(),
        m.indicators.len(),
        cutoffs.join(", ")
    );
    for g in &m.groups {
        let _ = writeln!(s, "  group {}: {}", g.name, g.rule.text);
    }
    for (d, dimension) in m.dimensions.iter().enumerate() {
        let _ = writeln!(
            s,
            "  {} (weight {}, {:.2}%)",
            dimension.name,
            dimension.weight,
            100.0 * dimension.weight.to_f64()
        );
        for ind in m.indicators.iter().filter(|i| i.dimension == d) {
            let from = match &ind.source {
                Source::Column(c) => format!("column {c}"),
                Source::Rule(rule) if rule.aggregate.is_some() => format!(
                    "rule per member, aggregated to the household: {}",
                    rule.deprived.text
                ),
                Source::Rule(rule) => format!("rule: {}", rule.deprived.text),
            };
            let _ = writeln!(
                s,
                "    {:<34} {:>6} {:>7.2}%  {from}{}",
                ind.name,
                ind.weight.to_string(),
                100.0 * ind.weight.to_f64(),
                if ind.optional { " (optional)" } else { "" }
            );
        }
    }
    s
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_csv_header_is_the_one_polars_writes() {
        let names = ["b", "se", "a,b", "say \"hi\"", "two\nlines", "x y", ""];
        let columns: Vec<Column> = names
            .iter()
            .map(|&n| Column::new(n.into(), [1.0f64]))
            .collect();
        let mut frame = DataFrame::new(1, columns).expect("a frame");
        let mut polars_csv = Vec::new();
        CsvWriter::new(&mut polars_csv)
            .finish(&mut frame)
            .expect("written");
        let polars_csv = String::from_utf8(polars_csv).expect("text");
        let ours = csv_header(&frame.get_column_names());
        assert!(
            polars_csv.starts_with(&ours),
            "{ours:?} is not the start of {polars_csv:?}"
        );
        assert_eq!(polars_csv[ours.len()..].lines().count(), 1);
    }
}
