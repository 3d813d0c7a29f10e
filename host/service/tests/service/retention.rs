//! Retention on a running host: old done events, their journal and old audit rows go, what
//! it removed shows in the metrics per table, and unfinished work stays.

use fulcrum_store::test_support::on_each_backend;
use fulcrum_store::{EventFilter, EventStatus, NewEvent, now_ms};
use fulcrum_testkit::*;
use serde_json::json;
use std::time::Duration;

const DAY_MS: i64 = 24 * 60 * 60 * 1000;

/// The value of `fulcrum_retention_deleted_total{table="<table>"}` (0 if absent).
fn deleted(text: &str, table: &str) -> f64 {
    let prefix = format!("fulcrum_retention_deleted_total{{table=\"{table}\"}} ");
    text.lines()
        .find_map(|line| line.strip_prefix(&prefix))
        .map_or(0.0, |n| n.trim().parse().unwrap())
}

/// Before: events, journal rows and audit rows were never deleted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn retention_deletes_old_finished_work_and_counts_it_per_table() {
    let handle = fulcrum_service::observability::install_recorder();
    on_each_backend(move |db| {
        let handle = handle.clone();
        async move {
            let world = World::start(&db).await;
            for n in 0..3 {
                let (status, answer) = world
                    .post_event(TENANT, &create_event(n, true), None, None)
                    .await;
                assert_eq!(status, 202, "{answer}");
            }
            let counts = world.settle(Duration::from_secs(60)).await;
            assert_eq!(counts.done, 3);
            // What `/metrics` renders (served on its own listener by `fulcrum serve`).
            let metrics = || async { handle.render() };
            let before = metrics().await;

            // Nothing is old yet: the default ages keep everything.
            assert_eq!(world.host.run_retention(now_ms()).await.unwrap().total(), 0);

            // An unfinished event: its plugin is not loaded, so workers retry it (queued, running
            // or, after its attempts, dead), and never finish it.
            let queued = world
                .store
                .enqueue_event(&NewEvent {
                    tenant_id: TENANT.into(),
                    plugin_id: "not-loaded".into(),
                    kind: "vendor".into(),
                    subject_key: "s".into(),
                    payload: json!({}),
                    dedupe_key: None,
                })
                .await
                .unwrap()
                .id;

            // A year and more later, everything finished is past every default age.
            let purged = world
                .host
                .run_retention(now_ms() + 400 * DAY_MS)
                .await
                .unwrap();
            assert_eq!(purged.events, 3, "{purged:?}");
            assert!(
                purged.effect_journal >= 3,
                "each event journaled its writes: {purged:?}"
            );
            assert!(purged.audit_log > 0, "{purged:?}");
            let left = world
                .store
                .list_events(&EventFilter::default())
                .await
                .unwrap();
            assert_eq!(left.len(), 1, "only the unfinished event is left: {left:?}");
            assert_eq!(left[0].id, queued);
            assert_ne!(left[0].status, EventStatus::Done);
            assert!(world.store.audit_list(TENANT, 10).await.unwrap().is_empty());

            // The metrics count what went, per table (the recorder is shared by the whole test
            // binary: compare with before).
            let after = metrics().await;
            for (table, n) in [
                ("events", purged.events),
                ("effect_journal", purged.effect_journal),
                ("audit_log", purged.audit_log),
            ] {
                assert!(
                    deleted(&after, table) - deleted(&before, table) >= n as f64,
                    "{table}: {after}"
                );
            }
            world.stop().await;
        }
    })
    .await;
}
