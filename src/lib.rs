//! afmpi: Alkire-Foster multidimensional poverty indices from household survey microdata.
//!
//! The modules follow the pipeline of the design notes:
//!
//! ```text
//! methodology ─┐
//!              ├─> read ─> indicators ─> tally ─> measures ─> inference ─> output
//! survey file ─┘
//! ```
//!
//! [`methodology`] validates the TOML file (weights and cutoffs as exact fractions);
//! [`read`] reads just the needed columns of a CSV, Parquet, Stata or SPSS file;
//! [`indicators`] checks the values and turns each person into a deprivation profile;
//! [`tally`] builds the sufficient-statistics table in one parallel pass; [`measures`]
//! computes every estimate from that table; [`inference`] adds standard errors,
//! confidence intervals and changes between rounds; [`output`] writes the results frame.
//! The command-line layer (`src/cli/`, in the binary only) is thin on top. [`simulate`] makes synthetic surveys
//! for examples and benchmarks.

pub mod analyse;
pub mod batches;
pub mod compare;
pub mod describe;
pub mod excel;
pub mod indicators;
pub mod members;
pub mod methodology;
pub mod naming;
pub mod output;
pub mod plan;
pub mod read;
pub mod report;
pub mod rules;
pub mod simulate;
pub mod sql;

pub use afmpi_core::{
    comparison, curve, domain, error, exact, finish, identification, inference, measures, sample,
    tally, Analysis,
};
pub use afmpi_core::{Error, Result};
pub use analyse::{
    analyse_file, analyse_files, analyse_files_reading, analyse_files_with, analyse_frame,
    analyse_frame_with, analyse_table, Reading, LARGE_FILE_BYTES,
};
pub use plan::{needed_columns, plan, Plan};
