//! Retention: deleting old events, effect journal rows and audit rows, in bounded batches
//! (each one short transaction, so workers are never held up for long).
//!
//! What is never deleted: an event that is not `done` (queued and running ones are unfinished;
//! a dead letter waits for an admin to replay it), and a journal row of an event that is not
//! `done` (a retry or a replay answers its Lever calls from it). Deleting a done event also
//! frees its dedupe key, so the events age is also how long a redelivery is recognised.

use crate::{Result, Store};

/// A table retention deletes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RetentionTable {
    Events,
    EffectJournal,
    AuditLog,
}

impl RetentionTable {
    pub const ALL: [Self; 3] = [Self::Events, Self::EffectJournal, Self::AuditLog];

    /// The table's name (the `table` label of the retention metric).
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Events => "events",
            Self::EffectJournal => "effect_journal",
            Self::AuditLog => "audit_log",
        }
    }
}

/// Rows deleted, per table.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Purged {
    pub events: u64,
    /// Journal rows, whether deleted for their age or with their event.
    pub effect_journal: u64,
    pub audit_log: u64,
}

impl Purged {
    pub fn get(&self, table: RetentionTable) -> u64 {
        match table {
            RetentionTable::Events => self.events,
            RetentionTable::EffectJournal => self.effect_journal,
            RetentionTable::AuditLog => self.audit_log,
        }
    }

    pub fn total(&self) -> u64 {
        self.events + self.effect_journal + self.audit_log
    }

    pub fn add(&mut self, other: &Self) {
        self.events += other.events;
        self.effect_journal += other.effect_journal;
        self.audit_log += other.audit_log;
    }
}

impl Store {
    /// Deletes up to `limit` `done` events last changed before `before_ms` (unix ms), oldest
    /// first, with their journal rows, in one transaction. Counts both.
    pub async fn purge_done_events(&self, before_ms: i64, limit: u32) -> Result<Purged> {
        let limit = i64::from(limit.max(1));
        in_tx!(self, |tx| {
            // The batch is the events up to the `limit`-th candidate's id. A done event stays
            // done and keeps its time, and an event finishing now is newer than the cutoff,
            // so the set is the same for both deletes below.
            let last: Option<i64> = sqlx::query_scalar(
                "SELECT MAX(id) FROM (SELECT id FROM events
                   WHERE status = 'done' AND updated_at < $1 ORDER BY id LIMIT $2) AS batch",
            )
            .bind(before_ms)
            .bind(limit)
            .fetch_one(&mut *tx)
            .await?;
            let Some(last) = last else {
                return Ok(Purged::default());
            };
            let journal = sqlx::query(
                "DELETE FROM effect_journal WHERE event_id IN (SELECT id FROM events
                   WHERE status = 'done' AND updated_at < $1 AND id <= $2)",
            )
            .bind(before_ms)
            .bind(last)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            let events = sqlx::query(
                "DELETE FROM events WHERE status = 'done' AND updated_at < $1 AND id <= $2",
            )
            .bind(before_ms)
            .bind(last)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            tx.commit().await?;
            Ok(Purged {
                events,
                effect_journal: journal,
                audit_log: 0,
            })
        })
    }

    /// Deletes up to `limit` journal rows recorded before `before_ms` whose event is `done`
    /// (a finished event never reads its journal again); the event itself stays.
    pub async fn purge_journal(&self, before_ms: i64, limit: u32) -> Result<u64> {
        let limit = i64::from(limit.max(1));
        Ok(on_pool!(self, |pool| sqlx::query(
            "DELETE FROM effect_journal WHERE (event_id, call_seq) IN (
                 SELECT j.event_id, j.call_seq FROM effect_journal j
                 JOIN events e ON e.id = j.event_id
                 WHERE e.status = 'done' AND j.updated_at < $1
                 ORDER BY j.event_id, j.call_seq LIMIT $2)"
        )
        .bind(before_ms)
        .bind(limit)
        .execute(pool)
        .await?
        .rows_affected()))
    }

    /// Deletes up to `limit` audit rows written before `before_ms`, oldest first.
    pub async fn purge_audit(&self, before_ms: i64, limit: u32) -> Result<u64> {
        let limit = i64::from(limit.max(1));
        Ok(on_pool!(self, |pool| sqlx::query(
            "DELETE FROM audit_log WHERE id IN (
                 SELECT id FROM audit_log WHERE at < $1 ORDER BY at, id LIMIT $2)"
        )
        .bind(before_ms)
        .bind(limit)
        .execute(pool)
        .await?
        .rows_affected()))
    }
}
