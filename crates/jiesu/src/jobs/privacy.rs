//! The retention job: removes the requester's name and phone from requests closed longer ago
//! than `JIESU_PRIVACY_RETENTION_DAYS`, one `privacy.redacted` event each (the same work as
//! `jiesu privacy redact`). Idempotent: a redacted request is not picked again.

use crate::services::AppState;

/// How often the server looks for requests past their retention.
pub const EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// Redacts what is due; returns how many requests were redacted.
pub async fn redact_personal_data(state: &AppState) -> anyhow::Result<usize> {
    crate::services::privacy::redact_due(state)
        .await
        .map_err(|e| anyhow::anyhow!("{}", e.message(true)))
}
