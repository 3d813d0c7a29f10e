//! The audit trail of one invocation: the runtime reports every host call as it finishes; we
//! keep the ones admins need (every Lever call, every vendor request, every refusal) and write
//! them in one batch when the invocation ends. Names and outcomes only, never bodies or secrets.

use fulcrum_runtime::{AuditOutcome, AuditRecord, AuditSink, Capability};
use fulcrum_store::NewAuditEntry;
use parking_lot::Mutex;

#[derive(Default)]
pub struct InvocationAudit {
    entries: Mutex<Vec<NewAuditEntry>>,
    event_id: Option<i64>,
}

impl InvocationAudit {
    pub fn for_event(event_id: Option<i64>) -> Self {
        InvocationAudit {
            entries: Mutex::new(Vec::new()),
            event_id,
        }
    }

    pub fn take(&self) -> Vec<NewAuditEntry> {
        std::mem::take(&mut *self.entries.lock())
    }
}

impl AuditSink for InvocationAudit {
    fn record(&self, record: AuditRecord) {
        let keep = matches!(
            record.capability,
            Capability::Lever | Capability::VendorHttp
        ) || record.is_denied();
        if !keep {
            return;
        }
        let (outcome, reason) = match &record.outcome {
            AuditOutcome::Allowed => ("allowed", None),
            AuditOutcome::Denied { reason } => ("denied", Some(reason.clone())),
            AuditOutcome::Failed { error_kind } => ("failed", Some(error_kind.clone())),
        };
        let permission = match record.capability {
            Capability::Lever => permission_of(&record.operation),
            _ => None,
        };
        let detail = serde_json::json!({
            "capability": record.capability.as_str(),
            "plugin_version": record.plugin_version,
            "installation": record.installation_id,
            "duration_ms": record.duration.as_secs_f64() * 1000.0,
            "reason": reason,
        });
        self.entries.lock().push(NewAuditEntry {
            tenant_id: record.tenant_id,
            plugin_id: Some(record.plugin_id),
            event_id: self.event_id,
            operation: record.operation,
            permission,
            outcome: outcome.to_owned(),
            detail: Some(detail.to_string()),
        });
    }
}

/// The permission behind a Lever audit label ("POST /opportunities", possibly followed by a
/// note such as " (journal)"), from the operation table, built once.
fn permission_of(operation: &str) -> Option<String> {
    static BY_LABEL: std::sync::OnceLock<std::collections::HashMap<String, &'static str>> =
        std::sync::OnceLock::new();
    let by_label = BY_LABEL.get_or_init(|| {
        lever_model::Operation::ALL
            .iter()
            .map(|op| (op.label(), op.permission().as_str()))
            .collect()
    });
    let label = operation
        .split_once(" (")
        .map_or(operation, |(label, _)| label);
    by_label.get(label).map(|p| (*p).to_owned())
}
