//! RFC 3339 timestamps without a clock: the vendor's `occurred_at` is parsed into Unix
//! milliseconds, and note dates are formatted from those milliseconds (UTC), never from the
//! wall clock, so a replayed event writes the same note.

/// Parses an RFC 3339 timestamp (`2026-03-02T10:15:00Z`, `2026-03-02T10:15:00.250+02:00`)
/// into Unix milliseconds.
pub fn parse_rfc3339(text: &str) -> Result<i64, String> {
    let bad = |why: &str| {
        format!("{text:?} is not an RFC 3339 timestamp ({why}); expected e.g. 2026-03-02T10:15:00Z")
    };
    let b = text.as_bytes();
    if b.len() < 20 {
        return Err(bad("too short"));
    }
    let digits = |range: std::ops::Range<usize>| -> Result<i64, String> {
        let part = text.get(range).ok_or_else(|| bad("bad characters"))?;
        if part.bytes().all(|c| c.is_ascii_digit()) {
            part.parse::<i64>().map_err(|_| bad("bad number"))
        } else {
            Err(bad("expected digits"))
        }
    };
    if b[4] != b'-'
        || b[7] != b'-'
        || !matches!(b[10], b'T' | b't' | b' ')
        || b[13] != b':'
        || b[16] != b':'
    {
        return Err(bad("expected YYYY-MM-DDTHH:MM:SS"));
    }
    let (year, month, day) = (digits(0..4)?, digits(5..7)?, digits(8..10)?);
    let (hour, minute, second) = (digits(11..13)?, digits(14..16)?, digits(17..19)?);
    if !(1..=12).contains(&month) || day < 1 || day > days_in_month(year, month) {
        return Err(bad("no such date"));
    }
    // 60 is a leap second; it is read as the next second.
    if hour > 23 || minute > 59 || second > 60 {
        return Err(bad("no such time"));
    }
    let mut rest = &text[19..];
    let mut millis = 0i64;
    if let Some(fraction) = rest.strip_prefix('.') {
        let len = fraction.bytes().take_while(u8::is_ascii_digit).count();
        if len == 0 {
            return Err(bad("empty fraction of a second"));
        }
        let first3: String = fraction[..len.min(3)]
            .chars()
            .chain("000".chars())
            .take(3)
            .collect();
        millis = first3.parse::<i64>().map_err(|_| bad("bad fraction"))?;
        rest = &fraction[len..];
    }
    let offset_minutes = match rest {
        "Z" | "z" => 0,
        _ if rest.len() == 6
            && matches!(rest.as_bytes()[0], b'+' | b'-')
            && rest.as_bytes()[3] == b':' =>
        {
            let h = rest[1..3].parse::<i64>().map_err(|_| bad("bad offset"))?;
            let m = rest[4..6].parse::<i64>().map_err(|_| bad("bad offset"))?;
            if h > 23 || m > 59 {
                return Err(bad("bad offset"));
            }
            let sign = if rest.starts_with('-') { -1 } else { 1 };
            sign * (h * 60 + m)
        }
        _ => return Err(bad("expected Z or an offset such as +02:00")),
    };
    let days = days_from_civil(year, month, day);
    let seconds = days * 86_400 + hour * 3_600 + minute * 60 + second - offset_minutes * 60;
    Ok(seconds * 1_000 + millis)
}

/// `YYYY-MM-DD` (UTC) of Unix milliseconds.
pub fn date_utc(millis: i64) -> String {
    let days = millis.div_euclid(86_400_000);
    let (y, m, d) = civil_from_days(days);
    format!("{y:04}-{m:02}-{d:02}")
}

fn is_leap(year: i64) -> bool {
    (year % 4 == 0 && year % 100 != 0) || year % 400 == 0
}

fn days_in_month(year: i64, month: i64) -> i64 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        _ if is_leap(year) => 29,
        _ => 28,
    }
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1_460 + doe / 36_524 - doe / 146_096) / 365;
    let y = yoe + era * 400;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { y + 1 } else { y }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_utc_offsets_and_fractions() {
        assert_eq!(parse_rfc3339("1970-01-01T00:00:00Z"), Ok(0));
        assert_eq!(parse_rfc3339("2026-03-02T10:15:00Z"), Ok(1_772_446_500_000));
        assert_eq!(
            parse_rfc3339("2026-03-02T12:15:00.250+02:00"),
            Ok(1_772_446_500_250)
        );
        assert_eq!(
            parse_rfc3339("2026-03-02T05:15:00.2-05:00"),
            Ok(1_772_446_500_200)
        );
        assert_eq!(
            parse_rfc3339("2024-02-29T23:59:59.999999Z"),
            Ok(1_709_251_199_999)
        );
        for bad in [
            "",
            "2026-03-02",
            "2026-03-02 10:15:00",
            "2026-13-02T10:15:00Z",
            "2025-02-29T10:15:00Z",
            "2026-03-02T24:00:00Z",
            "2026-03-02T10:15:00+2:00",
            "2026-03-02T10:15:00.Z",
            "２０２６-03-02T10:15:00Z",
        ] {
            assert!(parse_rfc3339(bad).is_err(), "{bad:?}");
        }
    }

    #[test]
    fn dates_are_utc() {
        assert_eq!(date_utc(0), "1970-01-01");
        assert_eq!(date_utc(1_772_446_500_000), "2026-03-02");
        // 01:00 at +05:00 is the day before in UTC.
        let t = parse_rfc3339("2026-03-02T01:00:00+05:00").unwrap();
        assert_eq!(date_utc(t), "2026-03-01");
        assert_eq!(date_utc(-1), "1969-12-31");
        assert_eq!(
            date_utc(parse_rfc3339("2000-02-29T12:00:00Z").unwrap()),
            "2000-02-29"
        );
    }
}
