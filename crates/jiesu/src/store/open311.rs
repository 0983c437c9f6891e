//! Open311 GeoReport v2 storage: client keys (hashed), what a client sent beyond what intake
//! keeps (location, media, attributes, private contact fields), which categories are offered
//! as services, and the public request listing's query. The rules live in
//! `services::open311`.

use super::requests::{request_from_row, RequestRow, REQUEST_COLUMNS};
use super::{from_millis, millis, placeholders, Store, StoreError, Tx};
use chrono::{DateTime, Utc};
use sqlx::{AnyPool, Row};

/// A client key (the key itself is never stored).
#[derive(Debug, Clone)]
pub struct KeyRow {
    /// Id.
    pub id: String,
    /// The client's name, recorded on the requests it creates.
    pub name: String,
    /// When made.
    pub created_at: DateTime<Utc>,
    /// When revoked, if revoked.
    pub revoked_at: Option<DateTime<Utc>>,
}

fn key_from_row(r: &sqlx::any::AnyRow) -> Result<KeyRow, sqlx::Error> {
    Ok(KeyRow {
        id: r.try_get("id")?,
        name: r.try_get("name")?,
        created_at: from_millis(r.try_get("created_at")?),
        revoked_at: r.try_get::<Option<i64>, _>("revoked_at")?.map(from_millis),
    })
}

/// Stores a new key by its hash, inside the caller's transaction.
pub async fn insert_key(
    tx: &mut Tx,
    id: &str,
    name: &str,
    key_hash: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query("INSERT INTO open311_keys (id, name, key_hash, created_at, revoked_at) VALUES ($1, $2, $3, $4, NULL)")
        .bind(id)
        .bind(name)
        .bind(key_hash)
        .bind(millis(now))
        .execute(tx.conn())
        .await?;
    Ok(())
}

/// Revokes a key; false when there is no such live key.
pub async fn revoke_key(tx: &mut Tx, id: &str, now: DateTime<Utc>) -> Result<bool, StoreError> {
    let done =
        sqlx::query("UPDATE open311_keys SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL")
            .bind(id)
            .bind(millis(now))
            .execute(tx.conn())
            .await?;
    Ok(done.rows_affected() == 1)
}

/// Every key, oldest first.
pub async fn keys(pool: &AnyPool) -> Result<Vec<KeyRow>, StoreError> {
    let rows = sqlx::query(
        "SELECT id, name, created_at, revoked_at FROM open311_keys ORDER BY created_at, id",
    )
    .fetch_all(pool)
    .await?;
    Ok(rows.iter().map(key_from_row).collect::<Result<_, _>>()?)
}

/// The live key with this hash.
pub async fn live_key(pool: &AnyPool, key_hash: &str) -> Result<Option<KeyRow>, StoreError> {
    let row = sqlx::query(
        "SELECT id, name, created_at, revoked_at FROM open311_keys WHERE key_hash = $1 AND revoked_at IS NULL",
    )
    .bind(key_hash)
    .fetch_optional(pool)
    .await?;
    Ok(row.as_ref().map(key_from_row).transpose()?)
}

/// Categories whose offer an administrator changed: (code, offered).
pub async fn service_flags(pool: &AnyPool) -> Result<Vec<(String, bool)>, StoreError> {
    let rows = sqlx::query("SELECT category_code, offered FROM open311_services")
        .fetch_all(pool)
        .await?;
    rows.iter()
        .map(|r| {
            Ok((
                r.try_get("category_code")?,
                r.try_get::<i64, _>("offered")? == 1,
            ))
        })
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

/// Sets (`Some`) or clears (`None`, back to the default) a category's offer.
pub async fn set_service_flag(
    tx: &mut Tx,
    code: &str,
    offered: Option<bool>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    sqlx::query("DELETE FROM open311_services WHERE category_code = $1")
        .bind(code)
        .execute(tx.conn())
        .await?;
    if let Some(o) = offered {
        sqlx::query(
            "INSERT INTO open311_services (category_code, offered, changed_at) VALUES ($1, $2, $3)",
        )
        .bind(code)
        .bind(i64::from(o))
        .bind(millis(now))
        .execute(tx.conn())
        .await?;
    }
    Ok(())
}

/// What a client sent with one request, beyond the request row.
#[derive(Debug, Clone, Default)]
pub struct Open311Row {
    /// Own id (the request's token).
    pub id: String,
    /// The request.
    pub request_id: String,
    /// The key it came with.
    pub key_id: String,
    /// The service code as sent.
    pub service_code: String,
    /// WGS-84 latitude.
    pub lat: Option<f64>,
    /// WGS-84 longitude.
    pub lon: Option<f64>,
    /// The datum the client sent (`wgs84`, `gcj02` or `bd09`).
    pub datum: String,
    /// The address as sent.
    pub address_string: Option<String>,
    /// The address id as sent.
    pub address_id: Option<String>,
    /// Private: the requester's email.
    pub email: Option<String>,
    /// Private: the device id.
    pub device_id: Option<String>,
    /// Private: the account id.
    pub account_id: Option<String>,
    /// A link to a photo or other media.
    pub media_url: Option<String>,
    /// The attributes, a JSON object.
    pub attributes: String,
    /// When received.
    pub created_at: DateTime<Utc>,
}

const OPEN311_COLUMNS: &str =
    "id, request_id, key_id, service_code, lat, lon, datum, address_string, address_id, email, \
    device_id, account_id, media_url, attributes, created_at";

fn open311_from_row(r: &sqlx::any::AnyRow) -> Result<Open311Row, sqlx::Error> {
    Ok(Open311Row {
        id: r.try_get("id")?,
        request_id: r.try_get("request_id")?,
        key_id: r.try_get("key_id")?,
        service_code: r.try_get("service_code")?,
        lat: r.try_get("lat")?,
        lon: r.try_get("lon")?,
        datum: r.try_get("datum")?,
        address_string: r.try_get("address_string")?,
        address_id: r.try_get("address_id")?,
        email: r.try_get("email")?,
        device_id: r.try_get("device_id")?,
        account_id: r.try_get("account_id")?,
        media_url: r.try_get("media_url")?,
        attributes: r.try_get("attributes")?,
        created_at: from_millis(r.try_get("created_at")?),
    })
}

/// Stores what a client sent with a request, inside the caller's transaction.
///
/// The coordinates travel as text and are cast by the database: sqlx's `Any` driver binds a
/// missing `f64` as a PostgreSQL `float4` NULL, and a connection that prepared this statement
/// for a request without coordinates then refuses the 8-byte value of the next one ("incorrect
/// binary data format"). Rust prints an `f64` in its shortest exact form, so nothing is lost.
pub async fn insert_request(tx: &mut Tx, o: &Open311Row) -> Result<(), StoreError> {
    sqlx::query(&format!(
        "INSERT INTO open311_requests ({OPEN311_COLUMNS}) VALUES \
         ($1, $2, $3, $4, CAST($5 AS DOUBLE PRECISION), CAST($6 AS DOUBLE PRECISION), \
         $7, $8, $9, $10, $11, $12, $13, $14, $15)"
    ))
    .bind(&o.id)
    .bind(&o.request_id)
    .bind(&o.key_id)
    .bind(&o.service_code)
    .bind(o.lat.map(|v| v.to_string()))
    .bind(o.lon.map(|v| v.to_string()))
    .bind(&o.datum)
    .bind(&o.address_string)
    .bind(&o.address_id)
    .bind(&o.email)
    .bind(&o.device_id)
    .bind(&o.account_id)
    .bind(&o.media_url)
    .bind(&o.attributes)
    .bind(millis(o.created_at))
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The Open311 rows of these requests.
pub async fn of_requests(pool: &AnyPool, ids: &[String]) -> Result<Vec<Open311Row>, StoreError> {
    if ids.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT {OPEN311_COLUMNS} FROM open311_requests WHERE request_id IN ({})",
        placeholders(ids.len())
    );
    let mut q = sqlx::query(&sql);
    for id in ids {
        q = q.bind(id);
    }
    let rows = q.fetch_all(pool).await?;
    Ok(rows
        .iter()
        .map(open311_from_row)
        .collect::<Result<_, _>>()?)
}

/// The Open311 row with this id (a token).
pub async fn by_token(pool: &AnyPool, token: &str) -> Result<Option<Open311Row>, StoreError> {
    let row = sqlx::query(&format!(
        "SELECT {OPEN311_COLUMNS} FROM open311_requests WHERE id = $1"
    ))
    .bind(token)
    .fetch_optional(pool)
    .await?;
    Ok(row.as_ref().map(open311_from_row).transpose()?)
}

/// Removes the private contact fields of a request's Open311 row (with the retention's
/// redaction of the requester), inside the caller's transaction.
pub async fn redact(tx: &mut Tx, request_id: &str) -> Result<(), StoreError> {
    sqlx::query(
        "UPDATE open311_requests SET email = NULL, device_id = NULL, account_id = NULL WHERE request_id = $1",
    )
    .bind(request_id)
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// The public listing's filter. Confidential requests and requests without a category are
/// never listed.
#[derive(Debug, Clone, Default)]
pub struct PublicFilter {
    /// Only these request numbers.
    pub numbers: Vec<String>,
    /// Only these categories.
    pub service_codes: Vec<String>,
    /// Created at or after.
    pub start: Option<DateTime<Utc>>,
    /// Created at or before.
    pub end: Option<DateTime<Utc>>,
    /// Last changed at or after.
    pub updated_after: Option<DateTime<Utc>>,
    /// Last changed at or before.
    pub updated_before: Option<DateTime<Utc>>,
    /// Some(true): only closed (closed, answered, merged); Some(false): only open.
    pub closed: Option<bool>,
    /// At most this many.
    pub limit: i64,
    /// Skip this many.
    pub offset: i64,
}

/// Requests for the public listing, newest first.
pub async fn public_requests(
    pool: &AnyPool,
    f: &PublicFilter,
) -> Result<Vec<RequestRow>, StoreError> {
    let mut sql = format!(
        "SELECT {REQUEST_COLUMNS} FROM requests WHERE confidential = 0 AND category_code IS NOT NULL"
    );
    let mut strings: Vec<String> = Vec::new();
    let mut n = 0;
    let mut next = |sql: &mut String, clause: &str| {
        n += 1;
        sql.push_str(&clause.replace("$?", &format!("${n}")));
    };
    let mut times: Vec<i64> = Vec::new();
    // Strings first, then times: the binds go in the same order.
    for (list, col) in [(&f.numbers, "number"), (&f.service_codes, "category_code")] {
        if !list.is_empty() {
            sql.push_str(&format!(" AND {col} IN ("));
            for (i, v) in list.iter().enumerate() {
                next(&mut sql, if i == 0 { "$?" } else { ", $?" });
                strings.push(v.clone());
            }
            sql.push(')');
        }
    }
    for (t, clause) in [
        (f.start, " AND created_at >= $?"),
        (f.end, " AND created_at <= $?"),
        (f.updated_after, " AND updated_at >= $?"),
        (f.updated_before, " AND updated_at <= $?"),
    ] {
        if let Some(t) = t {
            next(&mut sql, clause);
            times.push(millis(t));
        }
    }
    match f.closed {
        Some(true) => sql.push_str(" AND status IN ('closed', 'answered', 'merged')"),
        Some(false) => sql.push_str(" AND status NOT IN ('closed', 'answered', 'merged')"),
        None => {}
    }
    next(&mut sql, " ORDER BY created_at DESC, id DESC LIMIT $?");
    next(&mut sql, " OFFSET $?");
    let mut q = sqlx::query(&sql);
    for s in &strings {
        q = q.bind(s);
    }
    for t in times {
        q = q.bind(t);
    }
    let rows = q.bind(f.limit).bind(f.offset).fetch_all(pool).await?;
    Ok(rows
        .iter()
        .map(request_from_row)
        .collect::<Result<_, _>>()?)
}

/// Names of these units, by code.
pub async fn unit_names(
    pool: &AnyPool,
    codes: &[String],
) -> Result<Vec<(String, String)>, StoreError> {
    if codes.is_empty() {
        return Ok(Vec::new());
    }
    let sql = format!(
        "SELECT code, name FROM units WHERE code IN ({})",
        placeholders(codes.len())
    );
    let mut q = sqlx::query(&sql);
    for c in codes {
        q = q.bind(c);
    }
    let rows = q.fetch_all(pool).await?;
    rows.iter()
        .map(|r| Ok((r.try_get("code")?, r.try_get("name")?)))
        .collect::<Result<_, sqlx::Error>>()
        .map_err(Into::into)
}

/// Writes a request's Open311 row in a transaction of its own with the events the caller
/// gives (the request itself was written by intake just before).
pub async fn record(
    store: &Store,
    o: &Open311Row,
    events: Vec<super::NewEvent>,
) -> Result<(), StoreError> {
    let mut tx = store.begin().await?;
    insert_request(&mut tx, o).await?;
    for e in events {
        tx.event(e);
    }
    tx.commit().await?;
    Ok(())
}
