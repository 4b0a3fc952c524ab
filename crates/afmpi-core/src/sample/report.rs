//! The data report: what a run read, used and dropped, and why. Every run prints it;
//! nothing is dropped without a count here. The checks of a sample that leave nothing to
//! estimate (no row, no weight) are here too, so that they fail with the report's words.

use std::path::PathBuf;

use crate::error::{Error, Result};
use crate::sums::WeightSum;

/// What a run read, used and dropped, and why.
#[derive(Clone, Debug, Default)]
pub struct DataReport {
    pub file: PathBuf,
    pub rows_read: usize,
    pub rows_used: usize,
    /// Rows missing each column (a row missing several columns counts in each).
    pub missing: Vec<(String, usize)>,
    /// Rows used without a value of a subgroup column: they count nationally, in none of
    /// that column's subgroups.
    pub unassigned: Vec<(String, usize)>,
    /// Other facts the user should know (no weight column, no PSU column…).
    pub notes: Vec<String>,
    /// Under `unit = "household"`: the households the rows used make, each counted once.
    pub households: Option<usize>,
    /// Per indicator (by index; absent at the end when none is missing): the rows read
    /// that miss it, and the sum of their weights (exact).
    pub indicator_missing: Vec<WeightSum>,
    /// The sum of the weights of the rows read that have one (the rows, without a
    /// weight column): the base of the weighted share of missing values.
    pub weight_read: WeightSum,
}

impl DataReport {
    /// Indicator j's missing values: the share of the rows read, and the weighted
    /// share; `None` where the report does not know them (a table made elsewhere).
    pub fn missing_shares(&self, j: usize) -> Option<(f64, f64)> {
        let base = self.weight_read.weight();
        if base == 0.0 {
            return None;
        }
        let missing = self.indicator_missing.get(j).copied().unwrap_or_default();
        Some((
            missing.count() as f64 / self.rows_read as f64,
            missing.weight() / base,
        ))
    }
}

impl DataReport {
    pub fn rows_dropped(&self) -> usize {
        self.rows_read - self.rows_used
    }

    /// Adds another batch's report to this one.
    pub fn absorb(&mut self, other: DataReport) -> Result<()> {
        self.rows_read += other.rows_read;
        self.rows_used += other.rows_used;
        if let Some(h) = other.households {
            *self.households.get_or_insert(0) += h;
        }
        self.weight_read.absorb(&other.weight_read)?;
        if self.indicator_missing.len() < other.indicator_missing.len() {
            self.indicator_missing
                .resize(other.indicator_missing.len(), WeightSum::default());
        }
        for (into, from) in self
            .indicator_missing
            .iter_mut()
            .zip(other.indicator_missing)
        {
            into.absorb(&from)?;
        }
        let add = |into: &mut Vec<(String, usize)>, from: Vec<(String, usize)>| {
            for (column, k) in from {
                match into.iter_mut().find(|(c, _)| *c == column) {
                    Some((_, total)) => *total += k,
                    None => into.push((column, k)),
                }
            }
        };
        add(&mut self.missing, other.missing);
        add(&mut self.unassigned, other.unassigned);
        for note in other.notes {
            if !self.notes.contains(&note) {
                self.notes.push(note);
            }
        }
        Ok(())
    }
}

/// The error when no row is left to analyse.
pub fn check_not_empty(report: &DataReport) -> Result<()> {
    if report.rows_used > 0 {
        return Ok(());
    }
    if report.rows_read == 0 {
        return Err(Error::input(
            &report.file,
            "the file has no data rows (a header and nothing else): there is nothing to analyse",
        ));
    }
    Err(Error::input(&report.file, format!(
        "no row is left to analyse: all {} rows miss a value of an indicator, the weight or a design column ({})",
        report.rows_read,
        report.missing.iter().map(|(c, k)| format!("{c}: {k}")).collect::<Vec<_>>().join(", "))))
}

/// The population the weights give: an error when the sample or a round weighs nothing
/// (every estimate would be empty); a note naming the subgroup levels that weigh nothing
/// in a round (their estimates are left empty), and those domains.
pub fn check_weights(
    report: &mut DataReport,
    sample: &super::Sample,
    table: &crate::tally::Table,
) -> Result<Vec<crate::domain::Domain>> {
    let n_rounds = sample.round_info.len().max(1);
    let weighed = Weighed::of(table, n_rounds);
    let weight = |t: usize| -> String {
        if sample.has_rounds {
            format!("round {}", sample.round_info[t].label)
        } else {
            "the sample".to_string()
        }
    };
    if let Some(t) = weighed.rounds.iter().position(|&(_, w)| !w) {
        return Err(Error::input(&report.file, format!(
            "{} weighs nothing: its {} rows have sampling weight zero, so no estimate is defined. Check the weight column (a weight of 0 leaves a person out), or drop the round",
            weight(t),
            if sample.has_rounds { "kept" } else { "used" }
        )));
    }
    let mut weightless: Vec<String> = Vec::new();
    let mut domains = Vec::new();
    for (g, grouping) in sample.groupings.iter().enumerate() {
        for (i, &(rows, weighs)) in weighed.levels[g].iter().enumerate() {
            if rows && !weighs {
                let (level, t) = (i / n_rounds, i % n_rounds);
                domains.push(crate::domain::Domain {
                    subgroup: Some((g, level as u32)),
                    round: t as u32,
                });
                let round = if sample.has_rounds {
                    format!(" in round {}", sample.round_info[t].label)
                } else {
                    String::new()
                };
                weightless.push(format!(
                    "{} = {}{round}",
                    grouping.column, grouping.levels[level]
                ));
            }
        }
    }
    if !weightless.is_empty() {
        report.notes.push(format!(
            "{} subgroup levels have rows but weigh nothing (every weight is 0), so their estimates are left empty: {}",
            weightless.len(),
            weightless.join(", ")
        ));
    }
    Ok(domains)
}

/// Whether each round, and each subgroup level in each round (level × rounds + round),
/// has cells and whether any of them weighs something: all the weight checks need, in
/// one parallel pass over the cells (booleans, so the order of the cells is free). A
/// cell's levels are unpacked only when they differ from the cell before's: cells
/// sorted by PSU come in long runs of one combination.
struct Weighed {
    rounds: Vec<(bool, bool)>,
    levels: Vec<Vec<(bool, bool)>>,
}

impl Weighed {
    fn of(table: &crate::tally::Table, n_rounds: usize) -> Weighed {
        use rayon::prelude::*;
        let n_levels: Vec<usize> = table.radices.iter().map(|r| *r as usize - 1).collect();
        let empty = || Weighed {
            rounds: vec![(false, false); n_rounds],
            levels: n_levels
                .iter()
                .map(|n| vec![(false, false); n * n_rounds])
                .collect(),
        };
        let mark = |slot: Option<&mut (bool, bool)>, weighs: bool| {
            if let Some((rows, w)) = slot {
                *rows = true;
                *w |= weighs;
            }
        };
        table
            .cells
            .par_chunks(1 << 16)
            .map(|cells| {
                let mut seen = empty();
                let mut last: Option<(u64, Vec<Option<u32>>)> = None;
                for cell in cells {
                    let weighs = cell.weight > 0.0;
                    let t = cell.round as usize;
                    mark(seen.rounds.get_mut(t), weighs);
                    if last.as_ref().is_none_or(|(l, _)| *l != cell.levels) {
                        let levels = (0..n_levels.len()).map(|g| table.level(cell, g)).collect();
                        last = Some((cell.levels, levels));
                    }
                    let (_, levels) = last.as_ref().expect("just set");
                    for (g, level) in levels.iter().enumerate() {
                        if let Some(level) = level {
                            let i = *level as usize * n_rounds + t;
                            mark(seen.levels[g].get_mut(i), weighs);
                        }
                    }
                }
                seen
            })
            .reduce(empty, |mut a, b| {
                let or = |x: &mut Vec<(bool, bool)>, y: &[(bool, bool)]| {
                    for (p, q) in x.iter_mut().zip(y) {
                        *p = (p.0 | q.0, p.1 | q.1);
                    }
                };
                or(&mut a.rounds, &b.rounds);
                for (x, y) in a.levels.iter_mut().zip(&b.levels) {
                    or(x, y);
                }
                a
            })
    }
}

/// A note when PSUs of the table occur in more than one round (within a stratum): they
/// are one PSU followed across the rounds (`psu_across_rounds = "panel"`, the default;
/// under "distinct" the sample builder has already told them apart).
pub fn note_shared_psus(
    report: &mut DataReport,
    sample: &super::Sample,
    table: &crate::tally::Table,
) {
    if !sample.has_rounds || sample.psu_is_row {
        return;
    }
    let mut first: rustc_hash::FxHashMap<(u32, u32), u32> = Default::default();
    let mut shared: rustc_hash::FxHashSet<(u32, u32)> = Default::default();
    for cell in &table.cells {
        let r = *first.entry((cell.stratum, cell.psu)).or_insert(cell.round);
        if r != cell.round {
            shared.insert((cell.stratum, cell.psu));
        }
    }
    if shared.is_empty() {
        return;
    }
    let example = shared
        .iter()
        .filter_map(|&(_, p)| sample.psu_labels.get(p as usize))
        .min()
        .cloned()
        .unwrap_or_default();
    report.notes.push(format!(
        "{} PSU ids occur in more than one round (e.g. {example}): read as one PSU followed across the rounds (psu_across_rounds = \"panel\", the default, as mpitb and mpitbR read pooled rounds); if the rounds are independent samples whose PSU numbers restart, set psu_across_rounds = \"distinct\" in [survey] (or --psu-across-rounds distinct)",
        shared.len()
    ));
}
