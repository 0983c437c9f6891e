//! The administrative unit tree read from `reference/units.csv`: districts, streets/townships,
//! zones and communities/villages with their parents. Departments, companies and the center
//! are skipped here; spoken forms and matching live in `forms` and `matcher`.

use std::collections::HashMap;

use serde::Serialize;

use super::PlaceError;

/// Administrative level of a place unit (区 / 街道 / 乡镇 / 特殊区域 / 社区 / 村).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum PlaceLevel {
    /// 区: one of Beijing's 16 districts.
    District,
    /// 街道: an urban subdistrict.
    Subdistrict,
    /// 乡 / 镇 / 地区: a township.
    Township,
    /// 特殊区域: a development zone or the airport, ranked with streets.
    Zone,
    /// 社区 (居委会): an urban community.
    Community,
    /// 村 (村委会): a village.
    Village,
}

impl PlaceLevel {
    /// Parses a `units.csv` level; `Ok(None)` for levels that are not places.
    fn parse(raw: &str) -> Result<Option<Self>, ()> {
        Ok(Some(match raw {
            "district" => Self::District,
            "subdistrict" => Self::Subdistrict,
            "township" => Self::Township,
            "zone" => Self::Zone,
            "community" => Self::Community,
            "village" => Self::Village,
            "center" | "department" | "company" | "property" => return Ok(None),
            _ => return Err(()),
        }))
    }

    /// 0 for districts, 1 for streets/townships/zones, 2 for communities/villages.
    pub(crate) fn tier(self) -> usize {
        match self {
            Self::District => 0,
            Self::Subdistrict | Self::Township | Self::Zone => 1,
            Self::Community | Self::Village => 2,
        }
    }
}

/// One place unit with its resolved ancestors (indices into [`UnitTable::units`]).
#[derive(Debug, Clone)]
pub(crate) struct Unit {
    pub code: String,
    pub name: String,
    pub level: PlaceLevel,
    pub short_name: String,
    pub aliases: Vec<String>,
    /// The district this unit lies in (itself for a district).
    pub district: u32,
    /// The street/township/zone this unit lies in (itself for one; `None` for a district).
    pub street: Option<u32>,
}

impl Unit {
    /// This unit's ancestors and itself, district first.
    pub fn chain(&self, me: u32) -> impl Iterator<Item = u32> {
        let street = self.street.filter(|&s| s != me);
        let own = (me != self.district).then_some(me);
        [Some(self.district), street, own].into_iter().flatten()
    }
}

/// All place units, indexed by code.
#[derive(Debug, Clone, Default)]
pub(crate) struct UnitTable {
    pub units: Vec<Unit>,
    pub by_code: HashMap<String, u32>,
}

struct Row {
    line: u64,
    code: String,
    name: String,
    level: PlaceLevel,
    parent: String,
    short_name: String,
    aliases: Vec<String>,
}

impl UnitTable {
    /// Reads the CSV text; rows are expected parents-first but any order is accepted.
    pub fn from_csv(text: &str) -> Result<Self, PlaceError> {
        let rows = read_rows(text)?;
        let index: HashMap<&str, usize> = rows
            .iter()
            .enumerate()
            .map(|(i, r)| (r.code.as_str(), i))
            .collect();
        if let Some(dup) = rows
            .iter()
            .find(|r| rows[index[r.code.as_str()]].line != r.line)
        {
            return Err(PlaceError::DuplicateCode(dup.code.clone()));
        }
        let mut table = UnitTable::default();
        for row in &rows {
            let (district, street) = ancestors(row, &rows, &index)?;
            let me = table.units.len() as u32;
            table.by_code.insert(row.code.clone(), me);
            table.units.push(Unit {
                code: row.code.clone(),
                name: row.name.clone(),
                level: row.level,
                short_name: row.short_name.clone(),
                aliases: row.aliases.clone(),
                // Row indices are final unit indices: every place row becomes one unit.
                district: district as u32,
                street: street.map(|s| s as u32),
            });
        }
        if !table.units.iter().any(|u| u.level == PlaceLevel::District) {
            return Err(PlaceError::NoDistricts);
        }
        Ok(table)
    }
}

fn read_rows(text: &str) -> Result<Vec<Row>, PlaceError> {
    let mut reader = csv::Reader::from_reader(text.as_bytes());
    let headers = reader.headers().map_err(csv_error)?.clone();
    let column = |name: &'static str| {
        headers
            .iter()
            .position(|h| h.trim() == name)
            .ok_or(PlaceError::MissingColumn(name))
    };
    let (c_code, c_name, c_level) = (column("code")?, column("name")?, column("level")?);
    let (c_parent, c_short, c_aliases) = (
        column("parent_code")?,
        column("short_name")?,
        column("aliases")?,
    );
    let mut rows = Vec::new();
    for record in reader.records() {
        let record = record.map_err(csv_error)?;
        let line = record.position().map_or(0, |p| p.line());
        let field = |i: usize| record.get(i).unwrap_or("").trim().to_string();
        let raw_level = field(c_level);
        let level = PlaceLevel::parse(&raw_level).map_err(|()| PlaceError::UnknownLevel {
            line,
            level: raw_level.clone(),
        })?;
        let Some(level) = level else { continue };
        rows.push(Row {
            line,
            code: field(c_code),
            name: field(c_name),
            level,
            parent: field(c_parent),
            short_name: field(c_short),
            aliases: field(c_aliases)
                .split('|')
                .map(str::trim)
                .filter(|a| !a.is_empty())
                .map(String::from)
                .collect(),
        });
    }
    Ok(rows)
}

fn csv_error(e: csv::Error) -> PlaceError {
    PlaceError::Csv {
        line: e.position().map_or(0, |p| p.line()),
        message: e.to_string(),
    }
}

/// Finds the district and street row indices of `row`, checking the parent levels.
fn ancestors(
    row: &Row,
    rows: &[Row],
    index: &HashMap<&str, usize>,
) -> Result<(usize, Option<usize>), PlaceError> {
    let bad_parent = || PlaceError::BadParent {
        line: row.line,
        code: row.code.clone(),
        parent: row.parent.clone(),
    };
    let me = index[row.code.as_str()];
    let parent = || {
        index
            .get(row.parent.as_str())
            .copied()
            .ok_or_else(bad_parent)
    };
    match row.level.tier() {
        0 => Ok((me, None)),
        1 => {
            let d = parent()?;
            (rows[d].level.tier() == 0)
                .then_some((d, Some(me)))
                .ok_or_else(bad_parent)
        }
        _ => {
            let s = parent()?;
            let d = index.get(rows[s].parent.as_str()).copied();
            match (rows[s].level.tier(), d) {
                (1, Some(d)) if rows[d].level.tier() == 0 => Ok((d, Some(s))),
                _ => Err(bad_parent()),
            }
        }
    }
}
