//! The `afmpi` command: parses the command line and hands over to one file per
//! subcommand in `src/cli/`.

use clap::Parser;

/// mimalloc keeps the memory it frees for the next batch instead of returning it to the
/// system page by page (the system allocator's page faults cost a large file a third of
/// its run).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

fn main() {
    // `afmpi describe data.csv | head` ends quietly when head stops reading, as other
    // Unix tools do, instead of panicking on the closed pipe.
    #[cfg(unix)]
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    let cli = afmpi::cli::Cli::parse();
    if let Err(e) = afmpi::cli::dispatch(cli) {
        eprintln!("afmpi: error: {e}");
        std::process::exit(1);
    }
}
