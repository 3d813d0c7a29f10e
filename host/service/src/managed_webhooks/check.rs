//! The scheduled check: every `managed_webhook_check_interval`, each installation that has
//! (or should have) managed webhooks is synced — a webhook deleted in Lever is created again
//! — and expired OAuth states are forgotten.

use fulcrum_store::{StoreError, now_ms};
use serde::Serialize;
use std::sync::Arc;
use tokio_util::sync::CancellationToken;

use super::{WebhookSyncReport, sync_installation};
use crate::{Host, HostInner};

/// Shortest pause between checks, whatever the configuration says (Lever's budget is shared).
const MIN_INTERVAL: std::time::Duration = std::time::Duration::from_secs(1);

/// One installation's check.
#[derive(Debug, Clone, Serialize)]
pub struct CheckedInstallation {
    pub tenant: String,
    pub installation: String,
    pub report: WebhookSyncReport,
}

/// Until `shutdown`: a check every interval (the first one interval after start).
pub(crate) async fn check_loop(inner: Arc<HostInner>, shutdown: CancellationToken) {
    let host = Host { inner };
    let every = host
        .config()
        .managed_webhook_check_interval
        .max(MIN_INTERVAL);
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.cancelled() => return,
        }
        if let Err(error) = check_all(&host).await {
            tracing::warn!(%error, "could not check managed Lever webhooks; trying again later");
        }
    }
}

/// Syncs every installation that is enabled with its own connection, or still has managed
/// webhooks recorded (to remove them), then forgets expired OAuth states. A failure of one
/// installation is logged and does not stop the others.
pub(crate) async fn check_all(host: &Host) -> Result<Vec<CheckedInstallation>, StoreError> {
    let store = host.store();
    let mut checked = Vec::new();
    for tenant in store.list_tenants().await? {
        for installation in store.list_installations(&tenant.id).await? {
            let id = &installation.plugin_id;
            let own_connection = store.get_lever_connection(&tenant.id, id).await?.is_some();
            let recorded = !store.managed_webhooks(&tenant.id, id).await?.is_empty();
            if !(recorded || (installation.enabled && own_connection)) {
                continue;
            }
            match sync_installation(host, &tenant.id, id).await {
                Ok(report) => {
                    for e in &report.errors {
                        tracing::warn!(tenant = %tenant.id, installation = %id, event = ?e.event, action = %e.action, code = %e.code, message = %e.message, "managed Lever webhook not in sync");
                    }
                    checked.push(CheckedInstallation {
                        tenant: tenant.id.clone(),
                        installation: id.clone(),
                        report,
                    });
                }
                Err(error) => {
                    tracing::warn!(tenant = %tenant.id, installation = %id, %error, "could not check managed Lever webhooks")
                }
            }
        }
    }
    match store.prune_oauth_states(now_ms()).await {
        Ok(0) => {}
        Ok(n) => tracing::debug!(states = n, "forgot expired Lever OAuth states"),
        Err(error) => tracing::warn!(%error, "could not delete expired Lever OAuth states"),
    }
    Ok(checked)
}
