//! A successful token answer, in the terms the host stores.

use lever_model::timestamp::{Millis, now_millis};
use lever_model::{Scope, ScopeSet};
use oauth2::TokenResponse as _;
use oauth2::basic::{BasicTokenResponse, BasicTokenType};
use secrecy::SecretString;
use std::fmt;
use std::time::Duration;

use super::OAuthError;

/// Lifetime assumed when an answer has no `expires_in`: Lever documents 3600 s.
pub const DEFAULT_TOKEN_LIFETIME: Duration = Duration::from_secs(3600);

/// Tokens from Lever's token endpoint.
#[derive(Clone)]
pub struct TokenGrant {
    pub access_token: SecretString,
    /// Present when `offline_access` was granted. Lever rotates it on every refresh: store the
    /// new one and drop the old (which stops working). `None` after a refresh means the
    /// server did not rotate it: keep using the one you have.
    pub refresh_token: Option<SecretString>,
    /// When the access token expires, in ms since the Unix epoch (from `expires_in`, or
    /// [`DEFAULT_TOKEN_LIFETIME`] when the answer has none).
    pub expires_at_ms: Millis,
    /// The scopes the answer named that this client knows. See `scope_omitted`.
    pub scopes: ScopeSet,
    /// Scope words in the answer that are not in Lever's published list (kept out of
    /// `scopes` rather than failing the grant; worth a log line).
    pub unknown_scopes: Vec<String>,
    /// The answer had no `scope`. By RFC 6749 §5.1 the granted scopes are then the ones
    /// requested (at authorize, or the previous grant's on refresh); `scopes` is empty. Use
    /// [`TokenGrant::scopes_or`].
    pub scope_omitted: bool,
}

impl TokenGrant {
    /// The granted scopes: the answer's, or `requested` when the answer named none.
    pub fn scopes_or(&self, requested: &ScopeSet) -> ScopeSet {
        if self.scope_omitted {
            requested.clone()
        } else {
            self.scopes.clone()
        }
    }

    /// Whether the access token expires within `margin` of `now_ms` (refresh before then).
    pub fn expires_within(&self, margin: Duration, now_ms: Millis) -> bool {
        let margin = i64::try_from(margin.as_millis()).unwrap_or(i64::MAX);
        now_ms.saturating_add(margin) >= self.expires_at_ms
    }

    pub(crate) fn from_answer(answer: &BasicTokenResponse) -> Result<Self, OAuthError> {
        if *answer.token_type() != BasicTokenType::Bearer {
            return Err(OAuthError::Unavailable {
                message: format!(
                    "the token endpoint issued a '{}' token; Lever's Data API takes Bearer tokens",
                    answer.token_type().as_ref()
                ),
            });
        }
        let access = answer.access_token().secret();
        if access.trim().is_empty() {
            return Err(OAuthError::Unavailable {
                message: "the token endpoint answered with an empty access_token".into(),
            });
        }
        let refresh_token = answer
            .refresh_token()
            .map(|t| t.secret())
            .filter(|t| !t.trim().is_empty())
            .map(|t| SecretString::from(t.clone()));
        let lifetime = answer.expires_in().unwrap_or(DEFAULT_TOKEN_LIFETIME);
        let lifetime_ms = i64::try_from(lifetime.as_millis()).unwrap_or(i64::MAX);
        let mut scopes = ScopeSet::default();
        let mut unknown_scopes = Vec::new();
        let words = answer.scopes().map(|v| v.iter().map(|s| s.as_str()));
        for word in words.into_iter().flatten().flat_map(str::split_whitespace) {
            match word.parse::<Scope>() {
                Ok(scope) => scopes.insert(scope),
                Err(_) => unknown_scopes.push(word.to_owned()),
            }
        }
        Ok(TokenGrant {
            access_token: SecretString::from(access.clone()),
            refresh_token,
            expires_at_ms: now_millis().saturating_add(lifetime_ms),
            scopes,
            unknown_scopes,
            scope_omitted: answer.scopes().is_none(),
        })
    }
}

impl fmt::Debug for TokenGrant {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("TokenGrant")
            .field("access_token", &"[REDACTED]")
            .field(
                "refresh_token",
                &self.refresh_token.as_ref().map(|_| "[REDACTED]"),
            )
            .field("expires_at_ms", &self.expires_at_ms)
            .field("scopes", &self.scopes.to_string())
            .field("unknown_scopes", &self.unknown_scopes)
            .field("scope_omitted", &self.scope_omitted)
            .finish()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn answer(json: serde_json::Value) -> BasicTokenResponse {
        serde_json::from_value(json).unwrap()
    }

    #[test]
    fn grant_reads_lever_answer_and_keeps_unknown_scopes_aside() {
        let before = now_millis();
        let g = TokenGrant::from_answer(&answer(serde_json::json!({
            "access_token": "at-secret-1", "refresh_token": "rt-secret-1", "token_type": "Bearer",
            "scope": "offline_access opportunities:read:admin  brand_new:read:admin",
            "expires_in": 120,
        })))
        .unwrap();
        assert_eq!(
            g.scopes.to_string(),
            "offline_access opportunities:read:admin"
        );
        assert_eq!(g.unknown_scopes, vec!["brand_new:read:admin".to_owned()]);
        assert!(!g.scope_omitted);
        assert!(g.expires_at_ms >= before + 120_000 && g.expires_at_ms <= now_millis() + 120_000);
        assert!(g.expires_within(Duration::from_secs(121), now_millis()));
        assert!(!g.expires_within(Duration::ZERO, before));
        let dbg = format!("{g:?}");
        assert!(
            !dbg.contains("at-secret-1") && !dbg.contains("rt-secret-1"),
            "{dbg}"
        );
        assert!(dbg.contains("opportunities:read:admin"), "{dbg}");
    }

    #[test]
    fn omitted_fields_take_documented_defaults() {
        let before = now_millis();
        let g = TokenGrant::from_answer(&answer(serde_json::json!({
            "access_token": "at", "token_type": "bearer",
        })))
        .unwrap();
        assert!(g.refresh_token.is_none());
        assert!(g.scope_omitted && g.scopes.is_empty());
        let lifetime = DEFAULT_TOKEN_LIFETIME.as_millis() as i64;
        assert!(g.expires_at_ms >= before + lifetime);
        let requested = ScopeSet::new([Scope::StagesRead]);
        assert_eq!(g.scopes_or(&requested), requested);
    }

    #[test]
    fn non_bearer_or_empty_tokens_are_refused() {
        for json in [
            serde_json::json!({"access_token": "at", "token_type": "mac"}),
            serde_json::json!({"access_token": " ", "token_type": "Bearer"}),
        ] {
            let e = TokenGrant::from_answer(&answer(json)).unwrap_err();
            assert!(matches!(e, OAuthError::Unavailable { .. }), "{e:?}");
        }
    }
}
