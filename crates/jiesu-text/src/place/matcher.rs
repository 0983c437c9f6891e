//! The place text (through the crate's normaliser) and the multi-pattern matcher: one
//! leftmost-longest Aho-Corasick automaton over every spoken form, each pattern carrying the
//! units it may name. Deciding between those units is `score`'s job.

use std::collections::HashMap;

use aho_corasick::{AhoCorasick, MatchKind};

use crate::normalize::Normalizer;

use super::forms::{Form, FormKind, BLOCKERS, GOODS_CORES};
use super::units::UnitTable;
use super::PlaceLevel;
use super::{PlaceError, MAX_CHARS};

/// One unit a matched pattern may name.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Entry {
    pub unit: u32,
    pub kind: FormKind,
    pub weak: bool,
    pub estate: bool,
    pub home: bool,
    /// A community that a place of the file in another street names (樱花园): it counts only
    /// where the text names its street.
    pub shadowed: bool,
}

/// One non-overlapping match in the normalised text (byte offsets).
#[derive(Debug, Clone, Copy)]
pub(crate) struct Hit {
    pub start: usize,
    pub end: usize,
    pub pattern: usize,
    /// Said as a place by the words around it (see [`said_as_a_place`]).
    pub as_place: bool,
    /// Followed by words of a road (学院路上, 学院路辅路): a street named after its road is the
    /// road.
    pub on_road: bool,
}

/// Words after a road's name that say the road is meant: on it, its side road, its stretch,
/// its pavement.
#[rustfmt::skip]
const ON_A_ROAD: &[&str] = &[
    "上", "辅路", "主路", "那段", "这段", "一段", "沿线", "两边", "两侧", "边上", "的人行道", "便道",
];

/// Words that start with 上 and say where someone goes, not that something is on the road
/// (学院路上班的人多, 花园路上学的孩子).
const NOT_ON_A_ROAD: &[&str] = &["上班", "上学", "上课", "上网", "上午"];

fn on_a_road(after: &str) -> bool {
    ON_A_ROAD.iter().any(|w| after.starts_with(w))
        && !NOT_ON_A_ROAD.iter().any(|w| after.starts_with(w))
}

/// The automaton and, per pattern, its entries.
#[derive(Debug, Clone)]
pub(crate) struct Matcher {
    ac: AhoCorasick,
    pub entries: Vec<Vec<Entry>>,
    pub lens: Vec<usize>,
    /// Per pattern, the deepest tier among its place-file entries (0 without any): a place
    /// of the file weighs alike in each of its units, whatever their level.
    pub landmark_tier: Vec<usize>,
    /// Per pattern: whether its landmarks, or the units of a name at home in one of them, lie
    /// in several districts (月季园: estates of 海淀 and 门头沟), so that it names namesakes
    /// rather than one place.
    pub namesakes: Vec<bool>,
    /// Per pattern: whether it is a street's or district's own name (九棵树, 大榆树), which
    /// stays the place whatever follows.
    names_a_street: Vec<bool>,
}

impl Matcher {
    /// Groups forms by text. A text shared by units of different tiers belongs to the
    /// highest tier only (朝阳 is the district, not a village core; 望京 the street, not
    /// 望京村), so lower units need their named form; same-tier sharing stays ambiguous.
    /// An estate of the place file keeps the one community of its name lying in it.
    pub fn build(table: &UnitTable, forms: Vec<Form>) -> Result<Self, PlaceError> {
        let mut groups: HashMap<String, Vec<Entry>> = HashMap::new();
        for f in forms {
            let entry = Entry {
                unit: f.unit,
                kind: f.kind,
                weak: f.weak,
                estate: f.estate,
                home: f.home,
                shadowed: false,
            };
            // Patterns get the same folding as the text (中国矿业大学（北京）); a form that
            // folds to nothing would match everywhere.
            let text = normalize(&f.text);
            if !text.is_empty() {
                groups.entry(text).or_default().push(entry);
            }
        }
        for b in BLOCKERS {
            groups.entry(b.to_string()).or_default();
        }
        let tier = |e: &Entry| table.units[e.unit as usize].level.tier();
        let mut patterns: Vec<(String, Vec<Entry>)> = groups
            .into_iter()
            .map(|(text, mut entries)| {
                let top = entries.iter().map(tier).min().unwrap_or(0);
                // An estate of the place file lying in one street that is also the name of
                // one community in that street (望京西园三区) keeps the community: it says
                // more than the street. A landmark (王府井, 后海) is more than the community
                // named after it, and a weak community needs its own support.
                let tops: Vec<Entry> = entries.iter().filter(|e| tier(e) == top).copied().collect();
                let lower: Vec<Entry> =
                    entries.iter().filter(|e| tier(e) != top).copied().collect();
                let inner = match (tops.as_slice(), lower.as_slice()) {
                    ([t], [l])
                        if top == 1
                            && t.kind == FormKind::Landmark
                            && t.estate
                            && !l.weak
                            && table.units[l.unit as usize].street == Some(t.unit) =>
                    {
                        Some(l.unit)
                    }
                    _ => None,
                };
                // A place of the file lying in units of several levels (a campus known to its
                // street, another only to its district) keeps them all.
                let from_file = tops.iter().all(|t| t.kind == FormKind::Landmark);
                // A name at home in a street keeps every unit of that name as a reading.
                let home = tops.iter().all(|t| t.home);
                // A community or village of another street that a place of the file takes the
                // name of (樱花园: the estate of 和平街, and 李桥's 樱花园社区) stays as a weak
                // reading: it counts only where the text names its street (李桥那边的樱花园小区),
                // not its district alone (家住海淀，带孩子去北京动物园 is the zoo, not 北下关's
                // 北京动物园社区).
                let street_of = |e: &Entry| table.units[e.unit as usize].street;
                let landmark_streets: Vec<Option<u32>> = tops.iter().map(street_of).collect();
                let shadowed = |e: &Entry| {
                    from_file
                        && top < 2
                        && tier(e) == 2
                        && e.kind != FormKind::Landmark
                        && !landmark_streets.contains(&street_of(e))
                        && !tops
                            .iter()
                            .any(|t| t.unit == table.units[e.unit as usize].district)
                };
                for e in entries.iter_mut() {
                    if !(tier(e) == top || home || Some(e.unit) == inner) && shadowed(e) {
                        e.weak = true;
                        e.kind = FormKind::Bare;
                        e.shadowed = true;
                    }
                }
                entries.retain(|e| {
                    tier(e) == top
                        || home
                        || Some(e.unit) == inner
                        || (from_file && e.kind == FormKind::Landmark)
                        || shadowed(e)
                });
                // One entry per unit: the strongest reading of this text, at home if any is.
                entries.sort_by_key(|e| (e.unit, e.weak, e.kind != FormKind::Named));
                entries.dedup_by(|later, kept| {
                    let same = later.unit == kept.unit;
                    kept.home |= same && later.home;
                    same
                });
                (text, entries)
            })
            .collect();
        patterns.sort_by(|a, b| a.0.cmp(&b.0));
        let ac = AhoCorasick::builder()
            .match_kind(MatchKind::LeftmostLongest)
            .build(patterns.iter().map(|p| p.0.as_str()))
            .map_err(|e| PlaceError::Matcher(e.to_string()))?;
        let lens = patterns.iter().map(|p| p.0.chars().count()).collect();
        let landmark_tier = patterns
            .iter()
            .map(|p| {
                p.1.iter()
                    .filter(|e| e.kind == FormKind::Landmark)
                    .map(tier)
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let namesakes = patterns
            .iter()
            .map(|p| {
                // Places of the file, or a name at home in one street and borne elsewhere too.
                let home = p.1.iter().any(|e| e.home);
                let mut districts =
                    p.1.iter()
                        .filter(|e| home || e.kind == FormKind::Landmark)
                        .map(|e| table.units[e.unit as usize].district);
                districts
                    .next()
                    .is_some_and(|first| districts.any(|d| d != first))
            })
            .collect();
        let names_a_street = patterns
            .iter()
            .map(|p| {
                p.1.iter().any(|e| {
                    let unit = &table.units[e.unit as usize];
                    tier(e) < 2
                        && (unit.short_name == p.0
                            || unit.name == p.0
                            || unit.aliases.contains(&p.0))
                })
            })
            .collect();
        let entries = patterns.into_iter().map(|p| p.1).collect();
        Ok(Matcher {
            ac,
            entries,
            lens,
            landmark_tier,
            namesakes,
            names_a_street,
        })
    }

    /// Non-overlapping leftmost-longest matches in `text`. A form that starts with a digit
    /// does not start inside a number: 798里面 is the art district, 套餐1798里面 a price. A
    /// place named after a tree (大柳树 of 北下关) counted or falling is the tree: 好几棵大柳树,
    /// 湖边的大柳树倒了; a street's own name (九棵树, 大榆树) stays the street.
    pub fn find(&self, text: &str) -> Vec<Hit> {
        let bytes = text.as_bytes();
        let digit = |i: usize| bytes.get(i).is_some_and(u8::is_ascii_digit);
        let tree = |s: usize, e: usize, pattern: usize| {
            text[..e].ends_with('树')
                && !self.names_a_street[pattern]
                && (text[..s].ends_with(['棵', '株'])
                    || TREE_AFTER.iter().any(|w| text[e..].starts_with(w)))
        };
        let mut hits = self
            .ac
            .find_iter(text)
            .filter(|m| {
                let s = m.start();
                let in_number = s > 0 && digit(s) && digit(s - 1);
                !in_number && !tree(s, m.end(), m.pattern().as_usize())
            })
            .map(|m| Hit {
                start: m.start(),
                end: m.end(),
                pattern: m.pattern().as_usize(),
                as_place: said_as_a_place(text, m.start(), m.end()),
                on_road: on_a_road(&text[m.end()..]),
            })
            .collect::<Vec<_>>();
        self.mark_stretches(text, &mut hits);
        hits
    }

    /// The ends of a stretch, 从A到B with A and B right beside 到 (or 至), are places when the
    /// other end is a place by itself: 从国贸到劲松一路 makes 劲松 the street, 从红庙到管庄那一路
    /// 管庄. Not where the far end runs on into a longer name (从京港澳高速到东四路), nor between
    /// two words that need a place to be places (从上庄到下庄, 从六角涨到八角).
    fn mark_stretches(&self, text: &str, hits: &mut [Hit]) {
        let strong = |h: &Hit| self.entries[h.pattern].iter().any(|e| !e.weak);
        for i in 1..hits.len() {
            let (a, b) = (&hits[i - 1], &hits[i]);
            let joined = matches!(text.get(a.end..b.start), Some("到" | "至"));
            let from = text[..a.start].ends_with('从');
            let rest = &text[b.end..];
            let ends = rest.is_empty()
                || rest.starts_with(|c: char| PUNCTUATION.contains(c))
                || STRETCH_END.iter().any(|w| rest.starts_with(w));
            if !(joined && from && ends) {
                continue;
            }
            let (a_strong, b_strong) = (strong(a), strong(b));
            hits[i - 1].as_place |= b_strong;
            hits[i].as_place |= a_strong;
        }
    }

    /// `hits` without a town whose name is also a side's mouth (南口, the south end of a street,
    /// gate or station) right after another place's name that stands on its own: 王府井南口
    /// and 天通苑站南口 are exits, not the town in 昌平. After the district's own name (昌平南口)
    /// or a weak short name (沙河南口, which only the town would make a place) it stays the
    /// town, and so do the town's own places (南口火车站).
    pub fn without_exits(&self, table: &UnitTable, text: &str, hits: Vec<Hit>) -> Vec<Hit> {
        let mut out: Vec<Hit> = Vec::with_capacity(hits.len());
        for hit in hits {
            let exit = EXIT_TOWNS
                .iter()
                .any(|t| text.as_bytes()[hit.start..].starts_with(t.as_bytes()))
                && self.entries[hit.pattern]
                    .iter()
                    .all(|e| e.kind != FormKind::Landmark);
            let after_place = out.last().is_some_and(|prev| {
                prev.end == hit.start
                    && self.entries[prev.pattern].iter().any(|e| {
                        !e.weak
                            && (e.kind == FormKind::Landmark
                                || table.units[e.unit as usize].level != PlaceLevel::District)
                    })
            });
            if !(exit && after_place) {
                out.push(hit);
            }
        }
        out
    }

    /// `hits` without the names of rail lines and without places named as where a ride goes or
    /// someone commutes.
    /// A district, street or place of the file right before 线 names a line, not where the caller
    /// is: 大兴机场线, 昌平线, 亦庄线 (not 线上, 线下, 线路, 线杆, 线缆, 线索: 马坊村线路老化 is the
    /// village's wiring). A place right after 往, after 去不去, after 去 with a ride just before
    /// (拉客, 坐车, 黑车, 送人), a bus just after (去通州的末班车) or work (去亦庄上班), or after 到
    /// with a bus just after (到苹果园的公交) is where the ride goes (黑车拉人去八达岭, 往通州方向)
    /// when the text names another place of its own: that place is where it happens. 去 alone stays (去海淀区政务
    /// 服务中心办事 is about that centre).
    pub fn without_lines_and_destinations(
        &self,
        table: &UnitTable,
        text: &str,
        hits: Vec<Hit>,
    ) -> Vec<Hit> {
        let bytes = text.as_bytes();
        let line = |h: &Hit| {
            let rest = &bytes[h.end..];
            rest.starts_with("线".as_bytes())
                && !NOT_LINES.iter().any(|w| rest.starts_with(w.as_bytes()))
                && self.entries[h.pattern].iter().any(|e| {
                    e.kind == FormKind::Landmark || table.units[e.unit as usize].level.tier() < 2
                })
        };
        let destination = |h: &Hit| {
            let before = &bytes[..h.start];
            let ride = || {
                let window = &before[before.len().saturating_sub(RIDE_WINDOW)..];
                RIDE_WORDS
                    .iter()
                    .any(|w| window.windows(w.len()).any(|x| x == w.as_bytes()))
            };
            // 去通州的最后几班车, 去门头沟的车: the bus that goes there (not 去西单的停车场, 车站,
            // 车库, 公交车站, 公交总站).
            let bus_there = || {
                let Some(after_de) = text[h.end..].strip_prefix('的') else {
                    return false;
                };
                let after = &text[h.end..];
                let window: String = after.chars().take(BUS_WINDOW).collect();
                let car = window.match_indices('车').any(|(i, _)| {
                    !window[i + '车'.len_utf8()..].starts_with(NOT_A_BUS)
                        && !window[..i].ends_with(['停', '火', '单', '汽', '自'])
                });
                let bus = window
                    .match_indices("公交")
                    .any(|(i, _)| goes_on(&window[i + "公交".len()..]));
                // A numbered route (去八达岭的877路, 去怀柔的916快).
                let route = {
                    let rest = after_de.trim_start_matches(|c: char| c.is_ascii_digit());
                    rest.len() < after_de.len()
                        && (rest.starts_with('路') || rest.starts_with('快'))
                };
                car || bus || route
            };
            // 到苹果园的公交, 到通州的末班车: after 到, only a bus right after 的, and not where
            // something is moved to (走到, 停到, 开到 … 的车 is a car there).
            let bus_to = || {
                let rest = text[h.end..].strip_prefix('的').unwrap_or("");
                let bus = BUS_AFTER_TO
                    .iter()
                    .any(|b| rest.strip_prefix(b).is_some_and(goes_on));
                bus && !MOVED_TO.iter().any(|v| before.ends_with(v.as_bytes()))
            };
            // 坐916快回怀柔的站台, 等车回怀柔的人: the stop or the riders of a ride home are
            // where the call is. Not a ride home itself (坐车回通州，到家发现停电 is about home),
            // nor 来回 (back and forth), 往回, 这回 ….
            let ride_home = || {
                before.ends_with("回".as_bytes())
                    && !NOT_HOME.iter().any(|w| before.ends_with(w.as_bytes()))
                    && text[h.end..]
                        .strip_prefix('的')
                        .is_some_and(|r| RIDE_HOME_AFTER.iter().any(|w| r.starts_with(w)))
            };
            // 去亦庄上班: the area where the caller works, not where the complaint is; a place of
            // the file in one unit is where it is (去清华附小上学, 校门口… is about the school).
            let work_there = || {
                let entries = &self.entries[h.pattern];
                COMMUTE.iter().any(|w| text[h.end..].starts_with(w))
                    && (entries.len() > 1 || entries.iter().all(|e| e.kind != FormKind::Landmark))
            };
            !self.entries[h.pattern].is_empty()
                && (before.ends_with("往".as_bytes())
                    || before.ends_with("去不去".as_bytes())
                    || (before.ends_with("去".as_bytes())
                        && (ride() || bus_there() || work_there()))
                    || ride_home()
                    || (before.ends_with("到".as_bytes()) && bus_to()))
        };
        let hits: Vec<Hit> = hits.into_iter().filter(|h| !line(h)).collect();
        // Another place of its own: not a destination, not only a weak word (上地 of 上地铁).
        let place = |h: &Hit| !destination(h) && self.entries[h.pattern].iter().any(|e| !e.weak);
        if !hits.iter().any(place) {
            return hits;
        }
        hits.into_iter().filter(|h| !destination(h)).collect()
    }

    /// Number of distinct spoken forms.
    pub fn len(&self) -> usize {
        self.entries.len()
    }
}

/// What said right after a place named after a tree makes it the tree: it has fallen, leans,
/// withers, is cut, was blown down, drops leaves or branches. Not 倒 or 断 alone: 倒垃圾 and
/// 断水 happen at places.
#[rustfmt::skip]
const TREE_AFTER: &[&str] = &[
    "倒了", "倒在", "歪了", "枯了", "枯死", "断了", "被砍", "被风", "被刮", "刮倒", "树叶", "树枝",
    "的叶子", "的树枝", "开花", "长虫",
];

/// What may follow a place and 线 without making it a line: online, offline, wiring, a pole,
/// cables, a clue.
const NOT_LINES: &[&str] = &["线上", "线下", "线路", "线杆", "线缆", "线索"];

/// Words of a ride, in the [`RIDE_WINDOW`] bytes before 去: 拉客去, 坐877去, 黑车去, 送孩子去.
const RIDE_WORDS: &[&str] = &["车", "坐", "拉", "送", "乘客", "游客"];

/// What said after 去 and a place makes it where someone commutes to (去亦庄上班).
const COMMUTE: &[&str] = &["上班", "上学", "打工"];

/// Characters after a place searched for the bus that goes there (的最后几班车).
const BUS_WINDOW: usize = 8;

/// What after 车 makes it no bus: a stop, a garage, a space, a park, a ticket, a lane.
const NOT_A_BUS: &[char] = &['站', '库', '位', '场', '票', '道', '总'];

/// Whether what follows a bus word (公交, 班车 …) leaves it a bus that goes somewhere: not a
/// stop, a garage or a terminal (公交车站, 公交总站), with or without 车 between.
fn goes_on(rest: &str) -> bool {
    !rest
        .strip_prefix('车')
        .unwrap_or(rest)
        .starts_with(NOT_A_BUS)
}

/// A bus said right after 到 … 的 (到苹果园的公交, 到通州的末班车, 到亦庄的班车).
const BUS_AFTER_TO: &[&str] = &["公交", "末班", "班车", "车"];

/// What after 回 X 的 is where a ride home starts or who takes it (回怀柔的站台, 回通州的末班车).
#[rustfmt::skip]
const RIDE_HOME_AFTER: &[&str] = &[
    "站台", "车站", "公交", "班车", "末班", "夜班车", "车", "人", "乘客", "方向",
];

/// Words ending in 回 that are no going home: back and forth, back, this time, every time.
#[rustfmt::skip]
const NOT_HOME: &[&str] = &[
    "来回", "往回", "这回", "那回", "每回", "上回", "下回", "一回",
];

/// Verbs before 到 that move something to a place, which then is where it is (停到西单的车).
#[rustfmt::skip]
const MOVED_TO: &[&str] = &[
    "走到", "停到", "开到", "放到", "搬到", "挪到", "扔到", "送到", "骑到", "推到", "拉到",
];

/// Bytes before 去 searched for a [`RIDE_WORDS`] word: about eight characters.
const RIDE_WINDOW: usize = 24;

/// Words right before a street's short name that say someone lives there (我住窦店, 住在旧宫):
/// a weak short name said so is the street. Not 住 alone: 挡住南口 is blocking an entrance.
const LIVES_BEFORE: &[&str] = &[
    "住在", "我住", "家住", "们住", "也住", "都住", "还住", "就住", "人住",
];

/// Whether the words around `text[start..end]` say it is a place: after words that say someone
/// lives there (我住窦店, 住在旧宫) or is visited there (去木林看我爷爷), naming an expressway's
/// exit (京港澳高速窦店出口), or opening a clause and owning a place with 的 (窦店的工业园区,
/// 张镇的大集, 檀营的老小区). Not owning anything else: 八角的价格 is star anise's price, 北房的墙
/// a north room's wall, 沙河的水 any sandy river's water.
fn said_as_a_place(text: &str, start: usize, end: usize) -> bool {
    let before = &text[..start];
    // A name that is also goods or a room (八角, 北房) is a place only by the strictest words:
    // not after a caller's opening (请问八角的市场价), not after 在, not with a shop pointed at.
    let goods = GOODS_CORES.contains(&&text[start..end]);
    let lives = LIVES_BEFORE.iter().any(|w| before.ends_with(w));
    let opens_clause = before
        .chars()
        .next_back()
        .is_none_or(|c| c == '】' || PUNCTUATION.contains(c))
        || (!goods && CLAUSE_OPENERS.iter().any(|w| before.ends_with(w)));
    // 在 as "at", not the end of 现在, 正在, 实在 …
    let at = !goods && before.ends_with('在') && !NOT_AT.iter().any(|w| before.ends_with(w));
    // The place may come after two characters of what it grows or sells (西集的樱桃采摘园), when
    // it is a place word of three or more (not 八角的香味飘到小区, 沙河的水漫过路口).
    let owns_a_place = text[end..].strip_prefix('的').is_some_and(|rest| {
        // What follows two characters of what is grown or sold, when they are no verb.
        let after_two = rest
            .char_indices()
            .nth(2)
            .map(|(i, _)| &rest[i..])
            .filter(|after| !rest[..rest.len() - after.len()].contains(NOT_GROWN));
        // Not a market's or a supermarket's price (八角的市场价, 八角的超市价格).
        let owned = |at: &str, p: &str| {
            at.strip_prefix(p).is_some_and(|after| {
                !NOT_OWNED_AFTER.iter().any(|w| after.starts_with(w))
                    && !(after.starts_with('价') && (p.ends_with("市场") || p.ends_with("超市")))
            })
        };
        PLACES_OWNED.iter().any(|p| {
            owned(rest, p) || (p.chars().count() >= 3 && after_two.is_some_and(|at| owned(at, p)))
        })
    });
    // An expressway's exit named after the town (京港澳高速窦店出口), not an export (八角出口).
    let exit = text[end..].starts_with("出口") && before.contains("高速");
    let visited = (before.ends_with('去') || before.ends_with('回'))
        && VISITED.iter().any(|w| text[end..].starts_with(w))
        && !text[end..].starts_with("玩具");
    // Where the caller's home is (家在阎村，…), the name ending the clause or followed by 那边 …
    // (not 在 or 从 alone: 从小关心, 在上地铁, 在北房看电视 start other words and rooms).
    let home_in = before.ends_with("家在")
        && (text[end..].is_empty()
            || text[end..].starts_with(|c: char| PUNCTUATION.contains(c))
            || HOME_SIDE.iter().any(|w| text[end..].starts_with(w)))
        && !goods;
    // Its demolition and its old estates said right after it, opening a clause (孙河拆迁后,
    // 管庄老小区想加装电梯, 十渡山区).
    let its_own = opens_clause && OWNED_RIGHT_AFTER.iter().any(|w| text[end..].starts_with(w));
    // 在 X with what was bought, rented or is to be built there, or where a child goes to
    // school (在窦店买的新房, 在宋庄租房, 建议在崔村再建一所幼儿园, 在管庄上小学). Not 在 X 上班:
    // where someone works is seldom what the call is about (我住窦店，在良乡上班).
    let done_at = at && DONE_AT.iter().any(|w| text[end..].starts_with(w));
    // A workshop, shop or site there, said with 有个, 一家 … opening a clause or after 在 (旧宫有个
    // 服装加工厂, 在漷县一家食品厂, 窦店的一个汽车配件厂). Not 有个 or 一个 alone: 八角有个好处.
    let has_one = !goods
        && [&text[end..], text[end..].strip_prefix('的').unwrap_or("")]
            .into_iter()
            .any(points_at_a_workplace);
    lives
        || exit
        || visited
        || home_in
        || its_own
        || done_at
        || ((opens_clause || at) && (owns_a_place || has_one))
}

/// Whether `after` (what follows a place's name) opens with 有个, 一家 … and names a workshop,
/// shop, site or orchard before its clause ends: 有个服装加工厂, 一家食品厂, 一个果园.
fn points_at_a_workplace(after: &str) -> bool {
    let Some(rest) = HAS_ONE.iter().find_map(|w| after.strip_prefix(w)) else {
        return false;
    };
    let clause: String = rest
        .chars()
        .take_while(|c| !PUNCTUATION.contains(*c))
        .take(10)
        .collect();
    WORKPLACES.iter().any(|w| clause.contains(w))
}

/// Words that point at one thing of a place: [`points_at_a_workplace`].
const HAS_ONE: &[&str] = &["有个", "有家", "有一家", "有一个", "一家", "一个"];

/// A workshop, shop, site or orchard: [`points_at_a_workplace`].
#[rustfmt::skip]
const WORKPLACES: &[&str] = &[
    "厂", "作坊", "公司", "工地", "物流园", "店", "饭馆", "餐馆", "超市", "市场", "养殖场", "园",
];

/// Words ending in 在 that are no "at": now, in the middle of, really, exist, where, luckily,
/// at ease (现在八角的市场价格, 正在北房里).
const NOT_AT: &[&str] = &["现在", "正在", "实在", "存在", "所在", "好在", "自在"];

/// What is done at a place said right after 在 X: see [`said_as_a_place`].
#[rustfmt::skip]
const DONE_AT: &[&str] = &[
    "买的", "买了", "买房", "租房", "租的", "租了", "多建", "再建", "开店", "上小学", "上幼儿园",
];

/// Words that end a caller's opening and so start a clause like punctuation does (咨询一下万柳的
/// 学校划片, 请问窦店的中心小学…).
const CLAUSE_OPENERS: &[&str] = &["一下", "请问"];

/// Words after 家在 X that keep X the place of the home (家在阎村那边).
const HOME_SIDE: &[&str] = &["那边", "这边", "那儿", "那块"];

/// Said right after a street's short name without 的: its demolition, return housing, old
/// estates, old town and hills (孙河拆迁后, 东坝拆迁回迁, 管庄老小区, 良乡老城区, 十渡山区).
const OWNED_RIGHT_AFTER: &[&str] = &["拆迁", "回迁", "老小区", "老城区", "山区"];

/// What may follow the far end of a stretch (到管庄那一路, 到劲松一路都有, 到潘家园这段).
const STRETCH_END: &[&str] = &["一路", "一带", "一段", "那", "这", "段"];

/// Characters that are no part of what a place grows or sells: verbs and prepositions
/// (八角的价格在超市里, 沙河的水漫过路口).
const NOT_GROWN: &[char] = &[
    '在', '比', '到', '飘', '找', '漫', '过', '里', '上', '进', '和', '跟',
];

/// Places a town owns, said after its name and 的 (窦店的工业园区, 张镇的大集).
#[rustfmt::skip]
const PLACES_OWNED: &[&str] = &[
    "小区", "老小区", "新小区", "工业园", "工业区", "开发区", "园区", "大集", "集上", "市场", "菜市场",
    "早市", "超市", "商场", "村", "路口", "公交站", "地铁站", "火车站", "医院", "卫生院", "派出所",
    "政府", "学校", "小学", "中学", "幼儿园", "影视基地", "基地", "老楼", "楼房", "回迁房", "回迁楼",
    "大街", "公园", "广场", "农家院", "采摘园", "景区",
    // Its shops and services (阳坊的一家涮肉馆, 长阳的养老驿站), its old town, its villages
    // and its fairs (张镇的农村, 采育的葡萄文化节); not what [`NOT_OWNED_AFTER`] turns into
    // other words.
    "一家", "那家", "饭馆", "饭店", "药店", "诊所", "银行", "邮局", "养老驿站", "养老院", "敬老院",
    "老街", "老镇", "街上", "镇上", "集市", "庙会", "农村", "村里", "村子", "山里", "文化节",
    "采摘节", "果园", "樱桃园", "葡萄园", "一个村",
    // Its demolition and return housing, its old bungalows and its buses (台湖的回迁安置房, 窦店的
    // 拆迁户, 霍营的老平房, 杨镇的班车); not 平房 or 老房子 (北房的老房子 is a north room's).
    "回迁安置房", "安置房", "安置小区", "回迁小区", "拆迁", "老平房", "老村",
    "班车", "棚户区", "老厂区",
    // Its farm restaurants, country roads, central school, old villages, barracks and mines,
    // and its houses without full title (十渡的农家乐, 张镇的乡道, 杨镇的中心小学, 大台的老煤矿,
    // 宋庄的小产权房).
    "农家乐", "乡道", "村道", "中心小学", "老村子", "老营房", "老煤矿", "老矿区", "矿区", "小产权房",
    "山沟", "山上",
    // Its factories, logistics parks and building sites (在西集的木材加工厂, 在李桥的物流园).
    "工厂", "厂子", "加工厂", "物流园", "工地",
];

/// What after a word of [`PLACES_OWNED`] makes it another word: a family (一家人, 一家子, 一家三口),
/// neighbours (老街坊), a bank card (银行卡), a fellow (那家伙), hawthorns (山里红), a household
/// register (农村户口).
const NOT_OWNED_AFTER: &[&str] = &[
    "人", "子", "伙", "坊", "卡", "红", "户口", "三口", "四口", "五口", "老小",
];

/// Words after a place and before it 去 or 回 that say someone is visited there (去木林看我爷爷,
/// 回漷县看望老人), or what is done there (去阳坊吃涮肉, 去阳坊吃涮羊肉, 去张镇赶集, 去十渡玩):
/// the complaint is about it.
const VISITED: &[&str] = &[
    "看我", "看望", "探望", "吃涮", "吃饭", "采摘", "赶集", "爬山", "玩",
];

/// Punctuation that ends a clause or a list item.
pub(crate) const PUNCTUATION: &str = ",.!?;:，。！？；：、";

/// Towns named like the mouth of a street's side (南口 is also "the south end").
const EXIT_TOWNS: &[&str] = &["南口"];

/// The first [`MAX_CHARS`] characters of `text` through the crate's [`Normalizer`], spaces
/// dropped, so "朝阳区 望京" and "朝阳区望京" match alike. Spaces between two digits become a
/// slash, so two numbers stay two (电话13800138000 798艺术区: 798 starts no number).
pub(crate) fn normalize(text: &str) -> String {
    let is_digit = |c: char| c.is_ascii_digit() || ('０'..='９').contains(&c);
    let chars: Vec<char> = text.chars().take(MAX_CHARS).collect();
    let mut kept = String::with_capacity(text.len());
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() && i > 0 && is_digit(chars[i - 1]) {
            let run = chars[i..].iter().take_while(|c| c.is_whitespace()).count();
            if chars.get(i + run).copied().is_some_and(is_digit) {
                kept.push('/');
                i += run;
                continue;
            }
        }
        kept.push(c);
        i += 1;
    }
    Normalizer::reading(MAX_CHARS).string(&kept)
}
