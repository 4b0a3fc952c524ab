//! afmpi-core: the Alkire-Foster engine of afmpi, free of files, of polars and of the
//! command line.
//!
//! ```text
//! methodology ─> sample ─> tally ─> measures ─> inference ─> Analysis
//! (validated,    (profiles, (the sufficient-  (every point   (standard errors,
//!  exact weights) codes)     statistics table) estimate)      intervals, changes)
//! ```
//!
//! [`methodology`] validates a methodology's TOML text (weights and cutoffs as exact
//! fractions, [`exact`]; rules kept as text, [`rules`]); [`identification`] puts the
//! weights over one integer denominator; [`sample`] builds the people analysed from the
//! columns a reading layer extracted; [`tally`] adds them up into the table of
//! [`domain`]s and cells in one parallel pass; [`measures`] computes every estimate from
//! the table; [`inference`] adds standard errors, intervals and changes between rounds.
//! [`comparison`], [`robustness`] and [`curve`] are statistics over finished analyses. The table is the
//! boundary: whatever builds it (a file read in batches, a database engine), [`finish`]
//! does the rest.

pub mod association;
pub mod comparison;
pub mod curve;
pub mod domain;
pub mod error;
pub mod exact;
pub mod identification;
pub mod inference;
pub mod measures;
pub mod methodology;
pub mod robustness;
pub mod rules;
pub mod sample;
pub mod sums;
pub mod tally;

pub use error::{Error, Result};

use identification::IntegerWeights;
use inference::Inference;
use measures::Estimate;
use methodology::Methodology;
use sample::{DataReport, Sample};
use tally::Table;

/// Everything one run computes.
pub struct Analysis {
    /// The methodology as run: absent optional indicators dropped, their weight shared.
    pub methodology: Methodology,
    pub sample: Sample,
    pub report: DataReport,
    pub table: Table,
    pub estimates: Vec<Estimate>,
    /// Standard errors, intervals and changes over time.
    pub inference: Inference,
    /// The subgroup levels that weigh nothing in a round (their estimates are empty).
    pub weightless: Vec<domain::Domain>,
}

impl Analysis {
    /// The index in `estimates` (and `inference.levels`) of the estimate so named: a
    /// binary search, the estimates being in their order ([`measures::Estimate::order`]).
    pub fn find(
        &self,
        measure: measures::Measure,
        indicator: Option<usize>,
        cutoff: Option<usize>,
        group: Option<usize>,
        domain: domain::Domain,
    ) -> Option<usize> {
        let key = measures::order_of(measure, indicator, cutoff, group, domain);
        self.estimates
            .binary_search_by_key(&key, measures::Estimate::order)
            .ok()
    }
}

/// The finishing step: every estimate, standard error and change from the table.
pub fn finish(
    m: &Methodology,
    sample: Sample,
    mut report: DataReport,
    table: Table,
    settings: &inference::Settings,
    progress: &dyn Fn(&str),
) -> Result<Analysis> {
    let weights = IntegerWeights::new(m)?;
    progress("checking the weights and PSUs of the table");
    let weightless = sample::check_weights(&mut report, &sample, &table)?;
    sample::note_shared_psus(&mut report, &sample, &table);
    progress("estimating");
    let intensity: Vec<bool> = m.groups.iter().map(|g| g.intensity).collect();
    let extras = measures::Extras {
        alphas: m.alphas.clone(),
        inequality: m.inequality,
    };
    let totals = inference::Totals::with_extras(
        &table,
        &sample,
        &weights,
        intensity.len(),
        settings.lonely_psu,
        &extras,
    )?;
    let estimates = measures::estimate(
        &table,
        &totals.layout,
        &intensity,
        sample.round_info.len(),
        |d| totals.of(d),
    );
    progress("standard errors and changes");
    let mut inference = inference::infer(&totals, &sample, &estimates, settings)?;
    let shifts =
        inference::population_shifts(&totals, &table, &weights, &sample, &estimates, settings);
    if !shifts.is_empty() {
        inference.changes.extend(shifts);
        inference.changes.sort_by_key(inference::Change::order);
    }
    if m.inequality {
        inference.splits =
            inference::inequality_splits(&totals, &table, &weights, &sample, &estimates, settings);
    }
    Ok(Analysis {
        methodology: m.clone(),
        sample,
        report,
        table,
        estimates,
        inference,
        weightless,
    })
}

/// A small synthetic survey for the engine's own tests: a methodology of three
/// dimensions and six indicators, and a sample drawn by a fixed-seed generator.
#[cfg(test)]
pub(crate) mod testing {
    use crate::methodology::Methodology;
    use crate::rules::Words;
    use crate::sample::{Grouping, Round, Sample};

    pub fn methodology() -> Methodology {
        let mut text = String::from("name = \"t\"\ncutoffs = [20, \"1/3\", 50]\n");
        for (d, columns) in [["a", "b"], ["c", "d"], ["e", "f"]].iter().enumerate() {
            text.push_str(&format!("[[dimension]]\nname = \"d{d}\"\n"));
            for c in columns {
                text.push_str(&format!("[[dimension.indicator]]\ncolumn = \"{c}\"\n"));
            }
        }
        Methodology::from_toml(&text, &Words).unwrap()
    }

    /// `n` persons over `rounds` rounds, 4 strata of 5 PSUs, one subgroup of 3 levels.
    pub fn sample(n: usize, rounds: u32) -> Sample {
        let mut state: u64 = 0x9E37_79B9_7F4A_7C15;
        let mut next = move || {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            state
        };
        let mut s = Sample::from_labels(
            (1..=4).map(|h| h.to_string()).collect(),
            (1..=5).map(|c| c.to_string()).collect(),
            (0..rounds)
                .map(|r| Round {
                    label: (r + 1).to_string(),
                    year: Some(2010.0 + 5.0 * r as f64),
                })
                .collect(),
            vec![Grouping {
                column: "area".into(),
                levels: vec!["north".into(), "south".into(), "west".into()],
                codes: Vec::new(),
            }],
            rounds > 1,
            false,
        );
        for i in 0..n {
            let r = next();
            s.profiles.push(r & 0b11_1111);
            s.flags.push(0);
            s.rows.push(i as u32);
            s.weights.push(0.5 + (r >> 8 & 0xff) as f64 / 64.0);
            s.strata.push((r >> 16 & 3) as u32);
            s.psus.push((r >> 20) as u32 % 5);
            s.rounds.push((r >> 28) as u32 % rounds);
            s.groupings[0].codes.push((r >> 32) as u32 % 3);
        }
        s
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every estimate is found at its own index, by what names it; what no estimate is
    /// (a cutoff the methodology lacks) is not found.
    #[test]
    fn find_gives_each_estimate_its_index() {
        let m = testing::methodology();
        let sample = testing::sample(3_000, 2);
        let table = tally::tally(&sample).unwrap();
        let a = finish(
            &m,
            sample,
            DataReport::default(),
            table,
            &inference::Settings::default(),
            &|_| {},
        )
        .unwrap();
        assert!(a.estimates.len() > 100);
        for (i, e) in a.estimates.iter().enumerate() {
            assert_eq!(
                a.find(e.measure, e.indicator, e.cutoff, e.group, e.domain),
                Some(i),
                "{e:?}"
            );
        }
        let national = domain::Domain {
            subgroup: None,
            round: 0,
        };
        assert_eq!(
            a.find(measures::Measure::M0, None, Some(9), None, national),
            None
        );
        assert!(a
            .find(measures::Measure::M0, None, Some(0), None, national)
            .is_some());
    }
}
