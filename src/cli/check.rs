//! `afmpi check METHODOLOGY [DATA]`: validates a methodology file without running it —
//! every key, the weights and cutoffs (as exact fractions), the rules — and, with DATA,
//! that the file has every column the methodology and the survey settings ask for.
//! Prints the methodology in words; exits 1 with the error otherwise.

use std::path::PathBuf;

use super::flags::SurveyFlags;
use afmpi::methodology::IntegerWeights;
use afmpi::{output, read, Result};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The methodology file (TOML).
    pub methodology: PathBuf,
    /// A survey file whose columns to check against the methodology.
    pub data: Option<PathBuf>,
    #[command(flatten)]
    pub survey: SurveyFlags,
}

pub fn run(args: Args) -> Result<()> {
    let mut m = afmpi::methodology::from_file(&args.methodology)?;
    let survey = args.survey.apply(&mut m)?;
    IntegerWeights::new(&m).map_err(|e| e.in_file(&args.methodology))?;
    println!("{}: valid", args.methodology.display());
    print!("{}", output::methodology_summary(&m));
    for note in &m.notes {
        println!("  note: {note}");
    }
    if let Some(data) = &args.data {
        let input = read::Input::open(data, &read::FileSettings::of(&survey)?)?;
        if input.dialect().is_some() {
            println!("read {}", input.describe()?);
        }
        let available = input.column_names()?;
        let plan = afmpi::plan(&m, &survey, data, &available)?;
        let needed = plan.request.all().len();
        println!(
            "{}: has the {} columns the run reads (of its {})",
            data.display(),
            needed,
            available.len()
        );
        for &j in &plan.absent {
            println!(
                "  note: optional indicator `{}` is not in the file: it would be dropped and its weight shared within its dimension",
                m.indicators[j].id
            );
        }
    }
    Ok(())
}
