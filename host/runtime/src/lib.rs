//! Fulcrum's plugin runtime: vendor connectors for Lever run as WebAssembly components
//! (world `fulcrum:connector/connector@0.1.0`) in a sandbox with per-invocation limits, and
//! reach the outside world only through host capabilities whose policy is checked (and
//! audited) on every call.
//!
//! ```text
//! Runtime ── one wasmtime Engine (pooling allocator when available, epoch interruption)
//!         ├─ ComponentCache: precompiled components on disk (sha256 × engine hash)
//!         ├─ Registry: plugin id → versions → PluginVersion (manifest + InstancePre)
//!         └─ invoke(): fresh Store per call, StoreLimits, CPU budget, wall-clock timeout,
//!                      empty WASI, capabilities: lever, vendor-http, state, config, log
//! ```
//!
//! Events are handled at least once; with an [`EffectJournal`] in the context, Lever writes
//! happen exactly once (see [`journal`]).

// Layers (see README.md, "Module graph"): ports, policy and call types (no store) ←
// capabilities (host impls on `HostCalls`) ← host (store data), invoke, registry, this file.
pub mod audit;
pub mod bindings;
mod call;
pub mod config;
pub mod grants;
pub mod journal;
mod manifest;
pub mod state_store;

pub mod capabilities;

mod cache;
mod engine;
mod host;
mod invoke;
pub mod registry;
mod stderr;

pub use audit::{AuditOutcome, AuditRecord, AuditSink, Capability, MemoryAuditLog, describe_error};
pub use bindings::{ContractVersion, PluginError};
pub use cache::{CacheError, CacheStats};
pub use call::{Call, CallKind, CallOutput, InvocationError};
pub use capabilities::vendor_http::policy::{Origin, VendorHttpPolicy};
pub use config::{AllocatorChoice, AllocatorKind, Limits, PoolConfig, RuntimeConfig};
pub use grants::{Grants, InvocationContext, LeverAccess, Secrets};
pub use journal::{
    CallSeq, EffectJournal, JournalEntry, JournalError, JournalRecord, MemoryJournal,
};
pub use registry::{InstallError, PluginVersion};
pub use state_store::{MemoryStateStore, StateError, StateScope, StateStore};

use std::sync::Arc;
use wasmtime::Engine;
use wasmtime::component::Linker;

use crate::bindings::ConnectorPre;
use crate::cache::ComponentCache;
use crate::capabilities::Shared;
use crate::capabilities::vendor_http::client::VendorClients;
use crate::engine::EpochTicker;
use crate::host::HostState;
use crate::registry::Registry;

/// Errors building the runtime.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("invalid runtime configuration: {0}")]
    Config(String),
    #[error("cannot create the wasmtime engine: {0}")]
    Engine(String),
    #[error(transparent)]
    Cache(#[from] CacheError),
    #[error("cannot set up the host functions: {0}")]
    Linker(String),
    #[error("cannot create the vendor HTTP client: {0}")]
    Http(String),
}

/// The plugin runtime. Cheap to clone (clones share everything); the engine, its epoch
/// ticker and the registry go away with the last clone.
#[derive(Clone)]
pub struct Runtime {
    inner: Arc<Inner>,
}

struct Inner {
    engine: Engine,
    allocator: AllocatorKind,
    linker: Linker<HostState>,
    cache: ComponentCache,
    registry: Registry,
    shared: Arc<Shared>,
    // Last: stopped (and joined) after everything that might still run guests is gone.
    _ticker: EpochTicker,
}

impl Runtime {
    pub fn new(config: RuntimeConfig) -> Result<Self, RuntimeError> {
        config.validate().map_err(RuntimeError::Config)?;
        let (engine, allocator) = engine::build_engine(&config)?;
        let mut linker = Linker::new(&engine);
        host::add_to_linker(&mut linker).map_err(|e| RuntimeError::Linker(format!("{e:#}")))?;
        let cache = ComponentCache::new(&engine, &config.cache_dir)?;
        let vendor = VendorClients::new(config.limits.vendor_request_timeout)
            .map_err(|e| RuntimeError::Http(e.to_string()))?;
        let ticker = EpochTicker::start(&engine, config.epoch_tick)?;
        tracing::info!(?allocator, cache_dir = %config.cache_dir.display(), "plugin runtime started");
        Ok(Runtime {
            inner: Arc::new(Inner {
                engine,
                allocator,
                linker,
                cache,
                registry: Registry::default(),
                shared: Arc::new(Shared { config, vendor }),
                _ticker: ticker,
            }),
        })
    }

    pub fn config(&self) -> &RuntimeConfig {
        &self.inner.shared.config
    }

    /// The instance allocator in use (pooling, or on-demand after a failed probe).
    pub fn allocator(&self) -> AllocatorKind {
        self.inner.allocator
    }

    pub fn engine(&self) -> &Engine {
        &self.inner.engine
    }

    pub fn cache_stats(&self) -> CacheStats {
        self.inner.cache.stats()
    }

    /// Installs a component: compile (or load precompiled), check the contract version,
    /// pre-instantiate, read and validate its manifest, register the version. The newest
    /// installed version of a plugin is its active one.
    pub async fn install(
        &self,
        bytes: impl Into<Vec<u8>>,
    ) -> Result<Arc<PluginVersion>, InstallError> {
        let bytes: Vec<u8> = bytes.into();
        check_component_header(&bytes)?;
        let hash = cache::content_hash(&bytes);
        let inner = self.inner.clone();
        let key = hash.clone();
        // Compilation takes CPU seconds: off the async workers.
        let component = tokio::task::spawn_blocking(move || {
            inner.cache.load_or_compile(&inner.engine, &bytes, &key)
        })
        .await
        .map_err(|e| InstallError::Interrupted(e.to_string()))??;
        let contract = bindings::contract_of(&self.inner.engine, &component)?;
        let pre = self
            .inner
            .linker
            .instantiate_pre(&component)
            .and_then(|pre| ConnectorPre::new(contract, pre))
            .map_err(|e| InstallError::Link {
                message: format!("{e:#}"),
            })?;
        // describe() in a store with the usual limits and nothing but logging.
        let provisional = Arc::new(PluginVersion::provisional(pre.clone(), hash.clone()));
        let output = invoke::invoke(
            &self.inner.engine,
            &self.inner.shared,
            provisional,
            InvocationContext::system(""),
            Call::Describe,
        )
        .await
        .map_err(InstallError::Describe)?;
        let CallOutput::Manifest(manifest) = output else {
            return Err(InstallError::Interrupted(
                "describe() returned no manifest".into(),
            ));
        };
        let version = PluginVersion::new(*manifest, pre, hash)?;
        let installed = self.inner.registry.insert(version)?;
        tracing::info!(
            plugin = installed.id(),
            version = %installed.version(),
            hash = installed.content_hash(),
            contract = %installed.contract(),
            "plugin installed"
        );
        Ok(installed)
    }

    /// The active (newest) version of a plugin.
    pub fn active(&self, plugin_id: &str) -> Option<Arc<PluginVersion>> {
        self.inner.registry.active(plugin_id)
    }

    pub fn version(
        &self,
        plugin_id: &str,
        version: &semver::Version,
    ) -> Option<Arc<PluginVersion>> {
        self.inner.registry.get(plugin_id, version)
    }

    /// Installed versions of a plugin, oldest first.
    pub fn versions(&self, plugin_id: &str) -> Vec<Arc<PluginVersion>> {
        self.inner.registry.versions(plugin_id)
    }

    pub fn plugin_ids(&self) -> Vec<String> {
        self.inner.registry.plugin_ids()
    }

    /// Uninstalls one version; the next newest (if any) becomes active. Invocations already
    /// running on it finish normally.
    pub fn remove_version(
        &self,
        plugin_id: &str,
        version: &semver::Version,
    ) -> Option<Arc<PluginVersion>> {
        self.inner.registry.remove_version(plugin_id, version)
    }

    /// Uninstalls every version of a plugin.
    pub fn remove(&self, plugin_id: &str) -> Vec<Arc<PluginVersion>> {
        self.inner.registry.remove(plugin_id)
    }

    /// Calls one export of `plugin` in a fresh store under the configured limits. A trap,
    /// limit or timeout is an `InvocationError`; the plugin's own typed errors are values in
    /// the `CallOutput`.
    pub async fn invoke(
        &self,
        plugin: &Arc<PluginVersion>,
        ctx: InvocationContext,
        call: Call,
    ) -> Result<CallOutput, InvocationError> {
        invoke::invoke(
            &self.inner.engine,
            &self.inner.shared,
            plugin.clone(),
            ctx,
            call,
        )
        .await
    }

    /// Building blocks for benchmarks (not a stable API).
    #[doc(hidden)]
    pub fn bench(&self) -> bench::Bench<'_> {
        bench::Bench { runtime: self }
    }
}

/// Rejects what is not a component binary before hashing or compiling it.
fn check_component_header(bytes: &[u8]) -> Result<(), InstallError> {
    let reason = match bytes {
        [0x00, b'a', b's', b'm', 0x0d, 0x00, 0x01, 0x00, ..] => return Ok(()),
        [0x00, b'a', b's', b'm', 0x01, 0x00, 0x00, 0x00, ..] => {
            "it is a core WebAssembly module; build for wasm32-wasip2 (or wrap it with \
             `wasm-tools component new`) to get a component"
        }
        [0x00, b'a', b's', b'm', ..] => "unknown WebAssembly binary version",
        _ => "it does not start with the WebAssembly magic bytes",
    };
    Err(InstallError::NotAComponent {
        reason: reason.to_owned(),
    })
}

#[doc(hidden)]
pub mod bench {
    //! Lower-level pieces for the benchmarks: a store for a plugin, and a warm instance that
    //! runs several actions in one store (production never reuses a store).

    use super::*;
    use crate::bindings::Connector;
    use wasmtime::Store;

    pub struct Bench<'a> {
        pub(super) runtime: &'a Runtime,
    }

    pub struct WarmInstance {
        store: Store<HostState>,
        instance: Connector,
    }

    /// A store with its limits armed, nothing instantiated (to time the parts of `invoke`).
    pub struct StoreOnly(#[allow(dead_code)] Store<HostState>);

    impl Bench<'_> {
        pub fn store_only(&self, plugin: &Arc<PluginVersion>, ctx: InvocationContext) -> StoreOnly {
            let inner = &self.runtime.inner;
            StoreOnly(invoke::new_store(
                &inner.engine,
                &inner.shared,
                plugin.info().clone(),
                ctx,
                CallKind::Action,
            ))
        }

        /// Instantiates `plugin` in a fresh store (as `invoke` does) and keeps it.
        pub async fn instantiate(
            &self,
            plugin: &Arc<PluginVersion>,
            ctx: InvocationContext,
        ) -> anyhow::Result<WarmInstance> {
            let inner = &self.runtime.inner;
            let mut store = invoke::new_store(
                &inner.engine,
                &inner.shared,
                plugin.info().clone(),
                ctx,
                CallKind::Action,
            );
            let instance = plugin
                .pre()
                .instantiate(&mut store)
                .await
                .map_err(|e| anyhow::anyhow!("{e:#}"))?;
            Ok(WarmInstance { store, instance })
        }
    }

    impl WarmInstance {
        /// `run-action` on the warm instance.
        pub async fn action(
            &mut self,
            name: &str,
            input: &str,
        ) -> anyhow::Result<Result<String, PluginError>> {
            // A long benchmark must not run into the per-invocation CPU budget.
            self.store.data_mut().calls.reset_budgets();
            let output = self
                .instance
                .call(&mut self.store, &Call::action("bench", name, input))
                .await
                .map_err(|e| anyhow::anyhow!("{e:#}"))?;
            output
                .into_action_result()
                .ok_or_else(|| anyhow::anyhow!("run-action returned no action result"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_tell_components_from_modules() {
        assert!(check_component_header(b"\0asm\x0d\0\x01\0rest").is_ok());
        let core = check_component_header(b"\0asm\x01\0\0\0")
            .unwrap_err()
            .to_string();
        assert!(core.contains("core WebAssembly module"), "{core}");
        let text = check_component_header(b"(component)")
            .unwrap_err()
            .to_string();
        assert!(text.contains("magic"), "{text}");
    }
}
