//! Lever OAuth apps, registered by the platform operator (Lever issues a client id and secret
//! through its partner programme), and which app each plugin connects with. The authorize
//! and token URLs and the audience default to Lever's production ones.

use fulcrum_store::{LeverOAuthApp, NewLeverOAuthApp};
use lever_client::oauth::{LEVER_AUDIENCE, LEVER_AUTHORIZE_URL, LEVER_TOKEN_URL, OAuthApp};
use secrecy::SecretString;

use crate::Host;
use crate::actor::Actor;
use crate::domain_error::{DomainError, Missing};

/// An app to register (or replace, by id).
#[derive(Debug, Clone)]
pub struct NewApp {
    pub id: String,
    pub name: String,
    pub client_id: String,
    pub client_secret: SecretString,
    pub authorize_url: Option<String>,
    pub token_url: Option<String>,
    pub audience: Option<String>,
}

/// Registers (or replaces) an app after checking its URLs and credentials are well-formed.
pub async fn register(
    host: &Host,
    actor: &Actor,
    app: NewApp,
) -> Result<LeverOAuthApp, DomainError> {
    let authorize_url = app
        .authorize_url
        .unwrap_or_else(|| LEVER_AUTHORIZE_URL.to_owned());
    let token_url = app.token_url.unwrap_or_else(|| LEVER_TOKEN_URL.to_owned());
    let audience = app.audience.unwrap_or_else(|| LEVER_AUDIENCE.to_owned());
    let invalid = |message: String| DomainError::invalid("invalid_oauth_app", message);
    OAuthApp::new(
        app.client_id.clone(),
        app.client_secret.clone(),
        &authorize_url,
        &token_url,
        audience.clone(),
    )
    .map_err(|e| invalid(format!("{e}; nothing was stored")))?;
    if app.name.trim().is_empty() || app.name.len() > 200 {
        return Err(invalid(
            "the app's name (shown to admins) must be 1-200 characters; nothing was stored".into(),
        ));
    }
    let stored = host
        .store()
        .put_lever_oauth_app(&NewLeverOAuthApp {
            id: &app.id,
            name: app.name.trim(),
            client_id: &app.client_id,
            client_secret: &app.client_secret,
            authorize_url: &authorize_url,
            token_url: &token_url,
            audience: &audience,
        })
        .await?;
    tracing::info!(app = %stored.id, by = %actor, "registered a Lever OAuth app");
    Ok(stored)
}

pub async fn list(host: &Host) -> Result<Vec<LeverOAuthApp>, DomainError> {
    Ok(host.store().list_lever_oauth_apps().await?)
}

/// Removes an app no plugin and no connection uses.
pub async fn remove(host: &Host, actor: &Actor, id: &str) -> Result<bool, DomainError> {
    let removed = host.store().delete_lever_oauth_app(id).await?;
    if removed {
        tracing::info!(app = %id, by = %actor, "removed a Lever OAuth app");
    }
    Ok(removed)
}

/// Says which registered app `plugin` connects with (`None`: none, API keys only).
pub async fn set_plugin_app(
    host: &Host,
    actor: &Actor,
    plugin: &str,
    app_id: Option<&str>,
) -> Result<(), DomainError> {
    if host.runtime().active(plugin).is_none() {
        return Err(DomainError::NotFound(Missing::Plugin(plugin.to_owned())));
    }
    if let Some(id) = app_id
        && host.store().get_lever_oauth_app(id).await?.is_none()
    {
        return Err(DomainError::invalid(
            "unknown_oauth_app",
            format!(
                "no Lever OAuth app {id:?} is registered; register it first (PUT \
                 /admin/v1/lever-oauth-apps/{id}); nothing was changed"
            ),
        ));
    }
    host.store().set_plugin_lever_app(plugin, app_id).await?;
    tracing::info!(plugin = %plugin, app = ?app_id, by = %actor, "set the plugin's Lever OAuth app");
    Ok(())
}
