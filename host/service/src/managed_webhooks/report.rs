//! What a sync reports: per event what was created, deleted or kept, and each failure with
//! what to do about it.

use fulcrum_store::StoreError;
use lever_client::LeverError;
use lever_model::Scope;
use serde::Serialize;

/// What a sync did. Event names are Lever's (`candidateStageChange`).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct WebhookSyncReport {
    /// Webhooks created in Lever: new, missing from Lever, or moved to a new URL.
    pub created: Vec<String>,
    /// Webhooks deleted (in Lever and the store) because they are no longer wanted.
    pub deleted: Vec<String>,
    /// Webhooks in place (seen in Lever, unless listing Lever's webhooks failed).
    pub kept: Vec<String>,
    /// Lever webhooks at the installation's URL the host did not know, deleted.
    pub strays_deleted: usize,
    /// Why the installation wants no managed webhook, or why they were left as they are.
    pub note: Option<String>,
    /// What could not be done; the next check tries again.
    pub errors: Vec<WebhookSyncError>,
}

/// One thing a sync could not do. Never holds a token or key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, utoipa::ToSchema)]
pub struct WebhookSyncError {
    /// The Lever event, or none when it concerns all of them (listing, the connection).
    pub event: Option<String>,
    /// `list`, `create`, `delete`, `connect` or `store`.
    pub action: String,
    /// `forbidden` (the connection lacks a permission), `lever_failed`, `not_deleted_in_lever`,
    /// `no_client` or `store_failed`.
    pub code: String,
    pub message: String,
    /// The Lever API-key permission the connection lacks, e.g. `create webhook`.
    pub missing_permission: Option<String>,
    /// The OAuth scope that covers it, e.g. `webhooks:write:admin`.
    pub missing_scope: Option<String>,
}

impl WebhookSyncError {
    pub(super) fn new(event: Option<&str>, action: &str, code: &str, message: String) -> Self {
        WebhookSyncError {
            event: event.map(str::to_owned),
            action: action.to_owned(),
            code: code.to_owned(),
            message,
            missing_permission: None,
            missing_scope: None,
        }
    }

    pub(super) fn lever(event: Option<&str>, action: &str, error: &LeverError) -> Self {
        if let LeverError::Forbidden { permission, .. } = error {
            let scope = Scope::for_permission(*permission).as_str();
            return WebhookSyncError {
                missing_permission: Some(permission.as_str().to_owned()),
                missing_scope: Some(scope.to_owned()),
                ..Self::new(
                    event,
                    action,
                    "forbidden",
                    format!(
                        "Lever refused to {action} the webhook (403): the installation's Lever \
                         connection lacks the '{permission}' permission (OAuth scope '{scope}'); \
                         a Lever Super Admin must approve it (a new API key that includes it, or \
                         connect again through OAuth granting the scope), then sync the \
                         installation's webhooks again"
                    ),
                )
            };
        }
        Self::new(
            event,
            action,
            "lever_failed",
            format!("could not {action} the webhook in Lever: {error}"),
        )
    }

    pub(super) fn store(event: Option<&str>, action: &str, error: &StoreError) -> Self {
        Self::new(
            event,
            action,
            "store_failed",
            format!("the database failed ({error}); the next check tries again"),
        )
    }
}
