//! Lever credentials: an API key (HTTP Basic, key as username, empty password), a static
//! OAuth access token (Bearer), or an OAuth connection whose tokens an [`AccessTokenSource`]
//! hands out and refreshes. A secret only ever leaves this module inside a header value that
//! is marked sensitive; everything else sees the fingerprint.

use base64::Engine as _;
use reqwest::header::HeaderValue;
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use std::fmt;
use std::sync::Arc;

use crate::{AccessTokenSource, LeverError};

/// How Fulcrum authenticates to Lever.
#[derive(Clone)]
pub enum Credential {
    /// A Lever API key, sent as HTTP Basic with the key as username and an empty password.
    ApiKey(SecretString),
    /// An OAuth access token, sent as `Authorization: Bearer`, never refreshed.
    Bearer(SecretString),
    /// An OAuth connection: the token is asked for on every attempt and, when Lever answers
    /// 401, refreshed once and the request resent once.
    OAuth(Arc<dyn AccessTokenSource>),
}

/// What redacted text is replaced with.
pub(crate) const REDACTED: &str = "[REDACTED]";

/// The `Authorization` header of a client: fixed for keys and static tokens, asked of the
/// source per attempt for OAuth connections.
#[derive(Clone)]
pub(crate) enum Authorization {
    Fixed(HeaderValue),
    Source(Arc<dyn AccessTokenSource>),
}

impl Credential {
    pub fn api_key(key: impl Into<String>) -> Self {
        Credential::ApiKey(SecretString::from(key.into()))
    }

    pub fn bearer(token: impl Into<String>) -> Self {
        Credential::Bearer(SecretString::from(token.into()))
    }

    /// An OAuth connection whose access tokens come from `source`.
    pub fn oauth(source: impl AccessTokenSource) -> Self {
        Credential::OAuth(Arc::new(source))
    }

    fn kind(&self) -> &'static str {
        match self {
            Credential::ApiKey(_) => "ApiKey",
            Credential::Bearer(_) => "Bearer",
            Credential::OAuth(_) => "OAuth",
        }
    }

    /// Short sha256-hex fingerprint, safe to log and to key rate limits by: of the secret for
    /// keys and static tokens, of [`AccessTokenSource::connection_id`] for OAuth connections
    /// (so a refreshed token keeps its budget and no raw id reaches logs or metrics).
    ///
    /// A domain-separation prefix keeps it from matching a bare sha256 of the key found
    /// elsewhere; 16 hex digits (64 bits) are plenty to tell keys apart without being a
    /// useful oracle for the key itself.
    pub fn fingerprint(&self) -> String {
        let mut hasher = Sha256::new();
        match self {
            Credential::ApiKey(s) | Credential::Bearer(s) => {
                hasher.update(b"fulcrum/lever-credential/v1\0");
                hasher.update(s.expose_secret().as_bytes());
            }
            Credential::OAuth(source) => {
                hasher.update(b"fulcrum/lever-oauth-connection/v1\0");
                hasher.update(source.connection_id().as_bytes());
            }
        }
        let digest = hasher.finalize();
        hex::encode(&digest[..8])
    }

    /// The `Authorization` header value of a key or static token, marked sensitive so that
    /// hyper/reqwest never print it and HTTP/2 never puts it in the HPACK dynamic table.
    pub(crate) fn authorization(&self) -> Result<Authorization, LeverError> {
        let raw = match self {
            Credential::ApiKey(key) => format!("Basic {}", basic_token(key)),
            Credential::Bearer(token) => format!("Bearer {}", token.expose_secret()),
            Credential::OAuth(source) => return Ok(Authorization::Source(source.clone())),
        };
        sensitive_header(&raw, &self.fingerprint()).map(Authorization::Fixed)
    }

    /// Removes the secret (and its Basic-auth encoding) from text that came from elsewhere,
    /// e.g. an error body: a misbehaving proxy or server could echo the header back. OAuth
    /// tokens change, so the transport redacts the token of each attempt itself
    /// ([`redact_secret`]).
    pub(crate) fn redact(&self, text: &str) -> String {
        match self {
            Credential::ApiKey(key) => {
                let out = redact_secret(text, key);
                // The encoding is long and random: no risk of matching ordinary words.
                out.replace(&basic_token(key), REDACTED)
            }
            Credential::Bearer(token) => redact_secret(text, token),
            Credential::OAuth(_) => text.to_owned(),
        }
    }
}

/// `Bearer <token>` as a sensitive header value.
pub(crate) fn bearer_header(
    token: &SecretString,
    fingerprint: &str,
) -> Result<HeaderValue, LeverError> {
    sensitive_header(&format!("Bearer {}", token.expose_secret()), fingerprint)
}

fn sensitive_header(raw: &str, fingerprint: &str) -> Result<HeaderValue, LeverError> {
    let mut value = HeaderValue::from_str(raw).map_err(|_| LeverError::Config {
        message: format!(
            "the Lever credential (fingerprint {fingerprint}) contains characters that cannot \
             be sent in an HTTP header; copy the key again without spaces or line breaks"
        ),
    })?;
    value.set_sensitive(true);
    Ok(value)
}

fn basic_token(key: &SecretString) -> String {
    base64::engine::general_purpose::STANDARD.encode(format!("{}:", key.expose_secret()))
}

/// `text` with every occurrence of `secret` replaced by [`REDACTED`].
pub(crate) fn redact_secret(text: &str, secret: &SecretString) -> String {
    let secret = secret.expose_secret();
    // Very short secrets would redact ordinary words; such keys fail at Lever anyway.
    if secret.len() < 4 {
        return text.to_owned();
    }
    text.replace(secret, REDACTED)
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

    fn fixed(c: &Credential) -> HeaderValue {
        match c.authorization().unwrap() {
            Authorization::Fixed(v) => v,
            Authorization::Source(_) => panic!("a key has a fixed header"),
        }
    }

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
        let basic = fixed(&Credential::api_key(KEY));
        assert!(basic.is_sensitive());
        let expected = base64::engine::general_purpose::STANDARD.encode(format!("{KEY}:"));
        assert_eq!(basic.to_str().unwrap(), format!("Basic {expected}"));
        assert!(!format!("{basic:?}").contains(&expected));

        let bearer = fixed(&Credential::bearer(KEY));
        assert!(bearer.is_sensitive());
        assert_eq!(bearer.to_str().unwrap(), format!("Bearer {KEY}"));
        assert!(!format!("{bearer:?}").contains(KEY));
    }

    #[test]
    fn bad_header_characters_are_a_config_error_without_the_secret() {
        let err = match Credential::bearer("bad\nkey-value").authorization() {
            Err(e) => e,
            Ok(_) => panic!("a line break must not reach a header"),
        };
        assert!(matches!(err, LeverError::Config { .. }));
        assert!(!err.to_string().contains("bad\nkey-value"));
    }

    #[test]
    fn redact_removes_raw_and_encoded_secret() {
        let c = Credential::api_key(KEY);
        let encoded = basic_token(&SecretString::from(KEY));
        let text = format!("echo: {KEY} / Basic {encoded}");
        let red = c.redact(&text);
        assert!(!red.contains(KEY));
        assert!(!red.contains(&encoded));
        assert!(red.contains(REDACTED));
    }
}
