//! The tenant's audit log: every Lever and vendor call plugins made, every refusal, and every
//! admin change (names and outcomes only, never values). Any role of the tenant, or a platform
//! operator, reads it.

use axum::Json;
use axum::extract::State;
use fulcrum_store::{AuditEntry, Role};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::ErrorBody;
use super::auth::{Principal, existing_tenant};
use super::extract::{PathParams, QueryParams};
use crate::Host;
use crate::api_error::ApiError;

/// Most entries one page returns.
const MAX_AUDIT_PAGE: u32 = 1000;

pub(super) fn routes() -> OpenApiRouter<Host> {
    OpenApiRouter::new().routes(routes!(list_audit))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct AuditQuery {
    /// At most this many, newest first (default 100, at most 1000).
    limit: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub(super) struct AuditEntryView {
    id: i64,
    /// Unix milliseconds.
    at: i64,
    plugin_id: Option<String>,
    event_id: Option<i64>,
    /// What was done: a Lever or vendor call, or `admin: ...` for a change made through this API.
    operation: String,
    /// The Lever permission the call needed.
    permission: Option<String>,
    /// `allowed`, `denied`, `failed`, `done`.
    outcome: String,
    detail: Option<String>,
}

impl From<AuditEntry> for AuditEntryView {
    fn from(a: AuditEntry) -> Self {
        AuditEntryView {
            id: a.id,
            at: a.at,
            plugin_id: a.plugin_id,
            event_id: a.event_id,
            operation: a.operation,
            permission: a.permission,
            outcome: a.outcome,
            detail: a.detail,
        }
    }
}

/// The tenant's audit log, newest first (any role of the tenant, or a platform operator).
#[utoipa::path(
    get, path = "/admin/v1/tenants/{tenant}/audit", tag = "audit",
    params(("tenant" = String, Path, description = "Tenant id"), AuditQuery),
    responses(
        (status = 200, description = "Entries, newest first", body = Vec<AuditEntryView>),
        (status = 404, description = "Unknown tenant", body = ErrorBody),
    )
)]
async fn list_audit(
    State(host): State<Host>,
    principal: Principal,
    PathParams(tenant): PathParams<String>,
    QueryParams(query): QueryParams<AuditQuery>,
) -> Result<Json<Vec<AuditEntryView>>, ApiError> {
    principal.require_tenant_or_operator(&tenant, Role::TenantMember)?;
    existing_tenant(&host, &tenant).await?;
    let limit = query.limit.unwrap_or(100).clamp(1, MAX_AUDIT_PAGE);
    let entries = host.inner.store.audit_list(&tenant, limit).await?;
    Ok(Json(
        entries.into_iter().map(AuditEntryView::from).collect(),
    ))
}
