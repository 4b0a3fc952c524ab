//! Progress on long runs: a spinner on standard error naming the stage (reading,
//! tallying, estimating…) with the time elapsed, shown only for large inputs when standard
//! error is a terminal, and never with `--quiet`. indicatif draws it; when stderr is not a
//! terminal it draws nothing.

use std::path::Path;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Inputs smaller than this finish before a display would help.
const LARGE: u64 = 50 * 1024 * 1024;

pub struct Progress {
    bar: Option<ProgressBar>,
}

impl Progress {
    pub fn new(data: &Path, quiet: bool) -> Progress {
        let size = std::fs::metadata(data).map(|m| m.len()).unwrap_or(0);
        if quiet || size < LARGE {
            return Progress { bar: None };
        }
        let bar = ProgressBar::with_draw_target(None, ProgressDrawTarget::stderr());
        bar.set_style(
            ProgressStyle::with_template("{spinner} {elapsed:>4} {msg}").expect("valid template"),
        );
        bar.set_message(format!("{} ({} MB)", data.display(), size / (1024 * 1024)));
        bar.enable_steady_tick(Duration::from_millis(120));
        Progress { bar: Some(bar) }
    }

    pub fn stage(&self, stage: &str) {
        if let Some(bar) = &self.bar {
            bar.set_message(stage.to_string());
        }
    }

    pub fn finish(&self) {
        if let Some(bar) = &self.bar {
            bar.finish_and_clear();
        }
    }
}
