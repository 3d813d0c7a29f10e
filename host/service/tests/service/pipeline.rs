//! Ingress → queue → workers: acknowledgement after commit, dedupe, per-subject order,
//! retries, dead letters and replay.

use fulcrum_service::HostConfig;
use fulcrum_store::test_support::on_each_backend;
use fulcrum_store::{EventFilter, EventStatus, NewEvent};
use fulcrum_testkit::*;
use serde_json::json;
use std::time::{Duration, Instant};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn vendor_events_create_one_opportunity_and_note_each() {
    on_each_backend(|db| async move {
        let world = World::start(&db).await;
        for n in 0..20 {
            let (status, body) = world
                .post_event(
                    TENANT,
                    &create_event(n, true),
                    Some(&format!("delivery-{n}")),
                    None,
                )
                .await;
            assert_eq!(status, 202, "{body}");
            assert_eq!(body["duplicate"], false);
            assert!(body["event_id"].as_str().unwrap().starts_with("evt-"));
        }
        let counts = world.settle(Duration::from_secs(60)).await;
        assert_eq!((counts.done, counts.dead), (20, 0), "{counts:?}");
        // The vendor redelivers five of them: acknowledged again, not queued again.
        for n in 0..5 {
            let (status, body) = world
                .post_event(
                    TENANT,
                    &create_event(n, true),
                    Some(&format!("delivery-{n}")),
                    None,
                )
                .await;
            assert_eq!((status, body["duplicate"].clone()), (202, json!(true)));
        }
        assert_eq!(world.counts().await.done, 20);
        for n in 0..20 {
            let opportunities =
                world.opportunities_with_email(&format!("candidate-{n}@example.com"));
            assert_eq!(opportunities.len(), 1, "candidate {n}");
            assert_eq!(world.note_count(&opportunities[0].id), 1, "candidate {n}");
        }
        // Every Lever call is in the audit log, attributed to the plugin and event.
        let audit = world.store.audit_list(TENANT, 1000).await.unwrap();
        let creates = audit
            .iter()
            .filter(|a| a.operation == "POST /opportunities" && a.outcome == "allowed")
            .count();
        assert_eq!(creates, 20);
        // (The harness's own set-up is audited too, as `admin: ...` changes without an event.)
        assert!(
            audit
                .iter()
                .filter(|a| !a.operation.starts_with("admin: "))
                .all(|a| a.plugin_id.as_deref() == Some(PLUGIN) && a.event_id.is_some())
        );
        assert!(
            audit
                .iter()
                .any(|a| a.permission.as_deref() == Some("create opportunity"))
        );
        world.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn identical_bodies_without_a_key_are_one_delivery() {
    on_each_backend(|db| async move {
        let world = World::start(&db).await;
        let body = create_event(1, false);
        let (first, a) = world.post_event(TENANT, &body, None, None).await;
        let (second, b) = world.post_event(TENANT, &body, None, None).await;
        assert_eq!((first, second), (202, 202));
        assert_eq!(a["event_id"], b["event_id"]);
        assert_eq!(b["duplicate"], true);
        world.settle(Duration::from_secs(30)).await;
        assert_eq!(
            world
                .opportunities_with_email("candidate-1@example.com")
                .len(),
            1
        );
        world.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_of_one_subject_are_handled_in_order() {
    on_each_backend(|db| async move {
        let world = World::start(&db).await;
        // Two subjects interleaved, four workers: each subject's log must come out in order.
        for n in 0..24 {
            let subject = if n % 2 == 0 { "cand-a" } else { "cand-b" };
            let body = json!({"op": "append", "key": format!("log:{subject}"), "value": n});
            let (status, _) = world.post_event(TENANT, &body, None, Some(subject)).await;
            assert_eq!(status, 202);
        }
        world.settle(Duration::from_secs(60)).await;
        for (subject, parity) in [("cand-a", 0), ("cand-b", 1)] {
            let raw = world
                .store
                .state_get(TENANT, PLUGIN, &format!("log:{subject}"))
                .await
                .unwrap()
                .expect("log written");
            let log: Vec<i64> = serde_json::from_slice(&raw).unwrap();
            let expected: Vec<i64> = (0..24).filter(|n| n % 2 == parity).collect();
            assert_eq!(log, expected, "{subject}");
        }
        world.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_permanent_failure_is_dead_lettered_at_once_with_its_error() {
    on_each_backend(|db| async move {
        let world = World::start(&db).await;
        let body = json!({"op": "fail", "error": "invalid"});
        let (status, _) = world.post_event(TENANT, &body, None, None).await;
        assert_eq!(status, 202);
        let counts = world.settle(Duration::from_secs(30)).await;
        assert_eq!(counts.dead, 1);
        let dead = world.store.list_dead_events(10).await.unwrap();
        assert_eq!(dead[0].attempts, 1, "invalid input is not retried");
        let error = dead[0].last_error.as_deref().unwrap();
        assert!(
            error.contains("invalid") && error.contains("told to fail"),
            "{error}"
        );
        world.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn transient_failures_retry_then_dead_letter_and_replay_succeeds_once_fixed() {
    on_each_backend(|db| async move {
        let world = World::start(&db).await;
        // The tenant's Lever credential is revoked: every attempt fails until an admin
        // reconnects Lever.
        world.sandbox.revoke(&world.api_key);
        let (status, body) = world
            .post_event(TENANT, &create_event(7, true), Some("d-7"), None)
            .await;
        assert_eq!(status, 202, "{body}");
        let counts = world.settle(Duration::from_secs(60)).await;
        assert_eq!(counts.dead, 1, "{counts:?}");
        let dead = world.store.list_dead_events(10).await.unwrap();
        assert_eq!(dead[0].attempts, fulcrum_store::DEFAULT_MAX_ATTEMPTS);
        let error = dead[0].last_error.clone().unwrap();
        assert!(error.contains("reconnect Lever"), "{error}");
        assert!(
            world
                .opportunities_with_email("candidate-7@example.com")
                .is_empty()
        );

        // The admin reconnects Lever with a new key, then replays the dead letter.
        let key = world
            .sandbox
            .issue_api_key(lever_sandbox::KeySpec::all("reconnected"));
        world
            .store
            .set_lever_credential(TENANT, fulcrum_store::CredentialKind::ApiKey, &key.into())
            .await
            .unwrap();
        world.store.replay_event(dead[0].id).await.unwrap();
        let counts = world.settle(Duration::from_secs(30)).await;
        assert_eq!((counts.done, counts.dead), (1, 0));
        let opportunities = world.opportunities_with_email("candidate-7@example.com");
        assert_eq!(opportunities.len(), 1);
        assert_eq!(world.note_count(&opportunities[0].id), 1);
        world.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_event_held_by_a_vanished_worker_is_requeued_and_handled_once() {
    on_each_backend(|db| async move {
        let mut options = world_options_without_workers();
        options.host.lease = Duration::from_secs(1);
        let world = World::start_with(&db, options).await;
        let (status, _) = world
            .post_event(TENANT, &create_event(3, true), Some("d-3"), None)
            .await;
        assert_eq!(status, 202);
        // A worker of this node claims it and dies (never completes, never renews the lease).
        let node = world.host.config().node_id.clone();
        let claimed = world
            .store
            .claim_next(&format!("{node}:ghost"), Duration::from_secs(1))
            .await
            .unwrap()
            .expect("claimed");
        assert_eq!(claimed.status, EventStatus::Running);
        // The node restarts: its leftover claim, once its lease is over, goes back to the
        // queue (on start, or by the reaper) and is handled.
        let shutdown = tokio_util::sync::CancellationToken::new();
        let mut tasks = world.host.spawn(shutdown.clone()).await.unwrap();
        world.settle(Duration::from_secs(30)).await;
        shutdown.cancel();
        while tasks.join_next().await.is_some() {}
        assert_eq!(
            world
                .opportunities_with_email("candidate-3@example.com")
                .len(),
            1
        );
        world.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admin_actions_and_listing_go_through_the_same_queue() {
    on_each_backend(|db| async move {
        let world = World::start(&db).await;
        let enqueued = world
            .host
            .enqueue(&NewEvent {
                tenant_id: TENANT.into(),
                plugin_id: PLUGIN.into(),
                kind: "action".into(),
                subject_key: "admin".into(),
                payload: json!({"name": "create", "input": create_event(9, false).to_string(), "requested_by": null}),
                dedupe_key: None,
            })
            .await
            .unwrap();
        world.settle(Duration::from_secs(30)).await;
        let event = world.store.get_event(enqueued.id).await.unwrap().unwrap();
        assert_eq!(event.status, EventStatus::Done);
        assert_eq!(world.opportunities_with_email("candidate-9@example.com").len(), 1);
        let listed = world
            .store
            .list_events(&EventFilter {
                tenant_id: Some(TENANT.into()),
                status: Some(EventStatus::Done),
                limit: 10,
                ..EventFilter::default()
            })
            .await
            .unwrap();
        assert_eq!(listed.iter().map(|e| e.id).collect::<Vec<_>>(), [enqueued.id]);
        world.stop().await;
    })
    .await;
}

pub fn world_options_without_workers() -> Options {
    let mut options = Options::new();
    options.start_workers = false;
    options
}

/// Before: a starting node requeued every event claimed under its node id, including those a
/// live process given the same id (the old default `node-1`) was running, which then ran
/// twice at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_starting_node_leaves_alone_the_events_a_live_namesake_is_running() {
    on_each_backend(|db| async move {
        let world = World::start_with(&db, world_options_without_workers()).await;
        let (status, _) = world
            .post_event(TENANT, &create_event(4, true), Some("d-4"), None)
            .await;
        assert_eq!(status, 202);
        // Another process with this node id runs the event (its lease is current).
        let node = world.host.config().node_id.clone();
        let held = world
            .store
            .claim_next(&format!("{node}:0"), Duration::from_secs(600))
            .await
            .unwrap()
            .expect("claimed");
        let shutdown = tokio_util::sync::CancellationToken::new();
        let mut tasks = world.host.spawn(shutdown.clone()).await.unwrap();
        let after = world.store.get_event(held.id).await.unwrap().unwrap();
        shutdown.cancel();
        while tasks.join_next().await.is_some() {}
        assert_eq!(after.status, EventStatus::Running);
        assert_eq!(after.claims, 1, "claimed by nobody else");
        assert_eq!(after.claimed_by, held.claimed_by);
        assert!(
            world
                .opportunities_with_email("candidate-4@example.com")
                .is_empty()
        );
        world.stop().await;
    })
    .await;
}

/// Default node ids differ between processes (hosts in one test are as two processes).
#[test]
fn default_node_ids_are_unique() {
    let (a, b) = (HostConfig::default(), HostConfig::default());
    assert_ne!(a.node_id, b.node_id);
    assert_ne!(a.node_id, "node-1");
}

/// Before: workers never renewed their lease; an event running longer than it was requeued
/// and handed to a second worker while the first still ran it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_worker_renews_its_lease_while_a_slow_event_runs() {
    on_each_backend(|db| async move {
        let mut options = Options::new();
        options.host.lease = Duration::from_secs(1);
        let world = World::start_with(&db, options).await;
        // Every Lever answer takes 250 ms: ten reads take well over the 1 s lease.
        world.sandbox.set_faults(lever_sandbox::FaultConfig {
            slow_rate: 1.0,
            slow_ms: 250,
            ..lever_sandbox::FaultConfig::default()
        });
        let (status, body) = world
            .post_event(
                TENANT,
                &json!({"op": "sync", "calls": 10}),
                Some("slow"),
                None,
            )
            .await;
        assert_eq!(status, 202, "{body}");
        let id: i64 = body["event_id"].as_str().unwrap()["evt-".len()..]
            .parse()
            .unwrap();
        // The first claim's lease moves on while the event runs.
        let started = Instant::now();
        let mut first_lease = None;
        loop {
            let e = world.store.get_event(id).await.unwrap().unwrap();
            assert!(e.claims <= 1, "claimed again: {e:?}");
            if let (EventStatus::Running, Some(lease)) = (e.status, e.lease_until) {
                match first_lease {
                    None => first_lease = Some(lease),
                    Some(first) if lease > first => break,
                    Some(_) => {}
                }
            }
            assert!(
                e.status != EventStatus::Done && started.elapsed() < Duration::from_secs(20),
                "the lease was never renewed while the event ran: {e:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        world.settle(Duration::from_secs(60)).await;
        let e = world.store.get_event(id).await.unwrap().unwrap();
        assert_eq!(e.status, EventStatus::Done, "{e:?}");
        assert_eq!((e.attempts, e.claims), (1, 1), "{e:?}");
        assert_eq!(e.last_error, None);
        world.stop().await;
    })
    .await;
}

/// Before: an event done on its first try showed `attempts: 0`, and a dead letter holding
/// back its subject looked like any other (nothing said events were stuck behind it).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_admin_api_and_metrics_show_tries_and_a_dead_letter_blocking_its_subject() {
    let metrics = fulcrum_service::observability::install_recorder();
    on_each_backend(move |db| {
        let metrics = metrics.clone();
        async move {
            let mut options = Options::new();
            // The reaper, which refreshes the blocked gauges, runs every quarter lease.
            options.host.lease = Duration::from_secs(2);
            let world = World::start_with(&db, options).await;
            // A tenant of this test and backend only: the metrics recorder is process-wide.
            let tenant = format!("blocked-{}", db.backend());
            world.add_tenant(&tenant).await;
            let token =
                crate::admin::token(&world, fulcrum_store::Role::TenantMember, Some(&tenant)).await;
            let get = |path: String| {
                let (world, token) = (&world, token.clone());
                async move {
                    let (status, body) =
                        crate::admin::call(world, reqwest::Method::GET, &path, Some(&token), None)
                            .await;
                    assert_eq!(status, 200, "{body}");
                    body
                }
            };

            // Done on its first try.
            let (_, ok) = world
                .post_event(&tenant, &create_event(1, true), None, None)
                .await;
            let ok = ok["event_id"].as_str().unwrap()["evt-".len()..].to_owned();
            world.settle(Duration::from_secs(30)).await;
            let view = get(format!("/admin/v1/tenants/{tenant}/events/{ok}")).await;
            assert_eq!(
                (view["status"].as_str(), view["attempts"].as_i64()),
                (Some("done"), Some(1))
            );
            assert_eq!(view["blocking"], false);

            // A dead letter, then an event of its subject, which waits behind it.
            let fail = json!({"op": "fail", "error": "invalid"});
            world.post_event(&tenant, &fail, None, Some("cand-x")).await;
            world.settle(Duration::from_secs(30)).await;
            let (status, _) = world
                .post_event(&tenant, &create_event(2, true), None, Some("cand-x"))
                .await;
            assert_eq!(status, 202);
            let dead = get(format!("/admin/v1/tenants/{tenant}/events?status=dead")).await;
            let dead = &dead["events"][0];
            assert_eq!(dead["attempts"], 1);
            assert_eq!(
                (dead["blocking"].as_bool(), dead["waiting_behind"].as_i64()),
                (Some(true), Some(1))
            );
            let queued = get(format!("/admin/v1/tenants/{tenant}/events?status=queued")).await;
            assert_eq!(queued["events"][0]["blocking"], false);

            let labels = [
                format!("tenant=\"{tenant}\""),
                format!("plugin=\"{PLUGIN}\""),
            ];
            let blocked = |text: String| {
                text.lines().any(|line| {
                    line.starts_with("fulcrum_events_blocked{")
                        && line.ends_with("} 1")
                        && labels.iter().all(|l| line.contains(l.as_str()))
                })
            };
            let started = Instant::now();
            while !blocked(metrics.render()) {
                assert!(
                    started.elapsed() < Duration::from_secs(20),
                    "no fulcrum_events_blocked{{{labels:?}}} 1 in /metrics"
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
            world.stop().await;
        }
    })
    .await;
}
