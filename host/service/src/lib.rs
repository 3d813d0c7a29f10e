//! Fulcrum's durable host: the service that runs vendor connectors for many tenants and can be
//! trusted with their hiring data — nothing lost, nothing doubled, even across crashes.
//!
//! ```text
//! ingress ──commit──▶ events (store) ◀──claim (lease)── workers ──invoke──▶ runtime ──▶ Lever
//!    ▲ 202 after commit        ▲                          │ staged state, effect journal,
//!    │                    scheduler (CAS fire)            │ audit trail, fair rate lane
//!  vendor                                                 └─ done+state │ retry │ dead letter
//! ```
//!
//! - [`Host`] holds the store, the plugin runtime and the tenancy loader; [`Host::spawn`]
//!   starts the workers, the lease reaper and the scheduler; [`app`] is the HTTP router.
//! - [`tenants`] and [`installations`] hold the admin rules (what a tenant and an installation
//!   may be set to, with an audit entry per change by its [`Actor`]); the admin API, the
//!   command line, the demo and the tests all change tenants and installations through them.
//! - Exactly-once Lever writes: see `effect_journal` and the runtime's lever capability.

mod actor;
mod admin;
mod api_error;
mod audit_trail;
mod domain_error;
mod effect_journal;
pub mod event_payload;
mod ingress;
pub mod installations;
mod lever_webhooks;
pub mod metrics_names;
pub mod observability;
mod pipeline;
mod plugins;
mod scheduler;
mod staged_state;
pub mod tenancy;
pub mod tenants;

pub use actor::Actor;
pub use api_error::ApiError;
pub use domain_error::{DomainError, Missing, Problem, ProblemSource};
pub use pipeline::{Outcome, RetryPolicy};
pub use plugins::PluginInstallError;
pub use tenancy::{LeverDefaults, TenancyError};

use axum::Router;
use axum::routing::get;
use fulcrum_runtime::Runtime;
use fulcrum_store::{Enqueued, NewEvent, Store, StoreError};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Notify;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

/// How the host runs.
#[derive(Debug, Clone)]
pub struct HostConfig {
    /// This process's name among the hosts sharing the database; worker ids are
    /// `<node_id>:<n>`. On start, events still claimed by this node's workers (from before a
    /// crash) go straight back to the queue.
    pub node_id: String,
    pub workers: usize,
    /// At most this many events of one tenant × plugin run at once (at least 1), so one
    /// plugin's backlog leaves workers free for the others' events.
    pub max_running_per_installation: usize,
    /// How long a claimed event is reserved for its worker before the reaper requeues it.
    /// At least twice the runtime's wall-clock limit.
    pub lease: Duration,
    /// How often idle workers look for due events (they are also woken on enqueue).
    pub poll_interval: Duration,
    pub scheduler_tick: Duration,
    pub retry: RetryPolicy,
    pub max_ingress_body: usize,
    /// Where uploaded components are kept (content-addressed) so a restart can load them.
    pub components_dir: PathBuf,
}

impl Default for HostConfig {
    fn default() -> Self {
        HostConfig {
            node_id: "node-1".into(),
            workers: 8,
            max_running_per_installation: 4,
            lease: Duration::from_secs(60),
            poll_interval: Duration::from_millis(500),
            scheduler_tick: Duration::from_secs(1),
            retry: RetryPolicy::default(),
            max_ingress_body: 1024 * 1024,
            components_dir: PathBuf::from("fulcrum-data/components"),
        }
    }
}

/// The host. Cheap to clone.
#[derive(Clone)]
pub struct Host {
    inner: Arc<HostInner>,
}

pub(crate) struct HostInner {
    pub(crate) store: Store,
    pub(crate) runtime: Runtime,
    pub(crate) tenancy: tenancy::Tenancy,
    pub(crate) config: HostConfig,
    /// Wakes idle workers when an event is queued.
    pub(crate) wake: Notify,
}

impl HostInner {
    /// Claims the next due event for `worker_id`, honouring the per-installation cap.
    pub(crate) async fn claim(
        &self,
        worker_id: &str,
    ) -> Result<Option<fulcrum_store::Event>, StoreError> {
        let cap = self
            .config
            .max_running_per_installation
            .clamp(1, u32::MAX as usize) as u32;
        self.store
            .claim_next_capped(worker_id, self.lease(), cap)
            .await
    }

    pub(crate) fn lease(&self) -> Duration {
        let wall = self.runtime.config().limits.wall_clock_timeout;
        self.config.lease.max(wall * 2)
    }
}

impl Host {
    pub fn new(
        store: Store,
        runtime: Runtime,
        lever: LeverDefaults,
        vendor_http: Option<fulcrum_runtime::VendorHttpPolicy>,
        config: HostConfig,
    ) -> Self {
        let tenancy = tenancy::Tenancy::new(store.clone(), lever, vendor_http);
        Host {
            inner: Arc::new(HostInner {
                store,
                runtime,
                tenancy,
                config,
                wake: Notify::new(),
            }),
        }
    }

    pub fn store(&self) -> &Store {
        &self.inner.store
    }

    pub fn runtime(&self) -> &Runtime {
        &self.inner.runtime
    }

    pub fn config(&self) -> &HostConfig {
        &self.inner.config
    }

    /// Installs a plugin component: compiles it, records the version, keeps the bytes so a
    /// restarted host loads it again, and refreshes the schedules of its installations.
    pub async fn install_plugin(
        &self,
        bytes: Vec<u8>,
    ) -> Result<Arc<fulcrum_runtime::PluginVersion>, PluginInstallError> {
        plugins::install(&self.inner, bytes).await
    }

    /// Loads every recorded plugin version whose component is in `components_dir`.
    pub async fn load_recorded_plugins(&self) -> Result<usize, PluginInstallError> {
        plugins::load_recorded(&self.inner).await
    }

    /// Re-reads one installation's schedules (after enabling, disabling or overriding).
    pub async fn sync_schedules(&self, tenant_id: &str, plugin_id: &str) -> Result<(), StoreError> {
        scheduler::sync_installation(&self.inner, tenant_id, plugin_id).await
    }

    /// Re-reads the schedules of every installation of every tenant.
    pub async fn sync_all_schedules(&self) -> Result<(), StoreError> {
        for tenant in self.inner.store.list_tenants().await? {
            for installation in self.inner.store.list_installations(&tenant.id).await? {
                self.sync_schedules(&tenant.id, &installation.plugin_id)
                    .await?;
            }
        }
        Ok(())
    }

    /// Queues an event (admin actions, tests) and wakes a worker.
    pub async fn enqueue(&self, event: &NewEvent) -> Result<Enqueued, StoreError> {
        let enqueued = self.inner.store.enqueue_event(event).await?;
        self.inner.wake.notify_one();
        Ok(enqueued)
    }

    /// Claims and runs one due event as worker `worker_id`, if there is one.
    pub async fn run_one(&self, worker_id: &str) -> Result<Option<(i64, Outcome)>, StoreError> {
        let Some(event) = self.inner.claim(worker_id).await? else {
            return Ok(None);
        };
        let id = event.id;
        Ok(Some((id, pipeline::process(&self.inner, event).await?)))
    }

    /// Fires the schedules due at `now` (unix ms); returns how many this call fired.
    pub async fn fire_due_schedules(&self, now: i64) -> Result<usize, StoreError> {
        scheduler::fire_due(&self.inner, now).await
    }

    /// Starts the background work: `workers` event workers, the lease reaper and the
    /// scheduler. First returns this node's leftover claims (from a crash) to the queue.
    pub async fn spawn(&self, shutdown: CancellationToken) -> Result<JoinSet<()>, StoreError> {
        let node = &self.inner.config.node_id;
        let released = self.inner.store.release_claims(&format!("{node}:")).await?;
        if released > 0 {
            tracing::warn!(events = released, node = %node, "requeued events this node held when it stopped");
        }
        let mut tasks = JoinSet::new();
        for n in 0..self.inner.config.workers.max(1) {
            let worker_id = format!("{node}:{n}");
            tasks.spawn(pipeline::worker_loop(
                self.inner.clone(),
                worker_id,
                shutdown.clone(),
            ));
        }
        tasks.spawn(pipeline::reaper_loop(self.inner.clone(), shutdown.clone()));
        tasks.spawn(scheduler::scheduler_loop(
            self.inner.clone(),
            shutdown.clone(),
        ));
        Ok(tasks)
    }
}

/// The host's HTTP routes.
pub fn app(host: Host) -> Router {
    Router::new()
        .route("/healthz", get(|| async { "ok" }))
        .route("/readyz", get(readyz))
        .merge(ingress::router())
        .merge(lever_webhooks::router())
        .merge(admin::router())
        .route("/metrics", get(observability::metrics))
        .fallback(|| async {
            ApiError::not_found("no such route; see the README for the host's routes")
        })
        .with_state(host)
}

async fn readyz(
    axum::extract::State(host): axum::extract::State<Host>,
) -> Result<&'static str, ApiError> {
    host.inner
        .store
        .count_events(None)
        .await
        .map_err(|e| ApiError::unavailable("the database is not reachable", e))?;
    Ok("ready")
}
