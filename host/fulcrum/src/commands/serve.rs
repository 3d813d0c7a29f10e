//! `fulcrum serve`: the host service — ingress, event workers, scheduler — on SQLite (default)
//! or PostgreSQL (`DATABASE_URL=postgres://...`).

use anyhow::{Context, bail};
use clap::Args;
use fulcrum_runtime::{Runtime, RuntimeConfig, VendorHttpPolicy};
use fulcrum_service::{Host, HostConfig, LeverDefaults, RetentionConfig, RetryPolicy};
use fulcrum_store::{MasterKey, Store, StoreOptions};
use lever_client::ClientConfig;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

#[derive(Debug, Args)]
pub struct ServeArgs {
    #[command(flatten)]
    pub store: StoreArgs,
    #[arg(long, default_value = "127.0.0.1:8080", env = "FULCRUM_LISTEN")]
    pub listen: SocketAddr,
    /// Lever's API base URL (the local sandbox's, in development).
    #[arg(long, default_value = lever_client::PRODUCTION_BASE_URL, env = "LEVER_BASE_URL")]
    pub lever_url: String,
    /// This host's address as Lever and admins' browsers reach it, e.g.
    /// `https://fulcrum.example`: Lever's OAuth callback (`/oauth/lever/callback`) and
    /// managed webhooks point there. Without it, OAuth connect is refused.
    #[arg(long, env = "FULCRUM_PUBLIC_URL", value_parser = parse_public_url)]
    pub public_url: Option<url::Url>,
    /// Lever user writes are attributed to (`perform_as`) for tenants that set none.
    #[arg(long, env = "LEVER_ACTING_USER_ID")]
    pub acting_user: Option<String>,
    /// Event workers in this process.
    #[arg(long, default_value_t = 8)]
    pub workers: usize,
    /// At most this many events of one tenant's plugin run at once, so one plugin's backlog
    /// cannot hold every worker.
    #[arg(long, default_value_t = 4)]
    pub max_running_per_plugin: usize,
    /// This process's name among hosts sharing the database; give each process its own.
    /// Default: `<hostname>-<random>`, new on every start. With a fixed id, a restarted node
    /// requeues at once the events its previous run held whose lease has run out.
    #[arg(long, env = "FULCRUM_NODE_ID")]
    pub node_id: Option<String>,
    /// Install these plugin components at start (in addition to the ones recorded before).
    #[arg(long = "plugin")]
    pub plugins: Vec<PathBuf>,
    /// Let plugins reach vendor hosts on loopback and private networks (development only).
    #[arg(long)]
    pub allow_private_vendor_hosts: bool,
    /// Map a declared vendor origin to another one: `https://vendor.example=http://127.0.0.1:9000`.
    #[arg(long = "vendor-alias", value_parser = parse_alias)]
    pub vendor_aliases: Vec<(String, String)>,
    /// Delay after an event's first failure (doubles per further failure).
    #[arg(long, default_value = "2000")]
    pub retry_base_ms: u64,
    /// How long a claimed event stays reserved for its worker without a heartbeat (workers
    /// renew it every third of this while they run). After a crash, the events the dead
    /// process held run again once their lease has run out.
    #[arg(long, default_value_t = 60, value_parser = clap::value_parser!(u64).range(1..=3600))]
    pub lease_secs: u64,
    #[command(flatten)]
    pub retention: RetentionArgs,
    #[command(flatten)]
    pub http: Box<HttpArgs>,
}

/// The HTTP edge: timeouts, limits, replay windows, credential headers, metrics access.
#[derive(Debug, Clone, Args)]
pub struct HttpArgs {
    /// Serve `GET /metrics` without a token on this separate address (keep it private to the
    /// monitoring system), e.g. 127.0.0.1:9090.
    #[arg(long, env = "FULCRUM_METRICS_LISTEN")]
    pub metrics_listen: Option<SocketAddr>,
    /// Serve `GET /metrics` on the main address too, to `Authorization: Bearer <this token>`
    /// only. Without it (and without --metrics-listen) metrics are not served.
    #[arg(long, env = "FULCRUM_METRICS_TOKEN", hide_env_values = true)]
    pub metrics_token: Option<String>,
    /// A request's headers must arrive within this many seconds; also how long an idle
    /// kept-alive connection stays open.
    #[arg(long, default_value_t = 15)]
    pub header_timeout_secs: u64,
    /// Longest pause, in seconds, while a request body is arriving (then 408, connection
    /// closed).
    #[arg(long, default_value_t = 15)]
    pub body_timeout_secs: u64,
    /// Most connections open at once; further clients wait until one closes.
    #[arg(long, default_value_t = 1024)]
    pub max_connections: usize,
    /// Most bytes of headers a vendor request may carry (they are stored with its event).
    #[arg(long, default_value_t = 16 * 1024)]
    pub max_ingress_header_bytes: usize,
    /// Another vendor request header that carries a credential (sealed like `authorization`,
    /// `proxy-authorization`, `cookie` and `x-api-key`, which always are). Repeatable.
    #[arg(long = "credential-header")]
    pub credential_headers: Vec<String>,
    /// How long, in seconds, a vendor request with the same body as one already accepted is
    /// a duplicate whatever its Idempotency-Key (at least the plugins' signature tolerance).
    #[arg(long, default_value_t = 3600)]
    pub vendor_replay_window_secs: u64,
    /// Lever webhook deliveries older than this many seconds are refused as stale.
    #[arg(long, default_value_t = 300)]
    pub lever_webhook_max_age_secs: u64,
    /// How far, in seconds, Lever's clock may be from this host's.
    #[arg(long, default_value_t = 60)]
    pub lever_webhook_clock_skew_secs: u64,
}

impl HttpArgs {
    /// Sets the HTTP edge's settings in `config`.
    pub fn apply(&self, config: &mut HostConfig) -> anyhow::Result<()> {
        if self.max_connections == 0 {
            bail!("--max-connections must be at least 1");
        }
        if self.header_timeout_secs == 0 || self.body_timeout_secs == 0 {
            bail!("--header-timeout-secs and --body-timeout-secs must be at least 1");
        }
        if self
            .metrics_token
            .as_deref()
            .is_some_and(|t| t.trim().len() < 16)
        {
            bail!("--metrics-token must be at least 16 characters");
        }
        config.http.header_timeout = Duration::from_secs(self.header_timeout_secs);
        config.http.body_timeout = Duration::from_secs(self.body_timeout_secs);
        config.http.max_connections = self.max_connections;
        config.max_ingress_header_bytes = self.max_ingress_header_bytes;
        for name in &self.credential_headers {
            let name = name.trim().to_ascii_lowercase();
            if !name.is_empty() && !config.credential_headers.contains(&name) {
                config.credential_headers.push(name);
            }
        }
        config.vendor_replay_window = Duration::from_secs(self.vendor_replay_window_secs);
        config.lever_webhook_max_age = Duration::from_secs(self.lever_webhook_max_age_secs);
        config.lever_webhook_clock_skew = Duration::from_secs(self.lever_webhook_clock_skew_secs);
        config.metrics_token = self
            .metrics_token
            .as_deref()
            .map(|t| secrecy::SecretString::from(t.trim().to_owned()));
        Ok(())
    }
}

/// How long the host keeps finished work (`0` keeps it forever).
#[derive(Debug, Clone, Args)]
pub struct RetentionArgs {
    /// Delete done events (and their effect journal) older than this many days. Also how
    /// long a redelivered vendor event is recognised by its idempotency key.
    #[arg(long, default_value_t = 30, env = "FULCRUM_RETAIN_EVENTS_DAYS")]
    pub retain_events_days: u32,
    /// Delete the effect journal (journaled Lever answers: candidate data) of done events
    /// older than this many days.
    #[arg(long, default_value_t = 7, env = "FULCRUM_RETAIN_JOURNAL_DAYS")]
    pub retain_journal_days: u32,
    /// Delete audit log entries older than this many days.
    #[arg(long, default_value_t = 365, env = "FULCRUM_RETAIN_AUDIT_DAYS")]
    pub retain_audit_days: u32,
    /// How often to look for rows to delete, in minutes.
    #[arg(long, default_value_t = 60)]
    pub retention_every_minutes: u32,
}

impl RetentionArgs {
    pub fn config(&self) -> anyhow::Result<RetentionConfig> {
        if self.retention_every_minutes == 0 {
            bail!("--retention-every-minutes must be at least 1");
        }
        let days = |n: u32| (n > 0).then(|| Duration::from_secs(u64::from(n) * 24 * 60 * 60));
        Ok(RetentionConfig {
            events: days(self.retain_events_days),
            journal: days(self.retain_journal_days),
            audit: days(self.retain_audit_days),
            every: Duration::from_secs(u64::from(self.retention_every_minutes) * 60),
            ..RetentionConfig::default()
        })
    }
}

/// Where the host's data lives and how to unlock it: shared by `serve`, `migrate`, `plugin`
/// and `tenant`, so every command opens the same store the same way.
#[derive(Debug, Clone, Args)]
pub struct StoreArgs {
    /// Where the host keeps its data: the SQLite database (unless DATABASE_URL says
    /// otherwise), uploaded components and the compiled-component cache.
    #[arg(long, default_value = "fulcrum-data", env = "FULCRUM_DATA_DIR")]
    pub data_dir: PathBuf,
    /// `sqlite://PATH?mode=rwc` or `postgres://USER@HOST/DB`; default: SQLite in the data dir.
    #[arg(long, env = "DATABASE_URL", hide_env_values = true)]
    pub database_url: Option<String>,
    /// Demo mode: no master key needed (a generated one is kept in the data dir).
    #[arg(long)]
    pub demo: bool,
}

impl StoreArgs {
    /// DATABASE_URL, else the SQLite file in the data dir.
    pub fn database_url(&self) -> String {
        self.database_url.clone().unwrap_or_else(|| {
            format!(
                "sqlite://{}?mode=rwc",
                self.data_dir.join("fulcrum.db").display()
            )
        })
    }

    /// Uploaded components, content-addressed (what `load_recorded_plugins` reads).
    pub fn components_dir(&self) -> PathBuf {
        self.data_dir.join("components")
    }

    /// Precompiled components, so a restart does not compile them again.
    pub fn component_cache_dir(&self) -> PathBuf {
        self.data_dir.join("component-cache")
    }

    /// The master key: FULCRUM_MASTER_KEY / FULCRUM_MASTER_KEY_FILE; in demo mode, a key file
    /// in the data dir (created on first use).
    pub fn master_key(&self) -> anyhow::Result<MasterKey> {
        match MasterKey::from_env() {
            Ok(key) => return Ok(key),
            Err(e) if !self.demo => {
                return Err(e).context(
                    "the host needs a master key to encrypt Lever credentials and vendor secrets: \
                     run `fulcrum keygen`, store the key in your secret manager, and set \
                     FULCRUM_MASTER_KEY (or FULCRUM_MASTER_KEY_FILE); `--demo` runs without one",
                );
            }
            Err(_) => {}
        }
        let path = self.data_dir.join("demo-master.key");
        if let Ok(text) = std::fs::read_to_string(&path) {
            return MasterKey::from_base64(text.trim(), "the demo key file")
                .context("demo key file");
        }
        let key = MasterKey::generate();
        self.create_data_dir()?;
        use secrecy::ExposeSecret;
        write_owner_only(&path, key.to_base64().expose_secret().as_bytes())
            .with_context(|| format!("could not write {}", path.display()))?;
        tracing::warn!(path = %path.display(), "demo mode: using a generated master key kept next to the data; never do this in production");
        Ok(key)
    }

    /// Creates the data dir (owner-only, 0700, on unix: it holds the database and the
    /// components) if it is missing.
    pub fn create_data_dir(&self) -> anyhow::Result<()> {
        let mut dir = std::fs::DirBuilder::new();
        dir.recursive(true);
        #[cfg(unix)]
        std::os::unix::fs::DirBuilderExt::mode(&mut dir, 0o700);
        dir.create(&self.data_dir)
            .with_context(|| format!("could not create the data dir {}", self.data_dir.display()))
    }

    /// Creates the data dir and opens (and migrates) the store with `key`, and with the
    /// previous master key while one is set (FULCRUM_PREVIOUS_MASTER_KEY[_FILE]: rotating).
    pub async fn open_with(&self, key: MasterKey) -> anyhow::Result<Store> {
        self.create_data_dir()?;
        let previous_key = MasterKey::previous_from_env()?;
        let options = StoreOptions {
            previous_key,
            ..StoreOptions::default()
        };
        Store::connect_with(&self.database_url(), key, options)
            .await
            .context("could not open the database; check DATABASE_URL and that the server is up")
    }

    /// Opens the store as `serve` does: master key first, then the database.
    pub async fn open(&self) -> anyhow::Result<Store> {
        let key = self.master_key()?;
        self.open_with(key).await
    }
}

/// Writes a new file readable by its owner only (0600 on unix).
fn write_owner_only(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut open = std::fs::OpenOptions::new();
    open.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut open, 0o600);
    open.open(path)?.write_all(bytes)
}

/// An absolute http(s) URL without query or fragment (paths are appended to it).
fn parse_public_url(s: &str) -> Result<url::Url, String> {
    let url =
        url::Url::parse(s).map_err(|e| format!("{e}; expected e.g. https://fulcrum.example"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host().is_none() {
        return Err("expected an absolute http(s) URL, e.g. https://fulcrum.example".into());
    }
    if url.query().is_some() || url.fragment().is_some() || url.cannot_be_a_base() {
        return Err(
            "the public URL takes no query or fragment, e.g. https://fulcrum.example".into(),
        );
    }
    Ok(url)
}

fn parse_alias(s: &str) -> Result<(String, String), String> {
    let (declared, actual) = s
        .split_once('=')
        .ok_or_else(|| format!("expected DECLARED=ACTUAL, got {s:?}"))?;
    Ok((declared.to_owned(), actual.to_owned()))
}

pub async fn run(args: ServeArgs) -> anyhow::Result<()> {
    if args.workers == 0 {
        bail!("--workers must be at least 1");
    }
    if args.max_running_per_plugin == 0 {
        bail!("--max-running-per-plugin must be at least 1");
    }
    let retention = args.retention.config()?;
    // Listening from the start: a stop asked for while starting up is honoured once serving.
    let stop_signal = shutdown_signal();
    let store = args.store.open().await?;
    tracing::info!(backend = store.backend_name(), "store ready");
    if store.keyring().previous_version().is_some() {
        // Rotating: reads open rows of either key meanwhile.
        tokio::spawn(crate::commands::keys::reencrypt_in_background(
            store.clone(),
        ));
    }

    let mut vendor_http =
        VendorHttpPolicy::default().allowing_private_networks(args.allow_private_vendor_hosts);
    for (declared, actual) in &args.vendor_aliases {
        vendor_http = vendor_http.with_alias(declared.clone(), actual.clone());
    }
    let runtime = Runtime::new(RuntimeConfig {
        cache_dir: args.store.component_cache_dir(),
        vendor_http,
        ..RuntimeConfig::default()
    })
    .context("could not start the plugin runtime")?;

    let lever = LeverDefaults {
        client: ClientConfig::new(&args.lever_url)
            .with_context(|| format!("bad --lever-url {:?}", args.lever_url))?,
        acting_user_id: args.acting_user.clone(),
    };
    let mut config = HostConfig {
        workers: args.workers,
        max_running_per_installation: args.max_running_per_plugin,
        retry: RetryPolicy {
            base: Duration::from_millis(args.retry_base_ms),
            ..RetryPolicy::default()
        },
        lease: Duration::from_secs(args.lease_secs),
        components_dir: args.store.components_dir(),
        retention,
        ..HostConfig::default()
    };
    config.public_url.clone_from(&args.public_url);
    if let Some(node_id) = &args.node_id {
        config.node_id.clone_from(node_id);
    }
    args.http.apply(&mut config)?;
    fulcrum_service::observability::install_recorder();
    let host = Host::new(store, runtime, lever, None, config);
    let loaded = host.load_recorded_plugins().await?;
    for path in &args.plugins {
        let bytes = std::fs::read(path)
            .with_context(|| format!("could not read the plugin component {}", path.display()))?;
        let plugin = host
            .install_plugin(bytes)
            .await
            .with_context(|| format!("could not install {}", path.display()))?;
        tracing::info!(plugin = plugin.id(), version = %plugin.version(), "plugin installed");
    }
    host.sync_all_schedules()
        .await
        .context("could not load schedules")?;

    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| format!("could not listen on {}; is the port free?", args.listen))?;
    let addr = listener.local_addr()?;
    let metrics_listener = match args.http.metrics_listen {
        Some(at) => Some(tokio::net::TcpListener::bind(at).await.with_context(|| {
            format!("could not listen on {at} (--metrics-listen); is the port free?")
        })?),
        None => None,
    };
    let shutdown = CancellationToken::new();
    let mut tasks = host.spawn(shutdown.clone()).await?;
    if let Some(metrics_listener) = metrics_listener {
        let limits = host.config().http.clone();
        let stop = shutdown.clone();
        tracing::info!(addr = %metrics_listener.local_addr()?, "serving /metrics without a token");
        tasks.spawn(async move {
            let served = fulcrum_service::server::serve(
                metrics_listener,
                fulcrum_service::observability::metrics_app(),
                limits,
                stop.cancelled_owned(),
            )
            .await;
            if let Err(error) = served {
                tracing::error!(%error, "the metrics listener failed");
            }
        });
    }
    // One stable line for scripts and tests to find the port.
    println!(
        "fulcrum listening on http://{addr} ({} plugin versions loaded from the store)",
        loaded
    );
    let stop = shutdown.clone();
    fulcrum_service::serve(listener, host, async move {
        let signal = stop_signal.await;
        tracing::info!(signal, "shutting down: finishing the events in hand");
        stop.cancel();
    })
    .await
    .context("the HTTP server failed")?;
    shutdown.cancel();
    while tasks.join_next().await.is_some() {}
    tracing::info!("stopped");
    Ok(())
}

/// Resolves on Ctrl-C (SIGINT) or SIGTERM (what service managers and container runtimes send
/// to stop a process), naming which. The handlers are installed when this is called, not
/// when the future is first polled, so a signal in between is not lost (or fatal).
#[cfg(unix)]
fn shutdown_signal() -> impl Future<Output = &'static str> + Send + 'static {
    use tokio::signal::unix::{SignalKind, signal};
    let interrupt = signal(SignalKind::interrupt());
    let terminate = signal(SignalKind::terminate());
    async move {
        match (interrupt, terminate) {
            (Ok(mut interrupt), Ok(mut terminate)) => tokio::select! {
                _ = interrupt.recv() => "SIGINT",
                _ = terminate.recv() => "SIGTERM",
            },
            (interrupt, terminate) => {
                let error = interrupt.err().or(terminate.err());
                tracing::warn!(
                    ?error,
                    "cannot install the SIGINT/SIGTERM handlers; only Ctrl-C stops the host gracefully"
                );
                let _ = tokio::signal::ctrl_c().await;
                "SIGINT"
            }
        }
    }
}

/// Resolves on Ctrl-C.
#[cfg(not(unix))]
fn shutdown_signal() -> impl Future<Output = &'static str> + Send + 'static {
    async {
        let _ = tokio::signal::ctrl_c().await;
        "Ctrl-C"
    }
}
