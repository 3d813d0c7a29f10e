//! "Test connection": one harmless request per approved permission (and per permission the
//! host itself needs on the connection), to tell which ones the credential lacks before an
//! event finds out. Lever checks the permission before it looks at the request (an unknown
//! id, an empty body), so a 403 means the permission is missing and anything else means it
//! is there.

use lever_client::{LeverClient, LeverError, ProbeAnswer};
use lever_model::{Operation, Permission};
use serde::Serialize;
use std::collections::BTreeSet;

/// What a probe found.
#[derive(Debug, Clone, Default, Serialize, utoipa::ToSchema)]
pub struct ProbeReport {
    /// Lever rejected the credential itself (401): nothing else was probed.
    pub rejected: bool,
    /// Permissions Lever confirmed (approved ones and those the host needs).
    pub granted: Vec<String>,
    /// Permissions Lever refused (403): what uses them will fail until the credential has
    /// them.
    pub missing: Vec<String>,
    /// Permissions that could not be checked (Lever unavailable, rate limited), with why.
    pub unchecked: Vec<String>,
    /// What the admin should do next.
    pub summary: String,
}

/// The operation that stands for `permission` in a probe.
fn operation_of(permission: Permission) -> Option<Operation> {
    Operation::ALL
        .iter()
        .copied()
        .find(|op| op.permission() == permission)
}

pub(crate) async fn probe(client: &LeverClient, approved: &BTreeSet<Permission>) -> ProbeReport {
    let mut report = ProbeReport::default();
    for permission in approved {
        let Some(op) = operation_of(*permission) else {
            continue;
        };
        let words = permission.as_str().to_owned();
        match client.probe(op).await {
            Ok(ProbeAnswer::Permitted) => report.granted.push(words),
            Ok(ProbeAnswer::Forbidden) => report.missing.push(words),
            Err(LeverError::Unauthorized { .. }) => {
                report.rejected = true;
                report.granted.clear();
                report.missing.clear();
                report.unchecked.clear();
                break;
            }
            Err(e) => report.unchecked.push(format!("{words}: {e}")),
        }
    }
    report.summary = if report.rejected {
        "Lever rejected the credential (401): connect again with a valid key or consent".into()
    } else if !report.missing.is_empty() {
        format!(
            "the credential lacks {} approved permission(s): in Lever, generate a key with \
             them (or consent again with their scopes) and connect again",
            report.missing.len()
        )
    } else if !report.unchecked.is_empty() {
        "some permissions could not be checked now; test the connection again later".into()
    } else {
        "every approved permission works".into()
    };
    report
}
