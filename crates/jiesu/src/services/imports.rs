//! What a table import did: one summary for every reference table (units, categories, the
//! dispatch catalogue, time limits, KPI rules), so that the console reports them alike.

use serde::Serialize;

/// What an import did (or, on a dry run, would do).
#[derive(Debug, Clone, Default, Serialize, PartialEq, Eq)]
pub struct ImportSummary {
    /// Rows added as new (a unit, a category, a rule, a version).
    pub added: usize,
    /// Rows that changed what was there (replaced, retired or edited); always 0 for tables whose
    /// versions are never edited (time limits, KPI rules).
    pub changed: usize,
    /// Rows equal to what is there.
    pub unchanged: usize,
}
