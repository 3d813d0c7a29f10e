//! Every knob of the runtime in one place, with serde so operators can set them in a config
//! file. Durations are written in milliseconds (`*_ms`), sizes in bytes.

use serde::{Deserialize, Serialize};
use std::path::PathBuf;
use std::time::Duration;

use crate::capabilities::vendor_http::policy::VendorHttpPolicy;

const KIB: usize = 1024;
const MIB: usize = 1024 * KIB;

/// How the runtime is built: engine, allocator, cache and per-invocation limits.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct RuntimeConfig {
    /// Directory of precompiled components (created if missing).
    pub cache_dir: PathBuf,
    /// Instance allocator; `auto` probes the pooling allocator and falls back to on-demand.
    pub allocator: AllocatorChoice,
    /// Engine-wide sizing of the pooling allocator.
    pub pool: PoolConfig,
    /// Per-invocation limits.
    pub limits: Limits,
    /// Epoch tick: the granularity of CPU-budget checks (and of cooperative yields).
    #[serde(rename = "epoch_tick_ms", with = "millis")]
    pub epoch_tick: Duration,
    /// Wasm stack a guest may use before trapping with a stack overflow.
    pub max_wasm_stack_bytes: usize,
    /// Native stack of the fiber a guest runs on; must exceed `max_wasm_stack_bytes` so host
    /// functions called from deep guest stacks still have room.
    pub async_stack_bytes: usize,
    /// Let Cranelift inline wasm functions (faster guests, slower compiles; backtraces may
    /// omit inlined frames).
    pub compiler_inlining: bool,
    /// Default operator policy for vendor HTTP (an invocation may carry its own).
    pub vendor_http: VendorHttpPolicy,
}

impl Default for RuntimeConfig {
    fn default() -> Self {
        RuntimeConfig {
            cache_dir: std::env::temp_dir().join("fulcrum-component-cache"),
            allocator: AllocatorChoice::Auto,
            pool: PoolConfig::default(),
            limits: Limits::default(),
            epoch_tick: Duration::from_millis(10),
            max_wasm_stack_bytes: 512 * KIB,
            async_stack_bytes: 2 * MIB,
            compiler_inlining: true,
            vendor_http: VendorHttpPolicy::default(),
        }
    }
}

/// Which instance allocator the engine uses.
#[derive(Debug, Clone, Copy, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum AllocatorChoice {
    /// Try pooling; fall back to on-demand (with a warning) when it cannot be set up, e.g.
    /// when the process may not reserve enough virtual address space.
    Auto,
    /// Pooling or fail.
    Pooling,
    /// Always allocate per instance (slower instantiation, no up-front reservation).
    OnDemand,
}

/// The allocator actually in use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum AllocatorKind {
    Pooling,
    OnDemand,
}

/// Sizing of the pooling allocator: how many instances can be live at once across the
/// whole process. An invocation beyond these fails fast instead of exhausting memory.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct PoolConfig {
    /// Concurrent component instances (one per running invocation).
    pub total_component_instances: u32,
    /// Concurrent core instances (a component is several core modules).
    pub total_core_instances: u32,
    pub total_memories: u32,
    pub total_tables: u32,
    /// Concurrent fiber stacks (one per running invocation).
    pub total_stacks: u32,
    /// Pool slots kept warm (not decommitted) for reuse: faster instantiation.
    pub max_unused_warm_slots: u32,
    /// Bytes of each linear memory reset in place (instead of `madvise`) when a slot is
    /// returned, so the next instance does not page-fault them back in. With `pagemap_scan`
    /// only pages actually written are reset.
    pub linear_memory_keep_resident_bytes: usize,
    /// The same for tables.
    pub table_keep_resident_bytes: usize,
    /// Use Linux's PAGEMAP_SCAN (kernel ≥ 6.7) to find dirty pages when resetting a slot;
    /// ignored where unavailable.
    pub pagemap_scan: bool,
    /// Decommits batched per `madvise` round.
    pub decommit_batch_size: usize,
}

impl Default for PoolConfig {
    fn default() -> Self {
        PoolConfig {
            total_component_instances: 200,
            total_core_instances: 2_000,
            total_memories: 400,
            total_tables: 800,
            total_stacks: 200,
            max_unused_warm_slots: 50,
            linear_memory_keep_resident_bytes: 2 * MIB,
            table_keep_resident_bytes: 64 * KIB,
            pagemap_scan: true,
            decommit_batch_size: 8,
        }
    }
}

/// Limits applied to every invocation. The defaults suit connectors that map JSON and make a
/// handful of HTTP calls per event.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq)]
#[serde(default, deny_unknown_fields)]
pub struct Limits {
    /// Linear memory per instance.
    pub max_memory_bytes: usize,
    /// Elements per table.
    pub max_table_elements: usize,
    /// Core instances, tables and memories per store (one store per invocation).
    pub max_instances: usize,
    pub max_tables: usize,
    pub max_memories: usize,
    /// Guest execution time per invocation, excluding time spent in host calls. Enforced in
    /// epoch ticks, so the effective resolution is `epoch_tick`.
    #[serde(rename = "cpu_budget_ms", with = "millis")]
    pub cpu_budget: Duration,
    /// Whole invocation, host calls included (epochs cannot interrupt a guest that is waiting
    /// on a host call; this can).
    #[serde(rename = "wall_clock_timeout_ms", with = "millis")]
    pub wall_clock_timeout: Duration,
    /// Size of what a call returns to the host (e.g. the JSON of `run-action`).
    pub max_result_bytes: usize,
    /// Body of one vendor HTTP response.
    pub max_vendor_response_bytes: usize,
    /// One vendor HTTP request, redirects included.
    #[serde(rename = "vendor_request_timeout_ms", with = "millis")]
    pub vendor_request_timeout: Duration,
    /// Redirects followed per vendor request (only to declared origins).
    pub max_vendor_redirects: usize,
    /// One file or resume downloaded from Lever and handed to the guest.
    pub max_lever_download_bytes: usize,
    /// Guest stderr kept per invocation (used to report panic messages).
    pub max_stderr_bytes: usize,
    /// One log message (longer ones are truncated).
    pub max_log_message_bytes: usize,
    /// Log lines per invocation (further lines are dropped).
    pub max_log_lines: u32,
    /// Host calls (Lever, vendor HTTP, state) per invocation.
    pub max_host_calls: u32,
    pub max_state_key_bytes: usize,
    pub max_state_value_bytes: usize,
    /// Upper bound of `list-keys`' `limit`.
    pub max_state_list_keys: u32,
}

impl Default for Limits {
    fn default() -> Self {
        Limits {
            max_memory_bytes: 64 * MIB,
            max_table_elements: 20_000,
            max_instances: 64,
            max_tables: 64,
            max_memories: 8,
            cpu_budget: Duration::from_secs(1),
            wall_clock_timeout: Duration::from_secs(10),
            max_result_bytes: 4 * MIB,
            max_vendor_response_bytes: 8 * MIB,
            vendor_request_timeout: Duration::from_secs(5),
            max_vendor_redirects: 5,
            max_lever_download_bytes: 16 * MIB,
            max_stderr_bytes: 64 * KIB,
            max_log_message_bytes: 4 * KIB,
            max_log_lines: 1_000,
            max_host_calls: 1_000,
            max_state_key_bytes: 512,
            max_state_value_bytes: 256 * KIB,
            max_state_list_keys: 1_000,
        }
    }
}

impl RuntimeConfig {
    /// The CPU budget in epoch ticks (at least one).
    pub fn cpu_budget_ticks(&self) -> u64 {
        ticks(self.limits.cpu_budget, self.epoch_tick)
    }

    pub(crate) fn validate(&self) -> Result<(), String> {
        if self.epoch_tick.is_zero() {
            return Err("epoch_tick_ms must be positive".into());
        }
        if self.async_stack_bytes <= self.max_wasm_stack_bytes {
            return Err(format!(
                "async_stack_bytes ({}) must be larger than max_wasm_stack_bytes ({}) so host \
                 calls made from a deep guest stack have room",
                self.async_stack_bytes, self.max_wasm_stack_bytes
            ));
        }
        let l = &self.limits;
        if l.cpu_budget.is_zero() || l.wall_clock_timeout.is_zero() {
            return Err("cpu_budget_ms and wall_clock_timeout_ms must be positive".into());
        }
        if l.max_memory_bytes < 64 * KIB {
            return Err("max_memory_bytes must be at least one wasm page (65536)".into());
        }
        Ok(())
    }
}

/// `duration / tick`, rounded up, at least 1.
pub(crate) fn ticks(duration: Duration, tick: Duration) -> u64 {
    let tick = tick.as_nanos().max(1);
    let n = duration.as_nanos().div_ceil(tick);
    u64::try_from(n).unwrap_or(u64::MAX).max(1)
}

/// Durations as integer milliseconds in config files.
pub(crate) mod millis {
    use serde::{Deserialize, Deserializer, Serializer};
    use std::time::Duration;

    pub fn serialize<S: Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_u64(u64::try_from(d.as_millis()).unwrap_or(u64::MAX))
    }

    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Duration, D::Error> {
        u64::deserialize(d).map(Duration::from_millis)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ticks_round_up() {
        let tick = Duration::from_millis(10);
        assert_eq!(ticks(Duration::from_millis(1), tick), 1);
        assert_eq!(ticks(Duration::from_millis(10), tick), 1);
        assert_eq!(ticks(Duration::from_millis(11), tick), 2);
        assert_eq!(ticks(Duration::from_secs(1), tick), 100);
        assert_eq!(ticks(Duration::ZERO, tick), 1);
    }

    #[test]
    fn config_round_trips_with_millis() {
        let config = RuntimeConfig::default();
        let json = serde_json::to_value(&config).unwrap();
        assert_eq!(json["limits"]["cpu_budget_ms"], 1000);
        assert_eq!(json["epoch_tick_ms"], 10);
        let back: RuntimeConfig = serde_json::from_value(json).unwrap();
        assert_eq!(back, config);
        let partial: RuntimeConfig =
            serde_json::from_str(r#"{"limits": {"max_memory_bytes": 1048576}}"#).unwrap();
        assert_eq!(partial.limits.max_memory_bytes, 1 << 20);
        assert_eq!(partial.limits.cpu_budget, Duration::from_secs(1));
        assert!(config.validate().is_ok());
    }
}
