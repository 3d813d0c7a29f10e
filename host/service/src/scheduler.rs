//! Schedules: each plugin declares its periodic jobs (name, default period); an installation
//! may change a period or switch a job off. The store keeps one row per tenant × plugin ×
//! schedule with its next due time; any worker may fire a due row, and a compare-and-set on
//! that time makes exactly one of them win. After downtime a schedule fires once and then
//! continues on its grid: no storm of missed runs. A schedule keeps at most one run queued (a
//! slot that comes while one waits folds into it), and a dead run (a missing credential, say)
//! holds back none of the next runs: it stays in the dead letters, and the schedule goes on.

use fulcrum_store::{Fired, NewEvent, now_ms};
use serde_json::Value;
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

use crate::HostInner;
use crate::event_payload::{StoredScheduledRun, kind};

/// Shortest period an override may set.
pub const MIN_PERIOD: Duration = Duration::from_secs(1);

/// An installation's overrides, by schedule name: `{"every_seconds": N}` (N ≥ 1) to change a
/// period, `{"enabled": false}` to switch a schedule off. [`override_problems`] is what the
/// admin API accepts; [`period_of`] reads them.
///
/// The problems with `overrides` for a plugin declaring `declared`, as (JSON pointer, message).
pub(crate) fn override_problems(
    overrides: &Value,
    declared: &[&str],
) -> Vec<(String, &'static str)> {
    let Some(object) = overrides.as_object() else {
        return vec![(
            String::new(),
            "must be an object of overrides by schedule name",
        )];
    };
    let mut problems = Vec::new();
    for (name, value) in object {
        let pointer = format!("/{}", name.replace('~', "~0").replace('/', "~1"));
        if !declared.contains(&name.as_str()) {
            problems.push((pointer, "the plugin declares no such schedule"));
            continue;
        }
        let Some(fields) = value.as_object() else {
            problems.push((
                pointer,
                "must be {\"every_seconds\": N} or {\"enabled\": false}",
            ));
            continue;
        };
        for (field, v) in fields {
            let ok = match field.as_str() {
                "every_seconds" => v.as_u64().is_some_and(|n| n >= 1),
                "enabled" => v.is_boolean(),
                _ => false,
            };
            if !ok {
                problems.push((
                    format!("{pointer}/{field}"),
                    "allowed: \"every_seconds\" (a whole number ≥ 1) and \"enabled\" (true or false)",
                ));
            }
        }
    }
    problems
}

/// The period of schedule `name` under `overrides`; `None` when switched off. Anything it does
/// not understand leaves the declared default.
fn period_of(overrides: &Value, name: &str, default_seconds: u32) -> Option<Duration> {
    let default = Duration::from_secs(u64::from(default_seconds));
    let period = match overrides.get(name) {
        None => default,
        Some(Value::Object(o)) => {
            if o.get("enabled").and_then(Value::as_bool) == Some(false) {
                return None;
            }
            o.get("every_seconds")
                .and_then(Value::as_u64)
                .map_or(default, Duration::from_secs)
        }
        Some(_) => default,
    };
    Some(period.max(MIN_PERIOD))
}

/// Brings the stored schedules of one installation in line with its plugin's manifest, its
/// overrides and whether it is enabled. A newly enabled schedule is due at once.
pub(crate) async fn sync_installation(
    host: &HostInner,
    tenant_id: &str,
    plugin_id: &str,
) -> Result<(), fulcrum_store::StoreError> {
    let installation = host.store.get_installation(tenant_id, plugin_id).await?;
    let plugin = installation
        .as_ref()
        .and_then(|i| host.runtime.active(&i.plugin));
    let mut keep = Vec::new();
    if let (Some(installation), Some(plugin)) = (installation, plugin)
        && installation.enabled
    {
        let now = now_ms();
        for schedule in &plugin.manifest().schedules {
            let Some(period) = period_of(
                &installation.schedule_overrides,
                &schedule.name,
                schedule.every_seconds,
            ) else {
                continue;
            };
            let every_ms = i64::try_from(period.as_millis()).unwrap_or(i64::MAX);
            host.store
                .upsert_schedule(tenant_id, plugin_id, &schedule.name, every_ms, now)
                .await?;
            keep.push(schedule.name.clone());
        }
    }
    host.store
        .delete_schedules_except(tenant_id, plugin_id, &keep)
        .await?;
    Ok(())
}

/// Fires every schedule due at `now` that no other worker fired first; returns how many this
/// call fired (a slot folded into a run still queued counts as fired: it was this call's).
pub(crate) async fn fire_due(
    host: &HostInner,
    now: i64,
) -> Result<usize, fulcrum_store::StoreError> {
    let mut fired = 0;
    loop {
        let due = host.store.due_schedules(now, 100).await?;
        if due.is_empty() {
            return Ok(fired);
        }
        // Each due row is either fired here or was fired by another worker; either way it is
        // no longer due, so this loop ends.
        for schedule in due {
            let event = NewEvent {
                tenant_id: schedule.tenant_id.clone(),
                plugin_id: schedule.plugin_id.clone(),
                kind: kind::SCHEDULE.to_owned(),
                // Runs of one schedule never overlap: the next waits for the previous (unless
                // that one is dead: see `Store::fire_schedule`).
                subject_key: format!("schedule:{}", schedule.name),
                payload: serde_json::to_value(StoredScheduledRun {
                    name: schedule.name.clone(),
                    scheduled_at: schedule.next_fire_at,
                })
                .unwrap_or_default(),
                dedupe_key: Some(format!(
                    "schedule:{}:{}",
                    schedule.name, schedule.next_fire_at
                )),
            };
            match host.store.fire_schedule(&schedule, now, &event).await? {
                None => {}
                Some(Fired::Enqueued(_)) => {
                    fired += 1;
                    tracing::debug!(
                        tenant = %schedule.tenant_id, plugin = %schedule.plugin_id,
                        schedule = %schedule.name, due = schedule.next_fire_at,
                        "schedule fired"
                    );
                    metrics::counter!(crate::metrics_names::SCHEDULE_FIRES_TOTAL,
                        "plugin" => schedule.plugin_id.clone())
                    .increment(1);
                }
                Some(Fired::Coalesced { pending }) => {
                    fired += 1;
                    tracing::debug!(
                        tenant = %schedule.tenant_id, plugin = %schedule.plugin_id,
                        schedule = %schedule.name, due = schedule.next_fire_at, pending,
                        "schedule slot folded into the run still queued"
                    );
                    metrics::counter!(crate::metrics_names::SCHEDULE_RUNS_COALESCED_TOTAL,
                        "plugin" => schedule.plugin_id.clone())
                    .increment(1);
                }
            }
        }
        if fired > 0 {
            host.wake.notify_waiters();
        }
    }
}

pub(crate) async fn scheduler_loop(host: Arc<HostInner>, shutdown: CancellationToken) {
    loop {
        if let Err(e) = fire_due(&host, now_ms()).await {
            tracing::error!(error = %e, "could not fire due schedules; will try again");
        }
        tokio::select! {
            _ = tokio::time::sleep(host.config.scheduler_tick) => {}
            _ = shutdown.cancelled() => return,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn overrides_change_or_switch_off_a_period() {
        let none = json!({});
        assert_eq!(
            period_of(&none, "sync", 900),
            Some(Duration::from_secs(900))
        );
        let o = json!({"sync": {"every_seconds": 60}, "poll": {"enabled": false}, "tick": 5});
        assert_eq!(period_of(&o, "sync", 900), Some(Duration::from_secs(60)));
        assert_eq!(period_of(&o, "poll", 900), None);
        // Not an override the admin API accepts: the declared default stays.
        assert_eq!(period_of(&o, "tick", 900), Some(Duration::from_secs(900)));
        assert_eq!(
            period_of(&json!({"tick": {"every_seconds": 0}}), "tick", 900),
            Some(MIN_PERIOD)
        );
    }

    #[test]
    fn overrides_name_declared_schedules_and_known_fields() {
        let declared = ["tick", "sync"];
        assert!(override_problems(&json!({}), &declared).is_empty());
        assert!(
            override_problems(
                &json!({"tick": {"every_seconds": 60}, "sync": {"enabled": false}}),
                &declared
            )
            .is_empty()
        );
        let problems = override_problems(
            &json!({"nope": {"enabled": false}, "tick": {"every_seconds": 0, "colour": 1}, "sync": 5}),
            &declared,
        );
        let mut pointers: Vec<_> = problems.iter().map(|p| p.0.as_str()).collect();
        pointers.sort();
        assert_eq!(
            pointers,
            ["/nope", "/sync", "/tick/colour", "/tick/every_seconds"]
        );
        assert_eq!(override_problems(&json!([]), &declared).len(), 1);
    }
}
