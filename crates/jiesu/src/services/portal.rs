//! The public portal (网上诉求): citizens and enterprises submit a request without an
//! account, through the same intake as operators (same validation, events, outbox and
//! durability), and track it by number and query code (查询码, given at intake). Tracking
//! shows only the status and the replies meant for the requester, and answers "not found"
//! alike for a wrong number, a wrong code and both; the code is compared in constant time.
//! Attempts are counted per number in the database (`store::tracking`), whether or not the
//! number exists: past `JIESU_TRACK_MAX_ATTEMPTS` in a window every attempt at that number
//! waits for the window's end (429), so a code cannot be guessed from any number of nodes or
//! addresses (31⁸ codes, 10 tries per 15 minutes by default).

use super::{intake, AppState};
use crate::error::AppError;
use crate::store::{assignments, requests, tracking};
use chrono::{DateTime, Utc};
use jiesu_core::{Actor, Channel, QueryCode, RequestKind, Role};
use subtle::ConstantTimeEq;

/// The actor id recorded on requests and events that came through the portal.
pub const PORTAL_ACTOR: &str = "portal";

pub(crate) fn portal_actor() -> Actor {
    Actor {
        user_id: PORTAL_ACTOR.into(),
        username: PORTAL_ACTOR.into(),
        // The intake rules of an operator apply: record a request, nothing more.
        role: Role::Operator,
        unit: None,
    }
}

/// An enterprise requester as typed.
#[derive(Debug, Clone)]
pub struct PublicEnterprise {
    /// Registered name.
    pub name: String,
    /// 统一社会信用代码, checked with `CreditCode`.
    pub credit_code: String,
}

/// A request as submitted on the portal.
#[derive(Debug, Clone)]
pub struct PublicSubmission {
    /// 诉求类型.
    pub kind: RequestKind,
    /// Short title (optional).
    pub title: Option<String>,
    /// What happened.
    pub text: String,
    /// Where.
    pub address: String,
    /// Name (may be a surname and title).
    pub name: String,
    /// Phone, for the callback and for tracking.
    pub phone: String,
    /// For the enterprise portal.
    pub enterprise: Option<PublicEnterprise>,
    /// For the enterprise portal: one of the enterprise categories (`qyfw.…`).
    pub category_code: Option<String>,
    /// The map pin, if the requester set one.
    pub location: Option<super::maps::LocationInput>,
    /// The form's key (made when it was drawn): sent twice, one request.
    pub key: Option<String>,
}

/// What the requester is given at submission.
#[derive(Debug, Clone)]
pub struct Receipt {
    /// The request's number.
    pub number: String,
    /// Its query code.
    pub query_code: String,
}

/// Records a portal request (channel `web`, or `enterprise` with an enterprise); returns its
/// number and query code.
pub async fn submit(state: &AppState, sub: PublicSubmission) -> Result<Receipt, AppError> {
    if let Some(c) = &sub.category_code {
        if !c.starts_with("qyfw.") {
            return Err(AppError::invalid(
                "category_code",
                "err.portal.choose_an_enterprise_category",
            ));
        }
    }
    let channel = if sub.enterprise.is_some() {
        Channel::Enterprise
    } else {
        Channel::Web
    };
    let input = intake::NewRequest {
        kind: sub.kind,
        channel,
        merged_line: None,
        title: sub.title,
        text: sub.text,
        address: sub.address,
        category_code: sub.category_code,
        requester: intake::NewRequester {
            name: sub.name,
            phone: sub.phone,
            enterprise: sub.enterprise.map(|e| intake::NewEnterprise {
                name: e.name,
                credit_code: e.credit_code,
            }),
            confidential: false,
        },
        suggestion_id: None,
        location: sub.location,
        idempotency_key: sub.key,
    };
    let row = intake::create_once(state, &portal_actor(), input)
        .await?
        .row;
    Ok(Receipt {
        number: row.number,
        query_code: row.query_code.unwrap_or_default(),
    })
}

/// What a requester sees of their request.
#[derive(Debug, Clone)]
pub struct Tracked {
    /// Number.
    pub number: String,
    /// Status.
    pub status: jiesu_core::RequestStatus,
    /// Title.
    pub title: String,
    /// When recorded.
    pub created_at: DateTime<Utc>,
    /// When closed, if closed.
    pub closed_at: Option<DateTime<Utc>>,
    /// The answer given at intake, if any.
    pub answer: Option<String>,
    /// The units' replies to the requester (time, text), oldest first.
    pub replies: Vec<(DateTime<Utc>, String)>,
}

fn looks_like_number(n: &str) -> bool {
    let b = n.as_bytes();
    b.len() == 15
        && b[8] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 8 || c.is_ascii_digit())
}

/// The request with this number, if `code` is its query code; None otherwise (the same
/// answer for an unknown number, a wrong code and both). 429 when the number has had too
/// many attempts in the current window (right or wrong: a lock must not tell).
pub async fn track(
    state: &AppState,
    number: &str,
    code: &str,
) -> Result<Option<Tracked>, AppError> {
    let number = number.trim();
    if !looks_like_number(number) {
        metrics::counter!(crate::telemetry::TRACK_FAILURES).increment(1);
        return Ok(None);
    }
    let now = state.clock.now();
    let window = chrono::Duration::from_std(state.config.track_window)
        .unwrap_or(chrono::Duration::minutes(15));
    let (attempts, since) =
        tracking::count_attempt(&state.store, number, now, window.num_milliseconds()).await?;
    if attempts > state.config.track_max_attempts {
        let wait = (since + window - now).num_seconds().max(1);
        metrics::counter!(crate::telemetry::RATE_LIMIT_REFUSALS, "limiter" => "track_number")
            .increment(1);
        return Err(AppError::TooManyRequests(wait));
    }
    // The request and its replies in one snapshot: a citizen never sees a status whose reply
    // is not there yet.
    let mut snap = state.store.read_snapshot().await?;
    let row = requests::get(&mut *snap, number).await?;
    let given = QueryCode::parse(code)
        .map(|c| c.as_str().to_string())
        .unwrap_or_default();
    let stored = row
        .as_ref()
        .and_then(|r| r.query_code.clone())
        .unwrap_or_default();
    let same = !given.is_empty()
        && given.len() == stored.len()
        && bool::from(given.as_bytes().ct_eq(stored.as_bytes()));
    let Some(row) = row.filter(|r| same && r.number == number) else {
        metrics::counter!(crate::telemetry::TRACK_FAILURES).increment(1);
        return Ok(None);
    };
    // A merged requester hears what the primary request's units replied.
    let source = row.primary_id.clone().unwrap_or_else(|| row.id.clone());
    let mut replies: Vec<(DateTime<Utc>, String)> =
        assignments::assignments_of(&mut *snap, &source)
            .await?
            .into_iter()
            .filter_map(|a| Some((a.replied_at?, a.reply_to_requester?)))
            .collect();
    // Read-only: a failed rollback loses nothing. The snapshot ends before the write below,
    // which on PostgreSQL would need a second connection of the same pool.
    let _ = snap.rollback().await;
    // The requester is not locked out by their own look-ups.
    tracking::clear(&state.store, number).await?;
    replies.sort_by_key(|r| r.0);
    Ok(Some(Tracked {
        number: row.number,
        status: row.status,
        title: row.title,
        created_at: row.created_at,
        closed_at: row.closed_at,
        answer: row.answer,
        replies,
    }))
}

/// How long a grant (below) stays good, in hours: longer than anyone looks at one
/// tracking page, short enough that an address copied from a history or a log soon opens
/// nothing.
pub const GRANT_HOURS: i64 = 2;

/// What proves a caller is a request's requester on the public file routes
/// (`/api/v1/public/attachments`).
#[derive(Debug, Clone)]
pub enum Proof {
    /// The query code itself, as API clients send it: checked as a tracking attempt is.
    Code(String),
    /// A grant the portal's pages made once the code was proven: their file links and
    /// upload address carry it, so the query code never sits in an address (a browser's
    /// history, a proxy's log, a `Referer`). `{expiry}.{mac}`: the expiry in Unix seconds and
    /// an HMAC of the number and the expiry under the cluster's shared key (`server_keys`),
    /// so any node checks it and nobody can make one for another number or a later hour.
    Grant(String),
}

/// A grant for the request with `number`, good for [`GRANT_HOURS`] from now. Made only
/// after its query code was proven (a receipt, a tracking page).
pub fn grant(state: &AppState, number: &str) -> String {
    let expiry = (state.clock.now() + chrono::Duration::hours(GRANT_HOURS)).timestamp();
    format!(
        "{expiry}.{}",
        grant_mac(&state.logins.anon_key, number, expiry)
    )
}

fn grant_mac(key: &[u8], number: &str, expiry: i64) -> String {
    use hmac::{Hmac, Mac};
    let mut mac = Hmac::<sha2::Sha256>::new_from_slice(key).expect("HMAC takes keys of any length");
    mac.update(b"jiesu public grant\0");
    mac.update(number.as_bytes());
    mac.update(b"\0");
    mac.update(expiry.to_string().as_bytes());
    hex::encode(&mac.finalize().into_bytes()[..16])
}

/// The number of the request `proof` opens for its requester, or None (a wrong code, a
/// grant that is forged, for another number or out of date).
pub async fn proven(
    state: &AppState,
    number: &str,
    proof: &Proof,
) -> Result<Option<String>, AppError> {
    let grant = match proof {
        Proof::Code(code) => return Ok(track(state, number, code).await?.map(|t| t.number)),
        Proof::Grant(grant) => grant,
    };
    let number = number.trim();
    let Some((expiry, mac)) = grant.split_once('.') else {
        return Ok(None);
    };
    if expiry.is_empty() || !expiry.bytes().all(|c| c.is_ascii_digit()) {
        return Ok(None);
    }
    let Ok(expiry) = expiry.parse::<i64>() else {
        return Ok(None);
    };
    // Out of date, or later than any node makes (a node whose clock ran fast, give or take
    // five minutes): nothing.
    let now = state.clock.now().timestamp();
    if expiry <= now || expiry > now + GRANT_HOURS * 3600 + 300 || !looks_like_number(number) {
        return Ok(None);
    }
    let want = grant_mac(&state.logins.anon_key, number, expiry);
    let same = want.len() == mac.len() && bool::from(want.as_bytes().ct_eq(mac.as_bytes()));
    Ok(same.then(|| number.to_string()))
}

/// Gives every request recorded before query codes existed a code of its own, in batches,
/// each batch with an event (the codes themselves are not in it: events are shown to
/// units). Run at start; a no-op once done. Returns how many were given one.
pub async fn issue_missing_query_codes(state: &AppState) -> Result<usize, AppError> {
    let mut total = 0;
    loop {
        let mut tx = state.store.begin().await?;
        let ids = requests::issue_missing_query_codes(&mut tx, 500).await?;
        if ids.is_empty() {
            return Ok(total);
        }
        total += ids.len();
        tx.event(state.audit_event(
            "system",
            "system",
            "requests.query_codes_issued",
            serde_json::json!({ "request_ids": ids }),
        ));
        tx.commit().await?;
    }
}

/// Forgets tracking attempts whose window has passed (the sweep job).
pub async fn purge_track_attempts(state: &AppState) -> Result<u64, AppError> {
    let window = state.config.track_window.as_millis() as i64;
    Ok(tracking::purge(&state.store, state.clock.now(), window).await?)
}

#[cfg(test)]
mod tests {
    #[test]
    fn only_request_numbers_are_looked_up() {
        assert!(super::looks_like_number("20261102-000001"));
        assert!(!super::looks_like_number(
            "0192f3a4-0000-7000-8000-000000000000"
        ));
        assert!(!super::looks_like_number("20261102000001"));
    }
}
