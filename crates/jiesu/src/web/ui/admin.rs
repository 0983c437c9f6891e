//! Administration: users (list, add) and read-only views of the reference data and the
//! versioned configuration — units, categories, the dispatch catalogue, time limits and KPI
//! rules, each version marked with when it came into force.

use super::{done, local_time, Ctx, FormData, Page, UiError, UiResult};
use crate::error::AppError;
use crate::services::{auth, catalogue, AppState};
use crate::store::{queues, reference};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::response::IntoResponse;
use jiesu_core::access::Action;
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
}

/// The admin page's query.
#[derive(Deserialize)]
pub struct AdminParams {
    view: Option<String>,
    level: Option<String>,
}

fn admin_only(page: &Page) -> Result<(), UiError> {
    if page.actor.may(Action::Administer) {
        Ok(())
    } else {
        Err(UiError(AppError::Forbidden("administration")))
    }
}

/// `GET /ui/admin?view=users|units|categories|catalogue|limits|rules`.
pub async fn page(State(s): State<AppState>, page: Page, Query(q): Query<AdminParams>) -> UiResult {
    admin_only(&page)?;
    let tr = page.ctx.tr;
    let view = q.view.unwrap_or_else(|| "users".into());
    let now = s.clock.now();
    let pool = s.store.reader();
    let yes_no = |b: bool| tr.s(if b { "common.yes" } else { "common.no" }).to_string();
    let (headers, rows, note): (Vec<&'static str>, Vec<Vec<String>>, String) = match view.as_str() {
        "units" => {
            let level = q.level.unwrap_or_else(|| "district".into());
            let units = reference::units(pool, Some(&level), None).await?;
            let rows = units
                .into_iter()
                .take(2000)
                .map(|u| {
                    vec![
                        u.code,
                        u.name,
                        tr.of("unit_level", &u.level),
                        u.parent_code.unwrap_or_default(),
                    ]
                })
                .collect();
            (
                vec![
                    tr.s("field.unit_code"),
                    tr.s("field.unit"),
                    tr.s("field.level"),
                    tr.s("admin.parent"),
                ],
                rows,
                String::new(),
            )
        }
        "categories" => {
            let rows = reference::categories(pool)
                .await?
                .into_iter()
                .map(|c| {
                    let name = if tr.is_en() { c.name_en } else { c.name };
                    vec![
                        c.code,
                        name,
                        c.level.to_string(),
                        c.default_unit_code.unwrap_or_default(),
                        c.time_limit_class,
                    ]
                })
                .collect();
            (
                vec![
                    tr.s("field.category"),
                    tr.s("admin.name"),
                    tr.s("field.level"),
                    tr.s("admin.default_unit"),
                    tr.s("field.time_limit_class"),
                ],
                rows,
                String::new(),
            )
        }
        "catalogue" => {
            let rows = catalogue::list(&s)
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
                        local_time(&s, r.created_at),
                    ]
                })
                .collect();
            (
                vec![
                    tr.s("field.category"),
                    tr.s("admin.area"),
                    tr.s("admin.units"),
                    tr.s("field.note"),
                    tr.s("admin.since"),
                ],
                rows,
                tr.s("admin.catalogue_note").to_string(),
            )
        }
        "limits" => {
            let all = queues::time_limits(pool).await?;
            let rows = all
                .iter()
                .map(|v| {
                    let in_force = v.effective_from <= now
                        && !all.iter().any(|o| {
                            o.class == v.class
                                && o.effective_from > v.effective_from
                                && o.effective_from <= now
                        });
                    let name = if tr.is_en() {
                        v.name_en.clone()
                    } else {
                        v.name_zh.clone()
                    };
                    vec![
                        v.class.clone(),
                        name,
                        v.acknowledge_minutes.to_string(),
                        v.reply_minutes.to_string(),
                        v.day_kind.clone(),
                        local_time(&s, v.effective_from),
                        yes_no(in_force),
                    ]
                })
                .collect();
            (
                vec![
                    tr.s("admin.class"),
                    tr.s("admin.name"),
                    tr.s("admin.ack_minutes"),
                    tr.s("admin.reply_minutes"),
                    tr.s("admin.day_kind"),
                    tr.s("admin.since"),
                    tr.s("admin.in_force"),
                ],
                rows,
                String::new(),
            )
        }
        "rules" => {
            let all = queues::kpi_rules(pool).await?;
            let current = all.iter().rposition(|(from, _, _)| *from <= now);
            let mut rows: Vec<Vec<String>> = all
                .iter()
                .enumerate()
                .map(|(i, (from, r, _))| {
                    vec![
                        r.version.clone(),
                        format!(
                            "{} / {} / {}",
                            r.w_response, r.w_resolution, r.w_satisfaction
                        ),
                        r.basic_weight.to_string(),
                        r.class_size.to_string(),
                        local_time(&s, *from),
                        yes_no(Some(i) == current),
                    ]
                })
                .collect();
            if rows.is_empty() {
                let d = jiesu_core::kpi::KpiRules::default();
                rows.push(vec![
                    d.version.clone(),
                    format!(
                        "{} / {} / {}",
                        d.w_response, d.w_resolution, d.w_satisfaction
                    ),
                    d.basic_weight.to_string(),
                    d.class_size.to_string(),
                    "—".into(),
                    yes_no(true),
                ]);
            }
            (
                vec![
                    tr.s("admin.version"),
                    tr.s("admin.weights"),
                    tr.s("admin.basic_weight"),
                    tr.s("admin.class_size"),
                    tr.s("admin.since"),
                    tr.s("admin.in_force"),
                ],
                rows,
                String::new(),
            )
        }
        _ => {
            let rows = auth::list_users(&s)
                .await?
                .into_iter()
                .map(|u| {
                    vec![
                        u.username,
                        tr.of("role", u.role.as_str()),
                        u.unit_code.unwrap_or_default(),
                        local_time(&s, u.created_at),
                        yes_no(u.active),
                    ]
                })
                .collect();
            (Vec::new(), rows, String::new())
        }
    };
    let tabs = vec![
        ("users", tr.s("admin.users")),
        ("units", tr.s("admin.units")),
        ("categories", tr.s("admin.categories")),
        ("catalogue", tr.s("admin.catalogue")),
        ("limits", tr.s("admin.limits")),
        ("rules", tr.s("admin.rules")),
    ];
    let roles = Role::ALL
        .iter()
        .map(|r| (r.as_str(), tr.of("role", r.as_str())))
        .collect();
    let unit_levels = [
        "district",
        "subdistrict",
        "township",
        "department",
        "company",
    ]
    .into_iter()
    .map(|l| (l, tr.of("unit_level", l)))
    .collect();
    Ok(AdminPage {
        ctx: page.ctx,
        view: if ["units", "categories", "catalogue", "limits", "rules"].contains(&view.as_str()) {
            view
        } else {
            "users".into()
        },
        tabs,
        headers,
        rows,
        note,
        roles,
        unit_levels,
    }
    .into_response())
}

/// `POST /ui/admin/users`.
pub async fn add_user(State(s): State<AppState>, page: Page, f: FormData) -> UiResult {
    admin_only(&page)?;
    let role = Role::parse(&f.text("role"))
        .ok_or_else(|| AppError::field("role", "没有这个角色", "no such role"))?;
    let password =
        f.0.iter()
            .find(|(k, _)| k == "password")
            .map(|(_, v)| v.clone())
            .unwrap_or_default();
    auth::create_user(
        &s,
        &f.text("username"),
        role,
        f.opt("unit").as_deref(),
        &password,
    )
    .await?;
    Ok(done("/ui/admin?view=users", "user_added"))
}
