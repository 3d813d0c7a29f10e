//! Fulcrum's client for Lever's Data API v1.
//!
//! - Auth: API key (HTTP Basic) or OAuth bearer token; the secret is only ever in a sensitive
//!   header, never in logs, errors or `Debug` output.
//! - Lists are streams that follow Lever's offset tokens and restart when Lever rejects one.
//! - A local token bucket per credential keeps every client sharing a key under Lever's
//!   10 req/s (burst 20); 429/503 and (for idempotent operations) other transient failures
//!   are retried with jittered exponential backoff.
//! - A non-idempotent write whose outcome is unknown is never resent: it fails with
//!   [`LeverError::Unavailable`] `{ outcome_unknown: true }` for the caller to reconcile.
//! - Errors are typed and say what to do next; a 403 names the missing permission from
//!   [`lever_model::Operation`]'s table.
//!
//! Wire types come from [`lever_model`], re-exported here.

pub use lever_model;

mod config;
mod credential;
mod endpoints;
mod error;
mod multipart;
mod pagination;
mod query;
mod rate_limit;
mod stats;
mod transport;

pub use config::{ClientConfig, MAX_PAGE_SIZE, PRODUCTION_BASE_URL};
pub use credential::Credential;
pub use error::LeverError;
pub use futures::stream::BoxStream;
pub use lever_model::timestamp::Millis;
pub use lever_model::*;
pub use multipart::{Attachments, FileUpload};
pub use pagination::MAX_RESTARTS;
pub use query::{OpportunityQuery, PostingQuery, UserQuery};
pub use rate_limit::RateLimits;
pub use stats::ClientStats;

use std::fmt;
use std::sync::Arc;
use transport::Inner;

/// A Lever Data API client. Cheap to clone: clones share the HTTP connection pool, the rate
/// budget and the counters.
#[derive(Clone)]
pub struct LeverClient {
    inner: Arc<Inner>,
}

impl LeverClient {
    /// A client with its own rate budget (`config.rate_per_second`, `config.burst`).
    pub fn new(config: ClientConfig, credential: Credential) -> Result<Self, LeverError> {
        let limits = RateLimits::new(config.rate_per_second, config.burst);
        Self::with_rate_limits(config, credential, limits)
    }

    /// A client drawing on shared budgets: clients with the same credential and the same
    /// `limits` share one bucket, as they share one budget at Lever. The quota is the one
    /// `limits` was created with; `config.rate_per_second`/`burst` are not used.
    pub fn with_rate_limits(
        config: ClientConfig,
        credential: Credential,
        limits: Arc<RateLimits>,
    ) -> Result<Self, LeverError> {
        Ok(LeverClient {
            inner: Arc::new(Inner::new(config, credential, limits)?),
        })
    }

    /// This client's (and its clones') traffic counters.
    pub fn stats(&self) -> ClientStats {
        self.inner.stats.snapshot()
    }

    /// The credential fingerprint (safe to log).
    pub fn fingerprint(&self) -> &str {
        &self.inner.fingerprint
    }

    pub fn config(&self) -> &ClientConfig {
        &self.inner.config
    }
}

impl fmt::Debug for LeverClient {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("LeverClient")
            .field("base_url", &self.inner.config.base_url.as_str())
            .field("credential", &self.inner.fingerprint)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
