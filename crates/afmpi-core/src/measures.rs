//! Measures: the sufficient-statistics [`Table`] in, point [`Estimate`]s out — M0, H, A,
//! hd, hdk, actb and pctb (popsh and contrib of subgroups; M1, M2 and ineq when asked
//! for) for every cutoff, round, the whole sample and each subgroup.
//!
//! Every Alkire-Foster measure is a ratio of two weighted totals, R = Σ w·y / Σ w·x, where
//! y and x are functions of a person's deprivation profile (and the cutoff): H is the
//! share poor, A the censored score over the poor, pctb an indicator's weighted censored
//! deprivation over the censored score. [`Measure::ratio`] is the one place that says
//! which totals y and x are ([`Total`]), so a change to one measure touches one place.
//! A domain's totals are added up once per sampling unit from the table's cells
//! ([`crate::inference::Totals`]; [`Layout`] says where each total sits in a row,
//! [`Layout::contribution`] what a person adds). Every estimate of the domain, at every
//! cutoff, is then one division of the totals' sums over the units, and its standard
//! error linearizes the same ratio from the same totals unit by unit. One measure is not
//! a ratio: inequality among the poor, the variance of their scores, is the poor's mean
//! squared score minus A² ([`Measure::Ineq`], [`Layout::inequality_of`]), from one more
//! total per poverty line laid out when asked for ([`Extras`]).
//!
//! Identification is exact: a profile's score and each cutoff are integers over a common
//! denominator ([`IntegerWeights`]), so `c_i >= k` is an integer comparison and a score of
//! exactly 1/3 or 1/2 is never lost to floating-point rounding.

pub use crate::domain::Domain;
use crate::identification::IntegerWeights;
use crate::tally::Table;

/// The Alkire-Foster measures, named as in mpitb's results frames.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Measure {
    /// Adjusted headcount ratio (the MPI): mean censored score.
    M0,
    /// Headcount ratio: share of persons who are poor.
    H,
    /// Intensity: mean score among the poor.
    A,
    /// Uncensored headcount ratio of an indicator (does not depend on k).
    Hd,
    /// Censored headcount ratio: share deprived in the indicator and poor.
    Hdk,
    /// Absolute contribution of an indicator to M0: w_j × hdk_j.
    Actb,
    /// Percentage contribution of an indicator to M0, as a fraction: w_j × hdk_j / M0.
    Pctb,
    /// A subgroup level's population share: its population over the whole sample's (in
    /// the same round), as R convey's `svyafcdec`.
    Popsh,
    /// A subgroup level's contribution to the whole sample's M0, as a fraction: its
    /// censored score total over the whole sample's (= popsh × M0 of the level / M0).
    Contrib,
    /// The adjusted poverty gap M1 (Alkire and Foster 2011's M_alpha, alpha = 1): the
    /// mean over everyone of the poor's weighted normalized gaps, (z - x)/z in a cardinal
    /// indicator and 1 in a 0/1 one.
    M1,
    /// The adjusted squared gap M2 (alpha = 2): as M1 with the gaps squared.
    M2,
    /// Inequality among the poor (Seth and Alkire 2014; the global MPI's tables): the
    /// variance of the deprivation scores among the poor, Σ w (c − A)² / Σ w over the
    /// poor — between 0 (every poor person equally deprived) and 1/4.
    Ineq,
}

impl Measure {
    pub const ALL: [Measure; 12] = [
        Measure::M0,
        Measure::H,
        Measure::A,
        Measure::Hd,
        Measure::Hdk,
        Measure::Actb,
        Measure::Pctb,
        Measure::Popsh,
        Measure::Contrib,
        Measure::M1,
        Measure::M2,
        Measure::Ineq,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Measure::M0 => "M0",
            Measure::H => "H",
            Measure::A => "A",
            Measure::Hd => "hd",
            Measure::Hdk => "hdk",
            Measure::Actb => "actb",
            Measure::Pctb => "pctb",
            Measure::Popsh => "popsh",
            Measure::Contrib => "contrib",
            Measure::M1 => "M1",
            Measure::M2 => "M2",
            Measure::Ineq => "ineq",
        }
    }

    /// The alpha of an M_alpha beyond M0 (M1, M2).
    pub fn alpha(self) -> Option<u8> {
        match self {
            Measure::M1 => Some(1),
            Measure::M2 => Some(2),
            _ => None,
        }
    }

    /// Whether the measure's denominator is a total of the whole sample (of the same
    /// round) rather than of its own domain: given for subgroup levels only.
    pub fn of_the_whole_sample(self) -> bool {
        matches!(self, Measure::Popsh | Measure::Contrib)
    }

    /// Whether the measure is given per indicator.
    pub fn per_indicator(self) -> bool {
        matches!(
            self,
            Measure::Hd | Measure::Hdk | Measure::Actb | Measure::Pctb
        )
    }

    /// Whether the measure depends on the poverty cutoff.
    pub fn per_cutoff(self) -> bool {
        !matches!(self, Measure::Hd | Measure::Popsh)
    }

    /// The ratio the measure is: which totals over the domain, and the scale of the
    /// numerator. This is the one place that defines a measure; the point estimates,
    /// the standard errors and the SQL all follow it. `weights` are the indicator
    /// weights as floats. One measure is not a ratio: inequality among the poor is the
    /// mean squared score among the poor (its ratio here) minus A² ([`Measure::Ineq`];
    /// [`Layout::inequality_of`] and the variance's linearization take it so).
    pub fn ratio(self, indicator: Option<usize>, weights: &[f64]) -> Ratio {
        let j = || indicator.expect("an indicator measure needs an indicator");
        let ratio = |scale: f64, numerator: Total, denominator: Total| Ratio {
            scale,
            numerator,
            denominator,
        };
        match self {
            Measure::M0 => ratio(1.0, Total::PoorScore, Total::Population),
            Measure::H => ratio(1.0, Total::Poor, Total::Population),
            Measure::A => ratio(1.0, Total::PoorScore, Total::Poor),
            Measure::Hd => ratio(1.0, Total::Deprived(j()), Total::Population),
            Measure::Hdk => ratio(1.0, Total::PoorDeprived(j()), Total::Population),
            Measure::Actb => ratio(weights[j()], Total::PoorDeprived(j()), Total::Population),
            Measure::Pctb => ratio(weights[j()], Total::PoorDeprived(j()), Total::PoorScore),
            // The denominators are the whole sample's ([`Measure::of_the_whole_sample`]).
            Measure::Popsh => ratio(1.0, Total::Population, Total::Population),
            Measure::Contrib => ratio(1.0, Total::PoorScore, Total::PoorScore),
            Measure::M1 => ratio(1.0, Total::PoorGap(1), Total::Population),
            Measure::M2 => ratio(1.0, Total::PoorGap(2), Total::Population),
            Measure::Ineq => ratio(1.0, Total::PoorScoreSquared, Total::Poor),
        }
    }
}

/// A weighted total over a domain. The `Poor…` totals are taken at one poverty line (a
/// cutoff k, or a named group).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Total {
    /// Σ w: the domain's population.
    Population,
    /// Σ w over persons deprived in indicator j (uncensored).
    Deprived(usize),
    /// Σ w over the poor.
    Poor,
    /// Σ w·c over the poor: the censored score.
    PoorScore,
    /// Σ w over the poor deprived in indicator j (censored).
    PoorDeprived(usize),
    /// Σ w·Σ_j w_j g_j^alpha over the poor: their weighted normalized gaps to the power
    /// alpha (1 or 2); g_j is 1 in a 0/1 indicator.
    PoorGap(u8),
    /// Σ w·c² over the poor: for inequality among the poor.
    PoorScoreSquared,
}

impl Total {
    /// One person's value, the term the total sums with weights.
    pub fn value(self, person: &Person) -> f64 {
        let deprived = |j: usize| person.profile >> j & 1 == 1;
        let one = |b: bool| if b { 1.0 } else { 0.0 };
        match self {
            Total::Population => 1.0,
            Total::Deprived(j) => one(deprived(j)),
            Total::Poor => one(person.poor),
            Total::PoorScore => one(person.poor) * person.score,
            Total::PoorDeprived(j) => one(person.poor && deprived(j)),
            Total::PoorGap(alpha) => {
                let gap = |j: usize| {
                    person
                        .gaps
                        .iter()
                        .find(|&&(k, _)| k == j)
                        .map_or(1.0, |&(_, g)| g.powi(alpha as i32))
                };
                let sum: f64 = (0..person.weights.len())
                    .filter(|&j| deprived(j))
                    .map(|j| person.weights[j] * gap(j))
                    .sum();
                one(person.poor) * sum
            }
            Total::PoorScoreSquared => one(person.poor) * person.score * person.score,
        }
    }
}

/// A measure as a ratio of totals: `scale × numerator / denominator`.
#[derive(Clone, Copy, Debug, PartialEq)]
pub struct Ratio {
    pub scale: f64,
    pub numerator: Total,
    pub denominator: Total,
}

/// The totals a methodology may ask for beyond those of M0: the gaps of M1 and M2, the
/// squared scores of inequality among the poor.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Extras {
    /// The M_alpha beyond M0 (1, 2).
    pub alphas: Vec<u8>,
    pub inequality: bool,
}

/// Where each [`Total`] sits in a unit's row of totals: the population, each indicator's
/// deprived, then per poverty line (each cutoff, then each named group) the poor, their
/// censored score, each indicator's poor deprived, the poor's gaps for each alpha and
/// (for inequality among the poor) their squared scores.
pub struct Layout {
    n_indicators: usize,
    n_cutoffs: usize,
    n_lines: usize,
    /// The M_alpha beyond M0 (1, 2) asked for.
    pub alphas: Vec<u8>,
    /// Whether the squared scores of the poor are laid out (inequality among the poor).
    pub inequality: bool,
    /// The cutoffs, lowest first.
    ascending: Vec<usize>,
    pub float_weights: Vec<f64>,
}

impl Layout {
    pub fn new(weights: &IntegerWeights, n_groups: usize) -> Layout {
        Layout::with_extras(weights, n_groups, &Extras::default())
    }

    /// As [`Layout::new`], with the totals `extras` asks for.
    pub fn with_extras(weights: &IntegerWeights, n_groups: usize, extras: &Extras) -> Layout {
        Layout {
            alphas: extras.alphas.clone(),
            inequality: extras.inequality,
            n_indicators: weights.weights.len(),
            n_cutoffs: weights.thresholds.len(),
            n_lines: weights.thresholds.len() + n_groups,
            ascending: {
                let mut order: Vec<usize> = (0..weights.thresholds.len()).collect();
                order.sort_by_key(|&c| weights.thresholds[c]);
                order
            },
            float_weights: weights
                .weights
                .iter()
                .map(|&w| w as f64 / weights.denominator as f64)
                .collect(),
        }
    }

    /// The totals of one poverty line: poor, censored score, each indicator's poor
    /// deprived, the gaps of each alpha, the squared scores.
    fn block(&self) -> usize {
        2 + self.n_indicators + self.alphas.len() + usize::from(self.inequality)
    }

    /// Inequality among the poor from a domain's totals at a poverty line: the mean
    /// squared score of the poor minus the square of their mean score (NaN when nobody
    /// is poor; never below 0).
    pub fn inequality_of(&self, totals: &[f64], line: Option<usize>) -> f64 {
        let at = |t: Total| totals[self.index(t, line)];
        let poor = at(Total::Poor);
        if poor == 0.0 {
            return f64::NAN;
        }
        let a = at(Total::PoorScore) / poor;
        (at(Total::PoorScoreSquared) / poor - a * a).max(0.0)
    }

    pub fn width(&self) -> usize {
        1 + self.n_indicators + self.n_lines * self.block()
    }

    /// The poverty line of an estimate: its cutoff, or its named group after the cutoffs.
    pub fn line(&self, e: &Estimate) -> Option<usize> {
        self.line_of(e.cutoff, e.group)
    }

    fn line_of(&self, cutoff: Option<usize>, group: Option<usize>) -> Option<usize> {
        cutoff.or(group.map(|g| self.n_cutoffs + g))
    }

    pub fn index(&self, total: Total, line: Option<usize>) -> usize {
        let at_line = |offset: usize| {
            let line = line.expect("a total of the poor needs a poverty line");
            1 + self.n_indicators + line * self.block() + offset
        };
        match total {
            Total::Population => 0,
            Total::Deprived(j) => 1 + j,
            Total::Poor => at_line(0),
            Total::PoorScore => at_line(1),
            Total::PoorDeprived(j) => at_line(2 + j),
            Total::PoorGap(alpha) => {
                let k = self
                    .alphas
                    .iter()
                    .position(|&a| a == alpha)
                    .expect("the alpha is laid out");
                at_line(2 + self.n_indicators + k)
            }
            Total::PoorScoreSquared => {
                assert!(self.inequality, "the squared scores are laid out");
                at_line(2 + self.n_indicators + self.alphas.len())
            }
        }
    }

    /// What one person of this profile, these group flags and these gaps (in the
    /// cardinal indicators) adds to the totals.
    pub fn contribution(
        &self,
        weights: &IntegerWeights,
        profile: u64,
        flags: u32,
        gaps: &[(usize, f64)],
    ) -> Contribution {
        let score = weights.score(profile);
        let person = |poor: bool| Person {
            profile,
            score: weights.score_f64(profile),
            poor,
            weights: &self.float_weights,
            gaps,
        };
        let all = person(false);
        let poor = person(true);
        // Population and deprivations, then the block each poverty line where the
        // person is poor gets: poor, censored score, poor deprived per indicator.
        let mut common = vec![Total::Population.value(&all)];
        common.extend((0..self.n_indicators).map(|j| Total::Deprived(j).value(&all)));
        let mut block = vec![Total::Poor.value(&poor), Total::PoorScore.value(&poor)];
        block.extend((0..self.n_indicators).map(|j| Total::PoorDeprived(j).value(&poor)));
        block.extend(self.alphas.iter().map(|&a| Total::PoorGap(a).value(&poor)));
        if self.inequality {
            block.push(Total::PoorScoreSquared.value(&poor));
        }
        // A person poor at cutoff k is poor at every lower cutoff: the block goes to the
        // highest cutoff the score reaches, and [`Layout::cumulate_columns`] hands it down to the
        // lower ones once the totals are added up (one block per person, not one per
        // cutoff). Named groups are not nested: each gets its own.
        let highest = self
            .ascending
            .iter()
            .rev()
            .find(|&&c| is_poor(weights, Some(c), None, score, flags));
        let groups = (self.n_cutoffs..self.n_lines)
            .filter(|&line| is_poor(weights, None, Some(line - self.n_cutoffs), score, flags));
        let lines = highest
            .copied()
            .into_iter()
            .chain(groups)
            .map(|line| self.index(Total::Poor, Some(line)))
            .collect();
        Contribution {
            common,
            block,
            lines,
        }
    }
}

impl Layout {
    /// Completes totals made with [`Contribution::add_to_columns`] (`n` units, stored
    /// total by total): each cutoff's totals of the poor take in those of the cutoffs
    /// above it.
    pub fn cumulate_columns(&self, totals: &mut [f64], n: usize) {
        let block = self.block();
        for pair in self.ascending.windows(2).rev() {
            let (low, high) = (
                self.index(Total::Poor, Some(pair[0])),
                self.index(Total::Poor, Some(pair[1])),
            );
            for i in 0..block {
                let (to, from) = ((low + i) * n, (high + i) * n);
                for u in 0..n {
                    totals[to + u] += totals[from + u];
                }
            }
        }
    }
}

/// One person's values of every total (see [`Layout::contribution`]).
pub struct Contribution {
    /// The population and each indicator's deprivation (the first totals of a row).
    common: Vec<f64>,
    /// Poor, censored score and each poor deprivation, at a line where the person is poor.
    block: Vec<f64>,
    /// Where the block starts for each line at which the person is poor.
    lines: Vec<usize>,
}

impl Contribution {
    /// Adds `weight` persons to unit `u` of totals stored total by total, over `n`
    /// units ([`Layout::cumulate_columns`] completes them).
    pub fn add_to_columns(&self, totals: &mut [f64], n: usize, u: usize, weight: f64) {
        for (k, v) in self.common.iter().enumerate() {
            totals[k * n + u] += weight * v;
        }
        for &start in &self.lines {
            for (i, v) in self.block.iter().enumerate() {
                totals[(start + i) * n + u] += weight * v;
            }
        }
    }
}

/// Whether a person is poor: under the Alkire-Foster cutoff `cutoff` (score >= k, or
/// > k under `identification = ">"`, in exact integers), or as a member of the named group `group`.
pub fn is_poor(
    weights: &IntegerWeights,
    cutoff: Option<usize>,
    group: Option<usize>,
    score: i128,
    flags: u32,
) -> bool {
    match (cutoff, group) {
        (Some(c), _) => weights.poor(score, c),
        (None, Some(g)) => flags >> g & 1 == 1,
        (None, None) => false,
    }
}

/// What the measures need to know about a person: the profile and, at a given cutoff,
/// whether the person is poor.
pub struct Person<'a> {
    pub profile: u64,
    /// The deprivation score c_i (uncensored), as a float for reporting.
    pub score: f64,
    /// c_i >= k, decided exactly.
    pub poor: bool,
    /// Indicator weights as floats.
    pub weights: &'a [f64],
    /// The normalized gaps in the cardinal indicators the person is deprived in.
    pub gaps: &'a [(usize, f64)],
}

/// Fields packed into one integer that sorts as the tuple of the fields does: each field
/// is (value, bits), the first the most significant. Thousands of estimates sort on it
/// comparing integers instead of tuples of options.
pub fn packed(fields: &[(u128, u32)]) -> u128 {
    let total: u32 = fields.iter().map(|&(_, bits)| bits).sum();
    assert!(total <= 128, "a sort key of {total} bits");
    fields.iter().fold(0, |key, &(value, bits)| {
        assert!(
            value < 1 << bits,
            "too many estimates of one kind to sort ({value})"
        );
        key << bits | value
    })
}

/// An optional index as a field of [`packed`]: absent (0) before any present.
pub fn present(x: Option<usize>) -> u128 {
    x.map_or(0, |v| v as u128 + 1)
}

/// The fields of a subgroup (column and level, absent for the whole sample) for
/// [`packed`].
pub fn subgroup_fields(subgroup: Option<(usize, u32)>) -> [(u128, u32); 2] {
    [
        (present(subgroup.map(|(g, _)| g)), 8),
        (present(subgroup.map(|(_, l)| l as usize)), 33),
    ]
}

/// The fields by which estimates and result rows are ordered, for [`packed`]: group,
/// measure, indicator, cutoff, subgroup (column and level); rounds (and a change's
/// rounds and type) follow.
pub fn order_fields(
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

/// The place of the estimate so named in the estimates' order ([`Estimate::order`]).
pub fn order_of(
    measure: Measure,
    indicator: Option<usize>,
    cutoff: Option<usize>,
    group: Option<usize>,
    domain: Domain,
) -> u128 {
    let [g, m, j, k, column, level] =
        order_fields(group, measure, indicator, cutoff, domain.subgroup);
    packed(&[g, m, j, k, column, level, (domain.round as u128, 16)])
}

/// One point estimate.
#[derive(Clone, Debug, PartialEq)]
pub struct Estimate {
    pub measure: Measure,
    pub indicator: Option<usize>,
    /// Index into the methodology's cutoffs (`None` for hd and for groups).
    pub cutoff: Option<usize>,
    /// Index into the methodology's named groups, for a group's H, A and M0.
    pub group: Option<usize>,
    pub domain: Domain,
    /// The estimate; NaN where it is undefined (A and pctb where nobody is poor).
    pub b: f64,
}

impl Estimate {
    /// Where the estimate comes among the estimates of a run: by group, measure,
    /// indicator, cutoff, subgroup and round, as packed in one integer (the results'
    /// order, in which [`estimate`] lays them out).
    pub fn order(&self) -> u128 {
        order_of(
            self.measure,
            self.indicator,
            self.cutoff,
            self.group,
            self.domain,
        )
    }
}

/// The domains of a table in the results' order: the whole sample, then each level of
/// each subgroup column; each of them round by round.
pub fn domains(table: &Table, n_rounds: usize) -> Vec<Domain> {
    let subgroups = std::iter::once(None).chain(
        table
            .radices
            .iter()
            .enumerate()
            .flat_map(|(g, &radix)| (0..(radix - 1) as u32).map(move |level| Some((g, level)))),
    );
    subgroups
        .flat_map(|subgroup| (0..n_rounds as u32).map(move |round| Domain { subgroup, round }))
        .collect()
}

/// Every point estimate for every domain, cutoff and indicator, and H (with A and M0
/// where `intensity` says so) of every named group. `totals` gives a domain's totals
/// laid out by `layout` (none for a subgroup level absent from a round): every estimate
/// is one ratio of two of them.
///
/// The estimates come in the order of the results' rows — named group, measure,
/// indicator, cutoff, subgroup, round — so that neither the results nor the series of
/// the standard errors (an estimate over the rounds) need sorting.
pub fn estimate<'t>(
    table: &Table,
    layout: &Layout,
    groups: &[bool],
    n_rounds: usize,
    totals: impl Fn(&Domain) -> Option<&'t [f64]>,
) -> Vec<Estimate> {
    let domains: Vec<(Domain, &[f64])> = domains(table, n_rounds)
        .into_iter()
        .filter_map(|d| totals(&d).map(|t| (d, t)))
        .collect();
    let national = |round: u32| {
        domains
            .iter()
            .find(|(d, _)| d.subgroup.is_none() && d.round == round)
            .map(|&(_, t)| t)
    };
    let mut out = Vec::new();
    // One measure of one indicator at one poverty line, in every domain.
    let mut push = |measure: Measure,
                    indicator: Option<usize>,
                    cutoff: Option<usize>,
                    group: Option<usize>| {
        let r = measure.ratio(indicator, &layout.float_weights);
        let line = layout.line_of(cutoff, group);
        let (y, x) = (
            layout.index(r.numerator, line),
            layout.index(r.denominator, line),
        );
        let whole = measure.of_the_whole_sample();
        for &(domain, totals) in &domains {
            let denominator = match (whole, domain.subgroup) {
                (false, _) => totals[x],
                (true, None) => continue,
                (true, Some(_)) => match national(domain.round) {
                    Some(n) => n[x],
                    None => continue,
                },
            };
            let b = if measure == Measure::Ineq {
                layout.inequality_of(totals, line)
            } else if denominator == 0.0 {
                f64::NAN
            } else {
                r.scale * totals[y] / denominator
            };
            out.push(Estimate {
                measure,
                indicator,
                cutoff,
                group,
                domain,
                b,
            });
        }
    };
    let (n_indicators, n_cutoffs) = (layout.n_indicators, layout.n_cutoffs);
    for measure in Measure::ALL {
        if measure.alpha().is_some_and(|a| !layout.alphas.contains(&a))
            || (measure == Measure::Ineq && !layout.inequality)
        {
            continue;
        }
        let indicators: Vec<Option<usize>> = if measure.per_indicator() {
            (0..n_indicators).map(Some).collect()
        } else {
            vec![None]
        };
        let cutoffs: Vec<Option<usize>> = if measure.per_cutoff() {
            (0..n_cutoffs).map(Some).collect()
        } else {
            vec![None]
        };
        for &indicator in &indicators {
            for &cutoff in &cutoffs {
                push(measure, indicator, cutoff, None);
            }
        }
    }
    for (g, &intensity) in groups.iter().enumerate() {
        for measure in [Measure::M0, Measure::H, Measure::A] {
            if measure == Measure::H || intensity {
                push(measure, None, None, Some(g));
            }
        }
    }
    out
}
