//! The OAuth server's memory: apps, pending consents, authorization codes, refresh tokens and
//! grants (one per accepted consent). Access tokens live with the other credentials
//! (`auth::Credentials`) and point back to their grant. Methods take `now` so expiry is tested
//! without waiting.

use super::{AUTHORIZATION_LIFETIME, AuthorizedApp, OAuthApp, OAuthAppError};
use crate::auth::random_string;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use indexmap::IndexMap;
use lever_model::ScopeSet;
use lever_model::timestamp::{Millis, now_millis};
use parking_lot::Mutex;
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};
use subtle::ConstantTimeEq;

/// A validated `/authorize` request waiting for the user's decision.
#[derive(Debug, Clone)]
pub(crate) struct AuthorizeRequest {
    pub client_id: String,
    pub redirect_uri: String,
    pub state: String,
    pub scopes: ScopeSet,
    /// S256 challenge, when the client uses PKCE.
    pub code_challenge: Option<String>,
}

struct Pending {
    request: AuthorizeRequest,
    expires: Instant,
}

struct Code {
    grant_id: String,
    client_id: String,
    redirect_uri: String,
    code_challenge: Option<String>,
    expires: Instant,
    used: bool,
}

struct Refresh {
    grant_id: String,
    client_id: String,
    /// Rotated tokens are refused from then on.
    rotated: bool,
}

#[derive(Clone)]
struct Grant {
    client_id: String,
    user_id: String,
    scopes: ScopeSet,
    created_at: Millis,
    last_used_at: Option<Millis>,
    revoked: bool,
}

/// What a successful code exchange or refresh grants.
#[derive(Debug, Clone)]
pub(crate) struct IssuedGrant {
    pub grant_id: String,
    pub client_id: String,
    pub user_id: String,
    pub scopes: ScopeSet,
}

/// An `invalid_grant` answer; `revoked_grant` is set when the request revealed a replayed
/// code, so the caller also revokes the grant's access tokens (RFC 6749 §10.5).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InvalidGrant {
    pub description: String,
    pub revoked_grant: Option<String>,
}

impl InvalidGrant {
    fn new(description: impl Into<String>) -> Self {
        Self {
            description: description.into(),
            revoked_grant: None,
        }
    }
}

#[derive(Default)]
struct Inner {
    apps: IndexMap<String, OAuthApp>,
    pending: HashMap<String, Pending>,
    codes: HashMap<String, Code>,
    refresh: HashMap<String, Refresh>,
    grants: IndexMap<String, Grant>,
}

pub(crate) struct OAuthStore {
    inner: Mutex<Inner>,
    access_ttl_secs: AtomicU64,
}

impl OAuthStore {
    pub fn new(access_ttl: Duration) -> Self {
        Self {
            inner: Mutex::default(),
            access_ttl_secs: AtomicU64::new(access_ttl.as_secs().max(1)),
        }
    }

    pub fn access_ttl(&self) -> Duration {
        Duration::from_secs(self.access_ttl_secs.load(Ordering::Relaxed))
    }

    /// Applies to tokens issued from now on.
    pub fn set_access_ttl(&self, ttl: Duration) {
        self.access_ttl_secs
            .store(ttl.as_secs().max(1), Ordering::Relaxed);
    }

    pub fn register(&self, app: OAuthApp) -> Result<(), OAuthAppError> {
        app.validate()?;
        let mut inner = self.inner.lock();
        if inner.apps.contains_key(&app.client_id) {
            return Err(OAuthAppError::DuplicateClientId(app.client_id));
        }
        inner.apps.insert(app.client_id.clone(), app);
        Ok(())
    }

    pub fn app(&self, client_id: &str) -> Option<OAuthApp> {
        self.inner.lock().apps.get(client_id).cloned()
    }

    pub fn apps(&self) -> Vec<OAuthApp> {
        self.inner.lock().apps.values().cloned().collect()
    }

    /// Client authentication for the token endpoint, in constant time over the secret.
    pub fn authenticate_client(&self, client_id: &str, secret: &str) -> bool {
        self.inner
            .lock()
            .apps
            .get(client_id)
            .is_some_and(|a| bool::from(a.client_secret.as_bytes().ct_eq(secret.as_bytes())))
    }

    /// Keep `request` until the user decides; the id is the consent form's `transaction`.
    pub fn begin(&self, request: AuthorizeRequest, now: Instant) -> String {
        let id = random_string(32);
        let mut inner = self.inner.lock();
        inner.pending.retain(|_, p| p.expires > now);
        inner.pending.insert(
            id.clone(),
            Pending {
                request,
                expires: now + AUTHORIZATION_LIFETIME,
            },
        );
        id
    }

    /// The pending request, removed so it cannot be decided twice; `None` if unknown, already
    /// decided or expired.
    pub fn take_pending(&self, transaction: &str, now: Instant) -> Option<AuthorizeRequest> {
        let pending = self.inner.lock().pending.remove(transaction)?;
        (pending.expires > now).then_some(pending.request)
    }

    /// The user accepted: record the grant and return a single-use authorization code.
    pub fn approve(&self, request: &AuthorizeRequest, user_id: &str, now: Instant) -> String {
        let grant_id = uuid::Uuid::new_v4().to_string();
        let code = random_string(40);
        let mut inner = self.inner.lock();
        inner.grants.insert(
            grant_id.clone(),
            Grant {
                client_id: request.client_id.clone(),
                user_id: user_id.to_owned(),
                scopes: request.scopes.clone(),
                created_at: now_millis(),
                last_used_at: None,
                revoked: false,
            },
        );
        // Used codes are kept until they expire so a replay is recognised.
        inner.codes.retain(|_, c| c.expires > now);
        inner.codes.insert(
            code.clone(),
            Code {
                grant_id,
                client_id: request.client_id.clone(),
                redirect_uri: request.redirect_uri.clone(),
                code_challenge: request.code_challenge.clone(),
                expires: now + AUTHORIZATION_LIFETIME,
                used: false,
            },
        );
        code
    }

    /// `grant_type=authorization_code`. Any attempt by the right client uses the code up, so
    /// a PKCE verifier cannot be guessed by retrying.
    pub fn exchange_code(
        &self,
        client_id: &str,
        code: &str,
        redirect_uri: &str,
        code_verifier: Option<&str>,
        now: Instant,
    ) -> Result<IssuedGrant, InvalidGrant> {
        let mut inner = self.inner.lock();
        let Some(entry) = inner
            .codes
            .get_mut(code)
            .filter(|c| c.client_id == client_id)
        else {
            return Err(InvalidGrant::new(
                "Invalid authorization code: it was not issued to this client",
            ));
        };
        let was_used = std::mem::replace(&mut entry.used, true);
        let grant_id = entry.grant_id.clone();
        if was_used {
            revoke_grant(&mut inner, &grant_id);
            return Err(InvalidGrant {
                description: "Invalid authorization code: it was already used; the tokens \
                              issued from it have been revoked"
                    .into(),
                revoked_grant: Some(grant_id),
            });
        }
        if entry.expires <= now {
            return Err(InvalidGrant::new(
                "Invalid authorization code: it expired (codes live 10 minutes)",
            ));
        }
        if entry.redirect_uri != redirect_uri {
            return Err(InvalidGrant::new(
                "redirect_uri does not match the one sent to /authorize",
            ));
        }
        match (&entry.code_challenge, code_verifier) {
            (Some(challenge), Some(verifier)) => {
                if !pkce_matches(challenge, verifier) {
                    return Err(InvalidGrant::new(
                        "Failed to verify code_verifier against the code_challenge",
                    ));
                }
            }
            (Some(_), None) | (None, Some(_)) => {
                // The routes check presence first; this keeps the store safe on its own.
                return Err(InvalidGrant::new(
                    "code_verifier must be sent exactly when /authorize had a code_challenge",
                ));
            }
            (None, None) => {}
        }
        active_grant(&inner, &grant_id)
    }

    /// Whether the client's code was issued with a PKCE challenge (`None`: not its code).
    pub fn code_has_challenge(&self, client_id: &str, code: &str) -> Option<bool> {
        self.inner
            .lock()
            .codes
            .get(code)
            .filter(|c| c.client_id == client_id)
            .map(|c| c.code_challenge.is_some())
    }

    /// A new refresh token for the grant; `None` if the grant was revoked meanwhile.
    pub fn issue_refresh_token(&self, grant: &IssuedGrant) -> Option<String> {
        let mut inner = self.inner.lock();
        if inner.grants.get(&grant.grant_id).is_none_or(|g| g.revoked) {
            return None;
        }
        let token = random_string(48);
        inner.refresh.insert(
            token.clone(),
            Refresh {
                grant_id: grant.grant_id.clone(),
                client_id: grant.client_id.clone(),
                rotated: false,
            },
        );
        Some(token)
    }

    /// The scopes behind a live refresh token of this client, without using it.
    pub fn refresh_token_scopes(&self, client_id: &str, token: &str) -> Option<ScopeSet> {
        let inner = self.inner.lock();
        let entry = inner
            .refresh
            .get(token)
            .filter(|r| r.client_id == client_id && !r.rotated)?;
        inner.grants.get(&entry.grant_id).map(|g| g.scopes.clone())
    }

    /// `grant_type=refresh_token`: the token is rotated (refused from now on).
    pub fn use_refresh_token(
        &self,
        client_id: &str,
        token: &str,
    ) -> Result<IssuedGrant, InvalidGrant> {
        let mut inner = self.inner.lock();
        let Some(entry) = inner
            .refresh
            .get_mut(token)
            .filter(|r| r.client_id == client_id)
        else {
            return Err(InvalidGrant::new(
                "Unknown or invalid refresh token for this client",
            ));
        };
        if std::mem::replace(&mut entry.rotated, true) {
            return Err(InvalidGrant::new(
                "This refresh token was already used; use the refresh token returned with it",
            ));
        }
        let grant_id = entry.grant_id.clone();
        active_grant(&inner, &grant_id)
    }

    /// Record a Data API call; `false` if the grant was revoked (the token must be refused).
    pub fn touch(&self, grant_id: &str) -> bool {
        let mut inner = self.inner.lock();
        match inner.grants.get_mut(grant_id) {
            Some(g) if !g.revoked => {
                g.last_used_at = Some(now_millis());
                true
            }
            _ => false,
        }
    }

    /// Revoke every grant of the app. `None` if no such app; otherwise the revoked grant ids.
    pub fn revoke_app(&self, client_id: &str) -> Option<Vec<String>> {
        let mut inner = self.inner.lock();
        if !inner.apps.contains_key(client_id) {
            return None;
        }
        let ids: Vec<String> = inner
            .grants
            .iter()
            .filter(|(_, g)| g.client_id == client_id && !g.revoked)
            .map(|(id, _)| id.clone())
            .collect();
        for id in &ids {
            revoke_grant(&mut inner, id);
        }
        Some(ids)
    }

    /// Active grants, oldest first.
    pub fn authorized_apps(&self) -> Vec<AuthorizedApp> {
        let inner = self.inner.lock();
        inner
            .grants
            .iter()
            .filter(|(_, g)| !g.revoked)
            .map(|(id, g)| AuthorizedApp {
                grant_id: id.clone(),
                client_id: g.client_id.clone(),
                name: inner
                    .apps
                    .get(&g.client_id)
                    .map_or_else(|| g.client_id.clone(), |a| a.name.clone()),
                user_id: g.user_id.clone(),
                scopes: g.scopes.clone(),
                created_at: g.created_at,
                last_used_at: g.last_used_at,
            })
            .collect()
    }
}

fn active_grant(inner: &Inner, grant_id: &str) -> Result<IssuedGrant, InvalidGrant> {
    match inner.grants.get(grant_id) {
        Some(g) if !g.revoked => Ok(IssuedGrant {
            grant_id: grant_id.to_owned(),
            client_id: g.client_id.clone(),
            user_id: g.user_id.clone(),
            scopes: g.scopes.clone(),
        }),
        _ => Err(InvalidGrant::new(
            "The authorization was revoked; send the user through /authorize again",
        )),
    }
}

fn revoke_grant(inner: &mut Inner, grant_id: &str) {
    if let Some(g) = inner.grants.get_mut(grant_id) {
        g.revoked = true;
    }
    inner.refresh.retain(|_, r| r.grant_id != grant_id);
}

/// RFC 7636 S256: BASE64URL(SHA256(verifier)) == challenge.
fn pkce_matches(challenge: &str, verifier: &str) -> bool {
    let computed = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    bool::from(computed.as_bytes().ct_eq(challenge.as_bytes()))
}

/// RFC 7636 §4.1/§4.2: 43-128 unreserved characters (verifiers; S256 challenges are 43).
pub(crate) fn is_pkce_value(s: &str) -> bool {
    (43..=128).contains(&s.len())
        && s.chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_' | '~'))
}

#[cfg(test)]
mod tests {
    use super::*;
    use lever_model::Scope;

    fn store_with_app() -> OAuthStore {
        let s = OAuthStore::new(Duration::from_secs(60));
        s.register(OAuthApp {
            client_id: "c1".into(),
            client_secret: "secret-1".into(),
            name: "One".into(),
            redirect_uris: vec!["https://one.example/cb".into()],
        })
        .unwrap();
        s
    }

    fn request(challenge: Option<&str>) -> AuthorizeRequest {
        AuthorizeRequest {
            client_id: "c1".into(),
            redirect_uri: "https://one.example/cb".into(),
            state: "st".into(),
            scopes: ScopeSet::new([Scope::OfflineAccess, Scope::StagesRead]),
            code_challenge: challenge.map(str::to_owned),
        }
    }

    #[test]
    fn pending_consents_are_single_use_and_expire() {
        let s = store_with_app();
        let t0 = Instant::now();
        let tx = s.begin(request(None), t0);
        assert!(s.take_pending(&tx, t0).is_some());
        assert!(s.take_pending(&tx, t0).is_none());
        let tx = s.begin(request(None), t0);
        assert!(s.take_pending(&tx, t0 + AUTHORIZATION_LIFETIME).is_none());
    }

    #[test]
    fn codes_expire_are_single_use_and_replay_revokes_the_grant() {
        let s = store_with_app();
        let t0 = Instant::now();
        let code = s.approve(&request(None), "u1", t0);
        let late = s.exchange_code(
            "c1",
            &code,
            "https://one.example/cb",
            None,
            t0 + AUTHORIZATION_LIFETIME,
        );
        assert!(late.unwrap_err().description.contains("expired"));

        let code = s.approve(&request(None), "u1", t0);
        assert!(
            s.exchange_code("c2", &code, "https://one.example/cb", None, t0)
                .is_err()
        );
        let grant = s
            .exchange_code("c1", &code, "https://one.example/cb", None, t0)
            .unwrap();
        let refresh = s.issue_refresh_token(&grant).unwrap();
        let replay = s
            .exchange_code("c1", &code, "https://one.example/cb", None, t0)
            .unwrap_err();
        assert_eq!(
            replay.revoked_grant.as_deref(),
            Some(grant.grant_id.as_str())
        );
        assert!(s.use_refresh_token("c1", &refresh).is_err());
        assert!(!s.touch(&grant.grant_id));
        assert!(s.issue_refresh_token(&grant).is_none());
    }

    #[test]
    fn pkce_s256_and_redirect_uri_are_checked() {
        // Vector computed independently (Python hashlib + base64.urlsafe_b64encode).
        let verifier = "dBjftJeZ4CVP-mJ92K1Jdp7yuMHTMGbiQr5btRqAKWT";
        let challenge = "X3D0noN8iRM5Ywj2Eyr7kRd3ZLnU_XJGkQKFoKufAAQ";
        assert!(pkce_matches(challenge, verifier));
        assert!(is_pkce_value(verifier) && is_pkce_value(challenge));
        assert!(!is_pkce_value("short") && !is_pkce_value(&"a b".repeat(20)));

        let s = store_with_app();
        let t0 = Instant::now();
        let cb = "https://one.example/cb";
        let code = s.approve(&request(Some(challenge)), "u1", t0);
        let wrong = s.exchange_code("c1", &code, cb, Some(&"x".repeat(43)), t0);
        assert!(wrong.unwrap_err().description.contains("code_verifier"));
        let code = s.approve(&request(Some(challenge)), "u1", t0);
        assert!(s.exchange_code("c1", &code, cb, Some(verifier), t0).is_ok());

        let code = s.approve(&request(None), "u1", t0);
        let other_uri = s.exchange_code("c1", &code, "https://one.example/other", None, t0);
        assert!(other_uri.unwrap_err().description.contains("redirect_uri"));
    }

    #[test]
    fn refresh_tokens_rotate_and_revoking_an_app_lists_it_no_more() {
        let s = store_with_app();
        let t0 = Instant::now();
        let code = s.approve(&request(None), "u1", t0);
        let grant = s
            .exchange_code("c1", &code, "https://one.example/cb", None, t0)
            .unwrap();
        let r1 = s.issue_refresh_token(&grant).unwrap();
        assert!(s.use_refresh_token("c2", &r1).is_err());
        assert!(s.use_refresh_token("c1", &r1).is_ok());
        assert!(
            s.use_refresh_token("c1", &r1)
                .unwrap_err()
                .description
                .contains("already used")
        );
        assert_eq!(s.authorized_apps().len(), 1);
        assert_eq!(s.revoke_app("c1"), Some(vec![grant.grant_id.clone()]));
        assert!(s.authorized_apps().is_empty());
        assert_eq!(s.revoke_app("nope"), None);
    }

    #[test]
    fn client_secrets_are_compared_exactly() {
        let s = store_with_app();
        assert!(s.authenticate_client("c1", "secret-1"));
        assert!(!s.authenticate_client("c1", "secret-"));
        assert!(!s.authenticate_client("c2", "secret-1"));
    }
}
