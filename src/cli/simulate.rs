//! `afmpi simulate -o FILE`: a synthetic survey for examples, tests and benchmarks.

use std::path::PathBuf;

use afmpi::simulate::{raw_survey, write_survey, Settings, PART_ROWS};
use afmpi::{output, Result};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Where to write the survey (.csv, .parquet or .json).
    #[arg(short, long)]
    pub output: PathBuf,
    /// Persons in all, over all rounds.
    #[arg(long, default_value_t = Settings::default().rows)]
    pub rows: usize,
    /// Number of survey rounds.
    #[arg(long, default_value_t = Settings::default().rounds)]
    pub rounds: usize,
    /// A raw survey (person rows with the harmonized variables of data/variables.md, one
    /// round) instead of one with ready deprivation columns.
    #[arg(long)]
    pub raw: bool,
    /// Random seed: the same seed gives the same file.
    #[arg(long, default_value_t = Settings::default().seed)]
    pub seed: u64,
}

pub fn run(args: Args) -> Result<()> {
    let settings = Settings {
        rows: args.rows,
        rounds: args.rounds,
        seed: args.seed,
        ..Settings::default()
    };
    let rows = if args.raw {
        let mut frame = raw_survey(&settings);
        output::write_frame(&mut frame, &args.output)?;
        frame.height()
    } else {
        write_survey(&settings, &args.output, PART_ROWS)?
    };
    println!(
        "wrote {} persons in {} round(s) to {}",
        output::count(rows),
        if args.raw { 1 } else { settings.rounds },
        args.output.display()
    );
    Ok(())
}
