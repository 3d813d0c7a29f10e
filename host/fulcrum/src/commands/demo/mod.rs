//! `fulcrum demo`: the README's main job. Starts the Lever sandbox and the host on embedded
//! SQLite, creates a demo tenant connected to the sandbox, then runs one [`Scenario`] per
//! connector: install the component, approve its permissions, set its config and secrets,
//! send the vendor's events through the real HTTP ingress, wait for the workers, and print
//! what changed in Lever. Then it keeps serving until Ctrl-C (or exits with `--once`).
//!
//! Each connector contributes its scenario as a module of this directory, named like its
//! artifact (`remote_tech_work.rs` for the `remote_tech_work` component) with a
//! `pub fn scenario() -> Arc<dyn Scenario>`; [`connector_scenarios`] collects them through
//! `fulcrum_plugin_artifacts::foreach_connector!`, so a connector without a scenario fails to
//! compile. Until the first connector exists, the demo runs the host's smoke scenario on the
//! `well_behaved` test fixture and says so.
//!
//! Vendors are unreachable here, as Lever is: a scenario that names its connector's vendor
//! origin gets a `VendorDouble` on loopback standing in for it (the runtime aliases the origin
//! to it), answering as the scenario scripts and recording what the connector sent.

mod relode;
mod remote_tech_work;
mod smoke;

use crate::commands::plugin::install_bytes;
use crate::commands::serve::StoreArgs;
use anyhow::{Context, bail};
use fulcrum_runtime::{
    AllocatorChoice, Call, CallOutput, InvocationContext, MemoryAuditLog, MemoryStateStore,
    PluginVersion, Runtime, RuntimeConfig, VendorHttpPolicy,
};
use fulcrum_service::{Host, HostConfig, LeverDefaults, RetryPolicy};
use fulcrum_store::{CredentialKind, EventFilter, EventStatus, Installation, LeverSettings};
use lever_sandbox::{KeySpec, Sandbox, SandboxConfig, SeedSpec};
use secrecy::SecretString;
use serde_json::{Value, json};
use std::collections::HashMap;
use std::future::Future;
use std::io::Write as _;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use vendor_double::{Recorded, Reply, VendorDouble};

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

/// What a scenario works with: the running sandbox and host, and an HTTP client.
pub struct Demo {
    pub sandbox: Sandbox,
    pub host: Host,
    pub http: reqwest::Client,
    /// `http://ADDR` of the host.
    pub host_url: String,
    /// Unique per run, for idempotency keys: a kept `--data-dir` remembers the keys of earlier
    /// runs, and this run's events must not be deduped against them.
    pub run_id: String,
    /// The stand-in vendor of each scenario that names a vendor origin, by artifact name.
    pub vendors: HashMap<&'static str, VendorDouble>,
}

/// A vendor request the host answered.
pub struct Delivery {
    pub status: u16,
    pub body: Value,
}

impl Demo {
    /// The stand-in vendor of the scenario of `artifact` (see [`Scenario::vendor_origin`]).
    pub fn vendor(&self, artifact: &str) -> anyhow::Result<&VendorDouble> {
        self.vendors
            .get(artifact)
            .with_context(|| format!("the {artifact} scenario names no vendor origin"))
    }

    /// `POST /ingress/demo/{plugin}/{path}` with a JSON body and the given headers.
    pub async fn post_vendor_event(
        &self,
        plugin_id: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &Value,
    ) -> anyhow::Result<Delivery> {
        let url = format!("{}/ingress/{TENANT}/{plugin_id}/{path}", self.host_url);
        let mut request = self
            .http
            .post(&url)
            .header("content-type", "application/json")
            .body(body.to_string());
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request
            .send()
            .await
            .with_context(|| format!("the host did not answer POST {url}"))?;
        let status = response.status().as_u16();
        let body = response.json().await.unwrap_or(Value::Null);
        Ok(Delivery { status, body })
    }
}

/// One connector's part of the demo.
#[async_trait::async_trait]
pub trait Scenario: Send + Sync {
    /// The component's name in `fulcrum_plugin_artifacts::ALL` (e.g. `"remote_tech_work"`).
    fn artifact(&self) -> &'static str;
    /// One line saying what the scenario shows.
    fn title(&self) -> String;
    /// The installation's config (checked by the plugin's `validate-config` before use).
    fn config(&self, _demo: &Demo) -> Value {
        json!({})
    }
    /// Vendor secrets the tenant's admin sets (name, value).
    fn secrets(&self) -> Vec<(&'static str, String)>;
    /// The vendor origin the connector declares (e.g. `"https://api.vendor.example"`): the
    /// demo points it at a [`VendorDouble`] on loopback that answers with [`Scenario::vendor_reply`].
    fn vendor_origin(&self) -> Option<&'static str> {
        None
    }
    /// How the stand-in vendor answers one of the connector's requests.
    fn vendor_reply(&self, _request: &Recorded) -> Reply {
        Reply::json(200, json!({"ok": true}))
    }
    /// Per-schedule overrides, e.g. `{"tick": {"enabled": false}}`.
    fn schedule_overrides(&self) -> Value {
        json!({})
    }
    /// Sends the vendor's events through the host's ingress, printing a step per request.
    async fn send(&self, demo: &Demo, plugin: &PluginVersion) -> anyhow::Result<()>;
    /// Events this scenario expects to end as dead letters (to show the failure path).
    fn expected_dead_letters(&self) -> i64 {
        0
    }
    /// A command a person can paste to send one more event while the demo keeps serving.
    fn try_it(&self, _demo: &Demo, _plugin: &PluginVersion) -> Option<String> {
        None
    }
}

/// Every connector's scenario, in the artifacts' order.
fn connector_scenarios() -> Vec<Arc<dyn Scenario>> {
    let mut scenarios: Vec<Arc<dyn Scenario>> = Vec::new();
    // A connector without a module of the same name here fails to compile: its scenario
    // is part of delivering it.
    macro_rules! scenario_of {
        ($name:ident) => {
            scenarios.push(self::$name::scenario());
        };
    }
    fulcrum_plugin_artifacts::foreach_connector!(scenario_of);
    scenarios
}

/// Switches on a connector's posting-sync schedule (a newly enabled schedule runs at once)
/// and waits until its stand-in vendor got a `PUT` under `jobs_path` for each of the demo
/// company's public postings, at most `per_run` (what one run sends). Prints the first few
/// with `describe`.
pub async fn sync_jobs_to_vendor(
    demo: &Demo,
    plugin: &PluginVersion,
    artifact: &str,
    vendor_name: &str,
    schedule: &str,
    jobs_path: &str,
    per_run: usize,
    describe: impl Fn(&Value) -> String,
) -> anyhow::Result<Vec<Recorded>> {
    let vendor = demo.vendor(artifact)?;
    let jobs = step(
        "switching on the posting sync (every 5 minutes, first run now)",
        async {
            demo.host
                .store()
                .set_schedule_overrides(
                    TENANT,
                    plugin.id(),
                    &json!({ schedule: {"every_seconds": 300} }),
                )
                .await?;
            demo.host.sync_schedules(TENANT, plugin.id()).await?;
            let public = demo.sandbox.read(|db| {
                db.postings()
                    .filter(|p| {
                        p.state == lever_model::PostingState::Published
                            && p.confidentiality == lever_model::Confidentiality::NonConfidential
                            && p.distribution_channels.as_ref().is_some_and(|c| {
                                c.contains(&lever_model::DistributionChannel::Public)
                            })
                    })
                    .count()
            });
            if public == 0 {
                bail!("the demo company has no public posting to send");
            }
            Ok(vendor
                .wait_for(
                    |r| r.method == "PUT" && r.path.starts_with(jobs_path),
                    public.min(per_run),
                    Duration::from_secs(60),
                )
                .await)
        },
        |puts| format!("{vendor_name} received {} pending job(s)", puts.len()),
    )
    .await?;
    for put in jobs.iter().take(3) {
        println!(
            "  {vendor_name} ← PUT {}: {}",
            put.path,
            describe(&put.json())
        );
    }
    if jobs.len() > 3 {
        println!("  … and {} more", jobs.len() - 3);
    }
    Ok(jobs)
}

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

pub async fn run(args: DemoArgs) -> anyhow::Result<()> {
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

    let store_args = StoreArgs {
        data_dir: data_dir.clone(),
        database_url: None,
        demo: true,
    };
    let store = step(
        format!(
            "opening the store (embedded SQLite in {})",
            data_dir.display()
        ),
        store_args.open(),
        |s| format!("{}, migrated", s.backend_name()),
    )
    .await?;

    // A temp data dir would compile the components again on every run: use the runtime's
    // shared cache then (content-addressed, so safe to share).
    let cache_dir = match &temp_dir {
        Some(_) => RuntimeConfig::default().cache_dir,
        None => store_args.component_cache_dir(),
    };
    let mut scenarios = connector_scenarios();
    if scenarios.is_empty() {
        println!(
            "no connectors yet: running the host's smoke scenario (the well_behaved test \
             fixture stands in for a vendor connector)"
        );
        scenarios.push(smoke::scenario());
    }
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

    let host_config = HostConfig {
        node_id: "demo".into(),
        workers: 4,
        poll_interval: Duration::from_millis(100),
        retry: RetryPolicy {
            base: Duration::from_millis(500),
            ..RetryPolicy::default()
        },
        components_dir: store_args.components_dir(),
        ..HostConfig::default()
    };
    let lever = LeverDefaults {
        client: lever_client::ClientConfig::new(&sandbox.api_url())
            .context("the sandbox's URL is not a valid Lever URL")?,
        acting_user_id: Some(sandbox.default_user_id()),
    };
    let host = Host::new(store.clone(), runtime, lever, None, host_config);
    let shutdown = CancellationToken::new();
    let (host_url, mut tasks) = step(
        "starting the host (ingress, workers, scheduler)",
        start_host(&host, args.listen, shutdown.clone()),
        |(url, _)| url.clone(),
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
    let outcome = run_scenarios(&demo, &scenarios).await;
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

/// Binds the host's address, starts its workers and serves its routes until `shutdown`.
async fn start_host(
    host: &Host,
    listen: SocketAddr,
    shutdown: CancellationToken,
) -> anyhow::Result<(String, JoinSet<()>)> {
    host.load_recorded_plugins()
        .await
        .context("could not load the plugins recorded in the demo's data dir")?;
    let listener = tokio::net::TcpListener::bind(listen)
        .await
        .with_context(|| {
            format!("could not listen on {listen}; is the port free? Try --listen 127.0.0.1:0")
        })?;
    let addr = listener.local_addr()?;
    let mut tasks = host
        .spawn(shutdown.clone())
        .await
        .context("could not start the event workers")?;
    let app = fulcrum_service::app(host.clone());
    tasks.spawn(async move {
        let served = axum::serve(listener, app)
            .with_graceful_shutdown(async move { shutdown.cancelled().await })
            .await;
        if let Err(error) = served {
            tracing::error!(%error, "the demo host's HTTP server failed");
        }
    });
    Ok((format!("http://{addr}"), tasks))
}

/// Creates the demo tenant and runs every scenario; returns the "try it" lines.
async fn run_scenarios(
    demo: &Demo,
    scenarios: &[Arc<dyn Scenario>],
) -> anyhow::Result<Vec<String>> {
    step(
        format!("creating the demo tenant {TENANT:?} with its own sandbox API key"),
        create_tenant(demo),
        |_| format!("Lever at {}", demo.sandbox.api_url()),
    )
    .await?;

    // A kept --data-dir holds earlier runs' events: report this run's only.
    let earlier = demo
        .host
        .store()
        .count_events(Some(TENANT))
        .await
        .context("could not count the demo's events")?;
    let mut tries = Vec::new();
    for scenario in scenarios {
        println!();
        println!("== {}", scenario.title());
        let plugin = run_scenario(demo, scenario.as_ref()).await?;
        tries.extend(scenario.try_it(demo, &plugin));
    }
    let counts = demo
        .host
        .store()
        .count_events(Some(TENANT))
        .await
        .context("could not count the demo's events")?;
    println!();
    println!(
        "demo done: {} event(s) handled, {} dead letter(s), {} Lever request(s) served by the sandbox",
        counts.done - earlier.done,
        counts.dead - earlier.dead,
        demo.sandbox.stats().total_requests()
    );
    Ok(tries)
}

/// The tenant, connected to the sandbox (a kept data dir may have it from an earlier run: the
/// sandbox is new each run, so its key and URL are set again).
async fn create_tenant(demo: &Demo) -> anyhow::Result<()> {
    let store = demo.host.store();
    let key = demo
        .sandbox
        .issue_api_key(KeySpec::all("fulcrum demo tenant"));
    if store.get_tenant(TENANT).await?.is_none() {
        store.create_tenant(TENANT, "Demo Company").await?;
    }
    store
        .set_lever_settings(
            TENANT,
            &LeverSettings {
                base_url: Some(demo.sandbox.api_url()),
                acting_user_id: Some(demo.sandbox.default_user_id()),
            },
        )
        .await?;
    store
        .set_lever_credential(TENANT, CredentialKind::ApiKey, &SecretString::from(key))
        .await?;
    Ok(())
}

/// Install, approve, configure, send, wait, report.
async fn run_scenario(demo: &Demo, scenario: &dyn Scenario) -> anyhow::Result<Arc<PluginVersion>> {
    let store = demo.host.store();
    let name = scenario.artifact();
    let path = fulcrum_plugin_artifacts::ALL
        .iter()
        .find(|(artifact, _)| *artifact == name)
        .map(|(_, path)| *path)
        .with_context(|| {
            format!("no component named {name:?} was built; add it to plugins/artifacts/build.rs")
        })?;
    let plugin = step(
        format!("installing the {name} component"),
        async {
            let bytes = std::fs::read(path).with_context(|| {
                format!("the {name} component built at {path} is gone; run `cargo build -p fulcrum` to build it again")
            })?;
            install_bytes(&demo.host, bytes, name).await
        },
        |p| format!("{} {}", p.id(), p.version()),
    )
    .await?;
    let plugin_id = plugin.id().to_owned();

    let config = scenario.config(demo);
    step(
        format!("checking its config {config}"),
        validate_config(demo, &plugin, &config),
        |_| "validate-config accepts it".into(),
    )
    .await?;

    let requested: Vec<&str> = plugin
        .requested_permissions()
        .iter()
        .map(|p| p.as_str())
        .collect();
    step(
        format!(
            "enabling it for {TENANT:?}, approving the {} Lever permissions it requests ({})",
            requested.len(),
            requested.join(", ")
        ),
        async {
            store
                .upsert_installation(&Installation {
                    tenant_id: TENANT.into(),
                    plugin_id: plugin_id.clone(),
                    enabled: true,
                    approved_permissions: json!(requested),
                    config: config.clone(),
                    schedule_overrides: scenario.schedule_overrides(),
                    updated_at: 0,
                })
                .await?;
            demo.host.sync_schedules(TENANT, &plugin_id).await?;
            Ok(())
        },
        |_| String::new(),
    )
    .await?;

    let secrets = scenario.secrets();
    if !secrets.is_empty() {
        let names: Vec<&str> = secrets.iter().map(|(name, _)| *name).collect();
        step(
            format!("setting its vendor secrets ({})", names.join(", ")),
            async {
                for (name, value) in &secrets {
                    store
                        .set_secret(TENANT, &plugin_id, name, &SecretString::from(value.clone()))
                        .await?;
                }
                Ok(())
            },
            |_| "stored encrypted".into(),
        )
        .await?;
    }

    let before = LeverSnapshot::take(&demo.sandbox);
    let started = demo.host.store().count_events(Some(TENANT)).await?;
    scenario.send(demo, &plugin).await?;
    let counts = step(
        "waiting for the workers to run the events",
        settle(demo, Duration::from_secs(60)),
        |c| {
            format!(
                "{} done, {} dead letter(s)",
                c.done - started.done,
                c.dead - started.dead
            )
        },
    )
    .await?;
    let dead = counts.dead - started.dead;
    if dead > 0 {
        print_dead_letters(demo, &plugin_id).await?;
    }
    if dead != scenario.expected_dead_letters() {
        bail!(
            "{dead} event(s) of {plugin_id} ended as dead letters, {} expected; their errors are above",
            scenario.expected_dead_letters()
        );
    }

    println!("What happened in Lever:");
    let lines = before.changes(&demo.sandbox);
    if lines.is_empty() {
        println!("  nothing changed");
    }
    for line in lines {
        println!("  {line}");
    }
    Ok(plugin)
}

/// The plugin's own `validate-config`, as the admin API runs it before saving a config.
async fn validate_config(
    demo: &Demo,
    plugin: &Arc<PluginVersion>,
    config: &Value,
) -> anyhow::Result<()> {
    let ctx = InvocationContext::new(
        TENANT,
        "demo",
        plugin.id(),
        Arc::new(MemoryStateStore::new()),
        Arc::new(MemoryAuditLog::new()),
    );
    let output = demo
        .host
        .runtime()
        .invoke(plugin, ctx, Call::ValidateConfig(config.to_string()))
        .await
        .context("validate-config did not run")?;
    match output {
        CallOutput::ConfigChecked(Ok(())) => Ok(()),
        CallOutput::ConfigChecked(Err(problems)) => {
            let problems: Vec<String> = problems
                .iter()
                .map(|p| format!("{}: {}", p.pointer, p.message))
                .collect();
            bail!(
                "the plugin rejects the demo's config ({}); fix the scenario's config()",
                problems.join("; ")
            )
        }
        _ => bail!("validate-config answered with something else than a config check"),
    }
}

/// Waits until none of the demo tenant's events is queued or running.
async fn settle(demo: &Demo, limit: Duration) -> anyhow::Result<fulcrum_store::EventCounts> {
    let started = Instant::now();
    loop {
        let counts = demo.host.store().count_events(Some(TENANT)).await?;
        if counts.queued == 0 && counts.running == 0 {
            return Ok(counts);
        }
        if started.elapsed() > limit {
            bail!(
                "events still unfinished after {limit:?} ({} queued, {} running); the host's \
                 logs on stderr say why (RUST_LOG=info for more)",
                counts.queued,
                counts.running
            );
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

async fn print_dead_letters(demo: &Demo, plugin_id: &str) -> anyhow::Result<()> {
    let dead = demo
        .host
        .store()
        .list_events(&EventFilter {
            tenant_id: Some(TENANT.into()),
            plugin_id: Some(plugin_id.into()),
            status: Some(EventStatus::Dead),
            ..EventFilter::default()
        })
        .await?;
    for event in dead {
        println!(
            "  dead letter {} after {} attempt(s): {}",
            event.id,
            event.attempts,
            event.last_error.as_deref().unwrap_or("no error recorded")
        );
    }
    Ok(())
}

/// What the demo shows of one opportunity, to tell what a scenario changed.
#[derive(Debug, Clone, PartialEq)]
struct OpportunityView {
    name: String,
    stage: String,
    archived: bool,
    tags: Vec<String>,
    notes: Vec<(String, String)>,
    files: Vec<(String, String)>,
}

/// The sandbox's opportunities before a scenario, to print what it changed.
struct LeverSnapshot {
    /// In Lever's order (created at, id), so new opportunities print in creation order.
    opportunities: Vec<(String, OpportunityView)>,
}

impl LeverSnapshot {
    fn take(sandbox: &Sandbox) -> Self {
        let opportunities = sandbox.read(|db| {
            db.opportunities()
                .map(|o| {
                    let stage = o
                        .stage
                        .as_ref()
                        .map(|s| {
                            db.stage(s.id())
                                .map(|stage| stage.text.clone())
                                .unwrap_or_else(|| s.id().to_owned())
                        })
                        .unwrap_or_else(|| "no stage".into());
                    let view = OpportunityView {
                        name: o.name.clone().unwrap_or_else(|| "(no name)".into()),
                        stage,
                        archived: o.archived.is_some(),
                        tags: o.tags.clone(),
                        notes: db
                            .notes(&o.id)
                            .iter()
                            .map(|n| (n.id.clone(), n.value().to_owned()))
                            .collect(),
                        files: db
                            .files(&o.id)
                            .iter()
                            .map(|f| (f.id.clone(), f.name.clone()))
                            .collect(),
                    };
                    (o.id.clone(), view)
                })
                .collect()
        });
        LeverSnapshot { opportunities }
    }

    /// One line per created or changed opportunity, then one per new note and file.
    fn changes(&self, sandbox: &Sandbox) -> Vec<String> {
        let now = LeverSnapshot::take(sandbox);
        let earlier: HashMap<&str, &OpportunityView> = self
            .opportunities
            .iter()
            .map(|(id, view)| (id.as_str(), view))
            .collect();
        let details = |id: &str| {
            sandbox.read(|db| {
                db.opportunity(id).map(|o| {
                    let postings: Vec<String> = db
                        .applications(id)
                        .iter()
                        .filter_map(|a| a.posting.as_deref())
                        .map(|p| {
                            db.posting(p)
                                .map(|posting| format!("{:?}", posting.text))
                                .unwrap_or_else(|| p.to_owned())
                        })
                        .collect();
                    (o.emails.join(", "), o.sources.join(", "), postings)
                })
            })
        };
        let mut lines = Vec::new();
        for (id, after) in &now.opportunities {
            let before = earlier.get(id.as_str()).copied();
            if before == Some(after) {
                continue;
            }
            let (emails, sources, postings) = details(id).unwrap_or_default();
            match before {
                None => {
                    let mut line = format!(
                        "new opportunity {id}: {} <{emails}>, stage {:?}",
                        after.name, after.stage
                    );
                    if !sources.is_empty() {
                        line.push_str(&format!(", source {sources}"));
                    }
                    if !postings.is_empty() {
                        line.push_str(&format!(", applied to {}", postings.join(", ")));
                    }
                    if !after.tags.is_empty() {
                        line.push_str(&format!(", tags {}", after.tags.join(", ")));
                    }
                    lines.push(line);
                }
                Some(before) => {
                    let mut changed = Vec::new();
                    if before.stage != after.stage {
                        changed.push(format!("stage {:?} → {:?}", before.stage, after.stage));
                    }
                    if before.archived != after.archived {
                        changed.push(
                            if after.archived {
                                "archived"
                            } else {
                                "unarchived"
                            }
                            .into(),
                        );
                    }
                    let added: Vec<&String> = after
                        .tags
                        .iter()
                        .filter(|t| !before.tags.contains(t))
                        .collect();
                    let removed: Vec<&String> = before
                        .tags
                        .iter()
                        .filter(|t| !after.tags.contains(t))
                        .collect();
                    if !added.is_empty() || !removed.is_empty() {
                        let mut tags: Vec<String> = added.iter().map(|t| format!("+{t}")).collect();
                        tags.extend(removed.iter().map(|t| format!("-{t}")));
                        changed.push(format!("tags {}", tags.join(" ")));
                    }
                    let what = if changed.is_empty() {
                        String::new()
                    } else {
                        format!(": {}", changed.join(", "))
                    };
                    lines.push(format!("opportunity {id} ({}){what}", after.name));
                }
            }
            let old_notes = before.map(|b| b.notes.as_slice()).unwrap_or_default();
            for (note_id, text) in after.notes.iter().filter(|n| !old_notes.contains(n)) {
                lines.push(format!("    note {note_id}: {text:?}"));
            }
            let old_files = before.map(|b| b.files.as_slice()).unwrap_or_default();
            for (file_id, name) in after.files.iter().filter(|f| !old_files.contains(f)) {
                lines.push(format!("    file {file_id}: {name}"));
            }
        }
        lines
    }
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
        "  host:   {} (GET /healthz, /metrics; POST /ingress/{TENANT}/PLUGIN/...)",
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

#[cfg(test)]
mod tests {
    use super::*;
    use lever_client::{ClientConfig, Credential, LeverClient, NewNote};

    /// What a connector's scenario reports for an opportunity it changed rather than created.
    #[tokio::test]
    async fn reports_stage_tag_and_note_changes_of_an_existing_opportunity() {
        let sandbox = Sandbox::start(
            SandboxConfig {
                seed: SeedSpec::new(5, 2, 3),
                rate_limit: false,
                ..SandboxConfig::default()
            },
            "127.0.0.1:0".parse().unwrap(),
        )
        .await
        .unwrap();
        let (id, name, next_stage) = sandbox.read(|db| {
            let o = db.opportunities().find(|o| o.archived.is_none()).unwrap();
            let current = o.stage.as_ref().map(|s| s.id().to_owned());
            let next = db
                .stages()
                .find(|s| Some(&s.id) != current.as_ref())
                .unwrap();
            (o.id.clone(), o.name.clone().unwrap(), next.clone())
        });
        let before = LeverSnapshot::take(&sandbox);
        assert!(before.changes(&sandbox).is_empty(), "nothing changed yet");

        let lever = LeverClient::new(
            ClientConfig::new(&sandbox.api_url()).unwrap(),
            Credential::api_key(sandbox.demo_api_key()),
        )
        .unwrap();
        let user = sandbox.default_user_id();
        lever
            .update_stage(&id, &next_stage.id, Some(&user))
            .await
            .unwrap();
        lever
            .add_tags(&id, &["demo:shortlisted".to_owned()], Some(&user))
            .await
            .unwrap();
        let note = NewNote {
            value: "Shortlisted by the vendor".into(),
            ..NewNote::default()
        };
        lever.create_note(&id, &note, Some(&user)).await.unwrap();

        let lines = before.changes(&sandbox);
        assert_eq!(lines.len(), 2, "{lines:#?}");
        assert!(
            lines[0].starts_with(&format!("opportunity {id} ({name}): stage "))
                && lines[0].contains(&format!("→ {:?}", next_stage.text))
                && lines[0].ends_with("tags +demo:shortlisted"),
            "{lines:#?}"
        );
        assert!(
            lines[1].starts_with("    note ")
                && lines[1].ends_with("\"Shortlisted by the vendor\""),
            "{lines:#?}"
        );
        sandbox.shutdown().await;
    }
}
