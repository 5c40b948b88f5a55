//! A progress bar on stderr for long runs. The checking threads only bump an atomic
//! counter; a separate thread draws it, so the bar costs the per-file path nothing.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::Arc;
use std::thread::JoinHandle;
use std::time::Duration;

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};

/// Runs with fewer files finish before a bar would be worth reading.
pub const MIN_FILES: usize = 200;

/// Whether to draw a bar: only for a person watching a terminal, never in CI logs, and not
/// while a machine-readable report goes to a pipe (whoever reads it does not watch stderr).
pub fn wanted(
    files: usize,
    stderr_is_terminal: bool,
    ci: bool,
    machine_stdout_piped: bool,
) -> bool {
    files > MIN_FILES && stderr_is_terminal && !ci && !machine_stdout_piped
}

/// Whether the `CI` variable says we run in CI (GitHub, GitLab and most others set it).
pub fn in_ci(value: Option<&std::ffi::OsStr>) -> bool {
    value.is_some_and(|v| !v.is_empty() && v != "false" && v != "0")
}

pub struct Progress {
    done: Arc<AtomicUsize>,
    stop: Arc<AtomicBool>,
    drawer: Option<JoinHandle<()>>,
}

impl Progress {
    /// Start drawing a bar of `total` files on stderr.
    pub fn start(total: usize) -> Progress {
        let done = Arc::new(AtomicUsize::new(0));
        let stop = Arc::new(AtomicBool::new(false));
        let bar = ProgressBar::with_draw_target(Some(total as u64), ProgressDrawTarget::stderr());
        if let Ok(style) =
            ProgressStyle::with_template("{spinner} checking {pos}/{len} files {wide_bar} {eta}")
        {
            bar.set_style(style);
        }
        let drawer = {
            let done = Arc::clone(&done);
            let stop = Arc::clone(&stop);
            std::thread::Builder::new()
                .name("progress".into())
                .spawn(move || {
                    while !stop.load(Ordering::Relaxed) {
                        bar.set_position(done.load(Ordering::Relaxed) as u64);
                        std::thread::sleep(Duration::from_millis(100));
                    }
                    bar.finish_and_clear();
                })
                .ok()
        };
        Progress { done, stop, drawer }
    }

    /// The counter the checking threads bump.
    pub fn counter(&self) -> &AtomicUsize {
        &self.done
    }

    /// Stop and erase the bar before any report is printed.
    pub fn finish(self) {
        drop(self);
    }
}

impl Drop for Progress {
    fn drop(&mut self) {
        self.stop.store(true, Ordering::Relaxed);
        if let Some(drawer) = self.drawer.take() {
            let _ = drawer.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::ffi::OsStr;

    #[test]
    fn bar_only_for_long_runs_watched_on_a_terminal_outside_ci() {
        assert!(wanted(201, true, false, false));
        assert!(!wanted(200, true, false, false));
        assert!(!wanted(5000, false, false, false));
        assert!(!wanted(5000, true, true, false));
        assert!(!wanted(5000, true, false, true));
    }

    #[test]
    fn ci_variable_counts_unless_empty_or_false() {
        assert!(in_ci(Some(OsStr::new("true"))));
        assert!(in_ci(Some(OsStr::new("1"))));
        assert!(!in_ci(Some(OsStr::new(""))));
        assert!(!in_ci(Some(OsStr::new("false"))));
        assert!(!in_ci(None));
    }
}
