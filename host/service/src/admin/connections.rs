//! The Lever connection of one installation, and the Lever user it acts as. Connecting,
//! disconnecting and choosing the identity are the tenant super admin's decisions (a platform
//! operator is refused); admins test the connection and list Lever users to choose from;
//! members and operators read the connection. API keys are write-only: no answer, log line or
//! error ever carries one. The rules (probe before storing, approved ∩ granted, ...) are in
//! [`crate::connections`].

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use fulcrum_store::{InstallationIdentity, Role};
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
use crate::connections::oauth_flow::{self, Started};
use crate::connections::{self, ConnectionInfo, MAX_ALLOWED_ACTING_USERS, ProbeReport};

// The schema's `max_items` of `allowed_acting_users` states the domain's limit.
const _: () = assert!(MAX_ALLOWED_ACTING_USERS == 50);

pub(super) fn routes() -> OpenApiRouter<Host> {
    OpenApiRouter::new()
        .routes(routes!(get_connection, disconnect))
        .routes(routes!(connect_api_key))
        .routes(routes!(test_connection))
        .routes(routes!(start_oauth))
        .routes(routes!(lever_users))
        .routes(routes!(set_identity))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct ApiKeyInput {
    /// An API key Lever issued for this installation (Settings → Integrations and API → API
    /// Credentials): 1-512 characters, no spaces. Write-only: never shown again.
    #[schema(min_length = 1, max_length = 512, write_only)]
    api_key: String,
    /// Whether the key was made with "Allow access to confidential data".
    #[serde(default)]
    confidential: bool,
}

/// The connection as stored, and what the probe of the new key found.
#[derive(Serialize, ToSchema)]
pub(super) struct Connected {
    connection: ConnectionInfo,
    /// `missing` lists the approved permissions the key lacks (events using them fail until
    /// a key with them is connected).
    probe: ProbeReport,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct IdentityInput {
    /// The Lever user the installation's writes are attributed to (`perform_as`): an active
    /// user's id from `GET .../lever-users`.
    #[schema(min_length = 1, max_length = 200)]
    acting_user_id: String,
    /// Other active Lever users a plugin may name as the acting user (replaces the list).
    #[serde(default)]
    #[schema(max_items = 50)]
    allowed_acting_users: Vec<String>,
}

/// The installation's Lever identity.
#[derive(Serialize, ToSchema)]
pub(super) struct IdentityView {
    /// The Lever user writes are attributed to; `null`: the tenant's default.
    acting_user_id: Option<String>,
    /// Other Lever users a plugin may name, sorted, without the acting user.
    allowed_acting_users: Vec<String>,
    /// Unix milliseconds.
    updated_at: i64,
}

impl From<InstallationIdentity> for IdentityView {
    fn from(i: InstallationIdentity) -> Self {
        IdentityView {
            acting_user_id: i.acting_user_id,
            allowed_acting_users: i.allowed_acting_users,
            updated_at: i.updated_at,
        }
    }
}

/// An active Lever user, as shown to choose an identity (only these fields).
#[derive(Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub(super) struct LeverUserView {
    id: String,
    name: String,
    email: String,
    /// Lever's access role: `super admin`, `admin`, `team member`, `limited team member`,
    /// `interviewer` or a custom role id.
    access_role: String,
}

/// The installation's Lever connection (any role of the tenant, or a platform operator).
/// Never a key or a token.
#[utoipa::path(
    get, path = "/admin/v1/tenants/{tenant}/installations/{plugin}/connection", tag = "connections",
    params(("tenant" = String, Path, description = "Tenant id"), ("plugin" = String, Path, description = "Plugin id")),
    responses(
        (status = 200, description = "The connection (`tenant_default` when it has none of its own)", body = ConnectionInfo),
        (status = 404, description = "Unknown tenant, or the plugin is not installed", body = ErrorBody),
    )
)]
async fn get_connection(
    State(host): State<Host>,
    principal: Principal,
    PathParams((tenant, plugin)): PathParams<(String, String)>,
) -> Result<Json<ConnectionInfo>, ApiError> {
    principal.require_tenant_or_operator(&tenant, Role::TenantMember)?;
    Ok(Json(connections::info(&host, &tenant, &plugin).await?))
}

/// Connect the installation with an API key made for it (tenant super admin only). The key is
/// probed first, one harmless request per approved permission: a key Lever rejects is refused
/// (422 `lever_key_rejected`) and nothing is stored; a key lacking permissions is stored and
/// `probe.missing` names them. Paused events of the installation resume.
#[utoipa::path(
    put, path = "/admin/v1/tenants/{tenant}/installations/{plugin}/connection/api-key", tag = "connections",
    params(("tenant" = String, Path, description = "Tenant id"), ("plugin" = String, Path, description = "Plugin id")),
    request_body = ApiKeyInput,
    responses(
        (status = 200, description = "Connected; the key itself is never shown", body = Connected),
        (status = 403, description = "Not the tenant's super admin", body = ErrorBody),
        (status = 404, description = "Unknown tenant, or the plugin is not installed", body = ErrorBody),
        (status = 422, description = "`invalid_api_key` (empty, too long, spaces), `lever_key_rejected` (Lever answered 401), or `lever_config` (the tenant's Lever settings are unusable); nothing was stored", body = ErrorBody),
    )
)]
async fn connect_api_key(
    State(host): State<Host>,
    principal: Principal,
    PathParams((tenant, plugin)): PathParams<(String, String)>,
    body: DeferredJson<ApiKeyInput>,
) -> Result<Json<Connected>, ApiError> {
    principal.require_tenant(&tenant, Role::TenantSuperAdmin)?;
    let input = body.parse().await?;
    let key = SecretString::from(input.api_key);
    let (connection, probe) = connections::connect_api_key(
        &host,
        &principal.as_actor(),
        &tenant,
        &plugin,
        &key,
        input.confidential,
    )
    .await?;
    Ok(Json(Connected { connection, probe }))
}

/// Test the installation's connection (tenant admin or super admin, or a platform operator
/// for support): one harmless request per approved permission; nothing is created or changed.
#[utoipa::path(
    post, path = "/admin/v1/tenants/{tenant}/installations/{plugin}/connection/test", tag = "connections",
    params(("tenant" = String, Path, description = "Tenant id"), ("plugin" = String, Path, description = "Plugin id")),
    responses(
        (status = 200, description = "What Lever confirmed, refused (`missing`) or could not check", body = ProbeReport),
        (status = 403, description = "Role too low", body = ErrorBody),
        (status = 404, description = "Unknown tenant, or the plugin is not installed", body = ErrorBody),
        (status = 422, description = "`not_connected` (no connection and no tenant key), `reconnect_needed`, or `lever_config`", body = ErrorBody),
    )
)]
async fn test_connection(
    State(host): State<Host>,
    principal: Principal,
    PathParams((tenant, plugin)): PathParams<(String, String)>,
) -> Result<Json<ProbeReport>, ApiError> {
    principal.require_tenant_or_operator(&tenant, Role::TenantAdmin)?;
    Ok(Json(connections::test(&host, &tenant, &plugin).await?))
}

/// Start "Connect with Lever" (tenant super admin only): open `authorize_url` in the browser
/// of a Lever Super Admin, who consents; Lever then sends the browser back to the host's
/// `/oauth/lever/callback`, which stores the connection. The scopes asked for cover exactly
/// the approved permissions (plus webhooks when the plugin takes Lever events, and
/// `offline_access`). The link works once, until `expires_at`.
#[utoipa::path(
    post, path = "/admin/v1/tenants/{tenant}/installations/{plugin}/connection/oauth", tag = "connections",
    params(("tenant" = String, Path, description = "Tenant id"), ("plugin" = String, Path, description = "Plugin id")),
    responses(
        (status = 200, description = "Where to send the admin's browser", body = Started),
        (status = 403, description = "Not the tenant's super admin", body = ErrorBody),
        (status = 404, description = "Unknown tenant, the plugin is not installed, or not loaded on this host", body = ErrorBody),
        (status = 409, description = "`not_ready`: no permission is approved yet, or the host has no public URL (`fulcrum serve --public-url`)", body = ErrorBody),
        (status = 422, description = "`no_oauth_app`: the plugin has no Lever OAuth app (an operator assigns one), or the app is unusable", body = ErrorBody),
    )
)]
async fn start_oauth(
    State(host): State<Host>,
    principal: Principal,
    PathParams((tenant, plugin)): PathParams<(String, String)>,
) -> Result<Json<Started>, ApiError> {
    principal.require_tenant(&tenant, Role::TenantSuperAdmin)?;
    Ok(Json(
        oauth_flow::start(&host, &principal.as_actor(), &tenant, &plugin).await?,
    ))
}

/// Disconnect the installation (tenant super admin only): its own credential is forgotten
/// and its events use the tenant's key, if any. An OAuth grant stays in Lever's Authorized
/// Apps until revoked there.
#[utoipa::path(
    delete, path = "/admin/v1/tenants/{tenant}/installations/{plugin}/connection", tag = "connections",
    params(("tenant" = String, Path, description = "Tenant id"), ("plugin" = String, Path, description = "Plugin id")),
    responses(
        (status = 204, description = "Disconnected"),
        (status = 403, description = "Not the tenant's super admin", body = ErrorBody),
        (status = 404, description = "Unknown tenant, the plugin is not installed, or it has no connection of its own (`not_connected`)", body = ErrorBody),
    )
)]
async fn disconnect(
    State(host): State<Host>,
    principal: Principal,
    PathParams((tenant, plugin)): PathParams<(String, String)>,
) -> Result<StatusCode, ApiError> {
    principal.require_tenant(&tenant, Role::TenantSuperAdmin)?;
    if connections::disconnect(&host, &principal.as_actor(), &tenant, &plugin).await? {
        Ok(StatusCode::NO_CONTENT)
    } else {
        Err(ApiError::new(
            StatusCode::NOT_FOUND,
            "not_connected",
            format!(
                "plugin {plugin:?} of tenant {tenant:?} has no Lever connection of its own (it \
                 uses the tenant's key, if any); nothing to disconnect"
            ),
        ))
    }
}

/// The active Lever users, as the installation's connection sees them (tenant admin or super
/// admin): whom it may act as.
#[utoipa::path(
    get, path = "/admin/v1/tenants/{tenant}/installations/{plugin}/lever-users", tag = "connections",
    params(("tenant" = String, Path, description = "Tenant id"), ("plugin" = String, Path, description = "Plugin id")),
    responses(
        (status = 200, description = "Active Lever users", body = Vec<LeverUserView>),
        (status = 403, description = "Role too low (platform operators included: these are the tenant's people)", body = ErrorBody),
        (status = 404, description = "Unknown tenant, or the plugin is not installed", body = ErrorBody),
        (status = 422, description = "`not_connected`, `reconnect_needed`, `lever_config`, or `lever_failed` (Lever did not answer as expected)", body = ErrorBody),
    )
)]
async fn lever_users(
    State(host): State<Host>,
    principal: Principal,
    PathParams((tenant, plugin)): PathParams<(String, String)>,
) -> Result<Json<Vec<LeverUserView>>, ApiError> {
    principal.require_tenant(&tenant, Role::TenantAdmin)?;
    let users = connections::lever_users(&host, &tenant, &plugin).await?;
    Ok(Json(
        users
            .into_iter()
            .map(|u| LeverUserView {
                id: u.id,
                name: u.name,
                email: u.email,
                access_role: u.access_role,
            })
            .collect(),
    ))
}

/// Set the installation's Lever identity (tenant super admin only): the user its writes are
/// attributed to and the others a plugin may name. Each must be an active Lever user, checked
/// through the installation's connection.
#[utoipa::path(
    put, path = "/admin/v1/tenants/{tenant}/installations/{plugin}/identity", tag = "connections",
    params(("tenant" = String, Path, description = "Tenant id"), ("plugin" = String, Path, description = "Plugin id")),
    request_body = IdentityInput,
    responses(
        (status = 200, description = "Stored", body = IdentityView),
        (status = 403, description = "Not the tenant's super admin", body = ErrorBody),
        (status = 404, description = "Unknown tenant, or the plugin is not installed", body = ErrorBody),
        (status = 422, description = "`invalid_user_id`, `unknown_user`, `inactive_user`, `too_many_users`, `not_connected`, `reconnect_needed`, or `lever_failed`; nothing was changed", body = ErrorBody),
    )
)]
async fn set_identity(
    State(host): State<Host>,
    principal: Principal,
    PathParams((tenant, plugin)): PathParams<(String, String)>,
    body: DeferredJson<IdentityInput>,
) -> Result<Json<IdentityView>, ApiError> {
    principal.require_tenant(&tenant, Role::TenantSuperAdmin)?;
    let input = body.parse().await?;
    let identity = connections::set_identity(
        &host,
        &principal.as_actor(),
        &tenant,
        &plugin,
        &input.acting_user_id,
        &input.allowed_acting_users,
    )
    .await?;
    Ok(Json(identity.into()))
}
