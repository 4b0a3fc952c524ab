//! `afmpi sql METHODOLOGY [--table NAME] [--data FILE | --survey-columns A,B,…]`: print
//! the SQL query that computes the sufficient-statistics table, for DuckDB, Spark SQL or
//! PostgreSQL. Given the survey's columns (from a file or a list), optional indicators
//! the survey lacks are dropped as `run` drops them.

use std::path::PathBuf;

use super::flags::SurveyFlags;
use afmpi::{read, sql, Result};

#[derive(clap::Args, Debug)]
pub struct Args {
    /// The methodology file (TOML).
    pub methodology: PathBuf,
    /// The name of the survey table in the engine.
    #[arg(long, default_value = "survey")]
    pub table: String,
    /// A survey file (or an extract of it) whose columns the engine's table has.
    #[arg(long, conflicts_with = "survey_columns")]
    pub data: Option<PathBuf>,
    /// The columns of the engine's table, comma-separated.
    #[arg(long, value_delimiter = ',')]
    pub survey_columns: Option<Vec<String>>,
    /// The engine, for the name of its floating-point type: duckdb, spark or polars
    /// (DOUBLE), postgres (DOUBLE PRECISION).
    #[arg(long, value_enum, default_value_t = Engine::Duckdb)]
    pub engine: Engine,
    #[command(flatten)]
    pub survey: SurveyFlags,
}

#[derive(Clone, Copy, Debug, PartialEq, Eq, clap::ValueEnum)]
pub enum Engine {
    Duckdb,
    Spark,
    Polars,
    Postgres,
}

pub fn run(args: Args) -> Result<()> {
    let mut m = afmpi::methodology::from_file(&args.methodology)?;
    let survey = args.survey.apply(&mut m)?;
    let dialect = match args.engine {
        Engine::Postgres => sql::Dialect::DoublePrecision,
        _ => sql::Dialect::Double,
    };
    let columns = match (&args.data, &args.survey_columns) {
        (Some(data), _) => {
            let input = read::Input::open(data, &read::FileSettings::of(&survey)?)?;
            Some((input.column_names()?, data.clone()))
        }
        (None, Some(list)) => Some((list.clone(), PathBuf::from(&args.table))),
        (None, None) => None,
    };
    let text = match columns {
        Some((available, source)) => {
            let (text, notes) =
                sql::query_for_survey(&m, &survey, &args.table, dialect, &available, &source)?;
            for note in notes {
                eprintln!("note: {note}");
            }
            text
        }
        None => {
            if m.indicators.iter().any(|i| i.optional) {
                eprintln!("note: the methodology has optional indicators, kept in the query; give the survey's columns (--data or --survey-columns) to drop those it lacks");
            }
            sql::query_in(&m, &survey, &args.table, dialect)?
        }
    };
    print!("{text}");
    Ok(())
}
