//! Synthetic surveys: a seed in, a survey frame out — person rows with household ids,
//! a stratified two-stage design (strata, PSUs, weights), subgroups (area, region, sex),
//! one or more rounds with their years, and ready 0/1 deprivation columns with the names
//! of the global MPI (`d_cm d_nutr d_satt d_educ d_elct d_wtr d_sani d_hsg d_ckfl d_asst`).
//!
//! Deprivations are correlated as in real surveys: each household has a latent level of
//! poverty made of a region effect, a rural effect, a PSU effect, its own effect and a
//! round trend; each indicator is deprived when the latent level plus the indicator's own
//! noise passes its threshold. Nutrition and child mortality are sometimes missing (no
//! eligible member measured), as in DHS data. The same seed gives the same file.

use polars::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

/// Indicator columns, their thresholds (higher = rarer) and missing-value rates.
pub const INDICATORS: [(&str, f64, f64); 10] = [
    ("d_cm", 1.6, 0.01),
    ("d_nutr", 0.9, 0.04),
    ("d_satt", 1.2, 0.0),
    ("d_educ", 0.6, 0.0),
    ("d_elct", 0.1, 0.0),
    ("d_wtr", 0.7, 0.0),
    ("d_sani", -0.2, 0.0),
    ("d_hsg", 0.4, 0.0),
    ("d_ckfl", -0.8, 0.0),
    ("d_asst", 0.8, 0.0),
];

const REGIONS: [(&str, f64); 6] = [
    ("Capital", -1.0),
    ("Coast", -0.3),
    ("Lakes", 0.0),
    ("Savannah", 0.5),
    ("Highlands", 0.3),
    ("North", 0.8),
];

/// What to simulate.
#[derive(Clone, Debug)]
pub struct Settings {
    /// Persons in all, over all rounds.
    pub rows: usize,
    /// Number of survey rounds (years 2012, 2019, 2026, …).
    pub rounds: usize,
    /// Households per PSU.
    pub households_per_psu: usize,
    pub seed: u64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            rows: 12_000,
            rounds: 2,
            households_per_psu: 12,
            seed: 20_260_601,
        }
    }
}

/// Makes the survey frame.
pub fn survey(settings: &Settings) -> DataFrame {
    let mut rng = ChaCha8Rng::seed_from_u64(settings.seed);
    let normal = Normal::new(0.0, 1.0).expect("standard normal");
    let rounds = settings.rounds.max(1);
    let per_round = settings.rows.div_ceil(rounds);

    let mut hh_id = Vec::with_capacity(settings.rows);
    let mut ind_id = Vec::with_capacity(settings.rows);
    let mut t = Vec::with_capacity(settings.rows);
    let mut year = Vec::with_capacity(settings.rows);
    let mut strata = Vec::with_capacity(settings.rows);
    let mut psu = Vec::with_capacity(settings.rows);
    let mut weight = Vec::with_capacity(settings.rows);
    let mut area = Vec::with_capacity(settings.rows);
    let mut region = Vec::with_capacity(settings.rows);
    let mut sex = Vec::with_capacity(settings.rows);
    let mut deprived: Vec<Vec<Option<i32>>> =
        vec![Vec::with_capacity(settings.rows); INDICATORS.len()];

    for round in 0..rounds {
        let trend = -0.35 * round as f64;
        let mut persons = 0;
        let mut psu_no = 0u64;
        while persons < per_round && hh_id.len() < settings.rows {
            // PSUs cycle through the strata: region × area.
            let r = (psu_no as usize) % REGIONS.len();
            let rural = !(psu_no / REGIONS.len() as u64).is_multiple_of(3);
            let stratum = (round as i64 + 1) * 100 + (r as i64) * 2 + i64::from(rural);
            let psu_id = (round as i64 + 1) * 1_000_000 + psu_no as i64;
            let psu_effect = 0.4 * normal.sample(&mut rng);
            let psu_weight = (if rural { 1.4 } else { 0.8 }) * (0.6 + 0.8 * rng.gen::<f64>());
            for h in 0..settings.households_per_psu {
                if persons >= per_round || hh_id.len() >= settings.rows {
                    break;
                }
                let household = psu_id * 100 + h as i64;
                let latent = REGIONS[r].1
                    + if rural { 0.6 } else { -0.4 }
                    + psu_effect
                    + trend
                    + 0.7 * normal.sample(&mut rng);
                let size = 1 + (rng.gen::<f64>() * 3.0 + rng.gen::<f64>() * 4.0) as usize;
                let values: Vec<Option<i32>> = INDICATORS
                    .iter()
                    .map(|(_, threshold, missing)| {
                        if rng.gen::<f64>() < *missing {
                            None
                        } else {
                            Some(i32::from(
                                latent + 0.8 * normal.sample(&mut rng) > *threshold,
                            ))
                        }
                    })
                    .collect();
                for member in 0..size {
                    if persons >= per_round || hh_id.len() >= settings.rows {
                        break;
                    }
                    hh_id.push(household);
                    ind_id.push(household * 100 + member as i64 + 1);
                    t.push(round as i32 + 1);
                    year.push(2012.0 + 7.0 * round as f64);
                    strata.push(stratum);
                    psu.push(psu_id);
                    weight.push((psu_weight * 1e6_f64).round() / 1e6);
                    area.push(if rural { "rural" } else { "urban" });
                    region.push(REGIONS[r].0);
                    sex.push(if rng.gen::<bool>() { "female" } else { "male" });
                    for (j, v) in values.iter().enumerate() {
                        deprived[j].push(*v);
                    }
                    persons += 1;
                }
            }
            psu_no += 1;
        }
    }
    let mut columns = vec![
        Column::new("hh_id".into(), hh_id),
        Column::new("ind_id".into(), ind_id),
        Column::new("t".into(), t),
        Column::new("year".into(), year),
        Column::new("strata".into(), strata),
        Column::new("psu".into(), psu),
        Column::new("weight".into(), weight),
        Column::new("area".into(), area),
        Column::new("region".into(), region),
        Column::new("sex".into(), sex),
    ];
    for ((name, _, _), values) in INDICATORS.iter().zip(deprived) {
        columns.push(Column::new((*name).into(), values));
    }
    DataFrame::new_infer_height(columns).expect("columns of equal length")
}
