//! Everything an invocation needs about one tenant × plugin, loaded from the store on each
//! event and dropped afterwards (nothing per tenant stays resident except a bounded cache of
//! Lever clients): the installation, its effective grants, config, decrypted vendor secrets,
//! and the tenant's Lever connection on the plugin's own rate-budget lane.

use fulcrum_runtime::audit::NoAudit;
use fulcrum_runtime::{
    AuditSink, EffectJournal, Grants, InvocationContext, LeverAccess, MemoryStateStore,
    PluginVersion, Runtime, Secrets, StateStore, VendorHttpPolicy,
};
use fulcrum_store::{CredentialKind, Installation, Store, StoreError};
use lever_client::{ClientConfig, Credential, LeverClient, RateLimits};
use lever_model::Permission;
use secrecy::ExposeSecret;
use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

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
    /// (tenant, credential updated_at, base url) → client; bounded and idle-expiring.
    clients: moka::sync::Cache<(String, i64, String), LeverClient>,
    vendor_http: Option<VendorHttpPolicy>,
}

impl Tenancy {
    pub fn new(
        store: Store,
        defaults: LeverDefaults,
        vendor_http: Option<VendorHttpPolicy>,
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
        if !installation.enabled {
            return Err(TenancyError::Disabled {
                tenant: tenant_id.to_owned(),
                plugin: plugin_id.to_owned(),
            });
        }
        let plugin = runtime
            .active(plugin_id)
            .ok_or_else(|| TenancyError::PluginNotLoaded(plugin_id.to_owned()))?;
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
        let grants = Grants::new(
            plugin.requested_permissions(),
            approved_permissions(installation),
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
            plugin_id,
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
            ctx = ctx.with_lever(self.lever_access(tenant_id, plugin_id).await?);
        }
        Ok(ctx)
    }

    /// The tenant's Lever connection on the plugin's lane of the credential's budget.
    async fn lever_access(
        &self,
        tenant_id: &str,
        plugin_id: &str,
    ) -> Result<LeverAccess, TenancyError> {
        let credential = self
            .store
            .get_lever_credential(tenant_id)
            .await?
            .ok_or_else(|| TenancyError::NoCredential(tenant_id.to_owned()))?;
        let settings = self.store.get_lever_settings(tenant_id).await?;
        let base_url = settings
            .base_url
            .clone()
            .unwrap_or_else(|| self.defaults.client.base_url.to_string());
        let key = (
            tenant_id.to_owned(),
            credential.updated_at,
            base_url.clone(),
        );
        let client = match self.clients.get(&key) {
            Some(client) => client,
            None => {
                let mut config = self.defaults.client.clone();
                config.base_url = base_url.parse().map_err(|e| TenancyError::LeverConfig {
                    tenant: tenant_id.to_owned(),
                    message: format!("base URL {base_url:?}: {e}"),
                })?;
                let secret = credential.secret.expose_secret();
                let credential = match credential.kind {
                    CredentialKind::ApiKey => Credential::api_key(secret),
                    CredentialKind::OAuth => Credential::bearer(secret),
                };
                let client = LeverClient::with_rate_limits(config, credential, self.limits.clone())
                    .map_err(|e| TenancyError::LeverConfig {
                        tenant: tenant_id.to_owned(),
                        message: e.to_string(),
                    })?;
                self.clients.insert(key, client.clone());
                client
            }
        };
        let acting_user_id = settings
            .acting_user_id
            .or_else(|| self.defaults.acting_user_id.clone())
            .unwrap_or_default();
        Ok(LeverAccess {
            client: client.for_lane(plugin_id),
            acting_user_id,
        })
    }
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
