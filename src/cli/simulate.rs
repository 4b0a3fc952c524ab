//! `afmpi simulate -o FILE`: a synthetic survey for examples, tests and benchmarks.

use std::path::PathBuf;

use afmpi::simulate::shapes::{self, Shape, Size};
use afmpi::simulate::{raw_survey, write_survey, Settings, PART_ROWS};
use afmpi::{output, Result};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// Where to write the survey (.csv, .parquet or .json).
    #[arg(short, long)]
    pub output: PathBuf,
    /// Persons in all, over all rounds [default: 12000; of a shape, the size of the job it
    /// stands for].
    #[arg(long)]
    pub rows: Option<usize>,
    /// Number of survey rounds [default: 2].
    #[arg(long)]
    pub rounds: Option<usize>,
    /// A raw survey (person rows with the harmonized variables of data/variables.md, one
    /// round) instead of one with ready deprivation columns.
    #[arg(long, conflicts_with = "shape")]
    pub raw: bool,
    /// The shape of one of the field's largest jobs, for benchmarks of scale: `survey`
    /// (NFHS-5: 2,818,810 persons, 30,000 PSUs, 707 districts in 36 states; methodology
    /// benches/shapes/survey.toml) or `census` (Colombia 2018: 44,000,000 persons, 1,122
    /// municipalities in 33 departments, 15 indicators; benches/shapes/census.toml).
    /// A survey of fewer than about a million persons leaves some strata with a single
    /// PSU: run it with `--lonely-psu adjust`.
    #[arg(long, value_enum, conflicts_with = "rounds")]
    pub shape: Option<ShapeArg>,
    /// Of a shape: its lower units, the levels of its finest subgroup column (districts
    /// of the survey, municipalities of the census) [default: the job's, 707 or 1,122],
    /// for runs of many domains. A survey has no more districts with persons than PSUs.
    #[arg(long, requires = "shape")]
    pub levels: Option<usize>,
    /// Random seed: the same seed gives the same file.
    #[arg(long, default_value_t = Settings::default().seed)]
    pub seed: u64,
}

#[derive(Clone, Copy, Debug, clap::ValueEnum)]
pub enum ShapeArg {
    Survey,
    Census,
}

pub fn run(args: Args) -> Result<()> {
    if let Some(shape) = args.shape {
        let shape = match shape {
            ShapeArg::Survey => Shape::Survey,
            ShapeArg::Census => Shape::Census,
        };
        let size = Size {
            rows: args.rows.unwrap_or(shape.default_rows()),
            levels: args.levels.unwrap_or(shape.default_levels()),
        };
        let (written, with_persons) =
            shapes::write(shape, size, args.seed, &args.output, PART_ROWS)?;
        let lower = match shape {
            Shape::Survey => "districts",
            Shape::Census => "municipalities",
        };
        let shortfall = if with_persons < size.levels {
            format!(
                " (of the {} asked, the others have no persons at this size: give more --rows or fewer --levels)",
                output::count(size.levels)
            )
        } else {
            String::new()
        };
        println!(
            "wrote {} persons of the {} shape in {} {lower}{shortfall} to {}",
            output::count(written),
            format!("{shape:?}").to_lowercase(),
            output::count(with_persons),
            args.output.display()
        );
        return Ok(());
    }
    let defaults = Settings::default();
    let settings = Settings {
        rows: args.rows.unwrap_or(defaults.rows),
        rounds: args.rounds.unwrap_or(defaults.rounds),
        seed: args.seed,
        ..Settings::default()
    };
    let rows = if args.raw {
        let mut frame = raw_survey(&settings);
        output::write_frame(&mut frame, &args.output)?;
        frame.height()
    } else {
        write_survey(&settings, &args.output, PART_ROWS)?
    };
    println!(
        "wrote {} persons in {} round(s) to {}",
        output::count(rows),
        if args.raw { 1 } else { settings.rounds },
        args.output.display()
    );
    Ok(())
}
