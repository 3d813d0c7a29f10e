//! Shared set-up: a runtime with small limits, the fixture components, a real Lever sandbox
//! and a real local vendor server (axum on 127.0.0.1:0).

use axum::Router;
use axum::extract::State;
use axum::http::{StatusCode, Uri, header};
use axum::response::IntoResponse;
use axum::routing::get;
use fulcrum_runtime::*;
use lever_client::{ClientConfig, Credential, LeverClient};
use lever_sandbox::{KeySpec, Sandbox, SandboxConfig, SeedSpec};
use parking_lot::Mutex;
use serde_json::Value;
use std::net::SocketAddr;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Semaphore;

pub const CPU_BUDGET: Duration = Duration::from_millis(250);
pub const WALL_CLOCK: Duration = Duration::from_secs(5);

/// Precompiled components persist across runs here, so only the first run compiles.
pub fn cache_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("component-cache")
}

/// A fresh, empty directory (cache tests).
pub fn fresh_dir(name: &str) -> PathBuf {
    let dir =
        PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join(format!("{name}-{}", uuid::Uuid::new_v4()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    dir
}

/// Test limits: small budgets so hostile fixtures are stopped quickly; small pools because
/// every test has its own engine.
pub fn config() -> RuntimeConfig {
    let mut c = RuntimeConfig {
        cache_dir: cache_dir(),
        ..RuntimeConfig::default()
    };
    c.limits.cpu_budget = CPU_BUDGET;
    c.limits.wall_clock_timeout = WALL_CLOCK;
    c.limits.vendor_request_timeout = Duration::from_secs(4);
    c.pool.total_component_instances = 16;
    c.pool.total_core_instances = 160;
    c.pool.total_memories = 32;
    c.pool.total_tables = 64;
    c.pool.total_stacks = 16;
    c.pool.max_unused_warm_slots = 4;
    c
}

pub fn runtime_with(tweak: impl FnOnce(&mut RuntimeConfig)) -> Runtime {
    let mut c = config();
    tweak(&mut c);
    Runtime::new(c).expect("runtime starts")
}

pub fn runtime() -> Runtime {
    runtime_with(|_| {})
}

pub fn read(path: &str) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("read {path}: {e}"))
}

pub async fn install(rt: &Runtime, path: &str) -> Arc<PluginVersion> {
    rt.install(read(path))
        .await
        .unwrap_or_else(|e| panic!("install {path}: {e}"))
}

/// State and audit of one test (shared by all its invocations unless a test splits them).
#[derive(Clone, Default)]
pub struct Env {
    pub state: Arc<MemoryStateStore>,
    pub audit: Arc<MemoryAuditLog>,
}

impl Env {
    pub fn new() -> Self {
        Self::default()
    }

    /// Tenant "t1", installation "i1", every requested permission approved, the secret
    /// "api-token" set.
    pub fn ctx(&self, plugin: &PluginVersion) -> InvocationContext {
        self.ctx_for("t1", "i1", plugin)
    }

    pub fn ctx_for(
        &self,
        tenant: &str,
        installation: &str,
        plugin: &PluginVersion,
    ) -> InvocationContext {
        InvocationContext::new(
            tenant,
            installation,
            plugin.id(),
            self.state.clone(),
            self.audit.clone(),
        )
        .with_event_id(format!("evt-{}", uuid::Uuid::new_v4()))
        .with_grants(Grants::new(
            plugin.requested_permissions(),
            lever_model::Permission::ALL,
        ))
        .with_secrets(Secrets::new().with("api-token", "s3cret"))
    }

    pub fn denied(&self) -> Vec<AuditRecord> {
        self.audit.denied()
    }
}

/// `run-action` that must not fail as an invocation; returns the plugin's own result.
pub async fn action(
    rt: &Runtime,
    plugin: &Arc<PluginVersion>,
    ctx: InvocationContext,
    name: &str,
    input: Value,
) -> Result<String, PluginError> {
    try_action(rt, plugin, ctx, name, input)
        .await
        .unwrap_or_else(|e| panic!("action {name} failed as an invocation: {e}"))
}

pub async fn try_action(
    rt: &Runtime,
    plugin: &Arc<PluginVersion>,
    ctx: InvocationContext,
    name: &str,
    input: Value,
) -> Result<Result<String, PluginError>, InvocationError> {
    let output = rt
        .invoke(plugin, ctx, Call::action("req-1", name, input.to_string()))
        .await?;
    Ok(output
        .into_action_result()
        .expect("run-action returns an action result"))
}

pub fn json(text: &str) -> Value {
    serde_json::from_str(text).unwrap_or_else(|e| panic!("not JSON ({e}): {text}"))
}

/// After a failure, the same plugin still works: a fresh store per invocation.
pub async fn assert_still_works(rt: &Runtime, plugin: &Arc<PluginVersion>, env: &Env) {
    let output = rt
        .invoke(plugin, env.ctx(plugin), Call::Describe)
        .await
        .expect("describe works after a failed invocation");
    match output {
        CallOutput::Manifest(m) => assert_eq!(m.id, plugin.id()),
        other => panic!("unexpected {other:?}"),
    }
    let output = rt
        .invoke(plugin, env.ctx(plugin), Call::ValidateConfig("{}".into()))
        .await
        .expect("validate-config works after a failed invocation");
    assert_eq!(output, CallOutput::ConfigChecked(Ok(())));
}

/// A real HTTP vendor on 127.0.0.1:0:
/// `/ping` → 200 "pong" (held while the gate is closed), `/slow` → answers after 30 s,
/// `/redirect` → 302 to https://evil.example/steal, `/redirect-local` → 302 to `/ping`.
pub struct VendorServer {
    pub addr: SocketAddr,
    hits: Arc<Mutex<Vec<String>>>,
    gate: Arc<Semaphore>,
}

#[derive(Clone)]
struct VendorState {
    hits: Arc<Mutex<Vec<String>>>,
    gate: Option<Arc<Semaphore>>,
}

impl VendorServer {
    pub async fn start() -> Self {
        Self::start_gated(false).await
    }

    /// `/ping` waits for [`VendorServer::open_gate`].
    pub async fn start_gated(gated: bool) -> Self {
        let hits = Arc::new(Mutex::new(Vec::new()));
        let gate = Arc::new(Semaphore::new(0));
        let state = VendorState {
            hits: hits.clone(),
            gate: gated.then(|| gate.clone()),
        };
        let app = Router::new()
            .route("/ping", get(ping))
            .route("/slow", get(slow))
            .route(
                "/redirect",
                get(|| async {
                    (
                        StatusCode::FOUND,
                        [(header::LOCATION, "https://evil.example/steal")],
                    )
                }),
            )
            .route(
                "/redirect-local",
                get(|| async { (StatusCode::FOUND, [(header::LOCATION, "/ping")]) }),
            )
            .fallback(|| async { StatusCode::NOT_FOUND })
            .layer(axum::middleware::from_fn_with_state(state.clone(), record))
            .with_state(state);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
            .await
            .expect("bind");
        let addr = listener.local_addr().expect("addr");
        tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        VendorServer { addr, hits, gate }
    }

    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    pub fn hits(&self) -> Vec<String> {
        self.hits.lock().clone()
    }

    pub fn open_gate(&self) {
        self.gate.add_permits(1_000);
    }

    /// Operator policy: the declared origin points here; loopback allowed.
    pub fn policy(&self) -> VendorHttpPolicy {
        VendorHttpPolicy::default()
            .with_alias("https://vendor.example", self.origin())
            .allowing_private_networks(true)
    }
}

async fn record(
    State(state): State<VendorState>,
    uri: Uri,
    request: axum::extract::Request,
    next: axum::middleware::Next,
) -> axum::response::Response {
    state.hits.lock().push(uri.path().to_owned());
    next.run(request).await
}

async fn ping(State(state): State<VendorState>) -> impl IntoResponse {
    if let Some(gate) = state.gate {
        let _permit = gate.acquire().await;
    }
    "pong"
}

async fn slow() -> impl IntoResponse {
    tokio::time::sleep(Duration::from_secs(30)).await;
    "too late"
}

/// A real Lever (the sandbox) with vocabulary only, and the host's access to it.
pub struct Lever {
    pub sandbox: Sandbox,
    pub access: LeverAccess,
}

impl Lever {
    pub async fn start() -> Self {
        let sandbox = Sandbox::start(
            SandboxConfig {
                seed: SeedSpec::vocabulary_only(1),
                rate_limit: false,
                ..Default::default()
            },
            "127.0.0.1:0".parse().expect("addr"),
        )
        .await
        .expect("sandbox starts");
        let key = sandbox.issue_api_key(KeySpec::all("fulcrum-runtime tests"));
        let mut config = ClientConfig::new(&sandbox.api_url()).expect("sandbox URL");
        config.max_retries = 1;
        config.min_backoff = Duration::from_millis(10);
        config.max_backoff = Duration::from_millis(50);
        let client = LeverClient::new(config, Credential::api_key(key)).expect("client");
        let access = LeverAccess::new(client, sandbox.default_user_id());
        Lever { sandbox, access }
    }

    pub fn opportunities(&self) -> usize {
        self.sandbox.read(|db| db.opportunities().count())
    }
}
