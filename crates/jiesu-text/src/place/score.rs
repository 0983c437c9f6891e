//! Scoring matched forms into readings of the Beijing hierarchy: weak forms need a
//! mentioned ancestor, a unit's score sums the evidence on its district → street → unit
//! chain, a mentioned district or street that contradicts it lowers it, and near-equal
//! unrelated readings make the result ambiguous. Matching and the outside-city check live
//! elsewhere.

use rustc_hash::FxHashMap;

use super::forms::{is_everyday_word, FormKind};
use super::matcher::{Entry, Hit, Matcher, PUNCTUATION};
use super::units::UnitTable;
use super::{PlaceCandidate, PlaceMatch, PlaceStatus, PlaceUnit, MAX_ALTERNATIVES};

/// Base weight of a district, street/township and community/village mention.
const TIER_WEIGHT: [f64; 3] = [1.0, 1.5, 2.0];
/// Subtracted when the text names districts and the reading lies in none of them.
const DISTRICT_PENALTY: f64 = 1.5;
/// Subtracted from a community when the text names streets and none is its own, and from a
/// street or district reached only through a landmark of namesakes in several districts, or
/// through a name at home in one street and borne in others (月季园), when the text names, by
/// another word, streets unrelated to it.
const STREET_PENALTY: f64 = 1.0;
/// Unrelated readings within this score of the best one make the result ambiguous.
const MARGIN: f64 = 0.3;

/// Added, times the second-best weight, when a place that names several units (肿瘤医院:
/// one in 潘家园, one in 八里庄) and another mention agree on one of them (潘家园 …
/// 肿瘤医院). Two spellings of one place (工体, 工人体育场) or a name said twice add nothing.
const CORROBORATION: f64 = 0.3;
/// Added to the reading of the unit where a name many units share is at home (`Entry::home`),
/// more than [`MARGIN`]: 月季园, the estate of three communities of 大峪 and one of 花园路, is
/// 大峪's, with 花园路's as an alternative.
const HOME_BONUS: f64 = 0.35;

/// The evidence for one unit: its best mention weight and where it was mentioned.
struct Evidence {
    weight: f64,
    /// The pattern of the best mention, and the best weight of any other pattern.
    pattern: usize,
    second: f64,
    spans: Vec<(usize, usize)>,
    /// Named by its own name, not only through a landmark lying in it.
    by_name: bool,
    /// Named by its own name in a mention that is not a name at home elsewhere too (花园路 said,
    /// not only 月季园): a unit the text names itself, per mention, whatever weighed most.
    named_itself: bool,
    /// Reached only as the home of a name others share (`Entry::home`).
    home_only: bool,
    /// Some mention decides the unit's district: said by name, or through a place whose units
    /// all lie in that district (蓟门桥, across two streets of 海淀; not 北三环, across four
    /// districts).
    decided: bool,
}

/// One reading of the text: a unit (its ancestors implied) and its score.
#[derive(Debug, Clone)]
pub(crate) struct Reading {
    pub unit: u32,
    pub score: f64,
    pub spans: Vec<(usize, usize)>,
}

/// All readings, best first, with nothing subsumed by a more specific reading.
#[derive(Debug, Clone)]
pub(crate) struct Evaluation {
    pub readings: Vec<Reading>,
    /// Whether a district (or a landmark standing for one) is mentioned.
    pub names_district: bool,
}

fn weight(entry: &Entry, tier: usize, chars: usize) -> f64 {
    let kind = match entry.kind {
        FormKind::Named => 1.0,
        FormKind::Landmark => 0.9,
        FormKind::Bare => 0.8,
    };
    let weak = if entry.weak { 0.6 } else { 1.0 };
    let home = if entry.home { HOME_BONUS } else { 0.0 };
    TIER_WEIGHT[tier] * kind * weak + 0.05 * chars.saturating_sub(2).min(6) as f64 + home
}

/// Scores the hits; `None` when no valid mention remains.
pub(crate) fn evaluate(table: &UnitTable, matcher: &Matcher, hits: &[Hit]) -> Option<Evaluation> {
    let mut evidence = collect(table, matcher, hits);
    let tier = |u: u32| table.units[u as usize].level.tier();
    // A home (`Entry::home`) is only the likelier of namesakes: where the text names a
    // district or street by name that it lies outside, it is no reading (平谷区岳各庄村 is
    // 平谷's, 香营乡小堡村 香营's).
    // A unit named only by the same words as the home (花园路's 月季园 beside 大峪's) is a
    // namesake, not a unit the text names.
    let named = |t: usize| -> Vec<u32> {
        evidence
            .iter()
            .filter(|(&u, ev)| tier(u) == t && ev.named_itself && !ev.home_only)
            .map(|(&u, _)| u)
            .collect()
    };
    let (named_districts, named_streets) = (named(0), named(1));
    evidence.retain(|&u, ev| {
        let unit = &table.units[u as usize];
        !(ev.home_only
            && ((!named_districts.is_empty() && !named_districts.contains(&unit.district))
                || (!named_streets.is_empty() && !named_streets.contains(&u))))
    });
    if evidence.is_empty() {
        return None;
    }
    // Districts the text names itself: a landmark lying across districts (长安街) names
    // none of them, so it does not count against the others.
    let districts: Vec<u32> = evidence
        .iter()
        .filter(|(&u, ev)| tier(u) == 0 && ev.by_name)
        .map(|(&u, _)| u)
        .collect();
    let names_district = evidence.keys().any(|&u| tier(u) == 0);
    let streets: Vec<u32> = evidence.keys().copied().filter(|&u| tier(u) == 1).collect();
    // Streets the text names itself (魏善庄, 劲松那边), not through a landmark in them nor
    // through a name at home in one street and borne in others (月季园).
    let named_streets: Vec<u32> = streets
        .iter()
        .copied()
        .filter(|u| evidence[u].named_itself)
        .collect();
    let mut readings: Vec<Reading> = evidence
        .keys()
        .map(|&me| {
            let unit = &table.units[me as usize];
            let mut reading = Reading {
                unit: me,
                score: 0.0,
                spans: Vec::new(),
            };
            for a in unit.chain(me) {
                if let Some(ev) = evidence.get(&a) {
                    reading.score += ev.weight + CORROBORATION * ev.second;
                    reading.spans.extend(&ev.spans);
                }
            }
            if !districts.is_empty() && !districts.contains(&unit.district) {
                reading.score -= DISTRICT_PENALTY;
            }
            let street = unit.street.unwrap_or(me);
            if tier(me) == 2 && !streets.is_empty() && !streets.contains(&street) {
                reading.score -= STREET_PENALTY;
            }
            // A street or district reached only through a name that places in several
            // districts share (a landmark, or a name at home in one of them) yields, like a community, to a street the text names (another
            // word than that name) where none of them lies: 魏善庄那个月季园 is the rose garden
            // of 魏善庄, not the estates called 月季园 in 海淀 and 门头沟. One place, even
            // across streets, stays (天通苑和回龙观, 工体和团结湖 are two places), and so does a
            // word that is itself a street (十里堡, a township of 密云).
            let own = &evidence[&me];
            if tier(me) < 2
                && !own.named_itself
                && matcher.namesakes[own.pattern]
                && named_streets
                    .iter()
                    .any(|&s| evidence[&s].pattern != own.pattern)
                && !named_streets.iter().any(|&s| related(table, s, me))
            {
                reading.score -= STREET_PENALTY;
            }
            reading.spans.sort_unstable();
            reading
        })
        .collect();
    let subsumed: Vec<bool> = readings
        .iter()
        .map(|r| {
            readings.iter().any(|o| {
                o.unit != r.unit && o.score >= r.score && is_ancestor(table, r.unit, o.unit)
            })
        })
        .collect();
    let mut keep = subsumed.iter().map(|s| !s);
    readings.retain(|_| keep.next().unwrap_or(false));
    let covered = |r: &Reading| r.spans.iter().map(|(s, e)| e - s).sum::<usize>();
    readings.sort_by(|a, b| {
        b.score
            .total_cmp(&a.score)
            .then(tier(b.unit).cmp(&tier(a.unit)))
            .then(covered(b).cmp(&covered(a)))
            .then(
                table.units[a.unit as usize]
                    .code
                    .cmp(&table.units[b.unit as usize].code),
            )
    });
    Some(Evaluation {
        readings,
        names_district,
    })
}

/// Valid evidence per unit; weak mentions count only under a valid mentioned ancestor, or,
/// for a street, right before a unit lying in it that the text names outright (宋庄小堡村:
/// 宋庄 alone is two characters that need their district, but 小堡村 is one of its villages).
fn collect(table: &UnitTable, matcher: &Matcher, hits: &[Hit]) -> FxHashMap<u32, Evidence> {
    let mut evidence: FxHashMap<u32, Evidence> = FxHashMap::default();
    // Only the very next mention counts: a street's short name elsewhere in the text is as
    // often a word (清水, 果园, 河北 the province) as the street.
    // A community's weak name right after it counts too: the two name each other (清源枣园,
    // 青塔蔚园, 李桥樱花园).
    let names_inside = |street: u32, hit: &Hit| {
        let next = hits.partition_point(|h| h.start < hit.end);
        hits.get(next).is_some_and(|other| {
            other.start == hit.end
                && matcher.entries[other.pattern].iter().any(|e| {
                    let community = table.units[e.unit as usize].street == Some(street)
                        && table.units[e.unit as usize].level.tier() == 2;
                    (!e.weak || community)
                        && (e.unit == street || is_ancestor(table, street, e.unit))
                })
        })
    };
    for tier in 0..3 {
        for hit in hits {
            for entry in &matcher.entries[hit.pattern] {
                let unit = &table.units[entry.unit as usize];
                if unit.level.tier() != tier {
                    continue;
                }
                // A street named after its road, said as the road (学院路上, 学院路辅路), is the
                // road: it runs through other streets, so beside another place of its district
                // (北航北门外的学院路上) it is weak, counting only where the text names the district,
                // and the other place decides. Alone, or beside places of other districts (在望京上班,
                // 经过学院路辅路), it is the street's road (田村路上的井盖). Not a street named after
                // a lane inside it (牛街上, 金融街上).
                let road_street = tier == 1
                    && entry.kind == FormKind::Bare
                    && hit.on_road
                    && unit.short_name.ends_with('路')
                    && matcher.lens[hit.pattern] == unit.short_name.chars().count()
                    && hits.iter().any(|h| {
                        h.pattern != hit.pattern
                            && matcher.entries[h.pattern].iter().any(|e| {
                                let other = &table.units[e.unit as usize];
                                !e.weak
                                    && e.unit != entry.unit
                                    && other.level.tier() > 0
                                    && other.district == unit.district
                            })
                    });
                let entry = &Entry {
                    weak: entry.weak || road_street,
                    ..*entry
                };
                // A street's short name right before a place lying in it (大峪月季园) is said
                // as that street: no longer weak.
                // So is a street's short name said as a place (我住窦店, 窦店的工业园区), unless
                // it is an everyday word (住在平房 is living in a bungalow, 平房的 a bungalow's).
                let as_place = hit.as_place && !is_everyday_word(&unit.short_name);
                let inside = entry.weak && tier == 1 && (as_place || names_inside(entry.unit, hit));
                let supported = if entry.shadowed {
                    unit.street.is_some_and(|s| evidence.contains_key(&s))
                } else {
                    !entry.weak
                        || inside
                        || unit.chain(entry.unit).any(|a| {
                            // A unit reached only through a place across districts (北三环) still
                            // holds a street's short name that is no everyday word (京开高速黄村那段),
                            // but not 北三环那边的天桥, a footbridge.
                            a != entry.unit
                                && evidence.get(&a).is_some_and(|ev| {
                                    ev.decided || (tier == 1 && !is_everyday_word(&unit.short_name))
                                })
                        })
                };
                if !supported {
                    continue;
                }
                let entry = &Entry {
                    weak: entry.weak && !inside,
                    ..*entry
                };
                // A place of the file weighs alike in each of its units, whatever their level:
                // 北京建筑大学 (展览路街道, and a campus known only to be in 大兴区) is either.
                let level = if entry.kind == FormKind::Landmark {
                    matcher.landmark_tier[hit.pattern]
                } else {
                    tier
                };
                let w = weight(entry, level, matcher.lens[hit.pattern]);
                let ev = evidence.entry(entry.unit).or_insert(Evidence {
                    weight: 0.0,
                    pattern: hit.pattern,
                    second: 0.0,
                    spans: Vec::new(),
                    by_name: false,
                    named_itself: false,
                    home_only: true,
                    decided: false,
                });
                let shared = |p: usize| matcher.entries[p].len() > 1;
                let agree =
                    hit.pattern != ev.pattern && (shared(hit.pattern) || shared(ev.pattern));
                if w > ev.weight {
                    if agree {
                        ev.second = ev.second.max(ev.weight);
                    }
                    ev.weight = w;
                    ev.pattern = hit.pattern;
                } else if agree {
                    ev.second = ev.second.max(w);
                }
                ev.by_name |= entry.kind != FormKind::Landmark;
                ev.decided |= entry.kind != FormKind::Landmark
                    || matcher.entries[hit.pattern]
                        .iter()
                        .all(|e| table.units[e.unit as usize].district == unit.district);
                ev.named_itself |= entry.kind != FormKind::Landmark
                    && !matcher.entries[hit.pattern].iter().any(|e| e.home);
                ev.home_only &= entry.home;
                ev.spans.push((hit.start, hit.end));
            }
        }
    }
    evidence
}

/// Whether the text runs from a place of one reading to a place of the other: 从A到B, or
/// 从A with 到B later in the same clause (从高碑店一路往东骑到通州).
fn spanned(text: &str, a: &Reading, b: &Reading) -> bool {
    let joined = |from: (usize, usize), to: (usize, usize)| {
        let Some(gap) = text.get(from.1..to.0) else {
            return false;
        };
        let starts = text[..from.0].ends_with('从');
        let ends = gap.ends_with('到') || gap.ends_with('至');
        starts
            && ends
            && gap.chars().count() <= SPAN_GAP
            && !gap.contains(|c: char| PUNCTUATION.contains(c))
    };
    a.spans
        .iter()
        .any(|&x| b.spans.iter().any(|&y| joined(x, y) || joined(y, x)))
}

/// Characters at most between the two ends of 从A…到B.
const SPAN_GAP: usize = 10;

/// Whether `a` is a strict ancestor of `b`.
fn is_ancestor(table: &UnitTable, a: u32, b: u32) -> bool {
    a != b && table.units[b as usize].chain(b).any(|x| x == a)
}

fn related(table: &UnitTable, a: u32, b: u32) -> bool {
    a == b || is_ancestor(table, a, b) || is_ancestor(table, b, a)
}

/// Maps a score to 0..1: one district mention ≈ 0.5, street + district ≈ 0.8.
fn strength(score: f64) -> f64 {
    1.0 - (-score.max(0.0) / 1.5).exp()
}

fn round3(x: f64) -> f64 {
    (x * 1000.0).round() / 1000.0
}

/// Turns an evaluation into the public result.
pub(crate) fn to_match(table: &UnitTable, text: &str, ev: &Evaluation) -> PlaceMatch {
    let top = &ev.readings[0];
    let rivals: Vec<&Reading> = ev.readings[1..]
        .iter()
        .filter(|r| !related(table, r.unit, top.unit))
        .collect();
    // A stretch from one place to another (从国贸到三元桥, 从高碑店骑到通州) lies in both: the
    // other end is no weaker a reading, whatever it scored above nothing.
    let conflicts: Vec<&Reading> = rivals
        .iter()
        .copied()
        .filter(|r| r.score >= top.score - MARGIN || (r.score > 0.0 && spanned(text, top, r)))
        .collect();
    let confidence = damped(table, &ev.readings, top);
    let (status, used, skip) = if conflicts.is_empty() {
        (PlaceStatus::Resolved, vec![top], 1)
    } else {
        let mut used = vec![top];
        used.extend(conflicts.iter().copied());
        (PlaceStatus::Ambiguous, used, 0)
    };
    // Ambiguous: keep only the levels every competing reading agrees on.
    let common: Vec<u32> = table.units[top.unit as usize]
        .chain(top.unit)
        .filter(|&a| {
            used.iter()
                .all(|r| r.unit == a || is_ancestor(table, a, r.unit))
        })
        .collect();
    let (district, street, community) = levels(table, &common);
    let mut spans: Vec<(usize, usize)> = used.iter().flat_map(|r| r.spans.clone()).collect();
    spans.sort_unstable();
    spans.dedup();
    PlaceMatch {
        status,
        district,
        street,
        community,
        confidence: round3(confidence),
        matched: spans.iter().map(|&(s, e)| text[s..e].to_string()).collect(),
        alternatives: ev.readings[skip..]
            .iter()
            .take(MAX_ALTERNATIVES)
            .map(|r| candidate(table, r, damped(table, &ev.readings, r)))
            .collect(),
        outside: None,
    }
}

/// A reading's confidence: its strength, halved as far as the strongest reading unrelated
/// to it comes near it. The answer and each alternative are damped alike, so an alternative
/// never shows more confidence than the answer that beat it.
fn damped(table: &UnitTable, readings: &[Reading], r: &Reading) -> f64 {
    let rival = readings
        .iter()
        .filter(|o| !related(table, o.unit, r.unit))
        .map(|o| o.score.max(0.0))
        .fold(0.0, f64::max);
    if r.score <= 0.0 {
        return 0.0;
    }
    strength(r.score) * (1.0 - 0.5 * (rival / r.score).min(1.0))
}

fn candidate(table: &UnitTable, r: &Reading, confidence: f64) -> PlaceCandidate {
    let chain: Vec<u32> = table.units[r.unit as usize].chain(r.unit).collect();
    let (district, street, community) = levels(table, &chain);
    PlaceCandidate {
        district,
        street,
        community,
        confidence: round3(confidence),
    }
}

type Levels = (Option<PlaceUnit>, Option<PlaceUnit>, Option<PlaceUnit>);

fn levels(table: &UnitTable, chain: &[u32]) -> Levels {
    let mut out: Levels = (None, None, None);
    for &u in chain {
        let unit = &table.units[u as usize];
        let place = Some(PlaceUnit::of(unit));
        match unit.level.tier() {
            0 => out.0 = place,
            1 => out.1 = place,
            _ => out.2 = place,
        }
    }
    out
}
