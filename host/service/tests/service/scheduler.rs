//! Schedules fire once across nodes and catch up once after downtime; a schedule keeps at
//! most one run queued and goes on past a dead run.

use crate::pipeline::world_options_without_workers;
use fulcrum_service::{Host, LeverDefaults};
use fulcrum_store::test_support::on_each_backend;
use fulcrum_store::{EventFilter, EventStatus, now_ms};
use fulcrum_testkit::*;
use serde_json::json;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_schedule_fires_once_across_nodes_and_catches_up_once() {
    on_each_backend(|db| async move {
        let world = World::start_with(&db, world_options_without_workers()).await;
        // The installation runs "tick" every minute instead of the manifest's 15.
        world
            .store
            .set_schedule_overrides(TENANT, PLUGIN, &json!({"tick": {"every_seconds": 60}}))
            .await
            .unwrap();
        world.host.sync_schedules(TENANT, PLUGIN).await.unwrap();
        let schedule = world.store.list_schedules(TENANT).await.unwrap();
        assert_eq!(schedule.len(), 1);
        assert_eq!(schedule[0].every_ms, 60_000);

        // A second node on the same database (same runtime: only the store is shared state).
        let second = Host::new(
            world.store.clone(),
            world.host.runtime().clone(),
            LeverDefaults {
                client: lever_client::ClientConfig::new(&world.sandbox.api_url()).unwrap(),
                acting_user_id: None,
            },
            None,
            host_config(),
        );
        let now = now_ms() + 1_000;
        let mut fired = 0;
        for _ in 0..5 {
            let (a, b) = tokio::join!(
                world.host.fire_due_schedules(now),
                second.fire_due_schedules(now)
            );
            fired += a.unwrap() + b.unwrap();
        }
        assert_eq!(fired, 1, "one fire for one due slot, whichever node wins");

        // Ten periods of downtime: one catch-up run, then the grid continues in the future.
        let later = now + 10 * 60_000 + 5_000;
        let (a, b) = tokio::join!(
            world.host.fire_due_schedules(later),
            second.fire_due_schedules(later)
        );
        assert_eq!(a.unwrap() + b.unwrap(), 1, "caught up once, not ten times");
        let next = world.store.list_schedules(TENANT).await.unwrap()[0].next_fire_at;
        assert!(
            next > later && next <= later + 60_000,
            "next {next} vs {later}"
        );

        // No worker ran the first run meanwhile: the catch-up slot folded into it (at most one
        // run of a schedule waits), which then reaches the plugin once.
        while world.host.run_one("test:0").await.unwrap().is_some() {}
        let runs = world
            .store
            .state_get(TENANT, PLUGIN, "runs:tick")
            .await
            .unwrap()
            .unwrap();
        let runs: Vec<i64> = serde_json::from_slice(&runs).unwrap();
        assert_eq!(runs.len(), 1, "{runs:?}");
        let events = world
            .store
            .list_events(&EventFilter {
                limit: 100,
                ..EventFilter::default()
            })
            .await
            .unwrap();
        assert!(events.iter().all(|e| e.kind == "schedule"));

        // Switching the schedule off (or disabling the installation) removes it.
        world
            .store
            .set_schedule_overrides(TENANT, PLUGIN, &json!({"tick": {"enabled": false}}))
            .await
            .unwrap();
        world.host.sync_schedules(TENANT, PLUGIN).await.unwrap();
        assert!(world.store.list_schedules(TENANT).await.unwrap().is_empty());
        world.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn running_workers_fire_a_due_schedule_by_themselves() {
    on_each_backend(|db| async move {
        let world = World::start(&db).await;
        // Switched on just now: "tick" is due at once and the scheduler loop fires it.
        world
            .store
            .set_schedule_overrides(TENANT, PLUGIN, &json!({}))
            .await
            .unwrap();
        world.host.sync_schedules(TENANT, PLUGIN).await.unwrap();
        let started = std::time::Instant::now();
        loop {
            let runs = world
                .store
                .state_get(TENANT, PLUGIN, "runs:tick")
                .await
                .unwrap();
            if let Some(runs) = runs {
                let runs: Vec<i64> = serde_json::from_slice(&runs).unwrap();
                assert_eq!(runs.len(), 1);
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the schedule never ran"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        world.stop().await;
    })
    .await;
}

/// Before: every run of a schedule shared one subject, so a dead run (here: the installation
/// disabled behind the scheduler's back, as a missing credential would) held back every later
/// run for good while slots kept queueing more behind it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_dead_schedule_run_neither_stops_the_schedule_nor_piles_up_runs() {
    on_each_backend(|db| async move {
        let world = World::start_with(&db, world_options_without_workers()).await;
        world
            .store
            .set_schedule_overrides(TENANT, PLUGIN, &json!({"tick": {"every_seconds": 60}}))
            .await
            .unwrap();
        world.host.sync_schedules(TENANT, PLUGIN).await.unwrap();
        let t0 = now_ms() + 1_000;
        assert_eq!(world.host.fire_due_schedules(t0).await.unwrap(), 1);

        // Every try fails until the last one dead-letters the run. The row is switched off
        // under the host on purpose (a fault, not an admin disable, which would also drop the
        // schedule this test needs).
        world
            .store
            .set_installation_enabled(TENANT, PLUGIN, false)
            .await
            .unwrap();
        let started = Instant::now();
        let dead = loop {
            world.host.run_one("test:0").await.unwrap();
            let dead = world.store.list_dead_events(10).await.unwrap();
            if let Some(dead) = dead.into_iter().next() {
                break dead;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "never dead-lettered"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        assert_eq!(dead.kind, "schedule");
        assert_eq!(dead.schedule_name.as_deref(), Some("tick"));
        world
            .store
            .set_installation_enabled(TENANT, PLUGIN, true)
            .await
            .unwrap();

        // Three more slots with no worker running: one run queued, not three.
        for k in 1..=3 {
            assert_eq!(
                world
                    .host
                    .fire_due_schedules(t0 + k * 60_000)
                    .await
                    .unwrap(),
                1
            );
        }
        let runs = world.events_of_kind("schedule").await;
        assert_eq!(runs.len(), 2, "the dead run and one pending: {runs:?}");

        // That run is not held back by the dead one.
        let (id, outcome) = world.host.run_one("test:0").await.unwrap().expect("a run");
        assert_eq!((id, outcome), (runs[1].id, fulcrum_service::Outcome::Done));
        let ran = world
            .store
            .state_get(TENANT, PLUGIN, "runs:tick")
            .await
            .unwrap()
            .expect("the schedule ran again");
        assert_eq!(serde_json::from_slice::<Vec<i64>>(&ran).unwrap().len(), 1);
        // The dead run stays for the admin to see, blocking nothing.
        let dead = world.store.get_event(dead.id).await.unwrap().unwrap();
        assert_eq!((dead.status, dead.waiting_behind), (EventStatus::Dead, 0));
        world.stop().await;
    })
    .await;
}
