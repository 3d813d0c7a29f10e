//! Fault injection for `/v1`: scripted faults for deterministic tests, random rates for soak
//! runs. Applied by the gate after authentication, before the request touches any data, so a
//! faulted request never changes state; except *after-apply* faults, which let the request be
//! handled and then replace its answer with an error: the change is made, the caller never
//! learns it (a lost answer, what a client's reconciliation is for).
//!
//! JSON form (admin API `PUT /_sandbox/faults`):
//! `{"rate_500": 0.1, "slow_rate": 0.2, "slow_ms": 300, "rate_after_apply": 0.05,
//!   "fail_next": [{"status": 503}, "drop", {"slow_ms": 50}, {"after_apply": 500}]}`.

use crate::error::ApiError;
use http::StatusCode;
use parking_lot::Mutex;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use tokio::sync::Notify;

#[derive(Clone, Debug, Default, Serialize, Deserialize, PartialEq)]
#[serde(default)]
pub struct FaultConfig {
    /// Probabilities (0..=1) per request of answering with this status instead of handling it.
    pub rate_429: f64,
    pub rate_500: f64,
    pub rate_503: f64,
    /// Probability of waiting `slow_ms` before handling the request.
    pub slow_rate: f64,
    pub slow_ms: u64,
    /// Probability of closing the TCP connection without any response, before handling.
    pub drop_rate: f64,
    /// Probability, per *write*, of handling it and then answering 500 instead of its answer.
    pub rate_after_apply: f64,
    /// Applied to the next authenticated `/v1` requests in order, one each, then removed.
    pub fail_next: Vec<ScriptedFault>,
}

impl FaultConfig {
    /// Rates must be probabilities and scripted statuses must be errors.
    pub fn validate(&self) -> Result<(), String> {
        for (name, rate) in [
            ("rate_429", self.rate_429),
            ("rate_500", self.rate_500),
            ("rate_503", self.rate_503),
            ("slow_rate", self.slow_rate),
            ("drop_rate", self.drop_rate),
            ("rate_after_apply", self.rate_after_apply),
        ] {
            if !(0.0..=1.0).contains(&rate) {
                return Err(format!("{name} must be between 0 and 1, got {rate}"));
            }
        }
        for f in &self.fail_next {
            if let ScriptedFault::Status(s) | ScriptedFault::AfterApply(s) = f
                && !(400..=599).contains(s)
            {
                return Err(format!(
                    "scripted status {s} is not an HTTP error status (400-599)"
                ));
            }
        }
        Ok(())
    }

    pub fn is_active(&self) -> bool {
        !self.fail_next.is_empty()
            || self.rate_429 > 0.0
            || self.rate_500 > 0.0
            || self.rate_503 > 0.0
            || self.slow_rate > 0.0
            || self.drop_rate > 0.0
            || self.rate_after_apply > 0.0
    }
}

/// One deterministic fault. Serde: `{"status": 503}`, `"drop"`, `{"slow_ms": 250}`,
/// `{"after_apply": 500}`.
#[derive(Clone, Debug, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "snake_case")]
pub enum ScriptedFault {
    /// Answer with this status and a Lever error body.
    Status(u16),
    /// Close the connection without a response.
    Drop,
    /// Wait this long, then handle the request normally.
    SlowMs(u64),
    /// Handle the request, then answer with this status instead (if it succeeded).
    AfterApply(u16),
}

/// What to do with one request.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Plan {
    Status {
        delay_ms: u64,
        status: u16,
    },
    Drop,
    Continue {
        delay_ms: u64,
    },
    /// Handle the request; a successful answer is replaced by this status.
    AfterApply {
        status: u16,
    },
}

pub(crate) struct FaultInjector {
    config: Mutex<FaultConfig>,
    rng: Mutex<ChaCha8Rng>,
}

impl FaultInjector {
    pub fn new() -> Self {
        Self {
            config: Mutex::new(FaultConfig::default()),
            rng: Mutex::new(ChaCha8Rng::from_rng(&mut rand::rng())),
        }
    }

    /// Replace the configuration; out-of-range rates are clamped (the admin API validates first).
    pub fn set(&self, mut c: FaultConfig) {
        for r in [
            &mut c.rate_429,
            &mut c.rate_500,
            &mut c.rate_503,
            &mut c.slow_rate,
            &mut c.drop_rate,
            &mut c.rate_after_apply,
        ] {
            *r = if r.is_nan() { 0.0 } else { r.clamp(0.0, 1.0) };
        }
        *self.config.lock() = c;
    }

    pub fn get(&self) -> FaultConfig {
        self.config.lock().clone()
    }

    /// Decide the fate of one request: the next scripted fault if any, else the random rates
    /// (`rate_after_apply` only for writes).
    pub fn plan(&self, is_write: bool) -> Option<Plan> {
        let mut c = self.config.lock();
        if !c.fail_next.is_empty() {
            return Some(match c.fail_next.remove(0) {
                ScriptedFault::Status(status) => Plan::Status {
                    delay_ms: 0,
                    status,
                },
                ScriptedFault::Drop => Plan::Drop,
                ScriptedFault::SlowMs(ms) => Plan::Continue { delay_ms: ms },
                ScriptedFault::AfterApply(status) => Plan::AfterApply { status },
            });
        }
        if !c.is_active() {
            return None;
        }
        let mut rng = self.rng.lock();
        let mut roll = |p: f64| p > 0.0 && rng.random_bool(p.min(1.0));
        if roll(c.drop_rate) {
            return Some(Plan::Drop);
        }
        let delay_ms = if roll(c.slow_rate) { c.slow_ms } else { 0 };
        for (rate, status) in [(c.rate_429, 429), (c.rate_500, 500), (c.rate_503, 503)] {
            if roll(rate) {
                return Some(Plan::Status { delay_ms, status });
            }
        }
        if delay_ms == 0 && is_write && roll(c.rate_after_apply) {
            return Some(Plan::AfterApply { status: 500 });
        }
        (delay_ms > 0).then_some(Plan::Continue { delay_ms })
    }
}

/// The error body of an injected status.
pub(crate) fn injected_error(status: u16) -> ApiError {
    let status = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    let message = match status.as_u16() {
        429 => "Too many requests (injected by the Lever sandbox)".to_owned(),
        503 => "Lever is temporarily unavailable (injected by the Lever sandbox)".to_owned(),
        s => format!("Injected failure {s} (injected by the Lever sandbox)"),
    };
    ApiError::for_status(status, message)
}

/// Per-connection kill switch: the accept loop puts one into every request's extensions;
/// a drop fault fires it and the connection task drops the connection without answering.
#[derive(Clone, Debug, Default)]
pub struct ConnKill(pub Arc<Notify>);

impl ConnKill {
    pub fn fire(&self) {
        // notify_one stores a permit, so the connection task sees it even if not yet waiting.
        self.0.notify_one();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn scripted_faults_come_first_and_in_order() {
        let f = FaultInjector::new();
        assert_eq!(f.plan(true), None);
        f.set(FaultConfig {
            fail_next: vec![
                ScriptedFault::Status(503),
                ScriptedFault::Drop,
                ScriptedFault::SlowMs(5),
            ],
            ..Default::default()
        });
        assert_eq!(
            f.plan(true),
            Some(Plan::Status {
                delay_ms: 0,
                status: 503
            })
        );
        assert_eq!(f.plan(true), Some(Plan::Drop));
        assert_eq!(f.plan(true), Some(Plan::Continue { delay_ms: 5 }));
        assert_eq!(f.plan(true), None);
        assert!(f.get().fail_next.is_empty());
    }

    #[test]
    fn certain_rates_always_fire_and_serde_shape_is_documented() {
        let f = FaultInjector::new();
        f.set(FaultConfig {
            rate_500: 1.0,
            ..Default::default()
        });
        assert_eq!(
            f.plan(true),
            Some(Plan::Status {
                delay_ms: 0,
                status: 500
            })
        );
        let c: FaultConfig = serde_json::from_str(
            r#"{"rate_503":0.5,"fail_next":[{"status":503},"drop",{"slow_ms":10}]}"#,
        )
        .unwrap();
        assert_eq!(
            c.fail_next,
            vec![
                ScriptedFault::Status(503),
                ScriptedFault::Drop,
                ScriptedFault::SlowMs(10)
            ]
        );
        assert!(c.validate().is_ok());
        assert!(
            FaultConfig {
                rate_500: 2.0,
                ..Default::default()
            }
            .validate()
            .is_err()
        );
        assert!(
            FaultConfig {
                fail_next: vec![ScriptedFault::Status(200)],
                ..Default::default()
            }
            .validate()
            .is_err()
        );
    }

    #[test]
    fn after_apply_faults_are_scripted_or_rolled_for_writes_only() {
        let f = FaultInjector::new();
        f.set(FaultConfig {
            fail_next: vec![ScriptedFault::AfterApply(502)],
            ..Default::default()
        });
        // Scripted: the next request, whatever it is.
        assert_eq!(f.plan(false), Some(Plan::AfterApply { status: 502 }));
        f.set(FaultConfig {
            rate_after_apply: 1.0,
            ..Default::default()
        });
        assert_eq!(f.plan(false), None, "reads are never answered after-apply");
        assert_eq!(f.plan(true), Some(Plan::AfterApply { status: 500 }));
        let c: FaultConfig =
            serde_json::from_str(r#"{"rate_after_apply":0.1,"fail_next":[{"after_apply":500}]}"#)
                .unwrap();
        assert_eq!(c.fail_next, vec![ScriptedFault::AfterApply(500)]);
        assert!(c.validate().is_ok() && c.is_active());
        assert!(
            FaultConfig {
                fail_next: vec![ScriptedFault::AfterApply(204)],
                ..Default::default()
            }
            .validate()
            .is_err()
        );
    }
}
