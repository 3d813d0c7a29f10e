//! The rules for tenants (Lever customers) and their Lever connection, whoever makes the change
//! (admin API, `fulcrum tenant create`, the demo, test harnesses): the id fits a URL path
//! segment, the name is trimmed and 1-200 characters, the Lever API key looks like one, the
//! base URL is http(s). Everything is checked before anything is stored, and every change is
//! written to the tenant's audit log with its [`Actor`].
//!
//! These take the [`Store`] alone (no plugin runtime is involved), so the command line needs no
//! [`crate::Host`] for them.

use fulcrum_store::{CredentialKind, LeverSettings, Store, StoreError, Tenant};
use secrecy::{ExposeSecret, SecretString};

use crate::actor::{Actor, record_change};
use crate::domain_error::{DomainError, Missing};

/// Longest tenant name, in characters.
pub const MAX_NAME_CHARS: usize = 200;
/// Longest Lever API key, in bytes.
const MAX_API_KEY_LEN: usize = 512;

/// A tenant's Lever connection as an admin gives it.
#[derive(Debug, Clone, Default)]
pub struct LeverConnection {
    /// The Lever API key; `None` leaves the stored credential as it is.
    pub api_key: Option<SecretString>,
    /// Lever's API base URL (e.g. `https://api.eu.lever.co/v1`); `None`: the host's default.
    pub base_url: Option<String>,
    /// The Lever user plugin writes are attributed to; `None`: the host's default.
    pub acting_user_id: Option<String>,
}

/// Checks a tenant id can sit in URL paths as is (`/ingress/{tenant}/...`).
pub fn check_id(id: &str) -> Result<(), DomainError> {
    if fulcrum_store::is_valid_tenant_id(id) {
        Ok(())
    } else {
        Err(DomainError::invalid(
            "invalid_tenant_id",
            format!(
                "invalid tenant id {id:?}: use 1-63 lower-case letters, digits, '-' or '_', \
                 starting with a letter or digit (e.g. \"acme\"); nothing was stored"
            ),
        ))
    }
}

/// The name as stored: trimmed, 1-200 characters.
fn checked_name(name: &str) -> Result<&str, DomainError> {
    let name = name.trim();
    if name.is_empty() || name.chars().count() > MAX_NAME_CHARS {
        return Err(DomainError::invalid(
            "invalid_name",
            format!(
                "the tenant name must be 1-{MAX_NAME_CHARS} characters (spaces around it do \
                 not count), e.g. \"Acme Inc.\"; nothing was stored"
            ),
        ));
    }
    Ok(name)
}

/// The key as stored: trimmed, 1-512 bytes, no spaces or control characters inside.
fn checked_api_key(key: &str) -> Result<&str, DomainError> {
    let key = key.trim();
    if key.is_empty()
        || key.len() > MAX_API_KEY_LEN
        || key.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return Err(DomainError::invalid(
            "invalid_api_key",
            "the Lever API key (`api_key`) must be the key as Lever shows it (Settings → \
             Integrations and API → API credentials): 1-512 characters without spaces; nothing \
             was stored",
        ));
    }
    Ok(key)
}

/// The settings as stored: an http(s) base URL without a trailing `/`, a trimmed user id;
/// blanks mean the host's default.
fn checked_settings(
    base_url: Option<&str>,
    acting_user_id: Option<&str>,
) -> Result<LeverSettings, DomainError> {
    let base_url = match base_url.map(str::trim) {
        None | Some("") => None,
        Some(text) => match url::Url::parse(text) {
            Ok(url) if matches!(url.scheme(), "https" | "http") && url.has_host() => {
                Some(text.trim_end_matches('/').to_owned())
            }
            _ => {
                return Err(DomainError::invalid(
                    "invalid_base_url",
                    format!(
                        "the Lever base URL {text:?} must be an http(s) URL such as \
                         https://api.lever.co/v1; nothing was stored"
                    ),
                ));
            }
        },
    };
    let acting_user_id = acting_user_id
        .map(str::trim)
        .filter(|id| !id.is_empty())
        .map(str::to_owned);
    Ok(LeverSettings {
        base_url,
        acting_user_id,
    })
}

/// A connection that passed every check, ready to store.
struct CheckedConnection {
    api_key: Option<SecretString>,
    settings: LeverSettings,
}

fn checked_connection(lever: &LeverConnection) -> Result<CheckedConnection, DomainError> {
    let api_key = match &lever.api_key {
        Some(key) => Some(SecretString::from(
            checked_api_key(key.expose_secret())?.to_owned(),
        )),
        None => None,
    };
    Ok(CheckedConnection {
        api_key,
        settings: checked_settings(lever.base_url.as_deref(), lever.acting_user_id.as_deref())?,
    })
}

/// The tenant, or [`Missing::Tenant`].
pub(crate) async fn existing(store: &Store, tenant: &str) -> Result<Tenant, DomainError> {
    store
        .get_tenant(tenant)
        .await?
        .ok_or_else(|| DomainError::NotFound(Missing::Tenant(tenant.to_owned())))
}

/// Creates a tenant (not connected to Lever yet). A taken id is a
/// [`DomainError::Conflict`].
pub async fn create(
    store: &Store,
    actor: &Actor,
    id: &str,
    name: &str,
) -> Result<Tenant, DomainError> {
    check_id(id)?;
    let name = checked_name(name)?;
    insert(store, actor, id, name).await
}

async fn insert(store: &Store, actor: &Actor, id: &str, name: &str) -> Result<Tenant, DomainError> {
    let tenant = store.create_tenant(id, name).await.map_err(|e| match e {
        StoreError::AlreadyExists(_) => DomainError::Conflict(format!(
            "tenant {id:?} already exists; pick another id; nothing was stored"
        )),
        other => other.into(),
    })?;
    record_change(store, actor, id, None, "create tenant", None).await;
    Ok(tenant)
}

/// Creates a tenant connected to Lever (what `fulcrum tenant create` does). The id, name and
/// connection are all checked before anything is stored; settings left `None` stay the host's
/// defaults.
pub async fn create_connected(
    store: &Store,
    actor: &Actor,
    id: &str,
    name: &str,
    lever: &LeverConnection,
) -> Result<Tenant, DomainError> {
    check_id(id)?;
    let name = checked_name(name)?;
    let connection = checked_connection(lever)?;
    let tenant = insert(store, actor, id, name).await?;
    if connection.settings != LeverSettings::default() {
        store_settings(store, actor, id, &connection.settings).await?;
    }
    if let Some(key) = &connection.api_key {
        store_credential(store, actor, id, key).await?;
    }
    Ok(tenant)
}

/// The tenant `id`, created with `name` if it does not exist yet (an existing tenant keeps its
/// name). For setups that run again over the same database, like the demo's `--data-dir`.
pub async fn ensure(
    store: &Store,
    actor: &Actor,
    id: &str,
    name: &str,
) -> Result<Tenant, DomainError> {
    check_id(id)?;
    let name = checked_name(name)?;
    if let Some(tenant) = store.get_tenant(id).await? {
        return Ok(tenant);
    }
    match insert(store, actor, id, name).await {
        // Created by someone else in between: theirs is the tenant.
        Err(DomainError::Conflict(_)) => existing(store, id).await,
        other => other,
    }
}

/// Sets (replaces) the tenant's Lever API key, stored encrypted.
pub async fn set_lever_credential(
    store: &Store,
    actor: &Actor,
    tenant: &str,
    api_key: &SecretString,
) -> Result<(), DomainError> {
    existing(store, tenant).await?;
    let key = SecretString::from(checked_api_key(api_key.expose_secret())?.to_owned());
    store_credential(store, actor, tenant, &key).await
}

/// Sets (replaces) the tenant's Lever settings; returns them as stored. The base URL decides
/// where the host sends the tenant's credential, so callers let only operators change it.
pub async fn set_lever_settings(
    store: &Store,
    actor: &Actor,
    tenant: &str,
    base_url: Option<&str>,
    acting_user_id: Option<&str>,
) -> Result<LeverSettings, DomainError> {
    existing(store, tenant).await?;
    let settings = checked_settings(base_url, acting_user_id)?;
    store_settings(store, actor, tenant, &settings).await?;
    Ok(settings)
}

/// Sets the tenant's whole Lever connection: the settings (replaced) and, if given, the API
/// key. Both are checked before either is stored.
pub async fn connect_lever(
    store: &Store,
    actor: &Actor,
    tenant: &str,
    lever: &LeverConnection,
) -> Result<(), DomainError> {
    existing(store, tenant).await?;
    let connection = checked_connection(lever)?;
    store_settings(store, actor, tenant, &connection.settings).await?;
    if let Some(key) = &connection.api_key {
        store_credential(store, actor, tenant, key).await?;
    }
    Ok(())
}

async fn store_settings(
    store: &Store,
    actor: &Actor,
    tenant: &str,
    settings: &LeverSettings,
) -> Result<(), DomainError> {
    store.set_lever_settings(tenant, settings).await?;
    record_change(store, actor, tenant, None, "set lever settings", None).await;
    Ok(())
}

async fn store_credential(
    store: &Store,
    actor: &Actor,
    tenant: &str,
    key: &SecretString,
) -> Result<(), DomainError> {
    store
        .set_lever_credential(tenant, CredentialKind::ApiKey, key)
        .await?;
    record_change(store, actor, tenant, None, "set lever credential", None).await;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn code(error: DomainError) -> &'static str {
        match error {
            DomainError::Invalid { code, .. } => code,
            other => panic!("not an invalid input: {other}"),
        }
    }

    #[test]
    fn names_are_trimmed_and_1_to_200_characters() {
        assert_eq!(checked_name("  Acme Inc.\n").unwrap(), "Acme Inc.");
        assert_eq!(checked_name(&"é".repeat(200)).unwrap().chars().count(), 200);
        for bad in ["", "   ", &"é".repeat(201)] {
            assert_eq!(code(checked_name(bad).unwrap_err()), "invalid_name");
        }
    }

    #[test]
    fn ids_must_fit_in_a_url_segment() {
        assert!(check_id("acme-eu_2").is_ok());
        for bad in ["", "Acme", "a/b", "-acme", "a b", &"a".repeat(64)] {
            let error = check_id(bad).unwrap_err();
            assert!(error.to_string().contains("nothing was stored"), "{error}");
            assert_eq!(code(error), "invalid_tenant_id", "{bad:?}");
        }
    }

    #[test]
    fn lever_keys_and_urls_are_checked_and_normalised() {
        assert_eq!(checked_api_key(" key-123\n").unwrap(), "key-123");
        for bad in ["", "  ", "two words", &"k".repeat(513)] {
            assert_eq!(code(checked_api_key(bad).unwrap_err()), "invalid_api_key");
        }
        let settings = checked_settings(Some(" https://api.eu.lever.co/v1/ "), Some("  ")).unwrap();
        assert_eq!(
            settings.base_url.as_deref(),
            Some("https://api.eu.lever.co/v1")
        );
        assert_eq!(settings.acting_user_id, None);
        assert_eq!(
            checked_settings(Some(""), None).unwrap(),
            LeverSettings::default()
        );
        for bad in ["not a url", "ftp://lever.co", "https://"] {
            assert_eq!(
                code(checked_settings(Some(bad), None).unwrap_err()),
                "invalid_base_url",
                "{bad}"
            );
        }
    }
}
