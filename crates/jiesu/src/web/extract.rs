//! Extractors that turn every kind of bad input into an `AppError` naming the problem:
//! JSON bodies, query strings, and the logged-in actor (bearer token or session cookie).

use crate::error::{AppError, FieldError};
use crate::services::{auth, AppState};
use crate::web::cookies;
use crate::web::ui::csrf;
use axum::extract::rejection::QueryRejection;
use axum::extract::{FromRequest, FromRequestParts, Query, Request};
use axum::http::request::Parts;
use jiesu_core::Actor;
use serde::de::DeserializeOwned;

/// The name of the browser session cookie.
pub const SESSION_COOKIE: &str = "jiesu_session";

/// A JSON body; bad JSON becomes a 4xx naming the field.
pub struct ApiJson<T>(pub T);

/// The path of the field a JSON body went wrong at (`assignments[0].role`,
/// `requester.phone`), from serde_path_to_error's path (an unknown field's path ends with
/// it); a missing field's name is added to its parent's path. None for an error at the top
/// (bad syntax, a body that is not an object).
fn field_of(err: &serde_path_to_error::Error<serde_json::Error>) -> Option<String> {
    let parent = err.path().to_string();
    let parent = if parent == "." { "" } else { parent.as_str() };
    let inner = err.inner().to_string();
    // serde names a missing field only in its message
    let named = inner
        .split("missing field `")
        .nth(1)
        .and_then(|s| s.split('`').next());
    match named {
        Some(name) if parent.is_empty() => Some(name.to_string()),
        Some(name) => Some(format!("{parent}.{name}")),
        None => (!parent.is_empty()).then(|| parent.to_string()),
    }
}

/// Deserializes a JSON body, or says what is wrong with it and where.
fn parse_json<T: DeserializeOwned>(bytes: &[u8]) -> Result<T, AppError> {
    let mut de = serde_json::Deserializer::from_slice(bytes);
    let err = match serde_path_to_error::deserialize::<_, T>(&mut de) {
        Ok(v) => match de.end() {
            Ok(()) => return Ok(v),
            Err(e) => return Err(AppError::Malformed(e.to_string(), Vec::new())),
        },
        Err(err) => err,
    };
    let detail = err.to_string();
    let fields = field_of(&err)
        .map(|f| vec![FieldError::new(f, detail.clone(), detail.clone())])
        .unwrap_or_default();
    Err(AppError::Malformed(detail, fields))
}

impl<T: DeserializeOwned, S: Send + Sync> FromRequest<S> for ApiJson<T> {
    type Rejection = AppError;

    async fn from_request(req: Request, state: &S) -> Result<Self, AppError> {
        if !is_json(req.headers()) {
            return Err(AppError::UnsupportedMediaType);
        }
        let bytes = match axum::body::Bytes::from_request(req, state).await {
            Ok(b) => b,
            Err(e) if e.status().as_u16() == 413 => return Err(AppError::TooLarge),
            Err(e) => {
                let timed_out = std::error::Error::source(&e).is_some_and(super::is_body_timeout);
                return Err(if timed_out {
                    AppError::BodyTimeout
                } else {
                    AppError::Malformed(e.body_text(), Vec::new())
                });
            }
        };
        let v = parse_json::<T>(&bytes)?;
        // JSON can carry control characters only as escapes (`\u0000`)
        if bytes.windows(4).any(|w| w == b"\\u00") {
            if let Ok(value) = serde_json::from_slice::<serde_json::Value>(&bytes) {
                if let Some(field) = control_character_at(&value, String::new()) {
                    return Err(AppError::invalid(field, "err.no_control_characters"));
                }
            }
        }
        Ok(ApiJson(v))
    }
}

/// A local date `YYYY-MM-DD` from input, in the years input may name (2000..=2100); anything
/// else is a 422 naming `field`. Every date parameter goes through here (or `Month::parse`),
/// so the day arithmetic done with it afterwards cannot leave chrono's range.
pub fn day(field: &str, s: &str) -> Result<chrono::NaiveDate, AppError> {
    jiesu_core::dates::parse_day(s).map_err(|e| match e {
        jiesu_core::dates::DateError::Shape => {
            AppError::invalid(field, "err.must_be_a_date_yyyy_mm")
        }
        jiesu_core::dates::DateError::OutOfRange => {
            AppError::invalid(field, "err.date_out_of_range")
        }
    })
}

/// An optional whole-number parameter in `min..=max`; anything else is a 422 naming `field`.
pub fn bounded(
    field: &str,
    v: Option<i64>,
    default: i64,
    min: i64,
    max: i64,
) -> Result<i64, AppError> {
    match v {
        None => Ok(default),
        Some(n) if (min..=max).contains(&n) => Ok(n),
        Some(_) => Err(AppError::invalid_with(
            field,
            "err.must_be_a_whole_number_min_max",
            &[("min", min.to_string()), ("max", max.to_string())],
        )),
    }
}

/// Whether the request says its body is JSON (`application/json`, `application/*+json`), as
/// axum's `Json` asks.
fn is_json(headers: &axum::http::HeaderMap) -> bool {
    let Some(ct) = headers
        .get(axum::http::header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
    else {
        return false;
    };
    let essence = ct
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
}

/// The path (`requester.name`, `assignments[0].note`) of the first string in a JSON value
/// that carries a control character other than tab, line feed and carriage return (text
/// fields may be multi-line; NUL and the rest are refused).
pub fn control_character_at(v: &serde_json::Value, path: String) -> Option<String> {
    use serde_json::Value;
    let join = |key: &str| {
        if path.is_empty() {
            key.to_string()
        } else {
            format!("{path}.{key}")
        }
    };
    match v {
        Value::String(s) => s
            .chars()
            .any(|c| super::forbidden_control(c, true))
            .then(|| {
                if path.is_empty() {
                    "body".into()
                } else {
                    path.clone()
                }
            }),
        Value::Array(items) => items
            .iter()
            .enumerate()
            .find_map(|(i, item)| control_character_at(item, format!("{path}[{i}]"))),
        Value::Object(map) => map.iter().find_map(|(k, item)| {
            if k.chars().any(|c| super::forbidden_control(c, false)) {
                Some(join("(key)"))
            } else {
                control_character_at(item, join(k))
            }
        }),
        _ => None,
    }
}

/// A query string; bad parameters become a 400 naming them.
pub struct ApiQuery<T>(pub T);

impl<T: DeserializeOwned, S: Send + Sync> FromRequestParts<S> for ApiQuery<T> {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &S) -> Result<Self, AppError> {
        Query::<T>::from_request_parts(parts, state)
            .await
            .map(|Query(v)| ApiQuery(v))
            .map_err(|e: QueryRejection| AppError::Malformed(e.body_text(), Vec::new()))
    }
}

/// The session token of a request: `Authorization: Bearer …`, else the session cookie (under
/// its name on this connection, see `web::cookies`); `true` when it came from the cookie.
pub fn token_of(parts: &Parts, state: &AppState) -> Option<(String, bool)> {
    if let Some(v) = parts
        .headers
        .get(axum::http::header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
    {
        return v
            .strip_prefix("Bearer ")
            .map(|t| (t.trim().to_string(), false));
    }
    let https = cookies::is_https(&parts.headers, &parts.extensions, &state.config);
    cookies::read(&parts.headers, SESSION_COOKIE, https).map(|t| (t, true))
}

/// The session token of a request that may act with it: a bearer token always; the session
/// cookie for reads, and for writes only with the CSRF token of that session in
/// `X-CSRF-Token` (a cross-site page can send the cookie but cannot know the token). 401
/// without a token, 403 for a cookie write without the right CSRF token.
pub fn acting_token(parts: &Parts, state: &AppState) -> Result<String, AppError> {
    let (token, from_cookie) = token_of(parts, state).ok_or(AppError::Unauthenticated)?;
    if from_cookie && !parts.method.is_safe() {
        let given = parts
            .headers
            .get(csrf::HEADER)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("");
        if !csrf::verify(&token, given) {
            return Err(AppError::Forbidden(
                "a write with the session cookie needs its X-CSRF-Token header (or use a bearer token)",
            ));
        }
    }
    Ok(token)
}

/// The logged-in user; 401 without a live session, 403 for a cookie-authenticated write
/// without its CSRF token (see [`acting_token`]).
pub struct Auth(pub Actor);

impl FromRequestParts<AppState> for Auth {
    type Rejection = AppError;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, AppError> {
        let token = acting_token(parts, state)?;
        auth::actor_for_token(state, &token)
            .await?
            .map(Auth)
            .ok_or(AppError::Unauthenticated)
    }
}

#[cfg(test)]
mod tests {
    use super::parse_json;
    use crate::error::AppError;
    use serde::Deserialize;

    #[allow(dead_code)]
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Body {
        kind: Kind,
        text: String,
        requester: Option<Requester>,
        assignments: Option<Vec<Order>>,
    }
    #[allow(dead_code)]
    #[derive(Deserialize)]
    #[serde(rename_all = "snake_case")]
    enum Kind {
        Help,
    }
    #[allow(dead_code)]
    #[derive(Deserialize)]
    #[serde(deny_unknown_fields)]
    struct Requester {
        phone: String,
    }
    #[allow(dead_code)]
    #[derive(Deserialize)]
    struct Order {
        role: Kind,
    }

    fn field(body: &str) -> Option<String> {
        match parse_json::<Body>(body.as_bytes()) {
            Err(AppError::Malformed(_, fields)) => fields.first().map(|f| f.field.clone()),
            Err(e) => panic!("{e:?}"),
            Ok(_) => panic!("{body} parsed"),
        }
    }

    #[test]
    fn field_paths_come_from_serde_path_to_error() {
        let ok = r#"{"kind":"help","text":"t","assignments":[{"role":"help"}]}"#;
        assert!(parse_json::<Body>(ok.as_bytes()).is_ok());
        let t = r#"{"kind":"help","text":"t","assignments":[{"role":"boss"}]}"#;
        assert_eq!(field(t).as_deref(), Some("assignments[0].role"));
        assert_eq!(field(r#"{"kind":"help"}"#).as_deref(), Some("text"));
        let t = r#"{"kind":"help","text":"t","requester":{}}"#;
        assert_eq!(field(t).as_deref(), Some("requester.phone"));
        let t = r#"{"kind":"help","text":"t","requester":{"phone":"1","age":3}}"#;
        assert_eq!(field(t).as_deref(), Some("requester.age"));
        assert_eq!(field(r#"{"kind":3,"text":"t"}"#).as_deref(), Some("kind"));
        assert_eq!(field("\"a string\""), None);
        assert_eq!(field(r#"{"kind":"help","text":"t"} x"#), None);
    }
}
