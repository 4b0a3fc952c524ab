//! Methodology files: a path (or TOML text) in, a validated [`Methodology`] out.
//!
//! The engine validates ([`afmpi_core::methodology`]); this layer reads the file from
//! disk, names it in errors, and reads the rules with polars' SQL front end
//! ([`crate::rules::PolarsSql`]), the same front end that later evaluates them.

use std::path::Path;

pub use afmpi_core::exact::{Exact, Number};
pub use afmpi_core::identification::IntegerWeights;
pub use afmpi_core::methodology::*;

use crate::error::{Error, Result};
use crate::rules::PolarsSql;

/// Reads and validates a methodology file.
pub fn from_file(path: &Path) -> Result<Methodology> {
    let text = std::fs::read_to_string(path)
        .map_err(|e| Error::input(path, format!("cannot read the methodology file: {e}")))?;
    from_toml(&text).map_err(|e| e.in_file(path))
}

/// Parses and validates methodology TOML text, its rules read as polars reads them.
pub fn from_toml(text: &str) -> Result<Methodology> {
    Methodology::from_toml(text, &PolarsSql)
}
