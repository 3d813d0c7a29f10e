//! Lever OAuth apps (platform operator only): the client id and secret Lever issues through
//! its partner programme, and which app each plugin's installations connect with. The client
//! secret is write-only: no answer, log line or error carries it. The rules are in
//! [`crate::connections::oauth_apps`].

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use fulcrum_store::LeverOAuthApp;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::ErrorBody;
use super::auth::Principal;
use super::extract::{DeferredJson, PathParams};
use crate::Host;
use crate::api_error::ApiError;
use crate::connections::oauth_apps::{self, NewApp};

pub(super) fn routes() -> OpenApiRouter<Host> {
    OpenApiRouter::new()
        .routes(routes!(list_apps))
        .routes(routes!(put_app, remove_app))
        .routes(routes!(set_plugin_app))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct AppInput {
    /// Shown to admins (1-200 characters).
    #[schema(min_length = 1, max_length = 200)]
    name: String,
    /// The client id Lever issued.
    #[schema(min_length = 1)]
    client_id: String,
    /// The client secret Lever issued with it. Write-only: stored encrypted, never shown.
    #[schema(min_length = 1, write_only)]
    client_secret: String,
    /// Lever's authorize endpoint; default `https://auth.lever.co/authorize`.
    authorize_url: Option<String>,
    /// Lever's token endpoint; default `https://auth.lever.co/oauth/token`.
    token_url: Option<String>,
    /// The API audience; default `https://api.lever.co/v1/`.
    audience: Option<String>,
}

/// A registered app, without its client secret.
#[derive(Serialize, ToSchema)]
pub(super) struct AppView {
    id: String,
    name: String,
    client_id: String,
    authorize_url: String,
    token_url: String,
    audience: String,
    /// Unix milliseconds.
    created_at: i64,
    /// Unix milliseconds.
    updated_at: i64,
}

impl From<LeverOAuthApp> for AppView {
    fn from(a: LeverOAuthApp) -> Self {
        AppView {
            id: a.id,
            name: a.name,
            client_id: a.client_id,
            authorize_url: a.authorize_url,
            token_url: a.token_url,
            audience: a.audience,
            created_at: a.created_at,
            updated_at: a.updated_at,
        }
    }
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct PluginAppInput {
    /// A registered app's id; `null`: none (the plugin's installations connect with API keys
    /// only).
    app_id: Option<String>,
}

/// Which app a plugin connects with.
#[derive(Serialize, ToSchema)]
pub(super) struct PluginAppView {
    plugin_id: String,
    /// `null`: none.
    app_id: Option<String>,
}

/// The registered Lever OAuth apps (platform operator), without their secrets.
#[utoipa::path(
    get, path = "/admin/v1/lever-oauth-apps", tag = "connections",
    responses(
        (status = 200, description = "The apps, by id", body = Vec<AppView>),
        (status = 403, description = "Not a platform operator", body = ErrorBody),
    )
)]
async fn list_apps(
    State(host): State<Host>,
    principal: Principal,
) -> Result<Json<Vec<AppView>>, ApiError> {
    principal.require_operator("list Lever OAuth apps")?;
    let apps = oauth_apps::list(&host).await?;
    Ok(Json(apps.into_iter().map(AppView::from).collect()))
}

/// Register a Lever OAuth app, or replace it (secret included) (platform operator).
#[utoipa::path(
    put, path = "/admin/v1/lever-oauth-apps/{app}", tag = "connections",
    params(("app" = String, Path, description = "The app's id: 1-63 lower-case letters, digits, '-' or '_' (e.g. `lever`)")),
    request_body = AppInput,
    responses(
        (status = 201, description = "Registered", body = AppView),
        (status = 200, description = "Replaced", body = AppView),
        (status = 403, description = "Not a platform operator", body = ErrorBody),
        (status = 422, description = "`invalid_oauth_app` (an empty field, a URL that is not absolute http(s)) or `invalid_input` (a bad app id); nothing was stored", body = ErrorBody),
    )
)]
async fn put_app(
    State(host): State<Host>,
    principal: Principal,
    PathParams(app): PathParams<String>,
    body: DeferredJson<AppInput>,
) -> Result<(StatusCode, Json<AppView>), ApiError> {
    principal.require_operator("register Lever OAuth apps")?;
    let input = body.parse().await?;
    let existed = host.store().get_lever_oauth_app(&app).await?.is_some();
    let stored = oauth_apps::register(
        &host,
        &principal.as_actor(),
        NewApp {
            id: app,
            name: input.name,
            client_id: input.client_id,
            client_secret: SecretString::from(input.client_secret),
            authorize_url: input.authorize_url,
            token_url: input.token_url,
            audience: input.audience,
        },
    )
    .await?;
    let status = if existed {
        StatusCode::OK
    } else {
        StatusCode::CREATED
    };
    Ok((status, Json(stored.into())))
}

/// Remove a Lever OAuth app (platform operator): refused while a plugin connects with it or
/// a connection's tokens came from it.
#[utoipa::path(
    delete, path = "/admin/v1/lever-oauth-apps/{app}", tag = "connections",
    params(("app" = String, Path, description = "The app's id")),
    responses(
        (status = 204, description = "Removed"),
        (status = 403, description = "Not a platform operator", body = ErrorBody),
        (status = 404, description = "No such app", body = ErrorBody),
        (status = 409, description = "In use: the message names the plugins and counts the connections; switch them first", body = ErrorBody),
    )
)]
async fn remove_app(
    State(host): State<Host>,
    principal: Principal,
    PathParams(app): PathParams<String>,
) -> Result<StatusCode, ApiError> {
    principal.require_operator("remove Lever OAuth apps")?;
    if oauth_apps::remove(&host, &principal.as_actor(), &app).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(unknown_app(&app))
    }
}

fn unknown_app(app: &str) -> ApiError {
    ApiError::not_found(format!(
        "no Lever OAuth app {app:?} is registered; GET /admin/v1/lever-oauth-apps lists them"
    ))
}

/// Say which Lever OAuth app a plugin's installations connect with, or none (platform
/// operator).
#[utoipa::path(
    put, path = "/admin/v1/plugins/{plugin}/lever-oauth-app", tag = "connections",
    params(("plugin" = String, Path, description = "Plugin id")),
    request_body = PluginAppInput,
    responses(
        (status = 200, description = "Set", body = PluginAppView),
        (status = 403, description = "Not a platform operator", body = ErrorBody),
        (status = 404, description = "Unknown plugin (not loaded on this host)", body = ErrorBody),
        (status = 422, description = "`unknown_oauth_app`: no app with that id is registered; nothing was changed", body = ErrorBody),
    )
)]
async fn set_plugin_app(
    State(host): State<Host>,
    principal: Principal,
    PathParams(plugin): PathParams<String>,
    body: DeferredJson<PluginAppInput>,
) -> Result<Json<PluginAppView>, ApiError> {
    principal.require_operator("choose a plugin's Lever OAuth app")?;
    let input = body.parse().await?;
    oauth_apps::set_plugin_app(
        &host,
        &principal.as_actor(),
        &plugin,
        input.app_id.as_deref(),
    )
    .await?;
    Ok(Json(PluginAppView {
        plugin_id: plugin,
        app_id: input.app_id,
    }))
}
