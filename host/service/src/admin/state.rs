//! A plugin's stored state for one tenant, read-only, for support: platform operators and the
//! tenant's super admin (state can hold whatever the plugin keeps about candidates).

use axum::Json;
use axum::extract::State;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use fulcrum_store::Role;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::ErrorBody;
use super::auth::{Principal, existing_tenant};
use super::extract::{PathParams, QueryParams};
use super::installations::installation;
use crate::Host;
use crate::api_error::ApiError;

/// Most keys one page returns.
const MAX_KEYS_PAGE: u32 = 1000;

pub(super) fn routes() -> OpenApiRouter<Host> {
    OpenApiRouter::new()
        .routes(routes!(list_state_keys))
        .routes(routes!(get_state_entry))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct KeysQuery {
    /// Only keys starting with this.
    prefix: Option<String>,
    /// Only keys after this one (pass the previous page's `next_after`).
    after: Option<String>,
    /// At most this many (default 100, at most 1000).
    limit: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub(super) struct StateKeys {
    /// In byte order.
    keys: Vec<String>,
    /// Pass as `after` for the next page; `null` when this page is the last.
    next_after: Option<String>,
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct EntryQuery {
    /// The state key.
    key: String,
}

#[derive(Serialize, ToSchema)]
pub(super) struct StateEntry {
    key: String,
    /// Bytes in the value.
    size: usize,
    /// The value as text, when it is UTF-8.
    text: Option<String>,
    /// The value, base64.
    base64: String,
}

async fn authorize(
    host: &Host,
    principal: &Principal,
    tenant: &str,
    plugin: &str,
) -> Result<(), ApiError> {
    principal.require_tenant_or_operator(tenant, Role::TenantSuperAdmin)?;
    existing_tenant(host, tenant).await?;
    installation(host, tenant, plugin).await?;
    Ok(())
}

/// The plugin's state keys for the tenant (platform operator or the tenant's super admin).
#[utoipa::path(
    get, path = "/admin/v1/tenants/{tenant}/installations/{plugin}/state", tag = "state",
    params(("tenant" = String, Path, description = "Tenant id"), ("plugin" = String, Path, description = "Plugin id"), KeysQuery),
    responses(
        (status = 200, description = "A page of keys", body = StateKeys),
        (status = 403, description = "Role too low", body = ErrorBody),
        (status = 404, description = "Unknown tenant, or the plugin is not installed", body = ErrorBody),
    )
)]
async fn list_state_keys(
    State(host): State<Host>,
    principal: Principal,
    PathParams((tenant, plugin)): PathParams<(String, String)>,
    QueryParams(query): QueryParams<KeysQuery>,
) -> Result<Json<StateKeys>, ApiError> {
    authorize(&host, &principal, &tenant, &plugin).await?;
    let limit = query.limit.unwrap_or(100).clamp(1, MAX_KEYS_PAGE);
    let keys = host
        .inner
        .store
        .state_list_keys(
            &tenant,
            &plugin,
            query.prefix.as_deref().unwrap_or(""),
            query.after.as_deref(),
            limit,
        )
        .await?;
    let next_after = (keys.len() == limit as usize)
        .then(|| keys.last().cloned())
        .flatten();
    Ok(Json(StateKeys { keys, next_after }))
}

/// One state value (platform operator or the tenant's super admin).
#[utoipa::path(
    get, path = "/admin/v1/tenants/{tenant}/installations/{plugin}/state/entry", tag = "state",
    params(("tenant" = String, Path, description = "Tenant id"), ("plugin" = String, Path, description = "Plugin id"), EntryQuery),
    responses(
        (status = 200, description = "The value", body = StateEntry),
        (status = 403, description = "Role too low", body = ErrorBody),
        (status = 404, description = "Unknown tenant, plugin not installed, or no such key", body = ErrorBody),
    )
)]
async fn get_state_entry(
    State(host): State<Host>,
    principal: Principal,
    PathParams((tenant, plugin)): PathParams<(String, String)>,
    QueryParams(query): QueryParams<EntryQuery>,
) -> Result<Json<StateEntry>, ApiError> {
    authorize(&host, &principal, &tenant, &plugin).await?;
    let value = host
        .inner
        .store
        .state_get(&tenant, &plugin, &query.key)
        .await?
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "plugin {plugin:?} has no state key {:?} for this tenant; list the keys with \
                 GET /admin/v1/tenants/{tenant}/installations/{plugin}/state",
                query.key
            ))
        })?;
    Ok(Json(StateEntry {
        size: value.len(),
        text: String::from_utf8(value.clone()).ok(),
        base64: BASE64.encode(&value),
        key: query.key,
    }))
}
