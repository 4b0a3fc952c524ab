//! `afmpi report METHODOLOGY DATA -o report.html`: one self-contained HTML page with the
//! headline figures, charts, changes, the methodology in words and the data summary.

use std::path::PathBuf;

use super::flags::{InferenceFlags, SurveyFlags};
use afmpi::{analyse_files, report, Result};

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
    let mut m = afmpi::methodology::from_file(&args.methodology)?;
    let settings = args.inference.apply(&mut m)?;
    let survey = args.survey.apply(&mut m)?;
    let analysis = analyse_files(&m, &survey, &settings, &args.data, None)?;
    report::write(&analysis, &settings, &args.output)?;
    println!("report: {}", args.output.display());
    Ok(())
}
