//! "Connect with Lever" through a real `fulcrum serve` process and the sandbox's OAuth server.
//! After the tenant is set up in-process (as in crash.rs), every step is HTTP, as an operator,
//! a tenant super admin, Lever's consent page and a vendor would drive it; the database is only
//! read (the stored tokens, the `paused` flag the admin API does not show). Connect → events run on the installation's own tokens (the tenant has no API
//! key) → the access token expires and is refreshed → the app is revoked in Lever while events
//! arrive (they pause, no try burned) → reconnect → they finish: none lost, none doubled, and
//! no token, code or client secret in the process's output or in any answer.
//! Runs on SQLite and on PostgreSQL.

use crate::crash::{PLUGIN, SECRET, TENANT, free_port, set_up_tenant};
use fulcrum_store::test_support::{TestDatabase, on_each_backend};
use fulcrum_store::{ConnectionSecret, EventFilter, EventStatus, Role, Store};
use lever_sandbox::consent_client::{Decision, answer_consent};
use lever_sandbox::{OAuthApp, Sandbox, SandboxConfig, SeedSpec};
use reqwest::{Method, RequestBuilder};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::ops::Range;
use std::path::Path;
use std::process::Stdio;
use std::time::{Duration, Instant};
use tokio::io::AsyncReadExt;
use tokio::process::{Child, Command};
use tokio::task::JoinHandle;

const APP: &str = "lever-sandbox";
const CONNECTION: &str = "/admin/v1/tenants/acme/installations/well-behaved/connection";

/// `fulcrum serve` with its stdout and stderr captured (drained as they come, so a full pipe
/// never blocks the server; each task yields its text once the process is gone).
fn start_host(
    db: &TestDatabase,
    data_dir: &Path,
    addr: SocketAddr,
) -> (Child, [JoinHandle<String>; 2]) {
    let mut child = Command::new(env!("CARGO_BIN_EXE_fulcrum"))
        .arg("serve")
        .args(["--data-dir", data_dir.to_str().unwrap()])
        .args(["--listen", &addr.to_string()])
        .args(["--public-url", &format!("http://{addr}")])
        .args(["--workers", "2", "--retry-base-ms", "50"])
        .args(["--plugin", fulcrum_plugin_artifacts::WELL_BEHAVED])
        // The sandbox's URL comes from the tenant's Lever settings in the database.
        .args(["--lever-url", "http://127.0.0.1:1/v1"])
        .env("DATABASE_URL", &db.url)
        .env("FULCRUM_MASTER_KEY", &db.key_b64)
        // Debug, so the secrets check covers the host's most talkative logging.
        .env(
            "RUST_LOG",
            "info,fulcrum=debug,fulcrum_service=debug,lever_client=debug",
        )
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .expect("fulcrum serve starts");
    let drain = |mut pipe: Box<dyn tokio::io::AsyncRead + Send + Unpin>| {
        tokio::spawn(async move {
            let mut bytes = Vec::new();
            pipe.read_to_end(&mut bytes).await.unwrap();
            String::from_utf8_lossy(&bytes).into_owned()
        })
    };
    let stdout = drain(Box::new(child.stdout.take().unwrap()));
    let stderr = drain(Box::new(child.stderr.take().unwrap()));
    (child, [stdout, stderr])
}

/// The host over HTTP, as the tenant's super admin unless told otherwise; keeps every answer's
/// text for the secrets check.
struct Api {
    http: reqwest::Client,
    base: String,
    super_admin: SecretString,
    answers: Vec<String>,
}

impl Api {
    /// Sends `request`; its status and text (kept).
    async fn answer(&mut self, request: RequestBuilder) -> (u16, String) {
        let response = request.timeout(Duration::from_secs(30)).send().await;
        let response = response.unwrap();
        let status = response.status().as_u16();
        let text = response.text().await.unwrap();
        self.answers.push(text.clone());
        (status, text)
    }

    /// An admin call that must answer `expected`: its JSON.
    async fn admin(
        &mut self,
        method: Method,
        path: &str,
        token: &SecretString,
        body: Option<Value>,
        expected: u16,
    ) -> Value {
        let url = format!("{}{path}", self.base);
        let mut request = self.http.request(method.clone(), url);
        request = request.bearer_auth(token.expose_secret());
        if let Some(body) = body {
            request = request.header("content-type", "application/json");
            request = request.body(body.to_string());
        }
        let (status, text) = self.answer(request).await;
        assert_eq!(status, expected, "{method} {path}: {text}");
        serde_json::from_str(&text).unwrap()
    }

    async fn get(&mut self, path: &str) -> Value {
        let token = self.super_admin.clone();
        self.admin(Method::GET, path, &token, None, 200).await
    }

    async fn wait_ready(&self, child: &mut Child) {
        let started = Instant::now();
        let url = format!("{}/readyz", self.base);
        while !self
            .http
            .get(&url)
            .send()
            .await
            .is_ok_and(|r| r.status() == 200)
        {
            assert!(child.try_wait().unwrap().is_none(), "serve exited unready");
            assert!(started.elapsed() < Duration::from_secs(180), "not ready");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    /// Starts "Connect with Lever", consents as Lever's super admin `lever_admin` and follows
    /// the callback as the browser would; returns the code Lever issued.
    async fn connect(&mut self, lever_admin: &str) -> String {
        let token = self.super_admin.clone();
        let path = format!("{CONNECTION}/oauth");
        let started = self.admin(Method::POST, &path, &token, None, 200).await;
        let scopes = started["scopes"].as_array().unwrap();
        assert!(scopes.contains(&json!("offline_access")), "{started}");
        let authorize_url = started["authorize_url"].as_str().unwrap();
        let callback = answer_consent(authorize_url, lever_admin, Decision::Accept)
            .await
            .unwrap();
        let code = callback
            .query_pairs()
            .find(|(k, _)| k == "code")
            .expect("a code")
            .1;
        let code = code.into_owned();
        let (status, page) = self.answer(self.http.get(callback.as_str())).await;
        assert_eq!(status, 200, "{page}");
        assert!(page.contains("connected to Lever"), "{page}");
        let info = self.get(CONNECTION).await;
        assert_eq!(
            (&info["kind"], &info["status"]),
            (&json!("oauth"), &json!("connected")),
            "{info}"
        );
        code
    }

    /// The fixture's signed "create" events for candidates `range`, each acknowledged (202).
    async fn post_events(&mut self, range: Range<usize>) {
        let url = format!("{}/ingress/{TENANT}/{PLUGIN}/applicants", self.base);
        for n in range {
            let body = json!({
                "op": "create",
                "name": format!("OAuth Candidate {n}"),
                "email": format!("oauth-{n}@example.com"),
            });
            let request = self
                .http
                .post(&url)
                .header("content-type", "application/json")
                .header("x-fixture-signature", SECRET)
                .header("idempotency-key", format!("oauth-{n}"))
                .body(body.to_string());
            let (status, text) = self.answer(request).await;
            assert_eq!(status, 202, "event {n}: {text}");
        }
    }

    /// Polls the tenant's events until `done` are done and none is queued or running.
    async fn settle(&mut self, done: i64) {
        let started = Instant::now();
        loop {
            let list = self.get("/admin/v1/tenants/acme/events?limit=1000").await;
            let counts = &list["counts"];
            assert_eq!(counts["dead"], 0, "{list}");
            if counts["done"] == done && counts["queued"] == 0 && counts["running"] == 0 {
                return;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "not settled: {list}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
    }

    async fn access_expires_at(&mut self) -> i64 {
        let info = self.get(CONNECTION).await;
        info["access_expires_at"]
            .as_i64()
            .unwrap_or_else(|| panic!("{info}"))
    }
}

/// The tokens the host keeps for the installation (read from the database with its key).
async fn stored_tokens(store: &Store) -> Vec<String> {
    let stored = store.lever_connection_secret(TENANT, PLUGIN).await.unwrap();
    let Some((_, ConnectionSecret::OAuth(tokens))) = stored else {
        panic!("no OAuth connection")
    };
    let mut found = vec![tokens.access_token.expose_secret().to_owned()];
    found.extend(tokens.refresh_token.map(|t| t.expose_secret().to_owned()));
    found
}

/// How many of the tenant's queued events are paused (the admin API shows no such flag).
async fn paused(store: &Store) -> usize {
    let filter = EventFilter {
        tenant_id: Some(TENANT.into()),
        status: Some(EventStatus::Queued),
        ..EventFilter::default()
    };
    let queued = store.list_events(&filter).await.unwrap();
    queued.iter().filter(|e| e.paused).count()
}

/// Opportunities in the sandbox per candidate of `range`.
fn opportunities(sandbox: &Sandbox, range: Range<usize>) -> Vec<usize> {
    sandbox.read(|lever| {
        range
            .map(|n| {
                let email = format!("oauth-{n}@example.com");
                lever
                    .opportunities()
                    .filter(|o| o.emails.contains(&email))
                    .count()
            })
            .collect()
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn connect_with_lever_through_serve_refreshes_pauses_and_resumes() {
    on_each_backend(|db| async move {
        let config = SandboxConfig {
            seed: SeedSpec::vocabulary_only(13),
            rate_limit: false,
            ..SandboxConfig::default()
        };
        let sandbox = Sandbox::start(config, "127.0.0.1:0".parse().unwrap())
            .await
            .unwrap();
        sandbox
            .set_access_token_ttl(Duration::from_secs(2))
            .unwrap();
        let lever_admin = sandbox.default_user_id();
        let store = db.open().await;
        let dir = tempfile::tempdir().unwrap();
        let data_dir = dir.path().join("data");
        set_up_tenant(&store, &sandbox, &data_dir, false).await;
        let issue = |role, tenant| store.issue_api_token(role, tenant, "oauth test");
        let operator = issue(Role::PlatformOperator, None).await.unwrap().plaintext;
        let super_admin = issue(Role::TenantSuperAdmin, Some(TENANT))
            .await
            .unwrap()
            .plaintext;

        let addr = free_port();
        let (mut child, output) = start_host(&db, &data_dir, addr);
        let mut api = Api {
            http: reqwest::Client::new(),
            base: format!("http://{addr}"),
            super_admin: super_admin.clone(),
            answers: Vec::new(),
        };
        api.wait_ready(&mut child).await;

        // The operator registers the app Lever issued and assigns it to the plugin.
        let callback = format!("{}/oauth/lever/callback", api.base);
        let app = OAuthApp::generate("Fulcrum (tests)", vec![callback]);
        sandbox.register_oauth_app(app.clone()).unwrap();
        let registration = json!({
            "name": "Fulcrum (tests)",
            "client_id": app.client_id,
            "client_secret": app.client_secret,
            "authorize_url": sandbox.authorize_url(),
            "token_url": sandbox.token_url(),
            "audience": sandbox.oauth_audience(),
        });
        let path = format!("/admin/v1/lever-oauth-apps/{APP}");
        api.admin(Method::PUT, &path, &operator, Some(registration), 201)
            .await;
        let path = format!("/admin/v1/plugins/{PLUGIN}/lever-oauth-app");
        let assignment = Some(json!({"app_id": APP}));
        api.admin(Method::PUT, &path, &operator, assignment, 200)
            .await;
        let mut secrets = vec![app.client_secret.clone()];
        secrets.extend([&operator, &super_admin].map(|t| t.expose_secret().to_owned()));

        // The super admin connects; the events run on the installation's tokens.
        secrets.push(api.connect(&lever_admin).await);
        secrets.extend(stored_tokens(&store).await);
        api.post_events(0..4).await;
        api.settle(4).await;
        assert_eq!(opportunities(&sandbox, 0..4), [1; 4]);

        // Past the access token's life (one sleep): the next events refresh it first.
        let before = api.access_expires_at().await;
        tokio::time::sleep(sandbox.access_token_ttl() + Duration::from_millis(500)).await;
        api.post_events(4..7).await;
        api.settle(7).await;
        let after = api.access_expires_at().await;
        assert!(after > before, "not refreshed: {before} -> {after}");
        secrets.extend(stored_tokens(&store).await);
        assert_eq!(opportunities(&sandbox, 0..7), [1; 7]);

        // Revoked in Lever while events arrive: they pause, queued, without burning a try.
        let revoke = format!(
            "{}/_sandbox/authorized-apps/{}",
            sandbox.url(),
            app.client_id
        );
        let revoked = api.http.delete(revoke).send().await.unwrap();
        assert!(revoked.status().is_success(), "{}", revoked.status());
        api.post_events(7..11).await;
        let started = Instant::now();
        loop {
            let queued = api.get("/admin/v1/tenants/acme/events?status=queued").await;
            let info = api.get(CONNECTION).await;
            let events = queued["events"].as_array().unwrap();
            if events.len() == 4
                && info["status"] == "reconnect_needed"
                && paused(&store).await == 4
            {
                assert!(
                    events.iter().all(|e| e["attempts"] == 0),
                    "a try burned: {queued}"
                );
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "no pause: {queued}\n{info}"
            );
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        assert_eq!(
            opportunities(&sandbox, 7..11),
            [0; 4],
            "written while revoked"
        );

        // Reconnect: the paused events finish; none lost, none doubled.
        secrets.push(api.connect(&lever_admin).await);
        api.settle(11).await;
        secrets.extend(stored_tokens(&store).await);
        assert_eq!(opportunities(&sandbox, 0..11), [1; 11]);

        child.kill().await.unwrap();
        let [stdout, stderr] = output;
        let output = stdout.await.unwrap() + &stderr.await.unwrap();
        assert!(
            output.contains("listening"),
            "the output was captured: {output}"
        );
        for (i, secret) in secrets.iter().enumerate() {
            // Only which secret leaked is said, never the secret.
            assert!(!output.contains(secret), "secret #{i} is in serve's output");
            let answered = api.answers.iter().any(|a| a.contains(secret));
            assert!(!answered, "secret #{i} is in an HTTP answer");
        }
        store.close().await;
        sandbox.shutdown().await;
    })
    .await;
}
