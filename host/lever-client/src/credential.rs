//! Lever credentials: an API key (HTTP Basic, key as username, empty password) or an OAuth
//! access token (Bearer). The secret only ever leaves this module inside a header value that is
//! marked sensitive; everything else sees the fingerprint.

use base64::Engine as _;
use reqwest::header::HeaderValue;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use std::fmt;

use crate::LeverError;

/// How Fulcrum authenticates to Lever.
#[derive(Clone)]
pub enum Credential {
    /// A Lever API key, sent as HTTP Basic with the key as username and an empty password.
    ApiKey(SecretString),
    /// An OAuth access token, sent as `Authorization: Bearer`.
    Bearer(SecretString),
}

/// What redacted text is replaced with.
pub(crate) const REDACTED: &str = "[REDACTED]";

impl Credential {
    pub fn api_key(key: impl Into<String>) -> Self {
        Credential::ApiKey(SecretString::from(key.into()))
    }

    pub fn bearer(token: impl Into<String>) -> Self {
        Credential::Bearer(SecretString::from(token.into()))
    }

    fn secret(&self) -> &str {
        match self {
            Credential::ApiKey(s) | Credential::Bearer(s) => s.expose_secret(),
        }
    }

    fn kind(&self) -> &'static str {
        match self {
            Credential::ApiKey(_) => "ApiKey",
            Credential::Bearer(_) => "Bearer",
        }
    }

    /// Short sha256-hex fingerprint, safe to log and to key rate limits by.
    ///
    /// A domain-separation prefix keeps it from matching a bare sha256 of the key found
    /// elsewhere; 16 hex digits (64 bits) are plenty to tell keys apart without being a
    /// useful oracle for the key itself.
    pub fn fingerprint(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(b"fulcrum/lever-credential/v1\0");
        hasher.update(self.secret().as_bytes());
        let digest = hasher.finalize();
        hex::encode(&digest[..8])
    }

    /// The `Authorization` header value, marked sensitive so that hyper/reqwest never print it
    /// and HTTP/2 never puts it in the HPACK dynamic table.
    pub(crate) fn header_value(&self) -> Result<HeaderValue, LeverError> {
        let raw = match self {
            Credential::ApiKey(_) => format!("Basic {}", self.basic_token()),
            Credential::Bearer(token) => format!("Bearer {}", token.expose_secret()),
        };
        let mut value = HeaderValue::from_str(&raw).map_err(|_| LeverError::Config {
            message: format!(
                "the Lever credential (fingerprint {}) contains characters that cannot be sent \
                 in an HTTP header; copy the key again without spaces or line breaks",
                self.fingerprint()
            ),
        })?;
        value.set_sensitive(true);
        Ok(value)
    }

    fn basic_token(&self) -> String {
        base64::engine::general_purpose::STANDARD.encode(format!("{}:", self.secret()))
    }

    /// Removes the secret (and its Basic-auth encoding) from text that came from elsewhere,
    /// e.g. an error body: a misbehaving proxy or server could echo the header back.
    pub(crate) fn redact(&self, text: &str) -> String {
        let secret = self.secret();
        // Very short secrets would redact ordinary words; such keys fail at Lever anyway.
        if secret.len() < 4 {
            return text.to_owned();
        }
        let mut out = text.replace(secret, REDACTED);
        if let Credential::ApiKey(_) = self {
            out = out.replace(&self.basic_token(), REDACTED);
        }
        out
    }
}

impl fmt::Debug for Credential {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct(self.kind())
            .field("fingerprint", &self.fingerprint())
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KEY: &str = "s3cr3t-lever-key-0123456789";

    #[test]
    fn debug_never_shows_the_secret() {
        for c in [Credential::api_key(KEY), Credential::bearer(KEY)] {
            let dbg = format!("{c:?} {c:#?}");
            assert!(!dbg.contains(KEY), "{dbg}");
            assert!(dbg.contains(&c.fingerprint()), "{dbg}");
        }
    }

    #[test]
    fn fingerprint_is_short_stable_hex_and_distinguishes_keys() {
        let a = Credential::api_key(KEY).fingerprint();
        assert_eq!(a.len(), 16);
        assert!(a.chars().all(|c| c.is_ascii_hexdigit()));
        assert_eq!(a, Credential::api_key(KEY).fingerprint());
        assert_ne!(a, Credential::api_key("another-key-123").fingerprint());
        assert!(!a.contains(KEY));
    }

    #[test]
    fn header_values_are_sensitive_and_correct() {
        let basic = Credential::api_key(KEY).header_value().unwrap();
        assert!(basic.is_sensitive());
        let expected = base64::engine::general_purpose::STANDARD.encode(format!("{KEY}:"));
        assert_eq!(basic.to_str().unwrap(), format!("Basic {expected}"));
        assert!(!format!("{basic:?}").contains(&expected));

        let bearer = Credential::bearer(KEY).header_value().unwrap();
        assert!(bearer.is_sensitive());
        assert_eq!(bearer.to_str().unwrap(), format!("Bearer {KEY}"));
        assert!(!format!("{bearer:?}").contains(KEY));
    }

    #[test]
    fn bad_header_characters_are_a_config_error_without_the_secret() {
        let err = Credential::bearer("bad\nkey-value")
            .header_value()
            .unwrap_err();
        assert!(matches!(err, LeverError::Config { .. }));
        assert!(!err.to_string().contains("bad\nkey-value"));
    }

    #[test]
    fn redact_removes_raw_and_encoded_secret() {
        let c = Credential::api_key(KEY);
        let text = format!("echo: {KEY} / Basic {}", c.basic_token());
        let red = c.redact(&text);
        assert!(!red.contains(KEY));
        assert!(!red.contains(&c.basic_token()));
        assert!(red.contains(REDACTED));
    }
}
