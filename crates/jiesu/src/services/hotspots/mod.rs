//! Hotspots (热点) and the same problem elsewhere (举一反三), mined on request from the
//! stored citizen requests of a time range with `jiesu_text`. Owns turning
//! request rows into miner records (place, category, requester key), and the node's live
//! index (`live`); not the tasks opened from them (`tasks`).

pub mod live;

use super::models::Models;
use super::AppState;
use crate::error::AppError;
use crate::store::hotspots::{self as store, MinedRow};
use crate::store::millis;
use chrono::{DateTime, Duration, Utc};
use jiesu_core::access::Action;
use jiesu_core::Actor;
use jiesu_text::hotspots::{
    mine_index, HotspotConfig, HotspotIndex, HotspotRecord, PlaceHint, Problem,
};
use rustc_hash::FxHashMap;
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;

/// At most this many requests are mined per call.
pub const MAX_RECORDS: i64 = 200_000;
/// Minimum text similarity for the same problem elsewhere.
pub const ELSEWHERE_SIMILARITY: f32 = 0.3;

/// Where a request is, from the gazetteer (district, street, community names and codes).
#[derive(Debug, Clone, Default)]
pub struct Located {
    /// District code and name.
    pub district: Option<(String, String)>,
    /// Street (街道/乡镇) code and name.
    pub street: Option<(String, String)>,
    /// Community code and name.
    pub community: Option<(String, String)>,
}

/// A request with its place and category worked out once.
pub struct Mined {
    /// The row.
    pub row: MinedRow,
    /// Its place.
    pub at: Located,
    /// Its stored category, else the best keyword category of its text.
    pub category: Option<String>,
}

/// Resolves the address, else the title and text, against the gazetteer.
pub fn locate(text: &Models, row: &MinedRow) -> Located {
    let g = text.gazetteer();
    let mut m = g.resolve(&row.address);
    if m.district.is_none() {
        m = g.resolve(&format!("{} {}", row.title, row.body));
    }
    let pair = |u: Option<jiesu_text::place::PlaceUnit>| u.map(|u| (u.code, u.name));
    Located {
        district: pair(m.district),
        street: pair(m.street),
        community: pair(m.community),
    }
}

/// The stored category, else the leaf category whose keywords the text hits most.
pub fn category_of(text: &Models, row: &MinedRow) -> Option<String> {
    row.category_code.clone().or_else(|| {
        let words = format!("{} {}", row.title, row.body);
        text.keyword_ranking(&words, None)
            .into_iter()
            .next()
            .map(|c| c.code)
    })
}

/// Loads and annotates the citizen requests in [from, to), optionally only in `district`.
pub async fn load(
    state: &AppState,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    district: Option<&str>,
) -> Result<Vec<Mined>, AppError> {
    let rows = store::requests_between(state.store.reader(), from, to, MAX_RECORDS).await?;
    let (state, district) = (state.clone(), district.map(str::to_string));
    off_runtime(move || {
        rows.into_iter()
            .map(|row| {
                let at = locate(&state.models, &row);
                let category = category_of(&state.models, &row);
                Mined { row, at, category }
            })
            .filter(|m| {
                let wanted = district.as_deref();
                wanted.is_none_or(|d| m.at.district.as_ref().is_some_and(|x| x.0 == d))
            })
            .collect()
    })
    .await
}

/// Runs CPU-bound work (place resolution, mining) on the blocking pool, so a large range does
/// not stall the handlers sharing the runtime.
pub async fn off_runtime<T: Send + 'static>(
    work: impl FnOnce() -> T + Send + 'static,
) -> Result<T, AppError> {
    tokio::task::spawn_blocking(work)
        .await
        .map_err(|e| AppError::Internal(anyhow::anyhow!("mining task failed: {e}")))
}

/// A key that tells requesters apart without naming them: the phone hashed with a random
/// salt drawn once per process, so the keys held in memory cannot be turned back into phone
/// numbers by hashing every number (there are only 10¹¹), and nothing outlives a restart. Keys
/// only need to agree within one process (they count distinct people per problem).
fn requester_key(phone: &str) -> String {
    static SALT: std::sync::OnceLock<[u8; 32]> = std::sync::OnceLock::new();
    let salt = SALT.get_or_init(|| {
        let mut b = [0u8; 32];
        rand::RngCore::fill_bytes(&mut rand::rngs::OsRng, &mut b);
        b
    });
    let mut h = Sha256::new();
    h.update(salt);
    h.update(phone.as_bytes());
    hex::encode(&h.finalize()[..8])
}

/// The miner's record of a request.
pub fn record(m: &Mined) -> HotspotRecord {
    let requester =
        (!m.row.requester_phone.is_empty()).then(|| requester_key(&m.row.requester_phone));
    HotspotRecord {
        id: m.row.id.clone(),
        submitted_at: m.row.created_at,
        title: m.row.title.clone(),
        text: m.row.body.clone(),
        requester,
        // a community is a place people name; a street is too coarse to group by
        place: m.at.community.as_ref().map(|(code, name)| PlaceHint {
            code: Some(code.clone()),
            name: name
                .trim_end_matches("居委会")
                .trim_end_matches("村委会")
                .to_string(),
        }),
        category: m.category.clone(),
        dissatisfied: m.row.dissatisfied,
        ..Default::default()
    }
}

/// Mines `requests` into an index.
pub fn index_of<'a>(requests: impl IntoIterator<Item = &'a Mined>) -> HotspotIndex {
    let mut records: Vec<HotspotRecord> = requests.into_iter().map(record).collect();
    mine_index(&mut records, &HotspotConfig::default())
}

/// A hot problem as the API shows it.
#[derive(Debug, Serialize)]
pub struct HotspotView {
    /// 1 for the hottest (0 outside a ranking).
    pub rank: usize,
    /// Stable while its first request is in range: that request's id.
    pub key: String,
    /// Heat index.
    pub heat: f64,
    /// "place problem".
    pub description: String,
    /// The place.
    pub place: String,
    /// The street most of its requests are in (code, name), if known.
    pub street: Option<(String, String)>,
    /// The district most of its requests are in.
    pub district: Option<(String, String)>,
    /// First request, UTC.
    pub from: DateTime<Utc>,
    /// Last request, UTC.
    pub to: DateTime<Utc>,
    /// Its requests.
    pub request_ids: Vec<String>,
    /// Number of requests.
    pub size: usize,
    /// Categories of its requests with counts, most first.
    pub categories: Vec<(String, usize)>,
    /// Similarity to the problem asked about (举一反三 only).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub similarity: Option<f32>,
}

fn majority<T: Clone + Ord>(items: impl Iterator<Item = T>) -> Vec<(T, usize)> {
    let mut counts: BTreeMap<T, usize> = BTreeMap::new();
    for i in items {
        *counts.entry(i).or_default() += 1;
    }
    let mut v: Vec<(T, usize)> = counts.into_iter().collect();
    v.sort_by(|a, b| b.1.cmp(&a.1).then(a.0.cmp(&b.0)));
    v
}

/// What a hotspot view needs of each request beyond the miner's problem.
pub trait Meta {
    /// Where it is.
    fn at(&self) -> &Located;
    /// Its category (stored or inferred).
    fn category(&self) -> Option<&str>;
}

impl Meta for Mined {
    fn at(&self) -> &Located {
        &self.at
    }
    fn category(&self) -> Option<&str> {
        self.category.as_deref()
    }
}

/// Shapes a mined problem, with streets and categories from its requests' `Meta`.
pub fn view<'a, M: Meta + 'a>(p: Problem, lookup: impl Fn(&str) -> Option<&'a M>) -> HotspotView {
    let members: Vec<&M> = p.request_ids.iter().filter_map(|id| lookup(id)).collect();
    let top = |f: fn(&Located) -> &Option<(String, String)>| {
        majority(members.iter().filter_map(|m| f(m.at()).clone()))
            .into_iter()
            .next()
            .map(|x| x.0)
    };
    HotspotView {
        rank: p.rank,
        key: p.request_ids.first().cloned().unwrap_or_default(),
        heat: p.heat,
        description: p.description,
        place: p.place,
        street: top(|l| &l.street),
        district: top(|l| &l.district),
        from: crate::store::from_millis(p.from),
        to: crate::store::from_millis(p.to),
        size: p.request_ids.len(),
        request_ids: p.request_ids,
        categories: majority(
            members
                .iter()
                .filter_map(|m| m.category().map(str::to_string)),
        ),
        similarity: None,
    }
}

/// What to mine.
pub struct Range {
    /// From (inclusive), UTC.
    pub from: DateTime<Utc>,
    /// To (exclusive), UTC.
    pub to: DateTime<Utc>,
    /// Only requests in this district (code).
    pub district: Option<String>,
}

/// The `top` hottest problems of the range (center roles).
pub async fn hotspots(
    state: &AppState,
    actor: &Actor,
    range: &Range,
    top: usize,
) -> Result<Vec<HotspotView>, AppError> {
    if !actor.may(Action::Supervise) {
        return Err(AppError::Forbidden("hotspots"));
    }
    let requests = load(state, range.from, range.to, range.district.as_deref()).await?;
    let as_of = millis(range.to) - 1;
    off_runtime(move || {
        let index = index_of(&requests);
        let by_id: FxHashMap<&str, &Mined> =
            requests.iter().map(|m| (m.row.id.as_str(), m)).collect();
        index
            .problems(top, Some(as_of))
            .into_iter()
            .map(|p| view(p, |id| by_id.get(id).copied()))
            .collect()
    })
    .await
}

/// The `top` hottest problems of the node's live index with a request in the last 30 days
/// (center roles).
pub fn live(state: &AppState, actor: &Actor, top: usize) -> Result<Vec<HotspotView>, AppError> {
    if !actor.may(Action::Supervise) {
        return Err(AppError::Forbidden("hotspots"));
    }
    let now = millis(state.clock.now());
    state
        .hotspots
        .hottest(top, now)
        .ok_or_else(|| AppError::Internal(anyhow::anyhow!("hotspot index poisoned")))
}

/// Problems like the one holding `seed` requests, in other streets, over the `days` before
/// now (举一反三): same category, similar text, none of the seed's streets.
pub async fn elsewhere(
    state: &AppState,
    seed: &[String],
    days: i64,
) -> Result<Vec<HotspotView>, AppError> {
    let now = state.clock.now();
    let requests = load(
        state,
        now - Duration::days(days),
        now + Duration::milliseconds(1),
        None,
    )
    .await?;
    let seed = seed.to_vec();
    off_runtime(move || elsewhere_in(&requests, &seed)).await
}

/// [`elsewhere`] over loaded requests.
fn elsewhere_in(requests: &[Mined], seed: &[String]) -> Vec<HotspotView> {
    let index = index_of(requests);
    let by_id: FxHashMap<&str, &Mined> = requests.iter().map(|m| (m.row.id.as_str(), m)).collect();
    let seeds: Vec<&Mined> = seed
        .iter()
        .filter_map(|id| by_id.get(id.as_str()).copied())
        .collect();
    let streets: Vec<&str> = seeds
        .iter()
        .filter_map(|m| m.at.street.as_ref().map(|s| s.0.as_str()))
        .collect();
    let categories: Vec<&str> = seeds.iter().filter_map(|m| m.category.as_deref()).collect();
    let mut problems: Vec<u32> = seed.iter().filter_map(|id| index.problem_of(id)).collect();
    problems.sort_unstable();
    problems.dedup();
    let mut found: FxHashMap<u32, f32> = FxHashMap::default();
    for p in problems.iter().copied() {
        for (q, sim) in index.similar(p, ELSEWHERE_SIMILARITY, 50) {
            if !problems.contains(&q) {
                let best = found.entry(q).or_default();
                *best = best.max(sim);
            }
        }
    }
    let mut out: Vec<HotspotView> = found
        .into_iter()
        .filter_map(|(q, sim)| {
            let mut v = view(index.problem_by_id(q)?, |id| by_id.get(id).copied());
            v.similarity = Some(sim);
            Some(v)
        })
        .filter(|v| {
            v.street
                .as_ref()
                .is_none_or(|s| !streets.contains(&s.0.as_str()))
        })
        .filter(|v| {
            categories.is_empty()
                || v.categories
                    .iter()
                    .any(|c| categories.contains(&c.0.as_str()))
        })
        .collect();
    out.sort_by(|a, b| {
        b.similarity
            .unwrap_or(0.0)
            .total_cmp(&a.similarity.unwrap_or(0.0))
            .then(a.key.cmp(&b.key))
    });
    out
}

/// The requests of the problem whose key (first request id) is `key`, mined over the `days`
/// before now; None when no problem has that key.
pub async fn problem_requests(
    state: &AppState,
    key: &str,
    days: i64,
) -> Result<Option<Vec<String>>, AppError> {
    Ok(find_problem(state, key, days).await?.map(|p| p.request_ids))
}

/// The problem whose key (first request id) is `key`, mined over the `days` before now;
/// None when no problem has that key (center roles).
pub async fn problem(
    state: &AppState,
    actor: &Actor,
    key: &str,
    days: i64,
) -> Result<Option<HotspotView>, AppError> {
    if !actor.may(Action::Supervise) {
        return Err(AppError::Forbidden("hotspots"));
    }
    find_problem(state, key, days).await
}

async fn find_problem(
    state: &AppState,
    key: &str,
    days: i64,
) -> Result<Option<HotspotView>, AppError> {
    let now = state.clock.now();
    let requests = load(
        state,
        now - Duration::days(days),
        now + Duration::milliseconds(1),
        None,
    )
    .await?;
    let key = key.to_string();
    off_runtime(move || {
        let index = index_of(&requests);
        let by_id: FxHashMap<&str, &Mined> =
            requests.iter().map(|m| (m.row.id.as_str(), m)).collect();
        index
            .problem_of(&key)
            .and_then(|p| index.problem_by_id(p))
            .filter(|p| p.request_ids.first() == Some(&key))
            .map(|p| view(p, |id| by_id.get(id).copied()))
    })
    .await
}
