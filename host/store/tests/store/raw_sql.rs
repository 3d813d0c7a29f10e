//! Statements run straight against the backing database, to age and inspect rows.

use fulcrum_store::{Store, StorePool};

pub async fn exec(store: &Store, sql: &str) -> u64 {
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    match store.pool() {
        StorePool::Sqlite(p) => sqlx::query(sql).execute(p).await.map(|r| r.rows_affected()),
        StorePool::Postgres(p) => sqlx::query(sql).execute(p).await.map(|r| r.rows_affected()),
    }
    .unwrap_or_else(|e| panic!("{e}"))
}

pub async fn count(store: &Store, sql: &str) -> i64 {
    let sql = sqlx::AssertSqlSafe(sql.to_owned());
    match store.pool() {
        StorePool::Sqlite(p) => sqlx::query_scalar(sql).fetch_one(p).await,
        StorePool::Postgres(p) => sqlx::query_scalar(sql).fetch_one(p).await,
    }
    .unwrap_or_else(|e| panic!("{e}"))
}
