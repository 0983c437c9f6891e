//! The live hotspot index of a node (热点, incremental): built at start from the last
//! [`LIVE_DAYS`] of citizen requests and fed by intake after each commit, so a new request joins
//! its problem at once. Derived state like the duplicate index: each node keeps its own and
//! rebuilds it at start, and [`follow`] adds the requests other nodes took in (from the event
//! log). It does not see later callbacks; a ranged `GET /hotspots` does.

use super::{category_of, locate, record, view, HotspotView, Located, Meta, Mined, MAX_RECORDS};
use crate::services::models::Models;
use crate::services::AppState;
use crate::store::hotspots::MinedRow;
use crate::store::StoreError;
use jiesu_text::hotspots::time::DAY_MS;
use jiesu_text::hotspots::{mine_index, HotspotConfig, HotspotIndex, HotspotRecord, Joined};
use rustc_hash::FxHashMap;
use sqlx::AnyPool;
use std::sync::atomic::{AtomicI64, Ordering};
use std::sync::RwLock;

/// Days of requests the index starts from.
pub const LIVE_DAYS: i64 = 30;

/// What a view needs of an indexed request.
#[derive(Debug, Clone)]
pub struct LiveMeta {
    at: Located,
    category: Option<String>,
}

impl Meta for LiveMeta {
    fn at(&self) -> &Located {
        &self.at
    }
    fn category(&self) -> Option<&str> {
        self.category.as_deref()
    }
}

/// The index and each request's place and category.
pub struct LiveHotspots {
    index: HotspotIndex,
    meta: FxHashMap<String, LiveMeta>,
}

impl Default for LiveHotspots {
    fn default() -> Self {
        LiveHotspots {
            index: HotspotIndex::new(HotspotConfig::default()),
            meta: FxHashMap::default(),
        }
    }
}

impl LiveHotspots {
    /// Mines `rows` (oldest first) into a fresh index.
    pub fn build(text: &Models, rows: Vec<MinedRow>) -> Self {
        let mined: Vec<Mined> = rows
            .into_iter()
            .map(|row| Mined {
                at: locate(text, &row),
                category: category_of(text, &row),
                row,
            })
            .collect();
        let mut records: Vec<HotspotRecord> = mined.iter().map(record).collect();
        let index = mine_index(&mut records, &HotspotConfig::default());
        let meta = mined
            .into_iter()
            .map(|m| {
                let meta = LiveMeta {
                    at: m.at,
                    category: m.category,
                };
                (m.row.id, meta)
            })
            .collect();
        LiveHotspots { index, meta }
    }

    /// True when the request is indexed.
    pub fn contains(&self, request_id: &str) -> bool {
        self.meta.contains_key(request_id)
    }

    /// Adds a just-recorded citizen request; returns the problem it joined. Callers go
    /// through [`index_new`], which feeds the duplicate index too.
    fn insert(&mut self, text: &Models, row: MinedRow) -> Joined {
        let m = Mined {
            at: locate(text, &row),
            category: category_of(text, &row),
            row,
        };
        let joined = self.index.insert(&record(&m));
        let meta = LiveMeta {
            at: m.at,
            category: m.category,
        };
        self.meta.insert(m.row.id, meta);
        joined
    }

    /// Number of indexed requests.
    pub fn len(&self) -> usize {
        self.index.len()
    }

    /// True when nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.index.is_empty()
    }

    /// The `top` hottest problems as of `now` (UTC ms) with a request in the last
    /// [`LIVE_DAYS`].
    pub fn hottest(&self, top: usize, now: i64) -> Vec<HotspotView> {
        let since = now - LIVE_DAYS * DAY_MS;
        // problems gone quiet are skipped: ask for more until `top` recent ones are found
        let mut ask = top.saturating_mul(2).max(16);
        let recent = loop {
            let all = self.index.problems(ask, Some(now));
            let exhausted = all.len() < ask;
            let recent: Vec<_> = all.into_iter().filter(|p| p.to >= since).collect();
            if exhausted || recent.len() >= top {
                break recent;
            }
            ask = ask.saturating_mul(4);
        };
        let mut out: Vec<HotspotView> = recent
            .into_iter()
            .take(top)
            .map(|p| view(p, |id| self.meta.get(id)))
            .collect();
        for (i, v) in out.iter_mut().enumerate() {
            v.rank = i + 1;
        }
        out
    }
}

/// A just-created request as the indexes take it.
pub fn mined_row(r: &crate::store::requests::RequestRow) -> MinedRow {
    MinedRow {
        id: r.id.clone(),
        created_at: crate::store::millis(r.created_at),
        title: r.title.clone(),
        body: r.body.clone(),
        address: r.address.clone(),
        category_code: r.category_code.clone(),
        requester_phone: r.requester_phone.clone(),
        dissatisfied: false,
    }
}

/// The node's live index behind its lock, and how far it has followed the event log.
pub struct Live {
    index: RwLock<LiveHotspots>,
    /// The last event the indexes have followed (see [`follow`]).
    follow_seq: AtomicI64,
}

impl Live {
    /// Builds the index from the last [`LIVE_DAYS`] of requests; it follows the event log
    /// from where `models` was loaded.
    pub async fn load(
        pool: &AnyPool,
        models: &Models,
        now: chrono::DateTime<chrono::Utc>,
    ) -> Result<Live, StoreError> {
        let since = now - chrono::Duration::days(LIVE_DAYS);
        let until = now + chrono::Duration::days(1);
        let rows =
            crate::store::hotspots::requests_between(pool, since, until, MAX_RECORDS).await?;
        Ok(Live {
            index: RwLock::new(LiveHotspots::build(models, rows)),
            follow_seq: AtomicI64::new(models.loaded_at_seq),
        })
    }

    /// The last event of the log the indexes have followed.
    pub fn follow_seq(&self) -> i64 {
        self.follow_seq.load(Ordering::SeqCst)
    }

    /// The `top` hottest recent problems as of `now` (UTC ms); None if the lock is poisoned.
    pub fn hottest(&self, top: usize, now: i64) -> Option<Vec<HotspotView>> {
        self.index.read().ok().map(|h| h.hottest(top, now))
    }

    /// True when the request is indexed.
    pub fn contains(&self, request_id: &str) -> bool {
        self.index.read().is_ok_and(|h| h.contains(request_id))
    }

    /// Number of indexed requests.
    pub fn len(&self) -> usize {
        self.index.read().map(|h| h.len()).unwrap_or(0)
    }

    /// True when nothing is indexed.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// Adds a new request to the duplicate and live hotspot indexes, once: None when it is
/// indexed already (an intake of this node that the log follower also saw).
pub fn index_new(state: &AppState, row: MinedRow) -> Option<Joined> {
    let mut h = state.hotspots.index.write().ok()?;
    if h.contains(&row.id) {
        return None;
    }
    if let Ok(mut d) = state.models.dupes.write() {
        d.insert(&row.id, &format!("{} {}", row.title, row.body));
    }
    Some(h.insert(&state.models, row))
}

/// Events read per round of [`follow`].
const FOLLOW_BATCH: i64 = 2000;

/// Follows the event log from where this node's indexes start: requests created since, on
/// any node, join the live hotspot and duplicate indexes (this node's own intakes are there
/// already and are skipped). Returns how many requests joined.
pub async fn follow(state: &AppState) -> Result<usize, StoreError> {
    let live = &state.hotspots;
    let mut seq = live.follow_seq.load(Ordering::SeqCst);
    let mut joined = 0;
    loop {
        let (created, last, read) =
            crate::store::events::created_after(state.store.reader(), seq, FOLLOW_BATCH).await?;
        let unknown: Vec<String> = match live.index.read() {
            Ok(h) => created.into_iter().filter(|id| !h.contains(id)).collect(),
            Err(_) => Vec::new(),
        };
        for ids in unknown.chunks(500) {
            for row in crate::store::hotspots::mined_by_ids(state.store.reader(), ids).await? {
                joined += usize::from(index_new(state, row).is_some());
            }
        }
        let Some(last) = last else { break };
        seq = last;
        live.follow_seq.store(seq, Ordering::SeqCst);
        if (read as i64) < FOLLOW_BATCH {
            break;
        }
    }
    Ok(joined)
}
