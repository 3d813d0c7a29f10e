//! Schedules: recurring timers of installed plugins. Every worker may poll
//! [`Store::due_schedules`]; [`Store::fire_schedule`] lets exactly one of them fire a due slot,
//! and after downtime a schedule fires once and moves to its next future slot (no catch-up
//! storm). A schedule keeps at most one run queued: a slot that comes while a run is still
//! waiting folds into it, and a dead run does not hold back the next ones.

use crate::events::enqueue_on;
use crate::{Enqueued, NewEvent, Result, Store, StoreError, now_ms};

/// What [`Store::fire_schedule`] did with a due slot it won.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fired {
    /// A run was queued (or, with `duplicate`, the event's dedupe key was already taken).
    Enqueued(Enqueued),
    /// A run of the schedule, event `pending`, was still queued: the slot folds into it and
    /// nothing new is queued.
    Coalesced { pending: i64 },
}

/// One schedule of a tenant's plugin installation.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct Schedule {
    pub tenant_id: String,
    pub plugin_id: String,
    pub name: String,
    /// Period in milliseconds (> 0).
    pub every_ms: i64,
    /// When it is next due (unix ms).
    pub next_fire_at: i64,
    /// When it last fired (the `now` of that [`Store::fire_schedule`]).
    pub last_fired_at: Option<i64>,
}

/// The first slot strictly after `now` on the grid `due + k * every_ms`, `k ≥ 1`: where a
/// schedule due at `due` moves when it fires at `now`. However many periods were missed, the
/// result is in the future, so a schedule fires once after downtime rather than once per
/// missed period. Saturates at `i64::MAX`; an `every_ms` below 1 counts as 1.
///
/// ```
/// use fulcrum_store::next_slot;
/// assert_eq!(next_slot(1_000, 100, 1_000), 1_100); // on time
/// assert_eq!(next_slot(1_000, 100, 1_050), 1_100); // a little late
/// assert_eq!(next_slot(1_000, 100, 2_000), 2_100); // 10 periods missed: next is future
/// ```
pub fn next_slot(due: i64, every_ms: i64, now: i64) -> i64 {
    let every = i128::from(every_ms.max(1));
    let (due, now) = (i128::from(due), i128::from(now));
    let k = if now < due {
        1
    } else {
        (now - due) / every + 1
    };
    i64::try_from(due + k * every).unwrap_or(i64::MAX)
}

const SCHEDULE_COLUMNS: &str = "tenant_id, plugin_id, name, every_ms, next_fire_at, last_fired_at";

impl Store {
    /// Declare a schedule. A missing one is inserted, first due at `first_fire_at`. An
    /// existing one with the same period is left alone (`first_fire_at` is ignored, so
    /// re-declaring on every start does not shift it); with another period it takes the new
    /// period and becomes due at the earlier of its current `next_fire_at` and one new period
    /// after it last fired (or after now, if it never fired).
    pub async fn upsert_schedule(
        &self,
        tenant_id: &str,
        plugin_id: &str,
        name: &str,
        every_ms: i64,
        first_fire_at: i64,
    ) -> Result<Schedule> {
        if every_ms < 1 {
            return Err(StoreError::Invalid(format!(
                "schedule {tenant_id}/{plugin_id}/{name}: period must be at least 1 ms, got {every_ms}"
            )));
        }
        let now = now_ms();
        on_pool!(self, |pool| {
            sqlx::query(
            "INSERT INTO schedules (tenant_id, plugin_id, name, every_ms, next_fire_at, last_fired_at)
             VALUES ($1, $2, $3, $4, $5, NULL)
             ON CONFLICT (tenant_id, plugin_id, name) DO UPDATE SET
                 every_ms = excluded.every_ms,
                 next_fire_at = CASE
                     WHEN COALESCE(schedules.last_fired_at, $6) + excluded.every_ms < schedules.next_fire_at
                     THEN COALESCE(schedules.last_fired_at, $6) + excluded.every_ms
                     ELSE schedules.next_fire_at END
             WHERE schedules.every_ms <> excluded.every_ms"
        )
        .bind(tenant_id)
        .bind(plugin_id)
        .bind(name)
        .bind(every_ms)
        .bind(first_fire_at)
        .bind(now)
        .execute(pool)
        .await?
        .rows_affected()
        });
        self.get_schedule(tenant_id, plugin_id, name)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("schedule {tenant_id}/{plugin_id}/{name}")))
    }

    async fn get_schedule(
        &self,
        tenant_id: &str,
        plugin_id: &str,
        name: &str,
    ) -> Result<Option<Schedule>> {
        Ok(on_pool!(self, |pool| sqlx::query_as::<_, Schedule>(
            sqlx::AssertSqlSafe(format!(
                "SELECT {SCHEDULE_COLUMNS} FROM schedules
                 WHERE tenant_id = $1 AND plugin_id = $2 AND name = $3"
            ))
        )
        .bind(tenant_id)
        .bind(plugin_id)
        .bind(name)
        .fetch_optional(pool)
        .await?))
    }

    /// Delete the plugin's schedules whose name is not in `keep` (those its manifest no longer
    /// declares); an empty `keep` deletes them all (installation disabled or removed). Returns
    /// how many were deleted.
    pub async fn delete_schedules_except(
        &self,
        tenant_id: &str,
        plugin_id: &str,
        keep: &[String],
    ) -> Result<u64> {
        let mut sql = String::from("DELETE FROM schedules WHERE tenant_id = $1 AND plugin_id = $2");
        if !keep.is_empty() {
            let placeholders: Vec<String> = (3..3 + keep.len()).map(|n| format!("${n}")).collect();
            sql.push_str(&format!(" AND name NOT IN ({})", placeholders.join(", ")));
        }
        Ok(on_pool!(self, |pool| {
            let mut query = sqlx::query(sqlx::AssertSqlSafe(sql))
                .bind(tenant_id)
                .bind(plugin_id);
            for name in keep {
                query = query.bind(name);
            }
            query.execute(pool).await?.rows_affected()
        }))
    }

    /// Schedules due at `now` (`next_fire_at <= now`), most overdue first, at most `limit`.
    pub async fn due_schedules(&self, now: i64, limit: u32) -> Result<Vec<Schedule>> {
        Ok(on_pool!(self, |pool| sqlx::query_as::<_, Schedule>(
            sqlx::AssertSqlSafe(format!(
                "SELECT {SCHEDULE_COLUMNS} FROM schedules WHERE next_fire_at <= $1
                 ORDER BY next_fire_at, tenant_id, plugin_id, name LIMIT $2"
            ))
        )
        .bind(now)
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await?))
    }

    /// Fire `schedule` (as read by [`Store::due_schedules`]) at `now`: in one transaction,
    /// move it to [`next_slot`] — only if its `next_fire_at` is still the one read and is due
    /// at `now` — and enqueue `event` as a run of the schedule, unless a run of it is still
    /// queued ([`Fired::Coalesced`]: at most one pending run, so a long outage or a run stuck
    /// behind a slow one never piles up a backlog). A dead run of the schedule holds back
    /// nothing: the next run goes ahead of it (see [`Store::claim_next`]). Returns `None`,
    /// changing nothing, when another worker fired it first (or it was redeclared, or is not
    /// due): of any number of workers firing the same read, exactly one gets `Some`. `event`
    /// must belong to the schedule's tenant and plugin; its `dedupe_key` applies as in
    /// [`Store::enqueue_event`].
    pub async fn fire_schedule(
        &self,
        schedule: &Schedule,
        now: i64,
        event: &NewEvent,
    ) -> Result<Option<Fired>> {
        if event.tenant_id != schedule.tenant_id || event.plugin_id != schedule.plugin_id {
            return Err(StoreError::Invalid(format!(
                "schedule {}/{}/{} cannot enqueue an event for {}/{}",
                schedule.tenant_id,
                schedule.plugin_id,
                schedule.name,
                event.tenant_id,
                event.plugin_id
            )));
        }
        let next = next_slot(schedule.next_fire_at, schedule.every_ms, now);
        in_tx!(self, |tx| {
            // Compare-and-set on the value read: concurrent firers serialize on the row (the
            // SQLite write lock, the PostgreSQL row lock) and all but the first match nothing.
            let n = sqlx::query(
                "UPDATE schedules SET next_fire_at = $1, last_fired_at = $2
                 WHERE tenant_id = $3 AND plugin_id = $4 AND name = $5
                   AND next_fire_at = $6 AND next_fire_at <= $2",
            )
            .bind(next)
            .bind(now)
            .bind(&schedule.tenant_id)
            .bind(&schedule.plugin_id)
            .bind(&schedule.name)
            .bind(schedule.next_fire_at)
            .execute(&mut *tx)
            .await?
            .rows_affected();
            if n != 1 {
                tx.rollback().await?;
                return Ok(None);
            }
            // Under the schedule's row lock (SQLite: the write lock), so two firings of one
            // schedule cannot both find no pending run.
            let pending = sqlx::query_scalar::<_, i64>(
                "SELECT id FROM events
                 WHERE tenant_id = $1 AND plugin_id = $2 AND schedule_name = $3
                   AND status = 'queued'
                 ORDER BY id LIMIT 1",
            )
            .bind(&schedule.tenant_id)
            .bind(&schedule.plugin_id)
            .bind(&schedule.name)
            .fetch_optional(&mut *tx)
            .await?;
            let fired = match pending {
                Some(pending) => Fired::Coalesced { pending },
                None => {
                    Fired::Enqueued(enqueue_on!(&mut *tx, event, Some(schedule.name.as_str()))?)
                }
            };
            tx.commit().await?;
            Ok(Some(fired))
        })
    }

    /// A tenant's schedules, by plugin then name.
    pub async fn list_schedules(&self, tenant_id: &str) -> Result<Vec<Schedule>> {
        Ok(on_pool!(self, |pool| sqlx::query_as::<_, Schedule>(
            sqlx::AssertSqlSafe(format!(
                "SELECT {SCHEDULE_COLUMNS} FROM schedules WHERE tenant_id = $1
                 ORDER BY plugin_id, name"
            ))
        )
        .bind(tenant_id)
        .fetch_all(pool)
        .await?))
    }
}

#[cfg(test)]
mod tests {
    use super::next_slot;

    #[test]
    fn next_slot_on_time_is_one_period_later() {
        assert_eq!(next_slot(1_000, 100, 1_000), 1_100);
    }

    #[test]
    fn next_slot_is_strictly_after_now_on_the_grid() {
        assert_eq!(next_slot(1_000, 100, 1_099), 1_100);
        // Exactly on a later grid point: that point is not "after now".
        assert_eq!(next_slot(1_000, 100, 1_100), 1_200);
        assert_eq!(next_slot(1_000, 100, 1_101), 1_200);
    }

    #[test]
    fn next_slot_after_many_missed_periods_skips_to_the_future_once() {
        let due = 1_000;
        let now = due + 10 * 100 + 37;
        let next = next_slot(due, 100, now);
        assert_eq!(next, due + 11 * 100);
        assert!(next > now && next - now <= 100);
        assert_eq!((next - due) % 100, 0);
    }

    #[test]
    fn next_slot_fired_early_still_advances_one_period() {
        assert_eq!(next_slot(1_000, 100, 500), 1_100);
    }

    #[test]
    fn next_slot_saturates_and_tolerates_a_bad_period() {
        assert_eq!(next_slot(i64::MAX - 10, 100, i64::MAX - 5), i64::MAX);
        assert_eq!(next_slot(0, 0, 5), 6);
        assert_eq!(next_slot(0, -3, 5), 6);
        assert_eq!(next_slot(i64::MIN, i64::MAX, i64::MAX), i64::MAX);
    }
}
