//! The time polars alone needs to read columns of a survey file, for comparison with
//! `afmpi run` on the same file (scripts/bench.sh).
//!
//!     cargo run --release --example read_columns -- FILE COLUMN [COLUMN …]

use std::time::Instant;

use polars::prelude::*;

fn main() -> PolarsResult<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (file, columns) = args
        .split_first()
        .expect("usage: read_columns FILE COLUMN [COLUMN …]");
    let start = Instant::now();
    let path = PlRefPath::new(file.as_str());
    let frame = if file.ends_with(".parquet") {
        LazyFrame::scan_parquet(path, ScanArgsParquet::default())?
    } else {
        LazyCsvReader::new(path).with_has_header(true).finish()?
    };
    let exprs: Vec<Expr> = columns.iter().map(|c| col(c.as_str())).collect();
    let df = frame.select(exprs).collect()?;
    println!(
        "{} rows, {} columns read in {:.3} s",
        df.height(),
        df.width(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
