//! Where requests are (issue 20): `request_locations` (WGS-84, the datum it came in, the
//! district found by point-in-polygon), the located requests of a period for the maps, and
//! the per-district counts the dashboard map colours by. Conversion and resolution are the
//! services' business; this module only reads and writes rows.

use super::{from_millis, millis, StoreError, Tx};
use chrono::{DateTime, Utc};
use sqlx::{AnyPool, Row};

/// A request's place.
#[derive(Debug, Clone, PartialEq)]
pub struct Location {
    /// The request.
    pub request_id: String,
    /// WGS-84 latitude.
    pub lat: f64,
    /// WGS-84 longitude.
    pub lon: f64,
    /// The datum it was given in (`wgs84`, `gcj02`, `bd09`).
    pub datum: String,
    /// Who gave it (`operator`, `portal`, `open311`, `api`).
    pub source: String,
    /// The district unit its point lies in, if a boundary is known there.
    pub district_code: Option<String>,
    /// When it was recorded.
    pub created_at: DateTime<Utc>,
}

/// A located request, as the maps draw it.
#[derive(Debug, Clone)]
pub struct LocatedRequest {
    /// Request id.
    pub id: String,
    /// Request number.
    pub number: String,
    /// Kind (`complaint`, `consultation`, …).
    pub kind: String,
    /// Status.
    pub status: String,
    /// Category code.
    pub category_code: Option<String>,
    /// WGS-84 latitude and longitude.
    pub lat: f64,
    /// WGS-84 longitude.
    pub lon: f64,
    /// The district unit, if resolved.
    pub district_code: Option<String>,
}

/// Records a request's place.
pub async fn insert(tx: &mut Tx, l: &Location) -> Result<(), StoreError> {
    sqlx::query(
        "INSERT INTO request_locations (request_id, lat, lon, datum, source, district_code, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&l.request_id)
    .bind(l.lat)
    .bind(l.lon)
    .bind(&l.datum)
    .bind(&l.source)
    .bind(&l.district_code)
    .bind(millis(l.created_at))
    .execute(tx.conn())
    .await?;
    Ok(())
}

/// A request's place, if it has one.
pub async fn get<'c, E>(conn: E, request_id: &str) -> Result<Option<Location>, StoreError>
where
    E: sqlx::Executor<'c, Database = sqlx::Any>,
{
    let row = sqlx::query(
        "SELECT request_id, lat, lon, datum, source, district_code, created_at \
         FROM request_locations WHERE request_id = $1",
    )
    .bind(request_id)
    .fetch_optional(conn)
    .await?;
    row.map(|r| {
        Ok(Location {
            request_id: r.try_get("request_id")?,
            lat: r.try_get("lat")?,
            lon: r.try_get("lon")?,
            datum: r.try_get("datum")?,
            source: r.try_get("source")?,
            district_code: r.try_get("district_code")?,
            created_at: from_millis(r.try_get("created_at")?),
        })
    })
    .transpose()
}

/// Located requests filed in `[from, to)`, newest first, at most `limit` (merged ones left
/// out: their primary is drawn).
pub async fn located(
    pool: &AnyPool,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    limit: i64,
) -> Result<Vec<LocatedRequest>, StoreError> {
    let rows = sqlx::query(
        "SELECT r.id, r.number, r.kind, r.status, r.category_code, l.lat, l.lon, l.district_code \
         FROM request_locations l JOIN requests r ON r.id = l.request_id \
         WHERE r.created_at >= $1 AND r.created_at < $2 AND r.status <> 'merged' \
         ORDER BY r.created_at DESC, r.id DESC LIMIT $3",
    )
    .bind(millis(from))
    .bind(millis(to))
    .bind(limit)
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(LocatedRequest {
                id: r.try_get("id")?,
                number: r.try_get("number")?,
                kind: r.try_get("kind")?,
                status: r.try_get("status")?,
                category_code: r.try_get("category_code")?,
                lat: r.try_get("lat")?,
                lon: r.try_get("lon")?,
                district_code: r.try_get("district_code")?,
            })
        })
        .collect()
}

/// Open orders past a deadline now (as the dashboard's overdue list counts them), per
/// district unit whose subtree holds the ordered unit.
pub async fn overdue_by_district(
    pool: &AnyPool,
    now: DateTime<Utc>,
) -> Result<Vec<(String, i64)>, StoreError> {
    let rows = sqlx::query(
        "SELECT u.code, COUNT(*) AS n FROM assignments a JOIN units u \
         ON u.level = 'district' AND a.unit_path LIKE u.path || '%' \
         WHERE ((a.status = 'dispatched' AND a.acknowledge_by < $1) \
            OR (a.status IN ('dispatched', 'acknowledged') AND a.reply_by < $1)) \
         GROUP BY u.code",
    )
    .bind(millis(now))
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("code")?, r.try_get("n")?)))
        .collect()
}

/// The active district units: (code, name).
pub async fn districts(pool: &AnyPool) -> Result<Vec<(String, String)>, StoreError> {
    let rows = sqlx::query(
        "SELECT code, name FROM units WHERE level = 'district' AND active = 1 ORDER BY code",
    )
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("code")?, r.try_get("name")?)))
        .collect()
}

/// Each active street/township unit's name with its district's name (to place a street on a
/// district map).
pub async fn street_districts(pool: &AnyPool) -> Result<Vec<(String, String)>, StoreError> {
    let rows = sqlx::query(
        "SELECT s.name AS street, d.name AS district FROM units s JOIN units d ON d.code = s.parent_code \
         WHERE d.level = 'district' AND s.active = 1",
    )
    .fetch_all(pool)
    .await?;
    rows.iter()
        .map(|r| Ok((r.try_get("street")?, r.try_get("district")?)))
        .collect()
}
