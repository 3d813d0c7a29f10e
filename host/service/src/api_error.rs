//! The HTTP error type of every route: a status and a message that says what to do next, as
//! `{"error": {"code": ..., "message": ..., "problems": [...]?}}` (`problems` only when an
//! input had some). Internal failures are logged with their detail and answered with a generic
//! message, so nothing internal (SQL, paths, secrets) leaks.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use utoipa::ToSchema;

use crate::domain_error::{DomainError, Missing, Problem};

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    problems: Vec<Problem>,
    /// Ask the client to close the connection (the request body was left unread).
    close: bool,
}

/// The error body of every route (the OpenAPI schema of the envelope, and what is sent).
#[derive(Serialize, ToSchema)]
pub(crate) struct ErrorBody {
    error: ErrorDetail,
}

#[derive(Serialize, ToSchema)]
pub(crate) struct ErrorDetail {
    /// Stable, machine-readable: `unauthorized`, `forbidden`, `not_found`, `bad_request`, ...
    code: String,
    /// What went wrong and what to do next.
    message: String,
    /// Every problem with the input: on a 422 about a body of the wrong shape, a config,
    /// permissions, schedule overrides or an action input, and on a 409 from enabling an
    /// installation that is not ready.
    #[serde(skip_serializing_if = "Option::is_none")]
    problems: Option<Vec<Problem>>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            problems: Vec::new(),
            close: false,
        }
    }

    /// The same error, listing `problems` with the input.
    pub fn with_problems(mut self, problems: Vec<Problem>) -> Self {
        self.problems = problems;
        self
    }

    /// The same error, closing the connection after it: for refusals that leave the body
    /// unread, so a kept-alive connection cannot be misread afterwards.
    pub fn closing(mut self) -> Self {
        self.close = true;
        self
    }

    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(StatusCode::NOT_FOUND, "not_found", message)
    }

    /// A tenant that does not exist, or that the caller may not see (the same answer, so
    /// tokens cannot find out which tenants exist).
    pub(crate) fn unknown_tenant(tenant: &str) -> Self {
        Self::not_found(format!(
            "unknown tenant {tenant:?}; check the tenant id (a tenant token only sees its own \
             tenant)"
        ))
    }

    pub(crate) fn unknown_plugin(plugin: &str) -> Self {
        Self::not_found(format!(
            "unknown plugin {plugin:?}; GET /admin/v1/plugins lists the plugins on this host"
        ))
    }

    pub(crate) fn not_installed(tenant: &str, plugin: &str) -> Self {
        Self::not_found(format!(
            "plugin {plugin:?} is not installed for tenant {tenant:?}; a tenant super admin \
             adds it with PUT /admin/v1/tenants/{tenant}/installations/{plugin}"
        ))
    }

    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "bad_request", message)
    }

    /// Logs `error` and answers 500 without its detail.
    pub fn internal(context: &str, error: impl std::fmt::Display) -> Self {
        tracing::error!(error = %error, "{context}");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; retry later, and tell the operator if it persists",
        )
    }

    /// Logs `error` and answers 503: the request was not stored and can be sent again.
    pub fn unavailable(context: &str, error: impl std::fmt::Display) -> Self {
        tracing::warn!(error = %error, "{context}");
        Self::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "unavailable",
            format!("{context}; nothing was stored, send the request again later"),
        )
    }

    pub fn status(&self) -> StatusCode {
        self.status
    }

    /// What the caller is told.
    pub(crate) fn message(&self) -> &str {
        &self.message
    }

    /// The machine-readable code of the answer.
    pub(crate) fn code(&self) -> &'static str {
        self.code
    }

    /// The problems listed with the input (none for most errors).
    #[cfg(test)]
    pub(crate) fn problems(&self) -> &[Problem] {
        &self.problems
    }
}

/// The `code` of an error answer, in the response's extensions: what the admin API's refusal
/// log names (the body is not read again).
#[derive(Debug, Clone, Copy)]
pub(crate) struct ErrorCode(pub &'static str);

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Json(ErrorBody {
            error: ErrorDetail {
                code: self.code.to_owned(),
                message: self.message,
                problems: (!self.problems.is_empty()).then_some(self.problems),
            },
        });
        let mut response = (self.status, body).into_response();
        response.extensions_mut().insert(ErrorCode(self.code));
        if self.close {
            response.headers_mut().insert(
                axum::http::header::CONNECTION,
                axum::http::HeaderValue::from_static("close"),
            );
        }
        response
    }
}

impl From<fulcrum_store::StoreError> for ApiError {
    fn from(e: fulcrum_store::StoreError) -> Self {
        ApiError::internal("database error", e)
    }
}

/// The admin rules' refusals as HTTP: 404 for what is missing (in the API's words, with its
/// routes), 409 for a taken id or an installation not ready to enable (with `problems`), 422 with every problem for bad input or a plugin check that did
/// not finish, 500 (logged, not shown) for the database.
impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> Self {
        match e {
            DomainError::NotFound(Missing::Tenant(tenant)) => ApiError::unknown_tenant(&tenant),
            DomainError::NotFound(Missing::Plugin(plugin)) => ApiError::unknown_plugin(&plugin),
            DomainError::NotFound(Missing::Installation { tenant, plugin }) => {
                ApiError::not_installed(&tenant, &plugin)
            }
            DomainError::Conflict(message) => {
                ApiError::new(StatusCode::CONFLICT, "conflict", message)
            }
            DomainError::NotReady { message, problems } => {
                ApiError::new(StatusCode::CONFLICT, "not_ready", message).with_problems(problems)
            }
            DomainError::Invalid {
                code,
                message,
                problems,
            } => ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
                .with_problems(problems),
            DomainError::PluginFailed { code, message } => {
                ApiError::new(StatusCode::UNPROCESSABLE_ENTITY, code, message)
            }
            // The store's own refusals are about the input, and say so in the caller's words
            // (an app still in use, an id of the wrong form): not internal failures.
            DomainError::Store(fulcrum_store::StoreError::Conflict(message)) => {
                ApiError::new(StatusCode::CONFLICT, "conflict", message)
            }
            DomainError::Store(fulcrum_store::StoreError::Invalid(message)) => ApiError::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_input",
                format!("{message}; nothing was changed"),
            ),
            DomainError::Store(e) => e.into(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http_body_util::BodyExt;
    use serde_json::{Value, json};

    async fn body(error: ApiError) -> (u16, Value) {
        let response = error.into_response();
        let status = response.status().as_u16();
        let bytes = response.into_body().collect().await.unwrap().to_bytes();
        (status, serde_json::from_slice(&bytes).unwrap())
    }

    #[tokio::test]
    async fn problems_ride_in_the_one_error_envelope_only_when_there_are_some() {
        let invalid = DomainError::Invalid {
            code: "invalid_config",
            message: "fix it; nothing was stored".into(),
            problems: vec![Problem::host("/a", "bad")],
        };
        assert_eq!(
            body(invalid.into()).await,
            (
                422,
                json!({"error": {"code": "invalid_config", "message": "fix it; nothing was stored",
                       "problems": [{"pointer": "/a", "message": "bad", "source": "host"}]}})
            )
        );
        let (status, plain) = body(ApiError::not_found("no such thing")).await;
        assert_eq!(status, 404);
        assert_eq!(
            plain,
            json!({"error": {"code": "not_found", "message": "no such thing"}})
        );
        let (status, conflict) = body(DomainError::Conflict("taken".into()).into()).await;
        assert_eq!(
            (status, conflict["error"]["code"].clone()),
            (409, json!("conflict"))
        );
        let (status, missing) =
            body(DomainError::NotFound(Missing::Tenant("nobody".into())).into()).await;
        assert_eq!(status, 404);
        assert!(
            missing["error"]["message"]
                .as_str()
                .unwrap()
                .starts_with("unknown tenant \"nobody\""),
            "{missing}"
        );
    }
}
