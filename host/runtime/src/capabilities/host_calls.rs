//! What every capability's host impl works on: `HostCalls`, the capability side of one
//! invocation (who it runs for, what it may use, its meters), and the policy every host call
//! passes first, with its audit record.
//!
//! The host impls (`impl <interface>::Host for HostCalls`) live on this type, not on the
//! store's `HostState`, so they never depend on the store, WASI or the invoker: the store
//! embeds a `HostCalls` and the linker projects to it (see `capabilities::add_to_linker`).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};

use super::vendor_http::client::VendorClients;
use crate::audit::{AuditOutcome, AuditRecord, Capability, describe_error, error_kind};
use crate::bindings::PluginError;
use crate::call::CallKind;
use crate::config::RuntimeConfig;
use crate::grants::InvocationContext;
use crate::manifest::PluginInfo;

/// Runtime-wide state the host functions need.
pub(crate) struct Shared {
    pub(crate) config: RuntimeConfig,
    pub(crate) vendor: VendorClients,
}

/// Guest time = wall time since the invocation started − time in host calls − time spent
/// parked after a cooperative yield. That is the CPU budget's meter: a guest waiting on a
/// slow vendor is not charged for it (the wall-clock timeout covers that).
pub(crate) struct GuestClock {
    started: Instant,
    in_host: Duration,
    parked_nanos: Arc<AtomicU64>,
}

impl GuestClock {
    fn new() -> Self {
        GuestClock {
            started: Instant::now(),
            in_host: Duration::ZERO,
            parked_nanos: Arc::new(AtomicU64::new(0)),
        }
    }

    pub(crate) fn guest_time(&self) -> Duration {
        let parked = Duration::from_nanos(self.parked_nanos.load(Ordering::Relaxed));
        self.started
            .elapsed()
            .saturating_sub(self.in_host)
            .saturating_sub(parked)
    }

    pub(crate) fn parked_meter(&self) -> Arc<AtomicU64> {
        self.parked_nanos.clone()
    }
}

/// The capability side of one invocation.
pub(crate) struct HostCalls {
    pub(crate) ctx: InvocationContext,
    pub(crate) plugin: Arc<PluginInfo>,
    pub(crate) kind: CallKind,
    pub(crate) shared: Arc<Shared>,
    pub(crate) clock: GuestClock,
    pub(crate) host_calls: u32,
    pub(crate) log_lines: u32,
    /// The last error-level log line, a fallback for panic messages of guests whose SDK
    /// reports panics through `log` instead of stderr.
    pub(crate) last_error_log: Option<String>,
    /// Journaled Lever writes so far in this invocation: the next write's `call_seq`.
    pub(crate) lever_writes: u32,
    /// Journaled Lever reads so far in this invocation: the next read's sequence number.
    pub(crate) lever_reads: u32,
    /// Vendor requests so far in this invocation: the next request's idempotency number.
    pub(crate) vendor_requests: u32,
}

impl HostCalls {
    pub(crate) fn new(
        shared: Arc<Shared>,
        plugin: Arc<PluginInfo>,
        ctx: InvocationContext,
        kind: CallKind,
    ) -> Self {
        HostCalls {
            ctx,
            plugin,
            kind,
            shared,
            clock: GuestClock::new(),
            host_calls: 0,
            log_lines: 0,
            last_error_log: None,
            lever_writes: 0,
            lever_reads: 0,
            vendor_requests: 0,
        }
    }

    /// The policy every host call passes first, before any I/O: the capability is available
    /// in this kind of call, and the invocation's host-call budget is not spent.
    pub(crate) fn begin(
        &mut self,
        capability: Capability,
        operation: impl Into<String>,
    ) -> Result<HostCall, PluginError> {
        let call = HostCall {
            capability,
            operation: operation.into(),
            started: Instant::now(),
        };
        if !self.kind.allows(capability) {
            let error = PluginError::Forbidden(format!(
                "{} is not available during {}",
                capability.as_str(),
                self.kind.as_str()
            ));
            return Err(self.deny(call, error));
        }
        let max = self.shared.config.limits.max_host_calls;
        if counts_toward_budget(capability) {
            if self.host_calls >= max {
                let error = PluginError::LimitExceeded(format!(
                    "more than {max} host calls in one invocation"
                ));
                return Err(self.deny(call, error));
            }
            self.host_calls += 1;
        }
        Ok(call)
    }

    /// Audits a refusal and returns the error for the guest.
    pub(crate) fn deny(&mut self, call: HostCall, error: PluginError) -> PluginError {
        let reason = describe_error(&error);
        self.close(call, AuditOutcome::Denied { reason });
        error
    }

    /// Audits the outcome of an allowed call and passes the result through.
    pub(crate) fn finish<T>(
        &mut self,
        call: HostCall,
        result: Result<T, PluginError>,
    ) -> Result<T, PluginError> {
        let outcome = match &result {
            Ok(_) => AuditOutcome::Allowed,
            Err(e) => AuditOutcome::Failed {
                error_kind: error_kind(e).to_owned(),
            },
        };
        self.close(call, outcome);
        result
    }

    fn close(&mut self, call: HostCall, outcome: AuditOutcome) {
        let duration = call.started.elapsed();
        self.clock.in_host += duration;
        let ctx = &self.ctx;
        ctx.audit.record(AuditRecord {
            at: SystemTime::now(),
            tenant_id: ctx.tenant_id.clone(),
            installation_id: ctx.installation_id.clone(),
            plugin_id: self.plugin.id.clone(),
            plugin_version: self.plugin.version.to_string(),
            event_id: ctx.event_id.clone(),
            capability: call.capability,
            operation: call.operation,
            outcome,
            duration,
        });
    }

    /// Restarts the per-invocation meters: CPU budget, host calls, log lines, write and
    /// request sequence numbers (benchmarks reuse one store for many calls).
    pub(crate) fn reset_budgets(&mut self) {
        self.clock = GuestClock::new();
        self.host_calls = 0;
        self.log_lines = 0;
        self.lever_writes = 0;
        self.lever_reads = 0;
        self.vendor_requests = 0;
    }

    /// Charges host time for calls that are not audited (log).
    pub(crate) fn charge_host_time(&mut self, started: Instant) {
        self.clock.in_host += started.elapsed();
    }
}

fn counts_toward_budget(capability: Capability) -> bool {
    // Config and log are local and cheap; the budget is about I/O.
    matches!(
        capability,
        Capability::Lever | Capability::VendorHttp | Capability::State
    )
}

/// An allowed host call in progress.
pub(crate) struct HostCall {
    capability: Capability,
    operation: String,
    started: Instant,
}

impl HostCall {
    /// The operation as it will be audited.
    pub(crate) fn operation(&self) -> &str {
        &self.operation
    }

    /// Marks how the call was answered in its audit record, e.g. "POST /opportunities
    /// (journal)".
    pub(crate) fn annotate(&mut self, how: &str) {
        self.operation = format!("{} ({how})", self.operation);
    }
}

/// Cuts `s` to at most `max` bytes on a char boundary.
pub(crate) fn truncate(s: &str, max: usize) -> &str {
    if s.len() <= max {
        return s;
    }
    let mut end = max;
    while !s.is_char_boundary(end) {
        end -= 1;
    }
    &s[..end]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn truncate_respects_char_boundaries() {
        assert_eq!(truncate("héllo", 2), "h");
        assert_eq!(truncate("héllo", 3), "hé");
        assert_eq!(truncate("abc", 10), "abc");
    }
}

/// Host calls outside a store, to call host functions directly in unit tests.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;
    use crate::capabilities::vendor_http::policy::Origin;
    use lever_model::Permission;

    pub(crate) fn plugin(
        permissions: &[Permission],
        origins: &[&str],
        secrets: &[&str],
    ) -> PluginInfo {
        PluginInfo {
            id: "unit".into(),
            version: semver::Version::new(1, 0, 0),
            permissions: permissions.iter().copied().collect(),
            vendor_origins: origins
                .iter()
                .map(|o| Origin::parse(o).expect("origin"))
                .collect(),
            secrets: secrets.iter().map(|s| s.to_string()).collect(),
        }
    }

    pub(crate) fn state(
        config: RuntimeConfig,
        plugin: PluginInfo,
        ctx: InvocationContext,
        kind: CallKind,
    ) -> HostCalls {
        let vendor = VendorClients::new(config.limits.vendor_request_timeout).expect("HTTP client");
        HostCalls::new(
            Arc::new(Shared { config, vendor }),
            Arc::new(plugin),
            ctx,
            kind,
        )
    }
}
