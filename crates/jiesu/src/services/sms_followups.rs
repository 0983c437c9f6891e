//! The follow-up call after an unhappy SMS rating (issue 19). "3 N" by SMS is recorded as the
//! callback (channel `sms`) and sends the request to rework at once (`services::sms`); every
//! unhappy requester still gets a call from an agent, who sees what they wrote. The call is
//! kept on the rating (an event `sms.follow_up`), not as a second callback: the three rates
//! count the requester's answer once.

use super::views::{requester_view, RequesterView};
use super::AppState;
use crate::error::AppError;
use crate::store::{requests, sms_followups};
use chrono::{DateTime, Utc};
use jiesu_core::access::Action;
use jiesu_core::Actor;
use serde::{Deserialize, Serialize};

/// A follow-up call due.
#[derive(Debug, Clone, Serialize)]
pub struct FollowUp {
    /// The rating's id (the follow-up's).
    pub id: String,
    /// The request.
    pub request_id: String,
    /// Its number.
    pub number: String,
    /// Its title.
    pub title: String,
    /// Its status now (in rework, usually).
    pub status: String,
    /// The round the requester rated.
    pub round: i64,
    /// What they wrote (短信回复).
    pub answer: String,
    /// When.
    pub answered_at: DateTime<Utc>,
    /// The requester as the actor may see them (callback agents: the phone in full).
    pub requester: Option<RequesterView>,
}

/// Follow-up calls due, oldest answer first (callback agents and the center).
pub async fn due(state: &AppState, actor: &Actor, limit: i64) -> Result<Vec<FollowUp>, AppError> {
    if !actor.may(Action::Callback) {
        return Err(AppError::Forbidden("callbacks"));
    }
    let pool = state.store.reader();
    let mut out = Vec::new();
    for f in sms_followups::due(pool, limit.clamp(1, 500)).await? {
        let Some(r) = requests::get(pool, &f.request_id).await? else {
            continue;
        };
        out.push(FollowUp {
            requester: requester_view(actor, &r),
            id: f.id,
            request_id: r.id,
            number: r.number,
            title: r.title,
            status: r.status.as_str().to_string(),
            round: f.round,
            answer: f.answer,
            answered_at: f.answered_at,
        });
    }
    Ok(out)
}

/// What the agent records after the follow-up call.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct FollowUpInput {
    /// Whether the requester was reached; an unreached call leaves the follow-up due.
    pub reached: bool,
    /// What was said.
    #[serde(default)]
    pub note: Option<String>,
}

/// Records the follow-up call on rating `id`: `true` when done (reached), `false` when it
/// stays due (not reached). An event either way; no callback row.
pub async fn record(
    state: &AppState,
    actor: &Actor,
    id: &str,
    input: &FollowUpInput,
) -> Result<bool, AppError> {
    super::require(actor, Action::Callback)?;
    let note = input.note.as_deref().unwrap_or("").trim().to_string();
    if note.chars().count() > 5000 {
        return Err(AppError::invalid("note", "err.sms.follow_up_note"));
    }
    let mut tx = state.store.begin().await?;
    let (f, done) = sms_followups::get(&mut tx, id)
        .await?
        .ok_or(AppError::NotFound("follow-up"))?;
    if done {
        return Err(AppError::Conflict(
            "this follow-up call has already been made".into(),
        ));
    }
    let now = state.clock.now();
    if input.reached && !sms_followups::mark_done(&mut tx, id, &actor.user_id, &note, now).await? {
        return Err(AppError::Conflict(
            "this follow-up call has already been made".into(),
        ));
    }
    state
        .event(actor, &f.request_id, None, "sms.follow_up")
        .payload(serde_json::json!({
            "rating_id": id, "round": f.round, "reached": input.reached, "note": note,
            "answer": f.answer,
        }))
        .record(&mut tx);
    tx.commit().await?;
    Ok(input.reached)
}
