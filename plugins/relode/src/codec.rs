//! Small encodings the connector needs without pulling crates into the component: RFC 3339
//! timestamps from Lever's epoch milliseconds, a content digest for change detection, and
//! base64 for resumes sent inline.

use fulcrum_sdk::Timestamp;

/// `2025-01-31T12:34:56.789Z` for Unix milliseconds (UTC, proleptic Gregorian calendar).
pub fn rfc3339(ms: Timestamp) -> String {
    let secs = ms.div_euclid(1000);
    let millis = ms.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let of_day = secs.rem_euclid(86_400);
    let (year, month, day) = civil_from_days(days);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{millis:03}Z",
        of_day / 3600,
        of_day % 3600 / 60,
        of_day % 60
    )
}

/// Howard Hinnant's days → (year, month, day) for days since 1970-01-01.
fn civil_from_days(days: i64) -> (i64, i64, i64) {
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    (year, month, day)
}

/// 128-bit FNV-1a of `bytes` as 32 hex digits: enough to tell whether a job changed since it
/// was last sent (not a security boundary; nothing is authenticated with it).
pub fn digest(bytes: &[u8]) -> String {
    const OFFSET: u128 = 0x6c62272e07bb014262b821756295c58d;
    const PRIME: u128 = 0x0000000001000000000000000000013B;
    let hash = bytes
        .iter()
        .fold(OFFSET, |h, b| (h ^ u128::from(*b)).wrapping_mul(PRIME));
    format!("{hash:032x}")
}

/// Decodes standard base64 (RFC 4648, `+/`, padding optional; line breaks and spaces are
/// ignored, as mail-style encoders insert them). The error says what is wrong.
pub fn base64_decode(text: &str) -> Result<Vec<u8>, String> {
    fn value(c: u8) -> Option<u32> {
        Some(match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        } as u32)
    }
    let cleaned: Vec<u8> = text.bytes().filter(|b| !b.is_ascii_whitespace()).collect();
    let unpadded = {
        let end = cleaned
            .iter()
            .rposition(|b| *b != b'=')
            .map_or(0, |i| i + 1);
        if cleaned.len() - end > 2 {
            return Err("too much '=' padding".into());
        }
        &cleaned[..end]
    };
    if let Some(bad) = unpadded.iter().find(|c| value(**c).is_none()) {
        return Err(format!("{:?} is not a base64 character", char::from(*bad)));
    }
    if unpadded.len() % 4 == 1 {
        return Err("truncated: the length is not a valid base64 length".into());
    }
    let mut out = Vec::with_capacity(unpadded.len() * 3 / 4);
    for chunk in unpadded.chunks(4) {
        let mut acc = 0u32;
        for (i, c) in chunk.iter().enumerate() {
            // Every character was checked above.
            acc |= value(*c).unwrap_or(0) << (18 - 6 * i);
        }
        let bytes = acc.to_be_bytes();
        out.extend_from_slice(&bytes[1..chunk.len()]);
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn timestamps_are_rfc3339_utc() {
        assert_eq!(rfc3339(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(rfc3339(1_700_000_000_123), "2023-11-14T22:13:20.123Z");
        assert_eq!(rfc3339(951_782_400_000), "2000-02-29T00:00:00.000Z");
        assert_eq!(rfc3339(-1), "1969-12-31T23:59:59.999Z");
    }

    #[test]
    fn digests_tell_contents_apart() {
        assert_eq!(digest(b"").len(), 32);
        assert_eq!(digest(b"job"), digest(b"job"));
        assert_ne!(digest(b"job 1"), digest(b"job 2"));
    }

    #[test]
    fn base64_round_trips_known_vectors() {
        for (plain, encoded) in [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ] {
            assert_eq!(
                base64_decode(encoded).unwrap(),
                plain.as_bytes(),
                "{encoded}"
            );
        }
        assert_eq!(base64_decode("Zm9v\r\nYmFy").unwrap(), b"foobar");
        assert_eq!(base64_decode("Zm8").unwrap(), b"fo", "padding is optional");
        assert_eq!(base64_decode("/+8=").unwrap(), [0xff, 0xef]);
    }

    #[test]
    fn bad_base64_is_explained() {
        assert!(base64_decode("Zm9v!").unwrap_err().contains("'!'"));
        assert!(base64_decode("Zm9vY").unwrap_err().contains("truncated"));
        assert!(base64_decode("Zg===").unwrap_err().contains("padding"));
    }
}
