//! New requests: each with its events and its suggestion's link, all or nothing.
//!
//! On PostgreSQL every write appends to the event chain, so writes are serial at its head
//! (`turn.rs`), and at full intake the turn is the bottleneck: each holder keeps it for a
//! round trip to the database (figures in BENCHMARKS.md, "Design measurements"). So new requests are
//! written in batches: the first request to arrive leads, and writes every request that
//! queued meanwhile in one statement ([`Store::write_at_once`]); one turn and one round trip
//! then serve the whole batch, and nobody waits for a batch to fill. A batch is all or
//! nothing. Where one of its suggestions is already taken it writes nothing, and its requests
//! are written one by one, so only that one is refused. Where this node does not know the
//! chain's head (another node wrote), each goes in a transaction of its own, which reads it.
//! The leader also numbers the batch: one day-counter statement per batch (per day in it),
//! where each request took one, waiting for the counter row's lock, before.
//!
//! SQLite's single writer already groups transactions (`group.rs`): a new request there is a
//! transaction, numbered inside it.
//!
//! A request with a place (a map pin, Open311 `lat`/`long`) or a client's key
//! (`Idempotency-Key`) is written in a transaction of its own with its `request_locations`
//! or `request_keys` row, so they and the request are one fact: such requests are a minority,
//! and the batch statement stays the plain one.

use super::batch::failures;
use super::locations::{self, Location};
use super::request_keys::{self, RequestKey};
use super::requests::{self, bind_row, insert_linked, RequestRow, REQUEST_COLUMNS};
use super::{AtOnce, AtOnceStatement, Durable, Event, NewEvent, Store, StoreError, Tx};
use tokio::sync::oneshot;

/// Requests per batch at most (each binds 29 parameters and its events' 14 each).
const MAX_BATCH: usize = 32;

/// What a new request comes to: the row and its events as stored, or `None` when its
/// suggestion is taken or unknown (nothing written).
type Created = Result<Option<(RequestRow, Vec<Event>)>, StoreError>;

/// Makes the row and the events of a new request, given its number.
type Make = Box<dyn FnOnce(String) -> (RequestRow, Vec<NewEvent>) + Send>;

/// What a new request carries besides its row and events, written in its transaction.
#[derive(Debug, Default)]
pub struct Extras {
    /// Its place (the `request_id` is set when written).
    pub located: Option<Location>,
    /// The client's key for it.
    pub key: Option<RequestKey>,
}

impl Extras {
    fn is_empty(&self) -> bool {
        self.located.is_none() && self.key.is_none()
    }
}

/// The new requests waiting for the next batch (PostgreSQL).
pub(super) type Queue = super::batch::Queue<Pending>;

/// A new request in the queue, not yet numbered.
pub(super) struct Pending {
    day: String,
    suggestion: Option<String>,
    make: Make,
    done: oneshot::Sender<Created>,
}

impl std::fmt::Debug for Pending {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Pending")
            .field("day", &self.day)
            .field("suggestion", &self.suggestion)
            .finish_non_exhaustive()
    }
}

/// A new request of a batch, numbered.
struct Numbered {
    row: RequestRow,
    suggestion: Option<String>,
    events: Vec<NewEvent>,
    done: oneshot::Sender<Created>,
}

/// Records a new request of local day `day` (`20261128`) with its events, and links to it the
/// suggestion shown for it, if any. `make` makes the row and the events once the request has
/// its number. Returns the row and the events as stored, or `None` (nothing written) when
/// there is no such unlinked suggestion. `extras` are written in the same transaction.
/// Durable when it returns.
pub async fn create(
    store: &Store,
    day: &str,
    suggestion: Option<&str>,
    extras: Extras,
    make: impl FnOnce(String) -> (RequestRow, Vec<NewEvent>) + Send + 'static,
) -> Created {
    let queue = store.creates.as_ref().filter(|_| extras.is_empty());
    let Some(queue) = queue else {
        // SQLite: numbered inside the transaction, without gaps. PostgreSQL without the
        // barrier: numbered by a statement of its own first.
        let (tx, number) = match requests::reserve_numbers(store, day, 1).await? {
            Some(mut numbers) if numbers.len() == 1 => (store.begin().await?, numbers.remove(0)),
            _ => {
                let mut tx = store.begin().await?;
                let number = requests::next_number(&mut tx, day).await?;
                (tx, number)
            }
        };
        let (row, events) = make(number);
        let stored = in_transaction(store, Some(tx), &row, suggestion, extras, events).await?;
        return Ok(stored.map(|events| (row, events)));
    };
    let (done, created) = oneshot::channel();
    let pending = Pending {
        day: day.to_string(),
        suggestion: suggestion.map(str::to_string),
        make: Box::new(make),
        done,
    };
    if queue.push(pending) {
        tokio::spawn(write_batches(store.clone(), queue.clone()));
    }
    created.await.unwrap_or_else(|_| {
        Err(StoreError::Db(sqlx::Error::Protocol(
            "the batch writing this request was abandoned".into(),
        )))
    })
}

/// Writes the request and its extras in a transaction: `tx`, or a new one.
async fn in_transaction(
    store: &Store,
    tx: Option<Tx>,
    row: &RequestRow,
    suggestion: Option<&str>,
    extras: Extras,
    events: Vec<NewEvent>,
) -> Result<Option<Vec<Event>>, StoreError> {
    let mut tx = match tx {
        Some(tx) => tx,
        None => store.begin().await?,
    };
    if !insert_linked(&mut tx, row, suggestion).await? {
        return Ok(None);
    }
    if let Some(l) = extras.located {
        let l = Location {
            request_id: row.id.clone(),
            ..l
        };
        locations::insert(&mut tx, &l).await?;
    }
    if let Some(key) = &extras.key {
        request_keys::insert(&mut tx, key, &row.id).await?;
    }
    for event in events {
        tx.event(event);
    }
    let stored = tx.commit_events().await?;
    Ok(Some(stored.into_iter().map(|(_, event)| event).collect()))
}

/// The leader: writes batches while requests wait.
async fn write_batches(store: Store, queue: Queue) {
    let _leading = queue.leading();
    while let Some(batch) = queue.next(MAX_BATCH) {
        let Some(batch) = number(&store, batch).await else {
            continue;
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

/// Numbers a batch: one counter statement per day in it. Where one fails, every request of
/// the batch is answered with the error.
async fn number(store: &Store, batch: Vec<Pending>) -> Option<Vec<Numbered>> {
    let mut days: Vec<(&str, usize)> = Vec::new();
    for p in &batch {
        match days.iter_mut().find(|(day, _)| *day == p.day) {
            Some((_, n)) => *n += 1,
            None => days.push((&p.day, 1)),
        }
    }
    let mut numbers: Vec<(String, std::vec::IntoIter<String>)> = Vec::new();
    for (day, n) in days {
        match requests::reserve_numbers(store, day, n).await {
            Ok(Some(taken)) if taken.len() == n => {
                numbers.push((day.to_string(), taken.into_iter()))
            }
            failed => {
                let e = failed.err().unwrap_or_else(|| {
                    StoreError::Db(sqlx::Error::Protocol(
                        "no day counter to number the batch".into(),
                    ))
                });
                let n = batch.len();
                for (p, e) in batch.into_iter().zip(failures(e, n)) {
                    let _ = p.done.send(Err(e));
                }
                return None;
            }
        }
    }
    let numbered = batch
        .into_iter()
        .map(|p| {
            let number = numbers
                .iter_mut()
                .find(|(day, _)| *day == p.day)
                .and_then(|(_, taken)| taken.next())
                .expect("a number was taken for each request of the day");
            let (row, events) = (p.make)(number);
            Numbered {
                row,
                suggestion: p.suggestion,
                events,
                done: p.done,
            }
        })
        .collect();
    Some(numbered)
}

/// What a batch left undone.
enum Left {
    None,
    /// Refused, or refused by a constraint or a data check, as a batch: write each alone, so
    /// only the one at fault fails.
    OneByOne(Vec<Numbered>),
    /// Not at once here (the head is unknown to this node): transactions.
    InTransactions(Vec<Numbered>),
}

/// Writes each request in a transaction of its own, each in a task of its own.
fn in_transactions(store: &Store, batch: Vec<Numbered>) {
    for p in batch {
        let store = store.clone();
        tokio::spawn(async move {
            let stored = in_transaction(
                &store,
                None,
                &p.row,
                p.suggestion.as_deref(),
                Extras::default(),
                p.events,
            )
            .await;
            let _ = p
                .done
                .send(stored.map(|stored| stored.map(|events| (p.row, events))));
        });
    }
}

/// Writes a batch in one statement. Once written, the wait for durability and the answers
/// go to a task of their own, so the next batch starts at once.
async fn write_at_once(store: &Store, batch: Vec<Numbered>) -> Left {
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
        Ok((AtOnce::Refused, _)) if batch.len() > 1 => Left::OneByOne(batch),
        Err(e) if batch.len() > 1 && e.is_about_the_data() => Left::OneByOne(batch),
        Ok((AtOnce::Refused, _)) => {
            for p in batch {
                let _ = p.done.send(Ok(None));
            }
            Left::None
        }
        Err(e) => {
            // Not about one request's data (the database or the connection failed): every
            // request of the batch hears it, rather than each waiting to fail alone.
            let n = batch.len();
            for (p, e) in batch.into_iter().zip(failures(e, n)) {
                let _ = p.done.send(Err(e));
            }
            Left::None
        }
    }
}

/// Answers each request of a written batch with its events once they are durable.
async fn answer(batch: Vec<Numbered>, stored: Vec<Event>, durable: Durable) {
    if let Err(e) = durable.wait().await {
        let n = batch.len();
        for (p, e) in batch.into_iter().zip(failures(e, n)) {
            let _ = p.done.send(Err(e));
        }
        return;
    }
    let mut stored = stored.into_iter();
    for p in batch {
        let events: Vec<Event> = stored.by_ref().take(p.events.len()).collect();
        let _ = p.done.send(Ok(Some((p.row, events))));
    }
}

/// The statement writing a batch: parameters `$1` to `$28n` are the rows, then one per
/// suggestion, in the batch's order. Every suggestion must be there unlinked (locked until
/// the statement commits) or nothing is written: two requests of a batch with the same
/// suggestion make it write nothing, and then one by one the second is refused.
fn statement(batch: &[Numbered]) -> AtOnceStatement {
    const COLUMNS: usize = 28;
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

fn n_events(batch: &[Numbered]) -> usize {
    batch.iter().map(|p| p.events.len()).sum()
}
