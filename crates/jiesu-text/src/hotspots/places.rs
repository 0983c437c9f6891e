//! A generic place-name extractor for any Chinese city: estate, road, village, school and
//! similar names are found by their generic endings (小区, 苑, 城, 路, 村, 学校, …) and the
//! characters before them up to a boundary (punctuation, an anonymised or real division
//! such as `A2区` or `西地省`, or a function word). Knows no gazetteer; see `place` for Beijing.

use std::sync::OnceLock;

use aho_corasick::{AhoCorasick, MatchKind};

use crate::normalize::Normalizer;

/// What kind of place a name is, by its ending; earlier kinds are more specific.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum PlaceKind {
    /// A residential estate or building: 小区, 花园, 苑, 城, 府, 大厦 ….
    Estate,
    /// A school, hospital, market, park or station.
    Facility,
    /// A community or village: 社区, 村.
    Village,
    /// A road, street, lane or bridge.
    Road,
    /// A subdistrict or township: 街道, 镇, 乡.
    Township,
    /// A place given by the caller (e.g. a resolved Beijing community).
    Given,
    /// Not a place: a company, project, product or policy the title names (`subjects`), so
    /// that requests about it from all over the city group together.
    Subject,
}

/// One place name found in a text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PlaceName {
    /// The name as a key: whitespace removed, a trailing 小区/社区 dropped.
    pub name: String,
    /// Its kind, from its ending.
    pub kind: PlaceKind,
}

/// Endings and their kinds. Longer endings come first where they share a last character.
const SUFFIXES: &[(&str, PlaceKind)] = &[
    ("小区", PlaceKind::Estate),
    ("花园", PlaceKind::Estate),
    ("家园", PlaceKind::Estate),
    ("公寓", PlaceKind::Estate),
    ("大厦", PlaceKind::Estate),
    ("新城", PlaceKind::Estate),
    ("山庄", PlaceKind::Estate),
    ("广场", PlaceKind::Estate),
    ("新村", PlaceKind::Estate),
    ("苑", PlaceKind::Estate),
    ("园", PlaceKind::Estate),
    ("城", PlaceKind::Estate),
    ("府", PlaceKind::Estate),
    ("湾", PlaceKind::Estate),
    ("庭", PlaceKind::Estate),
    ("郡", PlaceKind::Estate),
    ("学校", PlaceKind::Facility),
    ("中学", PlaceKind::Facility),
    ("小学", PlaceKind::Facility),
    ("幼儿园", PlaceKind::Facility),
    ("学院", PlaceKind::Facility),
    ("大学", PlaceKind::Facility),
    ("医院", PlaceKind::Facility),
    ("市场", PlaceKind::Facility),
    ("公园", PlaceKind::Facility),
    ("车站", PlaceKind::Facility),
    ("社区", PlaceKind::Village),
    ("村", PlaceKind::Village),
    ("大道", PlaceKind::Road),
    ("路", PlaceKind::Road),
    ("街", PlaceKind::Road),
    ("巷", PlaceKind::Road),
    ("桥", PlaceKind::Road),
    ("街道", PlaceKind::Township),
    ("镇", PlaceKind::Township),
    ("乡", PlaceKind::Township),
];

/// Words that never belong to a place name: where the name before an ending starts.
pub(crate) const BOUNDARIES: &[&str] = &[
    "的",
    "在",
    "于",
    "和",
    "与",
    "及",
    "对",
    "把",
    "被",
    "从",
    "到",
    "是",
    "有",
    "了",
    "我",
    "们",
    "投诉",
    "反映",
    "关于",
    "举报",
    "咨询",
    "请",
    "建议",
    "希望",
    "位于",
    "附近",
    "旁边",
    "周边",
    "门口",
    "对面",
    "要求",
    "为什么",
    "问题",
    "强烈",
    "一个",
    "居民",
    "业主",
    "建",
    "修",
    "出现",
    "存在",
    "发生",
    "要",
    "没",
    "无",
    "不",
    "太",
    "能",
    "让",
    "将",
    "给",
    "向",
    "为",
    "乱",
    "违",
    "拒",
    "何",
    "严重",
    "强行",
    "一直",
    "多次",
    "还",
    "都",
    "也",
    "就",
    "又",
    "再",
    "该",
    "个",
    "住",
    "买",
    "去",
    "进",
    "回",
    "过",
    "说",
    "叫",
    "是否",
    "如何",
    "什么",
    "这",
    "那",
    "此",
    "本",
    "其",
    "各",
    "某",
    "整",
    "全",
    "但",
    "且",
    "才",
    "知",
    "当",
    "即",
    "若",
    "并",
    "而",
    "或",
    "等",
    "以",
    "由",
    "因",
    "所",
    "已",
    "可",
    "会",
    "很",
    "最",
    "配套",
    "公办",
    "民办",
    "普惠",
    "公立",
    "私立",
    "新建",
    "两条",
    "原",
    "现",
    "省",
    "市",
    "县",
    "区",
    "政府",
    "城市",
    "城管",
    "城区",
    "城乡",
    "园区",
    "0日",
    "1日",
    "2日",
    "3日",
    "4日",
    "5日",
    "6日",
    "7日",
    "8日",
    "9日",
    "0月",
    "1月",
    "2月",
    "3月",
    "4月",
    "5月",
    "6月",
    "7月",
    "8月",
    "9月",
    "0年",
    "1年",
    "2年",
    "3年",
    "4年",
    "5年",
    "6年",
    "7年",
    "8年",
    "9年",
    "路灯",
    "路面",
    "路况",
    "路线",
    "路段",
    "路费",
    "路边",
    "路口",
    "街头",
    "公司",
];

/// Names that are generic words rather than places.
const GENERIC: &[&str] = &[
    "城市",
    "县城",
    "农村",
    "商城",
    "校园",
    "园区",
    "城区",
    "主城",
    "全城",
    "进城",
    "入园",
    "乡村",
    "城乡",
    "乡镇",
    "马路",
    "道路",
    "公路",
    "街头",
    "街巷",
    "家园",
    "花园",
    "水泥路",
    "农村道路",
    "柏油路",
];

/// At most this many characters before an ending belong to a name.
const MAX_CORE: usize = 6;
/// At most this many normalised characters of a text are read.
const MAX_CHARS: usize = 600;

struct Automata {
    suffix: AhoCorasick,
    boundary: AhoCorasick,
}

fn automata() -> &'static Automata {
    static A: OnceLock<Automata> = OnceLock::new();
    A.get_or_init(|| {
        let build = |p: Vec<&str>| {
            AhoCorasick::builder()
                .match_kind(MatchKind::LeftmostLongest)
                .build(p)
                .expect("static patterns build")
        };
        Automata {
            suffix: build(SUFFIXES.iter().map(|s| s.0).collect()),
            boundary: build(BOUNDARIES.to_vec()),
        }
    })
}

/// `text` through the crate's [`Normalizer`] with spaces dropped and case kept (the
/// anonymised divisions are upper case: `A2区`), at most [`MAX_CHARS`] characters kept.
pub(crate) fn normalize(text: &str) -> String {
    Normalizer::keeping(MAX_CHARS).string(text)
}

/// True for characters a name or term may contain: CJK ideographs, ASCII letters, digits.
pub(crate) fn is_word_char(c: char) -> bool {
    c.is_ascii_alphanumeric() || ('\u{4e00}'..='\u{9fff}').contains(&c)
}

/// Spans (char indices, end exclusive) of division mentions: an anonymised `A2区`/`K9县`
/// (a capital, optional digits, then 市/区/县/省) or a two-character province `西地省`.
pub(crate) fn division_spans(chars: &[char]) -> Vec<(usize, usize)> {
    let mut out = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        if chars[i].is_ascii_uppercase() {
            let mut j = i + 1;
            while j < chars.len() && chars[j].is_ascii_digit() && j - i <= 3 {
                j += 1;
            }
            if j < chars.len() && matches!(chars[j], '市' | '区' | '县' | '省') {
                out.push((i, j + 1));
                i = j + 1;
                continue;
            }
        }
        if chars[i] == '省' && i >= 2 && is_cjk(chars[i - 1]) && is_cjk(chars[i - 2]) {
            out.push((i - 2, i + 1));
        }
        i += 1;
    }
    out
}

fn is_cjk(c: char) -> bool {
    ('\u{4e00}'..='\u{9fff}').contains(&c)
}

/// The first division mention of a text (`A2区`), if any.
pub fn division(text: &str) -> Option<String> {
    division_of_normalized(&normalize(text))
}

/// [`division`] of a text already passed through [`normalize`].
pub(crate) fn division_of_normalized(text: &str) -> Option<String> {
    let chars: Vec<char> = text.chars().collect();
    division_spans(&chars)
        .into_iter()
        .map(|(s, e)| chars[s..e].iter().collect::<String>())
        .find(|d| !d.ends_with('市') && !d.ends_with('省'))
}

/// Place names in `text`, in order of appearance, without repeats. Two estate names side by
/// side (伊景园 + 滨河苑) are one name; a road before an estate (劳动东路魅力之城) is not.
pub fn extract(text: &str) -> Vec<PlaceName> {
    extract_from_normalized(&normalize(text))
}

/// [`extract`] from a text already passed through [`normalize`] (which it leaves unchanged).
pub(crate) fn extract_from_normalized(s: &str) -> Vec<PlaceName> {
    let chars: Vec<char> = s.chars().collect();
    let char_at = byte_to_char(s);
    let mut blocked: Vec<bool> = chars.iter().map(|c| !is_word_char(*c)).collect();
    for (a, b) in division_spans(&chars) {
        blocked[a..b].iter_mut().for_each(|x| *x = true);
    }
    let a = automata();
    let suffixes: Vec<(usize, usize, PlaceKind)> = a
        .suffix
        .find_iter(s)
        .map(|m| {
            let kind = SUFFIXES[m.pattern().as_usize()].1;
            (char_at[m.start()], char_at[m.end()], kind)
        })
        .collect();
    let mut in_suffix = vec![false; chars.len()];
    // a name never runs back over a two-character ending (魅力之城小区临街 names no 小区临街)
    let mut in_long_suffix = vec![false; chars.len()];
    for &(start, end, _) in &suffixes {
        in_suffix[start..end].iter_mut().for_each(|x| *x = true);
        if end - start >= 2 {
            in_long_suffix[start..end]
                .iter_mut()
                .for_each(|x| *x = true);
        }
    }
    // one-character boundaries (区, 市) give way to endings (小区, 市场); longer ones
    // (政府, 路灯) win, so 市政府 and 修路灯 name no place
    for m in a.boundary.find_iter(s) {
        let (from, to) = (char_at[m.start()], char_at[m.end()]);
        if to - from == 1 && in_suffix[from] {
            continue;
        }
        blocked[from..to].iter_mut().for_each(|x| *x = true);
    }
    let mut found: Vec<(usize, usize, PlaceKind)> = Vec::new();
    let mut last_end = 0;
    for (start, end, kind) in suffixes {
        if blocked[start..end].iter().any(|b| *b) {
            continue;
        }
        let floor = last_end.max(start.saturating_sub(MAX_CORE));
        let mut j = start;
        while j > floor && !blocked[j - 1] && !in_long_suffix[j - 1] {
            j -= 1;
        }
        if start - j < 2 || chars[j].is_ascii_digit() {
            continue;
        }
        let name: String = chars[j..end].iter().collect();
        if GENERIC.contains(&name.as_str()) {
            continue;
        }
        match found.last_mut() {
            Some(prev)
                if prev.1 == j && prev.2 == PlaceKind::Estate && kind == PlaceKind::Estate =>
            {
                prev.1 = end;
            }
            _ => found.push((j, end, kind)),
        }
        last_end = end;
    }
    let mut out: Vec<PlaceName> = Vec::new();
    for (j, end, kind) in found {
        let name = key_form(&chars[j..end].iter().collect::<String>());
        if !out.iter().any(|p| p.name == name) {
            out.push(PlaceName { name, kind });
        }
    }
    out
}

pub(crate) fn byte_to_char(s: &str) -> Vec<usize> {
    let mut map = vec![0; s.len() + 1];
    let mut n = 0;
    for (b, c) in s.char_indices() {
        for slot in &mut map[b..b + c.len_utf8()] {
            *slot = n;
        }
        n += 1;
    }
    map[s.len()] = n;
    map
}

/// A name as a key: a trailing 小区/社区 dropped when two characters remain.
pub fn key_form(name: &str) -> String {
    for generic in ["小区", "社区"] {
        if let Some(core) = name.strip_suffix(generic) {
            if core.chars().count() >= 2 {
                return core.to_string();
            }
        }
    }
    name.to_string()
}

/// The bucket key of a name: its ending plus the two characters before it (or the last
/// three characters when it has no known ending), so 万科魅力之城 and 魅力之城 share one.
pub fn bucket_key(name: &str) -> &str {
    let chars: Vec<(usize, char)> = name.char_indices().collect();
    let suffix_chars = SUFFIXES
        .iter()
        .filter(|(s, _)| name.ends_with(s) && s.len() < name.len())
        .map(|(s, _)| s.chars().count())
        .max()
        .unwrap_or(1);
    let keep = (suffix_chars + 2).min(chars.len());
    &name[chars[chars.len() - keep].0..]
}

/// Whether two names denote the same place: equal, or the shorter (three characters or
/// more) ends the longer (李丽发新城 / 丽发新城, 伊景园滨河苑 / 滨河苑).
pub fn same_place(a: &str, b: &str) -> bool {
    let (short, long) = if a.len() <= b.len() { (a, b) } else { (b, a) };
    short == long || (short.chars().count() >= 3 && long.ends_with(short))
}
