//! The caller's history at the intake desk (来电历史, issue 23): a number's earlier requests
//! from every channel with the open ones on the same problem first, follow-up calls recorded
//! as reminders (催办) on an open request instead of a new one, abusive-caller marks
//! (恶意来电) that the desk shows but that never block a call, and the repeat-caller counts.
//! Numbers are answered masked only; the desk is the center's, so unit staff are refused.

use super::AppState;
use crate::error::{AppError, FieldError};
use crate::store::callers::{self, CallerMark, NewReminder};
use chrono::{DateTime, Datelike, NaiveDate, TimeZone, Utc};
use jiesu_core::access::Action;
use jiesu_core::{Actor, Channel, PhoneNumber, RequestStatus};
use serde::{Deserialize, Serialize};

/// How many earlier requests the desk lists.
const HISTORY_LIMIT: i64 = 100;
/// The share of the call's text (trigrams) found in an open request from which it is "the
/// same problem".
const SAME_PROBLEM: f64 = 0.5;
const MAX_NOTE: usize = 1_000;
const MAX_REASON: usize = 500;
/// The longest a mark may last.
const MAX_MARK_DAYS: i64 = 366;

fn phone(field: &str, raw: &str) -> Result<PhoneNumber, AppError> {
    PhoneNumber::parse(raw)
        .map_err(|_| AppError::invalid(field, "err.intake.not_a_valid_chinese_mobile_or"))
}

/// One earlier request as the desk lists it.
#[derive(Debug, Serialize)]
pub struct HistoryItem {
    pub id: String,
    pub number: String,
    pub status: String,
    pub kind: String,
    pub channel: String,
    pub category_code: Option<String>,
    pub title: String,
    /// The lead unit of the latest round, if dispatched.
    pub unit_code: Option<String>,
    pub unit_name: Option<String>,
    pub created_at: DateTime<Utc>,
    /// Still being handled: a follow-up call can be recorded on it as a reminder.
    pub open: bool,
    /// Open and on the same problem as the call (same category or similar text).
    pub same_problem: bool,
    /// Reminders (催办) recorded on it.
    pub reminders: i64,
}

/// An abusive-caller mark (恶意来电), the number masked.
#[derive(Debug, Serialize)]
pub struct MarkView {
    pub id: String,
    pub phone: String,
    pub reason: String,
    pub expires_at: DateTime<Utc>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub revoked_at: Option<DateTime<Utc>>,
}

fn mark_view(m: CallerMark) -> MarkView {
    let masked = PhoneNumber::parse(&m.phone)
        .map(|p| p.masked())
        .unwrap_or_else(|_| "****".into());
    MarkView {
        id: m.id,
        phone: masked,
        reason: m.reason,
        expires_at: m.expires_at,
        created_by: m.created_by,
        created_at: m.created_at,
        revoked_at: m.revoked_at,
    }
}

/// A caller's history: their requests and the marks in force on the number.
#[derive(Debug, Serialize)]
pub struct CallerHistory {
    /// The number, masked.
    pub phone: String,
    pub requests: Vec<HistoryItem>,
    /// Abusive-caller marks in force: shown, never blocking.
    pub marks: Vec<MarkView>,
}

/// What the call is about, to put the open request on the same problem first.
#[derive(Debug, Default)]
pub struct CallTopic<'a> {
    pub text: Option<&'a str>,
    pub category_code: Option<&'a str>,
}

/// The caller's earlier requests, open ones on the same problem first, then newest first.
pub async fn history(
    state: &AppState,
    actor: &Actor,
    raw_phone: &str,
    topic: CallTopic<'_>,
) -> Result<CallerHistory, AppError> {
    super::require(actor, Action::CallerHistory)?;
    let number = phone("phone", raw_phone)?;
    let reader = state.store.reader();
    let rows = callers::requests_of(reader, number.as_str(), HISTORY_LIMIT).await?;
    let cfg = jiesu_text::dupes::DupConfig::default();
    let text = topic.text.map(str::trim).filter(|t| !t.is_empty());
    let category = topic.category_code.map(str::trim).filter(|c| !c.is_empty());
    let mut requests: Vec<HistoryItem> = rows
        .into_iter()
        .map(|r| {
            let open = RequestStatus::parse(&r.status).is_some_and(|s| !s.is_final());
            let same_category = category.is_some() && r.category_code.as_deref() == category;
            let similar = text.is_some_and(|t| {
                let theirs = format!("{}\n{}", r.title, r.body);
                jiesu_text::dupes::overlap(t, &theirs, &cfg) >= SAME_PROBLEM
            });
            HistoryItem {
                same_problem: open && (same_category || similar),
                open,
                id: r.id,
                number: r.number,
                status: r.status,
                kind: r.kind,
                channel: r.channel,
                category_code: r.category_code,
                title: r.title,
                unit_code: r.unit_code,
                unit_name: r.unit_name,
                created_at: r.created_at,
                reminders: r.reminders,
            }
        })
        .collect();
    // Stable: within each group the store's newest-first order stays.
    requests.sort_by_key(|r| !r.same_problem);
    let now = state.clock.now();
    let marks = callers::marks_in_force(reader, Some(number.as_str()), now).await?;
    Ok(CallerHistory {
        phone: number.masked(),
        requests,
        marks: marks.into_iter().map(mark_view).collect(),
    })
}

/// A follow-up call to record as a reminder (催办).
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReminderInput {
    /// What the caller said this time.
    #[serde(default)]
    pub note: String,
    /// How they reached us (default phone).
    #[serde(default = "phone_channel")]
    pub channel: Channel,
}

fn phone_channel() -> Channel {
    Channel::Phone
}

/// The request after a reminder.
#[derive(Debug, Serialize)]
pub struct Reminded {
    pub request_id: String,
    pub number: String,
    /// Reminders recorded on it, this one included.
    pub reminders: i64,
}

/// Records a follow-up call on an open request as a reminder (催办): an event
/// `request.reminded` on its timeline and one more in its count, not a new request. A closed
/// or merged request takes none (409): the call is then a new request.
pub async fn remind(
    state: &AppState,
    actor: &Actor,
    id: &str,
    input: ReminderInput,
) -> Result<Reminded, AppError> {
    super::require(actor, Action::Remind)?;
    let note = input.note.trim().to_string();
    if note.chars().count() > MAX_NOTE {
        return Err(AppError::invalid_with(
            "note",
            "err.intake.must_be_at_most_max_characters",
            &[("max", MAX_NOTE.to_string())],
        ));
    }
    let (mut tx, req) = state.lock_request(id).await?;
    if req.status.is_final() {
        return Err(AppError::Conflict(format!(
            "request {} is {}: record the call as a new request",
            req.number,
            req.status.as_str()
        )));
    }
    let reminder = NewReminder {
        id: uuid::Uuid::now_v7().to_string(),
        request_id: req.id.clone(),
        channel: input.channel.as_str().to_string(),
        note: note.clone(),
        created_by: actor.user_id.clone(),
        created_at: state.clock.now(),
    };
    let count = callers::add_reminder(&mut tx, &reminder).await?;
    state
        .event(actor, &req.id, None, "request.reminded")
        .payload(serde_json::json!({
            "reminder_id": reminder.id, "channel": reminder.channel, "note": note, "count": count,
        }))
        .record(&mut tx);
    tx.commit().await?;
    Ok(Reminded {
        request_id: req.id,
        number: req.number,
        reminders: count,
    })
}

/// A mark to set on a number.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct MarkInput {
    /// The number, as the caller gave it.
    pub phone: String,
    /// Why (the 条例's grounds: abuse, harassment, repeated baseless calls).
    pub reason: String,
    /// Until when: an RFC 3339 time or a date (`YYYY-MM-DD`, to the end of that local day).
    pub expires_at: String,
}

fn parse_expiry(state: &AppState, s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    let day = NaiveDate::parse_from_str(s, "%Y-%m-%d").ok()?;
    let next = day.succ_opt()?.and_hms_opt(0, 0, 0)?;
    let local = state.config.offset().from_local_datetime(&next).single()?;
    Some(local.with_timezone(&Utc))
}

/// Marks a number as abusive (恶意来电) until `expires_at`, with event `caller.marked`.
pub async fn mark(state: &AppState, actor: &Actor, input: MarkInput) -> Result<MarkView, AppError> {
    super::require(actor, Action::MarkCaller)?;
    let now = state.clock.now();
    let mut errors = Vec::new();
    let number = PhoneNumber::parse(&input.phone).ok();
    if number.is_none() {
        errors.push(FieldError::of(
            "phone",
            "err.intake.not_a_valid_chinese_mobile_or",
        ));
    }
    let reason = input.reason.trim().to_string();
    if reason.is_empty() {
        errors.push(FieldError::of("reason", "err.intake.must_not_be_empty"));
    } else if reason.chars().count() > MAX_REASON {
        errors.push(FieldError::with(
            "reason",
            "err.intake.must_be_at_most_max_characters",
            &[("max", MAX_REASON.to_string())],
        ));
    }
    let expires = parse_expiry(state, &input.expires_at)
        .filter(|t| *t > now && *t <= now + chrono::Duration::days(MAX_MARK_DAYS));
    if expires.is_none() {
        errors.push(FieldError::with(
            "expires_at",
            "err.callers.expiry",
            &[("days", MAX_MARK_DAYS.to_string())],
        ));
    }
    let (Some(number), Some(expires_at), true) = (number, expires, errors.is_empty()) else {
        return Err(AppError::Invalid(errors));
    };
    let m = CallerMark {
        id: uuid::Uuid::now_v7().to_string(),
        phone: number.as_str().to_string(),
        reason,
        expires_at,
        created_by: actor.user_id.clone(),
        created_at: now,
        revoked_by: None,
        revoked_at: None,
    };
    let mut tx = state.store.begin().await?;
    callers::add_mark(&mut tx, &m).await?;
    tx.event(mark_event(state, actor, "caller.marked", &m));
    tx.commit().await?;
    Ok(mark_view(m))
}

/// Lifts a mark in force, with event `caller.unmarked`; 404 when none such is in force.
pub async fn unmark(state: &AppState, actor: &Actor, id: &str) -> Result<MarkView, AppError> {
    super::require(actor, Action::MarkCaller)?;
    let mut tx = state.store.begin().await?;
    let m = callers::revoke_mark(&mut tx, id, &actor.user_id, state.clock.now())
        .await?
        .ok_or(AppError::NotFound("caller mark in force"))?;
    tx.event(mark_event(state, actor, "caller.unmarked", &m));
    tx.commit().await?;
    Ok(mark_view(m))
}

/// The marks in force on every number (supervisors).
pub async fn marks(state: &AppState, actor: &Actor) -> Result<Vec<MarkView>, AppError> {
    super::require(actor, Action::MarkCaller)?;
    let all = callers::marks_in_force(state.store.reader(), None, state.clock.now()).await?;
    Ok(all.into_iter().map(mark_view).collect())
}

fn mark_event(
    state: &AppState,
    actor: &Actor,
    action: &str,
    m: &CallerMark,
) -> crate::store::NewEvent {
    let masked = PhoneNumber::parse(&m.phone)
        .map(|p| p.masked())
        .unwrap_or_default();
    let payload = serde_json::json!({
        "mark_id": m.id, "phone": masked, "reason": m.reason, "expires_at": m.expires_at,
    });
    state.audit_event(&actor.user_id, actor.role.as_str(), action, payload)
}

/// Repeat callers and reminders over a period (local days `from` to `to`, both included).
#[derive(Debug, Serialize)]
pub struct CallerStats {
    pub from: NaiveDate,
    pub to: NaiveDate,
    /// Requests recorded.
    pub intakes: i64,
    /// Numbers with two requests or more in the period.
    pub repeat_callers: i64,
    /// Requests from those numbers.
    pub repeat_requests: i64,
    /// Follow-up calls recorded as reminders (not counted in `intakes`).
    pub reminders: i64,
}

/// The counts over local days `from..=to` (default: this month so far).
pub async fn stats(
    state: &AppState,
    actor: &Actor,
    from: Option<&str>,
    to: Option<&str>,
) -> Result<CallerStats, AppError> {
    super::require(actor, Action::Supervise)?;
    let offset = state.config.offset();
    let today = state.clock.now().with_timezone(&offset).date_naive();
    let day = |field: &str, v: Option<&str>, dflt: NaiveDate| match v {
        Some(s) if !s.trim().is_empty() => super::calendar::parse_date(field, s.trim()),
        _ => Ok(dflt),
    };
    let from = day("from", from, today.with_day0(0).unwrap_or(today))?;
    let to = day("to", to, today)?;
    if to < from || (to - from).num_days() > MAX_MARK_DAYS {
        return Err(AppError::invalid("to", "err.callers.period"));
    }
    let start = |d: NaiveDate| {
        offset
            .from_local_datetime(&d.and_hms_opt(0, 0, 0).unwrap_or_default())
            .single()
            .map(|t| t.with_timezone(&Utc))
            .unwrap_or_default()
    };
    let end = to.succ_opt().unwrap_or(to);
    let c = callers::counts(state.store.reader(), start(from), start(end)).await?;
    Ok(CallerStats {
        from,
        to,
        intakes: c.intakes,
        repeat_callers: c.repeat_callers,
        repeat_requests: c.repeat_requests,
        reminders: c.reminders,
    })
}
