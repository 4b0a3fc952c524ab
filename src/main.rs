//! The `afmpi` command: parses the command line and hands over to one file per
//! subcommand in `src/cli/`.

use clap::Parser;

mod cli;

/// mimalloc keeps the memory it frees for the next batch instead of returning it to the
/// system page by page (the system allocator's page faults cost a large file a third of
/// its run).
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

/// mimalloc's `mi_option_purge_delay` (mimalloc.h, version 3; the Rust bindings do not
/// name it yet).
const MI_OPTION_PURGE_DELAY: libmimalloc_sys::mi_option_t = 15;

fn main() {
    // `afmpi describe data.csv | head` ends quietly when head stops reading, as other
    // Unix tools do, instead of panicking on the closed pipe.
    #[cfg(unix)]
    unsafe {
        libc::signal(libc::SIGPIPE, libc::SIG_DFL);
    }
    // By default mimalloc gives freed memory back to the kernel after a second, and each
    // batch of a large file then takes its pages back one fault at a time (0.7 s of
    // system time on 10^8 rows). A run is short: it keeps what it has had, and its peak
    // memory is unchanged.
    unsafe {
        // 1000 ms is the default: the option was not set by MIMALLOC_PURGE_DELAY.
        if libmimalloc_sys::mi_option_get(MI_OPTION_PURGE_DELAY) == 1000 {
            libmimalloc_sys::mi_option_set(MI_OPTION_PURGE_DELAY, -1);
        }
    }
    // mimalloc asks for transparent huge pages, and the first touch of one zeroes all
    // 2 MB of it. For a short run, with a small heap per thread, that costs more than the
    // page-table savings bring (Benin 2017-18, 72,000 rows: 117 against 125 ms); a run
    // that holds a large file gains (the survey shape's 2.8 million rows: 1.03 against
    // 0.80 s, a third of its time was page faults). So huge pages stay on only when an
    // argument is a file that fills memory (`read::fills_memory`: by size, or by the rows
    // of a Parquet file, small on disk).
    #[cfg(target_os = "linux")]
    {
        let large_input = std::env::args_os()
            .skip(1)
            .any(|a| afmpi::read::fills_memory(std::path::Path::new(&a)));
        if !large_input {
            unsafe {
                libc::prctl(libc::PR_SET_THP_DISABLE, 1, 0, 0, 0);
            }
        }
    }
    // A panic of polars inside the evaluation of a rule becomes an error that names the
    // rule (`afmpi::rules::collect_guarded`): its message is not printed twice.
    let default_hook = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if !afmpi::rules::guarded_evaluation() {
            default_hook(info);
        }
    }));
    let cli = cli::Cli::parse();
    if let Err(e) = cli::dispatch(cli) {
        eprintln!("afmpi: error: {e}");
        std::process::exit(1);
    }
}
