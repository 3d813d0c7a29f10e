//! Dead letters that hold back their subject: the later events of the subject wait until the
//! dead one is replayed (per-subject order), so an operator needs to see them as blocking,
//! not just as failed.

use crate::{Result, Store};

/// The dead letters of one tenant × plugin that hold back later events of their subject.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct BlockedLane {
    pub tenant_id: String,
    pub plugin_id: String,
    /// Dead events with at least one later event of their subject queued behind them.
    pub dead_letters: i64,
    /// The queued events waiting behind those dead letters.
    pub waiting: i64,
}

impl Store {
    /// Every tenant × plugin with dead letters that hold back later events of their subject
    /// (a dead schedule run holds nothing: the schedule's next run supersedes it), by tenant
    /// then plugin. [`crate::Event::waiting_behind`] gives the same per event.
    pub async fn blocked_lanes(&self) -> Result<Vec<BlockedLane>> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_as::<_, BlockedLane>(
                "SELECT d.tenant_id, d.plugin_id, COUNT(DISTINCT d.id) AS dead_letters,
                        COUNT(DISTINCT w.id) AS waiting
                 FROM events d
                 JOIN events w ON w.tenant_id = d.tenant_id AND w.plugin_id = d.plugin_id
                   AND w.subject_key = d.subject_key AND w.id > d.id AND w.status = 'queued'
                 WHERE d.status = 'dead' AND d.schedule_name IS NULL
                 GROUP BY d.tenant_id, d.plugin_id
                 ORDER BY d.tenant_id, d.plugin_id",
            )
            .fetch_all(pool)
            .await?
        }))
    }
}
