//! Open311 GeoReport v2 under `/open311/v2`, discovery at `/open311/discovery.{json,xml}`:
//! the arguments read as the standard sends them (query string, form body, `attribute[code]`),
//! answers in XML (required) or JSON with `charset=utf-8`, errors as the standard's list with
//! 400, 403, 404 (and 429 over a key's rate). Handlers parse and shape; the rules are in
//! `services::open311`.

mod args;
pub mod render;

use crate::error::AppError;
use crate::messages::Lang;
use crate::services::open311::{self as o311, keys::KeyLimiter, requests};
use crate::services::AppState;
use args::Args;
use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::{header, HeaderMap, HeaderValue, StatusCode, Uri};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use render::{answer, Format, Node};
use std::sync::Arc;

/// The standard's specification URL, named in discovery.
const SPEC: &str = "http://wiki.open311.org/GeoReport_v2";
/// When this endpoint's interface last changed (discovery's `changeset`).
const CHANGESET: &str = "2026-12-04T00:00:00Z";

/// What the Open311 handlers share.
#[derive(Clone)]
pub struct Open311 {
    state: AppState,
    limiter: Arc<KeyLimiter>,
}

/// The Open311 routes, with a per-key limiter of their own.
pub fn routes(state: &AppState) -> Router<AppState> {
    let o = Open311 {
        state: state.clone(),
        limiter: Arc::new(KeyLimiter::new(state.config.rate_open311)),
    };
    let mut r = Router::new()
        .route("/open311/{file}", get(discovery))
        .route("/open311/v2/{file}", get(unknown));
    // Static paths, so that each answers 405 with exactly its own methods in `Allow`.
    for ext in ["json", "xml"] {
        let services = format!("services.{ext}");
        let requests = format!("requests.{ext}");
        let (s, q, p) = (services.clone(), requests.clone(), requests.clone());
        r = r
            .route(
                &format!("/open311/v2/{services}"),
                get(move |st: State<Open311>, uri: Uri, h: HeaderMap| top_get(st, s, uri, h)),
            )
            .route(
                &format!("/open311/v2/{requests}"),
                get(move |st: State<Open311>, uri: Uri, h: HeaderMap| top_get(st, q, uri, h)).post(
                    move |st: State<Open311>,
                          uri: Uri,
                          h: HeaderMap,
                          b: Result<Bytes, BytesRejection>| {
                        top_post(st, p, uri, h, b)
                    },
                ),
            );
    }
    r.route("/open311/v2/services/{file}", get(definition))
        .route("/open311/v2/requests/{file}", get(one_request))
        .route("/open311/v2/tokens/{file}", get(token))
        .with_state(o)
}

fn lang(headers: &HeaderMap) -> Lang {
    headers
        .get(header::ACCEPT_LANGUAGE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| Lang::parse(v.trim()))
        .unwrap_or(Lang::Zh)
}

/// The standard's error list for an error, in `format`.
fn error(e: AppError, format: Format, lang: Lang) -> Response {
    let status = match &e {
        AppError::Invalid(_) | AppError::Malformed(..) => StatusCode::BAD_REQUEST,
        AppError::Forbidden(_) | AppError::Unauthenticated => StatusCode::FORBIDDEN,
        AppError::NotFound(_) => StatusCode::NOT_FOUND,
        AppError::TooManyRequests(_) | AppError::TooManyAttempts(_) => {
            StatusCode::TOO_MANY_REQUESTS
        }
        AppError::Internal(err) => {
            tracing::error!(error = ?err, "open311: internal error");
            StatusCode::INTERNAL_SERVER_ERROR
        }
        _ => StatusCode::BAD_REQUEST,
    };
    let pick = |(zh, en): (String, String)| lang.pick(&zh, &en).to_string();
    let mut items: Vec<Node> = e
        .fields()
        .iter()
        .map(|f| {
            let msg = lang.pick(&f.message, &f.message_en);
            error_item(status, format!("{}: {msg}", f.field))
        })
        .collect();
    if items.is_empty() {
        let key = match status {
            StatusCode::FORBIDDEN => "err.open311.api_key",
            StatusCode::NOT_FOUND => "err.open311.not_found",
            StatusCode::TOO_MANY_REQUESTS => "err.open311.too_many",
            _ => "error.internal",
        };
        items.push(error_item(status, pick(crate::messages::pair(key, &[]))));
    }
    let mut resp = answer(status, format, "errors", &Node::List("error", items));
    if let AppError::TooManyRequests(s) | AppError::TooManyAttempts(s) = e {
        resp.headers_mut()
            .insert(header::RETRY_AFTER, HeaderValue::from(s));
    }
    resp
}

fn error_item(status: StatusCode, description: String) -> Node {
    Node::Obj(vec![
        ("code", Node::Int(i64::from(status.as_u16()))),
        ("description", Node::text(description)),
    ])
}

fn not_found(format: Format, lang: Lang) -> Response {
    error(AppError::NotFound("resource"), format, lang)
}

async fn discovery(Path(file): Path<String>, headers: HeaderMap) -> Response {
    let lang = lang(&headers);
    let Some(("discovery", format)) = Format::split(&file) else {
        return not_found(Format::of(&file), lang);
    };
    let host = headers
        .get(header::HOST)
        .and_then(|h| h.to_str().ok())
        .filter(|h| h.chars().all(|c| c.is_ascii_graphic()))
        .unwrap_or("127.0.0.1");
    let t = |key: &str| {
        let (zh, en) = crate::messages::pair(key, &[]);
        lang.pick(&zh, &en).to_string()
    };
    let endpoint = Node::Obj(vec![
        ("specification", Node::text(SPEC)),
        ("url", Node::text(format!("http://{host}/open311/v2"))),
        ("changeset", Node::text(CHANGESET)),
        ("type", Node::text("production")),
        (
            "formats",
            Node::List(
                "format",
                vec![Node::text("text/xml"), Node::text("application/json")],
            ),
        ),
    ]);
    let doc = Node::Obj(vec![
        ("changeset", Node::text(CHANGESET)),
        ("contact", Node::text(t("open311.contact"))),
        ("key_service", Node::text(t("open311.key_service"))),
        ("endpoints", Node::List("endpoint", vec![endpoint])),
    ]);
    answer(StatusCode::OK, format, "discovery", &doc)
}

async fn unknown(Path(file): Path<String>, headers: HeaderMap) -> Response {
    not_found(Format::of(&file), lang(&headers))
}

async fn top_get(State(o): State<Open311>, file: String, uri: Uri, headers: HeaderMap) -> Response {
    let lang = lang(&headers);
    match Format::split(&file) {
        Some(("services", f)) => match services(&o, &uri, lang).await {
            Ok(n) => answer(StatusCode::OK, f, "services", &n),
            Err(e) => error(e, f, lang),
        },
        Some(("requests", f)) => match list_requests(&o, &uri, lang).await {
            Ok(n) => answer(StatusCode::OK, f, "service_requests", &n),
            Err(e) => error(e, f, lang),
        },
        _ => not_found(Format::of(&file), lang),
    }
}

async fn top_post(
    State(o): State<Open311>,
    file: String,
    uri: Uri,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Response {
    let lang = lang(&headers);
    match (Format::split(&file), body) {
        (Some(("requests", f)), Ok(body)) => match create(&o, &uri, &body).await {
            Ok(n) => answer(StatusCode::OK, f, "service_requests", &n),
            Err(e) => error(e, f, lang),
        },
        // A body over the server's limit (or cut off) is answered in the standard's error
        // list like any other bad input, not with the framework's plain-text 413.
        (Some(("requests", f)), Err(_)) => error(
            AppError::invalid_with(
                "body",
                "err.open311.body",
                &[("max", (super::BODY_LIMIT / 1024).to_string())],
            ),
            f,
            lang,
        ),
        _ => not_found(Format::of(&file), lang),
    }
}

async fn services(o: &Open311, uri: &Uri, lang: Lang) -> Result<Node, AppError> {
    Args::query(uri)?.single("jurisdiction_id")?;
    let list = o311::services(&o.state, lang).await?;
    Ok(Node::List(
        "service",
        list.into_iter()
            .map(|s| {
                Node::Obj(vec![
                    ("service_code", Node::text(s.code)),
                    ("service_name", Node::text(s.name)),
                    ("description", Node::text(s.description)),
                    ("metadata", Node::Bool(true)),
                    ("type", Node::text("realtime")),
                    (
                        "keywords",
                        Node::opt(Some(s.keywords).filter(|k| !k.is_empty())),
                    ),
                    ("group", Node::text(s.group)),
                ])
            })
            .collect(),
    ))
}

async fn definition(
    State(o): State<Open311>,
    Path(file): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let lang = lang(&headers);
    let Some((code, f)) = Format::split(&file) else {
        return not_found(Format::of(&file), lang);
    };
    let result = async {
        Args::query(&uri)?.single("jurisdiction_id")?;
        let s = o311::service(&o.state, code, lang).await?;
        let attrs = o311::attributes(lang)
            .into_iter()
            .map(|a| {
                let values = (!a.values.is_empty()).then(|| {
                    a.values
                        .into_iter()
                        .map(|(k, n)| {
                            Node::Obj(vec![("key", Node::text(k)), ("name", Node::text(n))])
                        })
                        .collect()
                });
                Node::Obj(vec![
                    ("variable", Node::Bool(true)),
                    ("code", Node::text(a.code)),
                    ("datatype", Node::text(a.datatype)),
                    ("required", Node::Bool(a.required)),
                    ("datatype_description", Node::Text(None)),
                    ("order", Node::Int(a.order)),
                    ("description", Node::text(a.description)),
                    (
                        "values",
                        values.map_or(Node::Text(None), |v| Node::List("value", v)),
                    ),
                ])
            })
            .collect();
        Ok::<_, AppError>(Node::Obj(vec![
            ("service_code", Node::text(s.code)),
            ("attributes", Node::List("attribute", attrs)),
        ]))
    }
    .await;
    match result {
        Ok(n) => answer(StatusCode::OK, f, "service_definition", &n),
        Err(e) => error(e, f, lang),
    }
}

async fn create(o: &Open311, uri: &Uri, body: &Bytes) -> Result<Node, AppError> {
    let sub = Args::submission(uri, body)?;
    let created = requests::create(&o.state, &o.limiter, sub).await?;
    Ok(Node::List(
        "request",
        vec![Node::Obj(vec![
            ("service_request_id", Node::text(created.service_request_id)),
            ("token", Node::text(created.token)),
            ("service_notice", Node::Text(None)),
            ("account_id", Node::Text(None)),
        ])],
    ))
}

async fn list_requests(o: &Open311, uri: &Uri, lang: Lang) -> Result<Node, AppError> {
    let args = Args::query(uri)?;
    let (filter, extensions) = args.listing(o.state.clock.now())?;
    let list = requests::list(&o.state, &filter, lang).await?;
    Ok(request_list(&o.state, list, extensions))
}

async fn one_request(
    State(o): State<Open311>,
    Path(file): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let lang = lang(&headers);
    let Some((id, f)) = Format::split(&file) else {
        return not_found(Format::of(&file), lang);
    };
    let result = async {
        let args = Args::query(&uri)?;
        args.single("jurisdiction_id")?;
        let extensions = args.flag("extensions")?;
        if !args::plain(id) {
            return Err(AppError::NotFound("request"));
        }
        let r = requests::one(&o.state, id, lang).await?;
        Ok(request_list(&o.state, vec![r], extensions))
    }
    .await;
    match result {
        Ok(n) => answer(StatusCode::OK, f, "service_requests", &n),
        Err(e) => error(e, f, lang),
    }
}

async fn token(
    State(o): State<Open311>,
    Path(file): Path<String>,
    uri: Uri,
    headers: HeaderMap,
) -> Response {
    let lang = lang(&headers);
    let Some((id, f)) = Format::split(&file) else {
        return not_found(Format::of(&file), lang);
    };
    let result = async {
        Args::query(&uri)?.single("jurisdiction_id")?;
        if !args::plain(id) {
            return Err(AppError::NotFound("token"));
        }
        let (token, number) = requests::token(&o.state, id).await?;
        Ok(Node::List(
            "request",
            vec![Node::Obj(vec![
                ("service_request_id", Node::opt(number)),
                ("token", Node::text(token)),
            ])],
        ))
    }
    .await;
    match result {
        Ok(n) => answer(StatusCode::OK, f, "service_requests", &n),
        Err(e) => error(e, f, lang),
    }
}

fn request_list(state: &AppState, list: Vec<requests::PublicRequest>, extensions: bool) -> Node {
    let offset = state.config.offset();
    let date = |t: chrono::DateTime<chrono::Utc>| {
        t.with_timezone(&offset)
            .to_rfc3339_opts(chrono::SecondsFormat::Secs, false)
    };
    Node::List(
        "request",
        list.into_iter()
            .map(|r| {
                let mut fields = vec![
                    ("service_request_id", Node::text(r.service_request_id)),
                    (
                        "status",
                        Node::text(if r.closed { "closed" } else { "open" }),
                    ),
                    ("status_notes", Node::opt(r.status_notes)),
                    ("service_name", Node::opt(r.service_name)),
                    ("service_code", Node::text(r.service_code)),
                    ("description", Node::text(r.description)),
                    ("agency_responsible", Node::opt(r.agency_responsible)),
                    ("service_notice", Node::Text(None)),
                    ("requested_datetime", Node::text(date(r.requested))),
                    ("updated_datetime", Node::text(date(r.updated))),
                    ("expected_datetime", Node::opt(r.expected.map(date))),
                    ("address", Node::opt(r.address)),
                    ("address_id", Node::opt(r.address_id)),
                    ("zipcode", Node::Text(None)),
                    ("lat", Node::Num(r.lat)),
                    ("long", Node::Num(r.lon)),
                    ("media_url", Node::opt(r.media_url)),
                ];
                if extensions {
                    fields.push((
                        "extended_attributes",
                        Node::Obj(vec![
                            ("channel", Node::text(r.channel.as_str())),
                            ("kind", Node::text(r.kind.as_str())),
                            ("state", Node::text(r.state.as_str())),
                        ]),
                    ));
                }
                Node::Obj(fields)
            })
            .collect(),
    )
}
