//! Reading Open311 arguments as clients send them: query string and form body, an empty
//! value the same as an absent one (as the standard says), a single-valued argument given
//! twice refused, `attribute[code]` and `attribute[code][]` collected; dates in W3C format.

use crate::error::AppError;
use crate::services::open311::requests::{Query, Submission};
use axum::http::Uri;
use chrono::{DateTime, Datelike, Duration, Utc};

/// Most requests one listing answers (the standard's default cap).
const MAX_LIST: i64 = 1000;
/// The widest date range a listing may span.
const MAX_DAYS: i64 = 90;

/// Arguments in the order given.
pub struct Args(Vec<(String, String)>);

/// Whether an identifier from a path can name anything (no control characters, not huge).
pub fn plain(id: &str) -> bool {
    !id.is_empty() && id.len() <= 200 && !id.chars().any(char::is_control)
}

fn bad(field: &str, key: &str) -> AppError {
    AppError::invalid(field, key)
}

impl Args {
    /// The query string's arguments.
    pub fn query(uri: &Uri) -> Result<Args, AppError> {
        Ok(Args(parse(uri.query().unwrap_or("").as_bytes())?))
    }

    /// One argument's value (None when absent or empty); 400 when given twice.
    pub fn single(&self, name: &str) -> Result<Option<String>, AppError> {
        let mut found = self.0.iter().filter(|(k, _)| k == name);
        let first = found.next();
        if found.next().is_some() {
            return Err(bad(name, "err.open311.repeated"));
        }
        Ok(first.map(|(_, v)| v.clone()).filter(|v| !v.is_empty()))
    }

    /// A `true`/`false` argument (absent: false).
    pub fn flag(&self, name: &str) -> Result<bool, AppError> {
        match self.single(name)?.as_deref() {
            None | Some("false") => Ok(false),
            Some("true") => Ok(true),
            Some(_) => Err(bad(name, "err.open311.true_or_false")),
        }
    }

    fn date(&self, name: &str) -> Result<Option<DateTime<Utc>>, AppError> {
        let Some(v) = self.single(name)? else {
            return Ok(None);
        };
        let t = DateTime::parse_from_rfc3339(v.trim())
            .map_err(|_| bad(name, "err.open311.date"))?
            .with_timezone(&Utc);
        if !(2000..=2100).contains(&t.year()) {
            return Err(bad(name, "err.open311.date"));
        }
        Ok(Some(t))
    }

    fn number(&self, name: &str, default: i64, max: i64) -> Result<i64, AppError> {
        match self.single(name)? {
            None => Ok(default),
            Some(v) => v
                .trim()
                .parse::<i64>()
                .ok()
                .filter(|n| (1..=max).contains(n))
                .ok_or_else(|| bad(name, "err.open311.page")),
        }
    }

    fn list(&self, name: &str) -> Result<Vec<String>, AppError> {
        let Some(v) = self.single(name)? else {
            return Ok(Vec::new());
        };
        let items: Vec<String> = v.split(',').map(|s| s.trim().to_string()).collect();
        if items.len() > MAX_LIST as usize || items.iter().any(|i| !plain(i)) {
            return Err(bad(name, "err.open311.list"));
        }
        Ok(items)
    }

    /// The listing's filter and whether `extensions=true`. `service_request_id` overrides the
    /// other filters, but every argument is still checked.
    pub fn listing(&self, now: DateTime<Utc>) -> Result<(Query, bool), AppError> {
        self.single("jurisdiction_id")?;
        let numbers = self.list("service_request_id")?;
        let service_codes = self.list("service_code")?;
        let closed = match self.single("status")? {
            None => None,
            Some(s) => {
                let words: Vec<&str> = s.split(',').collect();
                if !words.iter().all(|w| *w == "open" || *w == "closed") {
                    return Err(bad("status", "err.open311.status"));
                }
                match (words.contains(&"open"), words.contains(&"closed")) {
                    (true, true) => None,
                    (_, closed) => Some(closed),
                }
            }
        };
        let (start, end) = (self.date("start_date")?, self.date("end_date")?);
        let end_at = end.unwrap_or_else(|| start.map_or(now, |s| s + Duration::days(MAX_DAYS)));
        let start_at = start.unwrap_or(end_at - Duration::days(MAX_DAYS));
        if start_at > end_at {
            return Err(bad("start_date", "err.open311.date_order"));
        }
        if end_at - start_at > Duration::days(MAX_DAYS) {
            return Err(bad("end_date", "err.open311.date_range"));
        }
        let updated_after = self.date("updated_after")?;
        let updated_before = self.date("updated_before")?;
        let page = self.number("page", 1, 100_000)?;
        let page_size = self.number("page_size", MAX_LIST, MAX_LIST)?;
        let extensions = self.flag("extensions")?;
        let by_id = !numbers.is_empty();
        let filter = Query {
            service_codes: if by_id { Vec::new() } else { service_codes },
            start: (!by_id).then_some(start_at),
            end: (!by_id).then_some(end_at),
            updated_after: updated_after.filter(|_| !by_id),
            updated_before: updated_before.filter(|_| !by_id),
            closed: closed.filter(|_| !by_id),
            limit: page_size,
            offset: (page - 1) * page_size,
            numbers,
        };
        Ok((filter, extensions))
    }

    /// A POST's arguments: the form body, then the query string (where schemathesis puts
    /// `api_key`); `attribute[code]` pairs apart.
    pub fn submission(uri: &Uri, body: &[u8]) -> Result<Submission, AppError> {
        let mut pairs = parse(body)?;
        pairs.extend(parse(uri.query().unwrap_or("").as_bytes())?);
        let mut sub = Submission::default();
        let mut singles: Vec<(String, String)> = Vec::new();
        for (k, v) in pairs {
            if k == "api_key" {
                sub.api_key = sub.api_key.or(Some(v).filter(|v| !v.is_empty()));
            } else if let Some(code) = k.strip_prefix("attribute[") {
                let code = code.trim_end_matches("[]").trim_end_matches(']');
                if !code.is_empty() && !v.is_empty() {
                    sub.attributes.push((code.to_string(), v));
                }
            } else {
                singles.push((k, v));
            }
        }
        let args = Args(singles);
        for (k, _) in &args.0 {
            if let Some(v) = args.single(k)? {
                sub.fields.insert(k.clone(), v);
            }
        }
        Ok(sub)
    }
}

/// Decodes `application/x-www-form-urlencoded` pairs. Unlike a lossy decoder, a value whose
/// bytes are not UTF-8 is refused naming its argument, so nothing is stored with U+FFFD in
/// place of what the client sent.
fn parse(raw: &[u8]) -> Result<Vec<(String, String)>, AppError> {
    raw.split(|b| *b == b'&')
        .filter(|pair| !pair.is_empty())
        .map(|pair| {
            let (k, v) = match pair.iter().position(|b| *b == b'=') {
                Some(i) => (&pair[..i], &pair[i + 1..]),
                None => (pair, &b""[..]),
            };
            let key = decode(k).ok_or_else(|| bad("form", "err.open311.utf8"))?;
            let value = decode(v).ok_or_else(|| bad(&key, "err.open311.utf8"))?;
            Ok((key, value))
        })
        .collect()
}

/// A form-encoded key or value; `None` when its bytes are not UTF-8.
fn decode(raw: &[u8]) -> Option<String> {
    String::from_utf8(crate::web::percent_decode_bytes(raw, true)).ok()
}
