//! 吹哨报到 in the pages: a street's staff summon departments and companies (吹哨); a
//! summoned unit reports (报到) naming its person in charge; everyone sees this month's
//! whistles they take part in, with who reported; the center sees the month's tally.

use super::{done, local_time, Ctx, FormData, Page, UiResult};
use crate::error::AppError;
use crate::services::handling::DispatchTarget;
use crate::services::units::UnitFilter;
use crate::services::whistles::{self, ReportInput, TallyRow, WhistleInput};
use crate::services::{units, AppState};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use jiesu_core::access::Action;
use jiesu_core::workflow::AssignmentRole;

/// Levels a street summons: departments, public-service and property companies.
const SUMMONED_LEVELS: [&str; 3] = ["department", "company", "property"];

struct SummonedLine {
    assignment_id: String,
    unit: String,
    role: String,
    report_key: &'static str,
    report: String,
    report_by: String,
    reported_at: String,
    person: String,
    contact: String,
    /// The user's own unit, not reported yet: the 报到 form.
    may_report: bool,
}

struct WhistleLine {
    task_id: String,
    number: String,
    title: String,
    street: String,
    created: String,
    units: Vec<SummonedLine>,
}

#[derive(Template, WebTemplate)]
#[template(path = "whistles.html")]
struct WhistlesPage {
    ctx: Ctx,
    may_blow: bool,
    choices: Vec<(String, String)>,
    month: String,
    whistles: Vec<WhistleLine>,
    tally: Vec<TallyRow>,
    show_tally: bool,
}

/// `GET /ui/whistles`.
pub async fn page(State(s): State<AppState>, page: Page) -> UiResult {
    let tr = page.ctx.tr;
    let street = match page.actor.unit.as_ref() {
        Some(u) if page.actor.role.is_unit_role() => {
            let level = units::history(&s, &u.code).await?.unit.level;
            ["subdistrict", "township"].contains(&level.as_str())
        }
        _ => false,
    };
    if !page.actor.role.is_unit_role() && !page.actor.may(Action::Supervise) {
        return Err(AppError::Forbidden("whistles").into());
    }
    let mut choices = Vec::new();
    if street {
        for level in SUMMONED_LEVELS {
            let filter = UnitFilter {
                level: level.to_string(),
                state: "active".to_string(),
                ..Default::default()
            };
            for u in units::list(&s, &filter, 500).await? {
                choices.push((u.code, u.name));
            }
        }
    }
    let month = s
        .clock
        .now()
        .with_timezone(&s.config.offset())
        .format("%Y-%m")
        .to_string();
    let own = page.actor.unit.as_ref().map(|u| u.code.clone());
    let whistles = whistles::list(&s, &page.actor, &month)
        .await?
        .into_iter()
        .map(|w| WhistleLine {
            created: local_time(&s, w.created_at),
            units: w
                .units
                .into_iter()
                .map(|u| SummonedLine {
                    may_report: own.as_deref() == Some(u.unit_code.as_str())
                        && u.reported_at.is_none(),
                    role: tr.of("order_role", u.role.as_str()),
                    report_key: u.report.as_str(),
                    report: tr.of("whistle.report", u.report.as_str()),
                    report_by: local_time(&s, u.report_by),
                    reported_at: u.reported_at.map(|t| local_time(&s, t)).unwrap_or_default(),
                    person: u.person_in_charge.unwrap_or_default(),
                    contact: u.person_contact.unwrap_or_default(),
                    unit: u.unit_name,
                    assignment_id: u.assignment_id,
                })
                .collect(),
            task_id: w.task_id,
            number: w.number,
            title: w.title,
            street: w.whistle_unit_name,
        })
        .collect();
    let show_tally = page.actor.may(Action::Supervise) || street;
    let tally = if show_tally {
        whistles::tally(&s, &page.actor, &month).await?
    } else {
        Vec::new()
    };
    Ok(WhistlesPage {
        ctx: page.ctx,
        may_blow: street,
        choices,
        month,
        whistles,
        tally,
        show_tally,
    }
    .into_response())
}

/// `POST /ui/whistles`: a street blows the whistle.
pub async fn blow(State(s): State<AppState>, page: Page, f: FormData) -> UiResult {
    let lead = f.text("lead");
    let mut targets = Vec::new();
    if !lead.is_empty() {
        targets.push(DispatchTarget {
            unit_code: lead.clone(),
            role: AssignmentRole::Lead,
        });
    }
    for code in f.all("co") {
        if code != lead && !code.is_empty() {
            targets.push(DispatchTarget {
                unit_code: code,
                role: AssignmentRole::Co,
            });
        }
    }
    let hours = match f.opt("report_within_hours") {
        None => None,
        Some(h) => Some(h.trim().parse::<i64>().map_err(|_| {
            AppError::invalid(
                "report_within_hours",
                "err.whistle.report_hours_not_a_number",
            )
        })?),
    };
    let input = WhistleInput {
        title: f.text("title"),
        description: f.text("description"),
        units: targets,
        report_within_hours: hours,
        time_limit_class: None,
        category_code: None,
        address: f.opt("address"),
    };
    whistles::open(&s, &page.actor, input).await?;
    Ok(done("/ui/whistles", "whistle_blown"))
}

/// `POST /ui/whistles/orders/{id}/report`: a summoned unit reports (报到).
pub async fn report(
    State(s): State<AppState>,
    page: Page,
    Path(id): Path<String>,
    f: FormData,
) -> UiResult {
    let input = ReportInput {
        person: f.text("person"),
        contact: f.opt("contact"),
    };
    whistles::report(&s, &page.actor, &id, input).await?;
    Ok(done("/ui/whistles", "whistle_reported"))
}
