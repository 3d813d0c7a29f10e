//! Removing an installation. When its plugin asked for the `removing` lifecycle hook, the hook
//! runs before any of the installation's data goes: the installation is marked and disabled
//! (ingress refused, schedules stopped, host-managed Lever webhooks deleted), the hook is
//! queued as a durable event, and the pipeline deletes the installation once that event is
//! done or dead-lettered ([`finish_after_hook`]). Otherwise it goes at once. Removing again
//! while marked finishes a removal whose hook has ended (a host that stopped in between).

use fulcrum_runtime::bindings::LifecycleKind;
use fulcrum_store::{EventFilter, EventStatus, Store, StoreError};
use serde::Serialize;
use serde_json::json;

use crate::Host;
use crate::actor::{Actor, record_change};
use crate::domain_error::DomainError;
use crate::event_payload::{StoredLifecycle, kind, lifecycle_kind_name};
use crate::lifecycle;

/// What [`remove`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(tag = "status", rename_all = "snake_case")]
pub enum Removal {
    /// Gone, with everything keyed on it but the audit log.
    Removed,
    /// The plugin's `removing` hook is queued as this event; the installation goes once it is
    /// done or dead-lettered.
    Removing { hook_event_id: i64 },
}

/// Removes the installation (see the module's description).
pub async fn remove(
    host: &Host,
    actor: &Actor,
    tenant: &str,
    installation: &str,
) -> Result<Removal, DomainError> {
    let stored = super::existing(host, tenant, installation).await?;
    let store = host.store();
    if store
        .installation_removing_since(tenant, installation)
        .await?
        .flatten()
        .is_some()
    {
        if let Some(id) = pending_hook(store, tenant, installation).await? {
            return Ok(Removal::Removing { hook_event_id: id });
        }
        return delete(host, actor, tenant, installation, None).await;
    }
    let asks = host.runtime().active(&stored.plugin).is_some_and(|p| {
        p.manifest()
            .lifecycle_hooks
            .contains(&LifecycleKind::Removing)
    });
    crate::managed_webhooks::remove_before_disconnect(host, tenant, installation).await;
    if !asks {
        return delete(host, actor, tenant, installation, None).await;
    }
    store
        .mark_installation_removing(tenant, installation)
        .await?;
    host.sync_schedules(tenant, installation).await?;
    let Some(id) = lifecycle::queue(
        host,
        tenant,
        installation,
        LifecycleKind::Removing,
        json!({}),
    )
    .await?
    else {
        // The plugin was unloaded meanwhile: nothing will run the hook.
        return delete(host, actor, tenant, installation, None).await;
    };
    record_change(
        store,
        actor,
        tenant,
        Some(installation),
        "remove installation",
        Some(format!(
            "its plugin's removing hook is queued as event {id}; its data goes once the hook \
             has run"
        )),
    )
    .await;
    Ok(Removal::Removing { hook_event_id: id })
}

async fn delete(
    host: &Host,
    actor: &Actor,
    tenant: &str,
    installation: &str,
    keep_event: Option<i64>,
) -> Result<Removal, DomainError> {
    host.store()
        .delete_installation(tenant, installation, keep_event)
        .await?;
    host.sync_schedules(tenant, installation).await?;
    record_change(
        host.store(),
        actor,
        tenant,
        Some(installation),
        "remove installation",
        Some("removed with its secrets, state, schedules, events and Lever connection".into()),
    )
    .await;
    Ok(Removal::Removed)
}

/// The installation's `removing` hook still queued or running, if any.
async fn pending_hook(
    store: &Store,
    tenant: &str,
    installation: &str,
) -> Result<Option<i64>, StoreError> {
    let mut after_id = None;
    loop {
        let page = store
            .list_events(&EventFilter {
                tenant_id: Some(tenant.to_owned()),
                plugin_id: Some(installation.to_owned()),
                after_id,
                limit: fulcrum_store::MAX_LIST_EVENTS,
                ..EventFilter::default()
            })
            .await?;
        let Some(last) = page.last() else {
            return Ok(None);
        };
        after_id = Some(last.id);
        if let Some(hook) = page.iter().find(|e| {
            is_removing_hook(&e.kind, &e.payload)
                && matches!(e.status, EventStatus::Queued | EventStatus::Running)
        }) {
            return Ok(Some(hook.id));
        }
    }
}

fn is_removing_hook(event_kind: &str, payload: &serde_json::Value) -> bool {
    event_kind == kind::LIFECYCLE
        && serde_json::from_value::<StoredLifecycle>(payload.clone())
            .is_ok_and(|h| h.kind == lifecycle_kind_name(LifecycleKind::Removing))
}

/// After an event finished (done or dead-lettered): if it was an installation's `removing`
/// hook, the installation goes now, keeping that event as the record of the hook's outcome.
pub(crate) async fn finish_after_hook(
    store: &Store,
    event: &fulcrum_store::Event,
) -> Result<(), StoreError> {
    if !is_removing_hook(&event.kind, &event.payload) {
        return Ok(());
    }
    let (tenant, installation) = (&event.tenant_id, &event.plugin_id);
    if store
        .delete_installation(tenant, installation, Some(event.id))
        .await?
    {
        record_change(
            store,
            &Actor::local("host (removing hook finished)"),
            tenant,
            Some(installation),
            "remove installation",
            Some(format!(
                "removed after its removing hook (event {}) ended, with its secrets, state, \
                 schedules, events and Lever connection",
                event.id
            )),
        )
        .await;
    }
    Ok(())
}
