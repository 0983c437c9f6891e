//! The suggestions shown at intake, linked to the request that followed, so that production
//! accuracy (how often the top suggestion was kept) can be measured.

use super::{millis, AnyQuery, Store, StoreError, Tx};
use chrono::{DateTime, Utc};
use sqlx::{AnyPool, Row};
use tokio::sync::oneshot;

/// Suggestions per batch at most (PostgreSQL).
const MAX_BATCH: usize = 64;

/// A suggestion waiting for its batch (PostgreSQL).
#[derive(Debug)]
pub(super) struct Pending {
    id: String,
    created_at: i64,
    source: String,
    top_category: Option<String>,
    top_lead: Option<String>,
    payload: String,
    done: oneshot::Sender<Result<(), StoreError>>,
}

/// The suggestions waiting for the next batch (PostgreSQL).
pub(super) type Queue = super::batch::Queue<Pending>;

/// Stores a suggestion (an advisory record, with no event). Durable when it returns.
///
/// On PostgreSQL suggestions go in batches (see `batch.rs`): one autocommitted multi-row
/// insert that commits early, then the durability barrier, instead of a synchronous commit
/// each. On SQLite a lone statement of the group-committed writer ([`Store::write_one`]).
pub async fn insert(
    store: &Store,
    id: &str,
    now: DateTime<Utc>,
    source: &str,
    top_category: Option<&str>,
    top_lead: Option<&str>,
    payload: &str,
) -> Result<(), StoreError> {
    let (done, stored) = oneshot::channel();
    let pending = Pending {
        id: id.to_string(),
        created_at: millis(now),
        source: source.to_string(),
        top_category: top_category.map(str::to_string),
        top_lead: top_lead.map(str::to_string),
        payload: payload.to_string(),
        done,
    };
    let Some(queue) = &store.suggestions else {
        let sql = insert_sql(1);
        store
            .write_one(bind(sqlx::query(&sql), std::slice::from_ref(&pending)))
            .await?;
        return Ok(());
    };
    if queue.push(pending) {
        tokio::spawn(write_batches(store.clone(), queue.clone()));
    }
    stored.await.unwrap_or_else(|_| {
        Err(StoreError::Db(sqlx::Error::Protocol(
            "the batch storing this suggestion was abandoned".into(),
        )))
    })
}

/// The insert of `n` suggestions.
fn insert_sql(n: usize) -> String {
    let rows = (0..n)
        .map(|i| format!("({})", super::placeholders_from(i * 6 + 1, 6)))
        .collect::<Vec<_>>()
        .join(", ");
    format!(
        "INSERT INTO suggestions (id, created_at, source, top_category, top_lead_unit, payload) \
         VALUES {rows}"
    )
}

fn bind<'q>(mut q: AnyQuery<'q>, batch: &[Pending]) -> AnyQuery<'q> {
    for p in batch {
        q = q
            .bind(p.id.clone())
            .bind(p.created_at)
            .bind(p.source.clone())
            .bind(p.top_category.clone())
            .bind(p.top_lead.clone())
            .bind(p.payload.clone());
    }
    q
}

/// The leader: stores batches while suggestions wait. A batch refused by a constraint or a
/// data check is stored one by one, so only the one at fault fails; any other failure (the
/// database, the connection) goes to every suggestion of the batch.
async fn write_batches(store: Store, queue: Queue) {
    let _leading = queue.leading();
    while let Some(batch) = queue.next(MAX_BATCH) {
        let batch = match write_batch(&store, batch).await {
            Ok(()) => continue,
            Err((batch, e)) if batch.len() > 1 && e.is_about_the_data() => batch,
            Err((batch, e)) => {
                answer(batch, Err(e));
                continue;
            }
        };
        for p in batch {
            if let Err((alone, e)) = write_batch(&store, vec![p]).await {
                answer(alone, Err(e));
            }
        }
    }
}

/// Stores a batch in one statement that commits early; a task of its own waits for the
/// barrier and answers, so the next batch starts at once.
async fn write_batch(store: &Store, batch: Vec<Pending>) -> Result<(), (Vec<Pending>, StoreError)> {
    let sql = format!(
        "WITH early AS (SELECT set_config('synchronous_commit', 'off', true) AS off), \
         stored AS ({} RETURNING 1) SELECT (SELECT off FROM early) AS early",
        insert_sql(batch.len())
    );
    if let Err(e) = bind(sqlx::query(&sql), &batch)
        .execute(store.writer())
        .await
    {
        return Err((batch, e.into()));
    }
    let durable = store.durable();
    tokio::spawn(async move { answer(batch, durable.wait().await) });
    Ok(())
}

/// Answers every suggestion of a batch (an error, to each).
fn answer(batch: Vec<Pending>, result: Result<(), StoreError>) {
    match result {
        Ok(()) => {
            for p in batch {
                let _ = p.done.send(Ok(()));
            }
        }
        Err(e) => {
            let n = batch.len();
            for (p, e) in batch.into_iter().zip(super::batch::failures(e, n)) {
                let _ = p.done.send(Err(e));
            }
        }
    }
}

/// Links a suggestion to the request recorded after it; false when there is no such unlinked
/// suggestion.
pub async fn link(tx: &mut Tx, suggestion_id: &str, request_id: &str) -> Result<bool, StoreError> {
    let done =
        sqlx::query("UPDATE suggestions SET request_id = $2 WHERE id = $1 AND request_id IS NULL")
            .bind(suggestion_id)
            .bind(request_id)
            .execute(tx.conn())
            .await?;
    Ok(done.rows_affected() == 1)
}

/// Records the knowledge-base entry used to answer the request.
pub async fn record_kb_use(
    tx: &mut Tx,
    request_id: &str,
    kb_entry_id: &str,
) -> Result<(), StoreError> {
    sqlx::query("UPDATE suggestions SET kb_entry_used = $2 WHERE request_id = $1")
        .bind(request_id)
        .bind(kb_entry_id)
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// One linked suggestion with what the operator finally chose.
pub struct Outcome {
    /// The suggested category.
    pub top_category: Option<String>,
    /// The suggested lead unit.
    pub top_lead: Option<String>,
    /// The request's category.
    pub category: Option<String>,
    /// The first round's lead unit still active (or last dispatched).
    pub lead: Option<String>,
    /// When the request was created.
    pub created_at: DateTime<Utc>,
}

/// Linked suggestions of requests created in [from, to).
pub async fn outcomes(
    pool: &AnyPool,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
) -> Result<Vec<Outcome>, StoreError> {
    let rows = sqlx::query(
        "SELECT s.top_category, s.top_lead_unit, r.category_code, r.created_at, \
         (SELECT a.unit_code FROM assignments a WHERE a.request_id = r.id AND a.round = 1 AND a.role = 'lead' \
          ORDER BY CASE WHEN a.status = 'returned' THEN 1 ELSE 0 END, a.dispatched_at DESC LIMIT 1) AS lead \
         FROM suggestions s JOIN requests r ON r.id = s.request_id WHERE r.created_at >= $1 AND r.created_at < $2",
    )
    .bind(millis(from))
    .bind(millis(to))
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(Outcome {
                top_category: r.try_get("top_category")?,
                top_lead: r.try_get("top_lead_unit")?,
                category: r.try_get("category_code")?,
                lead: r.try_get("lead")?,
                created_at: super::from_millis(r.try_get("created_at")?),
            })
        })
        .collect()
}
