//! Runs a test body against a fresh SQLite file and a fresh PostgreSQL database.
//!
//! PostgreSQL: `FULCRUM_TEST_POSTGRES_URL` (an admin URL) or 127.0.0.1:5432 as `postgres`, then
//! `root`. Unreachable → a loud SKIPPED line and a pass, unless `FULCRUM_REQUIRE_POSTGRES=1`.

#![allow(dead_code)]

use base64::Engine as _;
use fulcrum_store::{MasterKey, Store};
use secrecy::ExposeSecret;
use sqlx::Connection as _;
use sqlx::postgres::PgConnection;
use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

/// What a test body gets: a migrated store plus enough to reopen the same database.
pub struct Ctx {
    pub store: Store,
    pub url: String,
    /// The master key the store was opened with, base64.
    pub key_b64: String,
    /// The SQLite file, when the backend is SQLite.
    pub sqlite_path: Option<PathBuf>,
}

impl Ctx {
    pub fn backend(&self) -> &'static str {
        self.store.backend_name()
    }

    pub fn same_key(&self) -> MasterKey {
        MasterKey::from_base64(&self.key_b64, "test key").unwrap()
    }

    /// Open the same database again with `key`.
    pub async fn reopen(&self, key: MasterKey) -> Store {
        Store::connect(&self.url, key).await.unwrap()
    }
}

async fn admin_connection() -> Option<(PgConnection, String)> {
    let candidates = match std::env::var("FULCRUM_TEST_POSTGRES_URL") {
        Ok(url) if !url.is_empty() => vec![url],
        _ => vec![
            "postgres://postgres@127.0.0.1:5432/postgres".to_owned(),
            "postgres://root@127.0.0.1:5432/postgres".to_owned(),
        ],
    };
    for url in candidates {
        let attempt = tokio::time::timeout(Duration::from_secs(5), PgConnection::connect(&url));
        if let Ok(Ok(conn)) = attempt.await {
            return Some((conn, url));
        }
    }
    None
}

/// Run `body` once per backend, each with its own fresh database.
pub async fn on_each_backend<F, Fut>(body: F)
where
    F: Fn(Ctx) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    // SQLite: a file in a temp dir, removed with the dir.
    {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("fulcrum.db");
        let url = format!("sqlite://{}?mode=rwc", path.display());
        let ctx = new_ctx(url, Some(path)).await;
        let store = ctx.store.clone();
        let outcome = tokio::spawn(body(ctx)).await;
        store.close().await;
        drop(dir);
        if let Err(e) = outcome {
            eprintln!("failed on backend: sqlite");
            std::panic::resume_unwind(e.into_panic());
        }
    }

    // PostgreSQL: a uniquely named database, dropped afterwards even if the body panicked.
    let Some((mut admin, admin_url)) = admin_connection().await else {
        if std::env::var("FULCRUM_REQUIRE_POSTGRES").as_deref() == Ok("1") {
            panic!(
                "PostgreSQL required (FULCRUM_REQUIRE_POSTGRES=1) but no server at 127.0.0.1:5432 (set FULCRUM_TEST_POSTGRES_URL)"
            );
        }
        eprintln!(
            "SKIPPED: PostgreSQL tests — no server at 127.0.0.1:5432 (set FULCRUM_TEST_POSTGRES_URL)"
        );
        return;
    };
    let name = format!("fulcrum_test_{:016x}", rand::random::<u64>());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .unwrap();
    let mut url = url::Url::parse(&admin_url).unwrap();
    url.set_path(&format!("/{name}"));
    let ctx = new_ctx(url.to_string(), None).await;
    let store = ctx.store.clone();
    let outcome = tokio::spawn(body(ctx)).await;
    store.close().await;
    let dropped = sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await;
    if let Err(e) = outcome {
        eprintln!("failed on backend: postgres ({name})");
        std::panic::resume_unwind(e.into_panic());
    }
    dropped.unwrap();
}

async fn new_ctx(url: String, sqlite_path: Option<PathBuf>) -> Ctx {
    let key = MasterKey::generate();
    let key_b64 = key.to_base64().expose_secret().to_owned();
    // Sanity: the base64 really is 32 bytes.
    assert_eq!(
        base64::engine::general_purpose::STANDARD
            .decode(&key_b64)
            .unwrap()
            .len(),
        32
    );
    let store = Store::connect(&url, key).await.unwrap();
    Ctx {
        store,
        url,
        key_b64,
        sqlite_path,
    }
}
