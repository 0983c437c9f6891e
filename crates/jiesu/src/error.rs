//! The one error type the services return and the web edge renders. Every variant has a
//! stable code the UI translates, and a message in Chinese and English; a 500 never shows
//! its cause, which is logged instead.

use crate::messages;
use crate::store::StoreError;
use jiesu_core::kpi;
use jiesu_core::workflow::TransitionError;
use serde::Serialize;

/// One bad field of the input.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct FieldError {
    /// The field, as named in the API (`requester.phone`, `assignments[0].unit_code`).
    pub field: String,
    /// What is wrong, in Chinese.
    pub message: String,
    /// What is wrong, in English.
    #[serde(skip)]
    pub message_en: String,
}

impl FieldError {
    /// A field error with both languages written out (for text that comes from elsewhere,
    /// such as the domain's own messages); services name a key of the table instead.
    pub fn new(field: impl Into<String>, zh: impl Into<String>, en: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: zh.into(),
            message_en: en.into(),
        }
    }

    /// A field error whose message is the table's text for `key`.
    pub fn of(field: impl Into<String>, key: &str) -> Self {
        Self::with(field, key, &[])
    }

    /// A field error whose message is the table's text for `key`, its `{placeholders}` filled.
    pub fn with(field: impl Into<String>, key: &str, args: &[(&str, String)]) -> Self {
        let (zh, en) = messages::pair(key, args);
        Self::new(field, zh, en)
    }
}

/// Everything that can go wrong with a call.
#[derive(Debug, thiserror::Error)]
pub enum AppError {
    /// 400: the body is not the JSON we expect.
    #[error("malformed request: {0}")]
    Malformed(String, Vec<FieldError>),
    /// 422: well-formed, but fields are invalid.
    #[error("invalid input")]
    Invalid(Vec<FieldError>),
    /// 401: no or expired login.
    #[error("not logged in")]
    Unauthenticated,
    /// 401: wrong username or password.
    #[error("wrong username or password")]
    BadCredentials,
    /// 403: the role or unit may not do this.
    #[error("forbidden: {0}")]
    Forbidden(&'static str),
    /// 404: no such thing (or not visible to this user).
    #[error("{0} not found")]
    NotFound(&'static str),
    /// 409: not possible in the current state, or someone else changed it first.
    #[error("conflict: {0}")]
    Conflict(String),
    /// 413: the body is over the limit.
    #[error("payload too large")]
    TooLarge,
    /// 413: the body is over this form's smaller limit (bytes), such as the public portal's.
    #[error("payload over {0} bytes")]
    TooLargeFor(usize),
    /// 415: the body is not JSON.
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// An uploaded file over its kind's limit (413, naming the field).
    #[error("file too large")]
    FileTooLarge(Vec<FieldError>),
    /// 408: the request body stalled longer than the body timeout.
    #[error("request body timed out")]
    BodyTimeout,
    /// 429: too many failed logins; retry after the given seconds.
    #[error("too many attempts")]
    TooManyAttempts(i64),
    /// 429: too many requests from this address, or too many attempts at one request's
    /// tracking; retry after the given seconds.
    #[error("too many requests")]
    TooManyRequests(i64),
    /// 503: too many logins waiting for a password check; retry after the given seconds.
    #[error("busy")]
    Busy(i64),
    /// 503: the database cannot take the write now (a failover is under way); retry after
    /// the given seconds. A write cut off at its commit may have been kept (its outcome is
    /// unknown); anything cut off before was undone whole.
    #[error("unavailable")]
    Unavailable(i64),
    /// 500: a fault of ours; logged, never shown.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    /// One invalid field, its message the table's text for `key`.
    pub fn invalid(field: impl Into<String>, key: &str) -> AppError {
        AppError::Invalid(vec![FieldError::of(field, key)])
    }

    /// One invalid field, its message the table's text for `key` with `{placeholders}` filled.
    pub fn invalid_with(field: impl Into<String>, key: &str, args: &[(&str, String)]) -> AppError {
        AppError::Invalid(vec![FieldError::with(field, key, args)])
    }

    /// One invalid field with both languages written out.
    pub fn field(field: &str, zh: &str, en: &str) -> AppError {
        AppError::Invalid(vec![FieldError::new(field, zh, en)])
    }

    /// The HTTP status.
    pub fn status(&self) -> u16 {
        match self {
            AppError::Malformed(..) => 400,
            AppError::Invalid(_) => 422,
            AppError::Unauthenticated | AppError::BadCredentials => 401,
            AppError::Forbidden(_) => 403,
            AppError::NotFound(_) => 404,
            AppError::Conflict(_) => 409,
            AppError::TooLarge | AppError::TooLargeFor(_) | AppError::FileTooLarge(_) => 413,
            AppError::UnsupportedMediaType => 415,
            AppError::BodyTimeout => 408,
            AppError::TooManyAttempts(_) | AppError::TooManyRequests(_) => 429,
            AppError::Busy(_) | AppError::Unavailable(_) => 503,
            AppError::Internal(_) => 500,
        }
    }

    /// The stable code.
    pub fn code(&self) -> &'static str {
        match self {
            AppError::Malformed(..) => "malformed",
            AppError::Invalid(_) => "invalid",
            AppError::Unauthenticated => "unauthenticated",
            AppError::BadCredentials => "bad_credentials",
            AppError::Forbidden(_) => "forbidden",
            AppError::NotFound(_) => "not_found",
            AppError::Conflict(_) => "conflict",
            AppError::TooLarge | AppError::TooLargeFor(_) | AppError::FileTooLarge(_) => {
                "payload_too_large"
            }
            AppError::UnsupportedMediaType => "unsupported_media_type",
            AppError::BodyTimeout => "body_timeout",
            AppError::TooManyAttempts(_) => "too_many_attempts",
            AppError::TooManyRequests(_) => "too_many_requests",
            AppError::Busy(_) => "busy",
            AppError::Unavailable(_) => "unavailable",
            AppError::Internal(_) => "internal",
        }
    }

    /// The message in Chinese (`en == false`) or English, from the message table.
    pub fn message(&self, en: bool) -> String {
        let arg = |name: &'static str, v: &dyn std::fmt::Display| vec![(name, v.to_string())];
        let (key, args) = match self {
            AppError::Malformed(d, _) => ("api.malformed", arg("detail", d)),
            AppError::Invalid(f) | AppError::FileTooLarge(f) => {
                let names: Vec<&str> = f.iter().map(|f| f.field.as_str()).collect();
                let args = vec![
                    ("fields_zh", names.join("、")),
                    ("fields_en", names.join(", ")),
                ];
                ("api.invalid", args)
            }
            AppError::Unauthenticated => ("api.unauthenticated", vec![]),
            AppError::BadCredentials => ("api.bad_credentials", vec![]),
            AppError::Forbidden(what) => ("api.forbidden", arg("what", what)),
            AppError::NotFound(what) => ("api.not_found", arg("what", what)),
            AppError::Conflict(d) => ("api.conflict", arg("detail", d)),
            AppError::TooLarge => ("api.too_large", vec![]),
            AppError::TooLargeFor(b) => ("api.too_large_for", arg("kib", &(b / 1024))),
            AppError::UnsupportedMediaType => ("api.unsupported_media_type", vec![]),
            AppError::BodyTimeout => ("api.body_timeout", vec![]),
            AppError::TooManyAttempts(s) => ("api.too_many_attempts", arg("seconds", s)),
            AppError::TooManyRequests(s) => ("api.too_many_requests", arg("seconds", s)),
            AppError::Busy(s) => ("api.busy", arg("seconds", s)),
            AppError::Unavailable(s) => ("api.unavailable", arg("seconds", s)),
            AppError::Internal(_) => ("api.internal", vec![]),
        };
        let (zh, english) = messages::pair(key, &args);
        if en {
            english
        } else {
            zh
        }
    }

    /// The field errors, if any.
    pub fn fields(&self) -> &[FieldError] {
        match self {
            AppError::Malformed(_, f) | AppError::Invalid(f) | AppError::FileTooLarge(f) => f,
            _ => &[],
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        if e.is_failover() {
            AppError::Unavailable(FAILOVER_RETRY_SECONDS)
        } else {
            AppError::Internal(e.into())
        }
    }
}

/// The `Retry-After` of a 503 during a database failover: the watcher looks every 0.5 s, a
/// promotion takes seconds.
pub const FAILOVER_RETRY_SECONDS: i64 = 2;

impl AppError {
    /// A fault whose cause is the database switching hosts (see [`StoreError::is_failover`])
    /// becomes 503 `unavailable` with `Retry-After`, however it was wrapped on its way up;
    /// anything else is left as it is.
    pub fn settled(self) -> AppError {
        match self {
            AppError::Internal(e) if StoreError::is_failover_in(&e) => {
                tracing::warn!(error = %e, "database unavailable (failover)");
                AppError::Unavailable(FAILOVER_RETRY_SECONDS)
            }
            other => other,
        }
    }
}

impl From<kpi::ParseError> for AppError {
    /// A 422 naming the field (`month`, `level`), in Chinese and English.
    fn from(e: kpi::ParseError) -> Self {
        let key = match e {
            kpi::ParseError::Month => "err.month_must_be_yyyy_mm",
            kpi::ParseError::MonthOutOfRange => "err.month_out_of_range",
            kpi::ParseError::Level => "err.level_must_be_subdistrict_district_department",
        };
        AppError::invalid(e.field(), key)
    }
}

impl From<TransitionError> for AppError {
    fn from(e: TransitionError) -> Self {
        match e {
            TransitionError::Forbidden => AppError::Forbidden("your role may not do this"),
            // Another unit's order answers as a missing one: an answer must not tell a unit
            // which orders exist.
            TransitionError::NotYourUnit => AppError::NotFound("assignment"),
            TransitionError::InvalidState(m) => AppError::Conflict(m),
            TransitionError::Invalid { field, message } => {
                AppError::Invalid(vec![FieldError::new(
                    field,
                    format!("{field}：{message}"),
                    message,
                )])
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use crate::error::{AppError, FieldError};
    use jiesu_core::kpi;

    #[test]
    fn a_lost_database_connection_answers_503_unavailable_with_retry_after_not_500() {
        let lost = crate::store::StoreError::Db(sqlx::Error::Io(std::io::Error::from(
            std::io::ErrorKind::ConnectionRefused,
        )));
        let e = AppError::from(lost);
        assert_eq!((e.status(), e.code()), (503, "unavailable"));
        // Wrapped on its way up (a service's anyhow context): still 503.
        let wrapped = AppError::Internal(
            anyhow::Error::new(crate::store::StoreError::Db(sqlx::Error::PoolTimedOut))
                .context("recording the request"),
        )
        .settled();
        assert!(matches!(wrapped, AppError::Unavailable(2)), "{wrapped:?}");
        assert!(wrapped.message(false).contains("数据库正在切换"));
        // Anything else stays a 500.
        let other = AppError::Internal(anyhow::anyhow!("a bug")).settled();
        assert_eq!(other.status(), 500);
    }

    #[test]
    fn a_bad_month_or_level_is_a_422_naming_its_field_in_both_languages() {
        let cases = [
            (
                kpi::Month::parse("2026-13").unwrap_err(),
                "month",
                "月份格式须为 YYYY-MM",
                "month must be YYYY-MM",
            ),
            (
                kpi::Level::parse("street").unwrap_err(),
                "level",
                "level 须为 subdistrict、district、department 或 company",
                "level must be subdistrict, district, department or company",
            ),
        ];
        for (e, field, zh, en) in cases {
            let e = AppError::from(e);
            assert_eq!((e.status(), e.code()), (422, "invalid"));
            assert_eq!(e.fields(), [FieldError::new(field, zh, en)]);
        }
    }
}
