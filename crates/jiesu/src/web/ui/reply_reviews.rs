//! 办结审核 in the pages: the center (dispatcher, supervisor, admin) lists the replies waiting
//! for its check, each with the unit's reply, and approves or sends one back with a reason.

use super::{done, local_time, Ctx, FormData, Page, UiResult};
use crate::error::AppError;
use crate::services::reply_reviews::{self, Decision, DecisionInput};
use crate::services::{views, AppState};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use jiesu_core::access::Action;

/// One pending check as the page shows it.
struct CheckLine {
    id: String,
    request_id: String,
    number: String,
    title: String,
    unit: String,
    replied: String,
    outcome: String,
    to_requester: String,
    to_center: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "reply_reviews.html")]
struct ChecksPage {
    ctx: Ctx,
    checks: Vec<CheckLine>,
    categories: Vec<String>,
}

/// `GET /ui/reply-reviews`: the replies waiting for the center's check.
pub async fn page(State(s): State<AppState>, page: Page) -> UiResult {
    if !page.actor.may(Action::ReviewReturn) {
        return Err(AppError::Forbidden("checking replies").into());
    }
    let tr = page.ctx.tr;
    let pending = reply_reviews::list(&s, &page.actor, Some("pending")).await?;
    let categories = reply_reviews::flagged(&s, &page.actor).await?;
    let mut checks = Vec::with_capacity(pending.len());
    for r in pending.into_iter().take(200) {
        let req = views::get(&s, &page.actor, &r.request_id).await?;
        let order = req.assignments.iter().find(|a| a.id == r.assignment_id);
        checks.push(CheckLine {
            replied: local_time(&s, r.replied_at),
            outcome: order
                .and_then(|o| o.outcome)
                .map(|o| tr.of("outcome", o.as_str()))
                .unwrap_or_default(),
            to_requester: order
                .and_then(|o| o.reply_to_requester.clone())
                .unwrap_or_default(),
            to_center: order
                .and_then(|o| o.reply_to_center.clone())
                .unwrap_or_default(),
            id: r.id,
            request_id: r.request_id,
            number: req.number,
            title: req.title,
            unit: r.unit_code,
        });
    }
    Ok(ChecksPage {
        ctx: page.ctx,
        checks,
        categories,
    }
    .into_response())
}

/// `POST /ui/reply-reviews/{id}/decision`: approve, or send back with a reason.
pub async fn decide(
    State(s): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    f: FormData,
) -> UiResult {
    let decision = match f.opt("decision").as_deref() {
        Some("approve") => Decision::Approve,
        Some("send_back") => Decision::SendBack,
        _ => {
            return Err(AppError::invalid(
                "decision",
                "err.reply_review.decision_approve_or_send_back",
            )
            .into())
        }
    };
    let input = DecisionInput {
        decision,
        reason: f.opt("reason"),
    };
    reply_reviews::decide(&s, &page.actor, &id, input).await?;
    let what = match decision {
        Decision::Approve => "reply_review_approved",
        Decision::SendBack => "reply_review_sent_back",
    };
    Ok(done("/ui/reply-reviews", what))
}
