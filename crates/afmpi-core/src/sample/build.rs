//! Building the sample: the columns a reading layer extracted from a survey file in (as
//! plain vectors: numbers with NaN for missing, codes with [`MISSING`]), a [`Sample`] and
//! its [`DataReport`] out.
//!
//! The reading layer calls the steps in the order of the report — indicators, weight,
//! household size, strata, PSU, round, year, named groups, subgroups — so that the rows
//! dropped are counted per column in that order, and the first error is the first the
//! user would meet. Rows missing an indicator, the weight or a design variable are
//! dropped, as mpitb does; a row missing a subgroup value stays in the national figures.

use std::path::Path;

use super::codes::relabel;
use super::rounds::{order_rounds, single_year};
use super::{Codes, DataReport, Grouping, Round, Sample, MISSING, OUTSIDE_EVERY_DOMAIN};
use crate::error::{Error, Result};
use crate::methodology::SurveyColumns;
use crate::sums::{Grid, WeightSum};

/// A sample being built: the rows read, which of them are still kept (and why each
/// other was dropped), and the columns taken so far.
pub struct Builder {
    report: DataReport,
    keep: Vec<bool>,
    /// Bit j set when the row misses indicator j.
    missing: Vec<u64>,
    /// 0 for a row still kept, else 1 + the index in `reasons` of the first reason it
    /// was dropped for (in the order of the report).
    dropped: Vec<u16>,
    reasons: Vec<String>,
    /// Rows that miss something besides indicators (weight, design, round, group): out
    /// of the design under either convention of `missing_rows`.
    lacks_more: Vec<bool>,
    profiles: Vec<u64>,
    weights: Vec<f64>,
    strata: Option<Codes>,
    psus: Option<Codes>,
    rounds: Option<Codes>,
    years: Option<Vec<f64>>,
    flags: Vec<u32>,
    groupings: Vec<Grouping>,
    /// Under `unit = "household"`: the household id column and its codes.
    households: Option<(String, Codes)>,
    /// Under cardinal indicators and M1/M2: each row's gap vector, and the vectors.
    gaps: Option<(Vec<u32>, Vec<super::Gaps>)>,
    /// Whether the codes of strata, PSUs and subgroup levels are renumbered in their
    /// labels' order (see [`Builder::codes_as_met`]).
    sort_codes: bool,
}

impl Builder {
    /// Starts from the indicators: each row's profile, the indicators it misses (bit j
    /// for indicator j; a row missing any is dropped), and the rows missing each
    /// indicator (by id).
    pub fn new(
        file: &Path,
        profiles: Vec<u64>,
        missing: Vec<u64>,
        indicator_missing: Vec<(String, usize)>,
    ) -> Builder {
        let n = profiles.len();
        let keep: Vec<bool> = missing.iter().map(|&m| m == 0).collect();
        let dropped = keep.iter().map(|&k| u16::from(!k)).collect();
        Builder {
            report: DataReport {
                file: file.to_path_buf(),
                rows_read: n,
                missing: indicator_missing,
                ..Default::default()
            },
            keep,
            missing,
            dropped,
            reasons: vec![MISSING_INDICATOR.to_string()],
            lacks_more: vec![false; n],
            profiles,
            weights: Vec::new(),
            strata: None,
            psus: None,
            rounds: None,
            years: None,
            flags: vec![0; n],
            groupings: Vec::new(),
            households: None,
            gaps: None,
            sort_codes: true,
        }
    }

    /// For a batch of a file: the codes of strata, PSUs and subgroup levels stay as the
    /// reading layer numbered them, labels without a kept row included, because the
    /// batches' codes are translated into codes kept across batches, and those are
    /// renumbered once at the end (a census's municipality codes were renumbered in
    /// every batch: a tenth of its CPU time). Rounds are put in time order all the same.
    pub fn codes_as_met(&mut self) {
        self.sort_codes = false;
    }

    /// Each row's normalized gaps in the cardinal indicators (an index into `vectors`,
    /// whose first is the empty vector), for M1 and M2.
    pub fn gaps(&mut self, codes: Vec<u32>, vectors: Vec<super::Gaps>) {
        self.gaps = Some((codes, vectors));
    }

    /// Under `unit = "household"`: each household (by these codes of the household id)
    /// is counted once. A row without an id is dropped.
    pub fn households(&mut self, name: &str, codes: Codes) {
        let codes = self.design(name, codes);
        self.households = Some((name.to_string(), codes));
    }

    /// The deprivation profiles, one per row read.
    pub fn profiles(&self) -> &[u64] {
        &self.profiles
    }

    /// Drops the rows where `missing` is set, counting them against `column`.
    pub fn drop_missing(&mut self, column: &str, missing: &[bool]) {
        self.drop_rows(column, missing.iter().copied());
    }

    /// Drops the rows for which `missing` gives true (one value per row, in order),
    /// counting them against `column`: in one pass, without a vector of flags.
    fn drop_rows(&mut self, column: &str, missing: impl Iterator<Item = bool>) {
        let mut count = 0;
        let reason = u16::try_from(self.reasons.len() + 1).unwrap_or(u16::MAX);
        for (((k, d), more), miss) in self
            .keep
            .iter_mut()
            .zip(&mut self.dropped)
            .zip(&mut self.lacks_more)
            .zip(missing)
        {
            if miss {
                if *k {
                    *d = reason;
                }
                *k = false;
                *more = true;
                count += 1;
            }
        }
        if count > 0 {
            self.report.missing.push((column.to_string(), count));
            self.reasons.push(column.to_string());
        }
    }

    /// Drops the rows whose value is NaN, counting them against `column`.
    fn drop_nan(&mut self, column: &str, values: &[f64]) {
        self.drop_rows(column, values.iter().map(|v| v.is_nan()));
    }

    /// The sampling weights (`None`: every row weighs 1, with a note). A negative or
    /// infinite weight is an error naming its row; a missing one drops the row.
    pub fn weights(&mut self, column: Option<(&str, Vec<f64>)>) -> Result<()> {
        self.weights = self.weights_read(column)?;
        self.count_missing_indicators()
    }

    /// Each indicator's rows missing, and their weight (the weights just read).
    /// Exact sums ([`crate::sums`]), so that batches add up to the whole file's bits, and
    /// the blocks of rows can be added up side by side in any order.
    fn count_missing_indicators(&mut self) -> Result<()> {
        use rayon::prelude::*;
        const BLOCK: usize = 1 << 16;
        let (by_indicator, weight_read) = self
            .missing
            .par_chunks(BLOCK)
            .zip(self.weights.par_chunks(BLOCK))
            .map(|(missing, weights)| missing_in_block(missing, weights))
            .try_reduce(Default::default, |(mut a, mut read), (b, more)| {
                if a.len() < b.len() {
                    a.resize(b.len(), WeightSum::default());
                }
                for (x, y) in a.iter_mut().zip(&b) {
                    x.absorb(y)?;
                }
                read.absorb(&more)?;
                Ok((a, read))
            })?;
        self.report.indicator_missing = by_indicator;
        self.report.weight_read = weight_read;
        Ok(())
    }

    fn weights_read(&mut self, column: Option<(&str, Vec<f64>)>) -> Result<Vec<f64>> {
        Ok(match column {
            Some((name, mut w)) => {
                // One pass without branches finds whether any weight is wrong or missing
                // (the common answer: none); only then are they looked for by row.
                let is_wrong = |v: f64| v.is_infinite() | (v < 0.0);
                let (wrong, missing) = w.iter().fold((false, false), |(wrong, missing), &v| {
                    (wrong | is_wrong(v), missing | v.is_nan())
                });
                if wrong {
                    let (i, v) = w
                        .iter()
                        .enumerate()
                        .find(|(_, &v)| is_wrong(v))
                        .expect("a wrong weight");
                    return Err(Error::data(&self.report.file, name, Some(i + 1), format!(
                        "the sampling weight {v} is {}: weights must be finite and zero or more; fix the row or drop it",
                        if v.is_finite() { "negative" } else { "not a finite number" })));
                }
                if missing {
                    self.drop_nan(name, &w);
                    w.iter_mut().filter(|v| v.is_nan()).for_each(|v| *v = 0.0);
                }
                w
            }
            None => {
                self.report
                    .notes
                    .push("no weight column: every row weighs 1".into());
                vec![1.0; self.profiles.len()]
            }
        })
    }

    /// Household-level rows: the household's size multiplies the weight, so that persons
    /// are counted. Call after [`Builder::weights`].
    pub fn household_size(&mut self, name: &str, size: Vec<f64>) -> Result<()> {
        if let Some((i, v)) = size
            .iter()
            .enumerate()
            .find(|(_, x)| x.is_infinite() || **x < 0.0)
        {
            return Err(Error::data(
                &self.report.file,
                name,
                Some(i + 1),
                format!("the household size {v} is not a number of persons"),
            ));
        }
        self.drop_nan(name, &size);
        for (w, s) in self.weights.iter_mut().zip(&size) {
            *w = if s.is_nan() { 0.0 } else { *w * s };
        }
        Ok(())
    }

    /// A design or round column's codes: a missing value drops the row.
    fn design(&mut self, name: &str, codes: Codes) -> Codes {
        // Mostly none is missing: one pass without branches finds out.
        if codes.0.iter().fold(false, |any, &c| any | (c == MISSING)) {
            self.drop_rows(name, codes.0.iter().map(|&c| c == MISSING));
        }
        codes
    }

    pub fn strata(&mut self, name: &str, codes: Codes) {
        self.strata = Some(self.design(name, codes));
    }

    pub fn psus(&mut self, name: &str, codes: Codes) {
        self.psus = Some(self.design(name, codes));
    }

    pub fn rounds(&mut self, name: &str, codes: Codes) {
        self.rounds = Some(self.design(name, codes));
    }

    /// Each row's year (NaN when missing: the row is dropped).
    pub fn years(&mut self, name: &str, years: Vec<f64>) {
        self.drop_nan(name, &years);
        self.years = Some(years);
    }

    /// Membership of the named groups (bit g for group g); rows whose membership could
    /// not be decided are dropped with [`Builder::drop_missing`] before.
    pub fn flags(&mut self, flags: Vec<u32>) {
        self.flags = flags;
    }

    /// A subgroup column: a missing value leaves the row out of this column's subgroups
    /// only, and the report counts it among the rows kept.
    pub fn subgroup(&mut self, name: &str, (codes, levels): Codes) {
        // (Without branches: a loop the compiler turns into vector instructions.)
        let missing: usize = codes
            .iter()
            .zip(&self.keep)
            .map(|(&c, &k)| usize::from(k & (c == MISSING)))
            .sum();
        if missing > 0 {
            self.report.unassigned.push((name.to_string(), missing));
        }
        self.groupings.push(Grouping {
            column: name.to_string(),
            levels,
            codes,
        });
    }

    /// Keeps the rows with every value present: the codes renumbered into the labels
    /// some kept row has (unless [`Builder::codes_as_met`]), the rounds in time order.
    /// An empty sample is not an error here (a batch may lose all its rows); see
    /// [`super::check_not_empty`].
    pub fn finish(self, survey: &SurveyColumns) -> Result<(Sample, DataReport)> {
        self.finish_sample(survey)
    }

    /// As [`Builder::finish`], with what became of every row read (for the persons
    /// file): its profile, the indicators it misses, why it was dropped, its groups.
    pub fn finish_with_rows(
        self,
        survey: &SurveyColumns,
    ) -> Result<(Sample, DataReport, RowOutcomes)> {
        let rows = RowOutcomes {
            profiles: self.profiles.clone(),
            missing: self.missing.clone(),
            dropped: self.dropped.clone(),
            reasons: self.reasons.clone(),
            flags: self.flags.clone(),
        };
        let (sample, report) = self.finish_sample(survey)?;
        Ok((sample, report, rows))
    }

    fn finish_sample(mut self, survey: &SurveyColumns) -> Result<(Sample, DataReport)> {
        let person_rows = self.keep.iter().filter(|&&k| k).count();
        if self.households.is_some() {
            self.count_households_once()?;
        }
        if survey.missing_rows == Some(crate::methodology::MissingRows::Domain) {
            self.keep_outside_every_domain();
        }
        let Builder {
            mut report,
            keep,
            profiles,
            weights,
            strata,
            psus,
            rounds,
            years,
            flags,
            groupings,
            gaps,
            sort_codes,
            ..
        } = self;
        let n = profiles.len();
        let mut kept: Vec<u32> = Vec::with_capacity(keep.iter().filter(|&&k| k).count());
        kept.extend((0..n as u32).filter(|&i| keep[i as usize]));
        report.rows_used = person_rows;
        let all_kept = kept.len() == n;
        let pick = |v| keep_rows::<u32>(v, &keep, all_kept);
        let order = |(codes, labels): Codes| match sort_codes {
            true => relabel(pick(codes), labels),
            false => (pick(codes), labels),
        };
        let psu_is_row = psus.is_none();
        if psu_is_row {
            note_rows_as_psus(&mut report, survey);
        }
        let ((stratum_codes, stratum_labels), (psu_codes, psu_labels), groupings) =
            kept_codes(strata, psus, groupings, kept.len(), &order);
        let years = years.map(|y| keep_rows(y, &keep, all_kept));
        let (round_codes, round_info, has_rounds) = kept_rounds(
            rounds.map(|(c, l)| (pick(c), l)),
            years,
            &kept,
            &report,
            survey,
        )?;
        let (psu_codes, psu_labels) = if has_rounds && !psu_is_row {
            psus_across_rounds(
                (psu_codes, psu_labels),
                &stratum_codes,
                &round_codes,
                &round_info,
                survey,
                &mut report,
            )
        } else {
            (psu_codes, psu_labels)
        };
        let (gap_codes, gap_vectors) = match gaps {
            Some((codes, vectors)) => (keep_rows(codes, &keep, all_kept), vectors),
            None => (Vec::new(), vec![Vec::new()]),
        };
        let (profiles, flags, weights) = kept_values(profiles, flags, weights, &keep, all_kept);
        let sample = Sample {
            profiles,
            flags,
            weights,
            rows: kept,
            strata: stratum_codes,
            stratum_labels,
            psus: psu_codes,
            psu_labels,
            rounds: round_codes,
            round_info,
            groupings,
            has_rounds,
            psu_is_row,
            gap_codes,
            gap_vectors,
        };
        Ok((sample, report))
    }
}

/// The kept rows' codes of the strata, the PSUs and each subgroup column, each put in
/// order by `order` (renumbered, or left as met), the columns side by side; a design
/// column the survey lacks is one code for every row (one stratum "1"; PSUs of no label:
/// each row is its own).
fn kept_codes(
    strata: Option<Codes>,
    psus: Option<Codes>,
    groupings: Vec<Grouping>,
    n_kept: usize,
    order: &(impl Fn(Codes) -> Codes + Sync),
) -> (Codes, Codes, Vec<Grouping>) {
    let ((strata, psus), groupings) = rayon::join(
        || {
            rayon::join(
                || match strata {
                    Some(codes) => order(codes),
                    None => (vec![0; n_kept], vec!["1".to_string()]),
                },
                || match psus {
                    Some(codes) => order(codes),
                    None => (vec![0; n_kept], Vec::new()),
                },
            )
        },
        || order_groupings(groupings, order),
    );
    (strata, psus, groupings)
}

/// The kept rows' profiles, group flags and weights, moved side by side.
fn kept_values(
    profiles: Vec<u64>,
    flags: Vec<u32>,
    weights: Vec<f64>,
    keep: &[bool],
    all_kept: bool,
) -> (Vec<u64>, Vec<u32>, Vec<f64>) {
    let (profiles, (flags, weights)) = rayon::join(
        || keep_rows(profiles, keep, all_kept),
        || {
            rayon::join(
                || keep_rows(flags, keep, all_kept),
                || keep_rows(weights, keep, all_kept),
            )
        },
    );
    (profiles, flags, weights)
}

/// One block of rows: each indicator's rows missing and their weight, and the weight read.
/// The rows come in runs of one weight (a household, a PSU; a census's every row), each
/// added up at once; the rare rows missing an indicator are then looked at one by one.
fn missing_in_block(missing: &[u64], weights: &[f64]) -> Result<(Vec<WeightSum>, WeightSum)> {
    let mut by_indicator: Vec<WeightSum> = Vec::new();
    let mut weight_read = WeightSum::default();
    let mut grid = Grid::default();
    let mut start = 0;
    while start < weights.len() {
        let bits = weights[start].to_bits();
        let end = start
            + weights[start..]
                .iter()
                .take_while(|w| w.to_bits() == bits)
                .count();
        // A missing weight was read as 0: the row is out of the weighted base.
        let w = grid.of(weights[start])?;
        weight_read.add_times(w, (end - start) as u64)?;
        for &m in missing[start..end].iter().filter(|&&m| m != 0) {
            let mut bits = m;
            while bits != 0 {
                let j = bits.trailing_zeros() as usize;
                if by_indicator.len() <= j {
                    by_indicator.resize(j + 1, WeightSum::default());
                }
                by_indicator[j].add(w)?;
                bits &= bits - 1;
            }
        }
        start = end;
    }
    Ok((by_indicator, weight_read))
}

/// The subgroup columns' codes of the rows kept, renumbered by `order`, side by side.
fn order_groupings(
    groupings: Vec<Grouping>,
    order: &(impl Fn(Codes) -> Codes + Sync),
) -> Vec<Grouping> {
    use rayon::prelude::*;
    groupings
        .into_par_iter()
        .map(|g| {
            let (codes, levels) = order((g.codes, g.levels));
            Grouping {
                column: g.column,
                levels,
                codes,
            }
        })
        .collect()
}

/// Without a PSU column each row is its own PSU; with a household id (and persons as
/// the unit) the persons of a household are not independent, and the note says how to
/// make the households the sampling units.
fn note_rows_as_psus(report: &mut DataReport, survey: &SurveyColumns) {
    let plain = "no PSU column: each row is its own primary sampling unit (simple random sampling within strata)";
    report.notes.push(match survey.household.as_ref().filter(|_| report.households.is_none()) {
        Some(hh) => format!(
            "{plain}; but the persons of one household (`{hh}`) are not independent: set psu = \"household\" in [survey] (or --psu household) to make the households the sampling units"
        ),
        None => plain.into(),
    });
}

impl Builder {
    /// Under `missing_rows = "domain"`: the rows that miss only indicators stay in the
    /// design, outside every domain (no profile, the flag [`OUTSIDE_EVERY_DOMAIN`]).
    fn keep_outside_every_domain(&mut self) {
        let mut outside = 0;
        for i in 0..self.keep.len() {
            if !self.keep[i] && self.missing[i] != 0 && !self.lacks_more[i] {
                self.keep[i] = true;
                self.profiles[i] = 0;
                self.flags[i] = OUTSIDE_EVERY_DOMAIN;
                outside += 1;
            }
        }
        if outside > 0 {
            self.report.notes.push(format!(
                "missing_rows = domain: {} rows that miss an indicator stay in the design as units outside every domain (they count in the PSUs and n/(n-1), in no estimate)",
                outside
            ));
        }
    }

    /// Under `unit = "household"`: the first row kept of each household stands for it,
    /// the others are set aside (used, not dropped). A household's rows must agree on
    /// everything the run uses; where two differ, the error names both rows.
    fn count_households_once(&mut self) -> Result<()> {
        let (name, (codes, labels)) = self.households.as_ref().expect("under unit = household");
        let mut first: rustc_hash::FxHashMap<u32, usize> = rustc_hash::FxHashMap::default();
        let mut set_aside = Vec::new();
        for (i, &h) in codes.iter().enumerate() {
            if !self.keep[i] {
                continue;
            }
            match first.entry(h) {
                std::collections::hash_map::Entry::Vacant(e) => {
                    e.insert(i);
                }
                std::collections::hash_map::Entry::Occupied(e) => {
                    let r = *e.get();
                    if let Some(what) = self.difference(r, i) {
                        return Err(Error::data(&self.report.file, name, Some(i + 1), format!(
                            "under unit = \"household\" each household is counted once, but rows {} and {} of household {} differ in {what}: give a household's rows the same value (a household-level column), or analyse persons (unit = \"person\")",
                            r + 1, i + 1, labels[h as usize])));
                    }
                    set_aside.push(i);
                }
            }
        }
        for i in set_aside {
            self.keep[i] = false;
        }
        self.report.households = Some(first.len());
        self.report.notes.push(format!(
            "unit = household: each household (by `{name}`) counted once with its weight; its persons' rows agree on everything the run uses"
        ));
        Ok(())
    }

    /// What rows `a` and `b` differ in, among what the run uses of them.
    fn difference(&self, a: usize, b: usize) -> Option<String> {
        if self.profiles[a] != self.profiles[b] {
            return Some("their deprivations".into());
        }
        if self.weights[a].to_bits() != self.weights[b].to_bits() {
            return Some(format!(
                "the weight ({} and {})",
                self.weights[a], self.weights[b]
            ));
        }
        let codes = [
            ("the stratum", &self.strata),
            ("the PSU", &self.psus),
            ("the round", &self.rounds),
        ];
        for (what, c) in codes {
            if c.as_ref().is_some_and(|(c, _)| c[a] != c[b]) {
                return Some(what.into());
            }
        }
        if self.years.as_ref().is_some_and(|y| y[a] != y[b]) {
            return Some("the year".into());
        }
        if self.flags[a] != self.flags[b] {
            return Some("their named groups".into());
        }
        if self.gaps.as_ref().is_some_and(|(g, _)| g[a] != g[b]) {
            return Some("their achievements".into());
        }
        self.groupings
            .iter()
            .find(|g| g.codes[a] != g.codes[b])
            .map(|g| format!("the subgroup column `{}`", g.column))
    }
}

/// Under `psu_across_rounds = "panel"` (the default, as mpitb and mpitbR) an id is one
/// PSU across the rounds ([`super::note_shared_psus`] says so from the table); under
/// `"distinct"` each round's PSUs are its own, labelled `id (round)` — always, so that
/// batches of one file label them alike — and the ids met in several rounds are noted.
fn psus_across_rounds(
    (codes, labels): Codes,
    strata: &[u32],
    rounds: &[u32],
    round_info: &[Round],
    survey: &SurveyColumns,
    report: &mut DataReport,
) -> Codes {
    use rustc_hash::{FxHashMap, FxHashSet};
    if survey.psu_across_rounds.unwrap_or_default() == crate::methodology::PsuAcrossRounds::Panel {
        // Said by `note_shared_psus`, from the table, whether read whole or in batches.
        return (codes, labels);
    }
    let mut first_round: FxHashMap<(u32, u32), u32> = FxHashMap::default();
    let mut shared: FxHashSet<(u32, u32)> = FxHashSet::default();
    for ((&h, &p), &t) in strata.iter().zip(&codes).zip(rounds) {
        let r = *first_round.entry((h, p)).or_insert(t);
        if r != t {
            shared.insert((h, p));
        }
    }
    if !shared.is_empty() {
        let example = shared
            .iter()
            .map(|&(_, p)| labels[p as usize].as_str())
            .min()
            .unwrap_or("");
        report.notes.push(format!(
            "{} PSU ids of `{}` occur in more than one round (e.g. {example}): read as a different PSU in each round (psu_across_rounds = \"distinct\")",
            shared.len(),
            survey.psu.as_deref().unwrap_or("psu"),
        ));
    }
    let mut index: FxHashMap<(u32, u32), u32> = FxHashMap::default();
    let mut new_labels = Vec::new();
    let new_codes = codes
        .iter()
        .zip(rounds)
        .map(|(&p, &t)| {
            *index.entry((p, t)).or_insert_with(|| {
                new_labels.push(format!(
                    "{} ({})",
                    labels[p as usize], round_info[t as usize].label
                ));
                (new_labels.len() - 1) as u32
            })
        })
        .collect();
    relabel(new_codes, new_labels)
}

/// The reason of a row that misses an indicator (which ones: [`RowOutcomes::missing`]).
pub const MISSING_INDICATOR: &str = "an indicator";

/// What became of each row read, in the order read: what the persons file of a run
/// writes beside the row's own columns.
#[derive(Clone, Debug, Default)]
pub struct RowOutcomes {
    /// The deprivation profile: bit j set when deprived in indicator j.
    pub profiles: Vec<u64>,
    /// Bit j set when the row misses indicator j.
    pub missing: Vec<u64>,
    /// 0 for a row used; else 1 + the index in `reasons` of the first reason the row
    /// was dropped for.
    pub dropped: Vec<u16>,
    /// What a dropped row missed: [`MISSING_INDICATOR`], or the column (or group) whose
    /// value it lacked.
    pub reasons: Vec<String>,
    /// Membership of the named groups: bit g set when in group g.
    pub flags: Vec<u32>,
}

impl RowOutcomes {
    /// Why row `i` was dropped, or `None` when it was used.
    pub fn dropped_because(&self, i: usize) -> Option<&str> {
        match self.dropped[i] {
            0 => None,
            d => Some(&self.reasons[d as usize - 1]),
        }
    }
}

/// The kept rows' rounds in time order, or the one round of a file without a round
/// column (with its year, if it has one).
fn kept_rounds(
    rounds: Option<Codes>,
    years: Option<Vec<f64>>,
    kept: &[u32],
    report: &DataReport,
    survey: &SurveyColumns,
) -> Result<(Vec<u32>, Vec<Round>, bool)> {
    let file = &report.file;
    Ok(match rounds {
        Some((codes, labels)) => {
            let (codes, labels) = relabel(codes, labels);
            let (codes, info) = order_rounds(codes, labels, years, kept, file, survey)?;
            (codes, info, true)
        }
        None => {
            let year = match &years {
                Some(ys) => {
                    let name = survey.year.as_deref().unwrap_or("year");
                    single_year(ys, file, name)?
                }
                None => None,
            };
            (
                vec![0; kept.len()],
                vec![Round {
                    label: String::new(),
                    year,
                }],
                false,
            )
        }
    })
}

/// The values of the rows kept, moved to the front in place (no second vector).
pub(crate) fn keep_rows<T: Copy>(mut v: Vec<T>, keep: &[bool], all_kept: bool) -> Vec<T> {
    if all_kept {
        return v;
    }
    let mut to = 0;
    for (from, &kept) in keep.iter().enumerate().take(v.len()) {
        // Without a branch: every value is written where the kept ones end, and only a
        // kept one moves the end on (`to <= from`: nothing is overwritten unread).
        v[to] = v[from];
        to += usize::from(kept);
    }
    v.truncate(to);
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Rows missing a value are dropped and counted per column in the report's order; a
    /// missing subgroup value keeps the row; codes follow the labels' sorted order.
    #[test]
    fn rows_are_dropped_and_counted_in_the_order_of_the_report() {
        let file = Path::new("s.csv");
        let missing_bits = vec![0, 1, 0, 0, 0];
        let missing = vec![("a".to_string(), 1)];
        let mut b = Builder::new(file, vec![1, 0, 3, 0, 1], missing_bits, missing);
        b.weights(Some(("w", vec![1.0, 2.0, f64::NAN, 1.5, 0.5])))
            .unwrap();
        let strata = (vec![1, 1, 0, MISSING, 0], vec!["b".into(), "a".into()]);
        b.strata("h", strata);
        b.subgroup(
            "g",
            (vec![0, 0, MISSING, 1, 1], vec!["10".into(), "9".into()]),
        );
        let (s, report, rows) = b.finish_with_rows(&SurveyColumns::default()).unwrap();
        // Each dropped row by its first reason: the indicator, the weight, the stratum.
        let why: Vec<Option<&str>> = (0..5).map(|i| rows.dropped_because(i)).collect();
        assert_eq!(
            why,
            [None, Some(MISSING_INDICATOR), Some("w"), Some("h"), None]
        );
        assert_eq!(rows.missing, [0, 1, 0, 0, 0]);
        assert_eq!(rows.profiles, [1, 0, 3, 0, 1]);
        assert_eq!(
            report.missing,
            [("a".into(), 1), ("w".into(), 1), ("h".into(), 1)]
        );
        assert_eq!((report.rows_read, report.rows_used), (5, 2));
        assert_eq!(s.rows, [0, 4]);
        assert_eq!(s.weights, [1.0, 0.5]);
        // Strata coded "b" = 0, "a" = 1 become "a" = 0, "b" = 1: row 0 was in "a", row 4
        // in "b". Subgroup levels 10, 9 become 9, 10.
        assert_eq!(s.stratum_labels, ["a", "b"]);
        assert_eq!(s.strata, [0, 1]);
        assert_eq!(s.groupings[0].levels, ["9", "10"]);
        assert_eq!(s.groupings[0].codes, [1, 0]);
        assert!(report.unassigned.is_empty());
    }

    /// The kept values in their order, whatever rows are dropped (first, last, runs).
    #[test]
    fn keep_rows_keeps_the_kept_values_in_order() {
        let v: Vec<u32> = (0..8).collect();
        for mask in 0u32..256 {
            let keep: Vec<bool> = (0..8).map(|i| mask >> i & 1 == 1).collect();
            let expected: Vec<u32> = v.iter().copied().filter(|&i| keep[i as usize]).collect();
            assert_eq!(keep_rows(v.clone(), &keep, false), expected, "{mask:08b}");
        }
    }

    #[test]
    fn a_negative_weight_is_an_error_naming_its_row() {
        let mut b = Builder::new(Path::new("s.csv"), vec![0; 3], vec![0; 3], Vec::new());
        let e = b.weights(Some(("w", vec![1.0, -2.0, 1.0]))).unwrap_err();
        assert!(
            e.to_string()
                .starts_with("s.csv: column `w`, row 2: the sampling weight -2 is negative"),
            "{e}"
        );
    }

    /// Two rounds whose PSU ids restart: one PSU per id across the rounds by default
    /// (as mpitb and mpitbR), one per id and round under "distinct"; reported either way.
    #[test]
    fn psu_ids_met_in_two_rounds_are_reported_and_read_as_the_setting_says() {
        let build = |setting: Option<crate::methodology::PsuAcrossRounds>| {
            let file = Path::new("s.csv");
            let mut b = Builder::new(file, vec![0; 4], vec![0; 4], Vec::new());
            b.weights(None).unwrap();
            b.psus("psu", (vec![0, 1, 0, 1], vec!["7".into(), "8".into()]));
            b.rounds("t", (vec![0, 0, 1, 1], vec!["1".into(), "2".into()]));
            let survey = SurveyColumns {
                psu: Some("psu".into()),
                round: Some("t".into()),
                psu_across_rounds: setting,
                ..Default::default()
            };
            b.finish(&survey).unwrap()
        };
        let (s, mut report) = build(None);
        assert_eq!(s.psu_labels, ["7", "8"]);
        assert_eq!(s.psus, [0, 1, 0, 1]);
        let table = crate::tally::tally(&s).unwrap();
        super::super::note_shared_psus(&mut report, &s, &table);
        assert!(
            report
                .notes
                .iter()
                .any(|n| n.contains("2 PSU ids occur in more than one round (e.g. 7)")),
            "{:?}",
            report.notes
        );
        let (s, report) = build(Some(crate::methodology::PsuAcrossRounds::Distinct));
        assert_eq!(s.psu_labels, ["7 (1)", "7 (2)", "8 (1)", "8 (2)"]);
        assert_eq!(s.psus, [0, 2, 1, 3]);
        assert!(report
            .notes
            .iter()
            .any(|n| n.contains("a different PSU in each round")));
    }

    /// A sample that weighs nothing is an error; a level that weighs nothing, a note.
    #[test]
    fn weightless_samples_and_levels() {
        let file = Path::new("s.csv");
        let make = |w: Vec<f64>| {
            let mut b = Builder::new(file, vec![1, 0, 1, 0], vec![0; 4], Vec::new());
            b.weights(Some(("w", w))).unwrap();
            b.subgroup("g", (vec![0, 0, 1, 1], vec!["x".into(), "y".into()]));
            b.finish(&SurveyColumns::default()).unwrap()
        };
        let (s, mut report) = make(vec![0.0; 4]);
        let table = crate::tally::tally(&s).unwrap();
        let e = super::super::check_weights(&mut report, &s, &table)
            .unwrap_err()
            .to_string();
        assert!(e.contains("the sample weighs nothing"), "{e}");
        let (s, mut report) = make(vec![1.0, 2.0, 0.0, 0.0]);
        let table = crate::tally::tally(&s).unwrap();
        super::super::check_weights(&mut report, &s, &table).unwrap();
        assert!(
            report.notes.iter().any(|n| n.contains("g = y")),
            "{:?}",
            report.notes
        );
    }
}
