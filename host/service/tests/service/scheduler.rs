//! Schedules fire once across nodes and catch up once after downtime.

use crate::pipeline::world_options_without_workers;
use crate::world::*;
use fulcrum_service::{Host, LeverDefaults};
use fulcrum_store::test_support::on_each_backend;
use fulcrum_store::{EventFilter, now_ms};
use serde_json::json;
use std::time::Duration;

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

        // Both runs reach the plugin, in order.
        while world.host.run_one("test:0").await.unwrap().is_some() {}
        let runs = world
            .store
            .state_get(TENANT, PLUGIN, "runs:tick")
            .await
            .unwrap()
            .unwrap();
        let runs: Vec<i64> = serde_json::from_slice(&runs).unwrap();
        assert_eq!(runs.len(), 2, "{runs:?}");
        assert!(runs[0] < runs[1]);
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
