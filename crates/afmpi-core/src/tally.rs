//! Tally: a [`Sample`] in, the sufficient-statistics [`Table`] out.
//!
//! Every Alkire-Foster quantity — for every cutoff k, round, subgroup and indicator, and
//! later every PSU total a standard error needs — is a function of the weighted count of
//! persons per cell
//!
//! ```text
//! (round, stratum, PSU, subgroup levels, deprivation profile, group flags)
//!     -> (sum of weights, sum of squared weights, count)
//! ```
//!
//! because a person's score, poverty status and censored deprivations depend on the
//! profile alone (and membership of a methodology's named groups on the flags). Under
//! cardinal indicators and M1/M2, the persons' normalized gaps join the key (as an index
//! of distinct gap vectors), so that a cell's persons still share every value. One pass over the rows builds it; afterwards nothing looks at rows
//! again, so the work downstream is O(cells), not O(rows), however many cutoffs there are.
//!
//! Why it is fast: the rows are cut into blocks of about a fixed size (where a PSU ends,
//! when one ends near), tallied in parallel (rayon). Within a block, consecutive rows
//! with the same key and weight — the members of a household — are one run, added up as
//! a count; the runs of one key are added up in a hash table of the block's own cells (a
//! few thousand), which are then sorted. A key's seven fields are packed into one 128-bit
//! integer, each in the bits the sample's largest value needs (`Packing`), built a field
//! at a time over the block's rows, so that it hashes, compares and moves as one number;
//! keys too wide for it stay as they are.
//! When the file is sorted by stratum and PSU, each block's keys all come after the block
//! before's, and the blocks are the table as they are, nothing sorted or copied. Survey files come PSU by PSU with the strata taking
//! turns, censuses area by area: then the entries are dealt out to their round and
//! stratum, where the blocks do follow each other, and each stratum's list is checked
//! sorted (or its runs merged) and its equal keys added, the strata in parallel. No hash
//! table of a million cells, no merge along a tree, and the table comes out sorted.
//!
//! Why it is the same to the bit on any number of threads and in batches of any size:
//! sums of weights are exact ([`crate::sums`]: 128-bit integers on a fixed grid), so the
//! order in which blocks, batches or threads add them cannot change a cell's sum.

use rayon::prelude::*;

use crate::domain::Domain;
use crate::error::{Error, Result};
use crate::sample::{Grouping, Sample, MISSING};
use crate::sums::{Grid, WeightSums};
use rustc_hash::FxHashMap;

/// Rows tallied sequentially in one block.
const BLOCK_ROWS: usize = 1 << 15;

/// Cell key: round, stratum, PSU, joint subgroup levels, profile, group flags, gaps.
pub type Key = (u32, u32, u32, u64, u64, u32, u32);

/// One cell of the table.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Cell {
    pub round: u32,
    pub stratum: u32,
    pub psu: u32,
    /// The person's levels of every subgroup column, packed (see [`Table::level`]).
    pub levels: u64,
    pub profile: u64,
    /// Membership of the methodology's named groups (bit g for group g).
    pub flags: u32,
    /// The persons' normalized gaps in the cardinal indicators, as an index into
    /// [`Table::gap_vectors`] (0: none, or no M1/M2 asked for).
    pub gaps: u32,
    /// Sum of sampling weights.
    pub weight: f64,
    /// Sum of squared sampling weights (the variance of designs whose PSUs are rows).
    pub weight_sq: f64,
    /// Number of persons.
    pub count: u64,
}

/// The sufficient-statistics table, cells sorted by key.
#[derive(Clone, Debug, PartialEq)]
pub struct Table {
    pub cells: Vec<Cell>,
    /// Per subgroup column: its number of levels plus one (the last stands for missing).
    pub radices: Vec<u64>,
    /// The distinct vectors of normalized gaps the cells point to (the first empty).
    pub gap_vectors: Vec<crate::sample::Gaps>,
}

impl Table {
    /// The table of these cells (sorted here by key: round, stratum, PSU, subgroup
    /// levels, profile, flags), whose subgroup levels are packed by `radices`. Every
    /// table is made so: by the tally, by batches, from a database engine's table.
    pub fn new(mut cells: Vec<Cell>, radices: Vec<u64>) -> Table {
        cells.sort_unstable_by_key(|c| {
            (
                c.round, c.stratum, c.psu, c.levels, c.profile, c.flags, c.gaps,
            )
        });
        Table {
            cells,
            radices,
            gap_vectors: vec![Vec::new()],
        }
    }

    /// The table with these gap vectors (those its cells' `gaps` index).
    pub fn with_gaps(mut self, gap_vectors: Vec<crate::sample::Gaps>) -> Table {
        self.gap_vectors = gap_vectors;
        self
    }

    /// The normalized gaps of a cell's persons.
    pub fn gaps_of(&self, cell: &Cell) -> &[(usize, f64)] {
        &self.gap_vectors[cell.gaps as usize]
    }

    /// The domains a cell belongs to: its round's whole sample, and its level of each
    /// subgroup column that has a value.
    pub fn domains_of<'a>(&'a self, cell: &'a Cell) -> impl Iterator<Item = Domain> + 'a {
        // A row kept outside every domain (missing_rows = "domain") is in none.
        let inside = cell.flags & crate::sample::OUTSIDE_EVERY_DOMAIN == 0;
        inside
            .then_some(Domain {
                subgroup: None,
                round: cell.round,
            })
            .into_iter()
            .chain(
                (0..self.radices.len())
                    .filter(move |_| inside)
                    .filter_map(move |g| {
                        self.level(cell, g).map(|level| Domain {
                            subgroup: Some((g, level)),
                            round: cell.round,
                        })
                    }),
            )
    }

    /// The level of subgroup column `g` in a cell, or `None` when the value is missing.
    pub fn level(&self, cell: &Cell, g: usize) -> Option<u32> {
        self.level_of(cell.levels, g)
    }

    /// The level of subgroup column `g` in these packed levels (`None`: missing).
    pub fn level_of(&self, mut packed: u64, g: usize) -> Option<u32> {
        for r in &self.radices[..g] {
            packed /= r;
        }
        let level = packed % self.radices[g];
        (level + 1 < self.radices[g]).then_some(level as u32)
    }
}

/// A domain's sample: its persons (rows used; households under `unit = "household"`),
/// the sum of their weights and of their squared weights.
#[derive(Clone, Copy, Debug, Default, PartialEq)]
pub struct SampleSize {
    pub persons: u64,
    pub weight: f64,
    pub weight_sq: f64,
}

impl SampleSize {
    /// Kish's effective sample size, (Σw)² / Σw².
    pub fn effective(&self) -> f64 {
        if self.weight_sq > 0.0 {
            self.weight * self.weight / self.weight_sq
        } else {
            f64::NAN
        }
    }
}

impl Table {
    /// Every domain's sample size, from the cells. Consecutive cells mostly share their
    /// domains (a PSU's cells its levels): each run of them is added up first, and looked
    /// up once per domain, not once per cell and domain.
    pub fn sample_sizes(&self) -> rustc_hash::FxHashMap<Domain, SampleSize> {
        let mut sizes: rustc_hash::FxHashMap<Domain, SampleSize> = Default::default();
        let same_domains = |a: &Cell, b: &Cell| {
            let outside = |c: &Cell| c.flags & crate::sample::OUTSIDE_EVERY_DOMAIN != 0;
            a.round == b.round && a.levels == b.levels && outside(a) == outside(b)
        };
        for run in self.cells.chunk_by(same_domains) {
            let mut size = SampleSize::default();
            for cell in run {
                size.persons += cell.count;
                size.weight += cell.weight;
                size.weight_sq += cell.weight_sq;
            }
            for domain in self.domains_of(&run[0]) {
                let s = sizes.entry(domain).or_default();
                s.persons += size.persons;
                s.weight += size.weight;
                s.weight_sq += size.weight_sq;
            }
        }
        sizes
    }
}

/// Each subgroup column's radix in the packing of a person's levels into one integer:
/// its number of levels plus one, the last standing for a missing value.
/// An error when the combinations of every column's levels do not fit in 64 bits.
pub fn radices(groupings: &[Grouping]) -> Result<Vec<u64>> {
    let radices: Vec<u64> = groupings
        .iter()
        .map(|g| g.levels.len() as u64 + 1)
        .collect();
    let capacity = radices.iter().try_fold(1u64, |acc, r| acc.checked_mul(*r));
    if capacity.is_none() {
        let columns: Vec<String> = groupings
            .iter()
            .map(|g| format!("{} ({} levels)", g.column, g.levels.len()))
            .collect();
        return Err(Error::Usage(format!(
            "the subgroup columns {} have more combinations of levels than afmpi can tally at once (2^64): analyse fewer `over` columns in one run",
            columns.join(", ")
        )));
    }
    Ok(radices)
}

/// A person's levels of the subgroup columns (in the columns' order; [`MISSING`] for a
/// missing value) packed into one integer by `radices`: column 0 is the least
/// significant digit. [`Table::level`] unpacks it.
pub fn pack_levels(levels: impl DoubleEndedIterator<Item = u32>, radices: &[u64]) -> u64 {
    levels
        .rev()
        .zip(radices.iter().rev())
        .fold(0, |packed, (code, &radix)| {
            let level = if code == MISSING {
                radix - 1
            } else {
                code as u64
            };
            packed * radix + level
        })
}

/// Builds the table in one parallel pass over the sample.
pub fn tally(sample: &Sample) -> Result<Table> {
    Ok(tally_with(sample, false)?.0)
}

/// As [`tally`], with each cell's exact sums beside it (in the cells' order), for a table
/// added to others (batches of a file).
pub fn tally_exact(sample: &Sample) -> Result<(Table, Vec<WeightSums>)> {
    tally_with(sample, true)
}

/// The table, and each cell's exact sums when `with_sums` (else none).
fn tally_with(sample: &Sample, with_sums: bool) -> Result<(Table, Vec<WeightSums>)> {
    let radices = radices(&sample.groupings)?;
    match Packing::of(sample, &radices) {
        Some(packing) => tally_keyed(
            sample,
            radices.clone(),
            with_sums,
            |rows| packing.keys(sample, &radices, rows),
            |key| packing.unpack(key),
            |key| packing.round_and_stratum(key),
        ),
        None => tally_keyed(
            sample,
            radices.clone(),
            with_sums,
            |rows| plain_keys(sample, &radices, rows),
            |key| key,
            |(round, stratum, ..)| (round, stratum),
        ),
    }
}

/// The keys of these rows as they are, a row at a time.
fn plain_keys(sample: &Sample, radices: &[u64], rows: std::ops::Range<usize>) -> Vec<Key> {
    rows.map(|i| {
        let levels = pack_levels(sample.groupings.iter().map(|g| g.codes[i]), radices);
        row_key(sample, i, levels)
    })
    .collect()
}

/// Row `i`'s key, its subgroup levels packed.
fn row_key(sample: &Sample, i: usize, levels: u64) -> Key {
    (
        sample.rounds[i],
        sample.strata[i],
        sample.psus[i],
        levels,
        sample.profiles[i],
        sample.flags[i],
        sample.gap_code(i),
    )
}

/// The tally with cell keys of type `K` (`keys_of` gives the keys of a range of rows,
/// `unpack` the [`Key`] back, `round_and_stratum` its first two fields): the table, and
/// each cell's exact sums when asked for.
fn tally_keyed<K: CellKey>(
    sample: &Sample,
    radices: Vec<u64>,
    with_sums: bool,
    keys_of: impl Fn(std::ops::Range<usize>) -> Vec<K> + Sync,
    unpack: impl Fn(K) -> Key + Sync,
    round_and_stratum: impl Fn(K) -> (u32, u32),
) -> Result<(Table, Vec<WeightSums>)> {
    let blocks: Vec<Vec<Entry<K>>> = block_bounds(sample)
        .par_windows(2)
        // Each thread's hash table of a block's cells is kept for its next block: it
        // then no longer grows block after block.
        .map_init(FxHashMap::default, |index, pair| {
            tally_rows(
                index,
                &keys_of(pair[0]..pair[1]),
                &sample.weights[pair[0]..pair[1]],
            )
        })
        .collect::<Result<_>>()?;
    // Files sorted by stratum and PSU: each block's keys then all come after the block
    // before's, and the blocks are the table as they are, with nothing to sort or copy.
    let follow = blocks
        .iter()
        .filter_map(|b| Some((b.first()?, b.last()?)))
        .collect::<Vec<_>>()
        .windows(2)
        .all(|pair| pair[0].1 .0 < pair[1].0 .0);
    let blocks = if follow {
        blocks
    } else {
        by_round_and_stratum(blocks, round_and_stratum)?
    };
    // Into vectors of their final size, in one go (a parallel collect of lists of
    // unknown length would gather pieces and copy them again).
    let entries = || blocks.iter().flatten();
    let mut cells = Vec::with_capacity(entries().count());
    cells.extend(entries().map(|(key, sums)| cell(unpack(*key), sums)));
    let sums = match with_sums {
        true => entries().map(|(_, sums)| *sums).collect(),
        false => Vec::new(),
    };
    let table = Table {
        cells,
        radices,
        gap_vectors: sample.gap_vectors.clone(),
    };
    Ok((table, sums))
}

/// What a cell's key can be in the tally: the [`Key`] itself, or the same fields packed
/// into one integer ([`Packing`]) that sorts and hashes as one.
trait CellKey: Copy + Ord + std::hash::Hash + Send + Sync {}

impl<K: Copy + Ord + std::hash::Hash + Send + Sync> CellKey for K {}

/// A cell's key packed into 128 bits, each field in as many bits as the sample's largest
/// value of it needs, round first (the most significant), so that the packed keys sort
/// as the keys do. A key of seven fields hashes, compares and moves as one integer
/// (the survey shape's tally: 177 -> 164 ms, BENCHMARKS.md). `None` when the fields need
/// more than 128 bits (the tally then keeps the keys as they are).
#[derive(Clone, Copy, Debug)]
struct Packing {
    /// Each field's place: how far it is shifted (the widths of the fields after it),
    /// and its mask (its width's bits), in the key's order.
    shifts: [u32; 7],
    masks: [u128; 7],
}

impl Packing {
    fn of(sample: &Sample, radices: &[u64]) -> Option<Packing> {
        let width = |max: u64| u64::BITS - max.leading_zeros();
        let max_of = |v: &[u32]| v.par_iter().copied().max().unwrap_or(0);
        let or_of = |v: &[u64]| v.par_iter().copied().reduce(|| 0, |a, b| a | b);
        let ((rounds, strata), (psus, gaps)) = rayon::join(
            || rayon::join(|| max_of(&sample.rounds), || max_of(&sample.strata)),
            || rayon::join(|| max_of(&sample.psus), || max_of(&sample.gap_codes)),
        );
        let (profiles, flags) = rayon::join(
            || or_of(&sample.profiles),
            || sample.flags.par_iter().copied().reduce(|| 0, |a, b| a | b),
        );
        let levels = radices.iter().product::<u64>() - 1;
        let bits = [
            width(rounds.into()),
            width(strata.into()),
            width(psus.into()),
            width(levels),
            width(profiles),
            width(flags.into()),
            width(gaps.into()),
        ];
        if bits.iter().sum::<u32>() > 128 {
            return None;
        }
        let mut shifts = [0; 7];
        let mut masks = [0; 7];
        let mut below = 0;
        for f in (0..7).rev() {
            // (A field of 0 bits is always 0: its shift does not matter, and stays < 128.)
            shifts[f] = below.min(127);
            masks[f] = (1u128 << bits[f]) - 1;
            below += bits[f];
        }
        Some(Packing { shifts, masks })
    }

    #[cfg(test)]
    fn pack(&self, (round, stratum, psu, levels, profile, flags, gaps): Key) -> u128 {
        let s = &self.shifts;
        u128::from(round) << s[0]
            | u128::from(stratum) << s[1]
            | u128::from(psu) << s[2]
            | u128::from(levels) << s[3]
            | u128::from(profile) << s[4]
            | u128::from(flags) << s[5]
            | u128::from(gaps) << s[6]
    }

    /// The packed keys of these rows, built a field at a time over all of them (loops
    /// the compiler turns into vector instructions, where a row at a time reads seven
    /// columns and multiplies out the levels row by row).
    fn keys(&self, sample: &Sample, radices: &[u64], rows: std::ops::Range<usize>) -> Vec<u128> {
        let s = &self.shifts;
        let mut levels = vec![0u64; rows.len()];
        for (g, &radix) in sample.groupings.iter().zip(radices).rev() {
            for (packed, &code) in levels.iter_mut().zip(&g.codes[rows.clone()]) {
                let level = if code == MISSING {
                    radix - 1
                } else {
                    u64::from(code)
                };
                *packed = *packed * radix + level;
            }
        }
        let mut keys: Vec<u128> = levels.iter().map(|&l| u128::from(l) << s[3]).collect();
        // A field of no bits (no rounds, no strata, rows as PSUs: a census) is 0 in
        // every key, and not read.
        let mut or_in = |column: &[u32], f: usize| {
            if self.masks[f] != 0 {
                for (key, &v) in keys.iter_mut().zip(&column[rows.clone()]) {
                    *key |= u128::from(v) << s[f];
                }
            }
        };
        or_in(&sample.rounds, 0);
        or_in(&sample.strata, 1);
        or_in(&sample.psus, 2);
        or_in(&sample.flags, 5);
        if !sample.gap_codes.is_empty() {
            or_in(&sample.gap_codes, 6);
        }
        for (key, &p) in keys.iter_mut().zip(&sample.profiles[rows]) {
            *key |= u128::from(p) << s[4];
        }
        keys
    }

    fn field(&self, key: u128, f: usize) -> u64 {
        (key >> self.shifts[f] & self.masks[f]) as u64
    }

    fn round_and_stratum(&self, key: u128) -> (u32, u32) {
        (self.field(key, 0) as u32, self.field(key, 1) as u32)
    }

    fn unpack(&self, key: u128) -> Key {
        (
            self.field(key, 0) as u32,
            self.field(key, 1) as u32,
            self.field(key, 2) as u32,
            self.field(key, 3),
            self.field(key, 4),
            self.field(key, 5) as u32,
            self.field(key, 6) as u32,
        )
    }
}

/// Where the blocks of rows start, and the end: every `BLOCK_ROWS` rows, moved on to
/// where the round, stratum or PSU changes when that is near (or the subgroup levels,
/// when each row is a PSU), so that a PSU's rows are not cut in two: two blocks would
/// share its cells, and their keys would not follow each other.
fn block_bounds(sample: &Sample) -> Vec<usize> {
    let n = sample.len();
    let same_unit = |i: usize| {
        sample.rounds[i] == sample.rounds[i - 1]
            && sample.strata[i] == sample.strata[i - 1]
            && sample.psus[i] == sample.psus[i - 1]
            && (!sample.psu_is_row
                || sample
                    .groupings
                    .iter()
                    .all(|g| g.codes[i] == g.codes[i - 1]))
    };
    let mut bounds = vec![0];
    let mut next = BLOCK_ROWS;
    while next < n {
        let limit = (next + BLOCK_ROWS / 4).min(n);
        let end = (next..limit).find(|&i| !same_unit(i)).unwrap_or(limit);
        if end == n {
            break;
        }
        bounds.push(end);
        next = end + BLOCK_ROWS;
    }
    bounds.push(n);
    bounds
}

/// The blocks' entries as one sorted list per round and stratum, in key order. Survey
/// files come PSU by PSU, the strata taking turns (a district's urban and rural PSUs):
/// the blocks do not follow each other, but within a stratum they do. So the entries
/// are dealt out to their round and stratum, block after block (one copy), and each
/// list, made of sorted runs that mostly follow each other, is sorted (a check, then a
/// merge of the runs that overlap) and its equal keys added, the lists in parallel.
fn by_round_and_stratum<K: CellKey>(
    blocks: Vec<Vec<Entry<K>>>,
    round_and_stratum: impl Fn(K) -> (u32, u32),
) -> Result<Vec<Vec<Entry<K>>>> {
    let (n_rounds, n_strata) = blocks
        .iter()
        .flatten()
        .map(|(key, _)| round_and_stratum(*key))
        .fold((0, 0), |(r, s), (round, stratum)| {
            (r.max(round as usize + 1), s.max(stratum as usize + 1))
        });
    let bucket = |key: K| {
        let (round, stratum) = round_and_stratum(key);
        round as usize * n_strata + stratum as usize
    };
    let mut sizes = vec![0usize; n_rounds * n_strata];
    for (key, _) in blocks.iter().flatten() {
        sizes[bucket(*key)] += 1;
    }
    let mut lists: Vec<Vec<Entry<K>>> = sizes.into_iter().map(Vec::with_capacity).collect();
    for block in blocks {
        for entry in block {
            lists[bucket(entry.0)].push(entry);
        }
    }
    lists.retain(|list| !list.is_empty());
    lists
        .into_par_iter()
        .map(|mut list| {
            if !list.is_sorted_by_key(|(key, _)| *key) {
                list.sort_by_key(|(key, _)| *key);
            }
            sum_equal_keys(list)
        })
        .collect()
}

/// A cell of the table from its key and its sums.
pub fn cell((round, stratum, psu, levels, profile, flags, gaps): Key, sums: &WeightSums) -> Cell {
    Cell {
        round,
        stratum,
        psu,
        levels,
        profile,
        flags,
        gaps,
        weight: sums.weight(),
        weight_sq: sums.weight_sq(),
        count: sums.count(),
    }
}

/// A cell's key and its persons' sums.
type Entry<K> = (K, WeightSums);

/// A table's entries in any order in (the cells of several batches of a file, each
/// keyed alike), sorted by key with one entry per key out: the sums of equal keys added,
/// exactly, so that the order the parts came in does not matter.
pub fn add_up<K>(mut entries: Vec<(K, WeightSums)>) -> Result<Vec<(K, WeightSums)>>
where
    K: Copy + Ord + std::hash::Hash + Send + Sync,
{
    sort_runs_by_key(&mut entries);
    sum_equal_keys(entries)
}

/// Sorts entries by key, fast when they are sorted runs that overlap little: the cells of
/// a file's batches one after the other, each batch's sorted, where the cells of the
/// strata two batches both hold are out of order where the batches meet. The places where
/// the order breaks are found in parallel, and at each only the entries out of order on
/// either side of it are sorted. When the runs overlap much (a file not sorted by
/// stratum and PSU), all are sorted. (The survey shape's 505,581 cells come in 6 runs,
/// 4,000-11,000 cells out of order at each meeting: 16-19 ms for a parallel sort.)
fn sort_runs_by_key<K: Copy + Ord + Send + Sync, V: Send + Sync>(entries: &mut [(K, V)]) {
    let breaks: Vec<usize> = (1..entries.len())
        .into_par_iter()
        .filter(|&i| entries[i - 1].0 > entries[i].0)
        .collect();
    if breaks.is_empty() {
        return;
    }
    // At a break b, between two sorted runs: from the first entry before b above the
    // run's first key, to the last entry after b below the run before's last key.
    let overlap = |entries: &[(K, V)], b: usize| {
        let (first, last) = (entries[b].0, entries[b - 1].0);
        let lo = entries[..b].partition_point(|e| e.0 <= first);
        let hi = b + entries[b..].partition_point(|e| e.0 < last);
        lo..hi
    };
    let overlapping: usize = breaks.iter().map(|&b| overlap(entries, b).len()).sum();
    if breaks.len() <= entries.len() / 1024 + 16 && overlapping <= entries.len() / 8 {
        // In order: each overlap then lies between sorted entries (unless overlaps meet,
        // which the check below finds).
        for &b in &breaks {
            let window = overlap(entries, b);
            entries[window].sort_by_key(|e| e.0);
        }
        if entries.par_windows(2).all(|w| w[0].0 <= w[1].0) {
            return;
        }
    }
    entries.par_sort_unstable_by_key(|e| e.0);
}

/// As [`add_up`], into the table's cells (`key` gives each entry's [`Key`]; the entries'
/// keys sort as theirs do), in parallel: where each key starts is found over the sorted
/// entries, and each key's entries are added and made its cell straight into the list of
/// the final size (a batched census's or survey's half a million cells at the end of the
/// batches: the serial adding up and the copy were a tenth of the survey shape's run, and
/// a list per piece concatenated cost another copy).
pub fn add_up_to_cells<K>(
    mut entries: Vec<(K, WeightSums)>,
    key: impl Fn(K) -> Key + Sync + Send,
) -> Result<Vec<Cell>>
where
    K: Copy + Ord + std::hash::Hash + Send + Sync,
{
    sort_runs_by_key(&mut entries);
    let starts: Vec<usize> = (0..entries.len())
        .into_par_iter()
        .filter(|&i| i == 0 || entries[i - 1].0 != entries[i].0)
        .collect();
    let too_large = std::sync::Mutex::new(None);
    let mut cells = Vec::with_capacity(starts.len());
    cells.par_extend((0..starts.len()).into_par_iter().map(|c| {
        let end = starts.get(c + 1).copied().unwrap_or(entries.len());
        let same = &entries[starts[c]..end];
        let mut sums = same[0].1;
        for (_, more) in &same[1..] {
            if let Err(e) = sums.add(more) {
                too_large.lock().expect("not poisoned").get_or_insert(e);
            }
        }
        cell(key(same[0].0), &sums)
    }));
    match too_large.into_inner().expect("not poisoned") {
        Some(e) => Err(e),
        None => Ok(cells),
    }
}

/// Entries sorted by key in, one entry per key out (their sums added: exact, so in any
/// order), in place.
fn sum_equal_keys<K: CellKey>(mut sorted: Vec<Entry<K>>) -> Result<Vec<Entry<K>>> {
    let mut too_large = None;
    sorted.dedup_by(|(key, sums), (kept, into)| {
        let same = key == kept;
        if same {
            if let Err(e) = into.add(sums) {
                too_large.get_or_insert(e);
            }
        }
        same
    });
    match too_large {
        Some(e) => Err(e),
        None => Ok(sorted),
    }
}

/// Rows with these keys and weights as their cells, sorted by key.
fn tally_rows<K: CellKey>(
    index: &mut FxHashMap<K, u32>,
    keys: &[K],
    weights: &[f64],
) -> Result<Vec<Entry<K>>> {
    // About as many cells as the thread's block before had.
    let mut cells = BlockCells {
        entries: Vec::with_capacity(index.len()),
        index,
    };
    cells.index.clear();
    let mut grid = Grid::default();
    // Members of a household mostly share their cell and weight: a run of rows with one
    // key and one weight is added up as a count.
    let mut run: Option<(K, u64, u64)> = None;
    for (&key, w) in keys.iter().zip(weights) {
        let w = w.to_bits();
        match &mut run {
            Some((k, bits, n)) if *k == key && *bits == w => *n += 1,
            _ => {
                if let Some((k, bits, n)) = run.replace((key, w, 1)) {
                    cells.add(k, run_sums(&mut grid, bits, n)?)?;
                }
            }
        }
    }
    if let Some((k, bits, n)) = run {
        cells.add(k, run_sums(&mut grid, bits, n)?)?;
    }
    let mut entries = cells.entries;
    entries.sort_unstable_by_key(|(key, _)| *key);
    Ok(entries)
}

/// A block's cells as its runs are added: one entry per key, found by hashing, so that
/// only the block's distinct cells are sorted (a census block of 32,768 rows of one
/// municipality has a few thousand).
struct BlockCells<'a, K> {
    entries: Vec<Entry<K>>,
    index: &'a mut FxHashMap<K, u32>,
}

impl<K: CellKey> BlockCells<'_, K> {
    fn add(&mut self, key: K, sums: WeightSums) -> Result<()> {
        match self.index.entry(key) {
            std::collections::hash_map::Entry::Occupied(e) => {
                self.entries[*e.get() as usize].1.add(&sums)
            }
            std::collections::hash_map::Entry::Vacant(e) => {
                e.insert(self.entries.len() as u32);
                self.entries.push((key, sums));
                Ok(())
            }
        }
    }
}

/// The sums of `n` persons of the weight with these bits.
fn run_sums(grid: &mut Grid, bits: u64, n: u64) -> Result<WeightSums> {
    let mut sums = WeightSums::default();
    sums.add_times(grid.of(f64::from_bits(bits))?, n)?;
    Ok(sums)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing;
    use std::collections::BTreeMap;

    #[test]
    fn levels_pack_and_unpack() {
        let radices = [3, 5, 2];
        let table = Table::new(Vec::new(), radices.to_vec());
        for a in [0, 1, MISSING] {
            for b in [0, 3, MISSING] {
                for c in [0, MISSING] {
                    let cell = Cell {
                        round: 0,
                        stratum: 0,
                        psu: 0,
                        levels: pack_levels([a, b, c].into_iter(), &radices),
                        profile: 0,
                        flags: 0,
                        gaps: 0,
                        weight: 0.0,
                        weight_sq: 0.0,
                        count: 0,
                    };
                    let back: Vec<u32> = (0..3)
                        .map(|g| table.level(&cell, g).unwrap_or(MISSING))
                        .collect();
                    assert_eq!(back, [a, b, c]);
                }
            }
        }
    }

    /// The table holds a row-by-row sum's cells and counts, and its sums up to the order
    /// of the additions; its cells are sorted; one thread or many give the same bits.
    #[test]
    fn the_tally_is_a_row_by_row_sum() {
        let sample = testing::sample(100_000, 3);
        let table = tally(&sample).unwrap();
        // (round, stratum, PSU, subgroup level, profile) -> (sum of weights, count)
        type Plain = BTreeMap<(u32, u32, u32, u32, u64), (f64, u64)>;
        let mut plain = Plain::new();
        for i in 0..sample.len() {
            let key = (
                sample.rounds[i],
                sample.strata[i],
                sample.psus[i],
                sample.groupings[0].codes[i],
                sample.profiles[i],
            );
            let e = plain.entry(key).or_default();
            e.0 += sample.weights[i];
            e.1 += 1;
        }
        assert_eq!(plain.len(), table.cells.len());
        for (c, (key, (w, n))) in table.cells.iter().zip(&plain) {
            let level = table.level(c, 0).unwrap_or(MISSING);
            assert_eq!((c.round, c.stratum, c.psu, level, c.profile), *key);
            assert_eq!(c.count, *n);
            assert!((c.weight - w).abs() <= 1e-12 * w, "{key:?}");
        }
        let one = rayon::ThreadPoolBuilder::new()
            .num_threads(1)
            .build()
            .unwrap()
            .install(|| tally(&sample).unwrap());
        assert!(one == table);
        // The order of the rows cannot change a bit: sorted by round, stratum and PSU
        // (the blocks follow each other), PSU by PSU with the strata taking turns (they
        // follow each other within a stratum), and the order drawn (they do not).
        let by_stratum = |i: &usize| (sample.rounds[*i], sample.strata[*i], sample.psus[*i]);
        let by_psu = |i: &usize| (sample.rounds[*i], sample.psus[*i], sample.strata[*i]);
        let mut order: Vec<usize> = (0..sample.len()).collect();
        order.sort_by_key(by_stratum);
        assert!(tally(&reordered(&sample, &order)).unwrap() == table);
        order.sort_by_key(by_psu);
        assert!(tally(&reordered(&sample, &order)).unwrap() == table);
        let (exact, sums) = tally_exact(&reordered(&sample, &order)).unwrap();
        assert!(exact == table);
        assert!(sums
            .iter()
            .zip(&table.cells)
            .all(|(s, c)| s.count() == c.count));
    }

    /// The sample with its rows in this order.
    fn reordered(sample: &Sample, order: &[usize]) -> Sample {
        fn pick<T: Copy>(v: &[T], order: &[usize]) -> Vec<T> {
            order.iter().map(|&i| v[i]).collect()
        }
        let mut s = sample.clone();
        s.profiles = pick(&sample.profiles, order);
        s.flags = pick(&sample.flags, order);
        s.rows = pick(&sample.rows, order);
        s.weights = pick(&sample.weights, order);
        s.strata = pick(&sample.strata, order);
        s.psus = pick(&sample.psus, order);
        s.rounds = pick(&sample.rounds, order);
        for (g, from) in s.groupings.iter_mut().zip(&sample.groupings) {
            g.codes = pick(&from.codes, order);
        }
        s
    }

    /// Packed keys sort as the keys do and unpack to them; the tally with keys packed
    /// and the tally with keys as they are give the same table, to the bit.
    #[test]
    fn packed_keys_keep_the_order_and_the_table() {
        let mut sample = testing::sample(20_000, 2);
        // Every field in use: named groups' flags and gap vectors too.
        sample.flags = (0..sample.len() as u32).map(|i| i % 3).collect();
        sample.gap_codes = (0..sample.len() as u32).map(|i| i / 7 % 5).collect();
        let radices = radices(&sample.groupings).unwrap();
        let packing = Packing::of(&sample, &radices).unwrap();
        let rows = 0..sample.len();
        let mut keys = plain_keys(&sample, &radices, rows.clone());
        let packed: Vec<u128> = keys.iter().map(|&key| packing.pack(key)).collect();
        assert_eq!(packing.keys(&sample, &radices, rows), packed);
        keys.sort_unstable();
        keys.dedup();
        for pair in keys.windows(2) {
            assert!(packing.pack(pair[0]) < packing.pack(pair[1]), "{pair:?}");
        }
        for &key in &keys {
            assert_eq!(packing.unpack(packing.pack(key)), key);
            let (round, stratum, ..) = key;
            assert_eq!(
                packing.round_and_stratum(packing.pack(key)),
                (round, stratum)
            );
        }
        let packed = tally(&sample).unwrap();
        let (plain, _) = tally_keyed(
            &sample,
            radices.clone(),
            false,
            |rows| plain_keys(&sample, &radices, rows),
            |key| key,
            |(round, stratum, ..)| (round, stratum),
        )
        .unwrap();
        assert!(packed == plain);
    }

    /// Fields wider than 128 bits in all are not packed: profiles of 64 indicators and
    /// flags of 32 bits, with the levels, strata and PSUs, need more.
    #[test]
    fn keys_too_wide_for_128_bits_stay_as_they_are() {
        let mut sample = testing::sample(1_000, 1);
        sample.profiles[0] |= 1 << 63;
        sample.flags[0] = 1 << 31;
        sample.gap_codes = vec![0; sample.len()];
        sample.gap_codes[0] = u32::MAX - 1;
        sample.gap_vectors = Vec::new();
        let radices = radices(&sample.groupings).unwrap();
        assert!(Packing::of(&sample, &radices).is_none());
        sample.gap_codes[0] = 0;
        sample.gap_vectors = vec![Vec::new()];
        assert!(Packing::of(&sample, &radices).is_some());
    }

    #[test]
    fn too_many_combinations_of_levels_are_an_error_not_a_panic() {
        // Five columns of 10,000 levels: 10,001^5 > 2^64 combinations.
        let groupings: Vec<Grouping> = (0..5)
            .map(|g| Grouping {
                column: format!("g{g}"),
                levels: (0..10_000).map(|l| l.to_string()).collect(),
                codes: Vec::new(),
            })
            .collect();
        let e = radices(&groupings).unwrap_err().to_string();
        assert!(
            e.contains("g0 (10000 levels)") && e.contains("fewer `over` columns"),
            "{e}"
        );
        assert!(radices(&groupings[..4]).is_ok());
    }

    /// Entries of random keys drawn from a few, each key met several times.
    fn entries(n: usize, distinct: u64, seed: u64) -> Vec<(Key, WeightSums)> {
        let mut state = seed | 1;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        (0..n)
            .map(|_| {
                let k = next() % distinct;
                let key = (
                    (k % 2) as u32,
                    (k % 7) as u32,
                    (k / 3) as u32,
                    k % 5,
                    k,
                    0,
                    0,
                );
                let w = (next() % 1000) as f64 / 8.0 + 0.125;
                (key, WeightSums::of(w, 1 + next() % 3).unwrap())
            })
            .collect()
    }

    #[test]
    fn cells_added_up_in_parallel_are_those_added_up_in_order() {
        for (n, distinct) in [
            (0, 1),
            (1, 1),
            (7, 1),
            (1000, 10),
            (20_000, 3_000),
            (5_000, 1 << 40),
        ] {
            let entries = entries(n, distinct, n as u64 + distinct);
            // By hand: a map from each key to the exact sums of its entries.
            let mut by_key: BTreeMap<Key, WeightSums> = BTreeMap::new();
            for (key, sums) in &entries {
                by_key.entry(*key).or_default().add(sums).unwrap();
            }
            let expected: Vec<Cell> = by_key.iter().map(|(k, s)| cell(*k, s)).collect();
            for threads in [1, 2, 5] {
                let pool = rayon::ThreadPoolBuilder::new()
                    .num_threads(threads)
                    .build()
                    .unwrap();
                let cells = pool
                    .install(|| add_up_to_cells(entries.clone(), |key| key))
                    .unwrap();
                assert_eq!(cells, expected, "{n} entries, {threads} threads");
            }
        }
    }

    proptest::proptest! {
        /// Sorted runs that overlap a little, a lot, or not at all, and lists in no order:
        /// sorted as a plain sort sorts them, every entry kept.
        #[test]
        fn runs_are_sorted_as_a_sort_sorts_them(
            runs in proptest::collection::vec(
                (0u64..1000, proptest::collection::vec(0u64..50, 0..300)),
                0..8,
            ),
            shuffled in proptest::collection::vec(0u64..100, 0..200),
        ) {
            // Each run: ascending keys from a start, by the given steps.
            let mut entries: Vec<(u64, usize)> = Vec::new();
            for (start, steps) in &runs {
                let mut key = *start;
                for step in steps {
                    key += step;
                    entries.push((key, entries.len()));
                }
            }
            for list in [entries, shuffled.iter().map(|&k| (k, k as usize)).collect()] {
                let mut expected = list.clone();
                expected.sort();
                let mut sorted = list.clone();
                sort_runs_by_key(&mut sorted);
                proptest::prop_assert!(sorted.windows(2).all(|w| w[0].0 <= w[1].0));
                sorted.sort();
                proptest::prop_assert_eq!(sorted, expected);
            }
        }
    }
}
