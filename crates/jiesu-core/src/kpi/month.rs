//! The calendar month a ranking, a roll-up or a trend point covers (`YYYY-MM`).

use super::ParseError;
use chrono::{Datelike, Months, NaiveDate};

/// A calendar month, `YYYY-MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month(NaiveDate);

impl Month {
    /// Parses `YYYY-MM` (as chrono reads `%Y-%m`: `2026-1` and ` 2026-11` are taken too),
    /// with a year in [`crate::dates::FIRST_YEAR`]`..=`[`crate::dates::LAST_YEAR`]: months
    /// outside (`+262142-12`) are refused, so stepping from a parsed month cannot overflow.
    pub fn parse(s: &str) -> Result<Month, ParseError> {
        let d = NaiveDate::parse_from_str(&format!("{s}-01"), "%Y-%m-%d")
            .map_err(|_| ParseError::Month)?;
        if crate::dates::in_range(d) {
            Ok(Month(d))
        } else {
            Err(ParseError::MonthOutOfRange)
        }
    }

    /// The month before (the same month at the very start of the calendar: total).
    pub fn previous(self) -> Month {
        Month(self.0.checked_sub_months(Months::new(1)).unwrap_or(self.0))
    }

    /// The month after (the same month at the very end of the calendar: total).
    pub fn next(self) -> Month {
        Month(self.0.checked_add_months(Months::new(1)).unwrap_or(self.0))
    }

    /// Its first day.
    pub fn first_day(self) -> NaiveDate {
        self.0
    }

    /// `YYYY-MM`.
    pub fn label(self) -> String {
        format!("{:04}-{:02}", self.0.year(), self.0.month())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn months_parse_from_yyyy_mm_and_label_back() {
        let cases = [
            ("2026-11", "2026-11"),
            ("2026-01", "2026-01"),
            ("2026-1", "2026-01"),
            ("2000-01", "2000-01"),
            ("2100-12", "2100-12"),
            // chrono skips spaces before a number: lenient, as the service has always been.
            (" 2026-11", "2026-11"),
        ];
        for (raw, label) in cases {
            let m = Month::parse(raw).unwrap_or_else(|e| panic!("{raw}: {e}"));
            assert_eq!(m.label(), label, "{raw}");
            assert_eq!(m.first_day().format("%Y-%m").to_string(), label, "{raw}");
            assert_eq!(m.first_day().day(), 1, "{raw}");
        }
    }

    #[test]
    fn anything_but_a_month_is_refused_naming_the_month_field() {
        let cases = [
            "",
            "2026",
            "2026-13",
            "2026-00",
            "2026-11-01",
            "11-2026",
            "abcd-ef",
        ];
        for raw in cases {
            let err = Month::parse(raw).expect_err(raw);
            assert_eq!(err, ParseError::Month, "{raw}");
            assert_eq!(err.field(), "month");
            assert_eq!(err.to_string(), "month must be YYYY-MM");
        }
    }

    #[test]
    fn months_outside_the_years_input_may_name_are_refused_naming_the_month_field() {
        for raw in ["0999-12", "1999-12", "2101-01", "+262142-12", "-262143-01"] {
            let err = Month::parse(raw).expect_err(raw);
            assert_eq!(err, ParseError::MonthOutOfRange, "{raw}");
            assert_eq!(err.field(), "month");
        }
    }

    #[test]
    fn previous_and_next_step_one_month_across_years() {
        let cases = [
            ("2026-11", "2026-10", "2026-12"),
            ("2026-01", "2025-12", "2026-02"),
            ("2026-12", "2026-11", "2027-01"),
            ("2024-02", "2024-01", "2024-03"),
        ];
        for (m, before, after) in cases {
            let m = Month::parse(m).unwrap();
            assert_eq!(m.previous().label(), before);
            assert_eq!(m.next().label(), after);
            assert_eq!(m.next().previous(), m);
        }
    }

    #[test]
    fn months_order_by_time() {
        let (a, b) = (
            Month::parse("2025-12").unwrap(),
            Month::parse("2026-01").unwrap(),
        );
        assert!(a < b && a.next() == b && b.previous() == a);
    }

    proptest::proptest! {
        #[test]
        fn parsing_any_text_never_panics_and_a_parsed_month_steps_both_ways(s in "\\PC{0,12}") {
            if let Ok(m) = Month::parse(&s) {
                proptest::prop_assert!(crate::dates::in_range(m.first_day()));
                proptest::prop_assert_eq!(m.first_day().day(), 1);
                proptest::prop_assert_eq!(m.next().previous(), m);
                proptest::prop_assert_eq!(Month::parse(&m.label()), Ok(m));
            }
        }

        #[test]
        fn every_year_and_month_number_is_a_month_in_range_or_refused(
            y in -300_000i32..300_000, mo in 0u32..14
        ) {
            let raw = format!("{y:04}-{mo:02}");
            let bounded = (crate::dates::FIRST_YEAR..=crate::dates::LAST_YEAR).contains(&y);
            match Month::parse(&raw) {
                Ok(m) => {
                    proptest::prop_assert!(bounded && (1..=12).contains(&mo));
                    proptest::prop_assert_eq!(m.label(), raw);
                    // stepping never leaves chrono's range (it used to panic at the ends)
                    let _ = m.previous().previous().next().next();
                }
                Err(ParseError::MonthOutOfRange) => {
                    proptest::prop_assert!(!bounded && (1..=12).contains(&mo));
                }
                Err(_) => proptest::prop_assert!(!(bounded && (1..=12).contains(&mo))),
            }
        }
    }
}
