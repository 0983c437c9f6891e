//! The models a node holds in memory, derived from the database and the model folder: the
//! trained classifier (if any), the gazetteer, the keyword table of the categories, the
//! near-duplicate index of recent open requests, and short-lived caches of reference data.
//! All rebuildable at start. It is not a use case: the services read it through `AppState`;
//! the live hotspot index is the hotspot service's (`hotspots::live`).

use crate::store::reference;
use crate::store::StoreError;
use jiesu_core::dispatch::CatalogueRule;
use jiesu_text::classify::Model;
use jiesu_text::dupes::{DupConfig, DupIndex};
use jiesu_text::keywords::{KeywordCategory, KeywordHit, KeywordTable};
use jiesu_text::place::Gazetteer;
use sqlx::AnyPool;
use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, RwLock};

/// How far back intake looks for duplicates.
pub const DUPLICATE_WINDOW_DAYS: i64 = 30;

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

/// The in-memory models of a node.
pub struct Models {
    /// The trained classifier; None means suggestions fall back to keywords (and say so).
    pub model: Option<Model>,
    /// Where the model came from.
    pub model_dir: Option<String>,
    /// The model learned from the city's history that is in force (`services::learning`),
    /// swapped without a restart; preferred to the folder's model when there is one.
    learned: RwLock<Option<Arc<super::learned::Learned>>>,
    /// The gazetteer of the city, rebuilt from the active units when they change.
    gazetteer: RwLock<Arc<Gazetteer>>,
    /// The category tables, rebuilt when a category changes (here or, through the event
    /// log, on another node).
    categories: RwLock<Arc<CategoryTables>>,
    /// The last category event this node's tables include (see `categories::follow`).
    pub(crate) category_seq: std::sync::atomic::AtomicI64,
    /// Recent open requests.
    pub dupes: RwLock<DupState>,
    /// Active units' names by code (reference data, reloaded when units change).
    unit_names: RwLock<Arc<HashMap<String, String>>>,
    /// The active dispatch catalogue, cached for a few seconds (and dropped on every change
    /// made through this node).
    rules: Cached<Vec<CatalogueRule>>,
    /// The published knowledge-base entries' bigram index, following the event log.
    pub(crate) kb: super::kb_search::LiveIndex,
    /// The street each candidate duplicate's text resolves to, by request id.
    streets: std::sync::Mutex<HashMap<String, Option<String>>>,
    /// The last event of the log when the indexes were loaded: whatever committed later is
    /// followed from there (see `hotspots::live::follow`).
    pub loaded_at_seq: i64,
    /// The last unit event of the log the gazetteer and unit names were rebuilt after (see
    /// `services::units::follow`).
    units_seq: std::sync::atomic::AtomicI64,
    /// The Chinese name of the city served (`store::city::served`), read at start.
    pub city_name: String,
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

/// What intake and suggestions know of the categories, as the database has them now.
pub struct CategoryTables {
    /// Active leaf categories with their keywords, in one automaton.
    pub keywords: KeywordTable,
    /// Category name → code (classifier labels may be names or codes).
    pub by_name: HashMap<String, String>,
    /// Every category's Chinese name (inactive ones too: old requests keep them), by code.
    pub names: HashMap<String, String>,
    /// The active categories' codes.
    pub active: std::collections::HashSet<String>,
    /// Each category's default unit.
    pub default_units: HashMap<String, String>,
}

async fn category_tables(pool: &AnyPool) -> anyhow::Result<CategoryTables> {
    let rows = crate::store::categories::all(pool).await?;
    let mut keywords = Vec::new();
    let mut by_name = HashMap::new();
    let mut names = HashMap::new();
    let mut active = std::collections::HashSet::new();
    let mut default_units = HashMap::new();
    for c in rows {
        if c.active {
            let kw: Vec<String> = c
                .keywords
                .split('|')
                .filter(|k| !k.is_empty())
                .map(str::to_string)
                .collect();
            keywords.push(KeywordCategory {
                code: c.code.clone(),
                keywords: kw,
            });
            active.insert(c.code.clone());
            by_name
                .entry(c.name.clone())
                .or_insert_with(|| c.code.clone());
        }
        if let Some(u) = c.default_unit_code {
            default_units.insert(c.code.clone(), u);
        }
        names.insert(c.code, c.name);
    }
    Ok(CategoryTables {
        keywords: KeywordTable::new(keywords)?,
        by_name,
        names,
        active,
        default_units,
    })
}

/// The gazetteer and the names of the active units, as the database has them.
async fn unit_tables(pool: &AnyPool) -> anyhow::Result<(Gazetteer, HashMap<String, String>)> {
    // The units in the database (managed at run time), of the city it serves
    // (`jiesu init --city`).
    let home = crate::store::city::served(pool).await?.home();
    let gazetteer = Gazetteer::for_city(&crate::store::city::place_units_csv(pool).await?, &home)
        .map_err(|e| anyhow::anyhow!("gazetteer: {e}"))?;
    let names = reference::units(pool, None, None)
        .await?
        .into_iter()
        .map(|u| (u.code, u.name))
        .collect();
    Ok((gazetteer, names))
}

impl Models {
    /// Loads everything: a model folder that exists but does not load is an error.
    pub async fn load(
        pool: &AnyPool,
        model_dir: &Path,
        now: chrono::DateTime<chrono::Utc>,
    ) -> anyhow::Result<Models> {
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
        // Unit events after this are followed (`services::units::follow`); read before the
        // tables so that none committed meanwhile is missed.
        let units_head = crate::store::events::head_seq(pool).await?;
        let (gazetteer, unit_names) = unit_tables(pool).await?;
        let categories = category_tables(pool).await?;
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
        Ok(Models {
            unit_names: RwLock::new(Arc::new(unit_names)),
            categories: RwLock::new(Arc::new(categories)),
            category_seq: std::sync::atomic::AtomicI64::new(head),
            rules: Cached::default(),
            kb: Default::default(),
            streets: std::sync::Mutex::new(HashMap::new()),
            model,
            learned: RwLock::new(None),
            model_dir: model_dir.exists().then(|| model_dir.display().to_string()),
            gazetteer: RwLock::new(Arc::new(gazetteer)),
            dupes: RwLock::new(dupes),
            loaded_at_seq: head,
            units_seq: std::sync::atomic::AtomicI64::new(units_head),
            city_name: crate::store::city::served(pool).await?.name,
        })
    }

    /// The learned model in force on this node, if any.
    pub fn learned(&self) -> Option<Arc<super::learned::Learned>> {
        match self.learned.read() {
            Ok(l) => l.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Swaps the learned model in force (after a promotion or a rollback, here or on another
    /// node).
    pub fn set_learned(&self, model: Option<Arc<super::learned::Learned>>) {
        if let Ok(mut l) = self.learned.write() {
            *l = model;
        }
    }

    /// The gazetteer of the active units (place resolution).
    pub fn gazetteer(&self) -> Arc<Gazetteer> {
        match self.gazetteer.read() {
            Ok(g) => g.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// An active unit's name, by code.
    pub fn unit_name(&self, code: &str) -> Option<String> {
        let names = match self.unit_names.read() {
            Ok(n) => n.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        };
        names.get(code).cloned()
    }

    /// Rebuilds the gazetteer and the unit names from the units table (after a unit was
    /// added, renamed, moved, merged or closed), so place resolution and suggestions see it
    /// without a restart.
    pub async fn reload_units(&self, pool: &AnyPool) -> anyhow::Result<()> {
        let (gazetteer, names) = unit_tables(pool).await?;
        if let Ok(mut g) = self.gazetteer.write() {
            *g = Arc::new(gazetteer);
        }
        if let Ok(mut n) = self.unit_names.write() {
            *n = Arc::new(names);
        }
        Ok(())
    }

    /// The last unit event the unit tables were rebuilt after.
    pub fn units_seq(&self) -> i64 {
        self.units_seq.load(std::sync::atomic::Ordering::SeqCst)
    }

    /// Notes that the unit tables were rebuilt after the unit event `seq`.
    pub fn followed_units(&self, seq: i64) {
        self.units_seq
            .fetch_max(seq, std::sync::atomic::Ordering::SeqCst);
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

    /// The street [`Models::street_of`] found for a request before: `None` when it has
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
        let street = self.gazetteer().resolve(&text()).codes().street;
        if let Ok(mut m) = self.streets.lock() {
            if m.len() > 200_000 {
                m.clear();
            }
            m.insert(request_id.to_string(), street.clone());
        }
        street
    }

    /// The category tables as this node has them.
    pub fn categories(&self) -> Arc<CategoryTables> {
        match self.categories.read() {
            Ok(c) => c.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    /// Rebuilds the category tables from the database (after a category was added or
    /// changed), so intake, suggestions and names see it without a restart.
    pub async fn reload_categories(&self, pool: &AnyPool) -> anyhow::Result<()> {
        let tables = category_tables(pool).await?;
        if let Ok(mut c) = self.categories.write() {
            *c = Arc::new(tables);
        }
        Ok(())
    }

    /// A category's Chinese name, by code (inactive ones too).
    pub fn category_name(&self, code: &str) -> Option<String> {
        self.categories().names.get(code).cloned()
    }

    /// A category's default unit, by code.
    pub fn default_unit(&self, code: &str) -> Option<String> {
        self.categories().default_units.get(code).cloned()
    }

    /// The active category code of a classifier label (a code, or a category name).
    pub fn code_of_label(&self, label: &str) -> Option<String> {
        let t = self.categories();
        if t.active.contains(label) {
            Some(label.to_string())
        } else {
            t.by_name.get(label).cloned()
        }
    }

    /// Active leaf categories by keyword hits, best first, optionally only under `prefix`.
    pub fn keyword_ranking(&self, text: &str, prefix: Option<&str>) -> Vec<KeywordHit> {
        self.categories().keywords.ranking(text, prefix)
    }
}
