//! Lever's rate limit: a token bucket per credential (10 requests/s, bursts of 20), checked
//! after authentication. Over the limit → 429 `TooManyRequests`, with no `Retry-After`
//! header, as Lever documents none. Switchable at runtime.

use governor::{DefaultKeyedRateLimiter, Quota};
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicBool, Ordering};

pub(crate) struct RateLimit {
    enabled: AtomicBool,
    limiter: DefaultKeyedRateLimiter<String>,
}

impl RateLimit {
    pub fn new(enabled: bool, per_second: u32, burst: u32) -> Self {
        let per_second = NonZeroU32::new(per_second).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(burst).unwrap_or(per_second);
        Self {
            enabled: AtomicBool::new(enabled),
            limiter: DefaultKeyedRateLimiter::keyed(
                Quota::per_second(per_second).allow_burst(burst),
            ),
        }
    }

    pub fn set_enabled(&self, enabled: bool) {
        self.enabled.store(enabled, Ordering::Relaxed);
    }

    pub fn enabled(&self) -> bool {
        self.enabled.load(Ordering::Relaxed)
    }

    /// Take one token from the credential's bucket; `false` means answer 429.
    pub fn allow(&self, credential: &str) -> bool {
        if !self.enabled() {
            return true;
        }
        let key = credential.to_owned();
        let ok = self.limiter.check_key(&key).is_ok();
        // Keep the state store from growing with revoked/forgotten credentials.
        if self.limiter.len() > 10_000 {
            self.limiter.retain_recent();
        }
        ok
    }
}
