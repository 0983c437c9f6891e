//! The public portal pages (no login): citizens and enterprises submit a request with a place
//! and get its number and query code (查询码); with both, the requester can track it. The work is done by
//! `services::portal`.

use super::{enc, local_time, Ctx, FormData, Public, UiError, UiResult};
use crate::error::AppError;
use crate::services::portal::{self, PublicEnterprise, PublicSubmission};
use crate::services::{attachments, directory, AppState};
use askama::Template;
use askama_web::WebTemplate;
use axum::extract::{Query, State};
use axum::http::StatusCode;
use axum::response::IntoResponse;
use jiesu_core::RequestKind;
use serde::Deserialize;

#[derive(Template, WebTemplate)]
#[template(path = "portal.html")]
struct PortalPage {
    ctx: Ctx,
    enterprise: bool,
    kinds: Vec<(&'static str, String)>,
    categories: Vec<(String, String)>,
    /// This drawing's key: the form sent twice makes one request.
    key: String,
}

#[derive(Template, WebTemplate)]
#[template(path = "portal_done.html")]
struct DonePage {
    ctx: Ctx,
    number: String,
    query_code: String,
    /// Where the requester may add a photo or recording.
    upload: String,
}

async fn form(s: &AppState, p: Public, enterprise: bool) -> UiResult {
    let tr = p.ctx.tr;
    let kinds = RequestKind::ALL
        .iter()
        .map(|k| (k.as_str(), tr.of("kind", k.as_str())))
        .collect();
    let categories = if enterprise {
        directory::categories(s)
            .await?
            .into_iter()
            .filter(|c| c.active && c.code.starts_with("qyfw.") && c.level == 3)
            .map(|c| (c.code, if tr.is_en() { c.name_en } else { c.name }))
            .collect()
    } else {
        Vec::new()
    };
    Ok(PortalPage {
        ctx: p.ctx,
        enterprise,
        kinds,
        categories,
        key: super::forms::new_form_key(),
    }
    .into_response())
}

/// `GET /ui/portal/districts`: the city's district shapes (GeoJSON, WGS-84) for the portal's
/// map pin (issue 20): public facts, the same as `/api/v1/maps/districts` without a login.
pub async fn districts(State(s): State<AppState>) -> UiResult {
    let geo = crate::services::maps::geojson_text(&s).await?;
    Ok((
        [
            (axum::http::header::CONTENT_TYPE, "application/json"),
            (axum::http::header::CACHE_CONTROL, "public, max-age=3600"),
        ],
        geo,
    )
        .into_response())
}

/// `GET /ui/portal`.
pub async fn citizen_page(State(s): State<AppState>, p: Public) -> UiResult {
    form(&s, p, false).await
}

/// `GET /ui/portal/enterprise`.
pub async fn enterprise_page(State(s): State<AppState>, p: Public) -> UiResult {
    form(&s, p, true).await
}

async fn submit(s: &AppState, p: Public, f: FormData, enterprise: bool) -> UiResult {
    let kind = RequestKind::parse(&f.text("kind"))
        .ok_or_else(|| AppError::invalid("kind", "err.choose_a_request_kind"))?;
    let address = f.text("address");
    if address.is_empty() {
        return Err(AppError::invalid("address", "err.portal.the_place_is_required").into());
    }
    let sub = PublicSubmission {
        location: super::forms::location(&f)?,
        key: f.opt("idempotency_key"),
        kind,
        title: f.opt("title"),
        text: f.text("text"),
        address,
        name: f.text("name"),
        phone: f.text("phone"),
        enterprise: enterprise.then(|| PublicEnterprise {
            name: f.text("enterprise_name"),
            credit_code: f.text("credit_code").to_ascii_uppercase(),
        }),
        category_code: if enterprise {
            f.opt("category_code")
        } else {
            None
        },
    };
    let receipt = portal::submit(s, sub).await?;
    let page = DonePage {
        ctx: p.ctx,
        upload: public_upload(&proof_query(s, &receipt.number)),
        number: receipt.number,
        query_code: receipt.query_code,
    };
    Ok((StatusCode::CREATED, page).into_response())
}

/// `POST /ui/portal`.
pub async fn citizen_submit(State(s): State<AppState>, p: Public, f: FormData) -> UiResult {
    submit(&s, p, f, false).await
}

/// `POST /ui/portal/enterprise`.
pub async fn enterprise_submit(State(s): State<AppState>, p: Public, f: FormData) -> UiResult {
    submit(&s, p, f, true).await
}

struct TrackedV {
    number: String,
    title: String,
    status: String,
    created: String,
    closed: String,
    answer: String,
    replies: Vec<(String, String)>,
    /// The requester's own files and the units' public evidence: (file, thumbnail, name).
    files: Vec<(String, String, String)>,
    /// Where the requester may add a photo or recording.
    upload: String,
}

/// The query that proves the requester of the request with `number` to the public file
/// routes: the number and a fresh grant (never the query code: addresses end up in
/// histories and logs).
fn proof_query(s: &AppState, number: &str) -> String {
    let grant = portal::grant(s, number);
    format!("number={}&grant={}", enc(number), enc(&grant))
}

/// The public upload address of a request, with its `proof_query`.
fn public_upload(proof: &str) -> String {
    format!("/api/v1/public/attachments?{proof}")
}

#[derive(Template, WebTemplate)]
#[template(path = "portal_track.html")]
struct TrackPage {
    ctx: Ctx,
    number: String,
    not_found: bool,
    found: Option<TrackedV>,
}

/// The tracking form's query.
#[derive(Deserialize)]
pub struct TrackParams {
    number: Option<String>,
}

/// `GET /ui/portal/track`.
pub async fn track_page(p: Public, Query(q): Query<TrackParams>) -> UiResult {
    Ok(TrackPage {
        ctx: p.ctx,
        number: q.number.unwrap_or_default(),
        not_found: false,
        found: None,
    }
    .into_response())
}

/// `POST /ui/portal/track`: status and public replies, only with the right query code.
pub async fn track(State(s): State<AppState>, p: Public, f: FormData) -> UiResult {
    let tr = p.ctx.tr;
    let number = f.text("number");
    let code = f.text("code");
    let tracked = portal::track(&s, &number, &code).await?;
    let proof = tracked
        .as_ref()
        .map(|t| proof_query(&s, &t.number))
        .unwrap_or_default();
    let files = match &tracked {
        Some(t) => attachments::public_of(&s, &t.number)
            .await?
            .into_iter()
            .map(|a| {
                let thumb = a
                    .thumbnail_url
                    .map(|u| format!("{u}?{proof}"))
                    .unwrap_or_default();
                (format!("{}?{proof}", a.url), thumb, a.name)
            })
            .collect(),
        None => Vec::new(),
    };
    let found = tracked.map(|t| TrackedV {
        upload: public_upload(&proof),
        files,
        status: tr.of("status", t.status.as_str()),
        created: local_time(&s, t.created_at),
        closed: t.closed_at.map(|c| local_time(&s, c)).unwrap_or_default(),
        answer: t.answer.unwrap_or_default(),
        replies: t
            .replies
            .into_iter()
            .map(|(at, text)| (local_time(&s, at), text))
            .collect(),
        number: t.number,
        title: t.title,
    });
    let status = if found.is_some() {
        StatusCode::OK
    } else {
        StatusCode::NOT_FOUND
    };
    let page = TrackPage {
        ctx: p.ctx,
        not_found: found.is_none(),
        number,
        found,
    };
    Ok((status, page).into_response())
}

/// Refuses a portal form over the portal's body limit (`JIESU_PORTAL_BODY_LIMIT`, smaller
/// than staff forms') with 413, before the form is read.
pub async fn body_limit(
    State(limit): State<usize>,
    req: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    let declared = req
        .headers()
        .get(axum::http::header::CONTENT_LENGTH)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.parse::<usize>().ok());
    if declared.is_some_and(|n| n > limit) {
        return UiError(AppError::TooLargeFor(limit)).into_response();
    }
    let (parts, body) = req.into_parts();
    match axum::body::to_bytes(body, limit).await {
        Ok(bytes) => {
            let req = axum::extract::Request::from_parts(parts, axum::body::Body::from(bytes));
            next.run(req).await
        }
        Err(_) => UiError(AppError::TooLargeFor(limit)).into_response(),
    }
}
