//! Spoken forms of each unit: what people actually say for a district, street/township or
//! community/village, generated from the official and short names (plus the CSV aliases and
//! the shipped place knowledge, `data/places_beijing.tsv`), with junk forms dropped and very short ones marked weak.
//! Matching and scoring do not live here.

use super::units::{PlaceLevel, Unit, UnitTable};

/// How a form relates to its unit; decides its weight when scoring.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum FormKind {
    /// The official name or a name with its level word (望京街道, 花家地西里社区, 楼梓庄村).
    Named,
    /// The bare core without any level word (望京, 花家地西里, 楼梓庄).
    Bare,
    /// A hand-listed landmark or area that lies in the unit (国贸 → 建外街道).
    Landmark,
}

/// One spoken form of one unit.
#[derive(Debug, Clone)]
pub(crate) struct Form {
    pub text: String,
    pub unit: u32,
    pub kind: FormKind,
    /// Weak forms (two characters or fewer, or a generic core) only count when an
    /// ancestor of their unit is also mentioned.
    pub weak: bool,
}

/// The place knowledge shipped with the binary (`data/places_beijing.tsv`): landmarks,
/// stations, campuses, parks, malls, roads, numbered-road patterns, development zones by
/// their everyday names and estates, each tied to the unit(s) it lies in, with its source
/// and licence. Rows whose units are not in the table (another city's gazetteer) are skipped.
pub(crate) const PLACES_TSV: &str = include_str!("../../data/places_beijing.tsv");

/// The numbers a `{N}` in a place pattern stands for: 一..二十 and 1..20.
const NUMERALS: [&str; 20] = [
    "一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二", "十三", "十四",
    "十五", "十六", "十七", "十八", "十九", "二十",
];

/// The kinds a row of the place file may have.
pub(crate) const PLACE_KINDS: &[&str] = &[
    "landmark",
    "station",
    "university",
    "hospital",
    "park",
    "mall",
    "sight",
    "area",
    "zone",
    "road",
    "estate",
];

/// One row of the place file: its spoken forms ({N} expanded) and the unit codes it lies in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PlaceRow {
    /// 1-based line number in the file.
    pub line: usize,
    pub forms: Vec<String>,
    pub kind: String,
    pub codes: Vec<String>,
    pub source: String,
    pub licence: String,
}

/// Reads the place file (comment lines start with `#`; the first other line is the header).
/// A row that is not five non-empty tab-separated fields is an error naming its line.
pub(crate) fn place_rows(tsv: &str) -> Result<Vec<PlaceRow>, String> {
    let mut rows = Vec::new();
    let mut header = true;
    for (i, line) in tsv.lines().enumerate() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        if std::mem::take(&mut header) {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').map(str::trim).collect();
        if fields.len() != 5 || fields.iter().any(|f| f.is_empty()) {
            return Err(format!("line {}: expected 5 non-empty fields", i + 1));
        }
        if !PLACE_KINDS.contains(&fields[1]) {
            return Err(format!("line {}: unknown kind `{}`", i + 1, fields[1]));
        }
        let form = fields[0];
        let forms = if form.contains("{N}") {
            let arabic = (1..=NUMERALS.len()).map(|n| n.to_string());
            NUMERALS
                .iter()
                .map(|n| n.to_string())
                .chain(arabic)
                .map(|n| form.replace("{N}", &n))
                .collect()
        } else {
            vec![form.to_string()]
        };
        rows.push(PlaceRow {
            line: i + 1,
            forms,
            kind: fields[1].to_string(),
            codes: fields[2].split('|').map(str::to_string).collect(),
            source: fields[3].to_string(),
            licence: fields[4].to_string(),
        });
    }
    Ok(rows)
}

/// Bare cores that are ordinary words, institutions with many sites, or too generic to
/// name a place on their own; their units stay reachable through the named forms.
#[rustfmt::skip]
const STOP_CORES: &[&str] = &[
    "中心", "中心区", "中心村", "花园", "幸福", "光明", "团结", "和平", "胜利", "友谊", "建设",
    "文化", "人民", "解放", "前进", "红旗", "东风", "向阳", "新华", "工业", "新城", "家园",
    "小区", "社区", "公园", "广场", "市场", "车站", "机场", "学院", "医院", "大学", "宿舍",
    "长安", "太平", "和谐", "平安", "吉祥", "兴隆", "永安", "振兴", "新兴", "民主", "实验",
    "中科院", "科技园", "教育部", "卫生部", "建设部", "科技部", "北京", "首都", "工业区",
    "开发区", "生活区", "电信局", "居委会", "村委会", "新农村", "商业街", "水泥厂", "新房子",
    "新天地",
];

/// Words that contain a place form but are no place (大兴土木 is an idiom); matched as
/// patterns without units, they hide the place form inside them.
#[rustfmt::skip]
pub(crate) const BLOCKERS: &[&str] = &[
    "大兴土木", "大兴安岭", "朝阳产业", "朝阳行业",
];

/// Characters that carry no place identity on their own (directions, numbers, "new/old",
/// block words): a core made only of these (东区, 一区, 新村, 东大街) is junk.
const GENERIC_CHARS: &str =
    "东西南北中新老大小上下前后左右内外一二三四五六七八九十百千零〇0123456789第区里村社楼院街路号甲乙丙丁栋排条巷园家门口";

/// Suffixes stripped from a community's short name to get its bare core.
const COMMUNITY_SUFFIXES: &[&str] = &[
    "社区居委会",
    "社区居民委员会",
    "居民委员会",
    "居委会",
    "社区",
];

fn chars(s: &str) -> usize {
    s.chars().count()
}

/// True when the core cannot name a place by itself. Street/township short names are
/// curated proper names (东四), so the generic-character test applies to communities only.
fn is_junk_core(core: &str, level: PlaceLevel) -> bool {
    let generic = || level.tier() == 2 && core.chars().all(|c| GENERIC_CHARS.contains(c));
    chars(core) < 2 || STOP_CORES.contains(&core) || generic()
}

/// All forms of all units, including landmarks (skipped when their unit is missing).
pub(crate) fn all_forms(table: &UnitTable) -> Vec<Form> {
    let mut out = Vec::new();
    for (i, unit) in table.units.iter().enumerate() {
        unit_forms(unit, i as u32, &mut out);
    }
    // The shipped file is checked by a unit test; a bad row cannot get this far.
    for row in place_rows(PLACES_TSV).unwrap_or_default() {
        // All of a row's units or none: a place lying across several units must never
        // resolve to one of them just because the others are missing.
        let Some(units) = row
            .codes
            .iter()
            .map(|c| table.by_code.get(c).copied())
            .collect::<Option<Vec<u32>>>()
        else {
            continue;
        };
        for text in &row.forms {
            for &unit in &units {
                out.push(Form {
                    text: text.clone(),
                    unit,
                    kind: FormKind::Landmark,
                    weak: false,
                });
            }
        }
    }
    out
}

fn unit_forms(unit: &Unit, me: u32, out: &mut Vec<Form>) {
    // (text, kind, core is junk); the official name is never junk.
    let mut forms = vec![(unit.name.clone(), FormKind::Named, false)];
    match unit.level {
        PlaceLevel::District => {
            for a in std::iter::once(&unit.short_name).chain(&unit.aliases) {
                forms.push((a.clone(), FormKind::Bare, false));
            }
        }
        PlaceLevel::Zone => {
            for a in std::iter::once(&unit.short_name).chain(&unit.aliases) {
                forms.push((a.clone(), FormKind::Named, false));
            }
        }
        PlaceLevel::Subdistrict | PlaceLevel::Township => {
            with_suffixes(
                &mut forms,
                unit.level,
                &unit.short_name,
                street_suffixes(&unit.name),
            );
            for a in &unit.aliases {
                forms.push((a.clone(), FormKind::Named, false));
            }
        }
        PlaceLevel::Community => {
            let core = strip_any(&unit.short_name, COMMUNITY_SUFFIXES);
            forms.push((
                unit.short_name.clone(),
                FormKind::Named,
                is_junk_core(core, unit.level),
            ));
            for c in std::iter::once(core).chain(unit.aliases.iter().map(String::as_str)) {
                with_suffixes(&mut forms, unit.level, c, &["社区", "居委会"]);
            }
        }
        PlaceLevel::Village => {
            let core = unit.short_name.strip_suffix('村');
            let junk = is_junk_core(core.unwrap_or(&unit.short_name), unit.level);
            forms.push((unit.short_name.clone(), FormKind::Named, junk));
            let suffixes: &[&str] = if core.is_some() { &["村"] } else { &[] };
            for c in core
                .into_iter()
                .chain(unit.aliases.iter().map(String::as_str))
            {
                with_suffixes(&mut forms, unit.level, c, suffixes);
            }
        }
    }
    // The official name adds nothing when a strong named form is its prefix
    // (花家地西里社区 before 花家地西里社区居委会): leftmost-longest stops there anyway.
    let official = &unit.name;
    let redundant = forms[1..].iter().any(|(f, kind, junk)| {
        *kind == FormKind::Named && !junk && chars(f) > 2 && official.starts_with(f.as_str())
    });
    let district = unit.level == PlaceLevel::District;
    let mut seen = std::collections::HashSet::new();
    for (text, kind, junk) in forms.into_iter().skip(usize::from(redundant)) {
        let n = chars(&text);
        // A level word does not rescue a stop word (新农村 is a village's short name).
        let junk = junk || STOP_CORES.contains(&text.as_str());
        if n < 2 || (kind == FormKind::Bare && junk) || !seen.insert(text.clone()) {
            continue;
        }
        let weak = !district && (n <= 2 || junk);
        out.push(Form {
            text,
            unit: me,
            kind,
            weak,
        });
    }
}

/// Adds a bare core and the core with each level word.
fn with_suffixes(
    forms: &mut Vec<(String, FormKind, bool)>,
    level: PlaceLevel,
    core: &str,
    suffixes: &[&str],
) {
    let junk = is_junk_core(core, level);
    forms.push((core.to_string(), FormKind::Bare, junk));
    for s in suffixes {
        forms.push((format!("{core}{s}"), FormKind::Named, junk));
    }
}

/// Level words people add after a street/township core, by the official name's ending.
/// Longer ones (街道办事处, 村委会) need no form of their own: the leftmost-longest match
/// stops at 街道 / 村 with the same result.
fn street_suffixes(name: &str) -> &'static [&'static str] {
    if name.ends_with("街道") {
        &["街道"]
    } else if name.ends_with("地区") {
        // A 地区 is one body with its 乡 or 镇 government; people use either word.
        &["地区", "乡", "镇"]
    } else if name.ends_with('镇') {
        &["镇"]
    } else if name.ends_with('乡') {
        &["乡"]
    } else {
        &[]
    }
}

fn strip_any<'a>(s: &'a str, suffixes: &[&str]) -> &'a str {
    suffixes
        .iter()
        .find_map(|suf| s.strip_suffix(suf))
        .unwrap_or(s)
}
