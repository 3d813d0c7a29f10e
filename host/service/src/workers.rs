//! The node's background queue work: event workers that keep their claim alive while they
//! run an event (heartbeats), and the reaper that requeues the events of workers that stopped
//! answering and publishes which dead letters hold back their subject.

use fulcrum_store::{Claim, Event, Store, StoreError, now_ms};
use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

use crate::HostInner;
use crate::metrics_names as m;
use crate::pipeline::{Outcome, process};

/// Shortest claim lease: heartbeats go out every third of it.
pub(crate) const MIN_LEASE: Duration = Duration::from_secs(1);

/// A node id unique to this process: `<hostname>-<8 random hex digits>`. Two processes never
/// share it by accident, so one never takes for its own (and requeues) the events the other
/// is running.
pub(crate) fn default_node_id() -> String {
    let host = whoami::hostname()
        .ok()
        .map(|name| {
            // Worker ids are `<node>:<n>`; keep the host part plain.
            name.chars()
                .filter(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '.' | '_'))
                .collect::<String>()
        })
        .filter(|name| !name.is_empty())
        .unwrap_or_else(|| "node".to_owned());
    format!("{host}-{:08x}", rand::random::<u32>())
}

/// Runs a claimed event to its outcome while keeping the claim alive: every third of the
/// lease a heartbeat pushes the lease out again, so it runs out only when this process stops
/// answering (a crash, a hang, a database it cannot reach), however long the plugin and the
/// recording take. A heartbeat that finds the claim gone (its lease ran out during a database
/// outage and the event went to another worker) stops the plugin's invocation; the outcome
/// would be refused anyway. A lost claim is `Err(StoreError::ClaimLost)`.
pub(crate) async fn run_claimed(host: &HostInner, event: Event) -> Result<Outcome, StoreError> {
    let claim = event.claim();
    let plugin = event.plugin_id.clone();
    let done = CancellationToken::new();
    let lost = CancellationToken::new();
    let heartbeat = tokio::spawn(heartbeat(
        host.store.clone(),
        claim,
        host.lease(),
        done.clone(),
        lost.clone(),
    ));
    let outcome = process(host, event, &lost).await;
    done.cancel();
    // An extension still in flight may land after the outcome: it matches no running claim.
    let _ = heartbeat.await;
    if let Err(StoreError::ClaimLost { .. }) = &outcome {
        metrics::counter!(m::CLAIMS_LOST_TOTAL, "plugin" => plugin).increment(1);
    }
    outcome
}

async fn heartbeat(
    store: Store,
    claim: Claim,
    lease: Duration,
    done: CancellationToken,
    lost: CancellationToken,
) {
    let every = lease / 3;
    loop {
        tokio::select! {
            _ = done.cancelled() => return,
            _ = tokio::time::sleep(every) => {}
        }
        match store.extend_lease(claim, lease).await {
            Ok(true) => {}
            // Also what a heartbeat racing the event's own completion finds: `lost` is then
            // cancelled after the invocation ended, and changes nothing.
            Ok(false) => {
                if !done.is_cancelled() {
                    tracing::debug!(
                        event_id = claim.event_id,
                        "the claim on an event is gone; stopping its invocation if it still runs"
                    );
                    lost.cancel();
                }
                return;
            }
            Err(e) => tracing::warn!(
                event_id = claim.event_id, error = %e,
                "could not extend an event's lease; will try again"
            ),
        }
    }
}

/// A worker: claims and runs events until `shutdown`; finishes the event in hand first.
pub(crate) async fn worker_loop(
    host: Arc<HostInner>,
    worker_id: String,
    shutdown: CancellationToken,
) {
    tracing::debug!(worker = %worker_id, "worker started");
    while !shutdown.is_cancelled() {
        match host.claim(&worker_id).await {
            Ok(Some(event)) => match run_claimed(&host, event).await {
                Ok(_) => {}
                // Another worker holds the event now; nothing to wait for.
                Err(e @ StoreError::ClaimLost { .. }) => {
                    tracing::warn!(worker = %worker_id, error = %e, "gave up an event")
                }
                Err(e) => {
                    // The outcome could not be recorded: the lease expires and the event runs
                    // again, answered from its journal.
                    tracing::error!(worker = %worker_id, error = %e, "could not record an event's outcome");
                    pause(&host, &shutdown).await;
                }
            },
            Ok(None) => {
                tokio::select! {
                    _ = host.wake.notified() => {}
                    _ = tokio::time::sleep(host.config.poll_interval) => {}
                    _ = shutdown.cancelled() => {}
                }
            }
            Err(e) => {
                tracing::error!(worker = %worker_id, error = %e, "could not claim events; is the database reachable?");
                pause(&host, &shutdown).await;
            }
        }
    }
    tracing::debug!(worker = %worker_id, "worker stopped");
}

async fn pause(host: &HostInner, shutdown: &CancellationToken) {
    tokio::select! {
        _ = tokio::time::sleep(host.config.poll_interval.max(Duration::from_millis(500))) => {}
        _ = shutdown.cancelled() => {}
    }
}

/// Puts events whose worker vanished (lease expired) back in the queue, and keeps the
/// blocked-subject gauges current.
pub(crate) async fn reaper_loop(host: Arc<HostInner>, shutdown: CancellationToken) {
    let every = (host.lease() / 4).max(Duration::from_millis(200));
    let mut blocked = BlockedGauges::default();
    loop {
        tokio::select! {
            _ = tokio::time::sleep(every) => {}
            _ = shutdown.cancelled() => return,
        }
        match host.store.requeue_expired(now_ms()).await {
            Ok(0) => {}
            Ok(n) => {
                tracing::warn!(events = n, "requeued events whose worker stopped answering");
                host.wake.notify_waiters();
            }
            Err(e) => tracing::error!(error = %e, "could not requeue expired events"),
        }
        if let Err(e) = blocked.refresh(&host.store).await {
            tracing::warn!(error = %e, "could not count the dead letters that block their subject");
        }
    }
}

/// `fulcrum_dead_letters_blocking` and `fulcrum_events_blocked` per tenant × plugin. Every
/// node publishes the same database-wide numbers; a lane that unblocked is set back to 0.
#[derive(Default)]
struct BlockedGauges {
    published: HashSet<(String, String)>,
}

impl BlockedGauges {
    async fn refresh(&mut self, store: &Store) -> Result<(), StoreError> {
        let lanes = store.blocked_lanes().await?;
        let mut now = HashSet::new();
        for lane in lanes {
            set_blocked(
                &lane.tenant_id,
                &lane.plugin_id,
                lane.dead_letters,
                lane.waiting,
            );
            now.insert((lane.tenant_id, lane.plugin_id));
        }
        for (tenant, plugin) in self.published.difference(&now) {
            set_blocked(tenant, plugin, 0, 0);
        }
        self.published = now;
        Ok(())
    }
}

fn set_blocked(tenant: &str, plugin: &str, dead_letters: i64, waiting: i64) {
    metrics::gauge!(m::DEAD_LETTERS_BLOCKING,
        "tenant" => tenant.to_owned(), "plugin" => plugin.to_owned())
    .set(dead_letters as f64);
    metrics::gauge!(m::EVENTS_BLOCKED,
        "tenant" => tenant.to_owned(), "plugin" => plugin.to_owned())
    .set(waiting as f64);
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_node_ids_are_unique_per_process_and_name_the_host() {
        let (a, b) = (default_node_id(), default_node_id());
        assert_ne!(a, b);
        let host_part = a.rsplit_once('-').unwrap().0;
        assert!(!host_part.is_empty() && !a.contains(':'), "{a}");
        assert_eq!(a.rsplit_once('-').unwrap().1.len(), 8, "{a}");
    }
}
