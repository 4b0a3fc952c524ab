//! Helpers shared by the integration tests.
#![allow(dead_code)]

use std::path::PathBuf;
use std::process::{Command, Output};

/// The README's main job: the example survey under the global MPI, with its rounds and
/// years (`run` or `report` goes before, `-o FILE` after).
pub const EXAMPLE: [&str; 6] = [
    "data/global-mpi.toml",
    "data/example.csv",
    "--round",
    "t",
    "--year",
    "year",
];

/// Runs the `afmpi` command in the project's folder.
pub fn afmpi(args: &[&str]) -> Output {
    Command::new(env!("CARGO_BIN_EXE_afmpi"))
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .output()
        .unwrap()
}

/// `../shared` beside the project, or `AFMPI_SHARED`. `None` (and a note) when absent,
/// unless `AFMPI_REQUIRE_SHARED` is set, when its absence fails the test.
pub fn shared_dir() -> Option<PathBuf> {
    let dir = std::env::var_os("AFMPI_SHARED")
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../shared"));
    if dir.join("reference").is_dir() && dir.join("data").is_dir() {
        return Some(dir);
    }
    if std::env::var_os("AFMPI_REQUIRE_SHARED").is_some() {
        panic!(
            "AFMPI_REQUIRE_SHARED is set but {} holds no data/ and reference/",
            dir.display()
        );
    }
    eprintln!(
        "skipped: {} not found (the conformance suite needs ../shared)",
        dir.display()
    );
    None
}

/// A methodology with the global MPI's nested weights on the d_* columns, as the
/// reference scripts set it up (dimension names, cutoffs and survey columns vary).
pub fn global_mpi_toml(dims: [&str; 3], cutoffs: &str, survey: &str) -> String {
    let groups: [&[&str]; 3] = [
        &["d_nutr", "d_cm"],
        &["d_satt", "d_educ"],
        &["d_elct", "d_sani", "d_wtr", "d_hsg", "d_ckfl", "d_asst"],
    ];
    let mut s = format!("name = \"gmpi\"\ncutoffs = {cutoffs}\n");
    for (name, columns) in dims.iter().zip(groups) {
        s.push_str(&format!("[[dimension]]\nname = \"{name}\"\n"));
        for c in columns {
            s.push_str(&format!("[[dimension.indicator]]\ncolumn = \"{c}\"\n"));
        }
    }
    s.push_str("[survey]\n");
    s.push_str(survey);
    s
}

/// A synthetic survey of `rows` persons (two rounds) with the shipped global MPI
/// methodology, its survey columns plus the round column `t`.
pub fn simulated(
    rows: usize,
) -> (
    polars::prelude::DataFrame,
    afmpi::methodology::Methodology,
    afmpi::methodology::SurveyColumns,
) {
    let df = afmpi::simulate::survey(&afmpi::simulate::Settings {
        rows,
        ..Default::default()
    });
    let m = afmpi::methodology::from_file(std::path::Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/global-mpi.toml"
    )))
    .unwrap();
    let mut survey = m.survey.clone();
    survey.round = Some("t".into());
    (df, m, survey)
}

/// Rows of a CSV file, and those with a value in every one of `columns` (the empty field
/// and `NA` missing): what a run that needs those columns uses, worked out apart from it.
pub fn complete_rows(csv: &std::path::Path, columns: &[&str]) -> (usize, usize) {
    use polars::prelude::*;
    let df = CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(None)
        .map_parse_options(|o| {
            o.with_null_values(Some(NullValues::AllColumns(vec!["".into(), "NA".into()])))
        })
        .try_into_reader_with_file_path(Some(csv.to_path_buf()))
        .unwrap()
        .finish()
        .unwrap();
    let complete = (0..df.height())
        .filter(|&i| {
            columns
                .iter()
                .all(|c| !df.column(c).unwrap().get(i).unwrap().is_null())
        })
        .count();
    (df.height(), complete)
}

/// A count with thousands separators, as the summary writes counts for people.
pub fn thousands(n: usize) -> String {
    let digits = n.to_string();
    let mut out = String::new();
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// The columns a run of the global MPI on ready d_* columns needs, but the design's.
pub const GLOBAL_MPI_INDICATORS: [&str; 10] = [
    "d_nutr", "d_cm", "d_satt", "d_educ", "d_elct", "d_wtr", "d_sani", "d_hsg", "d_ckfl", "d_asst",
];

/// What names an estimate across two analyses of one survey: measure, indicator, cutoff,
/// group, subgroup level (by label) and round (by label).
#[allow(clippy::type_complexity)]
pub fn estimate_key(
    a: &afmpi::Analysis,
    i: usize,
) -> (
    afmpi::measures::Measure,
    Option<usize>,
    Option<usize>,
    Option<usize>,
    Option<String>,
    String,
) {
    let e = &a.estimates[i];
    let subgroup = e
        .domain
        .subgroup
        .map(|(g, l)| a.sample.groupings[g].levels[l as usize].clone());
    (
        e.measure,
        e.indicator,
        e.cutoff,
        e.group,
        subgroup,
        a.sample.round_info[e.domain.round as usize].label.clone(),
    )
}

/// The example survey's strata and PSUs numbered alike in every round, as when a
/// survey's ids restart: PSUs 1000000 and 2000000 become 0, strata 100 and 200 become 0.
pub fn restart_ids_in_each_round(df: &mut polars::prelude::DataFrame) {
    use polars::prelude::*;
    for (name, modulus) in [("psu", 1_000i64), ("strata", 100)] {
        let x = df.column(name).unwrap().cast(&DataType::Int64).unwrap();
        let x: Int64Chunked = x
            .i64()
            .unwrap()
            .iter()
            .map(|v| v.map(|p| p % modulus))
            .collect();
        df.replace(name, x.with_name(name.into()).into_series().into())
            .unwrap();
    }
}

/// A CSV file read whole, its types inferred from every row.
pub fn read_csv(path: &std::path::Path) -> polars::prelude::DataFrame {
    use polars::prelude::*;
    CsvReadOptions::default()
        .with_has_header(true)
        .with_infer_schema_length(None)
        .try_into_reader_with_file_path(Some(path.to_path_buf()))
        .unwrap()
        .finish()
        .unwrap()
}

/// A column as numbers (missing as `None`).
pub fn numbers(df: &polars::prelude::DataFrame, name: &str) -> Vec<Option<f64>> {
    use polars::prelude::*;
    df.column(name)
        .unwrap()
        .cast(&DataType::Float64)
        .unwrap()
        .f64()
        .unwrap()
        .iter()
        .collect()
}

/// A column as text (missing as the empty string).
pub fn texts(df: &polars::prelude::DataFrame, name: &str) -> Vec<String> {
    use polars::prelude::*;
    df.column(name)
        .unwrap()
        .cast(&DataType::String)
        .unwrap()
        .str()
        .unwrap()
        .iter()
        .map(|v| v.unwrap_or("").to_string())
        .collect()
}

/// The global MPI's weight of a d_* column, written out here: nutrition, child
/// mortality, schooling and attendance 1/6; the six living standards 1/18.
pub fn global_mpi_weight(column: &str) -> num_rational::Ratio<i64> {
    match column {
        "d_nutr" | "d_cm" | "d_satt" | "d_educ" => num_rational::Ratio::new(1, 6),
        _ => num_rational::Ratio::new(1, 18),
    }
}

/// The stratified with-replacement variance of linearized values: per stratum (its
/// units' values), n/(n-1) Σ (z - z̄)², summed; a stratum of one unit adds nothing.
pub fn stratified_variance<'a>(strata: impl IntoIterator<Item = &'a Vec<f64>>) -> f64 {
    strata
        .into_iter()
        .filter(|z| z.len() > 1)
        .map(|z| {
            let n = z.len() as f64;
            let mean = z.iter().sum::<f64>() / n;
            n / (n - 1.0) * z.iter().map(|v| (v - mean).powi(2)).sum::<f64>()
        })
        .sum()
}

/// Values of functions of totals and their variances by a numerical delta method: `f`
/// of the totals, its gradient by central differences, and the stratified with-replacement
/// covariance of the totals per PSU (`rows` gives each row's stratum and PSU, a PSU met
/// in both rounds being one PSU, and its values of the totals).
pub fn delta_method(
    rows: &[((u32, u64), Vec<f64>)],
    f: impl Fn(&[f64]) -> Vec<f64>,
) -> (Vec<f64>, Vec<f64>) {
    let n = rows[0].1.len();
    let mut psus: std::collections::BTreeMap<(u32, u64), Vec<f64>> =
        std::collections::BTreeMap::new();
    let mut total = vec![0.0; n];
    for (unit, t) in rows {
        let p = psus.entry(*unit).or_insert_with(|| vec![0.0; n]);
        for k in 0..n {
            p[k] += t[k];
            total[k] += t[k];
        }
    }
    let mut strata: std::collections::BTreeMap<u32, Vec<Vec<f64>>> =
        std::collections::BTreeMap::new();
    for ((h, _), t) in psus {
        strata.entry(h).or_default().push(t);
    }
    let mut cov = vec![vec![0.0; n]; n];
    for units in strata.values().filter(|u| u.len() > 1) {
        let m = units.len() as f64;
        let mean: Vec<f64> = (0..n)
            .map(|k| units.iter().map(|u| u[k]).sum::<f64>() / m)
            .collect();
        for u in units {
            for a in 0..n {
                for b in 0..n {
                    cov[a][b] += m / (m - 1.0) * (u[a] - mean[a]) * (u[b] - mean[b]);
                }
            }
        }
    }
    let values = f(&total);
    let mut gradients = vec![vec![0.0; n]; values.len()];
    for k in 0..n {
        let step = total[k].abs().max(1.0) * 1e-6;
        let (mut up, mut down) = (total.clone(), total.clone());
        up[k] += step;
        down[k] -= step;
        let (fu, fd) = (f(&up), f(&down));
        for p in 0..values.len() {
            gradients[p][k] = (fu[p] - fd[p]) / (2.0 * step);
        }
    }
    let variances = gradients
        .iter()
        .map(|g| {
            (0..n)
                .map(|a| (0..n).map(|b| g[a] * cov[a][b] * g[b]).sum::<f64>())
                .sum::<f64>()
        })
        .collect();
    (values, variances)
}

/// The analysis of a synthetic survey of `rows` persons (two rounds, the shipped global
/// MPI) without its PSU column: each row is its own PSU.
pub fn each_row_a_psu(rows: usize) -> afmpi::Analysis {
    let (df, m, survey) = simulated(rows);
    let survey = afmpi::methodology::SurveyColumns {
        psu: None,
        ..survey
    };
    let settings = afmpi::inference::Settings::default();
    let a =
        afmpi::analyse_frame(&df, &m, &survey, &settings, std::path::Path::new("sim.csv")).unwrap();
    assert!(a.inference.design.psu_is_row);
    a
}
