//! Constructors and accessors for the contract's `error` variant ([`Error`]).
//!
//! wit-bindgen already gives [`Error`] `Debug`, `Display` and `std::error::Error`; these add
//! the readable parts: `Error::invalid("..")`, [`Error::kind`], [`Error::to_json`].

use crate::Error;

impl Error {
    /// The installation lacks a Lever permission, or a vendor host is not declared.
    pub fn forbidden(what: impl Into<String>) -> Self {
        Error::Forbidden(what.into())
    }
    /// The object does not exist (or is not visible to this installation).
    pub fn not_found(what: impl Into<String>) -> Self {
        Error::NotFound(what.into())
    }
    /// Malformed input; the text is the reason.
    pub fn invalid(reason: impl Into<String>) -> Self {
        Error::Invalid(reason.into())
    }
    /// Asked to slow down; retry after this many milliseconds, if known.
    pub fn rate_limited(retry_after_ms: Option<u64>) -> Self {
        Error::RateLimited(retry_after_ms)
    }
    /// A dependency is unreachable or failing; the host retries the event.
    pub fn unavailable(reason: impl Into<String>) -> Self {
        Error::Unavailable(reason.into())
    }
    /// The vendor answered with an error the connector cannot fix.
    pub fn vendor_error(reason: impl Into<String>) -> Self {
        Error::VendorError(reason.into())
    }
    /// A host limit was hit; the text names it.
    pub fn limit_exceeded(limit: impl Into<String>) -> Self {
        Error::LimitExceeded(limit.into())
    }

    /// The case's WIT name: `"forbidden"`, `"not-found"`, `"invalid"`, `"rate-limited"`,
    /// `"unavailable"`, `"vendor-error"` or `"limit-exceeded"`.
    pub fn kind(&self) -> &'static str {
        match self {
            Error::Forbidden(_) => "forbidden",
            Error::NotFound(_) => "not-found",
            Error::Invalid(_) => "invalid",
            Error::RateLimited(_) => "rate-limited",
            Error::Unavailable(_) => "unavailable",
            Error::VendorError(_) => "vendor-error",
            Error::LimitExceeded(_) => "limit-exceeded",
        }
    }

    /// The case's text (none for `rate-limited`).
    pub fn detail(&self) -> Option<&str> {
        match self {
            Error::Forbidden(s)
            | Error::NotFound(s)
            | Error::Invalid(s)
            | Error::Unavailable(s)
            | Error::VendorError(s)
            | Error::LimitExceeded(s) => Some(s),
            Error::RateLimited(_) => None,
        }
    }

    /// Whether retrying later can succeed (`rate-limited`, `unavailable`).
    pub fn is_retryable(&self) -> bool {
        matches!(self, Error::RateLimited(_) | Error::Unavailable(_))
    }

    /// `{"error": kind, "detail": text}`; for `rate-limited` the detail is the retry delay in
    /// milliseconds, or null.
    pub fn to_json(&self) -> serde_json::Value {
        let detail = match self {
            Error::RateLimited(ms) => serde_json::json!(ms),
            other => serde_json::json!(other.detail()),
        };
        serde_json::json!({ "error": self.kind(), "detail": detail })
    }

    /// `kind: detail`, for log lines (the generated `Display` is the `Debug` form).
    pub fn message(&self) -> String {
        match self {
            Error::RateLimited(Some(ms)) => format!("rate-limited: retry after {ms} ms"),
            Error::RateLimited(None) => "rate-limited".to_owned(),
            other => format!("{}: {}", other.kind(), other.detail().unwrap_or_default()),
        }
    }
}

/// Lets `?` turn JSON (de)serialization failures into `invalid`.
impl From<serde_json::Error> for Error {
    fn from(e: serde_json::Error) -> Self {
        Error::invalid(format!("JSON: {e}"))
    }
}
