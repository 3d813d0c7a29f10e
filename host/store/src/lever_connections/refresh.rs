//! Single-flight OAuth refresh. Lever rotates the refresh token on every use, so two workers
//! refreshing with the same token would leave one of them (and maybe the connection) with a
//! dead token. One worker takes the row's lease, refreshes, and commits the rotated tokens
//! under the lease and the generation it started from; the others wait and re-read.

use super::{
    ConnectionRow, LeverConnection, OAuthTokens, check_oauth_tokens, connection_columns,
    connection_identity, tokens_plaintext,
};
use crate::{CredentialKind, Result, Store, StoreError, now_ms};
use std::time::Duration;

impl Store {
    /// Takes the refresh lease of the installation's OAuth connection for `holder` until
    /// `lease` from now: `true` if it got it — the connection is OAuth, still at
    /// `generation`, and no other holder's lease is live (an expired one is taken over; the
    /// same holder renews its own). `false` otherwise: someone else is refreshing, or the
    /// tokens changed since `generation` was read (re-read them).
    pub async fn try_lease_refresh(
        &self,
        tenant_id: &str,
        inst: &str,
        generation: i64,
        holder: &str,
        lease: Duration,
    ) -> Result<bool> {
        if holder.is_empty() {
            return Err(StoreError::Invalid(
                "a refresh lease holder must be named (e.g. node id and worker)".into(),
            ));
        }
        let now = now_ms();
        let until = now.saturating_add(i64::try_from(lease.as_millis()).unwrap_or(i64::MAX));
        let n = on_pool!(self, |pool| sqlx::query(
            "UPDATE lever_connections SET refresh_holder = $4, refresh_lease_until = $5
             WHERE tenant_id = $1 AND installation_id = $2 AND generation = $3
               AND kind = 'oauth'
               AND (refresh_holder IS NULL OR refresh_holder = $4
                    OR refresh_lease_until IS NULL OR refresh_lease_until <= $6)"
        )
        .bind(tenant_id)
        .bind(inst)
        .bind(generation)
        .bind(holder)
        .bind(until)
        .bind(now)
        .execute(pool)
        .await?
        .rows_affected());
        Ok(n > 0)
    }

    /// Stores the tokens a refresh returned — before anyone uses them — if the connection is
    /// still at `generation` and `holder` still holds its refresh lease: the generation goes
    /// up, the lease is released, the status is `connected` again. `None` when fenced out
    /// (another holder took the lease over, or a reconnect or another refresh came first):
    /// nothing is changed.
    #[allow(clippy::too_many_arguments)]
    pub async fn commit_refreshed_tokens(
        &self,
        tenant_id: &str,
        inst: &str,
        generation: i64,
        holder: &str,
        tokens: &OAuthTokens,
        access_expires_at: i64,
        granted_scopes: &str,
    ) -> Result<Option<LeverConnection>> {
        check_oauth_tokens(tokens)?;
        let identity = connection_identity(tenant_id, inst, CredentialKind::OAuth);
        let (ciphertext, nonce) = self
            .key()
            .encrypt_secret(&identity, &tokens_plaintext(tokens))?;
        let key_version = self.key().version();
        let now = now_ms();
        let row = on_pool!(self, |pool| sqlx::query_as::<_, ConnectionRow>(concat!(
            "UPDATE lever_connections SET ciphertext = $5, nonce = $6, key_version = $7,
                 access_expires_at = $8, granted_scopes = $9, generation = generation + 1,
                 refresh_holder = NULL, refresh_lease_until = NULL, status = 'connected',
                 status_detail = NULL, updated_at = $10
             WHERE tenant_id = $1 AND installation_id = $2 AND generation = $3
               AND refresh_holder = $4 AND kind = 'oauth'
             RETURNING ",
            connection_columns!()
        ))
        .bind(tenant_id)
        .bind(inst)
        .bind(generation)
        .bind(holder)
        .bind(&ciphertext)
        .bind(&nonce)
        .bind(key_version)
        .bind(access_expires_at)
        .bind(granted_scopes)
        .bind(now)
        .fetch_optional(pool)
        .await?);
        row.map(ConnectionRow::into_connection).transpose()
    }

    /// Gives up `holder`'s refresh lease (a failed refresh), so another worker may try now
    /// rather than when the lease runs out. A lease `holder` does not hold is left alone.
    pub async fn release_refresh_lease(
        &self,
        tenant_id: &str,
        inst: &str,
        holder: &str,
    ) -> Result<()> {
        on_pool!(self, |pool| sqlx::query(
            "UPDATE lever_connections SET refresh_holder = NULL, refresh_lease_until = NULL
             WHERE tenant_id = $1 AND installation_id = $2 AND refresh_holder = $3"
        )
        .bind(tenant_id)
        .bind(inst)
        .bind(holder)
        .execute(pool)
        .await?
        .rows_affected());
        Ok(())
    }
}
