//! The per-invocation store data (`HostState`): the empty WASI context, the resource table,
//! the limiter that records which limit stopped a guest, captured stderr, and the capability
//! side of the invocation (`HostCalls`, which every host impl works on). The top of the
//! capability graph: it depends on the capabilities, never the other way round.

use std::sync::Arc;
use wasmtime::component::{Linker, ResourceTable};
use wasmtime::{ResourceLimiter, StoreLimits, StoreLimitsBuilder};
use wasmtime_wasi::{WasiCtx, WasiCtxBuilder, WasiCtxView, WasiView};

use crate::call::CallKind;
use crate::capabilities::{HostCalls, Shared};
use crate::config::RuntimeConfig;
use crate::grants::InvocationContext;
use crate::manifest::PluginInfo;
use crate::stderr::StderrCapture;

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

/// The data of one invocation's `Store`: what wasmtime and WASI need (context, resource
/// table, limiter, captured stderr) around the capability side, `calls`.
pub(crate) struct HostState {
    wasi: WasiCtx,
    table: ResourceTable,
    pub(crate) limiter: RecordingLimiter,
    pub(crate) stderr: StderrCapture,
    pub(crate) calls: HostCalls,
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
            stderr,
            calls: HostCalls::new(shared, plugin, ctx, kind),
        }
    }
}

/// The linker every plugin is instantiated with: WASI p2 (with the empty context of
/// `HostState::new`) and the capabilities of every supported contract version, which see
/// only `calls`.
pub(crate) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    wasmtime_wasi::p2::add_to_linker_async(linker)?;
    crate::bindings::add_to_linker(linker)
}

#[cfg(test)]
mod tests {
    use super::*;

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
