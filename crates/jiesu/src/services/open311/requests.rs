//! Open311 requests: a client's submission goes through the operator's intake (a stored
//! suggestion with place resolution and duplicates, numbering, events, the hotspot index),
//! channel `open311`, named after the client's key; what intake does not keep (location,
//! media, attributes, email) is stored beside it. The public listing shows no requester's
//! name, phone or email, and no confidential request.

use super::keys::{self, KeyLimiter};
use crate::error::AppError;
use crate::messages::Lang;
use crate::services::{intake, suggest, AppState};
use crate::store::open311::{self as store, Open311Row, PublicFilter};
use crate::store::{assignments, requests::RequestRow};
use chrono::{DateTime, Utc};
use jiesu_core::{Actor, Channel, RequestKind, RequestStatus, Role};
use std::collections::HashMap;

/// A submission as the client sent it (empty values already dropped).
#[derive(Debug, Clone, Default)]
pub struct Submission {
    /// `api_key`.
    pub api_key: Option<String>,
    /// Every other single-valued argument, by name.
    pub fields: HashMap<String, String>,
    /// `attribute[code]` (and `attribute[code][]`) values.
    pub attributes: Vec<(String, String)>,
}

/// What the client is told.
#[derive(Debug, Clone)]
pub struct Created {
    /// The request's number.
    pub service_request_id: String,
    /// The token (the Open311 row's id).
    pub token: String,
}

/// One request as the public sees it.
#[derive(Debug, Clone)]
pub struct PublicRequest {
    /// Number.
    pub service_request_id: String,
    /// Closed (answered, closed, merged) or open.
    pub closed: bool,
    /// Our own status, for `extensions=true`.
    pub state: RequestStatus,
    /// Channel.
    pub channel: Channel,
    /// Kind.
    pub kind: RequestKind,
    /// What the requester was last told (the answer, or the lead unit's reply).
    pub status_notes: Option<String>,
    /// Category code.
    pub service_code: String,
    /// Category name.
    pub service_name: Option<String>,
    /// The text for Open311 requests, the title for others.
    pub description: String,
    /// The lead unit's name.
    pub agency_responsible: Option<String>,
    /// When recorded.
    pub requested: DateTime<Utc>,
    /// Last change.
    pub updated: DateTime<Utc>,
    /// The lead order's reply-by.
    pub expected: Option<DateTime<Utc>>,
    /// Address.
    pub address: Option<String>,
    /// Address id as sent.
    pub address_id: Option<String>,
    /// WGS-84.
    pub lat: Option<f64>,
    /// WGS-84.
    pub lon: Option<f64>,
    /// Media link.
    pub media_url: Option<String>,
}

/// The listing's arguments, already parsed.
pub type Query = PublicFilter;

fn bad(field: &str, key: &str) -> AppError {
    AppError::invalid(field, key)
}

fn text(sub: &Submission, field: &str, max: usize) -> Result<Option<String>, AppError> {
    match sub.fields.get(field) {
        None => Ok(None),
        Some(v) if v.chars().count() > max => Err(AppError::invalid_with(
            field,
            "err.intake.must_be_at_most_max_characters",
            &[("max", max.to_string())],
        )),
        Some(v)
            if v.chars()
                .any(|c| c.is_control() && !matches!(c, '\t' | '\n' | '\r')) =>
        {
            Err(bad(field, "err.no_control_characters"))
        }
        Some(v) => Ok(Some(v.trim().to_string()).filter(|v| !v.is_empty())),
    }
}

fn coordinate(sub: &Submission, field: &str, max: f64) -> Result<Option<f64>, AppError> {
    match sub.fields.get(field) {
        None => Ok(None),
        Some(v) => match v.trim().parse::<f64>() {
            Ok(x) if x.is_finite() && x.abs() <= max => Ok(Some(x)),
            _ => Err(bad(field, "err.open311.coordinate")),
        },
    }
}

fn is_uri(s: &str) -> bool {
    // Only web links: staff open them, and a `javascript:` or `data:` link must never reach a page.
    let lower = s.to_ascii_lowercase();
    let rest = lower
        .strip_prefix("https://")
        .or_else(|| lower.strip_prefix("http://"));
    rest.is_some_and(|r| !r.is_empty() && !r.starts_with('/'))
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>\"{}|\\^`".contains(c))
}

/// An email address as a person writes it: one `@`, something before it, a dotted domain
/// after it, no spaces or angle brackets.
fn is_email(s: &str) -> bool {
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains('@')
        && !s
            .chars()
            .any(|c| c.is_whitespace() || c.is_control() || "<>\"(),;:[]\\".contains(c))
}

/// A point (latitude, longitude) in WGS-84.
type Point = (f64, f64);

/// Location in WGS-84, converted from GCJ-02 or BD-09 when the client says `datum=gcj02` or
/// `datum=bd09`; the location as sent (for `request_locations`); and the datum the client used.
fn location(
    sub: &Submission,
) -> Result<
    (
        Option<Point>,
        Option<crate::services::maps::LocationInput>,
        &'static str,
    ),
    AppError,
> {
    let datum = match sub.fields.get("datum") {
        None => jiesu_core::geo::Datum::Wgs84,
        Some(d) => {
            jiesu_core::geo::Datum::parse(d).ok_or_else(|| bad("datum", "err.open311.datum"))?
        }
    };
    let lat = coordinate(sub, "lat", 90.0)?;
    let lon = coordinate(sub, "long", 180.0)?;
    let raw = match (lat, lon) {
        (Some(lat), Some(lon)) => Some((lat, lon)),
        (None, None) => None,
        (None, _) => return Err(bad("lat", "err.open311.lat_and_long")),
        (_, None) => return Err(bad("long", "err.open311.lat_and_long")),
    };
    let point = raw.map(|(lat, lon)| datum.to_wgs84(lat, lon));
    let sent = raw.map(|(lat, lon)| crate::services::maps::LocationInput {
        lat,
        lon,
        coord_system: Some(datum.as_str().to_string()),
    });
    Ok((point, sent, datum.as_str()))
}

/// Reads the attributes: `kind`, `confidential`, `title`.
fn attributes(
    sub: &Submission,
) -> Result<(RequestKind, bool, Option<String>, serde_json::Value), AppError> {
    let mut kind = RequestKind::Complaint;
    let mut confidential = false;
    let mut title = None;
    let mut json = serde_json::Map::new();
    for (code, value) in &sub.attributes {
        let field = format!("attribute[{code}]");
        if json.contains_key(code) {
            return Err(bad(&field, "err.open311.repeated"));
        }
        match code.as_str() {
            "kind" => {
                kind = RequestKind::parse(value)
                    .ok_or_else(|| bad(&field, "err.open311.attribute_value"))?
            }
            "confidential" => {
                confidential = match value.as_str() {
                    "true" => true,
                    "false" => false,
                    _ => return Err(bad(&field, "err.open311.attribute_value")),
                }
            }
            "title" if value.chars().count() <= 200 && !value.chars().any(char::is_control) => {
                title = Some(value.clone())
            }
            "title" => return Err(bad(&field, "err.open311.attribute_value")),
            _ => return Err(bad(&field, "err.open311.unknown_attribute")),
        }
        json.insert(code.clone(), serde_json::Value::String(value.clone()));
    }
    Ok((kind, confidential, title, serde_json::Value::Object(json)))
}

/// Creates a request from a client's submission. 403 without a live key, 429 over its rate,
/// 404 for a service not offered, 400 (as `Invalid`) naming the first bad argument.
pub async fn create(
    state: &AppState,
    limiter: &KeyLimiter,
    sub: Submission,
) -> Result<Created, AppError> {
    let key = keys::check(state, sub.api_key.as_deref()).await?;
    limiter.hit(&key.id)?;
    let code = text(&sub, "service_code", 100)?
        .ok_or_else(|| bad("service_code", "err.open311.service_code_missing"))?;
    let service = super::service(state, &code, Lang::Zh).await?;
    let (point, sent, datum) = location(&sub)?;
    let address_string = text(&sub, "address_string", 500)?;
    let address_id = text(&sub, "address_id", 100)?;
    if point.is_none() && address_string.is_none() && address_id.is_none() {
        return Err(bad("lat", "err.open311.location_missing"));
    }
    let description = text(&sub, "description", 4000)?;
    let media_url = text(&sub, "media_url", 2000)?;
    if media_url.as_deref().is_some_and(|u| !is_uri(u)) {
        return Err(bad("media_url", "err.open311.media_url"));
    }
    let email = text(&sub, "email", 254)?;
    if email.as_deref().is_some_and(|e| !is_email(e)) {
        return Err(bad("email", "err.open311.email"));
    }
    let name = format!(
        "{}{}",
        text(&sub, "last_name", 50)?.unwrap_or_default(),
        text(&sub, "first_name", 50)?.unwrap_or_default()
    );
    let phone = text(&sub, "phone", 40)?.unwrap_or_default();
    if !phone.is_empty() && jiesu_core::values::PhoneNumber::parse(&phone).is_err() {
        return Err(bad("phone", "err.intake.not_a_valid_chinese_mobile_or"));
    }
    let device_id = text(&sub, "device_id", 200)?;
    let account_id = text(&sub, "account_id", 200)?;
    let (kind, confidential, title, attrs) = attributes(&sub)?;
    let body = description.clone().unwrap_or_else(|| service.name.clone());
    let address = address_string.clone().unwrap_or_default();
    // The operator's intake help: category, place, units, duplicates, stored for accuracy.
    let suggestion = suggest::suggest(
        state,
        suggest::SuggestInput {
            text: body.clone(),
            address: address.clone(),
            location: sent.clone(),
        },
    )
    .await?;
    let actor = Actor {
        user_id: format!("open311:{}", key.name),
        username: key.name.clone(),
        role: Role::Operator,
        unit: None,
    };
    let input = intake::NewRequest {
        kind,
        channel: Channel::Open311,
        merged_line: None,
        title,
        text: body,
        address,
        category_code: Some(service.code.clone()),
        requester: intake::NewRequester {
            name,
            phone,
            enterprise: None,
            confidential,
        },
        suggestion_id: Some(suggestion.suggestion_id.clone()),
        location: sent,
        idempotency_key: None,
    };
    let (row, _) = intake::create_row(state, &actor, input).await?;
    let o = Open311Row {
        id: uuid::Uuid::now_v7().to_string(),
        request_id: row.id.clone(),
        key_id: key.id.clone(),
        service_code: service.code.clone(),
        lat: point.map(|p| p.0),
        lon: point.map(|p| p.1),
        datum: datum.into(),
        address_string,
        address_id,
        email,
        device_id,
        account_id,
        media_url,
        attributes: attrs.to_string(),
        created_at: state.clock.now(),
    };
    let event = state
        .event(&actor, &row.id, None, "open311.received")
        .payload(serde_json::json!({
            "client": key.name, "key_id": key.id, "token": o.id, "service_code": o.service_code,
            "lat": o.lat, "long": o.lon, "datum": datum, "media_url": o.media_url,
            "place": suggestion.place.status, "duplicates": suggestion.duplicates.len(),
        }))
        .build();
    store::record(&state.store, &o, vec![event]).await?;
    Ok(Created {
        service_request_id: row.number,
        token: o.id,
    })
}

/// The public listing.
pub async fn list(
    state: &AppState,
    filter: &Query,
    lang: Lang,
) -> Result<Vec<PublicRequest>, AppError> {
    let rows = store::public_requests(state.store.reader(), filter).await?;
    public_views(state, rows, lang).await
}

/// One request by number, as the public sees it; 404 when missing or confidential.
pub async fn one(state: &AppState, number: &str, lang: Lang) -> Result<PublicRequest, AppError> {
    let filter = PublicFilter {
        numbers: vec![number.to_string()],
        limit: 1,
        ..Default::default()
    };
    list(state, &filter, lang)
        .await?
        .into_iter()
        .next()
        .ok_or(AppError::NotFound("request"))
}

/// (token, the request's number) for a token; 404 when unknown.
pub async fn token(state: &AppState, token: &str) -> Result<(String, Option<String>), AppError> {
    let o = store::by_token(state.store.reader(), token)
        .await?
        .ok_or(AppError::NotFound("token"))?;
    let number = crate::store::requests::get(state.store.reader(), &o.request_id)
        .await?
        .map(|r| r.number);
    Ok((o.id, number))
}

async fn public_views(
    state: &AppState,
    rows: Vec<RequestRow>,
    lang: Lang,
) -> Result<Vec<PublicRequest>, AppError> {
    let pool = state.store.reader();
    let ids: Vec<String> = rows.iter().map(|r| r.id.clone()).collect();
    let extra: HashMap<String, Open311Row> = store::of_requests(pool, &ids)
        .await?
        .into_iter()
        .map(|o| (o.request_id.clone(), o))
        .collect();
    let orders = assignments::assignments_of_many(pool, &ids).await?;
    // The lead order of each request's latest round.
    let mut lead: HashMap<&str, &assignments::AssignmentRow> = HashMap::new();
    for a in orders
        .iter()
        .filter(|a| a.role == jiesu_core::workflow::AssignmentRole::Lead)
    {
        let keep = lead
            .get(a.request_id.as_str())
            .is_none_or(|b| (a.round, a.dispatched_at) >= (b.round, b.dispatched_at));
        if keep {
            lead.insert(a.request_id.as_str(), a);
        }
    }
    let codes: Vec<String> = lead.values().map(|a| a.unit_code.clone()).collect();
    let units: HashMap<String, String> =
        store::unit_names(pool, &codes).await?.into_iter().collect();
    let cats: HashMap<String, (String, String)> = crate::store::reference::categories(pool)
        .await?
        .into_iter()
        .map(|c| (c.code, (c.name, c.name_en)))
        .collect();
    Ok(rows
        .iter()
        .map(|r| {
            let o = extra.get(&r.id);
            let l = lead.get(r.id.as_str());
            let code = r.category_code.clone().unwrap_or_default();
            PublicRequest {
                service_request_id: r.number.clone(),
                closed: r.status.is_final(),
                state: r.status,
                channel: r.channel,
                kind: r.kind,
                status_notes: r
                    .answer
                    .clone()
                    .or_else(|| l.and_then(|a| a.reply_to_requester.clone())),
                service_name: cats
                    .get(&code)
                    .map(|(zh, en)| lang.pick(zh, en).to_string()),
                service_code: code,
                description: if o.is_some() {
                    r.body.clone()
                } else {
                    r.title.clone()
                },
                agency_responsible: l.and_then(|a| units.get(&a.unit_code).cloned()),
                requested: r.created_at,
                updated: r.closed_at.unwrap_or(r.updated_at),
                expected: l.map(|a| a.reply_by),
                address: Some(r.address.clone()).filter(|a| !a.is_empty()),
                address_id: o.and_then(|o| o.address_id.clone()),
                lat: o.and_then(|o| o.lat),
                lon: o.and_then(|o| o.lon),
                media_url: o.and_then(|o| o.media_url.clone()),
            }
        })
        .collect())
}
