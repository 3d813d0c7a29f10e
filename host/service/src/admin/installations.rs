//! A plugin as installed for one tenant. Only the tenant's super admin adds a plugin, enables
//! or disables it and approves its permissions; admins set its config, its secrets
//! (write-only: only names are ever shown) and schedule overrides; members and platform
//! operators read. Here is who may do what and what is shown; the rules of each change
//! (approved ⊆ requested, schema then `validate-config`, ...) are in [`crate::installations`].

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use fulcrum_runtime::PluginVersion;
use fulcrum_store::{Installation, Role};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::sync::Arc;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::ErrorBody;
use super::auth::{Principal, existing_tenant};
use super::extract::{DeferredJson, PathParams};
use super::plugins::unknown_plugin;
use crate::Host;
use crate::api_error::ApiError;
use crate::installations;

pub(super) fn routes() -> OpenApiRouter<Host> {
    OpenApiRouter::new()
        .routes(routes!(list_installations, add_named_installation))
        .routes(routes!(
            add_installation,
            get_installation,
            remove_installation
        ))
        .routes(routes!(enable_installation))
        .routes(routes!(disable_installation))
        .routes(routes!(approve_permissions))
        .routes(routes!(set_config))
        .routes(routes!(list_secrets))
        .routes(routes!(set_secret))
        .routes(routes!(set_schedule_overrides))
}

#[derive(Serialize, ToSchema)]
pub(super) struct InstallationView {
    tenant_id: String,
    /// The installation's id within the tenant (in its paths and ingress URL); the plugin's
    /// id for a plugin's first installation.
    plugin_id: String,
    /// The plugin it runs.
    plugin: String,
    /// What the tenant's admins call it (`null`: its id).
    name: Option<String>,
    enabled: bool,
    /// What the plugin asks for (empty while its component is not loaded on this host).
    #[schema(schema_with = super::schemas::permissions)]
    requested_permissions: Vec<String>,
    /// What the tenant's super admin approved; the plugin gets requested ∩ approved.
    #[schema(schema_with = super::schemas::permissions)]
    approved_permissions: Vec<String>,
    /// Requested but not approved yet.
    #[schema(schema_with = super::schemas::permissions)]
    pending_permissions: Vec<String>,
    #[schema(value_type = Object)]
    config: Value,
    #[schema(value_type = Object)]
    schedule_overrides: Value,
    secrets: SecretsView,
    /// The plugin version events run on; `null` if this host has not loaded the plugin.
    active_version: Option<String>,
    /// Unix milliseconds.
    updated_at: i64,
}

/// Secret names only: values are write-only.
#[derive(Serialize, ToSchema)]
pub(super) struct SecretsView {
    /// The secrets the plugin declares.
    declared: Vec<String>,
    /// The ones set for this installation.
    set: Vec<String>,
}

/// The tenant's installation of `plugin`.
pub(super) async fn installation(
    host: &Host,
    tenant: &str,
    plugin: &str,
) -> Result<Installation, ApiError> {
    host.inner
        .store
        .get_installation(tenant, plugin)
        .await?
        .ok_or_else(|| ApiError::not_installed(tenant, plugin))
}

/// The plugin's active version on this host.
pub(super) fn loaded_plugin(host: &Host, plugin: &str) -> Result<Arc<PluginVersion>, ApiError> {
    host.inner
        .runtime
        .active(plugin)
        .ok_or_else(|| unknown_plugin(plugin))
}

async fn view(host: &Host, installation: Installation) -> Result<InstallationView, ApiError> {
    let plugin = host.inner.runtime.active(&installation.plugin);
    let requested: Vec<String> = plugin
        .as_ref()
        .map(|p| {
            p.requested_permissions()
                .iter()
                .map(|p| p.as_str().to_owned())
                .collect()
        })
        .unwrap_or_default();
    let approved: Vec<String> = crate::tenancy::approved_permissions(&installation)
        .into_iter()
        .map(|p| p.as_str().to_owned())
        .collect();
    let pending = requested
        .iter()
        .filter(|p| !approved.contains(p))
        .cloned()
        .collect();
    let set = host
        .inner
        .store
        .secret_names(&installation.tenant_id, &installation.plugin_id)
        .await?;
    Ok(InstallationView {
        requested_permissions: requested,
        approved_permissions: approved,
        pending_permissions: pending,
        secrets: SecretsView {
            declared: plugin
                .as_ref()
                .map(|p| p.manifest().secrets.clone())
                .unwrap_or_default(),
            set,
        },
        active_version: plugin.map(|p| p.version().to_string()),
        tenant_id: installation.tenant_id,
        plugin_id: installation.plugin_id,
        plugin: installation.plugin,
        name: installation.name,
        enabled: installation.enabled,
        config: installation.config,
        schedule_overrides: installation.schedule_overrides,
        updated_at: installation.updated_at,
    })
}

async fn current_view(
    host: &Host,
    tenant: &str,
    plugin: &str,
) -> Result<InstallationView, ApiError> {
    view(host, installation(host, tenant, plugin).await?).await
}

/// The tenant's installations (any role of the tenant, or a platform operator).
#[utoipa::path(
    get, path = "/admin/v1/tenants/{tenant}/installations", tag = "installations",
    params(("tenant" = String, Path, description = "Tenant id")),
    responses(
        (status = 200, description = "Installations by plugin id", body = Vec<InstallationView>),
        (status = 404, description = "Unknown tenant", body = ErrorBody),
    )
)]
async fn list_installations(
    State(host): State<Host>,
    principal: Principal,
    PathParams(tenant): PathParams<String>,
) -> Result<Json<Vec<InstallationView>>, ApiError> {
    principal.require_tenant_or_operator(&tenant, Role::TenantMember)?;
    existing_tenant(&host, &tenant).await?;
    let mut views = Vec::new();
    for installation in host.inner.store.list_installations(&tenant).await? {
        views.push(view(&host, installation).await?);
    }
    Ok(Json(views))
}

/// Another installation of a plugin, with its own id and name.
#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct NewInstallation {
    /// The plugin it runs.
    plugin: String,
    /// Its id within the tenant (1-63 lower-case letters, digits, `-` or `_`): it appears in
    /// its admin paths and its ingress URL (`/ingress/{tenant}/{installation_id}`).
    #[schema(max_length = 63)]
    installation_id: String,
    /// What admins call it, e.g. the career site it serves.
    #[schema(max_length = 200)]
    name: Option<String>,
}

/// Add another installation of a plugin to the tenant (tenant super admin), e.g. one per
/// career site: its own id, config, secrets, state and Lever connection. Disabled, nothing
/// approved. Idempotent for the same id and plugin.
#[utoipa::path(
    post, path = "/admin/v1/tenants/{tenant}/installations", tag = "installations",
    params(("tenant" = String, Path, description = "Tenant id")),
    request_body = NewInstallation,
    responses(
        (status = 201, description = "Added", body = InstallationView),
        (status = 200, description = "Already there, unchanged", body = InstallationView),
        (status = 403, description = "Not the tenant's super admin", body = ErrorBody),
        (status = 404, description = "Unknown tenant or plugin", body = ErrorBody),
        (status = 409, description = "The id is taken by an installation of another plugin", body = ErrorBody),
        (status = 422, description = "A bad installation id or name", body = ErrorBody),
    )
)]
async fn add_named_installation(
    State(host): State<Host>,
    principal: Principal,
    PathParams(tenant): PathParams<String>,
    body: DeferredJson<NewInstallation>,
) -> Result<(StatusCode, Json<InstallationView>), ApiError> {
    principal.require_tenant(&tenant, Role::TenantSuperAdmin)?;
    let new = body.parse().await?;
    let added = installations::add_named(
        &host,
        &principal.as_actor(),
        &tenant,
        &new.plugin,
        &new.installation_id,
        new.name.as_deref(),
    )
    .await?;
    let status = if added.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(view(&host, added.installation).await?)))
}

/// Add a plugin to the tenant (tenant super admin): disabled, nothing approved. Idempotent.
#[utoipa::path(
    put, path = "/admin/v1/tenants/{tenant}/installations/{plugin}", tag = "installations",
    params(("tenant" = String, Path, description = "Tenant id"), ("plugin" = String, Path, description = "Plugin id")),
    responses(
        (status = 201, description = "Added", body = InstallationView),
        (status = 200, description = "Already there, unchanged", body = InstallationView),
        (status = 403, description = "Not the tenant's super admin", body = ErrorBody),
        (status = 404, description = "Unknown tenant or plugin", body = ErrorBody),
    )
)]
async fn add_installation(
    State(host): State<Host>,
    principal: Principal,
    PathParams((tenant, plugin)): PathParams<(String, String)>,
) -> Result<(StatusCode, Json<InstallationView>), ApiError> {
    principal.require_tenant(&tenant, Role::TenantSuperAdmin)?;
    let added = installations::add(&host, &principal.as_actor(), &tenant, &plugin).await?;
    let status = if added.created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(view(&host, added.installation).await?)))
}

/// One installation (any role of the tenant, or a platform operator).
#[utoipa::path(
    get, path = "/admin/v1/tenants/{tenant}/installations/{plugin}", tag = "installations",
    params(("tenant" = String, Path, description = "Tenant id"), ("plugin" = String, Path, description = "Plugin id")),
    responses(
        (status = 200, description = "The installation", body = InstallationView),
        (status = 404, description = "Unknown tenant, or the plugin is not installed", body = ErrorBody),
    )
)]
async fn get_installation(
    State(host): State<Host>,
    principal: Principal,
    PathParams((tenant, plugin)): PathParams<(String, String)>,
) -> Result<Json<InstallationView>, ApiError> {
    principal.require_tenant_or_operator(&tenant, Role::TenantMember)?;
    existing_tenant(&host, &tenant).await?;
    Ok(Json(current_view(&host, &tenant, &plugin).await?))
}

/// How a removal went.
#[derive(Serialize, ToSchema)]
pub(super) struct RemovalView {
    /// `removed`: gone now; `removing`: its plugin's `removing` hook runs first (event
    /// `hook_event_id`), then it goes, whatever the hook's outcome.
    status: &'static str,
    hook_event_id: Option<i64>,
}

/// Remove the installation (tenant super admin only), with its secrets, state, schedules,
/// events and Lever connection; the audit log stays. If its plugin asked for the `removing`
/// lifecycle hook, the installation is disabled at once and goes once the hook has run (or
/// was dead-lettered): 202. Removing it again while that is pending answers 202 again.
#[utoipa::path(
    delete, path = "/admin/v1/tenants/{tenant}/installations/{plugin}", tag = "installations",
    params(("tenant" = String, Path, description = "Tenant id"), ("plugin" = String, Path, description = "Installation id")),
    responses(
        (status = 200, description = "Removed", body = RemovalView),
        (status = 202, description = "Disabled; removed once the plugin's removing hook has run", body = RemovalView),
        (status = 403, description = "Not the tenant's super admin", body = ErrorBody),
        (status = 404, description = "Unknown tenant, or no such installation", body = ErrorBody),
    )
)]
async fn remove_installation(
    State(host): State<Host>,
    principal: Principal,
    PathParams((tenant, plugin)): PathParams<(String, String)>,
) -> Result<(StatusCode, Json<RemovalView>), ApiError> {
    principal.require_tenant(&tenant, Role::TenantSuperAdmin)?;
    let removal = installations::remove(&host, &principal.as_actor(), &tenant, &plugin).await?;
    Ok(match removal {
        installations::Removal::Removed => (
            StatusCode::OK,
            Json(RemovalView {
                status: "removed",
                hook_event_id: None,
            }),
        ),
        installations::Removal::Removing { hook_event_id } => (
            StatusCode::ACCEPTED,
            Json(RemovalView {
                status: "removing",
                hook_event_id: Some(hook_event_id),
            }),
        ),
    })
}

/// Enable the plugin for the tenant (tenant super admin only): its events run, its schedules
/// fire. Refused with 409 `not_ready` until every secret the plugin declares is set and the
/// config passes the plugin's checks (`problems` lists each missing secret and config problem).
#[utoipa::path(
    post, path = "/admin/v1/tenants/{tenant}/installations/{plugin}/enable", tag = "installations",
    params(("tenant" = String, Path, description = "Tenant id"), ("plugin" = String, Path, description = "Plugin id")),
    responses(
        (status = 200, description = "Enabled", body = InstallationView),
        (status = 403, description = "Not the tenant's super admin", body = ErrorBody),
        (status = 404, description = "Unknown tenant, the plugin is not installed, or not loaded on this host", body = ErrorBody),
        (status = 409, description = "Not ready: a declared secret is not set or the config fails the plugin's checks (each in `problems`); nothing changed", body = ErrorBody),
        (status = 422, description = "The plugin's config check did not finish, or its config schema is unusable", body = ErrorBody),
    )
)]
async fn enable_installation(
    State(host): State<Host>,
    principal: Principal,
    PathParams((tenant, plugin)): PathParams<(String, String)>,
) -> Result<Json<InstallationView>, ApiError> {
    principal.require_tenant(&tenant, Role::TenantSuperAdmin)?;
    let enabled = installations::enable(&host, &principal.as_actor(), &tenant, &plugin).await?;
    Ok(Json(view(&host, enabled).await?))
}

/// Disable the plugin for the tenant (tenant super admin only): its ingress answers 403, its
/// schedules stop.
#[utoipa::path(
    post, path = "/admin/v1/tenants/{tenant}/installations/{plugin}/disable", tag = "installations",
    params(("tenant" = String, Path, description = "Tenant id"), ("plugin" = String, Path, description = "Plugin id")),
    responses(
        (status = 200, description = "Disabled", body = InstallationView),
        (status = 403, description = "Not the tenant's super admin", body = ErrorBody),
        (status = 404, description = "Unknown tenant, or the plugin is not installed", body = ErrorBody),
    )
)]
async fn disable_installation(
    State(host): State<Host>,
    principal: Principal,
    PathParams((tenant, plugin)): PathParams<(String, String)>,
) -> Result<Json<InstallationView>, ApiError> {
    principal.require_tenant(&tenant, Role::TenantSuperAdmin)?;
    let disabled = installations::disable(&host, &principal.as_actor(), &tenant, &plugin).await?;
    Ok(Json(view(&host, disabled).await?))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct Approval {
    /// The permissions to approve, in Lever's words; replaces the earlier approval. Each must
    /// be one the plugin requested.
    #[schema(schema_with = super::schemas::permissions)]
    permissions: Vec<String>,
}

/// Approve (replace) the permissions the plugin gets (tenant super admin only). Only
/// permissions the plugin requested can be approved.
#[utoipa::path(
    put, path = "/admin/v1/tenants/{tenant}/installations/{plugin}/approved-permissions", tag = "installations",
    params(("tenant" = String, Path, description = "Tenant id"), ("plugin" = String, Path, description = "Plugin id")),
    request_body = Approval,
    responses(
        (status = 200, description = "Approved", body = InstallationView),
        (status = 403, description = "Not the tenant's super admin", body = ErrorBody),
        (status = 404, description = "Unknown tenant, or the plugin is not installed", body = ErrorBody),
        (status = 422, description = "Unknown or not requested permissions (each in `problems`, at `/permissions/<index>`)", body = ErrorBody),
    )
)]
async fn approve_permissions(
    State(host): State<Host>,
    principal: Principal,
    PathParams((tenant, plugin)): PathParams<(String, String)>,
    body: DeferredJson<Approval>,
) -> Result<Json<InstallationView>, ApiError> {
    principal.require_tenant(&tenant, Role::TenantSuperAdmin)?;
    let approval = body.parse().await?;
    let approved = installations::approve(
        &host,
        &principal.as_actor(),
        &tenant,
        &plugin,
        &approval.permissions,
    )
    .await?;
    Ok(Json(view(&host, approved).await?))
}

/// Set (replace) the installation's config (tenant admin or super admin). It must match the
/// plugin's JSON Schema and pass the plugin's own `validate-config`; otherwise 422 lists every
/// problem and nothing is stored.
#[utoipa::path(
    put, path = "/admin/v1/tenants/{tenant}/installations/{plugin}/config", tag = "installations",
    params(("tenant" = String, Path, description = "Tenant id"), ("plugin" = String, Path, description = "Plugin id")),
    request_body(content = Object, description = "The config, as the plugin's config schema describes it"),
    responses(
        (status = 200, description = "Stored", body = InstallationView),
        (status = 403, description = "Role too low", body = ErrorBody),
        (status = 404, description = "Unknown tenant, or the plugin is not installed", body = ErrorBody),
        (status = 422, description = "The config fails the schema or the plugin's check (each problem in `problems`)", body = ErrorBody),
    )
)]
async fn set_config(
    State(host): State<Host>,
    principal: Principal,
    PathParams((tenant, plugin)): PathParams<(String, String)>,
    body: DeferredJson<Value>,
) -> Result<Json<InstallationView>, ApiError> {
    principal.require_tenant(&tenant, Role::TenantAdmin)?;
    let config = body.parse().await?;
    let configured =
        installations::configure(&host, &principal.as_actor(), &tenant, &plugin, &config).await?;
    Ok(Json(view(&host, configured).await?))
}

/// The installation's secret names (any role of the tenant, or a platform operator): which
/// the plugin declares and which are set. Values are never shown.
#[utoipa::path(
    get, path = "/admin/v1/tenants/{tenant}/installations/{plugin}/secrets", tag = "installations",
    params(("tenant" = String, Path, description = "Tenant id"), ("plugin" = String, Path, description = "Plugin id")),
    responses(
        (status = 200, description = "Secret names", body = SecretsView),
        (status = 404, description = "Unknown tenant, or the plugin is not installed", body = ErrorBody),
    )
)]
async fn list_secrets(
    State(host): State<Host>,
    principal: Principal,
    PathParams((tenant, plugin)): PathParams<(String, String)>,
) -> Result<Json<SecretsView>, ApiError> {
    principal.require_tenant_or_operator(&tenant, Role::TenantMember)?;
    existing_tenant(&host, &tenant).await?;
    Ok(Json(current_view(&host, &tenant, &plugin).await?.secrets))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct SecretInput {
    /// The secret's value, 1-8192 bytes (stored encrypted; never shown again).
    #[schema(min_length = 1, max_length = 8192)]
    value: String,
}

/// Set (replace) one of the secrets the plugin declares (tenant admin or super admin).
#[utoipa::path(
    put, path = "/admin/v1/tenants/{tenant}/installations/{plugin}/secrets/{name}", tag = "installations",
    params(
        ("tenant" = String, Path, description = "Tenant id"),
        ("plugin" = String, Path, description = "Plugin id"),
        ("name" = String, Path, description = "A secret name the plugin declares"),
    ),
    request_body = SecretInput,
    responses(
        (status = 204, description = "Stored"),
        (status = 403, description = "Role too low", body = ErrorBody),
        (status = 404, description = "Unknown tenant, or the plugin is not installed", body = ErrorBody),
        (status = 422, description = "The plugin declares no such secret, or the value is empty", body = ErrorBody),
    )
)]
async fn set_secret(
    State(host): State<Host>,
    principal: Principal,
    PathParams((tenant, plugin, name)): PathParams<(String, String, String)>,
    body: DeferredJson<SecretInput>,
) -> Result<StatusCode, ApiError> {
    principal.require_tenant(&tenant, Role::TenantAdmin)?;
    let input = body.parse().await?;
    let value = SecretString::from(input.value);
    installations::set_secret(
        &host,
        &principal.as_actor(),
        &tenant,
        &plugin,
        &name,
        &value,
    )
    .await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Set (replace) the installation's schedule overrides (tenant admin or super admin):
/// `{"<schedule>": {"every_seconds": N}}` or `{"<schedule>": {"enabled": false}}`, for
/// schedules the plugin declares.
#[utoipa::path(
    put, path = "/admin/v1/tenants/{tenant}/installations/{plugin}/schedule-overrides", tag = "installations",
    params(("tenant" = String, Path, description = "Tenant id"), ("plugin" = String, Path, description = "Plugin id")),
    request_body(content = Object, description = "Overrides by schedule name"),
    responses(
        (status = 200, description = "Stored; the schedules follow at once", body = InstallationView),
        (status = 403, description = "Role too low", body = ErrorBody),
        (status = 404, description = "Unknown tenant, or the plugin is not installed", body = ErrorBody),
        (status = 422, description = "Unknown schedule or bad override (each in `problems`)", body = ErrorBody),
    )
)]
async fn set_schedule_overrides(
    State(host): State<Host>,
    principal: Principal,
    PathParams((tenant, plugin)): PathParams<(String, String)>,
    body: DeferredJson<Value>,
) -> Result<Json<InstallationView>, ApiError> {
    principal.require_tenant(&tenant, Role::TenantAdmin)?;
    let overrides = body.parse().await?;
    let overridden = installations::set_schedule_overrides(
        &host,
        &principal.as_actor(),
        &tenant,
        &plugin,
        &overrides,
    )
    .await?;
    Ok(Json(view(&host, overridden).await?))
}
