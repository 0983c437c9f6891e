//! The callback workstation (回访): requests due for a callback with the requester's number
//! (callback agents see it in full), a short script, the three questions, and one click to
//! close or to send the request round again (二次办理).

use super::{done, Ctx, FormData, Page, UiResult};
use crate::error::AppError;
use crate::services::{callback, queues, sms_followups, AppState};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use jiesu_core::workflow::CallbackOutcome;
use jiesu_core::{CallbackInput, Satisfaction};

struct Due {
    id: String,
    number: String,
    title: String,
    round: i64,
    merged: bool,
    requester: String,
    phone: String,
    attempts: i64,
    replies: Vec<(String, String)>,
    /// The requester's answer to the rating text, when that sent the request here.
    sms_answer: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "callback.html")]
struct CallbackPage {
    ctx: Ctx,
    due: Vec<Due>,
    /// Follow-up calls after an unhappy SMS rating (already recorded, in rework).
    follow_ups: Vec<FollowUp>,
}

/// A follow-up call after an unhappy SMS rating.
struct FollowUp {
    id: String,
    request_id: String,
    number: String,
    title: String,
    status: String,
    requester: String,
    phone: String,
    answer: String,
    answered_at: String,
}

/// `GET /ui/callback`.
pub async fn queue(State(s): State<AppState>, page: Page) -> UiResult {
    let due = queues::callbacks_due(&s, &page.actor, 50)
        .await?
        .into_iter()
        .map(|d| Due {
            requester: d
                .requester
                .as_ref()
                .map(|w| w.name.clone())
                .unwrap_or_default(),
            phone: d.requester.map(|w| w.phone).unwrap_or_default(),
            merged: d.merged,
            id: d.id,
            number: d.number,
            title: d.title,
            round: d.round,
            attempts: d.attempts,
            sms_answer: d.sms_answer.unwrap_or_default(),
            replies: d
                .replies
                .into_iter()
                .map(|u| (u.unit_name, u.text))
                .collect(),
        })
        .collect();
    let follow_ups = sms_followups::due(&s, &page.actor, 50)
        .await?
        .into_iter()
        .map(|f| FollowUp {
            requester: f
                .requester
                .as_ref()
                .map(|w| w.name.clone())
                .unwrap_or_default(),
            phone: f.requester.map(|w| w.phone).unwrap_or_default(),
            answered_at: super::local_time(&s, f.answered_at),
            id: f.id,
            request_id: f.request_id,
            number: f.number,
            title: f.title,
            status: f.status,
            answer: f.answer,
        })
        .collect();
    Ok(CallbackPage {
        ctx: page.ctx,
        due,
        follow_ups,
    }
    .into_response())
}

fn callback_input(f: &FormData) -> Result<CallbackInput, AppError> {
    let note = f.opt("note");
    let answered = |resolved, s| CallbackInput {
        reached: true,
        resolved: Some(resolved),
        satisfaction: Some(s),
        note: note.clone(),
    };
    Ok(match f.text("preset").as_str() {
        "satisfied" => answered(true, Satisfaction::Satisfied),
        "basic" => answered(true, Satisfaction::Basic),
        "unsatisfied" => answered(false, Satisfaction::Unsatisfied),
        "unreached" => CallbackInput {
            reached: false,
            resolved: None,
            satisfaction: None,
            note,
        },
        _ if !f.flag("reached") => CallbackInput {
            reached: false,
            resolved: None,
            satisfaction: None,
            note,
        },
        _ => {
            let s = Satisfaction::parse(&f.text("satisfaction")).ok_or_else(|| {
                AppError::invalid("satisfaction", "err.callback.choose_a_satisfaction")
            })?;
            answered(f.flag("resolved"), s)
        }
    })
}

/// `POST /ui/requests/{id}/callback`.
pub async fn record(
    State(s): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    f: FormData,
) -> UiResult {
    let outcome = callback::record(&s, &page.actor, &id, callback_input(&f)?).await?;
    let what = match outcome {
        CallbackOutcome::Close => "closed",
        CallbackOutcome::CloseUnreachable => "closed_unreachable",
        CallbackOutcome::Retry => "retry",
        CallbackOutcome::Rework => "rework",
        CallbackOutcome::Recorded => "recorded",
    };
    Ok(done("/ui/callback", what))
}

/// `POST /ui/sms/follow-ups/{id}` (`reached` 1/0, `note`): the follow-up call after an
/// unhappy SMS rating.
pub async fn follow_up(
    State(s): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    f: FormData,
) -> UiResult {
    let input = sms_followups::FollowUpInput {
        reached: f.flag("reached"),
        note: f.opt("note"),
    };
    let done_it = sms_followups::record(&s, &page.actor, &id, &input).await?;
    let what = if done_it {
        "follow_up_done"
    } else {
        "follow_up_unreached"
    };
    Ok(done("/ui/callback", what))
}
