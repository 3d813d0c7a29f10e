//! Lever's OAuth server (Lever runs it on Auth0): registered apps, the authorization-code
//! flow with optional PKCE, rotating refresh tokens and the Authorized Apps list. This module
//! holds the state and the rules; `routes::oauth` speaks HTTP.

mod store;

pub(crate) use store::{AuthorizeRequest, InvalidGrant, IssuedGrant, OAuthStore, is_pkce_value};

use crate::auth::random_string;
use lever_model::ScopeSet;
use lever_model::timestamp::Millis;
use serde::Serialize;
use std::fmt;
use std::time::Duration;

/// How long a pending consent (`transaction`) and an authorization code stay usable.
pub const AUTHORIZATION_LIFETIME: Duration = Duration::from_secs(600);
/// Default `expires_in` of access tokens, as Lever's.
pub const DEFAULT_ACCESS_TOKEN_TTL: Duration = Duration::from_secs(3600);
/// Longest accepted access-token lifetime (one day).
pub const MAX_ACCESS_TOKEN_TTL: Duration = Duration::from_secs(86_400);

/// An OAuth client registered with the sandbox (Lever registers partner apps by hand).
#[derive(Clone, PartialEq, Eq)]
pub struct OAuthApp {
    pub client_id: String,
    pub client_secret: String,
    /// Shown on the consent page and in Authorized Apps.
    pub name: String,
    /// Absolute http(s) URIs; `redirect_uri` must equal one of them exactly.
    pub redirect_uris: Vec<String>,
}

impl fmt::Debug for OAuthApp {
    // The secret never reaches logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("OAuthApp")
            .field("client_id", &self.client_id)
            .field("client_secret", &"<redacted>")
            .field("name", &self.name)
            .field("redirect_uris", &self.redirect_uris)
            .finish()
    }
}

impl OAuthApp {
    /// An app with a freshly generated client id and secret.
    pub fn generate(name: impl Into<String>, redirect_uris: Vec<String>) -> Self {
        Self {
            client_id: random_string(32),
            client_secret: random_string(64),
            name: name.into(),
            redirect_uris,
        }
    }

    /// Checks the fields the way registration does.
    pub fn validate(&self) -> Result<(), OAuthAppError> {
        let id_ok = |c: char| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.');
        if self.client_id.is_empty()
            || self.client_id.len() > 128
            || !self.client_id.chars().all(id_ok)
        {
            return Err(OAuthAppError::BadClientId(self.client_id.clone()));
        }
        if self.client_secret.is_empty() {
            return Err(OAuthAppError::EmptySecret);
        }
        if self.name.trim().is_empty() {
            return Err(OAuthAppError::EmptyName);
        }
        if self.redirect_uris.is_empty() {
            return Err(OAuthAppError::NoRedirectUri);
        }
        for uri in &self.redirect_uris {
            check_redirect_uri(uri)?;
        }
        Ok(())
    }
}

/// RFC 6749 §3.1.2: absolute, no fragment; we also require http(s).
fn check_redirect_uri(uri: &str) -> Result<(), OAuthAppError> {
    let bad = |reason: &'static str| OAuthAppError::BadRedirectUri {
        uri: uri.to_owned(),
        reason,
    };
    let parsed = url::Url::parse(uri).map_err(|_| bad("is not an absolute URL"))?;
    if !matches!(parsed.scheme(), "http" | "https") {
        return Err(bad("must use http or https"));
    }
    if parsed.host_str().is_none_or(str::is_empty) {
        return Err(bad("has no host"));
    }
    if parsed.fragment().is_some() {
        return Err(bad("must not contain a fragment (#...)"));
    }
    Ok(())
}

/// Why an app cannot be registered.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OAuthAppError {
    #[error(
        "client_id {0:?} is invalid: use 1-128 letters, digits, '-', '_' or '.' (or leave it \
         out to have one generated)"
    )]
    BadClientId(String),
    #[error("client_secret must not be empty (leave it out to have one generated)")]
    EmptySecret,
    #[error("the app needs a name; it is shown on the consent page")]
    EmptyName,
    #[error("the app needs at least one redirect URI")]
    NoRedirectUri,
    #[error("redirect URI {uri:?} {reason}; give an absolute http(s) URL")]
    BadRedirectUri { uri: String, reason: &'static str },
    #[error("an OAuth app with client_id {0:?} is already registered")]
    DuplicateClientId(String),
}

/// One accepted consent, as listed under Settings → Integrations → Authorized Apps.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct AuthorizedApp {
    pub grant_id: String,
    pub client_id: String,
    pub name: String,
    /// The Super Admin who accepted.
    pub user_id: String,
    pub scopes: ScopeSet,
    pub created_at: Millis,
    /// Last Data API call with one of the grant's access tokens.
    pub last_used_at: Option<Millis>,
}

#[cfg(test)]
mod tests {
    use super::*;

    fn app(uris: &[&str]) -> OAuthApp {
        OAuthApp {
            client_id: "app-1".into(),
            client_secret: "s3cret".into(),
            name: "App".into(),
            redirect_uris: uris.iter().map(|u| u.to_string()).collect(),
        }
    }

    #[test]
    fn redirect_uris_must_be_absolute_http() {
        assert!(app(&["http://127.0.0.1:9/cb?x=1"]).validate().is_ok());
        for bad in ["/cb", "ftp://h/cb", "https://h/cb#frag", "not a url"] {
            let err = app(&[bad]).validate().unwrap_err();
            assert!(matches!(err, OAuthAppError::BadRedirectUri { .. }), "{bad}");
            assert!(err.to_string().contains(bad));
        }
        assert_eq!(app(&[]).validate(), Err(OAuthAppError::NoRedirectUri));
    }

    #[test]
    fn ids_names_and_secrets_are_checked_and_secrets_redacted() {
        let mut a = app(&["https://h/cb"]);
        a.client_id = "a:b".into();
        assert!(matches!(a.validate(), Err(OAuthAppError::BadClientId(_))));
        let mut a = app(&["https://h/cb"]);
        a.client_secret.clear();
        assert_eq!(a.validate(), Err(OAuthAppError::EmptySecret));
        let mut a = app(&["https://h/cb"]);
        a.name = " ".into();
        assert_eq!(a.validate(), Err(OAuthAppError::EmptyName));
        let a = OAuthApp::generate("Gen", vec!["https://h/cb".into()]);
        assert!(a.validate().is_ok());
        assert!(!format!("{a:?}").contains(&a.client_secret));
    }
}
