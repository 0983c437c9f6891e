//! Coordinates: WGS-84 (what GPS gives and Open311 expects), GCJ-02 (the offset datum
//! Chinese map services use, 火星坐标) and BD-09 (Baidu's, a further offset of GCJ-02).
//! Conversion WGS-84 → GCJ-02 is the published closed formula; GCJ-02 → WGS-84 inverts it by
//! fixed-point iteration (to ~1e-7°, about a centimetre). GCJ-02 ↔ BD-09 is Baidu's published
//! pair of formulas (not exact inverses: the way back is iterated too). Outside China
//! WGS-84 and GCJ-02 coincide.

use std::f64::consts::PI;

const A: f64 = 6_378_245.0;
const EE: f64 = 0.006_693_421_622_965_943;

/// Whether a point is outside the box where GCJ-02 applies (then no offset is added).
pub fn outside_china(lat: f64, lon: f64) -> bool {
    !(72.004..=137.8347).contains(&lon) || !(0.8293..=55.8271).contains(&lat)
}

fn transform_lat(x: f64, y: f64) -> f64 {
    let mut ret = -100.0 + 2.0 * x + 3.0 * y + 0.2 * y * y + 0.1 * x * y + 0.2 * x.abs().sqrt();
    ret += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    ret += (20.0 * (y * PI).sin() + 40.0 * (y / 3.0 * PI).sin()) * 2.0 / 3.0;
    ret += (160.0 * (y / 12.0 * PI).sin() + 320.0 * (y * PI / 30.0).sin()) * 2.0 / 3.0;
    ret
}

fn transform_lon(x: f64, y: f64) -> f64 {
    let mut ret = 300.0 + x + 2.0 * y + 0.1 * x * x + 0.1 * x * y + 0.1 * x.abs().sqrt();
    ret += (20.0 * (6.0 * x * PI).sin() + 20.0 * (2.0 * x * PI).sin()) * 2.0 / 3.0;
    ret += (20.0 * (x * PI).sin() + 40.0 * (x / 3.0 * PI).sin()) * 2.0 / 3.0;
    ret += (150.0 * (x / 12.0 * PI).sin() + 300.0 * (x / 30.0 * PI).sin()) * 2.0 / 3.0;
    ret
}

/// WGS-84 → GCJ-02 (latitude, longitude in degrees).
pub fn wgs84_to_gcj02(lat: f64, lon: f64) -> (f64, f64) {
    if outside_china(lat, lon) {
        return (lat, lon);
    }
    let d_lat = transform_lat(lon - 105.0, lat - 35.0);
    let d_lon = transform_lon(lon - 105.0, lat - 35.0);
    let rad = lat / 180.0 * PI;
    let magic = 1.0 - EE * rad.sin() * rad.sin();
    let sqrt_magic = magic.sqrt();
    let d_lat = (d_lat * 180.0) / ((A * (1.0 - EE)) / (magic * sqrt_magic) * PI);
    let d_lon = (d_lon * 180.0) / (A / sqrt_magic * rad.cos() * PI);
    (lat + d_lat, lon + d_lon)
}

/// GCJ-02 → WGS-84 (latitude, longitude in degrees): the WGS-84 point whose GCJ-02 image is
/// the given point, found by iterating on the offset.
pub fn gcj02_to_wgs84(lat: f64, lon: f64) -> (f64, f64) {
    if outside_china(lat, lon) {
        return (lat, lon);
    }
    let (mut w_lat, mut w_lon) = (lat, lon);
    for _ in 0..30 {
        let (g_lat, g_lon) = wgs84_to_gcj02(w_lat, w_lon);
        let (e_lat, e_lon) = (g_lat - lat, g_lon - lon);
        w_lat -= e_lat;
        w_lon -= e_lon;
        if e_lat.abs() < 1e-9 && e_lon.abs() < 1e-9 {
            break;
        }
    }
    (w_lat, w_lon)
}

const X_PI: f64 = PI * 3000.0 / 180.0;

/// GCJ-02 → BD-09 (latitude, longitude in degrees), Baidu's published formula.
pub fn gcj02_to_bd09(lat: f64, lon: f64) -> (f64, f64) {
    let z = (lon * lon + lat * lat).sqrt() + 0.00002 * (lat * X_PI).sin();
    let theta = lat.atan2(lon) + 0.000003 * (lon * X_PI).cos();
    (z * theta.sin() + 0.006, z * theta.cos() + 0.0065)
}

fn bd09_to_gcj02_approx(lat: f64, lon: f64) -> (f64, f64) {
    let (x, y) = (lon - 0.0065, lat - 0.006);
    let z = (x * x + y * y).sqrt() - 0.00002 * (y * X_PI).sin();
    let theta = y.atan2(x) - 0.000003 * (x * X_PI).cos();
    (z * theta.sin(), z * theta.cos())
}

/// BD-09 → GCJ-02 (latitude, longitude in degrees): Baidu's inverse formula (good to about a
/// metre), refined by iterating on [`gcj02_to_bd09`] until it round-trips to ~1e-9°.
pub fn bd09_to_gcj02(lat: f64, lon: f64) -> (f64, f64) {
    let (mut g_lat, mut g_lon) = bd09_to_gcj02_approx(lat, lon);
    for _ in 0..10 {
        let (b_lat, b_lon) = gcj02_to_bd09(g_lat, g_lon);
        let (e_lat, e_lon) = (b_lat - lat, b_lon - lon);
        g_lat -= e_lat;
        g_lon -= e_lon;
        if e_lat.abs() < 1e-10 && e_lon.abs() < 1e-10 {
            break;
        }
    }
    (g_lat, g_lon)
}

/// WGS-84 → BD-09 (through GCJ-02).
pub fn wgs84_to_bd09(lat: f64, lon: f64) -> (f64, f64) {
    let (g_lat, g_lon) = wgs84_to_gcj02(lat, lon);
    gcj02_to_bd09(g_lat, g_lon)
}

/// BD-09 → WGS-84 (through GCJ-02).
pub fn bd09_to_wgs84(lat: f64, lon: f64) -> (f64, f64) {
    let (g_lat, g_lon) = bd09_to_gcj02(lat, lon);
    gcj02_to_wgs84(g_lat, g_lon)
}

/// The datum a coordinate was given in (坐标系): `wgs84`, `gcj02` or `bd09`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Datum {
    /// GPS, Open311's default.
    Wgs84,
    /// 火星坐标: AMap, Tencent, Apple in China.
    Gcj02,
    /// 百度坐标: Baidu Maps.
    Bd09,
}

impl Datum {
    /// Reads `wgs84`/`gcj02`/`bd09` (also `WGS-84`, `GCJ-02`, `BD-09`).
    pub fn parse(s: &str) -> Option<Datum> {
        match s.trim().to_ascii_lowercase().replace('-', "").as_str() {
            "wgs84" => Some(Datum::Wgs84),
            "gcj02" => Some(Datum::Gcj02),
            "bd09" => Some(Datum::Bd09),
            _ => None,
        }
    }

    /// The stored name.
    pub fn as_str(self) -> &'static str {
        match self {
            Datum::Wgs84 => "wgs84",
            Datum::Gcj02 => "gcj02",
            Datum::Bd09 => "bd09",
        }
    }

    /// The point in WGS-84 (latitude, longitude).
    pub fn to_wgs84(self, lat: f64, lon: f64) -> (f64, f64) {
        match self {
            Datum::Wgs84 => (lat, lon),
            Datum::Gcj02 => gcj02_to_wgs84(lat, lon),
            Datum::Bd09 => bd09_to_wgs84(lat, lon),
        }
    }
}

/// The distance in metres between two WGS-84 points (haversine, mean Earth radius).
pub fn distance_m(a: (f64, f64), b: (f64, f64)) -> f64 {
    let (la1, la2) = (a.0.to_radians(), b.0.to_radians());
    let (dla, dlo) = (la2 - la1, (b.1 - a.1).to_radians());
    let h = (dla / 2.0).sin().powi(2) + la1.cos() * la2.cos() * (dlo / 2.0).sin().powi(2);
    2.0 * 6_371_008.8 * h.sqrt().asin()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn baidu_coordinates_of_tiananmen_convert_to_gps_within_a_metre() {
        // Baidu adds about +0.0063° lat and +0.0064° lon to GCJ-02 in Beijing, so Tian'anmen
        // (GPS 39.90872, 116.39748) is about 39.9163, 116.4101 in BD-09: ~1.3 km away.
        let (b_lat, b_lon) = wgs84_to_bd09(39.90872, 116.39748);
        assert!((b_lat - 39.9163).abs() < 0.0003, "{b_lat}");
        assert!((b_lon - 116.4101).abs() < 0.0003, "{b_lon}");
        assert!(distance_m((b_lat, b_lon), (39.90872, 116.39748)) > 1000.0);
        let back = bd09_to_wgs84(b_lat, b_lon);
        assert!(distance_m(back, (39.90872, 116.39748)) < 0.01, "{back:?}");
        let (g_lat, g_lon) = bd09_to_gcj02(b_lat, b_lon);
        let again = gcj02_to_bd09(g_lat, g_lon);
        assert!((again.0 - b_lat).abs() < 1e-9 && (again.1 - b_lon).abs() < 1e-9);
    }

    #[test]
    fn datums_parse_in_either_spelling_and_convert_to_wgs84() {
        assert_eq!(Datum::parse("BD-09"), Some(Datum::Bd09));
        assert_eq!(Datum::parse("gcj02"), Some(Datum::Gcj02));
        assert_eq!(Datum::parse(" WGS84 "), Some(Datum::Wgs84));
        assert_eq!(Datum::parse("mercator"), None);
        assert_eq!(Datum::Wgs84.to_wgs84(39.9, 116.4), (39.9, 116.4));
        let (g_lat, g_lon) = wgs84_to_gcj02(31.23, 121.47);
        let w = Datum::Gcj02.to_wgs84(g_lat, g_lon);
        assert!(distance_m(w, (31.23, 121.47)) < 0.01);
        // A degree of latitude is ~111 km.
        assert!((distance_m((39.0, 116.0), (40.0, 116.0)) - 111_195.0).abs() < 100.0);
    }

    #[test]
    fn tiananmen_in_gcj02_is_offset_by_a_few_hundred_metres_and_converts_back() {
        // Tian'anmen: WGS-84 39.90872, 116.39748 (GPS).
        let (g_lat, g_lon) = wgs84_to_gcj02(39.90872, 116.39748);
        // Published GCJ-02 offset for central Beijing: about +0.0013° lat, +0.0062° lon.
        assert!((g_lat - 39.90872 - 0.00128).abs() < 0.0002, "{g_lat}");
        assert!((g_lon - 116.39748 - 0.00624).abs() < 0.0002, "{g_lon}");
        let (w_lat, w_lon) = gcj02_to_wgs84(g_lat, g_lon);
        assert!((w_lat - 39.90872).abs() < 1e-7, "{w_lat}");
        assert!((w_lon - 116.39748).abs() < 1e-7, "{w_lon}");
    }

    #[test]
    fn points_outside_china_are_left_alone() {
        assert_eq!(gcj02_to_wgs84(51.5, -0.12), (51.5, -0.12));
        assert_eq!(wgs84_to_gcj02(-33.9, 151.2), (-33.9, 151.2));
    }

    #[test]
    fn the_inverse_round_trips_across_the_country() {
        for (lat, lon) in [
            (22.54, 114.06),
            (31.23, 121.47),
            (43.82, 87.61),
            (29.65, 91.13),
        ] {
            let (g_lat, g_lon) = wgs84_to_gcj02(lat, lon);
            assert!((g_lat - lat).abs() > 1e-4 || (g_lon - lon).abs() > 1e-4);
            let (w_lat, w_lon) = gcj02_to_wgs84(g_lat, g_lon);
            assert!((w_lat - lat).abs() < 1e-7 && (w_lon - lon).abs() < 1e-7);
        }
    }
}
