//! Coordinates: WGS-84 (what GPS gives and Open311 expects) and GCJ-02 (the offset datum
//! Chinese map services use, 火星坐标). Conversion WGS-84 → GCJ-02 is the published
//! closed formula; GCJ-02 → WGS-84 inverts it by fixed-point iteration (to ~1e-7°, about a
//! centimetre). Outside China the two datums coincide.

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

#[cfg(test)]
mod tests {
    use super::*;

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
