//! Typed errors. Each message says what happened and what to do next, because these end up
//! in front of vendors and tenant admins, not only in our logs. No variant ever carries the
//! credential: bodies are redacted before they get here and URLs are never included.

use lever_model::envelope::INVALID_OFFSET_TOKEN;
use lever_model::{Operation, Permission};
use std::time::Duration;

#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum LeverError {
    /// 401: the credential is missing, wrong, revoked or expired.
    #[error(
        "Lever rejected the credential (401: {message}): check that the API key or OAuth token \
         is current; Lever keys cannot be edited, so generate a new key (or refresh the token) \
         if it was revoked"
    )]
    Unauthorized { message: String },

    /// 403: the credential is valid but lacks the permission of `operation`.
    #[error(
        "Lever refused '{permission}' ({op}; 403: {message}): ask a Lever Super Admin to grant \
         the API key the '{permission}' permission (existing keys cannot be edited: generate a \
         new key that includes it)",
        op = .operation.label()
    )]
    Forbidden {
        operation: Operation,
        permission: Permission,
        message: String,
    },

    /// 404: unknown object (or route).
    #[error(
        "Lever has no such object (404: {message}): check the id; the object may have been \
         deleted, merged or belong to another Lever account"
    )]
    NotFound { message: String },

    /// 400/422/other 4xx: Lever understood the request and rejected it; `message` is Lever's.
    #[error("{}", invalid_text(*.status, .code, .message))]
    Invalid {
        status: u16,
        code: String,
        message: String,
    },

    /// 429 after every retry.
    #[error(
        "Lever's rate limit is still exceeded after retrying{}: slow down and try later; every \
         job using this API key shares its budget of 10 requests per second",
        retry_after_text(*.retry_after)
    )]
    RateLimited { retry_after: Option<Duration> },

    /// 5xx, timeouts and connection errors after retries. `outcome_unknown` is true when a
    /// non-idempotent write may have reached Lever: look the object up before sending again.
    #[error("{}", unavailable_text(*.status, .message, *.outcome_unknown))]
    Unavailable {
        status: Option<u16>,
        message: String,
        outcome_unknown: bool,
    },

    /// Lever answered 2xx with a body this client cannot read.
    #[error(
        "Lever returned a response Fulcrum could not read ({message}): the API may have \
         changed; report this with the operation name"
    )]
    Decode { message: String },

    /// The OAuth connection can no longer get tokens (its refresh token was refused, e.g.
    /// `invalid_grant`: revoked, expired or the app was uninstalled). Not retryable, and not
    /// a 401: someone must connect Lever again.
    #[error(
        "the Lever connection must be reconnected ({message}): ask a Lever Super Admin to \
         connect Fulcrum to Lever again (OAuth consent); retrying will not help"
    )]
    Reconnect { message: String },

    /// Bad configuration or arguments (e.g. an empty id, an invalid content type), found
    /// before anything was sent.
    #[error("invalid Lever client configuration or arguments, nothing was sent: {message}")]
    Config { message: String },
}

fn retry_after_text(retry_after: Option<Duration>) -> String {
    match retry_after {
        Some(d) => format!(" (Lever asked to wait {} ms)", d.as_millis()),
        None => String::new(),
    }
}

fn invalid_text(status: u16, code: &str, message: &str) -> String {
    let next = if status == 422 {
        // Lever's documented 422 is a download of a file it failed to process.
        "Lever could not process the content (for a download: the file's status is 'error'; \
         upload the document again, e.g. as PDF)"
    } else {
        "fix the request; sending it again unchanged will fail the same way"
    };
    format!("Lever rejected the request ({status} {code}: {message}): {next}")
}

fn unavailable_text(status: Option<u16>, message: &str, outcome_unknown: bool) -> String {
    let what = match status {
        Some(s) => format!("Lever is unavailable ({s}: {message})"),
        None => format!("Lever could not be reached ({message})"),
    };
    if outcome_unknown {
        format!(
            "{what}: the write may or may not have been applied; look the object up in Lever \
             (reconcile) before sending it again, never resend blindly"
        )
    } else {
        format!("{what}: nothing was changed; retry later")
    }
}

impl LeverError {
    /// Whether the failure is temporary on Lever's side (rate limit, outage, network), so the
    /// call may succeed later. For an `Unavailable` with `outcome_unknown`, the *failure* is
    /// transient but the call must not simply be repeated: reconcile first (see
    /// [`LeverError::outcome_unknown`]), or a create could be duplicated.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            LeverError::RateLimited { .. } | LeverError::Unavailable { .. }
        )
    }

    /// Whether a non-idempotent write may have reached Lever (see [`LeverError::Unavailable`]).
    pub fn outcome_unknown(&self) -> bool {
        matches!(
            self,
            LeverError::Unavailable {
                outcome_unknown: true,
                ..
            }
        )
    }

    /// Whether Lever rejected the `offset` token of a list request (400, message starting
    /// with "Invalid offset token"): the token expired, was rotated, was altered or belongs to
    /// another query. No retry helps; list again from the start (without `offset`). Listing
    /// streams do that themselves; page calls ([`crate::LeverClient::postings_page`], ...)
    /// return the error for the caller to decide.
    pub fn is_invalid_offset_token(&self) -> bool {
        matches!(self, LeverError::Invalid { status: 400, message, .. }
            if message.trim_start().starts_with(INVALID_OFFSET_TOKEN))
    }

    /// The HTTP status Lever answered with, if any.
    pub fn status(&self) -> Option<u16> {
        match self {
            LeverError::Unauthorized { .. } => Some(401),
            LeverError::Forbidden { .. } => Some(403),
            LeverError::NotFound { .. } => Some(404),
            LeverError::Invalid { status, .. } => Some(*status),
            LeverError::RateLimited { .. } => Some(429),
            LeverError::Unavailable { status, .. } => *status,
            LeverError::Decode { .. }
            | LeverError::Reconnect { .. }
            | LeverError::Config { .. } => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn forbidden_names_the_permission_and_the_remedy() {
        let e = LeverError::Forbidden {
            operation: Operation::CreateOpportunity,
            permission: Operation::CreateOpportunity.permission(),
            message: "no".into(),
        };
        let s = e.to_string();
        assert!(s.starts_with("Lever refused 'create opportunity'"), "{s}");
        assert!(
            s.contains(
                "ask a Lever Super Admin to grant the API key the 'create opportunity' permission"
            ),
            "{s}"
        );
        assert!(s.contains("POST /opportunities"), "{s}");
    }

    #[test]
    fn transient_classification() {
        let un = |outcome_unknown| LeverError::Unavailable {
            status: Some(500),
            message: "x".into(),
            outcome_unknown,
        };
        assert!(un(false).is_transient());
        assert!(un(true).is_transient());
        assert!(!un(false).outcome_unknown());
        assert!(un(true).outcome_unknown());
        assert!(un(true).to_string().contains("reconcile"));
        assert!(LeverError::RateLimited { retry_after: None }.is_transient());
        assert!(
            !LeverError::NotFound {
                message: String::new()
            }
            .is_transient()
        );
        let s = LeverError::RateLimited {
            retry_after: Some(Duration::from_secs(2)),
        }
        .to_string();
        assert!(s.contains("2000 ms"), "{s}");
    }

    #[test]
    fn reconnect_is_final_and_says_who_acts() {
        let e = LeverError::Reconnect {
            message: "the refresh token was refused (invalid_grant)".into(),
        };
        assert!(!e.is_transient());
        assert_eq!(e.status(), None);
        let s = e.to_string();
        assert!(s.contains("invalid_grant"), "{s}");
        assert!(
            s.contains("ask a Lever Super Admin to connect Fulcrum to Lever again"),
            "{s}"
        );
    }

    #[test]
    fn invalid_offset_token_detection() {
        let invalid = |status, message: &str| LeverError::Invalid {
            status,
            code: "BadRequest".into(),
            message: message.into(),
        };
        assert!(
            invalid(
                400,
                "Invalid offset token: Offset token is invalid for sort"
            )
            .is_invalid_offset_token()
        );
        assert!(invalid(400, "  Invalid offset token").is_invalid_offset_token());
        assert!(!invalid(400, "Invalid email").is_invalid_offset_token());
        assert!(!invalid(422, "Invalid offset token").is_invalid_offset_token());
        assert!(
            !LeverError::NotFound {
                message: "Invalid offset token".into()
            }
            .is_invalid_offset_token()
        );
    }
}
