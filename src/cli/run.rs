//! `afmpi run METHODOLOGY DATA [-o OUT]`: the main job.

use std::path::PathBuf;

use super::flags::{InferenceFlags, SurveyFlags};
use afmpi::output::{self, Part, Results};
use afmpi::{analyse_files_persons, PersonsFile, Reading, Result};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The methodology file (TOML).
    pub methodology: PathBuf,
    /// The survey file (.csv, .parquet, .dta, .sav).
    #[arg(required_unless_present_any = ["from_table", "surveys"])]
    pub data: Option<PathBuf>,
    /// Run the methodology on every survey of this list (a TOML file of [[survey]]
    /// tables: id, country, ccty, year, file, columns, [survey.survey]) instead of DATA:
    /// one results file with `survey`, `ccty` and `year` columns.
    #[arg(long, conflicts_with_all = ["data", "from_table", "members", "persons", "changes_out"])]
    pub surveys: Option<PathBuf>,
    /// Finish the estimates from a sufficient-statistics table made by the query of
    /// `afmpi sql` (CSV or Parquet) instead of reading a survey.
    #[arg(long, conflicts_with_all = ["data", "members"])]
    pub from_table: Option<PathBuf>,
    /// Write every estimate to this file (.csv, .parquet, .json, .dta; `-` for CSV on
    /// stdout; .xlsx for a workbook with a sheet per table).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Write the changes between rounds to this file instead of OUT.
    #[arg(long)]
    pub changes_out: Option<PathBuf>,
    /// Write one row per input row to this file (.csv, .parquet or .dta): the ids, whether the
    /// row was used or why it was dropped, each indicator's deprivation, the score (a
    /// fraction of 1, and exact), and per cutoff whether poor and the censored score.
    #[arg(long, value_name = "FILE", conflicts_with = "from_table")]
    pub persons: Option<PathBuf>,
    /// Id columns the persons file carries beside the row number and the household id.
    #[arg(
        long = "id",
        value_name = "COL,COL",
        value_delimiter = ',',
        requires = "persons"
    )]
    pub ids: Vec<String>,
    /// A member file (one row per person) to join to DATA (one row per household) on the
    /// household id, as MICS ships its hh and hl files.
    #[arg(long)]
    pub members: Option<PathBuf>,
    /// Read the survey in batches of this many rows, in memory bounded by the batch
    /// (CSV and Parquet). Without it, files of 64 MB or more, and Parquet files of
    /// 1,048,576 rows or more, are read in batches of 524,288 rows when the methodology
    /// allows (no member file, no household rules).
    #[arg(long, value_name = "ROWS", value_parser = clap::value_parser!(u64).range(1..))]
    pub batch_rows: Option<u64>,
    /// No progress display, even on a terminal.
    #[arg(short, long)]
    pub quiet: bool,
    /// Print each stage's wall time (reading, checking, tallying, estimating, writing)
    /// to standard error.
    #[arg(long)]
    pub timings: bool,
    #[command(flatten)]
    pub survey: SurveyFlags,
    #[command(flatten)]
    pub inference: InferenceFlags,
}

pub fn run(args: Args) -> Result<()> {
    let progress = super::progress::Progress::new(
        args.data.as_deref().unwrap_or(std::path::Path::new("")),
        args.quiet,
        args.timings,
    );
    let mut m = afmpi::methodology::from_file(&args.methodology)?;
    let settings = args.inference.apply(&mut m)?;
    let survey = args.survey.apply(&mut m)?;
    if let Some(list) = &args.surveys {
        return run_surveys(&args, &m, &survey, &settings, list);
    }
    let mut persons_written = None;
    let (analysis, data) = match (&args.from_table, &args.data) {
        (Some(table), _) => (
            afmpi::analyse_table(&m, &survey, &settings, table)?,
            table.clone(),
        ),
        (None, Some(data)) => {
            let reading = match args.batch_rows {
                Some(rows) => Reading::Batches(rows as usize),
                None => Reading::Auto,
            };
            let persons = args.persons.as_deref().map(|path| PersonsFile {
                path,
                ids: &args.ids,
            });
            let analysis = analyse_files_persons(
                &m,
                &survey,
                &settings,
                data,
                args.members.as_deref(),
                reading,
                persons,
                &|stage| progress.stage(stage),
            );
            progress.finish();
            let (analysis, written) = analysis?;
            persons_written = written;
            (analysis, data.clone())
        }
        (None, None) => unreachable!("clap requires DATA or --from-table"),
    };
    progress.stage("writing the results");
    let mut summary = output::run_header(&m, &data);
    summary.push_str(&output::data_summary(&analysis.report));
    summary.push_str(&output::national_summary(&analysis, &settings));
    if let (Some(path), Some(rows)) = (&args.persons, persons_written) {
        summary.push_str(&format!(
            "persons: {} ({} rows, one per row read)\n",
            path.display(),
            output::count(rows)
        ));
    }
    summary.push_str(&write_results(&args, &analysis)?);
    progress.lap("");
    if args.output.as_deref().is_some_and(|p| p.as_os_str() == "-") {
        eprint!("{summary}");
    } else {
        print!("{summary}");
    }
    Ok(())
}

/// The methodology on every survey of a list: each survey's summary, the table across
/// them, one results file; an error naming the surveys that failed once the others'
/// results are written.
fn run_surveys(
    args: &Args,
    m: &afmpi::methodology::Methodology,
    survey: &afmpi::methodology::SurveyColumns,
    settings: &afmpi::inference::Settings,
    list: &std::path::Path,
) -> Result<()> {
    use afmpi::surveys;
    let entries = surveys::read_list(list)?;
    let outcomes = surveys::run_all(m, survey, settings, &entries);
    let mut text = String::new();
    for o in &outcomes {
        text.push_str(&format!(
            "== survey {}: {}\n",
            o.entry.id,
            o.entry.file.display()
        ));
        match &o.analysis {
            Ok(a) => {
                text.push_str(&output::data_summary(&a.report));
                text.push_str(&output::national_summary(a, settings));
            }
            Err(e) => text.push_str(&format!("failed: {e}\n")),
        }
    }
    text.push_str(&surveys::cross_table(&outcomes));
    let mut frame = surveys::results_frame(&outcomes)?;
    let ran = outcomes.iter().filter(|o| o.analysis.is_ok()).count();
    match &args.output {
        // Nothing is written when no survey ran.
        Some(_) if ran == 0 => {}
        Some(path) => {
            output::write_frame(&mut frame, path)?;
            text.push_str(&format!(
                "results: {} ({} rows, {} surveys)\n",
                path.display(),
                output::count(frame.height()),
                ran
            ));
        }
        None => text.push_str(&format!(
            "{} rows of results computed; write them with -o results.csv\n",
            output::count(frame.height())
        )),
    }
    // With the results on standard output (`-o -`), the summary goes to standard error.
    if args.output.as_deref().is_some_and(|p| p.as_os_str() == "-") {
        eprint!("{text}");
    } else {
        print!("{text}");
    }
    surveys::failures(&surveys::failed(&outcomes), outcomes.len(), "results")
}

/// Writes the results where the flags say; what was written, for the summary.
fn write_results(args: &Args, analysis: &afmpi::Analysis) -> Result<String> {
    let mut summary = String::new();
    // Changes go with the levels unless they have a file of their own.
    let main = match &args.changes_out {
        Some(path) => {
            let changes = Results::new(analysis, Part::Changes);
            changes.write(path)?;
            summary.push_str(&format!(
                "changes: {} ({} estimates)\n",
                path.display(),
                output::count(changes.len())
            ));
            Results::new(analysis, Part::Levels)
        }
        None => Results::new(analysis, Part::All),
    };
    match &args.output {
        Some(path) if afmpi::excel::is_workbook(path) => {
            afmpi::excel::write_run(analysis, path)?;
            summary.push_str(&format!(
                "results: {} ({} rows; sheets national, subgroups, indicators, {}methodology, data)\n",
                path.display(),
                output::count(main.len()),
                if analysis.inference.changes.is_empty() { "" } else { "changes, " }
            ));
        }
        Some(path) => {
            main.write(path)?;
            if path.as_os_str() != "-" {
                summary.push_str(&format!(
                    "results: {} ({} rows: the estimates, their changes and the sample's facts)\n",
                    path.display(),
                    output::count(main.len())
                ));
            }
        }
        None => summary.push_str(&format!(
            "{} rows of results computed; write them all with -o results.csv (or .parquet, .json)\n",
            output::count(main.len())
        )),
    }
    Ok(summary)
}
