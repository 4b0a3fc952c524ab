//! Cardinal indicators and M1, M2 (Alkire and Foster 2011's M_alpha): an indicator given
//! as an achievement x and a cutoff z is deprived when x < z, with the normalized gap
//! (z - x)/z; M_alpha is the mean over everyone of the poor's Σ_j w_j g_j^alpha, g_j = 1
//! in a 0/1 indicator. Checked against R convey's svyafc, by hand (estimates, and
//! standard errors by the linearization worked out here from the persons, for PSUs and
//! for rows as PSUs),
//! against M0 when every indicator is 0/1, and whole against batched.

mod common;

use std::collections::BTreeMap;
use std::path::Path;

use approx::assert_relative_eq;
use polars::prelude::*;

use afmpi::measures::Measure;
use afmpi::methodology::SurveyColumns;
use afmpi::{analyse_files_reading, analyse_frame, Analysis, Reading};

const METHODOLOGY: &str = "name = \"t\"\ncutoffs = [\"1/3\"]\nalphas = [1, 2]\n\
    [[dimension]]\nname = \"d\"\n\
    [[dimension.indicator]]\ncolumn = \"a\"\n\
    [[dimension.indicator]]\ncolumn = \"b\"\n\
    [[dimension.indicator]]\nname = \"income\"\nachievement = \"inc\"\ncutoff = 100\n";

/// Eight persons in two strata of two PSUs each.
fn persons() -> DataFrame {
    df!(
        "a" => [1, 0, 0, 0, 1, 1, 0, 0],
        "b" => [0, 0, 1, 0, 1, 0, 0, 1],
        "inc" => [50.0, 80.0, 150.0, 120.0, 0.0, 99.0, 100.0, 30.0],
        "w" => [1.0, 2.0, 1.0, 4.0, 1.5, 0.5, 2.0, 3.0],
        "h" => [1, 1, 1, 1, 2, 2, 2, 2],
        "p" => [1, 1, 2, 2, 3, 3, 4, 4],
    )
    .unwrap()
}

/// Each person's (score, G1, G2) worked out here: a and b are 0/1 of weight 1/3, income
/// is deprived below 100 with gap (100 - x)/100 and weight 1/3.
fn by_hand(df: &DataFrame) -> Vec<(f64, f64, f64)> {
    let (a, b, x) = (
        common::numbers(df, "a"),
        common::numbers(df, "b"),
        common::numbers(df, "inc"),
    );
    (0..df.height())
        .map(|i| {
            let third = 1.0 / 3.0;
            let (a, b, x) = (a[i].unwrap(), b[i].unwrap(), x[i].unwrap());
            let gap = if x < 100.0 { (100.0 - x) / 100.0 } else { 0.0 };
            let deprived_income = f64::from(u8::from(x < 100.0));
            let score = third * (a + b + deprived_income);
            (score, third * (a + b + gap), third * (a + b + gap * gap))
        })
        .collect()
}

fn run(df: &DataFrame, clustered: bool) -> Analysis {
    let m = afmpi::methodology::from_toml(METHODOLOGY).unwrap();
    let survey = SurveyColumns {
        weight: Some("w".into()),
        strata: clustered.then(|| "h".into()),
        psu: clustered.then(|| "p".into()),
        ..Default::default()
    };
    analyse_frame(df, &m, &survey, &Default::default(), Path::new("t.csv")).unwrap()
}

fn national(a: &Analysis, measure: Measure) -> (f64, f64) {
    let i = a
        .estimates
        .iter()
        .position(|e| e.measure == measure && e.domain.subgroup.is_none())
        .unwrap_or_else(|| panic!("no {measure:?}"));
    (a.estimates[i].b, a.inference.levels[i].se)
}

/// R convey's svyafc on the same persons (`scripts/convey-reference.R`): per design
/// (clustered, rows as PSUs), M0, M1 and M2 with their standard errors, as R prints them.
const CONVEY: [(bool, Measure, f64, f64); 6] = [
    (true, Measure::M0, 0.366666666666667, 0.131242871646519),
    (true, Measure::M1, 0.289, 0.0807923477613451),
    (true, Measure::M2, 0.262223333333333, 0.0769002880413299),
    (false, Measure::M0, 0.366666666666667, 0.1515120730808),
    (false, Measure::M1, 0.289, 0.137948951527415),
    (false, Measure::M2, 0.262223333333333, 0.130883429325865),
];

#[test]
fn m1_and_m2_reproduce_r_convey() {
    let df = persons();
    for clustered in [true, false] {
        let a = run(&df, clustered);
        for &(design, measure, b, se) in &CONVEY {
            if design == clustered {
                let (ours, our_se) = national(&a, measure);
                assert_relative_eq!(ours, b, max_relative = 1e-13);
                assert_relative_eq!(our_se, se, max_relative = 1e-12);
            }
        }
    }
}

/// R convey's svyafcdec on the same persons by a subgroup `sg` (x: persons 1, 2, 5, 7):
/// each level's contribution to M0 and its standard error, per design.
const CONVEY_CONTRIB: [(bool, &str, f64, f64); 4] = [
    (true, "x", 0.515151515151515, 0.324450912735704),
    (true, "y", 0.484848484848485, 0.324450912735704),
    (false, "x", 0.515151515151515, 0.264972470844759),
    (false, "y", 0.484848484848485, 0.264972470844759),
];

#[test]
fn subgroups_contributions_reproduce_r_convey_svyafcdec() {
    let mut df = persons();
    df.with_column(Column::new(
        "sg".into(),
        ["x", "x", "y", "y", "x", "y", "x", "y"],
    ))
    .unwrap();
    let m = afmpi::methodology::from_toml(METHODOLOGY).unwrap();
    for clustered in [true, false] {
        let survey = SurveyColumns {
            weight: Some("w".into()),
            strata: clustered.then(|| "h".into()),
            psu: clustered.then(|| "p".into()),
            over: vec!["sg".into()],
            ..Default::default()
        };
        let a = analyse_frame(&df, &m, &survey, &Default::default(), Path::new("t.csv")).unwrap();
        for &(design, level, b, se) in &CONVEY_CONTRIB {
            if design != clustered {
                continue;
            }
            let l = a.sample.groupings[0]
                .levels
                .iter()
                .position(|x| x == level)
                .unwrap() as u32;
            let i = a
                .estimates
                .iter()
                .position(|e| e.measure == Measure::Contrib && e.domain.subgroup == Some((0, l)))
                .unwrap();
            assert_relative_eq!(a.estimates[i].b, b, max_relative = 1e-13);
            assert_relative_eq!(a.inference.levels[i].se, se, max_relative = 1e-12);
        }
    }
}

#[test]
fn m1_and_m2_by_hand_with_their_standard_errors() {
    let df = persons();
    let people = by_hand(&df);
    let w = common::numbers(&df, "w");
    let (h, p) = (common::texts(&df, "h"), common::texts(&df, "p"));
    let total: f64 = w.iter().map(|v| v.unwrap()).sum();
    for clustered in [true, false] {
        let a = run(&df, clustered);
        for (measure, pick) in [(Measure::M1, 1usize), (Measure::M2, 2), (Measure::M0, 0)] {
            // The poor's value (the censored score for M0), per person.
            let value = |i: usize| {
                let (score, g1, g2) = people[i];
                if score < 1.0 / 3.0 - 1e-12 {
                    0.0
                } else {
                    [score, g1, g2][pick]
                }
            };
            let m: f64 = (0..df.height())
                .map(|i| w[i].unwrap() * value(i))
                .sum::<f64>()
                / total;
            // z per PSU (or per person), the stratified variance n/(n-1) Σ (z - z̄)².
            let mut units: BTreeMap<(String, String), f64> = BTreeMap::new();
            for i in 0..df.height() {
                let unit = if clustered {
                    (h[i].clone(), p[i].clone())
                } else {
                    ("1".to_string(), i.to_string())
                };
                *units.entry(unit).or_default() += w[i].unwrap() * (value(i) - m) / total;
            }
            let mut strata: BTreeMap<String, Vec<f64>> = BTreeMap::new();
            for ((s, _), z) in units {
                strata.entry(s).or_default().push(z);
            }
            let var = common::stratified_variance(strata.values());
            let (b, se) = national(&a, measure);
            assert_relative_eq!(b, m, max_relative = 1e-12);
            assert_relative_eq!(se, var.sqrt(), max_relative = 1e-9);
        }
        // M2 <= M1 <= M0, as gaps are at most 1.
        let (m0, m1, m2) = (
            national(&a, Measure::M0).0,
            national(&a, Measure::M1).0,
            national(&a, Measure::M2).0,
        );
        assert!(m2 < m1 && m1 < m0, "{m2} {m1} {m0}");
    }
}

/// With 0/1 indicators only, every gap is 1: M1 and M2 are M0.
#[test]
fn with_0_1_indicators_m1_and_m2_are_m0() {
    let m = afmpi::methodology::from_file(Path::new("data/global-mpi.toml")).unwrap();
    let text = std::fs::read_to_string("data/global-mpi.toml")
        .unwrap()
        .replacen("cutoffs =", "alphas = [1, 2]\ncutoffs =", 1);
    let with_alphas = afmpi::methodology::from_toml(&text).unwrap();
    assert_eq!(with_alphas.alphas, [1, 2]);
    let df = common::read_csv(Path::new("data/example.csv"));
    let mut survey = m.survey.clone();
    survey.round = Some("t".into());
    let a = analyse_frame(
        &df,
        &with_alphas,
        &survey,
        &Default::default(),
        Path::new("e"),
    )
    .unwrap();
    let find = |measure: Measure, e: &afmpi::measures::Estimate| {
        a.estimates
            .iter()
            .position(|x| x.measure == measure && x.cutoff == e.cutoff && x.domain == e.domain)
            .unwrap()
    };
    let mut checked = 0;
    for (i, e) in a.estimates.iter().enumerate() {
        if e.measure != Measure::M0 {
            continue;
        }
        for alpha in [Measure::M1, Measure::M2] {
            let j = find(alpha, e);
            assert_relative_eq!(a.estimates[j].b, e.b, max_relative = 1e-14);
            assert_relative_eq!(
                a.inference.levels[j].se,
                a.inference.levels[i].se,
                max_relative = 1e-9
            );
            checked += 1;
        }
    }
    assert!(checked > 0);
    // And their changes between rounds are there too.
    assert!(a.inference.changes.iter().any(|c| c.measure == Measure::M2));
}

/// The example with an income made up from its rows: read whole and in batches, the
/// same M1 and M2 in every domain.
#[test]
fn m1_and_m2_in_batches_are_those_of_the_whole_file() {
    let mut df = common::read_csv(Path::new("data/example.csv"));
    let income: Vec<f64> = (0..df.height())
        .map(|i| ((i * 7919) % 400) as f64)
        .collect();
    df.with_column(Column::new("income".into(), income))
        .unwrap();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("example.csv");
    afmpi::output::write_frame(&mut df, &path).unwrap();
    let mut text = std::fs::read_to_string("data/global-mpi.toml")
        .unwrap()
        .replacen("cutoffs =", "alphas = [1, 2]\ncutoffs =", 1);
    // Assets as an income below 220 instead of the ready 0/1 column.
    text = text
        .replace(
            "column = \"d_asst\"",
            "achievement = \"income\"\ncutoff = 220",
        )
        .replace("d_asst = ", "assets = ");
    let m = afmpi::methodology::from_toml(&text).unwrap();
    let mut survey = m.survey.clone();
    survey.round = Some("t".into());
    let run = |reading| {
        analyse_files_reading(
            &m,
            &survey,
            &Default::default(),
            &path,
            None,
            reading,
            &|_| {},
        )
        .unwrap()
    };
    let (whole, batched) = (run(Reading::Whole), run(Reading::Batches(1000)));
    assert_eq!(whole.estimates.len(), batched.estimates.len());
    let mut checked = 0;
    for (i, (a, b)) in whole.estimates.iter().zip(&batched.estimates).enumerate() {
        assert_eq!((a.measure, a.domain), (b.measure, b.domain));
        if a.measure.alpha().is_some() {
            assert_relative_eq!(a.b, b.b, max_relative = 1e-12);
            let (p, q) = (whole.inference.levels[i], batched.inference.levels[i]);
            assert_relative_eq!(p.se, q.se, max_relative = 1e-9);
            checked += 1;
        }
    }
    assert!(checked > 0);
    // The income gaps make M1 below M0 (assets count less than a full deprivation).
    let m0 = national(&whole, Measure::M0).0;
    assert!(national(&whole, Measure::M1).0 < m0);
}

/// A negative achievement and an alpha other than 1 and 2 are errors that say what to do.
#[test]
fn bad_achievements_and_alphas_are_errors() {
    let mut df = persons();
    df.replace(
        "inc",
        Column::new(
            "inc".into(),
            [50.0, -1.0, 150.0, 120.0, 0.0, 99.0, 100.0, 30.0],
        ),
    )
    .unwrap();
    let m = afmpi::methodology::from_toml(METHODOLOGY).unwrap();
    let survey = SurveyColumns {
        weight: Some("w".into()),
        ..Default::default()
    };
    let Err(e) = analyse_frame(&df, &m, &survey, &Default::default(), Path::new("t.csv")) else {
        panic!("a negative income was accepted");
    };
    let e = e.to_string();
    assert!(
        e.contains("column `inc`, row 2") && e.contains("zero or more"),
        "{e}"
    );
    let e = afmpi::methodology::from_toml(&METHODOLOGY.replace("[1, 2]", "[3]"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("alphas") && e.contains("alpha 3"), "{e}");
    let e = afmpi::methodology::from_toml(&METHODOLOGY.replace("cutoff = 100", "cutoff = 0"))
        .unwrap_err()
        .to_string();
    assert!(e.contains("cutoff") && e.contains("positive"), "{e}");
}
