//! The text models a node holds in memory, derived from the database and the model folder:
//! the trained classifier (if any), the gazetteer, the keyword table of the categories, and
//! the near-duplicate index of recent open requests. All rebuildable at start.

use crate::store::reference;
use crate::store::StoreError;
use jiesu_core::dispatch::CatalogueRule;
use jiesu_text::classify::Model;
use jiesu_text::dupes::{DupConfig, DupIndex};
use jiesu_text::place::Gazetteer;
use sqlx::AnyPool;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, RwLock};

/// How far back intake looks for duplicates.
pub const DUPLICATE_WINDOW_DAYS: i64 = 30;

/// A leaf category with its keywords, for the keyword fallback and for refining a level-1
/// prediction.
#[derive(Debug, Clone)]
pub struct KeywordCategory {
    /// Code.
    pub code: String,
    /// Keywords.
    pub keywords: Vec<String>,
}

/// Every catalogue keyword in one automaton, so a text is scanned once rather than once per
/// keyword (the ranking runs three times per intake).
struct KeywordMatcher {
    automaton: Option<aho_corasick::AhoCorasick>,
    /// The pattern count.
    patterns: usize,
    /// Each category's keywords as pattern ids, in the category's own order.
    ids: Vec<Vec<usize>>,
}

impl KeywordMatcher {
    fn new(categories: &[KeywordCategory]) -> anyhow::Result<Self> {
        let mut by_word: HashMap<&str, usize> = HashMap::new();
        let mut patterns: Vec<&str> = Vec::new();
        let ids = categories
            .iter()
            .map(|c| {
                c.keywords
                    .iter()
                    .map(|k| {
                        *by_word.entry(k.as_str()).or_insert_with(|| {
                            patterns.push(k.as_str());
                            patterns.len() - 1
                        })
                    })
                    .collect()
            })
            .collect();
        let automaton = if patterns.is_empty() {
            None
        } else {
            Some(aho_corasick::AhoCorasick::new(&patterns)?)
        };
        Ok(KeywordMatcher {
            automaton,
            patterns: patterns.len(),
            ids,
        })
    }

    /// Which patterns occur in `text` (as `str::contains` would say, one scan).
    fn matched(&self, text: &str) -> Vec<bool> {
        let mut found = vec![false; self.patterns];
        if let Some(a) = &self.automaton {
            for m in a.find_overlapping_iter(text) {
                found[m.pattern().as_usize()] = true;
            }
        }
        found
    }
}

/// Near-duplicate index with its id mapping.
pub struct DupState {
    /// The MinHash/LSH index.
    pub index: DupIndex,
    /// Index id → request id.
    pub ids: HashMap<u64, String>,
    next: u64,
}

impl DupState {
    /// Adds a request's text.
    pub fn insert(&mut self, request_id: &str, text: &str) {
        self.next += 1;
        self.index.insert(self.next, text);
        self.ids.insert(self.next, request_id.to_string());
    }
}

/// The in-memory text state of a node.
pub struct TextState {
    /// The trained classifier; None means suggestions fall back to keywords (and say so).
    pub model: Option<Model>,
    /// Where the model came from.
    pub model_dir: Option<String>,
    /// The gazetteer of the city.
    pub gazetteer: Gazetteer,
    /// Leaf categories with keywords.
    pub keywords: Vec<KeywordCategory>,
    /// The same keywords in one automaton.
    keyword_matcher: KeywordMatcher,
    /// Category name → code (classifier labels may be names or codes).
    pub category_by_name: HashMap<String, String>,
    /// Category codes.
    pub category_names: HashMap<String, String>,
    /// Recent open requests.
    pub dupes: RwLock<DupState>,
    /// Unit names by code (reference data, loaded at start).
    pub unit_names: HashMap<String, String>,
    /// Each category's default unit (reference data, loaded at start).
    pub default_units: HashMap<String, String>,
    /// The active dispatch catalogue, cached for a few seconds (and dropped on every change
    /// made through this node).
    rules: Cached<Vec<CatalogueRule>>,
    /// The active knowledge-base entries with their bigrams, cached like the catalogue.
    pub(crate) kb: Cached<Vec<super::kb::IndexedEntry>>,
    /// The street each candidate duplicate's text resolves to, by request id.
    streets: std::sync::Mutex<HashMap<String, Option<String>>>,
    /// Hot problems of the last days, fed at intake.
    pub hotspots: RwLock<super::live_hotspots::LiveHotspots>,
    /// The last event the indexes have followed (see [`super::live_hotspots::follow`]).
    pub follow_seq: std::sync::atomic::AtomicI64,
}

/// How long a node trusts its cached reference data (another node's change shows after this).
const CACHE_TTL: std::time::Duration = std::time::Duration::from_secs(5);

/// A value read from the database, trusted for [`CACHE_TTL`] and dropped on every change made
/// through this node.
pub(crate) struct Cached<T>(RwLock<Option<(std::time::Instant, Arc<T>)>>);

impl<T> Default for Cached<T> {
    fn default() -> Self {
        Cached(RwLock::new(None))
    }
}

impl<T> Cached<T> {
    /// The value, if read less than [`CACHE_TTL`] ago.
    pub(crate) fn fresh(&self) -> Option<Arc<T>> {
        let slot = self.0.read().ok()?;
        let (at, value) = slot.as_ref()?;
        (at.elapsed() < CACHE_TTL).then(|| value.clone())
    }

    /// Keeps a value just read and returns it.
    pub(crate) fn put(&self, value: T) -> Arc<T> {
        let value = Arc::new(value);
        if let Ok(mut slot) = self.0.write() {
            *slot = Some((std::time::Instant::now(), value.clone()));
        }
        value
    }

    /// Drops the value (after a change).
    pub(crate) fn forget(&self) {
        if let Ok(mut slot) = self.0.write() {
            *slot = None;
        }
    }
}

impl TextState {
    /// Loads everything: a model folder that exists but does not load is an error.
    pub async fn load(
        pool: &AnyPool,
        model_dir: &Path,
        now: chrono::DateTime<chrono::Utc>,
    ) -> anyhow::Result<TextState> {
        let model = if model_dir.exists() {
            Some(Model::load(model_dir).map_err(|e| {
                anyhow::anyhow!(
                    "the model folder {} does not load: {e}",
                    model_dir.display()
                )
            })?)
        } else {
            None
        };
        let gazetteer = Gazetteer::from_units_csv(reference::SHIPPED[0].1)
            .map_err(|e| anyhow::anyhow!("gazetteer: {e}"))?;
        let rows = reference::category_keywords(pool).await?;
        let mut keywords = Vec::new();
        let mut category_by_name = HashMap::new();
        let mut category_names = HashMap::new();
        for (code, name, kw) in rows {
            let kw: Vec<String> = kw
                .split('|')
                .filter(|k| !k.is_empty())
                .map(str::to_string)
                .collect();
            if !kw.is_empty() {
                keywords.push(KeywordCategory {
                    code: code.clone(),
                    keywords: kw,
                });
            }
            category_by_name
                .entry(name.clone())
                .or_insert_with(|| code.clone());
            category_names.insert(code, name);
        }
        // Read before the indexes are filled: whatever commits meanwhile is followed later
        // (and skipped if it was already loaded).
        let head = crate::store::events::head_seq(pool).await?;
        let mut dupes = DupState {
            index: DupIndex::new(DupConfig::default()),
            ids: HashMap::new(),
            next: 0,
        };
        let since = now - chrono::Duration::days(DUPLICATE_WINDOW_DAYS);
        for (id, title, body) in crate::store::requests::open_texts_since(pool, since).await? {
            dupes.insert(&id, &format!("{title} {body}"));
        }
        let unit_names = reference::units(pool, None, None)
            .await?
            .into_iter()
            .map(|u| (u.code, u.name))
            .collect();
        let default_units = reference::categories(pool)
            .await?
            .into_iter()
            .filter_map(|c| c.default_unit_code.map(|u| (c.code, u)))
            .collect();
        let text = TextState {
            unit_names,
            default_units,
            rules: Cached::default(),
            kb: Cached::default(),
            streets: std::sync::Mutex::new(HashMap::new()),
            model,
            model_dir: model_dir.exists().then(|| model_dir.display().to_string()),
            gazetteer,
            keyword_matcher: KeywordMatcher::new(&keywords)?,
            keywords,
            category_by_name,
            category_names,
            dupes: RwLock::new(dupes),
            hotspots: RwLock::default(),
            follow_seq: std::sync::atomic::AtomicI64::new(head),
        };
        let since = now - chrono::Duration::days(super::live_hotspots::LIVE_DAYS);
        let until = now + chrono::Duration::days(1);
        let rows = crate::store::hotspots::requests_between(
            pool,
            since,
            until,
            super::hotspots::MAX_RECORDS,
        )
        .await?;
        let live = super::live_hotspots::LiveHotspots::build(&text, rows);
        if let Ok(mut h) = text.hotspots.write() {
            *h = live;
        }
        Ok(text)
    }

    /// The active dispatch catalogue (cached for a few seconds).
    pub async fn rules(&self, pool: &AnyPool) -> Result<Arc<Vec<CatalogueRule>>, StoreError> {
        if let Some(rules) = self.rules.fresh() {
            return Ok(rules);
        }
        let rules = crate::store::catalogue::active(pool)
            .await?
            .into_iter()
            .map(|r| r.rule)
            .collect();
        Ok(self.rules.put(rules))
    }

    /// Drops the cached catalogue (after a change).
    pub fn forget_rules(&self) {
        self.rules.forget();
    }

    /// Adds a new request to the duplicate and live hotspot indexes, once: None when it is
    /// indexed already (an intake of this node that the log follower also saw).
    pub fn index_new(
        &self,
        row: crate::store::hotspots::MinedRow,
    ) -> Option<jiesu_text::hotspots::Joined> {
        let mut h = self.hotspots.write().ok()?;
        if h.contains(&row.id) {
            return None;
        }
        if let Ok(mut d) = self.dupes.write() {
            d.insert(&row.id, &format!("{} {}", row.title, row.body));
        }
        Some(h.insert(self, row))
    }

    /// The street [`TextState::street_of`] found for a request before: `None` when it has
    /// not looked yet, `Some(None)` when the request has no street.
    pub fn known_street(&self, request_id: &str) -> Option<Option<String>> {
        self.streets
            .lock()
            .ok()
            .and_then(|m| m.get(request_id).cloned())
    }

    /// The street a request's text resolves to, remembered per request.
    pub fn street_of(&self, request_id: &str, text: impl FnOnce() -> String) -> Option<String> {
        if let Some(s) = self.known_street(request_id) {
            return s;
        }
        let street = super::suggest::place_codes(&self.gazetteer.resolve(&text())).street;
        if let Ok(mut m) = self.streets.lock() {
            if m.len() > 200_000 {
                m.clear();
            }
            m.insert(request_id.to_string(), street.clone());
        }
        street
    }

    /// The category code of a classifier label (a code, or a category name).
    pub fn code_of_label(&self, label: &str) -> Option<String> {
        if self.category_names.contains_key(label) {
            Some(label.to_string())
        } else {
            self.category_by_name.get(label).cloned()
        }
    }

    /// Leaf categories by keyword hits, best first, optionally only under `prefix`.
    pub fn keyword_ranking(
        &self,
        text: &str,
        prefix: Option<&str>,
    ) -> Vec<(String, usize, Vec<String>)> {
        let found = self.keyword_matcher.matched(text);
        let mut out: Vec<(String, usize, Vec<String>)> = self
            .keywords
            .iter()
            .zip(&self.keyword_matcher.ids)
            .filter(|(c, _)| prefix.is_none_or(|p| jiesu_core::dispatch::covers(p, &c.code)))
            .filter_map(|(c, ids)| {
                let hits: Vec<String> = c
                    .keywords
                    .iter()
                    .zip(ids)
                    .filter(|(_, &id)| found[id])
                    .map(|(k, _)| k.clone())
                    .collect();
                let weight: usize = hits.iter().map(|h| h.chars().count()).sum();
                (!hits.is_empty()).then(|| (c.code.clone(), weight, hits))
            })
            .collect();
        out.sort_by(|a, b| b.1.cmp(&a.1).then_with(|| a.0.cmp(&b.0)));
        out
    }
}

#[cfg(test)]
mod keyword_tests {
    use super::{KeywordCategory, KeywordMatcher};

    #[test]
    fn one_scan_finds_exactly_the_keywords_a_substring_test_finds() {
        let cats = vec![
            KeywordCategory {
                code: "hjbh.zs.sg".into(),
                keywords: vec!["施工噪音".into(), "夜间施工".into(), "噪音".into()],
            },
            KeywordCategory {
                code: "hjbh.zs".into(),
                keywords: vec!["噪音".into(), "扰民".into()],
            },
            KeywordCategory {
                code: "ggfw.gr".into(),
                keywords: vec!["暖气".into(), "暖气片".into(), "供暖".into()],
            },
        ];
        let m = KeywordMatcher::new(&cats).unwrap();
        for text in [
            "望京西园三区夜间施工噪音扰民",
            "暖气片不热，供暖不达标",
            "施工",
            "",
            "噪噪音音",
        ] {
            let found = m.matched(text);
            for (c, ids) in cats.iter().zip(&m.ids) {
                for (k, &id) in c.keywords.iter().zip(ids) {
                    assert_eq!(found[id], text.contains(k.as_str()), "{k} in {text}");
                }
            }
        }
        // A keyword shared by two categories is one pattern.
        assert_eq!(m.ids[0][2], m.ids[1][0]);
    }
}
