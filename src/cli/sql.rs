//! `afmpi sql METHODOLOGY [--table NAME]`: print the SQL query that computes the
//! sufficient-statistics table, for DuckDB, Spark SQL or PostgreSQL.

use std::path::PathBuf;

use super::flags::SurveyFlags;
use afmpi::{sql, Result};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The methodology file (TOML).
    pub methodology: PathBuf,
    /// The name of the survey table in the engine.
    #[arg(long, default_value = "survey")]
    pub table: String,
    #[command(flatten)]
    pub survey: SurveyFlags,
}

pub fn run(args: Args) -> Result<()> {
    let mut m = afmpi::methodology::from_file(&args.methodology)?;
    let survey = args.survey.apply(&mut m)?;
    print!("{}", sql::query(&m, &survey, &args.table)?);
    Ok(())
}
