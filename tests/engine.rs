//! The engine on small cases computed by hand: exact identification, the identities
//! between measures, weights as fractions and decimals, and the data checks.

mod common;

use std::path::Path;

use afmpi::measures::{Estimate, Measure};
use afmpi::methodology::Methodology;
use afmpi::{analyse_frame, Analysis, Error};
use approx::assert_relative_eq;
use polars::prelude::*;

/// A methodology of one dimension whose indicators are `columns` with `weights` (strings
/// or TOML numbers as written), at `cutoffs`.
fn methodology(columns: &[&str], weights: &[&str], cutoffs: &str) -> Methodology {
    let mut s = format!("name = \"test\"\ncutoffs = {cutoffs}\n[[dimension]]\nname = \"all\"\n");
    for (c, w) in columns.iter().zip(weights) {
        s.push_str(&format!(
            "[[dimension.indicator]]\ncolumn = \"{c}\"\nweight = {w}\n"
        ));
    }
    afmpi::methodology::from_toml(&s).unwrap()
}

/// Persons as 0/1 deprivation rows (columns named i0, i1, …), with weights.
fn frame(rows: &[&[i32]], weights: &[f64]) -> DataFrame {
    let k = rows[0].len();
    let mut cols: Vec<Column> = (0..k)
        .map(|j| {
            Column::new(
                format!("i{j}").into(),
                rows.iter().map(|r| r[j]).collect::<Vec<_>>(),
            )
        })
        .collect();
    cols.push(Column::new("w".into(), weights.to_vec()));
    DataFrame::new_infer_height(cols).unwrap()
}

fn names(k: usize) -> Vec<String> {
    (0..k).map(|j| format!("i{j}")).collect()
}

fn analyse(m: &Methodology, df: &DataFrame) -> Analysis {
    let mut survey = m.survey.clone();
    if df.column("w").is_ok() {
        survey.weight = Some("w".into());
    }
    analyse_frame(df, m, &survey, &Default::default(), Path::new("test.csv")).unwrap()
}

fn national(
    a: &Analysis,
    measure: Measure,
    cutoff: Option<usize>,
    indicator: Option<usize>,
) -> f64 {
    a.estimates
        .iter()
        .find(|e: &&Estimate| {
            e.measure == measure
                && e.cutoff == cutoff
                && e.indicator == indicator
                && e.domain.subgroup.is_none()
        })
        .unwrap()
        .b
}

#[test]
fn ten_weights_of_a_tenth_seven_deprivations_are_poor_at_70() {
    let cols = names(10);
    let cols: Vec<&str> = cols.iter().map(String::as_str).collect();
    let m = methodology(&cols, &["0.1"; 10], "[70, 80]");
    // In double precision eight 0.1 sum to 0.7999999999999999, below 0.8: a float
    // comparison would miss the person deprived in eight indicators at k = 80.
    let eight: f64 = (0..8).map(|_| 0.1).sum();
    assert!(eight < 0.8, "the floating-point trap this test is about");
    let df = frame(
        &[
            &[1, 1, 1, 1, 1, 1, 1, 0, 0, 0],
            &[1, 1, 1, 1, 1, 1, 0, 0, 0, 0],
            &[1, 1, 1, 1, 1, 1, 1, 1, 0, 0],
        ],
        &[1.0, 1.0, 1.0],
    );
    let a = analyse(&m, &df);
    assert_relative_eq!(national(&a, Measure::H, Some(0), None), 2.0 / 3.0);
    assert_relative_eq!(
        national(&a, Measure::A, Some(0), None),
        0.75,
        max_relative = 1e-15
    );
    assert_relative_eq!(national(&a, Measure::H, Some(1), None), 1.0 / 3.0);
}

#[test]
fn three_weights_of_a_sixth_are_poor_at_50() {
    let cols = names(6);
    let cols: Vec<&str> = cols.iter().map(String::as_str).collect();
    // (In double precision three 1/6 happen to sum to 0.5; sums such as 1/6 + 1/6 + 1/18
    // + 1/18 + 1/18 in other orders or precisions need not. Exact scores never depend on it.)
    let m = methodology(&cols, &["\"1/6\""; 6], "[50]");
    let df = frame(
        &[
            &[1, 1, 1, 0, 0, 0],
            &[1, 1, 0, 0, 0, 0],
            &[0, 0, 0, 0, 0, 0],
        ],
        &[2.0, 1.0, 1.0],
    );
    let a = analyse(&m, &df);
    assert_eq!(national(&a, Measure::H, Some(0), None), 0.5);
    assert_relative_eq!(
        national(&a, Measure::M0, Some(0), None),
        0.25,
        max_relative = 1e-15
    );
}

/// `identification = ">"`: a score equal to the cutoff is not poor. Three indicators of
/// 1/3 at k = 1/3 and 2/3, five persons of weights 1, 2, 1, 1, 3:
/// scores 0, 1/3, 2/3, 1, 1/3. Under >= at 1/3: all but the first are poor, H = 7/8;
/// under > at 1/3: the scores 2/3 and 1, H = 2/8, A = (2/3 + 1)/2 = 5/6, M0 = 5/24;
/// under > at 2/3: only the score 1, H = 1/8, A = 1.
#[test]
fn identification_above_the_cutoff_leaves_scores_equal_to_it_out() {
    let base = "cutoffs = [\"1/3\", \"2/3\"]\n[[dimension]]\nname = \"all\"\n\
                [[dimension.indicator]]\ncolumn = \"i0\"\n[[dimension.indicator]]\ncolumn = \"i1\"\n\
                [[dimension.indicator]]\ncolumn = \"i2\"\n";
    let df = frame(
        &[&[0, 0, 0], &[1, 0, 0], &[1, 1, 0], &[1, 1, 1], &[0, 0, 1]],
        &[1.0, 2.0, 1.0, 1.0, 3.0],
    );
    let at_least = afmpi::methodology::from_toml(&format!("name = \"ge\"\n{base}")).unwrap();
    let above =
        afmpi::methodology::from_toml(&format!("name = \"gt\"\nidentification = \">\"\n{base}"))
            .unwrap();
    let (ge, gt) = (analyse(&at_least, &df), analyse(&above, &df));
    assert_relative_eq!(national(&ge, Measure::H, Some(0), None), 7.0 / 8.0);
    assert_relative_eq!(national(&ge, Measure::H, Some(1), None), 2.0 / 8.0);
    assert_relative_eq!(national(&gt, Measure::H, Some(0), None), 2.0 / 8.0);
    assert_relative_eq!(
        national(&gt, Measure::A, Some(0), None),
        5.0 / 6.0,
        max_relative = 1e-15
    );
    assert_relative_eq!(
        national(&gt, Measure::M0, Some(0), None),
        5.0 / 24.0,
        max_relative = 1e-15
    );
    assert_relative_eq!(national(&gt, Measure::H, Some(1), None), 1.0 / 8.0);
    assert_relative_eq!(national(&gt, Measure::A, Some(1), None), 1.0);
    // The censored headcount of i0 at 1/3 under >: the persons scoring 2/3 and 1.
    assert_relative_eq!(national(&gt, Measure::Hdk, Some(0), Some(0)), 2.0 / 8.0);
}

/// A small weighted sample worked out by hand, with two subgroups.
#[test]
fn hand_computed_measures() {
    // Indicators a (1/2), b (1/4), c (1/4); k = 50%.
    // person  a b c  score  weight  group
    //   1     1 1 0  0.75   1       x
    //   2     1 0 0  0.50   2       x
    //   3     0 1 1  0.50   1       y
    //   4     0 0 1  0.25   4       y
    let m = methodology(
        &["i0", "i1", "i2"],
        &["\"1/2\"", "\"1/4\"", "\"1/4\""],
        "[50]",
    );
    let mut df = frame(
        &[&[1, 1, 0], &[1, 0, 0], &[0, 1, 1], &[0, 0, 1]],
        &[1.0, 2.0, 1.0, 4.0],
    );
    df.with_column(Column::new("g".into(), ["x", "x", "y", "y"]))
        .unwrap();
    let mut survey = m.survey.clone();
    survey.weight = Some("w".into());
    survey.over = vec!["g".into()];
    let a = analyse_frame(&df, &m, &survey, &Default::default(), Path::new("t.csv")).unwrap();
    let nat = |measure, indicator| national(&a, measure, Some(0), indicator);
    // Poor: persons 1, 2, 3 (weights 1 + 2 + 1 = 4 of 8).
    assert_relative_eq!(nat(Measure::H, None), 0.5);
    // Censored scores: 0.75·1 + 0.5·2 + 0.5·1 = 2.25; M0 = 2.25 / 8; A = 2.25 / 4.
    assert_relative_eq!(nat(Measure::M0, None), 2.25 / 8.0);
    assert_relative_eq!(nat(Measure::A, None), 2.25 / 4.0);
    // hd of c: persons 3, 4 = 5/8; hdk of c: person 3 = 1/8.
    assert_relative_eq!(national(&a, Measure::Hd, None, Some(2)), 5.0 / 8.0);
    assert_relative_eq!(nat(Measure::Hdk, Some(2)), 1.0 / 8.0);
    assert_relative_eq!(nat(Measure::Actb, Some(2)), 0.25 / 8.0);
    assert_relative_eq!(nat(Measure::Pctb, Some(2)), (0.25 / 8.0) / (2.25 / 8.0));
    // Group y: persons 3 (poor, 0.5, weight 1) and 4 (not poor): H = 1/5, M0 = 0.5/5.
    let y = a
        .estimates
        .iter()
        .find(|e| e.measure == Measure::M0 && e.domain.subgroup == Some((0, 1)))
        .unwrap();
    assert_relative_eq!(y.b, 0.5 / 5.0);
}

#[test]
fn m0_is_h_times_a_and_contributions_add_up() {
    let (df, m, survey) = common::simulated(3000);
    let a = analyse_frame(&df, &m, &survey, &Default::default(), Path::new("sim.csv")).unwrap();
    let mut checked = 0;
    for e in a.estimates.iter().filter(|e| e.measure == Measure::M0) {
        let find = |measure: Measure, indicator: Option<usize>| {
            a.estimates
                .iter()
                .find(|o| {
                    o.measure == measure
                        && o.indicator == indicator
                        && o.cutoff == e.cutoff
                        && o.domain == e.domain
                })
                .unwrap()
                .b
        };
        assert_relative_eq!(
            e.b,
            find(Measure::H, None) * find(Measure::A, None),
            max_relative = 1e-12
        );
        let actb: f64 = (0..m.indicators.len())
            .map(|j| find(Measure::Actb, Some(j)))
            .sum();
        assert_relative_eq!(actb, e.b, max_relative = 1e-12);
        let pctb: f64 = (0..m.indicators.len())
            .map(|j| find(Measure::Pctb, Some(j)))
            .sum();
        assert_relative_eq!(pctb, 1.0, max_relative = 1e-12);
        checked += 1;
    }
    assert!(checked > 30, "checked {checked} domains");
}

/// Exact fractions are exact; decimals are taken exactly as written. With weights
/// 0.0555556 (≈ 1/18, written rounded up) a person deprived in 6 of 18 indicators scores
/// 0.3333336 and is poor at k = 1/3, as with "1/18"; the run notes that the decimals
/// sum to 1.0000008 rather than 1.
#[test]
fn weights_as_fractions_and_as_decimals() {
    let cols = names(18);
    let cols: Vec<&str> = cols.iter().map(String::as_str).collect();
    let exact = methodology(&cols, &["\"1/18\""; 18], "[\"1/3\", 50]");
    let decimal = methodology(&cols, &["0.0555556"; 18], "[\"1/3\", 50]");
    assert!(exact.notes.is_empty());
    assert!(
        decimal.notes.iter().any(|n| n.contains("1.0000008")),
        "{:?}",
        decimal.notes
    );
    let six: Vec<i32> = (0..18).map(|j| i32::from(j < 6)).collect();
    let nine: Vec<i32> = (0..18).map(|j| i32::from(j < 9)).collect();
    let five: Vec<i32> = (0..18).map(|j| i32::from(j < 5)).collect();
    let df = frame(&[&six, &nine, &five], &[1.0, 1.0, 1.0]);
    for m in [&exact, &decimal] {
        let a = analyse(m, &df);
        assert_relative_eq!(national(&a, Measure::H, Some(0), None), 2.0 / 3.0);
        assert_relative_eq!(national(&a, Measure::H, Some(1), None), 1.0 / 3.0);
    }
    // Written rounded down, a decimal third is below 1/3, as written.
    let below = methodology(
        &["i0", "i1", "i2"],
        &["0.333333", "0.333333", "0.333334"],
        "[\"1/3\"]",
    );
    let a = analyse(&below, &frame(&[&[1, 0, 0], &[0, 0, 1]], &[1.0, 1.0]));
    assert_eq!(national(&a, Measure::H, Some(0), None), 0.5);
}

fn data_error(df: DataFrame) -> String {
    let m = methodology(&["i0", "i1"], &["0.5", "0.5"], "[50]");
    let mut survey = m.survey.clone();
    survey.weight = Some("w".into());
    match analyse_frame(
        &df,
        &m,
        &survey,
        &Default::default(),
        Path::new("survey.csv"),
    ) {
        Err(e @ Error::Data { .. }) => e.to_string(),
        Err(e) => panic!("expected a data error, got {e}"),
        Ok(_) => panic!("expected a data error"),
    }
}

#[test]
fn indicator_values_other_than_0_1_are_errors_naming_column_value_and_row() {
    for (bad, shown) in [(2.0, "2"), (-1.0, "-1"), (0.5, "0.5")] {
        let df = df!("i0" => [0.0, 1.0, bad, bad], "i1" => [0.0, 0.0, 1.0, 1.0], "w" => [1.0; 4])
            .unwrap();
        let e = data_error(df);
        assert!(
            e.contains("survey.csv")
                && e.contains("`i0`")
                && e.contains("row 3")
                && e.contains(&format!("value {shown} ")),
            "{e}"
        );
    }
    let df = df!("i0" => ["0", "1", "yes"], "i1" => ["0", "0", "1"], "w" => [1.0; 3]).unwrap();
    let e = data_error(df);
    assert!(e.contains("\"yes\"") && e.contains("row 3"), "{e}");
}

#[test]
fn booleans_and_text_0_1_are_indicators() {
    let m = methodology(&["i0", "i1"], &["0.5", "0.5"], "[50]");
    let df = df!("i0" => [true, false, true, false], "i1" => ["1", "0", "0", "0"]).unwrap();
    let a = analyse_frame(
        &df,
        &m,
        &m.survey,
        &Default::default(),
        Path::new("t.parquet"),
    )
    .unwrap();
    assert_eq!(national(&a, Measure::H, Some(0), None), 0.5);
    assert_eq!(national(&a, Measure::M0, Some(0), None), 0.375);
}

#[test]
fn negative_or_infinite_weights_are_errors() {
    for bad in [-1.0, f64::INFINITY] {
        let df = df!("i0" => [0, 1], "i1" => [0, 1], "w" => [1.0, bad]).unwrap();
        let e = data_error(df);
        assert!(e.contains("`w`") && e.contains("row 2"), "{e}");
    }
}

#[test]
fn rows_missing_values_are_dropped_and_counted_per_column() {
    let m = methodology(&["i0", "i1"], &["0.5", "0.5"], "[50]");
    let df = df!(
        "i0" => [Some(1), None, Some(0), None, Some(1)],
        "i1" => [Some(1), Some(1), None, None, Some(0)],
        "w" => [Some(1.0), Some(1.0), Some(1.0), Some(1.0), None]
    )
    .unwrap();
    let mut survey = m.survey.clone();
    survey.weight = Some("w".into());
    // One row is left: a single PSU, whose variance the default policy refuses.
    let settings = afmpi::inference::Settings {
        lonely_psu: afmpi::inference::LonelyPsu::Remove,
        ..Default::default()
    };
    let a = analyse_frame(&df, &m, &survey, &settings, Path::new("t.csv")).unwrap();
    assert_eq!(a.report.rows_read, 5);
    assert_eq!(a.report.rows_used, 1);
    assert_eq!(
        a.report.missing,
        vec![
            ("i0".to_string(), 2),
            ("i1".to_string(), 2),
            ("w".to_string(), 1)
        ]
    );
    assert_eq!(national(&a, Measure::H, Some(0), None), 1.0);
}

#[test]
fn a_missing_subgroup_value_counts_nationally_only() {
    let m = methodology(&["i0", "i1"], &["0.5", "0.5"], "[50]");
    let df =
        df!("i0" => [1, 0, 1], "i1" => [0, 0, 1], "g" => [Some("a"), Some("a"), None]).unwrap();
    let mut survey = m.survey.clone();
    survey.over = vec!["g".into()];
    let a = analyse_frame(&df, &m, &survey, &Default::default(), Path::new("t.csv")).unwrap();
    assert_relative_eq!(national(&a, Measure::H, Some(0), None), 2.0 / 3.0);
    let sub = a
        .estimates
        .iter()
        .find(|e| e.measure == Measure::H && e.domain.subgroup == Some((0, 0)))
        .unwrap();
    assert_eq!(sub.b, 0.5);
    assert_eq!(a.report.unassigned, vec![("g".to_string(), 1)]);
    assert!(afmpi::output::data_summary(&a.report).contains("1 rows have no value of `g`"));
}

/// Cutoffs in any order give the same estimates at each cutoff (the totals of the poor
/// are accumulated from the highest cutoff down), with a cutoff no one reaches.
#[test]
fn cutoffs_in_any_order_give_the_same_estimates() {
    let (df, base, survey) = common::simulated(6_000);
    let at = |cutoffs: &[&str]| {
        let mut m = base.clone();
        m.cutoffs = afmpi::methodology::cutoffs_from_list(&cutoffs.join(",")).unwrap();
        let a = analyse_frame(&df, &m, &survey, &Default::default(), Path::new("t.csv")).unwrap();
        let mut by_cutoff = std::collections::BTreeMap::new();
        for (e, p) in a.estimates.iter().zip(&a.inference.levels) {
            let k = e.cutoff.map(|c| cutoffs[c].to_string());
            by_cutoff.insert(
                (format!("{:?}", (e.measure, e.indicator, e.domain)), k),
                (e.b, p.se),
            );
        }
        by_cutoff
    };
    let sorted = at(&["20", "1/3", "50", "100"]);
    let shuffled = at(&["50", "100", "20", "1/3"]);
    for (key, (b, se)) in &sorted {
        let (b2, se2) = shuffled[key];
        if b.is_nan() {
            assert!(b2.is_nan(), "{key:?}");
            continue;
        }
        assert_relative_eq!(*b, b2, max_relative = 1e-12);
        assert_relative_eq!(*se, se2, max_relative = 1e-9);
    }
}
