//! Property tests of the Alkire-Foster axioms on random data (proptest), and the
//! engine's promise that results do not depend on the number of threads.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use afmpi::inference::{LonelyPsu, Settings};
use afmpi::measures::{Estimate, Measure};
use afmpi::methodology::{Methodology, SurveyColumns};
use afmpi::sample::MISSING;
use afmpi::{analyse_frame, Analysis};
use approx::relative_eq;
use polars::prelude::*;
use proptest::prelude::*;

/// A random methodology and population: indicator weights a_j / Σa, an integer cutoff in
/// percent, and persons (profile bits, sampling weight, subgroup).
#[derive(Clone, Debug)]
struct Case {
    weights: Vec<u32>,
    cutoff: u32,
    persons: Vec<(u32, f64, u8)>,
}

fn case() -> impl Strategy<Value = Case> {
    (2usize..=6).prop_flat_map(|n| {
        (
            prop::collection::vec(1u32..=5, n),
            1u32..=100,
            prop::collection::vec((0u32..(1 << n), 0.1f64..10.0, 0u8..3), 1..40),
        )
            .prop_map(|(weights, cutoff, persons)| Case {
                weights,
                cutoff,
                persons,
            })
    })
}

impl Case {
    fn methodology(&self) -> Methodology {
        let total: u32 = self.weights.iter().sum();
        let mut s = format!(
            "name = \"p\"\ncutoffs = [{}]\n[[dimension]]\nname = \"d\"\n",
            self.cutoff
        );
        for (j, w) in self.weights.iter().enumerate() {
            s.push_str(&format!(
                "[[dimension.indicator]]\ncolumn = \"i{j}\"\nweight = \"{w}/{total}\"\n"
            ));
        }
        afmpi::methodology::from_toml(&s).unwrap()
    }

    fn frame(&self) -> DataFrame {
        let mut cols: Vec<Column> = (0..self.weights.len())
            .map(|j| {
                Column::new(
                    format!("i{j}").into(),
                    self.persons
                        .iter()
                        .map(|p| (p.0 >> j & 1) as i32)
                        .collect::<Vec<_>>(),
                )
            })
            .collect();
        cols.push(Column::new(
            "w".into(),
            self.persons.iter().map(|p| p.1).collect::<Vec<_>>(),
        ));
        cols.push(Column::new(
            "g".into(),
            self.persons
                .iter()
                .map(|p| format!("g{}", p.2))
                .collect::<Vec<_>>(),
        ));
        DataFrame::new_infer_height(cols).unwrap()
    }

    fn analyse(&self) -> Analysis {
        let m = self.methodology();
        let survey = SurveyColumns {
            weight: Some("w".into()),
            over: vec!["g".into()],
            ..Default::default()
        };
        analyse_frame(
            &self.frame(),
            &m,
            &survey,
            &Settings {
                lonely_psu: LonelyPsu::Remove,
                ..Default::default()
            },
            Path::new("random.csv"),
        )
        .unwrap()
    }
}

/// M0, H and A of every domain, keyed by domain label (subgroup level by name).
fn headline(a: &Analysis) -> Vec<(String, Measure, f64)> {
    let mut out: Vec<(String, Measure, f64)> = a
        .estimates
        .iter()
        .filter(|e| matches!(e.measure, Measure::M0 | Measure::H | Measure::A))
        .map(|e: &Estimate| {
            let domain = match e.domain.subgroup {
                None => "nat".to_string(),
                Some((g, l)) => a.sample.groupings[g].levels[l as usize].clone(),
            };
            (domain, e.measure, e.b)
        })
        .collect();
    out.sort_by(|x, y| (&x.0, x.1).cmp(&(&y.0, y.1)));
    out
}

fn same(a: &[(String, Measure, f64)], b: &[(String, Measure, f64)]) -> bool {
    a.len() == b.len()
        && a.iter().zip(b).all(|(x, y)| {
            x.0 == y.0
                && x.1 == y.1
                && ((x.2.is_nan() && y.2.is_nan()) || relative_eq!(x.2, y.2, max_relative = 1e-12))
        })
}

fn national(a: &Analysis, measure: Measure) -> f64 {
    a.estimates
        .iter()
        .find(|e| e.measure == measure && e.domain.subgroup.is_none())
        .unwrap()
        .b
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(96))]

    /// Replication invariance: every person duplicated leaves M0, H and A unchanged.
    #[test]
    fn replication_invariance(c in case()) {
        let mut twice = c.clone();
        twice.persons.extend(c.persons.iter().cloned());
        prop_assert!(same(&headline(&c.analyse()), &headline(&twice.analyse())));
    }

    /// Symmetry: the order of the rows does not matter.
    #[test]
    fn symmetry(c in case(), seed in any::<u64>()) {
        let mut shuffled = c.clone();
        let n = shuffled.persons.len();
        let mut state = seed | 1;
        for i in (1..n).rev() {
            state ^= state << 13; state ^= state >> 7; state ^= state << 17;
            shuffled.persons.swap(i, (state % (i as u64 + 1)) as usize);
        }
        prop_assert!(same(&headline(&c.analyse()), &headline(&shuffled.analyse())));
    }

    /// Dimensional monotonicity: M0 never falls when a poor person gains a deprivation.
    #[test]
    fn dimensional_monotonicity(c in case(), who in any::<prop::sample::Index>(), which in any::<prop::sample::Index>()) {
        let before = c.analyse();
        let i = who.index(c.persons.len());
        let profile = c.persons[i].0;
        let iw = afmpi::methodology::IntegerWeights::new(&c.methodology()).unwrap();
        prop_assume!(iw.poor(iw.score(profile as u64), 0));
        let free: Vec<usize> = (0..c.weights.len()).filter(|j| profile >> j & 1 == 0).collect();
        prop_assume!(!free.is_empty());
        let mut worse = c.clone();
        worse.persons[i].0 |= 1 << free[which.index(free.len())];
        let (m0, m1) = (national(&before, Measure::M0), national(&worse.analyse(), Measure::M0));
        prop_assert!(m1 >= m0 - 1e-15, "M0 fell from {} to {}", m0, m1);
        prop_assert!(m1 > m0, "M0 did not rise: {} then {}", m0, m1);
    }

    /// Subgroup decomposability: national M0 is the population-share-weighted sum of the
    /// subgroups' M0.
    #[test]
    fn subgroup_decomposability(c in case()) {
        let a = c.analyse();
        let total: f64 = c.persons.iter().map(|p| p.1).sum();
        let mut sum = 0.0;
        for e in a.estimates.iter().filter(|e| e.measure == Measure::M0 && e.domain.subgroup.is_some()) {
            let (g, l) = e.domain.subgroup.unwrap();
            let name = &a.sample.groupings[g].levels[l as usize];
            let share: f64 = c.persons.iter().filter(|p| &format!("g{}", p.2) == name).map(|p| p.1).sum::<f64>() / total;
            sum += share * e.b;
        }
        prop_assert!(relative_eq!(sum, national(&a, Measure::M0), epsilon = 1e-12, max_relative = 1e-12));
    }
}

/// The table, and so every estimate, standard error, interval and change, is identical
/// bit for bit on 1, 2 or 3 threads.
#[test]
fn results_do_not_depend_on_the_number_of_threads() {
    let (df, m, survey) = common::simulated(150_000);
    let run = |threads: usize| {
        let pool = rayon::ThreadPoolBuilder::new()
            .num_threads(threads)
            .build()
            .unwrap();
        pool.install(|| {
            analyse_frame(&df, &m, &survey, &Default::default(), Path::new("sim.csv")).unwrap()
        })
    };
    let one = run(1);
    assert!(one.table.cells.len() > 1000);
    for threads in [2, 3] {
        let other = run(threads);
        assert!(
            one.table == other.table,
            "the table differs on {threads} threads"
        );
        let bits = |a: &Analysis| {
            let levels = a.estimates.iter().zip(&a.inference.levels);
            let changes = a.inference.changes.iter().map(|c| (c.b, c.precision));
            levels
                .map(|(e, p)| (e.b, *p))
                .chain(changes)
                .flat_map(|(b, p)| [b.to_bits(), p.se.to_bits(), p.ll.to_bits(), p.ul.to_bits()])
                .collect::<Vec<_>>()
        };
        assert_eq!(
            bits(&one),
            bits(&other),
            "estimates differ on {threads} threads"
        );
    }
    // And the table holds what a plain row-by-row sum gives: the same cells (levels kept
    // as one code per subgroup column, not packed), the same counts, and the same sums
    // of weights up to the order of the additions.
    let s = &one.sample;
    type Key = (u32, u32, u32, Vec<u32>, u64, u32);
    let mut plain: BTreeMap<Key, (f64, f64, u64)> = BTreeMap::new();
    for i in 0..s.len() {
        let levels = s.groupings.iter().map(|g| g.codes[i]).collect();
        let key = (
            s.rounds[i],
            s.strata[i],
            s.psus[i],
            levels,
            s.profiles[i],
            s.flags[i],
        );
        let sums = plain.entry(key).or_default();
        let w = s.weights[i];
        sums.0 += w;
        sums.1 += w * w;
        sums.2 += 1;
    }
    let table = &one.table;
    let tallied: BTreeMap<Key, (f64, f64, u64)> = table
        .cells
        .iter()
        .map(|c| {
            let levels = (0..s.groupings.len())
                .map(|g| table.level(c, g).unwrap_or(MISSING))
                .collect();
            let key = (c.round, c.stratum, c.psu, levels, c.profile, c.flags);
            (key, (c.weight, c.weight_sq, c.count))
        })
        .collect();
    assert_eq!(tallied.len(), table.cells.len(), "a cell appears twice");
    assert!(plain.keys().eq(tallied.keys()), "the cells differ");
    for ((key, a), b) in plain.iter().zip(tallied.values()) {
        assert_eq!(a.2, b.2, "count of {key:?}");
        assert!(
            relative_eq!(a.0, b.0, max_relative = 1e-12),
            "weight of {key:?}"
        );
        assert!(
            relative_eq!(a.1, b.1, max_relative = 1e-12),
            "squares of {key:?}"
        );
    }
    // The cells are sorted by key, as every table is.
    assert!(table
        .cells
        .is_sorted_by_key(|c| (c.round, c.stratum, c.psu, c.levels, c.profile, c.flags)));
}

/// (measure, indicator, cutoff, subgroup, round), as an estimate's sort key holds them.
type KeyFields = (
    u128,
    Option<usize>,
    Option<usize>,
    Option<(usize, u32)>,
    u128,
);

proptest! {
    /// The packed sort keys of the standard errors and the results frames order estimates
    /// as the tuples of their fields do, absent before present.
    #[test]
    fn packed_keys_sort_as_tuples(
        a in (0u128..7, proptest::option::of(0usize..64), proptest::option::of(0usize..1000),
              proptest::option::of((0usize..4, 0u32..5000)), 0u128..3),
        b in (0u128..7, proptest::option::of(0usize..64), proptest::option::of(0usize..1000),
              proptest::option::of((0usize..4, 0u32..5000)), 0u128..3),
    ) {
        use afmpi::measures::{packed, present, subgroup_fields};
        let key = |(measure, indicator, cutoff, subgroup, round): KeyFields| {
            let [column, level] = subgroup_fields(subgroup);
            packed(&[(measure, 4), (present(indicator), 8), (present(cutoff), 24), column, level, (round, 16)])
        };
        prop_assert_eq!(key(a).cmp(&key(b)), a.cmp(&b));
    }
}
