//! Time limits (办理时限) and the working-day calendar. Deadlines are computed once, when a
//! unit receives an order, and stored; nothing here keeps a timer.

use chrono::{DateTime, Datelike, Duration, FixedOffset, NaiveDate, Utc, Weekday};
use serde::{Deserialize, Serialize};
use std::collections::BTreeSet;

/// Whether a limit counts every day or only working days.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DayKind {
    /// 自然日: every day counts.
    Calendar,
    /// 工作日: only working days count (Monday–Friday, adjusted by the calendar).
    Working,
}

impl DayKind {
    /// Parses `calendar` or `working`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "calendar" => Some(DayKind::Calendar),
            "working" => Some(DayKind::Working),
            _ => None,
        }
    }
    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            DayKind::Calendar => "calendar",
            DayKind::Working => "working",
        }
    }
}

/// What a listed day of the working-day calendar is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum CalendarDayKind {
    /// 节假日: a day off of an official break (a weekend day inside the break too).
    Holiday,
    /// 调休上班: a weekend day that is worked.
    Workday,
}

impl CalendarDayKind {
    /// Parses `holiday` or `workday`.
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "holiday" => Some(CalendarDayKind::Holiday),
            "workday" => Some(CalendarDayKind::Workday),
            _ => None,
        }
    }
    /// The stable name.
    pub fn as_str(self) -> &'static str {
        match self {
            CalendarDayKind::Holiday => "holiday",
            CalendarDayKind::Workday => "workday",
        }
    }
    /// Whether a day of this kind may be listed on `date`: a worked day only on a weekend
    /// (a weekday works anyway); a day off on any day.
    pub fn fits(self, date: NaiveDate) -> bool {
        self == CalendarDayKind::Holiday || matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
    }
}

impl Calendar {
    /// Lists `date` as `kind`.
    pub fn insert(&mut self, date: NaiveDate, kind: CalendarDayKind) {
        match kind {
            CalendarDayKind::Holiday => self.holidays.insert(date),
            CalendarDayKind::Workday => self.extra_workdays.insert(date),
        };
    }
}

/// One row of the time-limit table: how long a unit has to acknowledge and to reply.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimeLimit {
    /// The class (`emergency`, `utilities`, `general`, `complex`, …).
    pub class: String,
    /// 签收时限, in minutes.
    pub acknowledge_minutes: i64,
    /// 办理时限, in minutes (of working days when `day_kind` is working).
    pub reply_minutes: i64,
    /// How the minutes are counted.
    pub day_kind: DayKind,
}

/// The working-day calendar: weekends are off unless listed as extra working days (调休),
/// and listed holidays are off.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Calendar {
    /// Public holidays (节假日), local dates.
    pub holidays: BTreeSet<NaiveDate>,
    /// Weekend days that are working days (调休上班), local dates.
    pub extra_workdays: BTreeSet<NaiveDate>,
    /// The city's offset from UTC (Beijing: +08:00).
    pub offset: Option<FixedOffset>,
}

impl Calendar {
    fn offset(&self) -> FixedOffset {
        self.offset
            .unwrap_or_else(|| FixedOffset::east_opt(8 * 3600).expect("valid offset"))
    }

    /// Whether the local date is a working day.
    pub fn is_working_day(&self, date: NaiveDate) -> bool {
        if self.holidays.contains(&date) {
            return false;
        }
        if self.extra_workdays.contains(&date) {
            return true;
        }
        !matches!(date.weekday(), Weekday::Sat | Weekday::Sun)
    }

    /// The instant `minutes` after `start`, counting every minute (calendar) or only the
    /// minutes of working days (working). A working-day clock that starts on a day off
    /// starts at the next working day's midnight.
    ///
    /// Total: a limit that would pass the end of chrono's calendar saturates there.
    pub fn add(&self, start: DateTime<Utc>, minutes: i64, kind: DayKind) -> DateTime<Utc> {
        let plus = |at: DateTime<Utc>, d: Duration| {
            at.checked_add_signed(d).unwrap_or(DateTime::<Utc>::MAX_UTC)
        };
        let Some(mut remaining) = Duration::try_minutes(minutes.max(0)) else {
            return DateTime::<Utc>::MAX_UTC;
        };
        if kind == DayKind::Calendar || minutes <= 0 {
            return plus(start, remaining);
        }
        // Within days of either end of chrono's range local dates may not exist: count
        // calendar minutes there (no deadline from input gets near it).
        let margin = Duration::days(4000);
        if start.checked_add_signed(margin).is_none() || start.checked_sub_signed(margin).is_none()
        {
            return plus(start, remaining);
        }
        let tz = self.offset();
        let mut cursor = start;
        // Ten years of days off in a row is a broken calendar, not a deadline.
        for _ in 0..3660 {
            let date = cursor.with_timezone(&tz).date_naive();
            let Some(next_day) = date.succ_opt() else {
                return DateTime::<Utc>::MAX_UTC;
            };
            let next_midnight = crate::dates::local_midnight(next_day, tz);
            if self.is_working_day(date) {
                let left_today = next_midnight - cursor;
                if remaining <= left_today {
                    return plus(cursor, remaining);
                }
                remaining -= left_today;
            }
            cursor = next_midnight;
        }
        plus(cursor, remaining)
    }
}

/// The two deadlines of one order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Deadlines {
    /// 签收时限.
    pub acknowledge_by: DateTime<Utc>,
    /// 办结时限.
    pub reply_by: DateTime<Utc>,
}

impl TimeLimit {
    /// The deadlines of an order dispatched at `at`.
    pub fn deadlines(&self, at: DateTime<Utc>, calendar: &Calendar) -> Deadlines {
        Deadlines {
            acknowledge_by: calendar.add(at, self.acknowledge_minutes, self.day_kind),
            reply_by: calendar.add(at, self.reply_minutes, self.day_kind),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn bj(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
        FixedOffset::east_opt(8 * 3600)
            .unwrap()
            .with_ymd_and_hms(y, m, d, h, min, 0)
            .unwrap()
            .with_timezone(&Utc)
    }

    #[test]
    fn calendar_limits_count_every_minute() {
        let cal = Calendar::default();
        // Saturday 2026-11-28 10:00 + 2 h.
        assert_eq!(
            cal.add(bj(2026, 11, 28, 10, 0), 120, DayKind::Calendar),
            bj(2026, 11, 28, 12, 0)
        );
    }

    #[test]
    fn working_limits_skip_weekends() {
        let cal = Calendar::default();
        // Friday 2026-11-27 10:00 + 1 working day = Monday 10:00.
        assert_eq!(
            cal.add(bj(2026, 11, 27, 10, 0), 24 * 60, DayKind::Working),
            bj(2026, 11, 30, 10, 0)
        );
        // Saturday 10:00 + 7 working days: the clock starts Monday 00:00 and ends Wednesday
        // of the next week at 00:00.
        assert_eq!(
            cal.add(bj(2026, 11, 28, 10, 0), 7 * 24 * 60, DayKind::Working),
            bj(2026, 12, 9, 0, 0)
        );
    }

    #[test]
    fn holidays_and_adjusted_workdays_are_honoured() {
        let mut cal = Calendar::default();
        cal.holidays
            .insert(NaiveDate::from_ymd_opt(2026, 11, 30).unwrap());
        cal.extra_workdays
            .insert(NaiveDate::from_ymd_opt(2026, 11, 29).unwrap());
        // Friday 10:00 + 1 working day: Saturday off, Sunday works, so Sunday 10:00.
        assert_eq!(
            cal.add(bj(2026, 11, 27, 10, 0), 24 * 60, DayKind::Working),
            bj(2026, 11, 29, 10, 0)
        );
        // Sunday 10:00 + 1 working day: Monday is a holiday, so Tuesday 10:00.
        assert_eq!(
            cal.add(bj(2026, 11, 29, 10, 0), 24 * 60, DayKind::Working),
            bj(2026, 12, 1, 10, 0)
        );
    }

    #[test]
    fn the_2025_national_day_week_pushes_seven_working_days_past_it() {
        // The official 2025 schedule: 10-01..10-08 off, Sunday 09-28 and Saturday 10-11 worked.
        let mut cal = Calendar::default();
        for d in 1..=8 {
            cal.insert(
                NaiveDate::from_ymd_opt(2025, 10, d).unwrap(),
                CalendarDayKind::Holiday,
            );
        }
        for (m, d) in [(9, 28), (10, 11)] {
            cal.insert(
                NaiveDate::from_ymd_opt(2025, m, d).unwrap(),
                CalendarDayKind::Workday,
            );
        }
        // Tuesday 09-30 10:00: 14 h that day, then 10-09, 10-10, 10-11 (Sat, worked), 10-13,
        // 10-14, 10-15 (6 x 24 h = 144 h), and the last 10 h on Thursday 10-16.
        assert_eq!(
            cal.add(bj(2025, 9, 30, 10, 0), 7 * 24 * 60, DayKind::Working),
            bj(2025, 10, 16, 10, 0)
        );
        // Without the calendar it would be Thursday 10-09 10:00: a week earlier.
        assert_eq!(
            Calendar::default().add(bj(2025, 9, 30, 10, 0), 7 * 24 * 60, DayKind::Working),
            bj(2025, 10, 9, 10, 0)
        );
        assert!(!CalendarDayKind::Workday.fits(NaiveDate::from_ymd_opt(2025, 10, 10).unwrap()));
        assert!(CalendarDayKind::Workday.fits(NaiveDate::from_ymd_opt(2025, 10, 11).unwrap()));
    }

    #[test]
    fn deadlines_apply_both_limits() {
        let limit = TimeLimit {
            class: "emergency".into(),
            acknowledge_minutes: 30,
            reply_minutes: 120,
            day_kind: DayKind::Calendar,
        };
        let d = limit.deadlines(bj(2026, 11, 28, 23, 0), &Calendar::default());
        assert_eq!(d.acknowledge_by, bj(2026, 11, 28, 23, 30));
        assert_eq!(d.reply_by, bj(2026, 11, 29, 1, 0));
    }

    // Issue 16: adding any limit to any instant never panics and never goes back in time.
    proptest::proptest! {
        #[test]
        fn adding_any_limit_is_total_and_monotonic(
            start_s in 946_684_800i64..4_133_980_799, minutes in proptest::prelude::any::<i64>(),
            working in proptest::prelude::any::<bool>()
        ) {
            let start = DateTime::<Utc>::from_timestamp(start_s, 0).unwrap();
            let kind = if working { DayKind::Working } else { DayKind::Calendar };
            let cal = Calendar::default();
            let end = cal.add(start, minutes, kind);
            proptest::prop_assert!(end >= start);
            if minutes <= 0 {
                proptest::prop_assert_eq!(end, start);
            }
            if kind == DayKind::Calendar && (0..1_000_000_000).contains(&minutes) {
                proptest::prop_assert_eq!(end - start, Duration::minutes(minutes));
            }
            // at the very end of the calendar it saturates instead of panicking
            let _ = cal.add(DateTime::<Utc>::MAX_UTC, minutes, kind);
            let _ = cal.add(DateTime::<Utc>::MIN_UTC, minutes, kind);
        }
    }
}
