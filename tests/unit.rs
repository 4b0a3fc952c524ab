//! The unit of analysis (`[survey] unit = "household"`): each household counted once with
//! its weight. Checked by hand on three households, and against a run on persons of a
//! file cut down to one row per household, estimate by estimate.

mod common;

use std::path::Path;

use approx::assert_relative_eq;
use polars::prelude::*;

use afmpi::measures::Measure;
use afmpi::methodology::{SurveyColumns, Unit};
use afmpi::{analyse_frame, Analysis};

fn three_households() -> DataFrame {
    // hh 1: two persons, weight 1, deprived in a and b; hh 2: three persons, weight 2,
    // deprived in nothing; hh 3: one person, weight 1, deprived in everything.
    df!(
        "hh" => [1, 1, 2, 2, 2, 3],
        "w" => [1.0, 1.0, 2.0, 2.0, 2.0, 1.0],
        "a" => [1, 1, 0, 0, 0, 1],
        "b" => [1, 1, 0, 0, 0, 1],
        "c" => [0, 0, 0, 0, 0, 1],
    )
    .unwrap()
}

fn methodology() -> afmpi::methodology::Methodology {
    afmpi::methodology::from_toml(
        "name = \"t\"\ncutoffs = [\"1/3\"]\n[[dimension]]\nname = \"d\"\n\
         [[dimension.indicator]]\ncolumn = \"a\"\n[[dimension.indicator]]\ncolumn = \"b\"\n\
         [[dimension.indicator]]\ncolumn = \"c\"\n",
    )
    .unwrap()
}

fn run(df: &DataFrame, survey: &SurveyColumns) -> Analysis {
    analyse_frame(
        df,
        &methodology(),
        survey,
        &Default::default(),
        Path::new("t.csv"),
    )
    .unwrap()
}

fn national(a: &Analysis, measure: Measure) -> (f64, f64) {
    let i = a
        .estimates
        .iter()
        .position(|e| e.measure == measure && e.indicator.is_none() && e.cutoff == Some(0))
        .unwrap();
    (a.estimates[i].b, a.inference.levels[i].se)
}

/// Persons: H = (2 + 1)/(2 + 6 + 1) = 1/3. Households: H = (1 + 1)/(1 + 2 + 1) = 1/2,
/// A = (2/3 + 1)/2 = 5/6, M0 = 5/12. Each household its own PSU (no PSU column), n = 3:
/// z_i = w_i (y_i - H)/W = (1/8, -1/4, 1/8), var(H) = 3/2 × Σ z_i² = 9/64, se = 3/8.
#[test]
fn households_counted_once_by_hand() {
    let df = three_households();
    let persons = SurveyColumns {
        weight: Some("w".into()),
        household: Some("hh".into()),
        ..Default::default()
    };
    let households = SurveyColumns {
        unit: Some(Unit::Household),
        ..persons.clone()
    };
    assert_relative_eq!(national(&run(&df, &persons), Measure::H).0, 1.0 / 3.0);
    let a = run(&df, &households);
    assert_eq!(a.report.households, Some(3));
    assert_eq!(a.report.rows_used, 6);
    assert_eq!(a.sample.weights.len(), 3);
    let (h, se) = national(&a, Measure::H);
    assert_relative_eq!(h, 0.5, max_relative = 1e-15);
    assert_relative_eq!(se, 3.0 / 8.0, max_relative = 1e-12);
    assert_relative_eq!(national(&a, Measure::A).0, 5.0 / 6.0, max_relative = 1e-15);
    assert_relative_eq!(
        national(&a, Measure::M0).0,
        5.0 / 12.0,
        max_relative = 1e-15
    );
}

/// A household's rows must agree: a weight that differs is an error naming both rows.
#[test]
fn rows_of_a_household_that_differ_are_an_error() {
    let mut df = three_households();
    df.replace("w", Column::new("w".into(), [1.0, 1.0, 2.0, 2.5, 2.0, 1.0]))
        .unwrap();
    let survey = SurveyColumns {
        weight: Some("w".into()),
        household: Some("hh".into()),
        unit: Some(Unit::Household),
        ..Default::default()
    };
    let Err(e) = analyse_frame(
        &df,
        &methodology(),
        &survey,
        &Default::default(),
        Path::new("t.csv"),
    ) else {
        panic!("rows of one household with two weights were accepted");
    };
    let e = e.to_string();
    assert!(
        e.contains("column `hh`, row 4")
            && e.contains("rows 3 and 4 of household 2 differ in the weight (2 and 2.5)"),
        "{e}"
    );
}

/// The example survey as households (its deprivations, weights, design and areas are
/// the same for a household's members) gives what persons give on the file cut down to
/// the first row of each household: every estimate, standard error and change.
#[test]
fn households_of_the_example_are_its_first_rows_as_persons() {
    let m = afmpi::methodology::from_file(Path::new("data/global-mpi.toml")).unwrap();
    let df = common::read_csv(Path::new("data/example.csv"));
    // The first row of each household, worked out here.
    let ids: Vec<Option<i64>> = df
        .column("hh_id")
        .unwrap()
        .cast(&DataType::Int64)
        .unwrap()
        .i64()
        .unwrap()
        .iter()
        .collect();
    let mut seen = std::collections::HashSet::new();
    let first: Vec<bool> = ids.iter().map(|id| seen.insert(*id)).collect();
    let first_rows = df
        .filter(&BooleanChunked::from_slice("first".into(), &first))
        .unwrap();
    assert_eq!(first_rows.height(), 3015);
    let mut persons = m.survey.clone();
    persons.round = Some("t".into());
    persons.year = Some("year".into());
    persons.over = vec!["area".into(), "region".into()];
    let households = SurveyColumns {
        household: Some("hh_id".into()),
        unit: Some(Unit::Household),
        ..persons.clone()
    };
    let file = Path::new("data/example.csv");
    let settings = Default::default();
    let a = analyse_frame(&df, &m, &households, &settings, file).unwrap();
    let b = analyse_frame(&first_rows, &m, &persons, &settings, file).unwrap();
    // Households whose rows all miss an indicator are dropped, as their first rows are.
    assert_eq!(a.report.households, Some(b.report.rows_used));
    assert!(b.report.rows_used > 2800);
    assert_eq!(a.estimates.len(), b.estimates.len());
    for (i, (x, y)) in a.estimates.iter().zip(&b.estimates).enumerate() {
        assert_eq!(
            common::estimate_key(&a, i),
            common::estimate_key(&b, i),
            "estimate {i}"
        );
        assert_relative_eq!(x.b, y.b, max_relative = 1e-12);
        let (p, q) = (a.inference.levels[i], b.inference.levels[i]);
        assert_relative_eq!(p.se, q.se, max_relative = 1e-9);
    }
    assert_eq!(a.inference.changes.len(), b.inference.changes.len());
    for (x, y) in a.inference.changes.iter().zip(&b.inference.changes) {
        assert_relative_eq!(x.b, y.b, max_relative = 1e-12);
        assert_relative_eq!(x.precision.se, y.precision.se, max_relative = 1e-9);
    }
}
