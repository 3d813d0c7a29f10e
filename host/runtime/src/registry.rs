//! Installed plugins: versions per plugin id, the newest active, installable, upgradable and
//! removable while the host runs. An invocation holds an `Arc<PluginVersion>`, so one in
//! flight finishes on the version it started with whatever happens to the registry.

use lever_model::Permission;
use parking_lot::RwLock;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;
use std::time::SystemTime;
use wasmtime::component::Component;

use crate::bindings::{ConnectorPre, Manifest, PLUGIN_EXPORT, WIT_PACKAGE, WIT_VERSION};
use crate::cache::CacheError;
use crate::capabilities::vendor_http::Origin;
use crate::host::HostState;
use crate::invoke::InvocationError;

/// What the host functions need to know about the running plugin (its validated manifest
/// facts), without the compiled component.
#[derive(Debug)]
pub(crate) struct PluginInfo {
    pub(crate) id: String,
    pub(crate) version: semver::Version,
    pub(crate) permissions: BTreeSet<Permission>,
    pub(crate) vendor_origins: Vec<Origin>,
    pub(crate) secrets: Vec<String>,
}

/// One installed version of a plugin: its validated manifest and the pre-instantiated
/// component every invocation instantiates from.
pub struct PluginVersion {
    manifest: Manifest,
    info: Arc<PluginInfo>,
    content_hash: String,
    installed_at: SystemTime,
    pre: ConnectorPre<HostState>,
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

    pub(crate) fn pre(&self) -> &ConnectorPre<HostState> {
        &self.pre
    }

    pub(crate) fn info(&self) -> &Arc<PluginInfo> {
        &self.info
    }

    /// The stand-in used to call `describe` before the manifest is known: no permissions, no
    /// origins, no secrets.
    pub(crate) fn provisional(pre: ConnectorPre<HostState>, content_hash: String) -> Self {
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
                schedules: vec![],
                actions: vec![],
            },
            info: Arc::new(PluginInfo {
                id: String::new(),
                version: semver::Version::new(0, 0, 0),
                permissions: BTreeSet::new(),
                vendor_origins: vec![],
                secrets: vec![],
            }),
            content_hash,
            installed_at: SystemTime::now(),
            pre,
        }
    }

    /// Validates `manifest` and builds the installed version.
    pub(crate) fn new(
        manifest: Manifest,
        pre: ConnectorPre<HostState>,
        content_hash: String,
    ) -> Result<Self, InstallError> {
        let validated =
            validate_manifest(&manifest).map_err(|problems| InstallError::InvalidManifest {
                plugin: manifest.id.clone(),
                problems,
            })?;
        let info = Arc::new(PluginInfo {
            id: manifest.id.clone(),
            version: validated.version,
            permissions: validated.permissions,
            vendor_origins: validated.origins,
            secrets: manifest.secrets.clone(),
        });
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
        "the component targets Fulcrum plugin API {found}, but this host supports {supported}: \
         rebuild it against fulcrum:connector@{supported} (the Fulcrum SDK of that version)"
    )]
    UnsupportedApiVersion {
        found: String,
        supported: &'static str,
    },

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

/// Checks the component's world before anything else: it must export the plugin interface
/// of the version this host implements. A component built against another contract version
/// gets a clear error instead of a link failure.
pub(crate) fn check_api_version(
    engine: &wasmtime::Engine,
    component: &Component,
) -> Result<(), InstallError> {
    let ty = component.component_type();
    let exports: Vec<String> = ty
        .exports(engine)
        .map(|(name, _)| name.to_owned())
        .collect();
    if exports.iter().any(|e| e == PLUGIN_EXPORT) {
        // Imports of other contract versions would fail to link; name the version instead.
        for (name, _) in ty.imports(engine) {
            if let Some(version) = fulcrum_version(name)
                && version != WIT_VERSION
            {
                return Err(InstallError::UnsupportedApiVersion {
                    found: version.to_owned(),
                    supported: WIT_VERSION,
                });
            }
        }
        return Ok(());
    }
    let found = exports
        .iter()
        .find_map(|e| {
            let (interface, version) = e.split_once('@')?;
            (interface == "fulcrum:connector/plugin").then(|| version.to_owned())
        })
        .unwrap_or_else(|| {
            if exports.is_empty() {
                "none (the component exports nothing)".to_owned()
            } else {
                format!("none (the component exports {})", exports.join(", "))
            }
        });
    Err(InstallError::UnsupportedApiVersion {
        found,
        supported: WIT_VERSION,
    })
}

/// The version of a `fulcrum:connector/...@version` name.
fn fulcrum_version(name: &str) -> Option<&str> {
    let rest = name.strip_prefix(WIT_PACKAGE)?.strip_prefix('/')?;
    Some(rest.split_once('@').map(|(_, v)| v).unwrap_or(""))
}

struct ValidManifest {
    version: semver::Version,
    permissions: BTreeSet<Permission>,
    origins: Vec<Origin>,
}

/// Every problem at once, so a vendor fixes them in one round.
fn validate_manifest(m: &Manifest) -> Result<ValidManifest, Vec<String>> {
    let mut problems = Vec::new();

    if m.id.is_empty()
        || m.id.len() > 64
        || !m
            .id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-')
    {
        problems.push(format!(
            "id {:?} must be 1-64 characters of a-z, 0-9 and '-'",
            m.id
        ));
    }

    let version = match parse_version(&m.version) {
        Ok(v) => v,
        Err(e) => {
            problems.push(format!(
                "version {:?} is not a semantic version (MAJOR.MINOR.PATCH): {e}",
                m.version
            ));
            semver::Version::new(0, 0, 0)
        }
    };

    let mut permissions = BTreeSet::new();
    let mut unknown = Vec::new();
    for word in &m.permissions {
        match word.parse::<Permission>() {
            Ok(p) => {
                permissions.insert(p);
            }
            Err(_) => unknown.push(format!("{word:?}")),
        }
    }
    if !unknown.is_empty() {
        problems.push(format!(
            "unknown Lever permissions {}: use Lever's words, e.g. \"read posting\" or \"create opportunity\"",
            unknown.join(", ")
        ));
    }

    let mut origins = Vec::new();
    for host in &m.vendor_hosts {
        match Origin::parse(host) {
            Ok(o) if o.scheme() == "https" => origins.push(o),
            Ok(_) => problems.push(format!("vendor host {host:?} must use https")),
            Err(e) => problems.push(format!(
                "vendor host {host:?} is not an origin like https://api.vendor.example[:port]: {e}"
            )),
        }
    }

    if let Err(e) = serde_json::from_str::<serde_json::Value>(&m.config_schema) {
        problems.push(format!("config schema is not valid JSON: {e}"));
    }
    let mut names = BTreeSet::new();
    for action in &m.actions {
        if !names.insert(action.name.as_str()) {
            problems.push(format!("action {:?} is declared twice", action.name));
        }
        if let Err(e) = serde_json::from_str::<serde_json::Value>(&action.input_schema) {
            problems.push(format!(
                "input schema of action {:?} is not valid JSON: {e}",
                action.name
            ));
        }
    }
    let mut names = BTreeSet::new();
    for schedule in &m.schedules {
        if !names.insert(schedule.name.as_str()) {
            problems.push(format!("schedule {:?} is declared twice", schedule.name));
        }
        if schedule.every_seconds == 0 {
            problems.push(format!(
                "schedule {:?} must have every-seconds > 0",
                schedule.name
            ));
        }
    }
    let mut names = BTreeSet::new();
    for secret in &m.secrets {
        if secret.is_empty() || !names.insert(secret.as_str()) {
            problems.push(format!("secret name {secret:?} is empty or declared twice"));
        }
    }

    if problems.is_empty() {
        Ok(ValidManifest {
            version,
            permissions,
            origins,
        })
    } else {
        Err(problems)
    }
}

/// Semantic versions, tolerating a leading `v` and a missing patch (`1.2` = `1.2.0`).
fn parse_version(s: &str) -> Result<semver::Version, semver::Error> {
    let s = s.trim().strip_prefix('v').unwrap_or(s.trim());
    semver::Version::parse(s).or_else(|e| {
        let dots = s
            .split(['-', '+'])
            .next()
            .unwrap_or("")
            .matches('.')
            .count();
        if dots == 1 {
            let (core, rest) = s.split_at(s.find(['-', '+']).unwrap_or(s.len()));
            semver::Version::parse(&format!("{core}.0{rest}"))
        } else {
            Err(e)
        }
    })
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bindings::{Action, Schedule};

    fn manifest() -> Manifest {
        Manifest {
            id: "remote-tech-work".into(),
            name: "Remote Tech Work".into(),
            version: "1.2.3".into(),
            vendor: "RTW".into(),
            description: "".into(),
            permissions: vec!["read posting".into(), "Create Opportunity".into()],
            vendor_hosts: vec!["https://api.remotetech.work".into()],
            secrets: vec!["api-token".into()],
            config_schema: r#"{"type":"object"}"#.into(),
            lever_events: vec![],
            schedules: vec![Schedule {
                name: "sync".into(),
                description: "".into(),
                every_seconds: 60,
            }],
            actions: vec![Action {
                name: "run".into(),
                description: "".into(),
                input_schema: "{}".into(),
            }],
        }
    }

    #[test]
    fn a_good_manifest_validates() {
        let v = validate_manifest(&manifest()).unwrap();
        assert_eq!(v.version, semver::Version::new(1, 2, 3));
        assert!(v.permissions.contains(&Permission::CreateOpportunity));
        assert_eq!(v.origins[0].to_string(), "https://api.remotetech.work");
    }

    #[test]
    fn every_problem_is_reported_and_named() {
        let mut m = manifest();
        m.id = "Bad Id".into();
        m.version = "one".into();
        m.permissions.push("read everything".into());
        m.vendor_hosts.push("http://plain.example".into());
        m.vendor_hosts.push("https://x.example/path".into());
        m.config_schema = "{not json".into();
        let problems = validate_manifest(&m).err().unwrap();
        let all = problems.join("\n");
        assert_eq!(problems.len(), 6, "{all}");
        assert!(all.contains("\"read everything\""), "{all}");
        assert!(all.contains("http://plain.example"), "{all}");
        assert!(all.contains("config schema"), "{all}");
    }

    #[test]
    fn versions_are_semverish() {
        assert_eq!(
            parse_version("v1.2").unwrap(),
            semver::Version::new(1, 2, 0)
        );
        assert_eq!(
            parse_version("1.2.3-beta.1").unwrap().to_string(),
            "1.2.3-beta.1"
        );
        assert_eq!(parse_version("1.2-rc1").unwrap().to_string(), "1.2.0-rc1");
        assert!(parse_version("1").is_err());
        assert!(parse_version("latest").is_err());
    }

    #[test]
    fn fulcrum_versions_are_read_from_names() {
        assert_eq!(
            fulcrum_version("fulcrum:connector/lever@0.2.0"),
            Some("0.2.0")
        );
        assert_eq!(fulcrum_version("wasi:cli/environment@0.2.0"), None);
    }
}
