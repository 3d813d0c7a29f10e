//! Credentials (API keys and OAuth-style bearer tokens), the permission check driven by
//! `Operation::permission()`, and `perform_as` resolution driven by `Operation::perform_as()`.

use crate::config::{KeySpec, PermissionSet};
use crate::db::Db;
use crate::error::ApiError;
use crate::query::RawQuery;
use base64::Engine;
use base64::engine::general_purpose::{STANDARD, URL_SAFE_NO_PAD};
use http::HeaderMap;
use lever_model::{Operation, PerformAs, Permission};
use parking_lot::RwLock;
use rand::Rng;
use rand::distr::Alphanumeric;
use serde::Serialize;
use std::collections::HashMap;
use std::sync::Arc;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum CredentialKind {
    /// HTTP Basic, key as the username.
    ApiKey,
    /// `Authorization: Bearer <token>`.
    Bearer,
}

#[derive(Debug, Clone)]
pub struct Credential {
    pub secret: String,
    pub kind: CredentialKind,
    pub label: String,
    pub permissions: PermissionSet,
    pub confidential: bool,
    pub revoked: bool,
}

impl Credential {
    /// Lever lets a key with "apply to posting" also create uploads (for résumé answers).
    pub fn allows(&self, op: Operation) -> bool {
        self.permissions.allows(op.permission())
            || (op == Operation::CreateUpload
                && self.permissions.allows(Permission::ApplyToPosting))
    }
}

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

    /// Every credential ever issued, by label.
    pub fn list(&self) -> Vec<Arc<Credential>> {
        let mut all: Vec<_> = self.map.read().values().cloned().collect();
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
            Some(c) => Ok(c),
            None => Err(ApiError::unauthorized("Invalid API key or access token")),
        }
    }
}

/// 403 unless the credential holds the operation's permission.
pub(crate) fn authorize(cred: &Credential, op: Operation) -> Result<(), ApiError> {
    if cred.allows(op) {
        return Ok(());
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
