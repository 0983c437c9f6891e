//! The callback workstation (回访): requests due for a callback with the requester's number
//! (callback agents see it in full), a short script, the three questions, and one click to
//! close or to send the request round again (二次办理).

use super::{done, Ctx, FormData, Page, UiError, UiResult};
use crate::error::AppError;
use crate::services::{callback, views, AppState};
use crate::store::{queues, requests};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use jiesu_core::access::Action;
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
}

#[derive(Template, WebTemplate)]
#[template(path = "callback.html")]
struct CallbackPage {
    ctx: Ctx,
    due: Vec<Due>,
}

/// `GET /ui/callback`.
pub async fn queue(State(s): State<AppState>, page: Page) -> UiResult {
    if !page.actor.may(Action::Callback) {
        return Err(UiError(AppError::Forbidden("callbacks")));
    }
    let pool = s.store.reader();
    let rows = queues::callback_due(pool, 50).await?;
    let mut due = Vec::with_capacity(rows.len());
    for r in rows {
        // A merged request's requester hears about the primary's replies.
        let source = r.primary_id.clone().unwrap_or_else(|| r.id.clone());
        let orders = requests::assignments_of(pool, &source).await?;
        let round = orders.iter().map(|a| a.round).max().unwrap_or(r.round);
        let codes: Vec<String> = orders.iter().map(|a| a.unit_code.clone()).collect();
        let names = queues::unit_names(pool, &codes).await?;
        let replies = orders
            .iter()
            .filter(|a| a.round == round)
            .filter_map(|a| {
                let text = a.reply_to_requester.clone()?;
                Some((names.get(&a.unit_code).cloned().unwrap_or_default(), text))
            })
            .collect();
        let who = views::requester_view(&page.actor, &r);
        due.push(Due {
            requester: who.as_ref().map(|w| w.name.clone()).unwrap_or_default(),
            phone: who.map(|w| w.phone).unwrap_or_default(),
            merged: r.status == "merged",
            id: r.id,
            number: r.number,
            title: r.title,
            round: r.round,
            attempts: r.callback_attempts,
            replies,
        });
    }
    Ok(CallbackPage { ctx: page.ctx, due }.into_response())
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
                AppError::field("satisfaction", "请选择满意度", "choose a satisfaction")
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
