//! The knowledge base (知识库): supervisors keep entries; operators search them while on a
//! call and answer consultations from them. Search ranks live entries by the larger of two
//! shares of character bigrams: of the query's found in the entry (title and tags weigh
//! double), and of the entry's title and tags found in the query (a long request text
//! covering a short question). The knowledge base is thousands of entries: a scan is fast.

use super::AppState;
use crate::error::{AppError, FieldError};
use crate::store::kb;
use chrono::{DateTime, Utc};
use jiesu_core::access::Action;
use jiesu_core::Actor;
use serde::{Deserialize, Serialize};
use std::collections::HashSet;
use std::sync::Arc;

pub use crate::store::kb::KbEntry;

/// A live entry by id; 404 for an unknown or deleted one.
pub async fn get(state: &AppState, id: &str) -> Result<KbEntry, AppError> {
    kb::get(state.store.reader(), id)
        .await?
        .filter(|e| e.active)
        .ok_or(AppError::NotFound("knowledge-base entry"))
}

/// The first `limit` live entries, as the store lists them.
pub async fn live(state: &AppState, limit: usize) -> Result<Vec<KbEntry>, AppError> {
    let mut all = kb::live(state.store.reader(), state.clock.now()).await?;
    all.truncate(limit);
    Ok(all)
}

/// An entry as submitted.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KbInput {
    /// The question.
    pub title: String,
    /// The answer.
    pub answer: String,
    /// Tags.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Owning unit.
    pub unit_code: Option<String>,
    /// Valid until (RFC 3339).
    pub valid_until: Option<DateTime<Utc>>,
}

fn may_edit(actor: &Actor) -> Result<(), AppError> {
    if actor.may(Action::Supervise) || actor.may(Action::Administer) {
        Ok(())
    } else {
        Err(AppError::Forbidden("editing the knowledge base"))
    }
}

async fn validate(state: &AppState, input: &KbInput) -> Result<(), AppError> {
    let mut errors = Vec::new();
    for (field, value, max) in [
        ("title", &input.title, 200),
        ("answer", &input.answer, 10_000),
    ] {
        if value.trim().is_empty() || value.chars().count() > max {
            errors.push(FieldError::with(
                field,
                "err.kb.must_be_1_max_characters",
                &[("max", max.to_string())],
            ));
        }
    }
    if input.tags.len() > 20
        || input
            .tags
            .iter()
            .any(|t| t.is_empty() || t.contains('|') || t.chars().count() > 30)
    {
        errors.push(FieldError::of("tags", "err.kb.at_most_20_tags_of_1"));
    }
    if input
        .valid_until
        .is_some_and(|v| !jiesu_core::dates::in_range(v.date_naive()))
    {
        errors.push(FieldError::of("valid_until", "err.date_out_of_range"));
    }
    if let Some(code) = &input.unit_code {
        if crate::store::reference::unit(state.store.reader(), code)
            .await?
            .is_none()
        {
            errors.push(FieldError::of("unit_code", "err.no_such_unit"));
        }
    }
    if errors.is_empty() {
        Ok(())
    } else {
        Err(AppError::Invalid(errors))
    }
}

/// Creates (`id` None) or replaces an entry; returns it.
pub async fn save(
    state: &AppState,
    actor: &Actor,
    id: Option<&str>,
    input: KbInput,
) -> Result<KbEntry, AppError> {
    may_edit(actor)?;
    validate(state, &input).await?;
    let now = state.clock.now();
    let existing = match id {
        Some(id) => Some(
            kb::get(state.store.reader(), id)
                .await?
                .filter(|e| e.active)
                .ok_or(AppError::NotFound("knowledge-base entry"))?,
        ),
        None => None,
    };
    let entry = KbEntry {
        id: existing
            .as_ref()
            .map(|e| e.id.clone())
            .unwrap_or_else(|| uuid::Uuid::now_v7().to_string()),
        title: input.title.trim().to_string(),
        answer: input.answer.trim().to_string(),
        tags: input.tags,
        unit_code: input.unit_code,
        valid_until: input.valid_until,
        active: true,
        created_at: existing.as_ref().map(|e| e.created_at).unwrap_or(now),
        updated_at: now,
    };
    let mut tx = state.store.begin().await?;
    kb::upsert(&mut tx, &entry, &actor.user_id).await?;
    tx.event(kb_event(
        state,
        actor,
        if existing.is_some() {
            "kb.updated"
        } else {
            "kb.created"
        },
        &entry,
    ));
    tx.commit().await?;
    state.models.kb.forget();
    Ok(entry)
}

/// Deletes (deactivates) an entry.
pub async fn delete(state: &AppState, actor: &Actor, id: &str) -> Result<(), AppError> {
    may_edit(actor)?;
    let mut entry = kb::get(state.store.reader(), id)
        .await?
        .filter(|e| e.active)
        .ok_or(AppError::NotFound("knowledge-base entry"))?;
    entry.active = false;
    entry.updated_at = state.clock.now();
    let mut tx = state.store.begin().await?;
    kb::upsert(&mut tx, &entry, &actor.user_id).await?;
    tx.event(kb_event(state, actor, "kb.deleted", &entry));
    tx.commit().await?;
    state.models.kb.forget();
    Ok(())
}

fn kb_event(state: &AppState, actor: &Actor, action: &str, e: &KbEntry) -> crate::store::NewEvent {
    let payload = serde_json::json!({ "kb_entry_id": e.id, "title": e.title });
    state.audit_event(&actor.user_id, actor.role.as_str(), action, payload)
}

/// A search hit.
#[derive(Debug, Serialize)]
pub struct KbHit {
    /// The entry.
    #[serde(flatten)]
    pub entry: KbEntry,
    /// 0..1: the weighted share of the query's bigrams found.
    pub score: f64,
}

fn bigrams(text: &str) -> HashSet<(char, char)> {
    let chars: Vec<char> = text
        .chars()
        .filter(|c| c.is_alphanumeric())
        .flat_map(|c| c.to_lowercase())
        .collect();
    chars.windows(2).map(|w| (w[0], w[1])).collect()
}

/// An entry with the bigrams a search compares.
pub(crate) struct IndexedEntry {
    entry: KbEntry,
    head: HashSet<(char, char)>,
    body: HashSet<(char, char)>,
}

/// The active entries, indexed, from the cache (see [`super::text::Cached`]).
async fn indexed(state: &AppState) -> Result<Arc<Vec<IndexedEntry>>, AppError> {
    if let Some(entries) = state.models.kb.fresh() {
        return Ok(entries);
    }
    let entries = kb::active(state.store.reader())
        .await?
        .into_iter()
        .map(|entry| IndexedEntry {
            head: bigrams(&format!("{} {}", entry.title, entry.tags.join(" "))),
            body: bigrams(&entry.answer),
            entry,
        })
        .collect();
    Ok(state.models.kb.put(entries))
}

/// Ranks live entries for a query; entries below `min_score` are left out.
pub async fn search(
    state: &AppState,
    query: &str,
    limit: usize,
    min_score: f64,
) -> Result<Vec<KbHit>, AppError> {
    let q = bigrams(&query.chars().take(2000).collect::<String>());
    if q.is_empty() {
        return Ok(Vec::new());
    }
    let now = state.clock.now();
    let mut hits: Vec<KbHit> = indexed(state)
        .await?
        .iter()
        .filter(|e| e.entry.valid_until.is_none_or(|v| v > now))
        .filter_map(|e| {
            let weight: f64 = q
                .iter()
                .map(|b| {
                    if e.head.contains(b) {
                        2.0
                    } else if e.body.contains(b) {
                        1.0
                    } else {
                        0.0
                    }
                })
                .sum();
            let query_cover = weight / (2.0 * q.len() as f64);
            // A long request text covers a short question: count the question's side too.
            let head_cover = e.head.intersection(&q).count() as f64 / e.head.len().max(1) as f64;
            let score = query_cover.max(head_cover);
            (score >= min_score).then(|| KbHit {
                score,
                entry: e.entry.clone(),
            })
        })
        .collect();
    hits.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then_with(|| b.entry.updated_at.cmp(&a.entry.updated_at))
    });
    hits.truncate(limit);
    Ok(hits)
}
