//! Progress of long commands (benchmarks, training, every-board builds):
//! a bar with the elapsed time and an estimate of what is left on a
//! terminal (indicatif), and a plain line per step with the same figures
//! when the output is a log (CI, a pipe), so a long run never goes quiet.

use indicatif::{ProgressBar, ProgressDrawTarget, ProgressStyle};
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// A known number of steps.
pub struct Steps {
    bar: Option<ProgressBar>,
    what: String,
    total: u64,
    done: u64,
    start: Instant,
}

impl Steps {
    /// `total` steps of `what`; a bar on stderr if it is a terminal.
    #[cfg_attr(not(feature = "cosim"), allow(dead_code))]
    pub fn new(what: &str, total: u64) -> Steps {
        let bar = std::io::stderr().is_terminal().then(|| {
            let b = ProgressBar::with_draw_target(Some(total), ProgressDrawTarget::stderr());
            b.set_style(
                ProgressStyle::with_template(
                    "{prefix} [{bar:30}] {pos}/{len} {elapsed_precise} (about {eta} left) {msg}",
                )
                .expect("a valid template")
                .progress_chars("=> "),
            );
            b.set_prefix(what.to_owned());
            b.enable_steady_tick(Duration::from_millis(500));
            b
        });
        Steps {
            bar,
            what: what.to_owned(),
            total,
            done: 0,
            start: Instant::now(),
        }
    }

    /// `total` steps of `what` that print as they go (builds): a line with
    /// the elapsed time and the estimate as each starts, never a bar.
    pub fn lines(what: &str, total: u64) -> Steps {
        Steps {
            bar: None,
            what: what.to_owned(),
            total,
            done: 0,
            start: Instant::now(),
        }
    }

    /// Step `done + 1` starts: `msg` says what it is.
    pub fn start(&mut self, msg: &str) {
        match &self.bar {
            Some(b) => b.set_message(msg.to_owned()),
            None => eprintln!(
                "{} [{}/{}] {msg} ({})",
                self.what,
                self.done + 1,
                self.total,
                self.timing()
            ),
        }
    }

    /// The current step is done.
    pub fn inc(&mut self) {
        self.done += 1;
        if let Some(b) = &self.bar {
            b.inc(1);
        }
    }

    /// Removes the bar; a log gets a closing line.
    pub fn finish(self) {
        match &self.bar {
            Some(b) => b.finish_and_clear(),
            None => eprintln!(
                "{}: {} steps in {:.0} s",
                self.what,
                self.done,
                self.start.elapsed().as_secs_f64()
            ),
        }
    }

    /// "12 s elapsed, about 40 s left" (no estimate before the first step).
    fn timing(&self) -> String {
        let t = self.start.elapsed().as_secs_f64();
        if self.done == 0 {
            return format!("{t:.0} s elapsed");
        }
        let left = t / self.done as f64 * (self.total - self.done.min(self.total)) as f64;
        format!("{t:.0} s elapsed, about {left:.0} s left")
    }
}
