//! Fairness between two plugins of one tenant: one plugin's full sync (a backlog of events
//! that each make many Lever calls) neither holds every worker nor takes the whole Lever rate
//! budget, so another plugin's webhook events finish while the sync is still running.

use fulcrum_store::test_support::on_each_backend;
use fulcrum_store::{EventFilter, EventStatus};
use fulcrum_testkit::*;
use serde_json::json;
use std::time::{Duration, Instant};

const TWIN: &str = "well-behaved-twin";

async fn events_of(world: &World, plugin: &str) -> Vec<fulcrum_store::Event> {
    world
        .store
        .list_events(&EventFilter {
            tenant_id: Some(TENANT.into()),
            plugin_id: Some(plugin.into()),
            limit: 100,
            ..EventFilter::default()
        })
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_plugins_full_sync_does_not_starve_another_plugins_events() {
    on_each_backend(|db| async move {
        let mut options = Options::new();
        // Enough workers for the sync's whole backlog, were it not capped per installation.
        options.host.workers = 8;
        options.host.max_running_per_installation = 2;
        let world = World::start_with(&db, options).await;
        world
            .host
            .install_plugin(read(fulcrum_plugin_artifacts::WELL_BEHAVED_TWIN))
            .await
            .unwrap();
        world.enable_plugin(TENANT, TWIN).await;

        // The sync: 8 events × 10 Lever reads. At 10 req/s (burst 20) that is 6 s of budget.
        for n in 0..8 {
            // Distinct bodies: identical ones would be one delivery (the ingress's replay guard).
            let body = json!({"op": "sync", "calls": 10, "n": n});
            let key = format!("sync-{n}");
            let (status, _) = world
                .post_event(TENANT, &body, Some(&key), Some(&key))
                .await;
            assert_eq!(status, 202);
        }
        // Then the other plugin's webhooks: 3 events × 2 Lever writes.
        for n in 0..3 {
            let body = create_event(n, true);
            let (status, _) = world.post_event_to(TWIN, TENANT, &body, None, None).await;
            assert_eq!(status, 202);
        }

        let started = Instant::now();
        loop {
            let twin = events_of(&world, TWIN).await;
            if twin.iter().all(|e| e.status == EventStatus::Done) {
                break;
            }
            assert!(
                started.elapsed() < Duration::from_secs(60),
                "the webhook events did not finish: {twin:?}"
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
        // The webhooks finished first: the sync still has events to do.
        let sync = events_of(&world, PLUGIN).await;
        let unfinished = sync
            .iter()
            .filter(|e| e.status != EventStatus::Done)
            .count();
        assert!(
            unfinished > 0,
            "the sync finished before the other plugin's events"
        );
        assert!(
            sync.iter()
                .filter(|e| e.status == EventStatus::Running)
                .count()
                <= 2,
            "more sync events running than the per-installation cap"
        );
        for n in 0..3 {
            let opportunities =
                world.opportunities_with_email(&format!("candidate-{n}@example.com"));
            assert_eq!(opportunities.len(), 1);
            assert_eq!(world.note_count(&opportunities[0].id), 1);
        }

        // And the sync completes.
        let counts = world.settle(Duration::from_secs(60)).await;
        assert_eq!((counts.done, counts.dead), (11, 0));
        world.stop().await;
    })
    .await;
}
