//! Robustness and dominance, for `afmpi robustness` and `afmpi dominance`: the engine's
//! findings ([`afmpi_core::robustness`]) in; one long frame each (a `table` column says
//! which part a row is) and the tables for the terminal out. The statistics are the
//! engine's; here they are only labelled with the survey's names.

use std::borrow::Cow;
use std::fmt::Write as _;

use polars::prelude::*;

use afmpi_core::domain::Domain;
use afmpi_core::measures::Measure;
pub use afmpi_core::robustness::*;
use afmpi_core::Analysis;

use crate::compare::domain_labels;
use crate::output::{count, finite, truncate};

/// Text of the frame, borrowed from the analysis where it can be.
type Text<'a> = Cow<'a, str>;

fn round_label(a: &Analysis, round: u32) -> Option<Text<'_>> {
    a.sample.round_t(round).map(Cow::Borrowed)
}

/// The labels of a comparison: level of analysis, the domain's level (for rounds), the
/// first and second populations, and the round (for levels).
struct PairLabels<'a> {
    loa: Text<'a>,
    subg: Option<Text<'a>>,
    first: Text<'a>,
    second: Text<'a>,
    t: Option<Text<'a>>,
}

fn pair_labels(a: &Analysis, pair: Pair) -> PairLabels<'_> {
    match pair {
        Pair::Levels {
            column,
            round,
            first,
            second,
        } => {
            let grouping = &a.sample.groupings[column];
            PairLabels {
                loa: Cow::Borrowed(&grouping.column),
                subg: None,
                first: Cow::Borrowed(&grouping.levels[first as usize]),
                second: Cow::Borrowed(&grouping.levels[second as usize]),
                t: round_label(a, round),
            }
        }
        Pair::Rounds {
            subgroup,
            later,
            earlier,
        } => {
            let (loa, subg) = domain_labels(a, subgroup);
            let name = |r: u32| a.sample.round_name(r).unwrap_or_else(|| r.to_string());
            PairLabels {
                loa: loa.into(),
                subg: Some(subg.into()),
                first: name(later).into(),
                second: name(earlier).into(),
                t: None,
            }
        }
    }
}

/// A column of optional text as polars takes it.
fn text<'b>(v: &'b [Option<Text>]) -> Vec<Option<&'b str>> {
    v.iter().map(|x| x.as_deref()).collect()
}

fn plain<'b>(v: &'b [Text]) -> Vec<&'b str> {
    v.iter().map(|x| x.as_ref()).collect()
}

/// A contrast's b, se, ll and ul.
fn contrast_values(c: &afmpi_core::inference::Contrast) -> [Option<f64>; 4] {
    let p = c.precision;
    [finite(c.b), finite(p.se), finite(p.ll), finite(p.ul)]
}

/// The columns of the long frame, filled row by row.
#[derive(Default)]
struct Columns<'a> {
    table: Vec<&'static str>,
    spec: Vec<Option<Text<'a>>>,
    variation: Vec<Option<&'static str>>,
    k: Vec<Option<f64>>,
    measure: Vec<&'static str>,
    loa: Vec<Text<'a>>,
    subg: Vec<Option<Text<'a>>>,
    first: Vec<Option<Text<'a>>>,
    second: Vec<Option<Text<'a>>>,
    t: Vec<Option<Text<'a>>>,
    /// b, se, ll, ul.
    values: [Vec<Option<f64>>; 4],
    direction: Vec<Option<i32>>,
    /// robust, same_order (robustness); the counts of a share.
    flags: [Vec<Option<bool>>; 2],
    counts: [Vec<Option<u32>>; 3],
    /// tau_b, rho.
    ranks: [Vec<Option<f64>>; 2],
    /// Dominance: the ranges where first is above, below; which is poorer at every k.
    text: [Vec<Option<Text<'a>>>; 3],
}

/// Rows made into frames a chunk at a time and stacked: a table of millions of
/// comparisons never holds every row twice over.
struct Frame<'a> {
    keep: Vec<&'static str>,
    chunk: Columns<'a>,
    done: Option<DataFrame>,
}

/// Rows per chunk of a [`Frame`].
const CHUNK_ROWS: usize = 1 << 16;

impl<'a> Frame<'a> {
    /// A frame of the columns named in `keep`.
    fn new(keep: Vec<&'static str>, rows: usize) -> Frame<'a> {
        Frame {
            keep,
            chunk: Columns::with_capacity(rows.min(CHUNK_ROWS)),
            done: None,
        }
    }

    fn push(&mut self, table: &'static str, measure: Measure, r: Row<'a>) {
        self.chunk.push(table, measure, r);
        if self.chunk.table.len() == CHUNK_ROWS {
            self.flush(CHUNK_ROWS);
        }
    }

    fn flush(&mut self, room: usize) {
        let chunk = std::mem::replace(&mut self.chunk, Columns::with_capacity(room));
        let df = chunk.frame(&self.keep);
        match &mut self.done {
            None => self.done = Some(df),
            Some(done) => {
                done.vstack_mut_owned(df).expect("chunks of one schema");
            }
        }
    }

    fn finish(mut self) -> DataFrame {
        if self.done.is_none() || !self.chunk.table.is_empty() {
            self.flush(0);
        }
        self.done.expect("flushed")
    }
}

/// What one row holds beyond its table and measure.
#[derive(Default)]
struct Row<'a> {
    spec: Option<Text<'a>>,
    variation: Option<&'static str>,
    k: Option<f64>,
    loa: Text<'a>,
    subg: Option<Text<'a>>,
    first: Option<Text<'a>>,
    second: Option<Text<'a>>,
    t: Option<Text<'a>>,
    values: [Option<f64>; 4],
    direction: Option<i32>,
    flags: [Option<bool>; 2],
    counts: [Option<u32>; 3],
    ranks: [Option<f64>; 2],
    text: [Option<Text<'a>>; 3],
}

impl<'a> Columns<'a> {
    fn push(&mut self, table: &'static str, measure: Measure, r: Row<'a>) {
        self.table.push(table);
        self.measure.push(measure.name());
        self.spec.push(r.spec);
        self.variation.push(r.variation);
        self.k.push(r.k);
        self.loa.push(r.loa);
        self.subg.push(r.subg);
        self.first.push(r.first);
        self.second.push(r.second);
        self.t.push(r.t);
        for (c, v) in self.values.iter_mut().zip(r.values) {
            c.push(v);
        }
        self.direction.push(r.direction);
        for (c, v) in self.flags.iter_mut().zip(r.flags) {
            c.push(v);
        }
        for (c, v) in self.counts.iter_mut().zip(r.counts) {
            c.push(v);
        }
        for (c, v) in self.ranks.iter_mut().zip(r.ranks) {
            c.push(v);
        }
        for (c, v) in self.text.iter_mut().zip(r.text) {
            c.push(v);
        }
    }

    /// The frame of the columns named in `keep`, each column's rows let go of once
    /// polars holds them.
    fn frame(mut self, keep: &[&'static str]) -> DataFrame {
        use std::mem::take;
        let n = self.table.len();
        let mut columns = Vec::new();
        let mut add = |name: &str, make: &mut dyn FnMut() -> Column| {
            if keep.contains(&name) {
                columns.push(make());
            }
        };
        add("table", &mut || {
            Column::new("table".into(), take(&mut self.table))
        });
        add("spec", &mut || {
            Column::new("spec".into(), text(&take(&mut self.spec)))
        });
        add("variation", &mut || {
            Column::new("variation".into(), take(&mut self.variation))
        });
        add("k", &mut || Column::new("k".into(), take(&mut self.k)));
        add("measure", &mut || {
            Column::new("measure".into(), take(&mut self.measure))
        });
        add("loa", &mut || {
            Column::new("loa".into(), plain(&take(&mut self.loa)))
        });
        for (name, v) in [
            ("subg", &mut self.subg),
            ("first", &mut self.first),
            ("second", &mut self.second),
            ("t", &mut self.t),
        ] {
            add(name, &mut || Column::new(name.into(), text(&take(v))));
        }
        for (name, v) in ["b", "se", "ll", "ul"]
            .into_iter()
            .zip(self.values.iter_mut())
        {
            add(name, &mut || Column::new(name.into(), take(v)));
        }
        add("direction", &mut || {
            Column::new("direction".into(), take(&mut self.direction))
        });
        for (name, v) in ["robust", "same_order"]
            .into_iter()
            .zip(self.flags.iter_mut())
        {
            add(name, &mut || Column::new(name.into(), take(v)));
        }
        for (name, v) in ["pairs", "significant", "robust_pairs"]
            .into_iter()
            .zip(self.counts.iter_mut())
        {
            add(name, &mut || Column::new(name.into(), take(v)));
        }
        for (name, v) in ["tau_b", "rho"].into_iter().zip(self.ranks.iter_mut()) {
            add(name, &mut || Column::new(name.into(), take(v)));
        }
        for (name, v) in ["above", "below", "poorer"]
            .into_iter()
            .zip(self.text.iter_mut())
        {
            add(name, &mut || Column::new(name.into(), text(&take(v))));
        }
        DataFrame::new(n, columns).expect("columns of equal length")
    }

    /// Room for `n` rows in every column.
    fn with_capacity(n: usize) -> Columns<'a> {
        let mut c = Columns::default();
        c.table.reserve_exact(n);
        c.measure.reserve_exact(n);
        c.spec.reserve_exact(n);
        c.variation.reserve_exact(n);
        c.k.reserve_exact(n);
        c.loa.reserve_exact(n);
        for v in [&mut c.subg, &mut c.first, &mut c.second, &mut c.t] {
            v.reserve_exact(n);
        }
        c.values
            .iter_mut()
            .chain(&mut c.ranks)
            .for_each(|v| v.reserve_exact(n));
        c.direction.reserve_exact(n);
        c.flags.iter_mut().for_each(|v| v.reserve_exact(n));
        c.counts.iter_mut().for_each(|v| v.reserve_exact(n));
        c.text.iter_mut().for_each(|v| v.reserve_exact(n));
        c
    }
}

const COMMON: [&str; 14] = [
    "table",
    "spec",
    "variation",
    "k",
    "measure",
    "loa",
    "subg",
    "first",
    "second",
    "t",
    "b",
    "se",
    "ll",
    "ul",
];

/// The robustness findings as one long frame: `table` is `estimate` (each domain under
/// each specification), `difference` (each comparison under each), `verdict`,
/// `share` or `rank`.
pub fn frame(a: &Analysis, r: &Robustness) -> DataFrame {
    let rows =
        r.values.len() + r.outcomes.len() + r.verdicts.len() + r.shares.len() + r.ranks.len();
    let mut keep = COMMON.to_vec();
    keep.extend([
        "direction",
        "robust",
        "same_order",
        "pairs",
        "significant",
        "robust_pairs",
        "tau_b",
        "rho",
    ]);
    let mut c = Frame::new(keep, rows);
    let spec_row = |s: usize| {
        let spec = &r.specifications[s];
        Row {
            spec: Some(Cow::Borrowed(spec.name.as_str())),
            variation: Some(spec.variation.name()),
            k: Some(spec.k()),
            ..Row::default()
        }
    };
    for v in &r.values {
        let (loa, subg) = domain_labels(a, v.domain.subgroup);
        let row = Row {
            loa: loa.into(),
            subg: Some(subg.into()),
            t: round_label(a, v.domain.round),
            values: [finite(v.b), finite(v.se), None, None],
            ..spec_row(v.spec)
        };
        c.push("estimate", v.measure, row);
    }
    for o in &r.outcomes {
        let row = Row {
            values: contrast_values(&o.contrast),
            direction: Some(o.contrast.direction() as i32),
            ..with_pair(a, o.pair, spec_row(o.spec))
        };
        c.push("difference", o.measure, row);
    }
    for v in &r.verdicts {
        let row = Row {
            direction: Some(v.baseline as i32),
            flags: [Some(v.robust), Some(v.same_order)],
            ..with_pair(a, v.pair, Row::default())
        };
        c.push("verdict", v.measure, row);
    }
    for s in &r.shares {
        c.push("share", s.measure, share_row(a, s));
    }
    for k in &r.ranks {
        let row = Row {
            loa: Cow::Borrowed(a.sample.groupings[k.column].column.as_str()),
            t: round_label(a, k.round),
            counts: [Some(k.levels as u32), None, None],
            ranks: [finite(k.tau_b), finite(k.rho)],
            ..spec_row(k.spec)
        };
        c.push("rank", k.measure, row);
    }
    c.finish()
}

/// The row of a share of robust comparisons: b the share, and the counts.
fn share_row<'a>(a: &'a Analysis, s: &Share) -> Row<'a> {
    let loa = s.column.map_or(Cow::Borrowed("rounds"), |g| {
        Cow::Borrowed(a.sample.groupings[g].column.as_str())
    });
    let counts = [s.pairs, s.significant, s.robust].map(|n| Some(n as u32));
    Row {
        loa,
        values: [
            Some(s.robust as f64 / s.pairs.max(1) as f64),
            None,
            None,
            None,
        ],
        counts,
        ..Row::default()
    }
}

/// A row with a comparison's labels.
fn with_pair<'a>(a: &'a Analysis, pair: Pair, row: Row<'a>) -> Row<'a> {
    let l = pair_labels(a, pair);
    Row {
        loa: l.loa,
        subg: l.subg,
        first: Some(l.first),
        second: Some(l.second),
        t: l.t,
        ..row
    }
}

/// The dominance findings as one long frame: `table` is `difference` (each comparison
/// at each cutoff) or `verdict` (the ranges of k where the first is significantly above
/// and below, and which is poorer at every k: `first`, `second` or `neither`).
pub fn dominance_frame(a: &Analysis, d: &dominance::Dominance) -> DataFrame {
    let mut keep: Vec<&str> = COMMON
        .iter()
        .copied()
        .filter(|c| !["spec", "variation"].contains(c))
        .collect();
    keep.extend(["direction", "pairs", "above", "below", "poorer"]);
    let mut c = Frame::new(keep, d.outcomes.len() + d.verdicts.len());
    for o in &d.outcomes {
        c.push(
            "difference",
            o.measure,
            Row {
                k: Some(d.cutoffs[o.spec].percent()),
                values: contrast_values(&o.contrast),
                direction: Some(o.contrast.direction() as i32),
                ..with_pair(a, o.pair, Row::default())
            },
        );
    }
    for v in &d.verdicts {
        c.push(
            "verdict",
            v.measure,
            Row {
                direction: Some(v.significantly as i32),
                counts: [Some(v.cutoffs as u32), None, None],
                text: [
                    Some(ranges(&v.above).into()),
                    Some(ranges(&v.below).into()),
                    Some(who(v.dominates).into()),
                ],
                ..with_pair(a, v.pair, Row::default())
            },
        );
    }
    c.finish()
}

/// Ranges of k as text: "20-33.33; 50".
pub fn ranges(list: &[(f64, f64)]) -> String {
    let k = |x: f64| afmpi_core::sample::codes::number_label((x * 100.0).round() / 100.0);
    list.iter()
        .map(|&(a, b)| {
            if a == b {
                k(a)
            } else {
                format!("{}-{}", k(a), k(b))
            }
        })
        .collect::<Vec<_>>()
        .join("; ")
}

fn who(direction: i8) -> &'static str {
    match direction {
        1 => "first",
        -1 => "second",
        _ => "neither",
    }
}

/// The tables for the terminal: the specifications and the national estimates under
/// each, the share of robust comparisons, and the rank agreement of M0's rankings.
pub fn summary(a: &Analysis, r: &Robustness) -> String {
    let mut s = spec_table(a, r);
    s.push_str(&share_table(a, r));
    s.push_str(&rank_summary(a, r));
    s
}

/// Each specification's k and national M0 and H (in the first round).
fn spec_table(a: &Analysis, r: &Robustness) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "specifications (national estimates, {}):",
        first_round_note(a)
    );
    let _ = writeln!(
        s,
        "  {:<28} {:>8} {:>8} {:>8}",
        "specification", "k", "M0", "H"
    );
    let whole = Domain {
        subgroup: None,
        round: 0,
    };
    for (i, spec) in r.specifications.iter().enumerate() {
        // The values are sorted by specification, measure and domain.
        let national = |m: Measure| {
            r.values
                .binary_search_by_key(&(i, m as u8, whole), |v| {
                    (v.spec, v.measure as u8, v.domain)
                })
                .map_or("-".to_string(), |at| format!("{:.4}", r.values[at].b))
        };
        let _ = writeln!(
            s,
            "  {:<28} {:>8.2} {:>8} {:>8}",
            truncate(&spec.name, 28),
            spec.k(),
            national(Measure::M0),
            national(Measure::H)
        );
    }
    s
}

/// The shares of robust comparisons, per measure and kind of comparison.
fn share_table(a: &Analysis, r: &Robustness) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "robust comparisons (significant at the baseline, and in its direction under every specification):"
    );
    let _ = writeln!(
        s,
        "  {:<8} {:<22} {:>8} {:>12} {:>8} {:>8} {:>16}",
        "measure", "compared", "pairs", "significant", "robust", "share", "of significant"
    );
    for sh in &r.shares {
        let compared = sh.column.map_or("rounds".to_string(), |g| {
            a.sample.groupings[g].column.clone()
        });
        let pct = |n: usize, d: usize| {
            if d == 0 {
                "-".into()
            } else {
                format!("{:.1}%", 100.0 * n as f64 / d as f64)
            }
        };
        let _ = writeln!(
            s,
            "  {:<8} {:<22} {:>8} {:>12} {:>8} {:>8} {:>16}",
            sh.measure.name(),
            truncate(&compared, 22),
            count(sh.pairs),
            count(sh.significant),
            count(sh.robust),
            pct(sh.robust, sh.pairs),
            pct(sh.robust, sh.significant)
        );
    }
    s
}

fn first_round_note(a: &Analysis) -> String {
    match a.sample.round_name(0) {
        Some(name) if a.sample.round_info.len() > 1 => format!("round {name}"),
        _ => "the whole sample".into(),
    }
}

/// M0's rank agreement with the baseline: per specification, the lowest tau-b over the
/// columns and rounds, where it is, and the lowest rho (all of them are in the file).
fn rank_summary(a: &Analysis, r: &Robustness) -> String {
    let mut s = String::new();
    let ranks: Vec<&RankAgreement> = (r.ranks.iter())
        .filter(|k| k.measure == Measure::M0 && k.tau_b.is_finite())
        .collect();
    if ranks.is_empty() {
        return s;
    }
    let _ = writeln!(
        s,
        "rank agreement of the levels' M0 with the baseline (the lowest over columns and rounds):"
    );
    let _ = writeln!(
        s,
        "  {:<28} {:>8} {:>8}   lowest tau_b in",
        "specification", "tau_b", "rho"
    );
    for spec in 1..r.specifications.len() {
        let of: Vec<&&RankAgreement> = ranks.iter().filter(|k| k.spec == spec).collect();
        let Some(low) = of.iter().min_by(|x, y| x.tau_b.total_cmp(&y.tau_b)) else {
            continue;
        };
        let rho = of.iter().map(|k| k.rho).fold(f64::INFINITY, f64::min);
        let round = match round_label(a, low.round) {
            Some(t) if a.sample.round_info.len() > 1 => format!(", round {t}"),
            _ => String::new(),
        };
        let _ = writeln!(
            s,
            "  {:<28} {:>8.3} {:>8.3}   {} ({} levels{round})",
            truncate(&r.specifications[spec].name, 28),
            low.tau_b,
            rho,
            a.sample.groupings[low.column].column,
            low.levels
        );
    }
    s
}

/// The dominance tables for the terminal: per measure and kind of comparison, how many
/// pairs one dominates at every k, significantly, and the comparisons of rounds of the
/// whole sample in full.
pub fn dominance_summary(a: &Analysis, d: &dominance::Dominance) -> String {
    let mut s = String::new();
    let (Some(lo), Some(hi)) = (d.cutoffs.first(), d.cutoffs.last()) else {
        return "no attainable cutoff in the range asked for\n".into();
    };
    let _ = writeln!(
        s,
        "dominance over {} cutoffs, k from {:.2} to {:.2}:",
        d.cutoffs.len(),
        lo.percent(),
        hi.percent()
    );
    s.push_str(&dominance_counts(a, d));
    for v in d
        .verdicts
        .iter()
        .filter(|v| matches!(v.pair, Pair::Rounds { subgroup: None, .. }))
    {
        s.push_str(&rounds_line(a, v));
    }
    s
}

/// Per measure and kind of comparison: how many pairs, in how many one population is
/// poorer at every k (significantly), in how many the curves cross.
fn dominance_counts(a: &Analysis, d: &dominance::Dominance) -> String {
    let mut s = String::new();
    let _ = writeln!(
        s,
        "  {:<8} {:<22} {:>8} {:>12} {:>16} {:>8}",
        "measure", "compared", "pairs", "one poorer", "significantly", "cross"
    );
    let mut kinds: Vec<(Measure, Option<usize>)> = d
        .verdicts
        .iter()
        .map(|v| (v.measure, v.pair.column()))
        .collect();
    kinds.dedup();
    for (measure, column) in kinds {
        let of: Vec<_> = d
            .verdicts
            .iter()
            .filter(|v| (v.measure, v.pair.column()) == (measure, column))
            .collect();
        let compared = column.map_or("rounds".to_string(), |g| {
            a.sample.groupings[g].column.clone()
        });
        let _ = writeln!(
            s,
            "  {:<8} {:<22} {:>8} {:>12} {:>16} {:>8}",
            measure.name(),
            truncate(&compared, 22),
            count(of.len()),
            count(of.iter().filter(|v| v.dominates != 0).count()),
            count(of.iter().filter(|v| v.significantly != 0).count()),
            count(of.iter().filter(|v| v.dominates == 0).count())
        );
    }
    s
}

/// A comparison of two rounds over the cutoffs, in a line.
fn rounds_line(a: &Analysis, v: &dominance::Verdict) -> String {
    let l = pair_labels(a, v.pair);
    let poorer = match v.dominates {
        1 => format!("{} is poorer at every k", l.first),
        -1 => format!("{} is poorer at every k", l.second),
        _ => "the curves cross".to_string(),
    };
    let each = if v.significantly != 0 {
        ", significantly at each"
    } else {
        ""
    };
    format!(
        "{} {} against {}: significantly higher at k {}, lower at k {}; {poorer}{each}\n",
        v.measure.name(),
        l.first,
        l.second,
        or_none(&ranges(&v.above)),
        or_none(&ranges(&v.below)),
    )
}

fn or_none(s: &str) -> &str {
    if s.is_empty() {
        "none"
    } else {
        s
    }
}
