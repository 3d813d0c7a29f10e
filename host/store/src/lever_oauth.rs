//! Lever OAuth apps the operator registered (client id and sealed client secret), which app
//! each plugin connects with, and (in `states`) the single-use `state`s of pending connects.

mod states;

pub use states::{ConsumedState, MIN_OAUTH_STATE_LEN, NewOAuthState, OAuthState};

use crate::crypto::RowIdentity;
use crate::lever_connections::is_foreign_key_violation;
use crate::{Result, Store, StoreError, is_valid_tenant_id, now_ms};
use secrecy::{ExposeSecret, SecretString};

/// An OAuth app to register or replace ([`Store::put_lever_oauth_app`]).
#[derive(Debug, Clone, Copy)]
pub struct NewLeverOAuthApp<'a> {
    /// Operator-chosen, e.g. `lever`: 1-63 lower-case letters, digits, `-` or `_`.
    pub id: &'a str,
    /// Shown to admins.
    pub name: &'a str,
    pub client_id: &'a str,
    pub client_secret: &'a SecretString,
    /// Lever's authorize endpoint, e.g. `https://auth.lever.co/authorize`.
    pub authorize_url: &'a str,
    /// Lever's token endpoint, e.g. `https://auth.lever.co/oauth/token`.
    pub token_url: &'a str,
    /// The API audience, e.g. `https://api.lever.co/v1/`.
    pub audience: &'a str,
}

/// A registered OAuth app, without its client secret.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct LeverOAuthApp {
    pub id: String,
    pub name: String,
    pub client_id: String,
    pub authorize_url: String,
    pub token_url: String,
    pub audience: String,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(sqlx::FromRow)]
struct SealedAppRow {
    #[sqlx(flatten)]
    app: LeverOAuthApp,
    ciphertext: Vec<u8>,
    nonce: Vec<u8>,
    key_version: i64,
}

macro_rules! app_columns {
    () => {
        "id, name, client_id, authorize_url, token_url, audience, created_at, updated_at"
    };
}

fn app_identity(id: &str) -> RowIdentity {
    RowIdentity::new("lever_oauth_apps", &[id])
}

fn check_url(what: &str, url: &str) -> Result<()> {
    let rest = url
        .strip_prefix("https://")
        .or_else(|| url.strip_prefix("http://"));
    if rest.is_none_or(|host| host.is_empty()) || url.chars().any(char::is_whitespace) {
        return Err(StoreError::Invalid(format!(
            "the OAuth app's {what} must be an absolute http(s) URL, e.g. https://auth.lever.co/..."
        )));
    }
    Ok(())
}

fn check_app(app: &NewLeverOAuthApp<'_>) -> Result<()> {
    if !is_valid_tenant_id(app.id) {
        return Err(StoreError::Invalid(
            "an OAuth app id must be 1-63 lower-case letters, digits, '-' or '_', starting with a letter or digit (e.g. lever)".into(),
        ));
    }
    for (what, value) in [
        ("name", app.name),
        ("client id", app.client_id),
        ("audience", app.audience),
    ] {
        if value.trim().is_empty() {
            return Err(StoreError::Invalid(format!(
                "the OAuth app's {what} is empty"
            )));
        }
    }
    if app.client_secret.expose_secret().trim().is_empty() {
        return Err(StoreError::Invalid(
            "the OAuth app's client secret is empty; paste the secret Lever issued with the client id".into(),
        ));
    }
    check_url("authorize URL", app.authorize_url)?;
    check_url("token URL", app.token_url)
}

impl Store {
    /// Registers the OAuth app `app.id`, or replaces it (client secret included; its
    /// `created_at` stays).
    pub async fn put_lever_oauth_app(&self, app: &NewLeverOAuthApp<'_>) -> Result<LeverOAuthApp> {
        check_app(app)?;
        let (ciphertext, nonce) = self
            .key()
            .encrypt_secret(&app_identity(app.id), app.client_secret)?;
        let key_version = self.key().version();
        let now = now_ms();
        Ok(on_pool!(self, |pool| sqlx::query_as::<_, LeverOAuthApp>(
            concat!(
                "INSERT INTO lever_oauth_apps (id, name, client_id, ciphertext, nonce, key_version,
                 authorize_url, token_url, audience, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $10)
             ON CONFLICT (id) DO UPDATE SET name = excluded.name,
                 client_id = excluded.client_id, ciphertext = excluded.ciphertext,
                 nonce = excluded.nonce, key_version = excluded.key_version,
                 authorize_url = excluded.authorize_url, token_url = excluded.token_url,
                 audience = excluded.audience, updated_at = excluded.updated_at
             RETURNING ",
                app_columns!()
            )
        )
        .bind(app.id)
        .bind(app.name)
        .bind(app.client_id)
        .bind(&ciphertext)
        .bind(&nonce)
        .bind(key_version)
        .bind(app.authorize_url)
        .bind(app.token_url)
        .bind(app.audience)
        .bind(now)
        .fetch_one(pool)
        .await?))
    }

    /// The OAuth app and its client secret, opened; `None` when no app has that id.
    pub async fn get_lever_oauth_app(
        &self,
        id: &str,
    ) -> Result<Option<(LeverOAuthApp, SecretString)>> {
        let row = on_pool!(self, |pool| sqlx::query_as::<_, SealedAppRow>(concat!(
            "SELECT ",
            app_columns!(),
            ", ciphertext, nonce, key_version FROM lever_oauth_apps WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(pool)
        .await?);
        let Some(row) = row else { return Ok(None) };
        let secret = self.key().decrypt_secret(
            &app_identity(id),
            &row.ciphertext,
            &row.nonce,
            row.key_version,
        )?;
        Ok(Some((row.app, secret)))
    }

    /// Every registered OAuth app (no secrets), by id.
    pub async fn list_lever_oauth_apps(&self) -> Result<Vec<LeverOAuthApp>> {
        Ok(on_pool!(self, |pool| sqlx::query_as::<_, LeverOAuthApp>(
            concat!(
                "SELECT ",
                app_columns!(),
                " FROM lever_oauth_apps ORDER BY id"
            )
        )
        .fetch_all(pool)
        .await?))
    }

    /// Removes an OAuth app; `false` when there was none. Refused (`Conflict`, naming the
    /// users) while a plugin connects with it or a connection's tokens came from it.
    pub async fn delete_lever_oauth_app(&self, id: &str) -> Result<bool> {
        let plugins = on_pool!(self, |pool| sqlx::query_scalar::<_, String>(
            "SELECT plugin_id FROM plugin_lever_apps WHERE app_id = $1 ORDER BY plugin_id"
        )
        .bind(id)
        .fetch_all(pool)
        .await?);
        let connections = on_pool!(self, |pool| sqlx::query_scalar::<_, i64>(
            "SELECT COUNT(*) FROM lever_connections WHERE app_id = $1"
        )
        .bind(id)
        .fetch_one(pool)
        .await?);
        if !plugins.is_empty() || connections > 0 {
            return Err(app_in_use(id, &plugins, connections));
        }
        let done = on_pool!(self, |pool| sqlx::query(
            "DELETE FROM lever_oauth_apps WHERE id = $1"
        )
        .bind(id)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()));
        match done {
            Ok(n) => Ok(n > 0),
            // Someone started using it since the check; the foreign keys keep it.
            Err(e) if is_foreign_key_violation(&e) => Err(app_in_use(id, &plugins, connections)),
            Err(e) => Err(e.into()),
        }
    }

    /// Sets which OAuth app `plugin_id`'s installations connect with (`None`: none).
    /// `NotFound` for an unknown app.
    pub async fn set_plugin_lever_app(&self, plugin_id: &str, app_id: Option<&str>) -> Result<()> {
        crate::lever_connections::check_installation_id(plugin_id)?;
        let Some(app_id) = app_id else {
            on_pool!(self, |pool| sqlx::query(
                "DELETE FROM plugin_lever_apps WHERE plugin_id = $1"
            )
            .bind(plugin_id)
            .execute(pool)
            .await?
            .rows_affected());
            return Ok(());
        };
        let now = now_ms();
        let done = on_pool!(self, |pool| sqlx::query(
            "INSERT INTO plugin_lever_apps (plugin_id, app_id, updated_at) VALUES ($1, $2, $3)
             ON CONFLICT (plugin_id) DO UPDATE SET app_id = excluded.app_id,
                 updated_at = excluded.updated_at"
        )
        .bind(plugin_id)
        .bind(app_id)
        .bind(now)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()));
        match done {
            Ok(_) => Ok(()),
            Err(e) if is_foreign_key_violation(&e) => Err(StoreError::NotFound(format!(
                "Lever OAuth app {app_id:?} (register it first)"
            ))),
            Err(e) => Err(e.into()),
        }
    }

    /// The OAuth app `plugin_id` connects with, if one was set.
    pub async fn plugin_lever_app(&self, plugin_id: &str) -> Result<Option<String>> {
        Ok(on_pool!(self, |pool| sqlx::query_scalar::<_, String>(
            "SELECT app_id FROM plugin_lever_apps WHERE plugin_id = $1"
        )
        .bind(plugin_id)
        .fetch_optional(pool)
        .await?))
    }
}

fn app_in_use(id: &str, plugins: &[String], connections: i64) -> StoreError {
    StoreError::Conflict(format!(
        "Lever OAuth app {id:?} is in use (plugins: [{}]; connections: {connections}); switch those plugins to another app and reconnect or delete those connections first",
        plugins.join(", ")
    ))
}
