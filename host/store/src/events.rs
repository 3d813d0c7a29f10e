//! The event queue (at-least-once delivery, per-subject order, dedupe keys, claim leases,
//! retries, dead letters) and the effect journal that makes re-delivered events replay
//! recorded effects instead of repeating them.

use crate::records::expect_one;
use crate::{Result, Store, StoreError, now_ms, parse_json};
use serde_json::Value;

pub use blocking::BlockedLane;
pub use claim::Claim;

/// Most events one [`Store::list_events`] call returns, whatever the filter asks.
pub const MAX_LIST_EVENTS: u32 = 1000;

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
    /// Tries made: counted when the event is claimed (1 while its first try runs and after
    /// it), including a try whose worker was lost; a replay starts again from 0.
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
    /// How many times the event was claimed (never reset): the latest claim's number, which
    /// every transition must name (see [`Event::claim`]).
    pub claims: i64,
    /// The schedule that fired this event (see [`Store::fire_schedule`]); `None` for others.
    pub schedule_name: Option<String>,
    /// For a dead event holding its subject: how many later events of that subject are queued
    /// behind it, waiting for it to be replayed (0 for every other event).
    pub waiting_behind: i64,
    /// Queued but held back while its installation's Lever connection needs reconnecting
    /// (see [`Store::pause_event`]).
    pub paused: bool,
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
    claims: i64,
    schedule_name: Option<String>,
    paused: bool,
    // Only selected by the listing queries ([`WAITING_BEHIND`]); claims return running events.
    #[sqlx(default)]
    waiting_behind: i64,
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
            claims: self.claims,
            schedule_name: self.schedule_name,
            waiting_behind: self.waiting_behind,
            paused: self.paused,
        })
    }
}

/// What `fail_event` did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FailOutcome {
    /// Queued again for `retry_at`; `attempts` tries so far.
    Retrying { attempts: i64 },
    /// Tries exhausted: parked until someone replays it.
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
    #[sqlx(flatten)]
    sealed: crate::journal_sealing::SealedColumns,
}

impl EffectRow {
    fn into_entry(self, keys: &crate::Keyring) -> Result<EffectEntry> {
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
            response: crate::journal_sealing::open_response(
                keys,
                self.event_id,
                self.call_seq,
                self.response.as_deref(),
                &self.sealed,
            )?,
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
        "id, tenant_id, plugin_id, kind, subject_key, payload, status, attempts, next_attempt_at, last_error, claimed_by, created_at, updated_at, dedupe_key, lease_until, result, claims, schedule_name, paused"
    };
}

// For a dead event (of `events e`) that holds its subject, the later events of the subject
// waiting behind it; 0 for every other event. A dead schedule run holds nothing (see `claim`).
macro_rules! waiting_behind {
    () => {
        "CASE WHEN e.status = 'dead' AND e.schedule_name IS NULL THEN (
             SELECT COUNT(*) FROM events w
             WHERE w.tenant_id = e.tenant_id AND w.plugin_id = e.plugin_id
               AND w.subject_key = e.subject_key AND w.id > e.id AND w.status = 'queued')
         ELSE 0 END AS waiting_behind"
    };
}

/// The statement that inserts an event, per backend. A key already used by the tenant ×
/// plugin makes it a no-op returning no row.
pub(crate) trait InsertEvent {
    const INSERT_EVENT: &'static str;
}

impl InsertEvent for sqlx::Sqlite {
    // One writer at a time: ids are in commit order.
    const INSERT_EVENT: &'static str = "INSERT INTO events (tenant_id, plugin_id, kind, subject_key, payload, status, attempts, next_attempt_at, created_at, updated_at, dedupe_key, schedule_name)
     VALUES ($1, $2, $3, $4, $5, 'queued', 0, $6, $6, $6, $7, $8)
     ON CONFLICT (tenant_id, plugin_id, dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING
     RETURNING id";
}

impl InsertEvent for sqlx::Postgres {
    // Concurrent transactions take ids in one order and may commit in another, and a claimer
    // that saw a later id of a subject committed but not an earlier one would run them out of
    // order. So the insert first takes its subject's advisory lock (namespace 4608339, 'FQS';
    // a hash collision only serializes two subjects' enqueues), held to commit: an enqueue of
    // the subject takes its id only after the previous one committed. The lock is taken in a
    // materialized CTE, evaluated before the row (and its id) is formed.
    const INSERT_EVENT: &'static str = "WITH subject_lock AS MATERIALIZED (
         SELECT pg_advisory_xact_lock(4608339, hashtext($1 || '/' || $2 || '/' || $4)))
     INSERT INTO events (tenant_id, plugin_id, kind, subject_key, payload, status, attempts, next_attempt_at, created_at, updated_at, dedupe_key, schedule_name)
     SELECT $1, $2, $3, $4, $5, 'queued', 0, $6, $6, $6, $7, $8 FROM subject_lock
     ON CONFLICT (tenant_id, plugin_id, dedupe_key) WHERE dedupe_key IS NOT NULL DO NOTHING
     RETURNING id";
}

/// The insert statement for the backend `_executor` runs on.
pub(crate) fn insert_event_sql<'e, E>(_executor: &E) -> &'static str
where
    E: sqlx::Executor<'e>,
    E::Database: InsertEvent,
{
    <E::Database as InsertEvent>::INSERT_EVENT
}

pub(crate) const EVENT_BY_DEDUPE_KEY: &str =
    "SELECT id FROM events WHERE tenant_id = $1 AND plugin_id = $2 AND dedupe_key = $3";

/// Enqueue `$event` (a `&NewEvent`) through the executor expression `$conn` (a pool, or
/// `&mut *tx` to enqueue inside a transaction); evaluates to `Result<Enqueued>`. Insert with
/// `ON CONFLICT DO NOTHING`, then look the key up: a concurrent enqueue of the same key waits
/// for the other insert's outcome instead of failing, so exactly one of them inserts.
macro_rules! enqueue_on {
    ($conn:expr, $event:expr) => {
        $crate::events::enqueue_on!($conn, $event, None::<&str>)
    };
    // `$schedule`: the schedule firing it (`Option<&str>`), kept in `schedule_name`.
    ($conn:expr, $event:expr, $schedule:expr) => {{
        let event: &$crate::NewEvent = $event;
        let schedule_name: Option<&str> = $schedule;
        let now = $crate::now_ms();
        let mut outcome = None;
        // The lookup misses only if the row holding the key vanished in between (its tenant
        // was deleted); the next insert then succeeds.
        for _ in 0..3 {
            let sql = $crate::events::insert_event_sql(&$conn);
            let inserted = sqlx::query_scalar::<_, i64>(sql)
                .bind(&event.tenant_id)
                .bind(&event.plugin_id)
                .bind(&event.kind)
                .bind(&event.subject_key)
                .bind(event.payload.to_string())
                .bind(now)
                .bind(&event.dedupe_key)
                .bind(schedule_name)
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

// After the macros above, which they use.
mod blocking;
mod claim;
mod pause;

impl Store {
    /// Queue an event, due now. Ids grow with enqueue order; within one subject they follow
    /// commit order on both backends (what per-subject order relies on, even with concurrent
    /// enqueues of a subject on PostgreSQL). When `event.dedupe_key` is
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
            ", ",
            waiting_behind!(),
            " FROM events e WHERE id = $1"
        ))
        .bind(id)
        .fetch_optional(pool)
        .await?);
        row.map(EventRow::into_event).transpose()
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
            ", ",
            waiting_behind!(),
            " FROM events e WHERE status = 'dead' ORDER BY id LIMIT $1"
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
            ", ",
            waiting_behind!(),
            " FROM events e
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
        // Sealed at rest: journaled Lever answers are candidate data.
        let sealed =
            crate::journal_sealing::seal_response(self.key(), event_id, call_seq, response)?;
        let n = on_pool!(self, |pool| sqlx::query(
            "UPDATE effect_journal SET status = 'done', response = NULL,
                 response_ciphertext = $3, response_nonce = $5, response_key_version = $6,
                 updated_at = $4
             WHERE event_id = $1 AND call_seq = $2 AND status = 'pending'"
        )
        .bind(event_id)
        .bind(call_seq)
        .bind(&sealed.ciphertext)
        .bind(now)
        .bind(&sealed.nonce)
        .bind(sealed.key_version)
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
            "SELECT event_id, call_seq, operation, request_digest, status, response, created_at, updated_at,
                 response_ciphertext, response_nonce, response_key_version
             FROM effect_journal WHERE event_id = $1 AND call_seq = $2"
        )
        .bind(event_id)
        .bind(call_seq)
        .fetch_optional(pool)
        .await?
        });
        row.map(|row| row.into_entry(self.key())).transpose()
    }
}
