//! Every repository test runs against SQLite and PostgreSQL (see `common`).

mod common;

use common::{Ctx, on_each_backend};
use fulcrum_store::{
    CredentialKind, CryptoError, EffectStatus, EventStatus, FailOutcome, Installation, MasterKey,
    NewAuditEntry, NewEvent, Store, StoreError, StorePool, now_ms,
};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use std::collections::HashSet;

async fn tenant(store: &Store, id: &str) {
    store
        .create_tenant(id, &format!("Tenant {id}"))
        .await
        .unwrap();
}

fn installation(tenant_id: &str, plugin_id: &str) -> Installation {
    Installation {
        tenant_id: tenant_id.into(),
        plugin_id: plugin_id.into(),
        enabled: false,
        approved_permissions: json!([]),
        config: json!({}),
        schedule_overrides: json!({}),
        updated_at: 0,
    }
}

fn event(tenant_id: &str, subject: &str, n: i64) -> NewEvent {
    NewEvent {
        tenant_id: tenant_id.into(),
        plugin_id: "p".into(),
        kind: "candidate.updated".into(),
        subject_key: subject.into(),
        payload: json!({ "n": n }),
    }
}

/// Run a statement directly against the backing database (to tamper with rows).
async fn raw_execute(store: &Store, sql: &'static str) {
    match store.pool() {
        StorePool::Sqlite(p) => sqlx::query(sql).execute(p).await.map(|_| ()),
        StorePool::Postgres(p) => sqlx::query(sql).execute(p).await.map(|_| ()),
    }
    .unwrap();
}

async fn raw_bytes(store: &Store, sql: &'static str) -> Vec<Vec<u8>> {
    match store.pool() {
        StorePool::Sqlite(p) => sqlx::query_scalar(sql).fetch_all(p).await,
        StorePool::Postgres(p) => sqlx::query_scalar(sql).fetch_all(p).await,
    }
    .unwrap()
}

fn contains(haystack: &[u8], needle: &[u8]) -> bool {
    haystack.windows(needle.len()).any(|w| w == needle)
}

fn assert_decrypt_error<T: std::fmt::Debug>(res: Result<T, StoreError>) {
    match res {
        Err(StoreError::Crypto(CryptoError::Decrypt { .. })) => {}
        other => panic!("expected a decrypt error, got {other:?}"),
    }
}

#[tokio::test]
async fn migrations_are_idempotent() {
    on_each_backend(|ctx: Ctx| async move {
        ctx.store.migrate().await.unwrap();
        ctx.store.migrate().await.unwrap();
        tenant(&ctx.store, "t1").await;
        // Reopening runs the migrator again over existing data.
        let again = ctx.reopen(ctx.same_key()).await;
        again.migrate().await.unwrap();
        assert_eq!(again.list_tenants().await.unwrap().len(), 1);
        let applied: i64 = match again.pool() {
            StorePool::Sqlite(p) => sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations")
                .fetch_one(p)
                .await
                .unwrap(),
            StorePool::Postgres(p) => sqlx::query_scalar("SELECT COUNT(*) FROM _sqlx_migrations")
                .fetch_one(p)
                .await
                .unwrap(),
        };
        assert_eq!(applied, 1);
        again.close().await;
    })
    .await;
}

#[tokio::test]
async fn tenants_create_get_list() {
    on_each_backend(|ctx: Ctx| async move {
        let s = &ctx.store;
        let t = s.create_tenant("acme", "Acme").await.unwrap();
        s.create_tenant("beta", "Beta").await.unwrap();
        assert_eq!(s.get_tenant("acme").await.unwrap(), Some(t));
        assert_eq!(s.get_tenant("nope").await.unwrap(), None);
        let ids: Vec<_> = s
            .list_tenants()
            .await
            .unwrap()
            .into_iter()
            .map(|t| t.id)
            .collect();
        assert_eq!(ids, ["acme", "beta"]);
        assert!(matches!(
            s.create_tenant("acme", "Again").await,
            Err(StoreError::AlreadyExists(_))
        ));
    })
    .await;
}

const API_KEY: &str = "lever-api-key-PLAINTEXT-7f3a9c";
const SECRET: &str = "webhook-signing-secret-PLAINTEXT-51b2";

#[tokio::test]
async fn secrets_are_not_readable_in_the_raw_database() {
    on_each_backend(|ctx: Ctx| async move {
        let s = &ctx.store;
        tenant(s, "t1").await;
        s.set_lever_credential("t1", CredentialKind::ApiKey, &SecretString::from(API_KEY))
            .await
            .unwrap();
        s.set_secret("t1", "p", "signing", &SecretString::from(SECRET))
            .await
            .unwrap();

        let cred = s.get_lever_credential("t1").await.unwrap().unwrap();
        assert_eq!(cred.kind, CredentialKind::ApiKey);
        assert_eq!(cred.secret.expose_secret(), API_KEY);
        let got = s.get_secret("t1", "p", "signing").await.unwrap().unwrap();
        assert_eq!(got.expose_secret(), SECRET);
        assert_eq!(s.secret_names("t1", "p").await.unwrap(), ["signing"]);
        assert!(s.get_lever_credential("t2").await.unwrap().is_none());

        // Replacing a credential re-encrypts it.
        s.set_lever_credential(
            "t1",
            CredentialKind::OAuth,
            &SecretString::from("{\"t\":1}"),
        )
        .await
        .unwrap();
        let cred = s.get_lever_credential("t1").await.unwrap().unwrap();
        assert_eq!(cred.kind, CredentialKind::OAuth);
        s.set_lever_credential("t1", CredentialKind::ApiKey, &SecretString::from(API_KEY))
            .await
            .unwrap();

        let stored = [
            raw_bytes(s, "SELECT ciphertext FROM lever_credentials").await,
            raw_bytes(s, "SELECT ciphertext FROM installation_secrets").await,
        ]
        .concat();
        assert_eq!(stored.len(), 2);
        for ct in &stored {
            assert!(!contains(ct, API_KEY.as_bytes()));
            assert!(!contains(ct, SECRET.as_bytes()));
        }

        if let Some(path) = &ctx.sqlite_path {
            // Checkpoint so the database file holds everything, then grep the file and WAL.
            raw_execute(s, "PRAGMA wal_checkpoint(TRUNCATE)").await;
            let mut files = vec![std::fs::read(path).unwrap()];
            if let Ok(wal) = std::fs::read(path.with_extension("db-wal")) {
                files.push(wal);
            }
            assert!(files[0].len() > 4096, "database file should hold data");
            for bytes in &files {
                assert!(!contains(bytes, API_KEY.as_bytes()), "API key in raw file");
                assert!(!contains(bytes, SECRET.as_bytes()), "secret in raw file");
            }
            // Control: the secret's name is not secret and is in the file in the clear, so
            // the search above really looks at the stored rows.
            assert!(contains(&files[0], b"signing"));
        }
    })
    .await;
}

#[tokio::test]
async fn wrong_master_key_gives_a_clear_decrypt_error() {
    on_each_backend(|ctx: Ctx| async move {
        let s = &ctx.store;
        tenant(s, "t1").await;
        s.set_lever_credential("t1", CredentialKind::ApiKey, &SecretString::from(API_KEY))
            .await
            .unwrap();
        s.set_secret("t1", "p", "signing", &SecretString::from(SECRET))
            .await
            .unwrap();

        let wrong = ctx.reopen(MasterKey::generate()).await;
        let err = wrong.get_lever_credential("t1").await.unwrap_err();
        let msg = err.to_string();
        assert!(msg.contains("master key"), "{msg}");
        assert!(msg.contains("FULCRUM_MASTER_KEY"), "{msg}");
        assert!(!msg.contains(API_KEY));
        assert_decrypt_error(wrong.get_secret("t1", "p", "signing").await);
        wrong.close().await;

        // A key of another version is named as such rather than as tampering.
        let rotated = ctx.reopen(ctx.same_key().with_version(2)).await;
        let err = rotated.get_secret("t1", "p", "signing").await.unwrap_err();
        assert!(err.to_string().contains("key version 1"), "{err}");
        rotated.close().await;

        let right = ctx.reopen(ctx.same_key()).await;
        let got = right
            .get_secret("t1", "p", "signing")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(got.expose_secret(), SECRET);
        right.close().await;
    })
    .await;
}

#[tokio::test]
async fn ciphertext_moved_to_another_row_fails_to_decrypt() {
    on_each_backend(|ctx: Ctx| async move {
        let s = &ctx.store;
        tenant(s, "t1").await;
        tenant(s, "t2").await;
        s.set_secret("t1", "p", "a", &SecretString::from("secret-a"))
            .await
            .unwrap();
        s.set_secret("t1", "p", "b", &SecretString::from("secret-b"))
            .await
            .unwrap();
        s.set_secret("t2", "p", "a", &SecretString::from("secret-t2"))
            .await
            .unwrap();
        s.set_lever_credential("t1", CredentialKind::ApiKey, &SecretString::from("key-1"))
            .await
            .unwrap();
        s.set_lever_credential("t2", CredentialKind::ApiKey, &SecretString::from("key-2"))
            .await
            .unwrap();

        // Secret b's sealed bytes copied over secret a (same tenant, other name).
        raw_execute(
            s,
            "UPDATE installation_secrets SET
                 ciphertext = (SELECT ciphertext FROM installation_secrets WHERE tenant_id = 't1' AND name = 'b'),
                 nonce = (SELECT nonce FROM installation_secrets WHERE tenant_id = 't1' AND name = 'b')
             WHERE tenant_id = 't1' AND name = 'a'",
        )
        .await;
        assert_decrypt_error(s.get_secret("t1", "p", "a").await);
        assert_eq!(
            s.get_secret("t1", "p", "b").await.unwrap().unwrap().expose_secret(),
            "secret-b"
        );

        // Tenant t2's Lever credential copied into tenant t1's row.
        raw_execute(
            s,
            "UPDATE lever_credentials SET
                 ciphertext = (SELECT ciphertext FROM lever_credentials WHERE tenant_id = 't2'),
                 nonce = (SELECT nonce FROM lever_credentials WHERE tenant_id = 't2')
             WHERE tenant_id = 't1'",
        )
        .await;
        assert_decrypt_error(s.get_lever_credential("t1").await);

        // Flipping the credential kind also breaks the binding.
        raw_execute(s, "UPDATE lever_credentials SET kind = 'oauth' WHERE tenant_id = 't2'").await;
        assert_decrypt_error(s.get_lever_credential("t2").await);
    })
    .await;
}

#[tokio::test]
async fn tenants_are_isolated() {
    on_each_backend(|ctx: Ctx| async move {
        let s = &ctx.store;
        tenant(s, "t1").await;
        tenant(s, "t2").await;

        s.state_set("t1", "p", "cursor", b"one").await.unwrap();
        s.state_set("t2", "p", "cursor", b"two").await.unwrap();
        s.state_set("t1", "q", "cursor", b"other-plugin")
            .await
            .unwrap();
        assert_eq!(
            s.state_get("t1", "p", "cursor").await.unwrap().unwrap(),
            b"one"
        );
        assert_eq!(
            s.state_get("t2", "p", "cursor").await.unwrap().unwrap(),
            b"two"
        );
        assert_eq!(
            s.state_get("t1", "q", "cursor").await.unwrap().unwrap(),
            b"other-plugin"
        );
        assert!(s.state_delete("t2", "p", "cursor").await.unwrap());
        assert_eq!(
            s.state_get("t1", "p", "cursor").await.unwrap().unwrap(),
            b"one"
        );
        assert!(s.state_get("t2", "p", "cursor").await.unwrap().is_none());
        assert!(
            s.state_list_keys("t2", "p", "", None, 10)
                .await
                .unwrap()
                .is_empty()
        );

        s.set_secret("t1", "p", "token", &SecretString::from("t1-token"))
            .await
            .unwrap();
        assert!(s.get_secret("t2", "p", "token").await.unwrap().is_none());
        assert!(s.get_secret("t1", "q", "token").await.unwrap().is_none());
        assert!(s.secret_names("t2", "p").await.unwrap().is_empty());

        s.upsert_installation(&installation("t1", "p"))
            .await
            .unwrap();
        assert!(s.get_installation("t2", "p").await.unwrap().is_none());
        assert!(s.list_installations("t2").await.unwrap().is_empty());
        assert!(matches!(
            s.set_installation_enabled("t2", "p", true).await,
            Err(StoreError::NotFound(_))
        ));
        s.audit_append(&NewAuditEntry {
            tenant_id: "t1".into(),
            operation: "op".into(),
            outcome: "allowed".into(),
            ..Default::default()
        })
        .await
        .unwrap();
        assert!(s.audit_list("t2", 10).await.unwrap().is_empty());
    })
    .await;
}

#[tokio::test]
async fn plugin_state_keys_page_by_prefix_and_cursor() {
    on_each_backend(|ctx: Ctx| async move {
        let s = &ctx.store;
        tenant(s, "t1").await;
        for key in ["job/3", "job/1", "job/2", "jobs", "Job/9", "other", "job_%"] {
            s.state_set("t1", "p", key, key.as_bytes()).await.unwrap();
        }
        s.state_set("t1", "p", "job/1", b"replaced").await.unwrap();
        assert_eq!(
            s.state_get("t1", "p", "job/1").await.unwrap().unwrap(),
            b"replaced"
        );

        let all = s.state_list_keys("t1", "p", "", None, 100).await.unwrap();
        // Byte order on both backends (uppercase first).
        assert_eq!(
            all,
            ["Job/9", "job/1", "job/2", "job/3", "job_%", "jobs", "other"]
        );
        let page1 = s.state_list_keys("t1", "p", "job/", None, 2).await.unwrap();
        assert_eq!(page1, ["job/1", "job/2"]);
        let page2 = s
            .state_list_keys("t1", "p", "job/", Some("job/2"), 2)
            .await
            .unwrap();
        assert_eq!(page2, ["job/3"]);
        // Wildcards in the prefix are literal.
        assert_eq!(
            s.state_list_keys("t1", "p", "job_", None, 10)
                .await
                .unwrap(),
            ["job_%"]
        );
        assert!(!s.state_delete("t1", "p", "missing").await.unwrap());
    })
    .await;
}

#[tokio::test]
async fn plugins_and_installations() {
    on_each_backend(|ctx: Ctx| async move {
        let s = &ctx.store;
        tenant(s, "t1").await;
        let manifest = json!({ "name": "sync", "permissions": ["candidates.read"] });
        let p1 = s
            .record_plugin("sync", "1.0.0", "aa11", &manifest)
            .await
            .unwrap();
        assert_eq!(p1.manifest, manifest);
        // Same version, same component: idempotent.
        assert_eq!(
            s.record_plugin("sync", "1.0.0", "aa11", &manifest)
                .await
                .unwrap(),
            p1
        );
        assert!(matches!(
            s.record_plugin("sync", "1.0.0", "bb22", &manifest).await,
            Err(StoreError::Conflict(_))
        ));
        s.record_plugin("sync", "1.1.0", "cc33", &manifest)
            .await
            .unwrap();
        let versions: Vec<_> = s
            .list_plugins()
            .await
            .unwrap()
            .into_iter()
            .map(|p| p.version)
            .collect();
        assert_eq!(versions, ["1.0.0", "1.1.0"]);

        let mut inst = installation("t1", "sync");
        inst.schedule_overrides = json!({ "poll": "*/5 * * * *" });
        let saved = s.upsert_installation(&inst).await.unwrap();
        assert!(!saved.enabled);
        assert_eq!(saved.schedule_overrides, inst.schedule_overrides);

        s.set_installation_enabled("t1", "sync", true)
            .await
            .unwrap();
        s.approve_permissions("t1", "sync", &json!(["candidates.read"]))
            .await
            .unwrap();
        s.set_installation_config("t1", "sync", &json!({ "stage": "onsite" }))
            .await
            .unwrap();
        let got = s.get_installation("t1", "sync").await.unwrap().unwrap();
        assert!(got.enabled);
        assert_eq!(got.approved_permissions, json!(["candidates.read"]));
        assert_eq!(got.config, json!({ "stage": "onsite" }));
        assert_eq!(got.schedule_overrides, inst.schedule_overrides);
        assert_eq!(s.list_installations("t1").await.unwrap(), [got]);

        // Upsert replaces everything.
        let replaced = s.upsert_installation(&inst).await.unwrap();
        assert!(!replaced.enabled);
        assert_eq!(replaced.config, json!({}));

        assert!(matches!(
            s.approve_permissions("t1", "missing", &json!([])).await,
            Err(StoreError::NotFound(_))
        ));
        assert!(matches!(
            s.set_installation_config("t1", "missing", &json!({})).await,
            Err(StoreError::NotFound(_))
        ));
    })
    .await;
}

#[tokio::test]
async fn audit_log_appends_and_lists_newest_first() {
    on_each_backend(|ctx: Ctx| async move {
        let s = &ctx.store;
        tenant(s, "t1").await;
        let first = s
            .audit_append(&NewAuditEntry {
                tenant_id: "t1".into(),
                plugin_id: Some("p".into()),
                event_id: Some(7),
                operation: "lever.candidates.read".into(),
                permission: Some("candidates.read".into()),
                outcome: "allowed".into(),
                detail: Some("page 1".into()),
            })
            .await
            .unwrap();
        let second = s
            .audit_append(&NewAuditEntry {
                tenant_id: "t1".into(),
                operation: "install".into(),
                outcome: "ok".into(),
                ..Default::default()
            })
            .await
            .unwrap();
        assert!(second > first);
        let list = s.audit_list("t1", 10).await.unwrap();
        assert_eq!(list.len(), 2);
        assert_eq!(list[0].id, second);
        assert_eq!(list[0].plugin_id, None);
        assert_eq!(list[1].event_id, Some(7));
        assert_eq!(list[1].permission.as_deref(), Some("candidates.read"));
        assert_eq!(s.audit_list("t1", 1).await.unwrap().len(), 1);
    })
    .await;
}

#[tokio::test]
async fn events_are_claimed_in_order_per_subject() {
    on_each_backend(|ctx: Ctx| async move {
        let s = &ctx.store;
        tenant(s, "t1").await;
        let a1 = s.enqueue_event(&event("t1", "cand-a", 1)).await.unwrap();
        let a2 = s.enqueue_event(&event("t1", "cand-a", 2)).await.unwrap();
        let b1 = s.enqueue_event(&event("t1", "cand-b", 3)).await.unwrap();
        assert!(a1 < a2 && a2 < b1);

        let first = s.claim_next("w1").await.unwrap().unwrap();
        assert_eq!(first.id, a1);
        assert_eq!(first.status, EventStatus::Running);
        assert_eq!(first.claimed_by.as_deref(), Some("w1"));
        assert_eq!(first.payload, json!({ "n": 1 }));
        // a2 waits behind running a1; b1 is independent.
        assert_eq!(s.claim_next("w2").await.unwrap().unwrap().id, b1);
        assert!(s.claim_next("w2").await.unwrap().is_none());

        s.complete_event(a1).await.unwrap();
        assert_eq!(
            s.get_event(a1).await.unwrap().unwrap().status,
            EventStatus::Done
        );
        assert_eq!(s.claim_next("w2").await.unwrap().unwrap().id, a2);
        assert!(matches!(
            s.complete_event(a1).await,
            Err(StoreError::Conflict(_))
        ));
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_claimers_never_share_an_event() {
    on_each_backend(|ctx: Ctx| async move {
        let s = ctx.store.clone();
        tenant(&s, "t1").await;
        const N: i64 = 40;
        let mut expected = HashSet::new();
        for n in 0..N {
            // A few shared subjects too, so ordering and concurrency interact.
            let subject = format!("subj-{}", n % 13);
            expected.insert(s.enqueue_event(&event("t1", &subject, n)).await.unwrap());
        }
        let mut workers = Vec::new();
        for w in 0..4 {
            let s = s.clone();
            workers.push(tokio::spawn(async move {
                let mut mine = Vec::new();
                let mut idle = 0;
                // Bounded: at most a few hundred claim attempts per worker.
                for _ in 0..400 {
                    match s.claim_next(&format!("w{w}")).await.unwrap() {
                        Some(e) => {
                            idle = 0;
                            mine.push(e.id);
                            tokio::task::yield_now().await;
                            s.complete_event(e.id).await.unwrap();
                        }
                        None => {
                            idle += 1;
                            if idle > 20 {
                                break;
                            }
                            tokio::time::sleep(std::time::Duration::from_millis(5)).await;
                        }
                    }
                }
                mine
            }));
        }
        let mut seen = HashSet::new();
        for w in workers {
            for id in w.await.unwrap() {
                assert!(
                    seen.insert(id),
                    "event {id} claimed twice on {}",
                    s.backend_name()
                );
            }
        }
        assert_eq!(seen, expected);
    })
    .await;
}

#[tokio::test]
async fn failures_retry_then_dead_letter_and_replay() {
    on_each_backend(|ctx: Ctx| async move {
        let s = ctx.store.clone().with_max_attempts(3);
        tenant(&s, "t1").await;
        let id = s.enqueue_event(&event("t1", "cand-a", 1)).await.unwrap();
        let later = s.enqueue_event(&event("t1", "cand-a", 2)).await.unwrap();
        let t0 = now_ms();

        let e = s.claim_next("w").await.unwrap().unwrap();
        assert_eq!(e.id, id);
        let retry_at = t0 + 60_000;
        assert_eq!(
            s.fail_event(id, retry_at, "lever 503").await.unwrap(),
            FailOutcome::Retrying { attempts: 1 }
        );
        let stored = s.get_event(id).await.unwrap().unwrap();
        assert_eq!(stored.status, EventStatus::Queued);
        assert_eq!(stored.attempts, 1);
        assert_eq!(stored.next_attempt_at, retry_at);
        assert_eq!(stored.last_error.as_deref(), Some("lever 503"));
        // Backoff: not due yet, and the later event of the same subject must wait too.
        assert!(s.claim_next("w").await.unwrap().is_none());

        let e = s.claim_next_at("w", retry_at).await.unwrap().unwrap();
        assert_eq!((e.id, e.attempts), (id, 1));
        assert_eq!(
            s.fail_event(id, retry_at + 1, "again").await.unwrap(),
            FailOutcome::Retrying { attempts: 2 }
        );
        s.claim_next_at("w", retry_at + 1).await.unwrap().unwrap();
        assert_eq!(
            s.fail_event(id, retry_at + 2, "final").await.unwrap(),
            FailOutcome::Dead { attempts: 3 }
        );
        assert!(matches!(
            s.fail_event(id, 0, "not running").await,
            Err(StoreError::Conflict(_))
        ));
        let dead = s.get_event(id).await.unwrap().unwrap();
        assert_eq!(dead.status, EventStatus::Dead);
        assert_eq!(dead.last_error.as_deref(), Some("final"));
        assert_eq!(s.list_dead_events(10).await.unwrap()[0].id, id);
        // A dead event holds its subject: the later one is not overtaken.
        assert!(s.claim_next_at("w", i64::MAX).await.unwrap().is_none());

        assert!(matches!(
            s.replay_event(later).await,
            Err(StoreError::Conflict(_))
        ));
        s.replay_event(id).await.unwrap();
        let replayed = s.get_event(id).await.unwrap().unwrap();
        assert_eq!(
            (replayed.status, replayed.attempts),
            (EventStatus::Queued, 0)
        );
        let e = s.claim_next("w").await.unwrap().unwrap();
        assert_eq!(e.id, id);
        s.complete_event(id).await.unwrap();
        assert_eq!(s.claim_next("w").await.unwrap().unwrap().id, later);
    })
    .await;
}

#[tokio::test]
async fn effect_journal_round_trip() {
    on_each_backend(|ctx: Ctx| async move {
        let s = &ctx.store;
        tenant(s, "t1").await;
        let ev = s.enqueue_event(&event("t1", "cand-a", 1)).await.unwrap();
        assert!(s.journal_get(ev, 0).await.unwrap().is_none());

        let begun = s
            .journal_begin(ev, 0, "lever.note.create", "sha256:abc")
            .await
            .unwrap();
        assert_eq!(begun.status, EffectStatus::Pending);
        assert_eq!(begun.response, None);
        // Duplicate begin: no-op, same row back.
        let again = s
            .journal_begin(ev, 0, "lever.note.create", "sha256:abc")
            .await
            .unwrap();
        assert_eq!(again, begun);

        let response = json!({ "id": "note-1", "ok": true });
        s.journal_record(ev, 0, &response).await.unwrap();
        let done = s.journal_get(ev, 0).await.unwrap().unwrap();
        assert_eq!(done.status, EffectStatus::Done);
        assert_eq!(done.response.as_ref(), Some(&response));
        // A re-delivered event begins the same call and gets the recorded response back.
        let replay = s
            .journal_begin(ev, 0, "lever.note.create", "sha256:abc")
            .await
            .unwrap();
        assert_eq!(replay, done);

        assert!(matches!(
            s.journal_record(ev, 0, &json!({})).await,
            Err(StoreError::Conflict(_))
        ));
        assert!(matches!(
            s.journal_record(ev, 1, &json!({})).await,
            Err(StoreError::Conflict(_))
        ));
        assert!(matches!(
            s.journal_begin(ev, 0, "lever.note.create", "sha256:other")
                .await,
            Err(StoreError::Conflict(_))
        ));
        let second = s
            .journal_begin(ev, 1, "lever.tag.add", "sha256:def")
            .await
            .unwrap();
        assert_eq!(second.call_seq, 1);
        assert_eq!(s.journal_get(ev, 0).await.unwrap().unwrap(), done);
    })
    .await;
}
