//! A local Lever: a real HTTP server faithful to Lever's Data API v1 (`/v1`), with
//! deterministic seed data, API keys and bearer tokens with Lever's permission words,
//! `perform_as`, signed offset tokens, rate limiting, webhooks and fault injection, Lever's
//! OAuth server (`/authorize`, `/oauth/token`, Authorized Apps), plus an unauthenticated
//! control API under `/_sandbox`. Vendors test plugins against it without a
//! Lever account; Fulcrum's demo and tests run against it.
//!
//! ```no_run
//! # async fn demo() -> Result<(), lever_sandbox::SandboxError> {
//! use lever_sandbox::{Sandbox, SandboxConfig};
//! let sandbox = Sandbox::start(SandboxConfig::default(), "127.0.0.1:0".parse().unwrap()).await?;
//! println!("{} (key {})", sandbox.api_url(), sandbox.demo_api_key());
//! sandbox.shutdown().await;
//! # Ok(()) }
//! ```

mod auth;
mod config;
pub mod consent_client;
mod db;
mod error;
mod faults;
pub mod hiring_store;
mod oauth;
mod pagination;
mod query;
mod rate_limit;
pub mod requisition_store;
mod routes;
pub mod seed;
mod server;
mod state;
mod stats;
mod webhooks;

pub use auth::CredentialKind;
pub use config::{KeySpec, PermissionSet, SandboxConfig, SeedSpec};
pub use db::{ContactRecord, Db, DeletedOpportunity, canonical_email};
pub use error::{ApiError, SandboxError};
pub use faults::{FaultConfig, ScriptedFault};
pub use oauth::{
    AUTHORIZATION_LIFETIME, AuthorizedApp, DEFAULT_ACCESS_TOKEN_TTL, MAX_ACCESS_TOKEN_TTL,
    OAuthApp, OAuthAppError,
};
pub use stats::Stats;
pub use webhooks::{DeliveryRecord, MAX_RECORDS as MAX_DELIVERY_RECORDS, MAX_RETRIES};

use auth::Credentials;
use faults::FaultInjector;
use lever_model::{Webhook, WebhookEventType};
use oauth::OAuthStore;
use pagination::OffsetTokens;
use parking_lot::Mutex;
use rate_limit::RateLimit;
use state::AppState;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;
use webhooks::Webhooks;

/// Handle to a running sandbox. Dropping it (or `shutdown().await`) stops the server.
pub struct Sandbox {
    state: Arc<AppState>,
    addr: SocketAddr,
    cancel: CancellationToken,
    server: Option<JoinHandle<()>>,
}

impl Sandbox {
    /// Bind `addr` (port 0 picks a free port), seed the data and start serving.
    pub async fn start(config: SandboxConfig, addr: SocketAddr) -> Result<Sandbox, SandboxError> {
        let listener = tokio::net::TcpListener::bind(addr)
            .await
            .map_err(|source| SandboxError::Bind { addr, source })?;
        let local = listener.local_addr()?;
        let url = format!("http://{}", reachable(local));
        let base = config
            .public_url
            .clone()
            .map(|u| u.trim_end_matches('/').to_owned())
            .unwrap_or_else(|| url.clone());
        if url::Url::parse(&base).is_err() {
            return Err(SandboxError::Config(format!(
                "public_url {base:?} is not a URL"
            )));
        }
        let spec = config.seed.clone();
        // Large seeds take a moment of CPU; keep it off the async workers.
        let db = tokio::task::spawn_blocking(move || seed::generate(&spec, &base))
            .await
            .map_err(|e| SandboxError::Seed(e.to_string()))?;
        let default_user = db
            .users()
            .find(|u| u.access_role == "super admin" && u.is_active())
            .map(|u| u.id.clone())
            .ok_or_else(|| SandboxError::Seed("the seed has no active super admin".into()))?;
        let credentials = Credentials::default();
        let demo_spec =
            KeySpec::all("demo (every permission, confidential access)").with_confidential(true);
        let demo_key = match config.demo_api_key.clone() {
            Some(key) if key.trim().is_empty() => {
                return Err(SandboxError::Config(
                    "the demo API key must not be empty".into(),
                ));
            }
            Some(key) => credentials.register_api_key(key, demo_spec),
            None => credentials.issue_api_key(demo_spec),
        };
        check_access_token_ttl(config.access_token_ttl)?;
        let oauth = OAuthStore::new(config.access_token_ttl);
        for app in config.oauth_apps.iter().cloned() {
            oauth
                .register(app)
                .map_err(|e| SandboxError::Config(format!("OAuth app: {e}")))?;
        }
        let cancel = CancellationToken::new();
        let state = Arc::new(AppState {
            db: Mutex::new(db),
            credentials,
            rate_limit: RateLimit::new(config.rate_limit, config.rate_per_second, config.burst),
            faults: FaultInjector::new(),
            stats: Mutex::new(Stats::default()),
            tokens: OffsetTokens::new(),
            webhooks: Webhooks::start(
                config.webhook_retry_base,
                config.webhook_timeout,
                cancel.clone(),
            ),
            oauth,
            url,
            demo_key,
            default_user,
        });
        let app = server::app(state.clone());
        let server = tokio::spawn(server::serve(listener, app, cancel.clone()));
        tracing::info!("Lever sandbox listening on {}", state.url);
        Ok(Sandbox {
            state,
            addr: local,
            cancel,
            server: Some(server),
        })
    }

    pub fn addr(&self) -> SocketAddr {
        self.addr
    }

    /// "http://127.0.0.1:PORT"
    pub fn url(&self) -> String {
        self.state.url.clone()
    }

    /// "http://127.0.0.1:PORT/v1"
    pub fn api_url(&self) -> String {
        self.state.api_url()
    }

    /// A new API key ("lsk_…"), used as the HTTP Basic username with an empty password.
    pub fn issue_api_key(&self, spec: KeySpec) -> String {
        self.state.credentials.issue_api_key(spec)
    }

    /// A new OAuth-style access token (JWT-shaped, opaque) for `Authorization: Bearer`.
    pub fn issue_bearer_token(&self, spec: KeySpec) -> String {
        self.state
            .credentials
            .issue_bearer_token(spec, &self.state.audience())
    }

    /// Revoke a key or token: later requests with it get 401.
    pub fn revoke(&self, credential: &str) {
        self.state.credentials.revoke(credential);
    }

    /// Register an OAuth client (validated: id, secret, name, absolute http(s) redirect URIs).
    pub fn register_oauth_app(&self, app: OAuthApp) -> Result<(), OAuthAppError> {
        self.state.oauth.register(app)
    }

    /// Client ids of the registered OAuth apps, in registration order (no secrets).
    pub fn oauth_client_ids(&self) -> Vec<String> {
        self.state
            .oauth
            .apps()
            .into_iter()
            .map(|a| a.client_id)
            .collect()
    }

    /// Accepted consents that are still active, oldest first.
    pub fn authorized_apps(&self) -> Vec<AuthorizedApp> {
        self.state.oauth.authorized_apps()
    }

    /// Revoke the app in Authorized Apps: its access tokens get 401 and its refresh tokens
    /// `invalid_grant` at once. `false` if no app has this client id.
    pub fn revoke_authorized_app(&self, client_id: &str) -> bool {
        self.state.revoke_oauth_app(client_id)
    }

    /// Lifetime of access tokens issued from now on (1 s to [`MAX_ACCESS_TOKEN_TTL`]).
    pub fn set_access_token_ttl(&self, ttl: Duration) -> Result<(), SandboxError> {
        check_access_token_ttl(ttl)?;
        self.state.oauth.set_access_ttl(ttl);
        Ok(())
    }

    pub fn access_token_ttl(&self) -> Duration {
        self.state.oauth.access_ttl()
    }

    /// "http://127.0.0.1:PORT/authorize" (Lever: `https://auth.lever.co/authorize`).
    pub fn authorize_url(&self) -> String {
        format!("{}/authorize", self.state.url)
    }

    /// "http://127.0.0.1:PORT/oauth/token" (Lever: `https://auth.lever.co/oauth/token`).
    pub fn token_url(&self) -> String {
        format!("{}/oauth/token", self.state.url)
    }

    /// The `audience` to send to `/authorize`: "http://127.0.0.1:PORT/v1/".
    pub fn oauth_audience(&self) -> String {
        self.state.audience()
    }

    pub fn set_faults(&self, faults: FaultConfig) {
        self.state.faults.set(faults);
    }

    /// The current fault configuration (with scripted faults not yet used).
    pub fn faults(&self) -> FaultConfig {
        self.state.faults.get()
    }

    pub fn set_rate_limit(&self, enabled: bool) {
        self.state.rate_limit.set_enabled(enabled);
    }

    pub fn stats(&self) -> Stats {
        self.state.stats.lock().clone()
    }

    pub fn reset_stats(&self) {
        *self.state.stats.lock() = Stats::default();
    }

    /// Invalidate every offset token issued so far (400 "Invalid offset token: …").
    pub fn rotate_offset_tokens(&self) {
        self.state.tokens.rotate();
    }

    /// Subscribe `url` to `event`; the result carries `configuration.signatureToken`.
    pub fn register_webhook(&self, event: WebhookEventType, url: &str) -> Webhook {
        routes::webhooks::register(&mut self.state.db.lock(), event, url, None)
    }

    /// The last deliveries (at most 1000), oldest first.
    pub fn webhook_deliveries(&self) -> Vec<DeliveryRecord> {
        self.state.webhooks.records()
    }

    /// Read-only access to the data (holds the data lock while `f` runs).
    pub fn read<R>(&self, f: impl FnOnce(&Db) -> R) -> R {
        f(&self.state.db.lock())
    }

    /// An active super admin, for `perform_as`.
    pub fn default_user_id(&self) -> String {
        self.state.default_user.clone()
    }

    /// A key with every permission and confidential access, issued at start.
    pub fn demo_api_key(&self) -> String {
        self.state.demo_key.clone()
    }

    /// Stop accepting, let in-flight requests finish (up to 5 s), stop webhook delivery.
    pub async fn shutdown(mut self) {
        self.cancel.cancel();
        if let Some(server) = self.server.take() {
            let _ = server.await;
        }
    }
}

impl Drop for Sandbox {
    fn drop(&mut self) {
        self.cancel.cancel();
    }
}

fn check_access_token_ttl(ttl: Duration) -> Result<(), SandboxError> {
    if ttl < Duration::from_secs(1) || ttl > MAX_ACCESS_TOKEN_TTL {
        return Err(SandboxError::Config(format!(
            "access token TTL must be between 1 s and {} s, not {} ms",
            MAX_ACCESS_TOKEN_TTL.as_secs(),
            ttl.as_millis()
        )));
    }
    Ok(())
}

/// A URL host for the bound address: wildcard binds are reached over loopback.
fn reachable(addr: SocketAddr) -> SocketAddr {
    match addr.ip() {
        IpAddr::V4(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V4(Ipv4Addr::LOCALHOST), addr.port())
        }
        IpAddr::V6(ip) if ip.is_unspecified() => {
            SocketAddr::new(IpAddr::V6(Ipv6Addr::LOCALHOST), addr.port())
        }
        _ => addr,
    }
}
