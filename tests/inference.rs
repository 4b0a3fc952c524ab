//! The statistics of inference beyond the references: a design whose variance is worked
//! out by hand, strata with a single PSU under each policy, three rounds of changes, and
//! the standard errors of contributions (which mpitbR does not give) against a numerical
//! delta method computed from the rows.

mod common;

use std::path::Path;

use afmpi::inference::{ChangePairs, ChangeType, Interval, LonelyPsu, Settings};
use afmpi::measures::{Estimate, Measure};
use afmpi::methodology::{IntegerWeights, Methodology, SurveyColumns};
use afmpi::{analyse_frame, Analysis, Error};
use approx::assert_relative_eq;
use polars::prelude::*;

/// One indicator of weight 1, k = 100%: poor = deprived.
fn one_indicator() -> Methodology {
    afmpi::methodology::from_toml("name = \"h\"\ncutoffs = [100]\n[[dimension]]\nname = \"d\"\n[[dimension.indicator]]\ncolumn = \"y\"\n").unwrap()
}

fn design() -> SurveyColumns {
    SurveyColumns {
        weight: Some("w".into()),
        strata: Some("h".into()),
        psu: Some("c".into()),
        ..Default::default()
    }
}

/// Persons: (stratum, PSU, weight, deprived).
fn persons(rows: &[(&str, &str, f64, i32)]) -> DataFrame {
    df!(
        "h" => rows.iter().map(|r| r.0).collect::<Vec<_>>(),
        "c" => rows.iter().map(|r| r.1).collect::<Vec<_>>(),
        "w" => rows.iter().map(|r| r.2).collect::<Vec<_>>(),
        "y" => rows.iter().map(|r| r.3).collect::<Vec<_>>()
    )
    .unwrap()
}

fn national(a: &Analysis, measure: Measure) -> (f64, afmpi::inference::Precision) {
    let i = a
        .estimates
        .iter()
        .position(|e: &Estimate| {
            e.measure == measure && e.domain.subgroup.is_none() && e.indicator.is_none()
        })
        .unwrap();
    (a.estimates[i].b, a.inference.levels[i])
}

const TWO_STRATA: [(&str, &str, f64, i32); 6] = [
    ("A", "a1", 1.0, 1),
    ("A", "a1", 1.0, 0),
    ("A", "a2", 2.0, 1),
    ("B", "b1", 1.0, 0),
    ("B", "b2", 1.0, 0),
    ("B", "b2", 2.0, 1),
];

/// H = 5/8. z_i = w_i (y_i − 5/8) / 8, so 8 × the PSU totals are a1 −0.25, a2 0.75,
/// b1 −0.625, b2 0.125. Stratum A: deviations ±0.5, 2/1 × 0.5 = 1; stratum B: deviations
/// ±0.375, 2/1 × 0.28125 = 0.5625. V = 1.5625 / 64, se = 0.15625 exactly. Two degrees of
/// freedom: with two, the t quantile has a closed form, t(p, 2) = (2p − 1) / √(2p(1 − p)).
#[test]
fn a_design_worked_out_by_hand() {
    let m = one_indicator();
    let a = analyse_frame(
        &persons(&TWO_STRATA),
        &m,
        &design(),
        &Settings::default(),
        Path::new("t.csv"),
    )
    .unwrap();
    let (b, p) = national(&a, Measure::H);
    assert_eq!(b, 0.625);
    assert_relative_eq!(p.se, 0.15625, max_relative = 1e-14);
    assert_eq!(a.inference.design.df, 2.0);
    let t = 0.95 / (2.0f64 * 0.975 * 0.025).sqrt();
    let logit = (0.625f64 / 0.375).ln();
    let half = t * 0.15625 / (0.625 * 0.375);
    let expit = |x: f64| 1.0 / (1.0 + (-x).exp());
    assert_relative_eq!(p.ll, expit(logit - half), max_relative = 1e-12);
    assert_relative_eq!(p.ul, expit(logit + half), max_relative = 1e-12);
    // Wald: symmetric, with the same t.
    let wald = Settings {
        interval: Interval::Wald,
        ..Settings::default()
    };
    let a = analyse_frame(
        &persons(&TWO_STRATA),
        &m,
        &design(),
        &wald,
        Path::new("t.csv"),
    )
    .unwrap();
    let (_, p) = national(&a, Measure::H);
    assert_relative_eq!(p.ll, 0.625 - t * 0.15625, max_relative = 1e-12);
    assert_relative_eq!(p.ul, 0.625 + t * 0.15625, max_relative = 1e-12);
}

/// Without strata and PSU columns each row is its own PSU in one stratum: the simple
/// random sampling variance n/(n−1) Σ (z_i − z̄)².
#[test]
fn without_a_design_each_row_is_a_psu() {
    let m = one_indicator();
    let survey = SurveyColumns {
        weight: Some("w".into()),
        ..Default::default()
    };
    let a = analyse_frame(
        &persons(&TWO_STRATA),
        &m,
        &survey,
        &Settings::default(),
        Path::new("t.csv"),
    )
    .unwrap();
    let z: Vec<f64> = TWO_STRATA
        .iter()
        .map(|r| r.2 * (r.3 as f64 - 0.625) / 8.0)
        .collect();
    let v = 6.0 / 5.0 * z.iter().map(|z| z * z).sum::<f64>();
    assert_relative_eq!(
        national(&a, Measure::H).1.se,
        v.sqrt(),
        max_relative = 1e-14
    );
    assert_eq!(a.inference.design.df, 5.0);
    assert!(a
        .report
        .notes
        .iter()
        .any(|n| n.contains("each row is its own primary sampling unit")));
}

/// Stratum C has a single PSU (one person of weight 2, deprived): H = 7/10.
#[test]
fn a_stratum_with_a_single_psu_under_each_policy() {
    let mut rows = TWO_STRATA.to_vec();
    rows.push(("C", "c1", 2.0, 1));
    let m = one_indicator();
    let run = |lonely_psu| {
        let settings = Settings {
            lonely_psu,
            ..Settings::default()
        };
        analyse_frame(
            &persons(&rows),
            &m,
            &design(),
            &settings,
            Path::new("t.csv"),
        )
    };
    // fail: an error that names the stratum and tells what to do.
    match run(LonelyPsu::Fail) {
        Err(e @ Error::Usage(_)) => {
            let e = e.to_string();
            assert!(
                e.contains("stratum C has a single primary sampling unit")
                    && e.contains("--lonely-psu"),
                "{e}"
            );
        }
        Err(e) => panic!("unexpected error {e}"),
        Ok(_) => panic!("a single-PSU stratum must fail by default"),
    }
    // PSU totals of z = w (y − 0.7) / 10, times 10: a1 −0.4, a2 0.6, b1 −0.7, b2 −0.1, c1 0.6.
    let (a1, a2, b1, b2, c1) = (-0.4, 0.6, -0.7, -0.1, 0.6);
    let stratum =
        |x: f64, y: f64| 2.0 * ((x - (x + y) / 2.0).powi(2) + (y - (x + y) / 2.0).powi(2));
    let (va, vb) = (stratum(a1, a2) / 100.0, stratum(b1, b2) / 100.0);
    let se = |lonely| national(&run(lonely).unwrap(), Measure::H).1.se;
    assert_relative_eq!(
        se(LonelyPsu::Remove),
        (va + vb).sqrt(),
        max_relative = 1e-12
    );
    // adjust: the lonely PSU's total is centred on the mean of all 5 PSU totals (0 here,
    // since z sums to zero over the sample for a national mean).
    let centre = (a1 + a2 + b1 + b2 + c1) / 5.0;
    assert_relative_eq!(
        se(LonelyPsu::Adjust),
        (va + vb + (c1 - centre).powi(2) / 100.0).sqrt(),
        max_relative = 1e-12
    );
    // average: the two other strata's contributions, scaled by 3 strata / 2.
    assert_relative_eq!(
        se(LonelyPsu::Average),
        ((va + vb) * 1.5).sqrt(),
        max_relative = 1e-12
    );
    let a = run(LonelyPsu::Remove).unwrap();
    assert_eq!(a.inference.design.lonely.len(), 1);
    assert_eq!(a.inference.design.df, 2.0);
}

/// Under `adjust` in a subgroup domain: the lonely PSU's domain total is centred on the
/// grand mean of the design's PSU totals, worked out here from the rows. That mean is zero
/// for every ratio estimator (Σ D w (y − R) = 0 whatever the domain), which the test
/// checks too, so `adjust` adds the lonely PSU's squared total where the domain has
/// members in it, and nothing where it has none.
#[test]
fn a_lonely_stratum_under_adjust_in_a_subgroup() {
    // (stratum, PSU, weight, deprived, subgroup): C is a single PSU, with one member of x.
    let rows = [
        ("A", "a1", 1.0, 1, "x"),
        ("A", "a1", 1.0, 0, "y"),
        ("A", "a2", 2.0, 1, "x"),
        ("B", "b1", 1.0, 0, "x"),
        ("B", "b2", 1.0, 0, "y"),
        ("B", "b2", 2.0, 1, "x"),
        ("C", "c1", 2.0, 1, "x"),
    ];
    let mut df = persons(&rows.map(|r| (r.0, r.1, r.2, r.3)));
    df.with_column(Column::new("g".into(), rows.map(|r| r.4)))
        .unwrap();
    let survey = SurveyColumns {
        over: vec!["g".into()],
        ..design()
    };
    let se_of = |lonely_psu, level: &str| {
        let settings = Settings {
            lonely_psu,
            ..Settings::default()
        };
        let a = analyse_frame(
            &df,
            &one_indicator(),
            &survey,
            &settings,
            Path::new("t.csv"),
        )
        .unwrap();
        let l = a.sample.groupings[0]
            .levels
            .iter()
            .position(|l| l == level)
            .unwrap();
        let i = a
            .estimates
            .iter()
            .position(|e| e.measure == Measure::H && e.domain.subgroup == Some((0, l as u32)))
            .unwrap();
        a.inference.levels[i].se
    };
    // By hand, from the rows: z = D w (y − R) / Σ D w, added up per PSU.
    let by_hand = |level: &str, adjust: bool| {
        let in_domain: Vec<_> = rows.iter().filter(|r| r.4 == level).collect();
        let w: f64 = in_domain.iter().map(|r| r.2).sum();
        let r = in_domain.iter().map(|r| r.2 * r.3 as f64).sum::<f64>() / w;
        let psus = ["a1", "a2", "b1", "b2", "c1"];
        let total = |psu: &str| {
            in_domain
                .iter()
                .filter(|p| p.1 == psu)
                .map(|p| p.2 * (p.3 as f64 - r) / w)
                .sum::<f64>()
        };
        let totals: Vec<f64> = psus.iter().map(|p| total(p)).collect();
        let grand_mean = totals.iter().sum::<f64>() / 5.0;
        assert!(grand_mean.abs() < 1e-15, "the grand mean is {grand_mean}");
        let stratum =
            |x: f64, y: f64| 2.0 * ((x - (x + y) / 2.0).powi(2) + (y - (x + y) / 2.0).powi(2));
        let mut v = stratum(totals[0], totals[1]) + stratum(totals[2], totals[3]);
        if adjust {
            v += (totals[4] - grand_mean).powi(2);
        }
        v.sqrt()
    };
    for level in ["x", "y"] {
        assert_relative_eq!(
            se_of(LonelyPsu::Adjust, level),
            by_hand(level, true),
            max_relative = 1e-12
        );
        assert_relative_eq!(
            se_of(LonelyPsu::Remove, level),
            by_hand(level, false),
            max_relative = 1e-12
        );
    }
    // In x the lonely PSU has a member: adjust adds its share; in y it has none.
    assert!(se_of(LonelyPsu::Adjust, "x") > se_of(LonelyPsu::Remove, "x"));
    assert_eq!(se_of(LonelyPsu::Adjust, "y"), se_of(LonelyPsu::Remove, "y"));
}

/// The error names the round of a lonely stratum too.
#[test]
fn a_lonely_stratum_error_names_the_round() {
    let mut df = persons(&[
        ("A", "a1", 1.0, 1),
        ("A", "a2", 1.0, 0),
        ("B", "b1", 1.0, 1),
    ]);
    df.with_column(Column::new("t".into(), ["2006", "2006", "2017"]))
        .unwrap();
    let survey = SurveyColumns {
        round: Some("t".into()),
        ..design()
    };
    let e = analyse_frame(
        &df,
        &one_indicator(),
        &survey,
        &Settings::default(),
        Path::new("t.csv"),
    )
    .err()
    .unwrap();
    assert!(e.to_string().contains("stratum B (round 2017)"), "{e}");
}

/// Three rounds in separate PSUs: changes of each pair, consecutive and total, with
/// variances that add up because the rounds are independent samples.
#[test]
fn changes_over_three_rounds() {
    let df = afmpi::simulate::survey(&afmpi::simulate::Settings {
        rows: 9000,
        rounds: 3,
        ..Default::default()
    });
    let (_, m, survey) = common::simulated(0);
    let survey = SurveyColumns {
        year: Some("year".into()),
        ..survey
    };
    for (pairs, expected) in [
        (ChangePairs::Insequence, vec![(0, 1), (1, 2)]),
        (ChangePairs::Total, vec![(0, 2)]),
    ] {
        let settings = Settings {
            changes: pairs,
            ..Settings::default()
        };
        let a = analyse_frame(&df, &m, &survey, &settings, Path::new("sim.csv")).unwrap();
        assert_eq!(a.sample.round_info.len(), 3);
        let level = |round: u32| {
            let i = a
                .estimates
                .iter()
                .position(|e| {
                    e.measure == Measure::M0
                        && e.cutoff == Some(1)
                        && e.domain.subgroup.is_none()
                        && e.domain.round == round
                })
                .unwrap();
            (a.estimates[i].b, a.inference.levels[i].se)
        };
        let national: Vec<_> = a
            .inference
            .changes
            .iter()
            .filter(|c| {
                (c.measure, c.cutoff, c.subgroup, c.over) == (Measure::M0, Some(1), None, None)
            })
            .collect();
        // Per pair: abs, rel, and M0's two parts, each plain and annualized.
        assert_eq!(national.len(), expected.len() * 8);
        for (t0, t1) in expected {
            let ((b0, s0), (b1, s1)) = (level(t0), level(t1));
            let find = |ctype, annualized| {
                national
                    .iter()
                    .find(|c| {
                        c.t0 == t0 && c.t1 == t1 && c.ctype == ctype && c.annualized == annualized
                    })
                    .unwrap()
            };
            let abs = find(ChangeType::Abs, false);
            assert_relative_eq!(abs.b, b1 - b0, max_relative = 1e-12);
            assert_relative_eq!(
                abs.precision.se,
                (s0 * s0 + s1 * s1).sqrt(),
                max_relative = 1e-9
            );
            let z = 1.959963984540054;
            assert_relative_eq!(
                abs.precision.ll,
                abs.b - z * abs.precision.se,
                max_relative = 1e-12
            );
            let rel = find(ChangeType::Rel, false);
            assert_relative_eq!(rel.b, 100.0 * (b1 - b0) / b0, max_relative = 1e-12);
            let rel_se = 100.0 * ((s1 / b0).powi(2) + (b1 * s0 / (b0 * b0)).powi(2)).sqrt();
            assert_relative_eq!(rel.precision.se, rel_se, max_relative = 1e-9);
            // Seven years between rounds (2012, 2019, 2026).
            let years = 7.0 * (t1 - t0) as f64;
            let ann = find(ChangeType::Abs, true);
            assert_relative_eq!(ann.b, (b1 - b0) / years, max_relative = 1e-12);
            assert_relative_eq!(
                ann.precision.se,
                abs.precision.se / years,
                max_relative = 1e-12
            );
            let ann_rel = find(ChangeType::Rel, true);
            assert_relative_eq!(
                ann_rel.b,
                100.0 * ((b1 / b0).powf(1.0 / years) - 1.0),
                max_relative = 1e-12
            );
            // The delta method for the annualized relative change, by finite differences.
            let f = |b0: f64, b1: f64| 100.0 * ((b1 / b0).powf(1.0 / years) - 1.0);
            let h = 1e-6;
            let g0 = (f(b0 + h, b1) - f(b0 - h, b1)) / (2.0 * h);
            let g1 = (f(b0, b1 + h) - f(b0, b1 - h)) / (2.0 * h);
            let se = ((g0 * s0).powi(2) + (g1 * s1).powi(2)).sqrt();
            assert_relative_eq!(ann_rel.precision.se, se, max_relative = 1e-6);
        }
    }
}

/// A stratified covariance matrix of PSU totals, computed straight from the rows.
fn stratified_covariance(rows: &[(u32, u32, [f64; 2])]) -> [[f64; 2]; 2] {
    use std::collections::BTreeMap;
    let mut psu: BTreeMap<(u32, u32), [f64; 2]> = BTreeMap::new();
    for &(h, c, t) in rows {
        let e = psu.entry((h, c)).or_insert([0.0; 2]);
        e[0] += t[0];
        e[1] += t[1];
    }
    let mut strata: BTreeMap<u32, Vec<[f64; 2]>> = BTreeMap::new();
    for ((h, _), t) in psu {
        strata.entry(h).or_default().push(t);
    }
    let mut v = [[0.0; 2]; 2];
    for totals in strata.values() {
        let n = totals.len() as f64;
        let mean = [
            totals.iter().map(|t| t[0]).sum::<f64>() / n,
            totals.iter().map(|t| t[1]).sum::<f64>() / n,
        ];
        for t in totals {
            for a in 0..2 {
                for b in 0..2 {
                    v[a][b] += n / (n - 1.0) * (t[a] - mean[a]) * (t[b] - mean[b]);
                }
            }
        }
    }
    v
}

/// actb and pctb are ratios of totals, Y / X; their standard errors by the numerical
/// delta method on the covariance of (Y, X) computed from the rows agree with ours.
#[test]
fn contribution_standard_errors_by_a_numerical_delta_method() {
    let (df, m, survey) = common::simulated(4000);
    let a = analyse_frame(&df, &m, &survey, &Settings::default(), Path::new("sim.csv")).unwrap();
    let iw = IntegerWeights::new(&m).unwrap();
    let s = &a.sample;
    let cutoff = 1; // k = 1/3
    let mut checked = 0;
    for j in [0usize, 4, 9] {
        let wj = m.indicators[j].weight.to_f64();
        for measure in [Measure::Actb, Measure::Pctb, Measure::Hdk] {
            // Round 1, national: totals of y and x per person in the domain.
            let rows: Vec<(u32, u32, [f64; 2])> = (0..s.len())
                .filter(|&i| s.rounds[i] == 0)
                .map(|i| {
                    let p = s.profiles[i];
                    let poor = iw.poor(iw.score(p), cutoff);
                    let deprived = (p >> j & 1 == 1) && poor;
                    let censored = if poor { iw.score_f64(p) } else { 0.0 };
                    let (y, x) = match measure {
                        Measure::Actb => (wj * f64::from(u8::from(deprived)), 1.0),
                        Measure::Pctb => (wj * f64::from(u8::from(deprived)), censored),
                        _ => (f64::from(u8::from(deprived)), 1.0),
                    };
                    (s.strata[i], s.psus[i], [s.weights[i] * y, s.weights[i] * x])
                })
                .collect();
            let total = |k: usize| rows.iter().map(|r| r.2[k]).sum::<f64>();
            let (y, x) = (total(0), total(1));
            let v = stratified_covariance(&rows);
            let ratio = |y: f64, x: f64| y / x;
            let (hy, hx) = (y * 1e-6, x * 1e-6);
            let g = [
                (ratio(y + hy, x) - ratio(y - hy, x)) / (2.0 * hy),
                (ratio(y, x + hx) - ratio(y, x - hx)) / (2.0 * hx),
            ];
            let se = (g[0] * g[0] * v[0][0] + 2.0 * g[0] * g[1] * v[0][1] + g[1] * g[1] * v[1][1])
                .sqrt();
            let i = a
                .estimates
                .iter()
                .position(|e| {
                    e.measure == measure
                        && e.indicator == Some(j)
                        && e.cutoff == Some(cutoff)
                        && e.domain.subgroup.is_none()
                        && e.domain.round == 0
                })
                .unwrap();
            assert_relative_eq!(a.estimates[i].b, y / x, max_relative = 1e-12);
            assert_relative_eq!(a.inference.levels[i].se, se, max_relative = 1e-6);
            checked += 1;
        }
    }
    assert_eq!(checked, 9);
}

/// The t quantile stays right for the degrees of freedom of a census (each person a PSU):
/// the expansion used above 10^4 meets statrs' value there, and tends to the normal
/// quantile.
#[test]
fn t_quantiles_for_census_sized_designs() {
    use afmpi::inference::t_quantile;
    use statrs::distribution::{ContinuousCDF, Normal, StudentsT};
    let z = Normal::new(0.0, 1.0).unwrap().inverse_cdf(0.975);
    // Closed forms of Student's t quantile (Hill 1970): 1, 2 and 4 degrees of freedom.
    let p: f64 = 0.975;
    let alpha = 4.0 * p * (1.0 - p);
    let closed = [
        (1.0, (std::f64::consts::PI * (p - 0.5)).tan()),
        (2.0, (2.0 * p - 1.0) / (2.0 * p * (1.0 - p)).sqrt()),
        (4.0, {
            let theta = alpha.sqrt().acos();
            2.0 * ((theta / 3.0).cos() / alpha.sqrt() - 1.0).sqrt()
        }),
    ];
    for (df, t) in closed {
        let ours = t_quantile(p, df);
        assert!((ours - t).abs() < 1e-9 * t, "df {df}: {ours} against {t}");
    }
    // Elsewhere below the switch: the quantile is where the distribution function
    // (statrs' incomplete beta, not the inverse the quantile comes from) reaches p.
    for df in [3.0, 30.0, 228.0, 1e3, 1e4] {
        let t = t_quantile(p, df);
        let cdf = StudentsT::new(0.0, 1.0, df).unwrap().cdf(t);
        assert!((cdf - p).abs() < 1e-12, "df {df}: F({t}) = {cdf}");
    }
    // Just above the switch, the expansion agrees with statrs (still accurate there).
    let above = 1e4 + 1.0;
    let statrs = StudentsT::new(0.0, 1.0, above).unwrap().inverse_cdf(0.975);
    assert!((t_quantile(0.975, above) - statrs).abs() < 1e-11);
    // t(0.975, df) decreases to z.
    let mut last = t_quantile(0.975, 1e4 + 1.0);
    for df in [1e5, 1e6, 1e7, 1e8, 1e12] {
        let t = t_quantile(0.975, df);
        assert!(t < last && t > z, "t at {df} = {t}");
        last = t;
    }
    assert!((t_quantile(0.975, 1e8) - z).abs() < 1e-7);
    assert!(t_quantile(0.975, 0.5).is_nan());
}
