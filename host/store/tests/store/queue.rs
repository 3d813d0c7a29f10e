//! The queue under contention: fenced claims (a worker that lost its claim changes nothing),
//! the per-installation cap and per-subject order under concurrent claimers and enqueuers,
//! tries counted when claimed, schedule runs that neither pile up nor wait behind a dead one,
//! and dead letters shown as blocking their subject.

use super::raw_sql::count;
use super::{LEASE, event, tenant, write};
use crate::common::{Ctx, on_each_backend};
use fulcrum_store::{
    BlockedLane, EventStatus, FailOutcome, Fired, NewEvent, Store, StoreError, now_ms,
};
use std::collections::HashSet;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn claim_lost<T: std::fmt::Debug>(result: Result<T, StoreError>) -> bool {
    matches!(result, Err(StoreError::ClaimLost { .. }))
}

/// Before: transitions checked only `status = 'running'`, so the lost worker's completion
/// (and its stale plugin state) landed on the event another worker was running.
#[tokio::test]
async fn a_worker_whose_event_was_claimed_again_cannot_finish_it() {
    on_each_backend(|ctx: Ctx| async move {
        let s = &ctx.store;
        tenant(s, "t1").await;
        s.state_set("t1", "p", "cursor", b"1").await.unwrap();
        let id = s.enqueue_event(&event("t1", "a", 1)).await.unwrap().id;
        let t0 = now_ms();
        let lost = s
            .claim_next_at("w1", t0, Duration::from_secs(30))
            .await
            .unwrap()
            .unwrap();
        assert_eq!((lost.claims, lost.attempts), (1, 1));
        // w1 stalls past its lease; the reaper requeues the event and w2 claims it.
        let later = t0 + 30_001;
        assert_eq!(s.requeue_expired(later).await.unwrap(), 1);
        let current = s.claim_next_at("w2", later, LEASE).await.unwrap().unwrap();
        assert_eq!(current.id, id);
        assert_eq!((current.claims, current.attempts), (2, 2));

        // The event is running again, but not under w1's claim: everything w1 tries is refused.
        let stale = lost.claim();
        assert!(claim_lost(
            s.complete_event_with_state(stale, &[write("cursor", Some(b"stale"))])
                .await
        ));
        assert!(claim_lost(s.complete_event(stale).await));
        assert!(claim_lost(s.fail_event(stale, later, "late").await));
        assert!(claim_lost(s.dead_letter_event(stale, "late").await));
        assert!(!s.extend_lease(stale, LEASE).await.unwrap());
        let e = s.get_event(id).await.unwrap().unwrap();
        assert_eq!(e.status, EventStatus::Running);
        assert_eq!(e.claimed_by.as_deref(), Some("w2"));
        assert_eq!(e.last_error.as_deref(), Some("worker lost: lease expired"));
        assert_eq!(
            s.state_get("t1", "p", "cursor").await.unwrap().unwrap(),
            b"1"
        );

        // The current claim finishes it, with its own state.
        assert!(s.extend_lease(current.claim(), LEASE).await.unwrap());
        s.complete_event_with_state(current.claim(), &[write("cursor", Some(b"2"))])
            .await
            .unwrap();
        assert_eq!(
            s.state_get("t1", "p", "cursor").await.unwrap().unwrap(),
            b"2"
        );
        let message = s.complete_event(stale).await.unwrap_err().to_string();
        assert!(message.contains(&format!("event {id}")), "{message}");
        assert!(message.contains("nothing was changed"), "{message}");
    })
    .await;
}

/// The fence is the claim, not the worker's name: a worker claiming the same event again
/// under the same name cannot finish it with its first claim.
#[tokio::test]
async fn a_claim_is_fenced_by_its_number_not_by_the_workers_name() {
    on_each_backend(|ctx: Ctx| async move {
        let s = &ctx.store;
        tenant(s, "t1").await;
        s.enqueue_event(&event("t1", "a", 1)).await.unwrap();
        let t0 = now_ms();
        let first = s
            .claim_next_at("node:0", t0, Duration::from_millis(10))
            .await
            .unwrap()
            .unwrap();
        s.requeue_expired(t0 + 11).await.unwrap();
        let second = s
            .claim_next_at("node:0", t0 + 11, LEASE)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(second.claimed_by, first.claimed_by);
        assert_ne!(first.claim(), second.claim());
        assert!(claim_lost(s.fail_event(first.claim(), t0, "old").await));
        assert_eq!(
            s.fail_event(second.claim(), t0, "new").await.unwrap(),
            FailOutcome::Retrying { attempts: 2 }
        );
    })
    .await;
}

/// Before: an event done on its first try showed `attempts: 0`.
#[tokio::test]
async fn attempts_count_the_tries_made() {
    on_each_backend(|ctx: Ctx| async move {
        let s = &ctx.store;
        tenant(s, "t1").await;
        let ok = s.enqueue_event(&event("t1", "a", 1)).await.unwrap().id;
        let flaky = s.enqueue_event(&event("t1", "b", 2)).await.unwrap().id;
        assert_eq!(s.get_event(ok).await.unwrap().unwrap().attempts, 0);
        let e = s.claim_next("w", LEASE).await.unwrap().unwrap();
        assert_eq!((e.id, e.attempts), (ok, 1));
        s.complete_event(e.claim()).await.unwrap();
        assert_eq!(s.get_event(ok).await.unwrap().unwrap().attempts, 1);

        let t0 = now_ms();
        let e = s.claim_next_at("w", t0, LEASE).await.unwrap().unwrap();
        assert_eq!(
            s.fail_event(e.claim(), t0, "503").await.unwrap(),
            FailOutcome::Retrying { attempts: 1 }
        );
        let e = s.claim_next_at("w", t0, LEASE).await.unwrap().unwrap();
        assert_eq!((e.id, e.attempts), (flaky, 2));
        s.complete_event(e.claim()).await.unwrap();
        assert_eq!(s.get_event(flaky).await.unwrap().unwrap().attempts, 2);
    })
    .await;
}

/// Before (PostgreSQL): two claimers each counted the installation's running events without
/// the other's claim and together ran more than the cap.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn the_per_installation_cap_holds_under_concurrent_claimers() {
    on_each_backend(|ctx: Ctx| async move {
        let s = ctx.store.clone();
        tenant(&s, "t1").await;
        const N: usize = 60;
        const CAP: i64 = 2;
        for n in 0..N {
            s.enqueue_event(&event("t1", &format!("subject-{n}"), n as i64))
                .await
                .unwrap();
        }
        let claimers: Vec<_> = (0..6)
            .map(|w| {
                let s = s.clone();
                tokio::spawn(async move {
                    let mut handled = 0;
                    let mut idle = 0;
                    while idle < 50 {
                        let Some(e) = s
                            .claim_next_capped(&format!("w{w}"), LEASE, CAP as u32)
                            .await
                            .unwrap()
                        else {
                            idle += 1;
                            tokio::task::yield_now().await;
                            continue;
                        };
                        idle = 0;
                        let running =
                            count(&s, "SELECT COUNT(*) FROM events WHERE status = 'running'").await;
                        assert!(running <= CAP, "{running} running, cap {CAP}");
                        s.complete_event(e.claim()).await.unwrap();
                        handled += 1;
                    }
                    handled
                })
            })
            .collect();
        let mut handled = 0;
        for c in claimers {
            handled += c.await.unwrap();
        }
        assert_eq!(handled, N, "on {}", s.backend_name());
    })
    .await;
}

/// Before (PostgreSQL): an enqueue could take an id, another enqueue of the same subject a
/// later id and commit first; a claimer then ran the later event, and the earlier one after
/// it, or beside it. Each round enqueues two events of one subject at once into a drained
/// queue: one alone, one first in a batch (`enqueue_events`, as a Lever delivery fans out),
/// whose transaction stays open a little after its id is taken.
#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrently_enqueued_events_of_a_subject_run_one_at_a_time_in_id_order() {
    on_each_backend(|ctx: Ctx| async move {
        let s = ctx.store.clone();
        tenant(&s, "t1").await;
        const SUBJECT: &str = "one-subject";
        const ROUNDS: i64 = 40;
        const FILLERS: i64 = 8;
        let stop = Arc::new(AtomicBool::new(false));
        // (the subject's event running now, the last one of the subject claimed)
        let order = Arc::new(Mutex::new((None::<i64>, 0_i64)));
        let claimers: Vec<_> = (0..3)
            .map(|w| {
                let (s, stop, order) = (s.clone(), stop.clone(), order.clone());
                tokio::spawn(async move {
                    let mut seen = Vec::new();
                    while !stop.load(Ordering::SeqCst) {
                        let Some(e) = s.claim_next(&format!("w{w}"), LEASE).await.unwrap() else {
                            tokio::time::sleep(Duration::from_millis(1)).await;
                            continue;
                        };
                        let ours = e.subject_key == SUBJECT;
                        if ours {
                            let mut order = order.lock().unwrap();
                            assert_eq!(order.0, None, "{} ran beside {:?}", e.id, order.0);
                            assert!(e.id > order.1, "{} ran after {}", e.id, order.1);
                            *order = (Some(e.id), e.id);
                        }
                        seen.push(e.id);
                        tokio::time::sleep(Duration::from_millis(1)).await;
                        if ours {
                            // Cleared before the completion lets the next one be claimed.
                            order.lock().unwrap().0 = None;
                        }
                        s.complete_event(e.claim()).await.unwrap();
                    }
                    seen
                })
            })
            .collect();
        for round in 0..ROUNDS {
            let mut batch = vec![event("t1", SUBJECT, round * 100)];
            batch.extend((0..FILLERS).map(|k| event("t1", &format!("filler-{round}-{k}"), k)));
            let alone = event("t1", SUBJECT, round * 100 + 1);
            let (batched, single) = tokio::join!(s.enqueue_events(&batch), s.enqueue_event(&alone));
            batched.unwrap();
            single.unwrap();
            let started = std::time::Instant::now();
            while count(&s, "SELECT COUNT(*) FROM events WHERE status <> 'done'").await > 0 {
                assert!(
                    started.elapsed() < Duration::from_secs(30),
                    "round {round} stuck"
                );
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
        stop.store(true, Ordering::SeqCst);
        let mut seen = HashSet::new();
        for c in claimers {
            for id in c.await.unwrap() {
                assert!(seen.insert(id), "event {id} claimed twice");
            }
        }
        assert_eq!(
            seen.len() as i64,
            ROUNDS * (2 + FILLERS),
            "on {}",
            s.backend_name()
        );
    })
    .await;
}

fn run_of(tenant_id: &str, name: &str, at: i64) -> NewEvent {
    NewEvent {
        kind: "schedule".into(),
        subject_key: format!("schedule:{name}"),
        dedupe_key: Some(format!("schedule:{name}:{at}")),
        ..event(tenant_id, "unused", at)
    }
}

/// Fires the schedule `name` once at `now`, as the scheduler does.
async fn fire(s: &Store, name: &str, now: i64) -> Fired {
    let due = s.due_schedules(now, 10).await.unwrap();
    let schedule = due.iter().find(|d| d.name == name).expect("due");
    s.fire_schedule(schedule, now, &run_of("t1", name, schedule.next_fire_at))
        .await
        .unwrap()
        .expect("won the slot")
}

/// Before: every slot queued a run behind the previous one, so a schedule whose run was dead
/// (a missing credential, say) stopped and piled up runs that a replay then let loose at once.
#[tokio::test]
async fn a_schedule_keeps_one_run_queued_and_goes_on_past_a_dead_one() {
    on_each_backend(|ctx: Ctx| async move {
        let s = &ctx.store;
        tenant(s, "t1").await;
        let every = 60_000;
        let t0 = now_ms() - 100 * every;
        s.upsert_schedule("t1", "p", "sync", every, t0)
            .await
            .unwrap();

        let Fired::Enqueued(first) = fire(s, "sync", t0).await else {
            panic!("the first slot queues a run")
        };
        // Two more slots while the run waits: folded into it.
        for k in 1..=2 {
            assert_eq!(
                fire(s, "sync", t0 + k * every).await,
                Fired::Coalesced { pending: first.id }
            );
        }
        assert_eq!(s.count_events(None).await.unwrap().queued, 1);
        let run = s.get_event(first.id).await.unwrap().unwrap();
        assert_eq!(run.schedule_name.as_deref(), Some("sync"));

        // The run dies for good.
        let claimed = s.claim_next("w", LEASE).await.unwrap().unwrap();
        s.dead_letter_event(claimed.claim(), "no Lever credential")
            .await
            .unwrap();

        // The next slot queues a new run, which is not held back by the dead one.
        let Fired::Enqueued(second) = fire(s, "sync", t0 + 3 * every).await else {
            panic!("a slot after a dead run queues a run")
        };
        let next = s.claim_next("w", LEASE).await.unwrap().unwrap();
        assert_eq!(next.id, second.id);
        // Running (not queued): the next slot queues one more, which waits for it (no overlap).
        let Fired::Enqueued(third) = fire(s, "sync", t0 + 4 * every).await else {
            panic!("a slot while a run runs queues the next")
        };
        assert!(s.claim_next("w", LEASE).await.unwrap().is_none());
        s.complete_event(next.claim()).await.unwrap();
        assert_eq!(
            s.claim_next("w", LEASE).await.unwrap().unwrap().id,
            third.id
        );
        // The dead run is still there for the admin, and blocks nothing.
        let dead = s.get_event(first.id).await.unwrap().unwrap();
        assert_eq!((dead.status, dead.waiting_behind), (EventStatus::Dead, 0));
        assert!(s.blocked_lanes().await.unwrap().is_empty());
    })
    .await;
}

/// Before: a dead letter showed as dead only; nothing said the events of its subject were
/// stuck behind it.
#[tokio::test]
async fn a_dead_letter_that_holds_back_its_subject_is_shown_as_blocking() {
    on_each_backend(|ctx: Ctx| async move {
        let s = &ctx.store;
        tenant(s, "t1").await;
        let dead = s.enqueue_event(&event("t1", "cand-a", 1)).await.unwrap().id;
        let behind: Vec<_> = [2, 3]
            .into_iter()
            .map(|n| event("t1", "cand-a", n))
            .collect();
        let mut waiting = Vec::new();
        for e in &behind {
            waiting.push(s.enqueue_event(e).await.unwrap().id);
        }
        // A dead letter with nothing behind it blocks nothing.
        let alone = s.enqueue_event(&event("t1", "cand-b", 4)).await.unwrap().id;
        for _ in 0..2 {
            let e = s.claim_next("w", LEASE).await.unwrap().unwrap();
            s.dead_letter_event(e.claim(), "bad").await.unwrap();
        }
        assert!(s.claim_next("w", LEASE).await.unwrap().is_none());

        let e = s.get_event(dead).await.unwrap().unwrap();
        assert_eq!((e.status, e.waiting_behind), (EventStatus::Dead, 2));
        assert_eq!(s.get_event(alone).await.unwrap().unwrap().waiting_behind, 0);
        assert_eq!(
            s.get_event(waiting[0])
                .await
                .unwrap()
                .unwrap()
                .waiting_behind,
            0
        );
        let listed = s.list_dead_events(10).await.unwrap();
        let counts: Vec<_> = listed.iter().map(|e| (e.id, e.waiting_behind)).collect();
        assert_eq!(counts, [(dead, 2), (alone, 0)]);
        assert_eq!(
            s.blocked_lanes().await.unwrap(),
            [BlockedLane {
                tenant_id: "t1".into(),
                plugin_id: "p".into(),
                dead_letters: 1,
                waiting: 2,
            }]
        );

        // Replayed, it no longer blocks: the subject drains in order.
        s.replay_event(dead).await.unwrap();
        assert!(s.blocked_lanes().await.unwrap().is_empty());
        for id in [dead, waiting[0], waiting[1]] {
            let e = s.claim_next("w", LEASE).await.unwrap().unwrap();
            assert_eq!(e.id, id);
            s.complete_event(e.claim()).await.unwrap();
        }
    })
    .await;
}
