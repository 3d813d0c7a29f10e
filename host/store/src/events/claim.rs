//! Claiming events and every transition of a claimed one. A claim is fenced: each claim of an
//! event gets the next number of its `claims` counter (never reset), and finishing, failing,
//! dead-lettering or extending names that [`Claim`]. A worker whose lease ran out, and whose
//! event went back to the queue and to another worker, is refused ([`StoreError::ClaimLost`])
//! and its staged state never lands.

use super::EventRow;
use crate::state::{STATE_DELETE, STATE_UPSERT, StateWrite};
use crate::{Result, Store, StoreError, StorePool, now_ms};
use serde_json::Value;
use std::time::Duration;

use super::{Event, EventStatus, FailOutcome};

/// `last_error` of an event put back in the queue because its claim lease ran out.
const LEASE_EXPIRED: &str = "worker lost: lease expired";
/// `last_error` of an event put back in the queue by [`Store::release_claims`].
const WORKER_RESTARTED: &str = "worker restarted";

/// How often a capped claim on PostgreSQL tries another candidate when the one it picked had
/// its installation fill up meanwhile, before reporting nothing to claim (the worker polls
/// again soon).
const CAPPED_CLAIM_TRIES: usize = 3;

/// A worker's hold on one running event, from [`Event::claim`] on what `claim_next*` returned.
/// Every transition of the event takes it, so only the latest claim can change the event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Claim {
    pub event_id: i64,
    /// Which claim of the event this is (1 for the first); never reused, not even by a replay.
    pub seq: i64,
}

impl Event {
    /// The claim this event was returned under (meaningful on what `claim_next*` returned).
    pub fn claim(&self) -> Claim {
        Claim {
            event_id: self.id,
            seq: self.claims,
        }
    }
}

// Whether `e` may be claimed now: queued and due, no earlier unfinished event of its subject,
// and fewer than the cap running in its tenant × plugin. A dead earlier event holds the
// subject on purpose (later events must not overtake it until it is replayed), except a dead
// schedule run: the schedule's next run supersedes it. Parameters: $1 now, $2 the cap.
macro_rules! claimable {
    () => {
        "e.status = 'queued' AND e.next_attempt_at <= $1
           AND NOT EXISTS (
               SELECT 1 FROM events p
               WHERE p.tenant_id = e.tenant_id AND p.plugin_id = e.plugin_id
                 AND p.subject_key = e.subject_key AND p.id < e.id AND p.status <> 'done'
                 AND (p.status <> 'dead' OR p.schedule_name IS NULL))
           AND (SELECT count(*) FROM events r
                WHERE r.tenant_id = e.tenant_id AND r.plugin_id = e.plugin_id
                  AND r.status = 'running') < $2"
    };
}

// A claim is a try: `attempts` counts them, `claims` numbers them for fencing. A paused event
// claimed at its recheck time is no longer paused (its worker pauses it again if need be).
// Parameters: $1 now, $3 the worker, $4 the lease's end.
macro_rules! claim_set {
    () => {
        "status = 'running', claimed_by = $3, updated_at = $1, lease_until = $4,
         attempts = attempts + 1, claims = claims + 1, paused = FALSE"
    };
}

// The oldest due claimable event. SQLite runs it under BEGIN IMMEDIATE: one claimer at a time.
const CLAIM_SQLITE: &str = concat!(
    "UPDATE events SET ",
    claim_set!(),
    " WHERE id = (SELECT e.id FROM events e WHERE ",
    claimable!(),
    " ORDER BY e.next_attempt_at, e.id LIMIT 1) RETURNING ",
    event_columns!()
);

// Same query; SKIP LOCKED lets concurrent claimers pass over rows another claimer holds, and
// the outer status check drops a row that was claimed between the sub-select and the update.
// Per-subject order holds because an enqueue takes its subject's lock (see `INSERT_EVENT`), so
// ids of one subject are in commit order. Used when there is no cap to keep.
const CLAIM_POSTGRES: &str = concat!(
    "UPDATE events SET ",
    claim_set!(),
    " WHERE status = 'queued' AND id = (SELECT e.id FROM events e WHERE ",
    claimable!(),
    " ORDER BY e.next_attempt_at, e.id LIMIT 1 FOR UPDATE SKIP LOCKED) RETURNING ",
    event_columns!()
);

// A capped claim on PostgreSQL, step 1: pick a candidate (row-locked) and take its
// installation's lane lock (advisory namespace 4608332, 'FQL'), held to commit. Two claimers
// counting the same installation's running events in one statement would each see the other's
// claim missing and together exceed the cap; under the lane lock they take turns.
const CAPPED_CANDIDATE_POSTGRES: &str = concat!(
    "SELECT c.id, pg_advisory_xact_lock(4608332, hashtext(c.tenant_id || '/' || c.plugin_id))
     FROM (SELECT e.id, e.tenant_id, e.plugin_id FROM events e WHERE ",
    claimable!(),
    " ORDER BY e.next_attempt_at, e.id LIMIT 1 FOR UPDATE SKIP LOCKED) c"
);

// Step 2, a new statement and so a snapshot taken after the lock: the installation's running
// count now includes every claim committed before ours. $5 is the candidate.
const CAPPED_CLAIM_POSTGRES: &str = concat!(
    "UPDATE events AS e SET ",
    claim_set!(),
    " WHERE e.id = $5 AND ",
    claimable!(),
    " RETURNING ",
    event_columns!()
);

const COMPLETE_EVENT: &str =
    "UPDATE events SET status = 'done', lease_until = NULL, updated_at = $3
     WHERE id = $1 AND claims = $2 AND status = 'running'";

const COMPLETE_EVENT_WITH_RESULT: &str =
    "UPDATE events SET status = 'done', lease_until = NULL, updated_at = $3, result = $4
     WHERE id = $1 AND claims = $2 AND status = 'running'";

/// `lease` as milliseconds after `now`, saturating.
fn lease_deadline(now: i64, lease: Duration) -> i64 {
    now.saturating_add(i64::try_from(lease.as_millis()).unwrap_or(i64::MAX))
}

pub(super) fn claim_lost(claim: Claim, action: &'static str) -> StoreError {
    StoreError::ClaimLost {
        event_id: claim.event_id,
        action,
    }
}

fn expect_held(n: u64, claim: Claim, action: &'static str) -> Result<()> {
    if n == 1 {
        Ok(())
    } else {
        Err(claim_lost(claim, action))
    }
}

impl Store {
    /// Claim the next due event for `worker`, marking it running with a lease of `lease` and
    /// counting a try (`attempts`). Unless extended ([`Store::extend_lease`]) or finished
    /// before then, [`Store::requeue_expired`] hands it to another worker once the lease has
    /// run out. Finish it with the returned event's [`Event::claim`].
    pub async fn claim_next(&self, worker: &str, lease: Duration) -> Result<Option<Event>> {
        self.claim_next_at(worker, now_ms(), lease).await
    }

    /// [`Store::claim_next`], passing over the events of any tenant × plugin that already has
    /// `per_installation` events running. With several workers this keeps one plugin's
    /// backlog (a full sync, a burst of webhooks) from holding every worker while another
    /// plugin's events wait behind it in the queue. The cap holds under concurrent claims on
    /// both backends.
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
                    .bind(now)
                    .bind(per_installation)
                    .bind(worker)
                    .bind(lease_until)
                    .fetch_optional(&mut *tx)
                    .await?;
                tx.commit().await?;
                row
            }
            StorePool::Postgres(pool) if per_installation == i64::MAX => {
                sqlx::query_as::<_, EventRow>(CLAIM_POSTGRES)
                    .bind(now)
                    .bind(per_installation)
                    .bind(worker)
                    .bind(lease_until)
                    .fetch_optional(pool)
                    .await?
            }
            StorePool::Postgres(pool) => {
                let mut claimed = None;
                for _ in 0..CAPPED_CLAIM_TRIES {
                    let mut tx = pool.begin().await?;
                    let candidate = sqlx::query_scalar::<_, i64>(CAPPED_CANDIDATE_POSTGRES)
                        .bind(now)
                        .bind(per_installation)
                        .fetch_optional(&mut *tx)
                        .await?;
                    let Some(id) = candidate else {
                        tx.commit().await?;
                        break;
                    };
                    claimed = sqlx::query_as::<_, EventRow>(CAPPED_CLAIM_POSTGRES)
                        .bind(now)
                        .bind(per_installation)
                        .bind(worker)
                        .bind(lease_until)
                        .bind(id)
                        .fetch_optional(&mut *tx)
                        .await?;
                    tx.commit().await?;
                    if claimed.is_some() {
                        break;
                    }
                }
                claimed
            }
        };
        row.map(EventRow::into_event).transpose()
    }

    /// Push the lease of the event `claim` holds to `lease` from now. `false` when the claim
    /// no longer holds it (finished, or its lease expired and it was requeued or claimed
    /// again): the caller has lost it and should stop.
    pub async fn extend_lease(&self, claim: Claim, lease: Duration) -> Result<bool> {
        let now = now_ms();
        let n = on_pool!(self, |pool| sqlx::query(
            "UPDATE events SET lease_until = $3, updated_at = $4
             WHERE id = $1 AND claims = $2 AND status = 'running'"
        )
        .bind(claim.event_id)
        .bind(claim.seq)
        .bind(lease_deadline(now, lease))
        .bind(now)
        .execute(pool)
        .await?
        .rows_affected());
        Ok(n > 0)
    }

    /// Put running events whose lease ended before `now` back in the queue, due at `now`, as
    /// if their worker had vanished (the lost try stays counted in `attempts`, `last_error`
    /// says why). Returns how many. Events claimed without a lease (before leases existed) are
    /// left alone; see [`Store::release_claims`].
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

    /// Put back in the queue, due now, the running events claimed by a worker whose name
    /// starts with `worker_prefix` whose lease has run out (or that were claimed before leases
    /// existed). A node calls this on start with its node id: a claim still within its lease
    /// may belong to a live process given the same id, so it is left to that process (or to
    /// the reaper, once its heartbeats stop). Returns how many.
    pub async fn release_claims(&self, worker_prefix: &str) -> Result<u64> {
        let now = now_ms();
        // substr/length instead of LIKE: `_` and `%` in worker names are literal.
        Ok(on_pool!(self, |pool| sqlx::query(
            "UPDATE events SET status = 'queued', claimed_by = NULL, lease_until = NULL,
                 next_attempt_at = $2, last_error = $3, updated_at = $2
             WHERE status = 'running' AND substr(claimed_by, 1, length($1)) = $1
               AND (lease_until IS NULL OR lease_until < $2)"
        )
        .bind(worker_prefix)
        .bind(now)
        .bind(WORKER_RESTARTED)
        .execute(pool)
        .await?
        .rows_affected()))
    }

    /// Mark the event `claim` holds done (releasing later events of its subject).
    pub async fn complete_event(&self, claim: Claim) -> Result<()> {
        let now = now_ms();
        let n = on_pool!(self, |pool| {
            sqlx::query(COMPLETE_EVENT)
                .bind(claim.event_id)
                .bind(claim.seq)
                .bind(now)
                .execute(pool)
                .await?
                .rows_affected()
        });
        expect_held(n, claim, "completed")
    }

    /// Mark the event `claim` holds done and apply the plugin state changes its handler
    /// staged, in one transaction: either all of `writes` land and the event is done, or
    /// nothing changes (a [`StoreError::ClaimLost`] when the claim no longer holds the event,
    /// e.g. its lease expired and another worker claimed it). Writes apply in order;
    /// `value: None` deletes the key.
    pub async fn complete_event_with_state(
        &self,
        claim: Claim,
        writes: &[StateWrite],
    ) -> Result<()> {
        self.complete_event_with_result(claim, writes, None).await
    }

    /// [`Store::complete_event_with_state`], keeping what an admin action answered with the
    /// event (shown by the admin API).
    pub async fn complete_event_with_result(
        &self,
        claim: Claim,
        writes: &[StateWrite],
        result: Option<&Value>,
    ) -> Result<()> {
        let now = now_ms();
        let result = result.map(Value::to_string);
        in_tx!(self, |tx| {
            // The event first: on PostgreSQL this locks its row, so a concurrent completion of
            // the same event waits and then finds it done instead of applying writes twice.
            let n = sqlx::query(COMPLETE_EVENT_WITH_RESULT)
                .bind(claim.event_id)
                .bind(claim.seq)
                .bind(now)
                .bind(result.as_deref())
                .execute(&mut *tx)
                .await?
                .rows_affected();
            expect_held(n, claim, "completed")?;
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

    /// Record that the try `claim` holds failed: queue the event again for `retry_at` (unix
    /// ms), or dead-letter it once it has been tried `max_attempts` times.
    pub async fn fail_event(
        &self,
        claim: Claim,
        retry_at: i64,
        error: &str,
    ) -> Result<FailOutcome> {
        let now = now_ms();
        let max = self.max_attempts;
        let row = on_pool!(self, |pool| sqlx::query_as::<_, (String, i64)>(
            "UPDATE events SET
                 status = CASE WHEN attempts >= $3 THEN 'dead' ELSE 'queued' END,
                 next_attempt_at = $4, last_error = $5, claimed_by = NULL, lease_until = NULL,
                 updated_at = $6
             WHERE id = $1 AND claims = $2 AND status = 'running' RETURNING status, attempts"
        )
        .bind(claim.event_id)
        .bind(claim.seq)
        .bind(max)
        .bind(retry_at)
        .bind(error)
        .bind(now)
        .fetch_optional(pool)
        .await?);
        match row {
            None => Err(claim_lost(claim, "failed")),
            Some((status, attempts)) => match EventStatus::parse(&status)? {
                EventStatus::Dead => Ok(FailOutcome::Dead { attempts }),
                _ => Ok(FailOutcome::Retrying { attempts }),
            },
        }
    }

    /// Fail the event `claim` holds for good (the error is permanent, retrying cannot help):
    /// it goes straight to dead whatever its attempt count. Returns the tries made.
    pub async fn dead_letter_event(&self, claim: Claim, error: &str) -> Result<i64> {
        let now = now_ms();
        let attempts = on_pool!(self, |pool| sqlx::query_scalar::<_, i64>(
            "UPDATE events SET status = 'dead', last_error = $3,
                 claimed_by = NULL, lease_until = NULL, updated_at = $4
             WHERE id = $1 AND claims = $2 AND status = 'running' RETURNING attempts"
        )
        .bind(claim.event_id)
        .bind(claim.seq)
        .bind(error)
        .bind(now)
        .fetch_optional(pool)
        .await?);
        attempts.ok_or_else(|| claim_lost(claim, "dead-lettered"))
    }
}
