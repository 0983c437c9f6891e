//! The caller's history in the pages (issue 23): the intake desk's history panel for the
//! number being typed (earlier requests, the open one on the same problem first with "记为催办",
//! an abusive-caller mark in force), and the supervisors' page of abusive-caller marks
//! (恶意来电) with this month's repeat-caller counts.

use super::{done, local_time, Ctx, FormData, Page, UiResult};
use crate::error::AppError;
use crate::services::callers::{self, CallTopic, MarkInput};
use crate::services::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::{Html, IntoResponse};
use jiesu_core::access::Action;
use jiesu_core::PhoneNumber;

/// One earlier request, shown.
pub struct PastV {
    id: String,
    number: String,
    title: String,
    status: String,
    category: String,
    unit: String,
    date: String,
    open: bool,
    same_problem: bool,
    reminders: i64,
}

/// One mark, shown.
pub struct MarkV {
    id: String,
    phone: String,
    reason: String,
    expires: String,
}

fn mark_v(s: &AppState, m: callers::MarkView) -> MarkV {
    MarkV {
        id: m.id,
        phone: m.phone,
        reason: m.reason,
        expires: local_time(s, m.expires_at),
    }
}

#[derive(Template)]
#[template(path = "intake_history.html")]
struct HistoryPanel {
    ctx: Ctx,
    phone: String,
    past: Vec<PastV>,
    marks: Vec<MarkV>,
    may_remind: bool,
}

/// `POST /ui/intake/history` (htmx): the panel for the number typed so far; nothing until
/// it is a whole number.
pub async fn history(State(s): State<AppState>, page: Page, f: FormData) -> UiResult {
    if !page.actor.may(Action::CallerHistory) {
        return Err(AppError::Forbidden("the caller's history").into());
    }
    let phone = f.text("phone");
    if PhoneNumber::parse(&phone).is_err() {
        let hint = page.ctx.tr.s("callers.hint");
        return Ok(Html(format!("<p class=\"muted\">{hint}</p>")).into_response());
    }
    let (text, category) = (f.text("text"), f.text("category_code"));
    let topic = CallTopic {
        text: Some(&text),
        category_code: Some(&category),
    };
    let h = callers::history(&s, &page.actor, &phone, topic).await?;
    let tr = page.ctx.tr;
    let past = h
        .requests
        .into_iter()
        .map(|r| PastV {
            status: tr.of("status", &r.status),
            category: r.category_code.unwrap_or_default(),
            unit: r.unit_name.or(r.unit_code).unwrap_or_default(),
            date: local_time(&s, r.created_at),
            id: r.id,
            number: r.number,
            title: r.title,
            open: r.open,
            same_problem: r.same_problem,
            reminders: r.reminders,
        })
        .collect();
    let html = HistoryPanel {
        may_remind: page.actor.may(Action::Remind),
        marks: h.marks.into_iter().map(|m| mark_v(&s, m)).collect(),
        phone: h.phone,
        past,
        ctx: page.ctx,
    }
    .render()
    .map_err(|e| AppError::Internal(e.into()))?;
    Ok(Html(html).into_response())
}

#[derive(Template, WebTemplate)]
#[template(path = "callers.html")]
struct MarksPage {
    ctx: Ctx,
    marks: Vec<MarkV>,
    stats: callers::CallerStats,
}

/// `GET /ui/callers`: the marks in force, a form to add one, and this month's counts.
pub async fn page(State(s): State<AppState>, page: Page) -> UiResult {
    let marks = callers::marks(&s, &page.actor).await?;
    let stats = callers::stats(&s, &page.actor, None, None).await?;
    Ok(MarksPage {
        marks: marks.into_iter().map(|m| mark_v(&s, m)).collect(),
        stats,
        ctx: page.ctx,
    }
    .into_response())
}

/// `POST /ui/callers/marks`: marks a number.
pub async fn mark(State(s): State<AppState>, page: Page, f: FormData) -> UiResult {
    let input = MarkInput {
        phone: f.text("phone"),
        reason: f.text("reason"),
        expires_at: f.text("expires_at"),
    };
    callers::mark(&s, &page.actor, input).await?;
    Ok(done("/ui/callers", "caller_marked"))
}

/// `POST /ui/callers/marks/{id}/lift`: lifts a mark.
pub async fn unmark(State(s): State<AppState>, page: Page, Path(id): Path<String>) -> UiResult {
    callers::unmark(&s, &page.actor, &id).await?;
    Ok(done("/ui/callers", "caller_unmarked"))
}
