//! Changes between rounds: two rounds' estimates in, the absolute and relative change
//! (annualized with years) and its gradient out, for the delta method's standard error.

use super::intervals::Precision;
use crate::measures::{order_fields, packed, present, Measure};
use crate::sample::Sample;

/// Absolute or relative change, or a part of an absolute change of M0.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum ChangeType {
    Abs,
    Rel,
    /// The part of M0's absolute change due to the change of H (Shapley's split,
    /// [`super::decompose`]).
    AbsDueToH,
    /// The part of M0's absolute change due to the change of A.
    AbsDueToA,
    /// The part of the whole sample's M0 change due to the changes of M0 within the
    /// levels of a subgroup column ([`Change::over`]).
    AbsWithin,
    /// The part due to the shifts of population between the levels.
    AbsShift,
}

impl ChangeType {
    pub fn name(self) -> &'static str {
        match self {
            ChangeType::Abs => "abs",
            ChangeType::Rel => "rel",
            ChangeType::AbsDueToH => "abs_H",
            ChangeType::AbsDueToA => "abs_A",
            ChangeType::AbsWithin => "abs_within",
            ChangeType::AbsShift => "abs_shift",
        }
    }

    /// Whether the change is in the measure's unit (an absolute change or a part of
    /// one), not in percent.
    pub fn is_absolute(self) -> bool {
        self != ChangeType::Rel
    }
}

/// A change of one measure between two rounds.
#[derive(Clone, Debug, PartialEq)]
pub struct Change {
    pub measure: Measure,
    pub indicator: Option<usize>,
    pub cutoff: Option<usize>,
    /// The named group, for a group's H, A and M0.
    pub group: Option<usize>,
    pub subgroup: Option<(usize, u32)>,
    /// For the parts of the whole sample's change within and between the levels of a
    /// subgroup column (`AbsWithin`, `AbsShift`): the column.
    pub over: Option<usize>,
    /// The rounds compared (indices into the sample's rounds).
    pub t0: u32,
    pub t1: u32,
    pub ctype: ChangeType,
    /// Per year of time between the rounds.
    pub annualized: bool,
    /// Absolute changes in the measure's unit; relative changes in percent.
    pub b: f64,
    pub precision: Precision,
}

impl Change {
    /// The order of changes in the results: as the estimates' (group, measure,
    /// indicator, cutoff, subgroup column and level), the parts over a column before the
    /// column's levels; then the rounds, annualized or not, and the type.
    pub fn order(&self) -> u128 {
        let [g, m, j, k, mut column, level] = order_fields(
            self.group,
            self.measure,
            self.indicator,
            self.cutoff,
            self.subgroup,
        );
        if let Some(over) = self.over {
            column = (present(Some(over)), column.1);
        }
        packed(&[
            g,
            m,
            j,
            k,
            column,
            level,
            (self.t0 as u128, 15),
            (self.t1 as u128, 15),
            (u128::from(self.annualized), 1),
            (self.ctype as u128, 3),
        ])
    }

    /// The labels of the two rounds compared: their years when there are years, else
    /// the round labels.
    pub fn labels(&self, sample: &Sample) -> (String, String) {
        (sample.round_year(self.t0), sample.round_year(self.t1))
    }
}

/// The measures whose changes over time are reported: those mpitb reports, and actb.
/// An indicator's actb is its part of M0 (w_j × hdk_j, and M0 = Σ_j actb_j), so its
/// absolute change is the indicator's part of M0's change.
pub fn has_changes(measure: Measure) -> bool {
    matches!(
        measure,
        Measure::M0
            | Measure::H
            | Measure::A
            | Measure::Hd
            | Measure::Hdk
            | Measure::Actb
            | Measure::M1
            | Measure::M2
            | Measure::Ineq
    )
}

/// A change and its gradient with respect to (b0, b1). `span` is the years between the
/// rounds for annualized changes. (NaN for the parts of M0's changes, which are not
/// functions of one measure's two values.)
pub fn change(ctype: ChangeType, span: Option<f64>, b0: f64, b1: f64) -> (f64, f64, f64) {
    match (ctype, span) {
        (ChangeType::Abs, None) => (b1 - b0, -1.0, 1.0),
        (ChangeType::Abs, Some(dy)) => ((b1 - b0) / dy, -1.0 / dy, 1.0 / dy),
        (ChangeType::AbsDueToH | ChangeType::AbsDueToA, _)
        | (ChangeType::AbsWithin | ChangeType::AbsShift, _) => (f64::NAN, f64::NAN, f64::NAN),
        (ChangeType::Rel, None) => (100.0 * (b1 - b0) / b0, -100.0 * b1 / (b0 * b0), 100.0 / b0),
        (ChangeType::Rel, Some(dy)) => {
            let e = 1.0 / dy;
            let ratio = b1 / b0;
            let d = 100.0 * e * ratio.powf(e - 1.0);
            (100.0 * (ratio.powf(e) - 1.0), -d * b1 / (b0 * b0), d / b0)
        }
    }
}
