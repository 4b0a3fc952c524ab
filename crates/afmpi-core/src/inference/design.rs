//! The design: the table's cells in, the sampling design as the variance sees it out —
//! PSUs per stratum, degrees of freedom, the strata with a single PSU and what the
//! lonely-PSU setting does with them, each stratum's n/(n − 1) worked out once.

use rustc_hash::FxHashMap;

use super::LonelyPsu;
use crate::error::{Error, Result};
use crate::sample::Sample;
use crate::tally::{Cell, Table};

/// The sampling design as the variance sees it.
#[derive(Clone, Debug)]
pub struct Design {
    /// Per stratum: its number of PSUs (of rows, when each row is a PSU).
    pub psus_per_stratum: Vec<f64>,
    /// All PSUs of the design.
    pub n_psus: f64,
    /// Degrees of freedom: PSUs minus strata.
    pub df: f64,
    /// Each row is its own PSU (no PSU column).
    pub psu_is_row: bool,
    /// The strata with a single PSU.
    pub lonely: Vec<u32>,
    pub lonely_psu: LonelyPsu,
    /// The stratum of each PSU, by the PSU's index.
    pub(super) psu_stratum: Vec<u32>,
    /// Per stratum: n/(n − 1) for its n PSUs, 0 for a stratum with fewer than two.
    pub(super) stratum_factor: Vec<f64>,
    /// Per stratum: 1/n (0 for a stratum without PSUs).
    pub(super) per_psu: Vec<f64>,
    /// What the variance summed over the strata is multiplied by: under
    /// `LonelyPsu::Average`, the strata present over those that count (single-PSU
    /// strata get the average of the others); else 1.
    pub(super) variance_scale: f64,
    /// Index of each (stratum, PSU) pair.
    pub(super) psu_index: FxHashMap<(u32, u32), usize>,
}

impl Design {
    /// Reads the design off the table; with `LonelyPsu::Fail`, a stratum with a single
    /// PSU is an error that names it.
    pub fn new(table: &Table, sample: &Sample, lonely_psu: LonelyPsu) -> Result<Design> {
        let n_strata = sample.stratum_labels.len().max(1);
        let mut psus_per_stratum = vec![0.0; n_strata];
        let mut psu_stratum = Vec::new();
        let mut psu_index = FxHashMap::default();
        let mut rounds_of_stratum: Vec<Vec<u32>> = vec![Vec::new(); n_strata];
        // The cells are sorted by round, stratum and PSU: each run of one is looked up
        // once (a survey's half a million cells are 30,000 runs).
        let same_unit =
            |a: &Cell, b: &Cell| (a.round, a.stratum, a.psu) == (b.round, b.stratum, b.psu);
        for run in table.cells.chunk_by(same_unit) {
            let cell = &run[0];
            let h = cell.stratum as usize;
            if !rounds_of_stratum[h].contains(&cell.round) {
                rounds_of_stratum[h].push(cell.round);
            }
            if sample.psu_is_row {
                psus_per_stratum[h] += run.iter().map(|c| c.count as f64).sum::<f64>();
            } else if let std::collections::hash_map::Entry::Vacant(e) =
                psu_index.entry((cell.stratum, cell.psu))
            {
                e.insert(psu_stratum.len());
                psu_stratum.push(cell.stratum);
                psus_per_stratum[h] += 1.0;
            }
        }
        let n_psus: f64 = psus_per_stratum.iter().sum();
        let lonely: Vec<u32> = (0..n_strata as u32)
            .filter(|&h| psus_per_stratum[h as usize] == 1.0)
            .collect();
        if lonely_psu == LonelyPsu::Fail {
            if let Some(&h) = lonely.first() {
                let label = sample
                    .stratum_labels
                    .get(h as usize)
                    .cloned()
                    .unwrap_or_else(|| "1".into());
                let rounds = if sample.has_rounds {
                    let labels: Vec<&str> = rounds_of_stratum[h as usize]
                        .iter()
                        .map(|&r| sample.round_info[r as usize].label.as_str())
                        .collect();
                    format!(" (round {})", labels.join(", "))
                } else {
                    String::new()
                };
                return Err(Error::Usage(format!(
                    "stratum {label}{rounds} has a single primary sampling unit, so its variance cannot be estimated ({} such strata in all). Check the strata and PSU columns, or choose how to treat it with --lonely-psu remove|adjust|average",
                    lonely.len())));
            }
        }
        let stratum_factor = psus_per_stratum
            .iter()
            .map(|&n| if n > 1.0 { n / (n - 1.0) } else { 0.0 })
            .collect();
        let per_psu = psus_per_stratum
            .iter()
            .map(|&n| if n > 0.0 { 1.0 / n } else { 0.0 })
            .collect();
        let present = psus_per_stratum.iter().filter(|&&n| n > 0.0).count();
        let several = psus_per_stratum.iter().filter(|&&n| n > 1.0).count();
        let counted = match lonely_psu {
            LonelyPsu::Remove | LonelyPsu::Adjust => several + lonely.len(),
            LonelyPsu::Average | LonelyPsu::Fail => several,
        };
        let variance_scale = if lonely_psu == LonelyPsu::Average && counted > 0 {
            present as f64 / counted as f64
        } else {
            1.0
        };
        Ok(Design {
            psus_per_stratum,
            n_psus,
            df: n_psus - n_strata as f64,
            psu_is_row: sample.psu_is_row,
            lonely,
            lonely_psu,
            psu_stratum,
            stratum_factor,
            per_psu,
            variance_scale,
            psu_index,
        })
    }

    pub(super) fn n_strata(&self) -> usize {
        self.psus_per_stratum.len()
    }
}
