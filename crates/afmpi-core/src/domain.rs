//! Domains: the populations every measure is reported for — a round, and the whole
//! sample or one level of one subgroup column. A plain value type that the table, the
//! measures and the inference share.

/// A population for which every measure is reported: a round and either the whole
/// sample or one level of one subgroup column.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Domain {
    /// The level of analysis: `None` for the whole sample ("nat"), or the subgroup column
    /// and its level.
    pub subgroup: Option<(usize, u32)>,
    pub round: u32,
}
