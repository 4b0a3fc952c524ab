//! The engine's steps, measured with criterion: the tally pass over the rows (10^5, 10^6
//! and 10^7 persons; 10 indicators, 2 subgroup columns, strata and PSUs), the finishing
//! step (every measure, standard error and change for 3 cutoffs) on the resulting table,
//! and `run` end to end on a survey the size of Benin's DHS read from CSV.
//! At scale (issue 15), on the shapes of `afmpi simulate --shape`: the tally of the
//! survey shape (NFHS-5's 2,818,810 persons in 30,000 PSUs over 707 districts: about a
//! million cells), and the finishing step of the survey shape (746 domains) and of the
//! census shape over 1,122 municipalities (1,158 domains).
//! Run with `cargo bench --bench tally`; figures in BENCHMARKS.md.

use std::path::Path;

use afmpi::inference::Settings;
use afmpi::methodology::{IntegerWeights, Methodology};
use afmpi::simulate::shapes::{self, Shape};
use afmpi::simulate::{survey, Settings as Simulation};
use afmpi::{analyse_file, indicators, inference, measures, output, tally};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

fn methodology() -> (Methodology, afmpi::methodology::SurveyColumns) {
    let m = afmpi::methodology::from_file(Path::new(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/data/global-mpi.toml"
    )))
    .unwrap();
    let mut columns = m.survey.clone();
    columns.round = Some("t".into());
    columns.year = Some("year".into());
    (m, columns)
}

fn tally_pass(c: &mut Criterion) {
    let (m, columns) = methodology();
    let mut group = c.benchmark_group("tally");
    group.sample_size(10);
    for rows in [100_000usize, 1_000_000, 10_000_000] {
        let df = survey(&Simulation {
            rows,
            ..Simulation::default()
        });
        let (sample, _) = indicators::prepare(&df, &m, &columns, Path::new("bench")).unwrap();
        drop(df);
        group.throughput(Throughput::Elements(rows as u64));
        group.bench_with_input(BenchmarkId::new("rows", rows), &sample, |b, s| {
            b.iter(|| tally::tally(s).unwrap())
        });
    }
    group.finish();
}

fn finishing_step(c: &mut Criterion) {
    let (m, columns) = methodology();
    let weights = IntegerWeights::new(&m).unwrap();
    let df = survey(&Simulation {
        rows: 1_000_000,
        ..Simulation::default()
    });
    let (sample, _) = indicators::prepare(&df, &m, &columns, Path::new("bench")).unwrap();
    let table = tally::tally(&sample).unwrap();
    let mut group = c.benchmark_group("finishing");
    group.sample_size(10);
    let settings = Settings::default();
    let totals =
        || inference::Totals::new(&table, &sample, &weights, 0, settings.lonely_psu).unwrap();
    let estimate = |totals: &inference::Totals| {
        measures::estimate(&table, &totals.layout, &[], sample.round_info.len(), |d| {
            totals.of(d)
        })
    };
    group.bench_function(
        format!("totals per PSU and measures ({} cells)", table.cells.len()),
        |b| b.iter(|| estimate(&totals()).len()),
    );
    let totals = totals();
    let estimates = estimate(&totals);
    group.bench_function(
        format!("standard errors and changes ({} cells)", table.cells.len()),
        |b| b.iter(|| inference::infer(&totals, &sample, &estimates, &settings).unwrap()),
    );
    group.finish();
}

fn end_to_end(c: &mut Criterion) {
    let (m, columns) = methodology();
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("benin-sized.csv");
    let mut df = survey(&Simulation {
        rows: 72_412,
        rounds: 1,
        ..Simulation::default()
    });
    output::write_frame(&mut df, &path).unwrap();
    let mut group = c.benchmark_group("run");
    group.sample_size(20);
    group.bench_function("72,412 persons from CSV, 3 cutoffs, area and region", |b| {
        b.iter(|| {
            let a = analyse_file(&m, &columns, &Settings::default(), &path).unwrap();
            output::results_frame(&a).height()
        })
    });
    group.finish();
}

/// A shape's methodology (benches/shapes/) and sample.
fn shape(shape: Shape, rows: usize) -> (Methodology, afmpi::sample::Sample) {
    let name = format!("{shape:?}").to_lowercase();
    let path = format!("{}/benches/shapes/{name}.toml", env!("CARGO_MANIFEST_DIR"));
    let m = afmpi::methodology::from_file(Path::new(&path)).unwrap();
    let df = shapes::frame(shape, shapes::Size::rows(shape, rows), 1);
    let (sample, _) = indicators::prepare(&df, &m, &m.survey, Path::new("bench")).unwrap();
    (m, sample)
}

fn at_scale(c: &mut Criterion) {
    let mut group = c.benchmark_group("scale");
    group.sample_size(10);
    let (survey, sample) = shape(Shape::Survey, Shape::Survey.default_rows());
    let cells = tally::tally(&sample).unwrap().cells.len();
    group.throughput(Throughput::Elements(sample.len() as u64));
    group.bench_function(
        format!(
            "tally of the survey shape ({} persons, {cells} cells)",
            sample.len()
        ),
        |b| b.iter(|| tally::tally(&sample).unwrap().cells.len()),
    );
    let table = tally::tally(&sample).unwrap();
    finishing(&mut group, "survey", &survey, &sample, &table);
    drop((sample, table));
    let (m, sample) = shape(Shape::Census, 2_000_000);
    let table = tally::tally(&sample).unwrap();
    finishing(&mut group, "census", &m, &sample, &table);
    group.finish();
}

/// The finishing step of a shape's table: totals, estimates, standard errors.
fn finishing(
    group: &mut criterion::BenchmarkGroup<criterion::measurement::WallTime>,
    name: &str,
    m: &Methodology,
    sample: &afmpi::sample::Sample,
    table: &tally::Table,
) {
    let weights = IntegerWeights::new(m).unwrap();
    let settings = Settings::default();
    let domains = table.sample_sizes().len();
    group.throughput(Throughput::Elements(domains as u64));
    group.bench_function(
        format!(
            "finishing the {name} shape ({domains} domains, {} cells)",
            table.cells.len()
        ),
        |b| {
            b.iter(|| {
                let totals =
                    inference::Totals::new(table, sample, &weights, 0, settings.lonely_psu)
                        .unwrap();
                let estimates =
                    measures::estimate(table, &totals.layout, &[], sample.round_info.len(), |d| {
                        totals.of(d)
                    });
                inference::infer(&totals, sample, &estimates, &settings)
                    .unwrap()
                    .levels
                    .len()
            })
        },
    );
}

criterion_group!(benches, tally_pass, finishing_step, end_to_end, at_scale);
criterion_main!(benches);
