//! Master key rotation: every encrypted column moves to the new key, and reads work before,
//! during and after.

use super::connections::oauth_app;
use super::raw_sql::{count, exec};
use super::{event, tenant};
use crate::common::{Ctx, on_each_backend};
use fulcrum_store::{
    ConnectionSecret, ConsumedState, CredentialKind, CryptoError, MasterKey, NewOAuthState,
    RotationProgress, Store, StoreError, StoreOptions, VendorRequestGuard,
};
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use std::time::Duration;

fn copy(key: &MasterKey) -> MasterKey {
    MasterKey::from_base64(key.to_base64().expose_secret(), "test key").unwrap()
}

async fn open(ctx: &Ctx, current: &MasterKey, previous: Option<&MasterKey>) -> Store {
    let options = StoreOptions {
        previous_key: previous.map(copy),
        ..StoreOptions::default()
    };
    Store::connect_with(&ctx.url, copy(current), options)
        .await
        .unwrap()
}

/// Every encrypted value, read through the store's getters.
async fn read_all(store: &Store, event_id: i64) -> Result<Vec<String>, StoreError> {
    let credential = store.get_lever_credential("t1").await?.unwrap();
    let secret = store.get_secret("t1", "p", "api-token").await?.unwrap();
    let tokens = store.lever_webhook_tokens("t1").await?;
    let stage = tokens.iter().find(|t| t.name == "stage").unwrap();
    let answer: Value = store
        .journal_get(event_id, -1)
        .await?
        .unwrap()
        .response
        .unwrap();
    let legacy: Value = store
        .journal_get(event_id, 0)
        .await?
        .unwrap()
        .response
        .unwrap();
    let headers = store.event_sealed_headers(event_id + 1).await?.unwrap();
    let Some((_, ConnectionSecret::ApiKey(connection))) =
        store.lever_connection_secret("t1", "p").await?
    else {
        panic!("no API key connection")
    };
    let (_, client_secret) = store.get_lever_oauth_app("lever").await?.unwrap();
    let hook_tokens = store.managed_webhook_tokens("t1", "p").await?;
    Ok(vec![
        connection.expose_secret().to_owned(),
        client_secret.expose_secret().to_owned(),
        hook_tokens[0].expose_secret().to_owned(),
        credential.secret.expose_secret().to_owned(),
        secret.expose_secret().to_owned(),
        stage.token.expose_secret().to_owned(),
        answer.to_string(),
        legacy.to_string(),
        String::from_utf8(headers).unwrap(),
    ])
}

/// Before: no way to rotate (one key per store, checked by a fixed version number).
#[tokio::test]
async fn rotation_moves_every_encrypted_column_and_reads_work_throughout() {
    on_each_backend(|ctx: Ctx| async move {
        let old = ctx.same_key();
        let new = MasterKey::generate();
        let s = &ctx.store;
        tenant(s, "t1").await;
        s.set_lever_credential("t1", CredentialKind::ApiKey, &SecretString::from("lever-key"))
            .await
            .unwrap();
        s.set_secret("t1", "p", "api-token", &SecretString::from("vendor-secret"))
            .await
            .unwrap();
        s.set_lever_webhook_token("t1", "stage", &SecretString::from("hook-token"))
            .await
            .unwrap();
        let ev = s.enqueue_event(&event("t1", "c", 1)).await.unwrap().id;
        s.journal_begin(ev, -1, "read", "d").await.unwrap();
        s.journal_record(ev, -1, &json!({"candidate": "Ada"})).await.unwrap();
        // A journal row from before sealing, and a secret from before key ids (version 1).
        exec(
            s,
            &format!(
                "INSERT INTO effect_journal (event_id, call_seq, operation, request_digest, status, response, created_at, updated_at)
                 VALUES ({ev}, 0, 'write', 'd', 'done', '{{\"id\":\"n1\"}}', 0, 0)"
            ),
        )
        .await;
        exec(s, "UPDATE installation_secrets SET key_version = 1").await;
        // A vendor event's credential headers (the event after `ev`).
        let guard = VendorRequestGuard {
            digest: "body-sha256",
            fresh_since: 0,
            sealed_headers: Some(b"authorization: Bearer vendor-token"),
        };
        let vendor = s
            .enqueue_vendor_request(&event("t1", "v", 2), guard)
            .await
            .unwrap();
        assert_eq!(vendor.id, ev + 1);
        // The tables of migration 0012 (the OAuth state is read once, at the end).
        s.put_api_key_connection("t1", "p", &SecretString::from("installation-key"), false, "a")
            .await
            .unwrap();
        oauth_app(s, "lever").await;
        s.put_managed_webhook("t1", "p", "candidateHired", "wh-1", "https://x/", &SecretString::from("hook-sig"))
            .await
            .unwrap();
        let verifier = SecretString::from("pkce-verifier-0123456789abcdefghijklmnopqrstuvwxyz");
        let state = "rotation-state-000000000000000000";
        s.create_oauth_state(&NewOAuthState {
            state,
            tenant_id: "t1",
            installation_id: "p",
            requested_by: "a",
            redirect_uri: "https://x/cb",
            scopes: "",
            pkce_verifier: &verifier,
            ttl: Duration::from_secs(600),
        })
        .await
        .unwrap();
        let expected = read_all(s, ev).await.unwrap();

        // New key current, old key previous: every row still reads.
        let rotating = open(&ctx, &new, Some(&old)).await;
        assert_eq!(read_all(&rotating, ev).await.unwrap(), expected);
        let all = RotationProgress {
            lever_credentials: 1,
            installation_secrets: 1,
            lever_webhook_tokens: 1,
            event_sealed_headers: 1,
            effect_journal: 2,
            lever_connections: 1,
            lever_oauth_apps: 1,
            lever_oauth_states: 1,
            lever_managed_webhooks: 1,
        };
        assert_eq!(rotating.rows_to_reencrypt().await.unwrap(), all);
        // A write meanwhile is sealed with the new key.
        rotating
            .set_lever_webhook_token("t1", "hired", &SecretString::from("new-hook"))
            .await
            .unwrap();

        // One row per table, then the rest; reads work in between.
        let first = rotating.reencrypt_batch(1).await.unwrap();
        assert_eq!(first.total(), 9, "{first:?}");
        assert_eq!(read_all(&rotating, ev).await.unwrap(), expected);
        let rest = rotating.reencrypt_all(1).await.unwrap();
        assert_eq!(rest.effect_journal, 1);
        assert_eq!(rotating.rows_to_reencrypt().await.unwrap().total(), 0);
        let sealed_under_new = format!(
            "SELECT COUNT(*) FROM effect_journal WHERE response IS NULL AND response_key_version = {}",
            new.id()
        );
        assert_eq!(count(&rotating, &sealed_under_new).await, 2);
        rotating.close().await;

        // The new key alone reads everything; the old key alone reads nothing, and says so.
        let after = open(&ctx, &new, None).await;
        assert_eq!(read_all(&after, ev).await.unwrap(), expected);
        assert_eq!(after.lever_webhook_tokens("t1").await.unwrap().len(), 2);
        let ConsumedState::Fresh(pending) = after.consume_oauth_state(state).await.unwrap() else {
            panic!("state not readable after rotation")
        };
        assert_eq!(pending.pkce_verifier.expose_secret(), verifier.expose_secret());
        after.close().await;
        let stale = open(&ctx, &old, None).await;
        let err = stale.get_secret("t1", "p", "api-token").await.unwrap_err();
        assert!(
            matches!(err, StoreError::Crypto(CryptoError::KeyVersion { .. })),
            "{err:?}"
        );
        assert!(err.to_string().contains(&format!("{:08x}", new.id())), "{err}");
        assert!(stale.journal_get(ev, 0).await.is_err());
        stale.close().await;
    })
    .await;
}

/// A row no loaded key opens stops the rotation with an error naming it; nothing is
/// rewritten, and loading the previous key as the current one is refused.
#[tokio::test]
async fn rotation_without_the_old_key_fails_clearly_and_changes_nothing() {
    on_each_backend(|ctx: Ctx| async move {
        let s = &ctx.store;
        tenant(s, "t1").await;
        s.set_secret("t1", "p", "api-token", &SecretString::from("vendor-secret"))
            .await
            .unwrap();
        let new = MasterKey::generate();
        let without_old = open(&ctx, &new, None).await;
        let err = without_old.reencrypt_all(10).await.unwrap_err();
        assert!(
            err.to_string().contains("FULCRUM_PREVIOUS_MASTER_KEY"),
            "{err}"
        );
        assert_eq!(
            without_old
                .rows_to_reencrypt()
                .await
                .unwrap()
                .installation_secrets,
            1
        );
        without_old.close().await;
        let same = StoreOptions {
            previous_key: Some(ctx.same_key()),
            ..StoreOptions::default()
        };
        assert!(matches!(
            Store::connect_with(&ctx.url, ctx.same_key(), same).await,
            Err(StoreError::Crypto(CryptoError::SameKey { .. }))
        ));
        let secret = s.get_secret("t1", "p", "api-token").await.unwrap().unwrap();
        assert_eq!(secret.expose_secret(), "vendor-secret");
    })
    .await;
}
