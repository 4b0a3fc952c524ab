//! Progress on long runs: a spinner on standard error naming the stage (reading,
//! tallying, estimating…) with the time elapsed, shown only for large inputs when standard
//! error is a terminal, and never with `--quiet`. indicatif draws it; when stderr is not a
//! terminal it draws nothing. With `--timings` each stage's wall time goes to standard
//! error when the stage ends (what BENCHMARKS.md's stage figures come from).

use std::cell::RefCell;
use std::path::Path;
use std::time::{Duration, Instant};

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Inputs smaller than this finish before a display would help.
const LARGE: u64 = 50 * 1024 * 1024;

pub struct Progress {
    bar: Option<ProgressBar>,
    /// With `--timings`: the stage under way and when it began.
    timings: Option<RefCell<(String, Instant)>>,
}

impl Progress {
    pub fn new(data: &Path, quiet: bool, timings: bool) -> Progress {
        let size = std::fs::metadata(data).map(|m| m.len()).unwrap_or(0);
        let timings =
            timings.then(|| RefCell::new(("reading the methodology".to_string(), Instant::now())));
        if quiet || size < LARGE {
            return Progress { bar: None, timings };
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {elapsed:>4} {msg}").expect("valid template"),
        );
        bar.set_message(format!("{} ({} MB)", data.display(), size / (1024 * 1024)));
        bar.enable_steady_tick(Duration::from_millis(120));
        Progress {
            bar: Some(bar),
            timings,
        }
    }

    pub fn stage(&self, stage: &str) {
        self.lap(stage);
        if let Some(bar) = &self.bar {
            bar.set_message(stage.to_string());
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }

    /// Ends the timing of the stage under way; the last call names no new stage.
    pub fn lap(&self, next: &str) {
        if let Some(t) = &self.timings {
            let mut t = t.borrow_mut();
            eprintln!(
                "timing: {:>8.1} ms  {}",
                t.1.elapsed().as_secs_f64() * 1e3,
                t.0
            );
            *t = (next.to_string(), Instant::now());
        }
    }
}
