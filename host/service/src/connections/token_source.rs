//! The access tokens of one installation's OAuth connection, kept in the store.
//!
//! Lever rotates the refresh token on every refresh, so two refreshes of one connection must
//! never race: the second would present a refresh token the first already spent and lose the
//! connection. A refresh therefore takes the connection's lease in the store (one holder
//! across every worker and replica), commits the rotated tokens before anyone uses them, and
//! bumps the connection's generation; everyone else waits for the new generation and adopts
//! its tokens. A refusal (`invalid_grant`: revoked in Lever, expired) marks the connection
//! "reconnect needed", which pauses the installation's events until an admin reconnects.

use fulcrum_store::{ConnectionSecret, ConnectionStatus, OAuthTokens, Store, now_ms};
use futures::future::BoxFuture;
use lever_client::LeverError;
use lever_client::oauth::{OAuthApp, OAuthError};
use secrecy::{ExposeSecret, SecretString};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::Mutex;

/// Refresh this long before the access token expires.
const REFRESH_MARGIN: Duration = Duration::from_secs(60);
/// How long one refresh may hold the connection's lease.
const REFRESH_LEASE: Duration = Duration::from_secs(30);
/// How long a caller waits for another holder's refresh before giving up for now.
const WAIT_FOR_OTHERS: Duration = Duration::from_secs(35);
const POLL: Duration = Duration::from_millis(100);

struct Current {
    generation: i64,
    access_token: SecretString,
    expires_at: i64,
}

pub(crate) struct StoredTokenSource {
    /// Owned by the futures the client polls (an `Arc`, not `&self`: rustc cannot prove a
    /// future borrowing `self` across the store's futures `Send` for every lifetime).
    inner: Arc<Source>,
    connection_id: String,
}

struct Source {
    store: Store,
    app: OAuthApp,
    tenant: String,
    installation: String,
    /// Who holds the refresh lease: this process's node id.
    holder: String,
    current: Mutex<Option<Current>>,
}

impl StoredTokenSource {
    pub(crate) fn new(
        store: Store,
        app: OAuthApp,
        tenant: &str,
        installation: &str,
        holder: &str,
    ) -> Self {
        StoredTokenSource {
            inner: Arc::new(Source {
                store,
                app,
                tenant: tenant.to_owned(),
                installation: installation.to_owned(),
                holder: holder.to_owned(),
                current: Mutex::new(None),
            }),
            // `tenant/installation`: the rate budget and fingerprint are keyed by it.
            connection_id: format!("{tenant}/{installation}"),
        }
    }
}

impl Source {
    /// The stored tokens; `Reconnect` when the connection is gone or needs reconnecting.
    async fn load(&self) -> Result<(Current, Option<SecretString>), LeverError> {
        let row = self
            .store
            .lever_connection_secret(&self.tenant, &self.installation)
            .await
            .map_err(store_unavailable)?;
        let Some((connection, secret)) = row else {
            return Err(reconnect(
                "the installation is no longer connected to Lever",
            ));
        };
        if connection.status == ConnectionStatus::ReconnectNeeded {
            return Err(reconnect(
                connection
                    .status_detail
                    .as_deref()
                    .unwrap_or("Lever refused the connection's refresh token"),
            ));
        }
        let ConnectionSecret::OAuth(tokens) = secret else {
            return Err(reconnect(
                "the installation's connection was changed to an API key",
            ));
        };
        Ok((
            Current {
                generation: connection.generation,
                access_token: tokens.access_token,
                expires_at: connection.access_expires_at.unwrap_or(i64::MAX),
            },
            tokens.refresh_token,
        ))
    }

    /// A token newer than generation `stale`: refreshes it (as the lease holder) or waits for
    /// whoever holds the lease.
    async fn refresh_after(&self, stale: i64) -> Result<Current, LeverError> {
        let deadline = tokio::time::Instant::now() + WAIT_FOR_OTHERS;
        loop {
            let (current, refresh_token) = self.load().await?;
            if current.generation != stale {
                return Ok(current);
            }
            let leased = self
                .store
                .try_lease_refresh(
                    &self.tenant,
                    &self.installation,
                    stale,
                    &self.holder,
                    REFRESH_LEASE,
                )
                .await
                .map_err(store_unavailable)?;
            if leased {
                return self.refresh_as_holder(stale, refresh_token).await;
            }
            if tokio::time::Instant::now() >= deadline {
                return Err(LeverError::Unavailable {
                    status: None,
                    message: "another worker is refreshing the Lever connection's access token"
                        .into(),
                    outcome_unknown: false,
                });
            }
            tokio::time::sleep(POLL).await;
        }
    }

    async fn refresh_as_holder(
        &self,
        generation: i64,
        refresh_token: Option<SecretString>,
    ) -> Result<Current, LeverError> {
        let Some(refresh_token) = refresh_token else {
            self.give_up(
                generation,
                "the connection has no refresh token (consent was given without offline \
                 access)",
            )
            .await;
            return Err(reconnect(
                "the access token expired and cannot be refreshed",
            ));
        };
        // Read before the refresh: once Lever has rotated the refresh token, nothing may stand
        // between its answer and the commit (a failed read there would lose the new token).
        let previous_scopes = self
            .store
            .get_lever_connection(&self.tenant, &self.installation)
            .await
            .map_err(store_unavailable)?
            .and_then(|c| c.granted_scopes)
            .unwrap_or_default();
        match self.app.refresh(&refresh_token).await {
            Ok(grant) => {
                // Lever rotates the refresh token; an answer without one keeps the old.
                let tokens = OAuthTokens {
                    access_token: grant.access_token.clone(),
                    refresh_token: Some(grant.refresh_token.clone().unwrap_or(refresh_token)),
                };
                let scopes = if grant.scope_omitted {
                    previous_scopes
                } else {
                    grant.scopes.to_string()
                };
                let committed = self
                    .store
                    .commit_refreshed_tokens(
                        &self.tenant,
                        &self.installation,
                        generation,
                        &self.holder,
                        &tokens,
                        grant.expires_at_ms,
                        &scopes,
                    )
                    .await
                    .map_err(store_unavailable)?;
                match committed {
                    Some(connection) => {
                        tracing::info!(
                            tenant = %self.tenant, installation = %self.installation,
                            generation = connection.generation,
                            "refreshed the Lever access token"
                        );
                        Ok(Current {
                            generation: connection.generation,
                            access_token: grant.access_token,
                            expires_at: grant.expires_at_ms,
                        })
                    }
                    // Reconnected meanwhile: the new connection's tokens win.
                    None => Ok(self.load().await?.0),
                }
            }
            Err(e) if e.needs_reconnect() => {
                self.give_up(generation, &e.to_string()).await;
                Err(reconnect(&e.to_string()))
            }
            Err(e) => {
                self.release().await;
                Err(token_endpoint_error(e))
            }
        }
    }

    async fn give_up(&self, generation: i64, detail: &str) {
        tracing::warn!(
            tenant = %self.tenant, installation = %self.installation,
            "the Lever connection needs reconnecting: {detail}"
        );
        if let Err(e) = self
            .store
            .mark_reconnect_needed(&self.tenant, &self.installation, generation, detail)
            .await
        {
            tracing::error!(error = %e, "could not mark the Lever connection for reconnecting");
        }
        self.release().await;
    }

    async fn release(&self) {
        if let Err(e) = self
            .store
            .release_refresh_lease(&self.tenant, &self.installation, &self.holder)
            .await
        {
            tracing::warn!(error = %e, "could not release the Lever refresh lease; it runs out by itself");
        }
    }
}

impl lever_client::AccessTokenSource for StoredTokenSource {
    fn access_token(&self) -> BoxFuture<'_, Result<SecretString, LeverError>> {
        let this = self.inner.clone();
        Box::pin(async move { this.access_token().await })
    }

    fn refreshed(
        &self,
        rejected: &SecretString,
    ) -> BoxFuture<'_, Result<SecretString, LeverError>> {
        let this = self.inner.clone();
        let rejected = rejected.expose_secret().to_owned();
        Box::pin(async move { this.refreshed(rejected).await })
    }

    fn connection_id(&self) -> &str {
        &self.connection_id
    }
}

impl Source {
    async fn access_token(&self) -> Result<SecretString, LeverError> {
        {
            let mut current = self.current.lock().await;
            let fresh = match current.take() {
                Some(c) => c,
                None => self.load().await?.0,
            };
            let margin = i64::try_from(REFRESH_MARGIN.as_millis()).unwrap_or(i64::MAX);
            let fresh = if now_ms().saturating_add(margin) >= fresh.expires_at {
                self.refresh_after(fresh.generation).await?
            } else {
                fresh
            };
            let token = fresh.access_token.clone();
            *current = Some(fresh);
            Ok(token)
        }
    }

    async fn refreshed(&self, rejected: String) -> Result<SecretString, LeverError> {
        {
            let mut current = self.current.lock().await;
            let known = match current.take() {
                Some(c) => c,
                None => self.load().await?.0,
            };
            // Another caller of this process may have refreshed already.
            let fresh = if known.access_token.expose_secret() != rejected {
                known
            } else {
                // Maybe another process did; otherwise refresh.
                let (stored, _) = self.load().await?;
                if stored.access_token.expose_secret() != rejected {
                    stored
                } else {
                    self.refresh_after(stored.generation).await?
                }
            };
            let token = fresh.access_token.clone();
            *current = Some(fresh);
            Ok(token)
        }
    }
}

fn reconnect(message: &str) -> LeverError {
    LeverError::Reconnect {
        message: message.to_owned(),
    }
}

fn store_unavailable(e: fulcrum_store::StoreError) -> LeverError {
    LeverError::Unavailable {
        status: None,
        message: format!("the host's database failed while reading the Lever connection: {e}"),
        outcome_unknown: false,
    }
}

fn token_endpoint_error(e: OAuthError) -> LeverError {
    LeverError::Unavailable {
        status: None,
        message: e.to_string(),
        outcome_unknown: false,
    }
}
