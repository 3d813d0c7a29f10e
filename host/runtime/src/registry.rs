//! Installed plugins: versions per plugin id, the newest active, installable, upgradable and
//! removable while the host runs. An invocation holds an `Arc<PluginVersion>`, so one in
//! flight finishes on the version it started with whatever happens to the registry.

use lever_model::Permission;
use parking_lot::RwLock;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;

use crate::bindings::{ConnectorPre, ContractVersion, Manifest};
use crate::cache::CacheError;
use crate::call::InvocationError;
use crate::capabilities::vendor_http::policy::Origin;
use crate::manifest::PluginInfo;

/// One installed version of a plugin: its validated manifest and the pre-instantiated
/// component every invocation instantiates from.
pub struct PluginVersion {
    manifest: Manifest,
    info: Arc<PluginInfo>,
    content_hash: String,
    installed_at: SystemTime,
    pre: ConnectorPre,
}

impl PluginVersion {
    /// The stable plugin id from the manifest.
    pub fn id(&self) -> &str {
        &self.info.id
    }

    pub fn version(&self) -> &semver::Version {
        &self.info.version
    }

    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// The Lever permissions the manifest requests.
    pub fn requested_permissions(&self) -> &BTreeSet<Permission> {
        &self.info.permissions
    }

    /// The vendor origins the manifest declares.
    pub fn vendor_origins(&self) -> &[Origin] {
        &self.info.vendor_origins
    }

    /// sha256 of the component's bytes.
    pub fn content_hash(&self) -> &str {
        &self.content_hash
    }

    pub fn installed_at(&self) -> SystemTime {
        self.installed_at
    }

    /// The contract version the component speaks.
    pub fn contract(&self) -> ContractVersion {
        self.pre.version()
    }

    pub(crate) fn pre(&self) -> &ConnectorPre {
        &self.pre
    }

    pub(crate) fn info(&self) -> &Arc<PluginInfo> {
        &self.info
    }

    /// The stand-in used to call `describe` before the manifest is known: no permissions, no
    /// origins, no secrets.
    pub(crate) fn provisional(pre: ConnectorPre, content_hash: String) -> Self {
        PluginVersion {
            manifest: Manifest {
                id: String::new(),
                name: String::new(),
                version: "0.0.0".into(),
                vendor: String::new(),
                description: String::new(),
                permissions: vec![],
                vendor_hosts: vec![],
                secrets: vec![],
                config_schema: "{}".into(),
                lever_events: vec![],
                lifecycle_hooks: vec![],
                vendor_queries: false,
                schedules: vec![],
                actions: vec![],
            },
            info: Arc::new(PluginInfo::provisional()),
            content_hash,
            installed_at: SystemTime::now(),
            pre,
        }
    }

    /// Validates `manifest` and builds the installed version.
    pub(crate) fn new(
        manifest: Manifest,
        pre: ConnectorPre,
        content_hash: String,
    ) -> Result<Self, InstallError> {
        let info = PluginInfo::from_manifest(&manifest).map_err(|problems| {
            InstallError::InvalidManifest {
                plugin: manifest.id.clone(),
                problems,
            }
        })?;
        let info = Arc::new(info);
        Ok(PluginVersion {
            manifest,
            info,
            content_hash,
            installed_at: SystemTime::now(),
            pre,
        })
    }
}

impl fmt::Debug for PluginVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("PluginVersion")
            .field("id", &self.id())
            .field("version", &self.version().to_string())
            .field("content_hash", &self.content_hash)
            .finish_non_exhaustive()
    }
}

/// Why an upload was not installed.
#[derive(Debug, thiserror::Error)]
pub enum InstallError {
    #[error("the upload is not a WebAssembly component: {reason}")]
    NotAComponent { reason: String },

    #[error(
        "the component targets Fulcrum plugin API {found}, but this host runs {supported}: \
         rebuild it with a Fulcrum SDK for one of those (the current SDK builds the newest)"
    )]
    UnsupportedApiVersion { found: String, supported: String },

    #[error(
        "the component exports fulcrum:connector/plugin@{export} but imports {import}: build \
         every part of it against one contract version"
    )]
    MixedApiVersions { export: String, import: String },

    #[error("the component cannot be linked against this host: {message}")]
    Link { message: String },

    #[error(transparent)]
    Cache(#[from] CacheError),

    #[error("the component's describe() failed: {0}")]
    Describe(InvocationError),

    #[error("plugin {plugin:?} has an invalid manifest: {}", .problems.join("; "))]
    InvalidManifest {
        plugin: String,
        problems: Vec<String>,
    },

    #[error(
        "plugin {id:?} version {version} is already installed with different contents: bump \
         the version for a new build"
    )]
    VersionConflict { id: String, version: String },

    #[error("installation was interrupted: {0}")]
    Interrupted(String),
}

/// Versions by plugin id.
#[derive(Default)]
pub(crate) struct Registry {
    plugins: RwLock<BTreeMap<String, BTreeMap<semver::Version, Arc<PluginVersion>>>>,
}

impl Registry {
    /// Adds a version. The same id, version and contents again is a no-op returning the
    /// installed one; the same id and version with other contents is a conflict.
    pub(crate) fn insert(
        &self,
        version: PluginVersion,
    ) -> Result<Arc<PluginVersion>, InstallError> {
        let mut plugins = self.plugins.write();
        let versions = plugins.entry(version.id().to_owned()).or_default();
        if let Some(existing) = versions.get(version.version()) {
            if existing.content_hash() == version.content_hash() {
                return Ok(existing.clone());
            }
            return Err(InstallError::VersionConflict {
                id: version.id().to_owned(),
                version: version.version().to_string(),
            });
        }
        let version = Arc::new(version);
        versions.insert(version.version().clone(), version.clone());
        Ok(version)
    }

    /// The newest installed version.
    pub(crate) fn active(&self, id: &str) -> Option<Arc<PluginVersion>> {
        self.plugins
            .read()
            .get(id)
            .and_then(|v| v.values().next_back().cloned())
    }

    pub(crate) fn get(&self, id: &str, version: &semver::Version) -> Option<Arc<PluginVersion>> {
        self.plugins
            .read()
            .get(id)
            .and_then(|v| v.get(version).cloned())
    }

    pub(crate) fn versions(&self, id: &str) -> Vec<Arc<PluginVersion>> {
        self.plugins
            .read()
            .get(id)
            .map(|v| v.values().cloned().collect())
            .unwrap_or_default()
    }

    pub(crate) fn plugin_ids(&self) -> Vec<String> {
        self.plugins.read().keys().cloned().collect()
    }

    pub(crate) fn remove_version(
        &self,
        id: &str,
        version: &semver::Version,
    ) -> Option<Arc<PluginVersion>> {
        let mut plugins = self.plugins.write();
        let versions = plugins.get_mut(id)?;
        let removed = versions.remove(version);
        if versions.is_empty() {
            plugins.remove(id);
        }
        removed
    }

    pub(crate) fn remove(&self, id: &str) -> Vec<Arc<PluginVersion>> {
        self.plugins
            .write()
            .remove(id)
            .map(|v| v.into_values().collect())
            .unwrap_or_default()
    }
}
