//! The Lever connection of each installation, whoever changes it (admin API, command line,
//! demo, tests):
//!
//! - an installation connects with an API key given for it (with the "confidential access"
//!   flag the key was made with), or with OAuth through the app its plugin is registered
//!   with (see [`oauth_flow`]); without its own connection it uses the tenant's default key;
//! - a key is probed before it is stored: one harmless request per approved permission and
//!   per permission the host itself needs ([`host_permissions`]), so an admin sees at once
//!   which ones the key lacks (and a key Lever rejects is not stored at all);
//! - effective grants are requested ∩ approved, and for OAuth ∩ what the granted scopes
//!   cover ([`crate::tenancy::effective_approvals`]);
//! - (re)connecting resumes the installation's paused events; disconnecting forgets the
//!   credential and its managed webhooks (events then run on the tenant's key, if it has
//!   one, and fail otherwise);
//! - the installation's identity is the Lever user its writes are attributed to, checked
//!   against Lever (active), plus the users a plugin may name instead;
//! - every change is written to the tenant's audit log with its [`Actor`].

pub mod oauth_apps;
pub mod oauth_flow;
mod probe;
pub(crate) mod token_source;

use fulcrum_store::{Installation, InstallationIdentity, LeverConnection};
use futures::{StreamExt as _, TryStreamExt as _};
use lever_client::{LeverClient, LeverError, UserQuery};
use lever_model::{Permission, User};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use std::collections::BTreeSet;

use crate::Host;
use crate::actor::{Actor, record_change};
use crate::domain_error::DomainError;
use crate::lifecycle::{self, ConnectMethod};
use crate::tenancy::{TenancyError, approved_permissions, confidential_access, granted_scopes};
use fulcrum_runtime::PluginVersion;
use fulcrum_runtime::bindings::LifecycleKind;

pub use probe::ProbeReport;

/// Longest API key accepted, in bytes.
const MAX_KEY_LEN: usize = 512;
/// Most extra Lever users an installation may act as.
pub const MAX_ALLOWED_ACTING_USERS: usize = 50;
/// Longest Lever user id accepted (Lever's are UUIDs; the store's limit).
const MAX_USER_ID_LEN: usize = 200;
/// Most Lever users listed to choose from.
const MAX_LISTED_USERS: usize = 10_000;

/// What an admin sees of a connection: never a key or token.
#[derive(Debug, Clone, Serialize, utoipa::ToSchema)]
pub struct ConnectionInfo {
    /// `api_key`, `oauth`, or `tenant_default` (no own connection: the tenant's key).
    pub kind: String,
    /// `connected`, `reconnect_needed`, or `not_connected`.
    pub status: String,
    /// Why it needs reconnecting.
    pub status_detail: Option<String>,
    /// The key's "Allow access to confidential data" flag, or the confidential scope granted.
    pub confidential: bool,
    /// The OAuth app it was made with.
    pub app_id: Option<String>,
    /// The scopes Lever granted (OAuth).
    pub granted_scopes: Vec<String>,
    /// Approved permissions the connection cannot use: not covered by the granted scopes.
    pub not_granted_by_lever: Vec<String>,
    /// Unix ms when the current access token expires (OAuth).
    pub access_expires_at: Option<i64>,
    pub connected_by: Option<String>,
    /// Unix ms.
    pub updated_at: Option<i64>,
    /// The Lever user writes are attributed to (`perform_as`).
    pub acting_user_id: Option<String>,
    /// Other users a plugin may name as the acting user.
    pub allowed_acting_users: Vec<String>,
}

/// What the host itself asks Lever for on an installation's connection, besides what its
/// plugin was approved (the plugin never gets these unless it requested and was approved
/// them): reading users (to list them and check the installation's identity); for a plugin
/// that creates opportunities, listing opportunities by tag and removing tags (the per-attempt
/// marker that makes a retried create exactly-once); for a plugin subscribed to Lever events,
/// managing webhooks (the host creates them).
pub fn host_permissions(plugin: &PluginVersion) -> BTreeSet<Permission> {
    let mut needed = BTreeSet::from([Permission::ListUsers, Permission::ReadUser]);
    if plugin
        .requested_permissions()
        .contains(&Permission::CreateOpportunity)
    {
        needed.extend([
            Permission::ListOpportunities,
            Permission::RemoveOpportunityTags,
        ]);
    }
    if !plugin.manifest().lever_events.is_empty() {
        needed.extend([
            Permission::ListWebhooks,
            Permission::CreateWebhook,
            Permission::DeleteWebhook,
        ]);
    }
    needed
}

use crate::installations::existing;

/// The installation's connection as an admin sees it.
pub async fn info(
    host: &Host,
    tenant: &str,
    installation: &str,
) -> Result<ConnectionInfo, DomainError> {
    let stored = approved_permissions(&existing(host, tenant, installation).await?);
    let store = host.store();
    let connection = store.get_lever_connection(tenant, installation).await?;
    let identity = store.installation_identity(tenant, installation).await?;
    let has_default = store.get_lever_credential(tenant).await?.is_some();
    Ok(describe(
        connection.as_ref(),
        identity,
        &stored,
        has_default,
    ))
}

fn describe(
    connection: Option<&LeverConnection>,
    identity: Option<InstallationIdentity>,
    approved: &BTreeSet<Permission>,
    has_default: bool,
) -> ConnectionInfo {
    let (acting_user_id, allowed_acting_users) = identity
        .map(|i| (i.acting_user_id, i.allowed_acting_users))
        .unwrap_or_default();
    let Some(c) = connection else {
        return ConnectionInfo {
            kind: "tenant_default".into(),
            status: if has_default {
                "connected"
            } else {
                "not_connected"
            }
            .into(),
            status_detail: None,
            confidential: false,
            app_id: None,
            granted_scopes: vec![],
            not_granted_by_lever: vec![],
            access_expires_at: None,
            connected_by: None,
            updated_at: None,
            acting_user_id,
            allowed_acting_users,
        };
    };
    let scopes = granted_scopes(c);
    let not_granted = scopes
        .as_ref()
        .map(|s| {
            approved
                .iter()
                .filter(|p| !s.covers(**p))
                .map(|p| p.as_str().to_owned())
                .collect()
        })
        .unwrap_or_default();
    let confidential = confidential_access(c);
    ConnectionInfo {
        kind: c.kind.as_str().into(),
        status: c.status.as_str().into(),
        status_detail: c.status_detail.clone(),
        confidential,
        app_id: c.app_id.clone(),
        granted_scopes: scopes
            .map(|s| s.iter().map(|x| x.as_str().to_owned()).collect())
            .unwrap_or_default(),
        not_granted_by_lever: not_granted,
        access_expires_at: c.access_expires_at,
        connected_by: c.connected_by.clone(),
        updated_at: Some(c.updated_at),
        acting_user_id,
        allowed_acting_users,
    }
}

/// Connects the installation with an API key made for it. The key is probed first: a key
/// Lever rejects is refused and nothing is stored; a key lacking approved permissions is
/// stored, and the report names what it lacks.
pub async fn connect_api_key(
    host: &Host,
    actor: &Actor,
    tenant: &str,
    installation: &str,
    api_key: &SecretString,
    confidential: bool,
) -> Result<(ConnectionInfo, ProbeReport), DomainError> {
    let stored = existing(host, tenant, installation).await?;
    let key = api_key.expose_secret();
    if key.is_empty() || key.len() > MAX_KEY_LEN || key.chars().any(char::is_whitespace) {
        return Err(DomainError::invalid(
            "invalid_api_key",
            format!(
                "a Lever API key is 1-{MAX_KEY_LEN} characters without spaces; copy it again \
                 from Lever (Settings → Integrations and API → API Credentials); nothing was \
                 stored"
            ),
        ));
    }
    let client = host
        .inner
        .tenancy
        .client_for_key(tenant, api_key)
        .await
        .map_err(tenancy_error)?;
    let report = probe::probe(&client, &probed(host, &stored)).await;
    if report.rejected {
        return Err(DomainError::invalid(
            "lever_key_rejected",
            "Lever rejected this API key (401): it is wrong, revoked or for another Lever \
             account; generate a new key in Lever and paste it again; nothing was stored",
        ));
    }
    host.store()
        .put_api_key_connection(
            tenant,
            installation,
            api_key,
            confidential,
            &actor.to_string(),
        )
        .await?;
    connected(
        host,
        actor,
        tenant,
        installation,
        "connect Lever (API key)",
        ConnectMethod::ApiKey,
    )
    .await?;
    Ok((info(host, tenant, installation).await?, report))
}

/// Probes each approved permission through the installation's connection.
pub async fn test(
    host: &Host,
    tenant: &str,
    installation: &str,
) -> Result<ProbeReport, DomainError> {
    let stored = existing(host, tenant, installation).await?;
    let client = client(host, tenant, installation).await?;
    Ok(probe::probe(&client, &probed(host, &stored)).await)
}

/// Forgets the installation's own connection (its OAuth grant stays listed in Lever's
/// Authorized Apps until revoked there). Events then use the tenant's default key, if any.
pub async fn disconnect(
    host: &Host,
    actor: &Actor,
    tenant: &str,
    installation: &str,
) -> Result<bool, DomainError> {
    existing(host, tenant, installation).await?;
    crate::managed_webhooks::remove_before_disconnect(host, tenant, installation).await;
    let removed = host
        .store()
        .delete_lever_connection(tenant, installation)
        .await?;
    if removed {
        record_change(
            host.store(),
            actor,
            tenant,
            Some(installation),
            "disconnect Lever",
            None,
        )
        .await;
    }
    Ok(removed)
}

/// Sets the Lever user the installation acts as, and the others a plugin may name; each must
/// be an active Lever user, checked through the installation's connection.
pub async fn set_identity(
    host: &Host,
    actor: &Actor,
    tenant: &str,
    installation: &str,
    acting_user_id: &str,
    allowed_acting_users: &[String],
) -> Result<InstallationIdentity, DomainError> {
    existing(host, tenant, installation).await?;
    if allowed_acting_users.len() > MAX_ALLOWED_ACTING_USERS {
        return Err(DomainError::invalid(
            "too_many_users",
            format!(
                "at most {MAX_ALLOWED_ACTING_USERS} other users may be listed; nothing was \
                 changed"
            ),
        ));
    }
    let mut wanted: Vec<&str> = vec![acting_user_id];
    wanted.extend(allowed_acting_users.iter().map(String::as_str));
    // Checked before Lever is asked: a blank id would ask for `/users/`, the whole list.
    let is_bad = |u: &&str| {
        u.trim().is_empty() || u.len() > MAX_USER_ID_LEN || u.contains(char::is_whitespace)
    };
    if let Some(bad) = wanted.iter().copied().find(is_bad) {
        // Too long to be an id: not echoed back.
        let shown = if bad.len() > MAX_USER_ID_LEN {
            "(too long)"
        } else {
            bad
        };
        return Err(DomainError::invalid(
            "invalid_user_id",
            format!(
                "{shown:?} is not a Lever user id (1-{MAX_USER_ID_LEN} characters, no spaces); \
                 pick one from the installation's Lever users; nothing was changed"
            ),
        ));
    }
    let client = client(host, tenant, installation).await?;
    for user_id in wanted {
        check_active_user(&client, user_id).await?;
    }
    let mut allowed: Vec<String> = allowed_acting_users
        .iter()
        .filter(|u| *u != acting_user_id)
        .cloned()
        .collect();
    allowed.sort();
    allowed.dedup();
    let identity = host
        .store()
        .set_installation_identity(tenant, installation, Some(acting_user_id), &allowed)
        .await?;
    record_change(
        host.store(),
        actor,
        tenant,
        Some(installation),
        "set Lever identity",
        Some(format!(
            "acting user {acting_user_id}, {} other user(s)",
            allowed.len()
        )),
    )
    .await;
    Ok(identity)
}

/// Lever's active users, as the installation's connection sees them (to choose an identity).
pub async fn lever_users(
    host: &Host,
    tenant: &str,
    installation: &str,
) -> Result<Vec<User>, DomainError> {
    existing(host, tenant, installation).await?;
    let client = client(host, tenant, installation).await?;
    // Bounded: a Lever account has at most a few thousand users.
    let users: Vec<User> = client
        .users(UserQuery::default())
        .take(MAX_LISTED_USERS)
        .try_collect()
        .await
        .map_err(lever_failed)?;
    Ok(users.into_iter().filter(User::is_active).collect())
}

async fn check_active_user(client: &LeverClient, user_id: &str) -> Result<(), DomainError> {
    match client.user(user_id).await {
        Ok(user) if user.is_active() => Ok(()),
        Ok(_) => Err(DomainError::invalid(
            "inactive_user",
            format!(
                "Lever user {user_id} is deactivated; choose an active user; nothing was changed"
            ),
        )),
        Err(LeverError::NotFound { .. }) => Err(DomainError::invalid(
            "unknown_user",
            format!(
                "Lever has no user {user_id}; pick one from the installation's Lever users; \
                 nothing was changed"
            ),
        )),
        Err(e) => Err(lever_failed(e)),
    }
}

/// After a (re)connect: resume paused events, queue the `connected` hook (if the plugin asked
/// for it) and tell the log.
pub(crate) async fn connected(
    host: &Host,
    actor: &Actor,
    tenant: &str,
    installation: &str,
    operation: &str,
    method: ConnectMethod,
) -> Result<(), DomainError> {
    let resumed = host
        .store()
        .resume_paused_events(tenant, installation)
        .await?;
    if resumed > 0 {
        host.inner.wake.notify_waiters();
    }
    crate::managed_webhooks::sync_logged(host, tenant, installation).await;
    lifecycle::queue(
        host,
        tenant,
        installation,
        LifecycleKind::Connected,
        lifecycle::connected_detail(method),
    )
    .await?;
    record_change(
        host.store(),
        actor,
        tenant,
        Some(installation),
        operation,
        (resumed > 0).then(|| format!("{resumed} paused event(s) resumed")),
    )
    .await;
    Ok(())
}

/// What a probe checks: the approvals the plugin requested plus what the host itself needs.
fn probed(host: &Host, installation: &Installation) -> BTreeSet<Permission> {
    let mut wanted = approved_permissions(installation);
    if let Some(plugin) = host.runtime().active(&installation.plugin) {
        wanted.retain(|p| plugin.requested_permissions().contains(p));
        wanted.extend(host_permissions(&plugin));
    }
    wanted
}

async fn client(host: &Host, tenant: &str, installation: &str) -> Result<LeverClient, DomainError> {
    host.inner
        .tenancy
        .lever_client(tenant, installation)
        .await
        .map_err(tenancy_error)
}

pub(crate) fn tenancy_error(e: TenancyError) -> DomainError {
    match e {
        TenancyError::Store(e) => DomainError::Store(e),
        TenancyError::NoCredential(_) => DomainError::invalid(
            "not_connected",
            "the installation is not connected to Lever: connect it (OAuth or an API key) first",
        ),
        e @ TenancyError::ReconnectNeeded { .. } => {
            DomainError::invalid("reconnect_needed", e.to_string())
        }
        e => DomainError::invalid("lever_config", e.to_string()),
    }
}

pub(crate) fn lever_failed(e: LeverError) -> DomainError {
    DomainError::invalid(
        "lever_failed",
        format!("Lever did not answer as expected: {e}"),
    )
}
