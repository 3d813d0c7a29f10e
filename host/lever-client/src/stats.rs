//! Counters a client keeps about its own traffic, for metrics and for tests.

use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

/// A snapshot of a client's counters (shared by its clones).
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct ClientStats {
    /// HTTP requests actually sent, retries included.
    pub requests_sent: u64,
    /// Attempts that were followed by another attempt.
    pub retries: u64,
    /// 429 responses seen (retried or not).
    pub rate_limited_responses: u64,
    /// Total time spent waiting on the local rate limiter.
    pub throttle_wait: Duration,
}

#[derive(Debug, Default)]
pub(crate) struct StatsCounters {
    requests_sent: AtomicU64,
    retries: AtomicU64,
    rate_limited_responses: AtomicU64,
    throttle_wait_nanos: AtomicU64,
}

impl StatsCounters {
    pub(crate) fn request_sent(&self) {
        self.requests_sent.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn retried(&self) {
        self.retries.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn rate_limited(&self) {
        self.rate_limited_responses.fetch_add(1, Ordering::Relaxed);
    }

    pub(crate) fn throttled(&self, waited: Duration) {
        let nanos = u64::try_from(waited.as_nanos()).unwrap_or(u64::MAX);
        self.throttle_wait_nanos.fetch_add(nanos, Ordering::Relaxed);
    }

    pub(crate) fn snapshot(&self) -> ClientStats {
        ClientStats {
            requests_sent: self.requests_sent.load(Ordering::Relaxed),
            retries: self.retries.load(Ordering::Relaxed),
            rate_limited_responses: self.rate_limited_responses.load(Ordering::Relaxed),
            throttle_wait: Duration::from_nanos(self.throttle_wait_nanos.load(Ordering::Relaxed)),
        }
    }
}
