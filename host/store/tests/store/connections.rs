//! Per-installation Lever connections: sealed secrets, generations, the refresh lease. OAuth
//! apps, identities and managed webhooks are in `lever_setup.rs`; OAuth states and paused
//! events in `oauth_states.rs`.

use super::raw_sql::{count, exec};
use super::tenant;
use crate::common::{Ctx, on_each_backend};
use fulcrum_store::{
    ConnectionSecret, ConnectionStatus, CredentialKind, NewLeverOAuthApp, NewOAuthConnection,
    OAuthTokens, Store, StoreError, StorePool,
};
use secrecy::{ExposeSecret, SecretString};
use std::time::Duration;

/// Every value of one BLOB/BYTEA column, read straight from the database.
pub async fn raw_bytes(store: &Store, sql: &str) -> Vec<Vec<u8>> {
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    match store.pool() {
        StorePool::Sqlite(p) => sqlx::query_scalar(sql).fetch_all(p).await,
        StorePool::Postgres(p) => sqlx::query_scalar(sql).fetch_all(p).await,
    }
    .unwrap_or_else(|e| panic!("{e}"))
}

/// Asserts no value of the column holds `plaintext`.
pub async fn assert_sealed(store: &Store, sql: &str, plaintext: &str) {
    let values = raw_bytes(store, sql).await;
    assert!(!values.is_empty(), "no rows for {sql}");
    for value in values {
        assert!(
            !value
                .windows(plaintext.len())
                .any(|w| w == plaintext.as_bytes()),
            "stored in clear: {sql}"
        );
    }
}

fn tokens(access: &str, refresh: Option<&str>) -> OAuthTokens {
    OAuthTokens {
        access_token: SecretString::from(access),
        refresh_token: refresh.map(SecretString::from),
    }
}

pub async fn oauth_app(store: &Store, id: &str) {
    let secret = SecretString::from("client-secret-9d2e");
    store
        .put_lever_oauth_app(&NewLeverOAuthApp {
            id,
            name: "Lever",
            client_id: "client-1",
            client_secret: &secret,
            authorize_url: "https://auth.lever.co/authorize",
            token_url: "https://auth.lever.co/oauth/token",
            audience: "https://api.lever.co/v1/",
        })
        .await
        .unwrap();
}

pub async fn connect_oauth(store: &Store, inst: &str, access: &str, refresh: Option<&str>) -> i64 {
    let tokens = tokens(access, refresh);
    store
        .put_oauth_connection(
            "t1",
            inst,
            &NewOAuthConnection {
                app_id: "lever",
                tokens: &tokens,
                access_expires_at: 1_000,
                granted_scopes: "opportunities:read:admin offline_access",
                connected_by: "admin@example.com",
            },
        )
        .await
        .unwrap()
        .generation
}

async fn oauth_secret(store: &Store, inst: &str) -> (i64, String, Option<String>) {
    let (connection, secret) = store
        .lever_connection_secret("t1", inst)
        .await
        .unwrap()
        .unwrap();
    let ConnectionSecret::OAuth(tokens) = secret else {
        panic!("not OAuth")
    };
    (
        connection.generation,
        tokens.access_token.expose_secret().to_owned(),
        tokens.refresh_token.map(|t| t.expose_secret().to_owned()),
    )
}

#[tokio::test]
async fn connections_round_trip_sealed_with_a_generation_per_secret() {
    on_each_backend(|ctx: Ctx| async move {
        let s = &ctx.store;
        tenant(s, "t1").await;
        oauth_app(s, "lever").await;
        let key = "lever-api-key-5b7f1c";
        let put = s
            .put_api_key_connection(
                "t1",
                "p1",
                &SecretString::from(key),
                true,
                "ops@example.com",
            )
            .await
            .unwrap();
        assert_eq!(
            (put.kind, put.confidential, put.status, put.generation),
            (CredentialKind::ApiKey, true, ConnectionStatus::Connected, 1)
        );
        assert_eq!(put.connected_by.as_deref(), Some("ops@example.com"));
        assert_eq!(
            s.get_lever_connection("t1", "p1").await.unwrap(),
            Some(put.clone())
        );
        let (read, secret) = s
            .lever_connection_secret("t1", "p1")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(read, put);
        assert!(!format!("{secret:?}").contains(key), "Debug redacts");
        let oauth_debug = format!("{:?}", tokens("access-dbg", Some("refresh-dbg")));
        assert!(!oauth_debug.contains("access-dbg") && !oauth_debug.contains("refresh-dbg"));
        let ConnectionSecret::ApiKey(read_key) = secret else {
            panic!("not an API key")
        };
        assert_eq!(read_key.expose_secret(), key);
        assert_sealed(s, "SELECT ciphertext FROM lever_connections", key).await;

        // Each new secret bumps the generation; OAuth replaces the key.
        let again = s
            .put_api_key_connection("t1", "p1", &SecretString::from(key), false, "ops")
            .await
            .unwrap();
        assert_eq!(again.generation, 2);
        assert_eq!(again.created_at, put.created_at);
        assert_eq!(
            connect_oauth(s, "p1", "access-a1", Some("refresh-r1")).await,
            3
        );
        let oauth = s.get_lever_connection("t1", "p1").await.unwrap().unwrap();
        assert_eq!(oauth.kind, CredentialKind::OAuth);
        assert_eq!(oauth.app_id.as_deref(), Some("lever"));
        assert_eq!(oauth.access_expires_at, Some(1_000));
        assert!(!oauth.confidential);
        assert_eq!(
            oauth_secret(s, "p1").await,
            (3, "access-a1".into(), Some("refresh-r1".into()))
        );
        assert_sealed(s, "SELECT ciphertext FROM lever_connections", "refresh-r1").await;
        // Without a refresh token.
        connect_oauth(s, "p2", "access-b1", None).await;
        assert_eq!(oauth_secret(s, "p2").await, (1, "access-b1".into(), None));
        let listed: Vec<_> = s
            .list_lever_connections("t1")
            .await
            .unwrap()
            .into_iter()
            .map(|c| c.installation_id)
            .collect();
        assert_eq!(listed, ["p1", "p2"]);

        // A row whose kind was changed no longer opens (the kind is bound to the ciphertext).
        exec(
            s,
            "UPDATE lever_connections SET kind = 'api_key' WHERE installation_id = 'p2'",
        )
        .await;
        let err = s.lever_connection_secret("t1", "p2").await.unwrap_err();
        assert!(matches!(err, StoreError::Crypto(_)), "{err:?}");

        assert!(s.delete_lever_connection("t1", "p2").await.unwrap());
        assert!(!s.delete_lever_connection("t1", "p2").await.unwrap());
        assert_eq!(s.get_lever_connection("t1", "p2").await.unwrap(), None);
        assert!(
            s.lever_connection_secret("t1", "p2")
                .await
                .unwrap()
                .is_none()
        );

        // Bad input and unknown parents are refused with what to fix.
        let err = s
            .put_api_key_connection("nobody", "p1", &SecretString::from("k"), false, "a")
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::NotFound(ref m) if m.contains("nobody")),
            "{err:?}"
        );
        let t = tokens("a", Some("r"));
        let unknown_app = NewOAuthConnection {
            app_id: "missing",
            tokens: &t,
            access_expires_at: 0,
            granted_scopes: "",
            connected_by: "a",
        };
        let err = s
            .put_oauth_connection("t1", "p3", &unknown_app)
            .await
            .unwrap_err();
        assert!(
            matches!(err, StoreError::NotFound(ref m) if m.contains("missing")),
            "{err:?}"
        );
        for bad in [
            s.put_api_key_connection("t1", "p1", &SecretString::from(" "), false, "a")
                .await,
            s.put_api_key_connection("t1", "", &SecretString::from("k"), false, "a")
                .await,
        ] {
            assert!(matches!(bad, Err(StoreError::Invalid(_))), "{bad:?}");
        }
        let empty = tokens("", None);
        let err = s
            .put_oauth_connection(
                "t1",
                "p3",
                &NewOAuthConnection {
                    tokens: &empty,
                    ..unknown_app
                },
            )
            .await
            .unwrap_err();
        assert!(matches!(err, StoreError::Invalid(_)), "{err:?}");
        assert_eq!(count(s, "SELECT COUNT(*) FROM lever_connections").await, 1);
    })
    .await;
}

#[tokio::test]
async fn reconnect_needed_is_fenced_by_generation() {
    on_each_backend(|ctx: Ctx| async move {
        let s = &ctx.store;
        tenant(s, "t1").await;
        let key = SecretString::from("k1");
        s.put_api_key_connection("t1", "p1", &key, false, "a")
            .await
            .unwrap();
        s.put_api_key_connection("t1", "p1", &key, false, "a")
            .await
            .unwrap();
        // A worker that read generation 1 lost the race to the reconnect (generation 2).
        assert!(
            !s.mark_reconnect_needed("t1", "p1", 1, "401 from Lever")
                .await
                .unwrap()
        );
        let c = s.get_lever_connection("t1", "p1").await.unwrap().unwrap();
        assert_eq!(
            (c.status, c.status_detail),
            (ConnectionStatus::Connected, None)
        );
        assert!(
            s.mark_reconnect_needed("t1", "p1", 2, "API key revoked")
                .await
                .unwrap()
        );
        // Reported once.
        assert!(
            !s.mark_reconnect_needed("t1", "p1", 2, "again")
                .await
                .unwrap()
        );
        let c = s.get_lever_connection("t1", "p1").await.unwrap().unwrap();
        assert_eq!(c.status, ConnectionStatus::ReconnectNeeded);
        assert_eq!(c.status_detail.as_deref(), Some("API key revoked"));
        assert_eq!(c.generation, 2);
        // Reconnecting clears it.
        let c = s
            .put_api_key_connection("t1", "p1", &key, false, "a")
            .await
            .unwrap();
        assert_eq!(
            (c.status, c.status_detail, c.generation),
            (ConnectionStatus::Connected, None, 3)
        );
        assert!(!s.mark_reconnect_needed("t1", "gone", 1, "x").await.unwrap());
    })
    .await;
}

#[tokio::test]
async fn the_refresh_lease_is_single_flight_and_fenced() {
    on_each_backend(|ctx: Ctx| async move {
        let s = &ctx.store;
        tenant(s, "t1").await;
        oauth_app(s, "lever").await;
        let g1 = connect_oauth(s, "p1", "access-1", Some("refresh-1")).await;
        let lease = Duration::from_secs(60);
        assert!(
            s.try_lease_refresh("t1", "p1", g1, "a", lease)
                .await
                .unwrap()
        );
        assert!(
            !s.try_lease_refresh("t1", "p1", g1, "b", lease)
                .await
                .unwrap()
        );
        assert!(
            s.try_lease_refresh("t1", "p1", g1, "a", lease)
                .await
                .unwrap(),
            "renews"
        );
        // b is not the holder: its commit changes nothing.
        let rotated = tokens("access-2", Some("refresh-2"));
        assert!(
            s.commit_refreshed_tokens("t1", "p1", g1, "b", &rotated, 2_000, "s")
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(
            oauth_secret(s, "p1").await,
            (g1, "access-1".into(), Some("refresh-1".into()))
        );
        // a commits: a new generation, the lease is free again.
        let c = s
            .commit_refreshed_tokens("t1", "p1", g1, "a", &rotated, 2_000, "scope-a scope-b")
            .await
            .unwrap()
            .unwrap();
        let g2 = c.generation;
        assert_eq!(g2, g1 + 1);
        assert_eq!(
            (c.access_expires_at, c.granted_scopes.as_deref()),
            (Some(2_000), Some("scope-a scope-b"))
        );
        assert_eq!(
            oauth_secret(s, "p1").await,
            (g2, "access-2".into(), Some("refresh-2".into()))
        );
        // The old generation can neither lease nor commit.
        assert!(
            !s.try_lease_refresh("t1", "p1", g1, "a", lease)
                .await
                .unwrap()
        );
        assert!(
            s.commit_refreshed_tokens("t1", "p1", g1, "a", &rotated, 0, "")
                .await
                .unwrap()
                .is_none()
        );

        // An expired lease is taken over, and its old holder is fenced out.
        assert!(
            s.try_lease_refresh("t1", "p1", g2, "b", lease)
                .await
                .unwrap()
        );
        exec(s, "UPDATE lever_connections SET refresh_lease_until = 1").await;
        assert!(
            s.try_lease_refresh("t1", "p1", g2, "c", lease)
                .await
                .unwrap()
        );
        let late = tokens("access-late", Some("refresh-late"));
        assert!(
            s.commit_refreshed_tokens("t1", "p1", g2, "b", &late, 0, "")
                .await
                .unwrap()
                .is_none()
        );
        s.release_refresh_lease("t1", "p1", "b").await.unwrap();
        assert!(
            !s.try_lease_refresh("t1", "p1", g2, "d", lease)
                .await
                .unwrap(),
            "c holds it"
        );
        s.release_refresh_lease("t1", "p1", "c").await.unwrap();
        assert!(
            s.try_lease_refresh("t1", "p1", g2, "d", lease)
                .await
                .unwrap()
        );
        assert_eq!(
            oauth_secret(s, "p1").await,
            (g2, "access-2".into(), Some("refresh-2".into()))
        );

        // A reconnect in between fences the holder out too.
        let g3 = connect_oauth(s, "p1", "access-3", Some("refresh-3")).await;
        assert!(
            s.commit_refreshed_tokens("t1", "p1", g2, "d", &late, 0, "")
                .await
                .unwrap()
                .is_none()
        );
        // Concurrent workers: exactly one gets the lease.
        let mut tasks = Vec::new();
        for n in 0..8 {
            let store = s.clone();
            tasks.push(tokio::spawn(async move {
                store
                    .try_lease_refresh("t1", "p1", g3, &format!("worker-{n}"), lease)
                    .await
                    .unwrap()
            }));
        }
        let mut won = 0;
        for task in tasks {
            won += usize::from(task.await.unwrap());
        }
        assert_eq!(won, 1);

        // An API key has nothing to refresh; a holder must be named.
        let k = s
            .put_api_key_connection("t1", "p2", &SecretString::from("k"), false, "a")
            .await
            .unwrap();
        assert!(
            !s.try_lease_refresh("t1", "p2", k.generation, "a", lease)
                .await
                .unwrap()
        );
        assert!(matches!(
            s.try_lease_refresh("t1", "p1", g3, "", lease).await,
            Err(StoreError::Invalid(_))
        ));
    })
    .await;
}
