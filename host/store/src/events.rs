//! The event queue (at-least-once delivery, per-subject order, dedupe keys, claim leases,
//! retries, dead letters) and the effect journal that makes re-delivered events replay
//! recorded effects instead of repeating them.

use crate::records::expect_one;
use crate::state::{STATE_DELETE, STATE_UPSERT, StateWrite};
use crate::{Result, Store, StoreError, StorePool, now_ms, parse_json};
use serde_json::Value;
use std::time::Duration;

/// Most events one [`Store::list_events`] call returns, whatever the filter asks.
pub const MAX_LIST_EVENTS: u32 = 1000;

/// `last_error` of an event put back in the queue because its claim lease ran out.
const LEASE_EXPIRED: &str = "worker lost: lease expired";
/// `last_error` of an event put back in the queue by [`Store::release_claims`].
const WORKER_RESTARTED: &str = "worker restarted";

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
    /// At most one event per (tenant, plugin, dedupe_key), whatever its status: enqueueing a
    /// key already present inserts nothing (see [`Enqueued::duplicate`]). `None` never dedupes.
    pub dedupe_key: Option<String>,
}

/// What [`Store::enqueue_event`] did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Enqueued {
    /// The new event, or the existing one holding the same dedupe key.
    pub id: i64,
    /// The dedupe key was already taken: nothing was inserted and `id` is the earlier event.
    pub duplicate: bool,
}

/// Which events [`Store::list_events`] returns. `Default` matches every event, 100 at a time.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EventFilter {
    pub tenant_id: Option<String>,
    pub plugin_id: Option<String>,
    pub status: Option<EventStatus>,
    /// Only ids strictly greater (for paging: pass the last id of the previous page).
    pub after_id: Option<i64>,
    /// At most this many (capped at [`MAX_LIST_EVENTS`]).
    pub limit: u32,
}

impl Default for EventFilter {
    fn default() -> Self {
        Self {
            tenant_id: None,
            plugin_id: None,
            status: None,
            after_id: None,
            limit: 100,
        }
    }
}

/// Number of events in each status.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct EventCounts {
    pub queued: i64,
    pub running: i64,
    pub done: i64,
    pub dead: i64,
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
    pub dedupe_key: Option<String>,
    /// While running: the worker's claim is void after this (unix ms) unless extended.
    pub lease_until: Option<i64>,
    /// What a completed admin action answered (its JSON); `None` for other events.
    pub result: Option<Value>,
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
    dedupe_key: Option<String>,
    lease_until: Option<i64>,
    result: Option<String>,
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
            dedupe_key: self.dedupe_key,
            lease_until: self.lease_until,
            result: self
                .result
                .as_deref()
                .map(|text| parse_json("action result", text))
                .transpose()?,
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

/// What [`Store::journal_begin`] found.
#[derive(Debug, Clone, PartialEq)]
pub struct JournalBegin {
    pub entry: EffectEntry,
    /// This call inserted the entry: the effect was never begun before, so make it. `false`
    /// means an earlier attempt began it (replay `entry.response` if it is `Done`).
    pub fresh: bool,
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

macro_rules! event_columns {
    () => {
        "id, tenant_id, plugin_id, kind, subject_key, payload, status, attempts, next_attempt_at, last_error, claimed_by, created_at, updated_at, dedupe_key, lease_until, result"
    };
}

// The oldest due queued event whose subject has no earlier unfinished event. A dead event
// blocks its subject on purpose: later events must not overtake it until it is replayed.
const CLAIM_SQLITE: &str = concat!(
    "UPDATE events SET status = 'running', claimed_by = $1, updated_at = $2, lease_until = $3
     WHERE id = (
         SELECT e.id FROM events e
         WHERE e.status = 'queued' AND e.next_attempt_at <= $2
           AND NOT EXISTS (
               SELECT 1 FROM events p
               WHERE p.tenant_id = e.tenant_id AND p.plugin_id = e.plugin_id
                 AND p.subject_key = e.subject_key AND p.id < e.id AND p.status <> 'done')
           AND (SELECT count(*) FROM events r
                WHERE r.tenant_id = e.tenant_id AND r.plugin_id = e.plugin_id
                  AND r.status = 'running') < $4
         ORDER BY e.next_attempt_at, e.id LIMIT 1)
     RETURNING ",
    event_columns!()
);

// Same query; SKIP LOCKED lets concurrent claimers pass over rows another claimer holds, and
// the outer status check drops a row that was claimed between the sub-select and the update.
const CLAIM_POSTGRES: &str = concat!(
    "UPDATE events SET status = 'running', claimed_by = $1, updated_at = $2, lease_until = $3
     WHERE status = 'queued' AND id = (
         SELECT e.id FROM events e
         WHERE e.status = 'queued' AND e.next_attempt_at <= $2
           AND NOT EXISTS (
               SELECT 1 FROM events p
               WHERE p.tenant_id = e.tenant_id AND p.plugin_id = e.plugin_id
                 AND p.subject_key = e.subject_key AND p.id < e.id AND p.status <> 'done')
           AND (SELECT count(*) FROM events r
                WHERE r.tenant_id = e.tenant_id AND r.plugin_id = e.plugin_id
                  AND r.status = 'running') < $4
         ORDER BY e.next_attempt_at, e.id LIMIT 1
         FOR UPDATE SKIP LOCKED)
     RETURNING ",
    event_columns!()
);

// A key already used by the tenant × plugin makes the insert a no-op returning no row.
pub(crate) const INSERT_EVENT: &str = "INSERT INTO events (tenant_id, plugin_id, kind, subject_key, payload, status, attempts, next_attempt_at, created_at, updated_at, dedupe_key)
     VALUES ($1, $2, $3, $4, $5, 'queued', 0, $6, $6, $6, $7)
     ON CONFLICT (tenant_id, plugin_id, dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING
     RETURNING id";

pub(crate) const EVENT_BY_DEDUPE_KEY: &str =
    "SELECT id FROM events WHERE tenant_id = $1 AND plugin_id = $2 AND dedupe_key = $3";

/// Enqueue `$event` (a `&NewEvent`) through the executor expression `$conn` (a pool, or
/// `&mut *tx` to enqueue inside a transaction); evaluates to `Result<Enqueued>`. Insert with
/// `ON CONFLICT DO NOTHING`, then look the key up: a concurrent enqueue of the same key waits
/// for the other insert's outcome instead of failing, so exactly one of them inserts.
macro_rules! enqueue_on {
    ($conn:expr, $event:expr) => {{
        let event: &$crate::NewEvent = $event;
        let now = $crate::now_ms();
        let mut outcome = None;
        // The lookup misses only if the row holding the key vanished in between (its tenant
        // was deleted); the next insert then succeeds.
        for _ in 0..3 {
            let inserted = sqlx::query_scalar::<_, i64>($crate::events::INSERT_EVENT)
                .bind(&event.tenant_id)
                .bind(&event.plugin_id)
                .bind(&event.kind)
                .bind(&event.subject_key)
                .bind(event.payload.to_string())
                .bind(now)
                .bind(&event.dedupe_key)
                .fetch_optional($conn)
                .await?;
            if let Some(id) = inserted {
                outcome = Some($crate::Enqueued {
                    id,
                    duplicate: false,
                });
                break;
            }
            let existing = sqlx::query_scalar::<_, i64>($crate::events::EVENT_BY_DEDUPE_KEY)
                .bind(&event.tenant_id)
                .bind(&event.plugin_id)
                .bind(&event.dedupe_key)
                .fetch_optional($conn)
                .await?;
            if let Some(id) = existing {
                outcome = Some($crate::Enqueued {
                    id,
                    duplicate: true,
                });
                break;
            }
        }
        outcome.ok_or_else(|| {
            $crate::StoreError::Conflict(format!(
                "event with dedupe key {:?} kept conflicting without being found",
                event.dedupe_key
            ))
        })
    }};
}
pub(crate) use enqueue_on;

/// `lease` as milliseconds after `now`, saturating.
fn lease_deadline(now: i64, lease: Duration) -> i64 {
    now.saturating_add(i64::try_from(lease.as_millis()).unwrap_or(i64::MAX))
}

impl Store {
    /// Queue an event, due now. Ids grow with enqueue order. When `event.dedupe_key` is
    /// already held by an event of the same tenant × plugin (in any status), nothing is
    /// inserted and that event's id comes back with `duplicate: true`; this holds under
    /// concurrent enqueues of the same key too.
    pub async fn enqueue_event(&self, event: &NewEvent) -> Result<Enqueued> {
        on_pool!(self, |pool| enqueue_on!(pool, event))
    }

    pub async fn get_event(&self, id: i64) -> Result<Option<Event>> {
        let row = on_pool!(self, |pool| sqlx::query_as::<_, EventRow>(concat!(
            "SELECT ",
            event_columns!(),
            " FROM events WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(pool)
        .await?);
        row.map(EventRow::into_event).transpose()
    }

    /// Claim the next due event for `worker`, marking it running with a lease of `lease`:
    /// unless extended ([`Store::extend_lease`]) or finished before then,
    /// [`Store::requeue_expired`] hands it to another worker once the lease has run out.
    pub async fn claim_next(&self, worker: &str, lease: Duration) -> Result<Option<Event>> {
        self.claim_next_at(worker, now_ms(), lease).await
    }

    /// [`Store::claim_next`], passing over the events of any tenant × plugin that already has
    /// `per_installation` events running. With several workers this keeps one plugin's
    /// backlog (a full sync, a burst of webhooks) from holding every worker while another
    /// plugin's events wait behind it in the queue.
    pub async fn claim_next_capped(
        &self,
        worker: &str,
        lease: Duration,
        per_installation: u32,
    ) -> Result<Option<Event>> {
        self.claim_at(worker, now_ms(), lease, per_installation.max(1).into())
            .await
    }

    /// [`Store::claim_next`] as if the clock read `now` (unix ms); the lease runs to
    /// `now + lease`.
    pub async fn claim_next_at(
        &self,
        worker: &str,
        now: i64,
        lease: Duration,
    ) -> Result<Option<Event>> {
        self.claim_at(worker, now, lease, i64::MAX).await
    }

    async fn claim_at(
        &self,
        worker: &str,
        now: i64,
        lease: Duration,
        per_installation: i64,
    ) -> Result<Option<Event>> {
        let lease_until = lease_deadline(now, lease);
        let row = match &self.pool {
            StorePool::Sqlite(pool) => {
                // BEGIN IMMEDIATE takes the write lock up front: claimers queue on the busy
                // timeout rather than racing on a read snapshot that a writer invalidates.
                let mut tx = pool.begin_with("BEGIN IMMEDIATE").await?;
                let row = sqlx::query_as::<_, EventRow>(CLAIM_SQLITE)
                    .bind(worker)
                    .bind(now)
                    .bind(lease_until)
                    .bind(per_installation)
                    .fetch_optional(&mut *tx)
                    .await?;
                tx.commit().await?;
                row
            }
            StorePool::Postgres(pool) => {
                sqlx::query_as::<_, EventRow>(CLAIM_POSTGRES)
                    .bind(worker)
                    .bind(now)
                    .bind(lease_until)
                    .bind(per_installation)
                    .fetch_optional(pool)
                    .await?
            }
        };
        row.map(EventRow::into_event).transpose()
    }

    /// Push the lease of a running event claimed by `worker` to `lease` from now. `false` when
    /// the event is no longer running under that worker (finished, or its lease expired and it
    /// was requeued or claimed by someone else): the caller has lost it.
    pub async fn extend_lease(&self, id: i64, worker: &str, lease: Duration) -> Result<bool> {
        let now = now_ms();
        let n = on_pool!(self, |pool| sqlx::query(
            "UPDATE events SET lease_until = $3, updated_at = $4
             WHERE id = $1 AND status = 'running' AND claimed_by = $2"
        )
        .bind(id)
        .bind(worker)
        .bind(lease_deadline(now, lease))
        .bind(now)
        .execute(pool)
        .await?
        .rows_affected());
        Ok(n > 0)
    }

    /// Put running events whose lease ended before `now` back in the queue, due at `now`, as
    /// if their worker had vanished (attempts unchanged, `last_error` says why). Returns how
    /// many. Events claimed without a lease (before leases existed) are left alone; see
    /// [`Store::release_claims`].
    pub async fn requeue_expired(&self, now: i64) -> Result<u64> {
        Ok(on_pool!(self, |pool| sqlx::query(
            "UPDATE events SET status = 'queued', claimed_by = NULL, lease_until = NULL,
                 next_attempt_at = $1, last_error = $2, updated_at = $1
             WHERE status = 'running' AND lease_until < $1"
        )
        .bind(now)
        .bind(LEASE_EXPIRED)
        .execute(pool)
        .await?
        .rows_affected()))
    }

    /// Put every running event claimed by a worker whose name starts with `worker_prefix`
    /// back in the queue, due now (attempts unchanged). A restarted node calls this with its
    /// node id prefix to recover what its previous run held. Returns how many.
    pub async fn release_claims(&self, worker_prefix: &str) -> Result<u64> {
        let now = now_ms();
        // substr/length instead of LIKE: `_` and `%` in worker names are literal.
        Ok(on_pool!(self, |pool| sqlx::query(
            "UPDATE events SET status = 'queued', claimed_by = NULL, lease_until = NULL,
                 next_attempt_at = $2, last_error = $3, updated_at = $2
             WHERE status = 'running' AND substr(claimed_by, 1, length($1)) = $1"
        )
        .bind(worker_prefix)
        .bind(now)
        .bind(WORKER_RESTARTED)
        .execute(pool)
        .await?
        .rows_affected()))
    }

    /// Mark a running event done (releasing later events of its subject).
    pub async fn complete_event(&self, id: i64) -> Result<()> {
        let now = now_ms();
        let n = on_pool!(self, |pool| {
            sqlx::query(COMPLETE_EVENT)
                .bind(id)
                .bind(now)
                .execute(pool)
                .await?
                .rows_affected()
        });
        expect_one(n, || not_running(id, "completed"))
    }

    /// Mark a running event done and apply the plugin state changes its handler staged, in
    /// one transaction: either all of `writes` land and the event is done, or nothing changes
    /// (a `Conflict` when the event is not running, e.g. its lease expired and it was
    /// requeued). Writes apply in order; `value: None` deletes the key.
    pub async fn complete_event_with_state(&self, id: i64, writes: &[StateWrite]) -> Result<()> {
        self.complete_event_with_result(id, writes, None).await
    }

    /// [`Store::complete_event_with_state`], keeping what an admin action answered with the
    /// event (shown by the admin API).
    pub async fn complete_event_with_result(
        &self,
        id: i64,
        writes: &[StateWrite],
        result: Option<&Value>,
    ) -> Result<()> {
        let now = now_ms();
        let result = result.map(Value::to_string);
        in_tx!(self, |tx| {
            // The event first: on PostgreSQL this locks its row, so a concurrent completion of
            // the same event waits and then finds it done instead of applying writes twice.
            let n = sqlx::query(COMPLETE_EVENT_WITH_RESULT)
                .bind(id)
                .bind(now)
                .bind(result.as_deref())
                .execute(&mut *tx)
                .await?
                .rows_affected();
            expect_one(n, || not_running(id, "completed"))?;
            for w in writes {
                match &w.value {
                    Some(value) => {
                        sqlx::query(STATE_UPSERT)
                            .bind(&w.tenant_id)
                            .bind(&w.plugin_id)
                            .bind(&w.key)
                            .bind(value)
                            .bind(now)
                            .execute(&mut *tx)
                            .await?;
                    }
                    None => {
                        sqlx::query(STATE_DELETE)
                            .bind(&w.tenant_id)
                            .bind(&w.plugin_id)
                            .bind(&w.key)
                            .execute(&mut *tx)
                            .await?;
                    }
                }
            }
            tx.commit().await?;
            Ok(())
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
                 next_attempt_at = $3, last_error = $4, claimed_by = NULL, lease_until = NULL,
                 updated_at = $5
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
            None => Err(not_running(id, "failed")),
            Some((status, attempts)) => match EventStatus::parse(&status)? {
                EventStatus::Dead => Ok(FailOutcome::Dead { attempts }),
                _ => Ok(FailOutcome::Retrying { attempts }),
            },
        }
    }

    /// Fail a running event for good (the error is permanent, retrying cannot help): it goes
    /// straight to dead whatever its attempt count. Returns the attempts including this one.
    pub async fn dead_letter_event(&self, id: i64, error: &str) -> Result<i64> {
        let now = now_ms();
        let attempts = on_pool!(self, |pool| sqlx::query_scalar::<_, i64>(
            "UPDATE events SET status = 'dead', attempts = attempts + 1, last_error = $2,
                 claimed_by = NULL, lease_until = NULL, updated_at = $3
             WHERE id = $1 AND status = 'running' RETURNING attempts"
        )
        .bind(id)
        .bind(error)
        .bind(now)
        .fetch_optional(pool)
        .await?);
        attempts.ok_or_else(|| not_running(id, "dead-lettered"))
    }

    /// Put a dead event back in the queue, due now, with its attempt count reset.
    pub async fn replay_event(&self, id: i64) -> Result<()> {
        let now = now_ms();
        // Journaled Lever reads made after the event's last journaled write decided no write
        // that reached the journal: forget them, so the replay sees what the admin fixed in
        // Lever meanwhile (a user, a stage). Earlier reads stay: writes depended on them.
        // Reads are the negative sequence numbers (see `fulcrum_runtime::CallSeq::key`).
        on_pool!(self, |pool| {
            sqlx::query(
                "DELETE FROM effect_journal
             WHERE event_id = $1 AND call_seq < 0
               AND created_at > COALESCE(
                   (SELECT MAX(w.created_at) FROM effect_journal w
                    WHERE w.event_id = $1 AND w.call_seq >= 0), -1)
               AND EXISTS (SELECT 1 FROM events e WHERE e.id = $1 AND e.status = 'dead')",
            )
            .bind(id)
            .execute(pool)
            .await?
            .rows_affected()
        });
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
        let rows = on_pool!(self, |pool| sqlx::query_as::<_, EventRow>(concat!(
            "SELECT ",
            event_columns!(),
            " FROM events WHERE status = 'dead' ORDER BY id LIMIT $1"
        ))
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await?);
        rows.into_iter().map(EventRow::into_event).collect()
    }

    /// Events matching `filter`, by id ascending, at most `filter.limit` (capped at
    /// [`MAX_LIST_EVENTS`]).
    pub async fn list_events(&self, filter: &EventFilter) -> Result<Vec<Event>> {
        let limit = i64::from(filter.limit.min(MAX_LIST_EVENTS));
        let status = filter.status.map(EventStatus::as_str);
        let rows = on_pool!(self, |pool| sqlx::query_as::<_, EventRow>(concat!(
            "SELECT ",
            event_columns!(),
            " FROM events
             WHERE ($1 IS NULL OR tenant_id = $1) AND ($2 IS NULL OR plugin_id = $2)
               AND ($3 IS NULL OR status = $3) AND ($4 IS NULL OR id > $4)
             ORDER BY id LIMIT $5"
        ))
        .bind(&filter.tenant_id)
        .bind(&filter.plugin_id)
        .bind(status)
        .bind(filter.after_id)
        .bind(limit)
        .fetch_all(pool)
        .await?);
        rows.into_iter().map(EventRow::into_event).collect()
    }

    /// How many events are in each status, for one tenant or (`None`) all of them.
    pub async fn count_events(&self, tenant_id: Option<&str>) -> Result<EventCounts> {
        let rows = on_pool!(self, |pool| {
            sqlx::query_as::<_, (String, i64)>(
            "SELECT status, COUNT(*) FROM events WHERE ($1 IS NULL OR tenant_id = $1) GROUP BY status"
        )
        .bind(tenant_id)
        .fetch_all(pool)
        .await?
        });
        let mut counts = EventCounts::default();
        for (status, n) in rows {
            *match EventStatus::parse(&status)? {
                EventStatus::Queued => &mut counts.queued,
                EventStatus::Running => &mut counts.running,
                EventStatus::Done => &mut counts.done,
                EventStatus::Dead => &mut counts.dead,
            } = n;
        }
        Ok(counts)
    }

    // ---- effect journal ----

    /// Announce host call `call_seq` of `event_id` before making it. The first begin inserts a
    /// pending entry (`fresh: true`); a later begin of the same call is a no-op returning the
    /// existing entry with `fresh: false` (a `Done` one carries the recorded response to
    /// replay; a `Pending` one was begun by an attempt that may or may not have made the call).
    /// A begin whose operation or digest differs is refused, because the handler no longer
    /// makes the same calls it made before.
    pub async fn journal_begin(
        &self,
        event_id: i64,
        call_seq: i64,
        operation: &str,
        request_digest: &str,
    ) -> Result<JournalBegin> {
        let now = now_ms();
        let inserted = on_pool!(self, |pool| {
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
        Ok(JournalBegin {
            entry,
            fresh: inserted == 1,
        })
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

const COMPLETE_EVENT_WITH_RESULT: &str =
    "UPDATE events SET status = 'done', lease_until = NULL, updated_at = $2, result = $3
     WHERE id = $1 AND status = 'running'";

const COMPLETE_EVENT: &str =
    "UPDATE events SET status = 'done', lease_until = NULL, updated_at = $2
     WHERE id = $1 AND status = 'running'";

fn not_running(id: i64, what: &str) -> StoreError {
    StoreError::Conflict(format!("event {id} is not running, so cannot be {what}"))
}
