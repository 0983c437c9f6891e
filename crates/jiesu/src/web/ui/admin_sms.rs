//! The SMS templates page (`/ui/admin/sms`, issue 19): every text sent to requesters and
//! units, in Chinese and English, each with its edit form; a refused text (the length check)
//! comes back on the page beside its template with what was typed. Changes go through
//! `services::sms::set_template` (an event each).

use super::admin::admin_only;
use super::{done, Ctx, FormData, Page, UiResult};
use crate::error::AppError;
use crate::services::{sms, AppState};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::IntoResponse;

/// One template as shown, with what was typed and what is wrong after a refusal.
struct Row {
    kind: String,
    zh: String,
    en: String,
    zh_len: usize,
    en_len: usize,
    updated: String,
    error: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "admin_sms.html")]
struct SmsPage {
    ctx: Ctx,
    rows: Vec<Row>,
}

async fn render(
    s: &AppState,
    page: Page,
    refused: Option<(String, String, String, String)>,
) -> UiResult {
    let mut rows = Vec::new();
    for t in sms::templates(s, &page.actor).await? {
        let updated = if t.updated_by == "system" {
            String::new()
        } else {
            format!("{} {}", t.updated_by, super::local_time(s, t.updated_at))
        };
        let (zh, en, error) = match &refused {
            Some((kind, zh, en, error)) if *kind == t.kind => {
                (zh.clone(), en.clone(), error.clone())
            }
            _ => (t.zh, t.en, String::new()),
        };
        rows.push(Row {
            zh_len: zh.trim().chars().count(),
            en_len: en.trim().chars().count(),
            kind: t.kind,
            zh,
            en,
            updated,
            error,
        });
    }
    let status = if refused.is_some() {
        StatusCode::UNPROCESSABLE_ENTITY
    } else {
        StatusCode::OK
    };
    Ok((
        status,
        SmsPage {
            ctx: page.ctx,
            rows,
        },
    )
        .into_response())
}

/// `GET /ui/admin/sms`.
pub async fn page(State(s): State<AppState>, page: Page) -> UiResult {
    admin_only(&page)?;
    render(&s, page, None).await
}

/// `POST /ui/admin/sms` (kind, zh, en): replaces a template's texts; refused, the page again
/// with the error beside the template.
pub async fn save(State(s): State<AppState>, page: Page, f: FormData) -> UiResult {
    admin_only(&page)?;
    let (kind, zh, en) = (f.text("kind"), f.text("zh"), f.text("en"));
    match sms::set_template(&s, &page.actor, &kind, &zh, &en).await {
        Ok(_) => Ok(done("/ui/admin/sms", "sms_template_saved")),
        Err(e @ AppError::Invalid(_)) => {
            let en_ui = page.ctx.tr.is_en();
            let error = e
                .fields()
                .iter()
                .map(|x| {
                    let m = if en_ui { &x.message_en } else { &x.message };
                    format!("{}: {m}", x.field)
                })
                .collect::<Vec<_>>()
                .join("；");
            render(&s, page, Some((kind, zh, en, error))).await
        }
        Err(e) => Err(e.into()),
    }
}
