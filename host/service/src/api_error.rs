//! The HTTP error type of every route: a status and a message that says what to do next, as
//! `{"error": {"code": ..., "message": ...}}`. Internal failures are logged with their detail
//! and answered with a generic message, so nothing internal (SQL, paths, secrets) leaks.

use axum::Json;
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::json;

#[derive(Debug)]
pub struct ApiError {
    status: StatusCode,
    code: &'static str,
    message: String,
    /// Ask the client to close the connection (the request body was left unread).
    close: bool,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &'static str, message: impl Into<String>) -> Self {
        ApiError {
            status,
            code,
            message: message.into(),
            close: false,
        }
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
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let body = Json(json!({ "error": { "code": self.code, "message": self.message } }));
        let mut response = (self.status, body).into_response();
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
