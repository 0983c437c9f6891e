//! Sets the metrics gauges that need the database or the node's indexes: orders by state,
//! overdue orders, the outbox backlog, the event chain's head, how far the search and live
//! hotspot indexes follow behind it, and the connection pools. `jobs::gauges` calls
//! [`refresh`] every `JIESU_METRICS_REFRESH_SECONDS`; with 0 the `/metrics` scrape calls it.

use super::AppState;
use crate::error::AppError;
use crate::store::{events, gauges};
use crate::telemetry as t;

/// Recounts the gauges.
pub async fn refresh(state: &AppState) -> Result<(), AppError> {
    let reader = state.store.reader();
    let counts = gauges::counts(reader, state.clock.now()).await?;
    for (status, n) in &counts.orders {
        metrics::gauge!(t::ORDERS, "state" => status.as_str()).set(*n as f64);
    }
    metrics::gauge!(t::ORDERS_OVERDUE).set(counts.overdue as f64);
    metrics::gauge!(t::OUTBOX_BACKLOG).set(counts.outbox_backlog as f64);
    let head = events::head_seq(reader).await?;
    metrics::gauge!(t::CHAIN_HEAD).set(head as f64);
    if let Some(index) = &state.search {
        let covered = index.covered_seq().map_err(AppError::Internal)?;
        metrics::gauge!(t::SEARCH_LAG).set((head - covered).max(0) as f64);
    }
    let followed = state.hotspots.follow_seq();
    metrics::gauge!(t::HOTSPOT_LAG).set((head - followed).max(0) as f64);
    for p in state.store.pool_use() {
        metrics::gauge!(t::DB_IN_USE, "pool" => p.pool).set(p.in_use as f64);
        metrics::gauge!(t::DB_IDLE, "pool" => p.pool).set(p.idle as f64);
    }
    Ok(())
}
