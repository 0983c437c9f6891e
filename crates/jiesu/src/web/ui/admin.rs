//! Administration: users (list, add, disable and enable, reset passwords, end sessions) and read-only views of the reference data and the
//! versioned configuration — units, categories, the dispatch catalogue, time limits and KPI
//! rules, each version marked with when it came into force.

use super::i18n::Tr;
use super::{done, local_time, Ctx, FormData, Page, UiError, UiResult};
use crate::error::AppError;
use crate::services::accounts::{self, By, Change};
use crate::services::units::UnitFilter;
use crate::services::{auth, calendar, catalogue, directory, open311, AppState};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::response::IntoResponse;
use jiesu_core::access::Action;
use jiesu_core::kpi::KpiRules;
use jiesu_core::time_limit::CalendarDayKind;
use jiesu_core::Role;
use serde::Deserialize;

#[derive(Template, WebTemplate)]
#[template(path = "admin.html")]
struct AdminPage {
    ctx: Ctx,
    view: String,
    tabs: Vec<(&'static str, &'static str)>,
    headers: Vec<&'static str>,
    rows: Vec<Vec<String>>,
    note: String,
    roles: Vec<(&'static str, String)>,
    unit_levels: Vec<(&'static str, String)>,
    users: Vec<UserRow>,
    /// Open311 client keys (view `open311`).
    keys: Vec<KeyView>,
    /// A key just made: (client name, key), shown this once.
    new_key: Option<(String, String)>,
    /// Units view: whether each row's unit needs its manager's sign-off (签批), by row.
    signoff: Vec<bool>,
    /// Categories view: whether each row's category has 办结审核, by row.
    reply_review: Vec<bool>,
    /// Categories view: whether each row's replies need a photo (办结需附照片, issue 20).
    reply_photo: Vec<bool>,
    /// Limits and categories views: the classes there are (for the forms).
    limit_classes: Vec<String>,
    /// Categories view: the category whose edit form is open (`edit=`), as it is now.
    edit: Option<crate::services::categories::CategoryRecord>,
    /// Limits view: the form as sent and what is wrong with each field (after a refusal).
    draft: Draft,
    /// Units view: the changes dated ahead still waiting, with their cancel buttons.
    pending: Vec<super::admin_units::PendingView>,
}

/// A form sent back with the values typed and an error beside each wrong field.
#[derive(Default)]
struct Draft {
    values: Vec<(String, String)>,
    errors: Vec<(String, String)>,
}

impl AdminPage {
    /// What is wrong with `field` of the form just sent (empty when nothing).
    fn err(&self, field: &str) -> String {
        self.draft
            .errors
            .iter()
            .filter(|(f, _)| f == field)
            .map(|(_, m)| m.as_str())
            .collect::<Vec<_>>()
            .join("；")
    }

    /// Units view: whether row `i`'s unit needs its manager's sign-off.
    fn signoff_at(&self, i: impl std::borrow::Borrow<usize>) -> Option<bool> {
        self.signoff.get(*i.borrow()).copied()
    }

    /// Categories view: whether row `i`'s category has 办结审核.
    fn review_at(&self, i: impl std::borrow::Borrow<usize>) -> Option<bool> {
        self.reply_review.get(*i.borrow()).copied()
    }

    /// Categories view: whether row `i`'s replies need a photo.
    fn photo_at(&self, i: impl std::borrow::Borrow<usize>) -> Option<bool> {
        self.reply_photo.get(*i.borrow()).copied()
    }

    /// The value typed into `field` of the form just sent.
    fn val(&self, field: &str) -> &str {
        self.draft
            .values
            .iter()
            .find(|(f, _)| f == field)
            .map(|(_, v)| v.as_str())
            .unwrap_or("")
    }
}

/// A row of the Open311 keys view.
struct KeyView {
    id: String,
    name: String,
    created: String,
    revoked: String,
    live: bool,
}

/// A row of the users view with what its buttons need.
struct UserRow {
    cells: Vec<String>,
    username: String,
    active: bool,
}

/// The admin page's query.
#[derive(Deserialize)]
pub struct AdminParams {
    view: Option<String>,
    level: Option<String>,
    /// Units view: a piece of a code or name.
    q: Option<String>,
    /// Units view: `active` (default), `closed` or `all`.
    state: Option<String>,
    /// Categories view: the code whose edit form to open.
    #[serde(default)]
    pub(super) edit: Option<String>,
}

pub(super) fn admin_only(page: &Page) -> Result<(), UiError> {
    if page.actor.may(Action::Administer) {
        Ok(())
    } else {
        Err(UiError(AppError::Forbidden("administration")))
    }
}

/// One view of the page: column headers, rows, and a note under the table.
struct Table {
    headers: Vec<&'static str>,
    rows: Vec<Vec<String>>,
    note: String,
}

impl Table {
    fn new(headers: Vec<&'static str>, rows: Vec<Vec<String>>) -> Self {
        Table {
            headers,
            rows,
            note: String::new(),
        }
    }
}

/// The views and their tab labels, in tab order; the first is the default.
const VIEWS: [(&str, &str); 8] = [
    ("users", "admin.users"),
    ("open311", "admin.open311"),
    ("units", "admin.units"),
    ("categories", "admin.categories"),
    ("catalogue", "admin.catalogue"),
    ("limits", "admin.limits"),
    ("calendar", "admin.calendar"),
    ("rules", "admin.rules"),
];

/// `GET /ui/admin?view=users|units|categories|catalogue|limits|calendar|rules`.
pub async fn page(State(s): State<AppState>, page: Page, Query(q): Query<AdminParams>) -> UiResult {
    admin_only(&page)?;
    render(&s, page, q, None).await
}

async fn render(
    s: &AppState,
    page: Page,
    q: AdminParams,
    new_key: Option<(String, String)>,
) -> UiResult {
    render_with(s, page, q, new_key, Draft::default()).await
}

async fn render_with(
    s: &AppState,
    page: Page,
    q: AdminParams,
    new_key: Option<(String, String)>,
    draft: Draft,
) -> UiResult {
    let tr = page.ctx.tr;
    let view = q
        .view
        .clone()
        .filter(|v| VIEWS.iter().any(|(k, _)| k == v))
        .unwrap_or_else(|| VIEWS[0].0.into());
    let keys = if view == "open311" {
        key_rows(s).await?
    } else {
        Vec::new()
    };
    let users = if view == "users" {
        user_rows(s, tr).await?
    } else {
        Vec::new()
    };
    let mut signoff = Vec::new();
    let mut reply_review = Vec::new();
    let mut reply_photo = Vec::new();
    let pending = if view == "units" {
        super::admin_units::pending(s, tr).await?
    } else {
        Vec::new()
    };
    let table = match view.as_str() {
        "units" => {
            let mut t = units(s, tr, &q).await?;
            let on = crate::services::subwork::signoff_units(s).await?;
            t.headers.push(tr.s("admin.signoff"));
            for r in &mut t.rows {
                let required = on.contains(&r[0]);
                r.push(yes_no(tr, required));
                signoff.push(required);
            }
            t
        }
        "categories" => {
            let mut t = categories(s, tr).await?;
            let text = q.q.clone().unwrap_or_default().trim().to_lowercase();
            if !text.is_empty() {
                // Columns: code, name (in the page's language), …
                t.rows
                    .retain(|r| r.iter().take(2).any(|c| c.to_lowercase().contains(&text)));
            }
            let on: std::collections::HashSet<String> =
                crate::services::reply_reviews::flagged(s, &page.actor)
                    .await?
                    .into_iter()
                    .collect();
            let photo: std::collections::HashSet<String> =
                crate::services::attachments::photo_categories(s)
                    .await?
                    .into_iter()
                    .collect();
            t.headers.push(tr.s("admin.reply_review"));
            t.headers.push(tr.s("admin.reply_requires_photo"));
            for r in &mut t.rows {
                let checked = on.contains(&r[0]);
                let needs = photo.contains(&r[0]);
                r.push(yes_no(tr, checked));
                r.push(yes_no(tr, needs));
                reply_review.push(checked);
                reply_photo.push(needs);
            }
            // The 办结审核 and 附照片 switches' columns, then the edit link's.
            t.headers.push("");
            t.headers.push("");
            t.headers.push(tr.s("admin.category_edit"));
            t.note = tr.s("admin.categories_note").to_string();
            t
        }
        "catalogue" => catalogue_rules(s, tr).await?,
        "limits" => limits(s, tr).await?,
        "calendar" => calendar_days(s, tr).await?,
        "rules" => rules(s, tr).await?,
        _ => Table::new(Vec::new(), Vec::new()),
    };
    let tabs = VIEWS.iter().map(|(k, label)| (*k, tr.s(label))).collect();
    let roles = Role::ALL
        .iter()
        .map(|r| (r.as_str(), tr.of("role", r.as_str())))
        .collect();
    let unit_levels = crate::services::units::LEVELS
        .into_iter()
        .map(|l| (l, tr.of("unit_level", l)))
        .collect();
    let edit = match (view.as_str(), q.edit.as_deref()) {
        ("categories", Some(code)) => {
            match crate::services::categories::history(s, code.trim()).await {
                Ok(h) => Some(h.category),
                Err(AppError::NotFound(_)) => None,
                Err(e) => return Err(UiError(e)),
            }
        }
        _ => None,
    };
    let limit_classes = if view == "limits" || view == "categories" {
        let mut c: Vec<String> = directory::time_limits(s)
            .await?
            .into_iter()
            .map(|v| v.class)
            .collect();
        c.dedup();
        c
    } else {
        Vec::new()
    };
    let refused = !draft.errors.is_empty();
    let mut resp = AdminPage {
        ctx: page.ctx,
        view,
        tabs,
        headers: table.headers,
        rows: table.rows,
        note: table.note,
        roles,
        unit_levels,
        users,
        keys,
        new_key,
        signoff,
        reply_review,
        reply_photo,
        limit_classes,
        edit,
        draft,
        pending,
    }
    .into_response();
    if refused {
        *resp.status_mut() = axum::http::StatusCode::UNPROCESSABLE_ENTITY;
    }
    Ok(resp)
}

async fn key_rows(s: &AppState) -> Result<Vec<KeyView>, AppError> {
    Ok(open311::keys::list(s)
        .await?
        .into_iter()
        .map(|k| KeyView {
            live: k.revoked_at.is_none(),
            revoked: k.revoked_at.map(|t| local_time(s, t)).unwrap_or_default(),
            created: local_time(s, k.created_at),
            id: k.id,
            name: k.name,
        })
        .collect())
}

/// `POST /ui/admin/open311/keys` (field `name`): makes a key and shows it this once.
pub async fn add_key(State(s): State<AppState>, page: Page, f: FormData) -> UiResult {
    admin_only(&page)?;
    let name = f.text("name");
    let (_, key) = open311::keys::add(&s, &page.actor.user_id, &name).await?;
    let q = AdminParams {
        view: Some("open311".into()),
        level: None,
        q: None,
        state: None,
        edit: None,
    };
    render(&s, page, q, Some((name.trim().to_string(), key))).await
}

/// `POST /ui/admin/open311/keys/{id}/revoke`.
pub async fn revoke_key(State(s): State<AppState>, page: Page, Path(id): Path<String>) -> UiResult {
    admin_only(&page)?;
    open311::keys::revoke(&s, &page.actor.user_id, &id).await?;
    Ok(done("/ui/admin?view=open311", "open311_key_revoked"))
}

fn yes_no(tr: Tr, b: bool) -> String {
    tr.s(if b { "common.yes" } else { "common.no" }).to_string()
}

async fn user_rows(s: &AppState, tr: Tr) -> Result<Vec<UserRow>, AppError> {
    Ok(auth::list_users(s)
        .await?
        .into_iter()
        .map(|u| UserRow {
            cells: vec![
                u.username.clone(),
                tr.of("role", u.role.as_str()),
                u.unit_code.clone().unwrap_or_default(),
                local_time(s, u.created_at),
                yes_no(tr, u.active),
            ],
            username: u.username,
            active: u.active,
        })
        .collect())
}

/// The units view: filtered by `q`, `level` and `state` (districts when nothing is asked).
async fn units(s: &AppState, tr: Tr, q: &AdminParams) -> Result<Table, AppError> {
    let text = q.q.clone().unwrap_or_default().trim().to_string();
    let level = match q.level.clone().filter(|l| !l.is_empty()) {
        Some(l) => l,
        None if text.is_empty() => "district".into(),
        None => String::new(),
    };
    let state = match q.state.as_deref().unwrap_or("active") {
        "all" => "",
        "closed" => "closed",
        _ => "active",
    };
    let filter = UnitFilter {
        q: text,
        level,
        parent: String::new(),
        state: state.into(),
    };
    let pending = crate::services::unit_schedule::pending_days(s).await?;
    let quiet = crate::services::unit_quiet::all(s).await?;
    let rows = crate::services::units::list(s, &filter, 2000)
        .await?
        .into_iter()
        .map(|u| {
            let quiet_hours = quiet
                .get(&u.code)
                .cloned()
                .unwrap_or_else(|| tr.s("admin.sms_quiet_default").to_string());
            let mut state = match (&u.merged_into, u.active) {
                (Some(m), _) => tr.s("admin.unit_merged").replace("{unit}", m),
                (None, true) => tr.s("admin.unit_active").to_string(),
                (None, false) => tr.s("admin.unit_closed").to_string(),
            };
            // A change dated ahead shows beside the state (its day, the city's).
            if let Some(day) = pending.get(&u.code) {
                state = format!(
                    "{state} · {}",
                    tr.s("admin.unit_scheduled").replace("{day}", day)
                );
            }
            vec![
                u.code,
                u.name,
                u.short_name,
                tr.of("unit_level", &u.level),
                u.parent_code.unwrap_or_default(),
                u.duty_phone,
                u.liaison_name,
                u.liaison_phone,
                quiet_hours,
                state,
            ]
        })
        .collect();
    let headers = vec![
        tr.s("admin.unit_code"),
        tr.s("admin.name"),
        tr.s("admin.short_name"),
        tr.s("admin.level"),
        tr.s("admin.parent"),
        tr.s("admin.duty_phone"),
        tr.s("admin.liaison"),
        tr.s("admin.liaison_phone"),
        tr.s("admin.sms_quiet_hours"),
        tr.s("admin.state"),
    ];
    let mut table = Table::new(headers, rows);
    table.note = tr.s("admin.units_note").to_string();
    Ok(table)
}

/// `POST /ui/admin/units` (code, name, short_name, level, parent_code, contacts): adds a unit.
pub async fn add_unit(State(s): State<AppState>, page: Page, f: FormData) -> UiResult {
    admin_only(&page)?;
    let input = crate::services::units::NewUnit {
        code: f.text("code"),
        name: f.text("name"),
        short_name: f.text("short_name"),
        level: f.text("level"),
        parent_code: f.opt("parent_code"),
        duty_phone: f.text("duty_phone"),
        liaison_name: f.text("liaison_name"),
        liaison_phone: f.text("liaison_phone"),
    };
    let u = crate::services::units::add(&s, By::User(&page.actor), &input).await?;
    Ok(done(&unit_view(&u.code), "unit_saved"))
}

fn unit_view(code: &str) -> String {
    format!("/ui/admin?view=units&state=all&q={code}")
}

/// `POST /ui/admin/units/edit` (code; the fields filled change, `active` 1/0 closes or
/// reopens), `…/merge` (code, into), `…/close` (code).
pub async fn change_unit(
    State(s): State<AppState>,
    page: Page,
    Path(verb): Path<String>,
    f: FormData,
) -> UiResult {
    admin_only(&page)?;
    let code = f.text("code");
    let by = By::User(&page.actor);
    match verb.as_str() {
        "merge" => {
            crate::services::units::merge(&s, by, &code, &f.text("into")).await?;
        }
        "close" => {
            crate::services::units::close(&s, by, &code).await?;
        }
        "edit" => {
            let change = crate::services::units::UnitChange {
                name: f.opt("name"),
                short_name: f.opt("short_name"),
                level: f.opt("level"),
                parent_code: f.opt("parent_code"),
                duty_phone: f.opt("duty_phone"),
                liaison_name: f.opt("liaison_name"),
                liaison_phone: f.opt("liaison_phone"),
                active: match f.text("active").as_str() {
                    "1" => Some(true),
                    "0" => Some(false),
                    _ => None,
                },
                effective_from: f.opt("effective_from"),
                sms_quiet_hours: f.opt("sms_quiet_hours"),
            };
            crate::services::units::change(&s, by, &code, &change).await?;
        }
        _ => return Err(UiError(AppError::NotFound("page"))),
    }
    Ok(done(&unit_view(&code), "unit_saved"))
}

async fn categories(s: &AppState, tr: Tr) -> Result<Table, AppError> {
    let rows = directory::categories(s)
        .await?
        .into_iter()
        .map(|c| {
            let name = if tr.is_en() { c.name_en } else { c.name };
            let state = if c.active {
                "admin.category_active"
            } else {
                "admin.category_inactive"
            };
            vec![
                c.code,
                name,
                c.level.to_string(),
                c.parent_code.unwrap_or_default(),
                c.default_unit_code.unwrap_or_default(),
                c.time_limit_class,
                tr.s(state).to_string(),
            ]
        })
        .collect();
    let headers = vec![
        tr.s("field.category"),
        tr.s("admin.name"),
        tr.s("field.level"),
        tr.s("admin.parent"),
        tr.s("admin.default_unit"),
        tr.s("field.time_limit_class"),
        tr.s("admin.state"),
    ];
    Ok(Table::new(headers, rows))
}

async fn catalogue_rules(s: &AppState, tr: Tr) -> Result<Table, AppError> {
    let rows = catalogue::list(s)
        .await?
        .into_iter()
        .map(|r| {
            let units = r
                .rule
                .units
                .iter()
                .map(|u| format!("{}:{}", u.unit, u.role.as_str()))
                .collect::<Vec<_>>()
                .join(" ");
            vec![
                r.rule.category_code,
                r.rule.area_code,
                units,
                r.note,
                local_time(s, r.created_at),
            ]
        })
        .collect();
    let headers = vec![
        tr.s("field.category"),
        tr.s("admin.area"),
        tr.s("admin.units"),
        tr.s("field.note"),
        tr.s("admin.since"),
    ];
    Ok(Table {
        note: tr.s("admin.catalogue_note").to_string(),
        ..Table::new(headers, rows)
    })
}

/// The listed days of this year and the next (节假日 and 调休), newest year last.
async fn calendar_days(s: &AppState, tr: Tr) -> Result<Table, AppError> {
    use chrono::Datelike;
    let year = s.clock.now().with_timezone(&s.config.offset()).year();
    let mut rows = Vec::new();
    for y in [year, year + 1] {
        for d in calendar::list_year(s, y).await? {
            rows.push(vec![
                d.date.to_string(),
                tr.of("calendar.kind", d.kind.as_str()),
                d.name,
                tr.of("calendar.source", &d.source),
                d.updated_by,
            ]);
        }
    }
    let headers = vec![
        tr.s("admin.date"),
        tr.s("admin.day_kind"),
        tr.s("admin.name"),
        tr.s("admin.source"),
        tr.s("admin.set_by"),
    ];
    let mut table = Table::new(headers, rows);
    table.note = tr.s("admin.calendar_note").to_string();
    Ok(table)
}

/// `POST /ui/admin/calendar` (fields `date`, `kind`, `name`): sets one day.
pub async fn set_calendar_day(State(s): State<AppState>, page: Page, f: FormData) -> UiResult {
    admin_only(&page)?;
    let kind = CalendarDayKind::parse(&f.text("kind"))
        .ok_or_else(|| AppError::invalid("kind", "err.calendar.kind_holiday_or_workday"))?;
    let day = calendar::DayInput {
        date: f.text("date"),
        kind,
        name: f.text("name"),
    };
    calendar::set_days(&s, By::User(&page.actor), &[day], true).await?;
    Ok(done("/ui/admin?view=calendar", "calendar_day_set"))
}

/// The fields of the new time-limit version form, in order.
const LIMIT_FIELDS: [&str; 7] = [
    "class",
    "name_zh",
    "name_en",
    "acknowledge_minutes",
    "reply_minutes",
    "day_kind",
    "effective_from",
];

/// `POST /ui/admin/limits` (class, name_zh, name_en, acknowledge_minutes, reply_minutes,
/// day_kind, effective_from as local `YYYY-MM-DDTHH:MM` or empty for now): adds a version of
/// a class through the time-limit service (an event; orders keep the limits they were given).
/// A refusal shows the page again with the values typed and each error beside its field.
pub async fn add_limit(State(s): State<AppState>, page: Page, f: FormData) -> UiResult {
    admin_only(&page)?;
    let mut errors: Vec<crate::error::FieldError> = Vec::new();
    let mut minutes = |field: &str, key: &str| match f.text(field).parse::<i64>() {
        Ok(n) => n,
        Err(_) => {
            errors.push(crate::error::FieldError::of(field, key));
            0
        }
    };
    let acknowledge_minutes = minutes("acknowledge_minutes", "err.limits.minutes");
    let reply_minutes = minutes("reply_minutes", "err.limits.reply_minutes");
    let effective_from = match f.opt("effective_from") {
        None => None,
        Some(v) => match chrono::NaiveDateTime::parse_from_str(&v, "%Y-%m-%dT%H:%M")
            .ok()
            .and_then(|t| t.and_local_timezone(s.config.offset()).single())
        {
            Some(t) => Some(t.with_timezone(&chrono::Utc)),
            None => {
                errors.push(crate::error::FieldError::of(
                    "effective_from",
                    "err.limits.effective_from_format",
                ));
                None
            }
        },
    };
    let input = crate::services::limits::LimitInput {
        class: f.text("class"),
        name_zh: f.text("name_zh"),
        name_en: f.text("name_en"),
        acknowledge_minutes,
        reply_minutes,
        day_kind: f.text("day_kind"),
        effective_from,
    };
    if !errors.is_empty() {
        // Name every wrong field at once, not only the ones the form could not read.
        for e in crate::services::limits::check(&input, s.clock.now()) {
            if !errors.iter().any(|x| x.field == e.field) {
                errors.push(e);
            }
        }
    }
    let result = if errors.is_empty() {
        crate::services::limits::add_version(&s, By::User(&page.actor), &input)
            .await
            .map(|_| ())
    } else {
        Err(AppError::Invalid(errors))
    };
    match result {
        Ok(()) => Ok(done("/ui/admin?view=limits", "limit_added")),
        Err(e) if !e.fields().is_empty() || matches!(e, AppError::Conflict(_)) => {
            let en = page.ctx.tr.is_en();
            let errors = if e.fields().is_empty() {
                vec![("effective_from".to_string(), e.message(en))]
            } else {
                e.fields()
                    .iter()
                    .map(|x| {
                        let m = if en { &x.message_en } else { &x.message };
                        (x.field.clone(), m.clone())
                    })
                    .collect()
            };
            let values = LIMIT_FIELDS
                .iter()
                .map(|k| (k.to_string(), f.text(k)))
                .collect();
            let q = AdminParams {
                view: Some("limits".into()),
                level: None,
                q: None,
                state: None,
                edit: None,
            };
            render_with(&s, page, q, None, Draft { values, errors }).await
        }
        Err(e) => Err(UiError(e)),
    }
}

/// `POST /ui/admin/units/signoff/{code}` (field `required` 1/0): whether the unit's replies
/// wait for its manager's sign-off (签批); an event.
pub async fn set_unit_signoff(
    State(s): State<AppState>,
    page: Page,
    Path(code): Path<String>,
    f: FormData,
) -> UiResult {
    admin_only(&page)?;
    let required = match f.text("required").as_str() {
        "1" => true,
        "0" => false,
        _ => {
            return Err(UiError(AppError::invalid(
                "required",
                "err.admin.signoff_required",
            )))
        }
    };
    crate::services::subwork::set_signoff_required(&s, &page.actor, &code, required).await?;
    Ok(done(&unit_view(&code), "unit_saved"))
}

/// The field `on` of a category switch: 1 or 0, else a 422 naming it.
fn on_off(f: &FormData) -> Result<bool, UiError> {
    match f.text("on").as_str() {
        "1" => Ok(true),
        "0" => Ok(false),
        _ => Err(UiError(AppError::invalid(
            "on",
            "err.admin.reply_review_on",
        ))),
    }
}

/// `POST /ui/admin/categories/reply-review/{code}` (field `on` 1/0): whether the center
/// checks replies on the category before the callback (办结审核); an event.
pub async fn set_category_review(
    State(s): State<AppState>,
    page: Page,
    Path(code): Path<String>,
    f: FormData,
) -> UiResult {
    admin_only(&page)?;
    let on = on_off(&f)?;
    crate::services::reply_reviews::set_category(&s, &page.actor, &code, on).await?;
    Ok(done(
        &format!("/ui/admin?view=categories&q={code}"),
        "category_saved",
    ))
}

/// `POST /ui/admin/categories/evidence/{code}` (field `on` 1/0): whether a reply on the
/// category needs a photo (办结需附照片, issue 20); an event.
pub async fn set_category_evidence(
    State(s): State<AppState>,
    page: Page,
    Path(code): Path<String>,
    f: FormData,
) -> UiResult {
    admin_only(&page)?;
    let on = on_off(&f)?;
    crate::services::attachments::set_evidence_rule(&s, &page.actor, &code, on).await?;
    Ok(done(
        &format!("/ui/admin?view=categories&q={code}"),
        "category_saved",
    ))
}

async fn limits(s: &AppState, tr: Tr) -> Result<Table, AppError> {
    let now = s.clock.now();
    let all = directory::time_limits(s).await?;
    let rows = all
        .iter()
        .map(|v| {
            let in_force = v.effective_from <= now
                && !all.iter().any(|o| {
                    o.class == v.class
                        && o.effective_from > v.effective_from
                        && o.effective_from <= now
                });
            let name = if tr.is_en() { &v.name_en } else { &v.name_zh };
            vec![
                v.class.clone(),
                name.clone(),
                v.acknowledge_minutes.to_string(),
                v.reply_minutes.to_string(),
                v.day_kind.clone(),
                local_time(s, v.effective_from),
                yes_no(tr, in_force),
            ]
        })
        .collect();
    let headers = vec![
        tr.s("admin.class"),
        tr.s("admin.name"),
        tr.s("admin.ack_minutes"),
        tr.s("admin.reply_minutes"),
        tr.s("admin.day_kind"),
        tr.s("admin.since"),
        tr.s("admin.in_force"),
    ];
    Ok(Table::new(headers, rows))
}

async fn rules(s: &AppState, tr: Tr) -> Result<Table, AppError> {
    let now = s.clock.now();
    let all = directory::kpi_rules(s).await?;
    let current = all.iter().rposition(|v| v.effective_from <= now);
    let row = |r: &KpiRules, since: String, in_force: bool| {
        vec![
            r.version.clone(),
            format!(
                "{} / {} / {}",
                r.w_response, r.w_resolution, r.w_satisfaction
            ),
            r.basic_weight.to_string(),
            r.class_size.to_string(),
            since,
            yes_no(tr, in_force),
        ]
    };
    let mut rows: Vec<Vec<String>> = all
        .iter()
        .enumerate()
        .map(|(i, v)| {
            row(
                &v.rules,
                local_time(s, v.effective_from),
                Some(i) == current,
            )
        })
        .collect();
    if rows.is_empty() {
        rows.push(row(&KpiRules::default(), "—".into(), true));
    }
    let headers = vec![
        tr.s("admin.version"),
        tr.s("admin.weights"),
        tr.s("admin.basic_weight"),
        tr.s("admin.class_size"),
        tr.s("admin.since"),
        tr.s("admin.in_force"),
    ];
    Ok(Table::new(headers, rows))
}

/// `POST /ui/admin/users`.
pub async fn add_user(State(s): State<AppState>, page: Page, f: FormData) -> UiResult {
    admin_only(&page)?;
    let role = Role::parse(&f.text("role"))
        .ok_or_else(|| AppError::invalid("role", "err.admin.no_such_role"))?;
    let password =
        f.0.iter()
            .find(|(k, _)| k == "password")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
    accounts::create_user_by(
        &s,
        By::User(&page.actor),
        &f.text("username"),
        role,
        f.opt("unit").as_deref(),
        &password,
    )
    .await?;
    Ok(done("/ui/admin?view=users", "user_added"))
}

/// `POST /ui/admin/users/{username}/{verb}`: `disable`, `enable`, `revoke` (sessions) or
/// `password` (field `password`).
pub async fn change_user(
    State(s): State<AppState>,
    page: Page,
    Path((username, verb)): Path<(String, String)>,
    f: FormData,
) -> UiResult {
    admin_only(&page)?;
    let by = By::User(&page.actor);
    let done_key = match verb.as_str() {
        "disable" => change(&s, by, &username, Change::Disable, "user_disabled").await?,
        "enable" => change(&s, by, &username, Change::Enable, "user_enabled").await?,
        "revoke" => {
            change(
                &s,
                by,
                &username,
                Change::RevokeSessions,
                "sessions_revoked",
            )
            .await?
        }
        "password" => {
            let password =
                f.0.iter()
                    .find(|(k, _)| k == "password")
                    .map(|(_, v)| v.as_str());
            accounts::reset_password(&s, by, &username, password.unwrap_or("")).await?;
            "password_reset"
        }
        _ => return Err(UiError(AppError::NotFound("page"))),
    };
    Ok(done("/ui/admin?view=users", done_key))
}

async fn change(
    s: &AppState,
    by: By<'_>,
    username: &str,
    c: Change,
    done_key: &'static str,
) -> Result<&'static str, AppError> {
    accounts::change_user(s, by, username, c).await?;
    Ok(done_key)
}
