//! Texts to requesters (issue 19): every requester message is written to the outbox from an
//! editable template; with SMS texts on (`JIESU_SMS_TEXTS`) a receipt goes out at intake and
//! a rating request (短信回访) when a request is replied, under the rules every real sender
//! needs: opt-out (回复TD退订), quiet hours, a daily cap per number. What comes back is
//! `services::sms`; the sending itself is the outbox job's.

use super::AppState;
use crate::error::AppError;
use crate::store::requests::RequestRow;
use crate::store::{outbox, sms, Tx};
use chrono::{DateTime, Duration, Utc};
use jiesu_core::{Actor, Role};

/// The actor of what SMS does on its own: callbacks from the requester's text, held texts.
pub const SMS_ACTOR: &str = "sms";

/// The SMS actor (a callback agent: a rating by SMS is a callback, 回访).
pub fn sms_actor() -> Actor {
    Actor {
        user_id: SMS_ACTOR.into(),
        username: SMS_ACTOR.into(),
        role: Role::CallbackAgent,
        unit: None,
    }
}

/// Fills `{name}` in a template.
pub fn render(template: &str, vars: &[(&str, &str)]) -> String {
    vars.iter().fold(template.to_string(), |t, (k, v)| {
        t.replace(&format!("{{{k}}}"), v)
    })
}

/// When a text written at `now` may go: at once, or at the end of the quiet hours.
pub fn due_after_quiet_hours(state: &AppState, now: DateTime<Utc>) -> DateTime<Utc> {
    after_quiet(state, state.config.sms_quiet_hours, now)
}

/// When a text written at `now` may go under the quiet hours `hours` (local `from`–`to`).
pub fn after_quiet(
    state: &AppState,
    hours: Option<(u32, u32)>,
    now: DateTime<Utc>,
) -> DateTime<Utc> {
    use chrono::Timelike;
    let Some((from, to)) = hours else {
        return now;
    };
    let local = now.with_timezone(&state.config.offset());
    let h = local.hour();
    let quiet = if from > to {
        h >= from || h < to
    } else {
        from <= h && h < to
    };
    if !quiet {
        return now;
    }
    let end = state.config.local_midnight(local.date_naive()) + Duration::hours(to.into());
    if end > now {
        end
    } else {
        end + Duration::days(1)
    }
}

/// Writes a requester message of `kind` in the caller's transaction: `payload` gets the text
/// rendered from the template (`sms`). With SMS texts on, the rules apply: nothing to a number
/// that opted out or had its day's texts, and a text in the quiet hours waits (unless
/// `urgent`); each withheld or held text is an event. The outbox id, when written.
pub(crate) async fn enqueue(
    state: &AppState,
    tx: &mut Tx,
    req: &RequestRow,
    kind: &str,
    mut payload: serde_json::Value,
    vars: &[(&str, &str)],
    urgent: bool,
) -> Result<Option<String>, AppError> {
    let phone = req.requester_phone.trim();
    if phone.is_empty() {
        return Ok(None);
    }
    let now = state.clock.now();
    if let Some(t) = sms::template(tx, kind).await? {
        let text = if state.config.sms_language == "en" {
            &t.en
        } else {
            &t.zh
        };
        payload["sms"] = serde_json::json!(render(text, vars));
    }
    if !state.config.sms_texts {
        return Ok(outbox::enqueue(tx, &req.id, kind, phone, &payload, now).await?);
    }
    let withheld = if sms::opted_out(tx, phone).await? {
        Some("opted_out")
    } else {
        let today = now.with_timezone(&state.config.offset()).date_naive();
        let since = state.config.local_midnight(today);
        (sms::written_since(tx, phone, since).await? >= state.config.sms_daily_limit)
            .then_some("daily_limit")
    };
    if let Some(reason) = withheld {
        state
            .event(&sms_actor(), &req.id, None, "sms.withheld")
            .payload(serde_json::json!({ "kind": kind, "reason": reason }))
            .record(tx);
        return Ok(None);
    }
    let due = if urgent {
        now
    } else {
        due_after_quiet_hours(state, now)
    };
    let id = outbox::enqueue_at(tx, &req.id, kind, phone, &payload, now, due).await?;
    if due > now {
        state
            .event(&sms_actor(), &req.id, None, "sms.held")
            .payload(serde_json::json!({ "kind": kind, "until": due, "message_id": id }))
            .record(tx);
    }
    Ok(id)
}

/// The receipt at intake (受理短信): number and query code, in a transaction of its own right
/// after the request was written. Emergencies' receipts ignore the quiet hours.
pub async fn send_receipt(state: &AppState, req: &RequestRow) -> Result<(), AppError> {
    if !state.config.sms_texts || req.requester_phone.trim().is_empty() {
        return Ok(());
    }
    let code = req.query_code.clone().unwrap_or_default();
    let urgent = req.time_limit_class.as_deref() == Some("emergency");
    let payload =
        serde_json::json!({ "number": req.number, "kind": "receipt", "query_code": code });
    let mut tx = state.store.begin().await?;
    let vars = [("number", req.number.as_str()), ("code", code.as_str())];
    enqueue(state, &mut tx, req, "receipt", payload, &vars, urgent).await?;
    tx.commit().await?;
    Ok(())
}

/// Asks the requester to rate a replied request by SMS (短信回访), in the caller's
/// transaction: the request stays out of the callback agents' queue until they answer or
/// `JIESU_SMS_RATING_HOURS` pass. Nothing when SMS texts are off or the text is withheld.
pub(crate) async fn ask_rating(
    state: &AppState,
    tx: &mut Tx,
    req: &RequestRow,
) -> Result<(), AppError> {
    if !state.config.sms_texts || state.config.sms_rating_hours == 0 {
        return Ok(());
    }
    let payload = serde_json::json!({ "number": req.number, "kind": "rating" });
    let vars = [("number", req.number.as_str())];
    if enqueue(state, tx, req, "rating", payload, &vars, false)
        .await?
        .is_some()
    {
        sms::ask_rating(tx, &req.id, req.round, state.clock.now()).await?;
    }
    Ok(())
}
