//! The signature tokens of a tenant's Lever webhooks. Lever shows each webhook's token once
//! (Settings → Integrations and API → Webhooks, or the Webhooks API's create response); the
//! tenant's super admin (or an operator) stores it here so `POST /webhooks/lever/{tenant}`
//! can check deliveries. Tokens are write-only: only their names are ever listed.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use fulcrum_store::{Role, StoreError};
use secrecy::SecretString;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::ErrorBody;
use super::auth::{Principal, audit, existing_tenant};
use super::extract::{DeferredJson, PathParams};
use crate::Host;
use crate::api_error::ApiError;

pub(super) fn routes() -> OpenApiRouter<Host> {
    OpenApiRouter::new()
        .routes(routes!(list_webhook_tokens))
        .routes(routes!(set_webhook_token, delete_webhook_token))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct WebhookTokenInput {
    /// The webhook's signature token as Lever shows it: 1-512 characters without spaces.
    #[schema(min_length = 1, max_length = 512)]
    signature_token: String,
}

#[derive(Serialize, ToSchema)]
pub(super) struct WebhookTokenNames {
    /// Names of the stored tokens (e.g. the Lever webhook id or its event type).
    names: Vec<String>,
}

/// Names of the tenant's Lever webhook signature tokens (any role of the tenant, or an
/// operator); never the tokens.
#[utoipa::path(
    get, path = "/admin/v1/tenants/{tenant}/lever-webhook-tokens", tag = "tenants",
    params(("tenant" = String, Path, description = "Tenant id")),
    responses(
        (status = 200, description = "Token names", body = WebhookTokenNames),
        (status = 404, description = "Unknown tenant (or another tenant's)", body = ErrorBody),
    )
)]
async fn list_webhook_tokens(
    State(host): State<Host>,
    principal: Principal,
    PathParams(tenant): PathParams<String>,
) -> Result<Json<WebhookTokenNames>, ApiError> {
    principal.require_tenant_or_operator(&tenant, Role::TenantMember)?;
    existing_tenant(&host, &tenant).await?;
    let names = host.inner.store.lever_webhook_token_names(&tenant).await?;
    Ok(Json(WebhookTokenNames { names }))
}

/// Store (or replace) one Lever webhook's signature token (platform operator or the tenant's
/// super admin). Stored encrypted; never returned.
#[utoipa::path(
    put, path = "/admin/v1/tenants/{tenant}/lever-webhook-tokens/{name}", tag = "tenants",
    params(
        ("tenant" = String, Path, description = "Tenant id"),
        ("name" = String, Path, description = "A name for the token, e.g. the Lever webhook id"),
    ),
    request_body = WebhookTokenInput,
    responses(
        (status = 204, description = "Stored"),
        (status = 403, description = "Role too low", body = ErrorBody),
        (status = 404, description = "Unknown tenant", body = ErrorBody),
        (status = 422, description = "Not a plausible token or name", body = ErrorBody),
    )
)]
async fn set_webhook_token(
    State(host): State<Host>,
    principal: Principal,
    PathParams((tenant, name)): PathParams<(String, String)>,
    body: DeferredJson<WebhookTokenInput>,
) -> Result<StatusCode, ApiError> {
    principal.require_tenant_or_operator(&tenant, Role::TenantSuperAdmin)?;
    let input = body.parse().await?;
    existing_tenant(&host, &tenant).await?;
    let token = input.signature_token.trim();
    if token.is_empty()
        || token.len() > 512
        || token.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(invalid(
            "signature_token must be the webhook's token as Lever shows it: 1-512 characters \
             without spaces",
        ));
    }
    let secret = SecretString::from(token.to_owned());
    match host
        .inner
        .store
        .set_lever_webhook_token(&tenant, &name, &secret)
        .await
    {
        Ok(()) => {}
        Err(StoreError::Invalid(message)) => return Err(invalid(&message)),
        Err(e) => return Err(e.into()),
    }
    let detail = format!("token {name:?}");
    audit(
        &host,
        &principal,
        &tenant,
        None,
        "set lever webhook token",
        Some(detail),
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

/// Forget one Lever webhook's signature token (platform operator or the tenant's super
/// admin): deliveries signed with it are refused from then on.
#[utoipa::path(
    delete, path = "/admin/v1/tenants/{tenant}/lever-webhook-tokens/{name}", tag = "tenants",
    params(
        ("tenant" = String, Path, description = "Tenant id"),
        ("name" = String, Path, description = "The token's name"),
    ),
    responses(
        (status = 204, description = "Deleted"),
        (status = 403, description = "Role too low", body = ErrorBody),
        (status = 404, description = "Unknown tenant or token", body = ErrorBody),
    )
)]
async fn delete_webhook_token(
    State(host): State<Host>,
    principal: Principal,
    PathParams((tenant, name)): PathParams<(String, String)>,
) -> Result<StatusCode, ApiError> {
    principal.require_tenant_or_operator(&tenant, Role::TenantSuperAdmin)?;
    existing_tenant(&host, &tenant).await?;
    if !host
        .inner
        .store
        .delete_lever_webhook_token(&tenant, &name)
        .await?
    {
        return Err(ApiError::not_found(format!(
            "tenant {tenant:?} has no Lever webhook token named {name:?}; list them at \
             /admin/v1/tenants/{tenant}/lever-webhook-tokens"
        )));
    }
    let detail = format!("token {name:?}");
    audit(
        &host,
        &principal,
        &tenant,
        None,
        "delete lever webhook token",
        Some(detail),
    )
    .await;
    Ok(StatusCode::NO_CONTENT)
}

fn invalid(message: &str) -> ApiError {
    ApiError::new(
        StatusCode::UNPROCESSABLE_ENTITY,
        "invalid_webhook_token",
        format!("{message}; nothing was stored"),
    )
}
