//! The supervisor dashboard (督办): the month's ranking with the four classes, a unit's
//! three-rate trend, the category and district mix (ECharts), the overdue and about-to-breach
//! lists, the month's whistle tally (吹哨报到: who reported in time), and the monthly report
//! download. Everything comes from `services::kpi` and
//! `services::supervision`, which read the monthly rollups and indexed deadline columns.

use super::{local_time, pct, Ctx, Page, UiError, UiResult};
use crate::error::AppError;
use crate::services::kpi::{self, Level, Month, Ranking};
use crate::services::supervision::{self, DeadlineList};
use crate::services::{directory, queues, AppState};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::response::IntoResponse;
use jiesu_core::access::Action;
use jiesu_core::workflow::AssignmentStatus;
use serde::Deserialize;
use serde_json::json;

struct RankRow {
    code: String,
    name: String,
    rank: String,
    class: String,
    class_code: String,
    response: String,
    resolution: String,
    satisfaction: String,
    composite: String,
    volume: u64,
}

struct DeadlineRow {
    request_id: String,
    number: String,
    unit: String,
    status: String,
    reply_by: String,
    deadline_ms: i64,
    warn_ms: i64,
}

/// One hot problem of the live index.
struct HotRow {
    /// Where it is (street or district); empty for a question many ask from anywhere.
    place: String,
    key: String,
    heat: String,
    description: String,
    size: usize,
    span: String,
}

struct DeadlineBox {
    id: &'static str,
    title: &'static str,
    rows: Vec<DeadlineRow>,
}

#[derive(Template, WebTemplate)]
#[template(path = "dashboard.html")]
struct Dashboard {
    ctx: Ctx,
    /// How stale the page is when read from the standby, "" when read from the primary.
    standby_note: String,
    month: String,
    level: String,
    levels: Vec<(&'static str, String)>,
    rules_version: String,
    frozen: bool,
    ranking: Vec<RankRow>,
    unranked: usize,
    trend_unit: String,
    trend_chart: String,
    category_chart: String,
    district_chart: String,
    lists: Vec<DeadlineBox>,
    /// Hot problems at one place (complaints about a street or district).
    hotspots: Vec<HotRow>,
    /// Hot problems with no place: questions many ask (政策咨询).
    hot_questions: Vec<HotRow>,
    /// The district map: the month's figures per district, by metric (JSON for app.js).
    district_map: String,
    /// The ranking's filters and page.
    district: String,
    class: String,
    districts_list: Vec<(String, String)>,
    classes: Vec<(&'static str, String)>,
    page_no: usize,
    pages: usize,
    shown_total: usize,
    may_decide: bool,
    extensions: Vec<super::dispatch::PendingExt>,
    /// 吹哨报到 this month: per summoned unit, who reported in time.
    whistle_tally: Vec<crate::services::whistles::TallyRow>,
    /// Repeat callers and reminder calls (催办) this month (issue 23).
    callers: crate::services::callers::CallerStats,
}

/// The dashboard's query.
#[derive(Deserialize, Default)]
pub struct DashParams {
    month: Option<String>,
    level: Option<String>,
    unit: Option<String>,
    /// Only units of this district (its code).
    district: Option<String>,
    /// Only this class (`good`, `fair`, …).
    class: Option<String>,
    /// 1-based page of the ranking.
    page: Option<String>,
}

/// Ranking rows a page shows.
const PAGE_ROWS: usize = 30;

async fn ranking(s: &AppState, month: Month, level: Level) -> Result<Ranking, AppError> {
    let json = kpi::ranking_json(s, month, level).await?;
    serde_json::from_str(&json).map_err(|e| AppError::Internal(e.into()))
}

fn bar_chart(names: Vec<String>, values: Vec<i64>) -> String {
    json!({
        "animation": false, "tooltip": {}, "grid": { "left": 130, "right": 20, "top": 10, "bottom": 20 },
        "xAxis": { "type": "value", "minInterval": 1 },
        "yAxis": { "type": "category", "data": names, "inverse": true, "axisLabel": { "interval": 0 } },
        "series": [{ "type": "bar", "data": values }]
    })
    .to_string()
}

/// The ten hottest problems of the node's live index (热点).
fn hot_rows(s: &AppState) -> Vec<HotRow> {
    let now = s.clock.now();
    s.hotspots
        .hottest(10, now.timestamp_millis())
        .unwrap_or_default()
        .into_iter()
        .map(|h| HotRow {
            place: h
                .street
                .map(|x| x.1)
                .or(h.district.map(|x| x.1))
                .unwrap_or_default(),
            key: h.key,
            heat: format!("{:.1}", h.heat),
            description: h.description,
            size: h.request_ids.len(),
            span: format!(
                "{} – {}",
                local_time(s, h.from).get(..10).unwrap_or_default(),
                local_time(s, h.to).get(..10).unwrap_or_default()
            ),
        })
        .collect()
}

/// `GET /ui/dashboard?month=&level=&unit=`.
pub async fn page(State(s): State<AppState>, page: Page, Query(p): Query<DashParams>) -> UiResult {
    if !page.actor.may(Action::Supervise) {
        return Err(UiError(AppError::Forbidden("the dashboard")));
    }
    let tr = page.ctx.tr;
    // Read from the standby when one is configured (issue 21); the page says how stale.
    let (s, standby) = s.for_reports();
    let standby_note = super::standby_note(tr, standby);
    let today = s.clock.now().with_timezone(&s.config.offset()).date_naive();
    let month = match p.month.as_deref().filter(|m| !m.is_empty()) {
        Some(m) => Month::parse(m)?,
        // The last complete month: on the 2nd, the current one is two days old.
        None => Month::parse(&today.format("%Y-%m").to_string())?.previous(),
    };
    let level = Level::parse(p.level.as_deref().unwrap_or("subdistrict"))?;
    let r = ranking(&s, month, level).await?;
    // Units without orders this month are listed by the API but not ranked: leave them out.
    let unranked = r.units.iter().filter(|u| u.rank.is_none()).count();
    let rows: Vec<RankRow> = r
        .units
        .iter()
        .filter(|u| u.rank.is_some())
        .map(|u| {
            let class_code = u
                .class
                .and_then(|c| serde_json::to_value(c).ok())
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            RankRow {
                code: u.code.clone(),
                name: u.name.clone(),
                rank: u.rank.map(|r| r.to_string()).unwrap_or_else(|| "—".into()),
                class: if class_code.is_empty() {
                    String::new()
                } else {
                    tr.of("class", &class_code)
                },
                class_code,
                response: pct(u.response_rate),
                resolution: pct(u.resolution_rate),
                satisfaction: pct(u.satisfaction_rate),
                composite: format!("{:.2}", u.composite),
                volume: u.volume,
            }
        })
        .collect();
    let district = p.district.clone().unwrap_or_default();
    let class = p.class.clone().unwrap_or_default();
    let rows: Vec<RankRow> = rows
        .into_iter()
        .filter(|r| district.is_empty() || r.code.starts_with(&district))
        .filter(|r| class.is_empty() || r.class_code == class)
        .collect();
    let shown_total = rows.len();
    let pages = shown_total.div_ceil(PAGE_ROWS).max(1);
    let page_no = p
        .page
        .as_deref()
        .and_then(|n| n.parse::<usize>().ok())
        .unwrap_or(1)
        .clamp(1, pages);
    let rows: Vec<RankRow> = rows
        .into_iter()
        .skip((page_no - 1) * PAGE_ROWS)
        .take(PAGE_ROWS)
        .collect();
    let districts = if level == Level::District {
        r.clone()
    } else {
        ranking(&s, month, Level::District).await?
    };
    let trend_code = p
        .unit
        .clone()
        .filter(|u| !u.is_empty())
        .or_else(|| Some(district.clone()).filter(|d| !d.is_empty()))
        .or_else(|| {
            districts
                .units
                .iter()
                .max_by_key(|u| u.volume)
                .map(|u| u.code.clone())
        })
        .unwrap_or_default();
    let (trend_unit, trend_chart) = trend(&s, tr, &trend_code, month).await?;
    let levels = ["subdistrict", "district", "department", "company"]
        .into_iter()
        .map(|l| (l, tr.of("level", l)))
        .collect();
    let hot: (Vec<HotRow>, Vec<HotRow>) =
        hot_rows(&s).into_iter().partition(|h| !h.place.is_empty());
    let figures = crate::services::maps::district_figures(&s, &page.actor, month).await?;
    let district_map = map_data(tr, &figures, &month.label());
    let districts_list = districts
        .units
        .iter()
        .map(|u| (u.code.clone(), u.name.clone()))
        .collect();
    let classes = ["leading", "improving", "rectify", "priority_governance"]
        .into_iter()
        .map(|c| (c, tr.of("class", c)))
        .collect();
    Ok(Dashboard {
        standby_note,
        district_map,
        district,
        class,
        districts_list,
        classes,
        page_no,
        pages,
        shown_total,
        month: month.label(),
        level: level.as_str().to_string(),
        levels,
        rules_version: r.rules_version.clone(),
        frozen: r.frozen,
        ranking: rows,
        unranked,
        trend_unit,
        trend_chart,
        category_chart: category_chart(&s, &page, month).await?,
        district_chart: bar_chart(
            districts.units.iter().map(|u| u.name.clone()).collect(),
            districts.units.iter().map(|u| u.volume as i64).collect(),
        ),
        lists: deadline_lists(&s, &page).await?,
        hotspots: hot.0,
        hot_questions: hot.1,
        may_decide: page.actor.may(Action::DecideExtension),
        extensions: if page.actor.may(Action::DecideExtension) {
            super::dispatch::pending_extensions(&s, &page).await?
        } else {
            Vec::new()
        },
        whistle_tally: crate::services::whistles::tally(&s, &page.actor, &month.label()).await?,
        callers: month_callers(&s, &page, month).await?,
        ctx: page.ctx,
    }
    .into_response())
}

/// The repeat-caller counts of `month`, to its last day.
async fn month_callers(
    s: &AppState,
    page: &Page,
    month: Month,
) -> Result<crate::services::callers::CallerStats, AppError> {
    let first = month.first_day();
    let last = month.next().first_day().pred_opt().unwrap_or(first);
    crate::services::callers::stats(
        s,
        &page.actor,
        Some(&first.to_string()),
        Some(&last.to_string()),
    )
    .await
}

async fn trend(
    s: &AppState,
    tr: super::i18n::Tr,
    code: &str,
    month: Month,
) -> Result<(String, String), AppError> {
    if code.is_empty() {
        return Ok((String::new(), json!({}).to_string()));
    }
    let name = directory::unit(s, code)
        .await?
        .map(|u| u.name)
        .unwrap_or_else(|| code.to_string());
    let mut from = month;
    for _ in 0..5 {
        from = from.previous();
    }
    let points = kpi::trend(s, code, from, month).await?;
    let series = |label: &str, f: &dyn Fn(&kpi::TrendPoint) -> Option<f64>| {
        json!({ "name": label, "type": "line", "connectNulls": true,
            "data": points.iter().map(|p| f(p).map(|v| (v * 1000.0).round() / 10.0)).collect::<Vec<_>>() })
    };
    let chart = json!({
        "animation": false,
        "tooltip": { "trigger": "axis" },
        "legend": { "top": 0 },
        "grid": { "left": 40, "right": 20, "top": 36, "bottom": 24 },
        "xAxis": { "type": "category", "data": points.iter().map(|p| p.month.clone()).collect::<Vec<_>>() },
        "yAxis": { "type": "value", "min": 0, "max": 100 },
        "series": [
            series(tr.s("rate.response"), &|p| p.response_rate),
            series(tr.s("rate.resolution"), &|p| p.resolution_rate),
            series(tr.s("rate.satisfaction"), &|p| p.satisfaction_rate),
        ]
    });
    Ok((name, chart.to_string()))
}

async fn category_chart(s: &AppState, page: &Page, month: Month) -> Result<String, AppError> {
    let (from, to) = (
        s.config.local_midnight(month.first_day()),
        s.config.local_midnight(month.next().first_day()),
    );
    let counts = supervision::volume_by_category(s, &page.actor, from, to, 10).await?;
    Ok(bar_chart(
        counts
            .iter()
            .map(|(c, _)| c.as_ref().map_or_else(|| "—".to_string(), |c| c.1.clone()))
            .collect(),
        counts.iter().map(|(_, n)| *n).collect(),
    ))
}

async fn deadline_lists(s: &AppState, page: &Page) -> Result<Vec<DeadlineBox>, AppError> {
    let tr = page.ctx.tr;
    let mut out = Vec::new();
    for (id, list, title) in [
        ("overdue", DeadlineList::Overdue, "dashboard.overdue"),
        (
            "about-to-breach",
            DeadlineList::AboutToBreach,
            "dashboard.breach",
        ),
    ] {
        let orders = queues::deadline_orders(s, &page.actor, list, 20).await?;
        let rows = orders
            .into_iter()
            .map(|w| {
                let o = w.order;
                let by = if o.status == AssignmentStatus::Dispatched
                    && o.acknowledge_by < o.reply_by
                    && o.ack_overdue
                {
                    o.acknowledge_by
                } else {
                    o.reply_by
                };
                DeadlineRow {
                    number: w.number,
                    unit: w.unit_name,
                    status: tr.of("order_status", o.status.as_str()),
                    reply_by: local_time(s, o.reply_by),
                    deadline_ms: by.timestamp_millis(),
                    warn_ms: by.timestamp_millis()
                        - (o.reply_by - o.dispatched_at).num_milliseconds()
                            * s.config.pre_breach_percent
                            / 100,
                    request_id: o.request_id,
                }
            })
            .collect();
        out.push(DeadlineBox {
            id,
            title: tr.s(title),
            rows,
        });
    }
    Ok(out)
}

/// The district map's data for app.js: per metric its label and the values by district
/// name, with each district's unit code for the click through.
fn map_data(
    tr: super::i18n::Tr,
    figures: &[crate::services::maps::DistrictFigures],
    month: &str,
) -> String {
    let rate = |v: Option<f64>| v.map(|v| (v * 1000.0).round() / 10.0);
    let series = |f: &dyn Fn(&crate::services::maps::DistrictFigures) -> Option<f64>| {
        figures
            .iter()
            .map(|d| json!({ "name": d.name, "value": f(d), "code": d.code }))
            .collect::<Vec<_>>()
    };
    json!({
        "geo": "/api/v1/maps/districts",
        "href": format!("/ui/dashboard?month={month}&level=subdistrict&district="),
        "metrics": [
            { "key": "volume", "label": tr.s("dashboard.volume"), "data": series(&|d| Some(d.volume as f64)) },
            { "key": "response", "label": tr.s("rate.response"), "data": series(&|d| rate(d.response_rate)) },
            { "key": "resolution", "label": tr.s("rate.resolution"), "data": series(&|d| rate(d.resolution_rate)) },
            { "key": "satisfaction", "label": tr.s("rate.satisfaction"), "data": series(&|d| rate(d.satisfaction_rate)) },
            { "key": "overdue", "label": tr.s("dashboard.overdue"), "data": series(&|d| Some(d.overdue as f64)) },
        ]
    })
    .to_string()
}
