//! Spoken forms of each unit: what people actually say for a district, street/township or
//! community/village, generated from the official and short names (plus the CSV aliases and
//! the shipped place knowledge, `data/places_beijing.tsv`), with junk forms dropped and very short ones marked weak.
//! Matching and scoring do not live here.

use std::collections::HashSet;

use rustc_hash::FxHashMap;

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
    /// A row of the place file of kind `estate`: its name may also be a community's.
    pub estate: bool,
    /// The street (or its communities) where a name many units share is at home: by its
    /// communities ([`home_street_forms`], an estate's parts in [`estate_forms`]) or by the
    /// place file ([`file_village_forms`], [`file_named_after_village_forms`]). The units of
    /// that name stay readings beside it; the home weighs a little more than they do, and gives
    /// way to a district or street the text names.
    pub home: bool,
}

/// The place knowledge shipped with the binary (`data/places_beijing.tsv`): landmarks,
/// stations, campuses, parks, malls, roads, numbered-road patterns, development zones by
/// their everyday names and estates, each tied to the unit(s) it lies in, with its source
/// and licence. Rows whose units are not in the table (another city's gazetteer) are skipped.
pub(crate) const PLACES_TSV: &str = include_str!("../../data/places_beijing.tsv");

/// The numbers a `{N}` in a place pattern stands for: 一..二十 and 1..20 (and 头 before 条).
const NUMERALS: [&str; 20] = [
    "一", "二", "三", "四", "五", "六", "七", "八", "九", "十", "十一", "十二", "十三", "十四",
    "十五", "十六", "十七", "十八", "十九", "二十",
];

/// The words an `{at}` in a place pattern stands for: a short name that is no place alone
/// (北服, 国关: a campus's nickname, two characters that other words hold) said at its gate,
/// beside it, in it or on its grounds (人大校园, 人大操场).
const AT_WORDS: &[&str] = &[
    "门口",
    "校门口",
    "附近",
    "旁边",
    "对面",
    "那边",
    "里面",
    "东门",
    "西门",
    "南门",
    "北门",
    "正门",
    "后门",
    "校园",
    "操场",
    "周边",
    "外面",
    "外头",
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
    "river",
];

/// One row of the place file: its spoken forms ({N}, {at} and {there} expanded) and the unit
/// codes it lies in. `{there}` stands for the words of [`SHORT_CORE_CONTEXT`] (田村那边, 田村一带):
/// a name that other words hold (稻田村, 种田村民) is a place only so.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct PlaceRow {
    /// 1-based line number in the file.
    pub line: usize,
    pub forms: Vec<String>,
    pub kind: String,
    pub codes: Vec<String>,
    /// The code marked `*`: where a name of several places is at home, the one callers mean
    /// (政法大学, the main campus in 昌平); the others stay alternatives.
    pub home: Option<String>,
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
            // The first of a numbered row of lanes is 头条 (东四头条, 西四北头条).
            let first = form.contains("{N}条").then(|| "头".to_string());
            NUMERALS
                .iter()
                .map(|n| n.to_string())
                .chain(arabic)
                .chain(first)
                .map(|n| form.replace("{N}", &n))
                .collect()
        } else if form.contains("{at}") {
            AT_WORDS.iter().map(|w| form.replace("{at}", w)).collect()
        } else if form.contains("{there}") {
            SHORT_CORE_CONTEXT
                .iter()
                .map(|w| form.replace("{there}", w))
                .collect()
        } else {
            vec![form.to_string()]
        };
        if forms.iter().any(|f| f.contains(['{', '}'])) {
            return Err(format!(
                "line {}: a form may hold one of {{N}}, {{at}} or {{there}}",
                i + 1
            ));
        }
        let marked: Vec<&str> = fields[2].split('|').collect();
        let homes: Vec<&str> = marked.iter().filter_map(|c| c.strip_suffix('*')).collect();
        let codes: Vec<&str> = marked
            .iter()
            .map(|c| c.strip_suffix('*').unwrap_or(c))
            .collect();
        let mut distinct = codes.clone();
        distinct.sort_unstable();
        distinct.dedup();
        if homes.len() > 1
            || (homes.len() == 1 && marked.len() < 2)
            || codes.iter().any(|c| c.contains('*'))
            || distinct.len() != codes.len()
        {
            return Err(format!(
                "line {}: units are distinct codes, one of several marked `*` at most",
                i + 1
            ));
        }
        rows.push(PlaceRow {
            line: i + 1,
            forms,
            kind: fields[1].to_string(),
            codes: codes.iter().map(|c| c.to_string()).collect(),
            home: homes.first().map(|c| c.to_string()),
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
    "新天地", "稻田", "铁路", "桥头", "砖厂", "沿村",
    // Words said with 这边, 那块 … that are no place of one unit: ring roads, provinces, sides.
    "二环", "三环", "四环", "五环", "六环", "上坡", "下坡", "河西", "河东", "湖南", "湖北", "河南",
    "山东", "山西", "广东", "广西", "江西", "江苏", "城东", "城西", "城南", "城北", "道口", "菜园",
];

/// Two-character street/township cores that are everyday words, or names of places
/// elsewhere or of better-known places elsewhere in the city (天桥 is any footbridge, 东湖
/// the lake in Wuhan, 河北 the province, 北苑 the Chaoyang area rather than Tongzhou's 北苑街道):
/// followed by a word of place (see [`PLACE_CONTEXT`]) they do not name the street; only the
/// words of [`SHORT_CORE_CONTEXT`] do (温泉那边), and for those of [`NAMED_ELSEWHERE`] not even
/// they.
/// Every other street/township core is a proper name of Beijing (劲松, 旧宫, 窦店; some,
/// like 沙河 or 清河, also name places in other provinces) that callers say with 那边 or 附近.
#[rustfmt::skip]
const COMMON_STREET_CORES: &[&str] = &[
    "天桥", "前门", "河北", "新村", "城关", "城北", "城南", "新镇", "清水", "温泉",
    "果园", "滨河", "宝山", "渤海", "龙山", "东湖", "星城", "迎风", "曙光", "古城", "北庄",
    "大台", "鼓楼", "龙泉", "永定", "安定", "仁和", "东升", "通运", "杨庄",
    "清源", "荣华", "四海", "平房", "永宁", "空港", "北苑", "王平", "石城",
];

/// Whether a street's short name is an everyday word or a name of something else
/// ([`COMMON_STREET_CORES`]).
pub(crate) fn is_everyday_word(core: &str) -> bool {
    COMMON_STREET_CORES.contains(&core)
}

/// Cores of [`COMMON_STREET_CORES`] that name something else even said as a place: a province
/// (河北那边 is Hebei), a place in another city (东湖, 宝山, 渤海), a side of any town (城关, 城南,
/// 城北, 新村, 新镇, 清水, 滨河), a better-known place of the city (北苑 the Chaoyang area, 杨庄 of
/// 石景山 as well as 通州's street, 鼓楼 the Drum Tower rather than 密云's street, 果园 通州's
/// area by 果园站 rather than 密云's street), any footbridge (天桥那边), a building's front gate
/// (小区前门那边), bungalows (平房那块) or a person (王平). Also the gates of any town
/// (西关, 东关, 南关, 北关), which no street bears but places of the file may be named after.
#[rustfmt::skip]
const NAMED_ELSEWHERE: &[&str] = &[
    "河北", "东湖", "宝山", "渤海", "城关", "城北", "城南", "新村", "新镇", "清水", "滨河", "北苑",
    "杨庄", "天桥", "鼓楼", "果园", "前门", "平房", "王平", "西关", "东关", "南关", "北关",
];

/// Words that, said right after a street's short name, make it a place: 劲松那边,
/// 旧宫附近, 常营站, 看丹社区卫生服务中心 (a community health centre is named after the street
/// it serves; its stations, 社区卫生服务站, after their communities), a park (老山公园,
/// 长沟湿地公园; a park named otherwise is a row of the file: 康庄公园 is 大兴's), the foot of
/// its hill (香山脚下, 妙峰山脚下). Not a road on
/// one side (沙河西路, 德胜东路: every city names roads so), nor 森林公园 (老山国家森林公园 is
/// Nanjing's). Not 出口: 八角出口 is the export of star anise, 沙河出口 an exit in Hebei.
#[rustfmt::skip]
const PLACE_CONTEXT: &[&str] = &[
    "那边", "那儿", "那个", "那块", "那片", "那一片", "那一带", "这边", "这块", "附近", "一带", "周边",
    "片区", "地区", "站", "地铁站", "桥", "路口", "东边", "西边", "南边", "北边", "大集", "那条", "那家",
    "社区卫生服务中心", "卫生服务中心",
    // Bodies and streets named after the street they serve or run through: 劲松医院,
    // 窦店派出所, 长阳卫生院, 旧宫大街 (a community named so, 城子大街社区, keeps its own
    // name; said without 社区 it is the street). Not schools: 龙潭中学 is in every other city.
    "医院", "卫生院", "派出所", "火车站", "大街", "北大街", "南大街",
    "东大街", "西大街", "站前街", "公园", "湿地公园", "郊野公园", "脚下",
    // Its coach and bus stations, and its shops said as a group (阳坊那几家涮肉馆).
    "汽车站", "客运站", "长途汽车站", "公交站", "公交场站", "公交总站", "那几家", "那几个", "那几条",
    // Its old town, toll gate, roundabout, industrial park and subway exit (漷县老镇上, 阳坊老街,
    // 康庄收费站, 方庄环岛, 阎村产业园, 劲松地铁口).
    "老镇", "老街", "镇上", "镇里", "收费站", "环岛", "产业园", "地铁口", "地铁站口",
    // This side of it (劲松这片老楼). Not 这段 or 那段 (八角这段时间 is these days), nor 小区:
    // every city has its 香山小区 and 南苑小区.
    "这片", "这一片", "这一带",
];

/// Words of a town's trade and hills that make its short name a place (杨镇赶集, 张镇的庙会 …
/// 流村山里头), except for a name that is also goods or a trade ([`GOODS_CORES`]: 八角集市 is
/// star anise at a market).
#[rustfmt::skip]
const TOWN_CONTEXT: &[&str] = &[
    "庙会", "菜市场", "集市", "早市", "山里", "赶集", "赶大集",
    // Its school and street pointed at, and what opened or was built there (旧宫那所小学, 阳坊那条
    // 街, 马坡新开的幼儿园); not for goods or a room (北房新建的 is a north room rebuilt). Not 路边
    // or 工业园: 长阳路边 is by a road of Shanghai, 龙潭工业园 one of Nanjing.
    "那所", "那条街", "新开的", "新建的",
];

/// Street short names that are also goods, a trade or a common word, said at markets, fairs and
/// in the hills as often as the town: star anise (八角), the opera world (梨园), sand and clear
/// rivers (沙河, 清河), a south exit (南口), an east wind (东风), a courtyard's north room (北房).
pub(crate) const GOODS_CORES: &[&str] = &["八角", "梨园", "沙河", "清河", "南口", "东风", "北房"];

/// Two-character estate names that are ordinary words (a nursery, building materials): said
/// with 那边 they are still no place.
const ESTATE_WORDS: &[&str] = &["苗圃", "建材", "富强", "新海"];

/// Words that make a community's or village's two-character core, or an estate's
/// two-character name, a place: fewer than a street's, as these cores are many more and more
/// often words.
#[rustfmt::skip]
const SHORT_CORE_CONTEXT: &[&str] = &[
    "那边", "一带", "那一带", "那片", "那一片", "这边", "那块",
    // 那个 with the place it points at (苏庄那个菜市场, 康陵那个村); alone it is any 那个.
    "那个菜市场", "那个市场", "那个早市", "那个村", "那个老村", "那个小区", "那个老小区", "那个路口",
    "那个大集", "那个公交站",
];

/// Words that contain a place form but are no place (大兴土木 is an idiom); matched as
/// patterns without units, they hide the place form inside them.
#[rustfmt::skip]
pub(crate) const BLOCKERS: &[&str] = &[
    "大兴土木", "大兴安岭", "朝阳产业", "朝阳行业", "康庄大道", "种稻田",
    // A landlord or shareholder acting alone, not 东单: 房东单方面涨租, 股东单独出资 (看房东单那边
    // is 东单).
    "房东单方", "房东单独", "股东单方", "股东单独",
    // Three shops, not 门头沟's 三家店: 一间里开了三家店.
    "开了三家店", "开三家店",
    // A footbridge, not 西城's 天桥 (过街天桥那边).
    "过街天桥", "人行天桥", "那个天桥",
    // Secondary-school pupils of the city, not 东坝's 北京中学; other cities' film bases.
    "北京中学生", "北京中学校", "横店影视基地", "涿州影视基地", "象山影视基地",
    // A people's congress, not 人大 the university (市人大门口).
    "市人大", "区人大", "县人大", "省人大", "全国人大",
    // The south exit of a station, gate, road or estate, not 南口 the town (南口那边).
    "站南口", "门南口", "路南口", "街南口", "桥南口", "区南口", "村南口", "园南口", "同南口",
    "厦南口", "场南口", "里南口", "院南口", "楼南口", "巷南口", "道南口", "铁南口", "校南口",
    "市南口", "店南口", "馆南口",
];

/// Characters that carry no place identity on their own (directions, numbers, "new/old",
/// block words): a core made only of these (东区, 一区, 新村, 东大街) is junk.
/// The Chinese digits one to ten, as they number the parts of an estate or a village.
const DIGITS: &str = "一二三四五六七八九十";

const GENERIC_CHARS: &str =
    "东西南北中新老大小上下前后左右内外边头一二三四五六七八九十百千零〇0123456789第区里村社楼院街路号甲乙丙丁栋排条巷园家门口";

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

/// Whether every character of `s` is one of [`GENERIC_CHARS`] (东区, 新村, 北).
fn is_generic(s: &str) -> bool {
    s.chars().all(|c| GENERIC_CHARS.contains(c))
}

/// True when the core cannot name a place by itself. Street/township short names are
/// curated proper names (东四), so the generic-character test applies to communities only.
fn is_junk_core(core: &str, level: PlaceLevel) -> bool {
    let generic = || level.tier() == 2 && is_generic(core);
    chars(core) < 2 || STOP_CORES.contains(&core) || generic()
}

/// All forms of all units, including landmarks (skipped when their unit is missing) and
/// the estates named by communities (see [`estate_forms`]).
pub(crate) fn all_forms(table: &UnitTable) -> Vec<Form> {
    // The shipped file is checked by a unit test; a bad row cannot get this far.
    let rows = place_rows(PLACES_TSV).unwrap_or_default();
    // Street cores that get no forms with a word of place: everyday words,
    // district names (怀柔 the district before 怀柔地区) and forms the place file decides.
    let mut no_context: HashSet<&str> = COMMON_STREET_CORES.iter().copied().collect();
    for unit in table
        .units
        .iter()
        .filter(|u| u.level == PlaceLevel::District)
    {
        no_context.insert(&unit.short_name);
        no_context.extend(unit.aliases.iter().map(String::as_str));
    }
    no_context.extend(rows.iter().flat_map(|r| r.forms.iter().map(String::as_str)));
    let mut out = Vec::new();
    for (i, unit) in table.units.iter().enumerate() {
        unit_forms(unit, i as u32, &no_context, &mut out);
    }
    for row in &rows {
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
        let home = row
            .home
            .as_ref()
            .and_then(|c| table.by_code.get(c).copied());
        for text in &row.forms {
            for &unit in &units {
                out.push(Form {
                    text: text.clone(),
                    unit,
                    kind: FormKind::Landmark,
                    weak: false,
                    estate: row.kind == "estate",
                    home: home == Some(unit),
                });
            }
        }
    }
    let estates = estate_forms(table, &out);
    out.extend(estates);
    let small = small_estate_forms(table, &out);
    out.extend(small);
    let families = village_family_forms(table, &out);
    out.extend(families);
    let short = short_core_forms(table, &out);
    out.extend(short);
    let home = home_street_forms(table, &out);
    out.extend(home);
    let seats = town_seat_forms(table, &out);
    out.extend(seats);
    let known = file_village_forms(table, &out);
    out.extend(known);
    let named_after = file_named_after_village_forms(table, &out);
    out.extend(named_after);
    out.extend(street_village_forms(table));
    out
}

/// A village whose own name is no place on its own (怪村: one character before 村; 幸福村, 中心村:
/// everyday words), said right after its street's short name without the street's level word:
/// 王佐怪村, 庞各庄幸福村.
/// A village with a name of its own (宋庄小堡村) needs no such form: the street and the
/// village are two hits that support each other; so do a street and a community's weak name
/// right after it (清源枣园: see `score`), without a form that would swallow longer names
/// (望京花家地西里).
fn street_village_forms(table: &UnitTable) -> Vec<Form> {
    table
        .units
        .iter()
        .enumerate()
        .filter(|(_, u)| {
            u.level == PlaceLevel::Village
                && is_junk_core(local_core(u).unwrap_or(&u.short_name), u.level)
        })
        .filter_map(|(i, u)| {
            let street = &table.units[u.street? as usize];
            (chars(&street.short_name) >= 2).then(|| Form {
                text: format!("{}{}", street.short_name, u.short_name),
                unit: i as u32,
                kind: FormKind::Named,
                weak: false,
                estate: false,
                home: false,
            })
        })
        .collect()
}

/// A village whose name villages of other streets share, said with 村, where the place
/// file knows the name without it in one street: the file's 小堡 (the artists' village of
/// 宋庄) makes 小堡村 宋庄's, and 三家店 makes 三家店村 龙泉's; the namesakes (小堡村 of
/// 延庆's 香营) stay alternatives, as for [`home_street_forms`]. A station of the file counts
/// as its village (西黄村站 for 西黄村). So does a former village of the city: where the file
/// places the name in one street whose communities bear it (麻峪社区 of 广宁, 西黄村社区 of
/// 苹果园) and no village of that street does, 麻峪村 and 西黄村 are that street's and its
/// communities', and the villages of that name elsewhere (麻峪村 of 崔村) stay alternatives.
fn file_village_forms(table: &UnitTable, existing: &[Form]) -> Vec<Form> {
    let higher = higher_forms(table, existing);
    let mut file: std::collections::BTreeMap<&str, Vec<u32>> = Default::default();
    // A row that only repeats a township's name (王辛庄 of 王辛庄镇) says nothing of which
    // 王辛庄村 is meant.
    for f in existing.iter().filter(|f| {
        f.kind == FormKind::Landmark && f.text != table.units[f.unit as usize].short_name
    }) {
        file.entry(f.text.as_str()).or_default().push(f.unit);
    }
    let mut villages: FxHashMap<&str, Vec<&Unit>> = FxHashMap::default();
    for u in &table.units {
        if u.level == PlaceLevel::Village {
            villages.entry(u.short_name.as_str()).or_default().push(u);
        }
    }
    // The cores of each street's communities: 麻峪 of 广宁's 麻峪社区, 西黄村 of 苹果园's 西黄村社区.
    let cores = streets_by_core(table, PlaceLevel::Community);
    let mut out = Vec::new();
    for (name, mut units) in file {
        units.sort_unstable();
        units.dedup();
        // 西黄村站 is the station of 西黄村.
        let said = match name.strip_suffix('站') {
            Some(place) if place.ends_with('村') => place.to_string(),
            _ => format!("{name}村"),
        };
        let Some(namesakes) = villages.get(said.as_str()) else {
            continue;
        };
        let mut streets: Vec<u32> = namesakes.iter().filter_map(|v| v.street).collect();
        streets.sort_unstable();
        streets.dedup();
        let mut home: Vec<u32> = streets
            .iter()
            .copied()
            .filter(|s| units.contains(s))
            .collect();
        // A former village of the city, now communities of the street where the file places it
        // (麻峪 of 广宁, 西黄村 of 苹果园), keeps its old name there; the villages of that name in
        // other districts (麻峪村 of 崔村) stay readings.
        let stem = &said[..said.len() - '村'.len_utf8()];
        let former = |s: &u32| {
            [stem, said.as_str()]
                .iter()
                .any(|c| cores.get(c).is_some_and(|at| at.contains(s)))
        };
        let former_here = home.is_empty() && units.len() == 1 && former(&units[0]);
        if former_here {
            home = units.clone();
        } else if streets.len() < 2 {
            continue;
        }
        if home.len() != 1 || higher.contains(said.as_str()) {
            continue;
        }
        if former_here {
            // The communities of the old name read it too, beside their street, as the
            // street's own village would (小堡村 of 宋庄).
            let communities = table.units.iter().enumerate().filter(|(_, u)| {
                u.level == PlaceLevel::Community
                    && u.street == Some(units[0])
                    && local_core(u).is_some_and(|c| c == stem || c == said)
            });
            out.extend(communities.map(|(i, _)| Form {
                home: true,
                ..bare_forms(&said, &[i as u32]).remove(0)
            }));
        }
        out.extend(
            bare_forms(&said, &home)
                .into_iter()
                .map(|f| Form { home: true, ..f }),
        );
    }
    out
}

/// A village whose name villages of other streets share, where the place file has places
/// named after it in one of those streets only: 岔道古城 and 岔道城 make 岔道村 八达岭's, 水屯市场
/// makes 水屯村 城南's, 西峪水库 makes 西峪村 大华山's. A community's core of three or more
/// characters counts as such a village (大柳树市场 makes 大柳树 北下关's, where 大柳树社区 is). The namesakes stay alternatives, as for
/// [`file_village_forms`]. A place named after the township (于家务中学 of 于家务乡) says
/// nothing of which 于家务村 is meant, and a name the file or a street already decides is
/// left alone.
fn file_named_after_village_forms(table: &UnitTable, existing: &[Form]) -> Vec<Form> {
    let higher = higher_forms(table, existing);
    let homes: HashSet<&str> = existing
        .iter()
        .filter(|f| f.home)
        .map(|f| f.text.as_str())
        .collect();
    // The streets where a name is a village (岔道 of 岔道村) or a community's core (大柳树 of
    // 北下关's 大柳树社区, a former village of the city).
    let mut villages: FxHashMap<&str, Vec<u32>> = FxHashMap::default();
    for u in &table.units {
        let name = match u.level {
            PlaceLevel::Village => u.short_name.strip_suffix('村'),
            PlaceLevel::Community => local_core(u).filter(|c| chars(c) >= 3),
            _ => None,
        };
        if let (Some(name), Some(street)) = (name, u.street) {
            villages.entry(name).or_default().push(street);
        }
    }
    // Each place of the file at its street (a place known only to its district has none). A
    // road named after a village runs beyond it (小屯路): no support.
    let file = file_place_streets(table, existing);
    let mut support: std::collections::BTreeMap<&str, Vec<u32>> = Default::default();
    for (text, units) in file {
        if text.ends_with(['路', '街', '道']) {
            continue;
        }
        let [Some(street)] = units[..] else {
            continue;
        };
        let cuts = text.char_indices().map(|(i, _)| i).skip(2);
        for name in cuts.map(|i| &text[..i]) {
            let known_here = villages.get(name).is_some_and(|at| at.contains(&street));
            if known_here && table.units[street as usize].short_name != name {
                support.entry(name).or_default().push(street);
            }
        }
    }
    let mut out = Vec::new();
    for (name, mut streets) in support {
        streets.sort_unstable();
        streets.dedup();
        let said = format!("{name}村");
        let mut namesakes = villages[name].clone();
        namesakes.sort_unstable();
        namesakes.dedup();
        if streets.len() != 1
            || namesakes.len() < 2
            || is_junk_core(name, PlaceLevel::Village)
            || NAMED_ELSEWHERE.contains(&name)
            || homes.contains(said.as_str())
            || higher.contains(said.as_str())
            || higher.contains(name)
        {
            continue;
        }
        // The name without 村 too (水屯那边, 岔道那边), as the villages themselves are said.
        let plain = if chars(name) >= 3 {
            bare_forms(name, &streets)
        } else {
            context_forms(name, &streets)
        };
        out.extend(
            bare_forms(&said, &streets)
                .into_iter()
                .chain(plain)
                .map(|f| Form { home: true, ..f }),
        );
    }
    out
}

/// The place file's texts, each with the streets of its places, sorted and without repeats
/// (`None` for a place known only to its district; a street's own `street` is itself).
fn file_place_streets<'a>(
    table: &UnitTable,
    existing: &'a [Form],
) -> std::collections::BTreeMap<&'a str, Vec<Option<u32>>> {
    let mut file: std::collections::BTreeMap<&str, Vec<Option<u32>>> = Default::default();
    for f in existing.iter().filter(|f| f.kind == FormKind::Landmark) {
        file.entry(f.text.as_str())
            .or_default()
            .push(table.units[f.unit as usize].street);
    }
    for streets in file.values_mut() {
        streets.sort_unstable();
        streets.dedup();
    }
    file
}

/// The forms of streets, districts and places of the file: names these decide.
fn higher_forms<'a>(table: &UnitTable, existing: &'a [Form]) -> HashSet<&'a str> {
    existing
        .iter()
        .filter(|f| f.kind == FormKind::Landmark || table.units[f.unit as usize].level.tier() < 2)
        .map(|f| f.text.as_str())
        .collect()
}

/// A name that several streets' communities or villages bear (or one street's, and three or
/// more parts numbered on it another's) names, besides each of them, the street where it is at
/// home: where at least three differently named communities and
/// villages of the street are that place or a part of it ([`is_part_of`]), more than in all
/// other streets together, even if another street bears the name itself (太阳城第一 … 第三 of
/// 仁和, 太阳城 of 小汤山). 海子角 is a village of 黄村 and five communities of 天宫院 (海子角, 海子角东里,
/// …); 苏庄 is a village in three other districts and 苏庄一里 … 三里 and 苏庄村 of 西潞. The
/// street's form adds to the reading of its own unit, so the name resolves there, and the
/// matcher keeps the units of that name beside it: the namesakes stay alternatives.
/// A name one town's community bears, and only villages of at most three streets of other
/// districts, is at home in the community's street when said as a place (小屯那边 of 卢沟桥,
/// 梁家园那块 of 椿树; not 玉皇庙 alone, any Jade Emperor's temple): the neighbourhood callers
/// of the city name. Not a gate's name that any old town has (北关 of
/// 长辛店, and villages of 城关 and 延庆), not a name borne in many places (太平庄), and not
/// where places of the file are named after it in another street (西苑站 and 西苑医院 of 海淀
/// beside 王平's 西苑社区). Two-character names only with the words of
/// [`SHORT_CORE_CONTEXT`], like their units; names a street, district or place of the file
/// decides are left alone.
fn home_street_forms(table: &UnitTable, existing: &[Form]) -> Vec<Form> {
    let higher = higher_forms(table, existing);
    // Every community's and village's core with its street.
    let cores: Vec<(&str, u32, PlaceLevel)> = table
        .units
        .iter()
        .filter_map(|u| {
            let core = local_core(u)?;
            (chars(core) >= 2 && !is_junk_core(core, u.level)).then_some((core, u.street?, u.level))
        })
        .collect();
    let mut streets_of: std::collections::BTreeMap<&str, Vec<u32>> = Default::default();
    let mut communities_of: FxHashMap<&str, Vec<u32>> = FxHashMap::default();
    for &(core, street, level) in &cores {
        streets_of.entry(core).or_default().push(street);
        if level == PlaceLevel::Community {
            communities_of.entry(core).or_default().push(street);
        }
    }
    let landmarks = file_place_streets(table, existing);
    let mut out = Vec::new();
    for (name, mut streets) in streets_of {
        streets.sort_unstable();
        streets.dedup();
        // 车站路 is any station road.
        if higher.contains(name) || name.ends_with(['路', '街', '道']) {
            continue;
        }
        // Distinct names per street: a village and a community of one name are one place.
        let mut parts: FxHashMap<u32, HashSet<&str>> = FxHashMap::default();
        for &(core, street, _) in &cores {
            if core.strip_prefix(name).is_some_and(is_part_of) {
                parts.entry(street).or_default().insert(core);
            }
        }
        // Borne in several streets, by the name itself, or in one street by the name and in
        // another by three or more parts numbered on it (太阳城 of 小汤山, and 太阳城第一 … 第三
        // of 仁和; not 玉泉西里中, 北, 南 …, an estate's quarters).
        let numbered = |core: &str| {
            core.strip_prefix(name).is_some_and(|rest| {
                rest.starts_with('第') || rest.starts_with(|c: char| DIGITS.contains(c))
            })
        };
        let numbered_elsewhere = parts
            .iter()
            .any(|(s, p)| !streets.contains(s) && p.len() >= 3 && p.iter().all(|c| numbered(c)));
        if parts.len() < 2 || (streets.len() < 2 && !numbered_elsewhere) {
            continue;
        }
        let Some((home, most)) = parts
            .iter()
            .map(|(&s, p)| (s, p.len()))
            .max_by_key(|&(s, n)| (n, std::cmp::Reverse(s)))
        else {
            continue;
        };
        let elsewhere: usize = parts.values().map(HashSet::len).sum::<usize>() - most;
        let district_of = |s: u32| table.units[s as usize].district;
        // Places of the file named after it elsewhere (西苑站, 西苑医院 of 海淀 beside 王平's
        // 西苑社区): the name is theirs as much.
        // The file's texts are sorted: those that start with the name follow it.
        let named_after_elsewhere = |street: u32| {
            landmarks
                .range(name..)
                .take_while(|(text, _)| text.starts_with(name))
                .any(|(_, at)| at.iter().any(|&at| at != Some(street)))
        };
        let community_home = match communities_of.get(name).map(Vec::as_slice) {
            Some(&[street])
                if !NAMED_ELSEWHERE.contains(&name)
                    && streets.len() <= 4
                    && streets
                        .iter()
                        .all(|&s| s == street || district_of(s) != district_of(street))
                    && !named_after_elsewhere(street) =>
            {
                Some(street)
            }
            _ => None,
        };
        let (home, by_parts) = if most >= 3 && most > elsewhere {
            (home, true)
        } else if let Some(street) = community_home {
            (street, false)
        } else {
            continue;
        };
        // The community's home only when said as a place (梁家园那块儿): the name alone may
        // be words (玉皇庙, any Jade Emperor's temple) that its namesakes share.
        let forms = if chars(name) >= 3 && by_parts {
            bare_forms(name, &[home])
        } else {
            context_forms(name, &[home])
        };
        out.extend(forms.into_iter().map(|f| Form { home: true, ..f }));
    }
    out
}

/// A town is named after the village at its seat: a village name X村 borne in the town X and in
/// at most three other streets is at home in the town (上庄村 of 海淀's 上庄, with 昌平 延寿's 上庄村
/// as the alternative; 宋庄村, 梨园村). Not a name borne in more streets (豆各庄村 of five), one
/// that names something else or is an everyday word (河北村, 北庄村), nor one the place file has
/// elsewhere (十里堡 is 朝阳's as well as 密云's town).
fn town_seat_forms(table: &UnitTable, existing: &[Form]) -> Vec<Form> {
    let of_file = file_place_streets(table, existing);
    let streets_of = streets_by_core(table, PlaceLevel::Village);
    let mut out = Vec::new();
    for (i, town) in table.units.iter().enumerate() {
        let name = town.short_name.as_str();
        let Some(streets) = streets_of.get(name) else {
            continue;
        };
        let mut streets = streets.clone();
        streets.sort_unstable();
        streets.dedup();
        let i = i as u32;
        if town.level.tier() == 1
            && streets.contains(&i)
            && (2..=4).contains(&streets.len())
            && !is_everyday_word(name)
        {
            let village = format!("{name}村");
            // A place of the file by that name elsewhere (十里堡 of 朝阳) shares it; one that only
            // repeats the town's name (王辛庄) does not.
            let elsewhere = [name, village.as_str()].iter().any(|t| {
                of_file
                    .get(t)
                    .is_some_and(|streets| streets.iter().any(|&s| s != Some(i)))
            });
            if elsewhere {
                continue;
            }
            out.extend(
                bare_forms(&village, &[i])
                    .into_iter()
                    .map(|f| Form { home: true, ..f }),
            );
        }
    }
    out
}

/// A community's or village's two-character core is weak alone (高塔, 大井 are words too);
/// said as a place (大井那边, 季庄一带) it names the unit, or every unit of that name. A village
/// whose whole name is two characters (皮村, 芦村) is said with its 村. Not with 小区: 嘉园小区,
/// 城东小区 and 明珠小区 are in every city. Not when a street, district or place of the file
/// has that name (望京那边 is the street, not 望京村).
fn short_core_forms(table: &UnitTable, existing: &[Form]) -> Vec<Form> {
    let higher = higher_forms(table, existing);
    let mut out = Vec::new();
    for (i, unit) in table.units.iter().enumerate() {
        let Some(core) = local_core(unit) else {
            continue;
        };
        // 皮村: the core 皮 is no name, the village's whole name is.
        let one_char_village =
            unit.level == PlaceLevel::Village && chars(core) == 1 && !is_generic(core);
        let core = if one_char_village {
            unit.short_name.as_str()
        } else if chars(core) == 2 && !is_junk_core(core, unit.level) {
            core
        } else {
            continue;
        };
        if higher.contains(core) {
            continue;
        }
        out.extend(context_forms(core, &[i as u32]));
    }
    out
}

/// The streets of the communities or villages (`level`) of each core, one per unit.
fn streets_by_core(table: &UnitTable, level: PlaceLevel) -> FxHashMap<&str, Vec<u32>> {
    let mut out: FxHashMap<&str, Vec<u32>> = FxHashMap::default();
    for unit in table.units.iter().filter(|u| u.level == level) {
        if let (Some(core), Some(street)) = (local_core(unit), unit.street) {
            out.entry(core).or_default().push(street);
        }
    }
    out
}

/// `name` said with each word of [`SHORT_CORE_CONTEXT`], naming each of `units`.
fn context_forms(name: &str, units: &[u32]) -> Vec<Form> {
    SHORT_CORE_CONTEXT
        .iter()
        .flat_map(|s| bare_forms(&format!("{name}{s}"), units))
        .collect()
}

/// Endings of the names developers give estates in every city (嘉园, 名苑, 龙城, 丽都, 澜庭):
/// a two-character name with one is no clue to which city's estate is meant.
const ESTATE_NAME_ENDINGS: &str = "园苑城都庭湾郡府居轩阁";

/// An old estate named as its community is, by its two-character name with 小区: 高塔小区 of
/// 高塔社区, 建西小区 of 建西社区; and the name with 街 is taken as a street of the community's
/// street: 府前街 of 府前社区, 高塔街 (for most communities no street of that name exists, and
/// the form is simply never said). Not where the name ends like a developer's
/// (see [`ESTATE_NAME_ENDINGS`]), nor where communities or villages of several districts bear
/// it (阳光, 新桥: a common name) or a district or street does (大兴, 鼓楼), nor
/// where the text is a form already. With 路 it would be a road of every city (建西路).
/// Also a community named after its road in block characters only, which the junk test
/// otherwise drops (新北路 of 密云, 右内西街 of 右安门), where no other community or village
/// bears the name.
fn small_estate_forms(table: &UnitTable, existing: &[Form]) -> Vec<Form> {
    let taken: HashSet<&str> = existing.iter().map(|f| f.text.as_str()).collect();
    // Districts of the communities and villages of each name; a district's or street's name
    // counts as lying in every district, as it names that unit (大兴 of 交道口's 大兴社区 is the
    // district; 鼓楼 of 密云 a street, and the Drum Tower).
    let mut districts: FxHashMap<&str, Vec<u32>> = FxHashMap::default();
    for unit in &table.units {
        match unit.level {
            PlaceLevel::Community | PlaceLevel::Village => {
                let core = local_core(unit).unwrap_or(&unit.short_name);
                districts.entry(core).or_default().push(unit.district);
            }
            _ => {
                for name in std::iter::once(&unit.short_name).chain(&unit.aliases) {
                    districts.entry(name).or_default().push(u32::MAX);
                }
            }
        }
    }
    let mut out = Vec::new();
    for (i, unit) in table.units.iter().enumerate() {
        let (PlaceLevel::Community, Some(core)) = (unit.level, local_core(unit)) else {
            continue;
        };
        let text = format!("{core}小区");
        let one_district = districts
            .get(core)
            .is_some_and(|d| d.iter().all(|&x| x == unit.district));
        // 园 heads names of its own though the junk test counts it a block word: 园丁 (a
        // gardener); names ending in it are developers' (see the endings).
        let name_of_its_own = !is_junk_core(core, unit.level)
            || (!STOP_CORES.contains(&core) && core.starts_with('园'));
        if chars(core) == 2
            && name_of_its_own
            && !core.ends_with(|c: char| ESTATE_NAME_ENDINGS.contains(c))
            && one_district
            && !taken.contains(text.as_str())
        {
            out.push(Form {
                text,
                unit: i as u32,
                kind: FormKind::Named,
                weak: false,
                estate: false,
                home: false,
            });
            let road = format!("{core}街");
            if let (false, Some(street)) = (taken.contains(road.as_str()), unit.street) {
                out.extend(bare_forms(&road, &[street]));
            }
        }
        // A road's name made only of block characters (新北路, 右内西街: 右安门内西街), that
        // names one community in the city, is that community's: not with one character before
        // the road word (东大街, 北大街) nor compass points only (中北路, 东南街), which every
        // town has.
        let before_road = core
            .strip_suffix("大街")
            .or_else(|| core.strip_suffix('街'))
            .or_else(|| core.strip_suffix('路'));
        if is_generic(core)
            && before_road
                .is_some_and(|b| chars(b) >= 2 && b.chars().any(|c| !"东西南北中".contains(c)))
            && districts.get(core).is_some_and(|d| d.len() == 1)
            && !taken.contains(core)
        {
            out.extend(bare_forms(core, &[i as u32]));
        }
    }
    out
}

/// A village split into numbered or sided parts is still called by its old name: 狼垡
/// (狼垡一村 … 狼垡四村), 德仁务村 (德仁务前街村, 中街村, 后街村), 大鲁店 (大鲁店一村 … 三村).
/// Two or more villages sharing the name before such an ending give that name with 村 and,
/// from three characters on, alone; a two-character name only with the words of
/// [`SHORT_CORE_CONTEXT`], like other short cores. It names the villages' township, or their
/// two or three townships (reported as alternatives); more give nothing. A name that is
/// already a form with 村 (东营村 is a village of its own), an everyday word (稻田)
/// or a name that ends in 河 or 村 (汉家川河 of 汉家川河北村, 青云店三村 of 青云店三村一村:
/// nobody says them) is left alone; a name already a form alone (礼贤, the town of 礼贤一村 …
/// 三村) keeps that form and gets only the one with 村 (礼贤村).
fn village_family_forms(table: &UnitTable, existing: &[Form]) -> Vec<Form> {
    let taken: HashSet<&str> = existing.iter().map(|f| f.text.as_str()).collect();
    let mut families: std::collections::BTreeMap<&str, Vec<u32>> = Default::default();
    for unit in &table.units {
        if unit.level != PlaceLevel::Village {
            continue;
        }
        let (Some(core), Some(street)) = (local_core(unit), unit.street) else {
            continue;
        };
        if let Some(stem) = village_part_ending(core) {
            let streets = families.entry(stem).or_default();
            streets.push(street);
        }
    }
    let mut out = Vec::new();
    for (stem, mut streets) in families {
        if streets.len() < 2
            || is_junk_core(stem, PlaceLevel::Village)
            || stem.ends_with(['河', '村'])
        {
            continue;
        }
        streets.sort_unstable();
        streets.dedup();
        let with_village = format!("{stem}村");
        if streets.len() > 3 || taken.contains(with_village.as_str()) {
            continue;
        }
        // A name the town bears too (礼贤 of 礼贤一村 … 三村) stays the town's alone; with 村
        // it is the villages'.
        if !taken.contains(stem) {
            if chars(stem) >= 3 {
                out.extend(bare_forms(stem, &streets));
            } else {
                out.extend(context_forms(stem, &streets));
            }
        }
        out.extend(bare_forms(&with_village, &streets));
    }
    out
}

/// Whether what follows a name in a unit's core makes the unit a part of the place of that
/// name (苏庄 + 一里, 康营 + 家园一, 海子角 + 东里), not another place (石门 + 营新区).
fn is_part_of(rest: &str) -> bool {
    const PARTS: &[&str] = &["里", "区", "村", "家园", "新村", "小区", "苑", "园"];
    // 一里, 第三, 东区, 北: a number or a side, then nothing or a block word (not 航天 + 五院).
    let after = rest
        .trim_start_matches('第')
        .trim_start_matches(|c: char| DIGITS.contains(c));
    let after = if after.len() == rest.len() {
        after.strip_prefix(['东', '西', '南', '北', '中', '前', '后'])
    } else {
        Some(after)
    };
    rest.is_empty()
        || PARTS.iter().any(|p| rest.starts_with(p))
        || after
            .is_some_and(|a| a.is_empty() || ["里", "区", "村"].iter().any(|p| a.starts_with(p)))
}

/// `text` as a bare (not weak) form of each of `units`.
fn bare_forms(text: &str, units: &[u32]) -> Vec<Form> {
    units
        .iter()
        .map(|&unit| Form {
            text: text.to_string(),
            unit,
            kind: FormKind::Bare,
            weak: false,
            estate: false,
            home: false,
        })
        .collect()
}

/// The name before the ending that numbers or places one part of a split village: 狼垡 of
/// 狼垡三, 德仁务 of 德仁务前街, 万子营 of 万子营西; `None` without such an ending or with
/// fewer than two characters left.
fn village_part_ending(core: &str) -> Option<&str> {
    let stem = if let Some(rest) = ["前街", "中街", "后街", "东街", "西街", "南街", "北街"]
        .iter()
        .find_map(|e| core.strip_suffix(e))
    {
        rest
    } else if core.ends_with(|c: char| DIGITS.contains(c)) {
        core.trim_end_matches(|c: char| DIGITS.contains(c))
    } else {
        core.strip_suffix(['东', '西', '南', '北', '中', '前', '后'])?
    };
    (chars(stem) >= 2).then_some(stem)
}

/// Ending of a community's name that numbers or places one part of an estate: 第一,
/// 二区, 北区, 东里, a last 东/西/南/北; `None` when the name has no such ending.
fn section_ending(core: &str) -> Option<&str> {
    const SIDE: &str = "东西南北中";
    let cs: Vec<(usize, char)> = core.char_indices().collect();
    let n = cs.len();
    let at = |k: usize| cs[n - k].0;
    let last = cs.last()?.1;
    if let Some(rest) = core.strip_suffix("小区") {
        return Some(rest);
    }
    // 第一 .. 第十二
    if let Some(i) = cs.iter().rposition(|&(_, c)| c == '第') {
        if i + 1 < n && cs[i + 1..].iter().all(|&(_, c)| DIGITS.contains(c)) {
            return Some(&core[..cs[i].0]);
        }
    }
    if n >= 3 && (last == '区' || last == '里') {
        let before = cs[n - 2].1;
        if DIGITS.contains(before) || SIDE.contains(before) {
            let mut k = 2;
            while k < n && DIGITS.contains(cs[n - k - 1].1) && DIGITS.contains(before) {
                k += 1;
            }
            return Some(&core[..at(k)]);
        }
    }
    // 稻香园北 → 稻香园, but 玉泉路西 and 汽车局河南 name the side of a road or river.
    if n >= 4 && "东西南北".contains(last) && !"路街道桥河门".contains(cs[n - 2].1) {
        return Some(&core[..at(1)]);
    }
    None
}

/// The names callers give an estate, read off the communities that lie in it: 万年花城
/// from 万年花城第一社区 and 万年花城第二社区, 石园北区 and 石园 from 石园北区第一社区,
/// 安慧北里 from 安慧北里秀雅社区. A name derived from one community names it; from several
/// communities of one street, that street; from communities of two or three streets, all
/// of them (reported as alternatives), at home in the street holding three or more of them,
/// more than the others together (月季园: 大峪's three to 花园路's one), ambiguous otherwise;
/// from more, nothing. A name of two
/// characters is said only with 那边, 那片 … and only for one street (see the end). A name
/// that is already a form of any unit or place or generic is left out, except the name of a
/// community itself (彩虹城 of 彩虹城社区 in 石榴庄): where
/// communities named after it lie in other streets of its district (彩虹城第二社区, 东铁匠营),
/// it names all those streets, and no longer the community alone.
fn estate_forms(table: &UnitTable, existing: &[Form]) -> Vec<Form> {
    let is_community = |u: u32| table.units[u as usize].level == PlaceLevel::Community;
    // A name only communities' own names take (彩虹城 of 彩虹城社区) still gathers the parts
    // of the estate in other streets (彩虹城第二社区 of 东铁匠营): see below.
    let mut community_names: FxHashMap<&str, Vec<u32>> = FxHashMap::default();
    for f in existing.iter().filter(|f| is_community(f.unit)) {
        community_names.entry(&f.text).or_default().push(f.unit);
    }
    let taken: HashSet<&str> = existing
        .iter()
        .filter(|f| !is_community(f.unit))
        .map(|f| f.text.as_str())
        .collect();
    let mut named: std::collections::BTreeMap<String, Vec<u32>> = Default::default();
    // Two-character names (潞苑 of 潞苑南里, 潞苑北里, 潞苑嘉园): see the end.
    let mut short: std::collections::BTreeMap<String, Vec<u32>> = Default::default();
    for (i, unit) in table.units.iter().enumerate() {
        let (PlaceLevel::Community, Some(core)) = (unit.level, local_core(unit)) else {
            continue;
        };
        let mut names = Vec::new();
        // 榆垡空港新苑一里 is 空港新苑一里 to its residents: a community named with its
        // street's name first is called without it, where a name of its own is left: four
        // characters or more, three before any part's ending (旧宫's 工业园 and 新苑北区 are
        // anywhere), not opening with block words (八角's 北路特钢) nor the township's own works
        // (镇工业区).
        let local = unit
            .street
            .and_then(|s| core.strip_prefix(table.units[s as usize].short_name.as_str()))
            .filter(|rest| {
                let mut name = *rest;
                while let Some(shorter) = section_ending(name) {
                    name = shorter;
                }
                let opening: String = rest.chars().take(2).collect();
                chars(rest) >= 4
                    && chars(name) >= 3
                    && !is_generic(&opening)
                    && !rest.starts_with(['镇', '乡', '街'])
                    && !rest.contains("虚拟")
            });
        names.extend(local);
        for core in std::iter::once(core).chain(local) {
            // 安慧北里秀雅 → 安慧北里: the 里 that ends an estate's name, followed by a part.
            if let Some((at, _)) = core.char_indices().find(|&(_, c)| c == '里') {
                let head = &core[..at + '里'.len_utf8()];
                if head.len() < core.len() {
                    names.push(head);
                }
            }
            let mut rest = core;
            while let Some(shorter) = section_ending(rest) {
                names.push(shorter);
                rest = shorter;
            }
        }
        for name in names {
            // 天通西苑第二 (on the way from 天通西苑第二西) and 潭柘新 are no names.
            let unfinished = name.ends_with(|c: char| DIGITS.contains(c)) && name.contains('第')
                || name.ends_with(['新', '老']);
            if chars(name) >= 2
                && !unfinished
                && !taken.contains(name)
                && !is_junk_core(name, unit.level)
            {
                let map = if chars(name) >= 3 {
                    &mut named
                } else {
                    &mut short
                };
                let units = map.entry(name.to_string()).or_default();
                if !units.contains(&(i as u32)) {
                    units.push(i as u32);
                }
            }
        }
    }
    let mut out = Vec::new();
    for (text, mut units) in named {
        // The community of that very name is part of the estate; the name becomes the
        // estate's only where its parts lie in more than that community's street, all in one
        // district (太阳城 of 小汤山 and 太阳城第一…第三 of 顺义 are two estates).
        let own = community_names.get(text.as_str());
        if let Some(own) = own {
            units.extend(own);
            units.sort_unstable();
            units.dedup();
            let district = |u: &u32| table.units[*u as usize].district;
            if units.iter().any(|u| district(u) != district(&units[0])) {
                continue;
            }
        }
        let targets: Vec<u32> = if units.len() == 1 {
            units.clone()
        } else {
            let mut streets: Vec<u32> = units
                .iter()
                .filter_map(|&u| table.units[u as usize].street)
                .collect();
            streets.sort_unstable();
            streets.dedup();
            streets
        };
        if targets.is_empty() || targets.len() > 3 || (own.is_some() && targets.len() < 2) {
            continue;
        }
        // Parts of the estate in several streets: where three or more lie in one, more than in
        // the others together, the estate is that street's (月季园: 月季园东里, 一区 and 二区 of
        // 大峪, 月季园第二 of 花园路), and the others stay readings.
        let home = (targets.len() > 1)
            .then(|| {
                let parts = |s: u32| {
                    units
                        .iter()
                        .filter(|&&u| table.units[u as usize].street == Some(s))
                        .count()
                };
                let (most, at) = targets.iter().map(|&s| (parts(s), s)).max()?;
                (most >= 3 && most > units.len() - most).then_some(at)
            })
            .flatten();
        out.extend(bare_forms(&text, &targets).into_iter().map(|f| Form {
            home: Some(f.unit) == home,
            ..f
        }));
    }
    // A two-character name is too often a word to stand alone; shared by three or more
    // communities of one street and said with 那边, 那片 … (潞苑那边) it names that street,
    // provided every community, village and place of the file whose name starts with it lies
    // there too (安慧 is 大屯's 安慧北里 but also 亚运村's 安慧里 and 安慧桥: no street decides),
    // roads aside.
    for (name, units) in short {
        if units.len() < 3
            || community_names.contains_key(name.as_str())
            || super::outside::names_a_place_elsewhere(&name)
            || ESTATE_WORDS.contains(&name.as_str())
        {
            continue;
        }
        let of_units = table
            .units
            .iter()
            .filter(|u| matches!(u.level, PlaceLevel::Community | PlaceLevel::Village))
            .filter(|u| {
                local_core(u)
                    .unwrap_or(&u.short_name)
                    .starts_with(name.as_str())
            })
            .map(|u| u.street);
        let of_file = existing
            .iter()
            // A road named after the estate runs beyond it (潞苑北大街).
            .filter(|f| f.kind == FormKind::Landmark && f.text.starts_with(name.as_str()))
            .filter(|f| !f.text.ends_with(['路', '街', '道']))
            .map(|f| table.units[f.unit as usize].street);
        let mut streets: Vec<Option<u32>> = of_units.chain(of_file).collect();
        streets.sort_unstable();
        streets.dedup();
        let [Some(street)] = streets[..] else {
            continue;
        };
        for context in SHORT_CORE_CONTEXT {
            let text = format!("{name}{context}");
            if !taken.contains(text.as_str()) {
                out.extend(bare_forms(&text, &[street]));
            }
        }
    }
    out
}

fn unit_forms(unit: &Unit, me: u32, no_context: &HashSet<&str>, out: &mut Vec<Form>) {
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
            let core = unit.short_name.as_str();
            with_suffixes(&mut forms, unit.level, core, street_suffixes(&unit.name));
            // A short core inside running text is often part of a word (经常营业, 路上地面,
            // 权利和义务); followed by a word of place (劲松那边, 窦店附近, 霍营地铁站) it is the
            // street. An everyday word said as a place (温泉那边, 古城那一片) is the street too,
            // with fewer words of place, as for a community's short core. Bare, like the core:
            // the place word adds no certainty of its own. A text the place file has (黄村站) is
            // the file's.
            let town = if GOODS_CORES.contains(&core) {
                &[][..]
            } else {
                TOWN_CONTEXT
            };
            let words: Vec<&str> = if !no_context.contains(core) && !is_junk_core(core, unit.level)
            {
                PLACE_CONTEXT.iter().chain(town).copied().collect()
            } else if COMMON_STREET_CORES.contains(&core) && !NAMED_ELSEWHERE.contains(&core) {
                SHORT_CORE_CONTEXT.to_vec()
            } else {
                Vec::new()
            };
            for s in words {
                let text = format!("{core}{s}");
                if !no_context.contains(text.as_str()) {
                    forms.push((text, FormKind::Bare, false));
                }
            }
            for a in &unit.aliases {
                forms.push((a.clone(), FormKind::Named, false));
            }
        }
        PlaceLevel::Community => {
            let core = local_core(unit).unwrap_or(&unit.short_name);
            forms.push((
                unit.short_name.clone(),
                FormKind::Named,
                is_junk_core(core, unit.level),
            ));
            for c in std::iter::once(core).chain(unit.aliases.iter().map(String::as_str)) {
                with_suffixes(&mut forms, unit.level, c, &["社区", "居委会"]);
            }
            // 星城第三社区 is said 星城三社区: with its level word only, never bare (星城三).
            if let Some(plain) = without_ordinal(core) {
                forms.push((format!("{plain}社区"), FormKind::Named, false));
            }
        }
        PlaceLevel::Village => {
            let core = local_core(unit);
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
            estate: false,
            home: false,
        });
    }
}

/// A community's name without its level word (花家地西里 of 花家地西里社区), a village's
/// without 村 (楼梓庄 of 楼梓庄村; `None` for a village not named …村); `None` above them.
fn local_core(unit: &Unit) -> Option<&str> {
    match unit.level {
        PlaceLevel::Community => Some(strip_any(&unit.short_name, COMMUNITY_SUFFIXES)),
        PlaceLevel::Village => unit.short_name.strip_suffix('村'),
        _ => None,
    }
}

/// A community core numbered with 第 (星城第三, 慧忠里第一) without it (星城三); `None` when
/// the core has no such ending, or too little name or only block words before it (马家堡's
/// 西里第一 would take every estate's 西里一社区).
pub(super) fn without_ordinal(core: &str) -> Option<String> {
    let (name, number) = core.rsplit_once('第')?;
    (chars(name) >= 2
        && !is_generic(name)
        && !number.is_empty()
        && number.chars().all(|c| DIGITS.contains(c)))
    .then(|| format!("{name}{number}"))
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
