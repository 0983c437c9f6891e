//! 小事不出社区 in the pages: community and village staff record a request they solved on the
//! spot (it still gets a callback); every unit user sees the month's tally of its own unit and
//! the units under it.

use super::{done, Ctx, FormData, Page, UiResult};
use crate::error::AppError;
use crate::services::community::{self, CommunityInput, CommunityRequester, TallyLine};
use crate::services::{units, AppState};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::response::IntoResponse;
use jiesu_core::request::RequestKind;
use jiesu_core::workflow::Outcome;

#[derive(Template, WebTemplate)]
#[template(path = "community.html")]
struct CommunityPage {
    ctx: Ctx,
    /// Whether the user's unit is a community or village (the form is shown).
    may_record: bool,
    kinds: Vec<(&'static str, String)>,
    outcomes: Vec<(&'static str, String)>,
    month: String,
    units: Vec<TallyLine>,
    streets: Vec<TallyLine>,
}

/// `GET /ui/community`: the form (community/village staff) and the month's tally.
pub async fn page(State(s): State<AppState>, page: Page) -> UiResult {
    let Some(unit) = page.actor.unit.as_ref() else {
        return Err(AppError::Forbidden("community requests: unit staff only").into());
    };
    let level = units::history(&s, &unit.code).await?.unit.level;
    let tr = page.ctx.tr;
    let month = s
        .clock
        .now()
        .with_timezone(&s.config.offset())
        .format("%Y-%m")
        .to_string();
    let (units, streets) = community::tally(&s, &page.actor, &month).await?;
    Ok(CommunityPage {
        may_record: ["community", "village"].contains(&level.as_str()),
        kinds: RequestKind::ALL
            .iter()
            .map(|k| (k.as_str(), tr.of("kind", k.as_str())))
            .collect(),
        outcomes: Outcome::ALL
            .iter()
            .map(|o| (o.as_str(), tr.of("outcome", o.as_str())))
            .collect(),
        ctx: page.ctx,
        month,
        units,
        streets,
    }
    .into_response())
}

/// `POST /ui/community`: records a request solved on the spot.
pub async fn record(State(s): State<AppState>, page: Page, f: FormData) -> UiResult {
    let kind = f
        .opt("kind")
        .and_then(|k| RequestKind::ALL.iter().copied().find(|x| x.as_str() == k))
        .ok_or_else(|| AppError::invalid("kind", "err.community.kind_unknown"))?;
    let outcome = match f.opt("outcome") {
        None => None,
        Some(o) => Some(
            Outcome::ALL
                .iter()
                .copied()
                .find(|x| x.as_str() == o)
                .ok_or_else(|| AppError::invalid("outcome", "err.community.outcome_unknown"))?,
        ),
    };
    let input = CommunityInput {
        kind,
        text: f.text("text"),
        title: f.opt("title"),
        address: f.text("address"),
        category_code: f.opt("category_code"),
        requester: CommunityRequester {
            name: f.text("requester_name"),
            phone: f.text("requester_phone"),
        },
        to_requester: f.text("to_requester"),
        to_center: f.text("to_center"),
        outcome,
    };
    community::record(&s, &page.actor, input).await?;
    Ok(done("/ui/community", "community_recorded"))
}
