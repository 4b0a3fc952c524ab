//! SQL: a methodology in, the standard SQL query that computes the sufficient-statistics
//! table from a survey table out; and such a table, written by any engine, back in as the
//! tally's [`Table`], from which `run --from-table` finishes every estimate.
//!
//! The table is a GROUP BY (see [`crate::tally`]), so a survey too large for one machine
//! can be tallied where it lives — DuckDB, Spark SQL, PostgreSQL — and only the small
//! table travels. The rules of the methodology are SQL expressions already and go into
//! the query as written; household aggregation becomes window sums over the household
//! id. The query keeps one column per indicator (`d0`, `d1`, … as 0/1), the design and
//! subgroup columns, one 0/1 column per named group (`f0`, … from the score computed in
//! exact integers), and `weight`, `weight_sq` and `persons` per cell. Persons with a
//! missing value keep NULL in their cell's key and an indicator value other than 0/1 is
//! −1: `run --from-table` counts and drops the first and refuses the second, so that its
//! report is the direct run's.

mod query;
mod table;

pub use query::{query, query_for_survey, query_in, Dialect};
pub use table::read_table;

use afmpi_core::methodology::SurveyColumns;

/// An identifier as SQL accepts it everywhere: bare when simple, else double-quoted.
pub(crate) fn ident(name: &str) -> String {
    let simple = name
        .chars()
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && name.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
    if simple {
        name.to_string()
    } else {
        format!("\"{}\"", name.replace('"', "\"\""))
    }
}

/// The columns of the table, beside `d0…` and the sums.
fn design_columns(survey: &SurveyColumns) -> Vec<(&'static str, String)> {
    let mut out = Vec::new();
    if let Some(t) = &survey.round {
        out.push(("t", t.clone()));
    }
    if let Some(y) = &survey.year {
        out.push(("year", y.clone()));
    }
    if let Some(h) = &survey.strata {
        out.push(("stratum", h.clone()));
    }
    if let Some(c) = &survey.psu {
        out.push(("psu", c.clone()));
    }
    out
}
