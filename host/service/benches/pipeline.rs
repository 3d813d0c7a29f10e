//! End-to-end pipeline benchmark: vendor events → ingress → queue → workers → plugin → Lever
//! sandbox (rate limit off), on SQLite (`synchronous=NORMAL`, then the default `FULL`, each on
//! a fresh database, printed side by side) and on PostgreSQL; then idle memory with 1,000
//! tenants × 5 installations.
//!
//! `cargo bench -p fulcrum-service --bench pipeline` (EVENTS=2000 to change the count).
//! CPU figures are the whole process (host + the in-process sandbox), from /proc.

use fulcrum_runtime::{Call, Grants, InvocationContext, MemoryAuditLog, MemoryStateStore};
use fulcrum_store::test_support::{TestDatabase, on_each_backend};
use fulcrum_store::{NewEvent, SqliteDurability};
use fulcrum_testkit::*;
use futures::StreamExt;
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};

/// User + system CPU seconds of this process so far (Linux /proc; 0 elsewhere).
fn cpu_seconds() -> f64 {
    let Ok(stat) = std::fs::read_to_string("/proc/self/stat") else {
        return 0.0;
    };
    // Fields after the command name (which may hold spaces) start after the last ')'.
    let rest = stat.rsplit_once(')').map_or("", |(_, r)| r);
    let fields: Vec<&str> = rest.split_whitespace().collect();
    let ticks = |i: usize| {
        fields
            .get(i)
            .and_then(|f| f.parse::<f64>().ok())
            .unwrap_or(0.0)
    };
    // utime and stime are fields 14 and 15 of stat, i.e. 11 and 12 after the state field.
    (ticks(11) + ticks(12)) / 100.0
}

fn rss_mib() -> f64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("VmRSS:"))
                .and_then(|l| l.split_whitespace().nth(1)?.parse::<f64>().ok())
        })
        .map_or(0.0, |kib| kib / 1024.0)
}

#[tokio::main(flavor = "multi_thread", worker_threads = 2)]
async fn main() {
    let events: usize = std::env::var("EVENTS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(2000);
    eprintln!("pipeline benchmark: {events} vendor events per backend (2 tokio workers)");
    on_each_backend(move |db| async move {
        let mut throughput = Vec::new();
        if db.backend() == "sqlite" {
            // The same run with SQLite fsyncing only at checkpoints, on a fresh database, to
            // show what the default FULL (an fsync per commit) costs.
            let dir = std::env::temp_dir().join(format!(
                "fulcrum-bench-{}-{}",
                std::process::id(),
                fulcrum_store::now_ms()
            ));
            std::fs::create_dir_all(&dir).unwrap();
            let path = dir.join("normal.db");
            let normal = TestDatabase {
                url: format!("sqlite://{}?mode=rwc", path.display()),
                sqlite_path: Some(path),
                sqlite_durability: SqliteDurability::Normal,
                ..db.clone()
            };
            let world = end_to_end(&normal, events, &mut throughput).await;
            world.stop().await;
            let _ = std::fs::remove_dir_all(&dir);
        }
        let world = end_to_end(&db, events, &mut throughput).await;
        if let [(normal_label, normal), (full_label, full)] = &throughput[..] {
            println!(
                "sqlite    durability: {full_label} {full:.0} events/s vs {normal_label} {normal:.0} events/s \
                 ({:+.0}% for an fsync per commit)",
                (full / normal - 1.0) * 100.0
            );
        }

        // The plugin invocation alone: the same mapping without Lever (pure `map` action).
        let plugin = world.host.runtime().active(PLUGIN).unwrap();
        let ctx = InvocationContext::new(
            TENANT,
            "bench",
            PLUGIN,
            Arc::new(MemoryStateStore::new()),
            Arc::new(MemoryAuditLog::new()),
        )
        .with_grants(Grants::new(
            plugin.requested_permissions(),
            lever_model::Permission::ALL,
        ));
        let input = json!({"name": "Ada Lovelace", "email": "ada@example.com"}).to_string();
        let n = 2000;
        let cpu0 = cpu_seconds();
        let t0 = Instant::now();
        for i in 0..n {
            world
                .host
                .runtime()
                .invoke(&plugin, ctx.clone(), Call::action(format!("b{i}"), "map", input.clone()))
                .await
                .unwrap();
        }
        println!(
            "{:<9} plugin invocation alone (instantiate + map action): {:.1} µs wall, {:.1} µs CPU per call",
            db.backend(),
            t0.elapsed().as_secs_f64() * 1e6 / n as f64,
            (cpu_seconds() - cpu0) * 1e6 / n as f64,
        );

        if db.backend() == "sqlite" {
            idle_memory(&world).await;
        }
        world.stop().await;
    })
    .await;
}

/// Starts a host on `db` and sends `events` vendor events through it; prints and records
/// (in `throughput`: label, events/s) the end-to-end rate. Returns the running host.
async fn end_to_end(
    db: &TestDatabase,
    events: usize,
    throughput: &mut Vec<(String, f64)>,
) -> World {
    let mut options = Options::new();
    options.host.workers = 8;
    // One tenant × one plugin: let it use every worker.
    options.host.max_running_per_installation = 8;
    // Lever's own budget (10 req/s per key) would measure the limiter, not the host.
    options.lever_client.rate_per_second = 1_000_000;
    options.lever_client.burst = 1_000_000;
    let world = World::start_with(db, options).await;
    // Warm up: compile cache, connections.
    world
        .post_event(TENANT, &create_event(usize::MAX, false), None, None)
        .await;
    world.settle(Duration::from_secs(60)).await;

    let cpu0 = cpu_seconds();
    let started = Instant::now();
    let sent = futures::stream::iter(0..events)
        .map(|n| {
            let world = &world;
            async move {
                let (status, _) = world
                    .post_event(
                        TENANT,
                        &create_event(n, false),
                        Some(&format!("b-{n}")),
                        None,
                    )
                    .await;
                assert_eq!(status, 202);
            }
        })
        .buffer_unordered(16)
        .count()
        .await;
    let accepted_in = started.elapsed();
    let counts = world.settle(Duration::from_secs(600)).await;
    let elapsed = started.elapsed();
    let cpu = cpu_seconds() - cpu0;
    assert_eq!(counts.done as usize, sent + 1);
    let label = match db.backend() {
        "sqlite" => format!(
            "synchronous={}",
            db.sqlite_durability.as_str().to_uppercase()
        ),
        other => other.to_owned(),
    };
    let rate = sent as f64 / elapsed.as_secs_f64();
    println!(
        "{:<9} {sent} events → opportunities in {:.2} s: {rate:.0} events/s end to end \
         (ingress accepted all in {:.2} s: {:.0}/s); process CPU {:.0} µs/event{}",
        db.backend(),
        elapsed.as_secs_f64(),
        accepted_in.as_secs_f64(),
        sent as f64 / accepted_in.as_secs_f64(),
        cpu * 1e6 / sent as f64,
        if db.backend() == "sqlite" {
            format!(" [{label}]")
        } else {
            String::new()
        },
    );
    throughput.push((label, rate));
    world
}

/// The installations each idle tenant gets besides the fixture (`PLUGIN`, which
/// [`World::add_tenant`] enables): (plugin artifact, secrets, the action each runs once). Each
/// action reads through the host (Lever with the tenant's credential, or nothing for
/// `cv-render`) and writes nothing, so the measurement is of the host, not of a growing
/// sandbox.
const MORE_INSTALLATIONS: [(&str, &[&str], &str); 4] = [
    (
        fulcrum_plugin_artifacts::WELL_BEHAVED_TWIN,
        &["api-token"],
        "stages",
    ),
    (fulcrum_plugin_artifacts::CV_RENDER, &[], "trivial"),
    (
        fulcrum_plugin_artifacts::RELODE,
        &["api-token", "webhook-secret"],
        "check-setup",
    ),
    (
        fulcrum_plugin_artifacts::REMOTE_TECH_WORK,
        &["api-token", "webhook-secret"],
        "check-setup",
    ),
];

/// 1,000 tenants × 5 installations, host idle: nothing per tenant should stay resident. Each
/// tenant is connected to Lever (its own credential), each installation is enabled through
/// the admin rules with its secrets and a config its plugin accepts, and runs once before the
/// host goes idle; the run must succeed, or the figure would be of plugins that never ran.
async fn idle_memory(world: &World) {
    let mut plugins = vec![(PLUGIN.to_owned(), "stages")];
    let mut more = Vec::new();
    for (path, secrets, action) in MORE_INSTALLATIONS {
        let plugin = world.install_connector(path).await;
        plugins.push((plugin.clone(), action));
        more.push((plugin, secrets));
    }
    // Relode's owner must be an active Lever user.
    let owner = world.sandbox.read(|db| {
        let user = db.users().find(|u| u.is_active()).expect("an active user");
        json!({"name": user.name.clone(), "email": user.email.clone()})
    });
    let config = |plugin: &str| match plugin {
        "relode" => json!({"owner": owner, "career_page_url": "https://careers.example.com"}),
        _ => json!({}),
    };
    let before = rss_mib();
    let done_before = world.counts().await.done;
    for t in 0..1000 {
        let tenant = format!("idle-{t}");
        // Connected to the sandbox with its own credential, the fixture enabled.
        world.add_tenant(&tenant).await;
        for (plugin, secrets) in &more {
            let secrets: Vec<(&str, &str)> = secrets
                .iter()
                .map(|name| (*name, "idle-tenant-secret"))
                .collect();
            world
                .enable_connector(&tenant, plugin, config(plugin), &secrets)
                .await;
        }
    }
    // Each installation runs once through the pipeline, then the host idles.
    for t in 0..1000 {
        for (plugin, action) in &plugins {
            world
                .host
                .enqueue(&NewEvent {
                    tenant_id: format!("idle-{t}"),
                    plugin_id: plugin.clone(),
                    kind: fulcrum_service::event_payload::kind::ACTION.into(),
                    subject_key: format!("idle-{plugin}"),
                    payload: json!({"name": action, "input": "{}", "requested_by": null}),
                    dedupe_key: None,
                })
                .await
                .unwrap();
        }
    }
    let counts = world.settle(Duration::from_secs(600)).await;
    assert_eq!(
        (counts.done - done_before, counts.dead),
        (5000, 0),
        "every idle installation ran once, successfully: {counts:?}"
    );
    // Let the runtime's pools and the allocator settle before reading RSS.
    tokio::time::sleep(Duration::from_secs(2)).await;
    println!(
        "sqlite    idle RSS with 1,000 tenants × 5 installations (each enabled with its credential, \
         secrets and config, and run once): {:.0} MiB (was {:.0} MiB before adding them; whole \
         process incl. sandbox and wasmtime pools)",
        rss_mib(),
        before
    );
}
