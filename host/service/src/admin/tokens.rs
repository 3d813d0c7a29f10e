//! API bearer tokens. Platform operators issue and revoke any token; a tenant super admin
//! issues and revokes the tenant tokens of its own tenant; any token may revoke itself. A
//! token's value is shown once, when issued; listings never show it.

use axum::Json;
use axum::extract::State;
use axum::http::StatusCode;
use fulcrum_store::{ApiToken, Role, StoreError, now_ms};
use secrecy::ExposeSecret;
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::ErrorBody;
use super::auth::{Principal, audit, forbidden, unknown_tenant};
use super::extract::{DeferredJson, PathParams, QueryParams};
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
    /// The role; another word is refused with 422 `invalid_role`.
    #[schema(schema_with = super::schemas::role)]
    role: String,
    /// The tenant of a tenant role (a tenant super admin may leave it out: its own tenant).
    #[schema(max_length = 63)]
    tenant: Option<String>,
    /// Who or what the token is for (spaces around it are dropped).
    #[serde(default)]
    #[schema(max_length = 200)]
    label: String,
    /// Seconds until the token stops working (at most ten years); leave it out for a token
    /// that works until revoked. An expired token gets 401: issue a new one.
    #[schema(minimum = 1, maximum = 315_360_000)]
    expires_in_seconds: Option<u64>,
}

/// Longest expiry a token may be issued with: ten years.
const MAX_EXPIRY_SECONDS: u64 = 315_360_000;

#[derive(Serialize, ToSchema)]
pub(super) struct TokenView {
    id: i64,
    #[schema(schema_with = super::schemas::role)]
    role: String,
    tenant: Option<String>,
    label: String,
    /// Unix milliseconds.
    created_at: i64,
    /// Unix milliseconds; `null` while the token works.
    revoked_at: Option<i64>,
    /// Unix milliseconds after which the token no longer works; `null`: it never expires.
    expires_at: Option<i64>,
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
            expires_at: t.expires_at,
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
        (status = 422, description = "Unknown role, tenant given/missing for the role, label too long or expiry out of range", body = ErrorBody),
    )
)]
async fn issue_token(
    State(host): State<Host>,
    principal: Principal,
    body: DeferredJson<NewToken>,
) -> Result<(StatusCode, Json<IssuedTokenView>), ApiError> {
    // Who may issue at all, before reading the body.
    let own_tenant = match (principal.role, &principal.tenant) {
        (Role::PlatformOperator, _) => None,
        (Role::TenantSuperAdmin, Some(own)) => Some(own.clone()),
        _ => {
            return Err(forbidden(
                "only a platform operator or a tenant super admin issues tokens; ask one",
            ));
        }
    };
    let input = body.parse().await?;
    let role: Role = input
        .role
        .parse()
        .map_err(|e| unprocessable("invalid_role", format!("{e}; nothing was issued")))?;
    let tenant = match own_tenant {
        None => input.tenant,
        Some(own) => {
            if !role.is_tenant_role() {
                return Err(forbidden(
                    "only a platform operator issues platform-operator tokens",
                ));
            }
            match input.tenant {
                Some(other) if other != own => return Err(unknown_tenant(&other)),
                _ => Some(own),
            }
        }
    };
    let expires_at = match input.expires_in_seconds {
        None => None,
        Some(seconds @ 1..=MAX_EXPIRY_SECONDS) => {
            // At most ten years of milliseconds: far from overflowing an i64.
            Some(now_ms() + seconds as i64 * 1000)
        }
        Some(_) => {
            return Err(unprocessable(
                "invalid_token_request",
                format!(
                    "expires_in_seconds must be 1-{MAX_EXPIRY_SECONDS} (ten years), or left out \
                     for a token that works until revoked; nothing was issued"
                ),
            ));
        }
    };
    let issued = match host
        .inner
        .store
        .issue_api_token_with_expiry(role, tenant.as_deref(), input.label.trim(), expires_at)
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
