//! The time polars alone needs to read columns of a survey file, for comparison with
//! `afmpi run` on the same file (scripts/bench.sh).
//!
//!     cargo run --release --example read_columns -- FILE COLUMN[:text] [COLUMN[:text] …]
//!
//! CSV columns are read with the types afmpi gives them — numbers as Float64, columns
//! marked `:text` (subgroups, design) as text — not inferred from the first rows, which
//! survey files defeat (a year turning into 2017.5 deep inside).

use std::time::Instant;

use polars::prelude::*;

fn main() -> PolarsResult<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let (file, columns) = args
        .split_first()
        .expect("usage: read_columns FILE COLUMN[:text] [COLUMN[:text] …]");
    let start = Instant::now();
    let path = PlRefPath::new(file.as_str());
    let mut schema = Schema::default();
    let names: Vec<&str> = columns
        .iter()
        .map(|c| match c.strip_suffix(":text") {
            Some(name) => {
                schema.with_column(name.into(), DataType::String);
                name
            }
            None => {
                schema.with_column(c.as_str().into(), DataType::Float64);
                c.as_str()
            }
        })
        .collect();
    let frame = if file.ends_with(".parquet") {
        LazyFrame::scan_parquet(path, ScanArgsParquet::default())?
    } else {
        LazyCsvReader::new(path)
            .with_has_header(true)
            .with_dtype_overwrite(Some(Arc::new(schema)))
            .finish()?
    };
    let exprs: Vec<Expr> = names.iter().map(|c| col(*c)).collect();
    let df = frame.select(exprs).collect()?;
    println!(
        "{} rows, {} columns read in {:.3} s",
        df.height(),
        df.width(),
        start.elapsed().as_secs_f64()
    );
    Ok(())
}
