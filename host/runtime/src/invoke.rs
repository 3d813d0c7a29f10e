//! One invocation = one fresh `Store`: a new instance from the plugin version's
//! pre-instantiated component, store limits, an epoch-based CPU budget, a wall-clock timeout
//! around everything, and an empty WASI context. Whatever the guest did to its instance is
//! gone afterwards, so the next invocation starts clean even after a trap.

use std::sync::Arc;
use std::sync::atomic::Ordering;
use std::time::Instant;
use wasmtime::{Store, Trap, UpdateDeadline};

use crate::call::{Call, CallKind, CallOutput, InvocationError};
use crate::capabilities::{Shared, truncate};
use crate::config::RuntimeConfig;
use crate::grants::InvocationContext;
use crate::host::{HostState, LimitHit};
use crate::manifest::PluginInfo;
use crate::registry::PluginVersion;
use crate::stderr::panic_message;

/// Largest trap message kept (a wasm backtrace can be long).
const MAX_TRAP_MESSAGE: usize = 4096;

pub(crate) async fn invoke(
    engine: &wasmtime::Engine,
    shared: &Arc<Shared>,
    plugin: Arc<PluginVersion>,
    mut ctx: InvocationContext,
    call: Call,
) -> Result<CallOutput, InvocationError> {
    if ctx.plugin_id != plugin.id() {
        return Err(InvocationError::WrongPlugin {
            expected: plugin.id().to_owned(),
            found: ctx.plugin_id,
        });
    }
    // Never more than this version asked for, whatever the caller computed.
    ctx.grants = ctx.grants.restricted_to(plugin.requested_permissions());
    let limits = &shared.config.limits;
    let kind = call.kind();
    let started = Instant::now();
    let (tenant, event) = (ctx.tenant_id.clone(), ctx.event_id.clone());
    let wall_clock = ctx.wall_clock.map_or(limits.wall_clock_timeout, |asked| {
        asked.min(limits.wall_clock_timeout)
    });
    // Epochs cannot interrupt a guest that is parked in a host call (a slow vendor), and a
    // host call can itself be slow: the whole invocation is under a wall-clock timeout.
    // Dropping the future drops the store and its fiber.
    let result = match tokio::time::timeout(
        wall_clock,
        run(engine, shared, plugin.clone(), ctx, call),
    )
    .await
    {
        Ok(result) => result,
        Err(_elapsed) => Err(InvocationError::WallClockTimeout { limit: wall_clock }),
    };
    let elapsed = started.elapsed();
    match &result {
        Ok(_) => tracing::debug!(
            plugin = plugin.id(), version = %plugin.version(), tenant, event, call = kind.as_str(),
            ?elapsed, "invocation finished"
        ),
        Err(error) => tracing::warn!(
            plugin = plugin.id(), version = %plugin.version(), tenant, event, call = kind.as_str(),
            ?elapsed, %error, "invocation failed"
        ),
    }
    result
}

/// A store for one invocation, with its limits and CPU budget armed.
pub(crate) fn new_store(
    engine: &wasmtime::Engine,
    shared: &Arc<Shared>,
    plugin: Arc<PluginInfo>,
    ctx: InvocationContext,
    kind: CallKind,
) -> Store<HostState> {
    let state = HostState::new(shared.clone(), plugin, ctx, kind);
    let mut store = Store::new(engine, state);
    store.limiter(|s| &mut s.limiter);
    let budget = shared.config.limits.cpu_budget;
    // Called at every epoch tick while the guest runs: charge guest time (wall time minus
    // host calls minus time parked after yields) against the budget, then yield so other
    // invocations on this worker thread, and the wall-clock timer, get to run.
    store.epoch_deadline_callback(move |mut cx| {
        let state = cx.data_mut();
        if state.calls.clock.guest_time() >= budget {
            state.limiter.hit.get_or_insert(LimitHit::Cpu);
            return Err(wasmtime::Error::msg(format!(
                "CPU budget of {} ms exhausted",
                budget.as_millis()
            )));
        }
        let parked = state.calls.clock.parked_meter();
        Ok(UpdateDeadline::YieldCustom(
            1,
            Box::pin(async move {
                let at = Instant::now();
                tokio::task::yield_now().await;
                let nanos = u64::try_from(at.elapsed().as_nanos()).unwrap_or(u64::MAX);
                parked.fetch_add(nanos, Ordering::Relaxed);
            }),
        ))
    });
    store.set_epoch_deadline(1);
    store
}

async fn run(
    engine: &wasmtime::Engine,
    shared: &Arc<Shared>,
    plugin: Arc<PluginVersion>,
    ctx: InvocationContext,
    call: Call,
) -> Result<CallOutput, InvocationError> {
    let config = &shared.config;
    let mut store = new_store(engine, shared, plugin.info().clone(), ctx, call.kind());
    let instance = match plugin.pre().instantiate(&mut store).await {
        Ok(instance) => instance,
        Err(error) => {
            return Err(match classify_limit(store.data(), config) {
                Some(limit) => limit,
                // Also a full instance pool: the message says which pool.
                None => InvocationError::Instantiation {
                    message: truncate(&format!("{error:#}"), MAX_TRAP_MESSAGE).to_owned(),
                },
            });
        }
    };
    let outcome = instance.call(&mut store, &call).await;
    match outcome {
        Ok(output) => {
            let bytes = output.size();
            let limit = config.limits.max_result_bytes;
            if bytes > limit {
                return Err(InvocationError::ResultTooLarge { bytes, limit });
            }
            Ok(output)
        }
        Err(error) => Err(classify(&error, store.data(), config)),
    }
}

fn classify_limit(state: &HostState, config: &RuntimeConfig) -> Option<InvocationError> {
    let limits = &config.limits;
    Some(match state.limiter.hit? {
        LimitHit::Cpu => InvocationError::CpuBudgetExceeded {
            budget: limits.cpu_budget,
        },
        LimitHit::Memory { .. } => InvocationError::MemoryLimitExceeded {
            limit_bytes: limits.max_memory_bytes,
        },
        LimitHit::Table { .. } => InvocationError::TableLimitExceeded {
            limit_elements: limits.max_table_elements,
        },
    })
}

/// Names the cause of a failed call: a limit we recorded where it was hit, a trap code, a
/// panic message from stderr, or else the trap itself.
fn classify(error: &wasmtime::Error, state: &HostState, config: &RuntimeConfig) -> InvocationError {
    if let Some(limit) = classify_limit(state, config) {
        return limit;
    }
    let trap = error.downcast_ref::<Trap>().copied();
    match trap {
        Some(Trap::StackOverflow) => return InvocationError::StackOverflow,
        Some(Trap::Interrupt) => {
            return InvocationError::CpuBudgetExceeded {
                budget: config.limits.cpu_budget,
            };
        }
        _ => {}
    }
    if let Some(message) = panic_message(&state.stderr.text()) {
        return InvocationError::Panicked { message };
    }
    // SDKs that route panics through `log` leave the message there instead.
    if trap == Some(Trap::UnreachableCodeReached)
        && let Some(line) = &state.calls.last_error_log
        && line.contains("panic")
    {
        return InvocationError::Panicked {
            message: line.clone(),
        };
    }
    // The error chain: trap code and the guest's wasm backtrace, never a host backtrace.
    InvocationError::Trapped {
        message: truncate(&format!("{error:#}"), MAX_TRAP_MESSAGE).to_owned(),
    }
}
