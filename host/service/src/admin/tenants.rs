//! Tenants (Lever customers) and their Lever connection. Operators create and list tenants and
//! set the Lever settings; a tenant's people read their own tenant; the Lever API key is set
//! by an operator or the tenant's super admin and is never shown again. The rules of each
//! change (id, trimmed name, key and URL checks) are in [`crate::tenants`].

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use fulcrum_store::{Role, Tenant};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::ErrorBody;
use super::auth::{Principal, existing_tenant};
use super::extract::{DeferredJson, PathParams};
use crate::Host;
use crate::api_error::ApiError;
use crate::tenants;

pub(super) fn routes() -> OpenApiRouter<Host> {
    OpenApiRouter::new()
        .routes(routes!(create_tenant, list_tenants))
        .routes(routes!(get_tenant))
        .routes(routes!(set_lever_credential))
        .routes(routes!(set_lever_settings))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct NewTenant {
    /// 1-63 lower-case letters, digits, '-' or '_'; part of the tenant's ingress URLs.
    #[schema(schema_with = super::schemas::tenant_id)]
    id: String,
    /// 1-200 characters (spaces around it do not count).
    #[schema(min_length = 1, max_length = 200)]
    name: String,
}

#[derive(Serialize, ToSchema)]
pub(super) struct TenantView {
    id: String,
    name: String,
    /// Unix milliseconds.
    created_at: i64,
    lever: LeverView,
}

/// The tenant's Lever connection; the API key itself is never shown.
#[derive(Serialize, ToSchema)]
pub(super) struct LeverView {
    /// `null`: the host's default (production Lever).
    base_url: Option<String>,
    /// The Lever user plugin writes are attributed to; `null`: the host's default.
    acting_user_id: Option<String>,
    /// Whether a credential is set, and when it was last replaced.
    credential: Option<CredentialView>,
}

#[derive(Serialize, ToSchema)]
pub(super) struct CredentialView {
    /// How the credential authenticates.
    #[schema(schema_with = super::schemas::credential_kind)]
    kind: String,
    /// Unix milliseconds.
    updated_at: i64,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct LeverCredentialInput {
    /// A Lever API key with the permissions the tenant's plugins need: 1-512 characters
    /// without spaces.
    #[schema(min_length = 1, max_length = 512)]
    api_key: String,
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct LeverSettingsInput {
    /// Lever's API base URL (e.g. `https://api.eu.lever.co/v1`); `null` for the host default.
    #[serde(default)]
    base_url: Option<String>,
    /// The Lever user writes are attributed to; `null` for the host default.
    #[serde(default)]
    acting_user_id: Option<String>,
}

async fn view(host: &Host, tenant: Tenant) -> Result<TenantView, ApiError> {
    Ok(TenantView {
        lever: lever_view(host, &tenant.id).await?,
        id: tenant.id,
        name: tenant.name,
        created_at: tenant.created_at,
    })
}

async fn lever_view(host: &Host, tenant: &str) -> Result<LeverView, ApiError> {
    let store = &host.inner.store;
    let settings = store.get_lever_settings(tenant).await?;
    let credential = store
        .get_lever_credential(tenant)
        .await?
        .map(|c| CredentialView {
            kind: c.kind.as_str().to_owned(),
            updated_at: c.updated_at,
        });
    Ok(LeverView {
        base_url: settings.base_url,
        acting_user_id: settings.acting_user_id,
        credential,
    })
}

/// Create a tenant (platform operator).
#[utoipa::path(
    post, path = "/admin/v1/tenants", tag = "tenants",
    request_body = NewTenant,
    responses(
        (status = 201, description = "Created", body = TenantView),
        (status = 403, description = "Not a platform operator", body = ErrorBody),
        (status = 409, description = "The id is taken", body = ErrorBody),
        (status = 422, description = "Bad id or name", body = ErrorBody),
    )
)]
async fn create_tenant(
    State(host): State<Host>,
    principal: Principal,
    body: DeferredJson<NewTenant>,
) -> Result<(StatusCode, Json<TenantView>), ApiError> {
    principal.require_operator("create tenants")?;
    let input = body.parse().await?;
    let tenant = tenants::create(
        &host.inner.store,
        &principal.as_actor(),
        &input.id,
        &input.name,
    )
    .await?;
    Ok((StatusCode::CREATED, Json(view(&host, tenant).await?)))
}

/// Every tenant (platform operator).
#[utoipa::path(
    get, path = "/admin/v1/tenants", tag = "tenants",
    responses(
        (status = 200, description = "Tenants by id", body = Vec<TenantView>),
        (status = 403, description = "Not a platform operator", body = ErrorBody),
    )
)]
async fn list_tenants(
    State(host): State<Host>,
    principal: Principal,
) -> Result<Json<Vec<TenantView>>, ApiError> {
    principal.require_operator("list tenants")?;
    let mut views = Vec::new();
    for tenant in host.inner.store.list_tenants().await? {
        views.push(view(&host, tenant).await?);
    }
    Ok(Json(views))
}

/// One tenant (platform operator, or any token of that tenant).
#[utoipa::path(
    get, path = "/admin/v1/tenants/{tenant}", tag = "tenants",
    params(("tenant" = String, Path, description = "Tenant id")),
    responses(
        (status = 200, description = "The tenant", body = TenantView),
        (status = 404, description = "Unknown tenant (or another tenant's)", body = ErrorBody),
    )
)]
async fn get_tenant(
    State(host): State<Host>,
    principal: Principal,
    PathParams(tenant): PathParams<String>,
) -> Result<Json<TenantView>, ApiError> {
    principal.require_tenant_or_operator(&tenant, Role::TenantMember)?;
    let tenant = existing_tenant(&host, &tenant).await?;
    Ok(Json(view(&host, tenant).await?))
}

/// Set (replace) the tenant's Lever API key (platform operator or the tenant's super admin).
/// Stored encrypted; never returned.
#[utoipa::path(
    put, path = "/admin/v1/tenants/{tenant}/lever-credential", tag = "tenants",
    params(("tenant" = String, Path, description = "Tenant id")),
    request_body = LeverCredentialInput,
    responses(
        (status = 204, description = "Stored"),
        (status = 403, description = "Role too low", body = ErrorBody),
        (status = 404, description = "Unknown tenant", body = ErrorBody),
        (status = 422, description = "Not a plausible API key", body = ErrorBody),
    )
)]
async fn set_lever_credential(
    State(host): State<Host>,
    principal: Principal,
    PathParams(tenant): PathParams<String>,
    body: DeferredJson<LeverCredentialInput>,
) -> Result<StatusCode, ApiError> {
    principal.require_tenant_or_operator(&tenant, Role::TenantSuperAdmin)?;
    let input = body.parse().await?;
    let key = SecretString::from(input.api_key);
    tenants::set_lever_credential(&host.inner.store, &principal.as_actor(), &tenant, &key).await?;
    Ok(StatusCode::NO_CONTENT)
}

/// Set the tenant's Lever settings (platform operator: the base URL decides where the host
/// sends the tenant's credential, so tenants cannot point it elsewhere).
#[utoipa::path(
    put, path = "/admin/v1/tenants/{tenant}/lever-settings", tag = "tenants",
    params(("tenant" = String, Path, description = "Tenant id")),
    request_body = LeverSettingsInput,
    responses(
        (status = 200, description = "The tenant's Lever connection", body = LeverView),
        (status = 403, description = "Not a platform operator", body = ErrorBody),
        (status = 404, description = "Unknown tenant", body = ErrorBody),
        (status = 422, description = "Bad URL", body = ErrorBody),
    )
)]
async fn set_lever_settings(
    State(host): State<Host>,
    principal: Principal,
    PathParams(tenant): PathParams<String>,
    body: DeferredJson<LeverSettingsInput>,
) -> Result<Json<LeverView>, ApiError> {
    principal.require_operator("change a tenant's Lever settings")?;
    let input = body.parse().await?;
    tenants::set_lever_settings(
        &host.inner.store,
        &principal.as_actor(),
        &tenant,
        input.base_url.as_deref(),
        input.acting_user_id.as_deref(),
    )
    .await?;
    Ok(Json(lever_view(&host, &tenant).await?))
}
