//! `afmpi compare M1.toml M2.toml … DATA [-o OUT]`: methodologies side by side.

use std::path::PathBuf;

use super::flags::{InferenceFlags, SurveyFlags};
use afmpi::{analyse_files_reading, compare, output, Error, Reading, Result};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Two or more methodology files, then the survey file (none with --surveys).
    #[arg(required = true, num_args = 2..)]
    pub files: Vec<PathBuf>,
    /// Compare the methodologies on every survey of this list (as `run --surveys`):
    /// each survey's comparison, one file with `survey`, `ccty` and `year` columns.
    #[arg(long)]
    pub surveys: Option<PathBuf>,
    /// Write the comparison to this file (.csv, .parquet, .json; .xlsx for a workbook).
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
    let (data, methodologies) = args
        .files
        .split_last()
        .expect("clap requires two files or more");
    if methodologies.len() < 2 {
        return Err(Error::Usage(
            "compare needs two methodology files or more, then the survey file".into(),
        ));
    }
    let mut analyses = Vec::new();
    let mut first_settings = None;
    for path in methodologies {
        let mut m = afmpi::methodology::from_file(path)?;
        let settings = args.inference.apply(&mut m)?;
        first_settings.get_or_insert(settings);
        let survey = args.survey.apply(&mut m)?;
        // Whole: the overlap of poor sets matches persons by their row.
        analyses.push(analyse_files_reading(
            &m,
            &survey,
            &settings,
            data,
            None,
            Reading::Whole,
            &|_| {},
        )?);
    }
    // The paired differences' intervals at the first methodology's settings.
    let settings = first_settings.expect("two methodologies or more");
    let comparison = compare::compare(&analyses, &settings)?;
    let mut text = format!("afmpi compare on {}\n", data.display());
    // What the methodologies measure, side by side, before what they find.
    let methodologies: Vec<_> = analyses.iter().map(|a| &a.methodology).collect();
    text.push_str(&afmpi::diff::summary(&methodologies));
    text.push_str(&compare::summary(&comparison));
    if let Some(path) = args
        .output
        .as_ref()
        .filter(|p| afmpi::excel::is_workbook(p))
    {
        afmpi::excel::write_comparison(&comparison, path)?;
        text.push_str(&format!(
            "comparison: {} (sheets estimates, overlap, ranks, differences, concepts and each methodology)\n",
            path.display()
        ));
    } else if let Some(path) = &args.output {
        let mut frame = compare::frame(&comparison);
        output::write_frame(&mut frame, path)?;
        text.push_str(&format!(
            "comparison: {} ({} rows)\n",
            path.display(),
            output::count(frame.height())
        ));
    }
    print!("{text}");
    Ok(())
}

/// The methodologies compared on every survey of a list: each survey's comparison, one
/// file; an error naming the surveys that failed once the others' are written.
fn run_surveys(args: &Args, list: &std::path::Path) -> Result<()> {
    use afmpi::surveys;
    if args.files.len() < 2 {
        return Err(Error::Usage(
            "compare --surveys needs two methodology files or more".into(),
        ));
    }
    let mut methodologies = Vec::new();
    let mut first_settings = None;
    for path in &args.files {
        let mut m = afmpi::methodology::from_file(path)?;
        let settings = args.inference.apply(&mut m)?;
        first_settings.get_or_insert(settings);
        let survey = args.survey.apply(&mut m)?;
        methodologies.push((m, survey));
    }
    let settings = first_settings.expect("two methodologies or more");
    let entries = surveys::read_list(list)?;
    let mut text = String::new();
    let mut frames = Vec::new();
    let mut failed = Vec::new();
    for e in &entries {
        text.push_str(&format!("== survey {}: {}\n", e.id, e.file.display()));
        let compared = surveys::analyses_of(e, &methodologies, &settings).and_then(|analyses| {
            let c = compare::compare(&analyses, &settings)?;
            Ok((compare::summary(&c), compare::frame(&c)))
        });
        match compared {
            Ok((summary, frame)) => {
                text.push_str(&summary);
                frames.push(surveys::labelled(e, frame));
            }
            Err(err) => {
                text.push_str(&format!("failed: {err}\n"));
                failed.push(e.id.as_str());
            }
        }
    }
    let mut frame = surveys::stacked(frames.into_iter())?;
    if let Some(path) = args.output.as_ref().filter(|_| frame.height() > 0) {
        output::write_frame(&mut frame, path)?;
        text.push_str(&format!(
            "comparison: {} ({} rows, {} surveys)\n",
            path.display(),
            output::count(frame.height()),
            entries.len() - failed.len()
        ));
    }
    // With the comparison on standard output (`-o -`), the summary goes to standard error.
    if args.output.as_deref().is_some_and(|p| p.as_os_str() == "-") {
        eprint!("{text}");
    } else {
        print!("{text}");
    }
    surveys::failures(&failed, entries.len(), "comparisons")
}
