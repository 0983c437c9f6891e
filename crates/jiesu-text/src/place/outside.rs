//! Addresses elsewhere in China. `cpca` parses province/city/district but only at the
//! start of an address, so an automaton over the province, city and county names outside
//! the home city (Beijing unless the gazetteer was built for another) finds where such an
//! address starts in free text and `cpca` reads from there. Whether the home city or the
//! outside place wins is decided by the caller.

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, MatchKind};

use super::{HomeCity, OutsidePlace, PlaceError};

/// Short city names that are also ordinary words or read across word boundaries in
/// messages (中山公园, 三明治, 大同小异, 平安顺利, 托运城); their full names (中山市) still count.
#[rustfmt::skip]
const CITY_STOP: &[&str] = &[
    "中山", "黄山", "白山", "安康", "三明", "白银", "普洱", "玉溪", "和田", "大理", "吉安",
    "开封", "大同", "东营", "来宾", "阿里", "东方", "文昌", "日照", "万宁", "五指山", "山南",
    "巴中", "黑河", "运城", "大庆", "河源", "定西", "天水", "安顺", "长治", "海东", "海北",
    "兴安", "新余", "乐山", "丽水", "随州", "吉林",
];

/// Places people name that `cpca` does not know as an address start.
const FIXED: &[(&str, [&str; 3])] = &[("燕郊", ["河北省", "廊坊市", "三河市"])];

/// How many characters after an anchor `cpca` gets to read.
const WINDOW_CHARS: usize = 40;
/// At most this many anchors are tried per text.
const MAX_TRIES: usize = 8;

#[derive(Debug, Clone)]
struct Anchor {
    /// A province-level or full city name: the text says "elsewhere" on purpose.
    explicit: bool,
    fixed: Option<OutsidePlace>,
}

/// Finds the first address outside the home city in a text.
#[derive(Debug, Clone)]
pub(crate) struct OutsideFinder {
    ac: AhoCorasick,
    anchors: Vec<Anchor>,
    home: HomeCity,
}

/// A place outside the home city found in the text, with the byte span `cpca` consumed.
#[derive(Debug, Clone)]
pub(crate) struct Found {
    pub place: OutsidePlace,
    pub span: (usize, usize),
    pub explicit: bool,
}

fn strip_any<'a>(s: &'a str, suffixes: &[&str]) -> &'a str {
    suffixes
        .iter()
        .find_map(|suf| s.strip_suffix(suf))
        .unwrap_or(s)
}

/// Whether `name` is the short name of a city or county of China (玉林 of 玉林市, 清城 of
/// 清城区, 新安 of 新安县; the home city's own districts among them): such a name said with
/// 那边 may well mean that place. Autonomous counties keep their long names.
pub(crate) fn names_a_place_elsewhere(name: &str) -> bool {
    static SHORT: std::sync::OnceLock<std::collections::HashSet<String>> =
        std::sync::OnceLock::new();
    SHORT
        .get_or_init(|| {
            let parser = cpca::AddressParser::global();
            let mut out = std::collections::HashSet::new();
            for province in parser.provinces() {
                for city in parser.cities_of_province(province) {
                    out.insert(strip_any(city, &["市", "地区", "盟"]).to_string());
                    for county in parser.districts_of_city(city) {
                        out.insert(strip_any(county, &["市", "县", "区", "旗"]).to_string());
                    }
                }
            }
            out
        })
        .contains(name)
}

impl OutsideFinder {
    /// Collects the anchor names from `cpca`'s tables (the home city excluded: the whole
    /// province for a municipality, else the city and its counties).
    pub fn build(home: &HomeCity) -> Result<Self, PlaceError> {
        let parser = cpca::AddressParser::global();
        let mut names: HashMap<String, Anchor> = HashMap::new();
        let mut add = |name: &str, explicit: bool| {
            if name.chars().count() >= 2 {
                let a = names.entry(name.to_string()).or_insert(Anchor {
                    explicit,
                    fixed: None,
                });
                a.explicit |= explicit;
            }
        };
        for province in parser.provinces() {
            if province == "国外" || (home.is_municipality() && province == &home.province) {
                continue;
            }
            add(province, true);
            let short = strip_any(
                province,
                &[
                    "省",
                    "市",
                    "壮族自治区",
                    "回族自治区",
                    "维吾尔自治区",
                    "自治区",
                    "特别行政区",
                ],
            );
            let special = province.ends_with('市') || province.ends_with("特别行政区");
            add(short, special || short == "台湾");
            for city in parser.cities_of_province(province) {
                if city == &home.city {
                    continue;
                }
                if city != province {
                    add(city, true);
                    let short = strip_any(city, &["市", "地区", "盟"]);
                    if short != city.as_str() && !CITY_STOP.contains(&short) {
                        add(short, false);
                    }
                }
                for county in parser.districts_of_city(city) {
                    if county.chars().count() >= 3
                        && (county.ends_with('市') || county.ends_with('县'))
                    {
                        add(county, false);
                    }
                }
            }
        }
        for (name, [p, c, d]) in FIXED {
            let place = OutsidePlace {
                province: Some(p.to_string()),
                city: Some(c.to_string()),
                district: Some(d.to_string()),
            };
            names.insert(
                name.to_string(),
                Anchor {
                    explicit: false,
                    fixed: Some(place),
                },
            );
        }
        let mut names: Vec<(String, Anchor)> = names.into_iter().collect();
        names.sort_by(|a, b| a.0.cmp(&b.0));
        let ac = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(names.iter().map(|n| n.0.as_str()))
            .map_err(|e| PlaceError::Matcher(e.to_string()))?;
        let anchors = names.into_iter().map(|n| n.1).collect();
        Ok(OutsideFinder {
            ac,
            anchors,
            home: home.clone(),
        })
    }

    /// The first explicit outside place, else the first one at all.
    pub fn find(&self, text: &str) -> Option<Found> {
        let mut first = None;
        for m in self.ac.find_iter(text).take(MAX_TRIES) {
            let anchor = &self.anchors[m.pattern().as_usize()];
            // 沙河市场 is a market, not 沙河市; 河南村 a village (of 顺义, among others), not the
            // province: a name said short is a village's before 村.
            if text[..m.end()].ends_with('市') && text[m.end()..].starts_with('场')
                || !anchor.explicit && text[m.end()..].starts_with('村')
            {
                continue;
            }
            let Some(found) = read_at(text, m.start(), m.end(), anchor, &self.home) else {
                continue;
            };
            if found.explicit {
                return Some(found);
            }
            first.get_or_insert(found);
        }
        first
    }
}

/// Lets `cpca` read the address starting at `start`.
fn read_at(
    text: &str,
    start: usize,
    end: usize,
    anchor: &Anchor,
    home: &HomeCity,
) -> Option<Found> {
    if let Some(place) = &anchor.fixed {
        return Some(Found {
            place: place.clone(),
            span: (start, end),
            explicit: false,
        });
    }
    let rest = &text[start..];
    let window = rest
        .char_indices()
        .nth(WINDOW_CHARS)
        .map_or(rest, |(i, _)| &rest[..i]);
    let parsed = cpca::parse(window);
    // The home province without a city, or with the home city, is no place elsewhere.
    let at_home = parsed.province.as_deref() == Some(home.province.as_str())
        && (home.is_municipality()
            || parsed.city.is_none()
            || parsed.city.as_deref() == Some(home.city.as_str()));
    if at_home || (parsed.province.is_none() && parsed.city.is_none()) {
        return None;
    }
    let consumed = if window.ends_with(parsed.detail.as_str()) {
        window.len() - parsed.detail.len()
    } else {
        end - start
    };
    Some(Found {
        place: OutsidePlace {
            province: parsed.province,
            city: parsed.city,
            district: parsed.district,
        },
        span: (start, start + consumed.max(end - start)),
        explicit: anchor.explicit,
    })
}
