//! `afmpi assoc METHODOLOGY DATA [-o FILE]`: the association between every pair of
//! indicators — Cramér's V and the redundancy R0, among everyone and among the poor at
//! each cutoff, weighted — as a long table, and the uncensored matrix on the terminal.

use std::path::PathBuf;

use super::flags::{analysis_of, InferenceFlags, SurveyFlags};
use afmpi::{assoc, output, Result};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The methodology file (TOML).
    pub methodology: PathBuf,
    /// The survey file (.csv, .parquet, .dta, .sav).
    pub data: PathBuf,
    /// Where to write the table (.csv, .parquet or .json; - for standard output).
    #[arg(short, long, default_value = "association.csv")]
    pub output: PathBuf,
    #[command(flatten)]
    pub survey: SurveyFlags,
    #[command(flatten)]
    pub inference: InferenceFlags,
}

pub fn run(args: Args) -> Result<()> {
    let (analysis, _) = analysis_of(&args.methodology, &args.data, &args.survey, &args.inference)?;
    let matrices = assoc::of(&analysis)?;
    let mut frame = assoc::frame(&analysis, &matrices)?;
    output::write_frame(&mut frame, &args.output)?;
    if args.output.as_os_str() != "-" {
        print!("{}", assoc::summary(&analysis, &matrices));
        println!(
            "association: {} ({} rows)",
            args.output.display(),
            frame.height()
        );
    }
    Ok(())
}
