//! Durable storage for Fulcrum: tenants, Lever credentials, plugins, installations and their
//! secrets, plugin state, the audit log, the event queue (leases, dedupe keys, dead letters),
//! schedules and the effect journal.
//!
//! One [`Store`] over SQLite (single node, default) or PostgreSQL (shared), chosen by URL.
//! Every query is written once with `$N` placeholders (SQLite accepts them too) and run on
//! whichever pool is open, so both backends behave the same.

use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use std::str::FromStr;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// Run the same query code against whichever backend is open. Both arms are the same tokens,
/// type-checked once per database driver.
macro_rules! on_pool {
    ($store:expr, |$pool:ident| $body:expr) => {
        match &$store.pool {
            $crate::StorePool::Sqlite($pool) => $body,
            $crate::StorePool::Postgres($pool) => $body,
        }
    };
}

/// Run `body` inside one transaction on whichever backend is open; `$tx` is the transaction.
/// The body commits explicitly (`$tx.commit().await?`); returning early drops `$tx`, which
/// rolls back. SQLite starts with `BEGIN IMMEDIATE`, taking the write lock up front so
/// concurrent writers queue on the busy timeout instead of failing to upgrade a read snapshot.
macro_rules! in_tx {
    ($store:expr, |$tx:ident| $body:expr) => {
        match &$store.pool {
            $crate::StorePool::Sqlite(pool) => {
                let mut $tx = pool.begin_with("BEGIN IMMEDIATE").await?;
                $body
            }
            $crate::StorePool::Postgres(pool) => {
                let mut $tx = pool.begin().await?;
                $body
            }
        }
    };
}

mod api_tokens;
pub mod crypto;
mod events;
mod lever_webhooks;
mod records;
mod schedules;
mod state;
#[cfg(feature = "test-support")]
pub mod test_support;

pub use api_tokens::{API_TOKEN_PREFIX, ApiToken, IssuedToken, MAX_TOKEN_LABEL, Role, UnknownRole};
pub use crypto::{CryptoError, MasterKey};
pub use events::{
    EffectEntry, EffectStatus, Enqueued, Event, EventCounts, EventFilter, EventStatus, FailOutcome,
    JournalBegin, MAX_LIST_EVENTS, NewEvent,
};
pub use lever_webhooks::LeverWebhookToken;
pub use records::{
    CredentialKind, Installation, LeverCredential, LeverSettings, Plugin, Tenant,
    is_valid_tenant_id,
};
pub use schedules::{Schedule, next_slot};
pub use state::{AuditEntry, NewAuditEntry, StateWrite};

/// Default number of failed attempts after which an event is dead-lettered.
pub const DEFAULT_MAX_ATTEMPTS: i64 = 5;

/// One backend's migration files, in version order.
struct MigrationSet {
    init: &'static str,
    queue_and_schedules: &'static str,
    tenant_lever_settings: &'static str,
    lane_index: &'static str,
    api_tokens: &'static str,
    lever_webhooks: &'static str,
    event_results: &'static str,
}

const SQLITE_MIGRATIONS: MigrationSet = MigrationSet {
    init: include_str!("../migrations/sqlite/0001_init.sql"),
    queue_and_schedules: include_str!("../migrations/sqlite/0002_queue_and_schedules.sql"),
    tenant_lever_settings: include_str!("../migrations/sqlite/0003_tenant_lever_settings.sql"),
    lane_index: include_str!("../migrations/sqlite/0004_lane_index.sql"),
    api_tokens: include_str!("../migrations/sqlite/0005_api_tokens.sql"),
    lever_webhooks: include_str!("../migrations/sqlite/0006_lever_webhooks.sql"),
    event_results: include_str!("../migrations/sqlite/0007_event_results.sql"),
};
const POSTGRES_MIGRATIONS: MigrationSet = MigrationSet {
    init: include_str!("../migrations/postgres/0001_init.sql"),
    queue_and_schedules: include_str!("../migrations/postgres/0002_queue_and_schedules.sql"),
    tenant_lever_settings: include_str!("../migrations/postgres/0003_tenant_lever_settings.sql"),
    lane_index: include_str!("../migrations/postgres/0004_lane_index.sql"),
    api_tokens: include_str!("../migrations/postgres/0005_api_tokens.sql"),
    lever_webhooks: include_str!("../migrations/postgres/0006_lever_webhooks.sql"),
    event_results: include_str!("../migrations/postgres/0007_event_results.sql"),
};

/// Errors from the store.
#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    #[error("unsupported store URL {0:?}: use sqlite://PATH?mode=rwc or postgres://USER@HOST/DB")]
    UnsupportedUrl(String),
    #[error("database error: {0}")]
    Database(#[from] sqlx::Error),
    #[error("migration failed: {0}")]
    Migrate(#[from] sqlx::migrate::MigrateError),
    #[error(transparent)]
    Crypto(#[from] CryptoError),
    #[error("{0} not found")]
    NotFound(String),
    #[error("{0} already exists")]
    AlreadyExists(String),
    #[error("{0}")]
    Conflict(String),
    #[error("invalid argument: {0}")]
    Invalid(String),
    #[error("stored {what} is not valid JSON: {error}")]
    Json {
        what: &'static str,
        error: serde_json::Error,
    },
    #[error("stored {what} has unknown value {value:?}")]
    Corrupt { what: &'static str, value: String },
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The open connection pool; public so tests and tools can reach the raw database.
#[derive(Debug, Clone)]
pub enum StorePool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// The durable store. Cheap to clone (pools are shared handles).
#[derive(Debug, Clone)]
pub struct Store {
    pool: StorePool,
    key: std::sync::Arc<MasterKey>,
    max_attempts: i64,
}

impl Store {
    /// Open the store named by `url` and apply pending migrations.
    ///
    /// * `sqlite://PATH?mode=rwc` — a file, WAL journal, foreign keys on, 5 s busy timeout.
    /// * `postgres://USER@HOST:PORT/DB` (or `postgresql://`).
    pub async fn connect(url: &str, key: MasterKey) -> Result<Self> {
        let pool = if url.starts_with("sqlite:") {
            let options = SqliteConnectOptions::from_str(url)?
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // WAL + NORMAL: a commit survives the process being killed (what the crash
                // test checks); only an OS crash or power loss may drop the last commits.
                // FULL would fsync every commit and cap the queue at a few hundred events/s.
                .synchronous(SqliteSynchronous::Normal)
                .foreign_keys(true)
                // Writers queue behind each other instead of failing with SQLITE_BUSY.
                .busy_timeout(Duration::from_secs(5));
            StorePool::Sqlite(
                SqlitePoolOptions::new()
                    .max_connections(4)
                    .connect_with(options)
                    .await?,
            )
        } else if url.starts_with("postgres://") || url.starts_with("postgresql://") {
            StorePool::Postgres(
                PgPoolOptions::new()
                    .max_connections(8)
                    .acquire_timeout(Duration::from_secs(10))
                    .connect(url)
                    .await?,
            )
        } else {
            return Err(StoreError::UnsupportedUrl(url.to_owned()));
        };
        let store = Self {
            pool,
            key: std::sync::Arc::new(key),
            max_attempts: DEFAULT_MAX_ATTEMPTS,
        };
        store.migrate().await?;
        Ok(store)
    }

    /// Dead-letter an event after this many failed attempts.
    pub fn with_max_attempts(mut self, max_attempts: i64) -> Self {
        self.max_attempts = max_attempts.max(1);
        self
    }

    /// Apply pending migrations; applying twice is a no-op.
    pub async fn migrate(&self) -> Result<()> {
        match &self.pool {
            StorePool::Sqlite(pool) => migrator(&SQLITE_MIGRATIONS).run(pool).await?,
            StorePool::Postgres(pool) => migrator(&POSTGRES_MIGRATIONS).run(pool).await?,
        }
        Ok(())
    }

    /// The raw pool (for tooling and tests).
    pub fn pool(&self) -> &StorePool {
        &self.pool
    }

    /// `"sqlite"` or `"postgres"`.
    pub fn backend_name(&self) -> &'static str {
        match self.pool {
            StorePool::Sqlite(_) => "sqlite",
            StorePool::Postgres(_) => "postgres",
        }
    }

    /// Close every pooled connection.
    pub async fn close(&self) {
        on_pool!(self, |pool| pool.close().await)
    }

    pub(crate) fn key(&self) -> &MasterKey {
        &self.key
    }
}

/// Migrations are embedded so the binary needs no files on disk; the version list is the same
/// on both backends, only the SQL dialect differs.
fn migrator(set: &MigrationSet) -> Migrator {
    Migrator::with_migrations(migrations(set))
}

fn migrations(set: &MigrationSet) -> Vec<Migration> {
    let files: [(i64, &str, &str); 7] = [
        (1, "init", set.init),
        (2, "queue and schedules", set.queue_and_schedules),
        (3, "tenant lever settings", set.tenant_lever_settings),
        (4, "lane index", set.lane_index),
        (5, "api tokens", set.api_tokens),
        (6, "lever webhooks", set.lever_webhooks),
        (7, "event results", set.event_results),
    ];
    files
        .into_iter()
        .map(|(version, name, sql)| {
            Migration::new(
                version,
                name.into(),
                MigrationType::Simple,
                sqlx::SqlSafeStr::into_sql_str(sql),
                false,
            )
        })
        .collect()
}

/// Unix milliseconds now.
pub fn now_ms() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
        .unwrap_or(0)
}

pub(crate) fn is_unique_violation(err: &sqlx::Error) -> bool {
    err.as_database_error()
        .is_some_and(|e| e.is_unique_violation())
}

pub(crate) fn parse_json(what: &'static str, text: &str) -> Result<serde_json::Value> {
    serde_json::from_str(text).map_err(|error| StoreError::Json { what, error })
}

#[cfg(test)]
mod tests {
    use super::*;

    /// A database created before version 2 (SQLite) upgrades in place and keeps its events.
    #[tokio::test]
    async fn a_version_1_database_upgrades_to_version_2_keeping_its_events() {
        let dir = tempfile::tempdir().unwrap();
        let url = format!("sqlite://{}?mode=rwc", dir.path().join("v1.db").display());
        let pool = SqlitePool::connect(&url).await.unwrap();
        let mut v1 = migrations(&SQLITE_MIGRATIONS);
        v1.truncate(1);
        Migrator::with_migrations(v1).run(&pool).await.unwrap();
        sqlx::query("INSERT INTO tenants (id, name, created_at) VALUES ('t1', 'T', 0)")
            .execute(&pool)
            .await
            .unwrap();
        sqlx::query(
            "INSERT INTO events (tenant_id, plugin_id, kind, subject_key, payload, status, attempts, next_attempt_at, claimed_by, created_at, updated_at)
             VALUES ('t1', 'p', 'k', 's', '{}', 'running', 0, 0, 'node-a/1', 0, 0)",
        )
        .execute(&pool)
        .await
        .unwrap();
        pool.close().await;

        let store = Store::connect(&url, MasterKey::generate()).await.unwrap();
        let old = store.get_event(1).await.unwrap().unwrap();
        assert_eq!((old.dedupe_key, old.lease_until), (None, None));
        // Claimed before leases existed: not expired, but released on restart.
        assert_eq!(store.requeue_expired(i64::MAX).await.unwrap(), 0);
        assert_eq!(store.release_claims("node-a/").await.unwrap(), 1);
        assert!(store.list_schedules("t1").await.unwrap().is_empty());
        store.close().await;
    }
}
