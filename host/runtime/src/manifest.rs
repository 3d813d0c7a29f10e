//! A plugin's manifest, validated: the facts the host functions need about the running plugin
//! (`PluginInfo`: id, version, requested permissions, declared vendor origins, secrets).
//! Pure: no compiled component here, so capabilities depend on it and not on the registry.

use lever_model::Permission;
use std::collections::BTreeSet;

use crate::bindings::Manifest;
use crate::capabilities::vendor_http::policy::Origin;

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

impl PluginInfo {
    /// The validated facts of `manifest`, or every problem with it.
    pub(crate) fn from_manifest(manifest: &Manifest) -> Result<Self, Vec<String>> {
        let validated = validate_manifest(manifest)?;
        Ok(PluginInfo {
            id: manifest.id.clone(),
            version: validated.version,
            permissions: validated.permissions,
            vendor_origins: validated.origins,
            secrets: manifest.secrets.clone(),
        })
    }

    /// The stand-in used to call `describe` before the manifest is known: no permissions, no
    /// origins, no secrets.
    pub(crate) fn provisional() -> Self {
        PluginInfo {
            id: String::new(),
            version: semver::Version::new(0, 0, 0),
            permissions: BTreeSet::new(),
            vendor_origins: vec![],
            secrets: vec![],
        }
    }
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
            lifecycle_hooks: vec![],
            vendor_queries: false,
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
}
