//! Everything an invocation needs about one tenant × plugin, loaded from the store on each
//! event and dropped afterwards (nothing per tenant stays resident except a bounded cache of
//! Lever clients): the installation, its effective grants, config, decrypted vendor secrets,
//! and its Lever connection (its own, else the tenant's default key) on the plugin's own
//! rate-budget lane.

use fulcrum_runtime::audit::NoAudit;
use fulcrum_runtime::{
    AuditSink, EffectJournal, Grants, InvocationContext, LeverAccess, MemoryStateStore,
    PluginVersion, Runtime, Secrets, StateStore, VendorHttpPolicy,
};
use fulcrum_store::{
    ConnectionSecret, ConnectionStatus, CredentialKind, Installation, LeverConnection,
    LeverSettings, Store, StoreError,
};
use lever_client::oauth::OAuthApp;
use lever_client::{ClientConfig, Credential, LeverClient, RateLimits};
use lever_model::{Permission, ScopeSet};
use secrecy::ExposeSecret;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use crate::connections::token_source::StoredTokenSource;

/// Why an event or request cannot be run for a tenant × plugin.
#[derive(Debug, thiserror::Error)]
pub enum TenancyError {
    #[error("unknown tenant {0:?}")]
    UnknownTenant(String),
    #[error("plugin {plugin:?} is not installed for tenant {tenant:?}")]
    NotInstalled { tenant: String, plugin: String },
    #[error(
        "plugin {plugin:?} is disabled for tenant {tenant:?}; a tenant super admin must enable it"
    )]
    Disabled { tenant: String, plugin: String },
    #[error("plugin {0:?} is not loaded on this host; the operator must install its component")]
    PluginNotLoaded(String),
    #[error(
        "tenant {0:?} has no Lever credential; a tenant admin must connect Lever before events can run"
    )]
    NoCredential(String),
    #[error("the Lever connection of tenant {tenant:?} is misconfigured: {message}")]
    LeverConfig { tenant: String, message: String },
    #[error(
        "the Lever connection of installation {installation:?} (tenant {tenant:?}) needs \
         reconnecting: {detail}; a tenant super admin must connect Lever again"
    )]
    ReconnectNeeded {
        tenant: String,
        installation: String,
        detail: String,
    },
    #[error(transparent)]
    Store(#[from] StoreError),
}

impl TenancyError {
    /// Whether waiting can fix it without anyone acting (a database hiccup), as opposed to
    /// needing an admin (disabled, not installed, no credential).
    pub fn is_transient(&self) -> bool {
        matches!(self, TenancyError::Store(StoreError::Database(_)))
    }
}

/// What the pipeline passes per invocation.
pub struct Handles {
    pub state: Arc<dyn StateStore>,
    pub audit: Arc<dyn AuditSink>,
    pub journal: Option<Arc<dyn EffectJournal>>,
    pub event_id: Option<String>,
    /// Whether to connect Lever (not for ingress checks, which may only read config).
    pub lever: bool,
    /// Run even though the installation is disabled: lifecycle hooks (`disabled` itself, and
    /// `connected` or `config-changed` while an admin sets it up) must reach the plugin.
    pub even_disabled: bool,
}

pub struct Prepared {
    pub plugin: Arc<PluginVersion>,
    pub installation: Installation,
    pub ctx: InvocationContext,
}

/// Lever defaults for tenants that did not set their own.
#[derive(Debug, Clone)]
pub struct LeverDefaults {
    pub client: ClientConfig,
    /// The `perform_as` user when a tenant has none configured.
    pub acting_user_id: Option<String>,
}

pub struct Tenancy {
    store: Store,
    defaults: LeverDefaults,
    /// One budget per credential fingerprint, shared by every client of that credential.
    limits: Arc<RateLimits>,
    /// Which credential and where → client; bounded and idle-expiring.
    clients: moka::sync::Cache<ClientKey, LeverClient>,
    vendor_http: Option<VendorHttpPolicy>,
    /// This process's node id: who holds a connection's refresh lease.
    node_id: String,
}

/// What a cached client was built from; any change makes a new client.
#[derive(Clone, PartialEq, Eq, Hash)]
struct ClientKey {
    tenant: String,
    /// Empty for the tenant's default key.
    installation: String,
    /// The default key's `updated_at`, an API-key connection's generation, or an OAuth
    /// connection's app (its token source follows rotations by itself).
    version: String,
    base_url: String,
}

impl Tenancy {
    pub fn new(
        store: Store,
        defaults: LeverDefaults,
        vendor_http: Option<VendorHttpPolicy>,
        node_id: &str,
    ) -> Self {
        let limits = RateLimits::new(defaults.client.rate_per_second, defaults.client.burst);
        Tenancy {
            store,
            defaults,
            limits,
            clients: moka::sync::Cache::builder()
                .max_capacity(512)
                .time_to_idle(Duration::from_secs(300))
                .build(),
            vendor_http,
            node_id: node_id.to_owned(),
        }
    }

    pub fn rate_limits(&self) -> &Arc<RateLimits> {
        &self.limits
    }

    /// Loads the installation and builds the invocation context. Refuses unknown tenants,
    /// plugins that are not installed or are disabled, and plugins this host has not loaded.
    pub async fn prepare(
        &self,
        runtime: &Runtime,
        tenant_id: &str,
        plugin_id: &str,
        handles: Handles,
    ) -> Result<Prepared, TenancyError> {
        let installation = self
            .store
            .get_installation(tenant_id, plugin_id)
            .await?
            .ok_or_else(|| TenancyError::NotInstalled {
                tenant: tenant_id.to_owned(),
                plugin: plugin_id.to_owned(),
            })?;
        if !installation.enabled && !handles.even_disabled {
            return Err(TenancyError::Disabled {
                tenant: tenant_id.to_owned(),
                plugin: plugin_id.to_owned(),
            });
        }
        let plugin = runtime
            .active(&installation.plugin)
            .ok_or_else(|| TenancyError::PluginNotLoaded(installation.plugin.clone()))?;
        let config = installation.config.to_string();
        let ctx = self
            .context(&plugin, &installation, config, handles)
            .await?;
        Ok(Prepared {
            plugin,
            installation,
            ctx,
        })
    }

    /// The context of a check call (`validate-config`, and any later check): the grants,
    /// secrets and vendor HTTP policy the plugin gets at ingress, with `config` (a candidate
    /// not stored yet) as its config. Read-only: state in memory, thrown away afterwards, no
    /// journal and no Lever connection. Works on a disabled installation, which is when admins
    /// set one up.
    pub async fn check_context(
        &self,
        plugin: &PluginVersion,
        installation: &Installation,
        config: &serde_json::Value,
    ) -> Result<InvocationContext, TenancyError> {
        let handles = Handles {
            state: Arc::new(MemoryStateStore::new()),
            audit: Arc::new(NoAudit),
            journal: None,
            event_id: None,
            lever: false,
            even_disabled: true,
        };
        self.context(plugin, installation, config.to_string(), handles)
            .await
    }

    /// What every invocation of `plugin` for `installation` is given (pipeline, ingress and
    /// checks alike): grants (requested ∩ approved), `config_json`, the declared secrets that
    /// are set, the operator's vendor HTTP policy, and `handles`.
    async fn context(
        &self,
        plugin: &PluginVersion,
        installation: &Installation,
        config_json: String,
        handles: Handles,
    ) -> Result<InvocationContext, TenancyError> {
        let (tenant_id, plugin_id) = (&installation.tenant_id, &installation.plugin_id);
        let connection = self
            .store
            .get_lever_connection(tenant_id, plugin_id)
            .await?;
        let grants = Grants::new(
            plugin.requested_permissions(),
            effective_approvals(installation, connection.as_ref()),
        );
        let mut secrets = Secrets::new();
        for name in &plugin.manifest().secrets {
            if let Some(value) = self.store.get_secret(tenant_id, plugin_id, name).await? {
                secrets.insert(name.clone(), value.expose_secret().to_owned());
            }
        }
        let mut ctx = InvocationContext::new(
            tenant_id,
            format!("{tenant_id}/{plugin_id}"),
            &installation.plugin,
            handles.state,
            handles.audit,
        )
        .with_grants(grants)
        .with_config(config_json)
        .with_secrets(secrets);
        if let Some(id) = handles.event_id {
            ctx = ctx.with_event_id(id);
        }
        if let Some(journal) = handles.journal {
            ctx = ctx.with_journal(journal);
        }
        if let Some(policy) = &self.vendor_http {
            ctx = ctx.with_vendor_http(policy.clone());
        }
        if handles.lever {
            ctx = ctx.with_lever(self.lever_access(tenant_id, plugin_id, connection).await?);
        }
        Ok(ctx)
    }

    /// The installation's Lever connection on the plugin's lane of the connection's budget.
    /// `connection` is its own connection's row as already read (`None`: it has none).
    async fn lever_access(
        &self,
        tenant_id: &str,
        installation_id: &str,
        connection: Option<LeverConnection>,
    ) -> Result<LeverAccess, TenancyError> {
        let settings = self.store.get_lever_settings(tenant_id).await?;
        let confidential = connection.as_ref().is_some_and(confidential_access);
        let client = self
            .client_with(tenant_id, installation_id, &settings, connection)
            .await?;
        let identity = self
            .store
            .installation_identity(tenant_id, installation_id)
            .await?;
        let acting_user_id = identity
            .as_ref()
            .and_then(|i| i.acting_user_id.clone())
            .or(settings.acting_user_id)
            .or_else(|| self.defaults.acting_user_id.clone())
            .unwrap_or_default();
        let mut access = LeverAccess::new(client.for_lane(installation_id), acting_user_id)
            .with_confidential_access(confidential);
        if let Some(identity) = identity {
            access.allowed_acting_users = identity.allowed_acting_users.into_iter().collect();
        }
        Ok(access)
    }

    /// A client of `api_key` (not cached: for probing a key before it is stored), on the
    /// tenant's base URL and the key's own budget.
    pub(crate) async fn client_for_key(
        &self,
        tenant_id: &str,
        api_key: &secrecy::SecretString,
    ) -> Result<LeverClient, TenancyError> {
        let settings = self.store.get_lever_settings(tenant_id).await?;
        self.build_client(
            tenant_id,
            &self.base_url(&settings),
            Credential::api_key(api_key.expose_secret()),
        )
    }

    /// A client of the installation's own connection, else of the tenant's default key.
    pub async fn lever_client(
        &self,
        tenant_id: &str,
        installation_id: &str,
    ) -> Result<LeverClient, TenancyError> {
        let settings = self.store.get_lever_settings(tenant_id).await?;
        let connection = self
            .store
            .get_lever_connection(tenant_id, installation_id)
            .await?;
        self.client_with(tenant_id, installation_id, &settings, connection)
            .await
    }

    fn base_url(&self, settings: &LeverSettings) -> String {
        settings
            .base_url
            .clone()
            .unwrap_or_else(|| self.defaults.client.base_url.to_string())
    }

    /// [`Self::lever_client`] from rows already read. A cached client costs no decryption:
    /// secrets are opened only to build a new one.
    async fn client_with(
        &self,
        tenant_id: &str,
        installation_id: &str,
        settings: &LeverSettings,
        connection: Option<LeverConnection>,
    ) -> Result<LeverClient, TenancyError> {
        let base_url = self.base_url(settings);
        let Some(connection) = connection else {
            let credential = self
                .store
                .get_lever_credential(tenant_id)
                .await?
                .ok_or_else(|| TenancyError::NoCredential(tenant_id.to_owned()))?;
            let key = ClientKey {
                tenant: tenant_id.to_owned(),
                installation: String::new(),
                version: credential.updated_at.to_string(),
                base_url: base_url.clone(),
            };
            if let Some(client) = self.clients.get(&key) {
                return Ok(client);
            }
            let secret = credential.secret.expose_secret();
            let credential = match credential.kind {
                CredentialKind::ApiKey => Credential::api_key(secret),
                CredentialKind::OAuth => Credential::bearer(secret),
            };
            return self.cache(key, self.build_client(tenant_id, &base_url, credential)?);
        };
        if connection.status == ConnectionStatus::ReconnectNeeded {
            return Err(TenancyError::ReconnectNeeded {
                tenant: tenant_id.to_owned(),
                installation: installation_id.to_owned(),
                detail: connection
                    .status_detail
                    .clone()
                    .unwrap_or_else(|| "Lever refused its tokens".into()),
            });
        }
        // An API key's client follows its generation; an OAuth client's token source follows
        // rotations and reconnects by itself, so only another app makes a new one.
        let version = match connection.kind {
            CredentialKind::ApiKey => format!("key:{}", connection.generation),
            CredentialKind::OAuth => {
                format!("oauth:{}", connection.app_id.as_deref().unwrap_or_default())
            }
        };
        let key = ClientKey {
            tenant: tenant_id.to_owned(),
            installation: installation_id.to_owned(),
            version,
            base_url: base_url.clone(),
        };
        if let Some(client) = self.clients.get(&key) {
            return Ok(client);
        }
        let credential = match connection.kind {
            CredentialKind::ApiKey => {
                let secret = self
                    .store
                    .lever_connection_secret(tenant_id, installation_id)
                    .await?;
                match secret {
                    Some((_, ConnectionSecret::ApiKey(api_key))) => {
                        Credential::api_key(api_key.expose_secret())
                    }
                    // Changed or removed since it was read: build from what is there now.
                    _ => return Box::pin(self.lever_client(tenant_id, installation_id)).await,
                }
            }
            CredentialKind::OAuth => {
                let app_id = connection.app_id.as_deref().unwrap_or_default();
                let app = self.oauth_app(tenant_id, app_id).await?;
                Credential::oauth(StoredTokenSource::new(
                    self.store.clone(),
                    app,
                    tenant_id,
                    installation_id,
                    &self.node_id,
                ))
            }
        };
        self.cache(key, self.build_client(tenant_id, &base_url, credential)?)
    }

    fn build_client(
        &self,
        tenant: &str,
        base_url: &str,
        credential: Credential,
    ) -> Result<LeverClient, TenancyError> {
        let config_error = |message: String| TenancyError::LeverConfig {
            tenant: tenant.to_owned(),
            message,
        };
        let mut config = self.defaults.client.clone();
        config.base_url = base_url
            .parse()
            .map_err(|e| config_error(format!("base URL {base_url:?}: {e}")))?;
        LeverClient::with_rate_limits(config, credential, self.limits.clone())
            .map_err(|e| config_error(e.to_string()))
    }

    fn cache(&self, key: ClientKey, client: LeverClient) -> Result<LeverClient, TenancyError> {
        self.clients.insert(key, client.clone());
        Ok(client)
    }

    /// The registered OAuth app a connection was made with.
    pub(crate) async fn oauth_app(
        &self,
        tenant: &str,
        app_id: &str,
    ) -> Result<OAuthApp, TenancyError> {
        let config = |message: String| TenancyError::LeverConfig {
            tenant: tenant.to_owned(),
            message,
        };
        let (app, secret) = self
            .store
            .get_lever_oauth_app(app_id)
            .await?
            .ok_or_else(|| {
                config(format!(
                    "the Lever OAuth app {app_id:?} is no longer registered; an operator must \
                     register it again"
                ))
            })?;
        OAuthApp::new(
            app.client_id,
            secret,
            &app.authorize_url,
            &app.token_url,
            app.audience,
        )
        .map_err(|e| config(format!("the Lever OAuth app {app_id:?}: {e}")))
    }

    /// Why the installation's own Lever connection cannot be used now, if it cannot.
    pub(crate) async fn reconnect_needed(
        &self,
        tenant: &str,
        installation: &str,
    ) -> Option<String> {
        match self.store.get_lever_connection(tenant, installation).await {
            Ok(Some(c)) if c.status == ConnectionStatus::ReconnectNeeded => Some(
                c.status_detail
                    .unwrap_or_else(|| "Lever refused its tokens".into()),
            ),
            _ => None,
        }
    }
}

/// The approvals that can take effect: all the admin approved for an API key (Lever checks
/// the key's own permissions), only what the granted scopes cover for OAuth.
pub fn effective_approvals(
    installation: &Installation,
    connection: Option<&LeverConnection>,
) -> BTreeSet<Permission> {
    let approved = approved_permissions(installation);
    match connection.and_then(granted_scopes) {
        Some(scopes) => approved.into_iter().filter(|p| scopes.covers(*p)).collect(),
        None => approved,
    }
}

/// Whether the connection may see confidential postings and opportunities: for OAuth, the
/// `confidential:access:admin` scope was granted; for an API key, the admin said the key was
/// made with "Allow access to confidential data" when pasting it (Lever does not tell). The
/// tenant's default key (no connection of the installation's own) has none: nothing records
/// how that key was made.
pub fn confidential_access(connection: &LeverConnection) -> bool {
    match granted_scopes(connection) {
        Some(scopes) => scopes.contains(lever_model::Scope::ConfidentialAccess),
        None => connection.confidential,
    }
}

/// The scopes Lever granted an OAuth connection; words this build does not know grant
/// nothing.
pub fn granted_scopes(connection: &LeverConnection) -> Option<ScopeSet> {
    if connection.kind != CredentialKind::OAuth {
        return None;
    }
    let text = connection.granted_scopes.as_deref().unwrap_or_default();
    Some(ScopeSet::new(
        text.split_whitespace().filter_map(|w| w.parse().ok()),
    ))
}

/// The admin's approvals as Lever permissions; words this build does not know are ignored
/// (they can grant nothing).
pub fn approved_permissions(installation: &Installation) -> BTreeSet<Permission> {
    installation
        .approved_permissions
        .as_array()
        .map(|words| {
            words
                .iter()
                .filter_map(|w| w.as_str()?.parse().ok())
                .collect()
        })
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn connection(
        kind: CredentialKind,
        confidential: bool,
        scopes: Option<&str>,
    ) -> LeverConnection {
        LeverConnection {
            tenant_id: "acme".into(),
            installation_id: "well-behaved".into(),
            kind,
            confidential,
            app_id: scopes.map(|_| "app".into()),
            granted_scopes: scopes.map(str::to_owned),
            access_expires_at: None,
            status: ConnectionStatus::Connected,
            status_detail: None,
            generation: 1,
            connected_by: None,
            created_at: 0,
            updated_at: 0,
        }
    }

    #[test]
    fn confidential_access_follows_the_scope_or_the_keys_flag() {
        let oauth = |scopes| connection(CredentialKind::OAuth, false, Some(scopes));
        assert!(confidential_access(&oauth(
            "offline_access postings:read:admin confidential:access:admin"
        )));
        assert!(!confidential_access(&oauth(
            "offline_access postings:read:admin"
        )));
        // An OAuth row's flag is not what decides: only the granted scope is.
        let mut flagged = oauth("postings:read:admin");
        flagged.confidential = true;
        assert!(!confidential_access(&flagged));
        assert!(confidential_access(&connection(
            CredentialKind::ApiKey,
            true,
            None
        )));
        assert!(!confidential_access(&connection(
            CredentialKind::ApiKey,
            false,
            None
        )));
    }
}
