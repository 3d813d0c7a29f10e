//! Tenants, Lever credentials, plugins, installations and installation secrets.

use crate::crypto::RowIdentity;
use crate::events::enqueue_on;
use crate::{Result, Store, StoreError, is_unique_violation, now_ms, parse_json};
use secrecy::SecretString;
use serde_json::Value;

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Tenant {
    pub id: String,
    pub name: String,
    pub created_at: i64,
}

/// How Fulcrum authenticates to Lever for a tenant.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum CredentialKind {
    ApiKey,
    OAuth,
}

impl CredentialKind {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::ApiKey => "api_key",
            Self::OAuth => "oauth",
        }
    }

    pub(crate) fn parse(s: &str) -> Result<Self> {
        match s {
            "api_key" => Ok(Self::ApiKey),
            "oauth" => Ok(Self::OAuth),
            other => Err(StoreError::Corrupt {
                what: "lever credential kind",
                value: other.to_owned(),
            }),
        }
    }
}

/// A decrypted Lever credential. For OAuth the secret is the serialized token set.
#[derive(Debug)]
pub struct LeverCredential {
    pub kind: CredentialKind,
    pub secret: SecretString,
    pub updated_at: i64,
}

/// A tenant's Lever connection settings (not secret). `None` = the host's default.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LeverSettings {
    /// Lever's API base URL, e.g. `https://api.eu.lever.co/v1` for the EU instance.
    pub base_url: Option<String>,
    /// The Lever user plugin writes are attributed to (`perform_as`).
    pub acting_user_id: Option<String>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Plugin {
    pub id: String,
    pub version: String,
    pub component_sha256: String,
    pub manifest: Value,
    pub installed_at: i64,
}

#[derive(sqlx::FromRow)]
struct PluginRow {
    id: String,
    version: String,
    component_sha256: String,
    manifest: String,
    installed_at: i64,
}

/// A plugin installed for a tenant. A tenant may install one plugin several times (e.g. one
/// per career site), each with its own id, config, secrets, state and Lever connection.
#[derive(Debug, Clone, PartialEq)]
pub struct Installation {
    pub tenant_id: String,
    /// The installation's id within its tenant (the column keeps its first name): events,
    /// state, secrets, schedules and connections key on it. The plugin's id for the first
    /// installation of a plugin, so paths made before named installations keep working.
    pub plugin_id: String,
    /// The plugin it runs.
    pub plugin: String,
    /// What the tenant's admins call it; `None`: its id.
    pub name: Option<String>,
    pub enabled: bool,
    pub approved_permissions: Value,
    pub config: Value,
    pub schedule_overrides: Value,
    pub updated_at: i64,
}

#[derive(sqlx::FromRow)]
struct InstallationRow {
    tenant_id: String,
    plugin_id: String,
    plugin: String,
    name: Option<String>,
    enabled: bool,
    approved_permissions: String,
    config: String,
    schedule_overrides: String,
    updated_at: i64,
}

impl InstallationRow {
    fn into_installation(self) -> Result<Installation> {
        Ok(Installation {
            approved_permissions: parse_json(
                "installation approved_permissions",
                &self.approved_permissions,
            )?,
            config: parse_json("installation config", &self.config)?,
            schedule_overrides: parse_json(
                "installation schedule_overrides",
                &self.schedule_overrides,
            )?,
            tenant_id: self.tenant_id,
            plugin_id: self.plugin_id,
            plugin: self.plugin,
            name: self.name,
            enabled: self.enabled,
            updated_at: self.updated_at,
        })
    }
}

#[derive(sqlx::FromRow)]
struct SealedRow {
    ciphertext: Vec<u8>,
    nonce: Vec<u8>,
    key_version: i64,
}

#[derive(sqlx::FromRow)]
struct CredentialRow {
    kind: String,
    ciphertext: Vec<u8>,
    nonce: Vec<u8>,
    key_version: i64,
    updated_at: i64,
}

fn credential_identity(tenant_id: &str, kind: CredentialKind) -> RowIdentity {
    RowIdentity::new("lever_credentials", &[tenant_id, kind.as_str()])
}

fn secret_identity(tenant_id: &str, plugin_id: &str, name: &str) -> RowIdentity {
    RowIdentity::new("installation_secrets", &[tenant_id, plugin_id, name])
}

const INSTALLATION_COLUMNS: &str = "tenant_id, plugin_id, COALESCE(plugin, plugin_id) AS plugin, name, \
     enabled, approved_permissions, config, schedule_overrides, updated_at";

impl Store {
    // ---- tenants ----

    pub async fn create_tenant(&self, id: &str, name: &str) -> Result<Tenant> {
        let created_at = now_ms();
        let res = on_pool!(self, |pool| sqlx::query(
            "INSERT INTO tenants (id, name, created_at) VALUES ($1, $2, $3)"
        )
        .bind(id)
        .bind(name)
        .bind(created_at)
        .execute(pool)
        .await
        .map(|_| ()));
        match res {
            Ok(_) => Ok(Tenant {
                id: id.to_owned(),
                name: name.to_owned(),
                created_at,
            }),
            Err(e) if is_unique_violation(&e) => {
                Err(StoreError::AlreadyExists(format!("tenant {id:?}")))
            }
            Err(e) => Err(e.into()),
        }
    }

    pub async fn get_tenant(&self, id: &str) -> Result<Option<Tenant>> {
        Ok(on_pool!(self, |pool| sqlx::query_as::<_, Tenant>(
            "SELECT id, name, created_at FROM tenants WHERE id = $1"
        )
        .bind(id)
        .fetch_optional(pool)
        .await?))
    }

    pub async fn list_tenants(&self) -> Result<Vec<Tenant>> {
        Ok(on_pool!(self, |pool| sqlx::query_as::<_, Tenant>(
            "SELECT id, name, created_at FROM tenants ORDER BY id"
        )
        .fetch_all(pool)
        .await?))
    }

    // ---- lever settings ----

    pub async fn set_lever_settings(
        &self,
        tenant_id: &str,
        settings: &LeverSettings,
    ) -> Result<()> {
        let n = on_pool!(self, |pool| sqlx::query(
            "UPDATE tenants SET lever_base_url = $2, lever_acting_user_id = $3 WHERE id = $1"
        )
        .bind(tenant_id)
        .bind(&settings.base_url)
        .bind(&settings.acting_user_id)
        .execute(pool)
        .await?
        .rows_affected());
        expect_one(n, || StoreError::NotFound(format!("tenant {tenant_id}")))
    }

    /// The tenant's Lever settings (all `None` for an unknown tenant).
    pub async fn get_lever_settings(&self, tenant_id: &str) -> Result<LeverSettings> {
        let row = on_pool!(self, |pool| sqlx::query_as::<
            _,
            (Option<String>, Option<String>),
        >(
            "SELECT lever_base_url, lever_acting_user_id FROM tenants WHERE id = $1"
        )
        .bind(tenant_id)
        .fetch_optional(pool)
        .await?);
        let (base_url, acting_user_id) = row.unwrap_or_default();
        Ok(LeverSettings {
            base_url,
            acting_user_id,
        })
    }

    // ---- lever credentials ----

    /// Store (replace) the tenant's Lever credential, encrypted under the master key.
    pub async fn set_lever_credential(
        &self,
        tenant_id: &str,
        kind: CredentialKind,
        secret: &SecretString,
    ) -> Result<()> {
        let (ciphertext, nonce) = self
            .key()
            .encrypt_secret(&credential_identity(tenant_id, kind), secret)?;
        let key_version = self.key().version();
        let now = now_ms();
        on_pool!(self, |pool| {
            sqlx::query(
            "INSERT INTO lever_credentials (tenant_id, kind, ciphertext, nonce, key_version, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6)
             ON CONFLICT (tenant_id) DO UPDATE SET kind = excluded.kind, ciphertext = excluded.ciphertext,
                 nonce = excluded.nonce, key_version = excluded.key_version, updated_at = excluded.updated_at"
        )
        .bind(tenant_id)
        .bind(kind.as_str())
        .bind(&ciphertext)
        .bind(&nonce)
        .bind(key_version)
        .bind(now)
        .execute(pool)
        .await?
        .rows_affected()
        });
        Ok(())
    }

    /// The tenant's Lever credential, decrypted; `None` if none was set.
    pub async fn get_lever_credential(&self, tenant_id: &str) -> Result<Option<LeverCredential>> {
        let row = on_pool!(self, |pool| {
            sqlx::query_as::<_, CredentialRow>(
            "SELECT kind, ciphertext, nonce, key_version, updated_at FROM lever_credentials WHERE tenant_id = $1"
        )
        .bind(tenant_id)
        .fetch_optional(pool)
        .await?
        });
        let Some(row) = row else { return Ok(None) };
        let kind = CredentialKind::parse(&row.kind)?;
        let secret = self.key().decrypt_secret(
            &credential_identity(tenant_id, kind),
            &row.ciphertext,
            &row.nonce,
            row.key_version,
        )?;
        Ok(Some(LeverCredential {
            kind,
            secret,
            updated_at: row.updated_at,
        }))
    }

    // ---- plugins ----

    /// Record an uploaded plugin version. Versions are immutable: re-recording the same
    /// version with a different component is refused.
    pub async fn record_plugin(
        &self,
        id: &str,
        version: &str,
        component_sha256: &str,
        manifest: &Value,
    ) -> Result<Plugin> {
        let installed_at = now_ms();
        let manifest_text = manifest.to_string();
        on_pool!(self, |pool| sqlx::query(
            "INSERT INTO plugins (id, version, component_sha256, manifest, installed_at)
             VALUES ($1, $2, $3, $4, $5) ON CONFLICT (id, version) DO NOTHING"
        )
        .bind(id)
        .bind(version)
        .bind(component_sha256)
        .bind(&manifest_text)
        .bind(installed_at)
        .execute(pool)
        .await?
        .rows_affected());
        let row = on_pool!(self, |pool| {
            sqlx::query_as::<_, PluginRow>(
            "SELECT id, version, component_sha256, manifest, installed_at FROM plugins WHERE id = $1 AND version = $2"
        )
        .bind(id)
        .bind(version)
        .fetch_one(pool)
        .await?
        });
        if row.component_sha256 != component_sha256 {
            return Err(StoreError::Conflict(format!(
                "plugin {id} version {version} is already recorded with a different component (sha256 {}); publish a new version",
                row.component_sha256
            )));
        }
        plugin_from_row(row)
    }

    /// Every recorded plugin version, by id then install time.
    pub async fn list_plugins(&self) -> Result<Vec<Plugin>> {
        let rows = on_pool!(self, |pool| {
            sqlx::query_as::<_, PluginRow>(
            "SELECT id, version, component_sha256, manifest, installed_at FROM plugins ORDER BY id, installed_at, version"
        )
        .fetch_all(pool)
        .await?
        });
        rows.into_iter().map(plugin_from_row).collect()
    }

    // ---- installations ----

    /// Create or replace an installation's settings.
    pub async fn upsert_installation(&self, inst: &Installation) -> Result<Installation> {
        let now = now_ms();
        on_pool!(self, |pool| {
            sqlx::query(
            "INSERT INTO installations (tenant_id, plugin_id, enabled, approved_permissions, config, schedule_overrides, updated_at, plugin, name)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
             ON CONFLICT (tenant_id, plugin_id) DO UPDATE SET enabled = excluded.enabled, name = excluded.name,
                 approved_permissions = excluded.approved_permissions, config = excluded.config,
                 schedule_overrides = excluded.schedule_overrides, updated_at = excluded.updated_at"
        )
        .bind(&inst.tenant_id)
        .bind(&inst.plugin_id)
        .bind(inst.enabled)
        .bind(inst.approved_permissions.to_string())
        .bind(inst.config.to_string())
        .bind(inst.schedule_overrides.to_string())
        .bind(now)
        // NULL when it runs the plugin it is named after (as every row before named ones).
        .bind((inst.plugin != inst.plugin_id).then_some(&inst.plugin))
        .bind(&inst.name)
        .execute(pool)
        .await?
        .rows_affected()
        });
        self.get_installation(&inst.tenant_id, &inst.plugin_id)
            .await?
            .ok_or_else(|| installation_missing(&inst.tenant_id, &inst.plugin_id))
    }

    pub async fn get_installation(
        &self,
        tenant_id: &str,
        plugin_id: &str,
    ) -> Result<Option<Installation>> {
        let row = on_pool!(self, |pool| {
            sqlx::query_as::<_, InstallationRow>(
            sqlx::AssertSqlSafe(format!(
                "SELECT {INSTALLATION_COLUMNS} FROM installations WHERE tenant_id = $1 AND plugin_id = $2"
            ))
        )
        .bind(tenant_id)
        .bind(plugin_id)
        .fetch_optional(pool)
        .await?
        });
        row.map(InstallationRow::into_installation).transpose()
    }

    /// Installations of one tenant, by plugin id.
    pub async fn list_installations(&self, tenant_id: &str) -> Result<Vec<Installation>> {
        let rows = on_pool!(self, |pool| {
            sqlx::query_as::<_, InstallationRow>(
            sqlx::AssertSqlSafe(format!(
                "SELECT {INSTALLATION_COLUMNS} FROM installations WHERE tenant_id = $1 ORDER BY plugin_id"
            ))
        )
        .bind(tenant_id)
        .fetch_all(pool)
        .await?
        });
        rows.into_iter()
            .map(InstallationRow::into_installation)
            .collect()
    }

    pub async fn set_installation_enabled(
        &self,
        tenant_id: &str,
        plugin_id: &str,
        enabled: bool,
    ) -> Result<()> {
        let now = now_ms();
        let done = on_pool!(self, |pool| {
            sqlx::query(
            "UPDATE installations SET enabled = $3, updated_at = $4 WHERE tenant_id = $1 AND plugin_id = $2"
        )
        .bind(tenant_id)
        .bind(plugin_id)
        .bind(enabled)
        .bind(now)
        .execute(pool)
        .await?
        .rows_affected()
        });
        expect_one(done, || installation_missing(tenant_id, plugin_id))
    }

    pub async fn approve_permissions(
        &self,
        tenant_id: &str,
        plugin_id: &str,
        permissions: &Value,
    ) -> Result<()> {
        self.set_installation_json(
            tenant_id,
            plugin_id,
            JsonColumn::ApprovedPermissions,
            permissions,
        )
        .await
    }

    pub async fn set_installation_config(
        &self,
        tenant_id: &str,
        plugin_id: &str,
        config: &Value,
    ) -> Result<()> {
        self.set_installation_json(tenant_id, plugin_id, JsonColumn::Config, config)
            .await
    }

    /// Sets the config and, in the same transaction, stores `hook` (the lifecycle event the
    /// change causes): a change is never committed without its hook, nor a hook without it.
    pub async fn set_installation_config_with_hook(
        &self,
        tenant_id: &str,
        plugin_id: &str,
        config: &Value,
        hook: Option<&crate::NewEvent>,
    ) -> Result<Option<crate::Enqueued>> {
        let sql = "UPDATE installations SET config = $3, updated_at = $4 WHERE tenant_id = $1 AND plugin_id = $2";
        self.update_installation_with_hook(
            tenant_id,
            plugin_id,
            sql,
            HookBind::Text(config.to_string()),
            hook,
        )
        .await
    }

    /// [`Store::set_installation_enabled`], with `hook` stored in the same transaction.
    pub async fn set_installation_enabled_with_hook(
        &self,
        tenant_id: &str,
        plugin_id: &str,
        enabled: bool,
        hook: Option<&crate::NewEvent>,
    ) -> Result<Option<crate::Enqueued>> {
        let sql = "UPDATE installations SET enabled = $3, updated_at = $4 WHERE tenant_id = $1 AND plugin_id = $2";
        self.update_installation_with_hook(tenant_id, plugin_id, sql, HookBind::Bool(enabled), hook)
            .await
    }

    async fn update_installation_with_hook(
        &self,
        tenant_id: &str,
        plugin_id: &str,
        sql: &'static str,
        value: HookBind,
        hook: Option<&crate::NewEvent>,
    ) -> Result<Option<crate::Enqueued>> {
        let now = now_ms();
        in_tx!(self, |tx| {
            let query = sqlx::query(sql).bind(tenant_id).bind(plugin_id);
            let query = match &value {
                HookBind::Text(text) => query.bind(text.clone()),
                HookBind::Bool(flag) => query.bind(*flag),
            };
            let done = query.bind(now).execute(&mut *tx).await?.rows_affected();
            expect_one(done, || installation_missing(tenant_id, plugin_id))?;
            let queued = match hook {
                Some(event) => Some(enqueue_on!(&mut *tx, event)?),
                None => None,
            };
            tx.commit().await?;
            Ok(queued)
        })
    }

    /// Per-installation schedule changes: `{"<schedule>": {"every_seconds": N}}` or
    /// `{"<schedule>": {"enabled": false}}`.
    pub async fn set_schedule_overrides(
        &self,
        tenant_id: &str,
        plugin_id: &str,
        overrides: &Value,
    ) -> Result<()> {
        self.set_installation_json(
            tenant_id,
            plugin_id,
            JsonColumn::ScheduleOverrides,
            overrides,
        )
        .await
    }

    /// One JSON column of an installation; the column comes from a fixed list, never input.
    async fn set_installation_json(
        &self,
        tenant_id: &str,
        plugin_id: &str,
        column: JsonColumn,
        value: &Value,
    ) -> Result<()> {
        let sql = match column {
            JsonColumn::ApprovedPermissions => {
                "UPDATE installations SET approved_permissions = $3, updated_at = $4 WHERE tenant_id = $1 AND plugin_id = $2"
            }
            JsonColumn::Config => {
                "UPDATE installations SET config = $3, updated_at = $4 WHERE tenant_id = $1 AND plugin_id = $2"
            }
            JsonColumn::ScheduleOverrides => {
                "UPDATE installations SET schedule_overrides = $3, updated_at = $4 WHERE tenant_id = $1 AND plugin_id = $2"
            }
        };
        let now = now_ms();
        let done = on_pool!(self, |pool| {
            sqlx::query(sql)
                .bind(tenant_id)
                .bind(plugin_id)
                .bind(value.to_string())
                .bind(now)
                .execute(pool)
                .await?
                .rows_affected()
        });
        expect_one(done, || installation_missing(tenant_id, plugin_id))
    }

    // ---- installation secrets ----

    /// Store (replace) a named secret for a tenant's plugin, encrypted under the master key.
    pub async fn set_secret(
        &self,
        tenant_id: &str,
        plugin_id: &str,
        name: &str,
        value: &SecretString,
    ) -> Result<()> {
        let (ciphertext, nonce) = self
            .key()
            .encrypt_secret(&secret_identity(tenant_id, plugin_id, name), value)?;
        let key_version = self.key().version();
        let now = now_ms();
        on_pool!(self, |pool| {
            sqlx::query(
            "INSERT INTO installation_secrets (tenant_id, plugin_id, name, ciphertext, nonce, key_version, updated_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7)
             ON CONFLICT (tenant_id, plugin_id, name) DO UPDATE SET ciphertext = excluded.ciphertext,
                 nonce = excluded.nonce, key_version = excluded.key_version, updated_at = excluded.updated_at"
        )
        .bind(tenant_id)
        .bind(plugin_id)
        .bind(name)
        .bind(&ciphertext)
        .bind(&nonce)
        .bind(key_version)
        .bind(now)
        .execute(pool)
        .await?
        .rows_affected()
        });
        Ok(())
    }

    /// A named secret, decrypted; `None` if not set.
    pub async fn get_secret(
        &self,
        tenant_id: &str,
        plugin_id: &str,
        name: &str,
    ) -> Result<Option<SecretString>> {
        let row = on_pool!(self, |pool| sqlx::query_as::<_, SealedRow>(
            "SELECT ciphertext, nonce, key_version FROM installation_secrets
             WHERE tenant_id = $1 AND plugin_id = $2 AND name = $3"
        )
        .bind(tenant_id)
        .bind(plugin_id)
        .bind(name)
        .fetch_optional(pool)
        .await?);
        let Some(row) = row else { return Ok(None) };
        Ok(Some(self.key().decrypt_secret(
            &secret_identity(tenant_id, plugin_id, name),
            &row.ciphertext,
            &row.nonce,
            row.key_version,
        )?))
    }

    /// Names of the secrets set for a tenant's plugin (never the values).
    pub async fn secret_names(&self, tenant_id: &str, plugin_id: &str) -> Result<Vec<String>> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_scalar::<_, String>(
            "SELECT name FROM installation_secrets WHERE tenant_id = $1 AND plugin_id = $2 ORDER BY name"
        )
        .bind(tenant_id)
        .bind(plugin_id)
        .fetch_all(pool)
        .await?
        }))
    }
}

fn plugin_from_row(row: PluginRow) -> Result<Plugin> {
    Ok(Plugin {
        manifest: parse_json("plugin manifest", &row.manifest)?,
        id: row.id,
        version: row.version,
        component_sha256: row.component_sha256,
        installed_at: row.installed_at,
    })
}

fn installation_missing(tenant_id: &str, plugin_id: &str) -> StoreError {
    StoreError::NotFound(format!(
        "installation of plugin {plugin_id:?} for tenant {tenant_id:?}"
    ))
}

/// Whether `id` can name a tenant: 1-63 lower-case letters, digits, `-` or `_`, starting with
/// a letter or digit, so it sits in URL paths (ingress, admin API) as is.
pub fn is_valid_tenant_id(id: &str) -> bool {
    !id.is_empty()
        && id.len() <= 63
        && id
            .chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '-' || c == '_')
        && id.starts_with(|c: char| c.is_ascii_alphanumeric())
}

pub(crate) fn expect_one(rows: u64, missing: impl FnOnce() -> StoreError) -> Result<()> {
    if rows == 0 { Err(missing()) } else { Ok(()) }
}

/// Installation columns holding JSON that can be set on their own.
#[derive(Clone, Copy)]
enum JsonColumn {
    ApprovedPermissions,
    Config,
    ScheduleOverrides,
}

/// The new value of the one column an update-with-hook sets.
enum HookBind {
    Text(String),
    Bool(bool),
}
