//! `afmpi describe DATA [--columns A,B]`: the columns of a survey file — type, missing
//! values, distinct values, the most common values, labels — to write rules with.

use std::path::PathBuf;

use super::flags::FileFlags;
use afmpi::output::count;
use afmpi::{describe, read, Result};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The survey file (.csv, .parquet, .dta, .sav).
    pub data: PathBuf,
    /// Only these columns (comma-separated).
    #[arg(long, value_delimiter = ',')]
    pub columns: Vec<String>,
    #[command(flatten)]
    pub file: FileFlags,
}

pub fn run(args: Args) -> Result<()> {
    let mut survey = afmpi::methodology::SurveyColumns::default();
    args.file.apply(&mut survey);
    let d = describe::describe(&args.data, &args.columns, &read::FileSettings::of(&survey)?)?;
    println!(
        "{}: {} rows, {} columns",
        args.data.display(),
        count(d.rows),
        d.columns.len()
    );
    if let Some(dialect) = &d.dialect {
        println!("read as CSV: {dialect}");
    }
    let width = d
        .columns
        .iter()
        .map(|c| c.name.len())
        .max()
        .unwrap_or(6)
        .max(6);
    println!(
        "{:<width$}  {:<8} {:>9} {:>9}  most common values (count)",
        "column", "type", "missing", "distinct"
    );
    for c in &d.columns {
        let common: Vec<String> = c
            .common
            .iter()
            .map(|(v, k)| format!("{v} ({})", count(*k)))
            .collect();
        let more = if c.distinct > c.common.len() {
            ", …"
        } else {
            ""
        };
        println!(
            "{:<width$}  {:<8} {:>9} {:>9}  {}{more}",
            c.name,
            c.dtype,
            count(c.missing),
            count(c.distinct),
            common.join(", ")
        );
        if let Some(label) = &c.label {
            println!("{:<width$}  label: {label}", "");
        }
        if !c.value_labels.is_empty() {
            let labels: Vec<String> = c
                .value_labels
                .iter()
                .map(|(code, l)| format!("{code} = {l}"))
                .collect();
            println!("{:<width$}  values: {}", "", labels.join(", "));
        }
    }
    Ok(())
}
