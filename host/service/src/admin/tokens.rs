//! API bearer tokens. Platform operators issue and revoke any token; a tenant super admin
//! issues and revokes the tenant tokens of its own tenant; any token may revoke itself. A
//! token's value is shown once, when issued; listings never show it.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use fulcrum_store::{ApiToken, Role, StoreError};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::ErrorBody;
use super::auth::{Principal, audit, forbidden, unknown_tenant};
use super::extract::{JsonBody, PathParams, QueryParams};
use crate::Host;
use crate::api_error::ApiError;

pub(super) fn routes() -> OpenApiRouter<Host> {
    OpenApiRouter::new()
        .routes(routes!(issue_token, list_tokens))
        .routes(routes!(revoke_token))
}

#[derive(Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub(super) struct NewToken {
    /// `platform-operator`, `tenant-super-admin`, `tenant-admin` or `tenant-member`.
    role: String,
    /// The tenant of a tenant role (a tenant super admin may leave it out: its own tenant).
    tenant: Option<String>,
    /// Who or what the token is for.
    #[serde(default)]
    label: String,
}

#[derive(Serialize, ToSchema)]
pub(super) struct TokenView {
    id: i64,
    role: String,
    tenant: Option<String>,
    label: String,
    /// Unix milliseconds.
    created_at: i64,
    /// Unix milliseconds; `null` while the token works.
    revoked_at: Option<i64>,
}

impl From<ApiToken> for TokenView {
    fn from(t: ApiToken) -> Self {
        TokenView {
            id: t.id,
            role: t.role.as_str().to_owned(),
            tenant: t.tenant_id,
            label: t.label,
            created_at: t.created_at,
            revoked_at: t.revoked_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub(super) struct IssuedTokenView {
    /// The bearer token. Shown this once: store it now.
    token: String,
    #[serde(flatten)]
    record: TokenView,
}

fn unprocessable(code: &'static str, message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
}

/// Issue a token (platform operator: any; tenant super admin: tenant roles of its tenant).
#[utoipa::path(
    post, path = "/admin/v1/tokens", tag = "tokens",
    request_body = NewToken,
    responses(
        (status = 201, description = "Issued; the token is in the body, this once", body = IssuedTokenView),
        (status = 403, description = "May not issue this token", body = ErrorBody),
        (status = 404, description = "Unknown tenant", body = ErrorBody),
        (status = 422, description = "Unknown role, or tenant given/missing for the role", body = ErrorBody),
    )
)]
async fn issue_token(
    State(host): State<Host>,
    principal: Principal,
    JsonBody(input): JsonBody<NewToken>,
) -> Result<(StatusCode, Json<IssuedTokenView>), ApiError> {
    let role: Role = input
        .role
        .parse()
        .map_err(|e| unprocessable("invalid_role", format!("{e}; nothing was issued")))?;
    let tenant = match (principal.role, &principal.tenant) {
        (Role::PlatformOperator, _) => input.tenant,
        (Role::TenantSuperAdmin, Some(own)) => {
            if !role.is_tenant_role() {
                return Err(forbidden(
                    "only a platform operator issues platform-operator tokens",
                ));
            }
            match input.tenant {
                Some(other) if &other != own => return Err(unknown_tenant(&other)),
                _ => Some(own.clone()),
            }
        }
        _ => {
            return Err(forbidden(
                "only a platform operator or a tenant super admin issues tokens; ask one",
            ));
        }
    };
    let issued = match host
        .inner
        .store
        .issue_api_token(role, tenant.as_deref(), input.label.trim())
        .await
    {
        Ok(issued) => issued,
        Err(StoreError::Invalid(message)) => {
            return Err(unprocessable(
                "invalid_token_request",
                format!("{message}; nothing was issued"),
            ));
        }
        Err(StoreError::NotFound(_)) => {
            return Err(unknown_tenant(tenant.as_deref().unwrap_or_default()));
        }
        Err(e) => return Err(e.into()),
    };
    if let Some(tenant) = &issued.token.tenant_id {
        audit(
            &host,
            &principal,
            tenant,
            None,
            "issue token",
            Some(format!("token {} ({})", issued.token.id, issued.token.role)),
        )
        .await;
    }
    Ok((
        StatusCode::CREATED,
        Json(IssuedTokenView {
            token: issued.plaintext.expose_secret().to_owned(),
            record: issued.token.into(),
        }),
    ))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct TokenQuery {
    /// Only this tenant's tokens (a tenant super admin always sees only its own tenant's).
    tenant: Option<String>,
}

/// List tokens, revoked ones included, never their values (platform operator: all; tenant
/// super admin: its tenant's).
#[utoipa::path(
    get, path = "/admin/v1/tokens", tag = "tokens",
    params(TokenQuery),
    responses(
        (status = 200, description = "Tokens by id", body = Vec<TokenView>),
        (status = 403, description = "Role too low", body = ErrorBody),
        (status = 404, description = "Unknown tenant", body = ErrorBody),
    )
)]
async fn list_tokens(
    State(host): State<Host>,
    principal: Principal,
    QueryParams(query): QueryParams<TokenQuery>,
) -> Result<Json<Vec<TokenView>>, ApiError> {
    let tenant = match (principal.role, &principal.tenant) {
        (Role::PlatformOperator, _) => query.tenant,
        (Role::TenantSuperAdmin, Some(own)) => match query.tenant {
            Some(other) if &other != own => return Err(unknown_tenant(&other)),
            _ => Some(own.clone()),
        },
        _ => {
            return Err(forbidden(
                "only a platform operator or a tenant super admin lists tokens",
            ));
        }
    };
    let tokens = host.inner.store.list_api_tokens(tenant.as_deref()).await?;
    Ok(Json(tokens.into_iter().map(TokenView::from).collect()))
}

/// Revoke a token: it stops working at once (platform operator: any; tenant super admin: its
/// tenant's; anyone: their own).
#[utoipa::path(
    delete, path = "/admin/v1/tokens/{id}", tag = "tokens",
    params(("id" = i64, Path, description = "Token id")),
    responses(
        (status = 200, description = "Revoked (revoking again changes nothing)", body = TokenView),
        (status = 403, description = "Role too low", body = ErrorBody),
        (status = 404, description = "Unknown token (or another tenant's)", body = ErrorBody),
    )
)]
async fn revoke_token(
    State(host): State<Host>,
    principal: Principal,
    PathParams(id): PathParams<i64>,
) -> Result<Json<TokenView>, ApiError> {
    let unknown = || {
        ApiError::not_found(format!(
            "unknown token {id}; GET /admin/v1/tokens lists the tokens you manage"
        ))
    };
    let token = host
        .inner
        .store
        .get_api_token(id)
        .await?
        .ok_or_else(unknown)?;
    let allowed = principal.is_operator()
        || id == principal.token_id
        || (principal.role == Role::TenantSuperAdmin && token.tenant_id == principal.tenant);
    if !allowed {
        // A tenant token learns nothing about other tenants' tokens.
        return Err(if token.tenant_id == principal.tenant {
            forbidden("only a tenant super admin revokes other tokens of the tenant")
        } else {
            unknown()
        });
    }
    let revoked = host.inner.store.revoke_api_token(id).await?;
    if let Some(tenant) = &revoked.tenant_id {
        audit(
            &host,
            &principal,
            tenant,
            None,
            "revoke token",
            Some(format!("token {id} ({})", revoked.role)),
        )
        .await;
    }
    Ok(Json(revoked.into()))
}
