//! Plugin components on this host: install (compile, record the version in the store, keep the
//! bytes content-addressed on disk) and, on start, load every recorded version again.

use fulcrum_runtime::{InstallError, PluginVersion};
use fulcrum_store::StoreError;
use sha2::{Digest, Sha256};
use std::path::PathBuf;
use std::sync::Arc;

use crate::HostInner;

#[derive(Debug, thiserror::Error)]
pub enum PluginInstallError {
    #[error(transparent)]
    Component(#[from] InstallError),
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error(
        "cannot keep the component at {path}: {error}; check the components directory is writable"
    )]
    Disk {
        path: PathBuf,
        error: std::io::Error,
    },
}

fn component_path(host: &HostInner, sha256: &str) -> PathBuf {
    host.config.components_dir.join(format!("{sha256}.wasm"))
}

/// One install at a time in this process, so a concurrent install of the same component
/// cannot see the version registered by another that is about to roll it back.
static INSTALLING: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());

/// Installs a component so that the component file, the store's record and the runtime's
/// registry agree whatever fails:
///
/// 1. compile and describe it (the runtime registers it, in memory only);
/// 2. keep the file (content-addressed: a crash after this leaves at most a file no record
///    names, which nothing loads);
/// 3. record the version in the store (what a restarted host loads, from the file of step 2).
///
/// If step 2 or 3 fails, the version is taken out of the registry again (unless it was there
/// before this install). A file kept by step 2 stays: no record names it, so nothing loads
/// it, and removing it could pull it from under another host sharing the directory that
/// recorded the same component meanwhile.
pub(crate) async fn install(
    host: &HostInner,
    bytes: Vec<u8>,
) -> Result<Arc<PluginVersion>, PluginInstallError> {
    let _one_at_a_time = INSTALLING.lock().await;
    let sha256 = hex::encode(Sha256::digest(&bytes));
    let path = component_path(host, &sha256);
    let registered_before = host
        .runtime
        .plugin_ids()
        .iter()
        .flat_map(|id| host.runtime.versions(id))
        .any(|version| version.content_hash() == sha256);
    let plugin = host.runtime.install(bytes.clone()).await?;
    let kept = keep_and_record(host, &plugin, &sha256, &path, &bytes).await;
    if let Err(error) = kept {
        if !registered_before {
            host.runtime.remove_version(plugin.id(), plugin.version());
        }
        return Err(error);
    }
    for tenant in host.store.list_tenants().await? {
        for installation in host.store.list_installations(&tenant.id).await? {
            if installation.plugin != plugin.id() {
                continue;
            }
            crate::scheduler::sync_installation(host, &tenant.id, &installation.plugin_id).await?;
        }
    }
    Ok(plugin)
}

/// Steps 2 and 3 of [`install`].
async fn keep_and_record(
    host: &HostInner,
    plugin: &PluginVersion,
    sha256: &str,
    path: &std::path::Path,
    bytes: &[u8],
) -> Result<(), PluginInstallError> {
    if !path.exists() {
        write_atomically(path, bytes)
            .await
            .map_err(|error| PluginInstallError::Disk {
                path: path.to_owned(),
                error,
            })?;
    }
    let manifest = serde_json::to_value(plugin.manifest()).unwrap_or_default();
    host.store
        .record_plugin(
            plugin.id(),
            &plugin.version().to_string(),
            sha256,
            &manifest,
        )
        .await?;
    Ok(())
}

async fn write_atomically(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    if let Some(dir) = path.parent() {
        tokio::fs::create_dir_all(dir).await?;
    }
    // A name of its own per write: two installs of one component at once (two hosts sharing
    // the directory, parallel tests) must not rename each other's partial file away.
    let partial = path.with_extension(format!("partial-{:016x}", rand::random::<u64>()));
    tokio::fs::write(&partial, bytes).await?;
    tokio::fs::rename(&partial, path).await
}

pub(crate) async fn load_recorded(host: &HostInner) -> Result<usize, PluginInstallError> {
    let mut loaded = 0;
    for recorded in host.store.list_plugins().await? {
        let path = component_path(host, &recorded.component_sha256);
        let bytes = match tokio::fs::read(&path).await {
            Ok(bytes) => bytes,
            Err(error) => {
                tracing::warn!(
                    plugin = %recorded.id, version = %recorded.version, path = %path.display(), %error,
                    "a recorded plugin version has no component on this host; install it again"
                );
                continue;
            }
        };
        match host.runtime.install(bytes).await {
            Ok(_) => loaded += 1,
            Err(error) => tracing::warn!(
                plugin = %recorded.id, version = %recorded.version, %error,
                "a recorded plugin version failed to load"
            ),
        }
    }
    Ok(loaded)
}
