//! `fulcrum serve`: the host service — ingress, event workers, scheduler — on SQLite (default)
//! or PostgreSQL (`DATABASE_URL=postgres://...`).

use anyhow::{Context, bail};
use clap::Args;
use fulcrum_runtime::{Runtime, RuntimeConfig, VendorHttpPolicy};
use fulcrum_service::{Host, HostConfig, LeverDefaults, RetryPolicy};
use fulcrum_store::{MasterKey, Store};
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
    /// This process's name among hosts sharing the database (events it held before a crash
    /// are requeued when it starts again).
    #[arg(long, default_value = "node-1", env = "FULCRUM_NODE_ID")]
    pub node_id: String,
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
        std::fs::create_dir_all(&self.data_dir)?;
        use secrecy::ExposeSecret;
        std::fs::write(&path, key.to_base64().expose_secret())
            .with_context(|| format!("could not write {}", path.display()))?;
        tracing::warn!(path = %path.display(), "demo mode: using a generated master key kept next to the data; never do this in production");
        Ok(key)
    }

    /// Creates the data dir and opens (and migrates) the store with `key`.
    pub async fn open_with(&self, key: MasterKey) -> anyhow::Result<Store> {
        std::fs::create_dir_all(&self.data_dir).with_context(|| {
            format!("could not create the data dir {}", self.data_dir.display())
        })?;
        Store::connect(&self.database_url(), key)
            .await
            .context("could not open the database; check DATABASE_URL and that the server is up")
    }

    /// Opens the store as `serve` does: master key first, then the database.
    pub async fn open(&self) -> anyhow::Result<Store> {
        let key = self.master_key()?;
        self.open_with(key).await
    }
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
    let store = args.store.open().await?;
    tracing::info!(backend = store.backend_name(), "store ready");

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
    let config = HostConfig {
        node_id: args.node_id.clone(),
        workers: args.workers,
        max_running_per_installation: args.max_running_per_plugin,
        retry: RetryPolicy {
            base: Duration::from_millis(args.retry_base_ms),
            ..RetryPolicy::default()
        },
        components_dir: args.store.components_dir(),
        ..HostConfig::default()
    };
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
    let shutdown = CancellationToken::new();
    let mut tasks = host.spawn(shutdown.clone()).await?;
    // One stable line for scripts and tests to find the port.
    println!(
        "fulcrum listening on http://{addr} ({} plugin versions loaded from the store)",
        loaded
    );
    let app = fulcrum_service::app(host);
    let stop = shutdown.clone();
    axum::serve(listener, app)
        .with_graceful_shutdown(async move {
            let _ = tokio::signal::ctrl_c().await;
            tracing::info!("shutting down: finishing the events in hand");
            stop.cancel();
        })
        .await
        .context("the HTTP server failed")?;
    shutdown.cancel();
    while tasks.join_next().await.is_some() {}
    Ok(())
}
