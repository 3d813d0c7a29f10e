//! `fulcrum demo`, the README's main job, as a library the `fulcrum` binary links only with its
//! `demo` feature (on by default for the quick start; a production build leaves it out with
//! `--no-default-features`). Starts the Lever sandbox and the host on embedded SQLite, creates
//! a demo tenant connected to the sandbox, then runs one [`Scenario`] per connector: install
//! the component (embedded in the binary by `fulcrum-connectors`), approve its permissions, set
//! its config and secrets, send the vendor's events through the real HTTP ingress, wait for the
//! workers, and print what changed in Lever. Then it keeps serving until Ctrl-C (or exits with
//! `--once`).
//!
//! Each connector contributes its scenario as a module of this crate, named like its artifact
//! (`remote_tech_work.rs` for the `remote_tech_work` component) with a
//! `pub fn scenario() -> Arc<dyn Scenario>`; `scenario::connector_scenarios` collects them
//! through `fulcrum_connectors::foreach_connector!`, so a connector without a scenario fails
//! to compile.
//!
//! Vendors are unreachable here, as Lever is: a scenario that names its connector's vendor
//! origin gets a `VendorDouble` on loopback standing in for it (the runtime aliases the origin
//! to it), answering as the scenario scripts and recording what the connector sent.

mod connect;
mod flow;
mod relode;
mod remote_tech_work;
mod scenario;
mod snapshot;

pub use scenario::{Delivery, Demo, Scenario, sync_jobs_to_vendor};

use anyhow::Context;
use fulcrum_runtime::{AllocatorChoice, Runtime, RuntimeConfig, VendorHttpPolicy};
use fulcrum_service::{Host, HostConfig, LeverDefaults, RetryPolicy};
use fulcrum_store::Store;
use lever_sandbox::{Sandbox, SandboxConfig, SeedSpec};
use std::collections::HashMap;
use std::future::Future;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use vendor_double::VendorDouble;

#[derive(Debug, clap::Args)]
pub struct DemoArgs {
    /// Run the scenarios, print what happened in Lever, and exit (for scripts and tests).
    #[arg(long)]
    pub once: bool,
    /// Where the host listens (vendor ingress, health, metrics).
    #[arg(long, default_value = "127.0.0.1:8080")]
    pub listen: SocketAddr,
    /// Where the Lever sandbox listens.
    #[arg(long, default_value = "127.0.0.1:4010")]
    pub sandbox_listen: SocketAddr,
    /// Keep the demo's data (SQLite database, components, generated master key) here; by
    /// default a fresh temp dir, removed on exit.
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
}

/// The demo tenant's id (it appears in ingress URLs).
pub const TENANT: &str = "demo";

/// Prints `label… `, runs `work`, then `ok (detail)` or `failed`, on one line.
pub async fn step<T>(
    label: impl std::fmt::Display,
    work: impl Future<Output = anyhow::Result<T>>,
    detail: impl FnOnce(&T) -> String,
) -> anyhow::Result<T> {
    print!("{label}… ");
    let _ = std::io::stdout().flush();
    match work.await {
        Ok(value) => {
            let detail = detail(&value);
            if detail.is_empty() {
                println!("ok");
            } else {
                println!("ok ({detail})");
            }
            Ok(value)
        }
        Err(e) => {
            println!("failed");
            Err(e)
        }
    }
}

/// How the demo opens the store in its data dir. The `fulcrum` binary implements it with the
/// same store settings as its other commands (demo mode: a generated master key kept in the
/// data dir), so the demo's data dir can later be served with `fulcrum serve --demo`.
#[async_trait::async_trait]
pub trait DemoStorage: Send + Sync {
    /// Opens (and migrates) the store kept in `data_dir`.
    async fn open(&self, data_dir: &Path) -> anyhow::Result<Store>;
    /// Where uploaded components are kept in `data_dir`.
    fn components_dir(&self, data_dir: &Path) -> PathBuf;
    /// Where precompiled components are cached in `data_dir`.
    fn component_cache_dir(&self, data_dir: &Path) -> PathBuf;
}

/// Runs the demo; see the crate docs.
pub async fn run(args: DemoArgs, storage: &dyn DemoStorage) -> anyhow::Result<()> {
    let (data_dir, temp_dir) = match &args.data_dir {
        Some(dir) => (dir.clone(), None),
        None => {
            let temp = tempfile::Builder::new()
                .prefix("fulcrum-demo-")
                .tempdir()
                .context("could not create a temp dir for the demo's data; pass --data-dir DIR")?;
            (temp.path().to_owned(), Some(temp))
        }
    };
    println!(
        "Fulcrum demo: the Lever sandbox and the host on embedded SQLite, a demo tenant, its connectors and their vendors' events."
    );

    let sandbox = step(
        "starting the Lever sandbox",
        async {
            Sandbox::start(
                SandboxConfig {
                    seed: SeedSpec::demo(),
                    ..SandboxConfig::default()
                },
                args.sandbox_listen,
            )
            .await
            .with_context(|| {
                format!(
                    "could not start the Lever sandbox on {}; is the port free? Try --sandbox-listen 127.0.0.1:0",
                    args.sandbox_listen
                )
            })
        },
        |s| {
            let (postings, opportunities) =
                s.read(|db| (db.postings().count(), db.opportunities().count()));
            format!("{}, {postings} postings, {opportunities} opportunities", s.api_url())
        },
    )
    .await?;

    let store = step(
        format!(
            "opening the store (embedded SQLite in {})",
            data_dir.display()
        ),
        storage.open(&data_dir),
        |s| format!("{}, migrated", s.backend_name()),
    )
    .await?;

    // A temp data dir would compile the components again on every run: use the runtime's
    // shared cache then (content-addressed, so safe to share).
    let cache_dir = match &temp_dir {
        Some(_) => RuntimeConfig::default().cache_dir,
        None => storage.component_cache_dir(&data_dir),
    };
    let scenarios = scenario::connector_scenarios();
    let (vendors, vendor_http) = step(
        "starting stand-in vendors on loopback",
        start_vendors(&scenarios),
        |(vendors, _)| {
            let mut names: Vec<&str> = vendors.keys().copied().collect();
            names.sort();
            format!("{} ({})", vendors.len(), names.join(", "))
        },
    )
    .await?;
    let runtime = step(
        "starting the plugin runtime",
        async {
            Runtime::new(RuntimeConfig {
                cache_dir,
                allocator: AllocatorChoice::Auto,
                vendor_http,
                ..RuntimeConfig::default()
            })
            .context("could not start the plugin runtime")
        },
        |r| format!("{:?} allocator", r.allocator()).to_lowercase(),
    )
    .await?;

    // Bound first: Lever's OAuth callback and webhooks point at the host's address.
    let listener = tokio::net::TcpListener::bind(args.listen)
        .await
        .with_context(|| {
            format!(
                "could not listen on {}; is the port free? Try --listen 127.0.0.1:0",
                args.listen
            )
        })?;
    let host_url = format!("http://{}", listener.local_addr()?);
    let host_config = HostConfig {
        public_url: Some(host_url.parse().context("the host's own URL")?),
        node_id: "demo".into(),
        workers: 4,
        poll_interval: Duration::from_millis(100),
        retry: RetryPolicy {
            base: Duration::from_millis(500),
            ..RetryPolicy::default()
        },
        components_dir: storage.components_dir(&data_dir),
        ..HostConfig::default()
    };
    let lever = LeverDefaults {
        client: lever_client::ClientConfig::new(&sandbox.api_url())
            .context("the sandbox's URL is not a valid Lever URL")?,
        acting_user_id: Some(sandbox.default_user_id()),
    };
    let host = Host::new(store.clone(), runtime, lever, None, host_config);
    let shutdown = CancellationToken::new();
    let mut tasks = step(
        "starting the host (ingress, workers, scheduler)",
        start_host(&host, listener, shutdown.clone()),
        |_| host_url.clone(),
    )
    .await?;

    let demo = Demo {
        sandbox,
        host,
        http: reqwest::Client::new(),
        host_url,
        run_id: format!("{:x}", fulcrum_store::now_ms()),
        vendors,
    };
    let outcome = flow::run_scenarios(&demo, &scenarios).await;
    let outcome = match outcome {
        Ok(tries) if !args.once => {
            serve_until_ctrl_c(&demo, &data_dir, temp_dir.is_some(), &tries).await
        }
        other => other.map(drop),
    };

    shutdown.cancel();
    while tasks.join_next().await.is_some() {}
    store.close().await;
    demo.sandbox.shutdown().await;
    drop(temp_dir);
    outcome
}

/// A [`VendorDouble`] per scenario that names a vendor origin, answering as the scenario
/// scripts, and the runtime policy that points each origin at its double.
async fn start_vendors(
    scenarios: &[Arc<dyn Scenario>],
) -> anyhow::Result<(HashMap<&'static str, VendorDouble>, VendorHttpPolicy)> {
    let mut vendors = HashMap::new();
    // The doubles listen on loopback, which the runtime refuses unless allowed.
    let mut policy = VendorHttpPolicy::default().allowing_private_networks(true);
    for scenario in scenarios {
        let Some(origin) = scenario.vendor_origin() else {
            continue;
        };
        let double = VendorDouble::start()
            .await
            .context("could not start a stand-in vendor on 127.0.0.1")?;
        let replies = scenario.clone();
        double.respond_with(move |request| replies.vendor_reply(request));
        policy = policy.with_alias(origin, double.origin());
        vendors.insert(scenario.artifact(), double);
    }
    Ok((vendors, policy))
}

/// Starts the host's workers and serves its routes on `listener` until `shutdown`.
async fn start_host(
    host: &Host,
    listener: tokio::net::TcpListener,
    shutdown: CancellationToken,
) -> anyhow::Result<JoinSet<()>> {
    host.load_recorded_plugins()
        .await
        .context("could not load the plugins recorded in the demo's data dir")?;
    let mut tasks = host
        .spawn(shutdown.clone())
        .await
        .context("could not start the event workers")?;
    let host = host.clone();
    tasks.spawn(async move {
        let served = fulcrum_service::serve(listener, host, shutdown.cancelled_owned()).await;
        if let Err(error) = served {
            tracing::error!(%error, "the demo host's HTTP server failed");
        }
    });
    Ok(tasks)
}

/// After the scenarios: keep both servers up for a person to try things, until Ctrl-C.
async fn serve_until_ctrl_c(
    demo: &Demo,
    data_dir: &std::path::Path,
    temporary: bool,
    tries: &[String],
) -> anyhow::Result<()> {
    println!();
    println!("Serving until Ctrl-C:");
    println!(
        "  host:   {} (GET /healthz; POST /ingress/{TENANT}/PLUGIN/...)",
        demo.host_url
    );
    println!(
        "  Lever:  {} (sandbox; its demo key with every permission: {})",
        demo.sandbox.api_url(),
        demo.sandbox.demo_api_key()
    );
    println!(
        "  data:   {}{}",
        data_dir.display(),
        if temporary {
            " (removed on exit; keep it with --data-dir)"
        } else {
            ""
        }
    );
    println!("Try it while it runs:");
    for line in tries {
        println!("  {line}");
    }
    println!(
        "  curl -s -u {}: '{}/opportunities?limit=5&expand=stage'   # what Lever has now",
        demo.sandbox.demo_api_key(),
        demo.sandbox.api_url()
    );
    tokio::signal::ctrl_c()
        .await
        .context("could not listen for Ctrl-C")?;
    println!("shutting down: finishing the events in hand");
    Ok(())
}
