//! The data report: what a run read, used and dropped, and why. Every run prints it;
//! nothing is dropped without a count here.

use std::path::PathBuf;

use crate::error::{Error, Result};

/// What a run read, used and dropped, and why.
#[derive(Clone, Debug, Default)]
pub struct DataReport {
    pub file: PathBuf,
    pub rows_read: usize,
    pub rows_used: usize,
    /// Rows missing each column (a row missing several columns counts in each).
    pub missing: Vec<(String, usize)>,
    /// Rows used without a value of a subgroup column: they count nationally, in none of
    /// that column's subgroups.
    pub unassigned: Vec<(String, usize)>,
    /// Other facts the user should know (no weight column, no PSU column…).
    pub notes: Vec<String>,
}

impl DataReport {
    pub fn rows_dropped(&self) -> usize {
        self.rows_read - self.rows_used
    }

    /// Adds another batch's report to this one.
    pub fn absorb(&mut self, other: DataReport) {
        self.rows_read += other.rows_read;
        self.rows_used += other.rows_used;
        let add = |into: &mut Vec<(String, usize)>, from: Vec<(String, usize)>| {
            for (column, k) in from {
                match into.iter_mut().find(|(c, _)| *c == column) {
                    Some((_, total)) => *total += k,
                    None => into.push((column, k)),
                }
            }
        };
        add(&mut self.missing, other.missing);
        add(&mut self.unassigned, other.unassigned);
        for note in other.notes {
            if !self.notes.contains(&note) {
                self.notes.push(note);
            }
        }
    }
}

/// The error when no row is left to analyse.
pub fn check_not_empty(report: &DataReport) -> Result<()> {
    if report.rows_used > 0 {
        return Ok(());
    }
    Err(Error::input(&report.file, format!(
        "no row is left to analyse: all {} rows miss a value of an indicator, the weight or a design column ({})",
        report.rows_read,
        report.missing.iter().map(|(c, k)| format!("{c}: {k}")).collect::<Vec<_>>().join(", "))))
}
