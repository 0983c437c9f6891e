//! The admin page's list of unit changes dated ahead (`/ui/admin?view=units`): each pending
//! change with its unit, day and what it changes, and a button that cancels it before its day
//! (`services::unit_schedule::cancel`, event `unit.change_cancelled`).

use super::i18n::Tr;
use super::{done, FormData, Page, UiResult};
use crate::error::AppError;
use crate::services::accounts::By;
use crate::services::{unit_schedule, AppState};
use axum::extract::{Path, State};

/// A pending dated change as the page shows it.
pub(super) struct PendingView {
    pub id: String,
    pub code: String,
    pub day: String,
    pub what: String,
}

/// Every pending dated change, by day.
pub(super) async fn pending(s: &AppState, tr: Tr) -> Result<Vec<PendingView>, AppError> {
    let offset = s.config.offset();
    Ok(unit_schedule::pending(s)
        .await?
        .into_iter()
        .map(|c| {
            let what = c
                .change
                .as_object()
                .map(|m| {
                    m.iter()
                        .filter(|(_, v)| !v.is_null())
                        .map(|(k, v)| match v {
                            serde_json::Value::String(t) => format!("{k}={t}"),
                            other => format!("{k}={other}"),
                        })
                        .collect::<Vec<_>>()
                        .join(", ")
                })
                .unwrap_or_default();
            PendingView {
                day: c
                    .effective_from
                    .with_timezone(&offset)
                    .date_naive()
                    .to_string(),
                what: if what.is_empty() {
                    tr.s("admin.unit_change_nothing").to_string()
                } else {
                    what
                },
                id: c.id,
                code: c.code,
            }
        })
        .collect())
}

/// `POST /ui/admin/units/changes/{id}/cancel` (code): cancels a pending dated change.
pub async fn cancel(
    State(s): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    f: FormData,
) -> UiResult {
    // The service refuses anyone but an administrator (403).
    let code = f.text("code");
    unit_schedule::cancel(&s, By::User(&page.actor), &code, &id).await?;
    Ok(done(
        &format!("/ui/admin?view=units&state=all&q={code}"),
        "unit_change_cancelled",
    ))
}
