//! Unit totals: the table and the design in, every domain's weighted totals per sampling
//! unit out ([`Totals`]). Each measure is a ratio of two totals, so the point estimates
//! are sums of these columns and a standard error is one pass over two of them.

use rayon::prelude::*;
use rustc_hash::FxHashMap;

use super::{Design, LonelyPsu};
use crate::domain::Domain;
use crate::error::Result;
use crate::identification::IntegerWeights;
use crate::measures::{Contribution, Extras, Layout};
use crate::sample::Sample;
use crate::tally::Table;

/// Every domain's weighted totals per sampling unit, added up in one pass over the table:
/// their sums over the units give the point estimates ([`crate::measures::estimate`]),
/// their columns the standard errors ([`super::infer`]).
pub struct Totals {
    pub design: Design,
    /// Where each total sits in a domain's totals.
    pub layout: Layout,
    pub(super) domains: FxHashMap<Domain, UnitTotals>,
}

impl Totals {
    /// The design read off the table (an error for a single-PSU stratum under
    /// `LonelyPsu::Fail`), and the totals of every domain with `n_groups` named groups.
    pub fn new(
        table: &Table,
        sample: &Sample,
        weights: &IntegerWeights,
        n_groups: usize,
        lonely_psu: LonelyPsu,
    ) -> Result<Totals> {
        Totals::with_extras(
            table,
            sample,
            weights,
            n_groups,
            lonely_psu,
            &Extras::default(),
        )
    }

    /// As [`Totals::new`], with the totals `extras` asks for (M1 and M2, inequality).
    pub fn with_extras(
        table: &Table,
        sample: &Sample,
        weights: &IntegerWeights,
        n_groups: usize,
        lonely_psu: LonelyPsu,
        extras: &Extras,
    ) -> Result<Totals> {
        let design = Design::new(table, sample, lonely_psu)?;
        let layout = Layout::with_extras(weights, n_groups, extras);
        let domains = unit_totals(table, &design, &layout, weights);
        Ok(Totals {
            design,
            layout,
            domains,
        })
    }

    /// A domain's totals over all its units; none for a domain without members.
    pub fn of(&self, domain: &Domain) -> Option<&[f64]> {
        self.domains.get(domain).map(|d| d.sums.as_slice())
    }
}

/// A sampling unit of a domain: a PSU, or — when each row is its own PSU — the rows of a
/// stratum that share a profile (their totals are then all a variance needs, given the
/// sum of squared weights).
#[derive(Clone, Copy, Debug)]
pub(super) struct Unit {
    /// The PSU's index in the design (clustered designs).
    pub(super) id: usize,
    pub(super) stratum: u32,
    /// Σ of the squared linearized values of the unit's PSUs over the square of their
    /// sum: 1 for a PSU; Σw²/(Σw)² for rows sharing a profile.
    pub(super) factor: f64,
}

/// Totals added up at once, unit by unit ([`UnitTotals::add_stratum_sums`],
/// [`column_sums`]).
const TOTALS_AT_ONCE: usize = 8;

/// One domain's weighted totals per sampling unit: every measure of the domain, at every
/// cutoff, is a ratio of two of these columns, so its linearized value per unit is
/// (scale·Y_u − R·X_u) / X and a standard error costs one pass over the units — not
/// over the cells, nor the rows.
#[derive(Default)]
pub(super) struct UnitTotals {
    /// Sorted by id for clustered designs.
    pub(super) units: Vec<Unit>,
    /// Each unit's factor (see [`Unit`]), side by side.
    pub(super) factors: Vec<f64>,
    /// Runs of consecutive units of one stratum: (stratum, first unit, end).
    pub(super) runs: Vec<(u32, usize, usize)>,
    /// The strata that have units, in order.
    pub(super) strata: Vec<u32>,
    /// By total: each total's values over the units side by side, so that a standard
    /// error reads two contiguous columns instead of two values from every row. Empty
    /// when each row is its own PSU: see `row_values`.
    pub(super) totals: Vec<f64>,
    /// When each row is its own PSU: each unit's weight and contribution, of which its
    /// totals are the product; a column is made when asked for ([`UnitTotals::column`]),
    /// not held (a census's 1,122 municipalities have 2.6 million such units, whose 33
    /// totals would take 700 MB).
    pub(super) row_values: Option<RowValues>,
    /// Each total over all the units (the denominators of the linearized values).
    pub(super) sums: Vec<f64>,
    /// A round's whole sample only ([`UnitTotals::add_stratum_sums`]): per total and
    /// stratum (`k * n_strata + h`), Σ x_u and Σ factor·x_u² over its units.
    pub(super) stratum_sums: Vec<(f64, f64)>,
    /// A round's whole sample of a clustered design only: each PSU's place among the
    /// units, by PSU index (`u32::MAX` when absent).
    pub(super) place: Vec<u32>,
}

impl UnitTotals {
    /// A total over all the units.
    pub(super) fn sum(&self, k: usize) -> f64 {
        self.sums.get(k).copied().unwrap_or(0.0)
    }

    /// A total's values over the units (once built).
    pub(super) fn column(&self, k: usize) -> std::borrow::Cow<'_, [f64]> {
        match &self.row_values {
            Some(rows) => rows.column(k).into(),
            None => {
                let n = self.units.len();
                self.totals[k * n..(k + 1) * n].into()
            }
        }
    }

    /// The number of totals per unit.
    fn width(&self) -> usize {
        match &self.row_values {
            Some(rows) => rows.width,
            None => self.totals.len().checked_div(self.units.len()).unwrap_or(0),
        }
    }

    /// For a round's whole sample: each total's sums per stratum, and each PSU's place,
    /// so that the share of a subgroup level is linearized over the level's units alone
    /// (the other units' values are these sums scaled): the cost of all the shares is
    /// linear in the levels' units, not the levels times the sample's PSUs.
    fn add_stratum_sums(&mut self, n_strata: usize, n_psus: usize, psu_is_row: bool) {
        let width = self.width();
        let mut sums = vec![(0.0, 0.0); width * n_strata];
        // A few totals at a time, unit by unit: each total's sums are added in the units'
        // order, and the totals' additions, independent, overlap (one total at a time
        // waits on each addition before the next: the survey shape's whole-sample totals
        // took 10 ms, now 6).
        for first in (0..width).step_by(TOTALS_AT_ONCE) {
            let ks = first..(first + TOTALS_AT_ONCE).min(width);
            let columns: Vec<_> = ks.clone().map(|k| self.column(k)).collect();
            for (u, (unit, &factor)) in self.units.iter().zip(&self.factors).enumerate() {
                for (k, column) in ks.clone().zip(&columns) {
                    let x = column[u];
                    let s = &mut sums[k * n_strata + unit.stratum as usize];
                    s.0 += x;
                    s.1 += factor * x * x;
                }
            }
        }
        self.stratum_sums = sums;
        if !psu_is_row {
            self.place = vec![u32::MAX; n_psus];
            for (u, unit) in self.units.iter().enumerate() {
                self.place[unit.id] = u as u32;
            }
        }
    }

    /// Total `k`'s Σ x_u and Σ factor·x_u² over the units of each stratum (a round's whole
    /// sample).
    pub(super) fn stratum_sums(&self, k: usize, n_strata: usize) -> &[(f64, f64)] {
        self.stratum_sums
            .get(k * n_strata..(k + 1) * n_strata)
            .unwrap_or(&[])
    }
}

/// The totals of every domain. One pass over the table's cells works out once what each
/// cell's persons add, its unit, and the table's leaves (runs of cells of one PSU and
/// one combination of subgroup levels); the leaves list each domain's members; then the
/// domains are added up in parallel, each into its own columns, in the table's order:
/// the same sums, in the same order, whatever the number of threads.
///
/// In a clustered design a leaf's cells go to the same unit of the same domains, so
/// their totals are added up once per leaf ([`leaf_totals`]) and a domain adds leaves,
/// not cells: a survey's PSU has one leaf and a hundred cells, and the cost of four
/// domains (national, area, state, district) is then one pass over the cells, not four.
/// Where the leaves are not much fewer than the cells, or their totals would take too
/// much memory, the domains add cells as before.
pub(super) fn unit_totals(
    table: &Table,
    design: &Design,
    layout: &Layout,
    weights: &IntegerWeights,
) -> FxHashMap<Domain, UnitTotals> {
    let (cell_of, leaves) = cell_facts(table, design, layout, weights);
    let by_leaf = !design.psu_is_row
        && leaves.len() * 2 <= table.cells.len()
        && leaves.len() * layout.width() <= LEAF_TOTALS_BUDGET;
    unit_totals_of(table, design, layout, &cell_of, &leaves, by_leaf)
}

/// As [`unit_totals`], the domains of a clustered design adding leaves (`by_leaf`) or
/// cells; when each row is a PSU, cells (their units are made in [`row_units`]).
fn unit_totals_of(
    table: &Table,
    design: &Design,
    layout: &Layout,
    cell_of: &CellFacts,
    leaves: &[Leaf],
    by_leaf: bool,
) -> FxHashMap<Domain, UnitTotals> {
    let members = domain_members(table, leaves, by_leaf);
    let sources = if design.psu_is_row {
        Sources::RowUnits {
            values: unit_values(&cell_of.contributions, layout),
        }
    } else if by_leaf {
        Sources::Leaves {
            totals: leaf_totals(leaves, table, layout, cell_of),
            leaves,
        }
    } else {
        Sources::Cells
    };
    members
        .into_par_iter()
        .map_init(Scratch::default, |scratch, (domain, members)| {
            let mut totals =
                domain_totals(&members, &sources, table, design, layout, cell_of, scratch);
            if domain.subgroup.is_none() {
                totals.add_stratum_sums(
                    design.n_strata(),
                    design.psu_stratum.len(),
                    design.psu_is_row,
                );
            }
            (domain, totals)
        })
        .collect()
}

/// The most totals of leaves kept at once (64 MB).
const LEAF_TOTALS_BUDGET: usize = 1 << 23;

/// A run of consecutive cells (`start..end` in the table) of one round, PSU, subgroup
/// levels and standing (inside or outside every domain): they belong to the same
/// domains and the same unit.
type Leaf = (u32, u32);

/// What a domain's members are and how they make its units: cells whose units are the
/// rows of a stratum sharing a contribution (each row a PSU), cells of PSUs, or leaves of
/// PSUs with their totals.
pub(super) enum Sources<'a> {
    RowUnits {
        /// Each contribution's totals for a weight of 1 ([`unit_values`]).
        values: std::sync::Arc<[f64]>,
    },
    Cells,
    Leaves {
        /// Each leaf's totals side by side (`layout.width()` per leaf).
        totals: Vec<f64>,
        leaves: &'a [Leaf],
    },
}

/// One pass over the cells: what each cell's persons add, its unit (its PSU, or — when
/// each row is a PSU — its stratum and contribution), and the table's leaves.
fn cell_facts(
    table: &Table,
    design: &Design,
    layout: &Layout,
    weights: &IntegerWeights,
) -> (CellFacts, Vec<Leaf>) {
    let cells = &table.cells;
    let mut cell_of = CellFacts {
        contributions: Vec::new(),
        contribution: Vec::with_capacity(cells.len()),
        psu: Vec::with_capacity(cells.len()),
        unit: Vec::new(),
        units: 0,
    };
    let mut contribution_index = ContributionIndex::default();
    let mut row_unit_index: FxHashMap<(u32, u32), u32> = FxHashMap::default();
    let mut leaves: Vec<Leaf> = Vec::new();
    // Consecutive cells mostly share their PSU and subgroup levels.
    let mut last_psu = None;
    let mut last_leaf = None;
    for (i, cell) in cells.iter().enumerate() {
        let next = cell_of.contributions.len() as u32;
        let c = contribution_index.code(cell, next);
        if c == next {
            let adds = layout.contribution(weights, cell.profile, cell.flags, table.gaps_of(cell));
            cell_of.contributions.push(adds);
        }
        cell_of.contribution.push(c);
        if design.psu_is_row {
            cell_of.add_row_unit(&mut row_unit_index, cell.stratum, c);
        } else {
            let key = (cell.stratum, cell.psu);
            if last_psu.is_none_or(|(k, _)| k != key) {
                last_psu = Some((key, design.psu_index[&key]));
            }
            cell_of.psu.push(last_psu.map_or(0, |(_, id)| id));
        }
        // (A row outside every domain has the levels of others, and no domain.)
        let outside = cell.flags & crate::sample::OUTSIDE_EVERY_DOMAIN != 0;
        let leaf = (cell.round, cell.stratum, cell.psu, cell.levels, outside);
        if last_leaf != Some(leaf) {
            last_leaf = Some(leaf);
            leaves.push((i as u32, i as u32));
        }
        leaves.last_mut().expect("a leaf").1 = i as u32 + 1;
    }
    (cell_of, leaves)
}

/// The code of each cell's contribution, by its (profile, flags, gaps), numbered in
/// order of first appearance. A cell without flags or gaps and a profile of fewer than
/// [`DIRECT_PROFILE_BITS`] bits (most: ten indicators make 1,024 profiles) finds it in a
/// table indexed by profile; the others in a hash map (a look-up per cell of the survey
/// shape's 505,581 took 6 ms).
#[derive(Default)]
struct ContributionIndex {
    by_profile: Vec<u32>,
    others: FxHashMap<(u64, u32, u32), u32>,
}

/// Profiles below 2^16 are looked up by index ([`ContributionIndex`]).
const DIRECT_PROFILE_BITS: u32 = 16;

impl ContributionIndex {
    /// The cell's code, `next` if it is new.
    fn code(&mut self, cell: &crate::tally::Cell, next: u32) -> u32 {
        if cell.flags == 0 && cell.gaps == 0 && cell.profile < 1 << DIRECT_PROFILE_BITS {
            let p = cell.profile as usize;
            if p >= self.by_profile.len() {
                self.by_profile
                    .resize((p + 1).next_power_of_two(), u32::MAX);
            }
            if self.by_profile[p] == u32::MAX {
                self.by_profile[p] = next;
            }
            return self.by_profile[p];
        }
        *(self.others)
            .entry((cell.profile, cell.flags, cell.gaps))
            .or_insert(next)
    }
}

/// Each domain's members, leaf by leaf: its leaves (`by_leaf`) or their cells, in the
/// table's order. The domains of a leaf are those of its first cell.
fn domain_members(table: &Table, leaves: &[Leaf], by_leaf: bool) -> Vec<(Domain, Vec<u32>)> {
    let mut domain_index: FxHashMap<Domain, usize> = FxHashMap::default();
    let mut members: Vec<(Domain, Vec<u32>)> = Vec::new();
    let mut last_levels = None;
    let mut leaf_domains: Vec<usize> = Vec::new();
    for (l, &(start, end)) in leaves.iter().enumerate() {
        let cell = &table.cells[start as usize];
        let outside = cell.flags & crate::sample::OUTSIDE_EVERY_DOMAIN != 0;
        if last_levels != Some((cell.round, cell.levels, outside)) {
            last_levels = Some((cell.round, cell.levels, outside));
            leaf_domains.clear();
            for domain in table.domains_of(cell) {
                let d = *domain_index.entry(domain).or_insert_with(|| {
                    members.push((domain, Vec::new()));
                    members.len() - 1
                });
                leaf_domains.push(d);
            }
        }
        for &d in &leaf_domains {
            if by_leaf {
                members[d].1.push(l as u32);
            } else {
                members[d].1.extend(start..end);
            }
        }
    }
    members
}

/// Each leaf's totals (its cells' contributions times their weights, added in the
/// table's order), `layout.width()` per leaf; in parallel, a leaf on one thread.
fn leaf_totals(leaves: &[Leaf], table: &Table, layout: &Layout, cell_of: &CellFacts) -> Vec<f64> {
    let width = layout.width();
    let mut totals = vec![0.0; leaves.len() * width];
    totals
        .par_chunks_mut(width.max(1))
        .zip(leaves)
        .for_each(|(row, &(start, end))| {
            for c in start as usize..end as usize {
                let adds = &cell_of.contributions[cell_of.contribution[c] as usize];
                adds.add_to_columns(row, 1, 0, table.cells[c].weight);
            }
        });
    totals
}

/// A domain's units when each row is its own PSU, as their weights and contributions:
/// unit u's total k is `weights[u] * values[k * n + contribution[u]]` (n contributions),
/// the product the totals held would have had (a unit has one contribution, whose
/// cumulated values add zeros to its one value: the same bits).
pub(super) struct RowValues {
    weights: Vec<f64>,
    contributions: Vec<u32>,
    /// Each total's values for a weight of 1, cumulated over the cutoffs, over the
    /// contributions side by side (a column is made from one stretch of them).
    values: std::sync::Arc<[f64]>,
    width: usize,
}

impl RowValues {
    fn column(&self, k: usize) -> Vec<f64> {
        let n = self.values.len() / self.width.max(1);
        let values = &self.values[k * n..(k + 1) * n];
        (self.weights.iter().zip(&self.contributions))
            .map(|(&w, &c)| w * values[c as usize])
            .collect()
    }

    /// Every total over all the units, added in the units' order (as a held column's
    /// sum is).
    fn sums(&self) -> Vec<f64> {
        let n = self.values.len() / self.width.max(1);
        (self.values.chunks_exact(n.max(1)))
            .take(self.width)
            .map(|values| {
                (self.weights.iter().zip(&self.contributions))
                    .map(|(&w, &c)| w * values[c as usize])
                    .sum()
            })
            .collect()
    }
}

/// Each total's values for a weight of 1, cumulated over the cutoffs, the contributions
/// side by side (for [`RowValues`]).
fn unit_values(contributions: &[Contribution], layout: &Layout) -> std::sync::Arc<[f64]> {
    let n = contributions.len();
    let mut values = vec![0.0; n * layout.width()];
    for (c, adds) in contributions.iter().enumerate() {
        adds.add_to_columns(&mut values, n, c, 1.0);
    }
    layout.cumulate_columns(&mut values, n);
    values.into()
}

/// What [`unit_totals`] works out once per cell.
pub(super) struct CellFacts {
    /// What a person of each (profile, flags) adds.
    pub(super) contributions: Vec<Contribution>,
    /// Each cell's, in `contributions`.
    pub(super) contribution: Vec<u32>,
    /// Each cell's PSU index in the design (clustered designs).
    pub(super) psu: Vec<usize>,
    /// When each row is its own PSU: each cell's unit of the whole sample (its stratum
    /// and contribution; a domain's units are those of its cells), numbered once here
    /// so that a domain finds its units by index rather than by hashing every cell.
    pub(super) unit: Vec<u32>,
    /// The number of such units.
    pub(super) units: u32,
}

impl CellFacts {
    /// The next cell's unit, when each row is its own PSU: the cells of a stratum that
    /// share a contribution (profile, flags, gaps) make one unit.
    fn add_row_unit(&mut self, index: &mut FxHashMap<(u32, u32), u32>, stratum: u32, c: u32) {
        let next = self.units;
        let u = *index.entry((stratum, c)).or_insert(next);
        if u == next {
            self.units += 1;
        }
        self.unit.push(u);
    }
}

/// A thread's scratch for [`row_units`]: each unit of the whole sample's place among the
/// units of the domain at hand (`u32::MAX`: none yet), cleared after each domain.
#[derive(Default)]
pub(super) struct Scratch {
    place: Vec<u32>,
}

/// A domain's units when each row is a PSU: the cells of a stratum that share a
/// contribution (profile, group flags, gaps), with the factor Σw²/(Σw)² that makes their
/// total a sum of squares. The units, and each unit's weight and contribution: its
/// cells' totals are that weight times that contribution, so a cell costs one lookup
/// and two additions, whatever the number of totals.
fn row_units(
    members: &[u32],
    table: &Table,
    cell_of: &CellFacts,
    scratch: &mut Scratch,
) -> (Vec<Unit>, Vec<(f64, u32)>) {
    let mut units: Vec<Unit> = Vec::new();
    let mut weights: Vec<(f64, u32)> = Vec::new();
    let mut squares: Vec<f64> = Vec::new();
    let place = &mut scratch.place;
    place.resize(cell_of.units as usize, u32::MAX);
    let mut whole_sample_units: Vec<u32> = Vec::new();
    for &c in members {
        let cell = &table.cells[c as usize];
        let g = cell_of.unit[c as usize];
        let mut u = place[g as usize];
        if u == u32::MAX {
            u = units.len() as u32;
            place[g as usize] = u;
            whole_sample_units.push(g);
            units.push(Unit {
                id: u as usize,
                stratum: cell.stratum,
                factor: 0.0,
            });
            weights.push((0.0, cell_of.contribution[c as usize]));
            squares.push(0.0);
        }
        weights[u as usize].0 += cell.weight;
        squares[u as usize] += cell.weight_sq;
    }
    for g in whole_sample_units {
        place[g as usize] = u32::MAX;
    }
    for ((unit, &(w, _)), w2) in units.iter_mut().zip(&weights).zip(squares) {
        unit.factor = if w > 0.0 { w2 / (w * w) } else { 0.0 };
    }
    (units, weights)
}

/// A domain's units in a clustered design: its cells' PSUs. The units, and each cell's
/// index among them.
fn psu_units(members: &[u32], table: &Table, cell_of: &CellFacts) -> (Vec<Unit>, Vec<u32>) {
    let mut units: Vec<Unit> = Vec::new();
    let mut unit_of: Vec<u32> = Vec::with_capacity(members.len());
    // A domain's cells come PSU by PSU (the table is sorted by stratum, PSU).
    for &c in members {
        let id = cell_of.psu[c as usize];
        if units.last().is_none_or(|last| last.id != id) {
            units.push(Unit {
                id,
                stratum: table.cells[c as usize].stratum,
                factor: 1.0,
            });
        }
        unit_of.push(units.len() as u32 - 1);
    }
    (units, unit_of)
}

/// One domain's totals per unit, from its members (indices of cells or of leaves, in the
/// table's order).
pub(super) fn domain_totals(
    members: &[u32],
    sources: &Sources,
    table: &Table,
    design: &Design,
    layout: &Layout,
    cell_of: &CellFacts,
    scratch: &mut Scratch,
) -> UnitTotals {
    let (mut units, mut totals) = match sources {
        Sources::RowUnits { values } => {
            let (units, weights) = row_units(members, table, cell_of, scratch);
            let (weights, contributions) = weights.into_iter().unzip();
            let rows = RowValues {
                weights,
                contributions,
                values: values.clone(),
                width: layout.width(),
            };
            return unit_totals_from(units, Vec::new(), Some(rows));
        }
        Sources::Cells => {
            let (units, unit_of) = psu_units(members, table, cell_of);
            let n = units.len();
            let mut totals = vec![0.0; n * layout.width()];
            for (&c, &u) in members.iter().zip(&unit_of) {
                let adds = &cell_of.contributions[cell_of.contribution[c as usize] as usize];
                adds.add_to_columns(&mut totals, n, u as usize, table.cells[c as usize].weight);
            }
            (units, totals)
        }
        Sources::Leaves {
            totals: leaf_totals,
            leaves,
        } => {
            let firsts: Vec<u32> = members.iter().map(|&l| leaves[l as usize].0).collect();
            let (units, unit_of) = psu_units(&firsts, table, cell_of);
            let (n, width) = (units.len(), layout.width());
            let mut totals = vec![0.0; n * width];
            for (&l, &u) in members.iter().zip(&unit_of) {
                let row = &leaf_totals[l as usize * width..(l as usize + 1) * width];
                for (k, &v) in row.iter().enumerate() {
                    totals[k * n + u as usize] += v;
                }
            }
            (units, totals)
        }
    };
    let n = units.len();
    layout.cumulate_columns(&mut totals, n);
    if !design.psu_is_row && !units.is_sorted_by_key(|u| u.id) {
        // Rounds that share PSUs: a later round meets them in another order.
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by_key(|&u| units[u].id);
        units = order.iter().map(|&u| units[u]).collect();
        totals = totals
            .chunks_exact(n)
            .flat_map(|column| order.iter().map(|&u| column[u]))
            .collect();
    }
    unit_totals_from(units, totals, None)
}

/// The sum of each column of `n` values, each added in order as `Iterator::sum` adds
/// them (the same bits), a few columns at a time so that their additions overlap.
fn column_sums(totals: &[f64], n: usize) -> Vec<f64> {
    let columns: Vec<&[f64]> = totals.chunks_exact(n.max(1)).collect();
    let mut sums = Vec::with_capacity(columns.len());
    for some in columns.chunks(TOTALS_AT_ONCE) {
        // (`Iterator::sum` of floats starts from -0.0.)
        let mut at_once = [-0.0; TOTALS_AT_ONCE];
        for u in 0..n {
            for (sum, column) in at_once.iter_mut().zip(some) {
                *sum += column[u];
            }
        }
        sums.extend_from_slice(&at_once[..some.len()]);
    }
    sums
}

/// A domain's totals from its units and their totals (held, or made from `row_values`):
/// each total's sum, and the units' runs of one stratum.
fn unit_totals_from(
    units: Vec<Unit>,
    totals: Vec<f64>,
    row_values: Option<RowValues>,
) -> UnitTotals {
    let n = units.len();
    let sums = match &row_values {
        Some(rows) => rows.sums(),
        None => column_sums(&totals, n),
    };
    let mut runs: Vec<(u32, usize, usize)> = Vec::new();
    for (u, unit) in units.iter().enumerate() {
        match runs.last_mut() {
            Some((h, _, end)) if *h == unit.stratum => *end = u + 1,
            _ => runs.push((unit.stratum, u, u + 1)),
        }
    }
    let mut strata: Vec<u32> = runs.iter().map(|&(h, _, _)| h).collect();
    strata.sort_unstable();
    strata.dedup();
    UnitTotals {
        factors: units.iter().map(|u| u.factor).collect(),
        units,
        runs,
        strata,
        totals,
        row_values,
        sums,
        stratum_sums: Vec::new(),
        place: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing;

    /// The sample's table, its design, and what each cell adds (and the leaves).
    fn tallied(
        sample: &Sample,
        layout: &Layout,
        weights: &IntegerWeights,
    ) -> (Table, Design, CellFacts, Vec<Leaf>) {
        let table = crate::tally::tally(sample).unwrap();
        let design = Design::new(&table, sample, LonelyPsu::Fail).unwrap();
        let (cell_of, leaves) = cell_facts(&table, &design, layout, weights);
        (table, design, cell_of, leaves)
    }

    /// When each row is a PSU, a domain's columns made from its units' weights and
    /// contributions are, to the bit, the totals a domain would hold: each unit's
    /// contribution added at its weight, then cumulated over the three cutoffs.
    #[test]
    fn row_units_make_the_columns_held_totals_would_be() {
        let m = testing::methodology();
        let weights = IntegerWeights::new(&m).unwrap();
        let layout = Layout::new(&weights, 0);
        let mut sample = testing::sample(20_000, 2);
        sample.psu_is_row = true;
        sample.psus = vec![0; sample.len()];
        sample.psu_labels = Vec::new();
        let (table, design, cell_of, leaves) = tallied(&sample, &layout, &weights);
        let domains = unit_totals_of(&table, &design, &layout, &cell_of, &leaves, false);
        assert_eq!(
            domains.len(),
            2 * 4,
            "two rounds, the whole sample and 3 levels"
        );
        for (domain, d) in &domains {
            let rows = d.row_values.as_ref().expect("rows as units");
            let n = d.units.len();
            let mut held = vec![0.0; n * layout.width()];
            for (u, (&w, &c)) in rows.weights.iter().zip(&rows.contributions).enumerate() {
                cell_of.contributions[c as usize].add_to_columns(&mut held, n, u, w);
            }
            layout.cumulate_columns(&mut held, n);
            for (k, expected) in held.chunks_exact(n).enumerate() {
                let column = d.column(k);
                assert_eq!(column.len(), n);
                for (a, b) in column.iter().zip(expected) {
                    assert_eq!(a.to_bits(), b.to_bits(), "{domain:?}, total {k}");
                }
                let sum: f64 = expected.iter().sum();
                assert_eq!(d.sum(k).to_bits(), sum.to_bits(), "{domain:?}, total {k}");
            }
            assert!(held.iter().filter(|&&v| v > 0.0).count() > n, "{domain:?}");
        }
    }

    /// The domains' unit totals added leaf by leaf are those added cell by cell: to the
    /// bit when each PSU has one leaf in every domain (a subgroup nested in the PSUs, as
    /// districts are), and up to the order of additions when a subgroup varies within
    /// PSUs.
    #[test]
    fn leaves_give_the_totals_of_cells() {
        let m = testing::methodology();
        let weights = IntegerWeights::new(&m).unwrap();
        let layout = Layout::new(&weights, 0);
        for nested in [true, false] {
            let mut sample = testing::sample(40_000, 2);
            if nested {
                let psus = sample.psus.clone();
                for (code, psu) in sample.groupings[0].codes.iter_mut().zip(psus) {
                    *code = psu % 3;
                }
            }
            let (table, design, cell_of, leaves) = tallied(&sample, &layout, &weights);
            assert!(
                leaves.len() * 2 <= table.cells.len(),
                "the test has leaves of cells"
            );
            let by_cell = unit_totals_of(&table, &design, &layout, &cell_of, &leaves, false);
            let by_leaf = unit_totals_of(&table, &design, &layout, &cell_of, &leaves, true);
            assert_eq!(
                by_cell.len(),
                2 * 4,
                "two rounds, the whole sample and 3 levels"
            );
            for (domain, a) in &by_cell {
                let b = &by_leaf[domain];
                assert_eq!(a.units.len(), b.units.len());
                assert!(a.units.iter().zip(&b.units).all(|(x, y)| x.id == y.id));
                assert_eq!(a.runs, b.runs);
                for (x, y) in a
                    .totals
                    .iter()
                    .zip(&b.totals)
                    .chain(a.sums.iter().zip(&b.sums))
                {
                    if nested {
                        assert_eq!(x.to_bits(), y.to_bits(), "{domain:?}: {x} and {y}");
                    } else {
                        assert!((x - y).abs() <= 1e-12 * x.abs().max(1.0), "{x} and {y}");
                    }
                }
            }
        }
    }
}
