//! The calendar month a ranking, a roll-up or a trend point covers (`YYYY-MM`).

use super::ParseError;
use chrono::{Datelike, Months, NaiveDate};

/// A calendar month, `YYYY-MM`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Month(NaiveDate);

impl Month {
    /// Parses `YYYY-MM` (as chrono reads `%Y-%m`: `2026-1` and ` 2026-11` are taken too).
    pub fn parse(s: &str) -> Result<Month, ParseError> {
        NaiveDate::parse_from_str(&format!("{s}-01"), "%Y-%m-%d")
            .map(Month)
            .map_err(|_| ParseError::Month)
    }

    /// The month before.
    pub fn previous(self) -> Month {
        Month(self.0.checked_sub_months(Months::new(1)).expect("in range"))
    }

    /// The month after.
    pub fn next(self) -> Month {
        Month(self.0.checked_add_months(Months::new(1)).expect("in range"))
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
            ("0999-12", "0999-12"),
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
}
