//! The one `wasmtime::Engine` of the process and the epoch ticker that drives CPU budgets.

use std::sync::mpsc;
use std::thread::JoinHandle;
use std::time::Duration;
use wasmtime::{
    Config, Enabled, Engine, InstanceAllocationStrategy, OptLevel, PoolingAllocationConfig,
};

use crate::RuntimeError;
use crate::config::{AllocatorChoice, AllocatorKind, RuntimeConfig};

/// Builds the engine, probing the pooling allocator first when the config allows it.
pub(crate) fn build_engine(
    config: &RuntimeConfig,
) -> Result<(Engine, AllocatorKind), RuntimeError> {
    match config.allocator {
        AllocatorChoice::OnDemand => Ok((on_demand(config)?, AllocatorKind::OnDemand)),
        AllocatorChoice::Pooling => Ok((pooling(config)?, AllocatorKind::Pooling)),
        AllocatorChoice::Auto => match pooling(config) {
            Ok(engine) => Ok((engine, AllocatorKind::Pooling)),
            Err(e) => {
                // Typically: not enough virtual address space for the pool's reservations
                // (ulimit -v, 32-bit, small VMs). On-demand is slower to instantiate but works.
                tracing::warn!(
                    error = %e,
                    "pooling instance allocator unavailable; falling back to on-demand allocation"
                );
                Ok((on_demand(config)?, AllocatorKind::OnDemand))
            }
        },
    }
}

fn base_config(config: &RuntimeConfig) -> Config {
    let mut c = Config::new();
    // Async support is implied in wasmtime 48 (the setting is deprecated and inert); guests
    // run on fibers because every entry point used is `*_async`.
    c.wasm_component_model(true)
        .epoch_interruption(true)
        .max_wasm_stack(config.max_wasm_stack_bytes)
        .async_stack_size(config.async_stack_bytes)
        .cranelift_opt_level(OptLevel::Speed);
    if config.compiler_inlining {
        // Inlines across the component's adapter modules and inside modules: ~7% faster
        // guest code in the sandbox-tax benchmark (fewer calls, fewer epoch checks), at the
        // cost of compile time, which the on-disk cache pays once per component.
        c.compiler_inlining(wasmtime::Inlining::Yes);
    }
    // Traps keep wasmtime's default wasm backtrace (20 frames): that is what a vendor needs
    // to debug a trap.
    c
}

fn pooling(config: &RuntimeConfig) -> Result<Engine, RuntimeError> {
    let p = &config.pool;
    let l = &config.limits;
    let mut pool = PoolingAllocationConfig::new();
    pool.total_component_instances(p.total_component_instances)
        .total_core_instances(p.total_core_instances)
        .total_memories(p.total_memories)
        .total_tables(p.total_tables)
        .total_stacks(p.total_stacks)
        .max_unused_warm_slots(p.max_unused_warm_slots)
        .linear_memory_keep_resident(p.linear_memory_keep_resident_bytes)
        .table_keep_resident(p.table_keep_resident_bytes)
        .pagemap_scan(if p.pagemap_scan {
            Enabled::Auto
        } else {
            Enabled::No
        })
        .decommit_batch_size(p.decommit_batch_size.max(1))
        // The slot size is the hard ceiling; the store limiter enforces (and reports) the
        // same limit first.
        .max_memory_size(l.max_memory_bytes)
        .table_elements(l.max_table_elements);
    let mut c = base_config(config);
    c.allocation_strategy(InstanceAllocationStrategy::Pooling(pool));
    Engine::new(&c).map_err(|e| RuntimeError::Engine(format!("{e:#}")))
}

fn on_demand(config: &RuntimeConfig) -> Result<Engine, RuntimeError> {
    let mut c = base_config(config);
    c.allocation_strategy(InstanceAllocationStrategy::OnDemand);
    Engine::new(&c).map_err(|e| RuntimeError::Engine(format!("{e:#}")))
}

/// Increments the engine's epoch every `tick` on a dedicated thread (a tokio task would stall
/// whenever the runtime's workers are busy running guests, which is exactly when it matters).
/// Stopped and joined on drop.
pub(crate) struct EpochTicker {
    stop: Option<mpsc::Sender<()>>,
    thread: Option<JoinHandle<()>>,
}

impl EpochTicker {
    pub(crate) fn start(engine: &Engine, tick: Duration) -> Result<Self, RuntimeError> {
        let (stop, stopped) = mpsc::channel::<()>();
        // A weak reference: the ticker must not keep a dropped runtime's engine alive.
        let engine = engine.weak();
        let thread = std::thread::Builder::new()
            .name("fulcrum-epoch".into())
            .spawn(move || {
                loop {
                    match stopped.recv_timeout(tick) {
                        Err(mpsc::RecvTimeoutError::Timeout) => match engine.upgrade() {
                            Some(engine) => engine.increment_epoch(),
                            None => return,
                        },
                        // A message or a dropped sender both mean stop.
                        Ok(()) | Err(mpsc::RecvTimeoutError::Disconnected) => return,
                    }
                }
            })
            .map_err(|e| RuntimeError::Engine(format!("cannot start the epoch ticker: {e}")))?;
        Ok(EpochTicker {
            stop: Some(stop),
            thread: Some(thread),
        })
    }
}

impl Drop for EpochTicker {
    fn drop(&mut self) {
        drop(self.stop.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_impossible_pool_falls_back_to_on_demand() {
        let mut config = RuntimeConfig::default();
        // Millions of 4 GiB slots: more address space than any process has.
        config.pool.total_memories = 10_000_000;
        let (_engine, kind) = build_engine(&config).expect("an engine anyway");
        assert_eq!(kind, AllocatorKind::OnDemand);
        config.allocator = AllocatorChoice::Pooling;
        assert!(build_engine(&config).is_err(), "pooling was demanded");
    }

    #[test]
    fn the_ticker_stops_when_dropped() {
        let (engine, _) = build_engine(&RuntimeConfig {
            allocator: AllocatorChoice::OnDemand,
            ..RuntimeConfig::default()
        })
        .expect("engine");
        let ticker = EpochTicker::start(&engine, Duration::from_millis(1)).expect("ticker");
        std::thread::sleep(Duration::from_millis(20));
        let started = std::time::Instant::now();
        drop(ticker);
        assert!(
            started.elapsed() < Duration::from_secs(1),
            "joined promptly"
        );
    }
}
