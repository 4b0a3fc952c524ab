//! The engine's two steps on a synthetic survey: the tally pass over the rows, and the
//! finishing step (every measure for every domain and cutoff) on the resulting table.
//! Run with `cargo bench --bench tally`.

use std::path::Path;

use afmpi::methodology::{IntegerWeights, Methodology};
use afmpi::simulate::{survey, Settings};
use afmpi::{indicators, measures, tally};
use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};

fn engine(c: &mut Criterion) {
    let text =
        std::fs::read_to_string(concat!(env!("CARGO_MANIFEST_DIR"), "/data/global-mpi.toml"))
            .unwrap();
    let m = Methodology::from_toml(&text).unwrap();
    let mut columns = m.survey.clone();
    columns.round = Some("t".into());
    let weights = IntegerWeights::new(&m).unwrap();
    let mut group = c.benchmark_group("tally");
    for rows in [100_000usize, 1_000_000] {
        let df = survey(&Settings {
            rows,
            ..Settings::default()
        });
        let (sample, _) = indicators::prepare(&df, &m, &columns, Path::new("bench")).unwrap();
        group.throughput(Throughput::Elements(rows as u64));
        group.bench_with_input(BenchmarkId::new("rows", rows), &sample, |b, s| {
            b.iter(|| tally::tally(s))
        });
    }
    group.finish();
    let df = survey(&Settings {
        rows: 100_000,
        ..Settings::default()
    });
    let (sample, _) = indicators::prepare(&df, &m, &columns, Path::new("bench")).unwrap();
    let table = tally::tally(&sample);
    c.bench_function("measures/100000-row table", |b| {
        b.iter(|| measures::estimate(&table, &weights, &[], sample.round_info.len()))
    });
}

criterion_group!(benches, engine);
criterion_main!(benches);
