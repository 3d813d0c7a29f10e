//! The audit trail of host calls: who (tenant, installation, plugin, event), what (the
//! operation, e.g. "POST /opportunities"), and the outcome. Never bodies, never secrets.

use parking_lot::Mutex;
use serde::Serialize;
use std::time::{Duration, SystemTime};

use crate::bindings::PluginError;

/// The host capability a call went to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Capability {
    Lever,
    VendorHttp,
    State,
    Config,
    Log,
}

impl Capability {
    pub const fn as_str(self) -> &'static str {
        match self {
            Capability::Lever => "lever",
            Capability::VendorHttp => "vendor-http",
            Capability::State => "state",
            Capability::Config => "config",
            Capability::Log => "log",
        }
    }
}

/// How a host call ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case", tag = "outcome")]
pub enum AuditOutcome {
    /// The policy allowed it and it succeeded.
    Allowed,
    /// The policy refused it before any I/O.
    Denied { reason: String },
    /// The policy allowed it and it failed; `error_kind` is the WIT error case
    /// ("rate-limited", "unavailable", ...).
    Failed { error_kind: String },
}

/// One audited host call.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct AuditRecord {
    pub at: SystemTime,
    pub tenant_id: String,
    pub installation_id: String,
    pub plugin_id: String,
    pub plugin_version: String,
    pub event_id: Option<String>,
    pub capability: Capability,
    /// E.g. "POST /opportunities", "GET https://vendor.example/ping", "state.set".
    pub operation: String,
    pub outcome: AuditOutcome,
    pub duration: Duration,
}

impl AuditRecord {
    pub fn is_denied(&self) -> bool {
        matches!(self.outcome, AuditOutcome::Denied { .. })
    }
}

/// Where audit records go. Implementations must not block for long: records are written
/// from inside host calls.
pub trait AuditSink: Send + Sync {
    fn record(&self, record: AuditRecord);
}

/// An in-memory audit log (tests, development).
#[derive(Debug, Default)]
pub struct MemoryAuditLog {
    records: Mutex<Vec<AuditRecord>>,
}

impl MemoryAuditLog {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn records(&self) -> Vec<AuditRecord> {
        self.records.lock().clone()
    }

    pub fn denied(&self) -> Vec<AuditRecord> {
        self.records
            .lock()
            .iter()
            .filter(|r| r.is_denied())
            .cloned()
            .collect()
    }

    pub fn clear(&self) {
        self.records.lock().clear();
    }
}

impl AuditSink for MemoryAuditLog {
    fn record(&self, record: AuditRecord) {
        self.records.lock().push(record);
    }
}

/// Discards records (e.g. for the install-time `describe` call, which can only log).
#[derive(Debug, Default, Clone, Copy)]
pub struct NoAudit;

impl AuditSink for NoAudit {
    fn record(&self, _record: AuditRecord) {}
}

/// The WIT error case, as audit records and logs name it.
pub(crate) fn error_kind(error: &PluginError) -> &'static str {
    match error {
        PluginError::Forbidden(_) => "forbidden",
        PluginError::NotFound(_) => "not-found",
        PluginError::Invalid(_) => "invalid",
        PluginError::RateLimited(_) => "rate-limited",
        PluginError::Unavailable(_) => "unavailable",
        PluginError::VendorError(_) => "vendor-error",
        PluginError::LimitExceeded(_) => "limit-exceeded",
    }
}

/// The WIT error as one line, e.g. `invalid: no email` (logs, audit, dead letters).
pub fn describe_error(error: &PluginError) -> String {
    match error {
        PluginError::Forbidden(s)
        | PluginError::NotFound(s)
        | PluginError::Invalid(s)
        | PluginError::Unavailable(s)
        | PluginError::VendorError(s)
        | PluginError::LimitExceeded(s) => format!("{}: {s}", error_kind(error)),
        PluginError::RateLimited(Some(ms)) => format!("rate-limited: retry after {ms} ms"),
        PluginError::RateLimited(None) => "rate-limited".to_owned(),
    }
}
