//! `fulcrum migrate`: applies the database migrations and says which ones it applied.
//! `serve` and `demo` migrate on start too; this is for deploys that migrate in a separate step.

use crate::commands::serve::StoreArgs;
use anyhow::Context;
use fulcrum_store::{MasterKey, StorePool};
use sqlx::Connection as _;
use std::collections::BTreeMap;
use std::str::FromStr;

#[derive(Debug, clap::Args)]
pub struct MigrateArgs {
    #[command(flatten)]
    pub store: StoreArgs,
}

/// Applied migrations: version → description.
type Applied = BTreeMap<i64, String>;

const APPLIED_SQL: &str =
    "SELECT version, description FROM _sqlx_migrations WHERE success ORDER BY version";

pub async fn run(args: MigrateArgs) -> anyhow::Result<()> {
    let url = args.store.database_url();
    // Migrations touch no encrypted column, so a deploy step without the master key may run
    // them; a key that is set but malformed is still an error (the operator meant to set it).
    let key = match MasterKey::from_env() {
        Ok(key) => key,
        Err(fulcrum_store::CryptoError::MissingKey) if !args.store.demo => MasterKey::generate(),
        Err(_) => args.store.master_key()?,
    };
    println!("database: {}", redacted(&url));
    let before = applied_in(&url).await;
    let store = args.store.open_with(key).await?;
    let after = applied_in_store(store.pool())
        .await
        .context("the migrations ran but their record could not be read back; check the database user may read _sqlx_migrations")?;
    store.close().await;

    let new: Vec<_> = after
        .iter()
        .filter(|(version, _)| !before.contains_key(version))
        .collect();
    for (version, description) in &new {
        println!("applied {version:04} {description}");
    }
    let (latest, description) = after
        .iter()
        .next_back()
        .context("no migration is recorded after migrating; the database may be read-only")?;
    if new.is_empty() {
        println!(
            "nothing to apply: the schema is up to date ({} migrations, latest {latest:04} {description})",
            after.len()
        );
    } else {
        println!(
            "the schema is up to date: {} applied now, {} in all (latest {latest:04} {description})",
            new.len(),
            after.len()
        );
    }
    Ok(())
}

/// What an existing database has applied; empty when there is no database or no migration
/// table yet. Read on a connection of its own, before the store migrates on open.
async fn applied_in(url: &str) -> Applied {
    let read = async {
        if url.starts_with("sqlite:") {
            // Do not create the file just to find it empty.
            let options =
                sqlx::sqlite::SqliteConnectOptions::from_str(url)?.create_if_missing(false);
            let mut conn = sqlx::SqliteConnection::connect_with(&options).await?;
            let rows: Vec<(i64, String)> = sqlx::query_as(APPLIED_SQL).fetch_all(&mut conn).await?;
            conn.close().await?;
            Ok::<_, sqlx::Error>(rows)
        } else {
            let mut conn = sqlx::PgConnection::connect(url).await?;
            let rows: Vec<(i64, String)> = sqlx::query_as(APPLIED_SQL).fetch_all(&mut conn).await?;
            conn.close().await?;
            Ok(rows)
        }
    };
    // A missing file or table means nothing was applied; an unreachable server fails right
    // after, when the store opens, with the error the operator needs.
    read.await.unwrap_or_default().into_iter().collect()
}

async fn applied_in_store(pool: &StorePool) -> Result<Applied, sqlx::Error> {
    let rows: Vec<(i64, String)> = match pool {
        StorePool::Sqlite(pool) => sqlx::query_as(APPLIED_SQL).fetch_all(pool).await?,
        StorePool::Postgres(pool) => sqlx::query_as(APPLIED_SQL).fetch_all(pool).await?,
    };
    Ok(rows.into_iter().collect())
}

/// The database URL without its password, for output.
pub(crate) fn redacted(url: &str) -> String {
    match url::Url::parse(url) {
        Ok(mut parsed) if parsed.password().is_some() => {
            let _ = parsed.set_password(Some("***"));
            parsed.to_string()
        }
        _ => url.to_owned(),
    }
}
