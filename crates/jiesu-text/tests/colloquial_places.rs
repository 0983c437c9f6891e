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
}

fn want(field: &str) -> Want {
    match field {
        "-" => Want::Nothing,
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
        Want::Nothing => unreachable!("every line names its district"),
    }
    match street {
        Want::One(s) => (m.status != PlaceStatus::Resolved || code(&m.street) != Some(s.as_str()))
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

#[test]
fn colloquial_places_resolve_to_the_right_units() {
    let gazetteer = Gazetteer::from_units_csv(UNITS).expect("units.csv builds");
    let mut total = 0;
    let mut misses = Vec::new();
    for line in CASES.lines() {
        if line.trim().is_empty() || line.starts_with('#') {
            continue;
        }
        let fields: Vec<&str> = line.split('\t').collect();
        assert_eq!(fields.len(), 3, "bad test line: {line}");
        let (district, street) = (want(fields[1]), want(fields[2]));
        assert!(!matches!(district, Want::Nothing), "{line}");
        total += 1;
        let m = gazetteer.resolve(fields[0]);
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
    let hits = total - misses.len();
    let rate = hits as f64 / total as f64;
    println!(
        "colloquial places: {hits}/{total} right ({:.1} %)",
        rate * 100.0
    );
    for miss in &misses {
        println!("miss: {miss}");
    }
    assert!(total >= 200, "only {total} test places");
    assert!(
        rate >= 0.95,
        "{hits}/{total} colloquial places right, below 95 %"
    );
}
