//! Result rows: an analysis in, its rows in the results' order — levels by group,
//! measure, indicator, cutoff, subgroup and round, then changes — as a polars frame of
//! [`super::COLUMNS`], or straight into a file (CSV by [`super::csv`]).

use std::path::Path;

use polars::prelude::*;
use rayon::prelude::*;

use super::csv::{csv_header, LineStart};
use super::files::{write_atomically, write_frame};
use super::COLUMNS;
use crate::error::{Error, Result};
use crate::inference::{Change, Precision};
use crate::measures::{Estimate, Measure};
use crate::Analysis;

/// One row of the results: a level or a change, in the columns after `spec`.
pub(super) struct Row<'a> {
    pub(super) measure: &'static str,
    pub(super) indicator: Option<&'a str>,
    pub(super) k: Option<f64>,
    pub(super) group: Option<&'a str>,
    pub(super) loa: &'a str,
    pub(super) subg: &'a str,
    pub(super) t: Option<&'a str>,
    pub(super) ctype: &'static str,
    /// yt0 and yt1: the two rounds of a change.
    pub(super) years: Option<(String, String)>,
    pub(super) ann: Option<i32>,
    /// b, se, ll, ul; a value that is not finite is missing.
    pub(super) values: [Option<f64>; 4],
    /// Why a value is left empty ([`Note`]).
    pub(super) note: Option<&'static str>,
}

/// Why a value of the results is left empty.
struct Note;

impl Note {
    const WEIGHTLESS: &'static str = "the domain weighs nothing: every weight in it is 0";
    const NOBODY_POOR: &'static str = "undefined: nobody in the domain is poor at this cutoff";
    const NO_DF: &'static str = "no interval: the design has no degree of freedom";
    const ROUND_UNDEFINED: &'static str = "undefined: the estimate is empty in a round";
    const SAMPLE_FACT: &'static str = "a fact of the sample, not an estimate: no standard error";

    /// The note of a level estimate, if one of its values is empty.
    fn level(
        b: Option<f64>,
        values: &[Option<f64>; 4],
        weightless: bool,
        df: f64,
    ) -> Option<&'static str> {
        match (b, values[2]) {
            (None, _) if weightless => Some(Note::WEIGHTLESS),
            (None, _) => Some(Note::NOBODY_POOR),
            (Some(_), None) if df <= 0.0 => Some(Note::NO_DF),
            _ => None,
        }
    }

    /// The note of a change, if one of its values is empty.
    fn change(values: &[Option<f64>; 4], df: f64) -> Option<&'static str> {
        match (values[0], values[2]) {
            (None, _) => Some(Note::ROUND_UNDEFINED),
            (Some(_), None) if df <= 0.0 => Some(Note::NO_DF),
            _ => None,
        }
    }
}

/// A value of the results: none when it is not finite.
pub fn finite(x: f64) -> Option<f64> {
    Some(x).filter(|x| x.is_finite())
}

/// Which rows of a run's results.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Part {
    /// The level estimates (`ctype = lev`).
    Levels,
    /// The changes between rounds (`ctype = abs, rel`, and M0's parts `abs_H`, `abs_A`).
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
    /// The rows of sample facts after the levels (with them or not at all).
    facts: Vec<Fact>,
    /// The splits of inequality among the poor after the facts, two rows each (within,
    /// between), with the levels or not at all.
    splits: &'a [crate::inference::InequalitySplit],
    /// The change rows.
    changes: &'a [Change],
    /// Each cutoff in percent, worked out once from its exact fraction.
    percents: Vec<f64>,
    /// The domains that weigh nothing, for the notes.
    weightless: rustc_hash::FxHashSet<crate::domain::Domain>,
}

/// A row of the results that is a fact of the sample, not an estimate (as mpitb's
/// `aux(mv N)`): per domain the persons used (`N`) and Kish's effective sample size
/// (`Neff`); per indicator the share of the rows read missing it (`mv`) and the
/// weighted share (`mv_w`).
struct Fact {
    measure: &'static str,
    indicator: Option<usize>,
    subgroup: Option<(usize, u32)>,
    round: Option<u32>,
    b: f64,
}

/// The sample facts of an analysis, in the results' order: N and Neff domain by
/// domain, then mv and mv_w indicator by indicator (over all the rows read).
fn facts(a: &Analysis) -> Vec<Fact> {
    let sizes = a.table.sample_sizes();
    let domains: Vec<crate::domain::Domain> =
        crate::measures::domains(&a.table, a.sample.round_info.len())
            .into_iter()
            .filter(|d| sizes.contains_key(d))
            .collect();
    let mut out = Vec::new();
    let per_domain = [
        (
            "N",
            (|s: &afmpi_core::tally::SampleSize| s.persons as f64) as fn(&_) -> f64,
        ),
        ("Neff", |s| s.effective()),
    ];
    for (measure, value) in per_domain {
        for d in &domains {
            out.push(Fact {
                measure,
                indicator: None,
                subgroup: d.subgroup,
                round: Some(d.round),
                b: value(&sizes[d]),
            });
        }
    }
    for (measure, weighted) in [("mv", false), ("mv_w", true)] {
        for j in 0..a.methodology.indicators.len() {
            if let Some((rows, weight)) = a.report.missing_shares(j) {
                out.push(Fact {
                    measure,
                    indicator: Some(j),
                    subgroup: None,
                    round: None,
                    b: if weighted { weight } else { rows },
                });
            }
        }
    }
    out
}

/// Rows of results made at once, as a frame or as CSV (pieces are made in parallel).
const PIECE_ROWS: usize = 2048;

/// The order of a level row: [`Estimate::order`].
pub fn level_key(e: &Estimate) -> u128 {
    e.order()
}

/// The order of a change row: [`Change::order`].
pub fn change_key(c: &Change) -> u128 {
    c.order()
}

impl<'a> Results<'a> {
    /// The rows of `part`. The estimates and changes come in the rows' order
    /// ([`crate::measures::estimate`]): nothing is sorted.
    pub fn new(a: &'a Analysis, part: Part) -> Results<'a> {
        debug_assert!(a.estimates.is_sorted_by_key(level_key));
        debug_assert!(a.inference.changes.is_sorted_by_key(change_key));
        let (levels, facts) = match part {
            Part::Changes => (0, Vec::new()),
            Part::Levels | Part::All => (a.estimates.len(), facts(a)),
        };
        let changes = match part {
            Part::Levels => &[][..],
            Part::Changes | Part::All => &a.inference.changes[..],
        };
        let splits = match part {
            Part::Changes => &[][..],
            Part::Levels | Part::All => &a.inference.splits[..],
        };
        Results {
            a,
            levels,
            facts,
            splits,
            changes,
            percents: a.methodology.cutoffs.iter().map(|c| c.percent()).collect(),
            weightless: a.weightless.iter().copied().collect(),
        }
    }

    /// The number of rows.
    pub fn len(&self) -> usize {
        self.levels + self.facts.len() + 2 * self.splits.len() + self.changes.len()
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
                note: None,
            }
        };
        let df = a.inference.design.df;
        let values = |b: f64, p: &Precision| [b, p.se, p.ll, p.ul].map(finite);
        if n < self.levels {
            let e = &a.estimates[n];
            let v = values(e.b, &a.inference.levels[n]);
            Row {
                t: a.sample.round_t(e.domain.round),
                note: Note::level(v[0], &v, self.weightless.contains(&e.domain), df),
                values: v,
                ..key(e.measure, e.indicator, e.cutoff, e.group, e.domain.subgroup)
            }
        } else if n < self.levels + self.facts.len() {
            let f = &self.facts[n - self.levels];
            Row {
                measure: f.measure,
                t: f.round.and_then(|t| a.sample.round_t(t)),
                values: [finite(f.b), None, None, None],
                note: Some(Note::SAMPLE_FACT),
                ..key(Measure::M0, f.indicator, None, None, f.subgroup)
            }
        } else if n < self.levels + self.facts.len() + 2 * self.splits.len() {
            let i = n - self.levels - self.facts.len();
            let row = key(
                Measure::Ineq,
                None,
                Some(self.splits[i / 2].cutoff),
                None,
                None,
            );
            self.split_row(i, row)
        } else {
            let c = &self.changes[n - self.levels - self.facts.len() - 2 * self.splits.len()];
            let row = Row {
                ctype: c.ctype.name(),
                years: Some(c.labels(&a.sample)),
                ann: Some(i32::from(c.annualized)),
                note: Note::change(&values(c.b, &c.precision), df),
                values: values(c.b, &c.precision),
                ..key(c.measure, c.indicator, c.cutoff, c.group, c.subgroup)
            };
            // The whole sample's change split over a column's levels: the column, no
            // level.
            match c.over {
                Some(g) => Row {
                    loa: a.sample.groupings[g].column.as_str(),
                    subg: "",
                    ..row
                },
                None => row,
            }
        }
    }

    /// Row `i` of the splits of inequality among the poor: split i / 2's part within
    /// (even i) or between (odd) the levels of its column, over `row`'s labels.
    fn split_row(&self, i: usize, row: Row<'a>) -> Row<'a> {
        let a = self.a;
        let split = &self.splits[i / 2];
        let (measure, &(b, p)) = match i % 2 {
            0 => ("ineq_within", &split.within),
            _ => ("ineq_between", &split.between),
        };
        let v = [b, p.se, p.ll, p.ul].map(finite);
        Row {
            measure,
            t: a.sample.round_t(split.round),
            loa: a.sample.groupings[split.column].column.as_str(),
            subg: "",
            note: Note::level(v[0], &v, false, a.inference.design.df),
            values: v,
            ..row
        }
    }

    /// The rows cut into pieces of `rows` (at least one).
    fn pieces(&self, rows: usize) -> Vec<std::ops::Range<usize>> {
        let rows = rows.max(1);
        (0..self.len())
            .step_by(rows)
            .map(|start| start..(start + rows).min(self.len()))
            .collect()
    }

    /// The results as a frame of [`COLUMNS`].
    pub fn frame(&self) -> DataFrame {
        let spec = self.a.methodology.name.as_str();
        // Pieces of a frame are fewer than of CSV text: each makes its columns, and the
        // frame stacks them.
        let rows = PIECE_ROWS.max(self.len().div_ceil(4 * rayon::current_num_threads()));
        let pieces: Vec<DataFrame> = self
            .pieces(rows)
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
        // One chunk per column: a Parquet writer makes a row group of each chunk, and
        // each row group's column opens a compressor of its own.
        frame.rechunk_mut_par();
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
            .pieces(PIECE_ROWS)
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
    measure: TextColumn<'a>,
    indicator: TextColumn<'a>,
    k: Vec<Option<f64>>,
    group: TextColumn<'a>,
    loa: TextColumn<'a>,
    subg: TextColumn<'a>,
    t: TextColumn<'a>,
    ctype: TextColumn<'a>,
    yt0: Vec<Option<String>>,
    yt1: Vec<Option<String>>,
    ann: Vec<Option<i32>>,
    b: Vec<Option<f64>>,
    se: Vec<Option<f64>>,
    ll: Vec<Option<f64>>,
    ul: Vec<Option<f64>>,
    note: TextColumn<'a>,
}

impl<'a> Columns<'a> {
    fn push(&mut self, row: Row<'a>) {
        self.measure.push(Some(row.measure));
        self.indicator.push(row.indicator);
        self.k.push(row.k);
        self.group.push(row.group);
        self.loa.push(Some(row.loa));
        self.subg.push(Some(row.subg));
        self.t.push(row.t);
        self.ctype.push(Some(row.ctype));
        let (y0, y1) = row.years.unzip();
        self.yt0.push(y0);
        self.yt1.push(y1);
        self.ann.push(row.ann);
        let [b, se, ll, ul] = row.values;
        self.b.push(b);
        self.se.push(se);
        self.ll.push(ll);
        self.ul.push(ul);
        self.note.push(row.note);
    }

    fn frame(self, spec: &str) -> DataFrame {
        let n = self.k.len();
        let columns = vec![
            Column::new("spec".into(), vec![spec; n]),
            self.measure.column("measure"),
            self.indicator.column("indicator"),
            Column::new("k".into(), self.k),
            self.group.column("group"),
            self.loa.column("loa"),
            self.subg.column("subg"),
            self.t.column("t"),
            self.ctype.column("ctype"),
            Column::new("yt0".into(), self.yt0),
            Column::new("yt1".into(), self.yt1),
            Column::new("ann".into(), self.ann),
            Column::new("b".into(), self.b),
            Column::new("se".into(), self.se),
            Column::new("ll".into(), self.ll),
            Column::new("ul".into(), self.ul),
            self.note.column("note"),
        ];
        DataFrame::new(n, columns).expect("columns of equal length")
    }
}

/// A text column of the results, of few distinct values (names of measures, indicators,
/// subgroup levels): each row's value as its index among the distinct texts, which
/// polars then gathers, instead of each text pushed into polars' array (about 30 ns a
/// value: the survey shape's results frame took 9-17 ms, now 7-14; BENCHMARKS.md,
/// "Issue 15, eighth step"). The texts are told apart by where they are: the same text from two
/// places is listed twice, which the gathered column does not show.
#[derive(Default)]
struct TextColumn<'a> {
    rows: Vec<Option<IdxSize>>,
    texts: Vec<&'a str>,
    index: rustc_hash::FxHashMap<(usize, usize), IdxSize>,
}

impl<'a> TextColumn<'a> {
    fn push(&mut self, text: Option<&'a str>) {
        let code = text.map(|text| {
            let texts = &mut self.texts;
            *(self.index)
                .entry((text.as_ptr() as usize, text.len()))
                .or_insert_with(|| {
                    texts.push(text);
                    (texts.len() - 1) as IdxSize
                })
        });
        self.rows.push(code);
    }

    fn column(self, name: &str) -> Column {
        let texts = StringChunked::from_slice(name.into(), &self.texts);
        let rows = IdxCa::from_slice_options(name.into(), &self.rows);
        let gathered = texts.take(&rows).expect("indices among the texts");
        gathered.into_series().into_column()
    }
}

/// The long results frame of level estimates (`ctype = lev`).
pub fn levels_frame(a: &Analysis) -> DataFrame {
    Results::new(a, Part::Levels).frame()
}

/// The long results frame of changes between rounds (`ctype = abs, rel, abs_H, abs_A`).
pub fn changes_frame(a: &Analysis) -> DataFrame {
    Results::new(a, Part::Changes).frame()
}

/// Levels followed by changes, in one frame.
pub fn results_frame(a: &Analysis) -> DataFrame {
    Results::new(a, Part::All).frame()
}
