//! Lever webhooks the host creates and removes itself, per installation.
//!
//! An installation that is enabled, has its own Lever connection (connected) and a plugin that
//! subscribes to Lever events gets one Lever webhook per subscribed event, pointing at
//! `{public_url}/webhooks/lever/{tenant}/{installation}`; the signature token Lever answers is
//! kept sealed in the store (`put_managed_webhook`) and is the only token that route accepts.
//! [`sync_installation`] makes Lever and the store match that wish: it creates what is
//! missing (also a webhook deleted in Lever, or one at an old URL), deletes what is no longer
//! wanted, and deletes strays at the installation's URL that the store does not know (a
//! create whose answer was lost). It runs after enable/disable and (re)connect, before a
//! disconnect, on the schedule of [`check`], and on demand ([`Host::sync_lever_webhooks`]).
//!
//! Failures do not stop a sync: each is reported per event with what to do (a connection
//! without the webhook permissions gets Lever's 403, reported with the permission and OAuth
//! scope an admin must approve).

mod check;
mod report;

pub use check::CheckedInstallation;
pub(crate) use check::check_loop;
pub use report::{WebhookSyncError, WebhookSyncReport};

use fulcrum_store::{ConnectionStatus, ManagedWebhook, StoreError, now_ms};
use futures::{StreamExt as _, TryStreamExt as _};
use lever_client::{LeverClient, LeverError};
use lever_model::{NewWebhook, Webhook};
use secrecy::SecretString;
use std::collections::{BTreeSet, HashMap, HashSet};
use std::hash::{DefaultHasher, Hash as _, Hasher as _};

use crate::Host;
use crate::connections::tenancy_error;
use crate::domain_error::DomainError;
use crate::event_payload::lever_event_name;

/// Most webhooks read from Lever's list (an account has a handful).
const MAX_LISTED_WEBHOOKS: usize = 10_000;
/// Syncs of installations hashing to one stripe run one at a time on this host.
const LOCK_STRIPES: usize = 16;

/// One lock per stripe, so that two syncs of one installation on this host do not both
/// create a webhook (strays from other hosts are deleted by the next sync).
pub(crate) struct SyncLocks([tokio::sync::Mutex<()>; LOCK_STRIPES]);

impl Default for SyncLocks {
    fn default() -> Self {
        SyncLocks(std::array::from_fn(|_| tokio::sync::Mutex::new(())))
    }
}

impl SyncLocks {
    async fn lock(&self, tenant: &str, installation: &str) -> tokio::sync::MutexGuard<'_, ()> {
        let mut hasher = DefaultHasher::new();
        (tenant, installation).hash(&mut hasher);
        self.0[(hasher.finish() % LOCK_STRIPES as u64) as usize]
            .lock()
            .await
    }
}

/// What the installation should have in Lever.
enum Wanted {
    /// A webhook per event, at `url`.
    Events {
        url: String,
        events: BTreeSet<String>,
    },
    /// None, for this reason.
    Nothing(String),
    /// Leave the stored ones as they are, for this reason.
    Unchanged(String),
}

/// Why a sync runs.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Intent {
    /// Follow the installation's state.
    Follow,
    /// The connection is about to be deleted: remove every webhook, and forget them even
    /// when Lever cannot be told.
    RemoveAll,
}

impl Host {
    /// Makes the installation's host-managed Lever webhooks match its state now (enabled,
    /// own connection, subscribed events, `public_url`) and says what it did. Lever failures
    /// are in the report, not an error; the error is for an unknown tenant or installation,
    /// or a database failure.
    pub async fn sync_lever_webhooks(
        &self,
        tenant: &str,
        installation: &str,
    ) -> Result<WebhookSyncReport, DomainError> {
        crate::installations::existing(self, tenant, installation).await?;
        sync_installation(self, tenant, installation).await
    }

    /// What the background check does, at once: syncs every installation that has (or should
    /// have) managed webhooks, recreating those deleted in Lever, and forgets expired OAuth
    /// states.
    pub async fn check_lever_webhooks(&self) -> Result<Vec<CheckedInstallation>, StoreError> {
        check::check_all(self).await
    }
}

/// Syncs the installation's managed webhooks (see the module documentation).
pub(crate) async fn sync_installation(
    host: &Host,
    tenant: &str,
    installation: &str,
) -> Result<WebhookSyncReport, DomainError> {
    sync(host, tenant, installation, Intent::Follow).await
}

/// [`sync_installation`] for a hook where a failure must not fail the change that ran it
/// (enabling must work while Lever is down): problems are logged, the check retries.
pub(crate) async fn sync_logged(host: &Host, tenant: &str, installation: &str) {
    log_outcome(
        tenant,
        installation,
        sync(host, tenant, installation, Intent::Follow).await,
    );
}

/// Before the installation's connection is deleted: deletes its managed webhooks in Lever
/// through that connection while it still works, and forgets them in any case (logged).
pub(crate) async fn remove_before_disconnect(host: &Host, tenant: &str, installation: &str) {
    log_outcome(
        tenant,
        installation,
        sync(host, tenant, installation, Intent::RemoveAll).await,
    );
}

fn log_outcome(tenant: &str, installation: &str, outcome: Result<WebhookSyncReport, DomainError>) {
    match outcome {
        Ok(report) => {
            for e in &report.errors {
                tracing::warn!(tenant, installation, event = ?e.event, action = %e.action, code = %e.code, message = %e.message, "managed Lever webhook not in sync");
            }
            if !report.created.is_empty() || !report.deleted.is_empty() {
                tracing::info!(tenant, installation, created = ?report.created, deleted = ?report.deleted, "managed Lever webhooks synced");
            }
        }
        Err(error) => {
            tracing::warn!(tenant, installation, %error, "could not sync managed Lever webhooks; the next check tries again")
        }
    }
}

async fn sync(
    host: &Host,
    tenant: &str,
    installation: &str,
    intent: Intent,
) -> Result<WebhookSyncReport, DomainError> {
    let _one_at_a_time = host.inner.webhook_sync.lock(tenant, installation).await;
    let store = host.store();
    let stored = store.managed_webhooks(tenant, installation).await?;
    let own_connection = store.get_lever_connection(tenant, installation).await?;
    let mut report = WebhookSyncReport::default();
    let wanted = match intent {
        Intent::Follow => wanted(host, tenant, installation, own_connection.as_ref()).await?,
        Intent::RemoveAll => {
            Wanted::Nothing("the installation is being disconnected from Lever".into())
        }
    };
    let (url, events) = match wanted {
        Wanted::Unchanged(note) => {
            report.kept = stored.into_iter().map(|s| s.event).collect();
            report.note = Some(note);
            return Ok(report);
        }
        Wanted::Nothing(note) => {
            report.note = Some(note);
            (None, BTreeSet::new())
        }
        Wanted::Events { url, events } => (Some(url), events),
    };
    if events.is_empty() && stored.is_empty() {
        return Ok(report);
    }
    let client = match host.inner.tenancy.lever_client(tenant, installation).await {
        Ok(client) => Some(client),
        Err(e) => {
            let message = format!("no Lever client for the installation: {}", tenancy_error(e));
            report
                .errors
                .push(WebhookSyncError::new(None, "connect", "no_client", message));
            None
        }
    };
    let in_lever = match &client {
        Some(client) => match list(client).await {
            Ok(hooks) => Some(hooks),
            Err(e) => {
                report
                    .errors
                    .push(WebhookSyncError::lever(None, "list", &e));
                None
            }
        },
        None => None,
    };
    let mut live: HashSet<String> = HashSet::new();

    // Wanted events: keep what is in place, create the rest.
    for event in &events {
        let url = url.as_deref().unwrap_or_default();
        let current = stored.iter().find(|s| &s.event == event);
        let in_lever_now = |s: &ManagedWebhook| {
            in_lever
                .as_ref()
                .and_then(|hooks| hooks.get(&s.lever_webhook_id))
        };
        if let Some(s) = current {
            let in_place = s.url == url
                && match &in_lever {
                    Some(_) => in_lever_now(s).is_some_and(|w| w.url == url && &w.event == event),
                    // Not verifiable now: assume it is there; the next check looks again.
                    None => true,
                };
            if in_place {
                if in_lever.is_some() {
                    match store
                        .mark_managed_webhook_checked(tenant, installation, event, now_ms())
                        .await
                    {
                        Ok(()) | Err(StoreError::NotFound(_)) => {}
                        Err(e) => {
                            report
                                .errors
                                .push(WebhookSyncError::store(Some(event), "store", &e))
                        }
                    }
                }
                live.insert(s.lever_webhook_id.clone());
                report.kept.push(event.clone());
                continue;
            }
        }
        let Some(client) = &client else { continue };
        match create(client, host, tenant, installation, event, url).await {
            Ok(id) => {
                live.insert(id);
                report.created.push(event.clone());
                // Replaced (its URL changed): the old one must stop delivering.
                if let Some(old) = current.filter(|s| in_lever_now(s).is_some())
                    && let Err(e) = delete_in_lever(client, &old.lever_webhook_id).await
                {
                    report
                        .errors
                        .push(WebhookSyncError::lever(Some(event), "delete", &e));
                }
            }
            Err(e) => report.errors.push(e),
        }
    }

    // Stored but no longer wanted.
    for s in stored.iter().filter(|s| !events.contains(&s.event)) {
        let event = Some(s.event.as_str());
        let deleted = match &client {
            Some(client) => delete_in_lever(client, &s.lever_webhook_id)
                .await
                .map_err(|e| WebhookSyncError::lever(event, "delete", &e)),
            None => Err(WebhookSyncError::new(
                event,
                "delete",
                "no_client",
                "no Lever client to delete it with".into(),
            )),
        };
        // Without its own connection nobody can delete it later either: forget it anyway.
        let forget = deleted.is_ok() || intent == Intent::RemoveAll || own_connection.is_none();
        if forget {
            match store
                .delete_managed_webhook(tenant, installation, &s.event)
                .await
            {
                Ok(_) => {}
                Err(e) => {
                    report
                        .errors
                        .push(WebhookSyncError::store(event, "store", &e));
                    continue;
                }
            }
        }
        match deleted {
            Ok(()) => report.deleted.push(s.event.clone()),
            Err(e) if forget => {
                tracing::warn!(tenant, installation, event = %s.event, lever_webhook_id = %s.lever_webhook_id, error = %e.message, "could not delete a managed Lever webhook in Lever; the host forgot it, so its deliveries are refused: delete it in Lever (Settings → Integrations and API → Webhooks)");
                report.errors.push(WebhookSyncError::new(
                    event,
                    "delete",
                    "not_deleted_in_lever",
                    format!(
                        "the webhook {} could not be deleted in Lever ({}); the host forgot it \
                         and refuses its deliveries; delete it in Lever (Settings → \
                         Integrations and API → Webhooks)",
                        s.lever_webhook_id, e.message
                    ),
                ));
            }
            Err(e) => report.errors.push(e),
        }
    }

    // Strays: at this installation's URL, unknown to the store (a create whose answer was
    // lost, another host's race). Only the host creates webhooks at this URL.
    if let (Some(client), Some(hooks), Some(url)) = (
        &client,
        &in_lever,
        stray_url(host, tenant, installation, url.as_deref()),
    ) {
        let stored_ids: HashSet<&str> =
            stored.iter().map(|s| s.lever_webhook_id.as_str()).collect();
        for hook in hooks.values() {
            if hook.url != url || live.contains(&hook.id) || stored_ids.contains(hook.id.as_str()) {
                continue;
            }
            match delete_in_lever(client, &hook.id).await {
                Ok(()) => report.strays_deleted += 1,
                Err(e) => {
                    report
                        .errors
                        .push(WebhookSyncError::lever(Some(&hook.event), "delete", &e))
                }
            }
        }
    }
    Ok(report)
}

/// The installation's URL, also when no webhook is wanted (strays may remain there).
fn stray_url(
    host: &Host,
    tenant: &str,
    installation: &str,
    wanted: Option<&str>,
) -> Option<String> {
    wanted.map(str::to_owned).or_else(|| {
        let public_url = host.config().public_url.as_ref()?;
        installation_url(public_url, tenant, installation).ok()
    })
}

async fn wanted(
    host: &Host,
    tenant: &str,
    installation: &str,
    connection: Option<&fulcrum_store::LeverConnection>,
) -> Result<Wanted, DomainError> {
    let Some(stored) = host.store().get_installation(tenant, installation).await? else {
        return Ok(Wanted::Nothing("the installation was removed".into()));
    };
    if !stored.enabled {
        return Ok(Wanted::Nothing("the installation is disabled".into()));
    }
    match connection {
        None => {
            return Ok(Wanted::Nothing(
                "the installation has no Lever connection of its own (webhooks for the \
                 tenant's default key are registered by hand)"
                    .into(),
            ));
        }
        Some(c) if c.status == ConnectionStatus::ReconnectNeeded => {
            // Its deliveries still arrive and wait (paused) until it is reconnected.
            return Ok(Wanted::Unchanged(
                "the installation's Lever connection needs reconnecting; its webhooks are left \
                 as they are until it is connected again"
                    .into(),
            ));
        }
        Some(_) => {}
    }
    // A host without a public URL (the command line, a private replica) leaves them as
    // they are: another host with one made them, and deleting them would lose deliveries.
    let Some(public_url) = host.config().public_url.as_ref() else {
        return Ok(Wanted::Unchanged(
            "this host has no public URL (serve --public-url), so it neither creates nor \
             removes Lever webhooks; a host with one keeps them in line"
                .into(),
        ));
    };
    let Some(plugin) = host.runtime().active(&stored.plugin) else {
        return Ok(Wanted::Unchanged(format!(
            "plugin {:?} is not loaded on this host, so its Lever events are unknown; the \
             operator must install its component",
            stored.plugin
        )));
    };
    let events: BTreeSet<String> = plugin
        .manifest()
        .lever_events
        .iter()
        .map(|kind| lever_event_name(*kind).to_owned())
        .collect();
    if events.is_empty() {
        return Ok(Wanted::Nothing(
            "the plugin subscribes to no Lever event".into(),
        ));
    }
    let url = installation_url(public_url, tenant, installation)?;
    Ok(Wanted::Events { url, events })
}

/// `{public_url}/webhooks/lever/{tenant}/{installation}`, keeping a path prefix of the public
/// URL (a host behind `https://example.com/fulcrum/`).
pub(crate) fn installation_url(
    public_url: &url::Url,
    tenant: &str,
    installation: &str,
) -> Result<String, DomainError> {
    let mut url = public_url.clone();
    url.set_query(None);
    url.set_fragment(None);
    url.path_segments_mut()
        .map_err(|()| {
            DomainError::invalid(
                "bad_public_url",
                format!(
                    "the host's public URL {public_url} cannot have paths; set it to the \
                     http(s) address Lever reaches the host at"
                ),
            )
        })?
        .pop_if_empty()
        .extend(["webhooks", "lever", tenant, installation]);
    Ok(url.to_string())
}

/// Lever's webhooks of the account, by id.
async fn list(client: &LeverClient) -> Result<HashMap<String, Webhook>, LeverError> {
    let hooks: Vec<Webhook> = client
        .webhooks()
        .take(MAX_LISTED_WEBHOOKS)
        .try_collect()
        .await?;
    Ok(hooks.into_iter().map(|w| (w.id.clone(), w)).collect())
}

/// Creates the webhook in Lever and records it with its signature token; returns its id. A
/// webhook that cannot be recorded is deleted again: its deliveries could not be verified.
async fn create(
    client: &LeverClient,
    host: &Host,
    tenant: &str,
    installation: &str,
    event: &str,
    url: &str,
) -> Result<String, WebhookSyncError> {
    let hook = client
        .create_webhook(&NewWebhook {
            url: url.to_owned(),
            event: event.to_owned(),
            configuration: None,
        })
        .await
        .map_err(|e| WebhookSyncError::lever(Some(event), "create", &e))?;
    let id = hook.id;
    let recorded = match hook.configuration.signature_token.filter(|t| !t.is_empty()) {
        None => Err(WebhookSyncError::new(
            Some(event),
            "create",
            "lever_failed",
            "Lever created the webhook but answered no signature token, so its deliveries \
             could not be verified; it was deleted again"
                .into(),
        )),
        Some(token) => host
            .store()
            .put_managed_webhook(
                tenant,
                installation,
                event,
                &id,
                url,
                &SecretString::from(token),
            )
            .await
            .map_err(|e| WebhookSyncError::store(Some(event), "store", &e)),
    };
    if let Err(problem) = recorded {
        if let Err(e) = delete_in_lever(client, &id).await {
            tracing::warn!(tenant, installation, event, lever_webhook_id = %id, error = %e, "could not delete an unrecorded webhook again; the next sync deletes it as a stray");
        }
        return Err(problem);
    }
    Ok(id)
}

/// Deletes a webhook in Lever; one Lever no longer has is as good as deleted.
async fn delete_in_lever(client: &LeverClient, id: &str) -> Result<(), LeverError> {
    match client.delete_webhook(id).await {
        Ok(()) | Err(LeverError::NotFound { .. }) => Ok(()),
        Err(e) => Err(e),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_installation_url_keeps_the_public_urls_path() {
        let at = |base: &str| installation_url(&base.parse().unwrap(), "acme", "relode").unwrap();
        assert_eq!(
            at("https://fulcrum.example"),
            "https://fulcrum.example/webhooks/lever/acme/relode"
        );
        assert_eq!(
            at("https://example.com/fulcrum/"),
            "https://example.com/fulcrum/webhooks/lever/acme/relode"
        );
        assert_eq!(
            at("http://127.0.0.1:8080/?x=1"),
            "http://127.0.0.1:8080/webhooks/lever/acme/relode"
        );
        let error =
            installation_url(&"mailto:a@b.c".parse().unwrap(), "acme", "relode").unwrap_err();
        assert!(error.to_string().contains("public URL"), "{error}");
    }

    #[test]
    fn a_403_names_the_permission_and_scope_to_approve() {
        let error = WebhookSyncError::lever(
            Some("candidateHired"),
            "create",
            &LeverError::Forbidden {
                operation: lever_model::Operation::CreateWebhook,
                permission: lever_model::Permission::CreateWebhook,
                message: "no".into(),
            },
        );
        assert_eq!(error.code, "forbidden");
        assert_eq!(error.missing_permission.as_deref(), Some("create webhook"));
        assert_eq!(error.missing_scope.as_deref(), Some("webhooks:write:admin"));
        assert!(error.message.contains("Super Admin"), "{}", error.message);
    }
}
