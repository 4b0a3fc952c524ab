//! Indicators from raw variables: each rule form, each aggregation over household
//! members, `no_eligible`, `min_observed`, optional indicators, named groups (CONEVAL's on
//! a hand-built case), household-level rows, the `[columns]` mapping, and the errors.

use std::path::Path;

use afmpi::inference::{LonelyPsu, Settings};
use afmpi::measures::Measure;
use afmpi::methodology::Methodology;
use afmpi::{analyse_file, analyse_frame, Analysis};
use approx::assert_relative_eq;
use polars::prelude::*;

fn settings() -> Settings {
    Settings {
        lonely_psu: LonelyPsu::Remove,
        ..Settings::default()
    }
}

/// A methodology of one dimension with the given indicator tables (TOML body lines).
fn methodology(indicators: &[&str], extra: &str) -> Methodology {
    let mut s = String::from("name = \"r\"\ncutoffs = [\"1/100\"]\n[[dimension]]\nname = \"d\"\n");
    for body in indicators {
        s.push_str("[[dimension.indicator]]\n");
        s.push_str(body);
        s.push('\n');
    }
    s.push_str(extra);
    afmpi::methodology::from_toml(&s).unwrap_or_else(|e| panic!("{e}\n{s}"))
}

fn run(m: &Methodology, df: &DataFrame) -> Analysis {
    analyse_frame(df, m, &m.survey, &settings(), Path::new("raw.csv")).unwrap()
}

/// Each row's deprivation in indicator j (None when the row was dropped).
fn deprivations(a: &Analysis, n: usize, j: usize) -> Vec<Option<bool>> {
    let mut out = vec![None; n];
    for (k, &row) in a.sample.rows.iter().enumerate() {
        out[row as usize] = Some(a.sample.profiles[k] >> j & 1 == 1);
    }
    out
}

#[test]
fn each_rule_form() {
    let df = df!(
        "x" => [1.0, 2.0, 3.0, 4.0, 5.0, 6.0],
        "code" => [11, 12, 21, 31, 11, 21],
        "name" => ["dirt", "tiles", "dirt", "wood", "tiles", "dirt"],
        "y" => [Some(1), None, Some(3), None, Some(5), Some(6)]
    )
    .unwrap();
    let x = [1.0, 2.0, 3.0, 4.0, 5.0, 6.0];
    let code = [11, 12, 21, 31, 11, 21];
    let name = ["dirt", "tiles", "dirt", "wood", "tiles", "dirt"];
    let y_null = [false, true, false, true, false, false];
    type Expect = Box<dyn Fn(usize) -> bool>;
    let cases: Vec<(&str, Expect)> = vec![
        ("x > 3", Box::new(move |i| x[i] > 3.0)),
        ("x * 2 + 1 >= 9", Box::new(move |i| x[i] * 2.0 + 1.0 >= 9.0)),
        (
            "code IN (11, 12, 21)",
            Box::new(move |i| [11, 12, 21].contains(&code[i])),
        ),
        (
            "x BETWEEN 2 AND 4",
            Box::new(move |i| (2.0..=4.0).contains(&x[i])),
        ),
        (
            "x > 1 AND NOT (code = 11 OR code = 12)",
            Box::new(move |i| x[i] > 1.0 && code[i] != 11 && code[i] != 12),
        ),
        ("y IS NULL", Box::new(move |i| y_null[i])),
        (
            "CASE WHEN x > 3 THEN code = 11 ELSE code = 21 END",
            Box::new(move |i| {
                if x[i] > 3.0 {
                    code[i] == 11
                } else {
                    code[i] == 21
                }
            }),
        ),
        (
            "name = 'dirt' OR name IN ('wood')",
            Box::new(move |i| name[i] == "dirt" || name[i] == "wood"),
        ),
    ];
    for (rule, expect) in cases {
        let m = methodology(&[&format!("name = \"r\"\ndeprived = \"{rule}\"")], "");
        let got = deprivations(&run(&m, &df), 6, 0);
        let want: Vec<Option<bool>> = (0..6).map(|i| Some(expect(i))).collect();
        assert_eq!(got, want, "rule {rule}");
    }
    // A null reached by a rule makes the indicator missing: the row is dropped, counted.
    let m = methodology(&["name = \"r\"\ndeprived = \"y > 2\""], "");
    let a = run(&m, &df);
    assert_eq!(
        deprivations(&a, 6, 0),
        vec![Some(false), None, Some(true), None, Some(true), Some(true)]
    );
    assert_eq!(a.report.missing, vec![("r".to_string(), 2)]);
}

/// Four households; `att` = attends school, `years` = years of schooling.
fn members() -> DataFrame {
    df!(
        "hh" => ["h1", "h1", "h1", "h2", "h2", "h3", "h3", "h4", "h4", "h4", "h4"],
        "age" => [8, 30, 35, 10, 40, 50, 45, 12, 7, 33, 30],
        "att" => [Some(0), None, None, Some(1), None, None, None, None, Some(1), None, None],
        "years" => [Some(2), Some(4), Some(7), Some(3), Some(5), None, Some(8), Some(5), Some(1), None, None]
    )
    .unwrap()
}

const HOUSEHOLD: &str = "[survey]\nhousehold = \"hh\"\n";

fn by_household(rule: &str) -> Vec<Option<bool>> {
    let m = methodology(&[&format!("name = \"r\"\n{rule}")], HOUSEHOLD);
    let got = deprivations(&run(&m, &members()), 11, 0);
    // Every member of a household has the household's value.
    let firsts = [0, 3, 5, 7];
    for (h, &first) in firsts.iter().enumerate() {
        let end = firsts.get(h + 1).copied().unwrap_or(11);
        assert!(
            got[first..end].iter().all(|v| *v == got[first]),
            "{rule}: household {h} split: {got:?}"
        );
    }
    firsts.iter().map(|&i| got[i]).collect()
}

#[test]
fn aggregations_over_eligible_members() {
    // School attendance, as the global MPI: deprived if any child of 6-14 does not attend.
    let attendance =
        "deprived = \"att = 0\"\neligible = \"age BETWEEN 6 AND 14\"\naggregate = \"any\"";
    // h1: its child does not attend; h2: its child attends; h3: no child (not deprived by
    // default); h4: one child of two has data and attends: deprived by nobody observed.
    assert_eq!(
        by_household(attendance),
        vec![Some(true), Some(false), Some(false), Some(false)]
    );
    // With min_observed = 2/3, h4 (1 of 2 children observed) is missing.
    assert_eq!(
        by_household(&format!("{attendance}\nmin_observed = \"2/3\"")),
        vec![Some(true), Some(false), Some(false), None]
    );
    // no_eligible: deprived, missing.
    assert_eq!(
        by_household(&format!("{attendance}\nno_eligible = \"deprived\""))[2],
        Some(true)
    );
    assert_eq!(
        by_household(&format!("{attendance}\nno_eligible = \"missing\""))[2],
        None
    );

    // Years of schooling: deprived if no member aged 10+ has six years ("none" of them
    // achieves it), with the two-thirds rule. h1: the 35-year-old has 7; h2: nobody has 6;
    // h3: the 45-year-old has 8, which settles it although the other has no data; h4: one
    // of three eligible members has data (5 years): missing.
    let schooling = "deprived = \"years >= 6\"\neligible = \"age >= 10\"\naggregate = \"none\"\nmin_observed = \"2/3\"";
    assert_eq!(
        by_household(schooling),
        vec![Some(false), Some(true), Some(false), None]
    );

    // all: deprived if every eligible member meets the rule (years < 6 among the 10+).
    // h1: 4 and 7; h2: 3 and 5; h3: 8 (and no data); h4: 5 only.
    assert_eq!(
        by_household("deprived = \"years < 6\"\neligible = \"age >= 10\"\naggregate = \"all\""),
        vec![Some(false), Some(true), Some(false), Some(true)]
    );
    // share: at least half of all members have fewer than 5 years.
    // h1: 2, 4 of 3 (2/3); h2: 3 of 2 (1/2); h3: 0 of 1 observed; h4: 1 of 2 observed (1/2).
    assert_eq!(
        by_household("deprived = \"years < 5\"\naggregate = \"share >= 1/2\""),
        vec![Some(true), Some(true), Some(false), Some(true)]
    );
    // mean: average years of the members with data. h1 (2, 4, 7) 4.33; h2 (3, 5) 4;
    // h3 (8); h4 (5, 1) 3.
    assert_eq!(
        by_household("deprived = \"years\"\naggregate = \"mean < 4\""),
        vec![Some(false), Some(false), Some(false), Some(true)]
    );
    assert_eq!(
        by_household("deprived = \"years\"\naggregate = \"mean <= 4\""),
        vec![Some(false), Some(true), Some(false), Some(true)]
    );
    assert_eq!(
        by_household("deprived = \"years < 5\"\naggregate = \"share > 1/2\""),
        vec![Some(true), Some(false), Some(false), Some(false)]
    );
}

#[test]
fn household_rows_count_persons_through_their_size() {
    let df = df!("dep" => [1, 0], "size" => [6.0, 2.0], "w" => [1.0, 1.0]).unwrap();
    let m = methodology(
        &["column = \"dep\""],
        "[survey]\nweight = \"w\"\nhousehold_size = \"size\"\n",
    );
    let a = run(&m, &df);
    let h = a
        .estimates
        .iter()
        .find(|e| e.measure == Measure::H && e.domain.subgroup.is_none())
        .unwrap();
    assert_relative_eq!(h.b, 6.0 / 8.0);
}

/// Mexico's CONEVAL: two axes, income against the well-being lines (LPI 100, LPEI 50) and
/// six social deprivations counted with equal weights.
#[test]
fn coneval_groups_on_a_hand_built_case() {
    let mut s = String::from("name = \"coneval\"\ncutoffs = [\"1/6\"]\nheadline = \"poor\"\n[[dimension]]\nname = \"social\"\n");
    for j in 0..6 {
        s.push_str(&format!("[[dimension.indicator]]\ncolumn = \"s{j}\"\n"));
    }
    for (name, rule) in [
        ("poor", "income < 100 AND count >= 1"),
        ("extreme_poor", "income < 50 AND count >= 3"),
        ("vulnerable_social", "income >= 100 AND count >= 1"),
        ("vulnerable_income", "income < 100 AND count = 0"),
        ("not_poor_not_vulnerable", "income >= 100 AND count = 0"),
    ] {
        s.push_str(&format!(
            "[[group]]\nname = \"{name}\"\nrule = \"{rule}\"\n"
        ));
    }
    let m = afmpi::methodology::from_toml(&s).unwrap();
    // persons: income, number of deprivations (the first `count` indicators).
    let persons = [(40.0, 3), (80.0, 1), (120.0, 2), (90.0, 0), (200.0, 0)];
    let mut cols: Vec<Column> = (0..6)
        .map(|j| {
            Column::new(
                format!("s{j}").into(),
                persons
                    .iter()
                    .map(|p| i32::from(j < p.1))
                    .collect::<Vec<_>>(),
            )
        })
        .collect();
    cols.push(Column::new(
        "income".into(),
        persons.iter().map(|p| p.0).collect::<Vec<_>>(),
    ));
    let df = DataFrame::new_infer_height(cols).unwrap();
    let a = run(&m, &df);
    let get = |group: &str, measure: Measure| {
        let g = m.groups.iter().position(|x| x.name == group).unwrap();
        a.estimates
            .iter()
            .find(|e| e.group == Some(g) && e.measure == measure && e.domain.subgroup.is_none())
            .unwrap()
            .b
    };
    assert_relative_eq!(get("poor", Measure::H), 2.0 / 5.0);
    assert_relative_eq!(get("poor", Measure::A), (3.0 / 6.0 + 1.0 / 6.0) / 2.0);
    assert_relative_eq!(get("poor", Measure::M0), 2.0 / 5.0 * (2.0 / 6.0));
    assert_relative_eq!(get("extreme_poor", Measure::H), 1.0 / 5.0);
    assert_relative_eq!(get("extreme_poor", Measure::A), 0.5);
    assert_relative_eq!(get("vulnerable_social", Measure::H), 1.0 / 5.0);
    assert_relative_eq!(get("vulnerable_income", Measure::H), 1.0 / 5.0);
    assert_relative_eq!(get("not_poor_not_vulnerable", Measure::H), 1.0 / 5.0);
    // The groups partition the population (extreme poor are also poor).
    let total: f64 = [
        "poor",
        "vulnerable_social",
        "vulnerable_income",
        "not_poor_not_vulnerable",
    ]
    .iter()
    .map(|g| get(g, Measure::H))
    .sum();
    assert_relative_eq!(total, 1.0);
    // Intensity bands over the exact score: vulnerable (1/5 <= c < 1/3) and severe (c >= 1/2).
    let bands = afmpi::methodology::from_toml(&format!(
        "{s}[[group]]\nname = \"vulnerable\"\nrule = \"score >= 0.2 AND score < 1/3\"\n[[group]]\nname = \"severe\"\nrule = \"score >= 1/2\"\n[[group]]\nname = \"low\"\nrule = \"score > 0 AND score < 1/3\"\n"
    ))
    .unwrap();
    let a = run(&bands, &df);
    let h = |name: &str| {
        let g = bands.groups.iter().position(|x| x.name == name).unwrap();
        a.estimates
            .iter()
            .find(|e| e.group == Some(g) && e.measure == Measure::H && e.domain.subgroup.is_none())
            .unwrap()
            .b
    };
    // Scores: 3/6, 1/6, 2/6, 0, 0. Vulnerable: none (2/6 = 1/3 is not below 1/3); severe: 3/6.
    assert_eq!(h("vulnerable"), 0.0);
    assert_relative_eq!(h("severe"), 1.0 / 5.0);
    // 1/3 is a true division (1/6 lies below it, 2/6 does not).
    assert_relative_eq!(h("low"), 1.0 / 5.0);
}

fn write(dir: &Path, name: &str, text: &str) -> std::path::PathBuf {
    let p = dir.join(name);
    std::fs::write(&p, text).unwrap();
    p
}

#[test]
fn columns_are_mapped_and_absent_optional_indicators_dropped() {
    let dir = tempfile::tempdir().unwrap();
    let data = write(
        dir.path(),
        "s.csv",
        "hv105,floor,a\n30,11,1\n8,34,0\n50,11,1\n20,34,0\n",
    );
    let m = afmpi::methodology::from_toml(
        "name = \"m\"\ncutoffs = [50]\n\
         [[dimension]]\nname = \"one\"\n\
         [[dimension.indicator]]\nname = \"young\"\ndeprived = \"age < 25\"\n\
         [[dimension.indicator]]\nname = \"floor\"\ndeprived = \"floor IN (11, 12)\"\n\
         [[dimension.indicator]]\nname = \"roof\"\ndeprived = \"roof = 1\"\noptional = true\n\
         [[dimension]]\nname = \"two\"\n\
         [[dimension.indicator]]\ncolumn = \"a\"\n\
         [columns]\nage = \"hv105\"\n",
    )
    .unwrap();
    let a = analyse_file(&m, &m.survey, &settings(), &data).unwrap();
    // roof is absent: its 1/6 goes to young and floor (1/4 each); a keeps 1/2.
    let w: Vec<f64> = a
        .methodology
        .indicators
        .iter()
        .map(|i| i.weight.to_f64())
        .collect();
    assert_eq!(w, vec![0.25, 0.25, 0.5]);
    assert!(
        a.report
            .notes
            .iter()
            .any(|n| n.contains("optional indicator `roof` is absent")),
        "{:?}",
        a.report.notes
    );
    // young: rows 2 and 4; floor: rows 1 and 3.
    assert_eq!(
        deprivations(&a, 4, 0),
        vec![Some(false), Some(true), Some(false), Some(true)]
    );
    assert_eq!(
        deprivations(&a, 4, 1),
        vec![Some(true), Some(false), Some(true), Some(false)]
    );
    // A dimension left without indicators is an error.
    let lonely = afmpi::methodology::from_toml(
        "name = \"m\"\ncutoffs = [50]\n[[dimension]]\nname = \"one\"\n[[dimension.indicator]]\nname = \"roof\"\ndeprived = \"roof = 1\"\noptional = true\n[[dimension]]\nname = \"two\"\n[[dimension.indicator]]\ncolumn = \"a\"\n",
    )
    .unwrap();
    let e = analyse_file(&lonely, &lonely.survey, &settings(), &data)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("dimension \"one\" has no indicator left"), "{e}");
}

#[test]
fn bad_rules_are_clear_errors() {
    let e = afmpi::methodology::from_toml("name = \"m\"\ncutoffs = [50]\n[[dimension]]\nname = \"d\"\n[[dimension.indicator]]\nname = \"x\"\ndeprived = \"age >< 5\"\n")
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("dimension[0].indicator[0].deprived")
            && e.contains("cannot read the expression `age >< 5`"),
        "{e}"
    );
    let e = afmpi::methodology::from_toml("name = \"m\"\ncutoffs = [50]\n[[dimension]]\nname = \"d\"\n[[dimension.indicator]]\ndeprived = \"age > 5\"\n")
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("needs a `name`"), "{e}");
    let e = afmpi::methodology::from_toml("name = \"m\"\ncutoffs = [50]\n[[dimension]]\nname = \"d\"\n[[dimension.indicator]]\nname = \"x\"\ndeprived = \"age > 5\"\naggregate = \"any\"\n")
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("household"), "{e}");
    let dir = tempfile::tempdir().unwrap();
    let data = write(dir.path(), "s.csv", "age,floor\n30,11\n");
    let m = afmpi::methodology::from_toml("name = \"m\"\ncutoffs = [50]\n[[dimension]]\nname = \"d\"\n[[dimension.indicator]]\nname = \"x\"\ndeprived = \"agee > 5\"\n").unwrap();
    let e = analyse_file(&m, &m.survey, &settings(), &data)
        .err()
        .unwrap()
        .to_string();
    assert!(
        e.contains("column `agee`") && e.contains("closest first: age"),
        "{e}"
    );
    // A rule that gives numbers, not true/false.
    let m = afmpi::methodology::from_toml("name = \"m\"\ncutoffs = [50]\n[[dimension]]\nname = \"d\"\n[[dimension.indicator]]\nname = \"x\"\ndeprived = \"age + 1\"\n").unwrap();
    let e = analyse_file(&m, &m.survey, &settings(), &data)
        .err()
        .unwrap()
        .to_string();
    assert!(e.contains("not true/false"), "{e}");
}

/// polars 0.55 panics on a Boolean operator between a number and a text aggregated over
/// the household (found by tests/fuzz.rs): the run gives an error that names the rule.
#[test]
fn a_rule_polars_panics_on_is_an_error_that_names_it() {
    let df = df!("hh" => [1, 1, 2], "x" => [1.0, 2.0, 3.0], "d" => [0, 1, 1]).unwrap();
    let m = methodology(
        &[
            "column = \"d\"",
            "name = \"r\"\ndeprived = \"1 AND '%'\"\naggregate = \"any\"",
        ],
        "[survey]\nhousehold = \"hh\"\n",
    );
    let e = analyse_frame(&df, &m, &m.survey, &settings(), Path::new("raw.csv"))
        .err()
        .expect("an error, not estimates")
        .to_string();
    assert!(e.contains("cannot evaluate the rule `1 AND '%'`"), "{e}");
}
