//! One request (`/ui/requests/{id}`): its facts, orders, extensions, callbacks and the full
//! event timeline, shaped by `services::views` (masked phone, hidden confidential requester).
//! Unit staff opening another unit's request get a refusal page (403).

use super::{local_time, Ctx, Page, UiResult};
use crate::error::AppError;
use crate::services::{directory, views, AppState};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Path, State};
use axum::response::IntoResponse;
use jiesu_core::access::Action;
use jiesu_core::RequestStatus;

struct OrderV {
    round: i64,
    unit: String,
    role: String,
    status: String,
    overdue: bool,
    reply_by: String,
    reply: String,
    to_center: String,
    returned: String,
}

/// An attachment as the page shows it: a thumbnail for a photo, else a link.
struct FileV {
    url: String,
    thumb: String,
    name: String,
    kind: String,
    size_kb: i64,
    by: String,
    public: bool,
}

/// Where this user may attach a file: the request (center) or an own order (evidence).
struct UploadV {
    url: String,
    label: String,
    evidence: bool,
}

struct EventV {
    at: String,
    action: String,
    change: String,
    actor: String,
    detail: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "detail.html")]
struct DetailPage {
    ctx: Ctx,
    id: String,
    number: String,
    title: String,
    status: String,
    status_code: String,
    kind: String,
    channel: String,
    category: String,
    limit_class: String,
    address: String,
    requester: String,
    round: i64,
    created: String,
    closed: String,
    text: String,
    answer: String,
    /// The 有用 / 没用 box for a knowledge-base answer (issue 23), "" otherwise.
    kb_rate: String,
    /// Where on a map (issue 20): `39.99600, 116.47000 (WGS-84) · 朝阳区`, "" when not placed.
    point: String,
    primary: String,
    query_code: String,
    may_dispatch: bool,
    orders: Vec<OrderV>,
    extensions: Vec<String>,
    callbacks: Vec<String>,
    events: Vec<EventV>,
    files: Vec<FileV>,
    uploads: Vec<UploadV>,
}

/// The few payload fields worth a line in the timeline.
fn event_detail(p: &serde_json::Value) -> String {
    const KEYS: &[&str] = &[
        "unit_name",
        "unit_code",
        "role",
        "reason",
        "hours",
        "outcome",
        "to_requester",
        "answer",
        "into_number",
        "merged_number",
        "satisfaction",
        "resolved",
        "reached",
        "reply_by",
        "task_number",
    ];
    let mut parts = Vec::new();
    for k in KEYS {
        match p.get(*k) {
            Some(serde_json::Value::String(s)) if !s.is_empty() => parts.push(format!("{k}: {s}")),
            Some(v @ (serde_json::Value::Bool(_) | serde_json::Value::Number(_))) => {
                parts.push(format!("{k}: {v}"))
            }
            _ => {}
        }
    }
    parts.join(" · ")
}

/// A category as `name (code)` in the page's language.
async fn category_label(
    s: &AppState,
    tr: super::i18n::Tr,
    code: Option<&str>,
) -> Result<String, AppError> {
    let Some(code) = code else {
        return Ok(String::new());
    };
    Ok(match directory::category_name(s, code).await? {
        Some((zh, en)) => format!("{} ({code})", if tr.is_en() { en } else { zh }),
        None => code.to_string(),
    })
}

/// `GET /ui/requests/{id}`.
pub async fn page(State(s): State<AppState>, page: Page, Path(id): Path<String>) -> UiResult {
    // Another unit's request answers as a missing one (`views::get`). The request, its map
    // point and its files come from one snapshot.
    let views::RequestPage {
        view: r,
        location,
        files,
        evidence,
    } = views::page(&s, &page.actor, &id).await?;
    let tr = page.ctx.tr;
    // Where on a map (issue 20): its district's name comes with the orders' unit names.
    let district_code = location.as_ref().and_then(|l| l.district_code.as_ref());
    let names = directory::unit_names(
        &s,
        r.assignments
            .iter()
            .map(|a| &a.unit_code)
            .chain(district_code),
    )
    .await?;
    let orders = r
        .assignments
        .iter()
        .map(|a| OrderV {
            round: a.round,
            unit: names.of(&a.unit_code),
            role: tr.of("order_role", a.role.as_str()),
            status: tr.of("order_status", a.status.as_str()),
            overdue: a.reply_overdue || a.ack_overdue,
            reply_by: local_time(&s, a.reply_by),
            reply: a.reply_to_requester.clone().unwrap_or_default(),
            to_center: a.reply_to_center.clone().unwrap_or_default(),
            returned: a.return_reason.clone().unwrap_or_default(),
        })
        .collect();
    let extensions = r
        .extensions
        .iter()
        .flatten()
        .map(|e| {
            format!(
                "{} · {} h · {} · {}",
                local_time(&s, e.requested_at),
                e.hours,
                tr.of("ext_status", e.status.as_str()),
                e.reason
            )
        })
        .collect();
    let callbacks = r
        .callbacks
        .iter()
        .flatten()
        .map(|c| {
            let sat = c
                .satisfaction
                .as_deref()
                .map(|x| tr.of("satisfaction", x))
                .unwrap_or_default();
            format!(
                "{} · {} {} · {} · {}",
                local_time(&s, c.at),
                tr.s("field.round"),
                c.round,
                sat,
                tr.of("cb_outcome", &c.outcome)
            )
        })
        .collect();
    let events = r
        .events
        .iter()
        .flatten()
        .map(|e| EventV {
            at: local_time(&s, e.at),
            action: tr.of("event", &e.action),
            change: match (&e.before, &e.after) {
                (Some(b), Some(a)) if !b.is_empty() => format!("{b} → {a}"),
                (_, Some(a)) => a.clone(),
                _ => String::new(),
            },
            actor: event_actor(&tr, &e.actor_id, &e.actor_role),
            detail: event_detail(&e.payload),
        })
        .collect();
    let files = files
        .into_iter()
        .map(|a| FileV {
            thumb: a.thumbnail_url.clone().unwrap_or_default(),
            url: a.url,
            name: a.name,
            kind: tr.of("attachment_kind", &a.kind),
            size_kb: (a.size + 1023) / 1024,
            by: tr.of("role", &a.uploaded_by),
            public: a.public,
        })
        .collect();
    let uploads = if page.actor.role.is_unit_role() {
        evidence
            .into_iter()
            .map(|(order, unit)| UploadV {
                url: format!("/api/v1/assignments/{order}/attachments"),
                label: names.of(&unit),
                evidence: true,
            })
            .collect()
    } else {
        vec![UploadV {
            url: format!("/api/v1/requests/{}/attachments", r.id),
            label: String::new(),
            evidence: false,
        }]
    };
    let requester = match &r.requester {
        Some(q) => {
            let ent = q
                .enterprise_name
                .clone()
                .map(|n| format!(" · {n}"))
                .unwrap_or_default();
            format!("{} {}{ent}", q.name, q.phone)
        }
        None => tr.s("detail.confidential").to_string(),
    };
    // The entry the request was answered from, if any: the operator says whether it helped.
    let kb_used = r
        .events
        .iter()
        .flatten()
        .filter(|e| e.action == "request.answered")
        .filter_map(|e| e.payload.get("kb_entry_id").and_then(|v| v.as_str()))
        .next_back()
        .map(str::to_string);
    let kb_rate = match kb_used {
        Some(entry) if page.actor.may(Action::Answer) => {
            super::kb::rate_box(&s, &page.ctx, &entry, &r.id).await?
        }
        _ => String::new(),
    };
    let point = match &location {
        Some(l) => {
            let district = match &l.district_code {
                Some(code) => format!(" · {}", names.of(code)),
                None => String::new(),
            };
            format!(
                "{:.5}, {:.5} (WGS-84; {} {}){district}",
                l.lat,
                l.lon,
                tr.s("detail.point_given_in"),
                l.datum
            )
        }
        None => String::new(),
    };
    Ok(DetailPage {
        kb_rate,
        point,
        status: tr.of("status", r.status.as_str()),
        kind: tr.of("kind", r.kind.as_str()),
        channel: tr.of("channel", r.channel.as_str()),
        category: category_label(&s, tr, r.category_code.as_deref()).await?,
        limit_class: match &r.time_limit_class {
            Some(c) => super::forms::classes(&s, tr)
                .await?
                .into_iter()
                .find(|(code, _)| code == c)
                .map(|(_, name)| name)
                .unwrap_or_else(|| c.clone()),
            None => String::new(),
        },
        created: local_time(&s, r.created_at),
        closed: r.closed_at.map(|t| local_time(&s, t)).unwrap_or_default(),
        answer: r.answer.clone().unwrap_or_default(),
        primary: r.primary_id.clone().unwrap_or_default(),
        query_code: r.query_code.clone().unwrap_or_default(),
        may_dispatch: page.actor.may(Action::Dispatch) && r.status == RequestStatus::Received,
        ctx: page.ctx,
        status_code: r.status.as_str().to_string(),
        id: r.id,
        number: r.number,
        title: r.title,
        address: r.address,
        requester,
        round: r.round,
        text: r.text,
        orders,
        extensions,
        callbacks,
        events,
        files,
        uploads,
    }
    .into_response())
}

/// Who did an event, as the request's page names it: the channels that act for a requester
/// (the portal, an Open311 client, SMS) by that channel, not by the operator role they act
/// with; staff by their role.
fn event_actor(tr: &super::i18n::Tr, actor_id: &str, role: &str) -> String {
    if actor_id == crate::services::portal::PORTAL_ACTOR {
        tr.s("actor.portal").to_string()
    } else if let Some(client) = actor_id.strip_prefix("open311:") {
        format!("{} {client}", tr.s("actor.open311"))
    } else if actor_id == crate::services::sms_texts::SMS_ACTOR {
        tr.s("actor.sms").to_string()
    } else {
        tr.of("role", role)
    }
}
