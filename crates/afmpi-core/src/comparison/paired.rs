//! Paired differences between two methodologies on the same survey: two analyses of one
//! file in; for each domain (round, and the whole sample or one subgroup level) the
//! difference of their headline M0 and H, with its standard error, out.
//!
//! The two estimates are of the same persons in the same PSUs, so they are strongly
//! correlated, and their difference has a much smaller standard error than either
//! alone. The difference θ_A − θ_B of two ratios linearizes person by person into
//! z_i = w_i (y_A,i − θ_A) / N_A − w_i (y_B,i − θ_B) / N_B (a person used by one
//! methodology only has only its term), and its variance is the survey package's
//! stratified, with-replacement estimator over the PSU totals of z, as every other
//! variance of afmpi. Persons are matched by their row in the file, PSUs by their
//! stratum and PSU labels (or their row, when each row is a PSU); the design is the
//! union of the two analyses' PSUs.

use rustc_hash::FxHashMap;
use statrs::distribution::{ContinuousCDF, Normal};

use super::headline;
use crate::domain::Domain;
use crate::error::Result;
use crate::identification::IntegerWeights;
use crate::inference::{LonelyPsu, Precision, Settings};
use crate::measures::{is_poor, Measure};
use crate::sample::OUTSIDE_EVERY_DOMAIN;
use crate::Analysis;

/// The difference of two methodologies' headline estimate in one domain.
#[derive(Clone, Debug, PartialEq)]
pub struct PairedDifference {
    pub first: usize,
    pub second: usize,
    /// M0 or H.
    pub measure: Measure,
    /// The domain, its subgroup in the first analysis's columns.
    pub domain: Domain,
    /// First minus second.
    pub b: f64,
    /// Wald interval with the normal quantile, as for changes between rounds.
    pub precision: Precision,
}

impl PairedDifference {
    /// Whether the interval leaves out zero.
    pub fn significant(&self) -> bool {
        self.precision.ll > 0.0 || self.precision.ul < 0.0
    }
}

/// The measures compared, and what a person adds to each one's numerator: poor (H),
/// censored score (M0).
const MEASURES: [Measure; 2] = [Measure::M0, Measure::H];

/// A PSU of the union design: its stratum's label and its own (its file row when each
/// row is a PSU).
type PsuKey = (String, String);

/// One analysis's persons as the pairing needs them.
struct Persons<'a> {
    a: &'a Analysis,
    /// For each of the first analysis's subgroup columns: the same column here, and the
    /// first analysis's level of each of its levels (by label).
    columns: Vec<Option<(usize, Vec<Option<u32>>)>>,
    weights: IntegerWeights,
}

impl<'a> Persons<'a> {
    fn new(a: &'a Analysis, first: &Analysis) -> Result<Persons<'a>> {
        let columns = (first.sample.groupings.iter())
            .map(|grouping| {
                let own = (a.sample.groupings.iter()).position(|o| o.column == grouping.column)?;
                let by_label: FxHashMap<&str, u32> = (grouping.levels.iter().enumerate())
                    .map(|(l, label)| (label.as_str(), l as u32))
                    .collect();
                let levels = (a.sample.groupings[own].levels.iter())
                    .map(|label| by_label.get(label.as_str()).copied())
                    .collect();
                Some((own, levels))
            })
            .collect();
        Ok(Persons {
            a,
            columns,
            weights: IntegerWeights::new(&a.methodology)?,
        })
    }

    /// Person i's numerators of M0 and H under the headline.
    fn values(&self, i: usize) -> [f64; 2] {
        let s = &self.a.sample;
        let (cutoff, group) = headline(self.a);
        let score = self.weights.score(s.profiles[i]);
        if is_poor(&self.weights, cutoff, group, score, s.flags[i]) {
            [self.weights.score_f64(s.profiles[i]), 1.0]
        } else {
            [0.0, 0.0]
        }
    }

    /// The domains person i is in, in the first analysis's terms.
    fn domains(&self, i: usize) -> impl Iterator<Item = Domain> + '_ {
        let s = &self.a.sample;
        let round = s.rounds[i];
        let levels = (self.columns.iter().enumerate()).filter_map(move |(g, column)| {
            let (own, levels) = column.as_ref()?;
            let code = s.groupings[*own].codes[i];
            let level = (*levels.get(code as usize)?)?;
            Some(Domain {
                subgroup: Some((g, level)),
                round,
            })
        });
        std::iter::once(Domain {
            subgroup: None,
            round,
        })
        .chain(levels)
    }

    /// Person i's PSU in the union design.
    fn psu(&self, i: usize) -> PsuKey {
        let s = &self.a.sample;
        let stratum = s
            .stratum_labels
            .get(s.strata[i] as usize)
            .cloned()
            .unwrap_or_default();
        match s.psu_is_row {
            true => (stratum, format!("row {}", s.rows[i])),
            false => (stratum, s.psu_labels[s.psus[i] as usize].clone()),
        }
    }
}

/// The linearized variables' totals: per domain, per PSU, for M0 and H.
#[derive(Default)]
struct PsuTotals {
    psus: FxHashMap<PsuKey, usize>,
    /// Each PSU's stratum (an index into `strata`).
    stratum_of: Vec<usize>,
    strata: FxHashMap<String, usize>,
    totals: FxHashMap<(Domain, usize), [f64; 2]>,
}

impl PsuTotals {
    fn psu(&mut self, key: PsuKey) -> usize {
        let next = self.psus.len();
        if let Some(&p) = self.psus.get(&key) {
            return p;
        }
        let n = self.strata.len();
        let h = *self.strata.entry(key.0.clone()).or_insert(n);
        self.stratum_of.push(h);
        self.psus.insert(key, next);
        next
    }

    /// Adds one analysis's persons: each one's linearized value in each of its domains,
    /// times `sign`.
    fn add(&mut self, persons: &Persons, estimates: &Estimates, sign: f64) {
        let s = &persons.a.sample;
        let mut psu_of: FxHashMap<(u32, u32, u32), usize> = FxHashMap::default();
        for i in 0..s.len() {
            if s.flags[i] & OUTSIDE_EVERY_DOMAIN != 0 {
                // In the design, in no domain.
                self.psu(persons.psu(i));
                continue;
            }
            let key = (
                s.strata[i],
                s.psus[i],
                if s.psu_is_row { s.rows[i] } else { 0 },
            );
            let p = match psu_of.get(&key) {
                Some(&p) => p,
                None => {
                    let p = self.psu(persons.psu(i));
                    psu_of.insert(key, p);
                    p
                }
            };
            let (w, y) = (s.weights[i], persons.values(i));
            for domain in persons.domains(i) {
                let Some(e) = estimates.get(&domain) else {
                    continue;
                };
                let t = self.totals.entry((domain, p)).or_insert([0.0; 2]);
                for m in 0..MEASURES.len() {
                    t[m] += sign * w * (y[m] - e.theta[m]) / e.population;
                }
            }
        }
    }
}

/// A domain's estimates under one methodology, as the linearization needs them.
struct DomainEstimate {
    theta: [f64; 2],
    population: f64,
}

type Estimates = FxHashMap<Domain, DomainEstimate>;

/// The headline M0 and H of every domain of an analysis, and its population (Σ w), in the
/// first analysis's terms.
fn estimates_of(persons: &Persons) -> Estimates {
    let s = &persons.a.sample;
    let mut population: FxHashMap<Domain, f64> = FxHashMap::default();
    for i in 0..s.len() {
        if s.flags[i] & OUTSIDE_EVERY_DOMAIN == 0 {
            for d in persons.domains(i) {
                *population.entry(d).or_insert(0.0) += s.weights[i];
            }
        }
    }
    let own = |d: Domain| -> Option<Domain> {
        let subgroup = match d.subgroup {
            None => None,
            Some((g, level)) => {
                let (own, levels) = persons.columns[g].as_ref()?;
                let l = levels.iter().position(|&x| x == Some(level))?;
                Some((*own, l as u32))
            }
        };
        Some(Domain {
            subgroup,
            round: d.round,
        })
    };
    population
        .into_iter()
        .filter_map(|(d, population)| {
            let own = own(d)?;
            let theta = MEASURES.map(|m| {
                super::headline_estimate(persons.a, m, own.subgroup, own.round)
                    .map_or(f64::NAN, |(b, _)| b)
            });
            (population > 0.0 && theta.iter().all(|t| t.is_finite()))
                .then_some((d, DomainEstimate { theta, population }))
        })
        .collect()
}

/// A domain's Σ z and Σ z² per stratum and Σ z over the design, for M0 and H.
type StratumSums = (Vec<[f64; 2]>, Vec<[f64; 2]>, [f64; 2]);

impl PsuTotals {
    /// The stratified with-replacement variance of each measure's difference in each
    /// domain over the union design's PSUs (a PSU without a member of the domain
    /// counts, with a zero total), with the settings' treatment of single-PSU strata.
    fn variances(&self, lonely: LonelyPsu) -> FxHashMap<Domain, [f64; 2]> {
        let n_strata = self.strata.len();
        let mut psus_per_stratum = vec![0.0; n_strata];
        for &h in &self.stratum_of {
            psus_per_stratum[h] += 1.0;
        }
        let n_psus = self.stratum_of.len() as f64;
        let several = psus_per_stratum.iter().filter(|&&n| n > 1.0).count();
        let single = psus_per_stratum.iter().filter(|&&n| n == 1.0).count();
        let scale = match lonely {
            LonelyPsu::Average if several > 0 => (several + single) as f64 / several as f64,
            _ => 1.0,
        };
        // Per domain: Σ z and Σ z² per stratum, and Σ z over the design.
        let mut sums: FxHashMap<Domain, StratumSums> = FxHashMap::default();
        for (&(domain, p), z) in &self.totals {
            let h = self.stratum_of[p];
            let (sum, sq, total) = sums
                .entry(domain)
                .or_insert_with(|| (vec![[0.0; 2]; n_strata], vec![[0.0; 2]; n_strata], [0.0; 2]));
            for m in 0..2 {
                sum[h][m] += z[m];
                sq[h][m] += z[m] * z[m];
                total[m] += z[m];
            }
        }
        sums.into_iter()
            .map(|(domain, (sum, sq, total))| {
                let v = std::array::from_fn(|m| {
                    let mut v = 0.0;
                    for h in 0..n_strata {
                        let n = psus_per_stratum[h];
                        if n > 1.0 {
                            v += n / (n - 1.0) * (sq[h][m] - sum[h][m] * sum[h][m] / n);
                        } else if n == 1.0 && lonely == LonelyPsu::Adjust {
                            // A single PSU centred on the grand mean.
                            let centre = total[m] / n_psus;
                            v += (sum[h][m] - centre).powi(2);
                        }
                    }
                    v * scale
                });
                (domain, v)
            })
            .collect()
    }
}

/// The paired differences of the headline M0 and H between analyses `first` and
/// `second` of one file, in every domain both estimate.
pub fn paired_differences(
    analyses: &[Analysis],
    first: usize,
    second: usize,
    settings: &Settings,
) -> Result<Vec<PairedDifference>> {
    let a0 = &analyses[first];
    let persons = [Persons::new(a0, a0)?, Persons::new(&analyses[second], a0)?];
    let estimates = [estimates_of(&persons[0]), estimates_of(&persons[1])];
    let mut totals = PsuTotals::default();
    totals.add(&persons[0], &estimates[0], 1.0);
    totals.add(&persons[1], &estimates[1], -1.0);
    let variances = totals.variances(settings.lonely_psu);
    let z = Normal::new(0.0, 1.0)
        .expect("standard normal")
        .inverse_cdf(1.0 - (1.0 - settings.level) / 2.0);
    let mut out = Vec::new();
    for (domain, e0) in &estimates[0] {
        let Some(e1) = estimates[1].get(domain) else {
            continue;
        };
        let v = variances.get(domain).copied().unwrap_or([0.0; 2]);
        for (m, &measure) in MEASURES.iter().enumerate() {
            let b = e0.theta[m] - e1.theta[m];
            let se = v[m].max(0.0).sqrt();
            out.push(PairedDifference {
                first,
                second,
                measure,
                domain: *domain,
                b,
                precision: Precision {
                    se,
                    ll: b - z * se,
                    ul: b + z * se,
                },
            });
        }
    }
    out.sort_by_key(|d| (d.domain.round, d.domain.subgroup, d.measure as u8));
    Ok(out)
}
