//! `afmpi run METHODOLOGY DATA [-o OUT]`: the main job.

use std::path::PathBuf;

use crate::inference::{ChangePairs, Interval, LonelyPsu, Settings};
use crate::methodology::{cutoffs_from_list, Methodology};
use crate::{analyse_file, output, Error, Result};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The methodology file (TOML).
    pub methodology: PathBuf,
    /// The survey file (.csv, .parquet, .dta, .sav).
    pub data: PathBuf,
    /// Write every estimate to this file (.csv, .parquet, .json; `-` for CSV on stdout).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
    /// Write the changes between rounds to this file instead of OUT.
    #[arg(long)]
    pub changes_out: Option<PathBuf>,
    /// Sampling weight column (overrides survey.weight).
    #[arg(long)]
    pub weight: Option<String>,
    /// Stratum column (overrides survey.strata).
    #[arg(long)]
    pub strata: Option<String>,
    /// Primary sampling unit column (overrides survey.psu).
    #[arg(long)]
    pub psu: Option<String>,
    /// Subgroup columns, comma-separated (overrides survey.over).
    #[arg(long, value_delimiter = ',')]
    pub over: Option<Vec<String>>,
    /// Survey round column (overrides survey.round).
    #[arg(long)]
    pub round: Option<String>,
    /// Year column (overrides survey.year).
    #[arg(long)]
    pub year: Option<String>,
    /// Poverty cutoffs: percent (20,33.33) or fractions of 1 (1/3); overrides `cutoffs`.
    #[arg(long)]
    pub cutoffs: Option<String>,
    /// Confidence level of the intervals.
    #[arg(long, default_value_t = 0.95)]
    pub level: f64,
    /// Intervals for levels: logit (as mpitbR, inside [0, 1]) or wald (symmetric).
    #[arg(long, value_enum, default_value_t = Interval::Logit)]
    pub ci: Interval,
    /// Strata with a single PSU: fail, remove, adjust or average (the survey package's options).
    #[arg(long, value_enum, default_value_t = LonelyPsu::Fail)]
    pub lonely_psu: LonelyPsu,
    /// Changes between rounds: total (first to last) or insequence (each to the next).
    #[arg(long, value_enum, default_value_t = ChangePairs::Total)]
    pub changes: ChangePairs,
}

pub fn run(args: Args) -> Result<()> {
    let mut m = Methodology::from_file(&args.methodology)?;
    if let Some(list) = &args.cutoffs {
        m.cutoffs = cutoffs_from_list(list)?;
    }
    if !(args.level > 0.0 && args.level < 1.0) {
        return Err(Error::Usage(format!(
            "--level {} is not a confidence level: give a number between 0 and 1, such as 0.95",
            args.level
        )));
    }
    let settings = Settings {
        level: args.level,
        interval: args.ci,
        lonely_psu: args.lonely_psu,
        changes: args.changes,
    };
    let mut survey = m.survey.clone();
    let set = |slot: &mut Option<String>, flag: &Option<String>| {
        if let Some(v) = flag {
            *slot = Some(v.clone());
        }
    };
    set(&mut survey.weight, &args.weight);
    set(&mut survey.strata, &args.strata);
    set(&mut survey.psu, &args.psu);
    set(&mut survey.round, &args.round);
    set(&mut survey.year, &args.year);
    if let Some(over) = &args.over {
        survey.over = over
            .iter()
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
    }

    let analysis = analyse_file(&m, &survey, &settings, &args.data)?;
    let to_stdout = args.output.as_deref().is_some_and(|p| p.as_os_str() == "-");
    let mut summary = String::new();
    let title = if m.title.is_empty() {
        String::new()
    } else {
        format!(" ({})", m.title)
    };
    summary.push_str(&format!(
        "afmpi run: {}{} on {}\n",
        m.name,
        title,
        args.data.display()
    ));
    for note in &m.notes {
        summary.push_str(&format!("  note: {note}\n"));
    }
    summary.push_str(&output::data_summary(&analysis.report));
    summary.push_str(&output::national_summary(&analysis, &settings));

    // Changes go with the levels unless they have a file of their own.
    let (mut main, mut changes) = match &args.changes_out {
        Some(_) => (
            output::levels_frame(&analysis),
            Some(output::changes_frame(&analysis)),
        ),
        None => (output::results_frame(&analysis), None),
    };
    if let (Some(path), Some(frame)) = (&args.changes_out, changes.as_mut()) {
        output::write_frame(frame, path)?;
        summary.push_str(&format!(
            "changes: {} ({} estimates)\n",
            path.display(),
            output::count(frame.height())
        ));
    }
    match &args.output {
        Some(path) => {
            output::write_frame(&mut main, path)?;
            if !to_stdout {
                summary.push_str(&format!(
                    "results: {} ({} estimates)\n",
                    path.display(),
                    output::count(main.height())
                ));
            }
        }
        None => summary.push_str(&format!(
            "{} estimates computed; write them all with -o results.csv (or .parquet, .json)\n",
            output::count(main.height())
        )),
    }
    if to_stdout {
        eprint!("{summary}");
    } else {
        print!("{summary}");
    }
    Ok(())
}
