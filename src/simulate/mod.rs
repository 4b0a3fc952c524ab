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

pub mod shapes;

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
    /// Added to every PSU (and so household and person) id: surveys made in parts get
    /// ids of their own ([`write_survey`]).
    pub id_offset: i64,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            rows: 12_000,
            rounds: 2,
            households_per_psu: 12,
            seed: 20_260_601,
            id_offset: 0,
        }
    }
}

/// Makes the survey frame.
pub fn survey(settings: &Settings) -> DataFrame {
    let mut rng = ChaCha8Rng::seed_from_u64(settings.seed);
    let normal = Normal::new(0.0, 1.0).expect("standard normal");
    let rounds = settings.rounds.max(1);
    let per_round = settings.rows.div_ceil(rounds);

    let mut rows = Persons::with_capacity(settings.rows);
    for round in 0..rounds {
        let trend = -0.35 * round as f64;
        let mut persons = 0;
        let mut psu_no = 0u64;
        while persons < per_round && rows.hh_id.len() < settings.rows {
            // PSUs cycle through the strata: region × area.
            let r = (psu_no as usize) % REGIONS.len();
            let rural = !(psu_no / REGIONS.len() as u64).is_multiple_of(3);
            let stratum = (round as i64 + 1) * 100 + (r as i64) * 2 + i64::from(rural);
            let psu_id = settings.id_offset + (round as i64 + 1) * 1_000_000 + psu_no as i64;
            let psu_effect = 0.4 * normal.sample(&mut rng);
            let psu_weight = (if rural { 1.4 } else { 0.8 }) * (0.6 + 0.8 * rng.gen::<f64>());
            for h in 0..settings.households_per_psu {
                if persons >= per_round || rows.hh_id.len() >= settings.rows {
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
                    if persons >= per_round || rows.hh_id.len() >= settings.rows {
                        break;
                    }
                    rows.hh_id.push(household);
                    rows.ind_id.push(household * 100 + member as i64 + 1);
                    rows.t.push(round as i32 + 1);
                    rows.year.push(2012.0 + 7.0 * round as f64);
                    rows.strata.push(stratum);
                    rows.psu.push(psu_id);
                    rows.weight.push((psu_weight * 1e6_f64).round() / 1e6);
                    rows.area.push(if rural { "rural" } else { "urban" });
                    rows.region.push(REGIONS[r].0);
                    rows.sex
                        .push(if rng.gen::<bool>() { "female" } else { "male" });
                    for (j, v) in values.iter().enumerate() {
                        rows.deprived[j].push(*v);
                    }
                    persons += 1;
                }
            }
            psu_no += 1;
        }
    }
    rows.frame()
}

/// The survey's columns, filled person by person.
struct Persons {
    hh_id: Vec<i64>,
    ind_id: Vec<i64>,
    t: Vec<i32>,
    year: Vec<f64>,
    strata: Vec<i64>,
    psu: Vec<i64>,
    weight: Vec<f64>,
    area: Vec<&'static str>,
    region: Vec<&'static str>,
    sex: Vec<&'static str>,
    deprived: Vec<Vec<Option<i32>>>,
}

impl Persons {
    fn with_capacity(n: usize) -> Persons {
        Persons {
            hh_id: Vec::with_capacity(n),
            ind_id: Vec::with_capacity(n),
            t: Vec::with_capacity(n),
            year: Vec::with_capacity(n),
            strata: Vec::with_capacity(n),
            psu: Vec::with_capacity(n),
            weight: Vec::with_capacity(n),
            area: Vec::with_capacity(n),
            region: Vec::with_capacity(n),
            sex: Vec::with_capacity(n),
            deprived: vec![Vec::with_capacity(n); INDICATORS.len()],
        }
    }

    fn frame(self) -> DataFrame {
        let mut columns = vec![
            Column::new("hh_id".into(), self.hh_id),
            Column::new("ind_id".into(), self.ind_id),
            Column::new("t".into(), self.t),
            Column::new("year".into(), self.year),
            Column::new("strata".into(), self.strata),
            Column::new("psu".into(), self.psu),
            Column::new("weight".into(), self.weight),
            Column::new("area".into(), self.area),
            Column::new("region".into(), self.region),
            Column::new("sex".into(), self.sex),
        ];
        for ((name, _, _), values) in INDICATORS.iter().zip(self.deprived) {
            columns.push(Column::new((*name).into(), values));
        }
        DataFrame::new_infer_height(columns).expect("columns of equal length")
    }
}

/// Persons per part of a survey written in parts.
pub const PART_ROWS: usize = 1 << 22;

/// Writes a survey of any size to a CSV or Parquet file in parts of `part_rows` persons
/// ([`PART_ROWS`] from the command line), so that memory holds one part: part p has its
/// own seed (the seed plus p) and ids (PSU ids offset by p × 10^8), each with every
/// round. A survey of one part is [`survey`] itself. Returns the persons written.
pub fn write_survey(
    settings: &Settings,
    path: &std::path::Path,
    part_rows: usize,
) -> crate::Result<usize> {
    let part_rows = part_rows.max(1);
    let parts = settings.rows.div_ceil(part_rows).max(1);
    let mut frames = (0..parts).map(|p| {
        let rows = if p + 1 == parts {
            settings.rows - p * part_rows
        } else {
            part_rows
        };
        survey(&Settings {
            rows,
            seed: settings.seed.wrapping_add(p as u64),
            id_offset: settings.id_offset + p as i64 * 100_000_000,
            ..settings.clone()
        })
    });
    crate::output::write_frames(path, &mut frames)
}

// ---------------------------------------------------------------------------------------
// A raw survey: person rows with the harmonized variables of data/variables.md.

/// Draws true with probability logistic(x).
fn chance(rng: &mut ChaCha8Rng, x: f64) -> bool {
    rng.gen::<f64>() < 1.0 / (1.0 + (-x).exp())
}

fn pick<T: Copy>(rng: &mut ChaCha8Rng, options: &[T]) -> T {
    options[rng.gen_range(0..options.len())]
}

/// One household's living conditions (household-level variables).
struct Dwelling {
    electricity: i32,
    water_source: i32,
    water_minutes: i32,
    toilet: i32,
    toilet_shared: i32,
    floor: i32,
    walls: i32,
    roof: i32,
    cooking_fuel: i32,
    assets: [i32; 9],
    rooms: i32,
    other: [i32; 10],
    income_pc: f64,
}

/// Household-level 0/1 variables besides the assets, in this order.
pub const HOUSEHOLD_FLAGS: [&str; 10] = [
    "internet",
    "garbage_collection",
    "tenure_secure",
    "food_insecure",
    "no_support_network",
    "discriminated",
    "insecurity_exposed",
    "no_public_space",
    "crime_victim",
    "insecurity_restrictions",
];

/// Assets, in this order.
pub const ASSETS: [&str; 9] = [
    "radio",
    "tv",
    "phone",
    "computer",
    "animal_cart",
    "bicycle",
    "motorbike",
    "fridge",
    "car",
];

/// One member's variables.
#[derive(Clone, Copy, Default)]
struct Member {
    age: i32,
    female: bool,
    years_schooling: Option<i32>,
    attending: Option<i32>,
    literate: Option<i32>,
    undernourished: Option<i32>,
    child_deaths: Option<i32>,
    child_deaths_5y: Option<i32>,
    health_insurance: i32,
    health_access_barrier: i32,
    employed: Option<i32>,
    unemployed_months: Option<i32>,
    underemployed: Option<i32>,
    pension_contrib: Option<i32>,
    pension_receives: Option<i32>,
    child_labour: Option<i32>,
    env_risk: i32,
}

fn dwelling(rng: &mut ChaCha8Rng, normal: &Normal<f64>, latent: f64, size: i32) -> Dwelling {
    let draw = |rng: &mut ChaCha8Rng, shift: f64| latent + shift + 0.8 * normal.sample(rng);
    let water_draw = draw(rng, 0.0);
    let (water_source, water_minutes) = if water_draw > 0.9 {
        (pick(rng, &[32, 42, 43, 61]), 20 + rng.gen_range(0..60))
    } else if water_draw > -0.1 {
        (pick(rng, &[13, 21, 31, 41]), 5 + rng.gen_range(0..40))
    } else {
        (pick(rng, &[11, 12]), 0)
    };
    let toilet_draw = draw(rng, 0.0);
    let toilet = if toilet_draw > 0.5 {
        pick(rng, &[14, 23, 31, 42, 43])
    } else if toilet_draw > -0.4 {
        pick(rng, &[13, 21, 22, 41])
    } else {
        pick(rng, &[11, 12])
    };
    let floor = if draw(rng, -0.3) > 0.4 {
        pick(rng, &[11, 12])
    } else {
        pick(rng, &[21, 33, 34, 35])
    };
    let walls = if draw(rng, -0.6) > 0.9 {
        pick(rng, &[12, 13, 23, 25, 26])
    } else {
        pick(rng, &[31, 33, 34, 35])
    };
    let roof = if draw(rng, -0.6) > 1.0 {
        pick(rng, &[12, 22, 24])
    } else {
        pick(rng, &[31, 33, 34, 35])
    };
    let cooking_fuel = if draw(rng, 0.3) > 0.0 {
        pick(rng, &[7, 8, 8, 9, 11])
    } else {
        pick(rng, &[1, 2, 2, 3, 5])
    };
    let electricity = i32::from(draw(rng, -0.2) <= 0.3);
    let ownership = [0.6, 0.7, 1.4, -0.6, -1.2, 0.2, -0.4, 0.3, -1.6];
    let mut assets = [0; 9];
    for (a, base) in assets.iter_mut().zip(ownership) {
        *a = i32::from(chance(rng, base - 1.1 * latent));
    }
    let rooms = (1 + (size as f64 / (2.2 - 0.5 * latent).max(0.8)) as i32 / 2).max(1);
    let other_base = [-0.5, 0.8, 1.2, -1.8, -2.2, -2.6, -1.8, -1.6, -2.4, -2.2];
    let other_slope = [-1.3, -1.0, -0.6, 1.0, 0.5, 0.4, 0.3, 0.6, 0.2, 0.3];
    let mut other = [0; 10];
    for (o, (b, s)) in other.iter_mut().zip(other_base.iter().zip(other_slope)) {
        *o = i32::from(chance(rng, b + s * latent));
    }
    let toilet_shared = i32::from(toilet != 11 && chance(rng, -1.6 + 0.5 * latent));
    let income_pc = (6.0 - 0.7 * latent + 0.5 * normal.sample(rng))
        .exp()
        .round();
    Dwelling {
        electricity,
        water_source,
        water_minutes,
        toilet,
        toilet_shared,
        floor,
        walls,
        roof,
        cooking_fuel,
        assets,
        rooms,
        other,
        income_pc,
    }
}

fn member(rng: &mut ChaCha8Rng, normal: &Normal<f64>, latent: f64, position: usize) -> Member {
    let age = match position {
        0 => 22 + rng.gen_range(0..48),
        1 => 18 + rng.gen_range(0..45),
        _ if rng.gen::<f64>() < 0.1 => 60 + rng.gen_range(0..30),
        _ => rng.gen_range(0..19),
    };
    let female = if position == 1 {
        true
    } else {
        rng.gen::<bool>()
    };
    let missing = |rng: &mut ChaCha8Rng, p: f64| rng.gen::<f64>() < p;
    let mut m = Member {
        age,
        female,
        ..Member::default()
    };
    if age >= 5 {
        let ideal = (age - 6).clamp(0, 16) as f64;
        let years = (ideal.min(10.0 - 3.0 * latent + 2.5 * normal.sample(rng)))
            .round()
            .clamp(0.0, ideal.max(0.0));
        m.years_schooling = (!missing(rng, 0.03)).then_some(years as i32);
    }
    if (3..=29).contains(&age) {
        let push = if age > 14 {
            -0.35 * (age - 14) as f64
        } else {
            0.0
        };
        m.attending =
            (!missing(rng, 0.03)).then(|| i32::from(chance(rng, 2.6 - 1.1 * latent + push)));
    }
    if age >= 15 {
        m.literate = Some(i32::from(
            m.years_schooling.unwrap_or(0) >= 4 || chance(rng, -0.5 - latent),
        ));
    }
    if age < 5 || (female && (15..=49).contains(&age)) {
        m.undernourished =
            (!missing(rng, 0.15)).then(|| i32::from(chance(rng, -1.6 + 0.9 * latent)));
    }
    if female && (15..=49).contains(&age) {
        let died = chance(rng, -2.0 + 0.8 * latent);
        let recent = died && chance(rng, -0.3);
        m.child_deaths = Some(i32::from(died) + i32::from(died && chance(rng, -1.5)));
        m.child_deaths_5y = Some(i32::from(recent));
    }
    m.health_insurance = i32::from(chance(rng, 2.2 - 0.8 * latent));
    m.health_access_barrier = i32::from(chance(rng, -3.0 + 0.6 * latent));
    if (15..=64).contains(&age) {
        let employed = chance(rng, 1.4 - 0.2 * latent);
        m.employed = Some(i32::from(employed));
        m.unemployed_months = (!employed && chance(rng, -0.3)).then(|| 1 + rng.gen_range(0..24));
        m.underemployed = Some(i32::from(employed && chance(rng, -2.0 + 0.5 * latent)));
        m.pension_contrib = employed.then(|| i32::from(chance(rng, 1.2 - 1.0 * latent)));
    }
    if age >= 65 {
        m.pension_receives = Some(i32::from(chance(rng, 0.3 - 1.0 * latent)));
    }
    if (5..=17).contains(&age) {
        m.child_labour = Some(i32::from(chance(
            rng,
            -2.8 + 1.0 * latent + 0.15 * (age - 10) as f64,
        )));
    }
    m.env_risk = i32::from(chance(rng, -3.0 + 0.4 * latent));
    m
}

/// The global MPI's (2018) ten deprivations of a household, computed here directly from
/// the members and the dwelling, independently of the rule engine: the example survey's
/// `d_*` columns, so that the methodology written as rules can be checked against them.
fn global_mpi_2018(members: &[Member], d: &Dwelling) -> [Option<bool>; 10] {
    // Child mortality: a child died in the last five years (women with a birth history).
    let women: Vec<i32> = members.iter().filter_map(|m| m.child_deaths_5y).collect();
    let d_cm = Some(women.iter().any(|&x| x > 0));
    // Nutrition: anyone under 70 with data undernourished.
    let measured: Vec<i32> = members
        .iter()
        .filter(|m| m.age < 70)
        .filter_map(|m| m.undernourished)
        .collect();
    let d_nutr = Some(measured.contains(&1));
    // School attendance, ages 6-14, two-thirds rule.
    let school: Vec<Option<i32>> = members
        .iter()
        .filter(|m| (6..=14).contains(&m.age))
        .map(|m| m.attending)
        .collect();
    let d_satt = if school.is_empty() {
        Some(false)
    } else if school.contains(&Some(0)) {
        Some(true)
    } else if two_thirds_observed(&school) {
        Some(false)
    } else {
        None
    };
    // Years of schooling: nobody aged 10+ has six years; two-thirds rule.
    let adults: Vec<Option<i32>> = members
        .iter()
        .filter(|m| m.age >= 10)
        .map(|m| m.years_schooling)
        .collect();
    let d_educ = if adults.is_empty() || adults.iter().any(|y| y.is_some_and(|y| y >= 6)) {
        Some(false)
    } else if two_thirds_observed(&adults) {
        Some(true)
    } else {
        None
    };
    let d_elct = d.electricity == 0;
    let d_sani = [14, 23, 31, 42, 43].contains(&d.toilet) || d.toilet_shared == 1;
    let d_wtr = [32, 42, 43, 61].contains(&d.water_source) || d.water_minutes >= 30;
    let d_hsg = [11, 12].contains(&d.floor)
        || [11, 12, 13, 21, 22, 23, 24].contains(&d.roof)
        || [11, 12, 13, 21, 22, 23, 24, 25, 26].contains(&d.walls);
    let d_ckfl = [6, 7, 8, 9, 10, 11].contains(&d.cooking_fuel);
    let small: i32 = d.assets[..8].iter().sum();
    let d_asst = small <= 1 && d.assets[8] == 0;
    [
        d_cm,
        d_nutr,
        d_satt,
        d_educ,
        Some(d_elct),
        Some(d_sani),
        Some(d_wtr),
        Some(d_hsg),
        Some(d_ckfl),
        Some(d_asst),
    ]
}

/// Whether at least two thirds of the eligible members have data (OPHI's rule).
fn two_thirds_observed<T>(values: &[Option<T>]) -> bool {
    values.iter().filter(|v| v.is_some()).count() as f64 / values.len() as f64 >= 2.0 / 3.0
}

/// The global MPI's indicator columns, in the order of [`global_mpi_2018`].
pub const GLOBAL_MPI_COLUMNS: [&str; 10] = [
    "d_cm", "d_nutr", "d_satt", "d_educ", "d_elct", "d_sani", "d_wtr", "d_hsg", "d_ckfl", "d_asst",
];

/// Makes a raw survey: one row per person, about `settings.rows` rows, one round.
/// The integer columns of the raw survey, before the assets, the household flags and
/// the global MPI's columns.
const INT_NAMES: [&str; 27] = [
    "hh_size",
    "rooms",
    "age",
    "years_schooling",
    "attending",
    "literate",
    "undernourished",
    "child_deaths",
    "child_deaths_5y",
    "health_insurance",
    "health_access_barrier",
    "employed",
    "unemployed_months",
    "underemployed",
    "pension_contrib",
    "pension_receives",
    "child_labour",
    "env_risk",
    "electricity",
    "water_source",
    "water_minutes",
    "toilet",
    "toilet_shared",
    "floor",
    "walls",
    "roof",
    "cooking_fuel",
];

pub fn raw_survey(settings: &Settings) -> DataFrame {
    let mut rng = ChaCha8Rng::seed_from_u64(settings.seed);
    let normal = Normal::new(0.0, 1.0).expect("standard normal");
    let mut rows = RawRows {
        ints: int_columns().map(|_| Vec::new()).collect(),
        ..RawRows::default()
    };
    let mut psu_no = 0i64;
    while rows.hh_id.len() < settings.rows {
        let r = (psu_no as usize) % REGIONS.len();
        let rural = (psu_no / REGIONS.len() as i64) % 3 != 0;
        let psu_effect = 0.4 * normal.sample(&mut rng);
        let psu_weight =
            ((if rural { 1.4 } else { 0.8 }) * (0.6 + 0.8 * rng.gen::<f64>()) * 1e6).round() / 1e6;
        for h in 0..settings.households_per_psu {
            if rows.hh_id.len() >= settings.rows {
                break;
            }
            let latent = REGIONS[r].1
                + if rural { 0.6 } else { -0.4 }
                + psu_effect
                + 0.7 * normal.sample(&mut rng);
            let size = 1 + (rng.gen::<f64>() * 3.0 + rng.gen::<f64>() * 4.0) as usize;
            let d = dwelling(&mut rng, &normal, latent, size as i32);
            let members: Vec<Member> = (0..size)
                .map(|p| member(&mut rng, &normal, latent, p))
                .collect();
            let mpi = global_mpi_2018(&members, &d);
            let household = (psu_no + 1) * 100 + h as i64;
            for (p, m) in members.iter().enumerate() {
                rows.hh_id.push(household);
                rows.line.push(p as i32 + 1);
                rows.strata.push((r as i32 + 1) * 10 + i32::from(rural));
                rows.psu.push(psu_no + 1);
                rows.weight.push(psu_weight);
                rows.area.push(if rural { "rural" } else { "urban" });
                rows.region.push(REGIONS[r].0);
                rows.sex.push(if m.female { "female" } else { "male" });
                rows.income.push(d.income_pc);
                let values = member_values(m, &d, size, &mpi);
                for (column, v) in rows.ints.iter_mut().zip(values) {
                    column.push(v);
                }
            }
        }
        psu_no += 1;
    }
    rows.frame()
}

/// The raw survey's columns, filled person by person.
#[derive(Default)]
struct RawRows {
    hh_id: Vec<i64>,
    line: Vec<i32>,
    strata: Vec<i32>,
    psu: Vec<i64>,
    weight: Vec<f64>,
    area: Vec<&'static str>,
    region: Vec<&'static str>,
    sex: Vec<&'static str>,
    income: Vec<f64>,
    /// The integer columns, in the order of [`int_columns`].
    ints: Vec<Vec<Option<i32>>>,
}

/// The names of the raw survey's integer columns, in order.
fn int_columns() -> impl Iterator<Item = &'static str> {
    INT_NAMES
        .iter()
        .chain(ASSETS.iter())
        .chain(HOUSEHOLD_FLAGS.iter())
        .chain(GLOBAL_MPI_COLUMNS.iter())
        .copied()
}

impl RawRows {
    fn frame(self) -> DataFrame {
        let n = self.hh_id.len();
        let mut columns = vec![
            Column::new("hh_id".into(), self.hh_id),
            Column::new("line".into(), self.line),
            Column::new("t".into(), vec![1i32; n]),
            Column::new("year".into(), vec![2024i32; n]),
            Column::new("strata".into(), self.strata),
            Column::new("psu".into(), self.psu),
            Column::new("weight".into(), self.weight),
            Column::new("area".into(), self.area),
            Column::new("region".into(), self.region),
            Column::new("sex".into(), self.sex),
            Column::new("income_pc".into(), self.income),
        ];
        for (name, values) in int_columns().zip(self.ints) {
            columns.push(Column::new(name.into(), values));
        }
        DataFrame::new(n, columns).expect("columns of equal length")
    }
}

/// A person's integer columns: the member's, the dwelling's, the household's flags and
/// the global MPI's deprivations.
fn member_values(m: &Member, d: &Dwelling, size: usize, mpi: &[Option<bool>]) -> Vec<Option<i32>> {
    let mut values: Vec<Option<i32>> = vec![
        Some(size as i32),
        Some(d.rooms),
        Some(m.age),
        m.years_schooling,
        m.attending,
        m.literate,
        m.undernourished,
        m.child_deaths,
        m.child_deaths_5y,
        Some(m.health_insurance),
        Some(m.health_access_barrier),
        m.employed,
        m.unemployed_months,
        m.underemployed,
        m.pension_contrib,
        m.pension_receives,
        m.child_labour,
        Some(m.env_risk),
        Some(d.electricity),
        Some(d.water_source),
        Some(d.water_minutes),
        Some(d.toilet),
        Some(d.toilet_shared),
        Some(d.floor),
        Some(d.walls),
        Some(d.roof),
        Some(d.cooking_fuel),
    ];
    values.extend(d.assets.iter().map(|&a| Some(a)));
    values.extend(d.other.iter().map(|&a| Some(a)));
    values.extend(mpi.iter().map(|v| v.map(i32::from)));
    values
}
