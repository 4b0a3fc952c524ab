//! Output: estimates and their inference in, the long results frame out — one estimate
//! per row, with the column names of Stata mpitb's results frames (`spec measure
//! indicator k loa subg t ctype yt0 yt1 ann b se ll ul`), so that code written for mpitb
//! and mpitbR outputs keeps working, and a last column `note` saying why a value is left
//! empty — written as CSV, Parquet or JSON, and a summary for the terminal.
//!
//! Files are written to a temporary file beside the target and renamed into place, so a
//! run that fails never leaves a half-written file behind.

mod csv;
mod dta;
mod files;
mod rows;
mod summary;

pub use files::{write_atomically, write_frame, write_frames, FrameSink};
pub use rows::{
    change_key, changes_frame, finite, level_key, levels_frame, results_frame, Part, Results,
};
pub use summary::{
    count, data_summary, methodology_summary, national_summary, run_header, truncate,
};

/// The results frame's columns, in order.
pub const COLUMNS: [&str; 17] = [
    "spec",
    "measure",
    "indicator",
    "k",
    "group",
    "loa",
    "subg",
    "t",
    "ctype",
    "yt0",
    "yt1",
    "ann",
    "b",
    "se",
    "ll",
    "ul",
    "note",
];
