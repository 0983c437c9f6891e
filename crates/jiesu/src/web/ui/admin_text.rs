//! The text models page (`/ui/admin/text`, issue 22): the learned models with how each was
//! judged against the model in force, a rollback button, and production accuracy by week and
//! the categories where suggestions are often overruled. Changes go through
//! `services::learning` (an event each).

use super::admin::admin_only;
use super::{done, Ctx, Page, UiResult};
use crate::services::accounts::By;
use crate::services::suggest::AccuracyPart;
use crate::services::{learning, suggest, AppState};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::response::IntoResponse;

/// One model as shown.
struct Row {
    id: String,
    state: String,
    source: String,
    created: String,
    trained: i64,
    held: i64,
    score: String,
    incumbent: String,
    reason: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin_text.html")]
struct TextPage {
    ctx: Ctx,
    rows: Vec<Row>,
    can_roll_back: bool,
    weeks: Vec<AccuracyPart>,
    overruled: Vec<AccuracyPart>,
}

fn pct(kept: &usize, n: &usize) -> String {
    if *n == 0 {
        "-".into()
    } else {
        format!("{:.0}%", *kept as f64 * 100.0 / *n as f64)
    }
}

/// `GET /ui/admin/text`.
pub async fn page(State(s): State<AppState>, page: Page) -> UiResult {
    admin_only(&page)?;
    let figure = |v: Option<f64>| v.map_or("-".into(), |v| format!("{v:.3}"));
    let models = learning::list(&s).await?;
    let can_roll_back = models
        .iter()
        .any(|m| m.state == learning::ModelState::Active && m.previous_id.is_some());
    let rows = models
        .into_iter()
        .map(|m| Row {
            state: serde_json::to_value(m.state)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            created: super::local_time(&s, m.created_at),
            trained: m.trained_examples,
            held: m.eval_examples,
            score: figure(m.score),
            incumbent: figure(m.incumbent_score),
            reason: m.metrics["reason"].as_str().unwrap_or("").to_string(),
            source: m.source,
            id: m.id,
        })
        .collect();
    let to = s.clock.now();
    let acc = suggest::accuracy(&s, to - chrono::Duration::weeks(8), to).await?;
    Ok(TextPage {
        ctx: page.ctx,
        rows,
        can_roll_back,
        weeks: acc.by_week,
        overruled: acc.overruled,
    }
    .into_response())
}

/// `POST /ui/admin/text/rollback`: puts the model before back in force.
pub async fn rollback(State(s): State<AppState>, page: Page) -> UiResult {
    admin_only(&page)?;
    learning::rollback(&s, By::User(&page.actor)).await?;
    Ok(done("/ui/admin/text", "text_model_rolled_back"))
}
