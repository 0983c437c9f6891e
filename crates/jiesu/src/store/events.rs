//! The event log: every change appends an event (who, what, when, before → after), chained by
//! SHA-256 so that an edited or removed row is detected by `jiesu audit verify`.

use super::{from_millis, StoreError};
use chrono::{DateTime, Utc};
use serde::Serialize;
use sha2::{Digest, Sha256};
use sqlx::{AnyPool, Row};

/// An event not yet appended.
#[derive(Debug, Clone)]
pub struct NewEvent {
    /// The city (行政区划代码) the event belongs to.
    pub jurisdiction: String,
    /// The request it concerns, if any.
    pub request_id: Option<String>,
    /// The order it concerns, if any.
    pub assignment_id: Option<String>,
    /// The user, or `system` for jobs.
    pub actor_id: String,
    /// The actor's role, or `system`.
    pub actor_role: String,
    /// What happened (`request.created`, `assignment.acknowledged`, …).
    pub action: String,
    /// The status before, when the event changes one.
    pub before: Option<String>,
    /// The status after.
    pub after: Option<String>,
    /// Details.
    pub payload: serde_json::Value,
    /// When (from the injected clock).
    pub at: DateTime<Utc>,
}

/// A stored event, as shown in a request's timeline.
#[derive(Debug, Clone, Serialize)]
pub struct Event {
    /// Position in the chain.
    pub seq: i64,
    /// The event's id.
    pub id: String,
    /// The order it concerns, if any.
    pub assignment_id: Option<String>,
    /// Who.
    pub actor_id: String,
    /// The actor's role.
    pub actor_role: String,
    /// What.
    pub action: String,
    /// Status before.
    pub before: Option<String>,
    /// Status after.
    pub after: Option<String>,
    /// Details.
    pub payload: serde_json::Value,
    /// When.
    pub at: DateTime<Utc>,
}

const GENESIS: &str = "0000000000000000000000000000000000000000000000000000000000000000";

/// The hash linking an event after `prev`: SHA-256 over its fields. Public so that tests can
/// forge a re-hashed chain, which the sealed checkpoints must catch.
#[allow(clippy::too_many_arguments)]
pub fn link_hash(
    prev: &str,
    seq: i64,
    id: &str,
    jurisdiction: &str,
    request_id: Option<&str>,
    assignment_id: Option<&str>,
    actor_id: &str,
    actor_role: &str,
    action: &str,
    before: Option<&str>,
    after: Option<&str>,
    payload: &str,
    at: i64,
) -> String {
    let mut h = Sha256::new();
    let seq_s = seq.to_string();
    let at_s = at.to_string();
    let fields: [&str; 13] = [
        prev,
        &seq_s,
        id,
        jurisdiction,
        request_id.unwrap_or("\u{0}"),
        assignment_id.unwrap_or("\u{0}"),
        actor_id,
        actor_role,
        action,
        before.unwrap_or("\u{0}"),
        after.unwrap_or("\u{0}"),
        payload,
        &at_s,
    ];
    for f in fields {
        h.update(f.as_bytes());
        h.update([0x1f]);
    }
    hex::encode(h.finalize())
}

/// The events of one request, in order.
pub async fn for_request<'c, E>(conn: E, request_id: &str) -> Result<Vec<Event>, StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let rows = sqlx::query(
        "SELECT seq, id, assignment_id, actor_id, actor_role, action, before_state, after_state, payload, at \
         FROM events WHERE request_id = $1 ORDER BY seq",
    )
    .bind(request_id)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            let payload: String = r.try_get("payload")?;
            Ok(Event {
                seq: r.try_get("seq")?,
                id: r.try_get("id")?,
                assignment_id: r.try_get("assignment_id")?,
                actor_id: r.try_get("actor_id")?,
                actor_role: r.try_get("actor_role")?,
                action: r.try_get("action")?,
                before: r.try_get("before_state")?,
                after: r.try_get("after_state")?,
                payload: serde_json::from_str(&payload)
                    .map_err(|e| StoreError::Corrupt(e.to_string()))?,
                at: from_millis(r.try_get("at")?),
            })
        })
        .collect()
}

/// Where the chain first breaks.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("event chain broken at seq {seq}: {reason}")]
pub struct BrokenLink {
    /// The first sequence number that does not verify.
    pub seq: i64,
    /// What is wrong.
    pub reason: String,
}

/// Walks the whole chain in sequence order; returns the number of events, or the first
/// broken link (an edited row, a missing or inserted row, or a head that does not match).
pub async fn verify(pool: &AnyPool) -> Result<Result<i64, BrokenLink>, StoreError> {
    let mut prev = GENESIS.to_string();
    let mut expected = 1i64;
    loop {
        let rows = sqlx::query(
            "SELECT seq, id, jurisdiction, request_id, assignment_id, actor_id, actor_role, action, \
             before_state, after_state, payload, at, prev_hash, hash FROM events \
             WHERE seq >= $1 ORDER BY seq LIMIT 5000",
        )
        .bind(expected)
        .fetch_all(pool)
        .await?;
        if rows.is_empty() {
            break;
        }
        for r in &rows {
            let seq: i64 = r.try_get("seq")?;
            if seq != expected {
                return Ok(Err(BrokenLink {
                    seq: expected,
                    reason: format!("event {expected} is missing (next is {seq})"),
                }));
            }
            let stored_prev: String = r.try_get("prev_hash")?;
            if stored_prev != prev {
                return Ok(Err(BrokenLink {
                    seq,
                    reason: "prev_hash does not match the previous event".into(),
                }));
            }
            let get = |c: &str| -> Result<Option<String>, sqlx::Error> {
                r.try_get::<Option<String>, _>(c)
            };
            let hash = link_hash(
                &prev,
                seq,
                &r.try_get::<String, _>("id")?,
                &r.try_get::<String, _>("jurisdiction")?,
                get("request_id")?.as_deref(),
                get("assignment_id")?.as_deref(),
                &r.try_get::<String, _>("actor_id")?,
                &r.try_get::<String, _>("actor_role")?,
                &r.try_get::<String, _>("action")?,
                get("before_state")?.as_deref(),
                get("after_state")?.as_deref(),
                &r.try_get::<String, _>("payload")?,
                r.try_get("at")?,
            );
            let stored: String = r.try_get("hash")?;
            if hash != stored {
                return Ok(Err(BrokenLink {
                    seq,
                    reason: "the stored event was altered (hash mismatch)".into(),
                }));
            }
            prev = stored;
            expected += 1;
        }
    }
    let head = sqlx::query("SELECT seq, hash FROM event_chain WHERE id = 1")
        .fetch_one(pool)
        .await?;
    let head_seq: i64 = head.try_get("seq")?;
    let head_hash: String = head.try_get("hash")?;
    if head_seq != expected - 1 || head_hash != prev {
        return Ok(Err(BrokenLink {
            seq: expected,
            reason: format!(
                "the chain head says {head_seq} events but {} were found",
                expected - 1
            ),
        }));
    }
    Ok(Ok(expected - 1))
}

/// The sequence number of the chain's last event (0 when empty).
pub async fn head_seq(pool: &AnyPool) -> Result<i64, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT seq FROM event_chain WHERE id = 1")
            .fetch_one(pool)
            .await?,
    )
}

/// Up to `limit` events after `seq`: the requests they created (`request.created`), the last
/// sequence number read (None when there were none) and how many were read.
pub async fn created_after(
    pool: &AnyPool,
    seq: i64,
    limit: i64,
) -> Result<(Vec<String>, Option<i64>, usize), StoreError> {
    let rows: Vec<(i64, Option<String>, String)> = sqlx::query_as(
        "SELECT seq, request_id, action FROM events WHERE seq > $1 ORDER BY seq LIMIT $2",
    )
    .bind(seq)
    .bind(limit)
    .fetch_all(pool)
    .await?;
    let last = rows.last().map(|r| r.0);
    let read = rows.len();
    let created = rows
        .into_iter()
        .filter(|r| r.2 == "request.created")
        .filter_map(|r| r.1)
        .collect();
    Ok((created, last, read))
}

/// (seq, request id, payload) of up to `limit` events after `seq`, in order: what derived
/// state (the search index) follows.
pub async fn after(
    pool: &AnyPool,
    seq: i64,
    limit: i64,
) -> Result<Vec<(i64, Option<String>, String)>, StoreError> {
    Ok(sqlx::query_as(
        "SELECT seq, request_id, payload FROM events WHERE seq > $1 ORDER BY seq LIMIT $2",
    )
    .bind(seq)
    .bind(limit)
    .fetch_all(pool)
    .await?)
}

/// The sequence number of the last unit event (`unit.*`) after `seq`, if any: what a node's
/// gazetteer and unit names follow.
pub async fn last_unit_event_after(pool: &AnyPool, seq: i64) -> Result<Option<i64>, StoreError> {
    Ok(
        sqlx::query_scalar("SELECT MAX(seq) FROM events WHERE seq > $1 AND action LIKE 'unit.%'")
            .bind(seq)
            .fetch_one(pool)
            .await?,
    )
}
