//! A plugin as installed for one tenant. Only the tenant's super admin adds a plugin, enables
//! or disables it and approves its permissions (only permissions the plugin requested); admins
//! set its config (checked against the plugin's JSON Schema, then by its own
//! `validate-config`), its secrets (write-only: only names are ever shown) and schedule
//! overrides; members and platform operators read.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use fulcrum_runtime::audit::NoAudit;
use fulcrum_runtime::{Call, CallOutput, InvocationContext, MemoryStateStore, PluginVersion};
use fulcrum_store::{Installation, Role, StoreError};
use lever_model::Permission;
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::Arc;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::ErrorBody;
use super::auth::{Principal, audit, existing_tenant};
use super::extract::{JsonBody, PathParams};
use super::plugins::unknown_plugin;
use crate::Host;
use crate::api_error::ApiError;

pub(super) fn routes() -> OpenApiRouter<Host> {
    OpenApiRouter::new()
        .routes(routes!(list_installations))
        .routes(routes!(add_installation, get_installation))
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
    plugin_id: String,
    enabled: bool,
    /// What the plugin asks for (empty while its component is not loaded on this host).
    requested_permissions: Vec<String>,
    /// What the tenant's super admin approved; the plugin gets requested ∩ approved.
    approved_permissions: Vec<String>,
    /// Requested but not approved yet.
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

/// One thing wrong with an input, at a JSON pointer into it.
#[derive(Serialize, ToSchema, Debug, Clone, PartialEq)]
pub(super) struct Problem {
    /// JSON pointer of the offending value (`""` for the whole document).
    pointer: String,
    message: String,
    /// `schema` (the plugin's JSON Schema) or `plugin` (its own check) or `host`.
    source: String,
}

impl Problem {
    fn host(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            pointer: pointer.into(),
            message: message.into(),
            source: "host".into(),
        }
    }
}

/// The 422 body listing problems: the usual error envelope plus `problems`.
#[derive(Serialize, ToSchema)]
pub(super) struct ProblemsBody {
    error: ProblemsDetail,
}

#[derive(Serialize, ToSchema)]
pub(super) struct ProblemsDetail {
    code: String,
    message: String,
    problems: Vec<Problem>,
}

/// A refusal: an [`ApiError`], or a 422 listing every problem with the input at once.
pub(super) enum Refusal {
    Api(ApiError),
    Problems {
        code: &'static str,
        message: String,
        problems: Vec<Problem>,
    },
}

impl From<ApiError> for Refusal {
    fn from(e: ApiError) -> Self {
        Refusal::Api(e)
    }
}

impl From<StoreError> for Refusal {
    fn from(e: StoreError) -> Self {
        Refusal::Api(e.into())
    }
}

impl IntoResponse for Refusal {
    fn into_response(self) -> Response {
        match self {
            Refusal::Api(e) => e.into_response(),
            Refusal::Problems {
                code,
                message,
                problems,
            } => (
                StatusCode::UNPROCESSABLE_ENTITY,
                Json(
                    json!({ "error": { "code": code, "message": message, "problems": problems } }),
                ),
            )
                .into_response(),
        }
    }
}

/// Checks `instance` against a plugin's JSON Schema (`schema_text`); every violation.
pub(super) fn schema_problems(
    schema_text: &str,
    what: &str,
    instance: &Value,
) -> Result<Vec<Problem>, ApiError> {
    let schema: Value =
        serde_json::from_str(schema_text).map_err(|e| plugin_schema_error(what, e))?;
    let validator = jsonschema::validator_for(&schema).map_err(|e| plugin_schema_error(what, e))?;
    Ok(validator
        .iter_errors(instance)
        .map(|error| Problem {
            pointer: error.instance_path().as_str().to_owned(),
            message: error.to_string(),
            source: "schema".into(),
        })
        .collect())
}

fn plugin_schema_error(what: &str, error: impl std::fmt::Display) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_plugin_schema",
        format!(
            "the plugin's {what} schema is not a usable JSON Schema ({error}); the vendor must \
             fix the plugin; nothing was stored"
        ),
    )
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
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "plugin {plugin:?} is not installed for tenant {tenant:?}; a tenant super admin \
                 adds it with PUT /admin/v1/tenants/{tenant}/installations/{plugin}"
            ))
        })
}

/// Checks `principal` may change the tenant's installation of `plugin` with role `min`, that
/// the tenant exists and has the plugin installed, and returns the plugin's loaded version.
async fn changeable_installation(
    host: &Host,
    principal: &Principal,
    tenant: &str,
    plugin: &str,
    min: Role,
) -> Result<Arc<PluginVersion>, ApiError> {
    principal.require_tenant(tenant, min)?;
    existing_tenant(host, tenant).await?;
    installation(host, tenant, plugin).await?;
    loaded_plugin(host, plugin)
}

/// The plugin's active version on this host.
pub(super) fn loaded_plugin(host: &Host, plugin: &str) -> Result<Arc<PluginVersion>, ApiError> {
    host.inner
        .runtime
        .active(plugin)
        .ok_or_else(|| unknown_plugin(plugin))
}

async fn view(host: &Host, installation: Installation) -> Result<InstallationView, ApiError> {
    let plugin = host.inner.runtime.active(&installation.plugin_id);
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
    existing_tenant(&host, &tenant).await?;
    loaded_plugin(&host, &plugin)?;
    if let Some(existing) = host.inner.store.get_installation(&tenant, &plugin).await? {
        return Ok((StatusCode::OK, Json(view(&host, existing).await?)));
    }
    let added = host
        .inner
        .store
        .upsert_installation(&Installation {
            tenant_id: tenant.clone(),
            plugin_id: plugin.clone(),
            enabled: false,
            approved_permissions: json!([]),
            config: json!({}),
            schedule_overrides: json!({}),
            updated_at: 0,
        })
        .await?;
    audit(
        &host,
        &principal,
        &tenant,
        Some(&plugin),
        "add plugin",
        None,
    )
    .await;
    Ok((StatusCode::CREATED, Json(view(&host, added).await?)))
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

async fn set_enabled(
    host: &Host,
    principal: &Principal,
    tenant: &str,
    plugin: &str,
    enabled: bool,
) -> Result<Json<InstallationView>, ApiError> {
    principal.require_tenant(tenant, Role::TenantSuperAdmin)?;
    existing_tenant(host, tenant).await?;
    installation(host, tenant, plugin).await?;
    host.inner
        .store
        .set_installation_enabled(tenant, plugin, enabled)
        .await?;
    host.sync_schedules(tenant, plugin).await?;
    let operation = if enabled {
        "enable plugin"
    } else {
        "disable plugin"
    };
    audit(host, principal, tenant, Some(plugin), operation, None).await;
    Ok(Json(current_view(host, tenant, plugin).await?))
}

/// Enable the plugin for the tenant (tenant super admin only): its events run, its schedules
/// fire.
#[utoipa::path(
    post, path = "/admin/v1/tenants/{tenant}/installations/{plugin}/enable", tag = "installations",
    params(("tenant" = String, Path, description = "Tenant id"), ("plugin" = String, Path, description = "Plugin id")),
    responses(
        (status = 200, description = "Enabled", body = InstallationView),
        (status = 403, description = "Not the tenant's super admin", body = ErrorBody),
        (status = 404, description = "Unknown tenant, or the plugin is not installed", body = ErrorBody),
    )
)]
async fn enable_installation(
    State(host): State<Host>,
    principal: Principal,
    PathParams((tenant, plugin)): PathParams<(String, String)>,
) -> Result<Json<InstallationView>, ApiError> {
    set_enabled(&host, &principal, &tenant, &plugin, true).await
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
    set_enabled(&host, &principal, &tenant, &plugin, false).await
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct Approval {
    /// The permissions to approve, in Lever's words; replaces the earlier approval. Each must
    /// be one the plugin requested.
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
        (status = 422, description = "Unknown or not requested permissions", body = ProblemsBody),
    )
)]
async fn approve_permissions(
    State(host): State<Host>,
    principal: Principal,
    PathParams((tenant, plugin)): PathParams<(String, String)>,
    JsonBody(approval): JsonBody<Approval>,
) -> Result<Json<InstallationView>, Refusal> {
    let loaded =
        changeable_installation(&host, &principal, &tenant, &plugin, Role::TenantSuperAdmin)
            .await?;
    let requested = loaded.requested_permissions();
    let mut approved = BTreeSet::new();
    let mut problems = Vec::new();
    for (n, word) in approval.permissions.iter().enumerate() {
        match word.parse::<Permission>() {
            Ok(p) if requested.contains(&p) => {
                approved.insert(p);
            }
            Ok(_) => problems.push(Problem::host(
                format!("/permissions/{n}"),
                format!(
                    "{word:?} is not requested by plugin {plugin:?}; only requested permissions \
                     can be approved"
                ),
            )),
            Err(_) => problems.push(Problem::host(
                format!("/permissions/{n}"),
                format!(
                    "{word:?} is not a Lever permission; use Lever's words, e.g. \"read posting\""
                ),
            )),
        }
    }
    if !problems.is_empty() {
        let requested: Vec<_> = requested.iter().map(|p| p.as_str()).collect();
        return Err(Refusal::Problems {
            code: "invalid_permissions",
            message: format!(
                "nothing was approved; plugin {plugin:?} requests: {}",
                requested.join(", ")
            ),
            problems,
        });
    }
    let words: Vec<&str> = approved.iter().map(|p| p.as_str()).collect();
    host.inner
        .store
        .approve_permissions(&tenant, &plugin, &json!(words))
        .await?;
    audit(
        &host,
        &principal,
        &tenant,
        Some(&plugin),
        "approve permissions",
        Some(format!("approved: {}", words.join(", "))),
    )
    .await;
    Ok(Json(current_view(&host, &tenant, &plugin).await?))
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
        (status = 422, description = "The config fails the schema or the plugin's check", body = ProblemsBody),
    )
)]
async fn set_config(
    State(host): State<Host>,
    principal: Principal,
    PathParams((tenant, plugin)): PathParams<(String, String)>,
    JsonBody(config): JsonBody<Value>,
) -> Result<Json<InstallationView>, Refusal> {
    let loaded =
        changeable_installation(&host, &principal, &tenant, &plugin, Role::TenantAdmin).await?;
    let problems = schema_problems(&loaded.manifest().config_schema, "config", &config)?;
    if !problems.is_empty() {
        return Err(Refusal::Problems {
            code: "invalid_config",
            message: "the config does not match the plugin's config schema; fix the listed \
                      settings and send it again; nothing was stored"
                .into(),
            problems,
        });
    }
    let problems = plugin_config_problems(&host, &tenant, &loaded, &config).await?;
    if !problems.is_empty() {
        return Err(Refusal::Problems {
            code: "invalid_config",
            message: "the plugin refused the config; fix the listed settings and send it \
                      again; nothing was stored"
                .into(),
            problems,
        });
    }
    host.inner
        .store
        .set_installation_config(&tenant, &plugin, &config)
        .await?;
    audit(
        &host,
        &principal,
        &tenant,
        Some(&plugin),
        "set config",
        None,
    )
    .await;
    Ok(Json(current_view(&host, &tenant, &plugin).await?))
}

/// Asks the plugin's `validate-config` (which may only read the config and log).
async fn plugin_config_problems(
    host: &Host,
    tenant: &str,
    plugin: &Arc<PluginVersion>,
    config: &Value,
) -> Result<Vec<Problem>, ApiError> {
    let text = config.to_string();
    let ctx = InvocationContext::new(
        tenant,
        format!("{tenant}/{}", plugin.id()),
        plugin.id(),
        Arc::new(MemoryStateStore::new()),
        Arc::new(NoAudit),
    )
    .with_config(text.clone());
    let output = host
        .inner
        .runtime
        .invoke(plugin, ctx, Call::ValidateConfig(text))
        .await
        .map_err(|e| {
            ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "config_check_failed",
                format!(
                    "the plugin's validate-config did not finish ({e}); the config was not \
                     stored; tell the plugin's vendor"
                ),
            )
        })?;
    match output {
        CallOutput::ConfigChecked(Ok(())) => Ok(Vec::new()),
        CallOutput::ConfigChecked(Err(problems)) => Ok(problems
            .into_iter()
            .map(|p| Problem {
                pointer: p.pointer,
                message: p.message,
                source: "plugin".into(),
            })
            .collect()),
        other => Err(ApiError::internal(
            "validate-config",
            format!("unexpected output {other:?}"),
        )),
    }
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
    /// The secret's value (stored encrypted; never shown again).
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
    JsonBody(input): JsonBody<SecretInput>,
) -> Result<StatusCode, ApiError> {
    let loaded =
        changeable_installation(&host, &principal, &tenant, &plugin, Role::TenantAdmin).await?;
    let declared = &loaded.manifest().secrets;
    if !declared.contains(&name) {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "unknown_secret",
            format!(
                "plugin {plugin:?} declares no secret named {name:?}; it declares: {}; nothing \
                 was stored",
                declared.join(", ")
            ),
        ));
    }
    if input.value.is_empty() || input.value.len() > 8192 {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_secret",
            "the secret's value must be 1-8192 bytes; nothing was stored",
        ));
    }
    host.inner
        .store
        .set_secret(&tenant, &plugin, &name, &SecretString::from(input.value))
        .await?;
    audit(
        &host,
        &principal,
        &tenant,
        Some(&plugin),
        "set secret",
        Some(format!("secret {name:?}")),
    )
    .await;
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
        (status = 422, description = "Unknown schedule or bad override", body = ProblemsBody),
    )
)]
async fn set_schedule_overrides(
    State(host): State<Host>,
    principal: Principal,
    PathParams((tenant, plugin)): PathParams<(String, String)>,
    JsonBody(overrides): JsonBody<Value>,
) -> Result<Json<InstallationView>, Refusal> {
    let loaded =
        changeable_installation(&host, &principal, &tenant, &plugin, Role::TenantAdmin).await?;
    let declared: Vec<&str> = loaded
        .manifest()
        .schedules
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    let problems: Vec<Problem> = crate::scheduler::override_problems(&overrides, &declared)
        .into_iter()
        .map(|(pointer, message)| Problem::host(pointer, message))
        .collect();
    if !problems.is_empty() {
        return Err(Refusal::Problems {
            code: "invalid_schedule_overrides",
            message: format!(
                "nothing was stored; plugin {plugin:?} declares the schedules: {}",
                declared.join(", ")
            ),
            problems,
        });
    }
    host.inner
        .store
        .set_schedule_overrides(&tenant, &plugin, &overrides)
        .await?;
    host.sync_schedules(&tenant, &plugin).await?;
    audit(
        &host,
        &principal,
        &tenant,
        Some(&plugin),
        "set schedule overrides",
        None,
    )
    .await;
    Ok(Json(current_view(&host, &tenant, &plugin).await?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn schema_problems_point_at_the_offending_value() {
        let schema = r#"{"type":"object","properties":{"greeting":{"type":"string"}},"additionalProperties":false}"#;
        assert!(
            schema_problems(schema, "config", &json!({"greeting": "hi"}))
                .unwrap()
                .is_empty()
        );
        let problems = schema_problems(schema, "config", &json!({"greeting": 1})).unwrap();
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(problems[0].pointer, "/greeting");
        assert_eq!(problems[0].source, "schema");
        assert!(problems[0].message.contains("string"), "{problems:?}");
        assert!(schema_problems("{not json", "config", &json!({})).is_err());
    }
}
