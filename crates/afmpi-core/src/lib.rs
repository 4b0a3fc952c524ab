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
//! [`comparison`] and [`curve`] are statistics over finished analyses. The table is the
//! boundary: whatever builds it (a file read in batches, a database engine), [`finish`]
//! does the rest.

pub mod comparison;
pub mod curve;
pub mod domain;
pub mod error;
pub mod exact;
pub mod identification;
pub mod inference;
pub mod measures;
pub mod methodology;
pub mod rules;
pub mod sample;
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
}

/// The finishing step: every estimate, standard error and change from the table.
pub fn finish(
    m: &Methodology,
    sample: Sample,
    report: DataReport,
    table: Table,
    settings: &inference::Settings,
    progress: &dyn Fn(&str),
) -> Result<Analysis> {
    let weights = IntegerWeights::new(m)?;
    progress("estimating");
    let intensity: Vec<bool> = m.groups.iter().map(|g| g.intensity).collect();
    let totals = inference::Totals::new(
        &table,
        &sample,
        &weights,
        intensity.len(),
        settings.lonely_psu,
    )?;
    let estimates = measures::estimate(
        &table,
        &totals.layout,
        &intensity,
        sample.round_info.len(),
        |d| totals.of(d),
    );
    progress("standard errors and changes");
    let inference = inference::infer(&totals, &sample, &estimates, settings)?;
    Ok(Analysis {
        methodology: m.clone(),
        sample,
        report,
        table,
        estimates,
        inference,
    })
}
