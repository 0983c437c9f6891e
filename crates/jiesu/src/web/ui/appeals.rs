//! Assessment appeals (考核申诉) in the pages: a unit manager files one from the workbench and
//! sees the outcomes there; the center's appeals page lists them with grant and refuse.

use super::{done, local_time, FormData, Page, UiResult};
use crate::error::AppError;
use crate::services::appeals::{
    self, Appeal, AppealInput, AppealStatus, Decision, DecisionInput, Part,
};
use crate::services::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use jiesu_core::access::Action;

/// One appeal as a page shows it.
pub struct AppealLine {
    pub id: String,
    pub request_id: String,
    pub unit: String,
    pub part: String,
    pub month: String,
    pub reason: String,
    pub evidence: String,
    pub status_key: String,
    pub status: String,
    pub filed: String,
    pub decision_reason: String,
    pub open: bool,
}

/// Appeals as lines in the page's language, each unit by its name.
pub async fn lines(
    s: &AppState,
    tr: super::i18n::Tr,
    list: Vec<Appeal>,
) -> Result<Vec<AppealLine>, AppError> {
    let names =
        crate::services::directory::unit_names(s, list.iter().map(|a| a.unit_code.as_str()))
            .await?;
    Ok(list
        .into_iter()
        .map(|a| AppealLine {
            open: a.status == AppealStatus::Open,
            part: tr.of("appeal_part", a.part.as_str()),
            status: tr.of("appeal_status", a.status.as_str()),
            status_key: a.status.as_str().to_string(),
            filed: local_time(s, a.filed_at),
            id: a.id,
            request_id: a.request_id,
            unit: names.of(&a.unit_code),
            month: a.month,
            reason: a.reason,
            evidence: a.evidence.unwrap_or_default(),
            decision_reason: a.decision_reason.unwrap_or_default(),
        })
        .collect())
}

#[derive(Template, WebTemplate)]
#[template(path = "appeals.html")]
struct AppealsPage {
    ctx: super::Ctx,
    appeals: Vec<AppealLine>,
    decide: bool,
}

/// `GET /ui/appeals`: every appeal, open ones first (center roles; grant and refuse for
/// supervisors and the administrator).
pub async fn page(State(s): State<AppState>, page: Page) -> UiResult {
    if !page.actor.may(Action::Supervise) {
        // Units see their appeals on the workbench.
        return Err(AppError::Forbidden("deciding appeals").into());
    }
    let tr = page.ctx.tr;
    let mut list = appeals::list(&s, &page.actor, Some("open"), None).await?;
    list.extend(
        appeals::list(&s, &page.actor, None, None)
            .await?
            .into_iter()
            .filter(|a| a.status != AppealStatus::Open)
            .take(200),
    );
    Ok(AppealsPage {
        appeals: lines(&s, tr, list).await?,
        // Dispatchers read the list; supervisors and the administrator decide.
        decide: page.actor.may(Action::DecideAppeal),
        ctx: page.ctx,
    }
    .into_response())
}

/// `POST /ui/orders/{id}/appeal`: a unit manager files an appeal.
pub async fn file(
    State(s): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    f: FormData,
) -> UiResult {
    let part = match f.opt("part").as_deref() {
        Some("response") => Part::Response,
        Some("resolution") => Part::Resolution,
        Some("satisfaction") => Part::Satisfaction,
        _ => {
            return Err(AppError::invalid(
                "part",
                "err.appeal.part_must_be_response_resolution_or_satisfaction",
            )
            .into())
        }
    };
    let input = AppealInput {
        part,
        reason: f.opt("reason").unwrap_or_default(),
        evidence: f.opt("evidence"),
    };
    appeals::file(&s, &page.actor, &id, input).await?;
    Ok(done("/ui/unit", "appealed"))
}

/// `POST /ui/appeals/{id}/decision`: the center grants or refuses.
pub async fn decide(
    State(s): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    f: FormData,
) -> UiResult {
    let decision = if f.flag("grant") {
        Decision::Grant
    } else {
        Decision::Refuse
    };
    let input = DecisionInput {
        decision,
        reason: f.opt("reason"),
    };
    appeals::decide(&s, &page.actor, &id, input).await?;
    let what = match decision {
        Decision::Grant => "appeal_granted",
        Decision::Refuse => "appeal_refused",
    };
    Ok(done("/ui/appeals", what))
}
