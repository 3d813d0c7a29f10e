//! The event queue (at-least-once delivery, per-subject order, retries, dead letters) and the
//! effect journal that makes re-delivered events replay recorded effects instead of repeating
//! them.

use crate::records::expect_one;
use crate::{Result, Store, StoreError, StorePool, now_ms, parse_json};
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EventStatus {
    Queued,
    Running,
    Done,
    Dead,
}

impl EventStatus {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Queued => "queued",
            Self::Running => "running",
            Self::Done => "done",
            Self::Dead => "dead",
        }
    }

    fn parse(s: &str) -> Result<Self> {
        Ok(match s {
            "queued" => Self::Queued,
            "running" => Self::Running,
            "done" => Self::Done,
            "dead" => Self::Dead,
            other => {
                return Err(StoreError::Corrupt {
                    what: "event status",
                    value: other.to_owned(),
                });
            }
        })
    }
}

/// An event to enqueue.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub tenant_id: String,
    pub plugin_id: String,
    pub kind: String,
    /// Events with the same (tenant, plugin, subject_key) are handled strictly in order.
    pub subject_key: String,
    pub payload: Value,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    pub id: i64,
    pub tenant_id: String,
    pub plugin_id: String,
    pub kind: String,
    pub subject_key: String,
    pub payload: Value,
    pub status: EventStatus,
    pub attempts: i64,
    pub next_attempt_at: i64,
    pub last_error: Option<String>,
    pub claimed_by: Option<String>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(sqlx::FromRow)]
struct EventRow {
    id: i64,
    tenant_id: String,
    plugin_id: String,
    kind: String,
    subject_key: String,
    payload: String,
    status: String,
    attempts: i64,
    next_attempt_at: i64,
    last_error: Option<String>,
    claimed_by: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl EventRow {
    fn into_event(self) -> Result<Event> {
        Ok(Event {
            payload: parse_json("event payload", &self.payload)?,
            status: EventStatus::parse(&self.status)?,
            id: self.id,
            tenant_id: self.tenant_id,
            plugin_id: self.plugin_id,
            kind: self.kind,
            subject_key: self.subject_key,
            attempts: self.attempts,
            next_attempt_at: self.next_attempt_at,
            last_error: self.last_error,
            claimed_by: self.claimed_by,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

/// What `fail_event` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOutcome {
    /// Queued again for `retry_at`; `attempts` failures so far.
    Retrying { attempts: i64 },
    /// Attempts exhausted: parked until someone replays it.
    Dead { attempts: i64 },
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum EffectStatus {
    Pending,
    Done,
}

/// One host call made while handling an event.
#[derive(Debug, Clone, PartialEq)]
pub struct EffectEntry {
    pub event_id: i64,
    pub call_seq: i64,
    pub operation: String,
    pub request_digest: String,
    pub status: EffectStatus,
    pub response: Option<Value>,
    pub created_at: i64,
    pub updated_at: i64,
}

#[derive(sqlx::FromRow)]
struct EffectRow {
    event_id: i64,
    call_seq: i64,
    operation: String,
    request_digest: String,
    status: String,
    response: Option<String>,
    created_at: i64,
    updated_at: i64,
}

impl EffectRow {
    fn into_entry(self) -> Result<EffectEntry> {
        let status = match self.status.as_str() {
            "pending" => EffectStatus::Pending,
            "done" => EffectStatus::Done,
            other => {
                return Err(StoreError::Corrupt {
                    what: "effect status",
                    value: other.to_owned(),
                });
            }
        };
        Ok(EffectEntry {
            response: self
                .response
                .as_deref()
                .map(|r| parse_json("effect response", r))
                .transpose()?,
            status,
            event_id: self.event_id,
            call_seq: self.call_seq,
            operation: self.operation,
            request_digest: self.request_digest,
            created_at: self.created_at,
            updated_at: self.updated_at,
        })
    }
}

const EVENT_COLUMNS: &str = "id, tenant_id, plugin_id, kind, subject_key, payload, status, attempts, next_attempt_at, last_error, claimed_by, created_at, updated_at";

// The oldest due queued event whose subject has no earlier unfinished event. A dead event
// blocks its subject on purpose: later events must not overtake it until it is replayed.
const CLAIM_SQLITE: &str = "UPDATE events SET status = 'running', claimed_by = $1, updated_at = $2
     WHERE id = (
         SELECT e.id FROM events e
         WHERE e.status = 'queued' AND e.next_attempt_at <= $2
           AND NOT EXISTS (
               SELECT 1 FROM events p
               WHERE p.tenant_id = e.tenant_id AND p.plugin_id = e.plugin_id
                 AND p.subject_key = e.subject_key AND p.id < e.id AND p.status <> 'done')
         ORDER BY e.next_attempt_at, e.id LIMIT 1)
     RETURNING id, tenant_id, plugin_id, kind, subject_key, payload, status, attempts, next_attempt_at, last_error, claimed_by, created_at, updated_at";

// Same query; SKIP LOCKED lets concurrent claimers pass over rows another claimer holds, and
// the outer status check drops a row that was claimed between the sub-select and the update.
const CLAIM_POSTGRES: &str = "UPDATE events SET status = 'running', claimed_by = $1, updated_at = $2
     WHERE status = 'queued' AND id = (
         SELECT e.id FROM events e
         WHERE e.status = 'queued' AND e.next_attempt_at <= $2
           AND NOT EXISTS (
               SELECT 1 FROM events p
               WHERE p.tenant_id = e.tenant_id AND p.plugin_id = e.plugin_id
                 AND p.subject_key = e.subject_key AND p.id < e.id AND p.status <> 'done')
         ORDER BY e.next_attempt_at, e.id LIMIT 1
         FOR UPDATE SKIP LOCKED)
     RETURNING id, tenant_id, plugin_id, kind, subject_key, payload, status, attempts, next_attempt_at, last_error, claimed_by, created_at, updated_at";

impl Store {
    /// Queue an event; returns its id. Ids grow with enqueue order.
    pub async fn enqueue_event(&self, event: &NewEvent) -> Result<i64> {
        let now = now_ms();
        Ok(on_pool!(self, |pool| {
            sqlx::query_scalar::<_, i64>(
            "INSERT INTO events (tenant_id, plugin_id, kind, subject_key, payload, status, attempts, next_attempt_at, created_at, updated_at)
             VALUES ($1, $2, $3, $4, $5, 'queued', 0, $6, $6, $6) RETURNING id"
        )
        .bind(&event.tenant_id)
        .bind(&event.plugin_id)
        .bind(&event.kind)
        .bind(&event.subject_key)
        .bind(event.payload.to_string())
        .bind(now)
        .fetch_one(pool)
        .await?
        }))
    }

    pub async fn get_event(&self, id: i64) -> Result<Option<Event>> {
        let row = on_pool!(self, |pool| sqlx::query_as::<_, EventRow>(
            sqlx::AssertSqlSafe(format!("SELECT {EVENT_COLUMNS} FROM events WHERE id = $1"))
        )
        .bind(id)
        .fetch_optional(pool)
        .await?);
        row.map(EventRow::into_event).transpose()
    }

    /// Claim the next due event for `worker`, marking it running.
    pub async fn claim_next(&self, worker: &str) -> Result<Option<Event>> {
        self.claim_next_at(worker, now_ms()).await
    }

    /// [`Store::claim_next`] as if the clock read `now` (unix ms).
    pub async fn claim_next_at(&self, worker: &str, now: i64) -> Result<Option<Event>> {
        let row = match &self.pool {
            StorePool::Sqlite(pool) => {
                // BEGIN IMMEDIATE takes the write lock up front: claimers queue on the busy
                // timeout rather than racing on a read snapshot that a writer invalidates.
                let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
                let row = sqlx::query_as::<_, EventRow>(CLAIM_SQLITE)
                    .bind(worker)
                    .bind(now)
                    .fetch_optional(&mut *tx)
                    .await?;
                tx.commit().await?;
                row
            }
            StorePool::Postgres(pool) => {
                sqlx::query_as::<_, EventRow>(CLAIM_POSTGRES)
                    .bind(worker)
                    .bind(now)
                    .fetch_optional(pool)
                    .await?
            }
        };
        row.map(EventRow::into_event).transpose()
    }

    /// Mark a running event done (releasing later events of its subject).
    pub async fn complete_event(&self, id: i64) -> Result<()> {
        let now = now_ms();
        let n = on_pool!(self, |pool| {
            sqlx::query(
            "UPDATE events SET status = 'done', updated_at = $2 WHERE id = $1 AND status = 'running'"
        )
        .bind(id)
        .bind(now)
        .execute(pool)
        .await?
        .rows_affected()
        });
        expect_one(n, || {
            StoreError::Conflict(format!("event {id} is not running, so cannot be completed"))
        })
    }

    /// Record a failed attempt of a running event: queue it again for `retry_at` (unix ms), or
    /// dead-letter it once it has failed `max_attempts` times.
    pub async fn fail_event(&self, id: i64, retry_at: i64, error: &str) -> Result<FailOutcome> {
        let now = now_ms();
        let max = self.max_attempts;
        // Right-hand sides see the old row, so `attempts + 1` is the new count throughout.
        let row = on_pool!(self, |pool| sqlx::query_as::<_, (String, i64)>(
            "UPDATE events SET attempts = attempts + 1,
                 status = CASE WHEN attempts + 1 >= $2 THEN 'dead' ELSE 'queued' END,
                 next_attempt_at = $3, last_error = $4, claimed_by = NULL, updated_at = $5
             WHERE id = $1 AND status = 'running' RETURNING status, attempts"
        )
        .bind(id)
        .bind(max)
        .bind(retry_at)
        .bind(error)
        .bind(now)
        .fetch_optional(pool)
        .await?);
        match row {
            None => Err(StoreError::Conflict(format!(
                "event {id} is not running, so cannot be failed"
            ))),
            Some((status, attempts)) => match EventStatus::parse(&status)? {
                EventStatus::Dead => Ok(FailOutcome::Dead { attempts }),
                _ => Ok(FailOutcome::Retrying { attempts }),
            },
        }
    }

    /// Put a dead event back in the queue, due now, with its attempt count reset.
    pub async fn replay_event(&self, id: i64) -> Result<()> {
        let now = now_ms();
        let n = on_pool!(self, |pool| {
            sqlx::query(
            "UPDATE events SET status = 'queued', attempts = 0, next_attempt_at = $2, updated_at = $2
             WHERE id = $1 AND status = 'dead'"
        )
        .bind(id)
        .bind(now)
        .execute(pool)
        .await?
        .rows_affected()
        });
        expect_one(n, || {
            StoreError::Conflict(format!("event {id} is not dead, so cannot be replayed"))
        })
    }

    /// Dead-lettered events, oldest first.
    pub async fn list_dead_events(&self, limit: u32) -> Result<Vec<Event>> {
        let rows = on_pool!(self, |pool| sqlx::query_as::<_, EventRow>(
            sqlx::AssertSqlSafe(format!(
                "SELECT {EVENT_COLUMNS} FROM events WHERE status = 'dead' ORDER BY id LIMIT $1"
            ))
        )
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await?);
        rows.into_iter().map(EventRow::into_event).collect()
    }

    // ---- effect journal ----

    /// Announce host call `call_seq` of `event_id` before making it. A second begin of the same
    /// call is a no-op returning the existing entry (a `Done` one carries the recorded response
    /// to replay); a begin whose operation or digest differs is refused, because the handler
    /// no longer makes the same calls it made before.
    pub async fn journal_begin(
        &self,
        event_id: i64,
        call_seq: i64,
        operation: &str,
        request_digest: &str,
    ) -> Result<EffectEntry> {
        let now = now_ms();
        on_pool!(self, |pool| {
            sqlx::query(
            "INSERT INTO effect_journal (event_id, call_seq, operation, request_digest, status, response, created_at, updated_at)
             VALUES ($1, $2, $3, $4, 'pending', NULL, $5, $5)
             ON CONFLICT (event_id, call_seq) DO NOTHING"
        )
        .bind(event_id)
        .bind(call_seq)
        .bind(operation)
        .bind(request_digest)
        .bind(now)
        .execute(pool)
        .await?
        .rows_affected()
        });
        let entry = self
            .journal_get(event_id, call_seq)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("effect {event_id}/{call_seq}")))?;
        if entry.operation != operation || entry.request_digest != request_digest {
            return Err(StoreError::Conflict(format!(
                "effect {event_id}/{call_seq} was journaled as {} (digest {}) but is now {operation} (digest {request_digest}); the handler is not deterministic",
                entry.operation, entry.request_digest
            )));
        }
        Ok(entry)
    }

    /// Record the response of a begun call. Recording an already-done call is refused so a
    /// stored response is never overwritten.
    pub async fn journal_record(
        &self,
        event_id: i64,
        call_seq: i64,
        response: &Value,
    ) -> Result<()> {
        let now = now_ms();
        let n = on_pool!(self, |pool| sqlx::query(
            "UPDATE effect_journal SET status = 'done', response = $3, updated_at = $4
             WHERE event_id = $1 AND call_seq = $2 AND status = 'pending'"
        )
        .bind(event_id)
        .bind(call_seq)
        .bind(response.to_string())
        .bind(now)
        .execute(pool)
        .await?
        .rows_affected());
        expect_one(n, || {
            StoreError::Conflict(format!(
                "effect {event_id}/{call_seq} is not pending (never begun, or already recorded)"
            ))
        })
    }

    pub async fn journal_get(&self, event_id: i64, call_seq: i64) -> Result<Option<EffectEntry>> {
        let row = on_pool!(self, |pool| {
            sqlx::query_as::<_, EffectRow>(
            "SELECT event_id, call_seq, operation, request_digest, status, response, created_at, updated_at
             FROM effect_journal WHERE event_id = $1 AND call_seq = $2"
        )
        .bind(event_id)
        .bind(call_seq)
        .fetch_optional(pool)
        .await?
        });
        row.map(EffectRow::into_entry).transpose()
    }
}
