//! Texts to the requester when the handling of their request changes (issue 19): merged into
//! another request (the surviving request's number and query code, to follow it there), sent
//! to another unit after the first one returned it, and an extension granted (the new
//! deadline). Each is written in the caller's transaction from its template, under the same
//! rules as every requester text (`sms_texts::enqueue`: opt-out, quiet hours, daily cap; no
//! phone, no text), and only with SMS texts on (`JIESU_SMS_TEXTS`).

use super::AppState;
use crate::error::AppError;
use crate::store::requests::RequestRow;
use crate::store::Tx;
use chrono::{DateTime, Utc};

async fn send(
    state: &AppState,
    tx: &mut Tx,
    req: &RequestRow,
    kind: &str,
    vars: &[(&str, &str)],
) -> Result<(), AppError> {
    if !state.config.sms_texts {
        return Ok(());
    }
    let mut payload = serde_json::json!({ "number": req.number, "kind": kind });
    for (k, v) in vars {
        payload[*k] = serde_json::json!(v);
    }
    super::sms_texts::enqueue(state, tx, req, kind, payload, vars, false).await?;
    Ok(())
}

/// `req` was merged into `primary` (并单): its requester follows the primary from now on.
pub(crate) async fn merged(
    state: &AppState,
    tx: &mut Tx,
    req: &RequestRow,
    primary: &RequestRow,
) -> Result<(), AppError> {
    let code = primary.query_code.clone().unwrap_or_default();
    let vars = [
        ("number", req.number.as_str()),
        ("into", primary.number.as_str()),
        ("code", code.as_str()),
    ];
    send(state, tx, req, "merged", &vars).await
}

/// `req`, returned by its lead unit, was dispatched to another unit, `unit` its short name.
pub(crate) async fn redispatched(
    state: &AppState,
    tx: &mut Tx,
    req: &RequestRow,
    unit: &str,
) -> Result<(), AppError> {
    let vars = [("number", req.number.as_str()), ("unit", unit)];
    send(state, tx, req, "redispatched", &vars).await
}

/// The lead unit of `req` was granted more time: the new reply deadline.
pub(crate) async fn extended(
    state: &AppState,
    tx: &mut Tx,
    req: &RequestRow,
    reply_by: DateTime<Utc>,
) -> Result<(), AppError> {
    let deadline = reply_by
        .with_timezone(&state.config.offset())
        .format("%m-%d %H:%M")
        .to_string();
    let vars = [
        ("number", req.number.as_str()),
        ("deadline", deadline.as_str()),
    ];
    send(state, tx, req, "extended", &vars).await
}
