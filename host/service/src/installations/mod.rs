//! The rules for a plugin installed for a tenant, whoever makes the change (admin API, demo,
//! test harnesses, tools):
//!
//! - a plugin is added disabled, with nothing approved; adding it again changes nothing;
//! - only permissions the plugin requests can be approved (approved ⊆ requested); a word
//!   Lever does not have, or one the plugin did not request, is a problem and nothing is
//!   approved;
//! - a config must match the plugin's JSON Schema, then pass the plugin's `validate-config`,
//!   which sees the installation's secrets as it would at ingress (so set secrets first);
//! - a secret must be one the plugin declares, 1-8192 bytes;
//! - schedule overrides name schedules the plugin declares (`{"every_seconds": N ≥ 1}` or
//!   `{"enabled": false}`), and the schedules follow at once, as they do on enable and
//!   disable;
//! - an installation is enabled only once it can run: every secret the plugin declares is set
//!   and the stored config passes the schema and `validate-config` (otherwise
//!   [`DomainError::NotReady`] lists each missing secret and config problem); disabling always
//!   works;
//! - every change is written to the tenant's audit log with its [`Actor`].
//!
//! Who may make which change is the caller's business (the admin API checks roles first).

mod config_check;
mod removal;

use fulcrum_runtime::{InvocationContext, PluginVersion};
use fulcrum_store::Installation;
use lever_model::Permission;
use secrecy::{ExposeSecret, SecretString};
use serde_json::{Value, json};
use std::collections::BTreeSet;
use std::sync::Arc;

use crate::Host;
use crate::actor::{Actor, record_change};
use crate::domain_error::{DomainError, Missing, Problem};
use crate::lifecycle;
use fulcrum_runtime::bindings::LifecycleKind;

pub(crate) use config_check::schema_problems;
pub(crate) use removal::finish_after_hook;
pub use removal::{Removal, remove};

/// Longest secret value, in bytes.
pub const MAX_SECRET_LEN: usize = 8192;

/// What [`add`] did.
#[derive(Debug, Clone)]
pub struct Added {
    pub installation: Installation,
    /// `false`: the tenant had the plugin already, and it was left as it was.
    pub created: bool,
}

/// The installation, which must exist, with its tenant checked first.
pub(crate) async fn existing(
    host: &Host,
    tenant: &str,
    plugin: &str,
) -> Result<Installation, DomainError> {
    crate::tenants::existing(host.store(), tenant).await?;
    reread(host, tenant, plugin).await
}

/// The installation as stored (after a change, or once its tenant is known to exist).
async fn reread(host: &Host, tenant: &str, plugin: &str) -> Result<Installation, DomainError> {
    host.store()
        .get_installation(tenant, plugin)
        .await?
        .ok_or_else(|| {
            DomainError::NotFound(Missing::Installation {
                tenant: tenant.to_owned(),
                plugin: plugin.to_owned(),
            })
        })
}

/// The plugin's active version on this host.
fn loaded(host: &Host, plugin: &str) -> Result<Arc<PluginVersion>, DomainError> {
    host.runtime()
        .active(plugin)
        .ok_or_else(|| DomainError::NotFound(Missing::Plugin(plugin.to_owned())))
}

/// An installation to change by its plugin's manifest: it exists and its plugin is loaded.
async fn changeable(
    host: &Host,
    tenant: &str,
    installation: &str,
) -> Result<(Installation, Arc<PluginVersion>), DomainError> {
    let installation = existing(host, tenant, installation).await?;
    let plugin = loaded(host, &installation.plugin)?;
    Ok((installation, plugin))
}

/// Adds `plugin` (loaded on this host) to the tenant: disabled, nothing approved, config `{}`.
/// Idempotent: a tenant that has it already keeps it as it is (`created: false`).
pub async fn add(
    host: &Host,
    actor: &Actor,
    tenant: &str,
    plugin: &str,
) -> Result<Added, DomainError> {
    add_named(host, actor, tenant, plugin, plugin, None).await
}

/// Longest installation name, in characters.
pub const MAX_NAME_LEN: usize = 200;

/// Adds another installation of `plugin` to the tenant, with its own id (it appears in
/// ingress paths and admin routes, like a plugin id) and a name admins know it by (e.g. the
/// career site it serves). Idempotent for the same id and plugin; an id taken by an
/// installation of another plugin is a conflict.
pub async fn add_named(
    host: &Host,
    actor: &Actor,
    tenant: &str,
    plugin: &str,
    installation_id: &str,
    name: Option<&str>,
) -> Result<Added, DomainError> {
    crate::tenants::existing(host.store(), tenant).await?;
    loaded(host, plugin)?;
    // A plugin's first installation has the plugin's id, whatever the manifest allowed.
    if installation_id != plugin && !fulcrum_store::is_valid_tenant_id(installation_id) {
        return Err(DomainError::invalid(
            "invalid_installation_id",
            format!(
                "installation id {installation_id:?} must be 1-63 lower-case letters, digits, '-' \
                 or '_', starting with a letter or digit (it appears in URLs); nothing was stored"
            ),
        ));
    }
    let name = name.map(str::trim).filter(|n| !n.is_empty());
    if name.is_some_and(|n| n.chars().count() > MAX_NAME_LEN) {
        return Err(DomainError::invalid(
            "invalid_name",
            format!(
                "an installation's name is at most {MAX_NAME_LEN} characters; nothing was stored"
            ),
        ));
    }
    if let Some(installation) = host
        .store()
        .get_installation(tenant, installation_id)
        .await?
    {
        if installation.plugin != plugin {
            return Err(DomainError::Conflict(format!(
                "installation {installation_id:?} of tenant {tenant:?} runs plugin {:?}, not \
                 {plugin:?}; choose another installation id; nothing was changed",
                installation.plugin
            )));
        }
        return Ok(Added {
            installation,
            created: false,
        });
    }
    let installation = host
        .store()
        .upsert_installation(&Installation {
            tenant_id: tenant.to_owned(),
            plugin_id: installation_id.to_owned(),
            plugin: plugin.to_owned(),
            name: name.map(str::to_owned),
            enabled: false,
            approved_permissions: json!([]),
            config: json!({}),
            schedule_overrides: json!({}),
            updated_at: 0,
        })
        .await?;
    record_change(
        host.store(),
        actor,
        tenant,
        Some(installation_id),
        "add plugin",
        (installation_id != plugin).then(|| format!("plugin {plugin}")),
    )
    .await;
    Ok(Added {
        installation,
        created: true,
    })
}

/// The permissions to approve, in Lever's words, as a set the plugin requests; or every
/// problem with them.
fn approvable(
    plugin: &PluginVersion,
    words: &[impl AsRef<str>],
) -> Result<BTreeSet<Permission>, DomainError> {
    let requested = plugin.requested_permissions();
    let mut approved = BTreeSet::new();
    let mut problems = Vec::new();
    for (n, word) in words.iter().enumerate() {
        let word: &str = word.as_ref();
        let pointer = format!("/permissions/{n}");
        match word.parse::<Permission>() {
            Ok(p) if requested.contains(&p) => {
                approved.insert(p);
            }
            Ok(_) => problems.push(Problem::host(
                pointer,
                format!(
                    "{word:?} is not requested by plugin {:?}; only requested permissions can \
                     be approved",
                    plugin.id()
                ),
            )),
            Err(_) => problems.push(Problem::host(
                pointer,
                format!(
                    "{word:?} is not a Lever permission; use Lever's words, e.g. \"read posting\""
                ),
            )),
        }
    }
    if problems.is_empty() {
        return Ok(approved);
    }
    let requested: Vec<_> = requested.iter().map(|p| p.as_str()).collect();
    Err(DomainError::Invalid {
        code: "invalid_permissions",
        message: format!(
            "nothing was approved; plugin {:?} requests: {}; approve only those",
            plugin.id(),
            requested.join(", ")
        ),
        problems,
    })
}

/// Approves (replaces) the permissions the plugin gets, in Lever's words; each must be one the
/// plugin requests.
pub async fn approve(
    host: &Host,
    actor: &Actor,
    tenant: &str,
    plugin: &str,
    permissions: &[impl AsRef<str>],
) -> Result<Installation, DomainError> {
    let (_, loaded) = changeable(host, tenant, plugin).await?;
    let approved = approvable(&loaded, permissions)?;
    let words: Vec<&str> = approved.iter().map(|p| p.as_str()).collect();
    host.store()
        .approve_permissions(tenant, plugin, &json!(words))
        .await?;
    record_change(
        host.store(),
        actor,
        tenant,
        Some(plugin),
        "approve permissions",
        Some(format!("approved: {}", words.join(", "))),
    )
    .await;
    reread(host, tenant, plugin).await
}

/// Approves every permission the plugin requests (setups that trust the plugin: the demo,
/// tests).
pub async fn approve_requested(
    host: &Host,
    actor: &Actor,
    tenant: &str,
    plugin: &str,
) -> Result<Installation, DomainError> {
    let (_, loaded) = changeable(host, tenant, plugin).await?;
    let requested: Vec<&str> = loaded
        .requested_permissions()
        .iter()
        .map(|p| p.as_str())
        .collect();
    approve(host, actor, tenant, plugin, &requested).await
}

/// Sets (replaces) the installation's config once it matches the plugin's config schema and
/// passes the plugin's `validate-config`; otherwise every problem is listed and nothing is
/// stored.
pub async fn configure(
    host: &Host,
    actor: &Actor,
    tenant: &str,
    plugin: &str,
    config: &Value,
) -> Result<Installation, DomainError> {
    let (installation, loaded) = changeable(host, tenant, plugin).await?;
    config_check::check_config(host, &loaded, &installation, config).await?;
    let hook = if installation.config != *config {
        let previous = json!({ "previous": installation.config });
        lifecycle::hook_event(host, tenant, plugin, LifecycleKind::ConfigChanged, previous).await?
    } else {
        None
    };
    // The config and its hook commit together: neither is ever stored without the other.
    let queued = host
        .store()
        .set_installation_config_with_hook(tenant, plugin, config, hook.as_ref())
        .await?;
    if queued.is_some() {
        host.wake_workers();
    }
    record_change(
        host.store(),
        actor,
        tenant,
        Some(plugin),
        "set config",
        None,
    )
    .await;
    reread(host, tenant, plugin).await
}

/// Sets (replaces) one of the secrets the plugin declares, stored encrypted.
pub async fn set_secret(
    host: &Host,
    actor: &Actor,
    tenant: &str,
    plugin: &str,
    name: &str,
    value: &SecretString,
) -> Result<(), DomainError> {
    let (_, loaded) = changeable(host, tenant, plugin).await?;
    let declared = &loaded.manifest().secrets;
    if !declared.iter().any(|d| d == name) {
        let declared = if declared.is_empty() {
            "none".to_owned()
        } else {
            declared.join(", ")
        };
        return Err(DomainError::invalid(
            "unknown_secret",
            format!(
                "plugin {plugin:?} declares no secret named {name:?}; it declares: {declared}; \
                 nothing was stored"
            ),
        ));
    }
    let len = value.expose_secret().len();
    if len == 0 || len > MAX_SECRET_LEN {
        return Err(DomainError::invalid(
            "invalid_secret",
            format!("the secret's value must be 1-{MAX_SECRET_LEN} bytes; nothing was stored"),
        ));
    }
    host.store().set_secret(tenant, plugin, name, value).await?;
    record_change(
        host.store(),
        actor,
        tenant,
        Some(plugin),
        "set secret",
        Some(format!("secret {name:?}")),
    )
    .await;
    Ok(())
}

/// Enables the plugin for the tenant, once it can run (every declared secret set, the stored
/// config valid): its events run and its schedules start. Otherwise
/// [`DomainError::NotReady`] lists what is missing, and nothing changes.
pub async fn enable(
    host: &Host,
    actor: &Actor,
    tenant: &str,
    plugin: &str,
) -> Result<Installation, DomainError> {
    let (installation, loaded) = changeable(host, tenant, plugin).await?;
    if host
        .store()
        .installation_removing_since(tenant, plugin)
        .await?
        .flatten()
        .is_some()
    {
        return Err(DomainError::invalid(
            "installation_removing",
            format!(
                "installation {plugin:?} is being removed (its plugin's removing hook runs                  first) and cannot be enabled again; add it anew once it is gone"
            ),
        ));
    }
    let problems = readiness_problems(host, &loaded, &installation).await?;
    if !problems.is_empty() {
        return Err(DomainError::NotReady {
            message: format!(
                "plugin {plugin:?} cannot be enabled for tenant {tenant:?} yet: set the listed \
                 secrets and fix the config (PUT .../secrets/{{name}}, PUT .../config), then \
                 enable it again; nothing was changed"
            ),
            problems,
        });
    }
    set_enabled(host, actor, tenant, plugin, true).await
}

/// What keeps the installation from running: each declared secret not set (pointer
/// `/secrets/<name>`), then each problem of the stored config (under `/config`).
async fn readiness_problems(
    host: &Host,
    loaded: &Arc<PluginVersion>,
    installation: &Installation,
) -> Result<Vec<Problem>, DomainError> {
    let set = host
        .store()
        .secret_names(&installation.tenant_id, &installation.plugin_id)
        .await?;
    let mut problems: Vec<Problem> = loaded
        .manifest()
        .secrets
        .iter()
        .filter(|declared| !set.contains(declared))
        .map(|name| {
            Problem::host(
                format!("/secrets/{name}"),
                format!("the secret {name:?} is not set"),
            )
        })
        .collect();
    match config_check::check_config(host, loaded, installation, &installation.config).await {
        Ok(()) => {}
        Err(DomainError::Invalid {
            code: "invalid_config",
            problems: config,
            ..
        }) => problems.extend(config.into_iter().map(|p| Problem {
            pointer: format!("/config{}", p.pointer),
            ..p
        })),
        Err(other) => return Err(other),
    }
    Ok(problems)
}

/// Disables the plugin for the tenant: its ingress answers 403 and its schedules stop. Works
/// even when the plugin is no longer loaded on this host.
pub async fn disable(
    host: &Host,
    actor: &Actor,
    tenant: &str,
    plugin: &str,
) -> Result<Installation, DomainError> {
    set_enabled(host, actor, tenant, plugin, false).await
}

async fn set_enabled(
    host: &Host,
    actor: &Actor,
    tenant: &str,
    plugin: &str,
    enabled: bool,
) -> Result<Installation, DomainError> {
    let before = existing(host, tenant, plugin).await?;
    let hook = if before.enabled != enabled {
        let kind = if enabled {
            LifecycleKind::Enabled
        } else {
            LifecycleKind::Disabled
        };
        lifecycle::hook_event(host, tenant, plugin, kind, json!({})).await?
    } else {
        None
    };
    // The switch and its hook commit together.
    let queued = host
        .store()
        .set_installation_enabled_with_hook(tenant, plugin, enabled, hook.as_ref())
        .await?;
    if queued.is_some() {
        host.wake_workers();
    }
    host.sync_schedules(tenant, plugin).await?;
    crate::managed_webhooks::sync_logged(host, tenant, plugin).await;
    let operation = if enabled {
        "enable plugin"
    } else {
        "disable plugin"
    };
    record_change(host.store(), actor, tenant, Some(plugin), operation, None).await;
    reread(host, tenant, plugin).await
}

/// Sets (replaces) the installation's schedule overrides: `{"<schedule>": {"every_seconds":
/// N}}` or `{"<schedule>": {"enabled": false}}`, for schedules the plugin declares. The
/// schedules follow at once.
pub async fn set_schedule_overrides(
    host: &Host,
    actor: &Actor,
    tenant: &str,
    plugin: &str,
    overrides: &Value,
) -> Result<Installation, DomainError> {
    let (_, loaded) = changeable(host, tenant, plugin).await?;
    let declared: Vec<&str> = loaded
        .manifest()
        .schedules
        .iter()
        .map(|s| s.name.as_str())
        .collect();
    let problems: Vec<Problem> = crate::scheduler::override_problems(overrides, &declared)
        .into_iter()
        .map(|(pointer, message)| Problem::host(pointer, message))
        .collect();
    if !problems.is_empty() {
        let declared = if declared.is_empty() {
            "none".to_owned()
        } else {
            declared.join(", ")
        };
        return Err(DomainError::Invalid {
            code: "invalid_schedule_overrides",
            message: format!(
                "nothing was stored; plugin {plugin:?} declares the schedules: {declared}"
            ),
            problems,
        });
    }
    host.store()
        .set_schedule_overrides(tenant, plugin, overrides)
        .await?;
    host.sync_schedules(tenant, plugin).await?;
    record_change(
        host.store(),
        actor,
        tenant,
        Some(plugin),
        "set schedule overrides",
        None,
    )
    .await;
    reread(host, tenant, plugin).await
}

/// The context every check call of the installation gets (see
/// [`crate::tenancy::Tenancy::check_context`]), with `config` as its config (`None`: the
/// stored one); and the plugin version to invoke it on.
pub async fn check_context(
    host: &Host,
    tenant: &str,
    plugin: &str,
    config: Option<&Value>,
) -> Result<(Arc<PluginVersion>, InvocationContext), DomainError> {
    let (installation, loaded) = changeable(host, tenant, plugin).await?;
    let config = config.unwrap_or(&installation.config);
    let ctx = config_check::check_context(host, &loaded, &installation, config).await?;
    Ok((loaded, ctx))
}
