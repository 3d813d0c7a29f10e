//! What can go wrong at Lever's token endpoint, and what the caller should do next. No
//! variant carries a token, a code, a PKCE verifier or the client secret: server text is
//! redacted before it gets here and answer bodies are never quoted.

use oauth2::RequestTokenError;
use oauth2::basic::BasicErrorResponse;
use secrecy::SecretString;

use super::http::TokenHttpError;
use crate::LeverError;
use crate::credential::redact_secret;

/// Longest piece of a server's `error_description` kept.
const MAX_DESCRIPTION: usize = 300;

/// Token-endpoint error codes that mean "Fulcrum's app or request is wrong", not the grant.
const CLIENT_SIDE_CODES: &[&str] = &[
    "invalid_client",
    "invalid_request",
    "unauthorized_client",
    "unsupported_grant_type",
];

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum OAuthError {
    /// The authorization server refused (`invalid_grant`, `invalid_client`,
    /// `access_denied`, ...). `error` is the OAuth error code, `description` the server's
    /// `error_description` (may be empty). See [`OAuthError::needs_reconnect`].
    #[error("{}", rejected_text(.error, .description))]
    Rejected { error: String, description: String },

    /// The token endpoint could not be reached, timed out, answered 5xx/429 or something
    /// unreadable. Retry later. A refresh that fails this way may still have rotated the
    /// refresh token at Lever (the answer was lost): if a later refresh with the stored
    /// token gets `invalid_grant`, the connection must be reconnected.
    #[error("Lever's OAuth token endpoint is unavailable ({message}): retry later")]
    Unavailable { message: String },

    /// Bad app configuration or arguments (empty client id, non-HTTP URL, malformed PKCE
    /// verifier), found before anything was sent.
    #[error("invalid Lever OAuth configuration or arguments, nothing was sent: {message}")]
    Config { message: String },
}

fn rejected_text(error: &str, description: &str) -> String {
    let what = if description.is_empty() {
        format!("Lever's OAuth server refused the request ({error})")
    } else {
        format!("Lever's OAuth server refused the request ({error}: {description})")
    };
    let next = match error {
        "invalid_grant" => {
            "the code or refresh token is expired, revoked or already used: a Lever Super \
             Admin must connect Fulcrum to Lever again"
        }
        "access_denied" => "the Lever admin declined; ask a Lever Super Admin to connect again",
        "invalid_scope" => {
            "the requested scopes are not allowed for this app; connect again asking only for \
             scopes the app is registered for"
        }
        "invalid_client" | "unauthorized_client" => {
            "Lever does not accept Fulcrum's OAuth client id and secret for this; check the \
             Lever OAuth app configuration of this Fulcrum installation"
        }
        _ => "this is not temporary; check the Lever OAuth app configuration and connect again",
    };
    format!("{what}: {next}")
}

impl OAuthError {
    /// Whether the grant itself is unusable and only a new consent helps (`invalid_grant`,
    /// `access_denied`, `invalid_scope`, unknown codes). False for errors of Fulcrum's own
    /// app configuration (`invalid_client`, ...), for outages and for local mistakes.
    pub fn needs_reconnect(&self) -> bool {
        matches!(self, OAuthError::Rejected { error, .. }
            if !CLIENT_SIDE_CODES.contains(&error.as_str()))
    }

    /// Whether retrying later may succeed.
    pub fn is_transient(&self) -> bool {
        matches!(self, OAuthError::Unavailable { .. })
    }

    /// The OAuth error code of a [`OAuthError::Rejected`].
    pub fn code(&self) -> Option<&str> {
        match self {
            OAuthError::Rejected { error, .. } => Some(error),
            _ => None,
        }
    }

    pub(crate) fn config(message: impl Into<String>) -> Self {
        OAuthError::Config {
            message: message.into(),
        }
    }

    /// Maps the `oauth2` crate's error, removing `secrets` from any server text.
    pub(crate) fn from_request(
        e: RequestTokenError<TokenHttpError, BasicErrorResponse>,
        secrets: &[&SecretString],
    ) -> Self {
        match e {
            RequestTokenError::ServerResponse(answer) => {
                let error = clean(answer.error().as_ref(), secrets);
                let description = clean(
                    answer.error_description().map_or("", String::as_str),
                    secrets,
                );
                // RFC 6749's codes for "try again later", sent with a JSON body.
                if matches!(error.as_str(), "server_error" | "temporarily_unavailable") {
                    let message = if description.is_empty() {
                        error
                    } else {
                        format!("{error}: {description}")
                    };
                    return OAuthError::Unavailable { message };
                }
                OAuthError::Rejected { error, description }
            }
            RequestTokenError::Request(e) => e.into_oauth_error(),
            // The body may hold a token: name only where and how it failed to parse.
            RequestTokenError::Parse(e, _body) => OAuthError::Unavailable {
                message: format!(
                    "unreadable answer (at '{}': {:?} error)",
                    e.path(),
                    e.inner().classify()
                ),
            },
            // The crate's own texts (wrong content type, empty body) hold no secrets.
            RequestTokenError::Other(message) => OAuthError::Unavailable { message },
        }
    }
}

/// Server text without secrets, shortened.
fn clean(text: &str, secrets: &[&SecretString]) -> String {
    let mut text = text.trim().to_owned();
    for secret in secrets {
        text = redact_secret(&text, secret);
    }
    match text.char_indices().nth(MAX_DESCRIPTION) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text,
    }
}

impl From<OAuthError> for LeverError {
    /// For [`crate::AccessTokenSource`] implementations: a grant that needs a new consent
    /// becomes [`LeverError::Reconnect`], an outage [`LeverError::Unavailable`] (nothing was
    /// sent to the Data API), anything else [`LeverError::Config`].
    fn from(e: OAuthError) -> Self {
        let needs_reconnect = e.needs_reconnect();
        match e {
            OAuthError::Rejected { .. } if needs_reconnect => LeverError::Reconnect {
                message: e.to_string(),
            },
            OAuthError::Unavailable { .. } => LeverError::Unavailable {
                status: None,
                message: e.to_string(),
                outcome_unknown: false,
            },
            OAuthError::Rejected { .. } | OAuthError::Config { .. } => LeverError::Config {
                message: e.to_string(),
            },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn rejected(error: &str) -> OAuthError {
        OAuthError::Rejected {
            error: error.into(),
            description: String::new(),
        }
    }

    #[test]
    fn reconnect_only_for_grant_problems() {
        for code in [
            "invalid_grant",
            "access_denied",
            "invalid_scope",
            "login_required",
        ] {
            assert!(rejected(code).needs_reconnect(), "{code}");
            assert!(matches!(
                LeverError::from(rejected(code)),
                LeverError::Reconnect { .. }
            ));
        }
        for code in CLIENT_SIDE_CODES {
            assert!(!rejected(code).needs_reconnect(), "{code}");
            assert!(matches!(
                LeverError::from(rejected(code)),
                LeverError::Config { .. }
            ));
        }
        let down = OAuthError::Unavailable {
            message: "x".into(),
        };
        assert!(down.is_transient() && !down.needs_reconnect());
        assert!(LeverError::from(down).is_transient());
        assert!(!OAuthError::config("x").needs_reconnect());
    }

    #[test]
    fn messages_say_what_to_do_next() {
        let s = rejected("invalid_grant").to_string();
        assert!(s.contains("connect Fulcrum to Lever again"), "{s}");
        let s = rejected("invalid_client").to_string();
        assert!(s.contains("client id and secret"), "{s}");
        let s = OAuthError::Rejected {
            error: "access_denied".into(),
            description: "User declined".into(),
        }
        .to_string();
        assert!(s.contains("(access_denied: User declined)"), "{s}");
    }

    #[test]
    fn server_text_is_redacted_and_bounded() {
        let secret = SecretString::from("rt-0123456789abcdef");
        let text = format!(
            "token {} is revoked {}",
            "rt-0123456789abcdef",
            "x".repeat(500)
        );
        let out = clean(&text, &[&secret]);
        assert!(!out.contains("rt-0123456789abcdef"), "{out}");
        assert!(out.starts_with("token [REDACTED] is revoked"), "{out}");
        assert_eq!(out.chars().count(), MAX_DESCRIPTION + 1);
    }
}
