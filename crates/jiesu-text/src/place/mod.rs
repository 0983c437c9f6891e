//! Place resolution: a gazetteer of a city's districts, streets/townships and
//! communities/villages (Beijing's from `reference/units.csv`, or any city's units in the
//! same columns, see [`Gazetteer::for_city`]) with the forms people actually say,
//! resolving free Chinese text to (district, street, community) with a confidence and
//! alternatives, or to a place elsewhere in China. It does not geocode street addresses.
//!
//! ```
//! use jiesu_text::place::{Gazetteer, PlaceStatus};
//! let csv = "code,name,level,parent_code,short_name,aliases\n\
//!            110105,朝阳区,district,,朝阳,\n\
//!            110105026,望京街道,subdistrict,110105,望京,\n";
//! let gazetteer = Gazetteer::from_units_csv(csv)?;
//! let m = gazetteer.resolve("朝阳区望京西园三区夜间施工");
//! assert_eq!(m.status, PlaceStatus::Resolved);
//! assert_eq!(m.street.unwrap().code, "110105026");
//! # Ok::<(), jiesu_text::place::PlaceError>(())
//! ```

mod forms;
mod matcher;
mod outside;
mod score;
mod units;

use serde::Serialize;

pub use units::PlaceLevel;

use matcher::Matcher;
use outside::OutsideFinder;
use units::{Unit, UnitTable};

/// Only this many leading characters of a text are read; a place is named early in a
/// citizen's message or an address, and the cap bounds the time spent on huge inputs.
pub const MAX_CHARS: usize = 2_000;
/// At most this many alternative readings are reported.
pub const MAX_ALTERNATIVES: usize = 5;

/// Why the gazetteer could not be built.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum PlaceError {
    /// The CSV text is malformed.
    #[error("units.csv line {line}: {message}")]
    Csv {
        /// 1-based line number.
        line: u64,
        /// What is wrong.
        message: String,
    },
    /// A required column is missing from the header.
    #[error("units.csv: missing column `{0}`")]
    MissingColumn(&'static str),
    /// A row has a level that is not one of the known unit levels.
    #[error("units.csv line {line}: unknown level `{level}`")]
    UnknownLevel {
        /// 1-based line number.
        line: u64,
        /// The level as written.
        level: String,
    },
    /// A place's parent is missing or at the wrong level.
    #[error("units.csv line {line}: unit {code} has a missing or wrong-level parent `{parent}`")]
    BadParent {
        /// 1-based line number.
        line: u64,
        /// The unit.
        code: String,
        /// Its parent code as written.
        parent: String,
    },
    /// Two place rows share a code.
    #[error("units.csv: duplicate code {0}")]
    DuplicateCode(String),
    /// The table holds no district, so nothing could ever resolve.
    #[error("units.csv: no district rows")]
    NoDistricts,
    /// The pattern automaton could not be built.
    #[error("place matcher: {0}")]
    Matcher(String),
}

/// How a text was resolved.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PlaceStatus {
    /// One reading of the Beijing hierarchy clearly wins.
    Resolved,
    /// Several unrelated Beijing readings score alike; only the levels they share are
    /// filled and `alternatives` lists them.
    Ambiguous,
    /// The text names a place elsewhere in China (`outside`).
    OutsideCity,
    /// No place was recognised.
    None,
}

/// A Beijing unit in a result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct PlaceUnit {
    /// NBS division code (6 digits for a district, 9 for a street, 12 for a community).
    pub code: String,
    /// Official name, e.g. 望京街道.
    pub name: String,
    /// Administrative level.
    pub level: PlaceLevel,
}

impl PlaceUnit {
    fn of(unit: &Unit) -> Self {
        PlaceUnit {
            code: unit.code.clone(),
            name: unit.name.clone(),
            level: unit.level,
        }
    }
}

/// One reading of the text, as a chain of units.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlaceCandidate {
    /// The district (区).
    pub district: Option<PlaceUnit>,
    /// The street, township or zone (街道 / 乡镇 / 特殊区域).
    pub street: Option<PlaceUnit>,
    /// The community or village (社区 / 村).
    pub community: Option<PlaceUnit>,
    /// How strongly the text supports this reading, 0..1, damped by the readings unrelated
    /// to it as the answer's `confidence` is: never above the answer that beat it.
    pub confidence: f64,
}

/// A place elsewhere in China, as far as it could be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct OutsidePlace {
    /// Province, autonomous region or municipality, e.g. 上海市.
    pub province: Option<String>,
    /// Prefecture-level city, e.g. 廊坊市 (the municipality itself for 上海/天津/重庆).
    pub city: Option<String>,
    /// County-level unit, e.g. 浦东新区 or 三河市.
    pub district: Option<String>,
}

/// The result of [`Gazetteer::resolve`].
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct PlaceMatch {
    /// Resolved, ambiguous, outside the city, or none.
    pub status: PlaceStatus,
    /// The district (区), implied by any lower level.
    pub district: Option<PlaceUnit>,
    /// The street, township or zone (街道 / 乡镇 / 特殊区域).
    pub street: Option<PlaceUnit>,
    /// The community or village (社区 / 村).
    pub community: Option<PlaceUnit>,
    /// 0..1; lower for short, bare or contested mentions.
    pub confidence: f64,
    /// The text spans used (after whitespace and control characters are removed).
    pub matched: Vec<String>,
    /// Other readings, best first, at most [`MAX_ALTERNATIVES`]; when ambiguous, all the
    /// competing readings including the best one.
    pub alternatives: Vec<PlaceCandidate>,
    /// The place elsewhere in China when `status` is `outside_city`.
    pub outside: Option<OutsidePlace>,
}

impl PlaceMatch {
    /// A result with nothing recognised.
    pub fn none() -> Self {
        PlaceMatch {
            status: PlaceStatus::None,
            district: None,
            street: None,
            community: None,
            confidence: 0.0,
            matched: Vec::new(),
            alternatives: Vec::new(),
            outside: None,
        }
    }

    /// The unit codes of the levels that are certain, as dispatch takes them: all of a
    /// resolved place, the shared levels of an ambiguous one (the gazetteer fills only those),
    /// none otherwise.
    pub fn codes(&self) -> jiesu_core::dispatch::PlaceCodes {
        if !matches!(self.status, PlaceStatus::Resolved | PlaceStatus::Ambiguous) {
            return jiesu_core::dispatch::PlaceCodes::default();
        }
        let code = |u: &Option<PlaceUnit>| u.as_ref().map(|u| u.code.clone());
        jiesu_core::dispatch::PlaceCodes {
            district: code(&self.district),
            street: code(&self.street),
            community: code(&self.community),
        }
    }
}

/// The city a gazetteer serves, by the names `cpca` uses: its places are "here", every
/// other city's are "elsewhere" (`outside_city`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HomeCity {
    /// Province-level name, e.g. 广东省 (北京市 for Beijing).
    pub province: String,
    /// Prefecture-level name, e.g. 广州市 (北京市 for Beijing: the municipality itself).
    pub city: String,
    /// What people call it, e.g. 广州.
    pub short: String,
}

impl HomeCity {
    /// Beijing, the default.
    pub fn beijing() -> HomeCity {
        HomeCity {
            province: "北京市".into(),
            city: "北京市".into(),
            short: "北京".into(),
        }
    }

    /// 北京, 天津, 上海, 重庆: the city is the province.
    pub fn is_municipality(&self) -> bool {
        self.province == self.city
    }
}

/// A city's place units with their spoken forms, built once and shared.
#[derive(Debug, Clone)]
pub struct Gazetteer {
    table: UnitTable,
    matcher: Matcher,
    outside: OutsideFinder,
    home: HomeCity,
}

impl Gazetteer {
    /// Builds the gazetteer from the text of `units.csv` (header
    /// `code,name,level,parent_code,short_name,aliases`); the center, departments and
    /// companies are ignored.
    pub fn from_units_csv(csv_text: &str) -> Result<Gazetteer, PlaceError> {
        Self::for_city(csv_text, &HomeCity::beijing())
    }

    /// Builds the gazetteer of another city from the same CSV text: places in `home` are
    /// its own, others (Beijing included) are elsewhere.
    pub fn for_city(csv_text: &str, home: &HomeCity) -> Result<Gazetteer, PlaceError> {
        let table = UnitTable::from_csv(csv_text)?;
        let matcher = Matcher::build(&table, forms::all_forms(&table))?;
        let outside = OutsideFinder::build(home)?;
        Ok(Gazetteer {
            table,
            matcher,
            outside,
            home: home.clone(),
        })
    }

    /// The city this gazetteer serves.
    pub fn home(&self) -> &HomeCity {
        &self.home
    }

    /// Number of place units (districts, streets/townships, zones, communities, villages).
    pub fn len(&self) -> usize {
        self.table.units.len()
    }

    /// Whether the gazetteer holds no units (never true for a built one).
    pub fn is_empty(&self) -> bool {
        self.table.units.is_empty()
    }

    /// Number of distinct spoken forms the matcher knows.
    pub fn forms(&self) -> usize {
        self.matcher.len()
    }

    /// The unit with this code, if it is a place unit.
    pub fn unit(&self, code: &str) -> Option<PlaceUnit> {
        let &i = self.table.by_code.get(code)?;
        Some(PlaceUnit::of(&self.table.units[i as usize]))
    }

    /// Resolves a citizen's message or an address to a place of the home city (Beijing
    /// unless built [`Gazetteer::for_city`]), a place elsewhere, or none. The home city comes
    /// first: an outside place wins only when nothing at home matches (a short name like 深圳
    /// then also needs the text not to name the home city, 北京), or when the text
    /// explicitly names another province, municipality or prefecture city and names no home
    /// district and not the home city. Only the first
    /// [`MAX_CHARS`] characters are read. Never panics.
    pub fn resolve(&self, text: &str) -> PlaceMatch {
        let text = matcher::normalize(text);
        if text.is_empty() {
            return PlaceMatch::none();
        }
        let outside = self.outside.find(&text);
        let hits = self.matcher.find(&text);
        let hits = self.matcher.without_exits(&self.table, &text, hits);
        let mut hits = self
            .matcher
            .without_lines_and_destinations(&self.table, &text, hits);
        if let Some(found) = outside.as_ref() {
            let (s, e) = found.span;
            if found.explicit {
                // 辽宁省朝阳市: the 朝阳 belongs to the outside address.
                hits.retain(|h| h.end <= s || h.start >= e);
            } else if !hits.iter().any(|h| {
                h.start <= s
                    && h.end >= e
                    && self.matcher.entries[h.pattern]
                        .iter()
                        .any(|x| self.table.units[x.unit as usize].level == PlaceLevel::District)
            }) {
                // 深圳沙河, 南京老山公园: a place said right after another city's name is that
                // city's (not after a district's name of both: 朝阳定福庄 is the district's; 苏州,
                // a community of 建国门 too, is the city in 苏州香山脚下).
                hits.retain(|h| h.start != e);
            }
        }
        let beijing = score::evaluate(&self.table, &self.matcher, &hits);
        let says_beijing = text.contains(self.home.short.as_str());
        // 想专门从天津过来看: where the caller comes from, not where the place is.
        let origin = |found: &outside::Found| {
            let (before, after) = (&text[..found.span.0], &text[found.span.1..]);
            ORIGIN_BEFORE.iter().any(|w| before.ends_with(w))
                && ORIGIN_AFTER.iter().any(|w| after.starts_with(w))
        };
        match (beijing, outside) {
            (Some(ev), Some(found))
                if found.explicit && !origin(&found) && !ev.names_district && !says_beijing =>
            {
                outside_match(&text, found)
            }
            (Some(ev), _) => score::to_match(&self.table, &text, &ev),
            // "深圳的公积金能转到北京吗": a bare city name next to 北京 decides nothing.
            (None, Some(found)) if found.explicit || !says_beijing => outside_match(&text, found),
            (None, _) => PlaceMatch::none(),
        }
    }
}

/// Words right before another city's name that make it where the caller comes from (从天津过来,
/// 来自河北): a Beijing place in the same text is still the place of the call.
const ORIGIN_BEFORE: &[&str] = &["从", "来自"];

/// What follows a city the caller comes from: coming (过来, 赶来, 来), to Beijing, or who they are
/// (来自河北的游客).
const ORIGIN_AFTER: &[&str] = &["过来", "赶来", "来", "到北京", "进京", "的游客", "的老人"];

fn outside_match(text: &str, found: outside::Found) -> PlaceMatch {
    let place = found.place;
    let parts = [&place.province, &place.city, &place.district]
        .iter()
        .filter(|p| p.is_some())
        .count();
    let confidence = if found.explicit { 0.6 } else { 0.45 } + 0.1 * parts as f64;
    PlaceMatch {
        status: PlaceStatus::OutsideCity,
        confidence: confidence.min(0.95),
        matched: vec![text[found.span.0..found.span.1].to_string()],
        outside: Some(place),
        ..PlaceMatch::none()
    }
}

#[cfg(test)]
mod tests;
