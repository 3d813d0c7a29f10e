//! Installing a plugin writes the component file, the store's record and the runtime's
//! registry so that a failure in the middle leaves them agreeing.

use fulcrum_runtime::{AllocatorChoice, Runtime, RuntimeConfig};
use fulcrum_service::{Host, LeverDefaults, PluginInstallError};
use fulcrum_store::StoreError;
use fulcrum_store::test_support::on_each_backend;
use fulcrum_testkit::*;
use lever_client::ClientConfig;

/// Several runtimes live in this test at once: no pooling allocator reservations.
fn runtime() -> Runtime {
    Runtime::new(RuntimeConfig {
        allocator: AllocatorChoice::OnDemand,
        ..runtime_config()
    })
    .unwrap()
}

fn host(store: fulcrum_store::Store, components_dir: std::path::PathBuf) -> Host {
    let config = fulcrum_service::HostConfig {
        components_dir,
        ..host_config()
    };
    let lever = LeverDefaults {
        client: ClientConfig::new("http://127.0.0.1:1/v1").unwrap(),
        acting_user_id: None,
    };
    Host::new(store, runtime(), lever, None, config)
}

/// Before: the runtime registered the version first and kept it when keeping the file or
/// recording it failed, so this host ran a version a restart would not load.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_failed_install_leaves_no_version_behind() {
    on_each_backend(|db| async move {
        let store = db.open().await;
        let dir = tempfile::tempdir().unwrap();
        let component = read(fulcrum_plugin_artifacts::WELL_BEHAVED);

        // The file cannot be kept: the components "directory" is a file.
        let blocker = dir.path().join("not-a-dir");
        std::fs::write(&blocker, b"").unwrap();
        let broken = host(store.clone(), blocker.join("components"));
        let err = broken.install_plugin(component.clone()).await.unwrap_err();
        assert!(matches!(err, PluginInstallError::Disk { .. }), "{err}");
        assert!(
            broken.runtime().versions(PLUGIN).is_empty(),
            "registry rolled back"
        );
        assert!(
            store.list_plugins().await.unwrap().is_empty(),
            "nothing recorded"
        );
        drop(broken);

        // Kept and recorded: a restarted host loads it from the file.
        let good = host(store.clone(), dir.path().join("components"));
        good.install_plugin(component).await.unwrap();
        assert_eq!(store.list_plugins().await.unwrap().len(), 1);
        let restarted = host(store.clone(), dir.path().join("components"));
        assert_eq!(restarted.load_recorded_plugins().await.unwrap(), 1);
        assert_eq!(restarted.runtime().versions(PLUGIN).len(), 1);

        // The record is refused after the file is kept: another host recorded this version
        // with other contents.
        let other = read(fulcrum_plugin_artifacts::INFINITE_LOOP);
        let probe = runtime().install(other.clone()).await.unwrap();
        let (id, version) = (probe.id().to_owned(), probe.version().to_string());
        store
            .record_plugin(&id, &version, "another-sha256", &serde_json::json!({}))
            .await
            .unwrap();
        let err = good.install_plugin(other).await.unwrap_err();
        assert!(
            matches!(err, PluginInstallError::Store(StoreError::Conflict(_))),
            "{err}"
        );
        assert!(
            good.runtime().versions(&id).is_empty(),
            "registry rolled back"
        );
        assert_eq!(
            good.runtime().versions(PLUGIN).len(),
            1,
            "the other plugin stays"
        );
        let recorded = store.list_plugins().await.unwrap();
        assert_eq!(recorded.len(), 2);
        assert!(
            recorded
                .iter()
                .any(|p| p.id == id && p.component_sha256 == "another-sha256")
        );
        store.close().await;
    })
    .await;
}
