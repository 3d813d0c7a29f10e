//! Lifecycle hooks: what happens to an installation (connected, enabled, disabled, config
//! changed, being removed) is queued as an event for its plugin, if its manifest lists that
//! kind in `lifecycle-hooks`, and run by the pipeline like any other event (retries, dead
//! letter, audit, the event's id on every retry). A plugin that did not ask gets nothing
//! stored. Hooks of one installation run in the order they happened (one subject).

use fulcrum_runtime::bindings::LifecycleKind;
use fulcrum_store::{NewEvent, StoreError, now_ms};
use serde_json::{Value, json};

use crate::Host;
use crate::event_payload::{StoredLifecycle, kind, lifecycle_kind_name};

/// The subject of every lifecycle hook of an installation: they run in order.
const SUBJECT: &str = "lifecycle";

/// How the installation was connected to Lever, for the `connected` hook's detail.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ConnectMethod {
    OAuth,
    ApiKey,
}

impl ConnectMethod {
    fn as_str(self) -> &'static str {
        match self {
            ConnectMethod::OAuth => "oauth",
            ConnectMethod::ApiKey => "api-key",
        }
    }
}

/// The `connected` hook's detail.
pub(crate) fn connected_detail(method: ConnectMethod) -> Value {
    json!({ "method": method.as_str() })
}

/// Queues the `kind` hook for the installation if its plugin asked for it; returns the
/// event's id, or `None` when nothing was stored (see [`hook_event`]). For a change that the
/// store can commit together with its hook, use [`hook_event`] and the store's
/// `*_with_hook` writes instead.
pub(crate) async fn queue(
    host: &Host,
    tenant: &str,
    installation: &str,
    hook: LifecycleKind,
    detail: Value,
) -> Result<Option<i64>, StoreError> {
    let Some(event) = hook_event(host, tenant, installation, hook, detail).await? else {
        return Ok(None);
    };
    let enqueued = host.enqueue(&event).await?;
    tracing::debug!(
        tenant,
        installation,
        event_id = enqueued.id,
        hook = lifecycle_kind_name(hook),
        "lifecycle hook queued"
    );
    Ok(Some(enqueued.id))
}

/// The event of the `kind` hook for the installation, if its plugin asked for it; `None`
/// when nothing is to be stored (the plugin did not ask, or is not loaded on this host: its
/// manifest, and so what it asked for, is unknown here).
pub(crate) async fn hook_event(
    host: &Host,
    tenant: &str,
    installation: &str,
    hook: LifecycleKind,
    detail: Value,
) -> Result<Option<NewEvent>, StoreError> {
    let Some(stored) = host.store().get_installation(tenant, installation).await? else {
        return Ok(None);
    };
    let Some(plugin) = host.runtime().active(&stored.plugin) else {
        tracing::warn!(
            tenant, installation, plugin = %stored.plugin, hook = lifecycle_kind_name(hook),
            "lifecycle hook not queued: the plugin is not loaded on this host"
        );
        return Ok(None);
    };
    if !plugin.manifest().lifecycle_hooks.contains(&hook) {
        return Ok(None);
    }
    let payload = StoredLifecycle {
        kind: lifecycle_kind_name(hook).to_owned(),
        occurred_at: now_ms(),
        detail,
    };
    let event = NewEvent {
        tenant_id: tenant.to_owned(),
        plugin_id: installation.to_owned(),
        kind: kind::LIFECYCLE.to_owned(),
        subject_key: SUBJECT.to_owned(),
        payload: serde_json::to_value(&payload).map_err(|e| StoreError::Corrupt {
            what: "lifecycle payload",
            value: e.to_string(),
        })?,
        dedupe_key: None,
    };
    Ok(Some(event))
}
