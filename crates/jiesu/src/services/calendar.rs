//! The working-day calendar (节假日与调休) as administrators keep it: list a year, set or
//! remove one day, import a list (next year's days when the State Council announces them).
//! Every change is an event. Deadlines read the calendar in `handling`; orders already
//! dispatched keep the deadlines they were given.

use super::accounts::By;
use super::AppState;
use crate::error::{AppError, FieldError};
use crate::store::calendar;

pub use crate::store::calendar::CalendarDay;
use chrono::NaiveDate;
use jiesu_core::dates::{parse_day, DateError};
use jiesu_core::time_limit::CalendarDayKind;
use serde::Deserialize;

/// One day as submitted.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DayInput {
    /// `YYYY-MM-DD`.
    pub date: String,
    /// `holiday` or `workday`.
    pub kind: CalendarDayKind,
    /// The festival (春节, 国庆节, …).
    #[serde(default)]
    pub name: String,
}

fn date_error(field: &str, e: DateError) -> FieldError {
    match e {
        DateError::Shape => FieldError::of(field, "err.must_be_a_date_yyyy_mm"),
        DateError::OutOfRange => FieldError::of(field, "err.date_out_of_range"),
    }
}

/// Parses a date of the calendar (a path segment or a field), naming `field` when bad.
pub fn parse_date(field: &str, s: &str) -> Result<NaiveDate, AppError> {
    parse_day(s).map_err(|e| AppError::Invalid(vec![date_error(field, e)]))
}

/// Checks one day; `at` prefixes the field names (`days[3].`).
fn check(at: &str, input: &DayInput, errors: &mut Vec<FieldError>) -> Option<NaiveDate> {
    let date = match parse_day(input.date.trim()) {
        Ok(d) => Some(d),
        Err(e) => {
            errors.push(date_error(&format!("{at}date"), e));
            None
        }
    };
    if date.is_some_and(|d| !input.kind.fits(d)) {
        errors.push(FieldError::of(
            format!("{at}kind"),
            "err.calendar.workday_must_be_a_weekend_day",
        ));
    }
    let name = input.name.trim();
    if name.chars().count() > 32 || name.chars().any(char::is_control) {
        errors.push(FieldError::of(
            format!("{at}name"),
            "err.calendar.name_at_most_32_characters",
        ));
    }
    date
}

/// The listed days of a year.
pub async fn list_year(state: &AppState, year: i32) -> Result<Vec<CalendarDay>, AppError> {
    let (Some(from), Some(to)) = (
        NaiveDate::from_ymd_opt(year, 1, 1),
        NaiveDate::from_ymd_opt(year, 12, 31),
    ) else {
        return Err(AppError::invalid("year", "err.date_out_of_range"));
    };
    if !jiesu_core::dates::in_range(from) {
        return Err(AppError::invalid("year", "err.date_out_of_range"));
    }
    Ok(calendar::list(state.store.reader(), from, to).await?)
}

/// One listed day, or 404 (an ordinary day).
pub async fn get(state: &AppState, date: NaiveDate) -> Result<CalendarDay, AppError> {
    calendar::get(state.store.reader(), date)
        .await?
        .ok_or(AppError::NotFound("calendar day"))
}

/// Sets days (all or nothing: one bad day refuses the list, naming it), each an event with
/// what the day was before. Returns the days as stored.
pub async fn set_days(
    state: &AppState,
    by: By<'_>,
    days: &[DayInput],
    single: bool,
) -> Result<Vec<CalendarDay>, AppError> {
    by.may_administer()?;
    let mut errors = Vec::new();
    let mut dates = Vec::with_capacity(days.len());
    for (i, d) in days.iter().enumerate() {
        let at = if single {
            String::new()
        } else {
            format!("days[{i}].")
        };
        dates.push(check(&at, d, &mut errors));
    }
    if !errors.is_empty() {
        return Err(AppError::Invalid(errors));
    }
    let (who, now) = match by {
        By::User(a) => (a.user_id.clone(), state.clock.now()),
        By::Console => ("console".to_string(), state.clock.now()),
        By::System => ("system".to_string(), state.clock.now()),
    };
    let mut tx = state.store.begin().await?;
    let mut out = Vec::with_capacity(days.len());
    for (d, date) in days.iter().zip(dates) {
        let date = date.ok_or_else(|| AppError::invalid("date", "err.must_be_a_date_yyyy_mm"))?;
        let before = calendar::get(tx.conn(), date).await?;
        let day = CalendarDay {
            date,
            kind: d.kind,
            name: d.name.trim().to_string(),
            source: "admin".into(),
            updated_by: who.clone(),
            updated_at: now,
        };
        calendar::set(&mut tx, &day).await?;
        let payload = serde_json::json!({
            "date": date, "kind": day.kind, "name": day.name,
            "before": before.map(|b| serde_json::json!({ "kind": b.kind, "name": b.name, "source": b.source })),
        });
        tx.event(by.event(state, "calendar.day_set", payload));
        out.push(day);
    }
    tx.commit().await?;
    Ok(out)
}

/// Removes a listed day: it becomes an ordinary weekday or weekend day. 404 when not listed.
pub async fn remove(state: &AppState, by: By<'_>, date: NaiveDate) -> Result<(), AppError> {
    by.may_administer()?;
    let mut tx = state.store.begin().await?;
    let before = calendar::get(tx.conn(), date)
        .await?
        .ok_or(AppError::NotFound("calendar day"))?;
    calendar::remove(&mut tx, date).await?;
    let payload = serde_json::json!({
        "date": date, "before": { "kind": before.kind, "name": before.name, "source": before.source },
    });
    tx.event(by.event(state, "calendar.day_removed", payload));
    tx.commit().await?;
    Ok(())
}
