//! Secrets stay secret: after events ran, neither the tenant's Lever API key nor the vendor's
//! credentials are readable in the database (raw SQLite file included) or in the host's logs
//! (captured at TRACE level); and log lines carry the tenant, plugin and event ids of their
//! work. A separate test binary, because it installs a global subscriber: a thread-local one
//! races with callsite interest caching when tests run in parallel.

use fulcrum_store::EventFilter;
use fulcrum_store::test_support::on_each_backend;
use fulcrum_testkit::*;
use parking_lot::Mutex;
use secrecy::SecretString;
use serde_json::json;
use std::io::Write;
use std::sync::{Arc, OnceLock};
use std::time::Duration;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn logs() -> &'static Captured {
    static LOGS: OnceLock<Captured> = OnceLock::new();
    LOGS.get_or_init(|| {
        let captured = Captured::default();
        let writer = captured.clone();
        // Everything at TRACE except the code generator's internals (cranelift, regalloc),
        // which never see a secret and would log gigabytes while compiling the component.
        let filter = tracing_subscriber::EnvFilter::new(
            "trace,cranelift_codegen=info,cranelift_frontend=info,regalloc2=info,\
             wasmtime_cranelift=info,cranelift_entity=info,wasmtime_environ=info",
        );
        // JSON with the span list, so the log-context test can read the spans of each line.
        tracing_subscriber::fmt()
            .json()
            .with_span_list(true)
            .with_env_filter(filter)
            .with_writer(move || writer.clone())
            .init();
        captured
    })
}

impl Captured {
    /// The JSON log lines so far.
    fn json_lines(&self) -> Vec<serde_json::Value> {
        String::from_utf8_lossy(&self.0.lock())
            .lines()
            .map(|l| serde_json::from_str(l).expect("JSON log line"))
            .collect()
    }
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_reach_the_database_or_the_logs() {
    let logs = logs();
    on_each_backend(move |db| async move {
        let world = World::start(&db).await;
        let vendor_token = "vendor-bearer-token-5d1c9e";
        for n in 0..5 {
            let response = world
                .http
                .post(world.url(&format!("/ingress/{TENANT}/{PLUGIN}/events")))
                .header("content-type", "application/json")
                .header("x-fixture-signature", VENDOR_SECRET)
                .header("authorization", format!("Bearer {vendor_token}"))
                .body(create_event(n, true).to_string())
                .send()
                .await
                .unwrap();
            assert_eq!(response.status().as_u16(), 202);
        }
        world.settle(Duration::from_secs(60)).await;
        assert_eq!(world.counts().await.done, 5);

        // What the store hands back: event payloads, audit trail.
        let events = world
            .store
            .list_events(&EventFilter::default())
            .await
            .unwrap();
        let audit = world.store.audit_list(TENANT, 1000).await.unwrap();
        let dumped = format!("{events:?}{audit:?}");
        for secret in [world.api_key.as_str(), vendor_token] {
            assert!(!dumped.contains(secret), "{} found in stored rows", secret);
        }
        // The raw database file and its WAL (which may not exist after a checkpoint).
        if let Some(path) = &db.sqlite_path {
            let mut files = vec![(
                path.clone(),
                std::fs::read(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display())),
            )];
            let wal = path.with_extension("db-wal");
            match std::fs::read(&wal) {
                Ok(bytes) => files.push((wal, bytes)),
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => panic!("read {}: {e}", wal.display()),
            }
            // The scan saw the rows: the tenant's name is stored in the clear.
            let marker = format!("{TENANT} Inc.");
            assert!(
                files.iter().any(|(_, bytes)| contains(bytes, &marker)),
                "{marker:?} is in neither database file: the scan read nothing of the data"
            );
            for (file, bytes) in &files {
                // Not VENDOR_SECRET: the fixture's signature header is that secret verbatim and
                // is kept with the request (real connectors sign with HMAC). The secrets table
                // itself is covered by the store's ciphertext tests.
                for secret in [world.api_key.as_str(), vendor_token] {
                    assert!(
                        !contains(bytes, secret),
                        "{secret} readable in {}",
                        file.display()
                    );
                }
            }
        }
        let api_key = world.api_key.clone();
        world.stop().await;
        let text = String::from_utf8_lossy(&logs.0.lock()).into_owned();
        assert!(text.contains("plugin installed"), "logs were captured");
        for secret in [api_key.as_str(), vendor_token, VENDOR_SECRET] {
            assert!(!text.contains(secret), "{secret} found in the logs");
        }
    })
    .await;
}

/// The tenant of the log-context test.
const LOGS_TENANT: &str = "logs-co";
const WEBHOOK_TOKEN: &str = "logs-lever-signature-token-7d2a41";

/// Whether `line` was logged inside a span named `name` whose fields include `fields`.
fn in_span(line: &serde_json::Value, name: &str, fields: &[(&str, serde_json::Value)]) -> bool {
    line["spans"].as_array().is_some_and(|spans| {
        spans
            .iter()
            .any(|s| s["name"] == name && fields.iter().all(|(k, v)| &s[*k] == v))
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn logs_carry_tenant_plugin_and_event_ids_and_no_secret() {
    let logs = logs();
    on_each_backend(move |db| {
        async move {
            let world = World::start(&db).await;
            // A tenant of its own: the other test of this binary logs for TENANT.
            world.add_tenant(LOGS_TENANT).await;
            world
                .store
                .set_lever_webhook_token(LOGS_TENANT, "stage", &SecretString::from(WEBHOOK_TOKEN))
                .await
                .unwrap();
            let (status, answer) = world
                .post_event(LOGS_TENANT, &create_event(7, true), None, None)
                .await;
            assert_eq!(status, 202, "{answer}");
            let delivery =
                signed_lever_delivery(WEBHOOK_TOKEN, "candidateStageChange", None, "o-7");
            let body = serde_json::to_vec(&delivery).unwrap();
            let (status, queued) = world
                .post_lever_webhook(LOGS_TENANT, "application/json", body.clone())
                .await;
            assert_eq!(status, 202, "{queued}");
            let mut forged = delivery.clone();
            forged.signature = Some("00".repeat(32));
            let (status, _) = world
                .post_lever_webhook(
                    LOGS_TENANT,
                    "application/json",
                    serde_json::to_vec(&forged).unwrap(),
                )
                .await;
            assert_eq!(status, 401);
            world.settle(Duration::from_secs(30)).await;
            let lever_event: i64 = queued["event_ids"][0]
                .as_str()
                .and_then(|id| id.strip_prefix("evt-"))
                .and_then(|n| n.parse().ok())
                .expect("event id");

            let lines = logs.json_lines();
            let tenant = json!(LOGS_TENANT);
            let plugin = json!(PLUGIN);
            // The pipeline's work on the Lever event, inside its `event` span.
            assert!(
                lines.iter().any(|l| in_span(
                    l,
                    "event",
                    &[
                        ("tenant", tenant.clone()),
                        ("plugin", plugin.clone()),
                        ("event_id", json!(lever_event))
                    ]
                )),
                "no log line in the event span of evt-{lever_event}"
            );
            // The vendor ingress (the plugin's signature check runs inside it).
            assert!(
                lines.iter().any(|l| in_span(
                    l,
                    "ingress",
                    &[("tenant", tenant.clone()), ("plugin", plugin.clone())]
                )),
                "no log line in an ingress span"
            );
            // The Lever webhook ingress: the refusal and the queued event.
            assert!(lines.iter().any(|l| in_span(
                l,
                "lever_webhook",
                &[("tenant", tenant.clone())]
            ) && l["fields"]["message"] == "Lever webhook refused"));
            assert!(lines.iter().any(|l| in_span(
                l,
                "lever_webhook",
                &[("tenant", tenant.clone())]
            ) && l["fields"]["plugin"] == plugin
                && l["fields"]["event_id"] == json!(lever_event)));

            let text = String::from_utf8_lossy(&logs.0.lock()).into_owned();
            for (what, secret) in [
                ("Lever API key", world.api_key.as_str()),
                ("vendor secret", VENDOR_SECRET),
                ("Lever webhook signature token", WEBHOOK_TOKEN),
                ("master key", db.key_b64.as_str()),
                ("webhook signature", delivery.signature.as_deref().unwrap()),
            ] {
                assert!(!text.contains(secret), "the logs show the {what}");
            }
            world.stop().await;
        }
    })
    .await;
}

/// The JSON log lines of refused admin requests whose path starts with `prefix`.
fn refusal_lines(logs: &Captured, prefix: &str) -> Vec<serde_json::Value> {
    logs.json_lines()
        .into_iter()
        .filter(|l| {
            l["fields"]["message"] == "admin request refused"
                && l["fields"]["path"]
                    .as_str()
                    .is_some_and(|p| p.starts_with(prefix))
        })
        .collect()
}

/// Sends a request that is refused with `status` until a log line of it matching `wanted`
/// shows up (the log is rate-limited process-wide, so one may be left out); that line.
async fn refused_until_logged(
    world: &World,
    path: &str,
    token: Option<&str>,
    body: Option<serde_json::Value>,
    status: u16,
    wanted: impl Fn(&serde_json::Value) -> bool,
) -> serde_json::Value {
    let method = if body.is_some() {
        reqwest::Method::PUT
    } else {
        reqwest::Method::GET
    };
    let started = std::time::Instant::now();
    loop {
        let (got, _) = world.admin(method.clone(), path, token, body.clone()).await;
        assert_eq!(got, status, "{path}");
        if let Some(line) = refusal_lines(logs(), path).into_iter().find(|l| wanted(l)) {
            return line;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "no log line for the refused {path}"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn refused_admin_requests_are_logged_rate_limited_and_without_secrets() {
    use fulcrum_store::Role;
    let logs = logs();
    on_each_backend(move |db| async move {
        let world = World::start(&db).await;
        // A tenant of its own, so the lines are this run's.
        let tenant = format!("refusals-{}", db.backend());
        world.add_tenant(&tenant).await;
        let base = format!("/admin/v1/tenants/{tenant}");
        let member = world
            .admin_token(Role::TenantMember, Some(tenant.as_str()))
            .await;
        let member_id = world
            .store
            .list_api_tokens(Some(tenant.as_str()))
            .await
            .unwrap()[0]
            .id;
        let forged = "fulcrum_forged-token-never-to-be-logged-3b9f";
        let secret_value = "member-tried-this-secret-77c1";

        // An unknown token: method, path, status and code; no token id (there is none).
        let unknown = refused_until_logged(&world, &base, Some(forged), None, 401, |_| true).await;
        assert_eq!(unknown["fields"]["method"], "GET");
        assert_eq!(unknown["fields"]["status"], 401);
        assert_eq!(unknown["fields"]["code"], "unauthorized");
        assert!(unknown["fields"].get("token_id").is_none(), "{unknown}");
        // A member setting a secret: who it was (the token's id and role, not the token).
        let secret_path = format!("{base}/installations/{PLUGIN}/secrets/api-token");
        let forbidden = refused_until_logged(
            &world,
            &secret_path,
            Some(member.as_str()),
            Some(json!({"value": secret_value})),
            403,
            |_| true,
        )
        .await;
        assert_eq!(forbidden["fields"]["method"], "PUT");
        assert_eq!(forbidden["fields"]["code"], "forbidden");
        assert_eq!(forbidden["fields"]["token_id"], member_id);
        assert_eq!(forbidden["fields"]["role"], "tenant-member");
        assert_eq!(forbidden["fields"]["tenant"], json!(tenant));
        // Another tenant's path: a 404 to the caller, a refusal in the log.
        let elsewhere = format!("/admin/v1/tenants/{TENANT}");
        let probing =
            refused_until_logged(&world, &elsewhere, Some(member.as_str()), None, 404, |l| {
                l["fields"]["tenant"] == json!(tenant)
            })
            .await;
        assert_eq!(probing["fields"]["token_id"], member_id);
        assert_eq!(probing["fields"]["tenant"], json!(tenant));
        let text = String::from_utf8_lossy(&logs.0.lock()).into_owned();
        for secret in [forged, secret_value, member.as_str()] {
            assert!(!text.contains(secret), "the logs show {secret}");
        }

        // A flood of refusals does not flood the log; a later line says how many were left out.
        let flood = format!("{base}/events");
        for n in 0..300 {
            let (status, _) = world
                .admin(
                    reqwest::Method::GET,
                    &format!("{flood}/{n}"),
                    Some(forged),
                    None,
                )
                .await;
            assert_eq!(status, 401);
        }
        let logged = refusal_lines(logs, &flood).len();
        assert!(logged < 300, "all 300 refusals logged");
        refused_until_logged(&world, &base, None, None, 401, |l| {
            l["fields"]["refusals_left_out"]
                .as_u64()
                .is_some_and(|n| n > 0)
        })
        .await;
        world.stop().await;
    })
    .await;
}
