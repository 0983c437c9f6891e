//! The knowledge base in the pages (`/ui/kb…`, issue 23): the entries with filters and
//! paging, an entry with its history and the edit form, the workflow steps one by one or for
//! everything a filter matches, the entries to review (past validity, unused, often
//! unhelpful), and the operator's verdict on an answer (有用 / 没用) at the desk and on the
//! request it answered. Units keep the entries of their own domain (drafts); the center
//! reviews, publishes and expires. Everything goes through `services::kb`, an event each.

use super::{done, enc, local_time, Ctx, FormData, Page, UiError, UiResult};
use crate::error::AppError;
use crate::services::accounts::By;
use crate::services::kb::{self, Feedback, Filter, KbEntry, KbInput, StaleReason, StaleRules};
use crate::services::kb_import;
use crate::services::AppState;
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, Query, State};
use axum::response::{Html, IntoResponse};
use chrono::{DateTime, NaiveDate, Utc};
use jiesu_core::access::{Action, Actor};
use jiesu_core::kb::{is_keeper, KbStatus, KbStep};
use serde::Deserialize;

/// Entries a page.
const PAGE: i64 = 50;

/// Whether `actor` may open the knowledge-base pages: the center, unit staff, operators.
pub fn may_open(actor: &Actor) -> bool {
    is_keeper(actor) || actor.may(Action::Answer) || actor.unit.is_some()
}

fn open_only(page: &Page) -> Result<(), UiError> {
    if may_open(&page.actor) {
        Ok(())
    } else {
        Err(UiError(AppError::Forbidden("the knowledge base")))
    }
}

/// One entry, shown in a list.
pub struct RowV {
    id: String,
    title: String,
    category: String,
    unit: String,
    status: String,
    status_code: &'static str,
    version: i64,
    valid: String,
    updated: String,
}

fn day(s: &AppState, t: Option<DateTime<Utc>>) -> String {
    t.map(|t| local_time(s, t).get(..10).unwrap_or_default().to_string())
        .unwrap_or_default()
}

/// The last day an entry is valid (its `valid_until` is the midnight after it).
fn last_day(s: &AppState, t: Option<DateTime<Utc>>) -> String {
    day(s, t.map(|t| t - chrono::Duration::seconds(1)))
}

fn row_v(s: &AppState, tr: super::i18n::Tr, e: &KbEntry) -> RowV {
    let (from, until) = (day(s, e.valid_from), last_day(s, e.valid_until));
    RowV {
        id: e.id.clone(),
        title: e.title.clone(),
        category: e.category.clone(),
        unit: e.unit_code.clone().unwrap_or_default(),
        status: tr.of("kb_status", e.status.as_str()),
        status_code: e.status.as_str(),
        version: e.version,
        valid: if from.is_empty() && until.is_empty() {
            String::new()
        } else {
            format!("{from} – {until}")
        },
        updated: local_time(s, e.updated_at),
    }
}

/// The list's query: every field optional, blank meaning "any".
#[derive(Deserialize, Default)]
pub struct ListParams {
    status: Option<String>,
    title: Option<String>,
    category: Option<String>,
    /// A unit code; absent for unit staff means their own unit, blank means every unit.
    unit: Option<String>,
    /// 1-based page.
    page: Option<String>,
    /// How many entries a bulk step just moved (shown once).
    moved: Option<String>,
}

/// The filter as the form shows it again.
pub struct FilterV {
    status: String,
    title: String,
    category: String,
    unit: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "kb.html")]
struct ListPage {
    ctx: Ctx,
    f: FilterV,
    rows: Vec<RowV>,
    total: i64,
    page: i64,
    pages: i64,
    /// The query string of this filter without the page (`status=draft&title=…`).
    query: String,
    keeper: bool,
    may_write: bool,
    statuses: Vec<(&'static str, String)>,
    moved: Option<u64>,
}

fn blank_none(v: Option<&str>) -> Option<String> {
    v.map(str::trim)
        .filter(|v| !v.is_empty())
        .map(str::to_string)
}

fn status_of(v: Option<&str>, field: &str) -> Result<Option<KbStatus>, AppError> {
    match blank_none(v) {
        None => Ok(None),
        Some(s) => KbStatus::parse(&s)
            .map(Some)
            .ok_or_else(|| AppError::invalid(field, "err.kb.no_such_status")),
    }
}

/// `GET /ui/kb?status=&title=&category=&unit=&page=`.
pub async fn list(State(s): State<AppState>, page: Page, Query(p): Query<ListParams>) -> UiResult {
    open_only(&page)?;
    let actor = &page.actor;
    let unit = match &p.unit {
        Some(u) => u.trim().to_string(),
        None if !is_keeper(actor) => actor
            .unit
            .as_ref()
            .map(|u| u.code.clone())
            .unwrap_or_default(),
        None => String::new(),
    };
    let filter = Filter {
        status: status_of(p.status.as_deref(), "status")?,
        category: blank_none(p.category.as_deref()),
        unit_code: blank_none(Some(&unit)),
        source: None,
        title: blank_none(p.title.as_deref()),
    };
    let n: i64 = match blank_none(p.page.as_deref()) {
        None => 1,
        Some(v) => v
            .parse::<i64>()
            .ok()
            .filter(|n| (1..=100_000).contains(n))
            .ok_or_else(|| AppError::invalid("page", "err.kb.page"))?,
    };
    let (entries, total) = kb::list(&s, actor, &filter, PAGE, (n - 1) * PAGE).await?;
    let tr = page.ctx.tr;
    let f = FilterV {
        status: filter
            .status
            .map(|s| s.as_str().to_string())
            .unwrap_or_default(),
        title: filter.title.clone().unwrap_or_default(),
        category: filter.category.clone().unwrap_or_default(),
        unit,
    };
    let query = format!(
        "status={}&title={}&category={}&unit={}",
        enc(&f.status),
        enc(&f.title),
        enc(&f.category),
        enc(&f.unit)
    );
    let statuses = [
        KbStatus::Draft,
        KbStatus::Reviewed,
        KbStatus::Published,
        KbStatus::Expired,
    ]
    .into_iter()
    .map(|st| (st.as_str(), tr.of("kb_status", st.as_str())))
    .collect();
    Ok(ListPage {
        rows: entries.iter().map(|e| row_v(&s, tr, e)).collect(),
        total,
        page: n,
        pages: ((total + PAGE - 1) / PAGE).max(1),
        query,
        keeper: is_keeper(actor),
        may_write: is_keeper(actor) || actor.may(Action::Acknowledge),
        statuses,
        moved: p.moved.as_deref().and_then(|m| m.parse().ok()),
        f,
        ctx: page.ctx,
    }
    .into_response())
}

/// One line of an entry's history, shown.
pub struct VersionV {
    version: i64,
    status: String,
    title: String,
    by: String,
    at: String,
    batch: bool,
}

/// The edit form's values.
#[derive(Default)]
pub struct FormV {
    title: String,
    answer: String,
    tags: String,
    category: String,
    unit: String,
    source: String,
    valid_from: String,
    valid_until: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "kb_entry.html")]
struct EntryPage {
    ctx: Ctx,
    /// None for a new entry.
    id: Option<String>,
    row: Option<RowV>,
    form: FormV,
    history: Vec<VersionV>,
    keeper: bool,
    may_edit: bool,
    /// Steps this entry can take now, with their labels.
    steps: Vec<(&'static str, String)>,
}

fn steps_for(tr: super::i18n::Tr, status: KbStatus) -> Vec<(&'static str, String)> {
    [KbStep::Review, KbStep::Publish, KbStep::Expire]
        .into_iter()
        .filter(|st| jiesu_core::kb::step_status(status, *st).is_ok())
        .map(|st| (st.as_str(), tr.of("kb_step", st.as_str())))
        .collect()
}

/// `GET /ui/kb/new`: the form for a new entry.
pub async fn new_form(page: Page) -> UiResult {
    open_only(&page)?;
    let actor = &page.actor;
    if !(is_keeper(actor) || actor.may(Action::Acknowledge)) {
        return Err(UiError(AppError::Forbidden("keeping the knowledge base")));
    }
    let form = FormV {
        unit: actor
            .unit
            .as_ref()
            .map(|u| u.code.clone())
            .unwrap_or_default(),
        ..FormV::default()
    };
    Ok(EntryPage {
        id: None,
        row: None,
        form,
        history: Vec::new(),
        keeper: is_keeper(actor),
        may_edit: true,
        steps: Vec::new(),
        ctx: page.ctx,
    }
    .into_response())
}

/// `GET /ui/kb/{id}`: the entry, its history, the edit form where allowed.
pub async fn entry(State(s): State<AppState>, page: Page, Path(id): Path<String>) -> UiResult {
    open_only(&page)?;
    let actor = &page.actor;
    let e = kb::get_for(&s, actor, &id).await?;
    let tr = page.ctx.tr;
    let may_edit = kb::may_edit(&s, actor, &e).await?;
    let history = kb::history(&s, actor, &id)
        .await?
        .into_iter()
        .rev()
        .map(|v| VersionV {
            version: v.version,
            status: tr.of("kb_status", v.status.as_str()),
            title: v.title,
            by: v.changed_by_name,
            at: local_time(&s, v.changed_at),
            batch: v.batch_id.is_some(),
        })
        .collect();
    let form = FormV {
        title: e.title.clone(),
        answer: e.answer.clone(),
        tags: e.tags.join("，"),
        category: e.category.clone(),
        unit: e.unit_code.clone().unwrap_or_default(),
        source: e.source.clone(),
        valid_from: day(&s, e.valid_from),
        valid_until: last_day(&s, e.valid_until),
    };
    let keeper = is_keeper(actor);
    Ok(EntryPage {
        row: Some(row_v(&s, tr, &e)),
        steps: if keeper {
            steps_for(tr, e.status)
        } else {
            Vec::new()
        },
        id: Some(e.id),
        form,
        history,
        keeper,
        may_edit,
        ctx: page.ctx,
    }
    .into_response())
}

/// A date field as the start of that local day (`end`: the start of the day after, so the
/// day itself is included); blank is none.
fn date_field(
    s: &AppState,
    f: &FormData,
    name: &str,
    end: bool,
) -> Result<Option<DateTime<Utc>>, AppError> {
    let Some(v) = f.opt(name) else {
        return Ok(None);
    };
    let d = NaiveDate::parse_from_str(&v, "%Y-%m-%d")
        .map_err(|_| AppError::invalid(name, "err.must_be_a_date_yyyy_mm"))?;
    if !jiesu_core::dates::in_range(d) {
        return Err(AppError::invalid(name, "err.date_out_of_range"));
    }
    let d = if end { d.succ_opt().unwrap_or(d) } else { d };
    Ok(Some(s.config.local_midnight(d)))
}

fn input_of(s: &AppState, f: &FormData) -> Result<KbInput, AppError> {
    let tags = f
        .text("tags")
        .split([',', '，', '、', ';', '；', ' ', '\n'])
        .map(str::trim)
        .filter(|t| !t.is_empty())
        .map(str::to_string)
        .collect();
    let status = match f.opt("status") {
        None => None,
        Some(v) => Some(
            KbStatus::parse(&v)
                .ok_or_else(|| AppError::invalid("status", "err.kb.no_such_status"))?,
        ),
    };
    Ok(KbInput {
        title: f.text("title"),
        answer: f.text("answer"),
        tags,
        category: f.text("category"),
        unit_code: f.opt("unit_code"),
        source: f.text("source"),
        valid_from: date_field(s, f, "valid_from", false)?,
        valid_until: date_field(s, f, "valid_until", true)?,
        status,
    })
}

/// `POST /ui/kb`: a new entry (a unit's is a draft; the center's is published unless it
/// chooses draft).
pub async fn create(State(s): State<AppState>, page: Page, f: FormData) -> UiResult {
    let e = kb::save(&s, &page.actor, None, input_of(&s, &f)?).await?;
    Ok(done(&format!("/ui/kb/{}", e.id), "kb_saved"))
}

/// `POST /ui/kb/{id}`: a new version of an entry.
pub async fn update(
    State(s): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    f: FormData,
) -> UiResult {
    let e = kb::save(&s, &page.actor, Some(&id), input_of(&s, &f)?).await?;
    Ok(done(&format!("/ui/kb/{}", e.id), "kb_saved"))
}

fn step_of(v: &str) -> Result<KbStep, AppError> {
    KbStep::parse(v).ok_or_else(|| AppError::invalid("step", "err.kb.no_such_step"))
}

/// `POST /ui/kb/{id}/step` with `step`: review, publish or expire one entry.
pub async fn step(
    State(s): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    f: FormData,
) -> UiResult {
    let st = step_of(&f.text("step"))?;
    kb::step(&s, &page.actor, &id, st).await?;
    Ok(done(
        &format!("/ui/kb/{id}"),
        &format!("kb_{}", st.as_str()),
    ))
}

/// `POST /ui/kb/steps` with `step` and the list's filter: every matching entry that can
/// take the step, as one batch.
pub async fn step_all(State(s): State<AppState>, page: Page, f: FormData) -> UiResult {
    let st = step_of(&f.text("step"))?;
    let filter = Filter {
        status: None,
        category: f.opt("category"),
        unit_code: f.opt("unit"),
        source: None,
        title: f.opt("title"),
    };
    let n = kb::step_all(&s, By::User(&page.actor), st, filter).await?;
    let back = format!(
        "/ui/kb?title={}&category={}&unit={}&moved={n}",
        enc(&f.text("title")),
        enc(&f.text("category")),
        enc(&f.text("unit"))
    );
    Ok(done(&back, &format!("kb_{}_all", st.as_str())))
}

/// One entry to review, shown.
pub struct StaleV {
    row: RowV,
    rated: i64,
    unhelpful: i64,
    reasons: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "kb_stale.html")]
struct StalePage {
    ctx: Ctx,
    rows: Vec<StaleV>,
    unused_days: i64,
}

/// `GET /ui/kb/stale`: published entries past validity, unused for 180 days, or rated
/// unhelpful more than half of at least 3 times.
pub async fn stale(State(s): State<AppState>, page: Page) -> UiResult {
    let rules = StaleRules {
        unused_days: 180,
        min_rated: 3,
    };
    let tr = page.ctx.tr;
    let rows = kb::stale(&s, &page.actor, rules, 500)
        .await?
        .into_iter()
        .map(|st| StaleV {
            row: row_v(&s, tr, &st.entry),
            rated: st.rated,
            unhelpful: st.unhelpful,
            reasons: st
                .reasons
                .iter()
                .map(|r| {
                    tr.s(match r {
                        StaleReason::PastValidity => "kb.reason_past_validity",
                        StaleReason::Unused => "kb.reason_unused",
                        StaleReason::Unhelpful => "kb.reason_unhelpful",
                    })
                })
                .collect::<Vec<_>>()
                .join(tr.s("kb.reason_sep")),
        })
        .collect();
    Ok(StalePage {
        rows,
        unused_days: rules.unused_days,
        ctx: page.ctx,
    }
    .into_response())
}

#[derive(Template)]
#[template(path = "kb_rate.html")]
struct RateBox {
    ctx: Ctx,
    id: String,
    /// The `hx-vals` of the two buttons (JSON, escaped by the template like any attribute).
    vals_yes: String,
    vals_no: String,
    /// The verdict given, if any.
    verdict: Option<bool>,
}

impl RateBox {
    fn new(ctx: Ctx, id: String, request_id: String, verdict: Option<bool>) -> RateBox {
        let vals = |helpful: &str| {
            serde_json::json!({ "helpful": helpful, "request_id": request_id }).to_string()
        };
        RateBox {
            vals_yes: vals("1"),
            vals_no: vals("0"),
            ctx,
            id,
            verdict,
        }
    }

    fn html(self) -> UiResult {
        let html = self.render().map_err(|e| AppError::Internal(e.into()))?;
        Ok(Html(html).into_response())
    }
}

/// `POST /ui/kb/{id}/rate` (htmx) with `helpful` (1/0) and `request_id` (optional): the
/// operator's verdict on an answer; answers with the box saying it was recorded.
pub async fn rate(
    State(s): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    f: FormData,
) -> UiResult {
    let helpful = match f.text("helpful").as_str() {
        "1" | "true" => true,
        "0" | "false" => false,
        _ => return Err(UiError(AppError::invalid("helpful", "err.kb.helpful"))),
    };
    let input = Feedback {
        helpful,
        request_id: f.opt("request_id"),
        // At the desk the buttons sit in the intake form and send its key: the call's.
        call_key: f.opt("idempotency_key"),
    };
    let stored = kb::feedback(&s, &page.actor, &id, input).await?;
    RateBox::new(page.ctx, id, stored.unwrap_or_default(), Some(helpful)).html()
}

/// The verdict box for an answer from entry `entry_id` (on request `request_id`, "" at the
/// desk before there is one): the buttons, or the verdict already given.
pub fn rate_html(ctx: &Ctx, entry_id: &str, request_id: &str, verdict: Option<bool>) -> String {
    RateBox::new(
        ctx.clone(),
        entry_id.to_string(),
        request_id.to_string(),
        verdict,
    )
    .render()
    .unwrap_or_default()
}

/// The verdict box for the answer a request was given from entry `entry_id`.
pub async fn rate_box(
    s: &AppState,
    ctx: &Ctx,
    entry_id: &str,
    request_id: &str,
) -> Result<String, AppError> {
    let verdict = kb::verdict(s, entry_id, request_id).await?;
    Ok(rate_html(ctx, entry_id, request_id, verdict))
}

/// The largest file `/ui/kb/import` takes: a CSV of about 50,000 entries. A larger import goes
/// through `jiesu kb import` (README, "A knowledge base a city can keep").
pub const IMPORT_LIMIT: usize = 64 * 1024 * 1024;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ImportParams {
    /// The file's name (`.csv` or `.xlsx` decides how it is read).
    name: Option<String>,
    /// `true`: count what would change, change nothing.
    dry_run: Option<String>,
}

/// A refusal as the upload form shows it: JSON (the form's script reads it), each row's
/// fault with its row in the file (`第 5 行 valid_to：…`; the header is row 1).
fn import_refused(tr: super::i18n::Tr, e: AppError) -> axum::response::Response {
    let status = axum::http::StatusCode::from_u16(e.status())
        .unwrap_or(axum::http::StatusCode::UNPROCESSABLE_ENTITY);
    let en = tr.is_en();
    let fields: Vec<serde_json::Value> = e
        .fields()
        .iter()
        .map(|f| {
            let message = if en { &f.message_en } else { &f.message };
            let message = match crate::services::tables::row_and_column(&f.field) {
                Some((row, col)) if en => format!("row {row}, {col}: {message}"),
                Some((row, col)) => format!("第 {row} 行 {col}：{message}"),
                None => message.clone(),
            };
            serde_json::json!({ "field": f.field, "message": message })
        })
        .collect();
    let body = serde_json::json!({
        "error": { "code": e.code(), "message": e.message(en), "fields": fields },
    });
    (status, axum::Json(body)).into_response()
}

/// `POST /ui/kb/import?name=知识库.xlsx[&dry_run=true]`, the file as the body (the list
/// page's form): the center adds and changes entries from a CSV or xlsx file with the
/// export's columns, all or nothing, as `jiesu kb import` does. Answers JSON: the counts and a
/// sentence saying them, or the refusal naming `file` or each bad row and column.
pub async fn import(
    State(s): State<AppState>,
    page: Page,
    Query(p): Query<ImportParams>,
    body: axum::body::Body,
) -> axum::response::Response {
    let tr = page.ctx.tr;
    let dry_run = p.dry_run.as_deref() == Some("true");
    match import_file(
        &s,
        &page.actor,
        p.name.as_deref().unwrap_or(""),
        dry_run,
        body,
    )
    .await
    {
        Ok(sum) => {
            let message = tr
                .s(if dry_run {
                    "kb.import_dry"
                } else {
                    "kb.import_done"
                })
                .replace("{added}", &sum.added.to_string())
                .replace("{changed}", &sum.changed.to_string())
                .replace("{unchanged}", &sum.unchanged.to_string());
            let body = serde_json::json!({
                "added": sum.added, "changed": sum.changed, "unchanged": sum.unchanged,
                "dry_run": dry_run, "message": message,
            });
            axum::Json(body).into_response()
        }
        Err(e) => import_refused(tr, e),
    }
}

async fn import_file(
    s: &AppState,
    actor: &Actor,
    name: &str,
    dry_run: bool,
    body: axum::body::Body,
) -> Result<crate::services::imports::ImportSummary, AppError> {
    use crate::services::tables::{self, TableFormat};
    if !is_keeper(actor) {
        return Err(AppError::Forbidden("importing knowledge-base entries"));
    }
    let format = TableFormat::of_name(name).ok_or_else(|| {
        AppError::invalid_with(
            "file",
            "err.kb.file_unreadable",
            &[("reason", name.to_string())],
        )
    })?;
    let bytes = axum::body::to_bytes(body, IMPORT_LIMIT)
        .await
        .map_err(|_| {
            AppError::FileTooLarge(vec![crate::error::FieldError::with(
                "file",
                "err.kb.file_too_large",
                &[("mb", (IMPORT_LIMIT >> 20).to_string())],
            )])
        })?;
    let table = tables::parse(&bytes, format).map_err(|reason| {
        AppError::invalid_with("file", "err.kb.file_unreadable", &[("reason", reason)])
    })?;
    let rows = kb_import::rows_of_table(s, &table)?;
    kb_import::import(s, By::User(actor), &rows, dry_run).await
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ExportParams {
    /// `csv` (default) or `xlsx`.
    format: Option<String>,
    status: Option<String>,
    title: Option<String>,
    category: Option<String>,
    unit: Option<String>,
}

/// `GET /ui/kb/export?format=xlsx&status=&title=&category=&unit=`: the center downloads the
/// entries the list's filter matches, in the import's columns.
pub async fn export(
    State(s): State<AppState>,
    page: Page,
    Query(p): Query<ExportParams>,
) -> UiResult {
    use crate::services::tables::{self, TableFormat};
    let format = match p.format.as_deref().unwrap_or("csv") {
        "csv" => TableFormat::Csv,
        "xlsx" => TableFormat::Xlsx,
        _ => return Err(AppError::invalid("format", "err.kb.export_format").into()),
    };
    let filter = Filter {
        status: status_of(p.status.as_deref(), "status")?,
        category: blank_none(p.category.as_deref()),
        unit_code: blank_none(p.unit.as_deref()),
        source: None,
        title: blank_none(p.title.as_deref()),
    };
    let all = kb_import::export(&s, By::User(&page.actor), &filter).await?;
    let rows: Vec<Vec<String>> = all.iter().map(|e| kb_import::cells(&s, e)).collect();
    let bytes = tables::to_bytes(&kb_import::COLUMNS, &rows, format, "entries")
        .map_err(AppError::Internal)?;
    let day = s
        .clock
        .now()
        .with_timezone(&s.config.offset())
        .format("%Y%m%d");
    let disposition = format!("attachment; filename=\"kb-{day}.{}\"", format.extension());
    Ok((
        [
            (
                axum::http::header::CONTENT_TYPE,
                format.content_type().to_string(),
            ),
            (axum::http::header::CONTENT_DISPOSITION, disposition),
        ],
        bytes,
    )
        .into_response())
}
