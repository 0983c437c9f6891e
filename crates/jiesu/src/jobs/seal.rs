//! The checkpoint job: seals the event chain's head with the audit key every
//! `JIESU_AUDIT_CHECKPOINT_SECONDS` when it moved (the same work as `jiesu audit checkpoint`;
//! the server also seals at shutdown).

use crate::services::AppState;

/// Seals the head if it moved; returns the sealed position.
pub async fn seal_chain(state: &AppState) -> anyhow::Result<Option<i64>> {
    Ok(crate::services::audit::checkpoint(state)
        .await?
        .map(|c| c.seq))
}
