//! Calendar dates taken from input, and the start of a local day.
//!
//! chrono reads `+262142-12-31` as a date, and arithmetic near the ends of its range panics.
//! Every date or month a person or a system sends is therefore parsed here into a date whose
//! year lies in [`FIRST_YEAR`]`..=`[`LAST_YEAR`]; dates outside are refused at the parse step,
//! so the day and month arithmetic done with them afterwards cannot overflow. The helpers that
//! turn a local date into an instant are total: they saturate instead of panicking.

use chrono::{DateTime, FixedOffset, NaiveDate, NaiveTime, Utc};

/// The first year a date from input may have.
pub const FIRST_YEAR: i32 = 2000;
/// The last year a date from input may have.
pub const LAST_YEAR: i32 = 2100;

/// Whether a date lies in the years input may name.
pub fn in_range(d: NaiveDate) -> bool {
    use chrono::Datelike;
    (FIRST_YEAR..=LAST_YEAR).contains(&d.year())
}

/// Why a raw string is not a date of input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum DateError {
    /// Not `YYYY-MM-DD`.
    #[error("must be a date YYYY-MM-DD")]
    Shape,
    /// A real date, but outside the years input may name.
    #[error("must be a date between 2000-01-01 and 2100-12-31")]
    OutOfRange,
}

/// Parses a local date written `YYYY-MM-DD` (exactly: four-digit year, two-digit month and
/// day), with a year in [`FIRST_YEAR`]`..=`[`LAST_YEAR`].
pub fn parse_day(s: &str) -> Result<NaiveDate, DateError> {
    let b = s.as_bytes();
    let shaped = b.len() == 10
        && b[4] == b'-'
        && b[7] == b'-'
        && b.iter()
            .enumerate()
            .all(|(i, c)| i == 4 || i == 7 || c.is_ascii_digit());
    if !shaped {
        return Err(DateError::Shape);
    }
    let d = NaiveDate::parse_from_str(s, "%Y-%m-%d").map_err(|_| DateError::Shape)?;
    if in_range(d) {
        Ok(d)
    } else {
        Err(DateError::OutOfRange)
    }
}

/// The instant a local day starts at a fixed offset. Total: at the very ends of chrono's
/// range, where the instant does not exist, it saturates to the first or last instant.
pub fn local_midnight(day: NaiveDate, offset: FixedOffset) -> DateTime<Utc> {
    let local = day.and_time(NaiveTime::MIN);
    match local.checked_sub_offset(offset) {
        Some(utc) => utc.and_utc(),
        None if offset.local_minus_utc() > 0 => DateTime::<Utc>::MIN_UTC,
        None => DateTime::<Utc>::MAX_UTC,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn days_in_range_parse_and_others_are_refused_with_the_reason() {
        assert_eq!(
            parse_day("2026-11-30"),
            Ok(NaiveDate::from_ymd_opt(2026, 11, 30).unwrap())
        );
        assert!(parse_day("2000-01-01").is_ok());
        assert!(parse_day("2100-12-31").is_ok());
        for bad in [
            "",
            "2026-1-30",
            " 2026-11-30",
            "2026-11-31",
            "2026/11/30",
            "+262142-12-31",
            "-262143-01-01",
            "20261130",
            "2026-11-30T00:00",
        ] {
            assert_eq!(parse_day(bad), Err(DateError::Shape), "{bad:?}");
        }
        for far in ["1999-12-31", "2101-01-01", "0001-01-01", "9999-12-31"] {
            assert_eq!(parse_day(far), Err(DateError::OutOfRange), "{far:?}");
        }
    }

    #[test]
    fn local_midnight_is_the_offset_before_utc_midnight_and_saturates_at_the_ends() {
        let east8 = FixedOffset::east_opt(8 * 3600).unwrap();
        let d = NaiveDate::from_ymd_opt(2026, 11, 30).unwrap();
        assert_eq!(
            local_midnight(d, east8).to_rfc3339(),
            "2026-11-29T16:00:00+00:00"
        );
        assert_eq!(
            local_midnight(NaiveDate::MIN, east8),
            DateTime::<Utc>::MIN_UTC
        );
        let west = FixedOffset::west_opt(5 * 3600).unwrap();
        // the last day's midnight exists at a western offset...
        assert!(local_midnight(NaiveDate::MAX, west) <= DateTime::<Utc>::MAX_UTC);
        // ...and the first day's at an eastern one saturates instead of panicking
        assert_eq!(
            local_midnight(NaiveDate::MIN, east8),
            DateTime::<Utc>::MIN_UTC
        );
    }

    proptest! {
        #[test]
        fn parse_day_never_panics_and_what_it_returns_is_in_range_and_round_trips(s in "\\PC{0,16}") {
            if let Ok(d) = parse_day(&s) {
                prop_assert!(in_range(d));
                prop_assert_eq!(d.format("%Y-%m-%d").to_string(), s);
            }
        }

        #[test]
        fn every_date_shaped_string_is_either_a_day_in_range_or_refused(
            y in 0i32..10000, m in 0u32..14, d in 0u32..33
        ) {
            let s = format!("{y:04}-{m:02}-{d:02}");
            match parse_day(&s) {
                Ok(day) => {
                    prop_assert!(in_range(day));
                    prop_assert_eq!(NaiveDate::from_ymd_opt(y, m, d), Some(day));
                }
                Err(DateError::OutOfRange) => {
                    prop_assert!(NaiveDate::from_ymd_opt(y, m, d).is_some());
                    prop_assert!(!(FIRST_YEAR..=LAST_YEAR).contains(&y));
                }
                Err(DateError::Shape) => prop_assert!(NaiveDate::from_ymd_opt(y, m, d).is_none()),
            }
        }

        #[test]
        fn local_midnight_is_total_for_every_date_and_offset(
            days in i32::MIN..i32::MAX, secs in -86_399i32..86_400
        ) {
            let day = NaiveDate::from_num_days_from_ce_opt(days).unwrap_or(NaiveDate::MIN);
            let offset = FixedOffset::east_opt(secs).unwrap();
            let at = local_midnight(day, offset);
            if in_range(day) {
                prop_assert_eq!(at.with_timezone(&offset).date_naive(), day);
                prop_assert_eq!(at.with_timezone(&offset).time(), NaiveTime::MIN);
            }
        }
    }
}
