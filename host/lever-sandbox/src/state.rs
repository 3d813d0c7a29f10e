//! Shared server state. Every lock is a `parking_lot` mutex held only inside synchronous
//! blocks — never across an `.await`.

use crate::auth::Credentials;
use crate::db::Db;
use crate::faults::FaultInjector;
use crate::oauth::OAuthStore;
use crate::pagination::OffsetTokens;
use crate::rate_limit::RateLimit;
use crate::stats::Stats;
use crate::webhooks::{Event, Webhooks};
use parking_lot::Mutex;
use std::sync::Arc;

pub(crate) struct AppState {
    pub db: Mutex<Db>,
    pub credentials: Credentials,
    pub rate_limit: RateLimit,
    pub faults: FaultInjector,
    pub stats: Mutex<Stats>,
    pub tokens: OffsetTokens,
    pub webhooks: Webhooks,
    pub oauth: OAuthStore,
    /// "http://127.0.0.1:PORT" of the listener (not `public_url`).
    pub url: String,
    pub demo_key: String,
    pub default_user: String,
}

pub(crate) type Shared = Arc<AppState>;

impl AppState {
    /// Queue webhook deliveries for events recorded while the data lock was held.
    pub fn emit(&self, events: Vec<Event>) {
        if events.is_empty() {
            return;
        }
        let deliveries = {
            let db = self.db.lock();
            Webhooks::prepare(&db, &events)
        };
        self.webhooks.enqueue(deliveries);
    }

    pub fn api_url(&self) -> String {
        format!("{}/v1", self.url)
    }

    /// The OAuth `audience` this sandbox serves, like Lever's `https://api.lever.co/v1/`.
    pub fn audience(&self) -> String {
        format!("{}/", self.api_url())
    }

    /// Revoke every grant of an OAuth app and, at once, all of its tokens. `false` if no
    /// such app is registered.
    pub fn revoke_oauth_app(&self, client_id: &str) -> bool {
        match self.oauth.revoke_app(client_id) {
            Some(grants) => {
                self.credentials.revoke_grants(&grants);
                true
            }
            None => false,
        }
    }
}
