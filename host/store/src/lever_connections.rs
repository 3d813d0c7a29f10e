//! Per-installation Lever connections (migration 0012): an API key given for the installation,
//! or OAuth tokens (access token plus Lever's rotating refresh token), sealed under the master
//! key and bound to their row.
//!
//! Every new secret bumps the row's `generation`. Whoever acts on what it read (marks the
//! connection broken, refreshes its tokens) names that generation, so a reconnect made in
//! between is never overwritten by a worker still holding the old tokens. Refreshes are
//! single-flight across workers and replicas through a lease on the row
//! ([`Store::try_lease_refresh`]); the rotated tokens are committed before anyone uses them
//! ([`Store::commit_refreshed_tokens`]), since Lever invalidates the old refresh token.

mod refresh;

use crate::crypto::RowIdentity;
use crate::{CredentialKind, Result, Store, StoreError, now_ms};
use secrecy::{ExposeSecret, SecretString};
use serde_json::Value;

/// Longest installation id accepted (a plugin id).
const MAX_INSTALLATION_ID_LEN: usize = 200;

/// Whether an installation's Lever connection works.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ConnectionStatus {
    Connected,
    /// Lever refused the connection's credentials for good (revoked key, refresh token
    /// rejected): an admin must connect the installation again.
    ReconnectNeeded,
}

impl ConnectionStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Connected => "connected",
            Self::ReconnectNeeded => "reconnect_needed",
        }
    }

    pub(crate) fn parse(s: &str) -> Result<Self> {
        match s {
            "connected" => Ok(Self::Connected),
            "reconnect_needed" => Ok(Self::ReconnectNeeded),
            other => Err(StoreError::Corrupt {
                what: "lever connection status",
                value: other.to_owned(),
            }),
        }
    }
}

/// An installation's Lever connection, without its secret.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeverConnection {
    pub tenant_id: String,
    pub installation_id: String,
    pub kind: CredentialKind,
    /// The API key has Lever's "confidential data" access (always `false` for OAuth).
    pub confidential: bool,
    /// The OAuth app the tokens were issued to (`None` for an API key).
    pub app_id: Option<String>,
    /// The scopes Lever granted, space-separated as Lever answered (`None` for an API key).
    pub granted_scopes: Option<String>,
    /// When the OAuth access token expires (unix ms; `None` for an API key).
    pub access_expires_at: Option<i64>,
    pub status: ConnectionStatus,
    /// Why the connection needs reconnecting (shown to admins; never a secret).
    pub status_detail: Option<String>,
    /// Bumped with every new secret; fences refreshes and keys clients cached by callers.
    pub generation: i64,
    /// Who connected it (the admin, or the OAuth callback's user).
    pub connected_by: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

/// OAuth tokens of a connection. `Debug` shows no token.
#[derive(Debug, Clone)]
pub struct OAuthTokens {
    pub access_token: SecretString,
    /// Lever rotates it on every refresh; `None` when Lever issued none (no `offline_access`).
    pub refresh_token: Option<SecretString>,
}

/// A connection's secret, opened. `Debug` shows no secret.
#[derive(Debug, Clone)]
pub enum ConnectionSecret {
    ApiKey(SecretString),
    OAuth(OAuthTokens),
}

/// What [`Store::put_oauth_connection`] stores.
#[derive(Debug, Clone, Copy)]
pub struct NewOAuthConnection<'a> {
    /// The registered OAuth app (see [`Store::put_lever_oauth_app`]) the tokens came from.
    pub app_id: &'a str,
    pub tokens: &'a OAuthTokens,
    /// Unix ms.
    pub access_expires_at: i64,
    /// Space-separated, as Lever answered.
    pub granted_scopes: &'a str,
    pub connected_by: &'a str,
}

macro_rules! connection_columns {
    () => {
        "tenant_id, installation_id, kind, confidential, app_id, granted_scopes, access_expires_at, status, status_detail, generation, connected_by, created_at, updated_at"
    };
}
pub(crate) use connection_columns;

#[derive(sqlx::FromRow)]
pub(crate) struct ConnectionRow {
    tenant_id: String,
    installation_id: String,
    kind: String,
    confidential: bool,
    app_id: Option<String>,
    granted_scopes: Option<String>,
    access_expires_at: Option<i64>,
    status: String,
    status_detail: Option<String>,
    generation: i64,
    connected_by: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl ConnectionRow {
    pub(crate) fn into_connection(self) -> Result<LeverConnection> {
        Ok(LeverConnection {
            kind: CredentialKind::parse(&self.kind)?,
            status: ConnectionStatus::parse(&self.status)?,
            tenant_id: self.tenant_id,
            installation_id: self.installation_id,
            confidential: self.confidential,
            app_id: self.app_id,
            granted_scopes: self.granted_scopes,
            access_expires_at: self.access_expires_at,
            status_detail: self.status_detail,
            generation: self.generation,
            connected_by: self.connected_by,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct SealedConnectionRow {
    #[sqlx(flatten)]
    connection: ConnectionRow,
    ciphertext: Vec<u8>,
    nonce: Vec<u8>,
    key_version: i64,
}

/// The kind is part of the identity: a row whose kind was changed does not open.
pub(crate) fn connection_identity(
    tenant_id: &str,
    inst: &str,
    kind: CredentialKind,
) -> RowIdentity {
    RowIdentity::new("lever_connections", &[tenant_id, inst, kind.as_str()])
}

/// The sealed form of OAuth tokens: `{"access_token": ..., "refresh_token": ... | null}`.
pub(crate) fn tokens_plaintext(tokens: &OAuthTokens) -> SecretString {
    let refresh = tokens
        .refresh_token
        .as_ref()
        .map_or(Value::Null, |t| Value::String(t.expose_secret().to_owned()));
    let json = serde_json::json!({
        "access_token": tokens.access_token.expose_secret(),
        "refresh_token": refresh,
    });
    SecretString::from(json.to_string())
}

fn tokens_from_plaintext(plaintext: &SecretString) -> Result<OAuthTokens> {
    let value: Value =
        serde_json::from_str(plaintext.expose_secret()).map_err(|error| StoreError::Json {
            what: "lever connection tokens",
            error,
        })?;
    // Never echo the value: it holds the tokens.
    let corrupt = || StoreError::Corrupt {
        what: "lever connection tokens",
        value: "(not an object with a string access_token)".into(),
    };
    let access = value
        .get("access_token")
        .and_then(Value::as_str)
        .ok_or_else(corrupt)?;
    let refresh = match value.get("refresh_token") {
        None | Some(Value::Null) => None,
        Some(Value::String(token)) => Some(SecretString::from(token.as_str())),
        Some(_) => return Err(corrupt()),
    };
    Ok(OAuthTokens {
        access_token: SecretString::from(access),
        refresh_token: refresh,
    })
}

pub(crate) fn check_installation_id(inst: &str) -> Result<()> {
    if inst.is_empty() || inst.len() > MAX_INSTALLATION_ID_LEN {
        return Err(StoreError::Invalid(format!(
            "an installation id (its plugin id) must be 1 to {MAX_INSTALLATION_ID_LEN} bytes"
        )));
    }
    Ok(())
}

pub(crate) fn check_oauth_tokens(tokens: &OAuthTokens) -> Result<()> {
    if tokens.access_token.expose_secret().is_empty() {
        return Err(StoreError::Invalid(
            "the OAuth access token is empty; store the token Lever answered".into(),
        ));
    }
    if tokens
        .refresh_token
        .as_ref()
        .is_some_and(|t| t.expose_secret().is_empty())
    {
        return Err(StoreError::Invalid(
            "the OAuth refresh token is empty; pass None when Lever issued none".into(),
        ));
    }
    Ok(())
}

pub(crate) fn is_foreign_key_violation(err: &sqlx::Error) -> bool {
    err.as_database_error()
        .is_some_and(|e| e.is_foreign_key_violation())
}

/// A new secret and what goes with it, for [`Store::upsert_connection`].
struct ConnectionWrite<'a> {
    kind: CredentialKind,
    secret: &'a SecretString,
    confidential: bool,
    app_id: Option<&'a str>,
    granted_scopes: Option<&'a str>,
    access_expires_at: Option<i64>,
    connected_by: &'a str,
}

impl Store {
    /// Connects the installation with a Lever API key (replacing any connection it had):
    /// status `connected`, the generation bumped, any refresh lease and status detail
    /// cleared. `NotFound` for an unknown tenant.
    pub async fn put_api_key_connection(
        &self,
        tenant_id: &str,
        inst: &str,
        key: &SecretString,
        confidential: bool,
        connected_by: &str,
    ) -> Result<LeverConnection> {
        if key.expose_secret().trim().is_empty() {
            return Err(StoreError::Invalid(
                "the Lever API key is empty; paste the key Lever showed when it was created".into(),
            ));
        }
        let write = ConnectionWrite {
            kind: CredentialKind::ApiKey,
            secret: key,
            confidential,
            app_id: None,
            granted_scopes: None,
            access_expires_at: None,
            connected_by,
        };
        self.upsert_connection(tenant_id, inst, &write).await
    }

    /// Connects the installation with OAuth tokens (replacing any connection it had), with
    /// the same rules as [`Store::put_api_key_connection`]. `NotFound` for an unknown tenant
    /// or OAuth app.
    pub async fn put_oauth_connection(
        &self,
        tenant_id: &str,
        inst: &str,
        connection: &NewOAuthConnection<'_>,
    ) -> Result<LeverConnection> {
        check_oauth_tokens(connection.tokens)?;
        let plaintext = tokens_plaintext(connection.tokens);
        let write = ConnectionWrite {
            kind: CredentialKind::OAuth,
            secret: &plaintext,
            confidential: false,
            app_id: Some(connection.app_id),
            granted_scopes: Some(connection.granted_scopes),
            access_expires_at: Some(connection.access_expires_at),
            connected_by: connection.connected_by,
        };
        self.upsert_connection(tenant_id, inst, &write).await
    }

    async fn upsert_connection(
        &self,
        tenant_id: &str,
        inst: &str,
        write: &ConnectionWrite<'_>,
    ) -> Result<LeverConnection> {
        check_installation_id(inst)?;
        let identity = connection_identity(tenant_id, inst, write.kind);
        let (ciphertext, nonce) = self.key().encrypt_secret(&identity, write.secret)?;
        let key_version = self.key().version();
        let now = now_ms();
        let row = on_pool!(self, |pool| {
            sqlx::query_as::<_, ConnectionRow>(concat!(
                "INSERT INTO lever_connections (tenant_id, installation_id, kind, ciphertext,
                     nonce, key_version, confidential, app_id, granted_scopes, access_expires_at,
                     status, status_detail, generation, refresh_holder, refresh_lease_until,
                     connected_by, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, 'connected', NULL, 1, NULL,
                     NULL, $11, $12, $12)
                 ON CONFLICT (tenant_id, installation_id) DO UPDATE SET kind = excluded.kind,
                     ciphertext = excluded.ciphertext, nonce = excluded.nonce,
                     key_version = excluded.key_version, confidential = excluded.confidential,
                     app_id = excluded.app_id, granted_scopes = excluded.granted_scopes,
                     access_expires_at = excluded.access_expires_at, status = 'connected',
                     status_detail = NULL, generation = lever_connections.generation + 1,
                     refresh_holder = NULL, refresh_lease_until = NULL,
                     connected_by = excluded.connected_by, updated_at = excluded.updated_at
                 RETURNING ",
                connection_columns!()
            ))
            .bind(tenant_id)
            .bind(inst)
            .bind(write.kind.as_str())
            .bind(&ciphertext)
            .bind(&nonce)
            .bind(key_version)
            .bind(write.confidential)
            .bind(write.app_id)
            .bind(write.granted_scopes)
            .bind(write.access_expires_at)
            .bind(write.connected_by)
            .bind(now)
            .fetch_one(pool)
            .await
        });
        match row {
            Ok(row) => row.into_connection(),
            Err(e) if is_foreign_key_violation(&e) => {
                Err(self.missing_parent(tenant_id, write.app_id).await)
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Which parent a foreign key violation was about: the tenant, else the OAuth app.
    async fn missing_parent(&self, tenant_id: &str, app_id: Option<&str>) -> StoreError {
        match (self.get_tenant(tenant_id).await, app_id) {
            (Ok(Some(_)), Some(app)) => StoreError::NotFound(format!(
                "Lever OAuth app {app:?} (register it with the operator's OAuth apps first)"
            )),
            (Err(e), _) => e,
            _ => StoreError::NotFound(format!("tenant {tenant_id:?}")),
        }
    }

    /// The installation's connection (no secret); `None` when it has none of its own.
    pub async fn get_lever_connection(
        &self,
        tenant_id: &str,
        inst: &str,
    ) -> Result<Option<LeverConnection>> {
        let row = on_pool!(self, |pool| sqlx::query_as::<_, ConnectionRow>(concat!(
            "SELECT ",
            connection_columns!(),
            " FROM lever_connections WHERE tenant_id = $1 AND installation_id = $2"
        ))
        .bind(tenant_id)
        .bind(inst)
        .fetch_optional(pool)
        .await?);
        row.map(ConnectionRow::into_connection).transpose()
    }

    /// The installation's connection with its secret opened; `None` when it has none.
    pub async fn lever_connection_secret(
        &self,
        tenant_id: &str,
        inst: &str,
    ) -> Result<Option<(LeverConnection, ConnectionSecret)>> {
        let row = on_pool!(self, |pool| sqlx::query_as::<_, SealedConnectionRow>(
            concat!(
                "SELECT ",
                connection_columns!(),
                ", ciphertext, nonce, key_version
             FROM lever_connections WHERE tenant_id = $1 AND installation_id = $2"
            )
        )
        .bind(tenant_id)
        .bind(inst)
        .fetch_optional(pool)
        .await?);
        let Some(row) = row else { return Ok(None) };
        let connection = row.connection.into_connection()?;
        let plaintext = self.key().decrypt_secret(
            &connection_identity(tenant_id, inst, connection.kind),
            &row.ciphertext,
            &row.nonce,
            row.key_version,
        )?;
        let secret = match connection.kind {
            CredentialKind::ApiKey => ConnectionSecret::ApiKey(plaintext),
            CredentialKind::OAuth => ConnectionSecret::OAuth(tokens_from_plaintext(&plaintext)?),
        };
        Ok(Some((connection, secret)))
    }

    /// The tenant's installation connections (no secrets), by installation id.
    pub async fn list_lever_connections(&self, tenant_id: &str) -> Result<Vec<LeverConnection>> {
        let rows = on_pool!(self, |pool| sqlx::query_as::<_, ConnectionRow>(concat!(
            "SELECT ",
            connection_columns!(),
            " FROM lever_connections WHERE tenant_id = $1 ORDER BY installation_id"
        ))
        .bind(tenant_id)
        .fetch_all(pool)
        .await?);
        rows.into_iter()
            .map(ConnectionRow::into_connection)
            .collect()
    }

    /// Removes the installation's connection (it falls back to the tenant's credential);
    /// `false` when it had none.
    pub async fn delete_lever_connection(&self, tenant_id: &str, inst: &str) -> Result<bool> {
        let n = on_pool!(self, |pool| sqlx::query(
            "DELETE FROM lever_connections WHERE tenant_id = $1 AND installation_id = $2"
        )
        .bind(tenant_id)
        .bind(inst)
        .execute(pool)
        .await?
        .rows_affected());
        Ok(n > 0)
    }

    /// Marks the connection as needing a reconnect, with `detail` for admins (never put a
    /// secret in it), if its generation is still `generation`: a reconnect made since wins.
    /// Also drops any refresh lease. `true` only when this call moved it from `connected`
    /// (so the caller reports the breakage once); `false` when fenced out, already marked,
    /// or gone.
    pub async fn mark_reconnect_needed(
        &self,
        tenant_id: &str,
        inst: &str,
        generation: i64,
        detail: &str,
    ) -> Result<bool> {
        let now = now_ms();
        let n = on_pool!(self, |pool| sqlx::query(
            "UPDATE lever_connections SET status = 'reconnect_needed', status_detail = $4,
                 refresh_holder = NULL, refresh_lease_until = NULL, updated_at = $5
             WHERE tenant_id = $1 AND installation_id = $2 AND generation = $3
               AND status = 'connected'"
        )
        .bind(tenant_id)
        .bind(inst)
        .bind(generation)
        .bind(detail)
        .bind(now)
        .execute(pool)
        .await?
        .rows_affected());
        Ok(n > 0)
    }
}
