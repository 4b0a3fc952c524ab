//! `afmpi robustness METHODOLOGY DATA [--k LIST | --k-range FROM:TO] [--weights WHICH]
//! [-o FILE]`: whether the comparisons of subgroup levels and of rounds hold under other
//! cutoffs and weights — every difference with its standard error, the share of robust
//! comparisons, the rank agreement with the baseline — as a long table, and the
//! summary on the terminal.

use std::path::PathBuf;

use super::flags::{analysis_of, InferenceFlags, SurveyFlags};
use afmpi::curve::attainable_cutoffs;
use afmpi::exact::Exact;
use afmpi::methodology::{cutoffs_from_flag, WeightVector};
use afmpi::{output, robustness, Analysis, Error, Result};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The methodology file (TOML).
    pub methodology: PathBuf,
    /// The survey file (.csv, .parquet, .dta, .sav).
    pub data: PathBuf,
    /// Alternative cutoffs k, at the methodology's weights: percent (20,40) or fractions
    /// (1/4). Default: the methodology's other cutoffs.
    #[arg(long, conflicts_with = "k_range")]
    pub k: Option<String>,
    /// Every attainable deprivation score from FROM to TO (inclusive) as a cutoff, e.g.
    /// 20:50.
    #[arg(long)]
    pub k_range: Option<String>,
    /// Alternative weights, at the headline cutoff: the methodology's [[weights]]
    /// (named), each dimension in turn given twice its weight (doubled), both (all) or
    /// none.
    #[arg(long, value_enum, default_value_t = Weights::All)]
    pub weights: Weights,
    /// Where to write the table (.csv, .parquet or .json; - for standard output).
    #[arg(short, long, default_value = "robustness.csv")]
    pub output: PathBuf,
    #[command(flatten)]
    pub survey: SurveyFlags,
    #[command(flatten)]
    pub inference: InferenceFlags,
}

/// Which alternative weight vectors to try.
#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Weights {
    All,
    Named,
    Doubled,
    None,
}

pub fn run(args: Args) -> Result<()> {
    let (analysis, settings) =
        analysis_of(&args.methodology, &args.data, &args.survey, &args.inference)?;
    let cutoffs = match (&args.k, &args.k_range) {
        (Some(list), _) => cutoffs_from_flag(list, "--k")?
            .into_iter()
            .map(|c| c.value)
            .collect(),
        (None, Some(range)) => attainable_between(&analysis, range)?,
        (None, None) => analysis
            .methodology
            .cutoffs
            .iter()
            .map(|c| c.value)
            .collect(),
    };
    nothing_to_compare(&analysis, &args.data)?;
    let weights = alternative_weights(&analysis, args.weights)?;
    let specs = robustness::specifications(&analysis, &cutoffs, &weights);
    if specs.len() < 2 {
        return Err(Error::Usage(format!(
            "{}: nothing to compare the baseline with: give other cutoffs (--k 20,40 or --k-range 20:50) or alternative weights ([[weights]] in the methodology, or --weights doubled)",
            args.methodology.display()
        )));
    }
    let found = robustness::robustness(&analysis, specs, &settings)?;
    let mut frame = robustness::frame(&analysis, &found);
    output::write_frame(&mut frame, &args.output)?;
    if args.output.as_os_str() != "-" {
        println!("afmpi robustness on {}", args.data.display());
        print!("{}", robustness::summary(&analysis, &found));
        println!(
            "robustness: {} ({} rows)",
            args.output.display(),
            output::count(frame.height())
        );
    }
    Ok(())
}

/// The attainable scores from FROM to TO, written "20:50" (percent or fractions).
pub fn attainable_between(a: &Analysis, range: &str) -> Result<Vec<Exact>> {
    let (from, to) = range_bounds(range)?;
    Ok(attainable_cutoffs(a)?
        .into_iter()
        .map(|c| c.value)
        .filter(|c| c.value >= from.value && c.value <= to.value)
        .collect())
}

/// The two bounds of "FROM:TO".
pub fn range_bounds(range: &str) -> Result<(Exact, Exact)> {
    let bad = || {
        Error::Usage(format!(
            "--k-range {range}: give two cutoffs FROM:TO, in percent or as fractions, the first at most the second (e.g. 20:50)"
        ))
    };
    let (from, to) = range.split_once(':').ok_or_else(bad)?;
    let bounds = cutoffs_from_flag(&format!("{from},{to}"), "--k-range").map_err(|_| bad())?;
    let (from, to) = (bounds[0].value, bounds[1].value);
    if from.value > to.value {
        return Err(bad());
    }
    Ok((from, to))
}

fn alternative_weights(a: &Analysis, which: Weights) -> Result<Vec<WeightVector>> {
    let m = &a.methodology;
    let mut out = Vec::new();
    if matches!(which, Weights::All | Weights::Named) {
        out.extend(m.alternative_weights.iter().cloned());
    }
    if matches!(which, Weights::All | Weights::Doubled) {
        out.extend(m.doubled_dimensions()?);
    }
    Ok(out)
}

/// Robustness compares subgroup levels and rounds: an error when there are neither.
pub fn nothing_to_compare(a: &Analysis, data: &std::path::Path) -> Result<()> {
    if a.sample.groupings.is_empty() && a.sample.round_info.len() < 2 {
        return Err(Error::Usage(format!(
            "{}: one round and no subgroup column, so there is nothing to compare: give subgroup columns (--over region,area) or a round column (--round)",
            data.display()
        )));
    }
    Ok(())
}
