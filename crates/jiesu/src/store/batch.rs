//! A queue whose first arrival leads: the leader takes everything that queued meanwhile as
//! one batch, and goes on while more arrive. Nobody waits for a batch to fill: alone, an item
//! is a batch of one. The durability barrier, new requests and stored suggestions on
//! PostgreSQL are written this way (`barrier.rs`, `creates.rs`, `suggestions.rs`).

use super::StoreError;
use std::sync::{Arc, Mutex};

/// Items waiting for the leader.
#[derive(Debug)]
pub(super) struct Queue<T>(Arc<Mutex<Waiting<T>>>);

#[derive(Debug)]
struct Waiting<T> {
    /// A leader is running.
    leading: bool,
    items: Vec<T>,
}

impl<T> Clone for Queue<T> {
    fn clone(&self) -> Self {
        Queue(self.0.clone())
    }
}

impl<T> Default for Queue<T> {
    fn default() -> Self {
        Queue(Arc::new(Mutex::new(Waiting {
            leading: false,
            items: Vec::new(),
        })))
    }
}

impl<T> Queue<T> {
    /// Queues `item`. True when no leader is running: the caller must start one (in a task of
    /// its own, so that a caller that goes away cannot leave the queue without a leader).
    pub(super) fn push(&self, item: T) -> bool {
        let mut waiting = self.0.lock().unwrap_or_else(|e| e.into_inner());
        waiting.items.push(item);
        !std::mem::replace(&mut waiting.leading, true)
    }

    /// The leader's hold on the queue: take it first thing (see [`Leading`]).
    pub(super) fn leading(&self) -> Leading<T> {
        Leading(self.clone())
    }

    /// The leader's next batch, the oldest `max` items at most; `None` when nothing waits,
    /// and then the leader must stop (the next arrival starts another).
    pub(super) fn next(&self, max: usize) -> Option<Vec<T>> {
        let mut waiting = self.0.lock().unwrap_or_else(|e| e.into_inner());
        if waiting.items.is_empty() {
            waiting.leading = false;
            return None;
        }
        let n = waiting.items.len().min(max);
        Some(waiting.items.drain(..n).collect())
    }
}

/// Held by a leader while it runs. A leader that panics gives up the lead and drops what
/// waits (each caller hears its batch was abandoned), so the next arrival leads again
/// instead of waiting forever.
pub(super) struct Leading<T>(Queue<T>);

impl<T> Drop for Leading<T> {
    fn drop(&mut self) {
        if std::thread::panicking() {
            let mut waiting = self.0 .0.lock().unwrap_or_else(|e| e.into_inner());
            waiting.leading = false;
            waiting.items.clear();
        }
    }
}

/// One failure for each of `n` waiters of a batch: the error itself for the first, and its
/// message for the others (a [`StoreError`] cannot be copied).
pub(super) fn failures(e: StoreError, n: usize) -> impl Iterator<Item = StoreError> {
    let message = e.to_string();
    std::iter::once(e)
        .chain(std::iter::repeat_with(move || {
            StoreError::Db(sqlx::Error::Protocol(message.clone()))
        }))
        .take(n)
}

#[cfg(test)]
mod tests {
    use super::Queue;

    #[test]
    fn the_first_arrival_leads_and_the_leader_takes_what_queued_in_order() {
        let q = Queue::default();
        assert!(q.push(1), "the first arrival leads");
        assert!(!q.push(2), "a leader is running");
        assert!(!q.push(3));
        assert_eq!(q.next(2), Some(vec![1, 2]));
        assert_eq!(q.next(2), Some(vec![3]));
        assert_eq!(q.next(2), None, "nothing waits: the leader stops");
        assert!(q.push(4), "the next arrival leads again");
    }

    #[test]
    fn each_waiter_of_a_failed_batch_hears_the_failure() {
        let e = crate::store::StoreError::Corrupt("the batch failed".into());
        let each: Vec<String> = super::failures(e, 3).map(|e| e.to_string()).collect();
        assert_eq!(each.len(), 3);
        assert_eq!(each[0], "corrupt stored value: the batch failed");
        assert!(
            each[1..].iter().all(|m| m.contains("the batch failed")),
            "{each:?}"
        );
    }

    #[test]
    fn a_leader_that_panics_gives_up_the_lead_and_drops_what_waits() {
        let q = Queue::default();
        assert!(q.push(1));
        let leader = q.clone();
        let panicked = std::thread::spawn(move || {
            let _leading = leader.leading();
            assert_eq!(leader.next(1), Some(vec![1]));
            leader.push(2);
            panic!("the leader fails");
        })
        .join();
        assert!(panicked.is_err());
        assert!(q.push(3), "the next arrival leads");
        assert_eq!(q.next(10), Some(vec![3]), "what waited was dropped");
    }
}
