//! afmpi: Alkire-Foster multidimensional poverty indices from household survey microdata.
//!
//! This crate is the reading layer and the program around the engine
//! ([`afmpi_core`], re-exported here module by module):
//!
//! ```text
//! methodology ─┐
//!              ├─> plan ─> read ─> indicators ─> [engine: sample ─> tally ─> measures ─> inference]
//! survey file ─┘                                                                    └─> output, report
//! ```
//!
//! [`methodology`] reads a methodology file (validated by the engine); [`plan`] says which
//! columns a run needs; [`read`] reads just those of a CSV, Parquet, Stata or SPSS file
//! ([`naming`] maps a survey's own names, [`members`] joins a member file); [`indicators`]
//! checks the values and builds the engine's sample, with [`rules`] evaluated by polars;
//! [`batches`] tallies a large file a batch at a time; [`sql`] writes the table's query
//! for a database engine and reads its result back; [`analyse`] wires these to the engine's
//! [`finish`]; [`output`], [`report`], [`excel`] and [`compare`] present the results. The
//! command line (`src/cli/`, in the binary only) is thin on top; [`simulate`] makes
//! synthetic surveys. ARCHITECTURE.md is the map.

pub mod analyse;
pub mod assoc;
pub mod batches;
pub mod compare;
pub mod describe;
pub mod diff;
pub mod excel;
pub mod indicators;
pub mod members;
pub mod methodology;
pub mod naming;
pub mod output;
pub mod persons;
pub mod plan;
pub mod read;
pub mod report;
pub mod robustness;
pub mod rules;
pub mod simulate;
pub mod sql;
pub mod surveys;

pub use afmpi_core::{
    comparison, curve, domain, error, exact, finish, identification, inference, measures, sample,
    tally, Analysis,
};
pub use afmpi_core::{Error, Result};
pub use analyse::{
    analyse_file, analyse_files, analyse_files_persons, analyse_files_reading, analyse_files_with,
    analyse_frame, analyse_frame_with, analyse_table, PersonsFile, Reading, LARGE_FILE_BYTES,
};
pub use plan::{needed_columns, plan, Plan};
