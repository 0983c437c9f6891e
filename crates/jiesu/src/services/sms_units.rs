//! Reminders that chase units by SMS (催办, issue 19): before an order's reply deadline, at
//! it, and after it an escalation (督办) to the manager unit (the parent unit's duty phone and
//! liaison). Each reminder goes once per order and kind (a unique key), through the outbox,
//! with an event "催办短信" on the request's timeline. The sweep (`jobs::deadlines`) decides when.

use super::AppState;
use crate::error::AppError;
use crate::store::assignments::AssignmentRow;
use crate::store::{categories, outbox, requests, sms, units, Tx};
use chrono::{DateTime, Duration, DurationRound, Utc};

/// A reminder to a unit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum UnitReminder {
    /// An emergency order (紧急件) was dispatched to the unit.
    NewEmergency,
    /// The reply deadline is near (the order's warning time passed).
    BeforeBreach,
    /// The reply deadline passed.
    Breach,
    /// Still open as long after the deadline as the warning came before it: to the manager.
    Escalation,
}

impl UnitReminder {
    /// The template kind, also the outbox kind and the key with the order.
    pub fn kind(self) -> &'static str {
        match self {
            UnitReminder::NewEmergency => "unit_new_emergency",
            UnitReminder::BeforeBreach => "unit_before_breach",
            UnitReminder::Breach => "unit_breach",
            UnitReminder::Escalation => "unit_escalation",
        }
    }
}

/// The phones a unit is reached at: duty phone, then liaison; blanks and repeats left out.
fn phones(u: &units::UnitRecord) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for p in [&u.duty_phone, &u.liaison_phone] {
        let p = p.trim();
        if !p.is_empty() && !out.iter().any(|o| o == p) {
            out.push(p.to_string());
        }
    }
    out
}

/// 138****5678 for a mobile, the last four digits kept for any other number.
fn mask(p: &str) -> String {
    jiesu_core::PhoneNumber::parse(p)
        .map(|n| n.masked())
        .unwrap_or_else(|_| {
            let tail: String = p
                .chars()
                .rev()
                .take(4)
                .collect::<Vec<_>>()
                .into_iter()
                .rev()
                .collect();
            format!("****{tail}")
        })
}

/// Writes reminder `r` of order `a` in the caller's transaction, once: `false` when it was
/// written before, SMS texts are off, or nobody is there to text (no phone, no parent unit).
pub(crate) async fn remind(
    state: &AppState,
    tx: &mut Tx,
    a: &AssignmentRow,
    r: UnitReminder,
) -> Result<bool, AppError> {
    if !state.config.sms_texts {
        return Ok(false);
    }
    let Some(unit) = units::get(tx.conn(), &a.unit_code).await? else {
        return Ok(false);
    };
    let to = if r == UnitReminder::Escalation {
        match &unit.parent_code {
            Some(p) => units::get(tx.conn(), p).await?,
            None => None,
        }
    } else {
        Some(unit.clone())
    };
    let recipients = to.as_ref().map(phones).unwrap_or_default();
    let to_code = to.as_ref().map_or(a.unit_code.clone(), |u| u.code.clone());
    let now = state.clock.now();
    if recipients.is_empty() {
        // Kept as done, so an order nobody can be texted about is not looked at every sweep.
        let (id, k) = (&a.id, r.kind());
        sms::claim_unit_reminder(
            tx,
            id,
            k,
            &a.request_id,
            &a.unit_code,
            &to_code,
            "",
            now,
            now,
        )
        .await?;
        return Ok(false);
    }
    let masked: Vec<String> = recipients.iter().map(|p| mask(p)).collect();
    let due = due_at(state, tx, &to_code, a.time_limit_class == "emergency").await?;
    let (id, k, list) = (&a.id, r.kind(), masked.join(","));
    if !sms::claim_unit_reminder(
        tx,
        id,
        k,
        &a.request_id,
        &a.unit_code,
        &to_code,
        &list,
        now,
        due,
    )
    .await?
    {
        return Ok(false);
    }
    let Some(req) = requests::get(tx.conn(), &a.request_id).await? else {
        return Ok(false);
    };
    let text = render(state, tx, &req, a, &unit, r).await?;
    let payload = serde_json::json!({ "number": req.number, "kind": r.kind(), "sms": text, "unit_code": a.unit_code });
    let mut ids = Vec::new();
    for p in &recipients {
        ids.extend(outbox::enqueue_at(tx, &a.request_id, r.kind(), p, &payload, now, due).await?);
    }
    state
        .event(
            &super::sms_texts::sms_actor(),
            &a.request_id,
            Some(&a.id),
            "sms.unit_reminder",
        )
        .payload(serde_json::json!({
            "label": "催办短信", "kind": r.kind(), "unit_code": a.unit_code,
            "to_unit": to_code, "recipients": masked, "message_ids": ids, "due_at": due,
        }))
        .record(tx);
    Ok(true)
}

/// The reminder's text from its template: number, category, deadline and unit; nothing of
/// the requester.
async fn render(
    state: &AppState,
    tx: &mut Tx,
    req: &requests::RequestRow,
    a: &AssignmentRow,
    unit: &units::UnitRecord,
    r: UnitReminder,
) -> Result<String, AppError> {
    let en = state.config.sms_language == "en";
    let category = match &req.category_code {
        Some(c) => match categories::get(tx.conn(), c).await? {
            Some(cat) if en => cat.name_en,
            Some(cat) => cat.name,
            None => c.clone(),
        },
        None => String::new(),
    };
    let deadline = a
        .reply_by
        .with_timezone(&state.config.offset())
        .format("%m-%d %H:%M")
        .to_string();
    let Some(t) = sms::template(tx, r.kind()).await? else {
        return Ok(String::new());
    };
    let template = if en { &t.en } else { &t.zh };
    Ok(super::sms_texts::render(
        template,
        &[
            ("number", req.number.as_str()),
            ("category", category.as_str()),
            ("deadline", deadline.as_str()),
            ("unit", unit.short_name.as_str()),
        ],
    ))
}

/// When a reminder to unit `to_unit` written now may go: an emergency order's at once (it
/// still counts to the cap); others after the unit's quiet hours (its own, else
/// `JIESU_SMS_UNIT_QUIET_HOURS`), in the first clock hour
/// where the unit has fewer than `JIESU_SMS_UNIT_HOURLY_LIMIT` reminders due.
async fn due_at(
    state: &AppState,
    tx: &mut Tx,
    to_unit: &str,
    emergency: bool,
) -> Result<DateTime<Utc>, AppError> {
    let now = state.clock.now();
    if emergency {
        return Ok(now);
    }
    let hours = super::unit_quiet::hours_of(state, tx, to_unit).await?;
    let mut due = super::sms_texts::after_quiet(state, hours, now);
    loop {
        let hour = due
            .duration_trunc(Duration::hours(1))
            .map_err(|e| AppError::Internal(anyhow::anyhow!(e)))?;
        let next = hour + Duration::hours(1);
        if sms::unit_reminders_due_between(tx, to_unit, hour, next).await?
            < state.config.sms_unit_hourly_limit
        {
            return Ok(due);
        }
        due = next;
    }
}
