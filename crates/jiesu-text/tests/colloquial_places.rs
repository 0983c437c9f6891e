//! Colloquial places (landmarks, stations, campuses, parks, roads, development zones,
//! estates) resolved against the shipped `reference/units.csv`: at least 95 % must come out
//! at the right district and, where one place decides it, the right street; places lying in
//! several units must be reported ambiguous with those units among the alternatives. The
//! misses are printed.

use jiesu_text::place::{Gazetteer, PlaceMatch, PlaceStatus, PlaceUnit};

const CASES: &str = include_str!("colloquial_places.tsv");
const UNITS: &str = include_str!("../../../reference/units.csv");

/// What a line expects at one level.
#[derive(Debug)]
enum Want {
    /// This unit, resolved.
    One(String),
    /// No unit at this level (several would fit, none decides).
    Nothing,
    /// Ambiguous between these units.
    Among(Vec<String>),
    /// Not judged: the writer of the line knew the district but not the street (`~`).
    Unchecked,
}

fn want(field: &str) -> Want {
    match field {
        "-" => Want::Nothing,
        "~" => Want::Unchecked,
        f if f.starts_with('?') => Want::Among(f[1..].split('|').map(String::from).collect()),
        f => Want::One(f.to_string()),
    }
}

fn code(u: &Option<PlaceUnit>) -> Option<&str> {
    u.as_ref().map(|u| u.code.as_str())
}

/// Why the answer is wrong, or `None` when it is right.
fn judge(m: &PlaceMatch, district: &Want, street: &Want) -> Option<String> {
    let alternatives = |level: fn(&jiesu_text::place::PlaceCandidate) -> Option<&str>| {
        m.alternatives
            .iter()
            .filter_map(level)
            .map(String::from)
            .collect::<Vec<_>>()
    };
    match district {
        Want::One(d) => {
            if code(&m.district) != Some(d.as_str()) {
                return Some(format!("district {:?}", code(&m.district)));
            }
        }
        Want::Among(ds) => {
            let alts = alternatives(|c| code(&c.district));
            if m.status != PlaceStatus::Ambiguous || m.district.is_some() {
                return Some(format!("not ambiguous between districts ({:?})", m.status));
            }
            if let Some(d) = ds.iter().find(|d| !alts.contains(d)) {
                return Some(format!("district {d} not among {alts:?}"));
            }
            return None;
        }
        Want::Nothing | Want::Unchecked => unreachable!("every line names its district"),
    }
    match street {
        Want::Unchecked => None,
        // The street is decided when every reading shares it, even if two communities of
        // that street remain (唐家岭: the community and the village's estate).
        Want::One(s) => (code(&m.street) != Some(s.as_str()))
            .then(|| format!("{:?} street {:?}", m.status, code(&m.street))),
        Want::Nothing => m
            .street
            .as_ref()
            .map(|s| format!("guessed street {} {}", s.code, s.name)),
        Want::Among(ss) => {
            let alts = alternatives(|c| code(&c.street));
            if m.status != PlaceStatus::Ambiguous || m.street.is_some() {
                Some(format!(
                    "not ambiguous between streets ({:?} {:?})",
                    m.status,
                    code(&m.street)
                ))
            } else {
                ss.iter()
                    .find(|s| !alts.contains(s))
                    .map(|s| format!("street {s} not among {alts:?}"))
            }
        }
    }
}

/// Resolves every line of a case file; returns how many were right, how many there were,
/// how many had their street checked, and the misses.
fn score(cases: &str) -> (usize, usize, usize, Vec<String>) {
    let gazetteer = Gazetteer::from_units_csv(UNITS).expect("units.csv builds");
    let mut total = 0;
    let mut streets_checked = 0;
    let mut misses = Vec::new();
    for line in cases.lines() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        assert_eq!(fields.len(), 3, "bad test line: {line}");
        let (district, street) = (want(fields[1]), want(fields[2]));
        assert!(
            matches!(district, Want::One(_) | Want::Among(_)),
            "{line}: the district is a code or ?A|B"
        );
        assert!(
            !matches!(street, Want::Unchecked) || matches!(district, Want::One(_)),
            "{line}: an unchecked street needs one district"
        );
        total += 1;
        streets_checked +=
            usize::from(matches!(district, Want::One(_)) && !matches!(street, Want::Unchecked));
        let m = gazetteer.resolve(fields[0]);
        // An alternative that lost never shows more confidence than the answer.
        if let Some(a) = m.alternatives.iter().find(|a| a.confidence > m.confidence) {
            panic!(
                "{line}: alternative {a:?} above the answer's {}",
                m.confidence
            );
        }
        if let Some(why) = judge(&m, &district, &street) {
            misses.push(format!(
                "{}\texpected {} {}\tgot {:?} {:?} {:?}: {why}",
                fields[0],
                fields[1],
                fields[2],
                m.status,
                m.district.as_ref().map(|u| u.name.as_str()),
                m.street.as_ref().map(|u| u.name.as_str()),
            ));
        }
    }
    (total - misses.len(), total, streets_checked, misses)
}

/// Prints a case file's rate and misses; fails below `floor` or with fewer than 200 lines.
fn check(name: &str, cases: &str, floor: f64) {
    let (hits, total, streets_checked, misses) = score(cases);
    let rate = hits as f64 / total as f64;
    println!(
        "{name}: {hits}/{total} right ({:.1} %), street checked on {streets_checked}",
        rate * 100.0
    );
    for miss in &misses {
        println!("miss: {miss}");
    }
    assert!(total >= 200, "only {total} test places in {name}");
    assert!(
        rate >= floor,
        "{name}: {rate:.3} right, below {:.0} %",
        floor * 100.0
    );
}

#[test]
fn colloquial_places_resolve_to_the_right_units() {
    check("colloquial places", CASES, 0.95);
}

#[test]
fn a_second_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written apart from the data; its first run scored 310/437 (70.9 %). The data was then
    // extended against its misses, so it now guards that work rather than estimating.
    check(
        "colloquial places, second hand",
        include_str!("colloquial_places_second.tsv"),
        0.95,
    );
}

#[test]
fn a_third_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Its first run, on the data before it was seen, scored 84.0 %. Fixes since bring it
    // to 94 %; this guards them, below the 95 % goal.
    check(
        "colloquial places, third hand",
        include_str!("colloquial_places_third.tsv"),
        0.92,
    );
}

#[test]
fn a_fourth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Mostly ordinary places; its first run scored 202/250 (80.8 %). Fixes since bring it
    // to 91 %; this guards them, below the goal.
    check(
        "colloquial places, fourth hand",
        include_str!("colloquial_places_fourth.tsv"),
        0.88,
    );
}

#[test]
fn a_fifth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written while the fourth set's fixes were in; its first run scored 218/250 (87.2 %).
    // This guards what the resolver has since.
    check(
        "colloquial places, fifth hand",
        include_str!("colloquial_places_fifth.tsv"),
        0.93,
    );
}

#[test]
fn a_sixth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written after 1,060 more places; its first run scored 210/250 (84.0 %). This guards
    // what the resolver has since.
    check(
        "colloquial places, sixth hand",
        include_str!("colloquial_places_sixth.tsv"),
        0.85,
    );
}

#[test]
fn a_seventh_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written after the cross-checked data; its first run scored 219/250 (87.6 %). This
    // guards what the resolver has since.
    check(
        "colloquial places, seventh hand",
        include_str!("colloquial_places_seventh.tsv"),
        0.87,
    );
}

#[test]
fn an_eighth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written after the seventh set's fixes; its first run scored 227/250 (90.8 %). This
    // guards what the resolver has since.
    check(
        "colloquial places, eighth hand",
        include_str!("colloquial_places_eighth.tsv"),
        0.91,
    );
}

#[test]
fn a_ninth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Its first run (214/250, 85.6 %) was an estimate for an outside set. This guards what
    // the resolver has since.
    check(
        "colloquial places, ninth hand",
        include_str!("colloquial_places_ninth.tsv"),
        0.85,
    );
}

#[test]
fn a_tenth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Its first run (231/250, 92.4 %, on 49e40e6) was an estimate for an outside set. The
    // data and two rules were then fitted to its misses.
    check(
        "colloquial places, tenth hand",
        include_str!("colloquial_places_tenth.tsv"),
        0.94,
    );
}

#[test]
fn an_eleventh_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Its first run (229/250, 91.6 %, on 1363d52) was an estimate for an outside set.
    check(
        "colloquial places, eleventh hand",
        include_str!("colloquial_places_eleventh.tsv"),
        0.91,
    );
}

#[test]
fn a_twelfth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Its first run (226/250, 90.4 %, on 860e9bd) was an estimate for an outside set.
    check(
        "colloquial places, twelfth hand",
        include_str!("colloquial_places_twelfth.tsv"),
        0.90,
    );
}

#[test]
fn a_thirteenth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Its first run (210/250, 84.0 %, on 23b8908) was an estimate for an outside set.
    check(
        "colloquial places, thirteenth hand",
        include_str!("colloquial_places_thirteenth.tsv"),
        0.84,
    );
}

#[test]
fn a_fourteenth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Outer townships and villages first. Written in session 38 with the fifteenth and
    // sixteenth; its first run (236/250, 94.4 %, on b870e4c) was an estimate for an outside set.
    check(
        "colloquial places, fourteenth hand",
        include_str!("colloquial_places_fourteenth.tsv"),
        0.95,
    );
}

#[test]
fn a_fifteenth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Estates, compounds (家属院, 宿舍) and their markets first. Written in session 38 with
    // the fourteenth and sixteenth; its first run (219/250, 87.6 %, on b870e4c) was an
    // estimate for an outside set.
    check(
        "colloquial places, fifteenth hand",
        include_str!("colloquial_places_fifteenth.tsv"),
        0.91,
    );
}

#[test]
fn a_sixteenth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Schools, clinics, neighbourhood parks, bus terminals and markets first. Written in
    // session 38 with the fourteenth and fifteenth; its first run (220/250, 88.0 %, on
    // b870e4c) was an estimate for an outside set.
    check(
        "colloquial places, sixteenth hand",
        include_str!("colloquial_places_sixteenth.tsv"),
        0.90,
    );
}

#[test]
fn a_seventeenth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // A driver's and cyclist's places first: crossings, bridges, roundabouts, exits. Written
    // in session 38 with the eighteenth and nineteenth; its first run (218/250, 87.2 %, on
    // 338ce5f) was an estimate for an outside set.
    check(
        "colloquial places, seventeenth hand",
        include_str!("colloquial_places_seventeenth.tsv"),
        0.90,
    );
}

#[test]
fn a_eighteenth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Places of work and business first. Written in session 38 with the seventeenth and
    // nineteenth; its first run (226/250, 90.4 %, on 338ce5f) was an estimate for an outside set.
    check(
        "colloquial places, eighteenth hand",
        include_str!("colloquial_places_eighteenth.tsv"),
        0.91,
    );
}

#[test]
fn a_nineteenth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // As an elderly resident says them: old names, factory compounds, villages and their
    // resettlement estates. Written in session 38 with the seventeenth and eighteenth; its
    // first run (213/250, 85.2 %, on 338ce5f) was an estimate for an outside set.
    check(
        "colloquial places, nineteenth hand",
        include_str!("colloquial_places_nineteenth.tsv"),
        0.86,
    );
}

#[test]
fn a_twentieth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // An even mix, as a supervisor would sample a month's calls. Written in
    // session 38 after the 458 blind-checked places; its first run (231/250, 92.4 %, on 2828575) was
    // an estimate for an outside set.
    check(
        "colloquial places, twentieth hand",
        include_str!("colloquial_places_twentieth.tsv"),
        0.92,
    );
}

#[test]
fn a_twenty_first_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Development zones, science parks, campuses, big parks and numbered roads first. Written in
    // session 38 after the 458 blind-checked places; its first run (232/250, 92.8 %, on 2828575) was
    // an estimate for an outside set.
    check(
        "colloquial places, twenty-first hand",
        include_str!("colloquial_places_twentyfirst.tsv"),
        0.92,
    );
}

#[test]
fn a_twenty_second_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Nicknames, abbreviations and full names, as callers of all ages say them. Written in
    // session 38 after the 458 blind-checked places; its first run (224/250, 89.6 %, on 2828575) was
    // an estimate for an outside set.
    check(
        "colloquial places, twenty-second hand",
        include_str!("colloquial_places_twentysecond.tsv"),
        0.89,
    );
}

#[test]
fn a_twenty_third_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Older callers and long-time residents: hospitals, schools, factory dormitories, hutongs and
    // old names. Written in session 39; its first run (226/250, 90.4 %, on 6e67e54) was an
    // estimate for an outside set.
    check(
        "colloquial places, twenty-third hand",
        include_str!("colloquial_places_twentythird.tsv"),
        0.90,
    );
}

#[test]
fn a_twenty_fourth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Drivers, cyclists and commuters: roads, crossings, bridges, station exits and bus
    // terminals. Written in session 39; its first run (220/250, 88.0 %, on 6e67e54) was an
    // estimate for an outside set.
    check(
        "colloquial places, twenty-fourth hand",
        include_str!("colloquial_places_twentyfourth.tsv"),
        0.88,
    );
}

#[test]
fn a_twenty_fifth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Young renters, parents and small businesses: new estates, office parks, malls, schools and
    // outer villages. Written in session 39; its first run (237/250, 94.8 %, on 6e67e54) was an
    // estimate for an outside set.
    check(
        "colloquial places, twenty-fifth hand",
        include_str!("colloquial_places_twentyfifth.tsv"),
        0.95,
    );
}

#[test]
fn a_twenty_sixth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // An even mix, as a day of calls would bring it. Written in session 39 after its place work;
    // its first run (235/250, 94.0 %, on 4f0d2de) was an estimate for an outside set.
    check(
        "colloquial places, twenty-sixth hand",
        include_str!("colloquial_places_twentysixth.tsv"),
        0.93,
    );
}

#[test]
fn a_twenty_seventh_hand_s_colloquial_places_resolve_to_the_right_units() {
    // The caller's own estate: gates, shops, property companies, heating and water. Written in
    // session 39 after its place work; its first run (240/250, 96.0 %, on 4f0d2de) was an
    // estimate for an outside set.
    check(
        "colloquial places, twenty-seventh hand",
        include_str!("colloquial_places_twentyseventh.tsv"),
        0.96,
    );
}

#[test]
fn a_twenty_eighth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Places of public life: hospitals, schools, service halls, parks, venues, sights and
    // markets. Written in session 39 after its place work; its first run (232/250, 92.8 %, on
    // 4f0d2de) was an estimate for an outside set.
    check(
        "colloquial places, twenty-eighth hand",
        include_str!("colloquial_places_twentyeighth.tsv"),
        0.92,
    );
}

#[test]
fn a_twenty_ninth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // A busy evening: noise, parking, roads and lights near stations, night markets and estates.
    // Written in session 39 at its end and not fitted; its first run (230/250, 92.0 %, on
    // f49c947) is an estimate for an outside set.
    check(
        "colloquial places, twenty-ninth hand",
        include_str!("colloquial_places_twentyninth.tsv"),
        0.91,
    );
}

#[test]
fn a_thirtieth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Rural and suburban callers: villages, town centres, fairs, orchards, rivers and
    // resettlement estates. Written in session 39 at its end and not fitted; its first run
    // (225/250, 90.0 %, on f49c947) is an estimate for an outside set.
    check(
        "colloquial places, thirtieth hand",
        include_str!("colloquial_places_thirtieth.tsv"),
        0.89,
    );
}

#[test]
fn a_thirty_first_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Web and app messages of office workers and students: campuses, office parks, malls,
    // commutes. Written in session 39 at its end and not fitted; its first run (223/250, 89.2 %,
    // on f49c947) is an estimate for an outside set.
    check(
        "colloquial places, thirty-first hand",
        include_str!("colloquial_places_thirtyfirst.tsv"),
        0.88,
    );
}

#[test]
fn a_thirty_second_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Environment and sanitation: garbage stations, toilets, rivers, green belts, dust, vendors.
    // Written at session 40's start; its first run (236/250, 94.4 %, on c75fcc9) was an
    // estimate for an outside set.
    check(
        "colloquial places, thirty-second hand",
        include_str!("colloquial_places_thirtysecond.tsv"),
        0.94,
    );
}

#[test]
fn a_thirty_third_hand_s_colloquial_places_resolve_to_the_right_units() {
    // The enterprise line: companies, shops and factories in parks, zones, business districts
    // and markets. Written at session 40's start; its first run (235/250, 94.0 %, on 3cec5b4)
    // was an estimate for an outside set.
    check(
        "colloquial places, thirty-third hand",
        include_str!("colloquial_places_thirtythird.tsv"),
        0.94,
    );
}

#[test]
fn a_thirty_fourth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Visitors, new arrivals and couriers: stations, airports, hotels, sights, hospitals,
    // wholesale markets and logistics parks. Written at session 40's start; its first run
    // (224/250, 89.6 %, on 3cec5b4) was an estimate for an outside set.
    check(
        "colloquial places, thirty-fourth hand",
        include_str!("colloquial_places_thirtyfourth.tsv"),
        0.89,
    );
}

#[test]
fn a_thirty_fifth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Parents, pupils and the elderly: schools, kindergartens, health stations, canteens,
    // squares and markets. Written at session 40's end and not fitted; its first run (233/250,
    // 93.2 %, on 9cbbbb4) is an estimate for an outside set.
    check(
        "colloquial places, thirty-fifth hand",
        include_str!("colloquial_places_thirtyfifth.tsv"),
        0.93,
    );
}

#[test]
fn a_thirty_sixth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Housing and property: heating, leaks, fees, resettlement, group renting, in estates,
    // dormitories, bungalow areas and villages. Written at session 40's end and not fitted; its
    // first run (228/250, 91.2 %, on 9cbbbb4) is an estimate for an outside set.
    check(
        "colloquial places, thirty-sixth hand",
        include_str!("colloquial_places_thirtysixth.tsv"),
        0.91,
    );
}

#[test]
fn a_thirty_seventh_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Weekends: trails, scenic areas, reservoirs, farm stays, ski resorts, ancient villages,
    // parks and night markets. Written at session 40's end and not fitted; its first run
    // (218/250, 87.2 %, on 9cbbbb4) is an estimate for an outside set.
    check(
        "colloquial places, thirty-seventh hand",
        include_str!("colloquial_places_thirtyseventh.tsv"),
        0.87,
    );
}

#[test]
fn a_thirty_eighth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only; its first run, on session 40's
    // last commit ebb972e, scored 237/250 (94.8 %).
    check(
        "colloquial places, thirty-eighth hand",
        include_str!("colloquial_places_thirtyeighth.tsv"),
        0.94,
    );
}

#[test]
fn a_thirty_ninth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only; its first run, on session 40's
    // last commit ebb972e, scored 241/250 (96.4 %).
    check(
        "colloquial places, thirty-ninth hand",
        include_str!("colloquial_places_thirtyninth.tsv"),
        0.96,
    );
}

#[test]
fn a_fortieth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only; its first run, on session 40's
    // last commit ebb972e, scored 223/250 (89.2 %).
    check(
        "colloquial places, fortieth hand",
        include_str!("colloquial_places_fortieth.tsv"),
        0.89,
    );
}

#[test]
fn a_forty_first_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only; its first run, on 1cccf69 after
    // session 41's rules and data, scored 228/250 (91.2 %).
    check(
        "colloquial places, forty-first hand",
        include_str!("colloquial_places_fortyfirst.tsv"),
        0.91,
    );
}

#[test]
fn a_forty_second_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only; its first run, on 1cccf69 after
    // session 41's rules and data, scored 237/250 (94.8 %).
    check(
        "colloquial places, forty-second hand",
        include_str!("colloquial_places_fortysecond.tsv"),
        0.94,
    );
}

#[test]
fn a_forty_third_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only; its first run, on 1cccf69 after
    // session 41's rules and data, scored 239/250 (95.6 %).
    check(
        "colloquial places, forty-third hand",
        include_str!("colloquial_places_fortythird.tsv"),
        0.95,
    );
}

#[test]
fn a_forty_fourth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only; its first run, on 4d3f849, session
    // 41's last resolver, scored 244/250 (97.6 %).
    check(
        "colloquial places, forty-fourth hand",
        include_str!("colloquial_places_fortyfourth.tsv"),
        0.97,
    );
}

#[test]
fn a_forty_fifth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only; its first run, on 4d3f849, session
    // 41's last resolver, scored 238/250 (95.2 %).
    check(
        "colloquial places, forty-fifth hand",
        include_str!("colloquial_places_fortyfifth.tsv"),
        0.95,
    );
}

#[test]
fn a_forty_sixth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only; its first run, on 4d3f849, session
    // 41's last resolver, scored 225/250 (90.0 %).
    check(
        "colloquial places, forty-sixth hand",
        include_str!("colloquial_places_fortysixth.tsv"),
        0.90,
    );
}

#[test]
fn a_forty_seventh_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only; its first run, on 3e16306, session
    // 41's last commit, scored 229/250 (91.6 %).
    check(
        "colloquial places, forty-seventh hand",
        include_str!("colloquial_places_fortyseventh.tsv"),
        0.91,
    );
}

#[test]
fn a_forty_eighth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only; its first run, on 3e16306, session
    // 41's last commit, scored 228/250 (91.2 %).
    check(
        "colloquial places, forty-eighth hand",
        include_str!("colloquial_places_fortyeighth.tsv"),
        0.91,
    );
}

#[test]
fn a_forty_ninth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only; its first run, on 3e16306, session
    // 41's last commit, scored 228/250 (91.2 %).
    check(
        "colloquial places, forty-ninth hand",
        include_str!("colloquial_places_fortyninth.tsv"),
        0.91,
    );
}

#[test]
fn a_fiftieth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only; its first run, on 867adbd, after
    // session 42's first rules and data, scored 236/250 (94.4 %).
    check(
        "colloquial places, fiftieth hand",
        include_str!("colloquial_places_fiftieth.tsv"),
        0.94,
    );
}

#[test]
fn a_fifty_first_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only; its first run, on 867adbd, after
    // session 42's first rules and data, scored 241/250 (96.4 %).
    check(
        "colloquial places, fifty-first hand",
        include_str!("colloquial_places_fiftyfirst.tsv"),
        0.96,
    );
}

#[test]
fn a_fifty_second_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only; its first run, on 867adbd, after
    // session 42's first rules and data, scored 239/250 (95.6 %).
    check(
        "colloquial places, fifty-second hand",
        include_str!("colloquial_places_fiftysecond.tsv"),
        0.95,
    );
}

#[test]
fn a_fifty_third_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only; its first run, on e5de034, after
    // session 42's rules and data so far, scored 239/250 (95.6 %).
    check(
        "colloquial places, fifty-third hand",
        include_str!("colloquial_places_fiftythird.tsv"),
        0.95,
    );
}

#[test]
fn a_fifty_fourth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only; its first run, on e5de034, after
    // session 42's rules and data so far, scored 235/250 (94.0 %).
    check(
        "colloquial places, fifty-fourth hand",
        include_str!("colloquial_places_fiftyfourth.tsv"),
        0.94,
    );
}

#[test]
fn a_fifty_fifth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only; its first run, on e5de034, after
    // session 42's rules and data so far, scored 223/250 (89.2 %).
    check(
        "colloquial places, fifty-fifth hand",
        include_str!("colloquial_places_fiftyfifth.tsv"),
        0.89,
    );
}

#[test]
fn a_fifty_sixth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only; its first run, on a6cf433, after
    // session 42's rules, data and review fixes, scored 241/250 (96.4 %).
    check(
        "colloquial places, fifty-sixth hand",
        include_str!("colloquial_places_fiftysixth.tsv"),
        0.96,
    );
}

#[test]
fn a_fifty_seventh_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only; its first run, on a6cf433, after
    // session 42's rules, data and review fixes, scored 230/250 (92.0 %).
    check(
        "colloquial places, fifty-seventh hand",
        include_str!("colloquial_places_fiftyseventh.tsv"),
        0.92,
    );
}

#[test]
fn a_fifty_eighth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only; its first run, on a6cf433, after
    // session 42's rules, data and review fixes, scored 228/250 (91.2 %).
    check(
        "colloquial places, fifty-eighth hand",
        include_str!("colloquial_places_fiftyeighth.tsv"),
        0.91,
    );
}

#[test]
fn a_fifty_ninth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only; its first run, on dcfc43a, near
    // session 42's end, scored 235/250 (94.0 %).
    check(
        "colloquial places, fifty-ninth hand",
        include_str!("colloquial_places_fiftyninth.tsv"),
        0.94,
    );
}

#[test]
fn a_sixtieth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only; its first run, on dcfc43a, near
    // session 42's end, scored 230/250 (92.0 %).
    check(
        "colloquial places, sixtieth hand",
        include_str!("colloquial_places_sixtieth.tsv"),
        0.92,
    );
}

#[test]
fn a_sixty_first_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only; its first run, on dcfc43a, near
    // session 42's end, scored 237/250 (94.8 %).
    check(
        "colloquial places, sixty-first hand",
        include_str!("colloquial_places_sixtyfirst.tsv"),
        0.94,
    );
}

#[test]
fn a_sixty_second_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only; its first run, on 0f49402, session
    // 42's end, scored 249/250 (99.6 %).
    check(
        "colloquial places, sixty-second hand",
        include_str!("colloquial_places_sixtysecond.tsv"),
        0.99,
    );
}

#[test]
fn a_sixty_third_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only; its first run, on 0f49402, session
    // 42's end, scored 241/250 (96.4 %).
    check(
        "colloquial places, sixty-third hand",
        include_str!("colloquial_places_sixtythird.tsv"),
        0.96,
    );
}

#[test]
fn a_sixty_fourth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only; its first run, on 0f49402, session
    // 42's end, scored 240/250 (96.0 %).
    check(
        "colloquial places, sixty-fourth hand",
        include_str!("colloquial_places_sixtyfourth.tsv"),
        0.96,
    );
}

#[test]
fn a_sixty_fifth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only; its first run, on 0f49402, session
    // 42's end, scored 238/250 (95.2 %).
    check(
        "colloquial places, sixty-fifth hand",
        include_str!("colloquial_places_sixtyfifth.tsv"),
        0.95,
    );
}

#[test]
fn a_sixty_sixth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only; its first run, on 0f49402, session
    // 42's end, scored 246/250 (98.4 %).
    check(
        "colloquial places, sixty-sixth hand",
        include_str!("colloquial_places_sixtysixth.tsv"),
        0.98,
    );
}

#[test]
fn a_sixty_seventh_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only; its first run, on 0f49402, session
    // 42's end, scored 248/250 (99.2 %). Session 45 made 琉璃厂 ambiguous between 椿树 (西街)
    // and 大栅栏 (东街), as 20 of the 32 lines naming it in all sets want; this writer put it in
    // 椿树, so the floor is one line lower (247).
    check(
        "colloquial places, sixty-seventh hand",
        include_str!("colloquial_places_sixtyseventh.tsv"),
        0.988,
    );
}

#[test]
fn a_sixty_eighth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only; its first run, on 29b04cc, mid-session
    // 43, scored 243/250 (97.2 %).
    check(
        "colloquial places, sixty-eighth hand",
        include_str!("colloquial_places_sixtyeighth.tsv"),
        0.97,
    );
}

#[test]
fn a_sixty_ninth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only; its first run, on 29b04cc, mid-session
    // 43, scored 228/250 (91.2 %).
    check(
        "colloquial places, sixty-ninth hand",
        include_str!("colloquial_places_sixtyninth.tsv"),
        0.91,
    );
}

#[test]
fn a_seventieth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only; its first run, on 29b04cc, mid-session
    // 43, scored 245/250 (98.0 %).
    check(
        "colloquial places, seventieth hand",
        include_str!("colloquial_places_seventieth.tsv"),
        0.98,
    );
}

#[test]
fn a_seventy_first_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only; its first run, on 58e8ac5, mid-session
    // 43, scored 242/250 (96.8 %).
    check(
        "colloquial places, seventy-first hand",
        include_str!("colloquial_places_seventyfirst.tsv"),
        0.96,
    );
}

#[test]
fn a_seventy_second_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only; its first run, on 58e8ac5, mid-session
    // 43, scored 250/250 (100 %).
    check(
        "colloquial places, seventy-second hand",
        include_str!("colloquial_places_seventysecond.tsv"),
        1.0,
    );
}

#[test]
fn a_seventy_third_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only; its first run, on 58e8ac5, mid-session
    // 43, scored 249/250 (99.6 %).
    check(
        "colloquial places, seventy-third hand",
        include_str!("colloquial_places_seventythird.tsv"),
        0.99,
    );
}

#[test]
fn a_seventy_fourth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only, naming few communities as units.csv
    // writes them; its first run, on dadf4db, after session 43's review fixes, scored
    // 232/250 (92.8 %).
    check(
        "colloquial places, seventy-fourth hand",
        include_str!("colloquial_places_seventyfourth.tsv"),
        0.92,
    );
}

#[test]
fn a_seventy_fifth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only, naming few communities as units.csv
    // writes them; its first run, on dadf4db, after session 43's review fixes, scored
    // 239/250 (95.6 %).
    check(
        "colloquial places, seventy-fifth hand",
        include_str!("colloquial_places_seventyfifth.tsv"),
        0.95,
    );
}

#[test]
fn a_seventy_sixth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only, naming few communities as units.csv
    // writes them; its first run, on dadf4db, after session 43's review fixes, scored
    // 235/250 (94.0 %).
    check(
        "colloquial places, seventy-sixth hand",
        include_str!("colloquial_places_seventysixth.tsv"),
        0.94,
    );
}

#[test]
fn a_seventy_seventh_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only, naming few communities as units.csv
    // writes them; its first run, on 17eccf1, after session 43's second review's fixes,
    // scored 241/250 (96.4 %).
    check(
        "colloquial places, seventy-seventh hand",
        include_str!("colloquial_places_seventyseventh.tsv"),
        0.96,
    );
}

#[test]
fn a_seventy_eighth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only, naming few communities as units.csv
    // writes them; its first run, on 17eccf1, after session 43's second review's fixes,
    // scored 241/250 (96.4 %).
    check(
        "colloquial places, seventy-eighth hand",
        include_str!("colloquial_places_seventyeighth.tsv"),
        0.96,
    );
}

#[test]
fn a_seventy_ninth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only, naming few communities as units.csv
    // writes them; its first run, on 17eccf1, after session 43's second review's fixes,
    // scored 241/250 (96.4 %).
    check(
        "colloquial places, seventy-ninth hand",
        include_str!("colloquial_places_seventyninth.tsv"),
        0.96,
    );
}

#[test]
fn an_eightieth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only, naming few communities as units.csv
    // writes them; its first run, on d382e2a, session 43's last resolver, scored
    // 240/250 (96.0 %).
    check(
        "colloquial places, eightieth hand",
        include_str!("colloquial_places_eightieth.tsv"),
        0.96,
    );
}

#[test]
fn an_eighty_first_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only, naming few communities as units.csv
    // writes them; its first run, on d382e2a, session 43's last resolver, scored
    // 238/250 (95.2 %).
    check(
        "colloquial places, eighty-first hand",
        include_str!("colloquial_places_eightyfirst.tsv"),
        0.95,
    );
}

#[test]
fn an_eighty_second_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only, naming few communities as units.csv
    // writes them; its first run, on d382e2a, session 43's last resolver, scored
    // 238/250 (95.2 %).
    check(
        "colloquial places, eighty-second hand",
        include_str!("colloquial_places_eightysecond.tsv"),
        0.95,
    );
}

#[test]
fn an_eighty_third_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only, naming few communities as units.csv
    // writes them; its first run, on f46e4fb (session 43's resolver, refactored), scored
    // 237/250 (94.8 %).
    check(
        "colloquial places, eighty-third hand",
        include_str!("colloquial_places_eightythird.tsv"),
        0.948,
    );
}

#[test]
fn an_eighty_fourth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only, naming few communities as units.csv
    // writes them; its first run, on f46e4fb (session 43's resolver, refactored), scored
    // 222/250 (88.8 %).
    check(
        "colloquial places, eighty-fourth hand",
        include_str!("colloquial_places_eightyfourth.tsv"),
        0.888,
    );
}

#[test]
fn an_eighty_fifth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only, naming few communities as units.csv
    // writes them; its first run, on f46e4fb (session 43's resolver, refactored), scored
    // 222/250 (88.8 %). Its writer also read units.csv's communities to check streets and
    // then hedged nine lines to two streets.
    check(
        "colloquial places, eighty-fifth hand",
        include_str!("colloquial_places_eightyfifth.tsv"),
        0.888,
    );
}

#[test]
fn an_eighty_sixth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only, naming few communities as units.csv
    // writes them; its first run, on 8b59c43 (after the town-context rule), scored
    // 233/250 (93.2 %).
    check(
        "colloquial places, eighty-sixth hand",
        include_str!("colloquial_places_eightysixth.tsv"),
        0.932,
    );
}

#[test]
fn an_eighty_seventh_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only, naming few communities as units.csv
    // writes them; its first run, on 8b59c43 (after the town-context rule), scored
    // 231/250 (92.4 %).
    check(
        "colloquial places, eighty-seventh hand",
        include_str!("colloquial_places_eightyseventh.tsv"),
        0.924,
    );
}

#[test]
fn an_eighty_eighth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only, naming few communities as units.csv
    // writes them; its first run, on 8b59c43 (after the town-context rule), scored
    // 217/250 (86.8 %).
    check(
        "colloquial places, eighty-eighth hand",
        include_str!("colloquial_places_eightyeighth.tsv"),
        0.868,
    );
}

#[test]
fn an_eighty_ninth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only, naming few communities as units.csv
    // writes them; its first run, on e801604 (after session 44's second rules), scored
    // 240/250 (96.0 %).
    check(
        "colloquial places, eighty-ninth hand",
        include_str!("colloquial_places_eightyninth.tsv"),
        0.96,
    );
}

#[test]
fn a_ninetieth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only, naming few communities as units.csv
    // writes them; its first run, on e801604 (after session 44's second rules), scored
    // 238/250 (95.2 %).
    check(
        "colloquial places, ninetieth hand",
        include_str!("colloquial_places_ninetieth.tsv"),
        0.952,
    );
}

#[test]
fn a_ninety_first_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only, naming few communities as units.csv
    // writes them; its first run, on e801604 (after session 44's second rules), scored
    // 229/250 (91.6 %).
    check(
        "colloquial places, ninety-first hand",
        include_str!("colloquial_places_ninetyfirst.tsv"),
        0.916,
    );
}

#[test]
fn a_ninety_second_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only, naming few communities as units.csv
    // writes them; its first run, on 59a0fd0 (after session 44's review fixes and rows),
    // scored 228/250 (91.2 %).
    check(
        "colloquial places, ninety-second hand",
        include_str!("colloquial_places_ninetysecond.tsv"),
        0.912,
    );
}

#[test]
fn a_ninety_third_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only, naming few communities as units.csv
    // writes them; its first run, on 59a0fd0 (after session 44's review fixes and rows),
    // scored 236/250 (94.4 %).
    check(
        "colloquial places, ninety-third hand",
        include_str!("colloquial_places_ninetythird.tsv"),
        0.944,
    );
}

#[test]
fn a_ninety_fourth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only, naming few communities as units.csv
    // writes them; its first run, on 59a0fd0 (after session 44's review fixes and rows),
    // scored 229/250 (91.6 %).
    check(
        "colloquial places, ninety-fourth hand",
        include_str!("colloquial_places_ninetyfourth.tsv"),
        0.916,
    );
}

#[test]
fn a_ninety_fifth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only, naming few communities as units.csv
    // writes them; its first run, on 8291f4e (session 44's road-support and route rules),
    // scored 221/250 (88.4 %).
    check(
        "colloquial places, ninety-fifth hand",
        include_str!("colloquial_places_ninetyfifth.tsv"),
        0.884,
    );
}

#[test]
fn a_ninety_sixth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only, naming few communities as units.csv
    // writes them; its first run, on 8291f4e (session 44's road-support and route rules),
    // scored 233/250 (93.2 %).
    check(
        "colloquial places, ninety-sixth hand",
        include_str!("colloquial_places_ninetysixth.tsv"),
        0.932,
    );
}

#[test]
fn a_ninety_seventh_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only, naming few communities as units.csv
    // writes them; its first run, on 8291f4e (session 44's road-support and route rules),
    // scored 214/250 (85.6 %).
    check(
        "colloquial places, ninety-seventh hand",
        include_str!("colloquial_places_ninetyseventh.tsv"),
        0.856,
    );
}

#[test]
fn a_ninety_eighth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only, naming few communities as units.csv
    // writes them; its first run, on f3cf7dc (session 44's resolver after its second review),
    // scored 227/250 (90.8 %).
    check(
        "colloquial places, ninety-eighth hand",
        include_str!("colloquial_places_ninetyeighth.tsv"),
        0.908,
    );
}

#[test]
fn a_ninety_ninth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only, naming few communities as units.csv
    // writes them; its first run, on f3cf7dc (session 44's resolver after its second review),
    // scored 239/250 (95.6 %).
    check(
        "colloquial places, ninety-ninth hand",
        include_str!("colloquial_places_ninetyninth.tsv"),
        0.956,
    );
}

#[test]
fn a_hundredth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only, naming few communities as units.csv
    // writes them; its first run, on f3cf7dc (session 44's resolver after its second review),
    // scored 208/250 (83.2 %).
    check(
        "colloquial places, hundredth hand",
        include_str!("colloquial_places_hundredth.tsv"),
        0.832,
    );
}

#[test]
fn a_hundred_first_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only, naming few communities as units.csv
    // writes them; its first run, on f5f2957 (session 44's last commit), scored 241/250
    // (96.4 %).
    check(
        "colloquial places, hundred-first hand",
        include_str!("colloquial_places_hundredfirst.tsv"),
        0.964,
    );
}

#[test]
fn a_hundred_second_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only, naming few communities as units.csv
    // writes them; its first run, on f5f2957 (session 44's last commit), scored 241/250
    // (96.4 %).
    check(
        "colloquial places, hundred-second hand",
        include_str!("colloquial_places_hundredsecond.tsv"),
        0.964,
    );
}

#[test]
fn a_hundred_third_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only, naming few communities as units.csv
    // writes them; its first run, on f5f2957 (session 44's last commit), scored 234/250
    // (93.6 %).
    check(
        "colloquial places, hundred-third hand",
        include_str!("colloquial_places_hundredthird.tsv"),
        0.936,
    );
}

#[test]
fn a_hundred_fourth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only, naming few communities as units.csv
    // writes them; its first run, on f5f2957 (session 44's last commit), scored 246/250
    // (98.4 %).
    check(
        "colloquial places, hundred-fourth hand",
        include_str!("colloquial_places_hundredfourth.tsv"),
        0.984,
    );
}

#[test]
fn a_hundred_fifth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only, naming few communities as units.csv
    // writes them; its first run, on f5f2957 (session 44's last commit), scored 242/250
    // (96.8 %).
    check(
        "colloquial places, hundred-fifth hand",
        include_str!("colloquial_places_hundredfifth.tsv"),
        0.968,
    );
}

#[test]
fn a_hundred_sixth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only, naming few communities as units.csv
    // writes them; its first run, on f5f2957 (session 44's last commit), scored 237/250
    // (94.8 %).
    check(
        "colloquial places, hundred-sixth hand",
        include_str!("colloquial_places_hundredsixth.tsv"),
        0.948,
    );
}

#[test]
fn a_hundred_seventh_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only, naming few communities as units.csv
    // writes them; its first run, on 61329b2 (session 45, after its consensus rows and 139
    // compiled places), scored 208/250 (83.2 %).
    check(
        "colloquial places, hundred-seventh hand",
        include_str!("colloquial_places_hundredseventh.tsv"),
        0.832,
    );
}

#[test]
fn a_hundred_eighth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only, naming few communities as units.csv
    // writes them; its first run, on 61329b2 (session 45, after its consensus rows and 139
    // compiled places), scored 232/250 (92.8 %).
    check(
        "colloquial places, hundred-eighth hand",
        include_str!("colloquial_places_hundredeighth.tsv"),
        0.928,
    );
}

#[test]
fn a_hundred_ninth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only, naming few communities as units.csv
    // writes them; its first run, on 61329b2 (session 45, after its consensus rows and 139
    // compiled places), scored 224/250 (89.6 %).
    check(
        "colloquial places, hundred-ninth hand",
        include_str!("colloquial_places_hundredninth.tsv"),
        0.896,
    );
}

#[test]
fn a_hundred_tenth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only, naming few communities as units.csv
    // writes them; its first run, on 0045a4d (session 45, after its town rules), scored
    // 235/250 (94.0 %).
    check(
        "colloquial places, hundred-tenth hand",
        include_str!("colloquial_places_hundredtenth.tsv"),
        0.94,
    );
}

#[test]
fn a_hundred_eleventh_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only, naming few communities as units.csv
    // writes them; its first run, on 0045a4d (session 45, after its town rules), scored
    // 232/250 (92.8 %).
    check(
        "colloquial places, hundred-eleventh hand",
        include_str!("colloquial_places_hundredeleventh.tsv"),
        0.928,
    );
}

#[test]
fn a_hundred_twelfth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only, naming few communities as units.csv
    // writes them; its first run, on 0045a4d (session 45, after its town rules), scored
    // 241/250 (96.4 %).
    check(
        "colloquial places, hundred-twelfth hand",
        include_str!("colloquial_places_hundredtwelfth.tsv"),
        0.964,
    );
}

#[test]
fn a_hundred_thirteenth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only, naming few communities as units.csv
    // writes them; its first run, on f08fcc3 (session 45's last commit), scored
    // 241/250 (96.4 %).
    check(
        "colloquial places, hundred-thirteenth hand",
        include_str!("colloquial_places_hundredthirteenth.tsv"),
        0.964,
    );
}

#[test]
fn a_hundred_fourteenth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only, naming few communities as units.csv
    // writes them; its first run, on f08fcc3 (session 45's last commit), scored
    // 241/250 (96.4 %).
    check(
        "colloquial places, hundred-fourteenth hand",
        include_str!("colloquial_places_hundredfourteenth.tsv"),
        0.964,
    );
}

#[test]
fn a_hundred_fifteenth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only, naming few communities as units.csv
    // writes them; its first run, on f08fcc3 (session 45's last commit), scored
    // 237/250 (94.8 %).
    check(
        "colloquial places, hundred-fifteenth hand",
        include_str!("colloquial_places_hundredfifteenth.tsv"),
        0.948,
    );
}

#[test]
fn a_hundred_sixteenth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only, naming few communities as units.csv
    // writes them; its first run, on f08fcc3 (session 45's last commit), scored
    // 242/250 (96.8 %).
    check(
        "colloquial places, hundred-sixteenth hand",
        include_str!("colloquial_places_hundredsixteenth.tsv"),
        0.968,
    );
}

#[test]
fn a_hundred_seventeenth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only, naming few communities as units.csv
    // writes them; its first run, on f08fcc3 (session 45's last commit), scored
    // 241/250 (96.4 %).
    check(
        "colloquial places, hundred-seventeenth hand",
        include_str!("colloquial_places_hundredseventeenth.tsv"),
        0.964,
    );
}

#[test]
fn a_hundred_eighteenth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only, naming few communities as units.csv
    // writes them; its first run, on f08fcc3 (session 45's last commit), scored
    // 238/250 (95.2 %).
    check(
        "colloquial places, hundred-eighteenth hand",
        include_str!("colloquial_places_hundredeighteenth.tsv"),
        0.952,
    );
}

#[test]
fn a_hundred_nineteenth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only, naming few communities as units.csv
    // writes them; its first run, on 8a2e38f (session 46, after the 113th-118th sets' fixes),
    // scored 239/250 (95.6 %).
    check(
        "colloquial places, hundred-nineteenth hand",
        include_str!("colloquial_places_hundrednineteenth.tsv"),
        0.956,
    );
}

#[test]
fn a_hundred_twentieth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only, naming few communities as units.csv
    // writes them; its first run, on 8a2e38f (session 46, after the 113th-118th sets' fixes),
    // scored 247/250 (98.8 %).
    check(
        "colloquial places, hundred-twentieth hand",
        include_str!("colloquial_places_hundredtwentieth.tsv"),
        0.988,
    );
}

#[test]
fn a_hundred_twentyfirst_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only, naming few communities as units.csv
    // writes them; its first run, on 8a2e38f (session 46, after the 113th-118th sets' fixes),
    // scored 240/250 (96.0 %).
    check(
        "colloquial places, hundred-twentyfirst hand",
        include_str!("colloquial_places_hundredtwentyfirst.tsv"),
        0.96,
    );
}

#[test]
fn a_hundred_twentysecond_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only, naming few communities as units.csv
    // writes them; its first run, on 8a2e38f (session 46, after the 113th-118th sets' fixes),
    // scored 244/250 (97.6 %).
    check(
        "colloquial places, hundred-twentysecond hand",
        include_str!("colloquial_places_hundredtwentysecond.tsv"),
        0.976,
    );
}

#[test]
fn a_hundred_twentythird_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only, naming few communities as units.csv
    // writes them; its first run, on 8a2e38f (session 46, after the 113th-118th sets' fixes),
    // scored 237/250 (94.8 %).
    check(
        "colloquial places, hundred-twentythird hand",
        include_str!("colloquial_places_hundredtwentythird.tsv"),
        0.948,
    );
}

#[test]
fn a_hundred_twentyfourth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only, naming few communities as units.csv
    // writes them; its first run, on 8a2e38f (session 46, after the 113th-118th sets' fixes),
    // scored 244/250 (97.6 %).
    check(
        "colloquial places, hundred-twentyfourth hand",
        include_str!("colloquial_places_hundredtwentyfourth.tsv"),
        0.976,
    );
}

#[test]
fn a_hundred_twentyfifth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only, naming few communities as units.csv
    // writes them; its first run, on 204c0ad (session 46, after the 119th-124th sets' fixes),
    // scored 241/250 (96.4 %).
    check(
        "colloquial places, hundred-twentyfifth hand",
        include_str!("colloquial_places_hundredtwentyfifth.tsv"),
        0.964,
    );
}

#[test]
fn a_hundred_twentysixth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only, naming few communities as units.csv
    // writes them; its first run, on 204c0ad (session 46, after the 119th-124th sets' fixes),
    // scored 244/250 (97.6 %).
    check(
        "colloquial places, hundred-twentysixth hand",
        include_str!("colloquial_places_hundredtwentysixth.tsv"),
        0.976,
    );
}

#[test]
fn a_hundred_twentyseventh_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only, naming few communities as units.csv
    // writes them; its first run, on 204c0ad (session 46, after the 119th-124th sets' fixes),
    // scored 244/250 (97.6 %).
    check(
        "colloquial places, hundred-twentyseventh hand",
        include_str!("colloquial_places_hundredtwentyseventh.tsv"),
        0.976,
    );
}

#[test]
fn a_hundred_twentyeighth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only, naming few communities as units.csv
    // writes them; its first run, on 204c0ad (session 46, after the 119th-124th sets' fixes),
    // scored 244/250 (97.6 %).
    check(
        "colloquial places, hundred-twentyeighth hand",
        include_str!("colloquial_places_hundredtwentyeighth.tsv"),
        0.976,
    );
}

#[test]
fn a_hundred_twentyninth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only, naming few communities as units.csv
    // writes them; its first run, on 204c0ad (session 46, after the 119th-124th sets' fixes),
    // scored 243/250 (97.2 %).
    check(
        "colloquial places, hundred-twentyninth hand",
        include_str!("colloquial_places_hundredtwentyninth.tsv"),
        0.972,
    );
}

#[test]
fn a_hundred_thirtieth_hand_s_colloquial_places_resolve_to_the_right_units() {
    // Written on 2026-12-06 from public knowledge only, naming few communities as units.csv
    // writes them; its first run, on 204c0ad (session 46, after the 119th-124th sets' fixes),
    // scored 244/250 (97.6 %).
    check(
        "colloquial places, hundred-thirtieth hand",
        include_str!("colloquial_places_hundredthirtieth.tsv"),
        0.976,
    );
}
