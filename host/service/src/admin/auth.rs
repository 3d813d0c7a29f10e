//! Who is calling: the bearer token resolved to a [`Principal`] (role and tenant), and the
//! checks each route makes with it.
//!
//! | role | scope |
//! | --- | --- |
//! | `platform-operator` | the platform: plugins, tenants, tokens of anyone; reads any tenant for support, but never enables plugins or approves permissions for a tenant |
//! | `tenant-super-admin` | its tenant: enables/disables plugins, approves permissions, issues and revokes its tenant's tokens, and everything below |
//! | `tenant-admin` | its tenant: config, secrets, schedule overrides, replays, and everything below |
//! | `tenant-member` | its tenant: reads installations, events, the audit log; runs admin actions |
//!
//! A tenant token naming another tenant gets `404 unknown tenant`, exactly as for a tenant that
//! does not exist; a role too low for a route gets `403`. Handlers check the role before they
//! read a request body (`super::extract::DeferredJson`), so a caller without the role gets its
//! 403 whatever it sent. An expired token gets a 401 that says to issue a new one.

use axum::extract::FromRequestParts;
use axum::http::HeaderValue;
use axum::http::StatusCode;
use axum::http::header::{AUTHORIZATION, WWW_AUTHENTICATE};
use axum::http::request::Parts;
use axum::response::{IntoResponse, Response};
use fulcrum_store::{ApiToken, Role, Tenant, TokenCheck, now_ms};

use super::refusals::CallerSlot;
use crate::Host;
use crate::actor::{Actor, record_change};
use crate::api_error::ApiError;

/// The caller, as its token says.
#[derive(Debug, Clone)]
pub(crate) struct Principal {
    pub token_id: i64,
    pub role: Role,
    /// `None` for platform operators.
    pub tenant: Option<String>,
}

impl FromRequestParts<Host> for Principal {
    type Rejection = AuthRejection;

    async fn from_request_parts(parts: &mut Parts, host: &Host) -> Result<Self, AuthRejection> {
        let Some(header) = parts.headers.get(AUTHORIZATION) else {
            return Err(unauthorized(
                "no token: send `Authorization: Bearer <token>`; a platform operator issues \
                 tokens (`fulcrum token issue`)",
            ));
        };
        let token = header
            .to_str()
            .ok()
            .and_then(|value| {
                let (scheme, token) = value.trim().split_once(' ')?;
                scheme.eq_ignore_ascii_case("bearer").then(|| token.trim())
            })
            .filter(|token| !token.is_empty())
            .ok_or_else(|| {
                unauthorized("the Authorization header must be `Bearer <token>`; send it again")
            })?;
        let checked = host
            .inner
            .store
            .check_api_token(token, now_ms())
            .await
            .map_err(|e| ApiError::unavailable("could not check the token", e))?;
        let found = match checked {
            TokenCheck::Valid(found) => found,
            TokenCheck::Expired(expired) => {
                remember_caller(parts, &expired);
                return Err(unauthorized(
                    "the token has expired; issue a new one (a platform operator or your \
                     tenant super admin can: POST /admin/v1/tokens or `fulcrum token issue`)",
                ));
            }
            TokenCheck::Unknown => {
                return Err(unauthorized(
                    "the token is unknown or revoked; ask your platform operator or tenant \
                     super admin for a new one",
                ));
            }
        };
        remember_caller(parts, &found);
        Ok(Principal {
            token_id: found.id,
            role: found.role,
            tenant: found.tenant_id,
        })
    }
}

/// Names the token's record (never the token) for the log line of a refused request.
fn remember_caller(parts: &Parts, token: &ApiToken) {
    if let Some(slot) = parts.extensions.get::<CallerSlot>() {
        slot.fill(token.id, token.role, token.tenant_id.as_deref());
    }
}

fn unauthorized(message: &str) -> AuthRejection {
    AuthRejection(ApiError::new(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        message,
    ))
}

/// A request without a usable token: the error, and on a 401 the `WWW-Authenticate: Bearer`
/// challenge (RFC 6750) that tells clients which scheme to use.
pub(crate) struct AuthRejection(ApiError);

impl From<ApiError> for AuthRejection {
    fn from(e: ApiError) -> Self {
        AuthRejection(e)
    }
}

impl IntoResponse for AuthRejection {
    fn into_response(self) -> Response {
        let challenge = self.0.status() == StatusCode::UNAUTHORIZED;
        let mut response = self.0.into_response();
        if challenge {
            response.headers_mut().insert(
                WWW_AUTHENTICATE,
                HeaderValue::from_static("Bearer realm=\"fulcrum-admin\""),
            );
        }
        response
    }
}

pub(crate) fn forbidden(message: impl Into<String>) -> ApiError {
    ApiError::new(StatusCode::FORBIDDEN, "forbidden", message)
}

/// The answer for a tenant that does not exist, or that the caller may not see (the same, so
/// tokens cannot find out which tenants exist).
pub(crate) fn unknown_tenant(tenant: &str) -> ApiError {
    ApiError::unknown_tenant(tenant)
}

impl Principal {
    pub fn is_operator(&self) -> bool {
        self.role == Role::PlatformOperator
    }

    /// This caller as the author of admin changes.
    pub fn as_actor(&self) -> Actor {
        Actor::ApiToken {
            token_id: self.token_id,
            role: self.role,
        }
    }

    /// How this caller is named in the audit log and on admin actions.
    pub fn actor(&self) -> String {
        self.as_actor().to_string()
    }

    /// Platform-operator routes.
    pub fn require_operator(&self, what: &str) -> Result<(), ApiError> {
        if self.is_operator() {
            Ok(())
        } else {
            Err(forbidden(format!(
                "only a platform operator may {what}; ask your platform operator"
            )))
        }
    }

    /// Decisions inside one tenant that only its own people make: a token of `tenant` with at
    /// least `min` (an operator is refused too).
    pub fn require_tenant(&self, tenant: &str, min: Role) -> Result<(), ApiError> {
        match &self.tenant {
            None => Err(forbidden(format!(
                "a platform operator cannot do this for a tenant; it needs a {min} token of \
                 tenant {tenant:?}"
            ))),
            Some(own) if own != tenant => Err(unknown_tenant(tenant)),
            Some(_) if !self.role.includes(min) => Err(forbidden(format!(
                "this needs the {min} role (or higher) in tenant {tenant:?}; your token is {}; \
                 ask a tenant super admin",
                self.role
            ))),
            Some(_) => Ok(()),
        }
    }

    /// Like [`Principal::require_tenant`], but platform operators may too (reads for support,
    /// and platform-level settings of a tenant).
    pub fn require_tenant_or_operator(&self, tenant: &str, min: Role) -> Result<(), ApiError> {
        if self.is_operator() {
            Ok(())
        } else {
            self.require_tenant(tenant, min)
        }
    }
}

/// The tenant, once the caller may see it.
pub(crate) async fn existing_tenant(host: &Host, tenant: &str) -> Result<Tenant, ApiError> {
    host.inner
        .store
        .get_tenant(tenant)
        .await?
        .ok_or_else(|| unknown_tenant(tenant))
}

/// Records an admin change made through the API in the tenant's audit log (names only, never
/// values); changes to tenants and installations are recorded by the domain rules instead.
pub(crate) async fn audit(
    host: &Host,
    principal: &Principal,
    tenant: &str,
    plugin: Option<&str>,
    operation: &str,
    detail: Option<String>,
) {
    record_change(
        &host.inner.store,
        &principal.as_actor(),
        tenant,
        plugin,
        operation,
        detail,
    )
    .await;
}
