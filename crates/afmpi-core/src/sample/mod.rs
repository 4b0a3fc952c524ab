//! The sample: the people a run analyses, one entry each — the deprivation profile (a
//! bitmask: bit j set when deprived in indicator j), the membership of the named groups,
//! the sampling weight, and dense integer codes for stratum, PSU, round and each
//! subgroup column — with the labels of the codes.
//!
//! The reading layer extracts the columns of a survey file; [`Builder`] turns them into
//! a [`Sample`], dropping the rows that miss a value the analysis needs and saying why in
//! the [`DataReport`]. Codes follow the labels' sorted order ([`codes`]) and rounds their
//! years ([`rounds`]), so that results come in the same order whatever the file's.

mod build;
pub mod codes;
mod report;
pub mod rounds;

pub use build::{Builder, RowOutcomes, MISSING_INDICATOR};
pub use report::{check_not_empty, check_weights, note_shared_psus, DataReport};

/// A column's codes and the labels they stand for.
pub type Codes = (Vec<u32>, Vec<String>);

/// Code of a missing subgroup value.
pub const MISSING: u32 = u32::MAX;

/// The flag of a row kept in the design outside every domain (`missing_rows =
/// "domain"`): it adds to no estimate, only to the design's PSUs.
pub const OUTSIDE_EVERY_DOMAIN: u32 = 1 << 31;

/// One subgroup column: its levels (labels, sorted) and each person's level.
#[derive(Clone, Debug)]
pub struct Grouping {
    pub column: String,
    pub levels: Vec<String>,
    /// Index into `levels`, or [`MISSING`].
    pub codes: Vec<u32>,
}

/// One survey round.
#[derive(Clone, Debug, PartialEq)]
pub struct Round {
    pub label: String,
    pub year: Option<f64>,
}

/// The analysis sample: one entry per person kept.
#[derive(Clone, Debug)]
pub struct Sample {
    /// Deprivation profile: bit j set when deprived in indicator j.
    pub profiles: Vec<u64>,
    /// Membership of the methodology's named groups: bit g set when in group g.
    pub flags: Vec<u32>,
    /// Each person's row in the data read (0-based), to line up runs on the same file.
    pub rows: Vec<u32>,
    pub weights: Vec<f64>,
    pub strata: Vec<u32>,
    pub stratum_labels: Vec<String>,
    pub psus: Vec<u32>,
    pub psu_labels: Vec<String>,
    pub rounds: Vec<u32>,
    /// The rounds in time order (by year when there is one, else by label).
    pub round_info: Vec<Round>,
    pub groupings: Vec<Grouping>,
    /// True when the data have a round column (so results carry `t`).
    pub has_rounds: bool,
    /// True without a PSU column: each row is its own PSU, and `psus` is all zero (the
    /// tally then keeps the sum of squared weights, which is all the variance needs).
    pub psu_is_row: bool,
    /// Under cardinal indicators and M1/M2: each person's gaps, as an index into
    /// `gap_vectors` (empty: no gaps, every person's index is 0).
    pub gap_codes: Vec<u32>,
    /// The distinct vectors of normalized gaps, (indicator, (z - x)/z) for each
    /// cardinal indicator a person is deprived in; index 0 is the empty vector.
    pub gap_vectors: Vec<Gaps>,
}

/// A person's normalized gaps in the cardinal indicators they are deprived in.
pub type Gaps = Vec<(usize, f64)>;

impl Sample {
    /// A sample of labels only, without per-person values: what a table made in batches
    /// or by a database engine comes with.
    pub fn from_labels(
        stratum_labels: Vec<String>,
        psu_labels: Vec<String>,
        round_info: Vec<Round>,
        groupings: Vec<Grouping>,
        has_rounds: bool,
        psu_is_row: bool,
    ) -> Sample {
        Sample {
            profiles: Vec::new(),
            flags: Vec::new(),
            rows: Vec::new(),
            weights: Vec::new(),
            strata: Vec::new(),
            stratum_labels,
            psus: Vec::new(),
            psu_labels,
            rounds: Vec::new(),
            round_info,
            groupings: groupings
                .into_iter()
                .map(|g| Grouping {
                    codes: Vec::new(),
                    ..g
                })
                .collect(),
            has_rounds,
            psu_is_row,
            gap_codes: Vec::new(),
            gap_vectors: vec![Vec::new()],
        }
    }

    /// The sample's labels (and gap vectors) without its per-person values.
    pub fn labels_only(self) -> Sample {
        let gap_vectors = self.gap_vectors;
        Sample {
            gap_vectors,
            ..Sample::from_labels(
                self.stratum_labels,
                self.psu_labels,
                self.round_info,
                self.groupings,
                self.has_rounds,
                self.psu_is_row,
            )
        }
    }

    /// Person i's index into `gap_vectors` (0 without gaps).
    pub fn gap_code(&self, i: usize) -> u32 {
        self.gap_codes.get(i).copied().unwrap_or(0)
    }

    pub fn len(&self) -> usize {
        self.profiles.len()
    }

    /// Round `r` in the results' `t` column: its label, when the data have rounds.
    pub fn round_t(&self, r: u32) -> Option<&str> {
        self.has_rounds
            .then(|| self.round_info[r as usize].label.as_str())
    }

    /// Round `r` for people: its label with its year, "2 (2019)", when the data have
    /// rounds.
    pub fn round_name(&self, r: u32) -> Option<String> {
        let round = &self.round_info[r as usize];
        self.has_rounds.then(|| match round.year {
            Some(y) => format!("{} ({})", round.label, codes::number_label(y)),
            None => round.label.clone(),
        })
    }

    /// Round `r` as the results' `yt0` and `yt1` name it: its year when there are years,
    /// else its label.
    pub fn round_year(&self, r: u32) -> String {
        let round = &self.round_info[r as usize];
        round
            .year
            .map(codes::number_label)
            .unwrap_or_else(|| round.label.clone())
    }

    pub fn is_empty(&self) -> bool {
        self.profiles.is_empty()
    }
}
