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
    local_burst: u32,
}

impl RateLimits {
    /// Budgets matching Lever's bucket of `rate_per_second` steady and `burst` capacity per
    /// credential fingerprint (GCRA, equivalent to a token bucket).
    ///
    /// One cell of the burst is held back as a jitter cushion: Lever's bucket runs on Lever's
    /// clock, and a request that reaches Lever faster than the one before it (e.g. on a warm
    /// connection after a cold one) would otherwise arrive a hair before Lever's refill and
    /// get a 429. The steady rate is exact, so a long sync is not slowed down; the cushion
    /// costs one request's worth of burst. Zero is raised to one: a limiter that never admits
    /// anything would hang every call.
    pub fn new(rate_per_second: u32, burst: u32) -> Arc<Self> {
        let burst = burst.max(1);
        Self::build(rate_per_second, burst, burst.saturating_sub(1).max(1))
    }

    /// Budgets with exactly `burst` capacity and no jitter cushion.
    pub fn exact(rate_per_second: u32, burst: u32) -> Arc<Self> {
        Self::build(rate_per_second, burst, burst)
    }

    fn build(rate_per_second: u32, burst: u32, local_burst: u32) -> Arc<Self> {
        let rate = NonZeroU32::new(rate_per_second).unwrap_or(NonZeroU32::MIN);
        let local_burst = NonZeroU32::new(local_burst).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::per_second(rate).allow_burst(local_burst);
        Arc::new(RateLimits {
            limiter: DefaultKeyedRateLimiter::keyed(quota),
            rate_per_second: rate.get(),
            burst: burst.max(1),
            local_burst: local_burst.get(),
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

    /// The burst this was created for (Lever's).
    pub fn burst(&self) -> u32 {
        self.burst
    }

    /// The burst actually admitted locally (see [`RateLimits::new`]).
    pub fn local_burst(&self) -> u32 {
        self.local_burst
    }
}

impl fmt::Debug for RateLimits {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("RateLimits")
            .field("rate_per_second", &self.rate_per_second)
            .field("burst", &self.burst)
            .field("local_burst", &self.local_burst)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn budgets_are_per_fingerprint() {
        let limits = RateLimits::exact(1, 3);
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
        assert_eq!(RateLimits::exact(0, 0).local_burst(), 1);
    }

    #[test]
    fn new_keeps_one_cell_of_jitter_cushion() {
        let limits = RateLimits::new(10, 20);
        assert_eq!((limits.burst(), limits.local_burst()), (20, 19));
        for _ in 0..19 {
            assert!(limits.try_acquire("a"));
        }
        assert!(!limits.try_acquire("a"));
        assert_eq!(RateLimits::new(10, 1).local_burst(), 1);
    }
}
