//! The event pipeline's workers: claim the next due event (per-subject order is the store's
//! claim rule), run its plugin with staged state, the event's effect journal and a fresh audit
//! trail, then commit the outcome: done (with the state writes, in one transaction), queued
//! again with backoff for transient failures, or dead-lettered for permanent ones and after
//! the last attempt. Events are claimed under a lease (renewed while they run, see
//! `workers`), so a crashed worker's event is picked up again; the journal makes that re-run
//! answer its Lever writes instead of repeating them. Every outcome is recorded under the
//! event's claim: a worker that lost its claim cannot record one.

use fulcrum_runtime::{CallOutput, InvocationError, PluginError};
use fulcrum_store::{Event, FailOutcome, StoreError, now_ms};
use rand::Rng;
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;
use tracing::Instrument as _;

use crate::HostInner;
use crate::audit_trail::InvocationAudit;
use crate::effect_journal::SqlJournal;
use crate::event_payload::{call_for_event, event_ref, kind};
use crate::metrics_names as m;
use crate::staged_state::StagedState;
use crate::tenancy::{Handles, TenancyError};

/// Longest wait a plugin's `retry_after` (a `rate-limited` error) may impose before the next
/// attempt: a plugin (or the vendor it relays) asking for days would park the event and,
/// through per-subject order, every later event of its subject.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(3600);

/// Backoff between attempts of a failed event.
#[derive(Debug, Clone)]
pub struct RetryPolicy {
    /// Delay after the first failure; doubles with each further one.
    pub base: Duration,
    pub max: Duration,
}

impl Default for RetryPolicy {
    fn default() -> Self {
        RetryPolicy {
            base: Duration::from_secs(2),
            max: Duration::from_secs(600),
        }
    }
}

impl RetryPolicy {
    /// Exponential with ±25% jitter, capped, and never sooner than a `retry_after` the plugin
    /// gave, itself capped at [`MAX_RETRY_AFTER`].
    pub fn delay(&self, failures: i64, retry_after: Option<Duration>) -> Duration {
        let exp = u32::try_from(failures.saturating_sub(1).clamp(0, 20)).unwrap_or(20);
        let raw = self
            .base
            .saturating_mul(2u32.saturating_pow(exp))
            .min(self.max);
        let jitter = rand::rng().random_range(0.75..1.25);
        let asked = retry_after.unwrap_or_default().min(MAX_RETRY_AFTER);
        raw.mul_f64(jitter).max(asked)
    }
}

/// How one attempt of an event ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    Done,
    Retrying {
        attempts: i64,
        error: String,
    },
    Dead {
        attempts: i64,
        error: String,
    },
    /// The installation's Lever connection needs reconnecting: the event went back to the
    /// queue without counting the try, and runs again once an admin reconnects.
    Paused {
        error: String,
    },
}

impl Outcome {
    pub fn label(&self) -> &'static str {
        match self {
            Outcome::Done => "done",
            Outcome::Retrying { .. } => "retrying",
            Outcome::Dead { .. } => "dead",
            Outcome::Paused { .. } => "paused",
        }
    }
}

/// What to do with a failed attempt.
enum Failure {
    /// Worth retrying (Lever or the vendor down, rate limited, a trap that may not recur).
    Transient {
        error: String,
        retry_after: Option<Duration>,
    },
    /// Retrying cannot help (bad input, missing permission, non-deterministic handler).
    Permanent { error: String },
    /// Only an admin reconnecting Lever helps; the try does not count.
    Paused { error: String },
    /// The worker lost its claim while the plugin ran (see `workers::run_claimed`): the
    /// invocation was stopped and nothing is recorded; the event's new claimant runs it.
    ClaimLost,
}

fn classify_plugin_error(e: &PluginError) -> Failure {
    let error = format!("plugin returned {}", fulcrum_runtime::describe_error(e));
    match e {
        PluginError::RateLimited(ms) => Failure::Transient {
            error,
            retry_after: ms.map(Duration::from_millis),
        },
        PluginError::Unavailable(_) | PluginError::VendorError(_) => Failure::Transient {
            error,
            retry_after: None,
        },
        PluginError::Forbidden(_)
        | PluginError::NotFound(_)
        | PluginError::Invalid(_)
        | PluginError::LimitExceeded(_) => Failure::Permanent { error },
    }
}

fn classify_invocation_error(e: &InvocationError) -> Failure {
    // Traps, limits and timeouts are retried: a timeout may be a slow vendor, and a trap that
    // recurs ends in the dead letter queue with its message after the last attempt.
    Failure::Transient {
        error: e.to_string(),
        retry_after: None,
    }
}

/// Runs one claimed event to an outcome and records it under the event's claim. `lost` is
/// cancelled when the claim is known to be lost: the plugin's invocation stops there.
pub(crate) async fn process(
    host: &HostInner,
    event: Event,
    lost: &CancellationToken,
) -> Result<Outcome, StoreError> {
    let started = Instant::now();
    // Everything logged while handling the event (the runtime's invocation logs included)
    // carries the tenant, plugin and event ids. `instrument`, not `enter`: a guard held across
    // awaits would leak the span into other tasks polled on this thread.
    let span = tracing::info_span!(
        "event",
        tenant = %event.tenant_id,
        plugin = %event.plugin_id,
        event_id = event.id,
        kind = %event.kind,
        // The claim counted this try.
        attempt = event.attempts,
    );
    process_in_span(host, event, started, lost)
        .instrument(span)
        .await
}

async fn process_in_span(
    host: &HostInner,
    event: Event,
    started: Instant,
    lost: &CancellationToken,
) -> Result<Outcome, StoreError> {
    let store = &host.store;
    let claim = event.claim();
    let failure = match run(host, &event, lost).await {
        Ok((writes, result)) => {
            store
                .complete_event_with_result(claim, &writes, result.as_ref())
                .await?;
            None
        }
        // Whatever the plugin made of it, a failure while the connection is lost is the
        // connection's: pause instead of burning a try or dead-lettering.
        Err(failure @ (Failure::Transient { .. } | Failure::Permanent { .. })) => {
            match host
                .tenancy
                .reconnect_needed(&event.tenant_id, &event.plugin_id)
                .await
            {
                Some(detail) => Some(Failure::Paused {
                    error: paused_text(&detail),
                }),
                None => Some(failure),
            }
        }
        Err(failure) => Some(failure),
    };
    let outcome = match failure {
        None => Outcome::Done,
        Some(Failure::ClaimLost) => {
            return Err(StoreError::ClaimLost {
                event_id: event.id,
                action: "finished",
            });
        }
        Some(Failure::Permanent { error }) => {
            let attempts = store.dead_letter_event(claim, &error).await?;
            Outcome::Dead { attempts, error }
        }
        Some(Failure::Paused { error }) => {
            let recheck_at = now_ms().saturating_add(PAUSE_RECHECK_MS);
            store.pause_event(claim, recheck_at, &error).await?;
            Outcome::Paused { error }
        }
        Some(Failure::Transient { error, retry_after }) => {
            let delay = host.config.retry.delay(event.attempts, retry_after);
            let retry_at =
                now_ms().saturating_add(i64::try_from(delay.as_millis()).unwrap_or(i64::MAX));
            match store.fail_event(claim, retry_at, &error).await? {
                FailOutcome::Retrying { attempts } => Outcome::Retrying { attempts, error },
                FailOutcome::Dead { attempts } => Outcome::Dead { attempts, error },
            }
        }
    };
    if matches!(outcome, Outcome::Done | Outcome::Dead { .. })
        && let Err(error) = crate::installations::finish_after_hook(store, &event).await
    {
        // The installation stays marked; removing it again finishes the job.
        tracing::error!(%error, "could not remove the installation after its removing hook");
    }
    match &outcome {
        Outcome::Done => tracing::debug!("event handled"),
        Outcome::Retrying { attempts, error } => {
            tracing::warn!(attempts, %error, "event failed; will retry")
        }
        Outcome::Paused { error } => {
            tracing::warn!(%error, "event paused until Lever is reconnected")
        }
        Outcome::Dead { attempts, error } => tracing::error!(
            attempts, %error,
            "event dead-lettered; fix the cause, then replay it from the admin API"
        ),
    }
    metrics::counter!(m::EVENTS_TOTAL,
        "tenant" => event.tenant_id.clone(),
        "plugin" => event.plugin_id.clone(),
        "outcome" => outcome.label())
    .increment(1);
    metrics::histogram!(m::EVENT_SECONDS, "plugin" => event.plugin_id.clone())
        .record(started.elapsed().as_secs_f64());
    Ok(outcome)
}

/// One attempt: returns the staged state writes to commit on success.
/// The staged state writes of a successful attempt, and an admin action's answer.
type Completion = (Vec<fulcrum_store::StateWrite>, Option<Value>);

async fn run(
    host: &HostInner,
    event: &Event,
    lost: &CancellationToken,
) -> Result<Completion, Failure> {
    let call = call_for_event(&host.store, event).await.map_err(|e| {
        let error = e.to_string();
        if e.is_transient() {
            Failure::Transient {
                error,
                retry_after: None,
            }
        } else {
            Failure::Permanent { error }
        }
    })?;
    let state = Arc::new(StagedState::new(host.store.clone()));
    let audit = Arc::new(InvocationAudit::for_event(Some(event.id)));
    let journal = Arc::new(SqlJournal::new(host.store.clone(), event.id));
    let lifecycle = event.kind == kind::LIFECYCLE;
    let handles = |lever: bool| Handles {
        state: state.clone(),
        audit: audit.clone(),
        journal: Some(journal.clone()),
        event_id: Some(event_ref(event.id)),
        lever,
        even_disabled: lifecycle,
    };
    let tenancy = &host.tenancy;
    let (tenant, installation) = (&event.tenant_id, &event.plugin_id);
    let prepared = match tenancy
        .prepare(&host.runtime, tenant, installation, handles(true))
        .await
    {
        // A hook may come before Lever is connected (an admin setting the installation up):
        // it runs without Lever rather than waiting for a connection that may never come.
        Err(TenancyError::NoCredential(_)) if lifecycle => tenancy
            .prepare(&host.runtime, tenant, installation, handles(false))
            .await
            .map_err(tenancy_failure)?,
        prepared => prepared.map_err(tenancy_failure)?,
    };
    let call_kind = call.kind().as_str();
    let invoked = Instant::now();
    // Only the invocation stops on a lost claim: recording an outcome is never cut short (it is
    // refused by the store instead).
    let result = tokio::select! {
        result = host.runtime.invoke(&prepared.plugin, prepared.ctx, call) => Some(result),
        _ = lost.cancelled() => None,
    };
    metrics::histogram!(m::INVOCATION_SECONDS,
        "plugin" => event.plugin_id.clone(), "call" => call_kind)
    .record(invoked.elapsed().as_secs_f64());
    // Also for a stopped invocation: the calls it made are audited.
    let entries = audit.take();
    if !entries.is_empty()
        && let Err(e) = host.store.audit_append_many(&entries).await
    {
        tracing::warn!(error = %e, lost = entries.len(), "could not write the audit trail of an invocation");
    }
    let Some(result) = result else {
        return Err(Failure::ClaimLost);
    };
    match result {
        Ok(CallOutput::Handled(Ok(()))) => Ok((state.writes(), None)),
        // Kept for the admin API; an answer that is not JSON is kept as a JSON string.
        Ok(CallOutput::ActionResult(Ok(text))) => {
            let result = serde_json::from_str(&text).unwrap_or(Value::String(text));
            Ok((state.writes(), Some(result)))
        }
        Ok(CallOutput::Handled(Err(e))) | Ok(CallOutput::ActionResult(Err(e))) => {
            Err(classify_plugin_error(&e))
        }
        Ok(other) => Err(Failure::Permanent {
            error: format!("the plugin answered an event with {other:?} (host bug)"),
        }),
        Err(e) => {
            // The runtime reports limits as errors and keeps no metrics of its own.
            if let Some(limit) = limit_hit(&e) {
                metrics::counter!(m::LIMIT_KILLS_TOTAL,
                    "plugin" => event.plugin_id.clone(), "limit" => limit)
                .increment(1);
            }
            Err(classify_invocation_error(&e))
        }
    }
}

/// The `limit` label of an invocation stopped by one of the runtime's limits.
pub(crate) fn limit_hit(e: &InvocationError) -> Option<&'static str> {
    Some(match e {
        InvocationError::CpuBudgetExceeded { .. } => "cpu",
        InvocationError::MemoryLimitExceeded { .. } => "memory",
        InvocationError::WallClockTimeout { .. } => "wall_clock",
        InvocationError::TableLimitExceeded { .. } => "table",
        InvocationError::StackOverflow => "stack",
        InvocationError::ResultTooLarge { .. }
        | InvocationError::Panicked { .. }
        | InvocationError::Trapped { .. }
        | InvocationError::Instantiation { .. }
        | InvocationError::WrongPlugin { .. } => return None,
    })
}

/// A paused event is looked at again this long after, in case a reconnect's resume was
/// missed (it is resumed at once on reconnect).
const PAUSE_RECHECK_MS: i64 = 3_600_000;

fn paused_text(detail: &str) -> String {
    format!(
        "paused: the installation's Lever connection needs reconnecting ({detail}); a tenant \
         super admin must connect Lever again, then the event runs without losing a try"
    )
}

fn tenancy_failure(e: TenancyError) -> Failure {
    if let TenancyError::ReconnectNeeded { detail, .. } = &e {
        return Failure::Paused {
            error: paused_text(detail),
        };
    }
    // Not installed, disabled, no credential, plugin not loaded: an admin or operator has to
    // act, and they may: retry with backoff, so fixing it in time lets the event through;
    // otherwise it ends in the dead letter queue with this message.
    Failure::Transient {
        error: e.to_string(),
        retry_after: None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn backoff_grows_caps_and_honours_retry_after() {
        let policy = RetryPolicy {
            base: Duration::from_secs(1),
            max: Duration::from_secs(60),
        };
        let first = policy.delay(1, None);
        assert!(first >= Duration::from_millis(750) && first <= Duration::from_millis(1250));
        let fourth = policy.delay(4, None);
        assert!(fourth >= Duration::from_secs(6) && fourth <= Duration::from_secs(10));
        assert!(policy.delay(40, None) <= Duration::from_secs(75));
        assert!(policy.delay(1, Some(Duration::from_secs(30))) >= Duration::from_secs(30));
    }

    #[test]
    fn a_plugins_retry_after_is_capped() {
        let policy = RetryPolicy::default();
        for asked in [
            Duration::from_secs(7 * 86_400),
            Duration::from_millis(u64::MAX),
        ] {
            let delay = policy.delay(1, Some(asked));
            assert_eq!(delay, MAX_RETRY_AFTER, "for {asked:?}");
        }
    }

    #[test]
    fn plugin_errors_split_into_transient_and_permanent() {
        assert!(matches!(
            classify_plugin_error(&PluginError::RateLimited(Some(1500))),
            Failure::Transient { retry_after: Some(d), .. } if d == Duration::from_millis(1500)
        ));
        assert!(matches!(
            classify_plugin_error(&PluginError::Unavailable("down".into())),
            Failure::Transient { .. }
        ));
        for permanent in [
            PluginError::Invalid("bad".into()),
            PluginError::Forbidden("create opportunity".into()),
            PluginError::NotFound("x".into()),
        ] {
            assert!(matches!(
                classify_plugin_error(&permanent),
                Failure::Permanent { .. }
            ));
        }
    }
}
