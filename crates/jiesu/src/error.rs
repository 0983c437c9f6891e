//! The one error type the services return and the web edge renders. Every variant has a
//! stable code the UI translates, and a message in Chinese and English; a 500 never shows
//! its cause, which is logged instead.

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
    /// A field error with both languages.
    pub fn new(field: impl Into<String>, zh: impl Into<String>, en: impl Into<String>) -> Self {
        FieldError {
            field: field.into(),
            message: zh.into(),
            message_en: en.into(),
        }
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
    /// 415: the body is not JSON.
    #[error("unsupported media type")]
    UnsupportedMediaType,
    /// 429: too many failed logins; retry after the given seconds.
    #[error("too many attempts")]
    TooManyAttempts(i64),
    /// 500: a fault of ours; logged, never shown.
    #[error(transparent)]
    Internal(#[from] anyhow::Error),
}

impl AppError {
    /// One invalid field.
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
            AppError::TooLarge => 413,
            AppError::UnsupportedMediaType => 415,
            AppError::TooManyAttempts(_) => 429,
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
            AppError::TooLarge => "payload_too_large",
            AppError::UnsupportedMediaType => "unsupported_media_type",
            AppError::TooManyAttempts(_) => "too_many_attempts",
            AppError::Internal(_) => "internal",
        }
    }

    /// The message in Chinese (`en == false`) or English.
    pub fn message(&self, en: bool) -> String {
        let pick = |zh: String, e: String| if en { e } else { zh };
        match self {
            AppError::Malformed(d, _) => pick(
                format!("请求格式错误：{d}"),
                format!("malformed request: {d}"),
            ),
            AppError::Invalid(f) => {
                let names: Vec<&str> = f.iter().map(|f| f.field.as_str()).collect();
                pick(
                    format!("输入有误：{}", names.join("、")),
                    format!("invalid input: {}", names.join(", ")),
                )
            }
            AppError::Unauthenticated => pick("请先登录".into(), "please log in".into()),
            AppError::BadCredentials => pick(
                "用户名或密码错误".into(),
                "wrong username or password".into(),
            ),
            AppError::Forbidden(what) => {
                pick(format!("无权操作：{what}"), format!("not allowed: {what}"))
            }
            AppError::NotFound(what) => {
                pick(format!("未找到：{what}"), format!("{what} not found"))
            }
            AppError::Conflict(d) => pick(
                format!("当前状态不允许该操作：{d}"),
                format!("not possible now: {d}"),
            ),
            AppError::TooLarge => pick("请求体超过 1 MiB".into(), "request body over 1 MiB".into()),
            AppError::UnsupportedMediaType => pick(
                "请求体须为 JSON（Content-Type: application/json）".into(),
                "body must be JSON (Content-Type: application/json)".into(),
            ),
            AppError::TooManyAttempts(s) => pick(
                format!("登录失败次数过多，请 {s} 秒后再试"),
                format!("too many failed logins, retry in {s} s"),
            ),
            AppError::Internal(_) => pick(
                "服务器内部错误，已记录".into(),
                "internal error, logged".into(),
            ),
        }
    }

    /// The field errors, if any.
    pub fn fields(&self) -> &[FieldError] {
        match self {
            AppError::Malformed(_, f) | AppError::Invalid(f) => f,
            _ => &[],
        }
    }
}

impl From<StoreError> for AppError {
    fn from(e: StoreError) -> Self {
        AppError::Internal(e.into())
    }
}

impl From<kpi::ParseError> for AppError {
    /// A 422 naming the field (`month`, `level`), in Chinese and English.
    fn from(e: kpi::ParseError) -> Self {
        let zh = match e {
            kpi::ParseError::Month => "月份格式须为 YYYY-MM",
            kpi::ParseError::Level => "level 须为 subdistrict、district、department 或 company",
        };
        AppError::field(e.field(), zh, &e.to_string())
    }
}

impl From<TransitionError> for AppError {
    fn from(e: TransitionError) -> Self {
        match e {
            TransitionError::Forbidden => AppError::Forbidden("your role may not do this"),
            TransitionError::NotYourUnit => {
                AppError::Forbidden("this order belongs to another unit")
            }
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
