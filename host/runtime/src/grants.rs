//! What an invocation may do and on whose behalf: the effective Lever permissions, the Lever
//! connection the host holds for the tenant, the installation's config and vendor secrets,
//! its state store and audit sink.

use lever_client::LeverClient;
use lever_model::Permission;
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use std::borrow::Borrow;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::sync::Arc;
use std::time::Duration;

use crate::audit::{AuditSink, NoAudit};
use crate::capabilities::vendor_http::policy::VendorHttpPolicy;
use crate::journal::EffectJournal;
use crate::state_store::{MemoryStateStore, StateStore};

/// Effective Lever permissions of an installation: what the plugin's manifest requests ∩
/// what the tenant admin approved. A permission the plugin did not request is never
/// effective, even if the admin approved it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct Grants {
    effective: BTreeSet<Permission>,
}

impl Grants {
    /// `requested ∩ approved`: the one way to build effective grants. `requested` is what
    /// the plugin version's manifest asks for (`PluginVersion::requested_permissions`),
    /// `approved` what the tenant admin approved; an admin who approved everything the plugin
    /// asks for passes the requested set again.
    pub fn new(
        requested: impl IntoIterator<Item = impl Borrow<Permission>>,
        approved: impl IntoIterator<Item = impl Borrow<Permission>>,
    ) -> Self {
        let requested: BTreeSet<Permission> = requested.into_iter().map(|p| *p.borrow()).collect();
        Grants {
            effective: approved
                .into_iter()
                .map(|p| *p.borrow())
                .filter(|p| requested.contains(p))
                .collect(),
        }
    }

    /// No Lever access at all.
    pub fn none() -> Self {
        Self::default()
    }

    /// The same grants minus `permission` (e.g. an admin revoked it).
    pub fn without(mut self, permission: Permission) -> Self {
        self.effective.remove(&permission);
        self
    }

    pub fn allows(&self, permission: Permission) -> bool {
        self.effective.contains(&permission)
    }

    pub fn permissions(&self) -> &BTreeSet<Permission> {
        &self.effective
    }

    /// Restricts to what the invoked version requested: an invocation of another version
    /// (e.g. an upgrade that dropped a permission) never gets more than that version asked
    /// for.
    pub(crate) fn restricted_to(&self, requested: &BTreeSet<Permission>) -> Self {
        Self::new(requested, &self.effective)
    }
}

/// The installation's Lever connection as the host uses it: the plugin never sees the
/// credential.
#[derive(Clone, Debug)]
pub struct LeverAccess {
    pub client: LeverClient,
    /// The Lever user writes are attributed to (`perform_as`): the installation's identity.
    pub acting_user_id: String,
    /// Other Lever users a tenant admin listed for the installation: the only ones a plugin
    /// may name as `acting-user-id` besides `acting_user_id`.
    pub allowed_acting_users: BTreeSet<String>,
    /// Whether the connection may see confidential postings and opportunities (the API
    /// key's "Allow access to confidential data", or the `confidential:access:admin` scope).
    pub confidential_access: bool,
}

impl LeverAccess {
    /// Acting as the installation's own user only.
    pub fn new(client: LeverClient, acting_user_id: impl Into<String>) -> Self {
        LeverAccess {
            client,
            acting_user_id: acting_user_id.into(),
            allowed_acting_users: BTreeSet::new(),
            confidential_access: false,
        }
    }

    /// The connection has confidential access.
    pub fn with_confidential_access(mut self, allowed: bool) -> Self {
        self.confidential_access = allowed;
        self
    }

    /// Whether a plugin may attribute a write to `user_id`.
    pub fn may_act_as(&self, user_id: &str) -> bool {
        user_id == self.acting_user_id || self.allowed_acting_users.contains(user_id)
    }
}

/// Vendor secrets of an installation (name → value). `Debug` never shows values.
#[derive(Clone, Default)]
pub struct Secrets {
    values: BTreeMap<String, SecretString>,
}

impl Secrets {
    pub fn new() -> Self {
        Self::default()
    }

    pub fn insert(&mut self, name: impl Into<String>, value: impl Into<String>) {
        self.values
            .insert(name.into(), SecretString::from(value.into()));
    }

    pub fn with(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.insert(name, value);
        self
    }

    pub(crate) fn get(&self, name: &str) -> Option<String> {
        self.values.get(name).map(|s| s.expose_secret().to_owned())
    }

    pub fn names(&self) -> impl Iterator<Item = &str> {
        self.values.keys().map(String::as_str)
    }
}

impl fmt::Debug for Secrets {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_set().entries(self.values.keys()).finish()
    }
}

/// Who an invocation runs for and what it may use.
#[derive(Clone)]
pub struct InvocationContext {
    pub tenant_id: String,
    pub installation_id: String,
    /// Must equal the invoked plugin version's id.
    pub plugin_id: String,
    /// The host's id of the event, run or request being handled.
    pub event_id: Option<String>,
    pub grants: Grants,
    pub lever: Option<LeverAccess>,
    /// The installation's configuration as JSON.
    pub config_json: String,
    pub secrets: Secrets,
    /// Scoped by the host to tenant × plugin; the plugin cannot name another scope.
    pub state: Arc<dyn StateStore>,
    pub audit: Arc<dyn AuditSink>,
    /// Operator policy for vendor HTTP; `None` uses the runtime's default.
    pub vendor_http: Option<VendorHttpPolicy>,
    /// The effect journal of the event being handled: with one, every Lever write is
    /// journaled and a replay is answered from it (exactly-once writes, see `journal`);
    /// without one, writes go straight to Lever.
    pub journal: Option<Arc<dyn EffectJournal>>,
    /// A shorter wall-clock limit for this invocation (a vendor waiting for a query's
    /// answer); never longer than the runtime's own limit.
    pub wall_clock: Option<Duration>,
}

impl InvocationContext {
    /// A context with no grants, no Lever connection, config `{}` and no secrets.
    pub fn new(
        tenant_id: impl Into<String>,
        installation_id: impl Into<String>,
        plugin_id: impl Into<String>,
        state: Arc<dyn StateStore>,
        audit: Arc<dyn AuditSink>,
    ) -> Self {
        InvocationContext {
            tenant_id: tenant_id.into(),
            installation_id: installation_id.into(),
            plugin_id: plugin_id.into(),
            event_id: None,
            grants: Grants::none(),
            lever: None,
            config_json: "{}".into(),
            secrets: Secrets::new(),
            state,
            audit,
            vendor_http: None,
            journal: None,
            wall_clock: None,
        }
    }

    /// The context of host-internal calls (install-time `describe`): nothing but logging.
    pub(crate) fn system(plugin_id: &str) -> Self {
        Self::new(
            "fulcrum",
            "install",
            plugin_id,
            Arc::new(MemoryStateStore::new()),
            Arc::new(NoAudit),
        )
    }

    pub fn with_event_id(mut self, id: impl Into<String>) -> Self {
        self.event_id = Some(id.into());
        self
    }

    pub fn with_grants(mut self, grants: Grants) -> Self {
        self.grants = grants;
        self
    }

    pub fn with_lever(mut self, lever: LeverAccess) -> Self {
        self.lever = Some(lever);
        self
    }

    pub fn with_config(mut self, config_json: impl Into<String>) -> Self {
        self.config_json = config_json.into();
        self
    }

    pub fn with_secrets(mut self, secrets: Secrets) -> Self {
        self.secrets = secrets;
        self
    }

    pub fn with_vendor_http(mut self, policy: VendorHttpPolicy) -> Self {
        self.vendor_http = Some(policy);
        self
    }

    /// Journals this invocation's Lever writes in `journal`, the journal of the one event
    /// (run, request) being handled. Pass the same journal, and the same `event_id`, to every
    /// attempt of that event (a create's attempt marker is derived from both).
    pub fn with_journal(mut self, journal: Arc<dyn EffectJournal>) -> Self {
        self.journal = Some(journal);
        self
    }

    /// Stops this invocation after `limit` of wall-clock time, if that is sooner than the
    /// runtime's limit.
    pub fn with_wall_clock(mut self, limit: Duration) -> Self {
        self.wall_clock = Some(limit);
        self
    }
}

impl fmt::Debug for InvocationContext {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("InvocationContext")
            .field("tenant_id", &self.tenant_id)
            .field("installation_id", &self.installation_id)
            .field("plugin_id", &self.plugin_id)
            .field("event_id", &self.event_id)
            .field("grants", &self.grants)
            .field("lever", &self.lever)
            .field("secrets", &self.secrets)
            .field("journal", &self.journal.is_some())
            .field("wall_clock", &self.wall_clock)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn effective_is_the_intersection() {
        let requested = [Permission::ListStages, Permission::CreateOpportunity];
        let approved = [Permission::CreateOpportunity, Permission::ListUsers];
        let grants = Grants::new(requested, approved);
        assert!(grants.allows(Permission::CreateOpportunity));
        assert!(!grants.allows(Permission::ListStages), "not approved");
        assert!(!grants.allows(Permission::ListUsers), "not requested");
        assert!(
            !grants
                .clone()
                .without(Permission::CreateOpportunity)
                .allows(Permission::CreateOpportunity)
        );
        let narrower: BTreeSet<_> = [Permission::ListStages].into();
        assert!(grants.restricted_to(&narrower).permissions().is_empty());
    }

    #[test]
    fn secrets_are_not_debug_printed() {
        let secrets = Secrets::new().with("api-token", "s3cr3t");
        let shown = format!("{secrets:?}");
        assert!(
            shown.contains("api-token") && !shown.contains("s3cr3t"),
            "{shown}"
        );
        assert_eq!(secrets.get("api-token").as_deref(), Some("s3cr3t"));
    }
}
