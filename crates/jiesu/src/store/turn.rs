//! PostgreSQL: a node's turn at the rows every write shares. Every change appends to the
//! event chain, so it locks the chain's head row, and every intake also increments the day's
//! counter row: writes are serial there anyway. Queueing for them in the process, instead of
//! in PostgreSQL's lock manager, spares the database a lock wait, a sleep and a wake-up per
//! contended write (about 6 % of the machine's CPU at full intake). The rows' locks still
//! order the nodes of a cluster; the turn only orders one node's transactions.
//!
//! The turn also remembers the chain's head as this node last committed it, so the next
//! append can write without reading it first: its statement checks the head is unchanged and
//! otherwise does nothing, and the append falls back to reading the head (see
//! `events::append`). A head is remembered only after its transaction committed.
//!
//! No deadlock: a transaction waits at most [`TURN_WAIT`] for the turn and then goes on
//! without it (correct, only slower: the row locks still serialise), so a turn holder that
//! waits in PostgreSQL for a lock held by a transaction waiting for the turn is freed.

use super::events::Head;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, OwnedMutexGuard};

/// How long a transaction waits for the turn before going on without it. Far above a normal
/// wait (a queue of 32 writes at ~0.5 ms each), so it only ends a cross wait.
const TURN_WAIT: Duration = Duration::from_millis(250);

/// The turn of one node (PostgreSQL).
#[derive(Clone, Debug, Default)]
pub(super) struct ChainTurn(Arc<Mutex<Option<Head>>>);

/// A transaction's standing with the turn.
#[derive(Debug, Default)]
pub(super) enum Turn {
    /// Not asked for yet.
    #[default]
    NotTaken,
    /// Held: the head remembered (taken out while an append is in flight).
    Held(OwnedMutexGuard<Option<Head>>),
    /// Waited for in vain, or not used (SQLite): go on without it.
    Skipped,
}

impl ChainTurn {
    /// Waits for the turn, at most [`TURN_WAIT`].
    pub(super) async fn take(&self) -> Turn {
        match tokio::time::timeout(TURN_WAIT, self.0.clone().lock_owned()).await {
            Ok(guard) => Turn::Held(guard),
            Err(_) => {
                tracing::debug!(
                    "event chain turn not free after {TURN_WAIT:?}: going on without it"
                );
                Turn::Skipped
            }
        }
    }
}

impl Turn {
    /// The head this node last committed, if known; forgotten until [`Turn::remember`], so a
    /// transaction that fails after appending leaves it unknown.
    pub(super) fn known_head(&mut self) -> Option<Head> {
        match self {
            Turn::Held(guard) => guard.take(),
            _ => None,
        }
    }

    /// Remembers the head a transaction has just committed.
    pub(super) fn remember(&mut self, head: Head) {
        if let Turn::Held(guard) = self {
            **guard = Some(head);
        }
    }
}
