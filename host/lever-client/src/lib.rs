//! Fulcrum's client for Lever's Data API v1.
//!
//! - Auth: API key (HTTP Basic), a static OAuth bearer token, or an OAuth connection
//!   ([`Credential::OAuth`]) whose [`AccessTokenSource`] is asked per attempt and refreshed
//!   once on a 401; the secret is only ever in a sensitive header, never in logs, errors or
//!   `Debug` output. [`oauth`] has the authorization-code flow (PKCE) and refresh.
//! - Lists are streams that follow Lever's offset tokens and restart when Lever rejects one.
//! - A local token bucket per credential keeps every client sharing a key under Lever's
//!   10 req/s (burst 20), shared fairly between lanes ([`LeverClient::for_lane`]) so that one
//!   plugin's full sync cannot starve another's webhook handling; 429/503 and (for idempotent
//!   operations) other transient failures are retried with jittered exponential backoff.
//! - Metrics go to the [`metrics`](https://docs.rs/metrics) facade; names in [`metrics_names`].
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
pub mod metrics_names;
mod multipart;
pub mod oauth;
mod pagination;
mod query;
mod rate_limit;
mod stats;
mod token_source;
mod transport;

pub use config::{ClientConfig, MAX_PAGE_SIZE, PRODUCTION_BASE_URL};
pub use credential::Credential;
pub use endpoints::ProbeAnswer;
pub use error::LeverError;
pub use futures::future::BoxFuture;
pub use futures::stream::BoxStream;
pub use lever_model::timestamp::Millis;
pub use lever_model::*;
pub use multipart::{Attachments, FileUpload};
pub use pagination::MAX_RESTARTS;
pub use query::{OpportunityQuery, PostingQuery, RequisitionQuery, UserQuery};
pub use rate_limit::{DEFAULT_LANE, RateLimits};
pub use stats::ClientStats;
pub use token_source::AccessTokenSource;

use std::fmt;
use std::sync::Arc;
use transport::Inner;

/// A Lever Data API client. Cheap to clone: clones share the HTTP connection pool, the rate
/// budget, the lane and the counters. [`LeverClient::for_lane`] derives a client in another
/// lane of the same budget.
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

    /// The same client (connection pool, credential, configuration, `Arc<RateLimits>`) in
    /// lane `lane`. Lanes of one credential share its rate budget: while requests are queued
    /// for it, each lane with queued requests gets the next permit in turn, so a lane with many
    /// requests waiting cannot starve one with few. The host uses the plugin id as the lane.
    ///
    /// The new client has its own [`stats`](Self::stats) counters, starting at zero (shared
    /// with its clones, not with `self`); the `lane` label of the [`metrics_names`] metrics
    /// aggregates all clients of a lane.
    pub fn for_lane(&self, lane: impl Into<String>) -> LeverClient {
        LeverClient {
            inner: Arc::new(self.inner.for_lane(lane.into())),
        }
    }

    /// This client's lane: [`DEFAULT_LANE`] (`"default"`) unless made by
    /// [`for_lane`](Self::for_lane).
    pub fn lane(&self) -> &str {
        &self.inner.lane
    }

    /// This client's (and its clones') traffic counters. Clients made with
    /// [`for_lane`](Self::for_lane) count separately.
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
            .field("lane", &&*self.inner.lane)
            .finish_non_exhaustive()
    }
}

#[cfg(test)]
mod tests;
