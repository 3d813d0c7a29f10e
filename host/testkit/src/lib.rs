//! A running host for one test: a fresh database (SQLite file or PostgreSQL database), the
//! real Lever sandbox over HTTP, the real `well_behaved` component, workers, scheduler, and the
//! HTTP app on 127.0.0.1:0. Admin API requests go through [`World::admin`] /
//! [`World::admin_raw`], whose answers [`World::stop`] checks against the served OpenAPI
//! document (`admin_api`).

mod admin_api;
mod lever_connections;

pub use admin_api::{AdminExchange, OPENAPI_PATH, openapi_violations};
pub use lever_connections::TEST_OAUTH_APP;

use fulcrum_runtime::{Runtime, RuntimeConfig};
use fulcrum_service::tenants::LeverConnection;
use fulcrum_service::{
    Actor, Host, HostConfig, LeverDefaults, RetryPolicy, installations, tenants,
};
use fulcrum_store::test_support::TestDatabase;
use fulcrum_store::{EventCounts, Store};
use lever_client::ClientConfig;
use lever_sandbox::{KeySpec, Sandbox, SandboxConfig, SeedSpec};
use secrecy::SecretString;
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::path::PathBuf;
use std::time::{Duration, Instant};
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use vendor_double::VendorDouble;

pub const TENANT: &str = "acme";
pub const PLUGIN: &str = "well-behaved";
/// The fixture's vendor secret (it compares `x-fixture-signature` with it).
pub const VENDOR_SECRET: &str = "vendor-s3cret-0f9a7c";

pub fn runtime_config() -> RuntimeConfig {
    let mut c = RuntimeConfig {
        cache_dir: PathBuf::from(env!("FULCRUM_TESTKIT_TMPDIR")).join("component-cache"),
        ..RuntimeConfig::default()
    };
    c.limits.wall_clock_timeout = Duration::from_secs(10);
    c.pool.total_component_instances = 32;
    c.pool.total_core_instances = 320;
    c.pool.total_memories = 64;
    c.pool.total_tables = 128;
    c.pool.total_stacks = 32;
    c.pool.max_unused_warm_slots = 8;
    c
}

pub fn host_config() -> HostConfig {
    HostConfig {
        node_id: format!("test-{:08x}", rand::random::<u32>()),
        workers: 4,
        lease: Duration::from_secs(30),
        poll_interval: Duration::from_millis(50),
        scheduler_tick: Duration::from_millis(100),
        retry: RetryPolicy {
            base: Duration::from_millis(50),
            max: Duration::from_millis(400),
        },
        components_dir: PathBuf::from(env!("FULCRUM_TESTKIT_TMPDIR")).join("service-components"),
        ..HostConfig::default()
    }
}

pub struct World {
    pub sandbox: Sandbox,
    pub host: Host,
    pub store: Store,
    pub api_key: String,
    pub addr: SocketAddr,
    pub http: reqwest::Client,
    shutdown: CancellationToken,
    tasks: JoinSet<()>,
    /// Every admin answer so far, for the OpenAPI check in [`World::stop`].
    admin_exchanges: std::sync::Mutex<Vec<AdminExchange>>,
}

pub struct Options {
    pub sandbox: SandboxConfig,
    /// The runtime's config; connector tests alias vendor hosts to a `VendorDouble` here
    /// (see [`Options::with_vendor`]).
    pub runtime: RuntimeConfig,
    pub host: HostConfig,
    pub lever_client: ClientConfig,
    pub start_workers: bool,
    /// Sets the host's `public_url` to its own test address (for host-managed Lever
    /// webhooks, which the sandbox then delivers to this host).
    pub public_url_is_self: bool,
}

impl Options {
    pub fn new() -> Self {
        Options {
            sandbox: SandboxConfig {
                seed: SeedSpec::new(7, 3, 0),
                rate_limit: false,
                ..SandboxConfig::default()
            },
            runtime: runtime_config(),
            host: host_config(),
            lever_client: ClientConfig::new("http://127.0.0.1:1/v1").unwrap(),
            start_workers: true,
            public_url_is_self: false,
        }
    }
}

impl Default for Options {
    fn default() -> Self {
        Self::new()
    }
}

impl Options {
    /// Points the vendor origin a connector declares (e.g. `https://api.vendor.example`) at a
    /// running [`VendorDouble`], which is on loopback.
    pub fn with_vendor(mut self, declared_origin: &str, vendor: &VendorDouble) -> Self {
        self.runtime.vendor_http = self
            .runtime
            .vendor_http
            .clone()
            .with_alias(declared_origin, vendor.origin())
            .allowing_private_networks(true);
        self
    }
}

impl World {
    pub async fn start(db: &TestDatabase) -> World {
        Self::start_with(db, Options::new()).await
    }

    pub async fn start_with(db: &TestDatabase, mut options: Options) -> World {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        if options.public_url_is_self {
            let url = format!("http://{}/", listener.local_addr().unwrap());
            options.host.public_url = Some(url.parse().unwrap());
        }
        let sandbox = Sandbox::start(options.sandbox, "127.0.0.1:0".parse().unwrap())
            .await
            .expect("sandbox starts");
        let api_key = sandbox.issue_api_key(KeySpec::all("fulcrum-service-tests"));
        let store = db.open().await;
        let runtime = Runtime::new(options.runtime).expect("runtime");
        let mut client = options.lever_client;
        client.base_url = sandbox.api_url().parse().unwrap();
        let host = Host::new(
            store.clone(),
            runtime,
            LeverDefaults {
                client,
                acting_user_id: None,
            },
            None,
            options.host,
        );
        host.install_plugin(read(fulcrum_plugin_artifacts::WELL_BEHAVED))
            .await
            .expect("fixture installs");
        let world = World {
            sandbox,
            host,
            store,
            api_key,
            addr: "127.0.0.1:0".parse().unwrap(),
            http: reqwest::Client::new(),
            shutdown: CancellationToken::new(),
            tasks: JoinSet::new(),
            admin_exchanges: Default::default(),
        };
        world.add_tenant(TENANT).await;
        let mut world = world;
        if options.start_workers {
            world.tasks = world.host.spawn(world.shutdown.clone()).await.unwrap();
        }
        world.addr = listener.local_addr().unwrap();
        let host = world.host.clone();
        let stop = world.shutdown.clone();
        world.tasks.spawn(async move {
            fulcrum_service::serve(listener, host, stop.cancelled_owned())
                .await
                .unwrap();
        });
        world
    }

    /// A tenant connected to the sandbox with the fixture installed, enabled, every requested
    /// permission approved and the vendor secret set, all through the host's admin rules (as
    /// the admin API would, by the [`harness`] actor).
    pub async fn add_tenant(&self, tenant: &str) {
        let store = self.host.store();
        tenants::create(store, &harness(), tenant, &format!("{tenant} Inc."))
            .await
            .unwrap();
        let lever = LeverConnection {
            api_key: Some(SecretString::from(self.api_key.clone())),
            base_url: Some(self.sandbox.api_url()),
            acting_user_id: Some(self.sandbox.default_user_id()),
        };
        tenants::connect_lever(store, &harness(), tenant, &lever)
            .await
            .unwrap();
        self.enable_plugin(tenant, PLUGIN).await;
    }

    /// Adds `plugin` (already installed in the host) to `tenant` through the admin rules:
    /// every requested permission approved, the fixture's vendor secret set if the plugin
    /// declares it, config `{}` (checked by the plugin's schema and `validate-config`), every
    /// declared schedule switched off (tests that want one switch it on), then enabled.
    pub async fn enable_plugin(&self, tenant: &str, plugin_id: &str) {
        let declares_token = self
            .host
            .runtime()
            .active(plugin_id)
            .unwrap()
            .manifest()
            .secrets
            .iter()
            .any(|s| s == "api-token");
        let secrets: &[(&str, &str)] = if declares_token {
            &[("api-token", VENDOR_SECRET)]
        } else {
            &[]
        };
        self.enable_connector(tenant, plugin_id, json!({}), secrets)
            .await;
    }

    pub fn url(&self, path: &str) -> String {
        format!("http://{}{path}", self.addr)
    }

    /// POSTs a vendor event to the ingress, signed as the fixture expects.
    pub async fn post_event(
        &self,
        tenant: &str,
        body: &Value,
        idempotency_key: Option<&str>,
        subject: Option<&str>,
    ) -> (u16, Value) {
        self.post_event_to(PLUGIN, tenant, body, idempotency_key, subject)
            .await
    }

    /// [`World::post_event`] to another plugin's ingress.
    pub async fn post_event_to(
        &self,
        plugin_id: &str,
        tenant: &str,
        body: &Value,
        idempotency_key: Option<&str>,
        subject: Option<&str>,
    ) -> (u16, Value) {
        let mut request = self
            .http
            .post(self.url(&format!("/ingress/{tenant}/{plugin_id}/events")))
            .header("content-type", "application/json")
            .header("x-fixture-signature", VENDOR_SECRET)
            .body(body.to_string());
        if let Some(key) = idempotency_key {
            request = request.header("idempotency-key", key);
        }
        if let Some(subject) = subject {
            request = request.header("fulcrum-subject", subject);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    pub async fn counts(&self) -> EventCounts {
        self.store.count_events(None).await.unwrap()
    }

    /// Waits until no event is queued or running (panics after `limit`).
    pub async fn settle(&self, limit: Duration) -> EventCounts {
        let started = Instant::now();
        loop {
            let counts = self.counts().await;
            if counts.queued == 0 && counts.running == 0 {
                return counts;
            }
            assert!(
                started.elapsed() < limit,
                "events did not settle in {limit:?}: {counts:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Opportunities in the sandbox with this e-mail.
    pub fn opportunities_with_email(&self, email: &str) -> Vec<lever_client::Opportunity> {
        self.sandbox.read(|db| {
            db.opportunities()
                .filter(|o| o.emails.iter().any(|e| e == email))
                .cloned()
                .collect()
        })
    }

    pub fn note_count(&self, opportunity_id: &str) -> usize {
        self.sandbox.read(|db| db.notes(opportunity_id).len())
    }

    /// Stops the host and the sandbox, then fails if an admin answer of this world is one the
    /// served OpenAPI document does not describe.
    pub async fn stop(mut self) {
        let violations = self.admin_response_violations().await;
        self.shutdown.cancel();
        while self.tasks.join_next().await.is_some() {}
        self.sandbox.shutdown().await;
        assert!(
            violations.is_empty(),
            "admin API answers the OpenAPI document does not describe:\n{}",
            violations.join("\n")
        );
    }
}

/// Who the harness's admin changes are by, in the audit log.
pub fn harness() -> Actor {
    Actor::local("test harness")
}

pub fn read(path: &str) -> Vec<u8> {
    std::fs::read(path).unwrap_or_else(|e| panic!("read {path}: {e}"))
}

/// The fixture's "create" vendor event.
pub fn create_event(n: usize, note: bool) -> Value {
    let mut body = json!({
        "op": "create",
        "name": format!("Candidate {n}"),
        "email": format!("candidate-{n}@example.com"),
    });
    if note {
        body["note"] = json!(format!("Applied through the vendor (event {n})"));
    }
    body
}

// ---- Lever webhooks (issue 5) ----

/// Path of a tenant's Lever webhook ingress.
pub fn lever_webhook_path(tenant: &str) -> String {
    format!("/webhooks/lever/{tenant}")
}

/// A Lever delivery of `event` about `opportunity_id`, signed with `signature_token` as Lever
/// signs (HMAC-SHA256 of token + triggeredAt, in the body).
pub fn signed_lever_delivery(
    signature_token: &str,
    event: &str,
    id: Option<&str>,
    opportunity_id: &str,
) -> lever_model::WebhookDelivery {
    let mut delivery = lever_model::WebhookDelivery {
        id: id.map(str::to_owned),
        triggered_at: lever_model::timestamp::now_millis(),
        event: event.to_owned(),
        data: json!({"opportunityId": opportunity_id, "candidateId": opportunity_id,
                     "toStageId": "offer", "fromStageId": "lead-new"})
        .as_object()
        .cloned()
        .unwrap_or_default(),
        signature: None,
        token: format!("{:032x}", rand::random::<u128>()),
    };
    delivery.sign(signature_token);
    delivery
}

impl World {
    /// Subscribes the host's webhook URL for `tenant` to `event` in the sandbox and registers
    /// the webhook's signature token with the host (named by the webhook id). Returns the
    /// webhook id and its token.
    pub async fn subscribe_lever_webhook(
        &self,
        tenant: &str,
        event: lever_model::WebhookEventType,
    ) -> (String, String) {
        let hook = self
            .sandbox
            .register_webhook(event, &self.url(&lever_webhook_path(tenant)));
        let token = hook
            .configuration
            .signature_token
            .clone()
            .expect("sandbox webhooks are signed");
        self.store
            .set_lever_webhook_token(tenant, &hook.id, &SecretString::from(token.clone()))
            .await
            .unwrap();
        (hook.id, token)
    }

    /// POSTs raw bytes to a tenant's Lever webhook ingress.
    pub async fn post_lever_webhook(
        &self,
        tenant: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> (u16, Value) {
        let response = self
            .http
            .post(self.url(&lever_webhook_path(tenant)))
            .header("content-type", content_type)
            .header("user-agent", "Lever-Webhooks")
            .body(body)
            .send()
            .await
            .unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// A plugin state value as text.
    pub async fn state_text(&self, tenant: &str, plugin: &str, key: &str) -> Option<String> {
        self.store
            .state_get(tenant, plugin, key)
            .await
            .unwrap()
            .map(|v| String::from_utf8(v).expect("UTF-8 state"))
    }

    /// Creates an opportunity through the sandbox's Lever API and moves it to another stage
    /// (so Lever emits `candidateStageChange`); returns the opportunity id.
    pub async fn change_some_stage(&self) -> String {
        let client = lever_client::LeverClient::new(
            ClientConfig::new(&self.sandbox.api_url()).unwrap(),
            lever_client::Credential::api_key(&self.api_key),
        )
        .unwrap();
        let user = self.sandbox.default_user_id();
        let created = client
            .create_opportunity(
                &user,
                &lever_model::NewOpportunity {
                    name: Some("Stage Mover".into()),
                    emails: vec!["stage-mover@example.com".into()],
                    ..Default::default()
                },
                lever_client::Attachments::default(),
            )
            .await
            .expect("create opportunity");
        let stage = self.sandbox.read(|db| {
            let current = db
                .opportunity(&created.id)
                .and_then(|o| o.stage_id().map(str::to_owned));
            db.stages()
                .find(|s| Some(s.id.as_str()) != current.as_deref())
                .expect("another stage")
                .id
                .clone()
        });
        client
            .update_stage(&created.id, &stage, Some(&user))
            .await
            .expect("stage change");
        created.id
    }

    /// Waits until the sandbox is done delivering to `webhook_id` (panics after `limit`).
    pub async fn lever_deliveries_to(
        &self,
        webhook_id: &str,
        limit: Duration,
    ) -> Vec<lever_sandbox::DeliveryRecord> {
        let started = Instant::now();
        loop {
            let records: Vec<_> = self
                .sandbox
                .webhook_deliveries()
                .into_iter()
                .filter(|r| r.webhook_id == webhook_id)
                .collect();
            if !records.is_empty() && records.iter().all(|r| r.finished) {
                return records;
            }
            assert!(
                started.elapsed() < limit,
                "the sandbox did not finish delivering in {limit:?}: {records:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Events of one kind, oldest first.
    pub async fn events_of_kind(&self, kind: &str) -> Vec<fulcrum_store::Event> {
        self.store
            .list_events(&fulcrum_store::EventFilter {
                limit: 1000,
                ..Default::default()
            })
            .await
            .unwrap()
            .into_iter()
            .filter(|e| e.kind == kind)
            .collect()
    }
}

// ---- connectors (issues 6+) ----

impl World {
    /// Installs a connector component (an artifact path) in the host; returns its plugin id.
    pub async fn install_connector(&self, wasm_path: &str) -> String {
        let version = self
            .host
            .install_plugin(read(wasm_path))
            .await
            .unwrap_or_else(|e| panic!("{wasm_path} installs: {e:#}"));
        version.id().to_owned()
    }

    /// Enables `plugin_id` for `tenant` through the admin rules (idempotent, so a test can call
    /// it again with another config): added, every requested permission approved, the given
    /// vendor secrets set, then `config` (checked by the plugin's schema and `validate-config`,
    /// which sees those secrets; a refused config panics), every schedule switched off (tests
    /// run schedules themselves), enabled.
    pub async fn enable_connector(
        &self,
        tenant: &str,
        plugin_id: &str,
        config: Value,
        secrets: &[(&str, &str)],
    ) {
        let (host, actor) = (&self.host, harness());
        installations::add(host, &actor, tenant, plugin_id)
            .await
            .unwrap();
        installations::approve_requested(host, &actor, tenant, plugin_id)
            .await
            .unwrap();
        for (name, value) in secrets {
            installations::set_secret(
                host,
                &actor,
                tenant,
                plugin_id,
                name,
                &SecretString::from(value.to_string()),
            )
            .await
            .unwrap();
        }
        installations::configure(host, &actor, tenant, plugin_id, &config)
            .await
            .unwrap_or_else(|e| panic!("{plugin_id} refuses the config {config}: {e}"));
        let schedules: serde_json::Map<String, Value> = host
            .runtime()
            .active(plugin_id)
            .unwrap()
            .manifest()
            .schedules
            .iter()
            .map(|s| (s.name.clone(), json!({"enabled": false})))
            .collect();
        installations::set_schedule_overrides(host, &actor, tenant, plugin_id, &schedules.into())
            .await
            .unwrap();
        installations::enable(host, &actor, tenant, plugin_id)
            .await
            .unwrap();
    }

    /// POSTs `body` to `/ingress/{tenant}/{plugin}{path}` with the given headers (JSON
    /// content type unless a header sets another).
    pub async fn post_vendor(
        &self,
        tenant: &str,
        plugin_id: &str,
        path: &str,
        headers: &[(&str, &str)],
        body: &[u8],
    ) -> (u16, Value) {
        let mut request = self
            .http
            .post(self.url(&format!("/ingress/{tenant}/{plugin_id}{path}")))
            .body(body.to_vec());
        if !headers
            .iter()
            .any(|(n, _)| n.eq_ignore_ascii_case("content-type"))
        {
            request = request.header("content-type", "application/json");
        }
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        (status, response.json().await.unwrap_or(Value::Null))
    }

    /// [`World::post_vendor`] signed with `fulcrum_signature` (`t=..,v1=HMAC`) in
    /// `signature_header`, as the vendor's webhook sender would.
    pub async fn post_signed(
        &self,
        tenant: &str,
        plugin_id: &str,
        path: &str,
        signature_header: &str,
        secret: &str,
        body: &Value,
    ) -> (u16, Value) {
        let bytes = body.to_string().into_bytes();
        let now = lever_model::timestamp::now_millis() / 1000;
        let signature = fulcrum_signature::sign(secret.as_bytes(), now, &bytes);
        self.post_vendor(
            tenant,
            plugin_id,
            path,
            &[(signature_header, &signature)],
            &bytes,
        )
        .await
    }

    /// What the admin action run with Idempotency-Key `key` answered (it must have succeeded;
    /// settle the world first).
    pub async fn action_result(&self, key: &str) -> Value {
        let dedupe_key = format!("action-key:{key}");
        let event = self
            .events_of_kind("action")
            .await
            .into_iter()
            .find(|e| e.dedupe_key.as_deref() == Some(&dedupe_key))
            .unwrap_or_else(|| panic!("no action {key}"));
        assert_eq!(
            event.status,
            fulcrum_store::EventStatus::Done,
            "{:?}",
            event.last_error
        );
        event.result.expect("a done action keeps its answer")
    }

    /// Runs an admin action through the admin API as a tenant member would (`POST
    /// /admin/v1/tenants/{t}/installations/{p}/actions/{name}`, `Idempotency-Key` dedupes);
    /// returns the HTTP status and body.
    pub async fn run_action(
        &self,
        tenant: &str,
        plugin_id: &str,
        name: &str,
        input: Value,
        idempotency_key: &str,
    ) -> (u16, Value) {
        let token = self
            .admin_token(fulcrum_store::Role::TenantMember, Some(tenant))
            .await;
        let authorization = format!("Bearer {token}");
        self.admin_raw(
            reqwest::Method::POST,
            &format!("/admin/v1/tenants/{tenant}/installations/{plugin_id}/actions/{name}"),
            &[
                ("authorization", authorization.as_str()),
                ("idempotency-key", idempotency_key),
                ("content-type", "application/json"),
            ],
            input.to_string().into_bytes(),
        )
        .await
    }
}
