//! Answers searched at intake (知识库检索): an in-memory inverted index of character bigrams
//! (`jiesu_text::kb_index`) over the published entries, built on a node's first search and
//! kept current from then on: when the event log shows a knowledge-base change since the
//! last look, only the entries changed since are read again and join or leave the index.
//! Only published entries inside their validity are found.

use super::AppState;
use crate::error::AppError;
use crate::store::kb::{self, KbEntry, KbSearchRow};
use jiesu_text::kb_index::{KbDoc, KbIndex};
use serde::Serialize;
use std::sync::RwLock;

/// How far back (ms) a follow-up read looks before the last one, for writers whose clocks
/// run a little behind or whose transactions committed a little late.
const SLACK_MS: i64 = 2_000;

/// The node's index and how far it has followed the log.
#[derive(Default)]
pub(crate) struct LiveIndex(RwLock<Option<Followed>>);

struct Followed {
    index: KbIndex,
    /// The last event seen.
    seq: i64,
    /// Entries changed before this (ms) are in.
    synced: i64,
}

fn doc(r: KbSearchRow) -> KbDoc {
    KbDoc {
        id: r.id,
        head: r.head,
        body: r.body,
        valid_from: r.valid_from,
        valid_until: r.valid_until,
        updated_at: r.updated_at,
    }
}

impl LiveIndex {
    fn seen(&self) -> Option<(i64, i64)> {
        let slot = self.0.read().ok()?;
        slot.as_ref().map(|f| (f.seq, f.synced))
    }
}

/// Brings the node's index up to the database.
pub async fn follow(state: &AppState) -> Result<(), AppError> {
    let pool = state.store.reader();
    let now = crate::store::millis(state.clock.now());
    match state.models.kb.seen() {
        None => {
            let seq = kb::last_seq(pool).await?;
            let rows = kb::search_rows(pool, None).await?;
            let index =
                tokio::task::spawn_blocking(move || KbIndex::build(rows.into_iter().map(doc)))
                    .await
                    .map_err(|e| AppError::Internal(anyhow::anyhow!("index build: {e}")))?;
            if let Ok(mut slot) = state.models.kb.0.write() {
                *slot = Some(Followed {
                    index,
                    seq,
                    synced: now - SLACK_MS,
                });
            }
        }
        Some((seq, synced)) => {
            let Some(latest) = kb::event_after(pool, seq).await? else {
                return Ok(());
            };
            let rows = kb::search_rows(pool, Some(synced)).await?;
            if let Ok(mut slot) = state.models.kb.0.write() {
                if let Some(f) = slot.as_mut() {
                    for r in rows {
                        if r.offered {
                            let d = doc(r);
                            if !f.index.holds(&d) {
                                f.index.insert(d);
                            }
                        } else {
                            f.index.remove(&r.id);
                        }
                    }
                    f.seq = f.seq.max(latest);
                    f.synced = f.synced.max(now - SLACK_MS);
                }
            }
        }
    }
    Ok(())
}

/// Forgets the index (the next search rebuilds it): `jiesu reindex` and tests.
pub fn forget(state: &AppState) {
    if let Ok(mut slot) = state.models.kb.0.write() {
        *slot = None;
    }
}

/// A search hit.
#[derive(Debug, Serialize)]
pub struct KbHit {
    /// The entry.
    #[serde(flatten)]
    pub entry: KbEntry,
    /// 0..1: the larger of the weighted share of the query's bigrams found in the entry
    /// (title and keywords weigh double) and the share of the entry's title and keyword
    /// bigrams found in the query.
    pub score: f64,
}

/// Ranks published entries valid now for a query; entries below `min_score` are left out.
pub async fn search(
    state: &AppState,
    query: &str,
    limit: usize,
    min_score: f64,
) -> Result<Vec<KbHit>, AppError> {
    let query: String = query.chars().take(2000).collect();
    follow(state).await?;
    let now = crate::store::millis(state.clock.now());
    let found = match state.models.kb.0.read() {
        Ok(slot) => slot
            .as_ref()
            .map(|f| f.index.search(&query, now, limit, min_score))
            .unwrap_or_default(),
        Err(_) => Vec::new(),
    };
    let ids: Vec<String> = found.iter().map(|m| m.id.clone()).collect();
    let mut entries = kb::get_many(state.store.reader(), &ids).await?;
    // The rows decide, not the index: a node's index may lag a change by a moment (a long
    // import's transaction, clocks of two nodes), and a withdrawn entry is never offered.
    let at = state.clock.now();
    entries.retain(|e| e.offered_at(at));
    Ok(found
        .into_iter()
        .filter_map(|m| {
            let at = entries.iter().position(|e| e.id == m.id)?;
            Some(KbHit {
                entry: entries.swap_remove(at),
                score: m.score,
            })
        })
        .collect())
}
