//! Every repository test runs against SQLite and PostgreSQL (see `common`).

mod common;
// Modules in tests/store/ (the test's root is tests/, hence the paths).
#[path = "store/connections.rs"]
mod connections;
#[path = "store/durability.rs"]
mod durability;
#[path = "store/journal_sealing.rs"]
mod journal_sealing;
#[path = "store/key_rotation.rs"]
mod key_rotation;
#[path = "store/lever_setup.rs"]
mod lever_setup;
#[path = "store/oauth_states.rs"]
mod oauth_states;
#[path = "store/queue.rs"]
mod queue;
#[path = "store/raw_sql.rs"]
mod raw_sql;
#[path = "store/retention.rs"]
mod retention;

use common::{Ctx, on_each_backend};
use fulcrum_store::{
    CredentialKind, CryptoError, EffectStatus, Enqueued, EventCounts, EventFilter, EventStatus,
    FailOutcome, Fired, Installation, LeverSettings, MasterKey, NewAuditEntry, NewEvent, Schedule,
    StateWrite, Store, StoreError, StorePool, now_ms,
};
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use std::collections::HashSet;
use std::time::Duration;

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
        plugin: plugin_id.into(),
        name: None,
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
        dedupe_key: None,
    }
}

/// An event of plugin `plugin` carrying `dedupe_key`.
fn keyed(tenant_id: &str, plugin_id: &str, key: Option<&str>) -> NewEvent {
    NewEvent {
        plugin_id: plugin_id.into(),
        dedupe_key: key.map(Into::into),
        ..event(tenant_id, "subject", 0)
    }
}

fn write(key: &str, value: Option<&[u8]>) -> StateWrite {
    StateWrite {
        tenant_id: "t1".into(),
        plugin_id: "p".into(),
        key: key.into(),
        value: value.map(<[u8]>::to_vec),
    }
}

async fn count_rows(store: &Store, sql: &'static str) -> i64 {
    match store.pool() {
        StorePool::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await,
        StorePool::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await,
    }
    .unwrap()
}

/// A claim lease long enough never to expire during a test unless the test says so.
const LEASE: Duration = Duration::from_secs(600);

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
        assert_eq!(applied, 14);
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
        // Rows name their key (its id), so another key is named as such, not as tampering.
        let err = wrong.get_secret("t1", "p", "signing").await.unwrap_err();
        assert!(
            matches!(err, StoreError::Crypto(CryptoError::KeyVersion { .. })),
            "{err:?}"
        );
        assert!(
            err.to_string()
                .contains(&format!("master key {:08x}", ctx.same_key().id())),
            "{err}"
        );
        // A row from before key ids (version 1) is tried with the loaded key: tampering.
        raw_execute(s, "UPDATE installation_secrets SET key_version = 1").await;
        assert_decrypt_error(wrong.get_secret("t1", "p", "signing").await);
        wrong.close().await;

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

/// An installation change and the lifecycle hook it causes commit together: both, or (the
/// installation missing) neither.
#[tokio::test]
async fn installation_changes_commit_with_their_hook() {
    on_each_backend(|ctx: Ctx| async move {
        let s = &ctx.store;
        tenant(s, "t1").await;
        s.upsert_installation(&installation("t1", "p"))
            .await
            .unwrap();
        let hook = event("t1", "lifecycle", 1);
        let queued = s
            .set_installation_config_with_hook("t1", "p", &json!({"a": 1}), Some(&hook))
            .await
            .unwrap()
            .expect("the hook is stored");
        let stored = s.get_installation("t1", "p").await.unwrap().unwrap();
        assert_eq!(stored.config, json!({"a": 1}));
        assert!(s.get_event(queued.id).await.unwrap().is_some());
        let none = s
            .set_installation_enabled_with_hook("t1", "p", true, None)
            .await
            .unwrap();
        assert!(none.is_none());
        assert!(
            s.get_installation("t1", "p")
                .await
                .unwrap()
                .unwrap()
                .enabled
        );

        // A missing installation: the hook is not stored either.
        let before = s.count_events(Some("t1")).await.unwrap();
        let missing = s
            .set_installation_enabled_with_hook(
                "t1",
                "gone",
                false,
                Some(&event("t1", "lifecycle", 2)),
            )
            .await;
        assert!(
            matches!(missing, Err(StoreError::NotFound(_))),
            "{missing:?}"
        );
        assert_eq!(s.count_events(Some("t1")).await.unwrap(), before);
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
        let a1 = s.enqueue_event(&event("t1", "cand-a", 1)).await.unwrap().id;
        let a2 = s.enqueue_event(&event("t1", "cand-a", 2)).await.unwrap().id;
        let b1 = s.enqueue_event(&event("t1", "cand-b", 3)).await.unwrap().id;
        assert!(a1 < a2 && a2 < b1);

        let first = s.claim_next("w1", LEASE).await.unwrap().unwrap();
        assert_eq!(first.id, a1);
        assert_eq!(first.status, EventStatus::Running);
        assert_eq!(first.claimed_by.as_deref(), Some("w1"));
        assert_eq!(first.payload, json!({ "n": 1 }));
        // a2 waits behind running a1; b1 is independent.
        assert_eq!(s.claim_next("w2", LEASE).await.unwrap().unwrap().id, b1);
        assert!(s.claim_next("w2", LEASE).await.unwrap().is_none());

        s.complete_event(first.claim()).await.unwrap();
        assert_eq!(
            s.get_event(a1).await.unwrap().unwrap().status,
            EventStatus::Done
        );
        assert_eq!(s.claim_next("w2", LEASE).await.unwrap().unwrap().id, a2);
        assert!(matches!(
            s.complete_event(first.claim()).await,
            Err(StoreError::ClaimLost { .. })
        ));
    })
    .await;
}

#[tokio::test]
async fn capped_claims_pass_over_a_busy_installation() {
    on_each_backend(|ctx: Ctx| async move {
        let s = &ctx.store;
        tenant(s, "t1").await;
        // Plugin "p" has a backlog of independent events; "q" has one, queued last.
        let mut backlog = Vec::new();
        for n in 0..4 {
            let e = event("t1", &format!("cand-{n}"), n);
            backlog.push(s.enqueue_event(&e).await.unwrap().id);
        }
        let q = s.enqueue_event(&keyed("t1", "q", None)).await.unwrap().id;

        // Two of "p" may run at once: the third claim skips the rest of p's backlog.
        let first = s.claim_next_capped("w1", LEASE, 2).await.unwrap().unwrap();
        assert_eq!(first.id, backlog[0]);
        assert_eq!(
            s.claim_next_capped("w2", LEASE, 2)
                .await
                .unwrap()
                .unwrap()
                .id,
            backlog[1]
        );
        assert_eq!(
            s.claim_next_capped("w3", LEASE, 2)
                .await
                .unwrap()
                .unwrap()
                .id,
            q
        );
        assert!(s.claim_next_capped("w4", LEASE, 2).await.unwrap().is_none());

        // A finished event frees its installation's slot.
        s.complete_event(first.claim()).await.unwrap();
        assert_eq!(
            s.claim_next_capped("w4", LEASE, 2)
                .await
                .unwrap()
                .unwrap()
                .id,
            backlog[2]
        );
        // The uncapped claim ignores the limit.
        assert_eq!(
            s.claim_next("w5", LEASE).await.unwrap().unwrap().id,
            backlog[3]
        );
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
            expected.insert(s.enqueue_event(&event("t1", &subject, n)).await.unwrap().id);
        }
        let mut workers = Vec::new();
        for w in 0..4 {
            let s = s.clone();
            workers.push(tokio::spawn(async move {
                let mut mine = Vec::new();
                let mut idle = 0;
                // Bounded: at most a few hundred claim attempts per worker.
                for _ in 0..400 {
                    match s.claim_next(&format!("w{w}"), LEASE).await.unwrap() {
                        Some(e) => {
                            idle = 0;
                            mine.push(e.id);
                            tokio::task::yield_now().await;
                            s.complete_event(e.claim()).await.unwrap();
                        }
                        None => {
                            idle += 1;
                            if idle > 20 {
                                break;
                            }
                            tokio::time::sleep(Duration::from_millis(5)).await;
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
        let id = s.enqueue_event(&event("t1", "cand-a", 1)).await.unwrap().id;
        let later = s.enqueue_event(&event("t1", "cand-a", 2)).await.unwrap().id;
        let t0 = now_ms();

        let e = s.claim_next("w", LEASE).await.unwrap().unwrap();
        assert_eq!((e.id, e.attempts), (id, 1));
        let retry_at = t0 + 60_000;
        assert_eq!(
            s.fail_event(e.claim(), retry_at, "lever 503")
                .await
                .unwrap(),
            FailOutcome::Retrying { attempts: 1 }
        );
        let stored = s.get_event(id).await.unwrap().unwrap();
        assert_eq!(stored.status, EventStatus::Queued);
        assert_eq!(stored.attempts, 1);
        assert_eq!(stored.next_attempt_at, retry_at);
        assert_eq!(stored.last_error.as_deref(), Some("lever 503"));
        // Backoff: not due yet, and the later event of the same subject must wait too.
        assert!(s.claim_next("w", LEASE).await.unwrap().is_none());

        let e = s
            .claim_next_at("w", retry_at, LEASE)
            .await
            .unwrap()
            .unwrap();
        assert_eq!((e.id, e.attempts), (id, 2));
        assert_eq!(
            s.fail_event(e.claim(), retry_at + 1, "again")
                .await
                .unwrap(),
            FailOutcome::Retrying { attempts: 2 }
        );
        let e = s
            .claim_next_at("w", retry_at + 1, LEASE)
            .await
            .unwrap()
            .unwrap();
        assert_eq!(
            s.fail_event(e.claim(), retry_at + 2, "final")
                .await
                .unwrap(),
            FailOutcome::Dead { attempts: 3 }
        );
        assert!(matches!(
            s.fail_event(e.claim(), 0, "not running").await,
            Err(StoreError::ClaimLost { .. })
        ));
        let dead = s.get_event(id).await.unwrap().unwrap();
        assert_eq!(dead.status, EventStatus::Dead);
        assert_eq!(dead.last_error.as_deref(), Some("final"));
        assert_eq!(s.list_dead_events(10).await.unwrap()[0].id, id);
        // A dead event holds its subject: the later one is not overtaken.
        assert!(
            s.claim_next_at("w", i64::MAX, LEASE)
                .await
                .unwrap()
                .is_none()
        );

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
        let e = s.claim_next("w", LEASE).await.unwrap().unwrap();
        assert_eq!((e.id, e.attempts), (id, 1));
        s.complete_event(e.claim()).await.unwrap();
        assert_eq!(s.claim_next("w", LEASE).await.unwrap().unwrap().id, later);
    })
    .await;
}

#[tokio::test]
async fn effect_journal_round_trip() {
    on_each_backend(|ctx: Ctx| async move {
        let s = &ctx.store;
        tenant(s, "t1").await;
        let ev = s.enqueue_event(&event("t1", "cand-a", 1)).await.unwrap().id;
        assert!(s.journal_get(ev, 0).await.unwrap().is_none());

        let first = s
            .journal_begin(ev, 0, "lever.note.create", "sha256:abc")
            .await
            .unwrap();
        assert!(first.fresh, "the first begin inserts the entry");
        let begun = first.entry;
        assert_eq!(begun.status, EffectStatus::Pending);
        assert_eq!(begun.response, None);
        // Duplicate begin: no-op, same row back, not fresh.
        let again = s
            .journal_begin(ev, 0, "lever.note.create", "sha256:abc")
            .await
            .unwrap();
        assert!(!again.fresh);
        assert_eq!(again.entry, begun);

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
        assert!(!replay.fresh);
        assert_eq!(replay.entry, done);

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
        assert!(second.fresh);
        assert_eq!(second.entry.call_seq, 1);
        assert_eq!(s.journal_get(ev, 0).await.unwrap().unwrap(), done);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_journal_begins_report_exactly_one_fresh() {
    on_each_backend(|ctx: Ctx| async move {
        let s = ctx.store.clone();
        tenant(&s, "t1").await;
        let ev = s.enqueue_event(&event("t1", "cand-a", 1)).await.unwrap().id;
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let s = s.clone();
                tokio::spawn(async move { s.journal_begin(ev, 0, "op", "d").await.unwrap() })
            })
            .collect();
        let mut fresh = 0;
        for t in tasks {
            let begun = t.await.unwrap();
            assert_eq!(begun.entry.status, EffectStatus::Pending);
            fresh += usize::from(begun.fresh);
        }
        assert_eq!(fresh, 1, "on {}", s.backend_name());
    })
    .await;
}

#[tokio::test]
async fn dedupe_key_enqueues_once_per_tenant_and_plugin() {
    on_each_backend(|ctx: Ctx| async move {
        let s = &ctx.store;
        tenant(s, "t1").await;
        tenant(s, "t2").await;
        let first = s
            .enqueue_event(&keyed("t1", "p", Some("webhook-42")))
            .await
            .unwrap();
        assert!(!first.duplicate);
        let again = s
            .enqueue_event(&keyed("t1", "p", Some("webhook-42")))
            .await
            .unwrap();
        assert_eq!(
            again,
            Enqueued {
                id: first.id,
                duplicate: true
            }
        );
        // The key is scoped by tenant × plugin.
        let other_plugin = s
            .enqueue_event(&keyed("t1", "q", Some("webhook-42")))
            .await
            .unwrap();
        let other_tenant = s
            .enqueue_event(&keyed("t2", "p", Some("webhook-42")))
            .await
            .unwrap();
        assert!(!other_plugin.duplicate && !other_tenant.duplicate);
        assert_ne!(other_plugin.id, first.id);
        assert_ne!(other_tenant.id, first.id);
        // No key never dedupes.
        let a = s.enqueue_event(&keyed("t1", "p", None)).await.unwrap();
        let b = s.enqueue_event(&keyed("t1", "p", None)).await.unwrap();
        assert!(!a.duplicate && !b.duplicate && a.id != b.id);

        let stored = s.get_event(first.id).await.unwrap().unwrap();
        assert_eq!(stored.dedupe_key.as_deref(), Some("webhook-42"));
        assert_eq!(s.get_event(a.id).await.unwrap().unwrap().dedupe_key, None);

        // Still a duplicate once the first event is done.
        while let Some(e) = s.claim_next("w", LEASE).await.unwrap() {
            s.complete_event(e.claim()).await.unwrap();
        }
        assert_eq!(
            s.get_event(first.id).await.unwrap().unwrap().status,
            EventStatus::Done
        );
        let late = s
            .enqueue_event(&keyed("t1", "p", Some("webhook-42")))
            .await
            .unwrap();
        assert_eq!(
            late,
            Enqueued {
                id: first.id,
                duplicate: true
            }
        );
        assert_eq!(count_rows(s, "SELECT COUNT(*) FROM events").await, 5);
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_enqueues_of_one_dedupe_key_insert_one_event() {
    on_each_backend(|ctx: Ctx| async move {
        let s = ctx.store.clone();
        tenant(&s, "t1").await;
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let s = s.clone();
                tokio::spawn(async move {
                    s.enqueue_event(&keyed("t1", "p", Some("same")))
                        .await
                        .unwrap()
                })
            })
            .collect();
        let mut results = Vec::new();
        for t in tasks {
            results.push(t.await.unwrap());
        }
        let inserted: Vec<_> = results.iter().filter(|r| !r.duplicate).collect();
        assert_eq!(inserted.len(), 1, "on {}: {results:?}", s.backend_name());
        assert!(results.iter().all(|r| r.id == inserted[0].id));
        assert_eq!(count_rows(&s, "SELECT COUNT(*) FROM events").await, 1);
    })
    .await;
}

#[tokio::test]
async fn claim_sets_a_lease_that_only_its_claim_can_extend() {
    on_each_backend(|ctx: Ctx| async move {
        let s = &ctx.store;
        tenant(s, "t1").await;
        let id = s.enqueue_event(&event("t1", "a", 1)).await.unwrap().id;
        assert_eq!(s.get_event(id).await.unwrap().unwrap().lease_until, None);
        let t0 = now_ms();
        let e = s
            .claim_next_at("w1", t0, Duration::from_secs(30))
            .await
            .unwrap()
            .unwrap();
        assert_eq!(e.lease_until, Some(t0 + 30_000));

        // Another claim number of the same event (none was made) holds nothing.
        let forged = fulcrum_store::Claim {
            seq: e.claims + 1,
            ..e.claim()
        };
        assert!(
            !s.extend_lease(forged, Duration::from_secs(600))
                .await
                .unwrap()
        );
        assert_eq!(
            s.get_event(id).await.unwrap().unwrap().lease_until,
            Some(t0 + 30_000)
        );
        let before = now_ms();
        assert!(
            s.extend_lease(e.claim(), Duration::from_secs(600))
                .await
                .unwrap()
        );
        let extended = s.get_event(id).await.unwrap().unwrap().lease_until.unwrap();
        assert!(extended >= before + 600_000, "{extended} vs {before}");

        s.complete_event(e.claim()).await.unwrap();
        let done = s.get_event(id).await.unwrap().unwrap();
        assert_eq!(done.lease_until, None);
        // A finished event's lease cannot be extended.
        assert!(
            !s.extend_lease(e.claim(), Duration::from_secs(600))
                .await
                .unwrap()
        );
        let unknown = fulcrum_store::Claim {
            event_id: 9999,
            seq: 1,
        };
        assert!(!s.extend_lease(unknown, LEASE).await.unwrap());
    })
    .await;
}

#[tokio::test]
async fn expired_leases_are_requeued_with_the_lost_try_counted() {
    on_each_backend(|ctx: Ctx| async move {
        let s = &ctx.store;
        tenant(s, "t1").await;
        let id = s.enqueue_event(&event("t1", "a", 1)).await.unwrap().id;
        let t0 = now_ms();
        // One earlier failure, so the count is visible.
        let e = s.claim_next_at("w1", t0, LEASE).await.unwrap().unwrap();
        s.fail_event(e.claim(), t0, "boom").await.unwrap();

        let lease = Duration::from_secs(30);
        assert_eq!(
            s.claim_next_at("w1", t0, lease).await.unwrap().unwrap().id,
            id
        );
        // Another worker holds another event on a long lease.
        let other = s.enqueue_event(&event("t1", "b", 2)).await.unwrap().id;
        let held = s.claim_next("w2", LEASE).await.unwrap().unwrap();
        assert_eq!(held.id, other);

        // Not expired yet (the lease runs to t0 + 30 s inclusive).
        assert_eq!(s.requeue_expired(t0 + 30_000).await.unwrap(), 0);
        let later = t0 + 30_001;
        assert_eq!(s.requeue_expired(later).await.unwrap(), 1);
        let back = s.get_event(id).await.unwrap().unwrap();
        assert_eq!(back.status, EventStatus::Queued);
        assert_eq!(back.claimed_by, None);
        assert_eq!(back.lease_until, None);
        assert_eq!(back.attempts, 2, "the failed try and the lost one");
        assert_eq!(back.next_attempt_at, later);
        assert_eq!(
            back.last_error.as_deref(),
            Some("worker lost: lease expired")
        );
        // The other worker's longer lease is untouched.
        let still = s.get_event(other).await.unwrap().unwrap();
        assert_eq!(still.status, EventStatus::Running);
        assert_eq!(still.claimed_by.as_deref(), Some("w2"));

        // Another worker picks it up (what the lost worker can still do then: see
        // `queue::a_worker_whose_event_was_claimed_again_cannot_finish_it`).
        let again = s.claim_next_at("w3", later, LEASE).await.unwrap().unwrap();
        assert_eq!((again.id, again.attempts), (id, 3));
        assert_eq!(again.claimed_by.as_deref(), Some("w3"));
        s.complete_event(again.claim()).await.unwrap();
        // Done events are never requeued.
        assert_eq!(s.requeue_expired(i64::MAX).await.unwrap(), 1); // only `other`
        assert_eq!(
            s.get_event(id).await.unwrap().unwrap().status,
            EventStatus::Done
        );
    })
    .await;
}

#[tokio::test]
async fn release_claims_requeues_a_restarted_nodes_expired_events_by_literal_prefix() {
    on_each_backend(|ctx: Ctx| async move {
        let s = &ctx.store;
        tenant(s, "t1").await;
        let mut ids = Vec::new();
        for n in 0..5 {
            ids.push(
                s.enqueue_event(&event("t1", &format!("subj-{n}"), n))
                    .await
                    .unwrap()
                    .id,
            );
        }
        // A previous run's claims, their lease over (the run stopped heartbeating)...
        let workers = ["node-a/1", "node-a/2", "node_a/3", "node-ab/1"];
        for w in workers {
            s.claim_next(w, LEASE).await.unwrap().unwrap();
        }
        raw_execute(
            s,
            "UPDATE events SET lease_until = 1 WHERE status = 'running'",
        )
        .await;
        // ...and a live process given the same node id, within its lease.
        s.claim_next("node-a/live", LEASE).await.unwrap().unwrap();
        let by_worker = |w: &str| {
            let w = w.to_owned();
            async move {
                s.list_events(&EventFilter::default())
                    .await
                    .unwrap()
                    .into_iter()
                    .find(|e| e.claimed_by.as_deref() == Some(w.as_str()))
            }
        };
        let a1 = by_worker("node-a/1").await.unwrap().id;
        let underscore = by_worker("node_a/3").await.unwrap().id;

        // `_` is not a wildcard: "node_a/" matches only node_a/3.
        assert_eq!(s.release_claims("node_a/").await.unwrap(), 1);
        let e = s.get_event(underscore).await.unwrap().unwrap();
        assert_eq!(e.status, EventStatus::Queued);
        assert_eq!(e.claimed_by, None);
        assert_eq!(e.lease_until, None);
        assert_eq!(e.attempts, 1, "the interrupted try counts");
        assert_eq!(e.last_error.as_deref(), Some("worker restarted"));
        assert!(e.next_attempt_at <= now_ms());

        assert_eq!(s.release_claims("node-a/").await.unwrap(), 2);
        assert_eq!(
            s.get_event(a1).await.unwrap().unwrap().status,
            EventStatus::Queued
        );
        let ab = by_worker("node-ab/1").await.unwrap();
        assert_eq!(ab.status, EventStatus::Running);
        // Before: the live process's event was requeued under it too.
        let live = by_worker("node-a/live").await.unwrap();
        assert_eq!(live.status, EventStatus::Running);
        assert_eq!(s.release_claims("node-a/").await.unwrap(), 0);
        assert_eq!(
            s.count_events(None).await.unwrap(),
            EventCounts {
                queued: 3,
                running: 2,
                done: 0,
                dead: 0
            }
        );
        assert_eq!(ids.len(), 5);
    })
    .await;
}

#[tokio::test]
async fn complete_event_with_state_applies_writes_and_completes_together() {
    on_each_backend(|ctx: Ctx| async move {
        let s = &ctx.store;
        tenant(s, "t1").await;
        s.state_set("t1", "p", "old", b"x").await.unwrap();
        s.state_set("t1", "p", "cursor", b"1").await.unwrap();
        let id = s.enqueue_event(&event("t1", "a", 1)).await.unwrap().id;
        let claimed = s.claim_next("w", LEASE).await.unwrap().unwrap();
        s.complete_event_with_state(
            claimed.claim(),
            &[
                write("cursor", Some(b"2")),
                write("new", Some(b"n")),
                write("old", None),
                write("missing", None),
                // Later writes to the same key win.
                write("new", Some(b"n2")),
            ],
        )
        .await
        .unwrap();
        let e = s.get_event(id).await.unwrap().unwrap();
        assert_eq!(e.status, EventStatus::Done);
        assert_eq!(e.lease_until, None);
        assert_eq!(
            s.state_get("t1", "p", "cursor").await.unwrap().unwrap(),
            b"2"
        );
        assert_eq!(s.state_get("t1", "p", "new").await.unwrap().unwrap(), b"n2");
        assert!(s.state_get("t1", "p", "old").await.unwrap().is_none());

        // No writes is a plain completion.
        let id2 = s.enqueue_event(&event("t1", "a", 2)).await.unwrap().id;
        let claimed = s.claim_next("w", LEASE).await.unwrap().unwrap();
        s.complete_event_with_state(claimed.claim(), &[])
            .await
            .unwrap();
        assert_eq!(
            s.get_event(id2).await.unwrap().unwrap().status,
            EventStatus::Done
        );
    })
    .await;
}

#[tokio::test]
async fn complete_event_with_state_changes_nothing_when_the_event_is_not_running() {
    on_each_backend(|ctx: Ctx| async move {
        let s = &ctx.store;
        tenant(s, "t1").await;
        s.state_set("t1", "p", "cursor", b"1").await.unwrap();
        let id = s.enqueue_event(&event("t1", "a", 1)).await.unwrap().id;
        let writes = [write("cursor", Some(b"2")), write("new", Some(b"n"))];
        // Queued, never claimed.
        let never = fulcrum_store::Claim {
            event_id: id,
            seq: 0,
        };
        assert!(matches!(
            s.complete_event_with_state(never, &writes).await,
            Err(StoreError::ClaimLost { .. })
        ));
        // Lease expired and requeued: the lost worker's writes must not land.
        let t0 = now_ms();
        let lost = s
            .claim_next_at("w", t0, Duration::from_millis(10))
            .await
            .unwrap()
            .unwrap();
        s.requeue_expired(t0 + 11).await.unwrap();
        assert!(matches!(
            s.complete_event_with_state(lost.claim(), &writes).await,
            Err(StoreError::ClaimLost { .. })
        ));
        // Unknown event.
        let unknown = fulcrum_store::Claim {
            event_id: 9999,
            seq: 1,
        };
        assert!(matches!(
            s.complete_event_with_state(unknown, &writes).await,
            Err(StoreError::ClaimLost { .. })
        ));
        assert_eq!(
            s.state_get("t1", "p", "cursor").await.unwrap().unwrap(),
            b"1"
        );
        assert!(s.state_get("t1", "p", "new").await.unwrap().is_none());
        assert_eq!(
            s.get_event(id).await.unwrap().unwrap().status,
            EventStatus::Queued
        );
    })
    .await;
}

#[tokio::test]
async fn complete_event_with_state_rolls_back_when_a_write_fails() {
    on_each_backend(|ctx: Ctx| async move {
        let s = &ctx.store;
        tenant(s, "t1").await;
        let id = s.enqueue_event(&event("t1", "a", 1)).await.unwrap().id;
        let claim = s.claim_next("w", LEASE).await.unwrap().unwrap().claim();
        let mut bad = write("k", Some(b"v"));
        bad.tenant_id = "no-such-tenant".into(); // violates the tenant foreign key
        let res = s
            .complete_event_with_state(claim, &[write("first", Some(b"1")), bad])
            .await;
        assert!(matches!(res, Err(StoreError::Database(_))), "{res:?}");
        // Neither the event nor the first write changed.
        let e = s.get_event(id).await.unwrap().unwrap();
        assert_eq!(e.status, EventStatus::Running);
        assert!(s.state_get("t1", "p", "first").await.unwrap().is_none());
        // The worker can still finish it.
        s.complete_event_with_state(claim, &[write("first", Some(b"1"))])
            .await
            .unwrap();
        assert_eq!(
            s.state_get("t1", "p", "first").await.unwrap().unwrap(),
            b"1"
        );
    })
    .await;
}

#[tokio::test]
async fn dead_letter_event_sends_a_running_event_straight_to_dead() {
    on_each_backend(|ctx: Ctx| async move {
        let s = &ctx.store;
        tenant(s, "t1").await;
        let id = s.enqueue_event(&event("t1", "a", 1)).await.unwrap().id;
        let later = s.enqueue_event(&event("t1", "a", 2)).await.unwrap().id;
        let t0 = now_ms();
        let e = s.claim_next_at("w", t0, LEASE).await.unwrap().unwrap();
        s.fail_event(e.claim(), t0, "transient").await.unwrap();
        let claim = s
            .claim_next_at("w", t0, LEASE)
            .await
            .unwrap()
            .unwrap()
            .claim();

        assert_eq!(
            s.dead_letter_event(claim, "invalid config: no stage")
                .await
                .unwrap(),
            2
        );
        let dead = s.get_event(id).await.unwrap().unwrap();
        assert_eq!(dead.status, EventStatus::Dead);
        assert_eq!(dead.attempts, 2);
        assert_eq!(dead.last_error.as_deref(), Some("invalid config: no stage"));
        assert_eq!(dead.claimed_by, None);
        assert_eq!(dead.lease_until, None);
        // Only the running event's claim: not again, not a queued one.
        assert!(matches!(
            s.dead_letter_event(claim, "again").await,
            Err(StoreError::ClaimLost { .. })
        ));
        let queued = fulcrum_store::Claim {
            event_id: later,
            seq: 0,
        };
        assert!(matches!(
            s.dead_letter_event(queued, "queued").await,
            Err(StoreError::ClaimLost { .. })
        ));
        // Like any dead event it holds its subject until replayed.
        assert!(
            s.claim_next_at("w", i64::MAX, LEASE)
                .await
                .unwrap()
                .is_none()
        );
        s.replay_event(id).await.unwrap();
        assert_eq!(s.claim_next("w", LEASE).await.unwrap().unwrap().id, id);
    })
    .await;
}

/// An admin's replay of a dead letter forgets the journaled reads made after the event's last
/// journaled write (they decided nothing in Lever), so the replay sees what was fixed in
/// Lever meanwhile; reads before it and the writes stay.
#[tokio::test]
async fn replay_forgets_only_the_reads_after_the_last_write() {
    on_each_backend(|ctx: Ctx| async move {
        let s = &ctx.store;
        tenant(s, "t1").await;
        let id = s.enqueue_event(&event("t1", "a", 1)).await.unwrap().id;
        let other = s.enqueue_event(&event("t1", "b", 2)).await.unwrap().id;
        let first = s.claim_next("w", LEASE).await.unwrap().unwrap();
        assert_eq!(first.id, id);
        let second = s.claim_next("w", LEASE).await.unwrap().unwrap();
        assert_eq!(second.id, other);
        // The journal orders entries by their millisecond: wait for the clock to pass one.
        let pause = || async {
            let now = now_ms();
            while now_ms() <= now {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        };
        // read #0 (key -1), write #0, read #1 (key -2): the handler then failed for good.
        s.journal_begin(id, -1, "GET /users", "sha256:u")
            .await
            .unwrap();
        s.journal_record(id, -1, &json!({"Ok": []})).await.unwrap();
        pause().await;
        s.journal_begin(id, 0, "POST /opportunities", "sha256:o")
            .await
            .unwrap();
        s.journal_record(id, 0, &json!({"id": "o1"})).await.unwrap();
        pause().await;
        s.journal_begin(id, -2, "GET /stages", "sha256:s")
            .await
            .unwrap();
        s.journal_record(id, -2, &json!({"Ok": []})).await.unwrap();
        s.dead_letter_event(first.claim(), "no such stage")
            .await
            .unwrap();

        s.replay_event(id).await.unwrap();
        assert!(
            s.journal_get(id, -1).await.unwrap().is_some(),
            "read before the write"
        );
        assert!(s.journal_get(id, 0).await.unwrap().is_some(), "the write");
        assert!(
            s.journal_get(id, -2).await.unwrap().is_none(),
            "read after the last write"
        );

        // Without any write, every read goes.
        s.journal_begin(other, -1, "GET /users", "sha256:u")
            .await
            .unwrap();
        s.dead_letter_event(second.claim(), "no such user")
            .await
            .unwrap();
        s.replay_event(other).await.unwrap();
        assert!(s.journal_get(other, -1).await.unwrap().is_none());
    })
    .await;
}

#[tokio::test]
async fn list_events_filters_and_pages_by_id() {
    on_each_backend(|ctx: Ctx| async move {
        let s = &ctx.store;
        tenant(s, "t1").await;
        tenant(s, "t2").await;
        let mut t1p = Vec::new();
        for n in 0..5 {
            t1p.push(
                s.enqueue_event(&event("t1", &format!("s{n}"), n))
                    .await
                    .unwrap()
                    .id,
            );
        }
        let t1q = s
            .enqueue_event(&keyed("t1", "q", Some("k")))
            .await
            .unwrap()
            .id;
        let t2p = s.enqueue_event(&event("t2", "s", 9)).await.unwrap().id;
        let running = s.claim_next("w", LEASE).await.unwrap().unwrap().id;
        assert_eq!(running, t1p[0]);

        let ids = |events: Vec<fulcrum_store::Event>| -> Vec<i64> {
            events.into_iter().map(|e| e.id).collect()
        };
        let all = s.list_events(&EventFilter::default()).await.unwrap();
        assert_eq!(all.len(), 7);
        assert!(all.windows(2).all(|w| w[0].id < w[1].id));

        let mut filter = EventFilter {
            tenant_id: Some("t1".into()),
            plugin_id: Some("p".into()),
            limit: 2,
            ..Default::default()
        };
        let page1 = ids(s.list_events(&filter).await.unwrap());
        assert_eq!(page1, t1p[..2]);
        filter.after_id = page1.last().copied();
        let page2 = ids(s.list_events(&filter).await.unwrap());
        assert_eq!(page2, t1p[2..4]);
        filter.after_id = page2.last().copied();
        filter.limit = 100;
        assert_eq!(ids(s.list_events(&filter).await.unwrap()), t1p[4..]);

        let by_plugin = EventFilter {
            plugin_id: Some("q".into()),
            ..Default::default()
        };
        let q = s.list_events(&by_plugin).await.unwrap();
        assert_eq!(ids(q.clone()), [t1q]);
        assert_eq!(q[0].dedupe_key.as_deref(), Some("k"));
        let by_tenant = EventFilter {
            tenant_id: Some("t2".into()),
            ..Default::default()
        };
        assert_eq!(ids(s.list_events(&by_tenant).await.unwrap()), [t2p]);
        let by_status = EventFilter {
            status: Some(EventStatus::Running),
            ..Default::default()
        };
        let r = s.list_events(&by_status).await.unwrap();
        assert_eq!(ids(r.clone()), [running]);
        assert_eq!(r[0].claimed_by.as_deref(), Some("w"));
        assert!(r[0].lease_until.is_some());
        let none = EventFilter {
            limit: 0,
            ..Default::default()
        };
        assert!(s.list_events(&none).await.unwrap().is_empty());
        // A huge limit is capped rather than refused.
        let huge = EventFilter {
            limit: u32::MAX,
            ..Default::default()
        };
        assert_eq!(s.list_events(&huge).await.unwrap().len(), 7);
    })
    .await;
}

#[tokio::test]
async fn count_events_by_status_for_one_tenant_or_all() {
    on_each_backend(|ctx: Ctx| async move {
        let s = &ctx.store;
        tenant(s, "t1").await;
        tenant(s, "t2").await;
        assert_eq!(s.count_events(None).await.unwrap(), EventCounts::default());
        for n in 0..4 {
            s.enqueue_event(&event("t1", &format!("s{n}"), n))
                .await
                .unwrap();
        }
        s.enqueue_event(&event("t2", "s", 0)).await.unwrap();
        let done = s.claim_next("w", LEASE).await.unwrap().unwrap().claim();
        s.complete_event(done).await.unwrap();
        let dead = s.claim_next("w", LEASE).await.unwrap().unwrap().claim();
        s.dead_letter_event(dead, "bad").await.unwrap();
        s.claim_next("w", LEASE).await.unwrap().unwrap();

        assert_eq!(
            s.count_events(Some("t1")).await.unwrap(),
            EventCounts {
                queued: 1,
                running: 1,
                done: 1,
                dead: 1
            }
        );
        assert_eq!(
            s.count_events(Some("t2")).await.unwrap(),
            EventCounts {
                queued: 1,
                ..Default::default()
            }
        );
        assert_eq!(
            s.count_events(None).await.unwrap(),
            EventCounts {
                queued: 2,
                running: 1,
                done: 1,
                dead: 1
            }
        );
        assert_eq!(
            s.count_events(Some("nobody")).await.unwrap(),
            EventCounts::default()
        );
    })
    .await;
}

// ---- schedules ----

fn tick(tenant_id: &str, plugin_id: &str) -> NewEvent {
    NewEvent {
        plugin_id: plugin_id.into(),
        kind: "schedule.tick".into(),
        ..event(tenant_id, "schedule", 0)
    }
}

#[tokio::test]
async fn upsert_schedule_inserts_once_and_reschedules_on_a_new_period() {
    on_each_backend(|ctx: Ctx| async move {
        let s = &ctx.store;
        tenant(s, "t1").await;
        let t0 = 1_000_000;
        let created = s
            .upsert_schedule("t1", "p", "poll", 60_000, t0)
            .await
            .unwrap();
        assert_eq!(
            created,
            Schedule {
                tenant_id: "t1".into(),
                plugin_id: "p".into(),
                name: "poll".into(),
                every_ms: 60_000,
                next_fire_at: t0,
                last_fired_at: None,
            }
        );
        // Same period: untouched, first_fire_at ignored.
        let same = s
            .upsert_schedule("t1", "p", "poll", 60_000, t0 + 5)
            .await
            .unwrap();
        assert_eq!(same, created);

        // Fired at t0: next at t0 + 60 s, last fired t0.
        let fired = s
            .fire_schedule(&created, t0, &tick("t1", "p"))
            .await
            .unwrap();
        assert!(fired.is_some());
        let fired = s.list_schedules("t1").await.unwrap().remove(0);
        assert_eq!(
            (fired.next_fire_at, fired.last_fired_at),
            (t0 + 60_000, Some(t0))
        );

        // Shorter period: due one new period after the last fire (earlier than before).
        let shorter = s
            .upsert_schedule("t1", "p", "poll", 10_000, 0)
            .await
            .unwrap();
        assert_eq!(shorter.every_ms, 10_000);
        assert_eq!(shorter.next_fire_at, t0 + 10_000);
        assert_eq!(shorter.last_fired_at, Some(t0));
        // Longer period: keeps the earlier next_fire_at.
        let longer = s
            .upsert_schedule("t1", "p", "poll", 3_600_000, 0)
            .await
            .unwrap();
        assert_eq!(longer.every_ms, 3_600_000);
        assert_eq!(longer.next_fire_at, t0 + 10_000);

        // Never fired: a new period counts from now.
        let far = now_ms() + 86_400_000;
        s.upsert_schedule("t1", "p", "daily", 86_400_000, far)
            .await
            .unwrap();
        let before = now_ms();
        let hourly = s
            .upsert_schedule("t1", "p", "daily", 3_600_000, far)
            .await
            .unwrap();
        assert!(hourly.next_fire_at >= before + 3_600_000);
        assert!(hourly.next_fire_at <= now_ms() + 3_600_000);

        assert!(matches!(
            s.upsert_schedule("t1", "p", "bad", 0, t0).await,
            Err(StoreError::Invalid(_))
        ));
        let names: Vec<_> = s
            .list_schedules("t1")
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.name)
            .collect();
        assert_eq!(names, ["daily", "poll"]);
    })
    .await;
}

#[tokio::test]
async fn delete_schedules_except_drops_undeclared_schedules() {
    on_each_backend(|ctx: Ctx| async move {
        let s = &ctx.store;
        tenant(s, "t1").await;
        tenant(s, "t2").await;
        for name in ["a", "b", "c"] {
            s.upsert_schedule("t1", "p", name, 1_000, 0).await.unwrap();
        }
        s.upsert_schedule("t1", "q", "a", 1_000, 0).await.unwrap();
        s.upsert_schedule("t2", "p", "a", 1_000, 0).await.unwrap();

        let keep = ["a".to_owned(), "c".to_owned(), "not-there".to_owned()];
        assert_eq!(
            s.delete_schedules_except("t1", "p", &keep).await.unwrap(),
            1
        );
        let t1: Vec<_> = s
            .list_schedules("t1")
            .await
            .unwrap()
            .into_iter()
            .map(|s| (s.plugin_id, s.name))
            .collect();
        assert_eq!(
            t1,
            [
                ("p".to_owned(), "a".to_owned()),
                ("p".to_owned(), "c".to_owned()),
                ("q".to_owned(), "a".to_owned())
            ]
        );
        // Disabled installation: keep nothing.
        assert_eq!(s.delete_schedules_except("t1", "p", &[]).await.unwrap(), 2);
        assert_eq!(s.list_schedules("t1").await.unwrap().len(), 1);
        assert_eq!(s.list_schedules("t2").await.unwrap().len(), 1);
        assert_eq!(s.delete_schedules_except("t1", "p", &[]).await.unwrap(), 0);
    })
    .await;
}

#[tokio::test]
async fn due_schedules_lists_due_ones_most_overdue_first() {
    on_each_backend(|ctx: Ctx| async move {
        let s = &ctx.store;
        tenant(s, "t1").await;
        s.upsert_schedule("t1", "p", "late", 1_000, 300)
            .await
            .unwrap();
        s.upsert_schedule("t1", "p", "later", 1_000, 100)
            .await
            .unwrap();
        s.upsert_schedule("t1", "p", "exact", 1_000, 500)
            .await
            .unwrap();
        s.upsert_schedule("t1", "p", "future", 1_000, 501)
            .await
            .unwrap();
        let due: Vec<_> = s
            .due_schedules(500, 10)
            .await
            .unwrap()
            .into_iter()
            .map(|s| s.name)
            .collect();
        assert_eq!(due, ["later", "late", "exact"]);
        assert_eq!(s.due_schedules(500, 1).await.unwrap()[0].name, "later");
        assert!(s.due_schedules(99, 10).await.unwrap().is_empty());
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn concurrent_fire_schedule_fires_exactly_once() {
    on_each_backend(|ctx: Ctx| async move {
        let s = ctx.store.clone();
        tenant(&s, "t1").await;
        let now = now_ms();
        s.upsert_schedule("t1", "p", "poll", 60_000, now - 1)
            .await
            .unwrap();
        let seen = s.due_schedules(now, 10).await.unwrap().remove(0);
        let tasks: Vec<_> = (0..8)
            .map(|_| {
                let s = s.clone();
                let seen = seen.clone();
                tokio::spawn(
                    async move { s.fire_schedule(&seen, now, &tick("t1", "p")).await.unwrap() },
                )
            })
            .collect();
        let mut fired = Vec::new();
        for t in tasks {
            if let Some(Fired::Enqueued(enqueued)) = t.await.unwrap() {
                fired.push(enqueued);
            }
        }
        assert_eq!(fired.len(), 1, "on {}: {fired:?}", s.backend_name());
        assert!(!fired[0].duplicate);
        let events = s.list_events(&EventFilter::default()).await.unwrap();
        assert_eq!(events.len(), 1);
        assert_eq!(events[0].id, fired[0].id);
        assert_eq!(events[0].kind, "schedule.tick");
        let after = s.list_schedules("t1").await.unwrap().remove(0);
        assert_eq!(after.next_fire_at, now - 1 + 60_000);
        assert_eq!(after.last_fired_at, Some(now));
        assert!(s.due_schedules(now, 10).await.unwrap().is_empty());
    })
    .await;
}

#[tokio::test]
async fn fire_schedule_after_ten_missed_periods_fires_once_and_moves_to_the_future() {
    on_each_backend(|ctx: Ctx| async move {
        let s = &ctx.store;
        tenant(s, "t1").await;
        let every = 60_000;
        let due = now_ms() - 10 * every - 1_234; // down for over ten periods
        s.upsert_schedule("t1", "p", "poll", every, due)
            .await
            .unwrap();
        let now = now_ms();
        let mut fires = 0;
        // A scheduler loop: fire whatever is due until nothing is.
        for _ in 0..20 {
            let due_now = s.due_schedules(now, 10).await.unwrap();
            if due_now.is_empty() {
                break;
            }
            for sch in due_now {
                if s.fire_schedule(&sch, now, &tick("t1", "p"))
                    .await
                    .unwrap()
                    .is_some()
                {
                    fires += 1;
                }
            }
        }
        assert_eq!(fires, 1);
        assert_eq!(s.count_events(None).await.unwrap().queued, 1);
        let after = s.list_schedules("t1").await.unwrap().remove(0);
        assert!(after.next_fire_at > now, "{} <= {now}", after.next_fire_at);
        assert!(after.next_fire_at - now <= every);
        assert_eq!((after.next_fire_at - due) % every, 0, "stays on its grid");
        assert_eq!(after.last_fired_at, Some(now));
    })
    .await;
}

#[tokio::test]
async fn fire_schedule_with_a_stale_or_early_read_does_nothing() {
    on_each_backend(|ctx: Ctx| async move {
        let s = &ctx.store;
        tenant(s, "t1").await;
        let sch = s
            .upsert_schedule("t1", "p", "poll", 1_000, 5_000)
            .await
            .unwrap();
        // Not due yet at 4 999.
        assert_eq!(
            s.fire_schedule(&sch, 4_999, &tick("t1", "p"))
                .await
                .unwrap(),
            None
        );
        assert!(
            s.fire_schedule(&sch, 5_000, &tick("t1", "p"))
                .await
                .unwrap()
                .is_some()
        );
        // The same (now stale) read again: already fired.
        assert_eq!(
            s.fire_schedule(&sch, 5_500, &tick("t1", "p"))
                .await
                .unwrap(),
            None
        );
        // Deleted in between: nothing to fire.
        let fresh = s.list_schedules("t1").await.unwrap().remove(0);
        s.delete_schedules_except("t1", "p", &[]).await.unwrap();
        assert_eq!(
            s.fire_schedule(&fresh, 6_000, &tick("t1", "p"))
                .await
                .unwrap(),
            None
        );
        assert_eq!(s.count_events(None).await.unwrap().queued, 1);
        // An event for another tenant or plugin is refused.
        let sch = s
            .upsert_schedule("t1", "p", "poll", 1_000, 0)
            .await
            .unwrap();
        assert!(matches!(
            s.fire_schedule(&sch, 0, &tick("t1", "other")).await,
            Err(StoreError::Invalid(_))
        ));
        assert_eq!(s.list_schedules("t1").await.unwrap()[0].next_fire_at, 0);
    })
    .await;
}

#[tokio::test]
async fn fire_schedule_enqueues_with_the_events_dedupe_key() {
    on_each_backend(|ctx: Ctx| async move {
        let s = &ctx.store;
        tenant(s, "t1").await;
        let a = s.upsert_schedule("t1", "p", "a", 1_000, 0).await.unwrap();
        let b = s.upsert_schedule("t1", "p", "b", 1_000, 0).await.unwrap();
        let mut ev = tick("t1", "p");
        ev.dedupe_key = Some("tick@0".into());
        let Some(Fired::Enqueued(first)) = s.fire_schedule(&a, 10, &ev).await.unwrap() else {
            panic!("schedule a queues a run")
        };
        let second = s.fire_schedule(&b, 10, &ev).await.unwrap();
        assert!(!first.duplicate);
        assert_eq!(
            second,
            Some(Fired::Enqueued(Enqueued {
                id: first.id,
                duplicate: true
            }))
        );
        // Both schedules moved on even though one event was deduplicated.
        assert!(s.due_schedules(10, 10).await.unwrap().is_empty());
    })
    .await;
}

#[tokio::test]
async fn tenant_lever_settings_schedule_overrides_and_batched_audit() {
    on_each_backend(|ctx: Ctx| async move {
        let s = &ctx.store;
        tenant(s, "t1").await;
        assert_eq!(
            s.get_lever_settings("t1").await.unwrap(),
            LeverSettings::default()
        );
        let settings = LeverSettings {
            base_url: Some("https://api.eu.lever.co/v1".into()),
            acting_user_id: Some("user-1".into()),
        };
        s.set_lever_settings("t1", &settings).await.unwrap();
        assert_eq!(s.get_lever_settings("t1").await.unwrap(), settings);
        assert!(matches!(
            s.set_lever_settings("nobody", &settings).await,
            Err(StoreError::NotFound(_))
        ));

        s.upsert_installation(&installation("t1", "p"))
            .await
            .unwrap();
        let overrides = json!({"tick": {"every_seconds": 60}});
        s.set_schedule_overrides("t1", "p", &overrides)
            .await
            .unwrap();
        let inst = s.get_installation("t1", "p").await.unwrap().unwrap();
        assert_eq!(inst.schedule_overrides, overrides);

        let entry = |op: &str| NewAuditEntry {
            tenant_id: "t1".into(),
            plugin_id: Some("p".into()),
            event_id: Some(1),
            operation: op.into(),
            permission: None,
            outcome: "allowed".into(),
            detail: None,
        };
        s.audit_append_many(&[entry("GET /stages"), entry("POST /opportunities")])
            .await
            .unwrap();
        s.audit_append_many(&[]).await.unwrap();
        let listed = s.audit_list("t1", 10).await.unwrap();
        let ops: Vec<_> = listed.iter().map(|a| a.operation.as_str()).collect();
        assert_eq!(ops, ["POST /opportunities", "GET /stages"]);
    })
    .await;
}

// ---- admin API tokens ----

#[tokio::test]
async fn api_tokens_are_stored_hashed_and_authenticate_until_revoked() {
    use fulcrum_store::{API_TOKEN_PREFIX, Role};
    on_each_backend(|ctx: Ctx| async move {
        let s = &ctx.store;
        tenant(s, "t1").await;
        let operator = s
            .issue_api_token(Role::PlatformOperator, None, "bootstrap")
            .await
            .unwrap();
        let admin = s
            .issue_api_token(Role::TenantAdmin, Some("t1"), "ops team")
            .await
            .unwrap();
        let plaintext = admin.plaintext.expose_secret().to_owned();
        assert!(plaintext.starts_with(API_TOKEN_PREFIX), "{plaintext}");
        assert_ne!(plaintext, operator.plaintext.expose_secret());

        let found = s.authenticate_api_token(&plaintext).await.unwrap().unwrap();
        assert_eq!(found, admin.token);
        assert_eq!(found.role, Role::TenantAdmin);
        assert_eq!(found.tenant_id.as_deref(), Some("t1"));
        for wrong in [
            "",
            "fulcrum_",
            "not-a-token",
            &plaintext[..plaintext.len() - 1],
        ] {
            assert_eq!(
                s.authenticate_api_token(wrong).await.unwrap(),
                None,
                "{wrong:?}"
            );
        }

        // Only the hash is in the database.
        const HASHES: &str = "SELECT token_sha256 FROM api_tokens";
        let hashes: Vec<String> = match s.pool() {
            StorePool::Sqlite(p) => sqlx::query_scalar(HASHES).fetch_all(p).await,
            StorePool::Postgres(p) => sqlx::query_scalar(HASHES).fetch_all(p).await,
        }
        .unwrap();
        assert_eq!(hashes.len(), 2);
        for hash in &hashes {
            assert!(!hash.contains(&plaintext[API_TOKEN_PREFIX.len()..]));
            assert_eq!(hash.len(), 64, "hex SHA-256: {hash}");
        }

        let listed = s.list_api_tokens(None).await.unwrap();
        assert_eq!(listed, [operator.token.clone(), admin.token.clone()]);
        assert_eq!(
            s.list_api_tokens(Some("t1")).await.unwrap(),
            std::slice::from_ref(&admin.token)
        );

        let revoked = s.revoke_api_token(admin.token.id).await.unwrap();
        assert!(revoked.revoked_at.is_some());
        assert_eq!(s.authenticate_api_token(&plaintext).await.unwrap(), None);
        // Revoking twice keeps the first revocation time.
        assert_eq!(s.revoke_api_token(admin.token.id).await.unwrap(), revoked);
        assert!(matches!(
            s.revoke_api_token(999_999).await,
            Err(StoreError::NotFound(_))
        ));
        // The operator's token is unaffected.
        assert!(
            s.authenticate_api_token(operator.plaintext.expose_secret())
                .await
                .unwrap()
                .is_some()
        );
    })
    .await;
}

#[tokio::test]
async fn an_api_token_with_an_expiry_stops_working_then_and_says_so() {
    use fulcrum_store::{Role, TokenCheck};
    on_each_backend(|ctx: Ctx| async move {
        let s = &ctx.store;
        tenant(s, "t1").await;
        let hour = 3_600_000;
        let expires_at = now_ms() + hour;
        let issued = s
            .issue_api_token_with_expiry(
                Role::TenantMember,
                Some("t1"),
                "contractor",
                Some(expires_at),
            )
            .await
            .unwrap();
        assert_eq!(issued.token.expires_at, Some(expires_at));
        let plaintext = issued.plaintext.expose_secret().to_owned();
        let forever = s
            .issue_api_token(Role::TenantMember, Some("t1"), "staff")
            .await
            .unwrap();
        assert_eq!(forever.token.expires_at, None);

        // Valid until the expiry, expired from then on (the record says which token it was).
        assert_eq!(
            s.check_api_token(&plaintext, expires_at - 1).await.unwrap(),
            TokenCheck::Valid(issued.token.clone())
        );
        assert_eq!(
            s.check_api_token(&plaintext, expires_at).await.unwrap(),
            TokenCheck::Expired(issued.token.clone())
        );
        assert!(
            s.authenticate_api_token(&plaintext)
                .await
                .unwrap()
                .is_some()
        );
        let later = expires_at + 365 * 24 * hour;
        assert_eq!(
            s.check_api_token(forever.plaintext.expose_secret(), later)
                .await
                .unwrap(),
            TokenCheck::Valid(forever.token.clone()),
            "a token without an expiry never expires"
        );
        assert_eq!(
            s.check_api_token("fulcrum_unknown", now_ms())
                .await
                .unwrap(),
            TokenCheck::Unknown
        );
        // Listings carry the expiry; a revoked token is unknown, expired or not.
        let listed = s.list_api_tokens(Some("t1")).await.unwrap();
        assert_eq!(listed, [issued.token.clone(), forever.token.clone()]);
        s.revoke_api_token(issued.token.id).await.unwrap();
        assert_eq!(
            s.check_api_token(&plaintext, later).await.unwrap(),
            TokenCheck::Unknown
        );

        // An expiry in the past is refused and stores nothing.
        assert!(matches!(
            s.issue_api_token_with_expiry(Role::TenantMember, Some("t1"), "", Some(now_ms() - 1))
                .await,
            Err(StoreError::Invalid(_))
        ));
        assert_eq!(s.list_api_tokens(None).await.unwrap().len(), 2);
    })
    .await;
}

#[tokio::test]
async fn api_tokens_need_a_tenant_exactly_for_tenant_roles() {
    use fulcrum_store::Role;
    on_each_backend(|ctx: Ctx| async move {
        let s = &ctx.store;
        tenant(s, "t1").await;
        assert!(matches!(
            s.issue_api_token(Role::PlatformOperator, Some("t1"), "").await,
            Err(StoreError::Invalid(_))
        ));
        assert!(matches!(
            s.issue_api_token(Role::TenantMember, None, "").await,
            Err(StoreError::Invalid(_))
        ));
        assert!(matches!(
            s.issue_api_token(Role::TenantSuperAdmin, Some("nobody"), "").await,
            Err(StoreError::NotFound(_))
        ));
        assert!(matches!(
            s.issue_api_token(Role::TenantMember, Some("t1"), &"x".repeat(201)).await,
            Err(StoreError::Invalid(_))
        ));
        assert_eq!(count_rows(s, "SELECT COUNT(*) FROM api_tokens").await, 0);
        // The database refuses the same mistakes if anything writes around the store.
        for sql in [
            "INSERT INTO api_tokens (token_sha256, role, tenant_id, label, created_at) VALUES ('a', 'platform-operator', 't1', '', 0)",
            "INSERT INTO api_tokens (token_sha256, role, tenant_id, label, created_at) VALUES ('b', 'tenant-admin', NULL, '', 0)",
            "INSERT INTO api_tokens (token_sha256, role, tenant_id, label, created_at) VALUES ('c', 'root', NULL, '', 0)",
        ] {
            let refused = match s.pool() {
                StorePool::Sqlite(p) => sqlx::query(sql).execute(p).await.is_err(),
                StorePool::Postgres(p) => sqlx::query(sql).execute(p).await.is_err(),
            };
            assert!(refused, "{sql}");
        }
    })
    .await;
}
