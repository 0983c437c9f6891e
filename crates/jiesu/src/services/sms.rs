//! What the SMS gateway passes back (issue 19): texts from phones (MO: opt-outs, answers to
//! the rating text, recorded as callbacks or queued for an agent) and delivery reports; and
//! the admin's templates. Writing texts is `services::sms_texts`.

use super::sms_texts::sms_actor;
use super::AppState;
use crate::error::AppError;
use crate::store::sms;
use jiesu_core::{Actor, CallbackInput, PhoneNumber, Satisfaction};

pub use crate::store::sms::Template;

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
    /// Unsatisfied or unresolved: recorded as the callback (channel `sms`), the request sent
    /// to rework (二次办理) as after an unhappy phone callback, and an agent's follow-up call
    /// queued (`services::sms_followups`).
    Rework,
    /// Unsatisfied or unresolved, but the callback could not be recorded (a reply waiting
    /// for the center's check): the request is in the callback agents' queue.
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
        Some((_, false)) => Inbound::Rework,
        Some((_, true)) => Inbound::Callback,
    };
    let (status, kept) = match outcome {
        Inbound::Unparsed => ("unparsed", "unparsed"),
        Inbound::Rework => ("followup", "rework"),
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
    let Some((r, good)) = good else {
        return Ok(outcome);
    };
    // The answer is the callback, good or bad: a bad one sends the request round again just
    // as an agent's unhappy callback does; the agent's follow-up call is not a second one.
    let input = CallbackInput {
        reached: true,
        resolved: Some(r.resolved.unwrap_or(good)),
        satisfaction: Some(r.satisfaction),
        note: Some(format!("短信回访 / SMS: {text}")),
    };
    let recorded =
        super::callback::record_via(state, &actor, &waiting.request_id, input, "sms").await;
    match recorded {
        Ok(_) => Ok(outcome),
        Err(AppError::Conflict(why)) if !good => {
            // Not recordable now: the request stays for an agent's callback instead.
            tracing::warn!(request = %waiting.request_id, %why, "sms rating not recorded as the callback");
            let mut tx = state.store.begin().await?;
            sms::set_rating_status(&mut tx, &waiting.id, "unhappy").await?;
            tx.commit().await?;
            Ok(Inbound::Queued)
        }
        Err(e) => Err(e),
    }
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
        type Case = (&'static str, Option<(Satisfaction, Option<bool>)>);
        let cases: &[Case] = &[
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
            super::super::sms_texts::render(
                "编号{number}，查询码{code}",
                &[("number", "20261102-000001"), ("code", "AB12CD")]
            ),
            "编号20261102-000001，查询码AB12CD"
        );
    }
}
