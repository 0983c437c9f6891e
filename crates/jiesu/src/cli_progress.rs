//! Progress of long CLI work on standard error: an indicatif bar (or a spinner when the total
//! is not known) on a terminal, plain lines at most every two seconds otherwise (a log, CI).
//! The work reports through `jiesu::progress::Progress`.

use indicatif::{ProgressBar, ProgressStyle};
use jiesu::progress::Progress;
use std::io::IsTerminal;
use std::sync::Mutex;
use std::time::{Duration, Instant};

/// How often a plain line is printed at most.
const PLAIN_EVERY: Duration = Duration::from_secs(2);

/// Progress of one piece of work, named `what`.
pub struct Bar {
    what: String,
    bar: Option<ProgressBar>,
    /// When the last plain line was printed, and what it said.
    plain: Mutex<(Instant, String)>,
}

impl Bar {
    /// A bar for `what` on a terminal; plain lines when standard error is not one.
    pub fn new(what: &str) -> Bar {
        Self::with_terminal(what, std::io::stderr().is_terminal())
    }

    fn with_terminal(what: &str, terminal: bool) -> Bar {
        let bar = terminal.then(|| {
            let b = ProgressBar::new_spinner();
            b.set_style(spinner_style());
            b.set_prefix(what.to_string());
            b.enable_steady_tick(Duration::from_millis(120));
            b
        });
        Bar {
            what: what.to_string(),
            bar,
            // the first report prints at once
            plain: Mutex::new((
                Instant::now()
                    .checked_sub(PLAIN_EVERY)
                    .unwrap_or_else(Instant::now),
                String::new(),
            )),
        }
    }

    /// Ends the bar (or prints the last plain line if it was not printed yet).
    pub fn finish(&self) {
        match &self.bar {
            Some(b) => b.finish(),
            None => {
                let plain = self.plain.lock().unwrap_or_else(|p| p.into_inner());
                if !plain.1.is_empty() {
                    errln!("{}", plain.1);
                }
            }
        }
    }

    /// Runs `work` with a spinner (a line before and after off a terminal): for work that
    /// cannot report steps (mining, training).
    pub fn around<T>(what: &str, work: impl FnOnce() -> T) -> T {
        let started = Instant::now();
        let bar = Bar::new(what);
        if bar.bar.is_none() {
            errln!("{what}…");
        }
        let out = work();
        match &bar.bar {
            Some(b) => b.finish_and_clear(),
            None => errln!("{what}: done in {:.1} s", started.elapsed().as_secs_f64()),
        }
        out
    }
}

fn spinner_style() -> ProgressStyle {
    ProgressStyle::with_template("{spinner} {prefix} {pos} {msg} [{elapsed}]")
        .unwrap_or_else(|_| ProgressStyle::default_spinner())
}

fn bar_style() -> ProgressStyle {
    ProgressStyle::with_template("{prefix} [{bar:30}] {pos}/{len} {msg} [{elapsed}, {eta} left]")
        .unwrap_or_else(|_| ProgressStyle::default_bar())
        .progress_chars("#>-")
}

/// The plain line of a report.
fn line(what: &str, done: u64, total: u64, note: &str) -> String {
    let mut s = if total > 0 {
        format!("{what}: {done}/{total}")
    } else {
        format!("{what}: {done}")
    };
    if !note.is_empty() {
        s.push(' ');
        s.push_str(note);
    }
    s
}

impl Progress for Bar {
    fn report(&self, done: u64, total: u64, note: &str) {
        match &self.bar {
            Some(b) => {
                if total > 0 && b.length() != Some(total) {
                    b.set_style(bar_style());
                    b.set_length(total);
                }
                b.set_position(done);
                b.set_message(note.to_string());
            }
            None => {
                let mut plain = self.plain.lock().unwrap_or_else(|p| p.into_inner());
                let text = line(&self.what, done, total, note);
                if plain.0.elapsed() >= PLAIN_EVERY {
                    errln!("{text}");
                    *plain = (Instant::now(), String::new());
                } else {
                    plain.1 = text;
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_lines_say_what_how_far_and_where() {
        assert_eq!(line("reindex", 5, 10, "events"), "reindex: 5/10 events");
        assert_eq!(line("rollups", 7, 0, "days"), "rollups: 7 days");
        // off a terminal there is no bar, and the last report waits for `finish`
        let bar = Bar::with_terminal("x", false);
        assert!(bar.bar.is_none());
        bar.report(1, 3, "");
        bar.report(2, 3, "");
        assert_eq!(bar.plain.lock().unwrap().1, "x: 2/3");
    }
}
