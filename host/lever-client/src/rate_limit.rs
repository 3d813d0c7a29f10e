//! Local rate budgets, one per credential, so that Fulcrum stays under Lever's token bucket
//! (10 req/s, bursts of 20, per API key) instead of discovering it through 429s. Lever's
//! budget belongs to the key, not to a client object, so every client built with the same
//! key and the same `Arc<RateLimits>` draws from one bucket.

use governor::{DefaultKeyedRateLimiter, Quota};
use std::fmt;
use std::num::NonZeroU32;
use std::sync::Arc;

pub struct RateLimits {
    limiter: DefaultKeyedRateLimiter<String>,
    rate_per_second: u32,
    burst: u32,
}

impl RateLimits {
    /// GCRA (equivalent to a token bucket) with `rate_per_second` steady and `burst` capacity
    /// per credential fingerprint. Zero is raised to one: a limiter that never admits anything
    /// would hang every call.
    pub fn new(rate_per_second: u32, burst: u32) -> Arc<Self> {
        let rate = NonZeroU32::new(rate_per_second).unwrap_or(NonZeroU32::MIN);
        let burst_nz = NonZeroU32::new(burst).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::per_second(rate).allow_burst(burst_nz);
        Arc::new(RateLimits {
            limiter: DefaultKeyedRateLimiter::keyed(quota),
            rate_per_second: rate.get(),
            burst: burst_nz.get(),
        })
    }

    /// Waits until the credential with this fingerprint may send one request.
    pub async fn until_ready(&self, fingerprint: &str) {
        // The key type is String; allocating one per request is negligible next to HTTP.
        let key = fingerprint.to_owned();
        self.limiter.until_key_ready(&key).await;
    }

    /// Takes one request's worth of budget if available right now, without waiting.
    pub fn try_acquire(&self, fingerprint: &str) -> bool {
        self.limiter.check_key(&fingerprint.to_owned()).is_ok()
    }

    pub fn rate_per_second(&self) -> u32 {
        self.rate_per_second
    }

    pub fn burst(&self) -> u32 {
        self.burst
    }
}

impl fmt::Debug for RateLimits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimits")
            .field("rate_per_second", &self.rate_per_second)
            .field("burst", &self.burst)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_are_per_fingerprint() {
        let limits = RateLimits::new(1, 3);
        for _ in 0..3 {
            assert!(limits.try_acquire("a"));
        }
        assert!(!limits.try_acquire("a"), "burst exhausted");
        assert!(limits.try_acquire("b"), "another key has its own bucket");
    }

    #[test]
    fn zero_is_raised_to_one() {
        let limits = RateLimits::new(0, 0);
        assert_eq!((limits.rate_per_second(), limits.burst()), (1, 1));
        assert!(limits.try_acquire("a"));
    }
}
