//! Another city in minutes (`jiesu init --city CODE`): the units of any prefecture-level city
//! of China from the shipped national division table (districts, streets/townships), its
//! communities and villages from an NBS village file when given, the center, departments and
//! companies named for the city (same codes as Beijing's, so the categories' default units and
//! the dispatch catalogue work unchanged), recorded in the database so that `serve` keeps them
//! (and never loads the Beijing units over them).

use crate::store::city::{self, City, UnitRow, BEIJING, CITY_UNITS, DIVISIONS};
use crate::store::units;
use crate::store::{self, Store, StoreError};
use chrono::{DateTime, Utc};
use sha2::{Digest, Sha256};
use std::collections::{BTreeMap, HashMap, HashSet};

/// Why `init --city` did nothing.
#[derive(Debug, thiserror::Error)]
pub enum CityError {
    /// The code names no prefecture-level city.
    #[error("--city {0}: 不是地级市区划代码 / not a prefecture-level division code (give 4 digits such as 4401, or 440100 or 440100000000)")]
    UnknownCode(String),
    /// The village file is malformed.
    #[error("--villages line {line}: {message}")]
    BadVillages {
        /// 1-based line.
        line: u64,
        /// What is wrong.
        message: String,
    },
    /// The database already serves another city with requests in it.
    #[error("{0}")]
    Refused(String),
    /// The database failed.
    #[error(transparent)]
    Store(#[from] StoreError),
    /// Anything else (migrations, reference loads).
    #[error(transparent)]
    Other(#[from] anyhow::Error),
}

/// The units planned for a city.
#[derive(Debug, Clone)]
pub struct Plan {
    /// The city.
    pub city: City,
    /// Every unit, the center first.
    pub units: Vec<UnitRow>,
}

impl Plan {
    /// Units per level.
    pub fn counts(&self) -> BTreeMap<String, usize> {
        let mut m = BTreeMap::new();
        for u in &self.units {
            *m.entry(u.level.clone()).or_insert(0) += 1;
        }
        m
    }

    /// A digest of the units, recorded with the city.
    pub fn version(&self) -> String {
        let mut h = Sha256::new();
        for u in &self.units {
            for f in [
                &u.code,
                &u.name,
                &u.level,
                u.parent_code.as_deref().unwrap_or(""),
                &u.short_name,
                &u.aliases,
            ] {
                h.update(f.as_bytes());
                h.update([0]);
            }
        }
        hex::encode(&h.finalize()[..8])
    }
}

const MUNICIPALITIES: [&str; 4] = ["11", "12", "31", "50"];

/// The 4-digit prefecture code of `input`: `4401`, `440100` or `440100000000`; a
/// municipality's `1100`, `110000` or `1101` is `1101` (重庆's `5002` counties are `5001`).
pub fn parse_code(input: &str) -> Result<String, CityError> {
    let s = input.trim();
    let unknown = || CityError::UnknownCode(input.to_string());
    if !s.bytes().all(|b| b.is_ascii_digit()) {
        return Err(unknown());
    }
    let four = match s.len() {
        4 => s,
        6 if s.ends_with("00") => &s[..4],
        12 if s.ends_with("00000000") => &s[..4],
        _ => return Err(unknown()),
    };
    let province = &four[..2];
    let code = if MUNICIPALITIES.contains(&province) && matches!(&four[2..], "00" | "01" | "02") {
        format!("{province}01")
    } else {
        four.to_string()
    };
    let known = division_rows()
        .iter()
        .any(|r| r.level == "city" && r.code == code);
    known.then_some(code).ok_or_else(unknown)
}

fn division_rows() -> &'static [UnitRow] {
    static ROWS: std::sync::OnceLock<Vec<UnitRow>> = std::sync::OnceLock::new();
    ROWS.get_or_init(|| {
        let mut rdr = csv::Reader::from_reader(DIVISIONS.as_bytes());
        rdr.records()
            .filter_map(Result::ok)
            .map(|r| UnitRow {
                code: r[0].to_string(),
                name: r[1].to_string(),
                level: r[2].to_string(),
                parent_code: (!r[3].is_empty()).then(|| r[3].to_string()),
                short_name: r[4].to_string(),
                aliases: r[5].to_string(),
            })
            .collect()
    })
}

/// The city with this 4-digit code (from [`parse_code`]).
fn city_of(code: &str) -> Result<City, CityError> {
    if code == BEIJING {
        return Ok(City::beijing());
    }
    let rows = division_rows();
    let row = rows
        .iter()
        .find(|r| r.level == "city" && r.code == code)
        .ok_or_else(|| CityError::UnknownCode(code.to_string()))?;
    let province = rows
        .iter()
        .find(|r| r.level == "province" && Some(&r.code) == row.parent_code.as_ref())
        .ok_or_else(|| CityError::UnknownCode(code.to_string()))?;
    let municipality = MUNICIPALITIES.contains(&province.code.as_str());
    Ok(City {
        code: code.to_string(),
        name: row.name.clone(),
        short_name: row.short_name.clone(),
        province_code: province.code.clone(),
        province_name: province.name.clone(),
        jurisdiction: if municipality {
            format!("{}0000", province.code)
        } else {
            format!("{code}00")
        },
    })
}

/// Plans the units of the city `code` (4 digits, see [`parse_code`]), with the communities
/// and villages of `villages` (the text of an NBS `villages.csv`: `code,name,streetCode,…`;
/// rows of other cities are skipped) when given.
pub fn plan(code: &str, villages: Option<&str>) -> Result<Plan, CityError> {
    let city = city_of(code)?;
    let mut units: Vec<UnitRow> = Vec::new();
    if code == BEIJING {
        let mut rdr = csv::Reader::from_reader(store::reference::SHIPPED[0].1.as_bytes());
        for r in rdr.records() {
            let r = r.map_err(anyhow::Error::from)?;
            units.push(UnitRow {
                code: r[0].to_string(),
                name: r[1].to_string(),
                level: r[2].to_string(),
                parent_code: (!r[3].is_empty()).then(|| r[3].to_string()),
                short_name: r[4].to_string(),
                aliases: r[5].to_string(),
            });
        }
    } else {
        let fill = |s: &str| {
            s.replace("{市}", &city.name)
                .replace("{城}", &city.short_name)
        };
        let mut rdr = csv::Reader::from_reader(CITY_UNITS.as_bytes());
        for r in rdr.records() {
            let r = r.map_err(anyhow::Error::from)?;
            units.push(UnitRow {
                code: r[0].to_string(),
                name: fill(&r[1]),
                level: r[2].to_string(),
                parent_code: None,
                short_name: fill(&r[3]),
                aliases: fill(&r[4]),
            });
        }
        let rows = division_rows();
        let districts: HashSet<&str> = rows
            .iter()
            .filter(|r| r.level == "district" && r.parent_code.as_deref() == Some(code))
            .map(|r| r.code.as_str())
            .collect();
        for r in rows {
            let Some(parent) = r.parent_code.as_deref() else {
                continue;
            };
            if r.level == "district" && parent == code {
                // Districts are the top of the place tree, as Beijing's are.
                units.push(UnitRow {
                    parent_code: None,
                    ..r.clone()
                });
            } else if r.level != "district" && r.level != "city" && districts.contains(parent) {
                units.push(r.clone());
            }
        }
    }
    if let Some(text) = villages {
        add_villages(&mut units, text)?;
    }
    Ok(Plan { city, units })
}

/// Adds (or replaces) the communities and villages of `text` under the plan's streets.
fn add_villages(units: &mut Vec<UnitRow>, text: &str) -> Result<(), CityError> {
    let streets: HashSet<String> = units
        .iter()
        .filter(|u| matches!(u.level.as_str(), "subdistrict" | "township" | "zone"))
        .map(|u| u.code.clone())
        .collect();
    let districts: HashSet<String> = units
        .iter()
        .filter(|u| u.level == "district")
        .map(|u| u.code.clone())
        .collect();
    let bad = |line: u64, message: String| CityError::BadVillages { line, message };
    let mut rdr = csv::Reader::from_reader(text.trim_start_matches('\u{feff}').as_bytes());
    let headers = rdr.headers().map_err(|e| bad(1, e.to_string()))?.clone();
    let col = |name: &str| headers.iter().position(|h| h.trim() == name);
    let (Some(c_code), Some(c_name), Some(c_street)) =
        (col("code"), col("name"), col("streetCode"))
    else {
        return Err(bad(
            1,
            "表头须有 code,name,streetCode 列 / the header must name the columns code,name,streetCode"
                .into(),
        ));
    };
    let mut index: HashMap<String, usize> = units
        .iter()
        .enumerate()
        .map(|(i, u)| (u.code.clone(), i))
        .collect();
    for (i, rec) in rdr.records().enumerate() {
        let line = i as u64 + 2;
        let rec = rec.map_err(|e| bad(line, e.to_string()))?;
        let code = rec.get(c_code).unwrap_or("").trim();
        let name = rec.get(c_name).unwrap_or("").trim();
        let street = rec.get(c_street).unwrap_or("").trim();
        if code.len() != 12 || !code.bytes().all(|b| b.is_ascii_digit()) {
            return Err(bad(
                line,
                format!("code: 须为 12 位数字 / must be 12 digits, not {code:?}"),
            ));
        }
        if !districts.contains(&code[..6]) {
            continue; // another city's village
        }
        if street != &code[..9] || !streets.contains(street) {
            return Err(bad(
                line,
                format!("streetCode: {street:?} 不是本市的街道乡镇 / is not a street or township of the city"),
            ));
        }
        if name.is_empty() {
            return Err(bad(line, "name: 不能为空 / must not be empty".into()));
        }
        let (level, short, aliases) = village_spoken(code, name);
        let row = UnitRow {
            code: code.to_string(),
            name: name.to_string(),
            level: level.to_string(),
            parent_code: Some(street.to_string()),
            short_name: short,
            aliases: aliases.join("|"),
        };
        match index.get(code) {
            Some(&at) => units[at] = row,
            None => {
                index.insert(code.to_string(), units.len());
                units.push(row);
            }
        }
    }
    Ok(())
}

/// (level, short name, aliases) of a community or village, as `scripts/gen_reference.py`
/// derives Beijing's: 多福巷社区居委会 → 多福巷社区 (多福巷); 六合庄村村委会 → 六合庄村 (六合庄).
/// A name without a known ending follows the NBS code range (001–199 and 4xx communities).
pub fn village_spoken(code: &str, name: &str) -> (&'static str, String, Vec<String>) {
    let stem_alias = |stem: &str| {
        if stem.chars().count() >= 2 {
            vec![stem.to_string()]
        } else {
            Vec::new()
        }
    };
    const SUFFIXES: [(&str, &str, &str); 7] = [
        ("社区居民委员会", "community", "社区"),
        ("社区居民居委会", "community", "社区"),
        ("社区居委会", "community", "社区"),
        ("居民委员会", "community", "居委会"),
        ("居委会", "community", "居委会"),
        ("村民委员会", "village", "村"),
        ("村委会", "village", "村"),
    ];
    for (suffix, level, keep) in SUFFIXES {
        if let Some(stem) = name.strip_suffix(suffix) {
            if level == "village" {
                let short = if stem.ends_with('村') {
                    stem.to_string()
                } else {
                    format!("{stem}村")
                };
                let base = short.strip_suffix('村').unwrap_or(&short).to_string();
                return (level, short.clone(), stem_alias(&base));
            }
            return (level, format!("{stem}{keep}"), stem_alias(stem));
        }
    }
    if let Some(stem) = name.strip_suffix("社区") {
        return ("community", name.to_string(), stem_alias(stem));
    }
    if let Some(stem) = name.strip_suffix('村') {
        return ("village", name.to_string(), stem_alias(stem));
    }
    let n: u32 = code.get(9..).and_then(|s| s.parse().ok()).unwrap_or(0);
    let level = if n < 200 || (400..500).contains(&n) {
        "community"
    } else {
        "village"
    };
    (level, name.to_string(), Vec::new())
}

/// What [`build`] did.
#[derive(Debug, Clone)]
pub struct Built {
    /// The city.
    pub city: City,
    /// Units per level.
    pub counts: BTreeMap<String, usize>,
    /// Earlier units closed (another city's, or ones the city does not have).
    pub closed: usize,
}

/// Builds the city `plan` in `store` (migrated): refuses a database holding another city's
/// requests, writes and records the units (closing any others) with a `city.initialised`
/// event. The shipped categories, time limits, holidays and catalogue, and `admin`, follow
/// at the next start (`open_state`), which keeps these units.
pub async fn build(store: &Store, plan: Plan, now: DateTime<Utc>) -> Result<Built, CityError> {
    let mut tx = store.begin().await?;
    let before = city::served(tx.conn()).await?;
    let (held, jurisdictions) = city::requests_held(&mut tx).await?;
    let foreign = jurisdictions.iter().any(|j| *j != plan.city.jurisdiction);
    if held > 0 && (before.code != plan.city.code || foreign) {
        return Err(CityError::Refused(format!(
            "数据库已有{}的诉求 {held} 件，不能改为{}（请用新的数据目录或数据库） / the database already holds {held} requests of {} ({}): it cannot become {} ({}); use a new data folder or database",
            before.name, plan.city.name, before.name, before.code, plan.city.name, plan.city.code
        )));
    }
    // Every unit's history (unit_versions) as services::units keeps it: the state before as
    // a baseline, then the city's units added, the others closed. On a database without
    // requests that is how it has always been (just after the baseline, so that any month
    // ranks the city's units); otherwise from now.
    let existing: HashSet<String> = units::all(tx.conn())
        .await?
        .into_iter()
        .map(|u| u.code)
        .collect();
    units::record_versions_bulk(&mut tx, &[], true, &existing, now, "system").await?;
    let (_, closed) = city::replace_units(&mut tx, &plan.units).await?;
    let added = plan
        .units
        .iter()
        .filter(|u| !existing.contains(&u.code))
        .map(|u| u.code.clone())
        .collect();
    let since = if held == 0 {
        DateTime::<Utc>::UNIX_EPOCH + chrono::Duration::milliseconds(1)
    } else {
        now
    };
    units::record_versions_bulk(&mut tx, &[], false, &added, since, "system").await?;
    let version = plan.version();
    city::record(&mut tx, &plan.city, &version, now).await?;
    let counts = plan.counts();
    tx.event(store::NewEvent {
        jurisdiction: plan.city.jurisdiction.clone(),
        request_id: None,
        assignment_id: None,
        actor_id: "system".into(),
        actor_role: "system".into(),
        action: "city.initialised".into(),
        before: Some(before.code.clone()),
        after: Some(plan.city.code.clone()),
        payload: serde_json::json!({
            "name": plan.city.name,
            "before_name": before.name,
            "jurisdiction": plan.city.jurisdiction,
            "units": counts,
            "closed": closed,
            "units_version": version,
        }),
        at: now,
    });
    tx.commit().await?;
    Ok(Built {
        city: plan.city,
        counts,
        closed,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_in_every_form_name_the_prefecture() {
        for (input, want) in [
            ("4401", "4401"),
            ("440100", "4401"),
            ("440100000000", "4401"),
            ("1100", "1101"),
            ("110000", "1101"),
            ("1101", "1101"),
            ("5002", "5001"),
            ("3101", "3101"),
        ] {
            assert_eq!(parse_code(input).unwrap(), want, "{input}");
        }
        for bad in ["9901", "44", "440101", "abcd", "", "4401000", "440106006"] {
            assert!(
                matches!(parse_code(bad), Err(CityError::UnknownCode(c)) if c == bad),
                "{bad}"
            );
        }
    }

    #[test]
    fn guangzhou_has_its_districts_streets_and_the_default_units_named_for_it() {
        let p = plan("4401", None).unwrap();
        assert_eq!(p.city.name, "广州市");
        assert_eq!(p.city.province_name, "广东省");
        assert_eq!(p.city.jurisdiction, "440100");
        let by: HashMap<&str, &UnitRow> = p.units.iter().map(|u| (u.code.as_str(), u)).collect();
        assert_eq!(by["center"].name, "广州市12345市民服务热线");
        assert_eq!(by["dept.zjw"].name, "广州市住房和城乡建设局");
        assert_eq!(by["440106"].name, "天河区");
        assert_eq!(by["440106"].parent_code, None);
        let shipai = by["440106006"];
        assert_eq!(
            (shipai.name.as_str(), shipai.level.as_str()),
            ("石牌街道", "subdistrict")
        );
        assert_eq!(shipai.parent_code.as_deref(), Some("440106"));
        let counts = p.counts();
        assert_eq!(counts["district"], 11);
        assert!(counts["subdistrict"] > 100 && counts.contains_key("township"));
        // (越秀区 has a 北京街道: only the center, departments and companies are checked)
        assert!(
            p.units
                .iter()
                .filter(|u| u.parent_code.is_none() && u.level != "district")
                .all(|u| !u.name.contains("北京") && u.name.contains("广州")),
            "no Beijing names"
        );
        // every category's default unit is there
        let mut rdr = csv::Reader::from_reader(store::reference::SHIPPED[1].1.as_bytes());
        for r in rdr.records() {
            let r = r.unwrap();
            assert!(r[5].is_empty() || by.contains_key(&r[5]), "{}", &r[5]);
        }
    }

    #[test]
    fn a_municipality_is_one_city_and_beijing_is_the_shipped_set() {
        let cq = plan("5001", None).unwrap();
        assert_eq!(cq.city.name, "重庆市");
        assert_eq!(cq.city.jurisdiction, "500000");
        assert!(
            cq.units.iter().any(|u| u.name == "城口县"),
            "the 5002 counties join"
        );
        let bj = plan("1101", None).unwrap();
        assert_eq!(bj.city, City::beijing());
        assert_eq!(
            bj.units.len(),
            store::reference::SHIPPED[0].1.lines().count() - 1
        );
    }

    #[test]
    fn villages_of_the_city_join_their_streets_and_bad_rows_are_named() {
        let text = "code,name,streetCode,provinceCode,cityCode,areaCode\n\
                    440106006001,石牌东社区居委会,440106006,44,4401,440106\n\
                    440106006201,石牌村村民委员会,440106006,44,4401,440106\n\
                    440305001001,某社区居委会,440305001,44,4403,440305\n";
        let p = plan("4401", Some(text)).unwrap();
        let v: Vec<_> = p
            .units
            .iter()
            .filter(|u| u.parent_code.as_deref() == Some("440106006"))
            .map(|u| (u.code.as_str(), u.level.as_str(), u.short_name.as_str()))
            .collect();
        assert_eq!(
            v,
            [
                ("440106006001", "community", "石牌东社区"),
                ("440106006201", "village", "石牌村")
            ]
        );
        let bad = "code,name,streetCode\n440106006001,x,440106999\n";
        match plan("4401", Some(bad)) {
            Err(CityError::BadVillages { line: 2, message }) => {
                assert!(message.contains("streetCode"), "{message}")
            }
            other => panic!("{other:?}"),
        }
        assert!(matches!(
            plan("4401", Some("id,title\n1,x\n")),
            Err(CityError::BadVillages { line: 1, .. })
        ));
    }
}
