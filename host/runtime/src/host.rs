//! The per-invocation store data (`HostState`) and what every capability shares: the common
//! policy (is the capability available in this call, is the call budget spent), auditing,
//! and accounting of time spent in host calls (excluded from the CPU budget).

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant, SystemTime};
use wasmtime::component::ResourceTable;
use wasmtime::{ResourceLimiter, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use crate::audit::{AuditOutcome, AuditRecord, Capability};
use crate::bindings::PluginError;
use crate::capabilities::vendor_http::VendorClients;
use crate::config::RuntimeConfig;
use crate::grants::InvocationContext;
use crate::invoke::CallKind;
use crate::registry::PluginInfo;
use crate::stderr::StderrCapture;

/// Runtime-wide state the host functions need.
pub(crate) struct Shared {
    pub(crate) config: RuntimeConfig,
    pub(crate) vendor: VendorClients,
}

/// Which limit stopped a guest, recorded where it was hit so the error can name it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum LimitHit {
    Memory { desired: usize },
    Table { desired: usize },
    Cpu,
}

/// `StoreLimits` that also remembers which limit refused a grow.
pub(crate) struct RecordingLimiter {
    inner: StoreLimits,
    pub(crate) hit: Option<LimitHit>,
}

impl RecordingLimiter {
    fn new(config: &RuntimeConfig) -> Self {
        let l = &config.limits;
        RecordingLimiter {
            inner: StoreLimitsBuilder::new()
                .memory_size(l.max_memory_bytes)
                .table_elements(l.max_table_elements)
                .instances(l.max_instances)
                .tables(l.max_tables)
                .memories(l.max_memories)
                // A refused grow traps right there instead of returning -1, which guests
                // (Rust's allocator included) turn into an abort with a less useful message.
                .trap_on_grow_failure(true)
                .build(),
            hit: None,
        }
    }
}

impl ResourceLimiter for RecordingLimiter {
    fn memory_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let result = self.inner.memory_growing(current, desired, maximum);
        if !matches!(result, Ok(true)) {
            self.hit.get_or_insert(LimitHit::Memory { desired });
        }
        result
    }

    fn memory_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.hit.get_or_insert(LimitHit::Memory { desired: 0 });
        self.inner.memory_grow_failed(error)
    }

    fn table_growing(
        &mut self,
        current: usize,
        desired: usize,
        maximum: Option<usize>,
    ) -> wasmtime::Result<bool> {
        let result = self.inner.table_growing(current, desired, maximum);
        if !matches!(result, Ok(true)) {
            self.hit.get_or_insert(LimitHit::Table { desired });
        }
        result
    }

    fn table_grow_failed(&mut self, error: wasmtime::Error) -> wasmtime::Result<()> {
        self.hit.get_or_insert(LimitHit::Table { desired: 0 });
        self.inner.table_grow_failed(error)
    }

    fn instances(&self) -> usize {
        self.inner.instances()
    }

    fn tables(&self) -> usize {
        self.inner.tables()
    }

    fn memories(&self) -> usize {
        self.inner.memories()
    }
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

/// The data of one invocation's `Store`.
pub(crate) struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub(crate) limiter: RecordingLimiter,
    pub(crate) ctx: InvocationContext,
    pub(crate) plugin: Arc<PluginInfo>,
    pub(crate) kind: CallKind,
    pub(crate) shared: Arc<Shared>,
    pub(crate) clock: GuestClock,
    pub(crate) host_calls: u32,
    pub(crate) log_lines: u32,
    pub(crate) stderr: StderrCapture,
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

impl WasiView for HostState {
    fn ctx(&mut self) -> WasiCtxView<'_> {
        WasiCtxView {
            ctx: &mut self.wasi,
            table: &mut self.table,
        }
    }
}

impl HostState {
    pub(crate) fn new(
        shared: Arc<Shared>,
        plugin: Arc<PluginInfo>,
        ctx: InvocationContext,
        kind: CallKind,
    ) -> Self {
        let stderr = StderrCapture::new(shared.config.limits.max_stderr_bytes);
        // WASI with nothing in it: no preopened directories, no environment, no arguments, no
        // sockets. Clocks and randomness stay (harmless and needed by std). stdout is
        // discarded (the builder's default sink).
        let wasi = WasiCtxBuilder::new()
            .stderr(stderr.clone())
            .allow_tcp(false)
            .allow_udp(false)
            .allow_ip_name_lookup(false)
            .build();
        HostState {
            wasi,
            table: ResourceTable::new(),
            limiter: RecordingLimiter::new(&shared.config),
            ctx,
            plugin,
            kind,
            shared,
            clock: GuestClock::new(),
            host_calls: 0,
            log_lines: 0,
            stderr,
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

    #[test]
    fn limiter_records_the_memory_limit() {
        let mut config = RuntimeConfig::default();
        config.limits.max_memory_bytes = 1 << 20;
        let mut limiter = RecordingLimiter::new(&config);
        assert!(limiter.memory_growing(0, 1 << 19, None).unwrap());
        assert!(limiter.hit.is_none());
        assert!(limiter.memory_growing(1 << 19, 2 << 20, None).is_err());
        assert_eq!(limiter.hit, Some(LimitHit::Memory { desired: 2 << 20 }));
    }
}

/// Host state outside a store, to call host functions directly in unit tests.
#[cfg(test)]
pub(crate) mod testing {
    use super::*;
    use crate::capabilities::vendor_http::Origin;
    use crate::registry::PluginInfo;
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
    ) -> HostState {
        let vendor = VendorClients::new(config.limits.vendor_request_timeout).expect("HTTP client");
        HostState::new(
            Arc::new(Shared { config, vendor }),
            Arc::new(plugin),
            ctx,
            kind,
        )
    }
}
