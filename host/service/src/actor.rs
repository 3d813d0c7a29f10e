//! Who makes an admin change, and the audit entry that records it. Every change to a tenant or
//! an installation is written to the tenant's audit log as `admin: <operation>` with its actor
//! (names only, never values), whichever way it came in.

use fulcrum_store::{NewAuditEntry, Role, Store};
use std::fmt;

/// The author of an admin change.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Actor {
    /// An admin API caller, by its token (never the token itself).
    ApiToken { token_id: i64, role: Role },
    /// A process with the database at hand, by name: the command line, the demo, a test
    /// harness. It answers to whoever runs it, so the name is all the log can say.
    Local(String),
}

impl Actor {
    /// A local process named `name` (e.g. `"demo"`, `"test harness"`).
    pub fn local(name: impl Into<String>) -> Self {
        Actor::Local(name.into())
    }

    /// The `fulcrum` command line running `command` (e.g. `"fulcrum tenant create"`).
    pub fn command_line(command: &str) -> Self {
        Actor::Local(format!("command line ({command})"))
    }
}

impl fmt::Display for Actor {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Actor::ApiToken { token_id, role } => write!(f, "api token {token_id} ({role})"),
            Actor::Local(name) => f.write_str(name),
        }
    }
}

/// Records a change `actor` made in the tenant's audit log. The change is already stored, so a
/// failure to record it is logged rather than reported as a failure of the change.
pub(crate) async fn record_change(
    store: &Store,
    actor: &Actor,
    tenant: &str,
    plugin: Option<&str>,
    operation: &str,
    detail: Option<String>,
) {
    let entry = NewAuditEntry {
        tenant_id: tenant.to_owned(),
        plugin_id: plugin.map(str::to_owned),
        event_id: None,
        operation: format!("admin: {operation}"),
        permission: None,
        outcome: "done".into(),
        detail: Some(match detail {
            Some(detail) => format!("{detail}; by {actor}"),
            None => format!("by {actor}"),
        }),
    };
    if let Err(error) = store.audit_append(&entry).await {
        tracing::error!(%error, tenant, operation, "could not write an admin change to the audit log");
    }
}
