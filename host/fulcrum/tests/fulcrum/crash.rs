//! Crash test: the host runs as a separate `fulcrum serve` process; while a vendor sends 600
//! events, the process is killed with SIGKILL at random points and restarted. Afterwards every
//! event has been handled with exactly one opportunity and one note in the Lever sandbox.
//! Runs on SQLite and on PostgreSQL.

use fulcrum_runtime::{AllocatorChoice, Runtime, RuntimeConfig};
use fulcrum_service::tenants::LeverConnection;
use fulcrum_service::{Actor, Host, HostConfig, LeverDefaults, installations, tenants};
use fulcrum_store::Store;
use fulcrum_store::test_support::{TestDatabase, on_each_backend};
use futures::StreamExt;
use lever_client::ClientConfig;
use lever_sandbox::{KeySpec, Sandbox, SandboxConfig, SeedSpec};
use rand::{Rng, SeedableRng};
use secrecy::SecretString;
use serde_json::json;
use std::net::SocketAddr;
use std::path::Path;
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::{Duration, Instant};
use tokio::process::{Child, Command};

/// The crash test's size: `FULCRUM_CRASH_EVENTS` events and `FULCRUM_CRASH_KILLS` kills. CI
/// (`.ci/run`) raises them to the full 600 × 4 (about four minutes on two cores); a local
/// `cargo test` runs a smaller 150 × 2 by default, which still kills the host mid-stream.
fn crash_size() -> (usize, usize) {
    let read = |name: &str, default: usize| match std::env::var(name) {
        Ok(text) => text
            .parse()
            .unwrap_or_else(|_| panic!("{name}={text:?} is not a whole number")),
        Err(_) => default,
    };
    (
        read("FULCRUM_CRASH_EVENTS", 150).max(1),
        read("FULCRUM_CRASH_KILLS", 2).max(1),
    )
}
pub(crate) const TENANT: &str = "acme";
pub(crate) const PLUGIN: &str = "well-behaved";
pub(crate) const SECRET: &str = "crash-test-vendor-secret";

pub(crate) fn free_port() -> SocketAddr {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    listener.local_addr().unwrap()
}

/// The tenant, connected to the sandbox, with the fixture installed, approved, given its
/// vendor secret and enabled — through the host's admin rules, on an in-process host over the
/// same database and data dir (its compiled component is cached for `serve`), as an admin
/// would with the admin API. Without `tenant_key` the tenant gets no Lever API key (only
/// Lever's URL and default user): its installations then work only on their own connection.
pub(crate) async fn set_up_tenant(
    store: &Store,
    sandbox: &Sandbox,
    data_dir: &Path,
    tenant_key: bool,
) {
    let runtime = Runtime::new(RuntimeConfig {
        cache_dir: data_dir.join("component-cache"),
        allocator: AllocatorChoice::OnDemand,
        ..RuntimeConfig::default()
    })
    .unwrap();
    let lever = LeverDefaults {
        client: ClientConfig::new(&sandbox.api_url()).unwrap(),
        acting_user_id: None,
    };
    let config = HostConfig {
        components_dir: data_dir.join("components"),
        ..HostConfig::default()
    };
    let host = Host::new(store.clone(), runtime, lever, None, config);
    host.install_plugin(std::fs::read(fulcrum_plugin_artifacts::WELL_BEHAVED).unwrap())
        .await
        .expect("the fixture installs");

    let actor = Actor::local("crash test");
    tenants::create(store, &actor, TENANT, "Acme")
        .await
        .unwrap();
    let key = tenant_key.then(|| sandbox.issue_api_key(KeySpec::all("crash-test")));
    let lever = LeverConnection {
        api_key: key.map(SecretString::from),
        base_url: Some(sandbox.api_url()),
        acting_user_id: Some(sandbox.default_user_id()),
    };
    tenants::connect_lever(store, &actor, TENANT, &lever)
        .await
        .unwrap();
    installations::add(&host, &actor, TENANT, PLUGIN)
        .await
        .unwrap();
    installations::approve_requested(&host, &actor, TENANT, PLUGIN)
        .await
        .unwrap();
    let secret = SecretString::from(SECRET.to_owned());
    installations::set_secret(&host, &actor, TENANT, PLUGIN, "api-token", &secret)
        .await
        .unwrap();
    // The fixture's 15-minute "tick" is not part of this test.
    let overrides = json!({"tick": {"enabled": false}});
    installations::set_schedule_overrides(&host, &actor, TENANT, PLUGIN, &overrides)
        .await
        .unwrap();
    installations::enable(&host, &actor, TENANT, PLUGIN)
        .await
        .unwrap();
}

fn start_host(db: &TestDatabase, data_dir: &Path, addr: SocketAddr, log: &Path) -> Child {
    let log = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(log)
        .unwrap();
    Command::new(env!("CARGO_BIN_EXE_fulcrum"))
        .arg("serve")
        .args(["--data-dir", data_dir.to_str().unwrap()])
        .args(["--listen", &addr.to_string()])
        .args(["--workers", "4"])
        .args(["--node-id", "crash-node"])
        // The killed process's events run again once their lease runs out: keep that short.
        .args(["--lease-secs", "3"])
        .args(["--retry-base-ms", "50"])
        .args(["--plugin", fulcrum_plugin_artifacts::WELL_BEHAVED])
        // The sandbox's URL comes from the tenant's Lever settings in the database.
        .args(["--lever-url", "http://127.0.0.1:1/v1"])
        .env("DATABASE_URL", &db.url)
        .env("FULCRUM_MASTER_KEY", &db.key_b64)
        .env("RUST_LOG", "warn")
        .stdout(Stdio::null())
        .stderr(log)
        .kill_on_drop(true)
        .spawn()
        .expect("fulcrum serve starts")
}

/// Sends one event until the host acknowledges it (202), through crashes and restarts.
async fn deliver(http: &reqwest::Client, addr: SocketAddr, n: usize) {
    let body = json!({
        "op": "create",
        "name": format!("Crash Candidate {n}"),
        "email": format!("crash-{n}@example.com"),
        "note": format!("Applied through the vendor (event {n})"),
    });
    // Hosts are killed and restarted meanwhile; one that stays down fails the test.
    let started = Instant::now();
    loop {
        assert!(
            started.elapsed() < Duration::from_secs(300),
            "event {n} was never acknowledged"
        );
        let sent = http
            .post(format!(
                "http://{addr}/ingress/{TENANT}/{PLUGIN}/applicants"
            ))
            .header("content-type", "application/json")
            .header("x-fixture-signature", SECRET)
            .header("idempotency-key", format!("crash-{n}"))
            .timeout(Duration::from_secs(10))
            .body(body.to_string())
            .send()
            .await;
        match sent {
            Ok(response) if response.status().as_u16() == 202 => return,
            Ok(response) if response.status().is_client_error() => {
                panic!(
                    "event {n} refused: {}",
                    response.text().await.unwrap_or_default()
                )
            }
            _ => tokio::time::sleep(Duration::from_millis(50)).await,
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn killing_the_host_loses_and_doubles_nothing() {
    let (events, kills) = crash_size();
    on_each_backend(|db| async move {
        let sandbox = Sandbox::start(
            SandboxConfig {
                seed: SeedSpec::vocabulary_only(11),
                rate_limit: false,
                ..SandboxConfig::default()
            },
            "127.0.0.1:0".parse().unwrap(),
        )
        .await
        .unwrap();
        let store = db.open().await;
        let dir = tempfile::tempdir().unwrap();
        let data_dir = dir.path().join("data");
        set_up_tenant(&store, &sandbox, &data_dir, true).await;

        let log = dir.path().join("host.log");
        let addr = free_port();
        let mut host = start_host(&db, &data_dir, addr, &log);

        let http = reqwest::Client::new();
        let acknowledged = Arc::new(AtomicUsize::new(0));
        let sender = {
            let http = http.clone();
            let acknowledged = acknowledged.clone();
            tokio::spawn(async move {
                futures::stream::iter(0..events)
                    .for_each_concurrent(8, |n| {
                        let http = http.clone();
                        let acknowledged = acknowledged.clone();
                        async move {
                            deliver(&http, addr, n).await;
                            acknowledged.fetch_add(1, Ordering::Relaxed);
                        }
                    })
                    .await;
            })
        };

        let seed: u64 = rand::random();
        eprintln!("crash test ({}): kill schedule seed {seed}", db.backend());
        let mut rng = rand::rngs::StdRng::seed_from_u64(seed);
        for kill in 1..=kills {
            tokio::time::sleep(Duration::from_millis(rng.random_range(700..2_500))).await;
            host.kill().await.unwrap();
            let done = store.count_events(None).await.unwrap().done;
            eprintln!(
                "kill {kill}: SIGKILL after {} acknowledged, {done} done",
                acknowledged.load(Ordering::Relaxed)
            );
            host = start_host(&db, &data_dir, addr, &log);
        }
        sender.await.unwrap();

        let started = Instant::now();
        let counts = loop {
            let counts = store.count_events(None).await.unwrap();
            if counts.queued == 0 && counts.running == 0 {
                break counts;
            }
            assert!(started.elapsed() < Duration::from_secs(300), "not settled: {counts:?}; see {}", log.display());
            tokio::time::sleep(Duration::from_millis(200)).await;
        };
        host.kill().await.unwrap();
        assert_eq!((counts.done, counts.dead), (events as i64, 0), "{counts:?}");

        let (lost, doubled, notes_off) = sandbox.read(|lever| {
            let mut lost = Vec::new();
            let mut doubled = Vec::new();
            let mut notes_off = Vec::new();
            for n in 0..events {
                let email = format!("crash-{n}@example.com");
                let found: Vec<_> = lever
                    .opportunities()
                    .filter(|o| o.emails.contains(&email))
                    .collect();
                match found.len() {
                    0 => lost.push(n),
                    1 => {
                        if lever.notes(&found[0].id).len() != 1 {
                            notes_off.push(n)
                        }
                    }
                    _ => doubled.push(n),
                }
            }
            (lost, doubled, notes_off)
        });
        eprintln!(
            "crash test ({}): {events} events, {kills} kills: {} lost, {} duplicated, {} with a wrong note count",
            db.backend(),
            lost.len(),
            doubled.len(),
            notes_off.len()
        );
        assert!(lost.is_empty(), "lost: {lost:?}");
        assert!(doubled.is_empty(), "duplicated: {doubled:?}");
        assert!(notes_off.is_empty(), "notes: {notes_off:?}");
        store.close().await;
        sandbox.shutdown().await;
    })
    .await;
}
