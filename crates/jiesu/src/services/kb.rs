//! The knowledge base (知识库): units keep the entries of their own domain, the center
//! reviews and publishes them (draft → reviewed → published → expired; every edit a new
//! version, every step an event and a line of history), operators search the published ones
//! while on a call (`kb_search`), answer consultations from them and say whether an answer
//! helped. Entries past their validity, unused, or often unhelpful are listed for review.
//! Bulk import and export are `kb_import`'s.

use super::accounts::By;
use super::AppState;
use crate::error::{AppError, FieldError};
use crate::store::kb::{self, KbFilter, StaleRow};
use chrono::{DateTime, Utc};
use jiesu_core::kb::{KbError, KbStatus, KbStep};
use jiesu_core::Actor;
use serde::{Deserialize, Serialize};

pub use super::kb_search::{search, KbHit};
pub use crate::store::kb::{KbEntry, KbFilter as Filter, KbVersion};

impl From<KbError> for AppError {
    fn from(e: KbError) -> Self {
        match e {
            KbError::Forbidden => AppError::Forbidden("keeping the knowledge base"),
            KbError::WrongStatus(s) => AppError::Conflict(format!("the entry is {s}")),
        }
    }
}

/// An active entry by id; 404 for an unknown or deleted one.
pub async fn get(state: &AppState, id: &str) -> Result<KbEntry, AppError> {
    kb::get(state.store.reader(), id)
        .await?
        .filter(|e| e.active)
        .ok_or(AppError::NotFound("knowledge-base entry"))
}

/// Whether `actor` may read entry `e`: a published entry is everyone's who reads the
/// knowledge base; a draft, reviewed or expired one only the center's and the owning unit's
/// (and the units above it).
pub async fn may_read(state: &AppState, actor: &Actor, e: &KbEntry) -> Result<bool, AppError> {
    Ok(jiesu_core::kb::is_keeper(actor)
        || e.status == KbStatus::Published
        || may_edit(state, actor, e).await?)
}

/// An active entry `actor` may read ([`may_read`]); 404 otherwise, as for a missing one.
pub async fn get_for(state: &AppState, actor: &Actor, id: &str) -> Result<KbEntry, AppError> {
    let e = get(state, id).await?;
    if may_read(state, actor, &e).await? {
        Ok(e)
    } else {
        Err(AppError::NotFound("knowledge-base entry"))
    }
}

/// Whether an entry is offered at intake at `now`: published and inside its validity.
pub fn offered(e: &KbEntry, now: DateTime<Utc>) -> bool {
    e.offered_at(now)
}

/// The first `limit` entries offered now, newest change first.
pub async fn live(state: &AppState, limit: usize) -> Result<Vec<KbEntry>, AppError> {
    let filter = KbFilter {
        status: Some(KbStatus::Published),
        ..KbFilter::default()
    };
    let now = state.clock.now();
    let mut all = kb::list(state.store.reader(), &filter, limit as i64 * 2, 0).await?;
    all.retain(|e| offered(e, now));
    all.truncate(limit);
    Ok(all)
}

/// A page of active entries matching `filter`, with how many match in all.
pub async fn list(
    state: &AppState,
    actor: &Actor,
    filter: &KbFilter,
    limit: i64,
    offset: i64,
) -> Result<(Vec<KbEntry>, i64), AppError> {
    super::require(actor, jiesu_core::access::Action::Answer).or_else(|_| keeper_or_unit(actor))?;
    // Outside the center, entries not yet (or no longer) published are their unit's only.
    let mut filter = filter.clone();
    if !jiesu_core::kb::is_keeper(actor) {
        let own = match owner_path(state, filter.unit_code.as_deref()).await? {
            Ok(Some(path)) => jiesu_core::kb::may_edit(actor, Some(&path)),
            _ => false,
        };
        match filter.status {
            _ if own => {}
            Some(KbStatus::Published) => {}
            Some(_) => return Ok((Vec::new(), 0)),
            None => filter.status = Some(KbStatus::Published),
        }
    }
    let pool = state.store.reader();
    Ok((
        kb::list(pool, &filter, limit.clamp(1, 500), offset.max(0)).await?,
        kb::count(pool, &filter).await?,
    ))
}

fn keeper_or_unit(actor: &Actor) -> Result<(), AppError> {
    if jiesu_core::kb::is_keeper(actor) || actor.unit.is_some() {
        Ok(())
    } else {
        Err(AppError::Forbidden("reading the knowledge base"))
    }
}

/// Whether `actor` may edit entry `e` (its unit's staff, or the center).
pub async fn may_edit(state: &AppState, actor: &Actor, e: &KbEntry) -> Result<bool, AppError> {
    let path = owner_path(state, e.unit_code.as_deref())
        .await?
        .ok()
        .flatten();
    Ok(jiesu_core::kb::may_edit(actor, path.as_deref()))
}

/// An entry as submitted.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct KbInput {
    /// The question.
    pub title: String,
    /// The answer.
    pub answer: String,
    /// Keywords.
    #[serde(default)]
    pub tags: Vec<String>,
    /// Category.
    #[serde(default)]
    pub category: String,
    /// Owning unit.
    pub unit_code: Option<String>,
    /// Where the answer comes from.
    #[serde(default)]
    pub source: String,
    /// Valid from (RFC 3339).
    pub valid_from: Option<DateTime<Utc>>,
    /// Valid until (RFC 3339).
    pub valid_until: Option<DateTime<Utc>>,
    /// `draft` or `published` (the center only); absent: published when the center writes
    /// it, a draft when a unit does.
    pub status: Option<KbStatus>,
}

/// The field errors of `input`, named `{at}field`; `units` says whether a unit code exists.
pub(crate) fn check(input: &KbInput, at: &str, unit_exists: bool) -> Vec<FieldError> {
    let mut errors = Vec::new();
    let field = |f: &str| format!("{at}{f}");
    for (name, value, max) in [
        ("title", &input.title, 200),
        ("answer", &input.answer, 10_000),
    ] {
        if value.trim().is_empty() || value.chars().count() > max {
            errors.push(FieldError::with(
                field(name),
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
        errors.push(FieldError::of(field("tags"), "err.kb.at_most_20_tags_of_1"));
    }
    for (name, value, max) in [
        ("category", &input.category, 100),
        ("source", &input.source, 500),
    ] {
        if value.chars().count() > max {
            errors.push(FieldError::with(
                field(name),
                "err.kb.at_most_characters",
                &[("max", max.to_string())],
            ));
        }
    }
    for (name, v) in [
        ("valid_from", input.valid_from),
        ("valid_until", input.valid_until),
    ] {
        if v.is_some_and(|v| !jiesu_core::dates::in_range(v.date_naive())) {
            errors.push(FieldError::of(field(name), "err.date_out_of_range"));
        }
    }
    if let (Some(f), Some(u)) = (input.valid_from, input.valid_until) {
        if u <= f {
            errors.push(FieldError::of(
                field("valid_until"),
                "err.kb.until_after_from",
            ));
        }
    }
    if matches!(input.status, Some(KbStatus::Reviewed | KbStatus::Expired)) {
        errors.push(FieldError::of(
            field("status"),
            "err.kb.status_draft_or_published",
        ));
    }
    if !unit_exists {
        errors.push(FieldError::of(field("unit_code"), "err.no_such_unit"));
    }
    errors
}

/// The path of an owning unit (None: none given); `Err` when it does not exist.
async fn owner_path(
    state: &AppState,
    code: Option<&str>,
) -> Result<Result<Option<String>, ()>, AppError> {
    let Some(code) = code else {
        return Ok(Ok(None));
    };
    Ok(crate::store::reference::unit(state.store.reader(), code)
        .await?
        .map(|u| Some(u.path))
        .ok_or(()))
}

/// Creates (`id` None) or edits an entry: a new version, in the status the input asks for.
pub async fn save(
    state: &AppState,
    actor: &Actor,
    id: Option<&str>,
    input: KbInput,
) -> Result<KbEntry, AppError> {
    let existing = match id {
        Some(id) => Some(get(state, id).await?),
        None => None,
    };
    if let Some(e) = &existing {
        if !may_edit(state, actor, e).await? {
            return Err(KbError::Forbidden.into());
        }
    }
    let path = owner_path(state, input.unit_code.as_deref()).await?;
    let errors = check(&input, "", path.is_ok());
    // An unknown unit is the field's fault (422 naming `unit_code`), not the editor's.
    if path.is_err() {
        return Err(AppError::Invalid(errors));
    }
    if !jiesu_core::kb::may_edit(actor, path.clone().ok().flatten().as_deref()) {
        return Err(KbError::Forbidden.into());
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let keeper = jiesu_core::kb::is_keeper(actor);
    let status = match input.status {
        Some(KbStatus::Published) if !keeper => return Err(KbError::Forbidden.into()),
        Some(s) => s,
        None if keeper => KbStatus::Published,
        None => KbStatus::Draft,
    };
    let now = state.clock.now();
    let entry = KbEntry {
        id: existing
            .as_ref()
            .map(|e| e.id.clone())
            .unwrap_or_else(|| uuid::Uuid::now_v7().to_string()),
        title: input.title.trim().to_string(),
        answer: input.answer.trim().to_string(),
        tags: input.tags,
        category: input.category.trim().to_string(),
        unit_code: input.unit_code,
        source: input.source.trim().to_string(),
        valid_from: input.valid_from,
        valid_until: input.valid_until,
        status,
        version: existing.as_ref().map_or(1, |e| e.version + 1),
        last_used_at: existing.as_ref().and_then(|e| e.last_used_at),
        active: true,
        created_at: existing.as_ref().map_or(now, |e| e.created_at),
        updated_at: now,
    };
    let action = if existing.is_some() {
        "kb.updated"
    } else {
        "kb.created"
    };
    let mut tx = state.store.begin().await?;
    match &existing {
        Some(old) => changed_since(
            kb::update_if(&mut tx, &entry, &actor.user_id, kb::AsRead::of(old), None).await?,
        )?,
        None => kb::upsert(&mut tx, &entry, &actor.user_id).await?,
    }
    tx.event(entry_event(state, actor, action, &entry));
    tx.commit().await?;
    Ok(entry)
}

/// A 409 where an entry changed between its reading and its writing (two editors, a double
/// click): the later change is refused whole, not written over the first.
pub(crate) fn changed_since(written: bool) -> Result<(), AppError> {
    if written {
        Ok(())
    } else {
        Err(AppError::Conflict(
            "the entry was changed meanwhile: open it again".into(),
        ))
    }
}

/// Deletes (deactivates) an entry.
pub async fn delete(state: &AppState, actor: &Actor, id: &str) -> Result<(), AppError> {
    let mut entry = get(state, id).await?;
    if !jiesu_core::kb::is_keeper(actor) {
        return Err(KbError::Forbidden.into());
    }
    entry.active = false;
    entry.updated_at = state.clock.now();
    let mut tx = state.store.begin().await?;
    kb::deactivate(&mut tx, &entry.id, entry.updated_at).await?;
    tx.event(entry_event(state, actor, "kb.deleted", &entry));
    tx.commit().await?;
    Ok(())
}

fn entry_event(
    state: &AppState,
    actor: &Actor,
    action: &str,
    e: &KbEntry,
) -> crate::store::NewEvent {
    let payload = serde_json::json!({
        "kb_entry_id": e.id, "title": e.title, "version": e.version, "status": e.status,
    });
    state.audit_event(&actor.user_id, actor.role.as_str(), action, payload)
}

fn step_action(step: KbStep) -> &'static str {
    match step {
        KbStep::Review => "kb.reviewed",
        KbStep::Publish => "kb.published",
        KbStep::Expire => "kb.expired",
    }
}

/// Moves one entry a step (review, publish, expire): center staff only.
pub async fn step(
    state: &AppState,
    actor: &Actor,
    id: &str,
    step: KbStep,
) -> Result<KbEntry, AppError> {
    let mut entry = get(state, id).await?;
    let read = kb::AsRead::of(&entry);
    entry.status = jiesu_core::kb::step(actor, entry.status, step)?;
    entry.updated_at = state.clock.now();
    let mut tx = state.store.begin().await?;
    changed_since(kb::update_if(&mut tx, &entry, &actor.user_id, read, None).await?)?;
    tx.event(entry_event(state, actor, step_action(step), &entry));
    tx.commit().await?;
    Ok(entry)
}

/// The status a step starts from.
fn step_from(step: KbStep) -> KbStatus {
    match step {
        KbStep::Review => KbStatus::Draft,
        KbStep::Publish => KbStatus::Reviewed,
        KbStep::Expire => KbStatus::Published,
    }
}

/// Moves every entry matching `filter` that can take `step` (its status is set to the
/// step's starting one) as one batch: one event naming the batch, a version line each.
pub async fn step_all(
    state: &AppState,
    by: By<'_>,
    step: KbStep,
    mut filter: KbFilter,
) -> Result<u64, AppError> {
    if let By::User(actor) = by {
        if !jiesu_core::kb::is_keeper(actor) {
            return Err(KbError::Forbidden.into());
        }
    }
    let from = step_from(step);
    let to = jiesu_core::kb::step_status(from, step)?;
    filter.status = Some(from);
    let batch = uuid::Uuid::now_v7().to_string();
    let who = match by {
        By::User(a) => a.user_id.clone(),
        _ => "console".to_string(),
    };
    let mut tx = state.store.begin().await?;
    let n = kb::set_status_many(&mut tx, &filter, to, &batch, &who, state.clock.now()).await?;
    let payload = serde_json::json!({
        "batch_id": batch, "count": n, "category": filter.category, "unit_code": filter.unit_code,
        "source": filter.source, "title": filter.title,
    });
    // Nothing moved, nothing changed: no event.
    if n > 0 {
        tx.event(by.event(state, step_action(step), payload));
    }
    tx.commit().await?;
    Ok(n)
}

/// An entry's history, oldest first, for those who may read the entry.
pub async fn history(
    state: &AppState,
    actor: &Actor,
    id: &str,
) -> Result<Vec<KbVersion>, AppError> {
    get_for(state, actor, id).await?;
    Ok(kb::versions(state.store.reader(), id).await?)
}

/// An operator's verdict on an answer offered at the desk.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Feedback {
    /// Whether the answer helped the caller.
    pub helpful: bool,
    /// The request it was offered for, if recorded.
    pub request_id: Option<String>,
    /// At the desk before the request exists: the call's form key (the intake form's
    /// `Idempotency-Key`), so the verdict goes with the request the call makes.
    #[serde(default)]
    pub call_key: Option<String>,
}

/// Records whether an entry helped; counted toward the list of entries to review. Returns
/// the id of the request it was recorded with, if any.
pub async fn feedback(
    state: &AppState,
    actor: &Actor,
    id: &str,
    input: Feedback,
) -> Result<Option<String>, AppError> {
    super::require(actor, jiesu_core::access::Action::Answer)?;
    // Only what an operator could have been offered is rated: a published entry they read.
    let entry = get_for(state, actor, id).await?;
    if entry.status != KbStatus::Published {
        return Err(AppError::Conflict("only a published entry is rated".into()));
    }
    // An id or a number names the request; the verdict keeps its id.
    let request_id = match &input.request_id {
        Some(r) => Some(
            crate::store::requests::get(state.store.reader(), r)
                .await?
                .ok_or_else(|| AppError::invalid("request_id", "err.kb.no_such_request"))?
                .id,
        ),
        None => None,
    };
    let call = input
        .call_key
        .as_deref()
        .filter(|k| super::is_client_key(k));
    if input.call_key.is_some() && call.is_none() {
        return Err(AppError::invalid(
            "call_key",
            "err.intake.idempotency_key_bad",
        ));
    }
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    kb::add_feedback(
        &mut tx,
        &entry.id,
        (request_id.as_deref(), call),
        input.helpful,
        &actor.user_id,
        now,
    )
    .await?;
    let payload = serde_json::json!({
        "kb_entry_id": entry.id, "helpful": input.helpful, "request_id": request_id,
    });
    tx.event(state.audit_event(&actor.user_id, actor.role.as_str(), "kb.rated", payload));
    tx.commit().await?;
    Ok(request_id)
}

/// The operator's verdict on `entry_id` for request `request_id`, if one was given.
pub async fn verdict(
    state: &AppState,
    entry_id: &str,
    request_id: &str,
) -> Result<Option<bool>, AppError> {
    Ok(kb::verdict(state.store.reader(), entry_id, request_id).await?)
}

/// Why an entry is listed for review.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum StaleReason {
    /// Its validity has ended.
    PastValidity,
    /// Nobody answered from it (or rated it) for the given days.
    Unused,
    /// More than half of its verdicts say it did not help.
    Unhelpful,
}

/// A published entry that needs a look.
#[derive(Debug, Serialize)]
pub struct StaleEntry {
    /// The entry.
    #[serde(flatten)]
    pub entry: KbEntry,
    /// Verdicts given.
    pub rated: i64,
    /// Of which unhelpful.
    pub unhelpful: i64,
    /// Why it is listed.
    pub reasons: Vec<StaleReason>,
}

/// What counts as stale.
#[derive(Debug, Clone, Copy)]
pub struct StaleRules {
    /// Unused for this many days.
    pub unused_days: i64,
    /// At least this many verdicts, more than half unhelpful.
    pub min_rated: i64,
}

/// Published entries to review: past validity, unused for `unused_days`, or often unhelpful.
pub async fn stale(
    state: &AppState,
    actor: &Actor,
    rules: StaleRules,
    limit: i64,
) -> Result<Vec<StaleEntry>, AppError> {
    if !jiesu_core::kb::is_keeper(actor) {
        return Err(KbError::Forbidden.into());
    }
    let now = state.clock.now();
    let before = now - chrono::Duration::days(rules.unused_days.clamp(0, 3650));
    let rows = kb::stale(
        state.store.reader(),
        now,
        before,
        rules.min_rated.max(1),
        limit.clamp(1, 1000),
    )
    .await?;
    Ok(rows
        .into_iter()
        .map(
            |StaleRow {
                 entry,
                 rated,
                 unhelpful,
             }| {
                let mut reasons = Vec::new();
                if entry.valid_until.is_some_and(|u| u <= now) {
                    reasons.push(StaleReason::PastValidity);
                }
                if entry.last_used_at.unwrap_or(entry.updated_at) < before {
                    reasons.push(StaleReason::Unused);
                }
                if rated >= rules.min_rated.max(1) && 2 * unhelpful > rated {
                    reasons.push(StaleReason::Unhelpful);
                }
                StaleEntry {
                    entry,
                    rated,
                    unhelpful,
                    reasons,
                }
            },
        )
        .collect())
}
