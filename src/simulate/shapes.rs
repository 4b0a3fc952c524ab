//! Files of the shapes of the field's largest jobs, for the benchmarks of scale: a shape, a
//! size and a seed in, person rows out (written in parts, so that any size fits in memory).
//!
//! - **survey**: a national survey estimated for districts, as India's NFHS-5 (2,818,810
//!   persons in 30,000 PSUs, 707 districts in 36 states). PSUs of about 94 persons (about
//!   22 households) nest in districts, districts in states; strata are state × area (72).
//!   Ten global-MPI deprivation columns with their missing values, one round.
//!   `benches/shapes/survey.toml` is its methodology.
//! - **census**: a census estimated for municipalities, as Colombia's of 2018 (44 million
//!   persons, 1,122 municipalities in 33 departments): no weight, no strata, no PSU;
//!   municipalities of very unequal size (a Zipf law), households of about 3.1 persons;
//!   fifteen deprivation columns with the names of Colombia's IPM. Rows come in the
//!   order of the geography, as census files do. `benches/shapes/census.toml`.
//!
//! Each PSU (survey) or municipality (census) draws from a random stream of its own, so
//! the file is the same however it is cut into parts, and the same seed gives the same
//! file. Subgroup labels are text, as offices write them: `S07`, `S07-D123`; a DIVIPOLA
//! like `05` and `05001`.

use polars::prelude::*;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use rand_distr::{Distribution, Normal};

/// The shapes there are.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Shape {
    Survey,
    Census,
}

impl Shape {
    /// The size of the job it stands for.
    pub fn default_rows(self) -> usize {
        match self {
            Shape::Survey => 2_818_810,
            Shape::Census => 44_000_000,
        }
    }

    /// The lower units (districts, municipalities) of the job it stands for.
    pub fn default_levels(self) -> usize {
        match self {
            Shape::Survey => DISTRICTS,
            Shape::Census => MUNICIPALITIES,
        }
    }

    /// The upper units (states, departments): the lower units nest in them.
    fn upper_units(self) -> usize {
        match self {
            Shape::Survey => STATES,
            Shape::Census => DEPARTMENTS,
        }
    }
}

/// The size of a file of a shape: its persons, and its lower units — the levels of its
/// finest subgroup column (districts of the survey, municipalities of the census), for
/// runs of many domains.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Size {
    pub rows: usize,
    pub levels: usize,
}

impl Size {
    /// `rows` persons in the shape's own number of lower units.
    pub fn rows(shape: Shape, rows: usize) -> Size {
        Size {
            rows,
            levels: shape.default_levels(),
        }
    }

    /// A size a file of the shape can have: persons, and at least as many lower units as
    /// upper units for them to nest in.
    fn check(self, shape: Shape) -> crate::Result<Size> {
        if self.rows == 0 {
            return Err(crate::Error::Usage(
                "--rows must be at least 1: a shape needs persons".into(),
            ));
        }
        let upper = shape.upper_units();
        if self.levels < upper {
            return Err(crate::Error::Usage(format!(
                "--levels must be at least {upper} for the {} shape: its lower units nest in {upper} upper units",
                format!("{shape:?}").to_lowercase()
            )));
        }
        Ok(self)
    }
}

/// NFHS-5's states and districts, and its persons per PSU.
const STATES: usize = 36;
const DISTRICTS: usize = 707;
const PERSONS_PER_PSU: f64 = 2_818_810.0 / 30_000.0;

/// Colombia's departments and municipalities.
const DEPARTMENTS: usize = 33;
const MUNICIPALITIES: usize = 1_122;

/// The census's fifteen indicators (Colombia's IPM) and their thresholds (higher = rarer).
pub const CENSUS_INDICATORS: [(&str, f64); 15] = [
    ("d_logro", -0.3),
    ("d_analf", 1.0),
    ("d_inasis", 1.3),
    ("d_rezago", 0.8),
    ("d_primin", 1.5),
    ("d_trabinf", 1.7),
    ("d_desem", 1.4),
    ("d_informal", -0.9),
    ("d_salud", 0.9),
    ("d_accsalud", 1.6),
    ("d_agua", 0.9),
    ("d_excretas", 1.0),
    ("d_pisos", 1.4),
    ("d_paredes", 1.8),
    ("d_hacin", 1.2),
];

/// Writes a file of this shape with `rows` persons, in parts of about `part_rows`
/// persons (whole PSUs or municipalities). Returns the persons written and the lower
/// units that have persons: fewer than asked when the persons are too few to fill them
/// (a survey's district needs a PSU; a census's smallest municipality rounds to none).
pub fn write(
    shape: Shape,
    size: Size,
    seed: u64,
    path: &std::path::Path,
    part_rows: usize,
) -> crate::Result<(usize, usize)> {
    let size = size.check(shape)?;
    match shape {
        Shape::Survey => {
            let plan = SurveyPlan::new(size);
            let mut frames = parts(&plan.psus(), part_rows.max(1))
                .into_iter()
                .map(|range| survey_part(&plan, range, seed));
            let persons = crate::output::write_frames(path, &mut frames)?;
            Ok((persons, plan.psus.min(size.levels)))
        }
        Shape::Census => {
            let plan = CensusPlan::new(size);
            let mut frames = parts(&plan.persons, part_rows.max(1))
                .into_iter()
                .map(|range| census_part(&plan, range, seed));
            let persons = crate::output::write_frames(path, &mut frames)?;
            Ok((persons, plan.persons.iter().filter(|&&n| n > 0).count()))
        }
    }
}

/// The frame of a whole file of this shape (for tests and benches).
pub fn frame(shape: Shape, size: Size, seed: u64) -> DataFrame {
    match shape {
        Shape::Survey => {
            let plan = SurveyPlan::new(size);
            let n = plan.psus().len();
            survey_part(&plan, 0..n, seed)
        }
        Shape::Census => {
            let plan = CensusPlan::new(size);
            let n = plan.persons.len();
            census_part(&plan, 0..n, seed)
        }
    }
}

/// Consecutive units (their persons given) grouped into parts of at least `part_rows`
/// persons, the last part taking what is left.
fn parts(persons: &[usize], part_rows: usize) -> Vec<std::ops::Range<usize>> {
    let mut parts = Vec::new();
    let (mut start, mut in_part) = (0, 0);
    for (u, n) in persons.iter().enumerate() {
        in_part += n;
        if in_part >= part_rows {
            parts.push(start..u + 1);
            (start, in_part) = (u + 1, 0);
        }
    }
    if start < persons.len() || parts.is_empty() {
        parts.push(start..persons.len());
    }
    parts
}

/// A unit's own random stream: the seed and the unit's number.
fn stream(seed: u64, unit: usize) -> ChaCha8Rng {
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    rng.set_stream(unit as u64 + 1);
    rng
}

/// `total` split into `n` whole parts as evenly as can be.
fn even_split(total: usize, n: usize, i: usize) -> usize {
    (i + 1) * total / n - i * total / n
}

/// A standard normal draw.
fn normal(rng: &mut ChaCha8Rng) -> f64 {
    Normal::new(0.0, 1.0).expect("standard normal").sample(rng)
}

/// Where each PSU of the survey lies.
struct SurveyPlan {
    rows: usize,
    psus: usize,
    /// Each district's state.
    state_of_district: Vec<usize>,
}

impl SurveyPlan {
    fn new(Size { rows, levels }: Size) -> SurveyPlan {
        let psus = ((rows as f64 / PERSONS_PER_PSU).round() as usize).clamp(1, rows.max(1));
        // States of unequal numbers of districts (3 to 36 of NFHS-5's 707).
        let sizes: Vec<f64> = (0..STATES).map(|s| 1.0 + ((s * 7) % 11) as f64).collect();
        let total: f64 = sizes.iter().sum();
        let mut state_of_district = Vec::with_capacity(levels);
        let mut cumulative = 0.0;
        for (s, size) in sizes.iter().enumerate() {
            cumulative += size;
            let end = ((cumulative / total) * levels as f64).round() as usize;
            let end = end.max(state_of_district.len() + 1);
            state_of_district.resize(end, s);
        }
        state_of_district.truncate(levels);
        SurveyPlan {
            rows,
            psus,
            state_of_district,
        }
    }

    /// Persons per PSU.
    fn psus(&self) -> Vec<usize> {
        (0..self.psus)
            .map(|p| even_split(self.rows, self.psus, p))
            .collect()
    }

    /// PSUs lie in districts in order, as many in each as can be (a district without
    /// a PSU has no persons: a survey of fewer PSUs than districts).
    fn district_of_psu(&self, p: usize) -> usize {
        p * self.state_of_district.len() / self.psus
    }
}

/// The survey's columns, filled person by person.
#[derive(Default)]
struct SurveyRows {
    hh_id: Vec<i64>,
    ind_id: Vec<i64>,
    strata: Vec<i64>,
    psu: Vec<i64>,
    weight: Vec<f64>,
    area: Vec<&'static str>,
    state: Vec<String>,
    district: Vec<String>,
    deprived: Vec<Vec<Option<i32>>>,
}

/// PSUs `range` of the survey.
fn survey_part(plan: &SurveyPlan, range: std::ops::Range<usize>, seed: u64) -> DataFrame {
    let effects = Effects::new(seed, STATES, plan.state_of_district.len());
    let mut rows = SurveyRows {
        deprived: vec![Vec::new(); super::INDICATORS.len()],
        ..SurveyRows::default()
    };
    for p in range {
        let mut rng = stream(seed, p);
        let district = plan.district_of_psu(p);
        let state = plan.state_of_district[district];
        let rural = rng.gen::<f64>() < 0.65;
        let psu_effect = 0.3 * normal(&mut rng);
        let weight = (if rural { 1.3 } else { 0.8 })
            * (0.5 + effects.upper[state].abs())
            * (0.7 + 0.6 * rng.gen::<f64>());
        let weight = (weight * 1e6).round() / 1e6;
        let state_label = format!("S{:02}", state + 1);
        let district_label = format!("S{:02}-D{:03}", state + 1, district + 1);
        let mut left = even_split(plan.rows, plan.psus, p);
        let mut h = 0i64;
        while left > 0 {
            let size = (1 + (rng.gen::<f64>() * 3.5 + rng.gen::<f64>() * 3.5) as usize).min(left);
            let latent = effects.upper[state]
                + effects.lower[district]
                + psu_effect
                + if rural { 0.6 } else { -0.4 }
                + 0.7 * normal(&mut rng);
            let values: Vec<Option<i32>> = super::INDICATORS
                .iter()
                .map(|(_, threshold, missing)| {
                    let deprived = latent + 0.8 * normal(&mut rng) > *threshold;
                    (rng.gen::<f64>() >= *missing).then_some(i32::from(deprived))
                })
                .collect();
            let household = (p as i64 + 1) * 1_000 + h;
            for member in 0..size {
                rows.hh_id.push(household);
                rows.ind_id.push(household * 100 + member as i64 + 1);
                rows.strata.push((state as i64 + 1) * 10 + i64::from(rural));
                rows.psu.push(p as i64 + 1);
                rows.weight.push(weight);
                rows.area.push(if rural { "rural" } else { "urban" });
                rows.state.push(state_label.clone());
                rows.district.push(district_label.clone());
                for (j, v) in values.iter().enumerate() {
                    rows.deprived[j].push(*v);
                }
            }
            left -= size;
            h += 1;
        }
    }
    let mut columns = vec![
        Column::new("hh_id".into(), rows.hh_id),
        Column::new("ind_id".into(), rows.ind_id),
        Column::new("strata".into(), rows.strata),
        Column::new("psu".into(), rows.psu),
        Column::new("weight".into(), rows.weight),
        Column::new("area".into(), rows.area),
        Column::new("state".into(), rows.state),
        Column::new("district".into(), rows.district),
    ];
    for ((name, _, _), values) in super::INDICATORS.iter().zip(rows.deprived) {
        columns.push(Column::new((*name).into(), values));
    }
    DataFrame::new_infer_height(columns).expect("columns of equal length")
}

/// The regional effects on the latent level of poverty: one draw per upper unit (state,
/// department) and per lower unit (district, municipality), from a stream of their own.
struct Effects {
    upper: Vec<f64>,
    lower: Vec<f64>,
}

impl Effects {
    fn new(seed: u64, upper: usize, lower: usize) -> Effects {
        let mut rng = stream(seed, usize::MAX - 1);
        let upper = (0..upper).map(|_| 0.6 * normal(&mut rng)).collect();
        let lower = (0..lower).map(|_| 0.35 * normal(&mut rng)).collect();
        Effects { upper, lower }
    }
}

/// The census's municipalities: their persons, department and size rank.
struct CensusPlan {
    /// Persons per municipality, in file order (by department, then municipality).
    persons: Vec<usize>,
    /// Each municipality's department, in file order.
    department: Vec<usize>,
    /// Each municipality's number within its department (1, 2, …).
    number: Vec<usize>,
    /// Each municipality's share of the census (for its urban share).
    share: Vec<f64>,
}

impl CensusPlan {
    fn new(Size { rows, levels }: Size) -> CensusPlan {
        // Size rank r has a share proportional to 1 / (r + 2)^0.9; department r mod 33, so
        // that each department has its capital among the largest.
        let zipf: Vec<f64> = (0..levels)
            .map(|r| 1.0 / ((r + 2) as f64).powf(0.9))
            .collect();
        let total: f64 = zipf.iter().sum();
        let mut order: Vec<usize> = (0..levels).collect();
        order.sort_by_key(|&r| (r % DEPARTMENTS, r));
        let mut persons = Vec::with_capacity(levels);
        let (mut cumulative, mut before) = (0.0, 0usize);
        for &r in &order {
            cumulative += zipf[r] / total;
            let upto = ((cumulative * rows as f64).round() as usize).min(rows);
            persons.push(upto - before);
            before = upto;
        }
        *persons.last_mut().expect("municipalities") += rows - before;
        let mut number = Vec::with_capacity(levels);
        for (i, &r) in order.iter().enumerate() {
            let first = i == 0 || order[i - 1] % DEPARTMENTS != r % DEPARTMENTS;
            number.push(if first { 1 } else { number[i - 1] + 1 });
        }
        CensusPlan {
            persons,
            department: order.iter().map(|r| r % DEPARTMENTS).collect(),
            number,
            share: order.iter().map(|&r| zipf[r] / total).collect(),
        }
    }
}

/// The census's columns, filled person by person.
#[derive(Default)]
struct CensusRows {
    hh_id: Vec<i64>,
    area: Vec<&'static str>,
    department: Vec<String>,
    municipality: Vec<String>,
    deprived: Vec<Vec<Option<i32>>>,
}

/// Municipalities `range` (in file order) of the census.
fn census_part(plan: &CensusPlan, range: std::ops::Range<usize>, seed: u64) -> DataFrame {
    let effects = Effects::new(seed, DEPARTMENTS, plan.persons.len());
    let mut rows = CensusRows {
        deprived: vec![Vec::new(); CENSUS_INDICATORS.len()],
        ..CensusRows::default()
    };
    for m in range {
        // Household ids within the municipality's own range, whatever the parts.
        let mut household = (m as i64 + 1) * 100_000_000;
        let mut rng = stream(seed, m);
        let department = plan.department[m];
        let department_label = format!("{:02}", department + 1);
        let municipality_label = format!("{department_label}{:03}", plan.number[m]);
        // Large municipalities are mostly urban; small ones mostly rural.
        let urban_share = (0.35 + 6.0 * plan.share[m]).min(0.97);
        let mut left = plan.persons[m];
        while left > 0 {
            let size = (1 + (rng.gen::<f64>() * 2.6 + rng.gen::<f64>() * 2.6) as usize).min(left);
            let rural = rng.gen::<f64>() >= urban_share;
            let latent = effects.upper[department]
                + effects.lower[m]
                + if rural { 0.7 } else { -0.3 }
                + 0.8 * normal(&mut rng);
            let values: Vec<i32> = CENSUS_INDICATORS
                .iter()
                .map(|(_, threshold)| i32::from(latent + 0.8 * normal(&mut rng) > *threshold))
                .collect();
            household += 1;
            for _ in 0..size {
                rows.hh_id.push(household);
                rows.area.push(if rural { "rural" } else { "urban" });
                rows.department.push(department_label.clone());
                rows.municipality.push(municipality_label.clone());
                for (j, v) in values.iter().enumerate() {
                    rows.deprived[j].push(Some(*v));
                }
            }
            left -= size;
        }
    }
    let mut columns = vec![
        Column::new("hh_id".into(), rows.hh_id),
        Column::new("area".into(), rows.area),
        Column::new("department".into(), rows.department),
        Column::new("municipality".into(), rows.municipality),
    ];
    for ((name, _), values) in CENSUS_INDICATORS.iter().zip(rows.deprived) {
        columns.push(Column::new((*name).into(), values));
    }
    DataFrame::new_infer_height(columns).expect("columns of equal length")
}

#[cfg(test)]
mod tests {
    use super::*;

    fn distinct(df: &DataFrame, column: &str) -> usize {
        df.column(column).unwrap().n_unique().unwrap()
    }

    #[test]
    fn the_survey_has_the_shape_of_nfhs() {
        let df = frame(Shape::Survey, Size::rows(Shape::Survey, 300_000), 7);
        assert_eq!(df.height(), 300_000);
        // 300,000 / 93.96 PSUs, each in one district of one state.
        assert_eq!(distinct(&df, "psu"), 3_193);
        assert_eq!(distinct(&df, "district"), DISTRICTS);
        assert_eq!(distinct(&df, "state"), STATES);
        assert_eq!(distinct(&df, "strata"), 2 * STATES);
        let psu_districts = df
            .clone()
            .lazy()
            .group_by([col("psu")])
            .agg([col("district").n_unique().alias("n")])
            .collect()
            .unwrap();
        assert_eq!(
            psu_districts
                .column("n")
                .unwrap()
                .as_materialized_series()
                .max::<u32>()
                .unwrap(),
            Some(1)
        );
    }

    #[test]
    fn the_census_has_the_shape_of_colombias() {
        let df = frame(Shape::Census, Size::rows(Shape::Census, 500_000), 7);
        assert_eq!(df.height(), 500_000);
        assert_eq!(distinct(&df, "department"), DEPARTMENTS);
        // Every municipality has persons at this size; the largest many times the median.
        assert_eq!(distinct(&df, "municipality"), MUNICIPALITIES);
        assert_eq!(df.width(), 4 + CENSUS_INDICATORS.len());
    }

    /// Many lower units: each of them has persons and lies in one upper unit; fewer
    /// lower than upper units is refused.
    #[test]
    fn a_shape_can_have_many_more_lower_units() {
        for (shape, rows, lower, upper) in [
            (Shape::Survey, 300_000, "district", "state"),
            (Shape::Census, 500_000, "municipality", "department"),
        ] {
            let size = Size {
                rows,
                levels: 3_000,
            };
            let df = frame(shape, size, 5);
            assert_eq!(df.height(), rows);
            assert_eq!(distinct(&df, lower), 3_000, "{shape:?}");
            let pairs = df
                .select([lower, upper])
                .unwrap()
                .unique_stable(None, UniqueKeepStrategy::First, None)
                .unwrap();
            assert_eq!(
                pairs.height(),
                3_000,
                "{shape:?}: a {lower} in two {upper}s"
            );
            let few = Size { rows, levels: 10 };
            let e = write(shape, few, 5, std::path::Path::new("x.parquet"), 1_000).unwrap_err();
            // Too few persons for the lower units asked: the count says how many have any.
            let path = std::env::temp_dir().join(format!("afmpi-levels-{shape:?}.parquet"));
            let many = Size {
                rows: 20_000,
                levels: 50_000,
            };
            let (persons, with_persons) = write(shape, many, 5, &path, 5_000).unwrap();
            let df = read_back(&path);
            assert_eq!(
                (persons, with_persons),
                (20_000, distinct(&df, lower)),
                "{shape:?}"
            );
            assert!(with_persons < 50_000);
            std::fs::remove_file(&path).unwrap();
            assert!(e.to_string().contains("--levels must be at least"), "{e}");
        }
    }

    /// A Parquet file written by a test, read back whole.
    fn read_back(path: &std::path::Path) -> DataFrame {
        LazyFrame::scan_parquet(
            PlRefPath::try_from_path(path).unwrap(),
            ScanArgsParquet::default(),
        )
        .unwrap()
        .collect()
        .unwrap()
    }

    #[test]
    fn parts_make_the_same_file_as_one_frame() {
        let dir = tempfile::tempdir().unwrap();
        for shape in [Shape::Survey, Shape::Census] {
            let path = dir.path().join("parts.parquet");
            let size = Size::rows(shape, 40_000);
            assert_eq!(write(shape, size, 3, &path, 5_000).unwrap().0, size.rows);
            let back = read_back(&path);
            assert!(back.equals_missing(&frame(shape, size, 3)), "{shape:?}");
        }
    }
}
