//! Timestamps as citizens' systems write them: `YYYY-MM-DD HH:MM:SS`, `YYYY/M/D H:MM:SS`
//! (month, day and hour not zero-padded, seconds optional) and RFC 3339, to UTC
//! milliseconds and back to local dates. No time-zone database: offsets are fixed.

/// Milliseconds in a day.
pub const DAY_MS: i64 = 86_400_000;

/// Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant's algorithm).
pub fn days_from_civil(y: i64, m: u32, d: u32) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m as i64 + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d as i64 - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The date of a day number (inverse of [`days_from_civil`]).
pub fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    (
        if m <= 2 {
            yoe + era * 400 + 1
        } else {
            yoe + era * 400
        },
        m,
        d,
    )
}

fn days_in_month(y: i64, m: u32) -> u32 {
    match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if (y % 4 == 0 && y % 100 != 0) || y % 400 == 0 => 29,
        _ => 28,
    }
}

/// Parses a timestamp to UTC milliseconds. Times without an offset are local times at
/// `offset_minutes` east of UTC (480 for China). A date alone means its midnight.
pub fn parse_timestamp(s: &str, offset_minutes: i32) -> Result<i64, String> {
    let s = s.trim();
    let bad = || format!("`{s}` is not a time (YYYY-MM-DD HH:MM:SS, YYYY/M/D H:MM or RFC 3339)");
    let (date, rest) = match s.find([' ', 'T', 't']) {
        Some(i) => (&s[..i], s[i + 1..].trim()),
        None => (s, ""),
    };
    let parts: Vec<&str> = date.split(['-', '/']).collect();
    if parts.len() != 3 || parts.iter().any(|p| p.is_empty()) {
        return Err(bad());
    }
    let num = |p: &str| p.parse::<u32>().map_err(|_| bad());
    let (y, m, d) = (num(parts[0])? as i64, num(parts[1])?, num(parts[2])?);
    if !(1..=12).contains(&m) || d == 0 || d > days_in_month(y, m) || parts[0].len() != 4 {
        return Err(bad());
    }
    let (clock, offset) = split_offset(rest).ok_or_else(bad)?;
    let offset = offset.unwrap_or(offset_minutes as i64);
    let mut ms = 0i64;
    if !clock.is_empty() {
        let hms: Vec<&str> = clock.split(':').collect();
        if hms.len() < 2 || hms.len() > 3 {
            return Err(bad());
        }
        let (h, mi) = (num(hms[0])?, num(hms[1])?);
        let sec: f64 = match hms.get(2) {
            Some(x) => x.parse().map_err(|_| bad())?,
            None => 0.0,
        };
        if h > 23 || mi > 59 || !(0.0..61.0).contains(&sec) {
            return Err(bad());
        }
        ms = (h as i64 * 3600 + mi as i64 * 60) * 1000 + (sec * 1000.0).round() as i64;
    }
    Ok(days_from_civil(y, m, d) * DAY_MS + ms - offset * 60_000)
}

/// Splits `12:00:00+08:00` / `12:00:00Z` into the clock and an offset in minutes.
fn split_offset(rest: &str) -> Option<(&str, Option<i64>)> {
    if let Some(c) = rest.strip_suffix(['Z', 'z']) {
        return Some((c, Some(0)));
    }
    match rest.rfind(['+', '-']) {
        Some(i) => {
            let (c, o) = (&rest[..i], &rest[i..]);
            let sign = if o.starts_with('-') { -1 } else { 1 };
            let digits: String = o[1..].chars().filter(|c| *c != ':').collect();
            // ASCII digits only: a multi-byte character of four bytes in all would make the
            // slices below cut inside it (a panic found by the property test)
            if digits.len() != 4 || !digits.bytes().all(|b| b.is_ascii_digit()) {
                return None;
            }
            let h: i64 = digits[..2].parse().ok()?;
            let m: i64 = digits[2..].parse().ok()?;
            Some((c, Some(sign * (h * 60 + m))))
        }
        None => Some((rest, None)),
    }
}

/// The local day number of a UTC millisecond time at `offset_minutes` east of UTC.
pub fn local_day(ms: i64, offset_minutes: i32) -> i64 {
    (ms + offset_minutes as i64 * 60_000).div_euclid(DAY_MS)
}

/// `YYYY-MM-DD` of a UTC millisecond time, in local time.
pub fn format_date(ms: i64, offset_minutes: i32) -> String {
    let (y, m, d) = civil_from_days(local_day(ms, offset_minutes));
    format!("{y:04}-{m:02}-{d:02}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_three_formats_parse_to_the_same_instant() {
        let a = parse_timestamp("2019-11-13 11:20:21", 480).unwrap();
        let b = parse_timestamp("2019/11/13 11:20:21", 480).unwrap();
        let c = parse_timestamp("2019-11-13T03:20:21Z", 0).unwrap();
        let d = parse_timestamp("2019-11-13T11:20:21+08:00", 0).unwrap();
        assert_eq!((a, a, a), (b, c, d));
        assert_eq!(
            parse_timestamp("2019/2/1 9:05:00", 480).unwrap() + 86_400_000,
            parse_timestamp("2019-02-02 09:05", 480).unwrap()
        );
        assert_eq!(format_date(a, 480), "2019-11-13");
    }

    #[test]
    fn impossible_times_are_refused() {
        for bad in [
            "",
            "2019-02-30 10:00:00",
            "2019/13/1",
            "19-1-1",
            "2019-01-01 25:00",
            "昨天",
        ] {
            assert!(parse_timestamp(bad, 480).is_err(), "{bad}");
        }
    }

    #[test]
    fn day_numbers_round_trip() {
        for z in [-1, 0, 17_000, 18_000, 20_000] {
            let (y, m, d) = civil_from_days(z);
            assert_eq!(days_from_civil(y, m, d), z);
        }
    }

    // Issue 16: timestamps from any text never panic; dates read back as written.
    proptest::proptest! {
        #[test]
        fn an_offset_of_four_bytes_that_are_not_four_digits_is_refused(c in "[é中]") {
            // `+1é2` has four bytes; slicing it at byte 2 used to panic
            let (a, b) = (format!("2024-02-29 12:00+1{c}"), format!("2024-02-29 12:00-{c}"));
            proptest::prop_assert!(parse_timestamp(&a, 480).is_err());
            proptest::prop_assert!(parse_timestamp(&b, 480).is_err());
        }

        #[test]
        fn parsing_any_text_never_panics(s in "\\PC{0,40}", offset in -1440i32..1440) {
            let _ = parse_timestamp(&s, offset);
        }

        #[test]
        fn offsets_of_any_characters_never_panic(clock in "[0-9]{2}:[0-9]{2}(:[0-9]{2})?", tail in "\\PC{0,6}") {
            let _ = parse_timestamp(&format!("2024-02-29 {clock}+{tail}"), 480);
            let _ = parse_timestamp(&format!("2024-02-29 {clock}-{tail}"), 480);
        }

        #[test]
        fn a_valid_date_reads_back_as_its_local_day(y in 1000i64..9999, m in 1u32..=12, d in 1u32..=31, offset in -720i32..=840) {
            let s = format!("{y:04}-{m:02}-{d:02}");
            match parse_timestamp(&s, offset) {
                Ok(ms) => {
                    proptest::prop_assert!(d <= days_in_month(y, m));
                    proptest::prop_assert_eq!(format_date(ms, offset), s);
                }
                Err(_) => proptest::prop_assert!(d > days_in_month(y, m)),
            }
        }
    }
}
