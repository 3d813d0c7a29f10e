//! Retention: every [`RetentionConfig::every`], delete done events, journal rows of done
//! events and audit rows older than their configured ages, in bounded batches (see
//! `fulcrum_store::Store::purge_done_events` for what is never deleted), and count what went
//! in `fulcrum_retention_deleted_total{table}`.

use crate::HostInner;
use crate::metrics_names::RETENTION_DELETED_TOTAL;
use fulcrum_store::{Purged, RetentionTable, StoreError};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

/// How long rows are kept, and how the host deletes the older ones.
#[derive(Debug, Clone)]
pub struct RetentionConfig {
    /// Done events (and their journal rows) older than this are deleted; `None` keeps them.
    /// Also how long a redelivered event is recognised by its dedupe key.
    pub events: Option<Duration>,
    /// Journal rows of done events (Lever answers: candidate data) older than this are
    /// deleted; `None` keeps them as long as their event.
    pub journal: Option<Duration>,
    /// Audit rows older than this are deleted; `None` keeps them.
    pub audit: Option<Duration>,
    /// How often the host looks for rows to delete (the first pass runs at start).
    pub every: Duration,
    /// Rows deleted per statement (each batch is one short transaction).
    pub batch: u32,
}

const DAY: Duration = Duration::from_secs(24 * 60 * 60);

impl Default for RetentionConfig {
    fn default() -> Self {
        RetentionConfig {
            events: Some(30 * DAY),
            journal: Some(7 * DAY),
            audit: Some(365 * DAY),
            every: Duration::from_secs(60 * 60),
            batch: 500,
        }
    }
}

/// One pass at `now_ms`: deletes every row past its age, batch by batch, and counts them.
pub(crate) async fn run(
    host: &HostInner,
    now_ms: i64,
    shutdown: Option<&CancellationToken>,
) -> Result<Purged, StoreError> {
    let config = &host.config.retention;
    let store = &host.store;
    let batch = config.batch.max(1);
    let cutoff =
        |age: Duration| now_ms.saturating_sub(i64::try_from(age.as_millis()).unwrap_or(i64::MAX));
    let stopping = || shutdown.is_some_and(CancellationToken::is_cancelled);
    let mut purged = Purged::default();
    if let Some(age) = config.events {
        loop {
            let done = store.purge_done_events(cutoff(age), batch).await?;
            count(&done);
            purged.add(&done);
            if done.events < u64::from(batch) || stopping() {
                break;
            }
            // Between batches, let workers take the (SQLite) write lock.
            tokio::task::yield_now().await;
        }
    }
    for (table, age) in [
        (RetentionTable::EffectJournal, config.journal),
        (RetentionTable::AuditLog, config.audit),
    ] {
        let Some(age) = age else { continue };
        loop {
            let n = match table {
                RetentionTable::EffectJournal => store.purge_journal(cutoff(age), batch).await?,
                _ => store.purge_audit(cutoff(age), batch).await?,
            };
            let done = match table {
                RetentionTable::EffectJournal => Purged {
                    effect_journal: n,
                    ..Purged::default()
                },
                _ => Purged {
                    audit_log: n,
                    ..Purged::default()
                },
            };
            count(&done);
            purged.add(&done);
            if n < u64::from(batch) || stopping() {
                break;
            }
            tokio::task::yield_now().await;
        }
    }
    Ok(purged)
}

fn count(purged: &Purged) {
    for table in RetentionTable::ALL {
        let n = purged.get(table);
        if n > 0 {
            metrics::counter!(RETENTION_DELETED_TOTAL, "table" => table.as_str()).increment(n);
        }
    }
}

/// Runs a pass at start, then every `config.retention.every`, until shutdown.
pub(crate) async fn retention_loop(host: Arc<HostInner>, shutdown: CancellationToken) {
    let every = host.config.retention.every.max(Duration::from_secs(1));
    loop {
        match run(&host, fulcrum_store::now_ms(), Some(&shutdown)).await {
            Ok(purged) if purged.total() > 0 => tracing::info!(
                events = purged.events,
                effect_journal = purged.effect_journal,
                audit_log = purged.audit_log,
                "retention deleted old rows"
            ),
            Ok(_) => {}
            Err(error) => tracing::warn!(%error, "retention pass failed; retrying at the next one"),
        }
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = tokio::time::sleep(every) => {}
        }
    }
}
