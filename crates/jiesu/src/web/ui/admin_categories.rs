//! The admin page's category forms (`/ui/admin?view=categories`): add a category, and the
//! edit form of one row (`edit=CODE`: name, parent, time-limit class, active, 办结审核,
//! effective date). Both go through `services::categories` (an event and a version each).

use super::admin::admin_only;
use super::{done, FormData, Page, UiError, UiResult};
use crate::error::AppError;
use crate::services::accounts::By;
use crate::services::categories::{self, CategoryChange, NewCategory};
use crate::services::AppState;
use axum::extract::State;

fn view(code: &str) -> String {
    format!("/ui/admin?view=categories&q={code}&edit={code}")
}

/// `POST /ui/admin/categories` (code, name, name_en, parent_code, time_limit_class,
/// default_unit_code, keywords, reply_review 1/0, valid_from as local `YYYY-MM-DDTHH:MM` or
/// empty for now): adds a category, in force at once or announced for its day.
pub async fn add(State(s): State<AppState>, page: Page, f: FormData) -> UiResult {
    admin_only(&page)?;
    let input = NewCategory {
        code: f.text("code"),
        name: f.text("name"),
        name_en: f.text("name_en"),
        parent_code: f.opt("parent_code"),
        time_limit_class: f.text("time_limit_class"),
        default_unit_code: f.opt("default_unit_code"),
        keywords: f.text("keywords"),
        reply_review: f.flag("reply_review"),
        valid_from: valid_from(&s, &f)?,
    };
    let c = categories::add(&s, By::User(&page.actor), &input).await?;
    Ok(done(&view(&c.code), "category_saved"))
}

/// The form's `valid_from` (local `YYYY-MM-DDTHH:MM`; None when empty: now).
fn valid_from(
    s: &AppState,
    f: &FormData,
) -> Result<Option<chrono::DateTime<chrono::Utc>>, UiError> {
    let Some(v) = f.opt("valid_from") else {
        return Ok(None);
    };
    chrono::NaiveDateTime::parse_from_str(&v, "%Y-%m-%dT%H:%M")
        .ok()
        .and_then(|t| t.and_local_timezone(s.config.offset()).single())
        .map(|t| Some(t.with_timezone(&chrono::Utc)))
        .ok_or_else(|| {
            UiError(AppError::invalid(
                "valid_from",
                "err.categories.valid_from_format",
            ))
        })
}

/// A yes/no select: None when left at "—".
fn yes_no(f: &FormData, name: &str) -> Option<bool> {
    match f.text(name).as_str() {
        "1" => Some(true),
        "0" => Some(false),
        _ => None,
    }
}

/// `POST /ui/admin/categories/edit` (code; name, name_en, parent_code, time_limit_class,
/// keywords, active 1/0, reply_review 1/0, valid_from as local `YYYY-MM-DDTHH:MM` or empty
/// for now): the fields that differ change, from that date.
pub async fn change(State(s): State<AppState>, page: Page, f: FormData) -> UiResult {
    admin_only(&page)?;
    let code = f.text("code");
    let valid_from = valid_from(&s, &f)?;
    let input = CategoryChange {
        name: f.opt("name"),
        name_en: f.opt("name_en"),
        parent_code: Some(f.text("parent_code")),
        time_limit_class: f.opt("time_limit_class"),
        default_unit_code: Some(f.text("default_unit_code")),
        keywords: Some(f.text("keywords")),
        reply_review: yes_no(&f, "reply_review"),
        active: yes_no(&f, "active"),
        valid_from,
    };
    categories::change(&s, By::User(&page.actor), &code, &input).await?;
    Ok(done(&view(&code), "category_saved"))
}
