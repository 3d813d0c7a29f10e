//! Pending OAuth connects. The `state` sent to Lever is stored only as its SHA-256, so a
//! database reader cannot complete someone else's connect; the PKCE verifier is sealed. A
//! state is consumed once: the callback's single `UPDATE ... WHERE used_at IS NULL` decides,
//! so of concurrent callbacks with the same state exactly one gets it.

use crate::crypto::RowIdentity;
use crate::lever_connections::{check_installation_id, is_foreign_key_violation};
use crate::{Result, Store, StoreError, is_unique_violation, now_ms};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use std::time::Duration;

/// Shortest `state` accepted: 22 characters hold 128 random bits in base64url.
pub const MIN_OAUTH_STATE_LEN: usize = 22;

/// A pending connect to remember ([`Store::create_oauth_state`]). `Debug` shows no state
/// or verifier.
#[derive(Clone, Copy)]
pub struct NewOAuthState<'a> {
    /// The random `state` sent to Lever (stored hashed, never as is).
    pub state: &'a str,
    pub tenant_id: &'a str,
    pub installation_id: &'a str,
    /// The admin who started the connect.
    pub requested_by: &'a str,
    pub redirect_uri: &'a str,
    /// The scopes asked for, space-separated.
    pub scopes: &'a str,
    /// The PKCE `code_verifier` (RFC 7636: 43-128 characters).
    pub pkce_verifier: &'a SecretString,
    /// How long the callback may take.
    pub ttl: Duration,
}

impl std::fmt::Debug for NewOAuthState<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("NewOAuthState")
            .field("state", &"[REDACTED]")
            .field("tenant_id", &self.tenant_id)
            .field("installation_id", &self.installation_id)
            .field("requested_by", &self.requested_by)
            .field("redirect_uri", &self.redirect_uri)
            .field("scopes", &self.scopes)
            .field("pkce_verifier", &self.pkce_verifier)
            .field("ttl", &self.ttl)
            .finish()
    }
}

/// A consumed pending connect. `Debug` shows no verifier.
#[derive(Debug, Clone)]
pub struct OAuthState {
    pub tenant_id: String,
    pub installation_id: String,
    pub requested_by: String,
    pub redirect_uri: String,
    pub scopes: String,
    pub pkce_verifier: SecretString,
    pub created_at: i64,
}

/// What [`Store::consume_oauth_state`] found.
#[derive(Debug, Clone)]
pub enum ConsumedState {
    /// This call consumed it: finish the connect.
    Fresh(OAuthState),
    /// Consumed before (a replayed or doubled callback).
    AlreadyUsed,
    /// Not consumed, but too late: start the connect again.
    Expired,
    /// No such state (never issued, or pruned).
    Unknown,
}

#[derive(sqlx::FromRow)]
struct StateRow {
    tenant_id: String,
    installation_id: String,
    requested_by: String,
    redirect_uri: String,
    scopes: String,
    ciphertext: Vec<u8>,
    nonce: Vec<u8>,
    key_version: i64,
    created_at: i64,
}

fn state_hash(state: &str) -> String {
    hex::encode(Sha256::digest(state.as_bytes()))
}

/// Bound to the hash and to the installation the connect is for.
pub(crate) fn state_identity(hash: &str, tenant_id: &str, inst: &str) -> RowIdentity {
    RowIdentity::new("lever_oauth_states", &[hash, tenant_id, inst])
}

fn check_new_state(s: &NewOAuthState<'_>) -> Result<()> {
    if s.state.len() < MIN_OAUTH_STATE_LEN {
        return Err(StoreError::Invalid(format!(
            "an OAuth state must be at least {MIN_OAUTH_STATE_LEN} characters of randomness"
        )));
    }
    check_installation_id(s.installation_id)?;
    let verifier = s.pkce_verifier.expose_secret();
    if !(43..=128).contains(&verifier.len()) {
        return Err(StoreError::Invalid(
            "a PKCE code verifier must be 43 to 128 characters (RFC 7636)".into(),
        ));
    }
    if s.redirect_uri.is_empty() || s.requested_by.is_empty() {
        return Err(StoreError::Invalid(
            "an OAuth state needs its redirect URI and the admin who asked for it".into(),
        ));
    }
    if s.ttl.is_zero() {
        return Err(StoreError::Invalid(
            "an OAuth state's time to live must be more than zero".into(),
        ));
    }
    Ok(())
}

impl Store {
    /// Remembers a pending connect until `s.ttl` from now. `NotFound` for an unknown tenant;
    /// `AlreadyExists` when the same state was issued before (generate a new one).
    pub async fn create_oauth_state(&self, s: &NewOAuthState<'_>) -> Result<()> {
        check_new_state(s)?;
        let hash = state_hash(s.state);
        let identity = state_identity(&hash, s.tenant_id, s.installation_id);
        let (ciphertext, nonce) = self.key().encrypt_secret(&identity, s.pkce_verifier)?;
        let key_version = self.key().version();
        let now = now_ms();
        let ttl = i64::try_from(s.ttl.as_millis()).unwrap_or(i64::MAX);
        let done = on_pool!(self, |pool| sqlx::query(
            "INSERT INTO lever_oauth_states (state_hash, tenant_id, installation_id,
                 requested_by, redirect_uri, scopes, ciphertext, nonce, key_version, expires_at,
                 used_at, created_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, NULL, $11)"
        )
        .bind(&hash)
        .bind(s.tenant_id)
        .bind(s.installation_id)
        .bind(s.requested_by)
        .bind(s.redirect_uri)
        .bind(s.scopes)
        .bind(&ciphertext)
        .bind(&nonce)
        .bind(key_version)
        .bind(now.saturating_add(ttl))
        .bind(now)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()));
        match done {
            Ok(_) => Ok(()),
            Err(e) if is_foreign_key_violation(&e) => {
                Err(StoreError::NotFound(format!("tenant {:?}", s.tenant_id)))
            }
            Err(e) if is_unique_violation(&e) => Err(StoreError::AlreadyExists(
                "that OAuth state (generate a fresh random one)".into(),
            )),
            Err(e) => Err(e.into()),
        }
    }

    /// Consumes the pending connect named by the raw `state`, once: of any number of
    /// concurrent calls with the same state, exactly one gets [`ConsumedState::Fresh`].
    pub async fn consume_oauth_state(&self, state: &str) -> Result<ConsumedState> {
        let hash = state_hash(state);
        let now = now_ms();
        let row = on_pool!(self, |pool| sqlx::query_as::<_, StateRow>(
            "UPDATE lever_oauth_states SET used_at = $2
             WHERE state_hash = $1 AND used_at IS NULL AND expires_at > $2
             RETURNING tenant_id, installation_id, requested_by, redirect_uri, scopes,
                 ciphertext, nonce, key_version, created_at"
        )
        .bind(&hash)
        .bind(now)
        .fetch_optional(pool)
        .await?);
        if let Some(row) = row {
            let pkce_verifier = self.key().decrypt_secret(
                &state_identity(&hash, &row.tenant_id, &row.installation_id),
                &row.ciphertext,
                &row.nonce,
                row.key_version,
            )?;
            return Ok(ConsumedState::Fresh(OAuthState {
                tenant_id: row.tenant_id,
                installation_id: row.installation_id,
                requested_by: row.requested_by,
                redirect_uri: row.redirect_uri,
                scopes: row.scopes,
                pkce_verifier,
                created_at: row.created_at,
            }));
        }
        // Not consumed now: say why. A used state stays used even once expired.
        let used = on_pool!(self, |pool| sqlx::query_scalar::<_, Option<i64>>(
            "SELECT used_at FROM lever_oauth_states WHERE state_hash = $1"
        )
        .bind(&hash)
        .fetch_optional(pool)
        .await?);
        Ok(match used {
            None => ConsumedState::Unknown,
            Some(Some(_)) => ConsumedState::AlreadyUsed,
            Some(None) => ConsumedState::Expired,
        })
    }

    /// Forgets pending connects (used or not) that expired before `older_than_ms` (unix
    /// ms); returns how many. The host runs it with its managed-webhook check.
    pub async fn prune_oauth_states(&self, older_than_ms: i64) -> Result<u64> {
        Ok(on_pool!(self, |pool| sqlx::query(
            "DELETE FROM lever_oauth_states WHERE expires_at < $1"
        )
        .bind(older_than_ms)
        .execute(pool)
        .await?
        .rows_affected()))
    }
}
