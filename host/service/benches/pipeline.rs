//! End-to-end pipeline benchmark: vendor events → ingress → queue → workers → plugin → Lever
//! sandbox (rate limit off), on SQLite and on PostgreSQL; then idle memory with 1,000 tenants
//! × 5 installations.
//!
//! `cargo bench -p fulcrum-service --bench pipeline` (EVENTS=2000 to change the count).
//! CPU figures are the whole process (host + the in-process sandbox), from /proc.

#[path = "../tests/service/world.rs"]
#[allow(dead_code)]
mod world;

use fulcrum_runtime::{Call, Grants, InvocationContext, MemoryAuditLog, MemoryStateStore};
use fulcrum_service::{installations, tenants};
use fulcrum_store::NewEvent;
use fulcrum_store::test_support::on_each_backend;
use futures::StreamExt;
use serde_json::json;
use std::sync::Arc;
use std::time::{Duration, Instant};
use world::*;

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
        let mut options = Options::new();
        options.host.workers = 8;
        // One tenant × one plugin: let it use every worker.
        options.host.max_running_per_installation = 8;
        // Lever's own budget (10 req/s per key) would measure the limiter, not the host.
        options.lever_client.rate_per_second = 1_000_000;
        options.lever_client.burst = 1_000_000;
        let world = World::start_with(&db, options).await;
        // Warm up: compile cache, connections.
        world.post_event(TENANT, &create_event(usize::MAX, false), None, None).await;
        world.settle(Duration::from_secs(60)).await;

        let cpu0 = cpu_seconds();
        let started = Instant::now();
        let sent = futures::stream::iter(0..events)
            .map(|n| {
                let world = &world;
                async move {
                    let (status, _) = world
                        .post_event(TENANT, &create_event(n, false), Some(&format!("b-{n}")), None)
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
        println!(
            "{:<9} {sent} events → opportunities in {:.2} s: {:.0} events/s end to end \
             (ingress accepted all in {:.2} s: {:.0}/s); process CPU {:.0} µs/event",
            db.backend(),
            elapsed.as_secs_f64(),
            sent as f64 / elapsed.as_secs_f64(),
            accepted_in.as_secs_f64(),
            sent as f64 / accepted_in.as_secs_f64(),
            cpu * 1e6 / sent as f64,
        );

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

/// 1,000 tenants × 5 installations, host idle: nothing per tenant should stay resident.
/// Tenants and installations are set up through the admin rules, as an admin would.
async fn idle_memory(world: &World) {
    // Five loaded plugins to install: the fixture and four small ones.
    let mut plugins = vec![PLUGIN.to_owned()];
    for path in [
        fulcrum_plugin_artifacts::WELL_BEHAVED_TWIN,
        fulcrum_plugin_artifacts::INFINITE_LOOP,
        fulcrum_plugin_artifacts::PANIC,
        fulcrum_plugin_artifacts::DEEP_RECURSION,
    ] {
        plugins.push(world.install_connector(path).await);
    }
    let (host, actor) = (&world.host, harness());
    let before = rss_mib();
    for t in 0..1000 {
        let tenant = format!("idle-{t}");
        tenants::create(host.store(), &actor, &tenant, &tenant)
            .await
            .unwrap();
        for plugin in &plugins {
            installations::add(host, &actor, &tenant, plugin)
                .await
                .unwrap();
            if plugin == PLUGIN {
                installations::approve(host, &actor, &tenant, plugin, &["create opportunity"])
                    .await
                    .unwrap();
                installations::set_schedule_overrides(
                    host,
                    &actor,
                    &tenant,
                    plugin,
                    &json!({"tick": {"enabled": false}}),
                )
                .await
                .unwrap();
            }
            installations::enable(host, &actor, &tenant, plugin)
                .await
                .unwrap();
        }
    }
    // One event per tenant through the pipeline, then idle.
    for t in 0..1000 {
        world
            .host
            .enqueue(&NewEvent {
                tenant_id: format!("idle-{t}"),
                plugin_id: PLUGIN.into(),
                kind: "action".into(),
                subject_key: "idle".into(),
                payload: json!({"name": "trivial", "input": "{}", "requested_by": null}),
                dedupe_key: None,
            })
            .await
            .unwrap();
    }
    world.settle(Duration::from_secs(300)).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    println!(
        "sqlite    idle RSS with 1,000 tenants × 5 installations (each tenant's plugin run once): \
         {:.0} MiB (was {:.0} MiB before adding them; whole process incl. sandbox and wasmtime pools)",
        rss_mib(),
        before
    );
}
