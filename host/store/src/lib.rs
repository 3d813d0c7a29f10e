//! Durable storage for Fulcrum: tenants, Lever credentials, plugins, installations and their
//! secrets, plugin state, the audit log, the event queue and the effect journal.
//!
//! One [`Store`] over SQLite (single node, default) or PostgreSQL (shared), chosen by URL.
//! Every query is written once with `$N` placeholders (SQLite accepts them too) and run on
//! whichever pool is open, so both backends behave the same.

use sqlx::migrate::{Migration, MigrationType, Migrator};
use sqlx::postgres::{PgPool, PgPoolOptions};
use sqlx::sqlite::{SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions};
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

pub mod crypto;
mod events;
mod records;
mod state;

pub use crypto::{CryptoError, MasterKey};
pub use events::{EffectEntry, EffectStatus, Event, EventStatus, FailOutcome, NewEvent};
pub use records::{CredentialKind, Installation, LeverCredential, Plugin, Tenant};
pub use state::{AuditEntry, NewAuditEntry};

/// Default number of failed attempts after which an event is dead-lettered.
pub const DEFAULT_MAX_ATTEMPTS: i64 = 5;

const SQLITE_INIT: &str = include_str!("../migrations/sqlite/0001_init.sql");
const POSTGRES_INIT: &str = include_str!("../migrations/postgres/0001_init.sql");

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
            StorePool::Sqlite(pool) => migrator(SQLITE_INIT).run(pool).await?,
            StorePool::Postgres(pool) => migrator(POSTGRES_INIT).run(pool).await?,
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
fn migrator(init: &'static str) -> Migrator {
    Migrator::with_migrations(vec![Migration::new(
        1,
        "init".into(),
        MigrationType::Simple,
        sqlx::SqlSafeStr::into_sql_str(init),
        false,
    )])
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
