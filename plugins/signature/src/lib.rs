//! Signed vendor webhooks: how a vendor proves a request to the host's ingress is its own.
//!
//! The vendor sends a header (connectors name it, e.g. `RTW-Signature`) of the form
//! `t=<unix seconds>,v1=<hex HMAC-SHA256(secret, "<t>.<raw body>")>`. The timestamp is inside
//! the MAC, so a captured request cannot be replayed with a fresh time, and requests older (or
//! newer) than the tolerance are refused. Several `v1=` entries may be sent while a vendor
//! rotates its secret; one matching is enough. Comparison is constant-time.
//!
//! Verify with the request's time of receipt as "now" (the host's clock at the ingress), never
//! the wall clock of a later retry.
//!
//! A crate of its own (no wit-bindgen, no SDK) so vendors' senders, the host's tests and the
//! demo sign requests without building the plugin SDK; `fulcrum_sdk::signature` re-exports it
//! with the plugin-side glue.

use hmac::{Hmac, Mac};
use sha2::Sha256;

/// How far the signed timestamp may be from the time the host received the request.
pub const DEFAULT_TOLERANCE_SECS: i64 = 300;

/// Why a signature was refused. The messages tell the vendor what to fix and never echo
/// the expected MAC.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SignatureError {
    Missing {
        header: String,
    },
    Malformed {
        header: String,
        reason: String,
    },
    Stale {
        header: String,
        age_secs: i64,
        tolerance_secs: i64,
    },
    Mismatch {
        header: String,
    },
    NoSecret {
        secret: String,
    },
}

impl std::fmt::Display for SignatureError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SignatureError::Missing { header } => write!(
                f,
                "missing {header} header: sign the body as t=<unix seconds>,v1=<hex HMAC-SHA256 of \"<t>.<body>\">"
            ),
            SignatureError::Malformed { header, reason } => write!(
                f,
                "malformed {header} header ({reason}): expected t=<unix seconds>,v1=<64 hex digits>"
            ),
            SignatureError::Stale {
                header,
                age_secs,
                tolerance_secs,
            } => write!(
                f,
                "{header} timestamp is {age_secs}s away from the time of receipt (at most \
                 {tolerance_secs}s allowed): sign each request when sending it, and check the \
                 sender's clock"
            ),
            SignatureError::Mismatch { header } => write!(
                f,
                "{header} does not match the body: sign the exact raw body with the signing \
                 secret shared with this installation"
            ),
            SignatureError::NoSecret { secret } => write!(
                f,
                "the installation has no {secret:?} secret set, so no request can be verified: \
                 a tenant admin must set it"
            ),
        }
    }
}

impl std::error::Error for SignatureError {}

type HmacSha256 = Hmac<Sha256>;

fn mac(secret: &[u8], unix_seconds: i64, body: &[u8]) -> HmacSha256 {
    let mut mac = HmacSha256::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(unix_seconds.to_string().as_bytes());
    mac.update(b".");
    mac.update(body);
    mac
}

/// The header value a vendor sends for `body` at `unix_seconds` (vendors' SDKs, tests, demo).
pub fn sign(secret: &[u8], unix_seconds: i64, body: &[u8]) -> String {
    let tag = mac(secret, unix_seconds, body).finalize().into_bytes();
    format!("t={unix_seconds},v1={}", hex::encode(tag))
}

/// Checks `value` (the header's value, `None` when absent) against `body`, received at
/// `received_at_ms` (Unix ms).
pub fn verify(
    header: &str,
    value: Option<&str>,
    secret: &[u8],
    body: &[u8],
    received_at_ms: i64,
    tolerance_secs: i64,
) -> Result<(), SignatureError> {
    let value = value.ok_or_else(|| SignatureError::Missing {
        header: header.to_owned(),
    })?;
    let malformed = |reason: &str| SignatureError::Malformed {
        header: header.to_owned(),
        reason: reason.to_owned(),
    };
    let mut timestamp = None;
    let mut tags = Vec::new();
    for part in value.split(',') {
        let (key, val) = part
            .trim()
            .split_once('=')
            .ok_or_else(|| malformed("entries must be key=value"))?;
        match key {
            "t" => {
                timestamp = Some(
                    val.parse::<i64>()
                        .map_err(|_| malformed("t is not a whole number of seconds"))?,
                )
            }
            "v1" => tags.push(hex::decode(val).map_err(|_| malformed("v1 is not hex"))?),
            // Other schemes (a future v2) are ignored, as webhook senders expect.
            _ => {}
        }
    }
    let timestamp = timestamp.ok_or_else(|| malformed("no t= entry"))?;
    if tags.is_empty() {
        return Err(malformed("no v1= entry"));
    }
    // Checked: `t` comes from the sender, and a huge one must be a refusal, never an
    // overflow (a panic in debug builds, a wrapped age that might pass in release builds).
    let age_secs = received_at_ms
        .div_euclid(1000)
        .checked_sub(timestamp)
        .ok_or_else(|| malformed("t is not a plausible time"))?;
    // A negative tolerance counts as zero.
    if age_secs.unsigned_abs() > u64::try_from(tolerance_secs).unwrap_or(0) {
        return Err(SignatureError::Stale {
            header: header.to_owned(),
            age_secs,
            tolerance_secs,
        });
    }
    let expected = mac(secret, timestamp, body);
    if tags
        .iter()
        .any(|tag| expected.clone().verify_slice(tag).is_ok())
    {
        Ok(())
    } else {
        Err(SignatureError::Mismatch {
            header: header.to_owned(),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &[u8] = b"whsec_test";
    const NOW_MS: i64 = 1_790_000_000_000;

    fn check(value: Option<&str>, body: &[u8]) -> Result<(), SignatureError> {
        verify("X-Sig", value, SECRET, body, NOW_MS, 300)
    }

    #[test]
    fn a_fresh_signature_of_the_body_passes() {
        let header = sign(SECRET, NOW_MS / 1000 - 10, b"{\"a\":1}");
        assert!(header.starts_with("t=1789999990,v1="), "{header}");
        assert_eq!(check(Some(&header), b"{\"a\":1}"), Ok(()));
        // Rotation: an old and a new signature side by side.
        let other = sign(b"old", NOW_MS / 1000, b"{\"a\":1}");
        let both = format!("{},{}", header, other.split_once(',').unwrap().1);
        assert_eq!(check(Some(&both), b"{\"a\":1}"), Ok(()));
    }

    #[test]
    fn tampering_staleness_and_garbage_are_refused() {
        let t = NOW_MS / 1000;
        let header = sign(SECRET, t, b"{\"a\":1}");
        assert!(matches!(
            check(Some(&header), b"{\"a\":2}"),
            Err(SignatureError::Mismatch { .. })
        ));
        assert!(matches!(
            check(Some(&sign(b"wrong", t, b"x")), b"x"),
            Err(SignatureError::Mismatch { .. })
        ));
        // The time is inside the MAC: moving it breaks the signature.
        let moved = header.replace(&format!("t={t}"), &format!("t={}", t - 1));
        assert!(matches!(
            check(Some(&moved), b"{\"a\":1}"),
            Err(SignatureError::Mismatch { .. })
        ));
        let old = sign(SECRET, t - 301, b"x");
        let stale = check(Some(&old), b"x").unwrap_err();
        assert!(stale.to_string().contains("301s"), "{stale}");
        assert!(matches!(
            check(None, b"x"),
            Err(SignatureError::Missing { .. })
        ));
        for garbage in [
            "",
            "v1=00",
            "t=abc,v1=00",
            "t=1",
            "t=1,v1=zz",
            "nonsense",
            "t=99999999999999999999,v1=00",
        ] {
            assert!(
                matches!(
                    check(Some(garbage), b"x"),
                    Err(SignatureError::Malformed { .. })
                ),
                "{garbage:?}"
            );
        }
    }

    /// `t=` at the ends of the integer range is refused as a clear error: before the checked
    /// arithmetic, `now - t` overflowed (a panic in debug builds, a wrap in release).
    #[test]
    fn extreme_timestamps_are_refused_without_overflow() {
        for t in [i64::MIN, i64::MIN + 1, i64::MIN + NOW_MS / 1000] {
            let header = sign(SECRET, t, b"x");
            let err = check(Some(&header), b"x").unwrap_err();
            assert!(
                matches!(err, SignatureError::Malformed { .. }),
                "t={t}: {err:?}"
            );
            assert!(
                err.to_string().contains("t is not a plausible time"),
                "{err}"
            );
        }
        for t in [i64::MAX, i64::MAX - 1, 0, -1] {
            let header = sign(SECRET, t, b"x");
            assert!(
                matches!(
                    check(Some(&header), b"x"),
                    Err(SignatureError::Stale { .. })
                ),
                "t={t}"
            );
        }
        // A received time at the end of the range does not overflow either.
        let header = sign(SECRET, -5, b"x");
        assert!(verify("X-Sig", Some(&header), SECRET, b"x", i64::MAX, 300).is_err());
        assert!(verify("X-Sig", Some(&header), SECRET, b"x", i64::MIN, i64::MIN).is_err());
    }
}
