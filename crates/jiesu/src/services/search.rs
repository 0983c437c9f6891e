//! Full-text search over requests and knowledge-base entries: a tantivy index in the data
//! folder, derived from the database and rebuildable (`jiesu reindex`). The indexer tails the
//! event log by sequence number, re-indexes what the new events touched and stores the last
//! sequence it covered in the index's commit, so any node derives its own index and a restart
//! resumes where it stopped. Text is tokenised by jieba; titles and addresses also get a
//! character n-gram field so names and typos are found.

use crate::services::AppState;
use crate::store::kb::KbEntry;
use crate::store::{from_millis, millis};
use chrono::{DateTime, Utc};
use jiesu_core::kb::KbStatus;
use serde::Serialize;
use std::collections::HashMap;
use std::ops::Bound;
use std::path::Path;
use std::sync::Mutex;
use tantivy::collector::{Count, TopDocs};
use tantivy::directory::MmapDirectory;
use tantivy::query::{BooleanQuery, Occur, Query, QueryParser, RangeQuery, TermQuery};
use tantivy::schema::{
    Field, IndexRecordOption, Schema, TextFieldIndexing, TextOptions, Value, FAST, INDEXED, STORED,
    STRING,
};
use tantivy::tokenizer::{LowerCaser, NgramTokenizer, TextAnalyzer};
use tantivy::{doc, Index, IndexReader, IndexWriter, ReloadPolicy, TantivyDocument, Term};

/// The index's fields.
#[derive(Clone, Copy)]
struct Fields {
    key: Field,
    kind: Field,
    id: Field,
    number: Field,
    title: Field,
    body: Field,
    address: Field,
    names: Field,
    status: Field,
    units: Field,
    category: Field,
    created_at: Field,
}

fn schema() -> (Schema, Fields) {
    let mut b = Schema::builder();
    let words = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer("jieba")
            .set_index_option(IndexRecordOption::WithFreqsAndPositions),
    );
    let grams = TextOptions::default().set_indexing_options(
        TextFieldIndexing::default()
            .set_tokenizer("ngram")
            .set_index_option(IndexRecordOption::WithFreqs),
    );
    let fields = Fields {
        key: b.add_text_field("key", STRING | STORED),
        kind: b.add_text_field("kind", STRING | STORED),
        id: b.add_text_field("id", STRING | STORED),
        number: b.add_text_field("number", STRING | STORED),
        title: b.add_text_field("title", words.clone().set_stored()),
        body: b.add_text_field("body", words.clone()),
        address: b.add_text_field("address", words),
        names: b.add_text_field("names", grams),
        status: b.add_text_field("status", STRING | STORED),
        units: b.add_text_field("units", STRING),
        category: b.add_text_field("category", STRING),
        created_at: b.add_i64_field("created_at", INDEXED | FAST | STORED),
    };
    (b.build(), fields)
}

/// The search index of a node.
pub struct SearchIndex {
    index: Index,
    fields: Fields,
    writer: Mutex<IndexWriter>,
    reader: IndexReader,
}

/// Filters of a search.
#[derive(Debug, Default, Clone)]
pub struct SearchFilter {
    /// `request` or `kb`.
    pub kind: Option<String>,
    /// Request status.
    pub status: Option<String>,
    /// Only requests with an order at a unit under this path.
    pub unit_path: Option<String>,
    /// Category code (and everything under it).
    pub category: Option<String>,
    /// Created at or after.
    pub from: Option<DateTime<Utc>>,
    /// Created before.
    pub to: Option<DateTime<Utc>>,
    /// For a reader who does not keep the knowledge base: entries only where published or
    /// owned by a unit under this path (`Some(None)`: published only). Requests pass.
    pub kb_reader: Option<Option<String>>,
}

/// A search hit.
#[derive(Debug, Serialize)]
pub struct SearchHit {
    /// `request` or `kb`.
    pub kind: String,
    /// Request or entry id.
    pub id: String,
    /// Request number (empty for entries).
    pub number: String,
    /// Title.
    pub title: String,
    /// Status (requests).
    pub status: String,
    /// Created.
    pub created_at: DateTime<Utc>,
    /// BM25 score.
    pub score: f32,
}

/// Search results.
#[derive(Debug, Serialize)]
pub struct SearchResults {
    /// Matches in all.
    pub total: usize,
    /// The best, best first.
    pub hits: Vec<SearchHit>,
}

impl SearchIndex {
    /// Opens (or creates) the index in `dir`.
    pub fn open(dir: &Path) -> anyhow::Result<SearchIndex> {
        std::fs::create_dir_all(dir)?;
        let (schema, fields) = schema();
        let index = Index::open_or_create(MmapDirectory::open(dir)?, schema)?;
        index
            .tokenizers()
            .register("jieba", tantivy_jieba::JiebaTokenizer::new());
        let ngram = TextAnalyzer::builder(NgramTokenizer::new(2, 3, false)?)
            .filter(LowerCaser)
            .build();
        index.tokenizers().register("ngram", ngram);
        // One indexing thread: the index is fed in small batches once a second, and each
        // thread cuts its own segment per commit, so more threads only mean more segments to
        // merge (BENCHMARKS.md, "Design measurements").
        let writer = index.writer_with_num_threads(1, 15_000_000)?;
        let reader = index
            .reader_builder()
            .reload_policy(ReloadPolicy::Manual)
            .try_into()?;
        Ok(SearchIndex {
            index,
            fields,
            writer: Mutex::new(writer),
            reader,
        })
    }

    /// The last event sequence number the index covers: 0 for an index of an older layout
    /// (its documents are all made again from the log on the next catch-up).
    pub fn covered_seq(&self) -> anyhow::Result<i64> {
        Ok(self
            .index
            .load_metas()?
            .payload
            .and_then(|p| {
                p.strip_prefix(LAYOUT)
                    .and_then(|seq| seq.strip_prefix(':'))
                    .and_then(|seq| seq.parse().ok())
            })
            .unwrap_or(0))
    }

    /// Number of indexed documents.
    pub fn len(&self) -> u64 {
        self.reader.searcher().num_docs()
    }

    /// Whether the index is empty.
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }

    fn writer(&self) -> std::sync::MutexGuard<'_, IndexWriter> {
        self.writer.lock().unwrap_or_else(|e| e.into_inner())
    }

    /// Searches; unknown syntax is read leniently.
    pub fn search(
        &self,
        q: &str,
        filter: &SearchFilter,
        limit: usize,
    ) -> anyhow::Result<SearchResults> {
        let f = self.fields;
        let mut parser =
            QueryParser::for_index(&self.index, vec![f.title, f.body, f.address, f.names]);
        parser.set_field_boost(f.title, 2.0);
        let (text_query, _errors) = parser.parse_query_lenient(q);
        let mut clauses: Vec<(Occur, Box<dyn Query>)> = vec![(Occur::Must, text_query)];
        let term = |field: Field, v: &str| -> Box<dyn Query> {
            Box::new(TermQuery::new(
                Term::from_field_text(field, v),
                IndexRecordOption::Basic,
            ))
        };
        if let Some(k) = &filter.kind {
            clauses.push((Occur::Must, term(f.kind, k)));
        }
        if let Some(s) = &filter.status {
            clauses.push((Occur::Must, term(f.status, s)));
        }
        if let Some(p) = &filter.unit_path {
            clauses.push((Occur::Must, term(f.units, p)));
        }
        if let Some(c) = &filter.category {
            clauses.push((Occur::Must, term(f.category, c)));
        }
        if let Some(own) = &filter.kb_reader {
            let mut may: Vec<(Occur, Box<dyn Query>)> = vec![
                (Occur::Should, term(f.kind, "request")),
                (Occur::Should, term(f.status, KbStatus::Published.as_str())),
            ];
            if let Some(path) = own {
                may.push((Occur::Should, term(f.units, path)));
            }
            clauses.push((Occur::Must, Box::new(BooleanQuery::new(may))));
        }
        if filter.from.is_some() || filter.to.is_some() {
            let lo = filter.from.map_or(Bound::Unbounded, |t| {
                Bound::Included(Term::from_field_i64(f.created_at, millis(t)))
            });
            let hi = filter.to.map_or(Bound::Unbounded, |t| {
                Bound::Excluded(Term::from_field_i64(f.created_at, millis(t)))
            });
            clauses.push((Occur::Must, Box::new(RangeQuery::new(lo, hi))));
        }
        let query = BooleanQuery::new(clauses);
        let searcher = self.reader.searcher();
        let (top, total) = searcher.search(
            &query,
            &(TopDocs::with_limit(limit.max(1)).order_by_score(), Count),
        )?;
        let mut hits = Vec::with_capacity(top.len());
        for (score, addr) in top {
            let d: TantivyDocument = searcher.doc(addr)?;
            let text = |field: Field| {
                d.get_first(field)
                    .and_then(|v| v.as_str())
                    .unwrap_or("")
                    .to_string()
            };
            hits.push(SearchHit {
                kind: text(f.kind),
                id: text(f.id),
                number: text(f.number),
                title: text(f.title),
                status: text(f.status),
                created_at: from_millis(
                    d.get_first(f.created_at)
                        .and_then(|v| v.as_i64())
                        .unwrap_or(0),
                ),
                score,
            });
        }
        Ok(SearchResults { total, hits })
    }
}

/// A request as indexed in bulk (benchmarks and imports), outside the event log.
pub struct BulkRequest<'a> {
    /// Id.
    pub id: &'a str,
    /// Title.
    pub title: &'a str,
    /// Text.
    pub body: &'a str,
    /// Address.
    pub address: &'a str,
    /// Status.
    pub status: &'a str,
    /// Created.
    pub created_at: DateTime<Utc>,
}

impl SearchIndex {
    /// Adds requests directly and commits, without moving the covered event sequence.
    pub fn add_bulk<'a>(
        &self,
        docs: impl Iterator<Item = BulkRequest<'a>>,
    ) -> anyhow::Result<usize> {
        let f = self.fields;
        let mut w = self.writer();
        let mut n = 0;
        for r in docs {
            w.add_document(doc!(
                f.key => format!("request:{}", r.id), f.kind => "request", f.id => r.id, f.title => r.title, f.body => r.body,
                f.address => r.address, f.names => format!("{} {}", r.title, r.address), f.status => r.status,
                f.created_at => millis(r.created_at),
            ))?;
            n += 1;
        }
        w.commit()?;
        drop(w);
        self.reader.reload()?;
        Ok(n)
    }
}

fn prefixes(path_or_code: &str, sep: char) -> Vec<String> {
    // "/110105/110105026/" → "/110105/", "/110105/110105026/"; "ggfw.gr.sw" → "ggfw", "ggfw.gr", …
    let parts: Vec<&str> = path_or_code.split(sep).filter(|p| !p.is_empty()).collect();
    (1..=parts.len())
        .map(|n| {
            if sep == '/' {
                format!("/{}/", parts[..n].join("/"))
            } else {
                parts[..n].join(".")
            }
        })
        .collect()
}

/// A document to (re)place under `key`; None deletes it.
type Change = (String, Option<TantivyDocument>);

/// The documents of several requests (None where a request is gone), read in two queries.
async fn request_docs(state: &AppState, f: Fields, ids: &[String]) -> anyhow::Result<Vec<Change>> {
    let reader = state.store.reader();
    let mut rows: std::collections::HashMap<String, crate::store::requests::RequestRow> =
        crate::store::requests::get_many(reader, ids)
            .await?
            .into_iter()
            .map(|r| (r.id.clone(), r))
            .collect();
    let mut orders: std::collections::HashMap<String, Vec<String>> =
        std::collections::HashMap::new();
    for a in crate::store::assignments::assignments_of_many(reader, ids).await? {
        orders.entry(a.request_id).or_default().push(a.unit_path);
    }
    Ok(ids
        .iter()
        .map(|id| {
            let key = format!("request:{id}");
            let Some(r) = rows.remove(id) else {
                return (key, None);
            };
            let d = request_doc(f, &key, r, orders.remove(id).unwrap_or_default());
            (key, Some(d))
        })
        .collect())
}

fn request_doc(
    f: Fields,
    key: &str,
    r: crate::store::requests::RequestRow,
    unit_paths: Vec<String>,
) -> TantivyDocument {
    let mut d = doc!(
        f.key => key.to_string(), f.kind => "request", f.id => r.id, f.number => r.number,
        f.title => r.title.clone(), f.body => r.body, f.address => r.address.clone(),
        f.names => format!("{} {}", r.title, r.address), f.status => r.status.as_str(), f.created_at => millis(r.created_at),
    );
    let mut paths: Vec<String> = unit_paths.iter().flat_map(|p| prefixes(p, '/')).collect();
    paths.sort();
    paths.dedup();
    for p in paths {
        d.add_text(f.units, &p);
    }
    for c in r
        .category_code
        .as_deref()
        .map(|c| prefixes(c, '.'))
        .unwrap_or_default()
    {
        d.add_text(f.category, &c);
    }
    d
}

/// The documents of knowledge-base entries: inactive ones are dropped; each carries its
/// workflow status and the paths of its owner unit and the units above it, so a search
/// shows a draft only to those who may read it (`SearchFilter::kb_reader`).
async fn kb_docs(state: &AppState, f: Fields, ids: &[String]) -> anyhow::Result<Vec<Change>> {
    let found: HashMap<String, KbEntry> = crate::store::kb::existing(state.store.reader(), ids)
        .await?
        .into_iter()
        .map(|e| (e.id.clone(), e))
        .collect();
    let mut paths: HashMap<String, Vec<String>> = HashMap::new();
    let mut changes = Vec::with_capacity(ids.len());
    for id in ids {
        let key = format!("kb:{id}");
        let Some(e) = found.get(id).filter(|e| e.active) else {
            changes.push((key, None));
            continue;
        };
        let mut d = doc!(
            f.key => key.clone(), f.kind => "kb", f.id => e.id.clone(), f.title => e.title.clone(), f.body => e.answer.clone(),
            f.names => format!("{} {}", e.title, e.tags.join(" ")), f.status => e.status.as_str(), f.created_at => millis(e.created_at),
        );
        if let Some(code) = &e.unit_code {
            if !paths.contains_key(code) {
                let path = crate::store::reference::unit(state.store.reader(), code)
                    .await?
                    .map(|u| prefixes(&u.path, '/'))
                    .unwrap_or_default();
                paths.insert(code.clone(), path);
            }
            for p in paths.get(code).into_iter().flatten() {
                d.add_text(f.units, p);
            }
        }
        changes.push((key, Some(d)));
    }
    Ok(changes)
}

/// The new path of a unit a `unit.changed` event moved, if it did (orders or not).
fn moved_path(payload: &serde_json::Value) -> Option<&str> {
    let before = payload.get("before")?.get("path")?.as_str()?;
    let after = payload.get("after")?.get("path")?.as_str()?;
    (before != after).then_some(after)
}

/// The new path of a unit a `unit.changed` event moved (with orders under it), if it did.
fn moved_to(payload: &serde_json::Value) -> Option<&str> {
    let orders = payload.get("orders_moved")?.as_u64()?;
    moved_path(payload).filter(|_| orders > 0)
}

/// The layout of the documents, written before the covered sequence in each commit: an index
/// of another layout is made again from the whole log. 2: knowledge-base entries carry their
/// workflow status and their owner's unit paths (issue 23), not `active`.
const LAYOUT: &str = "2";

/// Events read per catch-up round.
const CATCH_UP_BATCH: usize = 2000;

/// Indexes whatever the events after the covered sequence touched; returns how many events
/// were read. One catch-up runs at a time.
pub async fn catch_up(state: &AppState) -> anyhow::Result<usize> {
    catch_up_with(state, &crate::progress::Silent).await
}

/// [`catch_up`], reporting the events read (of the chain's head) to `progress`.
async fn catch_up_with(
    state: &AppState,
    progress: &dyn crate::progress::Progress,
) -> anyhow::Result<usize> {
    let Some(index) = state.search.as_ref() else {
        return Ok(0);
    };
    let head = crate::store::events::head_seq(state.store.reader()).await?;
    let _guard = state.search_lock.lock().await;
    let f = index.fields;
    let mut seq = index.covered_seq()?;
    let mut read = 0;
    loop {
        let rows =
            crate::store::events::after(state.store.reader(), seq, CATCH_UP_BATCH as i64).await?;
        if rows.is_empty() {
            break;
        }
        let mut requests = std::collections::BTreeSet::new();
        let mut entries = std::collections::BTreeSet::new();
        for (event_seq, request_id, payload) in &rows {
            seq = *event_seq;
            if let Some(id) = request_id {
                requests.insert(id.clone());
            } else {
                let payload = serde_json::from_str::<serde_json::Value>(payload)?;
                if let Some(kb) = payload.get("kb_entry_id").and_then(|v| v.as_str()) {
                    entries.insert(kb.to_string());
                }
                // An import or a step of many entries names its batch, not each entry.
                if let Some(batch) = payload.get("batch_id").and_then(|v| v.as_str()) {
                    entries.extend(
                        crate::store::kb::entries_of_batch(state.store.reader(), batch).await?,
                    );
                }
                // A unit moved (issue 18): its orders' unit paths changed with it.
                if let Some(path) = moved_to(&payload) {
                    requests.extend(
                        crate::store::units::requests_under(state.store.reader(), path).await?,
                    );
                }
                // …and the knowledge-base entries its units own (whose readers follow the path).
                if let Some(path) = moved_path(&payload) {
                    entries
                        .extend(crate::store::kb::owned_under(state.store.reader(), path).await?);
                }
            }
        }
        read += rows.len();
        progress.report(seq.max(0) as u64, head.max(seq).max(0) as u64, "events");
        let mut changes = Vec::with_capacity(requests.len() + entries.len());
        let requests: Vec<String> = requests.into_iter().collect();
        for ids in requests.chunks(500) {
            changes.extend(request_docs(state, f, ids).await?);
        }
        let entries: Vec<String> = entries.into_iter().collect();
        for ids in entries.chunks(500) {
            changes.extend(kb_docs(state, f, ids).await?);
        }
        // The commit writes and syncs segment files (tens of ms): off the async workers.
        let writing = index.clone();
        tokio::task::spawn_blocking(move || -> anyhow::Result<()> {
            let mut w = writing.writer();
            for (key, doc) in changes {
                w.delete_term(Term::from_field_text(f.key, &key));
                if let Some(d) = doc {
                    w.add_document(d)?;
                }
            }
            let mut commit = w.prepare_commit()?;
            commit.set_payload(&format!("{LAYOUT}:{seq}"));
            commit.commit()?;
            Ok(())
        })
        .await??;
        // A short batch means the log is caught up: what arrives meanwhile waits for the next
        // round. (Looping on it committed a tiny segment after every few intakes, and those
        // commits cost much of the server's CPU: BENCHMARKS.md, "Design measurements".)
        if rows.len() < CATCH_UP_BATCH {
            break;
        }
    }
    index.reader.reload()?;
    Ok(read)
}

/// Drops the index's documents and rebuilds it from the whole event log.
pub async fn rebuild(
    state: &AppState,
    progress: &dyn crate::progress::Progress,
) -> anyhow::Result<usize> {
    let Some(index) = state.search.as_ref() else {
        return Ok(0);
    };
    {
        let _guard = state.search_lock.lock().await;
        let mut w = index.writer();
        w.delete_all_documents()?;
        let mut commit = w.prepare_commit()?;
        commit.set_payload(&format!("{LAYOUT}:0"));
        commit.commit()?;
    }
    catch_up_with(state, progress).await
}
