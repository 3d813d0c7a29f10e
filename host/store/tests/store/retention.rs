//! Retention deletes old finished work in bounded batches and nothing an unfinished event
//! needs.

use super::raw_sql::{count, exec};
use super::{event, tenant};
use crate::common::{Ctx, on_each_backend};
use fulcrum_store::{NewAuditEntry, Purged, Store};
use serde_json::json;

/// An event with one journaled answer, left in `status` and dated at time 1000 (old).
async fn old_event(store: &Store, n: i64, status: &str) -> i64 {
    let id = store
        .enqueue_event(&event("t1", &format!("subject-{n}"), n))
        .await
        .unwrap()
        .id;
    store.journal_begin(id, 0, "op", "d").await.unwrap();
    store.journal_record(id, 0, &json!({"n": n})).await.unwrap();
    let age = |table: &str| {
        format!(
            "UPDATE {table} SET updated_at = 1000 WHERE {} = {id}",
            if table == "events" { "id" } else { "event_id" }
        )
    };
    exec(
        store,
        &format!("UPDATE events SET status = '{status}' WHERE id = {id}"),
    )
    .await;
    exec(store, &age("events")).await;
    exec(store, &age("effect_journal")).await;
    id
}

async fn journal_rows(store: &Store, event_id: i64) -> i64 {
    count(
        store,
        &format!("SELECT COUNT(*) FROM effect_journal WHERE event_id = {event_id}"),
    )
    .await
}

/// Before: nothing was ever deleted.
#[tokio::test]
async fn old_done_events_go_in_batches_with_their_journal_and_unfinished_ones_stay() {
    on_each_backend(|ctx: Ctx| async move {
        let s = &ctx.store;
        tenant(s, "t1").await;
        let mut done = Vec::new();
        for n in 1..=3 {
            done.push(old_event(s, n, "done").await);
        }
        let queued = old_event(s, 4, "queued").await;
        let running = old_event(s, 5, "running").await;
        let dead = old_event(s, 6, "dead").await;
        // Done just now: younger than the cutoff.
        let recent = s.enqueue_event(&event("t1", "fresh", 7)).await.unwrap().id;
        s.journal_begin(recent, 0, "op", "d").await.unwrap();
        s.journal_record(recent, 0, &json!({"n": 7})).await.unwrap();
        exec(
            s,
            &format!("UPDATE events SET status = 'done' WHERE id = {recent}"),
        )
        .await;

        let cutoff = 2000;
        assert_eq!(
            s.purge_done_events(cutoff, 2).await.unwrap(),
            Purged {
                events: 2,
                effect_journal: 2,
                audit_log: 0
            }
        );
        assert_eq!(
            s.purge_done_events(cutoff, 2).await.unwrap(),
            Purged {
                events: 1,
                effect_journal: 1,
                audit_log: 0
            }
        );
        assert_eq!(
            s.purge_done_events(cutoff, 2).await.unwrap(),
            Purged::default()
        );
        for id in &done {
            assert!(s.get_event(*id).await.unwrap().is_none(), "event {id}");
            assert_eq!(journal_rows(s, *id).await, 0);
        }
        for id in [queued, running, dead, recent] {
            assert!(s.get_event(id).await.unwrap().is_some(), "event {id} kept");
        }
        for id in [queued, running, dead] {
            assert_eq!(journal_rows(s, id).await, 1, "journal of {id} kept");
        }
        // Journal age: only rows of done events go, and never a newer one.
        assert_eq!(s.purge_journal(cutoff, 10).await.unwrap(), 0);
        let finished = old_event(s, 8, "done").await;
        exec(
            s,
            &format!("UPDATE events SET updated_at = 999999999999999 WHERE id = {finished}"),
        )
        .await;
        assert_eq!(s.purge_journal(cutoff, 10).await.unwrap(), 1);
        assert!(
            s.get_event(finished).await.unwrap().is_some(),
            "the event stays"
        );
        assert_eq!(journal_rows(s, finished).await, 0);
        assert_eq!(
            journal_rows(s, recent).await,
            1,
            "a recent journal row stays"
        );
        for id in [queued, running, dead] {
            assert_eq!(
                journal_rows(s, id).await,
                1,
                "journal of unfinished {id} kept"
            );
        }
    })
    .await;
}

#[tokio::test]
async fn old_audit_rows_go_oldest_first_in_batches() {
    on_each_backend(|ctx: Ctx| async move {
        let s = &ctx.store;
        tenant(s, "t1").await;
        for n in 0..5 {
            s.audit_append(&NewAuditEntry {
                tenant_id: "t1".into(),
                operation: format!("op-{n}"),
                outcome: "ok".into(),
                ..NewAuditEntry::default()
            })
            .await
            .unwrap();
        }
        exec(
            s,
            "UPDATE audit_log SET at = 1000 + id WHERE operation IN ('op-0', 'op-1', 'op-2')",
        )
        .await;
        assert_eq!(s.purge_audit(5000, 2).await.unwrap(), 2);
        assert_eq!(s.purge_audit(5000, 2).await.unwrap(), 1);
        assert_eq!(s.purge_audit(5000, 2).await.unwrap(), 0);
        let left: Vec<String> = s
            .audit_list("t1", 10)
            .await
            .unwrap()
            .into_iter()
            .map(|e| e.operation)
            .collect();
        assert_eq!(left, ["op-4", "op-3"]);
    })
    .await;
}
