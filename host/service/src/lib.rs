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
//!   starts the workers, the lease reaper, the scheduler and retention; [`app`] is the HTTP
//!   router.
//! - [`tenants`] and [`installations`] hold the admin rules (what a tenant and an installation
//!   may be set to, with an audit entry per change by its [`Actor`]); the admin API, the
//!   command line, the demo and the tests all change tenants and installations through them.
//! - Exactly-once Lever writes: see `effect_journal` and the runtime's lever capability.

mod actor;
mod admin;
mod api_error;
mod audit_trail;
pub mod connections;
mod domain_error;
mod effect_journal;
pub mod event_payload;
mod ingress;
pub mod installations;
mod lever_webhooks;
mod lifecycle;
pub mod managed_webhooks;
mod media_type;
pub mod metrics_names;
mod oauth_callback;
pub mod observability;
mod pipeline;
mod plugins;
mod retention;
mod scheduler;
pub mod server;
mod staged_state;
pub mod tenancy;
pub mod tenants;
mod vendor_query;
mod workers;

pub use actor::Actor;
pub use api_error::ApiError;
pub use domain_error::{DomainError, Missing, Problem, ProblemSource};
pub use ingress::DEFAULT_CREDENTIAL_HEADERS;
pub use pipeline::{MAX_RETRY_AFTER, Outcome, RetryPolicy};
pub use plugins::PluginInstallError;
pub use retention::RetentionConfig;
pub use server::HttpLimits;
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
    /// `<node_id>:<n>`. The default, `<hostname>-<random>`, is new for every process, so two
    /// hosts never share one. On start, events claimed under this id whose lease has run out
    /// (a previous run with the same, operator-set, id) go straight back to the queue; claims
    /// still within their lease are left alone, as another live process may hold them.
    pub node_id: String,
    pub workers: usize,
    /// At most this many events of one tenant × plugin run at once (at least 1), so one
    /// plugin's backlog leaves workers free for the others' events.
    pub max_running_per_installation: usize,
    /// How long a claimed event is reserved for its worker before the reaper requeues it
    /// (at least 1 s). The worker renews it every third of it while the event runs, so it
    /// bounds how long a crashed node's events wait, not how long a handler may take.
    pub lease: Duration,
    /// How often idle workers look for due events (they are also woken on enqueue).
    pub poll_interval: Duration,
    pub scheduler_tick: Duration,
    pub retry: RetryPolicy,
    pub max_ingress_body: usize,
    /// Where uploaded components are kept (content-addressed) so a restart can load them.
    pub components_dir: PathBuf,
    /// How long events, journal rows and audit rows are kept.
    pub retention: RetentionConfig,
    /// Timeouts, connection limit and header size of the HTTP server ([`serve`]).
    pub http: HttpLimits,
    /// Most bytes of request headers (names and values) a vendor request may carry; they are
    /// stored with its event. Larger: 431.
    pub max_ingress_header_bytes: usize,
    /// Vendor request headers that carry credentials: never stored in plaintext (sealed
    /// under the master key with the event; the plugin still sees them). Lower-case names;
    /// [`DEFAULT_CREDENTIAL_HEADERS`] by default.
    pub credential_headers: Vec<String>,
    /// How long a verified vendor request's body digest makes the same request a duplicate,
    /// whatever its `Idempotency-Key`. At least the plugins' signature tolerance.
    pub vendor_replay_window: Duration,
    /// Lever webhook deliveries whose `triggeredAt` is older than this (plus the clock skew)
    /// are refused as stale.
    pub lever_webhook_max_age: Duration,
    /// How far Lever's clock may be from this host's, either way.
    pub lever_webhook_clock_skew: Duration,
    /// `GET /metrics` on the main listener answers only `Authorization: Bearer <token>`;
    /// without a token it is not served there (serve [`observability::metrics_app`] on a
    /// private address instead).
    pub metrics_token: Option<secrecy::SecretString>,
    /// The host's address as Lever and admins' browsers reach it (`https://fulcrum.example`):
    /// the OAuth callback and host-managed Lever webhooks point there. Without it, OAuth
    /// connect and managed webhooks are refused with a message saying so.
    pub public_url: Option<url::Url>,
    /// How often host-managed Lever webhooks are checked against Lever (missing ones are
    /// created again) and expired OAuth states forgotten.
    pub managed_webhook_check_interval: Duration,
    /// How long a plugin may take to answer a synchronous vendor query (the vendor waits
    /// on the line); capped by the runtime's own wall-clock limit.
    pub vendor_query_wall_clock: Duration,
}

impl Default for HostConfig {
    fn default() -> Self {
        HostConfig {
            node_id: workers::default_node_id(),
            workers: 8,
            max_running_per_installation: 4,
            lease: Duration::from_secs(60),
            poll_interval: Duration::from_millis(500),
            scheduler_tick: Duration::from_secs(1),
            retry: RetryPolicy::default(),
            max_ingress_body: 1024 * 1024,
            components_dir: PathBuf::from("fulcrum-data/components"),
            retention: RetentionConfig::default(),
            http: HttpLimits::default(),
            max_ingress_header_bytes: 16 * 1024,
            credential_headers: ingress::DEFAULT_CREDENTIAL_HEADERS
                .iter()
                .map(|h| (*h).to_owned())
                .collect(),
            vendor_replay_window: Duration::from_secs(3600),
            lever_webhook_max_age: Duration::from_secs(300),
            lever_webhook_clock_skew: Duration::from_secs(60),
            metrics_token: None,
            public_url: None,
            managed_webhook_check_interval: Duration::from_secs(600),
            vendor_query_wall_clock: Duration::from_secs(5),
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
    /// One managed-webhook sync per installation at a time.
    pub(crate) webhook_sync: managed_webhooks::SyncLocks,
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
        self.config.lease.max(workers::MIN_LEASE)
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
        let tenancy = tenancy::Tenancy::new(store.clone(), lever, vendor_http, &config.node_id);
        Host {
            inner: Arc::new(HostInner {
                store,
                runtime,
                tenancy,
                config,
                wake: Notify::new(),
                webhook_sync: Default::default(),
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

    /// Wakes a worker for an event stored by other means than [`Host::enqueue`].
    pub(crate) fn wake_workers(&self) {
        self.inner.wake.notify_one();
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
        Ok(Some((id, workers::run_claimed(&self.inner, event).await?)))
    }

    /// Fires the schedules due at `now` (unix ms); returns how many this call fired.
    pub async fn fire_due_schedules(&self, now: i64) -> Result<usize, StoreError> {
        scheduler::fire_due(&self.inner, now).await
    }

    /// Deletes the rows older than `config.retention` allows at `now` (unix ms), as the
    /// background retention pass does; returns (and counts in metrics) what it deleted.
    pub async fn run_retention(&self, now: i64) -> Result<fulcrum_store::Purged, StoreError> {
        retention::run(&self.inner, now, None).await
    }

    /// Starts the background work: `workers` event workers, the lease reaper, the
    /// scheduler, the pruning of expired replay guards and retention. First returns this node's leftover claims whose lease ran out
    /// (from a crash of a run with the same node id) to the queue.
    pub async fn spawn(&self, shutdown: CancellationToken) -> Result<JoinSet<()>, StoreError> {
        let node = &self.inner.config.node_id;
        let released = self.inner.store.release_claims(&format!("{node}:")).await?;
        if released > 0 {
            tracing::warn!(events = released, node = %node, "requeued expired events this node id held when it stopped");
        }
        let mut tasks = JoinSet::new();
        for n in 0..self.inner.config.workers.max(1) {
            let worker_id = format!("{node}:{n}");
            tasks.spawn(workers::worker_loop(
                self.inner.clone(),
                worker_id,
                shutdown.clone(),
            ));
        }
        tasks.spawn(workers::reaper_loop(self.inner.clone(), shutdown.clone()));
        tasks.spawn(scheduler::scheduler_loop(
            self.inner.clone(),
            shutdown.clone(),
        ));
        tasks.spawn(ingress::replay_guard_pruning_loop(
            self.inner.clone(),
            shutdown.clone(),
        ));
        tasks.spawn(retention::retention_loop(
            self.inner.clone(),
            shutdown.clone(),
        ));
        tasks.spawn(managed_webhooks::check_loop(
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
        .merge(vendor_query::router())
        .merge(lever_webhooks::router())
        .merge(oauth_callback::router())
        .merge(admin::router())
        .route("/metrics", get(observability::metrics_with_token))
        .fallback(|| async { no_such_route() })
        .with_state(host)
}

pub(crate) fn no_such_route() -> ApiError {
    ApiError::not_found("no such route; see the README for the host's routes")
}

/// Serves [`app`] on `listener` with the host's [`HttpLimits`] until `shutdown` completes,
/// then lets open connections finish (bounded by the limits' grace period).
pub async fn serve(
    listener: tokio::net::TcpListener,
    host: Host,
    shutdown: impl std::future::Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let limits = host.config().http.clone();
    server::serve(listener, app(host), limits, shutdown).await
}

/// `GET /readyz`: one `SELECT 1` (no table is read), so probes stay cheap.
async fn readyz(
    axum::extract::State(host): axum::extract::State<Host>,
) -> Result<&'static str, ApiError> {
    host.inner
        .store
        .ping()
        .await
        .map_err(|e| ApiError::unavailable("the database is not reachable", e))?;
    Ok("ready")
}
