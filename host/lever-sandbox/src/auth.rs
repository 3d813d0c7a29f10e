//! Credentials (API keys, directly issued bearer tokens and access tokens from the OAuth
//! flow), the permission/scope check driven by `Operation::permission()`, and `perform_as`
//! resolution driven by `Operation::perform_as()`.

use crate::config::{KeySpec, PermissionSet};
use crate::db::Db;
use crate::error::ApiError;
use crate::query::RawQuery;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use http::HeaderMap;
use lever_model::{Operation, PerformAs, Permission, Scope, ScopeSet};
use parking_lot::RwLock;
use rand::Rng;
use rand::distr::Alphanumeric;
use serde::Serialize;
use std::collections::HashMap;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialKind {
    /// HTTP Basic, key as the username.
    ApiKey,
    /// `Authorization: Bearer <token>`.
    Bearer,
}

#[derive(Clone)]
pub struct Credential {
    pub secret: String,
    pub kind: CredentialKind,
    pub label: String,
    /// Unused (`All`) for OAuth access tokens, which carry scopes instead.
    pub permissions: PermissionSet,
    pub confidential: bool,
    pub revoked: bool,
    /// Set on access tokens issued by `/oauth/token`.
    pub oauth: Option<OAuthAccess>,
}

/// What an access token from the OAuth flow was granted.
#[derive(Debug, Clone)]
pub struct OAuthAccess {
    /// The accepted consent it descends from; revoking it revokes the token.
    pub grant_id: String,
    pub client_id: String,
    pub scopes: ScopeSet,
    pub expires_at: Instant,
}

impl fmt::Debug for Credential {
    // The secret never reaches logs.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Credential")
            .field("kind", &self.kind)
            .field("label", &self.label)
            .field("permissions", &self.permissions)
            .field("confidential", &self.confidential)
            .field("revoked", &self.revoked)
            .field("oauth", &self.oauth)
            .finish_non_exhaustive()
    }
}

impl Credential {
    /// Lever lets a key with "apply to posting" also create uploads (for résumé answers);
    /// OAuth tokens are checked against their scopes the same way.
    pub fn allows(&self, op: Operation) -> bool {
        let has = |p: Permission| match &self.oauth {
            Some(o) => o.scopes.covers(p),
            None => self.permissions.allows(p),
        };
        has(op.permission()) || (op == Operation::CreateUpload && has(Permission::ApplyToPosting))
    }

    /// The rate-limit bucket: per credential, except that every access token of one OAuth
    /// grant shares a bucket, so refreshing a token does not reset the budget.
    pub fn rate_key(&self) -> String {
        match &self.oauth {
            Some(o) => format!("grant:{}", o.grant_id),
            None => self.secret.clone(),
        }
    }
}

/// Expired OAuth access tokens are still recognised (to say "expired") for this long.
const EXPIRED_TOKEN_MEMORY: Duration = Duration::from_secs(86_400);

#[derive(Default)]
pub(crate) struct Credentials {
    map: RwLock<HashMap<String, Arc<Credential>>>,
}

pub(crate) fn random_string(len: usize) -> String {
    rand::rng()
        .sample_iter(Alphanumeric)
        .take(len)
        .map(char::from)
        .collect()
}

impl Credentials {
    fn insert(&self, secret: String, kind: CredentialKind, spec: KeySpec) -> String {
        let cred = Credential {
            secret: secret.clone(),
            kind,
            label: spec.label,
            permissions: spec.permissions,
            confidential: spec.confidential,
            revoked: false,
            oauth: None,
        };
        self.map.write().insert(secret.clone(), Arc::new(cred));
        secret
    }

    pub fn issue_api_key(&self, spec: KeySpec) -> String {
        self.insert(
            format!("lsk_{}", random_string(40)),
            CredentialKind::ApiKey,
            spec,
        )
    }

    /// Registers a key chosen by the operator (e.g. a pinned demo key).
    pub fn register_api_key(&self, key: String, spec: KeySpec) -> String {
        self.insert(key, CredentialKind::ApiKey, spec)
    }

    /// A JWT-shaped access token (Lever's are Auth0 JWTs); clients must treat it as opaque.
    pub fn issue_bearer_token(&self, spec: KeySpec, audience: &str) -> String {
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        let payload = serde_json::json!({
            "iss": "lever-sandbox",
            "sub": spec.label,
            "aud": audience,
            "jti": random_string(16),
        });
        let payload = URL_SAFE_NO_PAD.encode(payload.to_string());
        let signature = URL_SAFE_NO_PAD.encode(random_string(32));
        self.insert(
            format!("{header}.{payload}.{signature}"),
            CredentialKind::Bearer,
            spec,
        )
    }

    /// An access token for an OAuth grant: JWT-shaped like Lever's (Auth0) tokens, opaque to
    /// clients. `sub` is the consenting user, `azp` the app.
    pub fn issue_oauth_token(
        &self,
        access: OAuthAccess,
        label: String,
        subject: &str,
        audience: &str,
        ttl: Duration,
    ) -> String {
        let issued_at = lever_model::timestamp::now_millis() / 1000;
        let header = URL_SAFE_NO_PAD.encode(br#"{"alg":"HS256","typ":"JWT"}"#);
        let payload = serde_json::json!({
            "iss": "lever-sandbox",
            "sub": subject,
            "aud": audience,
            "azp": access.client_id,
            "scope": access.scopes.to_string(),
            "iat": issued_at,
            "exp": issued_at.saturating_add(i64::try_from(ttl.as_secs()).unwrap_or(i64::MAX)),
            "jti": random_string(16),
        });
        let payload = URL_SAFE_NO_PAD.encode(payload.to_string());
        let signature = URL_SAFE_NO_PAD.encode(random_string(32));
        let secret = format!("{header}.{payload}.{signature}");
        let cred = Credential {
            secret: secret.clone(),
            kind: CredentialKind::Bearer,
            label,
            permissions: PermissionSet::All,
            confidential: access.scopes.contains(Scope::ConfidentialAccess),
            revoked: false,
            oauth: Some(access),
        };
        let now = Instant::now();
        let mut map = self.map.write();
        // Forget long-expired tokens so a long-running sandbox does not grow without bound.
        map.retain(|_, c| {
            c.oauth
                .as_ref()
                .is_none_or(|o| o.expires_at + EXPIRED_TOKEN_MEMORY > now)
        });
        map.insert(secret.clone(), Arc::new(cred));
        secret
    }

    /// Revoke every access token of the given OAuth grants; returns how many.
    pub fn revoke_grants(&self, grant_ids: &[String]) -> usize {
        let mut n = 0;
        for c in self.map.write().values_mut() {
            if c.oauth
                .as_ref()
                .is_some_and(|o| grant_ids.contains(&o.grant_id))
                && !c.revoked
            {
                Arc::make_mut(c).revoked = true;
                n += 1;
            }
        }
        n
    }

    /// Mark a credential revoked; `false` if it was never issued.
    pub fn revoke(&self, secret: &str) -> bool {
        let mut map = self.map.write();
        match map.get_mut(secret) {
            Some(c) => {
                Arc::make_mut(c).revoked = true;
                true
            }
            None => false,
        }
    }

    /// Every API key and directly issued token, by label. Access tokens from the OAuth flow
    /// are not listed: they belong to their app (see the Authorized Apps list).
    pub fn list(&self) -> Vec<Arc<Credential>> {
        let mut all: Vec<_> = self
            .map
            .read()
            .values()
            .filter(|c| c.oauth.is_none())
            .cloned()
            .collect();
        all.sort_by(|a, b| (&a.label, &a.secret).cmp(&(&b.label, &b.secret)));
        all
    }

    /// Who is calling: Basic (key as username, password ignored) or Bearer → 401 otherwise.
    pub fn authenticate(&self, headers: &HeaderMap) -> Result<Arc<Credential>, ApiError> {
        let missing = || {
            ApiError::unauthorized(
                "Missing credentials: send the API key as the HTTP Basic username with an empty \
                 password, or an OAuth access token as 'Authorization: Bearer <token>'",
            )
        };
        let header = headers
            .get(http::header::AUTHORIZATION)
            .ok_or_else(missing)?
            .to_str()
            .map_err(|_| ApiError::unauthorized("Malformed Authorization header"))?
            .trim();
        let (scheme, rest) = header.split_once(' ').ok_or_else(missing)?;
        let (secret, kind) = if scheme.eq_ignore_ascii_case("basic") {
            let decoded = STANDARD
                .decode(rest.trim())
                .ok()
                .and_then(|b| String::from_utf8(b).ok())
                .ok_or_else(|| ApiError::unauthorized("Malformed HTTP Basic credentials"))?;
            let user = decoded.split_once(':').map_or(decoded.as_str(), |(u, _)| u);
            (user.to_owned(), CredentialKind::ApiKey)
        } else if scheme.eq_ignore_ascii_case("bearer") {
            (rest.trim().to_owned(), CredentialKind::Bearer)
        } else {
            return Err(missing());
        };
        let cred = self.map.read().get(&secret).cloned();
        match cred {
            Some(c) if c.kind != kind => Err(ApiError::unauthorized(match kind {
                CredentialKind::ApiKey => {
                    "An access token was sent as an API key; use 'Authorization: Bearer <token>'"
                }
                CredentialKind::Bearer => {
                    "An API key was sent as a bearer token; send it as the HTTP Basic username"
                }
            })),
            Some(c) if c.revoked => Err(ApiError::unauthorized(
                "This API key or access token has been revoked",
            )),
            Some(c)
                if c.oauth
                    .as_ref()
                    .is_some_and(|o| o.expires_at <= Instant::now()) =>
            {
                Err(ApiError::unauthorized(
                    "The access token expired; refresh it (POST /oauth/token with \
                     grant_type=refresh_token) or send the user through /authorize again",
                ))
            }
            Some(c) => Ok(c),
            None => Err(ApiError::unauthorized("Invalid API key or access token")),
        }
    }
}

/// 403 unless the credential holds the operation's permission (OAuth: a covering scope).
pub(crate) fn authorize(cred: &Credential, op: Operation) -> Result<(), ApiError> {
    if cred.allows(op) {
        return Ok(());
    }
    if cred.oauth.is_some() {
        let scope = Scope::for_permission(op.permission());
        return Err(ApiError::forbidden(format!(
            "Your account settings do not authorize {}: this access token lacks the \
             \"{scope}\" scope. Send a Super Admin through /authorize again with \
             scope={scope} added.",
            op.label()
        )));
    }
    let words = op.permission().as_str();
    Err(ApiError::forbidden(format!(
        "Your account settings do not authorize {}: this API key lacks the \"{words}\" \
         permission. Ask a Super Admin to generate a key with the \"{words}\" permission.",
        op.label()
    )))
}

/// Resolve `perform_as` per the operation's rule: required and missing → 400; given but not
/// an active user → 400; not accepted → ignored.
pub(crate) fn perform_as(
    op: Operation,
    query: &RawQuery,
    db: &Db,
) -> Result<Option<String>, ApiError> {
    let rule = op.perform_as();
    if rule == PerformAs::NotAccepted {
        return Ok(None);
    }
    let Some(id) = query.one("perform_as") else {
        return match rule {
            PerformAs::Required => Err(ApiError::bad_request(format!(
                "Missing required query parameter perform_as: {} must be performed as a Lever \
                 user (pass ?perform_as=<user id>)",
                op.label()
            ))),
            _ => Ok(None),
        };
    };
    match db.user(id) {
        Some(u) if u.is_active() => Ok(Some(u.id.clone())),
        Some(_) => Err(ApiError::bad_request(format!(
            "perform_as user {id} is deactivated"
        ))),
        None => Err(ApiError::bad_request(format!(
            "perform_as user {id} was not found"
        ))),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn oauth_token(creds: &Credentials, grant: &str, scopes: &[Scope], ttl: Duration) -> String {
        let access = OAuthAccess {
            grant_id: grant.into(),
            client_id: "app".into(),
            scopes: ScopeSet::new(scopes.iter().copied()),
            expires_at: Instant::now() + ttl,
        };
        creds.issue_oauth_token(access, "OAuth: app".into(), "user", "aud/", ttl)
    }

    fn bearer(token: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            http::header::AUTHORIZATION,
            format!("Bearer {token}").parse().unwrap(),
        );
        h
    }

    #[test]
    fn oauth_tokens_follow_their_scopes_and_share_the_grants_rate_bucket() {
        let creds = Credentials::default();
        let hour = Duration::from_secs(3600);
        let a = oauth_token(&creds, "g1", &[Scope::PostingsWrite], hour);
        let b = oauth_token(&creds, "g1", &[Scope::ConfidentialAccess], hour);
        let a = creds.authenticate(&bearer(&a)).unwrap();
        let b = creds.authenticate(&bearer(&b)).unwrap();
        assert_eq!(a.rate_key(), b.rate_key());
        assert!(a.allows(Operation::ListPostings) && a.allows(Operation::CreateUpload));
        assert!(!a.allows(Operation::ListUsers) && !a.confidential);
        assert!(b.confidential);
        let err = authorize(&a, Operation::ListUsers).unwrap_err();
        assert!(
            err.message.contains("\"users:read:admin\""),
            "{}",
            err.message
        );
        assert!(!format!("{a:?}").contains(&a.secret));
        // Directly issued credentials keep a bucket each and are still listed.
        let key = creds.issue_api_key(KeySpec::all("k"));
        assert_eq!(creds.list().len(), 1);
        assert_ne!(creds.list()[0].rate_key(), a.rate_key());
        assert_eq!(creds.list()[0].secret, key);
        assert_eq!(creds.revoke_grants(&["g1".into()]), 2);
        assert!(creds.authenticate(&bearer(&a.secret)).is_err());
    }

    #[test]
    fn expired_oauth_tokens_get_a_clear_401() {
        let creds = Credentials::default();
        let token = oauth_token(&creds, "g", &[Scope::StagesRead], Duration::ZERO);
        let err = creds.authenticate(&bearer(&token)).unwrap_err();
        assert_eq!(err.status, http::StatusCode::UNAUTHORIZED);
        assert!(
            err.message.contains("expired; refresh it"),
            "{}",
            err.message
        );
    }
}
