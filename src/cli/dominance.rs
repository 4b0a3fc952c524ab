//! `afmpi dominance METHODOLOGY DATA [--k-range FROM:TO] [-o FILE]`: for every two
//! levels of a subgroup column and every two rounds, H(k) and M0(k) compared at every
//! attainable cutoff — the ranges of k where one is significantly above the other, and
//! whether one dominates at every k — as a long table, and the summary on the terminal.

use std::path::PathBuf;

use super::flags::{analysis_of, InferenceFlags, SurveyFlags};
use super::robustness::{nothing_to_compare, range_bounds};
use afmpi::{output, robustness, Result};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The methodology file (TOML).
    pub methodology: PathBuf,
    /// The survey file (.csv, .parquet, .dta, .sav).
    pub data: PathBuf,
    /// Only the attainable cutoffs from FROM to TO (inclusive), e.g. 20:60; default all.
    #[arg(long)]
    pub k_range: Option<String>,
    /// Where to write the table (.csv, .parquet or .json; - for standard output).
    #[arg(short, long, default_value = "dominance.csv")]
    pub output: PathBuf,
    #[command(flatten)]
    pub survey: SurveyFlags,
    #[command(flatten)]
    pub inference: InferenceFlags,
}

pub fn run(args: Args) -> Result<()> {
    let bounds = args.k_range.as_deref().map(range_bounds).transpose()?;
    let (analysis, settings) =
        analysis_of(&args.methodology, &args.data, &args.survey, &args.inference)?;
    nothing_to_compare(&analysis, &args.data)?;
    let found = robustness::dominance::dominance(
        &analysis,
        &settings,
        bounds.map(|b| b.0),
        bounds.map(|b| b.1),
    )?;
    let mut frame = robustness::dominance_frame(&analysis, &found);
    output::write_frame(&mut frame, &args.output)?;
    if args.output.as_os_str() != "-" {
        println!("afmpi dominance on {}", args.data.display());
        print!("{}", robustness::dominance_summary(&analysis, &found));
        println!(
            "dominance: {} ({} rows)",
            args.output.display(),
            output::count(frame.height())
        );
    }
    Ok(())
}
