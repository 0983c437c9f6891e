//! Requesters' personal data: removed after the retention (`JIESU_PRIVACY_RETENTION_DAYS`,
//! default three years after the request closed), one `privacy.redacted` event per request;
//! the number of an abusive-caller mark once it is no longer in force (expired or lifted),
//! one `privacy.mark_redacted` event per mark;
//! and everything held about one phone number, exported for a personal-information request
//! (个人信息查阅 / 信息公开), which leaves a `privacy.exported` event.
//!
//! Redaction removes the requester's name and phone (from the request and its outbox
//! messages) and what they texted back (the text and number of `sms_inbound` rows, their
//! answers to the rating text; opt-out numbers stay, to honour TD) and keeps what statistics need: category, place, units, times, replies and
//! callbacks. The search index never holds names or phones (`search.rs` indexes title, body,
//! address, units and category), nor does the duplicate index (title and body). The live
//! hotspot index holds an 8-byte hash of the phone per problem, for the requests of its last
//! 30 days when it is loaded and those taken in since: a restart after a redaction leaves the
//! redacted requests out of it (their retention is at least 30 days after closing).

use super::AppState;
use crate::error::AppError;
use crate::store::{self, assignments, callbacks, privacy, reference};
use jiesu_core::access::Action;
use jiesu_core::{Actor, PhoneNumber};
use serde_json::{json, Value};

/// Requests redacted per round.
const BATCH: i64 = 200;

/// Redacts every request whose retention is over; returns how many were redacted.
pub async fn redact_due(state: &AppState) -> Result<usize, AppError> {
    let days = state.config.privacy_retention_days;
    let mut done = 0;
    loop {
        let now = state.clock.now();
        let cutoff = now - chrono::Duration::days(days);
        let due = privacy::due(state.store.reader(), cutoff, BATCH).await?;
        let mut redacted_now = 0;
        for (id, closed_at) in &due {
            let mut tx = state.store.begin().await?;
            if store::requests::lock(&mut tx, id).await?.is_none()
                || !privacy::redact(&mut tx, id, now).await?
            {
                continue; // gone or redacted by another node meanwhile
            }
            let mut event = state.audit_event(
                "system",
                "system",
                "privacy.redacted",
                json!({
                    "fields": ["requester_name", "requester_phone", "sms_inbound"],
                    "requester_name": privacy::REDACTED, "requester_phone": privacy::REDACTED,
                    "closed_at": closed_at, "retention_days": days,
                }),
            );
            event.request_id = Some(id.clone());
            event.at = now;
            tx.event(event);
            tx.commit().await?;
            redacted_now += 1;
        }
        done += redacted_now;
        if (due.len() as i64) < BATCH || redacted_now == 0 {
            break;
        }
    }
    if done > 0 {
        tracing::info!(
            requests = done,
            days,
            "requesters' names and phones redacted"
        );
    }
    Ok(done)
}

/// Removes the number from every abusive-caller mark (恶意来电) no longer in force, expired
/// or lifted: it was held only to show the mark at the desk. One `privacy.mark_redacted`
/// event per mark; returns how many marks lost their number. Idempotent.
pub async fn redact_lapsed_marks(state: &AppState) -> Result<usize, AppError> {
    let mut done = 0;
    loop {
        let now = state.clock.now();
        let due = store::callers::lapsed_marks(state.store.reader(), now, BATCH).await?;
        let mut redacted_now = 0;
        for m in &due {
            let mut tx = state.store.begin().await?;
            if !store::callers::redact_mark(&mut tx, &m.id, now).await? {
                continue; // redacted by another node meanwhile
            }
            let mut event = state.audit_event(
                "system",
                "system",
                "privacy.mark_redacted",
                json!({
                    "mark_id": m.id, "fields": ["phone"], "phone": privacy::REDACTED,
                    "expires_at": m.expires_at, "revoked_at": m.revoked_at,
                }),
            );
            event.at = now;
            tx.event(event);
            tx.commit().await?;
            redacted_now += 1;
        }
        done += redacted_now;
        if (due.len() as i64) < BATCH || redacted_now == 0 {
            break;
        }
    }
    if done > 0 {
        tracing::info!(marks = done, "numbers of lapsed caller marks redacted");
    }
    Ok(done)
}

/// Everything held about `phone`: its requests (with the requester's data), the replies the
/// units gave the requester, what they were answered at intake, their callbacks and
/// reminders (催办), and the abusive-caller marks (恶意来电) set on the number. Admins
/// only; leaves a `privacy.exported` event naming who exported which requests.
pub async fn export(state: &AppState, actor: &Actor, phone: &str) -> Result<Value, AppError> {
    if !actor.may(Action::Administer) {
        return Err(AppError::Forbidden("exporting personal data"));
    }
    let phone = PhoneNumber::parse(phone)
        .map_err(|_| AppError::invalid("phone", "err.intake.not_a_valid_chinese_mobile_or"))?;
    // Everything is read in one snapshot, so the export never holds half of a write that
    // committed while it ran (a reply without its round, a request closed without its
    // callback); the snapshot ends before the export's own event is written.
    let Held {
        numbers,
        requests,
        marks,
    } = state
        .store
        .in_snapshot(async |conn| held_about(conn, &phone).await)
        .await?;
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    let mut event = state.audit_event(
        &actor.user_id,
        actor.role.as_str(),
        "privacy.exported",
        json!({ "phone": phone.masked(), "requests": numbers }),
    );
    event.at = now;
    tx.event(event);
    tx.commit().await?;
    Ok(json!({
        "phone": phone.as_str(),
        "exported_at": now,
        "exported_by": actor.username,
        "retention_days": state.config.privacy_retention_days,
        "requests": requests,
        "caller_marks": marks,
    }))
}

/// What [`export`] gives about one number, read through `conn`.
pub struct Held {
    /// The requests' numbers (for the export's event).
    pub numbers: Vec<String>,
    /// Each request with the requester's data, replies, callbacks and reminders.
    pub requests: Vec<Value>,
    /// The abusive-caller marks set on the number, lifted and expired ones included.
    pub marks: Vec<Value>,
}

/// Everything held about `phone`, every read through `conn`: [`export`] passes an open
/// snapshot (`Store::read_snapshot`), so all of it is as of one moment.
pub async fn held_about(
    conn: &mut sqlx::AnyConnection,
    phone: &PhoneNumber,
) -> Result<Held, AppError> {
    let rows = privacy::requests_of_phone(&mut *conn, phone.as_str()).await?;
    let mut requests = Vec::with_capacity(rows.len());
    for r in &rows {
        let mut replies = Vec::new();
        for a in assignments::assignments_of(&mut *conn, &r.id).await? {
            let Some(text) = a.reply_to_requester.clone() else {
                continue;
            };
            let unit = reference::unit(&mut *conn, &a.unit_code).await?;
            replies.push(json!({
                "unit_code": a.unit_code, "unit_name": unit.map(|u| u.name), "round": a.round,
                "outcome": a.outcome.map(|o| o.as_str()), "replied_at": a.replied_at, "text": text,
            }));
        }
        let calls: Vec<Value> = callbacks::callbacks_of(&mut *conn, &r.id)
            .await?
            .into_iter()
            .map(|c| {
                json!({
                    "round": c.round, "at": c.at, "reached": c.reached, "resolved": c.resolved,
                    "satisfaction": c.satisfaction, "note": c.note,
                })
            })
            .collect();
        let reminders: Vec<Value> = store::callers::reminders_of(&mut *conn, &r.id)
            .await?
            .into_iter()
            .map(|(at, channel, note)| json!({ "at": at, "channel": channel, "note": note }))
            .collect();
        requests.push(json!({
            "id": r.id, "number": r.number, "kind": r.kind, "channel": r.channel, "status": r.status,
            "created_at": r.created_at, "closed_at": r.closed_at,
            "title": r.title, "text": r.body, "address": r.address, "category_code": r.category_code,
            "requester": {
                "name": r.requester_name, "phone": r.requester_phone,
                "enterprise_name": r.enterprise_name, "credit_code": r.credit_code,
                "confidential": r.confidential,
            },
            "answer": r.answer, "close_reason": r.close_reason,
            "replies": replies, "callbacks": calls, "reminders": reminders,
        }));
    }
    // Abusive-caller marks (issue 23) are held about the number too, lifted and expired ones
    // included.
    let marks: Vec<Value> = store::callers::marks_of(&mut *conn, phone.as_str())
        .await?
        .into_iter()
        .map(|m| {
            json!({
                "reason": m.reason, "created_at": m.created_at, "expires_at": m.expires_at,
                "revoked_at": m.revoked_at,
            })
        })
        .collect();
    Ok(Held {
        numbers: rows.into_iter().map(|r| r.number).collect(),
        requests,
        marks,
    })
}

/// How long a client's `Idempotency-Key` is remembered: a request sent again later than
/// this is a new request. Clients resend within seconds or minutes of a lost answer.
pub const KEY_DAYS: i64 = 7;

/// Forgets the clients' request keys older than [`KEY_DAYS`] (each holds the hash of what
/// was sent, which need not outlive the retries it serves); one `privacy.keys_forgotten`
/// event when any went. Returns how many.
pub async fn forget_request_keys(state: &AppState) -> Result<u64, AppError> {
    let now = state.clock.now();
    let mut tx = state.store.begin().await?;
    let n =
        store::request_keys::forget_before(&mut tx, now - chrono::Duration::days(KEY_DAYS)).await?;
    if n > 0 {
        let mut event = state.audit_event(
            "system",
            "system",
            "privacy.keys_forgotten",
            json!({ "count": n, "older_than_days": KEY_DAYS }),
        );
        event.at = now;
        tx.event(event);
    }
    tx.commit().await?;
    Ok(n)
}
