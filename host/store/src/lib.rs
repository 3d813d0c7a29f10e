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
mod installation_identities;
mod installation_removal;
mod journal_sealing;
mod key_rotation;
mod lever_connections;
mod lever_oauth;
mod lever_webhooks;
mod managed_webhooks;
mod records;
mod replay_guards;
mod retention;
mod schedules;
mod state;
#[cfg(feature = "test-support")]
pub mod test_support;

pub use api_tokens::{
    API_TOKEN_PREFIX, ApiToken, IssuedToken, MAX_TOKEN_LABEL, Role, TokenCheck, UnknownRole,
};
pub use crypto::{CryptoError, Keyring, MasterKey};
pub use events::{
    BlockedLane, Claim, EffectEntry, EffectStatus, Enqueued, Event, EventCounts, EventFilter,
    EventStatus, FailOutcome, JournalBegin, MAX_LIST_EVENTS, NewEvent,
};
pub use installation_identities::InstallationIdentity;
pub use key_rotation::{EncryptedTable, RotationProgress};
pub use lever_connections::{
    ConnectionSecret, ConnectionStatus, LeverConnection, NewOAuthConnection, OAuthTokens,
};
pub use lever_oauth::{
    ConsumedState, LeverOAuthApp, MIN_OAUTH_STATE_LEN, NewLeverOAuthApp, NewOAuthState, OAuthState,
};
pub use lever_webhooks::LeverWebhookToken;
pub use managed_webhooks::ManagedWebhook;
pub use records::{
    CredentialKind, Installation, LeverCredential, LeverSettings, Plugin, Tenant,
    is_valid_tenant_id,
};
pub use replay_guards::{LeverDelivery, VendorRequestGuard};
pub use retention::{Purged, RetentionTable};
pub use schedules::{Fired, Schedule, next_slot};
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
    replay_guards: &'static str,
    queue_fencing: &'static str,
    sealed_journal_and_retention: &'static str,
    api_token_expiry: &'static str,
    lever_connections: &'static str,
    named_installations: &'static str,
    installation_removal: &'static str,
}

const SQLITE_MIGRATIONS: MigrationSet = MigrationSet {
    init: include_str!("../migrations/sqlite/0001_init.sql"),
    queue_and_schedules: include_str!("../migrations/sqlite/0002_queue_and_schedules.sql"),
    tenant_lever_settings: include_str!("../migrations/sqlite/0003_tenant_lever_settings.sql"),
    lane_index: include_str!("../migrations/sqlite/0004_lane_index.sql"),
    api_tokens: include_str!("../migrations/sqlite/0005_api_tokens.sql"),
    lever_webhooks: include_str!("../migrations/sqlite/0006_lever_webhooks.sql"),
    event_results: include_str!("../migrations/sqlite/0007_event_results.sql"),
    replay_guards: include_str!("../migrations/sqlite/0008_replay_guards.sql"),
    queue_fencing: include_str!("../migrations/sqlite/0009_queue_fencing.sql"),
    sealed_journal_and_retention: include_str!(
        "../migrations/sqlite/0010_sealed_journal_and_retention.sql"
    ),
    api_token_expiry: include_str!("../migrations/sqlite/0011_api_token_expiry.sql"),
    lever_connections: include_str!("../migrations/sqlite/0012_lever_connections.sql"),
    named_installations: include_str!("../migrations/sqlite/0013_named_installations.sql"),
    installation_removal: include_str!("../migrations/sqlite/0014_installation_removal.sql"),
};
const POSTGRES_MIGRATIONS: MigrationSet = MigrationSet {
    init: include_str!("../migrations/postgres/0001_init.sql"),
    queue_and_schedules: include_str!("../migrations/postgres/0002_queue_and_schedules.sql"),
    tenant_lever_settings: include_str!("../migrations/postgres/0003_tenant_lever_settings.sql"),
    lane_index: include_str!("../migrations/postgres/0004_lane_index.sql"),
    api_tokens: include_str!("../migrations/postgres/0005_api_tokens.sql"),
    lever_webhooks: include_str!("../migrations/postgres/0006_lever_webhooks.sql"),
    event_results: include_str!("../migrations/postgres/0007_event_results.sql"),
    replay_guards: include_str!("../migrations/postgres/0008_replay_guards.sql"),
    queue_fencing: include_str!("../migrations/postgres/0009_queue_fencing.sql"),
    sealed_journal_and_retention: include_str!(
        "../migrations/postgres/0010_sealed_journal_and_retention.sql"
    ),
    api_token_expiry: include_str!("../migrations/postgres/0011_api_token_expiry.sql"),
    lever_connections: include_str!("../migrations/postgres/0012_lever_connections.sql"),
    named_installations: include_str!("../migrations/postgres/0013_named_installations.sql"),
    installation_removal: include_str!("../migrations/postgres/0014_installation_removal.sql"),
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
    /// A transition named a claim that no longer holds its event: the event finished, or its
    /// lease ran out and it went back to the queue (and maybe to another worker).
    #[error(
        "event {event_id} cannot be {action}: this worker's claim on it is no longer current (its lease ran out and the event went back to the queue or to another worker, or it already finished); nothing was changed"
    )]
    ClaimLost { event_id: i64, action: &'static str },
    #[error("cannot create the database file {path} (owner-only): {error}")]
    CreateFile {
        path: std::path::PathBuf,
        error: std::io::Error,
    },
}

pub type Result<T, E = StoreError> = std::result::Result<T, E>;

/// The open connection pool; public so tests and tools can reach the raw database.
#[derive(Debug, Clone)]
pub enum StorePool {
    Sqlite(SqlitePool),
    Postgres(PgPool),
}

/// When a SQLite commit is on disk.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub enum SqliteDurability {
    /// `synchronous=FULL`: every commit fsyncs the WAL before it returns, so what the host
    /// acknowledged (a `202`, a journal `begin` before a Lever write) survives power loss.
    #[default]
    Full,
    /// `synchronous=NORMAL`: the WAL is fsynced at checkpoints only. A commit survives the
    /// process being killed, but an OS crash or power cut may drop the last commits.
    Normal,
}

impl SqliteDurability {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Full => "full",
            Self::Normal => "normal",
        }
    }
}

/// How [`Store::connect_with`] opens a store.
#[derive(Debug, Default)]
pub struct StoreOptions {
    /// SQLite only; PostgreSQL's is the server's `synchronous_commit` (on by default).
    pub sqlite_durability: SqliteDurability,
    /// While rotating master keys: the old key, so rows it sealed still open until they are
    /// re-encrypted ([`Store::reencrypt_batch`]).
    pub previous_key: Option<MasterKey>,
}

/// The durable store. Cheap to clone (pools are shared handles).
#[derive(Debug, Clone)]
pub struct Store {
    pool: StorePool,
    key: std::sync::Arc<Keyring>,
    max_attempts: i64,
}

impl Store {
    /// Open the store named by `url` and apply pending migrations, with the default
    /// [`StoreOptions`].
    ///
    /// * `sqlite://PATH?mode=rwc` — a file (created owner-only, 0600), WAL journal,
    ///   `synchronous=FULL`, foreign keys on, 5 s busy timeout.
    /// * `postgres://USER@HOST:PORT/DB` (or `postgresql://`).
    pub async fn connect(url: &str, key: MasterKey) -> Result<Self> {
        Self::connect_with(url, key, StoreOptions::default()).await
    }

    /// [`Store::connect`] with explicit options.
    pub async fn connect_with(url: &str, key: MasterKey, options: StoreOptions) -> Result<Self> {
        let mut keyring = Keyring::new(key);
        if let Some(previous) = options.previous_key {
            keyring = keyring.with_previous(previous)?;
        }
        let pool = if url.starts_with("sqlite:") {
            let sqlite = SqliteConnectOptions::from_str(url)?;
            create_owner_only(sqlite.get_filename())?;
            let synchronous = match options.sqlite_durability {
                SqliteDurability::Full => SqliteSynchronous::Full,
                SqliteDurability::Normal => SqliteSynchronous::Normal,
            };
            let options = sqlite
                .create_if_missing(true)
                .journal_mode(SqliteJournalMode::Wal)
                // The bench (`host/service/benches/pipeline.rs`) prints what FULL costs.
                .synchronous(synchronous)
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
            key: std::sync::Arc::new(keyring),
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

    pub(crate) fn key(&self) -> &Keyring {
        &self.key
    }

    /// The master keys this store opens rows with (`Debug` shows key ids only).
    pub fn keyring(&self) -> &Keyring {
        &self.key
    }
}

/// Creates a missing SQLite file readable by its owner only: SQLite would create it (and
/// then its WAL and shared-memory files, which take the database file's mode) with the
/// umask's usual 0644, world-readable hiring data. An existing file is left as it is.
fn create_owner_only(path: &std::path::Path) -> Result<()> {
    let name = path.as_os_str();
    if name.is_empty() || name == ":memory:" || path.exists() {
        return Ok(());
    }
    let mut open = std::fs::OpenOptions::new();
    open.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut open, 0o600);
    match open.open(path) {
        Ok(_) => Ok(()),
        // Another connection (process) created it first.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => Ok(()),
        Err(error) => Err(StoreError::CreateFile {
            path: path.to_owned(),
            error,
        }),
    }
}

/// Migrations are embedded so the binary needs no files on disk; the version list is the same
/// on both backends, only the SQL dialect differs.
fn migrator(set: &MigrationSet) -> Migrator {
    Migrator::with_migrations(migrations(set))
}

fn migrations(set: &MigrationSet) -> Vec<Migration> {
    let files: [(i64, &str, &str); 14] = [
        (1, "init", set.init),
        (2, "queue and schedules", set.queue_and_schedules),
        (3, "tenant lever settings", set.tenant_lever_settings),
        (4, "lane index", set.lane_index),
        (5, "api tokens", set.api_tokens),
        (6, "lever webhooks", set.lever_webhooks),
        (7, "event results", set.event_results),
        (8, "replay guards", set.replay_guards),
        (9, "queue fencing", set.queue_fencing),
        (
            10,
            "sealed journal and retention",
            set.sealed_journal_and_retention,
        ),
        (11, "api token expiry", set.api_token_expiry),
        (12, "lever connections", set.lever_connections),
        (13, "named installations", set.named_installations),
        (14, "installation removal", set.installation_removal),
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
