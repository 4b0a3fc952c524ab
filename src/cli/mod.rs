//! The command-line layer: one file per subcommand, each a thin wrapper over the library.

use clap::{Parser, Subcommand};

pub mod assoc;
pub mod check;
pub mod compare;
pub mod describe;
pub mod diff;
pub mod dominance;
mod flags;
pub mod init;
mod progress;
pub mod report;
pub mod robustness;
pub mod run;
pub mod simulate;
pub mod sql;

#[derive(Parser, Debug)]
#[command(
    name = "afmpi",
    version,
    about = "Alkire-Foster multidimensional poverty indices from survey microdata"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Subcommand, Debug)]
#[allow(clippy::large_enum_variant)]
pub enum Command {
    /// Run a methodology on a survey file: every estimate per cutoff, subgroup and round.
    Run(run::Args),
    /// Compare methodologies on one survey: estimates side by side, overlap of the poor,
    /// rank agreement of subgroups.
    Compare(compare::Args),
    /// Whether the comparisons of subgroups and rounds hold under other cutoffs and
    /// weights: differences with standard errors, the share of robust comparisons, rank
    /// agreement with the baseline.
    Robustness(robustness::Args),
    /// H(k) and M0(k) of every two subgroup levels and rounds at every cutoff: where one
    /// is significantly above the other, and whether one dominates at every k.
    Dominance(dominance::Args),
    /// Methodologies side by side, without a survey: unit, cutoffs, identification, and
    /// their indicators aligned by the variables they read, with weights and rules.
    Diff(diff::Args),
    /// Write a self-contained HTML report: headline table, charts, changes, methodology.
    Report(report::Args),
    /// The association between every pair of indicators: Cramér's V and the redundancy
    /// R0, among everyone and among the poor at each cutoff.
    Assoc(assoc::Args),
    /// Print the SQL query that computes the sufficient-statistics table in a database
    /// engine; finish it with `run --from-table`.
    Sql(sql::Args),
    /// List a survey file's columns: types, missing and distinct values, the most common
    /// values, value labels — what writing rules needs.
    Describe(describe::Args),
    /// Write a commented methodology file to start from (to standard output).
    Init(init::Args),
    /// Check a methodology file, and its columns against a survey file, without running.
    Check(check::Args),
    /// Write a synthetic survey (fixed seed): ready 0/1 deprivation columns, or raw
    /// variables of persons in households with --raw.
    Simulate(simulate::Args),
}

pub fn dispatch(cli: Cli) -> afmpi::Result<()> {
    match cli.command {
        Command::Run(args) => run::run(args),
        Command::Compare(args) => compare::run(args),
        Command::Robustness(args) => robustness::run(args),
        Command::Dominance(args) => dominance::run(args),
        Command::Diff(args) => diff::run(args),
        Command::Report(args) => report::run(args),
        Command::Assoc(args) => assoc::run(args),
        Command::Sql(args) => sql::run(args),
        Command::Simulate(args) => simulate::run(args),
        Command::Init(args) => init::run(args),
        Command::Describe(args) => describe::run(args),
        Command::Check(args) => check::run(args),
    }
}
