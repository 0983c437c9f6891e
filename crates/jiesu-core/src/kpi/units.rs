//! The units a ranking covers ([`Level`]) and a month's tallies summed up the unit tree
//! ([`roll_up`]): a street answers for its communities, a district for its streets.

use super::{ParseError, Tally};
use std::collections::HashMap;

/// Which units a ranking covers.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Level {
    /// Streets, townships and zones (街乡镇).
    Subdistrict,
    /// Districts.
    District,
    /// Municipal departments.
    Department,
    /// Public-service companies.
    Company,
}

impl Level {
    /// Parses the API name.
    pub fn parse(s: &str) -> Result<Level, ParseError> {
        match s {
            "subdistrict" => Ok(Level::Subdistrict),
            "district" => Ok(Level::District),
            "department" => Ok(Level::Department),
            "company" => Ok(Level::Company),
            _ => Err(ParseError::Level),
        }
    }

    /// The API name.
    pub fn as_str(self) -> &'static str {
        match self {
            Level::Subdistrict => "subdistrict",
            Level::District => "district",
            Level::Department => "department",
            Level::Company => "company",
        }
    }

    /// Whether a unit of `unit_level` (as the unit table names levels) is ranked at this
    /// level.
    pub fn covers(self, unit_level: &str) -> bool {
        match self {
            Level::Subdistrict => matches!(unit_level, "subdistrict" | "township" | "zone"),
            other => unit_level == other.as_str(),
        }
    }

    /// The level a unit's trend is read at: district, department or company when it is one,
    /// else subdistrict.
    pub fn of_unit(unit_level: &str) -> Level {
        [Level::District, Level::Department, Level::Company]
            .into_iter()
            .find(|l| l.covers(unit_level))
            .unwrap_or(Level::Subdistrict)
    }
}

/// Each unit's own tallies summed onto itself and every unit above it. `paths` gives each
/// unit's path in the unit tree, the codes from the root down to the unit itself joined by
/// `/` (`/110105/110105026/`); a unit without a path counts for no one.
pub fn roll_up<'a>(
    own: &HashMap<String, Tally>,
    paths: impl IntoIterator<Item = (&'a str, &'a str)>,
) -> HashMap<String, Tally> {
    let path_of: HashMap<&str, &str> = paths.into_iter().collect();
    let mut sums: HashMap<String, Tally> = HashMap::new();
    for (code, t) in own {
        let Some(path) = path_of.get(code.as_str()) else {
            continue;
        };
        for ancestor in path.split('/').filter(|s| !s.is_empty()) {
            *sums.entry(ancestor.to_string()).or_default() += *t;
        }
    }
    sums
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn levels_parse_from_their_api_names_and_back() {
        for level in [
            Level::Subdistrict,
            Level::District,
            Level::Department,
            Level::Company,
        ] {
            assert_eq!(Level::parse(level.as_str()), Ok(level));
        }
        for raw in [
            "",
            "street",
            "Subdistrict",
            "township",
            "community",
            "center",
            " district",
        ] {
            let err = Level::parse(raw).expect_err(raw);
            assert_eq!(err, ParseError::Level, "{raw}");
            assert_eq!(err.field(), "level");
            assert_eq!(
                err.to_string(),
                "level must be subdistrict, district, department or company"
            );
        }
    }

    #[test]
    fn each_level_covers_its_kinds_of_unit() {
        // (unit level, covered by subdistrict / district / department / company, trend level)
        let cases = [
            (
                "subdistrict",
                [true, false, false, false],
                Level::Subdistrict,
            ),
            ("township", [true, false, false, false], Level::Subdistrict),
            ("zone", [true, false, false, false], Level::Subdistrict),
            ("district", [false, true, false, false], Level::District),
            ("department", [false, false, true, false], Level::Department),
            ("company", [false, false, false, true], Level::Company),
            ("community", [false; 4], Level::Subdistrict),
            ("village", [false; 4], Level::Subdistrict),
            ("center", [false; 4], Level::Subdistrict),
        ];
        let levels = [
            Level::Subdistrict,
            Level::District,
            Level::Department,
            Level::Company,
        ];
        for (unit_level, covered, trend) in cases {
            for (level, want) in levels.iter().zip(covered) {
                assert_eq!(level.covers(unit_level), want, "{level:?} {unit_level}");
            }
            assert_eq!(Level::of_unit(unit_level), trend, "{unit_level}");
        }
    }

    fn t(dispatched: u64, volume: u64) -> Tally {
        Tally {
            dispatched,
            volume,
            ..Tally::default()
        }
    }

    type Tallies = Vec<(&'static str, Tally)>;

    #[test]
    fn tallies_sum_up_the_tree_onto_every_ancestor() {
        let paths = [
            ("cy", "/cy/"),
            ("wj", "/cy/wj/"),
            ("hjd", "/cy/wj/hjd/"),
            ("wjxy", "/cy/wj/wjxy/"),
            ("ft", "/ft/"),
            ("yam", "/ft/yam/"),
            ("dept", "/dept/"),
        ];
        // (own tallies, expected sums; units absent from the sums have none)
        let cases: Vec<(Tallies, Tallies)> = vec![
            (vec![], vec![]),
            (
                vec![("hjd", t(2, 1))],
                vec![("hjd", t(2, 1)), ("wj", t(2, 1)), ("cy", t(2, 1))],
            ),
            (
                vec![("hjd", t(2, 1)), ("wjxy", t(3, 0)), ("wj", t(1, 4))],
                vec![
                    ("hjd", t(2, 1)),
                    ("wjxy", t(3, 0)),
                    ("wj", t(6, 5)),
                    ("cy", t(6, 5)),
                ],
            ),
            (
                vec![("yam", t(5, 5)), ("dept", t(7, 0)), ("cy", t(1, 1))],
                vec![
                    ("yam", t(5, 5)),
                    ("ft", t(5, 5)),
                    ("dept", t(7, 0)),
                    ("cy", t(1, 1)),
                ],
            ),
            // A unit not in the tree counts for no one.
            (
                vec![("gone", t(9, 9)), ("ft", t(1, 0))],
                vec![("ft", t(1, 0))],
            ),
        ];
        for (own, want) in cases {
            let own: HashMap<String, Tally> =
                own.into_iter().map(|(c, t)| (c.to_string(), t)).collect();
            let want: HashMap<String, Tally> =
                want.into_iter().map(|(c, t)| (c.to_string(), t)).collect();
            assert_eq!(roll_up(&own, paths), want, "{own:?}");
        }
    }

    #[test]
    fn every_count_of_a_tally_is_rolled_up() {
        let full = Tally {
            dispatched: 1,
            acknowledged_on_time: 2,
            called_back: 3,
            resolved: 4,
            satisfied: 5,
            basic: 6,
            volume: 7,
            co_called_back: 8,
            co_resolved: 9,
            co_satisfied: 10,
            co_basic: 11,
            resolution_exempt: 12,
            satisfaction_exempt: 13,
            co_resolution_exempt: 14,
            co_satisfaction_exempt: 15,
        };
        let own = HashMap::from([("a".to_string(), full), ("b".to_string(), full)]);
        let sums = roll_up(&own, [("a", "/p/a/"), ("b", "/p/b/")]);
        let mut twice = full;
        twice += full;
        assert_eq!(sums["p"], twice);
        assert_eq!(sums["a"], full);
    }
}
