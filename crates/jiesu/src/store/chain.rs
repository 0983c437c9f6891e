//! Appending to the event chain (see `events.rs` for the chain and its verification): link
//! each new event after the head with its hash, insert the events in multi-row statements and
//! move the head, in the caller's transaction.

use super::events::{link_hash, Event, NewEvent};
use super::{from_millis, millis, AnyQuery, Dialect, StoreError};
use sqlx::{AnyConnection, Row};

/// The stored columns of an event, in the order [`bind_events`] binds them.
const EVENT_COLUMNS: &str =
    "seq, id, jurisdiction, request_id, assignment_id, actor_id, actor_role, \
     action, before_state, after_state, payload, at, prev_hash, hash";

/// Parameters per event: one per column of [`EVENT_COLUMNS`].
const PARAMS_PER_EVENT: usize = 14;

/// SQLite's refusal of an event not linked to the chain's head (migration 0006).
const NOT_LINKED: &str = "event chain: not linked to the head";

/// Events per `INSERT` at most.
const EVENTS_PER_STATEMENT: usize = 64;

/// The chain's head: the last event's position and hash.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Head {
    seq: i64,
    hash: String,
}

/// An event linked into the chain, ready to insert.
struct Linked {
    seq: i64,
    id: String,
    event: NewEvent,
    payload: String,
    at: i64,
    prev: String,
    hash: String,
}

/// Links events after `head`: gives each its position, id and hash.
fn link(head: &Head, events: Vec<NewEvent>) -> Vec<Linked> {
    let mut seq = head.seq;
    let mut prev = head.hash.clone();
    events
        .into_iter()
        .map(|event| {
            seq += 1;
            let id = uuid::Uuid::now_v7().to_string();
            let payload = event.payload.to_string();
            let at = millis(event.at);
            let hash = link_hash(
                &prev,
                seq,
                &id,
                &event.jurisdiction,
                event.request_id.as_deref(),
                event.assignment_id.as_deref(),
                &event.actor_id,
                &event.actor_role,
                &event.action,
                event.before.as_deref(),
                event.after.as_deref(),
                &payload,
                at,
            );
            let next = hash.clone();
            Linked {
                seq,
                id,
                event,
                payload,
                at,
                prev: std::mem::replace(&mut prev, next),
                hash,
            }
        })
        .collect()
}

/// Binds the [`PARAMS_PER_EVENT`] columns of each linked event, in [`EVENT_COLUMNS`] order
/// (copies, so the query does not borrow the events).
fn bind_events<'q>(mut query: AnyQuery<'q>, linked: &[Linked]) -> AnyQuery<'q> {
    for l in linked {
        let e = &l.event;
        query = query
            .bind(l.seq)
            .bind(l.id.clone())
            .bind(e.jurisdiction.clone())
            .bind(e.request_id.clone())
            .bind(e.assignment_id.clone())
            .bind(e.actor_id.clone())
            .bind(e.actor_role.clone())
            .bind(e.action.clone())
            .bind(e.before.clone())
            .bind(e.after.clone())
            .bind(l.payload.clone())
            .bind(l.at)
            .bind(l.prev.clone())
            .bind(l.hash.clone());
    }
    query
}

/// `($1, …, $14), ($15, …, $28), …`: the rows of `n` events.
fn value_rows(n: usize) -> String {
    value_rows_after(0, n)
}

/// [`value_rows`] numbered after the first `before` parameters.
fn value_rows_after(before: usize, n: usize) -> String {
    (0..n)
        .map(|k| {
            format!(
                "({})",
                super::placeholders_from(before + k * PARAMS_PER_EVENT + 1, PARAMS_PER_EVENT)
            )
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// A PostgreSQL statement that writes and appends its events after the chain's head, all or
/// nothing, as one autocommitted transaction (see [`super::Store::write_at_once`]).
#[derive(Debug)]
pub struct AtOnceStatement {
    sql: String,
    events: usize,
}

impl AtOnceStatement {
    /// The statement for `events` events:
    /// * `checks`: read-only `WITH` terms that `condition` may read (a `FOR UPDATE` there
    ///   locks what the writes depend on), or empty;
    /// * `condition`: SQL that must hold for anything to be written;
    /// * `writes`: data-modifying `WITH` terms, each writing only `WHERE EXISTS (SELECT 1
    ///   FROM go)` (`go` has a row when the head is where this node left it and `condition`
    ///   holds);
    /// * `params`: the parameters `$1` to `$params` that these use, bound by the caller.
    ///
    /// `condition` is evaluated before the head row is locked, so what `checks` lock is
    /// locked before the head, in the order a transaction takes them (its writes, then the
    /// head at commit): the two cannot deadlock.
    ///
    /// The statement turns `synchronous_commit` off for its own transaction (the locks go
    /// before the WAL flush; the durability barrier waits for it) and answers two booleans:
    /// `at_head` and `go`.
    pub fn new(checks: &str, condition: &str, writes: &str, params: usize, events: usize) -> Self {
        let n = params + events * PARAMS_PER_EVENT;
        let checks = if checks.is_empty() {
            String::new()
        } else {
            format!("{checks}, ")
        };
        let sql = format!(
            "WITH early AS (SELECT set_config('synchronous_commit', 'off', true) AS off), {checks}\
             head AS (SELECT seq FROM event_chain WHERE id = 1 AND seq = ${} AND hash = ${} \
             AND ({condition}) IS NOT NULL FOR UPDATE), \
             go AS (SELECT 1 FROM head WHERE {condition}), {writes}, \
             appended AS (INSERT INTO events ({EVENT_COLUMNS}) SELECT * FROM (VALUES {}) AS v ({EVENT_COLUMNS}) \
             WHERE EXISTS (SELECT 1 FROM go)), \
             moved AS (UPDATE event_chain SET seq = ${}, hash = ${} WHERE id = 1 AND EXISTS (SELECT 1 FROM go)) \
             SELECT EXISTS (SELECT 1 FROM head) AS at_head, EXISTS (SELECT 1 FROM go) AS go, \
             (SELECT off FROM early) AS early",
            n + 1,
            n + 2,
            value_rows_after(params, events),
            n + 3,
            n + 4,
        );
        AtOnceStatement { sql, events }
    }

    /// The SQL, to build the query the caller binds its parameters to.
    pub fn sql(&self) -> &str {
        &self.sql
    }
}

/// Links `events` after `known` and binds them, then the head before and after, to `query`
/// (the rest of an [`AtOnceStatement`]'s parameters, after the caller's). Returns the query,
/// the events as they will be stored and the head after them; `Err` gives the events back
/// when the statement is not for this many.
pub(super) fn bind_at_once<'q>(
    statement: &AtOnceStatement,
    query: AnyQuery<'q>,
    events: Vec<NewEvent>,
    known: &Head,
) -> Result<(AnyQuery<'q>, Vec<Event>, Head), Vec<NewEvent>> {
    if events.len() != statement.events || events.is_empty() {
        return Err(events);
    }
    let linked = link(known, events);
    let head = new_head(&linked, known.clone());
    let query = bind_events(query, &linked);
    let query = query
        .bind(known.seq)
        .bind(known.hash.clone())
        .bind(head.seq)
        .bind(head.hash.clone());
    Ok((query, stored(linked), head))
}

/// The head after the linked events.
fn new_head(linked: &[Linked], before: Head) -> Head {
    match linked.last() {
        Some(l) => Head {
            seq: l.seq,
            hash: l.hash.clone(),
        },
        None => before,
    }
}

/// Appends events after the chain head, inside the caller's transaction, and returns them as
/// stored, in the same order, with the new head. The head row is locked (PostgreSQL) or the
/// writer is single (SQLite), so the chain never forks. The events go in multi-row inserts;
/// on PostgreSQL the last insert and the head's update are one statement (a data-modifying
/// `WITH`); on SQLite triggers refuse an event not linked to the head and move the head to
/// each event inserted (migration 0006).
///
/// `known` is the head this node last wrote (see `turn.rs`). Then the append does not read
/// the head: on PostgreSQL one statement locks the head, checks it is still `known`, inserts
/// and moves it; on SQLite the insert itself is the check. Only where another writer moved
/// the head since does the append read it and link the events again.
pub(super) async fn append(
    conn: &mut AnyConnection,
    dialect: Dialect,
    events: Vec<NewEvent>,
    known: Option<Head>,
) -> Result<(Vec<Event>, Head), StoreError> {
    let events = match known.filter(|_| events.len() <= EVENTS_PER_STATEMENT) {
        Some(known) => match append_after_known(conn, dialect, events, known).await? {
            Ok(appended) => return Ok(appended),
            Err(events) => events, // another writer moved the head: nothing was written
        },
        None => events,
    };
    let sql = format!(
        "SELECT seq, hash FROM event_chain WHERE id = 1{}",
        dialect.for_update()
    );
    let row = sqlx::query(&sql).fetch_one(&mut *conn).await?;
    let current = Head {
        seq: row.try_get("seq")?,
        hash: row.try_get("hash")?,
    };
    let linked = link(&current, events);
    let head = new_head(&linked, current);
    insert_events(conn, dialect, &linked, Some(&head)).await?;
    Ok((stored(linked), head))
}

/// Appends after `known` where the head is still there; otherwise writes nothing and gives
/// the events back.
async fn append_after_known(
    conn: &mut AnyConnection,
    dialect: Dialect,
    events: Vec<NewEvent>,
    known: Head,
) -> Result<Result<(Vec<Event>, Head), Vec<NewEvent>>, StoreError> {
    let linked = link(&known, events);
    let head = new_head(&linked, known.clone());
    let moved = match dialect {
        Dialect::Postgres => {
            let n = linked.len() * PARAMS_PER_EVENT;
            let sql = format!(
                "WITH head AS (SELECT seq FROM event_chain WHERE id = 1 AND seq = ${} AND hash = ${} FOR UPDATE), \
                 appended AS (INSERT INTO events ({EVENT_COLUMNS}) SELECT * FROM (VALUES {}) AS v ({EVENT_COLUMNS}) \
                 WHERE EXISTS (SELECT 1 FROM head)) \
                 UPDATE event_chain SET seq = ${}, hash = ${} WHERE id = 1 AND EXISTS (SELECT 1 FROM head)",
                n + 1,
                n + 2,
                value_rows(linked.len()),
                n + 3,
                n + 4,
            );
            bind_events(sqlx::query(&sql), &linked)
                .bind(known.seq)
                .bind(&known.hash)
                .bind(head.seq)
                .bind(&head.hash)
                .execute(&mut *conn)
                .await?
                .rows_affected()
                == 1
        }
        // One statement: the first event's trigger refuses it where the head is not `known`
        // (the statement is undone, the transaction goes on).
        Dialect::Sqlite => match insert_events(conn, dialect, &linked, None).await {
            Ok(()) => true,
            Err(StoreError::Db(sqlx::Error::Database(e))) if e.message() == NOT_LINKED => false,
            Err(e) => return Err(e),
        },
    };
    Ok(if moved {
        Ok((stored(linked), head))
    } else {
        Err(linked.into_iter().map(|l| l.event).collect())
    })
}

/// Inserts linked events in multi-row inserts; on PostgreSQL with `head`, the last insert
/// also moves the chain's head there (one statement).
async fn insert_events(
    conn: &mut AnyConnection,
    dialect: Dialect,
    linked: &[Linked],
    head: Option<&Head>,
) -> Result<(), StoreError> {
    let chunks = linked.len().div_ceil(EVENTS_PER_STATEMENT);
    for (i, chunk) in linked.chunks(EVENTS_PER_STATEMENT).enumerate() {
        let insert = format!(
            "INSERT INTO events ({EVENT_COLUMNS}) VALUES {}",
            value_rows(chunk.len())
        );
        let head = head.filter(|_| dialect == Dialect::Postgres && i + 1 == chunks);
        let sql = match head {
            Some(_) => {
                let n = chunk.len() * PARAMS_PER_EVENT;
                format!(
                    "WITH appended AS ({insert}) UPDATE event_chain SET seq = ${}, hash = ${} WHERE id = 1",
                    n + 1,
                    n + 2
                )
            }
            None => insert,
        };
        let mut query = bind_events(sqlx::query(&sql), chunk);
        if let Some(head) = head {
            query = query.bind(head.seq).bind(&head.hash);
        }
        query.execute(&mut *conn).await?;
    }
    Ok(())
}

/// The linked events as stored.
fn stored(linked: Vec<Linked>) -> Vec<Event> {
    linked
        .into_iter()
        .map(|l| Event {
            seq: l.seq,
            id: l.id,
            assignment_id: l.event.assignment_id,
            actor_id: l.event.actor_id,
            actor_role: l.event.actor_role,
            action: l.event.action,
            before: l.event.before,
            after: l.event.after,
            payload: l.event.payload,
            at: from_millis(l.at),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::NOT_LINKED;
    use crate::store::events::{self, NewEvent};
    use crate::store::open_test_sqlite;

    fn event(action: &str) -> NewEvent {
        NewEvent {
            jurisdiction: "110000".into(),
            request_id: None,
            assignment_id: None,
            actor_id: "system".into(),
            actor_role: "system".into(),
            action: action.into(),
            before: None,
            after: None,
            payload: serde_json::json!({}),
            at: chrono::Utc::now(),
        }
    }

    /// SQLite's triggers (migration 0006): appended events move the head; an event written
    /// past the application that does not link to the head is refused, and the chain stays
    /// whole.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn sqlite_refuses_an_event_not_linked_to_the_head() {
        let dir = tempfile::tempdir().unwrap();
        let (store, _) = open_test_sqlite(&dir.path().join("c.db")).await;
        let mut tx = store.begin().await.unwrap();
        for action in ["test.one", "test.two", "test.three"] {
            tx.event(event(action));
        }
        let stored = tx.commit_events().await.unwrap();
        assert_eq!(stored.len(), 3);
        assert_eq!(events::head_seq(store.reader()).await.unwrap(), 3);

        // A fork (a second event after the first) and an event at the next position with
        // another hash than the head's: both refused.
        let first: String = sqlx::query_scalar("SELECT hash FROM events WHERE seq = 1")
            .fetch_one(store.reader())
            .await
            .unwrap();
        for (seq, prev) in [(2i64, first), (4, "0".repeat(64))] {
            let mut tx = store.begin().await.unwrap();
            let err = sqlx::query(
                "INSERT INTO events (seq, id, jurisdiction, actor_id, actor_role, action, payload, at, prev_hash, hash) \
                 VALUES ($1, $2, '110000', 'x', 'x', 'forged', '{}', 0, $3, $4)",
            )
            .bind(seq)
            .bind(format!("forged-{seq}"))
            .bind(&prev)
            .bind("f".repeat(64))
            .execute(tx.conn())
            .await
            .unwrap_err();
            assert!(err.to_string().contains(NOT_LINKED), "{err}");
            drop(tx);
        }

        // The application's next append still links after the head.
        let mut tx = store.begin().await.unwrap();
        tx.event(event("test.four"));
        tx.commit().await.unwrap();
        assert_eq!(events::head_seq(store.reader()).await.unwrap(), 4);
        assert_eq!(events::verify(store.reader()).await.unwrap().ok(), Some(4));
        store.close().await;
    }
}
