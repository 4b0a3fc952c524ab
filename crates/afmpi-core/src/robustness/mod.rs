//! Robustness of comparisons to the normative choices: a finished [`Analysis`] and a
//! list of alternative specifications (other cutoffs k at the methodology's weights,
//! other weight vectors at its headline k) in; for every specification the M0 and H of
//! every domain, the difference of every two levels of a subgroup column and of every
//! two rounds of a domain with its standard error, whether each comparison is
//! significant and keeps its direction at every specification (robust), the share of
//! robust comparisons, and Kendall's tau-b and Spearman's rho of each specification's
//! ranking of the levels against the baseline's out (Alkire and Santos 2014; Alkire et
//! al. 2015, ch. 8). [`dominance`] is the same comparisons over every attainable k.
//!
//! Every specification is another pass over the table's cells, never over the rows:
//! the specifications that share a weight vector share one pass (their cutoffs are the
//! poverty lines of one methodology), and a set of estimates compared with each other —
//! the levels of one column in one round, or one domain's rounds — takes its contrasts
//! from one joint covariance matrix ([`inference::contrasts`]).

pub mod dominance;

use num_rational::Ratio;

use crate::comparison::{kendall_tau_b, spearman_rho};
use crate::domain::Domain;
use crate::error::Result;
use crate::exact::Exact;
use crate::identification::IntegerWeights;
use crate::inference::{self, Contrast, Settings};
use crate::measures::{self, Estimate, Measure};
use crate::methodology::{Cutoff, Headline, WeightVector};
use crate::Analysis;

/// The measures whose comparisons are examined.
pub const MEASURES: [Measure; 2] = [Measure::M0, Measure::H];

/// What a specification changes from the methodology.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Variation {
    /// The methodology as it is, at its headline cutoff.
    Baseline,
    /// Another cutoff k, the methodology's weights.
    Cutoff,
    /// Another weight vector, the headline cutoff.
    Weights,
}

impl Variation {
    pub fn name(self) -> &'static str {
        match self {
            Variation::Baseline => "baseline",
            Variation::Cutoff => "cutoff",
            Variation::Weights => "weights",
        }
    }
}

/// One specification: a weight vector and a cutoff.
#[derive(Clone, Debug)]
pub struct Specification {
    pub name: String,
    pub variation: Variation,
    /// One exact weight per indicator.
    pub weights: Vec<Ratio<i128>>,
    pub cutoff: Exact,
}

impl Specification {
    /// k in percent.
    pub fn k(&self) -> f64 {
        Cutoff { value: self.cutoff }.percent()
    }
}

/// Two populations compared: two levels of one subgroup column in one round, or one
/// domain in two rounds (the later first, so that the difference is the change).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Pair {
    Levels {
        column: usize,
        round: u32,
        first: u32,
        second: u32,
    },
    Rounds {
        subgroup: Option<(usize, u32)>,
        later: u32,
        earlier: u32,
    },
}

impl Pair {
    /// The two domains compared, first then second.
    pub fn domains(self) -> (Domain, Domain) {
        match self {
            Pair::Levels {
                column,
                round,
                first,
                second,
            } => (
                Domain {
                    subgroup: Some((column, first)),
                    round,
                },
                Domain {
                    subgroup: Some((column, second)),
                    round,
                },
            ),
            Pair::Rounds {
                subgroup,
                later,
                earlier,
            } => (
                Domain {
                    subgroup,
                    round: later,
                },
                Domain {
                    subgroup,
                    round: earlier,
                },
            ),
        }
    }

    /// The subgroup column whose levels are compared, or `None` for rounds.
    pub fn column(self) -> Option<usize> {
        match self {
            Pair::Levels { column, .. } => Some(column),
            Pair::Rounds { .. } => None,
        }
    }
}

/// One measure of one domain under one specification.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Value {
    pub spec: usize,
    pub measure: Measure,
    pub domain: Domain,
    pub b: f64,
    pub se: f64,
}

/// One comparison under one specification: first minus second.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Outcome {
    pub spec: usize,
    pub measure: Measure,
    pub pair: Pair,
    pub contrast: Contrast,
}

/// A comparison across all specifications.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Verdict {
    pub measure: Measure,
    pub pair: Pair,
    /// 1, −1 or 0: the first significantly above, below, or neither, at the baseline.
    pub baseline: i8,
    /// Significant in the baseline's direction under every specification.
    pub robust: bool,
    /// The point estimates ordered as at the baseline under every specification.
    pub same_order: bool,
}

/// How many comparisons of one kind are robust.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Share {
    pub measure: Measure,
    /// The column whose levels are compared, or `None` for the rounds' comparisons.
    pub column: Option<usize>,
    pub pairs: usize,
    /// Significant at the baseline.
    pub significant: usize,
    pub robust: usize,
}

/// The ranking of a column's levels under a specification against the baseline's.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct RankAgreement {
    pub spec: usize,
    pub measure: Measure,
    pub column: usize,
    pub round: u32,
    /// Levels ranked under both.
    pub levels: usize,
    pub tau_b: f64,
    pub rho: f64,
}

/// Everything `robustness` finds.
pub struct Robustness {
    /// The baseline first.
    pub specifications: Vec<Specification>,
    pub values: Vec<Value>,
    pub outcomes: Vec<Outcome>,
    pub verdicts: Vec<Verdict>,
    pub shares: Vec<Share>,
    pub ranks: Vec<RankAgreement>,
}

/// The baseline's cutoff: the headline cutoff, or the first when the headline is a
/// named group.
pub fn baseline_cutoff(a: &Analysis) -> Exact {
    match a.methodology.headline {
        Headline::Cutoff(c) => a.methodology.cutoffs[c].value,
        Headline::Group(_) => a.methodology.cutoffs[0].value,
    }
}

/// The specifications: the baseline, each cutoff of `cutoffs` (other than the
/// baseline's) at the methodology's weights, each weight vector at the baseline cutoff.
pub fn specifications(
    a: &Analysis,
    cutoffs: &[Exact],
    weights: &[WeightVector],
) -> Vec<Specification> {
    let own: Vec<Ratio<i128>> = a
        .methodology
        .indicators
        .iter()
        .map(|i| i.weight.value)
        .collect();
    let k = baseline_cutoff(a);
    let mut specs = vec![Specification {
        name: "baseline".into(),
        variation: Variation::Baseline,
        weights: own.clone(),
        cutoff: k,
    }];
    for &c in cutoffs.iter().filter(|c| c.value != k.value) {
        let spec = Specification {
            name: String::new(),
            variation: Variation::Cutoff,
            weights: own.clone(),
            cutoff: c,
        };
        specs.push(Specification {
            name: format!(
                "k = {}",
                crate::sample::codes::number_label(round2(spec.k()))
            ),
            ..spec
        });
    }
    for w in weights {
        specs.push(Specification {
            name: w.name.clone(),
            variation: Variation::Weights,
            weights: w.weights.clone(),
            cutoff: k,
        });
    }
    specs
}

fn round2(x: f64) -> f64 {
    (x * 100.0).round() / 100.0
}

/// The robustness of every comparison to the specifications (the first the baseline).
pub fn robustness(
    a: &Analysis,
    specs: Vec<Specification>,
    settings: &Settings,
) -> Result<Robustness> {
    let (values, outcomes) = evaluate(a, &specs, settings)?;
    let verdicts = verdicts(&outcomes, specs.len());
    let shares = shares(&verdicts);
    let ranks = rank_agreements(&values, specs.len());
    Ok(Robustness {
        specifications: specs,
        values,
        outcomes,
        verdicts,
        shares,
        ranks,
    })
}

/// The values and outcomes of every specification, in the specifications' order;
/// specifications sharing a weight vector evaluated in one pass over the cells.
pub fn evaluate(
    a: &Analysis,
    specs: &[Specification],
    settings: &Settings,
) -> Result<(Vec<Value>, Vec<Outcome>)> {
    let mut batches: Vec<(Vec<Ratio<i128>>, Vec<usize>)> = Vec::new();
    for (s, spec) in specs.iter().enumerate() {
        match batches.iter_mut().find(|(w, _)| *w == spec.weights) {
            Some((_, members)) => members.push(s),
            None => batches.push((spec.weights.clone(), vec![s])),
        }
    }
    let (mut values, mut outcomes) = (Vec::new(), Vec::new());
    for (weights, members) in batches {
        let cutoffs: Vec<Cutoff> = members
            .iter()
            .map(|&s| Cutoff {
                value: specs[s].cutoff,
            })
            .collect();
        let (v, o) = evaluate_lines(a, &weights, cutoffs, settings)?;
        // Poverty line c of the pass is specification members[c].
        values.extend(v.into_iter().map(|v| Value {
            spec: members[v.spec],
            ..v
        }));
        outcomes.extend(o.into_iter().map(|o| Outcome {
            spec: members[o.spec],
            ..o
        }));
    }
    values.sort_by_key(|v| (v.spec, v.measure as u8, v.domain));
    outcomes.sort_by_key(|o| (o.spec, o.measure as u8, o.pair));
    Ok((values, outcomes))
}

/// One pass over the cells with these weights and cutoffs: each domain's M0 and H at
/// each cutoff, and the contrasts of levels and of rounds (`spec` is the cutoff's
/// index).
pub fn evaluate_lines(
    a: &Analysis,
    weights: &[Ratio<i128>],
    cutoffs: Vec<Cutoff>,
    settings: &Settings,
) -> Result<(Vec<Value>, Vec<Outcome>)> {
    let m = a.methodology.reweighted(weights, cutoffs)?;
    let integer = IntegerWeights::new(&m)?;
    let totals = inference::Totals::new(&a.table, &a.sample, &integer, 0, settings.lonely_psu)?;
    let n_rounds = a.sample.round_info.len();
    let estimates = measures::estimate(&a.table, &totals.layout, &[], n_rounds, |d| totals.of(d));
    let find = |measure: Measure, c: usize, domain: Domain| {
        let key = measures::order_of(measure, None, Some(c), None, domain);
        estimates
            .binary_search_by_key(&key, Estimate::order)
            .ok()
            .filter(|&i| estimates[i].b.is_finite())
    };
    let mut sets: Vec<(usize, Measure, ComparisonSet)> = Vec::new();
    for c in 0..m.cutoffs.len() {
        for measure in MEASURES {
            for members in comparison_sets(a, n_rounds, |d| find(measure, c, d)) {
                sets.push((c, measure, members));
            }
        }
    }
    let lists: Vec<Vec<usize>> = sets
        .iter()
        .map(|(_, _, s)| s.iter().map(|&(_, i)| i).collect())
        .collect();
    let contrasts = inference::contrasts(&totals, &a.sample, &estimates, settings, &lists);
    let variances = own_variances(&totals, a, &estimates, settings);
    let values = estimates
        .iter()
        .zip(&variances)
        .filter(|(e, _)| MEASURES.contains(&e.measure) && e.group.is_none())
        .map(|(e, &se)| Value {
            spec: e.cutoff.expect("M0 and H are per cutoff"),
            measure: e.measure,
            domain: e.domain,
            b: e.b,
            se,
        })
        .collect();
    let mut outcomes = Vec::new();
    for ((c, measure, members), found) in sets.iter().zip(contrasts) {
        // The contrasts come pair by pair, (i, j) for i < j in the set's order.
        let pairs = (0..members.len()).flat_map(|i| (i + 1..members.len()).map(move |j| (i, j)));
        for ((i, j), contrast) in pairs.zip(found) {
            outcomes.push(Outcome {
                spec: *c,
                measure: *measure,
                pair: pair_of(members[i].0, members[j].0),
                contrast,
            });
        }
    }
    Ok((values, outcomes))
}

/// The standard error of every estimate of the pass (M0 and H only).
fn own_variances(
    totals: &inference::Totals,
    a: &Analysis,
    estimates: &[Estimate],
    settings: &Settings,
) -> Vec<f64> {
    let members: Vec<usize> = (0..estimates.len())
        .filter(|&i| MEASURES.contains(&estimates[i].measure))
        .collect();
    let diagonal = inference::variances(totals, &a.sample, estimates, settings, &members);
    let mut se = vec![f64::NAN; estimates.len()];
    for (&i, v) in members.iter().zip(diagonal) {
        se[i] = v.max(0.0).sqrt();
    }
    se
}

/// A member of a comparison set: a level (column, level, round) or a round of a domain.
type Member = Pair;

/// Estimates compared with each other, each with the population it is of.
type ComparisonSet = Vec<(Member, usize)>;

/// The sets of estimates compared with each other: per column and round, its levels;
/// per domain, its rounds from the latest to the earliest. `find` gives the estimate of
/// a domain, if defined. Each member is labelled by a [`Pair`] whose first half says
/// which population it is.
fn comparison_sets(
    a: &Analysis,
    n_rounds: usize,
    find: impl Fn(Domain) -> Option<usize>,
) -> Vec<Vec<(Member, usize)>> {
    let mut sets = Vec::new();
    let radices = &a.table.radices;
    for (column, &radix) in radices.iter().enumerate() {
        for round in 0..n_rounds as u32 {
            let members: Vec<(Member, usize)> = (0..(radix - 1) as u32)
                .filter_map(|level| {
                    let d = Domain {
                        subgroup: Some((column, level)),
                        round,
                    };
                    let pair = Pair::Levels {
                        column,
                        round,
                        first: level,
                        second: level,
                    };
                    find(d).map(|i| (pair, i))
                })
                .collect();
            if members.len() > 1 {
                sets.push(members);
            }
        }
    }
    if n_rounds < 2 {
        return sets;
    }
    let subgroups = std::iter::once(None).chain(
        radices
            .iter()
            .enumerate()
            .flat_map(|(g, &radix)| (0..(radix - 1) as u32).map(move |l| Some((g, l)))),
    );
    for subgroup in subgroups {
        let members: Vec<(Member, usize)> = (0..n_rounds as u32)
            .rev()
            .filter_map(|round| {
                let pair = Pair::Rounds {
                    subgroup,
                    later: round,
                    earlier: round,
                };
                find(Domain { subgroup, round }).map(|i| (pair, i))
            })
            .collect();
        if members.len() > 1 {
            sets.push(members);
        }
    }
    sets
}

/// The pair of two members of one set.
fn pair_of(p: Member, q: Member) -> Pair {
    match (p, q) {
        (
            Pair::Levels {
                column,
                round,
                first,
                ..
            },
            Pair::Levels { first: second, .. },
        ) => Pair::Levels {
            column,
            round,
            first,
            second,
        },
        (
            Pair::Rounds {
                subgroup, later, ..
            },
            Pair::Rounds { later: earlier, .. },
        ) => Pair::Rounds {
            subgroup,
            later,
            earlier,
        },
        _ => unreachable!("a set's members are of one kind"),
    }
}

/// Each comparison's verdict across the specifications (`outcomes` sorted by
/// specification, the baseline's first).
fn verdicts(outcomes: &[Outcome], n_specs: usize) -> Vec<Verdict> {
    let mut by_comparison: std::collections::BTreeMap<(u8, Pair), Vec<&Outcome>> =
        Default::default();
    for o in outcomes {
        by_comparison
            .entry((o.measure as u8, o.pair))
            .or_default()
            .push(o);
    }
    by_comparison
        .into_values()
        .filter(|list| list[0].spec == 0)
        .map(|list| {
            let base = &list[0];
            let direction = base.contrast.direction();
            let sign = |b: f64| b.partial_cmp(&0.0).map(|o| o as i8);
            let everywhere = list.len() == n_specs;
            Verdict {
                measure: base.measure,
                pair: base.pair,
                baseline: direction,
                robust: everywhere
                    && direction != 0
                    && list.iter().all(|o| o.contrast.direction() == direction),
                same_order: everywhere
                    && list
                        .iter()
                        .all(|o| sign(o.contrast.b) == sign(base.contrast.b)),
            }
        })
        .collect()
}

/// The share of robust comparisons per measure and column (and for rounds).
fn shares(verdicts: &[Verdict]) -> Vec<Share> {
    let mut out: Vec<Share> = Vec::new();
    for v in verdicts {
        let column = v.pair.column();
        let share = match out
            .iter_mut()
            .find(|s| s.measure == v.measure && s.column == column)
        {
            Some(s) => s,
            None => {
                out.push(Share {
                    measure: v.measure,
                    column,
                    pairs: 0,
                    significant: 0,
                    robust: 0,
                });
                out.last_mut().expect("just pushed")
            }
        };
        share.pairs += 1;
        share.significant += (v.baseline != 0) as usize;
        share.robust += v.robust as usize;
    }
    out
}

/// The values of a column's levels, by level.
type Ranking = Vec<(u32, f64)>;

/// Kendall's tau-b and Spearman's rho of each specification's ranking of a column's
/// levels in a round against the baseline's (`values` sorted by specification).
fn rank_agreements(values: &[Value], n_specs: usize) -> Vec<RankAgreement> {
    // (specification, measure, column, round) -> (level, value), by level.
    let mut by_key: std::collections::BTreeMap<(usize, u8, usize, u32), Ranking> =
        Default::default();
    for v in values.iter().filter(|v| v.b.is_finite()) {
        if let Some((column, level)) = v.domain.subgroup {
            by_key
                .entry((v.spec, v.measure as u8, column, v.domain.round))
                .or_default()
                .push((level, v.b));
        }
    }
    let mut out = Vec::new();
    for ((spec, m, column, round), levels) in &by_key {
        if *spec == 0 || *spec >= n_specs {
            continue;
        }
        let Some(base) = by_key.get(&(0, *m, *column, *round)) else {
            continue;
        };
        // Both lists are in the order of the levels.
        let (x, y): (Vec<f64>, Vec<f64>) = base
            .iter()
            .filter_map(|&(l, b)| {
                let at = levels.binary_search_by_key(&l, |&(k, _)| k).ok()?;
                Some((b, levels[at].1))
            })
            .unzip();
        if x.len() < 2 {
            continue;
        }
        let measure = MEASURES
            .into_iter()
            .find(|&x| x as u8 == *m)
            .expect("a measure");
        out.push(RankAgreement {
            spec: *spec,
            measure,
            column: *column,
            round: *round,
            levels: x.len(),
            tau_b: kendall_tau_b(&x, &y),
            rho: spearman_rho(&x, &y),
        });
    }
    out
}
