//! Keeps the metrics gauges that need queries current: [`services::gauges::refresh`] every
//! `JIESU_METRICS_REFRESH_SECONDS` (with 0 this job does not run, and each `/metrics` scrape
//! recounts instead).

use crate::services::{gauges, AppState};

/// One refresh; a failure is logged and the gauges keep their last values.
pub async fn refresh_gauges(state: &AppState) {
    if let Err(e) = gauges::refresh(state).await {
        tracing::warn!(error = %e, "refreshing the metrics gauges failed");
    }
}
