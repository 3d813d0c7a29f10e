//! The SQLite file: fsynced commits by default, created readable by its owner only.

use fulcrum_store::{MasterKey, SqliteDurability, Store, StoreOptions, StorePool};

async fn synchronous(store: &Store) -> i64 {
    let StorePool::Sqlite(pool) = store.pool() else {
        unreachable!("SQLite only")
    };
    // Every pooled connection gets the pragma; check a few of them at once.
    let mut held = Vec::new();
    let mut modes = Vec::new();
    for _ in 0..3 {
        let mut conn = pool.acquire().await.unwrap();
        modes.push(
            sqlx::query_scalar::<_, i64>("PRAGMA synchronous")
                .fetch_one(&mut *conn)
                .await
                .unwrap(),
        );
        held.push(conn);
    }
    modes.dedup();
    assert_eq!(modes.len(), 1, "{modes:?}");
    modes[0]
}

/// Before: `synchronous=NORMAL` (1), so a power cut could lose an acknowledged event.
#[tokio::test]
async fn sqlite_fsyncs_every_commit_by_default_and_normal_is_an_option() {
    let dir = tempfile::tempdir().unwrap();
    let url = |name: &str| format!("sqlite://{}?mode=rwc", dir.path().join(name).display());
    let store = Store::connect(&url("full.db"), MasterKey::generate())
        .await
        .unwrap();
    assert_eq!(synchronous(&store).await, 2, "FULL");
    store.close().await;

    let options = StoreOptions {
        sqlite_durability: SqliteDurability::Normal,
        ..StoreOptions::default()
    };
    let store = Store::connect_with(&url("normal.db"), MasterKey::generate(), options)
        .await
        .unwrap();
    assert_eq!(synchronous(&store).await, 1, "NORMAL");
    store.close().await;
}

/// Before: the file (and its WAL and shm) took the umask's 0644, readable by every user.
#[cfg(unix)]
#[tokio::test]
async fn a_new_sqlite_file_and_its_wal_are_owner_only() {
    use std::os::unix::fs::PermissionsExt as _;
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("fulcrum.db");
    let url = format!("sqlite://{}?mode=rwc", path.display());
    let store = Store::connect(&url, MasterKey::generate()).await.unwrap();
    store.create_tenant("t1", "T").await.unwrap();
    let mode = |p: &std::path::Path| std::fs::metadata(p).unwrap().permissions().mode() & 0o777;
    assert_eq!(mode(&path), 0o600, "database file");
    for sidecar in ["fulcrum.db-wal", "fulcrum.db-shm"] {
        let p = dir.path().join(sidecar);
        assert!(p.exists(), "{sidecar} exists while the store is open");
        assert_eq!(mode(&p), 0o600, "{sidecar}");
    }
    store.close().await;

    // An existing file is opened as it is (its mode is the operator's choice).
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o640)).unwrap();
    let store = Store::connect(&url, MasterKey::generate()).await.unwrap();
    assert_eq!(mode(&path), 0o640);
    store.close().await;
}
