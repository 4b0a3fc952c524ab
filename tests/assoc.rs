//! `afmpi assoc` end to end: the table's Cramér's V and R0 against the same shares worked
//! out row by row from the example survey with polars (rows missing an indicator left
//! out, as the run leaves them out), among everyone and among the poor.

mod common;

use polars::prelude::*;

fn shares(df: &DataFrame, j: &str, k: &str) -> (f64, f64) {
    let w = df.column("weight").unwrap().f64().unwrap().clone();
    let a = df.column(j).unwrap().cast(&DataType::Float64).unwrap();
    let b = df.column(k).unwrap().cast(&DataType::Float64).unwrap();
    let (a, b) = (a.f64().unwrap(), b.f64().unwrap());
    let (mut total, mut pj, mut pk, mut pjk) = (0.0, 0.0, 0.0, 0.0);
    for ((w, x), y) in w.iter().zip(a.iter()).zip(b.iter()) {
        let (w, x, y) = (w.unwrap(), x.unwrap(), y.unwrap());
        total += w;
        pj += w * x;
        pk += w * y;
        pjk += w * x * y;
    }
    let (pj, pk, pjk) = (pj / total, pk / total, pjk / total);
    let v = (pjk - pj * pk) / (pj * (1.0 - pj) * pk * (1.0 - pk)).sqrt();
    (v, pjk / pj.min(pk))
}

#[test]
fn association_of_the_example_by_hand() {
    let dir = tempfile::tempdir().unwrap();
    let out = dir.path().join("assoc.csv");
    let o = common::afmpi(&[
        "assoc",
        "data/global-mpi.toml",
        "data/example.csv",
        "--round",
        "t",
        "--year",
        "year",
        "-o",
        out.to_str().unwrap(),
    ]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    let table = CsvReadOptions::default()
        .with_infer_schema_length(None)
        .try_into_reader_with_file_path(Some(out.clone()))
        .unwrap()
        .finish()
        .unwrap();
    let value = |population: &str, k: Option<f64>, a: &str, b: &str, measure: &str| -> f64 {
        let f = table
            .clone()
            .lazy()
            .filter(
                col("population")
                    .eq(lit(population))
                    .and(col("t").cast(DataType::String).eq(lit("1")))
                    .and(col("indicator_1").eq(lit(a)))
                    .and(col("indicator_2").eq(lit(b)))
                    .and(col("measure").eq(lit(measure)))
                    .and(match k {
                        None => col("k").is_null(),
                        Some(k) => (col("k") - lit(k)).abs().lt(lit(0.01)),
                    }),
            )
            .collect()
            .unwrap();
        assert_eq!(f.height(), 1, "{population} {k:?} {a} {b} {measure}");
        f.column("b").unwrap().f64().unwrap().get(0).unwrap()
    };
    let indicators = [
        "d_nutr", "d_cm", "d_satt", "d_educ", "d_elct", "d_wtr", "d_sani", "d_hsg", "d_ckfl",
        "d_asst",
    ];
    let survey = CsvReadOptions::default()
        .with_infer_schema_length(None)
        .try_into_reader_with_file_path(Some(std::path::PathBuf::from(concat!(
            env!("CARGO_MANIFEST_DIR"),
            "/data/example.csv"
        ))))
        .unwrap()
        .finish()
        .unwrap()
        .lazy()
        .filter(col("t").eq(lit(1)))
        .drop_nulls(Some(cols(indicators)))
        .collect()
        .unwrap();
    for (a, b) in [
        ("d_nutr", "d_cm"),
        ("d_satt", "d_asst"),
        ("d_elct", "d_ckfl"),
    ] {
        let (v, r0) = shares(&survey, a, b);
        approx::assert_relative_eq!(
            value("all", None, a, b, "cramers_v"),
            v,
            max_relative = 1e-10
        );
        approx::assert_relative_eq!(value("all", None, a, b, "r0"), r0, max_relative = 1e-10);
    }
    // The poor at k = 1/3: the global MPI's weights (1/6 for health and education
    // indicators, 1/18 for living standards), 18 × score >= 6.
    let score = indicators
        .iter()
        .enumerate()
        .map(|(j, c)| col(*c).cast(DataType::Float64) * lit(if j < 4 { 3.0 } else { 1.0 }))
        .reduce(|x, y| x + y)
        .unwrap();
    let poor = survey
        .clone()
        .lazy()
        .filter(score.gt_eq(lit(6.0)))
        .collect()
        .unwrap();
    let (v, r0) = shares(&poor, "d_nutr", "d_cm");
    approx::assert_relative_eq!(
        value("poor", Some(33.33), "d_nutr", "d_cm", "cramers_v"),
        v,
        max_relative = 1e-10
    );
    approx::assert_relative_eq!(
        value("poor", Some(33.33), "d_nutr", "d_cm", "r0"),
        r0,
        max_relative = 1e-10
    );
}
