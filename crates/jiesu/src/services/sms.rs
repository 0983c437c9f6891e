//! SMS to and from requesters (issue 19). Every requester message is written to the outbox
//! from an editable template; with SMS texts on (`JIESU_SMS_TEXTS`) a receipt goes out at
//! intake and a rating request (短信回访) when a request is replied, under the rules every
//! real sender needs: opt-out (回复TD退订), quiet hours, a daily cap per number. What the
//! gateway passes back (MO texts, delivery reports) is handled here too; the sending itself is
//! the outbox job's, through the configured sender.

use super::AppState;
use crate::error::AppError;
use crate::store::requests::RequestRow;
use crate::store::{outbox, sms, Tx};
use chrono::{DateTime, Duration, Utc};
use jiesu_core::{Actor, CallbackInput, PhoneNumber, Role, Satisfaction};

pub use crate::store::sms::Template;

/// The actor of what SMS does on its own: callbacks from the requester's text, held texts.
pub const SMS_ACTOR: &str = "sms";

fn sms_actor() -> Actor {
    Actor {
        user_id: SMS_ACTOR.into(),
        username: SMS_ACTOR.into(),
        // A rating by SMS is a callback (回访), recorded as an agent would.
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
    use chrono::Timelike;
    let Some((from, to)) = state.config.sms_quiet_hours else {
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

/// A requester's answer to the rating text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SmsRating {
    /// 满意度.
    pub satisfaction: Satisfaction,
    /// 是否解决, when the text said.
    pub resolved: Option<bool>,
}

/// Reads a rating answer: "1", "1 Y", "3N", "2，是", "满意", "不满意 未解决"…; `None` when the
/// text is anything else (kept and put before an agent).
pub fn parse_rating(text: &str) -> Option<SmsRating> {
    let mut rest: String = text
        .chars()
        .filter(|c| !c.is_whitespace() && !",，;；:：.。!！、/".contains(*c))
        .collect::<String>()
        .to_uppercase();
    let satisfaction = if let Some(r) = rest.strip_prefix('1') {
        rest = r.into();
        Satisfaction::Satisfied
    } else if let Some(r) = rest.strip_prefix('2') {
        rest = r.into();
        Satisfaction::Basic
    } else if let Some(r) = rest.strip_prefix('3') {
        rest = r.into();
        Satisfaction::Unsatisfied
    } else {
        let words = [
            ("不满意", Satisfaction::Unsatisfied),
            ("基本满意", Satisfaction::Basic),
            ("非常满意", Satisfaction::Satisfied),
            ("满意", Satisfaction::Satisfied),
        ];
        let (word, s) = words.iter().find(|(w, _)| rest.starts_with(w))?;
        rest = rest[word.len()..].to_string();
        *s
    };
    let resolved = match rest.as_str() {
        "" => None,
        "Y" | "是" | "已解决" | "解决" => Some(true),
        "N" | "否" | "未解决" | "没解决" | "没有解决" => Some(false),
        _ => return None,
    };
    Some(SmsRating {
        satisfaction,
        resolved,
    })
}

/// Whether a text asks to stop texts (回复TD退订).
pub fn is_opt_out(text: &str) -> bool {
    let t: String = text.chars().filter(|c| !c.is_whitespace()).collect();
    t.eq_ignore_ascii_case("TD") || t == "退订"
}

/// What became of a text from a phone.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Inbound {
    /// TD: nothing more is sent to the number.
    OptedOut,
    /// A good rating: recorded as the callback (channel `sms`); the request closed.
    Callback,
    /// Unsatisfied or unresolved: the request is in the callback agents' queue.
    Queued,
    /// Not a rating the platform understands: kept, the request in the agents' queue.
    Unparsed,
    /// No request waits for a rating from this number: kept only.
    Unmatched,
}

/// Handles a text from `from` passed on by the gateway (MO).
pub async fn inbound(state: &AppState, from: &str, text: &str) -> Result<Inbound, AppError> {
    let phone = PhoneNumber::parse(from).map_err(|_| AppError::invalid("from", "err.sms.from"))?;
    if text.chars().count() > 1000 {
        return Err(AppError::invalid("text", "err.sms.text"));
    }
    let (now, actor) = (state.clock.now(), sms_actor());
    let mut tx = state.store.begin().await?;
    if is_opt_out(text) {
        if sms::opt_out(&mut tx, phone.as_str(), now).await? {
            let mut e = state.event(&actor, "", None, "sms.opted_out").build();
            e.request_id = None;
            e.payload = serde_json::json!({ "phone": phone.masked() });
            tx.event(e);
        }
        sms::record_inbound(&mut tx, &phone.masked(), text, None, "opted_out", now).await?;
        tx.commit().await?;
        return Ok(Inbound::OptedOut);
    }
    let Some(waiting) = sms::awaiting_from(&mut tx, phone.as_str()).await? else {
        sms::record_inbound(&mut tx, &phone.masked(), text, None, "unmatched", now).await?;
        tx.commit().await?;
        return Ok(Inbound::Unmatched);
    };
    let rating = parse_rating(text);
    let good = rating.map(|r| {
        let resolved = r
            .resolved
            .unwrap_or(r.satisfaction != Satisfaction::Unsatisfied);
        (r, resolved && r.satisfaction != Satisfaction::Unsatisfied)
    });
    let outcome = match good {
        None => Inbound::Unparsed,
        Some((_, false)) => Inbound::Queued,
        Some((_, true)) => Inbound::Callback,
    };
    let (status, kept) = match outcome {
        Inbound::Unparsed => ("unparsed", "unparsed"),
        Inbound::Queued => ("unhappy", "queued"),
        _ => ("answered", "callback"),
    };
    sms::answer_rating(&mut tx, &waiting.id, status, text, now).await?;
    sms::record_inbound(
        &mut tx,
        &phone.masked(),
        text,
        Some(&waiting.request_id),
        kept,
        now,
    )
    .await?;
    if outcome != Inbound::Callback {
        state
            .event(&actor, &waiting.request_id, None, "sms.rating")
            .payload(serde_json::json!({
                "text": text, "outcome": kept,
                "satisfaction": rating.map(|r| r.satisfaction.as_str()),
                "resolved": rating.and_then(|r| r.resolved),
            }))
            .record(&mut tx);
    }
    tx.commit().await?;
    if let Some((r, true)) = good {
        let input = CallbackInput {
            reached: true,
            resolved: Some(true),
            satisfaction: Some(r.satisfaction),
            note: Some(format!("短信回访 / SMS: {text}")),
        };
        super::callback::record_via(state, &actor, &waiting.request_id, input, "sms").await?;
    }
    Ok(outcome)
}

/// Applies a delivery report from the gateway to outbox message `id`; an event on the
/// request's timeline when it settles the message. `false` for an unknown message.
pub async fn delivery_report(state: &AppState, id: &str, code: i64) -> Result<bool, AppError> {
    let mut tx = state.store.begin().await?;
    let Some(request_id) = sms::delivery_report(&mut tx, id, code, state.clock.now()).await? else {
        return Ok(false);
    };
    let settled = match code {
        1 => Some("delivered"),
        2 | 16 => Some("failed"),
        _ => None,
    };
    if let Some(status) = settled {
        state
            .event(&sms_actor(), &request_id, None, "sms.delivery")
            .payload(serde_json::json!({ "message_id": id, "status": status, "code": code }))
            .record(&mut tx);
    }
    tx.commit().await?;
    Ok(true)
}

/// The templates (admins).
pub async fn templates(state: &AppState, actor: &Actor) -> Result<Vec<Template>, AppError> {
    super::require(actor, jiesu_core::access::Action::Administer)?;
    Ok(sms::templates(state.store.reader()).await?)
}

/// Longest template text, in characters: an SMS is 70 UCS-2 characters, a few parts at most.
const MAX_TEMPLATE_CHARS: usize = 300;

/// Replaces a template's texts (admins); an event records the change.
pub async fn set_template(
    state: &AppState,
    actor: &Actor,
    kind: &str,
    zh: &str,
    en: &str,
) -> Result<Template, AppError> {
    super::require(actor, jiesu_core::access::Action::Administer)?;
    for (field, text) in [("zh", zh), ("en", en)] {
        let n = text.trim().chars().count();
        if n == 0 || n > MAX_TEMPLATE_CHARS {
            return Err(AppError::invalid(field, "err.sms.template_length"));
        }
    }
    let mut tx = state.store.begin().await?;
    let before = sms::template(&mut tx, kind)
        .await?
        .ok_or(AppError::NotFound("sms template"))?;
    let t = Template {
        kind: kind.to_string(),
        zh: zh.trim().to_string(),
        en: en.trim().to_string(),
        updated_by: actor.user_id.clone(),
        updated_at: state.clock.now(),
    };
    sms::set_template(&mut tx, &t).await?;
    let mut e = state.event(actor, "", None, "sms.template_changed").build();
    e.request_id = None;
    e.payload = serde_json::json!({ "kind": kind, "before": { "zh": before.zh, "en": before.en }, "after": { "zh": t.zh, "en": t.en } });
    tx.event(e);
    tx.commit().await?;
    Ok(t)
}

/// Whether `given` is the configured inbound secret, compared in constant time. No secret
/// configured: nothing is.
pub fn secret_matches(state: &AppState, given: Option<&str>) -> bool {
    use secrecy::ExposeSecret;
    use subtle::ConstantTimeEq;
    match (&state.config.sms_secret, given) {
        (Some(want), Some(given)) => {
            bool::from(want.expose_secret().as_bytes().ct_eq(given.as_bytes()))
        }
        _ => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rating_answers_are_read_in_the_forms_requesters_type() {
        use Satisfaction::*;
        let cases: &[(&str, Option<(Satisfaction, Option<bool>)>)] = &[
            ("1", Some((Satisfied, None))),
            ("1 Y", Some((Satisfied, Some(true)))),
            ("1y", Some((Satisfied, Some(true)))),
            ("2，是", Some((Basic, Some(true)))),
            ("3N", Some((Unsatisfied, Some(false)))),
            (" 3 n ", Some((Unsatisfied, Some(false)))),
            ("满意", Some((Satisfied, None))),
            ("基本满意 已解决", Some((Basic, Some(true)))),
            ("不满意，未解决", Some((Unsatisfied, Some(false)))),
            ("1 N", Some((Satisfied, Some(false)))),
            ("4", None),
            ("你好", None),
            ("1 谢谢", None),
            ("", None),
        ];
        for (text, want) in cases {
            let got = parse_rating(text).map(|r| (r.satisfaction, r.resolved));
            assert_eq!(got, *want, "{text:?}");
        }
    }

    #[test]
    fn td_and_tuiding_opt_out_and_nothing_else_does() {
        assert!(is_opt_out("TD"));
        assert!(is_opt_out(" td "));
        assert!(is_opt_out("退订"));
        assert!(!is_opt_out("TD 1"));
        assert!(!is_opt_out("1"));
    }

    #[test]
    fn templates_fill_their_variables() {
        assert_eq!(
            render(
                "编号{number}，查询码{code}",
                &[("number", "20261102-000001"), ("code", "AB12CD")]
            ),
            "编号20261102-000001，查询码AB12CD"
        );
    }
}
