//! `afmpi report METHODOLOGY DATA -o report.html`: one self-contained HTML page with the
//! headline figures, charts, changes, the methodology in words and the data summary.

use std::path::PathBuf;

use super::flags::{analysis_of, InferenceFlags, SurveyFlags};
use afmpi::{report, Result};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The methodology file (TOML).
    pub methodology: PathBuf,
    /// The survey file (.csv, .parquet, .dta, .sav).
    pub data: PathBuf,
    /// Where to write the page.
    #[arg(short, long, default_value = "report.html")]
    pub output: PathBuf,
    #[command(flatten)]
    pub survey: SurveyFlags,
    #[command(flatten)]
    pub inference: InferenceFlags,
}

pub fn run(args: Args) -> Result<()> {
    let (analysis, settings) =
        analysis_of(&args.methodology, &args.data, &args.survey, &args.inference)?;
    report::write(&analysis, &settings, &args.output)?;
    println!("report: {}", args.output.display());
    Ok(())
}
