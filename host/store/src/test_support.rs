//! Fresh databases for tests (feature `test-support`): a SQLite file in a temp dir and a
//! uniquely named PostgreSQL database, dropped afterwards.
//!
//! PostgreSQL: `FULCRUM_TEST_POSTGRES_URL` (an admin URL) or 127.0.0.1:5432 as `postgres`, then
//! `root`. Unreachable → a loud SKIPPED line and a pass, unless `FULCRUM_REQUIRE_POSTGRES=1`
//! (CI sets it), which turns the skip into a failure.

use crate::{MasterKey, SqliteDurability, Store, StoreOptions};
use secrecy::ExposeSecret;
use sqlx::Connection as _;
use sqlx::postgres::PgConnection;
use std::future::Future;
use std::path::PathBuf;
use std::time::Duration;

/// A fresh database a test may open as often as it likes (also from another process).
#[derive(Debug, Clone)]
pub struct TestDatabase {
    pub url: String,
    /// The master key, base64 (what `FULCRUM_MASTER_KEY` would hold).
    pub key_b64: String,
    /// The SQLite file, when the backend is SQLite.
    pub sqlite_path: Option<PathBuf>,
    /// How [`TestDatabase::open`] commits on SQLite (the default, `Full`, is the store's).
    pub sqlite_durability: SqliteDurability,
}

impl TestDatabase {
    pub fn backend(&self) -> &'static str {
        if self.sqlite_path.is_some() {
            "sqlite"
        } else {
            "postgres"
        }
    }

    pub fn key(&self) -> MasterKey {
        MasterKey::from_base64(&self.key_b64, "test key").expect("test key")
    }

    /// Opens (and migrates) the database with its master key.
    pub async fn open(&self) -> Store {
        let options = StoreOptions {
            sqlite_durability: self.sqlite_durability,
            ..StoreOptions::default()
        };
        Store::connect_with(&self.url, self.key(), options)
            .await
            .unwrap_or_else(|e| panic!("open {}: {e}", self.backend()))
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

fn new_key() -> String {
    MasterKey::generate().to_base64().expose_secret().to_owned()
}

/// Runs `body` once per backend, each with its own fresh database; a panic in the body names
/// the backend and fails the test after the database is dropped.
pub async fn on_each_backend<F, Fut>(body: F)
where
    F: Fn(TestDatabase) -> Fut,
    Fut: Future<Output = ()> + Send + 'static,
{
    // SQLite: a file in a temp dir, removed with the dir.
    {
        let dir = tempfile::tempdir().expect("temp dir");
        let path = dir.path().join("fulcrum.db");
        let db = TestDatabase {
            url: format!("sqlite://{}?mode=rwc", path.display()),
            key_b64: new_key(),
            sqlite_path: Some(path),
            sqlite_durability: SqliteDurability::default(),
        };
        let outcome = tokio::spawn(body(db)).await;
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
                "PostgreSQL required (FULCRUM_REQUIRE_POSTGRES=1) but no server at 127.0.0.1:5432 \
                 (start it, or set FULCRUM_TEST_POSTGRES_URL)"
            );
        }
        eprintln!(
            "SKIPPED: PostgreSQL half of this test — no server at 127.0.0.1:5432 \
             (start PostgreSQL or set FULCRUM_TEST_POSTGRES_URL to run it)"
        );
        return;
    };
    let name = format!("fulcrum_test_{:016x}", rand::random::<u64>());
    sqlx::query(sqlx::AssertSqlSafe(format!("CREATE DATABASE {name}")))
        .execute(&mut admin)
        .await
        .expect("create test database");
    let mut url = url::Url::parse(&admin_url).expect("admin URL");
    url.set_path(&format!("/{name}"));
    let db = TestDatabase {
        url: url.to_string(),
        key_b64: new_key(),
        sqlite_path: None,
        sqlite_durability: SqliteDurability::default(),
    };
    let outcome = tokio::spawn(body(db)).await;
    let dropped = sqlx::query(sqlx::AssertSqlSafe(format!(
        "DROP DATABASE IF EXISTS {name} WITH (FORCE)"
    )))
    .execute(&mut admin)
    .await;
    if let Err(e) = outcome {
        eprintln!("failed on backend: postgres ({name})");
        std::panic::resume_unwind(e.into_panic());
    }
    dropped.expect("drop test database");
}

/// A Lever event for tenant `t1` about opportunity `o1`, queued for `plugin` with dedupe key
/// `key` (the store's own tests of Lever deliveries).
pub fn lever_event(plugin: &str, key: &str) -> crate::NewEvent {
    crate::NewEvent {
        tenant_id: "t1".into(),
        plugin_id: plugin.into(),
        kind: "lever".into(),
        subject_key: "opportunity:o1".into(),
        payload: serde_json::json!({"event": "candidateStageChange"}),
        dedupe_key: Some(key.into()),
    }
}
