//! Attachments in the API (issue 20): uploads as raw bodies (streamed, never read whole),
//! downloads streamed with `Range`, the right type and an RFC 6266 file name, the public
//! tracking page's files, and the categories' evidence rules.

use super::extract::{ApiJson, ApiQuery, Auth};
use super::limits::{Kind, Limits};
use crate::error::AppError;
use crate::services::attachments::{
    self, AttachmentView, Download, EvidenceRule, Target, UploadMeta, Variant,
};
use crate::services::portal::Proof;
use crate::services::AppState;
use axum::body::{Body, Bytes};
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post, put};
use axum::{Json, Router};
use futures_util::{Stream, StreamExt};
use serde::Deserialize;

/// The routes, relative to `/api/v1`; `limits` puts the requester's uploads under the
/// portal's per-address limit (one allowance with the portal's submissions).
pub fn routes(limits: &Limits) -> Router<AppState> {
    Router::new()
        .route(
            "/requests/{id}/attachments",
            post(upload_to_request).get(list),
        )
        .route("/assignments/{id}/attachments", post(upload_to_order))
        .route("/attachments/{id}", get(file).delete(remove))
        .route("/attachments/{id}/thumbnail", get(thumbnail))
        .route("/attachments/{id}/original", get(original))
        .route(
            "/public/attachments",
            limits.api(Kind::Portal, post(public_upload).get(public_list)),
        )
        .route("/public/attachments/{id}", get(public_file))
        .route("/public/attachments/{id}/thumbnail", get(public_thumbnail))
        .route("/evidence-rules", get(evidence_rules))
        .route("/categories/{code}/evidence", put(set_evidence_rule))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct UploadParams {
    name: Option<String>,
    #[serde(default)]
    public: bool,
}

fn meta(p: UploadParams, headers: &HeaderMap) -> UploadMeta {
    UploadMeta {
        name: p.name,
        public: p.public,
        content_length: headers
            .get(header::CONTENT_LENGTH)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok()),
    }
}

/// The body as a stream of pieces; a stalled body becomes 408.
fn stream(body: Body) -> impl Stream<Item = Result<Bytes, AppError>> + Unpin {
    body.into_data_stream().map(|r| {
        r.map_err(|e| {
            if std::error::Error::source(&e).is_some_and(super::is_body_timeout) {
                AppError::BodyTimeout
            } else {
                AppError::Malformed(e.to_string(), Vec::new())
            }
        })
    })
}

async fn upload_to_request(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    ApiQuery(p): ApiQuery<UploadParams>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<AttachmentView>), AppError> {
    let target = Target::Request(id);
    let v = attachments::upload(&s, &actor, target, meta(p, &headers), stream(body)).await?;
    Ok((StatusCode::CREATED, Json(v)))
}

async fn upload_to_order(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    ApiQuery(p): ApiQuery<UploadParams>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<AttachmentView>), AppError> {
    let target = Target::Order(id);
    let v = attachments::upload(&s, &actor, target, meta(p, &headers), stream(body)).await?;
    Ok((StatusCode::CREATED, Json(v)))
}

async fn list(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<Json<Vec<AttachmentView>>, AppError> {
    Ok(Json(attachments::list(&s, &actor, &id).await?))
}

async fn file(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let d = attachments::fetch(&s, &actor, &id, Variant::Stored).await?;
    Ok(send(&s, d, &headers))
}

async fn thumbnail(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let d = attachments::fetch(&s, &actor, &id, Variant::Thumbnail).await?;
    Ok(send(&s, d, &headers))
}

async fn original(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let d = attachments::fetch(&s, &actor, &id, Variant::Original).await?;
    Ok(send(&s, d, &headers))
}

async fn remove(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(id): Path<String>,
) -> Result<StatusCode, AppError> {
    attachments::remove(&s, &actor, &id).await?;
    Ok(StatusCode::NO_CONTENT)
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct PublicParams {
    #[serde(default)]
    number: String,
    #[serde(default)]
    code: String,
    /// A grant the portal's pages made (instead of the code).
    #[serde(default)]
    grant: String,
    name: Option<String>,
}

impl PublicParams {
    /// The grant when one is given, else the query code.
    fn proof(&self) -> Proof {
        if self.grant.is_empty() {
            Proof::Code(self.code.clone())
        } else {
            Proof::Grant(self.grant.clone())
        }
    }
}

async fn public_upload(
    State(s): State<AppState>,
    ApiQuery(p): ApiQuery<PublicParams>,
    headers: HeaderMap,
    body: Body,
) -> Result<(StatusCode, Json<AttachmentView>), AppError> {
    let actor = crate::services::portal::portal_actor();
    let target = Target::Requester {
        proof: p.proof(),
        number: p.number,
    };
    let m = meta(
        UploadParams {
            name: p.name,
            public: true,
        },
        &headers,
    );
    let v = attachments::upload(&s, &actor, target, m, stream(body)).await?;
    Ok((StatusCode::CREATED, Json(v)))
}

async fn public_list(
    State(s): State<AppState>,
    ApiQuery(p): ApiQuery<PublicParams>,
) -> Result<Json<Vec<AttachmentView>>, AppError> {
    Ok(Json(
        attachments::public_list(&s, &p.number, &p.proof()).await?,
    ))
}

async fn public_file(
    State(s): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(p): ApiQuery<PublicParams>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let d = attachments::public_fetch(&s, &p.number, &p.proof(), &id, Variant::Stored).await?;
    Ok(send(&s, d, &headers))
}

async fn public_thumbnail(
    State(s): State<AppState>,
    Path(id): Path<String>,
    ApiQuery(p): ApiQuery<PublicParams>,
    headers: HeaderMap,
) -> Result<Response, AppError> {
    let d = attachments::public_fetch(&s, &p.number, &p.proof(), &id, Variant::Thumbnail).await?;
    Ok(send(&s, d, &headers))
}

async fn evidence_rules(
    State(s): State<AppState>,
    Auth(_actor): Auth,
) -> Result<Json<serde_json::Value>, AppError> {
    let categories = attachments::photo_categories(&s).await?;
    Ok(Json(
        serde_json::json!({ "reply_requires_photo": categories }),
    ))
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct RuleInput {
    reply_requires_photo: bool,
}

async fn set_evidence_rule(
    State(s): State<AppState>,
    Auth(actor): Auth,
    Path(code): Path<String>,
    ApiJson(input): ApiJson<RuleInput>,
) -> Result<Json<EvidenceRule>, AppError> {
    Ok(Json(
        attachments::set_evidence_rule(&s, &actor, &code, input.reply_requires_photo).await?,
    ))
}

/// Which bytes a `Range` header asks for: None for the whole file, Err when it cannot be
/// met (416). One range only; a header that is not `bytes=` is ignored, as RFC 9110 allows.
fn range_of(header: Option<&str>, size: u64) -> Result<Option<(u64, u64)>, ()> {
    let Some(spec) = header.and_then(|h| h.trim().strip_prefix("bytes=")) else {
        return Ok(None);
    };
    if spec.contains(',') {
        return Ok(None);
    }
    let (a, b) = spec.split_once('-').ok_or(())?;
    let (a, b) = (a.trim(), b.trim());
    let range = if a.is_empty() {
        let n: u64 = b.parse().map_err(|_| ())?;
        if n == 0 || size == 0 {
            return Err(());
        }
        (size.saturating_sub(n), size)
    } else {
        let start: u64 = a.parse().map_err(|_| ())?;
        let end = if b.is_empty() {
            size
        } else {
            b.parse::<u64>()
                .map_err(|_| ())?
                .saturating_add(1)
                .min(size)
        };
        if start >= size || start >= end {
            return Err(());
        }
        (start, end)
    };
    Ok(Some(range))
}

/// `inline` (or `attachment` for a PDF) with an ASCII fallback and the UTF-8 name.
fn disposition(name: &str, inline: bool) -> String {
    let ascii: String = name
        .chars()
        .map(|c| {
            if c.is_ascii_graphic() && c != '"' && c != '\\' || c == ' ' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let mut encoded = String::new();
    for b in name.bytes() {
        if b.is_ascii_alphanumeric() || b"!#$&+-.^_`|~".contains(&b) {
            encoded.push(char::from(b));
        } else {
            encoded.push_str(&format!("%{b:02X}"));
        }
    }
    let how = if inline { "inline" } else { "attachment" };
    format!("{how}; filename=\"{ascii}\"; filename*=UTF-8''{encoded}")
}

fn send(s: &AppState, d: Download, headers: &HeaderMap) -> Response {
    let size = u64::try_from(d.blob.size).unwrap_or(0);
    let asked = headers.get(header::RANGE).and_then(|v| v.to_str().ok());
    let (status, start, end) = match range_of(asked, size) {
        Ok(None) => (StatusCode::OK, 0, size),
        Ok(Some((a, b))) => (StatusCode::PARTIAL_CONTENT, a, b),
        Err(()) => {
            let mut r = StatusCode::RANGE_NOT_SATISFIABLE.into_response();
            if let Ok(v) = HeaderValue::from_str(&format!("bytes */{size}")) {
                r.headers_mut().insert(header::CONTENT_RANGE, v);
            }
            return r;
        }
    };
    let body = Body::from_stream(attachments::bytes_of(s, &d, start, end));
    let mut r = Response::new(body);
    *r.status_mut() = status;
    let h = r.headers_mut();
    let inline = d.kind != attachments::media::Kind::Pdf;
    let pairs = [
        (header::CONTENT_TYPE, d.content_type.clone()),
        (header::CONTENT_LENGTH, (end - start).to_string()),
        (header::ACCEPT_RANGES, "bytes".into()),
        (header::CONTENT_DISPOSITION, disposition(&d.name, inline)),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff".into()),
        (header::CACHE_CONTROL, "private, max-age=300".into()),
        (
            header::CONTENT_SECURITY_POLICY,
            "default-src 'none'; sandbox".into(),
        ),
    ];
    for (k, v) in pairs {
        if let Ok(v) = HeaderValue::from_str(&v) {
            h.insert(k, v);
        }
    }
    if status == StatusCode::PARTIAL_CONTENT {
        if let Ok(v) = HeaderValue::from_str(&format!("bytes {start}-{}/{size}", end - 1)) {
            h.insert(header::CONTENT_RANGE, v);
        }
    }
    r
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ranges_are_read_as_rfc_9110_says() {
        assert_eq!(range_of(None, 100), Ok(None));
        assert_eq!(range_of(Some("bytes=0-9"), 100), Ok(Some((0, 10))));
        assert_eq!(range_of(Some("bytes=90-"), 100), Ok(Some((90, 100))));
        assert_eq!(range_of(Some("bytes=-5"), 100), Ok(Some((95, 100))));
        assert_eq!(range_of(Some("bytes=50-500"), 100), Ok(Some((50, 100))));
        assert_eq!(range_of(Some("bytes=100-"), 100), Err(()));
        assert_eq!(range_of(Some("bytes=9-3"), 100), Err(()));
        assert_eq!(range_of(Some("items=0-1"), 100), Ok(None));
    }

    #[test]
    fn a_chinese_name_is_sent_as_rfc_6266_says() {
        assert_eq!(
            disposition("垃圾 堆.jpg", true),
            "inline; filename=\"__ _.jpg\"; filename*=UTF-8''%E5%9E%83%E5%9C%BE%20%E5%A0%86.jpg"
        );
    }
}
