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
            Capability::Lever => lever_model::Operation::ALL
                .iter()
                .find(|op| {
                    let label = op.label();
                    // The runtime may append a note, e.g. " (journal)".
                    record.operation == label
                        || record
                            .operation
                            .strip_prefix(&label)
                            .is_some_and(|rest| rest.starts_with(' '))
                })
                .map(|op| op.permission().as_str().to_owned()),
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
