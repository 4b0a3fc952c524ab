//! `afmpi run METHODOLOGY DATA [-o OUT]`: the main job.

use std::path::PathBuf;

use crate::methodology::{cutoffs_from_list, Methodology};
use crate::{analyse_file, output, Result};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The methodology file (TOML).
    pub methodology: PathBuf,
    /// The survey file (.csv, .parquet, .dta, .sav).
    pub data: PathBuf,
    /// Write every estimate to this file (.csv, .parquet, .json; `-` for CSV on stdout).
    #[arg(short, long)]
    pub output: Option<PathBuf>,
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
}

pub fn run(args: Args) -> Result<()> {
    let mut m = Methodology::from_file(&args.methodology)?;
    if let Some(list) = &args.cutoffs {
        m.cutoffs = cutoffs_from_list(list)?;
    }
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

    let analysis = analyse_file(&m, &survey, &args.data)?;
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
    summary.push_str(&output::national_summary(
        &m,
        &analysis.sample,
        &analysis.estimates,
    ));

    let mut frame = output::results_frame(&m, &analysis.sample, &analysis.estimates);
    match &args.output {
        Some(path) => {
            output::write_frame(&mut frame, path)?;
            if !to_stdout {
                summary.push_str(&format!(
                    "results: {} ({} estimates)\n",
                    path.display(),
                    output::count(frame.height())
                ));
            }
        }
        None => summary.push_str(&format!(
            "{} estimates computed; write them all with -o results.csv (or .parquet, .json)\n",
            output::count(frame.height())
        )),
    }
    if to_stdout {
        eprint!("{summary}");
    } else {
        print!("{summary}");
    }
    Ok(())
}
