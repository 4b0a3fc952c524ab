//! The `afmpi` command: parses the command line and hands over to one file per
//! subcommand in `src/cli/`.

use clap::Parser;

fn main() {
    let cli = afmpi::cli::Cli::parse();
    if let Err(e) = afmpi::cli::dispatch(cli) {
        eprintln!("afmpi: error: {e}");
        std::process::exit(1);
    }
}
