//! Runs a test body against a fresh SQLite file and a fresh PostgreSQL database (see
//! `fulcrum_store::test_support`), with the store already open.

#![allow(dead_code)]

use fulcrum_store::test_support::{self, TestDatabase};
use fulcrum_store::{MasterKey, Store};
use std::future::Future;
use std::path::PathBuf;
use std::sync::Arc;

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

/// Run `body` once per backend, each with its own fresh database.
pub async fn on_each_backend<F, Fut>(body: F)
where
    F: Fn(Ctx) -> Fut + Send + Sync + 'static,
    Fut: Future<Output = ()> + Send + 'static,
{
    let body = Arc::new(body);
    test_support::on_each_backend(move |db: TestDatabase| {
        let body = body.clone();
        async move {
            let store = db.open().await;
            let ctx = Ctx {
                store: store.clone(),
                url: db.url.clone(),
                key_b64: db.key_b64.clone(),
                sqlite_path: db.sqlite_path.clone(),
            };
            body(ctx).await;
            store.close().await;
        }
    })
    .await;
}
