//! New requests: each with its events and its suggestion's link, all or nothing.
//!
//! On PostgreSQL every write appends to the event chain, so writes are serial at its head
//! (`turn.rs`): at full intake the turn was busy 94 % of the time, each holder keeping it for
//! about a millisecond, most of it a round trip on a busy machine. So new requests are
//! written in batches: the first request to arrive leads, and writes every request that
//! queued meanwhile in one statement ([`Store::write_at_once`]); one turn and one round trip
//! then serve the whole batch, and nobody waits for a batch to fill. A batch is all or
//! nothing. Where one of its suggestions is already taken it writes nothing, and its requests
//! are written one by one, so only that one is refused. Where this node does not know the
//! chain's head (another node wrote), each goes in a transaction of its own, which reads it.
//!
//! SQLite's single writer already groups transactions (`group.rs`): a new request there is a
//! transaction.

use super::requests::{bind_row, insert_linked, RequestRow, REQUEST_COLUMNS};
use super::{AtOnce, AtOnceStatement, Durable, Event, NewEvent, Store, StoreError, Tx};
use std::sync::{Arc, Mutex};
use tokio::sync::oneshot;

/// Requests per batch at most (each binds 28 parameters and its events' 14 each).
const MAX_BATCH: usize = 32;

/// What a new request comes to: its events as stored, or `None` when its suggestion is
/// taken or unknown (nothing written).
type Created = Result<Option<Vec<Event>>, StoreError>;

/// The requests waiting for the next batch (PostgreSQL).
#[derive(Clone, Debug, Default)]
pub(super) struct Queue(Arc<Mutex<Waiting>>);

#[derive(Debug, Default)]
struct Waiting {
    /// A leader is writing batches.
    leading: bool,
    requests: Vec<Pending>,
}

/// A new request in the queue.
#[derive(Debug)]
struct Pending {
    row: RequestRow,
    suggestion: Option<String>,
    events: Vec<NewEvent>,
    done: oneshot::Sender<Created>,
}

/// Records a new request with its events and links to it the suggestion shown for it, if
/// any: the events as stored, or `None` (nothing written) when there is no such unlinked
/// suggestion. Durable when it returns.
///
/// `tx`: a transaction the caller began (and numbered the request in); the request is
/// written in it. Otherwise, on PostgreSQL, the request joins the next batch.
pub async fn create(
    store: &Store,
    tx: Option<Tx>,
    row: &RequestRow,
    suggestion: Option<&str>,
    events: Vec<NewEvent>,
) -> Created {
    let queue = match (&tx, &store.creates) {
        (None, Some(queue)) => queue,
        _ => return in_transaction(store, tx, row, suggestion, events).await,
    };
    let (done, created) = oneshot::channel();
    let lead = {
        let mut waiting = queue.0.lock().unwrap_or_else(|e| e.into_inner());
        waiting.requests.push(Pending {
            row: row.clone(),
            suggestion: suggestion.map(str::to_string),
            events,
            done,
        });
        !std::mem::replace(&mut waiting.leading, true)
    };
    if lead {
        // A task of its own: a caller that goes away cannot leave the queue without a leader.
        tokio::spawn(write_batches(store.clone(), queue.clone()));
    }
    created.await.unwrap_or_else(|_| {
        Err(StoreError::Db(sqlx::Error::Protocol(
            "the batch writing this request was abandoned".into(),
        )))
    })
}

/// Writes the request in a transaction: `tx`, or a new one.
async fn in_transaction(
    store: &Store,
    tx: Option<Tx>,
    row: &RequestRow,
    suggestion: Option<&str>,
    events: Vec<NewEvent>,
) -> Created {
    let mut tx = match tx {
        Some(tx) => tx,
        None => store.begin().await?,
    };
    if !insert_linked(&mut tx, row, suggestion).await? {
        return Ok(None);
    }
    for event in events {
        tx.event(event);
    }
    let stored = tx.commit_events().await?;
    Ok(Some(stored.into_iter().map(|(_, event)| event).collect()))
}

/// The leader: writes batches while requests wait.
async fn write_batches(store: Store, queue: Queue) {
    loop {
        let batch: Vec<Pending> = {
            let mut waiting = queue.0.lock().unwrap_or_else(|e| e.into_inner());
            if waiting.requests.is_empty() {
                waiting.leading = false;
                return;
            }
            let n = waiting.requests.len().min(MAX_BATCH);
            waiting.requests.drain(..n).collect()
        };
        match write_at_once(&store, batch).await {
            Left::None => {}
            Left::OneByOne(batch) => {
                for pending in batch {
                    if let Left::InTransactions(left) | Left::OneByOne(left) =
                        write_at_once(&store, vec![pending]).await
                    {
                        in_transactions(&store, left);
                    }
                }
            }
            Left::InTransactions(batch) => in_transactions(&store, batch),
        }
    }
}

/// What a batch left undone.
enum Left {
    None,
    /// Refused or failed as a batch: write each alone, so only the one at fault fails.
    OneByOne(Vec<Pending>),
    /// Not at once here (the head is unknown to this node): transactions.
    InTransactions(Vec<Pending>),
}

/// Writes each request in a transaction of its own, each in a task of its own.
fn in_transactions(store: &Store, batch: Vec<Pending>) {
    for p in batch {
        let store = store.clone();
        tokio::spawn(async move {
            let created =
                in_transaction(&store, None, &p.row, p.suggestion.as_deref(), p.events).await;
            let _ = p.done.send(created);
        });
    }
}

/// Writes a batch in one statement. Once written, the wait for durability and the answers
/// go to a task of their own, so the next batch starts at once.
async fn write_at_once(store: &Store, batch: Vec<Pending>) -> Left {
    let statement = statement(&batch);
    let events: Vec<NewEvent> = batch.iter().flat_map(|p| p.events.clone()).collect();
    let outcome = store
        .write_at_once_unsynced(
            &statement,
            |mut q| {
                for p in &batch {
                    q = bind_row(q, &p.row);
                }
                for sid in batch.iter().filter_map(|p| p.suggestion.as_ref()) {
                    q = q.bind(sid.clone());
                }
                q
            },
            events,
        )
        .await;
    match outcome {
        Ok((AtOnce::Written(stored), durable)) => {
            tokio::spawn(answer(batch, stored, durable));
            Left::None
        }
        Ok((AtOnce::NotHere(_), _)) => Left::InTransactions(batch),
        Ok((AtOnce::Refused, _)) | Err(_) if batch.len() > 1 => Left::OneByOne(batch),
        Ok((AtOnce::Refused, _)) => {
            for p in batch {
                let _ = p.done.send(Ok(None));
            }
            Left::None
        }
        Err(e) => {
            if let Some(p) = batch.into_iter().next() {
                let _ = p.done.send(Err(e));
            }
            Left::None
        }
    }
}

/// Answers each request of a written batch with its events once they are durable.
async fn answer(batch: Vec<Pending>, stored: Vec<Event>, durable: Durable) {
    let synced = durable.wait().await.map_err(|e| e.to_string());
    let mut stored = stored.into_iter();
    for p in batch {
        let events: Vec<Event> = stored.by_ref().take(p.events.len()).collect();
        let _ = p.done.send(match &synced {
            Ok(()) => Ok(Some(events)),
            Err(message) => Err(StoreError::Db(sqlx::Error::Protocol(message.clone()))),
        });
    }
}

/// The statement writing a batch: parameters `$1` to `$27n` are the rows, then one per
/// suggestion, in the batch's order. Every suggestion must be there unlinked (locked until
/// the statement commits) or nothing is written: two requests of a batch with the same
/// suggestion make it write nothing, and then one by one the second is refused.
fn statement(batch: &[Pending]) -> AtOnceStatement {
    const COLUMNS: usize = 27;
    let n = batch.len();
    let rows = (0..n)
        .map(|i| format!("({})", super::placeholders_from(i * COLUMNS + 1, COLUMNS)))
        .collect::<Vec<_>>()
        .join(", ");
    let mut writes = format!(
        "inserted AS (INSERT INTO requests ({REQUEST_COLUMNS}) SELECT * FROM (VALUES {rows}) \
         AS v ({REQUEST_COLUMNS}) WHERE EXISTS (SELECT 1 FROM go))"
    );
    // (suggestion parameter, request id parameter) of each request with a suggestion
    let links: Vec<(usize, usize)> = batch
        .iter()
        .enumerate()
        .filter(|(_, p)| p.suggestion.is_some())
        .enumerate()
        .map(|(k, (i, _))| (n * COLUMNS + k + 1, i * COLUMNS + 1))
        .collect();
    if links.is_empty() {
        return AtOnceStatement::new("", "true", &writes, n * COLUMNS, n_events(batch));
    }
    let ids = links
        .iter()
        .map(|(s, _)| format!("${s}"))
        .collect::<Vec<_>>()
        .join(", ");
    let pairs = links
        .iter()
        .map(|(s, r)| format!("(${s}, ${r})"))
        .collect::<Vec<_>>()
        .join(", ");
    writes.push_str(&format!(
        ", linked AS (UPDATE suggestions SET request_id = v.request_id \
         FROM (VALUES {pairs}) AS v (id, request_id) \
         WHERE suggestions.id = v.id AND EXISTS (SELECT 1 FROM go))"
    ));
    AtOnceStatement::new(
        &format!(
            "sug AS (SELECT id FROM suggestions WHERE id IN ({ids}) AND request_id IS NULL FOR UPDATE)"
        ),
        &format!("(SELECT count(*) FROM sug) = {}", links.len()),
        &writes,
        n * COLUMNS + links.len(),
        n_events(batch),
    )
}

fn n_events(batch: &[Pending]) -> usize {
    batch.iter().map(|p| p.events.len()).sum()
}
