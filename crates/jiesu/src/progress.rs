//! Progress of long work (a rebuild, a simulation), reported through a callback so that the
//! layers doing the work do not depend on how it is shown; the CLI draws it (`cli_progress`).

/// Receives progress reports.
pub trait Progress: Send + Sync {
    /// `done` of `total` steps (`total` 0 when not known), with a short note of where.
    fn report(&self, done: u64, total: u64, note: &str);
}

/// Shows nothing: for callers that want no report (the server's own jobs).
pub struct Silent;

impl Progress for Silent {
    fn report(&self, _: u64, _: u64, _: &str) {}
}
