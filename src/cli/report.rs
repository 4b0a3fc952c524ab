//! `afmpi report METHODOLOGY DATA -o report.html`: one self-contained HTML page with the
//! headline figures, charts, changes, the methodology in words and the data summary;
//! with `--surveys LIST -o DIR`, one page per survey of the list and an index page with
//! the table across them.

use std::path::PathBuf;

use super::flags::{analysis_of, InferenceFlags, SurveyFlags};
use afmpi::{report, surveys, Error, Result};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The methodology file (TOML).
    pub methodology: PathBuf,
    /// The survey file (.csv, .parquet, .dta, .sav).
    #[arg(required_unless_present = "surveys")]
    pub data: Option<PathBuf>,
    /// A page per survey of this list (as `run --surveys`), and index.html, in the
    /// folder -o names.
    #[arg(long, conflicts_with = "data")]
    pub surveys: Option<PathBuf>,
    /// Where to write the page (with --surveys: the folder of the pages).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    #[command(flatten)]
    pub survey: SurveyFlags,
    #[command(flatten)]
    pub inference: InferenceFlags,
}

pub fn run(args: Args) -> Result<()> {
    if let Some(list) = &args.surveys {
        return run_surveys(&args, list);
    }
    let data = args
        .data
        .as_ref()
        .expect("clap requires DATA without --surveys");
    let (analysis, settings) = analysis_of(&args.methodology, data, &args.survey, &args.inference)?;
    let output = args.output.clone().unwrap_or_else(|| "report.html".into());
    report::write(&analysis, &settings, &output)?;
    println!("report: {}", output.display());
    Ok(())
}

/// A page per survey that ran, and index.html: the table across the surveys, each
/// linked to its page (a failed one with its reason).
fn run_surveys(args: &Args, list: &std::path::Path) -> Result<()> {
    let dir = args.output.clone().unwrap_or_else(|| "reports".into());
    std::fs::create_dir_all(&dir)
        .map_err(|e| Error::input(&dir, format!("cannot make the folder of the pages: {e}")))?;
    let mut m = afmpi::methodology::from_file(&args.methodology)?;
    let settings = args.inference.apply(&mut m)?;
    let survey = args.survey.apply(&mut m)?;
    let entries = surveys::read_list(list)?;
    let outcomes = surveys::run_all(&m, &survey, &settings, &entries);
    let mut pages = Vec::new();
    for o in &outcomes {
        if let Ok(a) = &o.analysis {
            let name = format!("{}.html", surveys::file_stem(&o.entry.id));
            report::write(a, &settings, &dir.join(&name))?;
            pages.push((o.entry.id.as_str(), name));
        }
    }
    let index = dir.join("index.html");
    report::write_index(&m, &outcomes, &pages, &index)?;
    println!(
        "reports: {} ({} pages and index.html)",
        dir.display(),
        pages.len()
    );
    surveys::failures(&surveys::failed(&outcomes), outcomes.len(), "pages")
}
