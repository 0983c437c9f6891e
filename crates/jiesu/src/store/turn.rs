//! A node's turn at the event chain. Every change appends to the chain, so on PostgreSQL it
//! locks the chain's head row: writes are serial there anyway. Queueing for it in the
//! process, instead of in PostgreSQL's lock manager, spares the database a lock wait, a sleep
//! and a wake-up per contended write (measured in BENCHMARKS.md, "Design measurements"). The
//! row's lock still orders the nodes of a cluster; the turn only orders one node's
//! transactions. A transaction that increments the day counter inside itself takes the turn
//! first (`requests::next_number`), so the two are always taken in the same order. On SQLite
//! the single writer already serialises writes and the turn is never waited for.
//!
//! The turn also remembers the chain's head as this node last wrote it, so the next append
//! can write without reading it first: its statements check the head is unchanged and
//! otherwise do nothing, and the append falls back to reading the head (see
//! `chain::append`). A stale remembered head (another node or process wrote, or the
//! transaction that wrote it failed) therefore costs a read, never a fork.
//!
//! No deadlock: a transaction waits at most [`TURN_WAIT`] for the turn and then goes on
//! without it (correct, only slower: the row lock still serialises), so a turn holder that
//! waits in PostgreSQL for a lock held by a transaction waiting for the turn is freed.

use super::chain::Head;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Mutex, OwnedMutexGuard};

/// How long a transaction waits for the turn before going on without it. Far above a normal
/// wait (a queue of 32 writes at ~0.5 ms each), so it only ends a cross wait.
const TURN_WAIT: Duration = Duration::from_millis(250);

/// The turn of one node.
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
