//! The retention job: removes the requester's name and phone from requests closed longer ago
//! than `JIESU_PRIVACY_RETENTION_DAYS`, one `privacy.redacted` event each (the same work as
//! `jiesu privacy redact`), and the number from abusive-caller marks no longer in force, one
//! `privacy.mark_redacted` event each. Idempotent: a redacted request or mark is not picked
//! again.

use crate::services::AppState;

/// How often the server looks for requests past their retention.
pub const EVERY: std::time::Duration = std::time::Duration::from_secs(3600);

/// Redacts what is due; returns how many requests were redacted (the marks are logged).
pub async fn redact_personal_data(state: &AppState) -> anyhow::Result<usize> {
    let fail = |e: crate::error::AppError| anyhow::anyhow!("{}", e.message(true));
    let requests = crate::services::privacy::redact_due(state)
        .await
        .map_err(fail)?;
    crate::services::privacy::redact_lapsed_marks(state)
        .await
        .map_err(fail)?;
    crate::services::privacy::forget_request_keys(state)
        .await
        .map_err(fail)?;
    Ok(requests)
}
