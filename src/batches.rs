//! Batches: a survey file too large for memory in — a census of a hundred million
//! persons — and the same sufficient-statistics [`Table`], sample labels and
//! [`DataReport`] out as a run that reads the file whole.
//!
//! A reading thread hands the needed columns over in batches of a fixed number of rows,
//! in file order, hand to hand (a channel of no slot): while two workers check and tally
//! a batch each, the reader decodes the next and waits with it, so at most three batches
//! are held (a slot for a fourth cost the survey shape 3-9 % more time and 40 MB more
//! memory: fresh memory is slow to get on this machine; BENCHMARKS.md, "Issue 15,
//! seventh step").
//! Parquet is read a slice at a time (polars reads only the row groups a slice covers); CSV
//! through polars' streaming engine, which cuts the batches as it parses (parsing text
//! is slower than tallying, so batches do not pile up). Each batch goes through the stages a
//! whole file goes through ([`indicators::prepare_rows`], [`tally::tally`]), except that
//! its codes of strata, PSUs and subgroup levels are left as met, not sorted: what a
//! batch knows only for itself is translated to codes kept across batches, and its cells
//! so keyed are appended to the cells so far (sorted, equal keys added, when they hold
//! a few batches' rows' worth). At the end the codes are renumbered in the labels' order, as a whole-file
//! run numbers them, and the cells sorted once more, where their order breaks
//! ([`tally::add_up_to_cells`]). The cells' sums of weights are
//! exact ([`afmpi_core::sums`]), so the table is the same to the bit as a whole-file
//! run's, whatever the batch size and the number of threads.

use std::num::NonZeroUsize;
use std::path::Path;
use std::sync::mpsc::{sync_channel, Receiver};

use polars::prelude::*;
use rayon::prelude::*;
use rustc_hash::FxHashMap;

use crate::error::{Error, Result};
use afmpi_core::sample::codes::sorted_codes;
use afmpi_core::sample::rounds::{self, in_time_order};
use afmpi_core::sample::{DataReport, Grouping, Round, Sample, MISSING};

use crate::indicators;
use crate::methodology::{Methodology, SurveyColumns};
use crate::output::FrameSink;
use crate::persons;
use crate::read;
use crate::tally::{self, Table};
use afmpi_core::sums::WeightSums;

/// Rows per batch: large enough that a batch's fixed costs vanish, small enough that two
/// batches of a few dozen columns stay well under a gigabyte.
pub const BATCH_ROWS: usize = 1 << 19;

/// The batches' cells are compacted when they hold this many batches' rows' worth (or
/// twice the cells they were compacted to, if more): what they hold stays within a few
/// batches' memory or twice the table's.
const COMPACT_BATCHES: usize = 4;

/// Batches checked and tallied at once.
/// (Fewer when the thread pool is smaller: `RAYON_NUM_THREADS=1` reads on one worker.)
const WORKERS: usize = 2;

/// Labels numbered in order of first appearance across batches.
#[derive(Default)]
struct Codes {
    labels: Vec<String>,
    index: FxHashMap<String, u32>,
}

impl Codes {
    fn code(&mut self, label: &str) -> u32 {
        if let Some(&c) = self.index.get(label) {
            return c;
        }
        let c = self.labels.len() as u32;
        self.labels.push(label.to_string());
        self.index.insert(label.to_string(), c);
        c
    }

    /// The code across batches of each of a batch's codes that `used` holds (in the
    /// order of the batch's labels; [`MISSING`] for the others).
    fn translate(&mut self, labels: &[String], used: impl Iterator<Item = u32>) -> Vec<u32> {
        let mut is_used = vec![false; labels.len()];
        for c in used.filter(|&c| c != MISSING) {
            is_used[c as usize] = true;
        }
        labels
            .iter()
            .zip(is_used)
            .map(|(label, used)| if used { self.code(label) } else { MISSING })
            .collect()
    }

    /// New code of each code, in the labels' sorted order, and the sorted labels.
    fn sorted(&self) -> (Vec<u32>, Vec<String>) {
        sorted_codes(&self.labels)
    }
}

/// Per cell (round, stratum, PSU, combination of subgroup levels, profile, flags, gaps):
/// the exact sums of weights and squared weights, and the count.
type Key = (u32, u32, u32, u32, u64, u32, u32);

/// What the batches so far add up to.
struct Accumulator {
    strata: Codes,
    psus: Codes,
    rounds: Codes,
    /// The year of each round (by its code), when the data have years.
    years: Vec<Option<f64>>,
    /// The single year of data without rounds.
    year: Option<f64>,
    levels: Vec<Codes>,
    columns: Vec<String>,
    /// The combinations of levels met so far (one code per subgroup column), numbered.
    combinations: Vec<Vec<u32>>,
    combination_index: FxHashMap<Vec<u32>, u32>,
    /// The batches' cells, keyed by codes across batches, one batch after the other in
    /// one list, given at the first batch the room the whole file will need when a
    /// Parquet footer tells its rows (a list grown by doubling leaves its old buffers
    /// behind, in a heap that keeps freed memory; a CSV file's list grows so, its rows
    /// unknown before the end); when it holds `compact_at` cells, sorted in place with
    /// the sums of equal keys added ([`tally::add_up`]), so that a cell many batches
    /// share is held about once. At the end its keys are renumbered in place: nothing is
    /// copied (a copy of the survey shape's 505,581 cells took 48 MB of fresh memory and
    /// 4-40 ms). (A hash table of a census's 2.8 million cells cost 2.8 s on the thread
    /// that adds the batches, much of it growing the table: BENCHMARKS.md, "Issue 15,
    /// sixth step".)
    cells: Vec<(Key, WeightSums)>,
    /// The rows the file has, when its footer says so (Parquet), for the room of `cells`.
    file_rows: Option<usize>,
    compact_at: usize,
    /// The fewest cells they are compacted at.
    compact_from: usize,
    report: Option<DataReport>,
    has_rounds: bool,
    psu_is_row: bool,
    /// The gap vectors met so far (the first empty), numbered across batches.
    gap_vectors: Vec<afmpi_core::sample::Gaps>,
    gap_index: FxHashMap<Vec<(usize, u64)>, u32>,
}

/// Reads `frame` (the needed columns of `file`) in batches of `batch_rows` rows, and returns the labels of the sample (without per-person values),
/// the table and the report. `rename` names a batch's columns as the methodology does.
pub fn tally_in_batches(
    frame: LazyFrame,
    m: &Methodology,
    survey: &SurveyColumns,
    file: &Path,
    batch_rows: usize,
    rename: &(dyn Fn(DataFrame) -> Result<DataFrame> + Sync),
    persons: Option<(&persons::Request, &mut FrameSink)>,
) -> Result<(Sample, DataReport, Table)> {
    let batch_rows = batch_rows.max(1);
    let (receive, reader) = spawn_reader(frame, file, batch_rows)?;
    let file_rows = read::parquet_rows(file);
    let mut acc = Accumulator::new(survey, COMPACT_BATCHES * batch_rows, file_rows);
    let (persons_request, mut sink) = match persons {
        Some((request, sink)) => (Some(request), Some(sink)),
        None => (None, None),
    };
    // Each batch checked and tallied as a whole file would be; its persons' rows made
    // beside (the sink writes them in file order).
    let process = |batch: PolarsResult<DataFrame>, first_row: usize| {
        let df = batch.map_err(|e| Error::input(file, format!("cannot read the file: {e}")))?;
        let df = rename(df)?;
        let asked = indicators::Preparing {
            with_rows: persons_request.is_some(),
            batch: true,
        };
        let (sample, report, rows) = indicators::prepare_rows(&df, m, survey, file, asked)
            .map_err(|e| e.after_rows(first_row))?;
        let persons = match (persons_request, rows) {
            (Some(request), Some(rows)) => {
                Some(persons::frame(m, request, &df, &rows, first_row, file)?)
            }
            _ => None,
        };
        drop(df);
        let (table, sums) = tally::tally_exact(&sample)?;
        Ok::<_, Error>((sample.labels_only(), report, (table, sums), persons))
    };
    let receive = std::sync::Mutex::new(receive);
    let outcome = add_in_file_order(&receive, &process, &mut acc, &mut sink, survey, file);
    // The reader stops when nobody receives.
    drop(receive);
    outcome?;
    reader.join().expect("the reading thread does not panic");
    let report = acc.report.take().unwrap_or_else(|| DataReport {
        file: file.to_path_buf(),
        ..Default::default()
    });
    afmpi_core::sample::check_not_empty(&report)?;
    let (sample, table) = acc.finish()?;
    Ok((sample, report, table))
}

/// A batch as the reader sends it: its index, its first row, its rows.
type Batch = (usize, usize, PolarsResult<DataFrame>);

/// A thread that reads the file in batches of `batch_rows` and hands each to the first
/// worker free for it, decoding at most one ahead of the workers.
fn spawn_reader(
    frame: LazyFrame,
    file: &Path,
    batch_rows: usize,
) -> Result<(Receiver<Batch>, std::thread::JoinHandle<()>)> {
    let (send, receive) = sync_channel::<Batch>(0);
    let reader = match read::Format::of(file)? {
        // Parquet: a slice of the file at a time (row groups outside it are not read).
        read::Format::Parquet => std::thread::spawn(move || {
            let mut offset = 0;
            for index in 0.. {
                let batch = frame
                    .clone()
                    .slice(offset as i64, batch_rows as IdxSize)
                    .collect();
                let done = batch.as_ref().map_or(true, |df| df.height() < batch_rows);
                let empty = batch.as_ref().is_ok_and(|df| df.height() == 0);
                if (!empty && send.send((index, offset, batch)).is_err()) || done {
                    return;
                }
                offset += batch_rows;
            }
        }),
        // CSV: polars' streaming engine cuts the batches as it parses.
        _ => {
            let on_error = send.clone();
            // Batches come in order and all but the last hold `batch_rows` rows.
            let index = std::sync::atomic::AtomicUsize::new(0);
            let sink = frame
                .sink_batches(
                    PlanCallback::new(move |df: DataFrame| {
                        let i = index.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
                        Ok(send.send((i, i * batch_rows, Ok(df))).is_err())
                    }),
                    true,
                    NonZeroUsize::new(batch_rows),
                )
                .map_err(|e| Error::input(file, format!("cannot read the file: {e}")))?;
            std::thread::spawn(move || {
                if let Err(e) = sink.collect_with_engine(Engine::Streaming) {
                    let _ = on_error.send((usize::MAX, 0, Err(e)));
                }
            })
        }
    };
    Ok((receive, reader))
}

/// What a worker makes of a batch: its sample's labels, its report, its table and,
/// when asked, its persons' rows.
type Tallied = Result<(
    Sample,
    DataReport,
    (Table, Vec<WeightSums>),
    Option<DataFrame>,
)>;

/// Two workers check and tally batches as they come; their tables are added in file
/// order (a batch that finishes early waits for the one before it). The first error
/// stops the workers.
fn add_in_file_order(
    receive: &std::sync::Mutex<Receiver<Batch>>,
    process: &(dyn Fn(PolarsResult<DataFrame>, usize) -> Tallied + Sync),
    acc: &mut Accumulator,
    sink: &mut Option<&mut FrameSink>,
    survey: &SurveyColumns,
    file: &Path,
) -> Result<()> {
    let stop = std::sync::atomic::AtomicBool::new(false);
    std::thread::scope(|scope| {
        let (done_send, done) = std::sync::mpsc::channel();
        for _ in 0..WORKERS.min(rayon::current_num_threads()) {
            let done_send = done_send.clone();
            let stop = &stop;
            scope.spawn(move || loop {
                if stop.load(std::sync::atomic::Ordering::Relaxed) {
                    return;
                }
                let next = receive.lock().expect("not poisoned").recv();
                let Ok((index, first_row, batch)) = next else {
                    return;
                };
                if done_send.send((index, process(batch, first_row))).is_err() {
                    return;
                }
            });
        }
        drop(done_send);
        let mut waiting = std::collections::BTreeMap::new();
        let mut next = 0;
        for (index, result) in done.iter() {
            waiting.insert(index, result);
            while let Some(result) = waiting.remove(&next) {
                let added = result.and_then(|(sample, report, table, persons)| {
                    if let (Some(sink), Some(persons)) = (sink.as_mut(), persons) {
                        sink.write(&persons)?;
                    }
                    acc.add(sample, report, table, survey, file)
                });
                if let Err(e) = added {
                    stop.store(true, std::sync::atomic::Ordering::Relaxed);
                    return Err(e);
                }
                next += 1;
            }
        }
        // A reading error that came after the last batch (polars' streaming engine).
        match waiting.into_values().find(Result::is_err) {
            Some(Err(e)) => Err(e),
            _ => Ok(()),
        }
    })
}

impl Accumulator {
    fn new(survey: &SurveyColumns, compact_from: usize, file_rows: Option<usize>) -> Accumulator {
        Accumulator {
            strata: Codes::default(),
            psus: Codes::default(),
            rounds: Codes::default(),
            years: Vec::new(),
            year: None,
            levels: survey.over.iter().map(|_| Codes::default()).collect(),
            columns: survey.over.clone(),
            combinations: Vec::new(),
            combination_index: FxHashMap::default(),
            cells: Vec::new(),
            file_rows,
            compact_at: compact_from,
            compact_from,
            report: None,
            has_rounds: survey.round.is_some(),
            psu_is_row: survey.psu.is_none(),
            gap_vectors: vec![Vec::new()],
            gap_index: std::iter::once((Vec::new(), 0)).collect(),
        }
    }

    fn add(
        &mut self,
        sample: Sample,
        report: DataReport,
        table: (Table, Vec<WeightSums>),
        survey: &SurveyColumns,
        file: &Path,
    ) -> Result<()> {
        let used = report.rows_used;
        match &mut self.report {
            Some(r) => r.absorb(report)?,
            None => self.report = Some(report),
        }
        if used == 0 {
            return Ok(());
        }
        let (table, sums) = table;
        let (strata, psus, levels) = self.codes_across_batches(&sample, &table);
        let rounds = self.round_codes(&sample, survey, file)?;
        let gaps: Vec<u32> = sample
            .gap_vectors
            .iter()
            .map(|v| self.gap_code(v))
            .collect();
        self.make_room(table.cells.len(), used);
        // A batch's packed levels -> the combination's code across batches.
        let mut combination_of: FxHashMap<u64, u32> = FxHashMap::default();
        for (cell, sums) in table.cells.iter().zip(&sums) {
            let combination = match combination_of.get(&cell.levels) {
                Some(&c) => c,
                None => {
                    let across: Vec<u32> = (0..levels.len())
                        .map(|g| match table.level(cell, g) {
                            Some(l) => levels[g][l as usize],
                            None => MISSING,
                        })
                        .collect();
                    let c = self.combination(across);
                    combination_of.insert(cell.levels, c);
                    c
                }
            };
            let key: Key = (
                rounds[cell.round as usize],
                strata[cell.stratum as usize],
                if self.psu_is_row {
                    0
                } else {
                    psus[cell.psu as usize]
                },
                combination,
                cell.profile,
                cell.flags,
                gaps[cell.gaps as usize],
            );
            self.cells.push((key, *sums));
        }
        self.compact_when_due()
    }

    /// Room in `cells` for a batch of `cells` cells from `rows` rows: at the first batch,
    /// for the whole file at the first batch's cells per row, and a quarter more.
    fn make_room(&mut self, cells: usize, rows: usize) {
        if self.cells.capacity() == 0 {
            if let Some(file_rows) = self.file_rows {
                let per_row = cells as f64 / rows.max(1) as f64;
                self.cells
                    .reserve((1.25 * per_row * file_rows as f64) as usize + cells);
                return;
            }
        }
        self.cells.reserve(cells);
    }

    /// A batch's codes of strata, PSUs and each subgroup's levels as codes across
    /// batches. A batch's codes are as met, with labels no kept row has (the batch's own
    /// numbering, never sorted): only the labels some cell uses get a code across
    /// batches, in the batch's order of labels, so that labels equal as numbers come in
    /// the order the file has them, as in a whole-file run.
    fn codes_across_batches(
        &mut self,
        sample: &Sample,
        table: &Table,
    ) -> (Vec<u32>, Vec<u32>, Vec<Vec<u32>>) {
        let strata = self.strata.translate(
            &sample.stratum_labels,
            table.cells.iter().map(|c| c.stratum),
        );
        let psus = match self.psu_is_row {
            true => Vec::new(),
            false => self
                .psus
                .translate(&sample.psu_labels, table.cells.iter().map(|c| c.psu)),
        };
        let packed_levels: rustc_hash::FxHashSet<u64> =
            table.cells.iter().map(|c| c.levels).collect();
        let levels = sample
            .groupings
            .iter()
            .zip(&mut self.levels)
            .enumerate()
            .map(|(g, (grouping, codes))| {
                let used = packed_levels
                    .iter()
                    .filter_map(|&levels| table.level_of(levels, g));
                codes.translate(&grouping.levels, used)
            })
            .collect();
        (strata, psus, levels)
    }

    /// The cells sorted in place, equal keys added, when they number `compact_at`.
    fn compact_when_due(&mut self) -> Result<()> {
        if self.cells.len() >= self.compact_at {
            self.cells = tally::add_up(std::mem::take(&mut self.cells))?;
            self.compact_at = self.compact_from.max(2 * self.cells.len());
        }
        Ok(())
    }

    /// A combination of levels (codes across batches) as its code.
    fn combination(&mut self, levels: Vec<u32>) -> u32 {
        if let Some(&c) = self.combination_index.get(&levels) {
            return c;
        }
        let c = self.combinations.len() as u32;
        self.combinations.push(levels.clone());
        self.combination_index.insert(levels, c);
        c
    }

    /// A batch's gap vector as a code kept across batches.
    fn gap_code(&mut self, gaps: &afmpi_core::sample::Gaps) -> u32 {
        let key: Vec<(usize, u64)> = gaps.iter().map(|&(j, g)| (j, g.to_bits())).collect();
        if let Some(&c) = self.gap_index.get(&key) {
            return c;
        }
        let c = self.gap_vectors.len() as u32;
        self.gap_vectors.push(gaps.clone());
        self.gap_index.insert(key, c);
        c
    }

    /// The batch's rounds as codes of the whole file's, each round with one year (a file
    /// without rounds with one year in all).
    fn round_codes(
        &mut self,
        sample: &Sample,
        survey: &SurveyColumns,
        file: &Path,
    ) -> Result<Vec<u32>> {
        let name = survey.year.as_deref().unwrap_or("year");
        let mut rounds = Vec::new();
        for round in &sample.round_info {
            if !self.has_rounds {
                if let (Some(y), Some(prev)) = (round.year, self.year) {
                    if y != prev {
                        return Err(rounds::several_years(file, name, prev, y));
                    }
                }
                self.year = self.year.or(round.year);
                rounds.push(0);
                continue;
            }
            let code = self.rounds.code(&round.label);
            if code as usize == self.years.len() {
                self.years.push(round.year);
            } else if self.years[code as usize] != round.year {
                return Err(rounds::two_years(
                    file,
                    name,
                    None,
                    &round.label,
                    self.years[code as usize],
                    round.year,
                ));
            }
            rounds.push(code);
        }
        Ok(rounds)
    }

    /// The rounds' new codes, in time order when there are years, else in label order;
    /// and the rounds so ordered.
    fn rounds_in_time_order(&self) -> (Vec<u32>, Vec<Round>) {
        if !self.has_rounds {
            let only = Round {
                label: String::new(),
                year: self.year,
            };
            return (vec![0], vec![only]);
        }
        let (by_label, labels) = self.rounds.sorted();
        let mut year_of_sorted: Vec<Option<f64>> = vec![None; labels.len()];
        for (old, &new) in by_label.iter().enumerate() {
            year_of_sorted[new as usize] = self.years[old];
        }
        let by_year = self.years.iter().any(Option::is_some);
        let (place, info) = in_time_order(&labels, &year_of_sorted, by_year);
        let new = by_label.iter().map(|&s| place[s as usize]).collect();
        (new, info)
    }

    /// Renumbers every code in its labels' order (rounds in time order) and builds the
    /// sorted table.
    fn finish(self) -> Result<(Sample, Table)> {
        let (stratum_new, stratum_labels) = if self.strata.labels.is_empty() {
            (vec![0], vec!["1".to_string()])
        } else {
            self.strata.sorted()
        };
        let (psu_new, psu_labels) = self.psus.sorted();
        let (round_new, round_info) = self.rounds_in_time_order();
        let mut groupings = Vec::new();
        let mut level_new = Vec::new();
        for (codes, column) in self.levels.into_iter().zip(self.columns) {
            let (new, levels) = codes.sorted();
            level_new.push(new);
            groupings.push(Grouping {
                column,
                levels,
                codes: Vec::new(),
            });
        }
        let radices = tally::radices(&groupings)?;
        // Each combination of levels packed once, and its rank among them. Every cell's
        // key is renumbered in place in the final codes, its combination's rank for its
        // levels (ranks sort as the packed levels do); then the cells are sorted, the
        // sums of equal keys (from different batches) added, and made the table's.
        let packed: Vec<u64> = (self.combinations.iter())
            .map(|levels| {
                let new = levels.iter().enumerate().map(|(g, &l)| match l {
                    MISSING => MISSING,
                    l => level_new[g][l as usize],
                });
                tally::pack_levels(new, &radices)
            })
            .collect();
        let mut by_rank: Vec<u32> = (0..packed.len() as u32).collect();
        by_rank.sort_unstable_by_key(|&c| packed[c as usize]);
        let mut rank = vec![0u32; packed.len()];
        for (r, &c) in by_rank.iter().enumerate() {
            rank[c as usize] = r as u32;
        }
        let psu_is_row = self.psu_is_row;
        let mut entries = self.cells;
        entries.par_iter_mut().for_each(|(key, _)| {
            let (round, stratum, psu, combination, ..) = *key;
            key.0 = round_new[round as usize];
            key.1 = stratum_new[stratum as usize];
            key.2 = if psu_is_row { 0 } else { psu_new[psu as usize] };
            key.3 = rank[combination as usize];
        });
        let cells = tally::add_up_to_cells(
            entries,
            |(round, stratum, psu, rank, profile, flags, gaps)| {
                let levels = packed[by_rank[rank as usize] as usize];
                (round, stratum, psu, levels, profile, flags, gaps)
            },
        )?;
        let sample = Sample::from_labels(
            stratum_labels,
            psu_labels,
            round_info,
            groupings,
            self.has_rounds,
            self.psu_is_row,
        );
        Ok((
            sample,
            Table::new(cells, radices).with_gaps(self.gap_vectors),
        ))
    }
}
