//! Lever webhooks the host created for an installation (migration 0012), one per Lever event,
//! with each webhook's signature token sealed and bound to its row.

use crate::crypto::RowIdentity;
use crate::lever_connections::{check_installation_id, is_foreign_key_violation};
use crate::records::expect_one;
use crate::{Result, Store, StoreError, now_ms};
use secrecy::{ExposeSecret, SecretString};

/// Longest Lever event name accepted (Lever's are like `candidateStageChange`).
const MAX_EVENT_LEN: usize = 100;

/// A host-managed Lever webhook, without its signature token.
#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct ManagedWebhook {
    /// Lever's event name, e.g. `candidateStageChange`.
    pub event: String,
    /// Lever's id of the webhook.
    pub lever_webhook_id: String,
    /// Where Lever delivers it.
    pub url: String,
    pub created_at: i64,
    /// When the host last saw it still configured in Lever (unix ms).
    pub checked_at: Option<i64>,
}

#[derive(sqlx::FromRow)]
struct SealedTokenRow {
    event: String,
    ciphertext: Vec<u8>,
    nonce: Vec<u8>,
    key_version: i64,
}

fn webhook_identity(tenant_id: &str, inst: &str, event: &str) -> RowIdentity {
    RowIdentity::new("lever_managed_webhooks", &[tenant_id, inst, event])
}

fn webhook_missing(tenant_id: &str, inst: &str, event: &str) -> StoreError {
    StoreError::NotFound(format!(
        "managed Lever webhook for event {event:?} of installation {inst:?} of tenant {tenant_id:?}"
    ))
}

impl Store {
    /// Records (replaces) the webhook the host created in Lever for `event` of the
    /// installation, its signature token sealed. A replacement is a new webhook: its
    /// `created_at` is now and it is not checked yet. `NotFound` for an unknown tenant.
    pub async fn put_managed_webhook(
        &self,
        tenant_id: &str,
        inst: &str,
        event: &str,
        lever_webhook_id: &str,
        url: &str,
        signature_token: &SecretString,
    ) -> Result<()> {
        check_installation_id(inst)?;
        if event.is_empty() || event.len() > MAX_EVENT_LEN {
            return Err(StoreError::Invalid(format!(
                "a Lever event name must be 1 to {MAX_EVENT_LEN} bytes (e.g. candidateStageChange)"
            )));
        }
        if lever_webhook_id.is_empty() || url.is_empty() {
            return Err(StoreError::Invalid(
                "a managed webhook needs the id Lever gave it and its URL".into(),
            ));
        }
        if signature_token.expose_secret().is_empty() {
            return Err(StoreError::Invalid(
                "a webhook signature token cannot be empty; store the token Lever answered".into(),
            ));
        }
        let (ciphertext, nonce) = self
            .key()
            .encrypt_secret(&webhook_identity(tenant_id, inst, event), signature_token)?;
        let key_version = self.key().version();
        let now = now_ms();
        let done = on_pool!(self, |pool| sqlx::query(
            "INSERT INTO lever_managed_webhooks (tenant_id, installation_id, event,
                 lever_webhook_id, url, ciphertext, nonce, key_version, created_at, checked_at)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, NULL)
             ON CONFLICT (tenant_id, installation_id, event) DO UPDATE SET
                 lever_webhook_id = excluded.lever_webhook_id, url = excluded.url,
                 ciphertext = excluded.ciphertext, nonce = excluded.nonce,
                 key_version = excluded.key_version, created_at = excluded.created_at,
                 checked_at = NULL"
        )
        .bind(tenant_id)
        .bind(inst)
        .bind(event)
        .bind(lever_webhook_id)
        .bind(url)
        .bind(&ciphertext)
        .bind(&nonce)
        .bind(key_version)
        .bind(now)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()));
        match done {
            Ok(_) => Ok(()),
            Err(e) if is_foreign_key_violation(&e) => {
                Err(StoreError::NotFound(format!("tenant {tenant_id:?}")))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The installation's managed webhooks (no tokens), by event.
    pub async fn managed_webhooks(
        &self,
        tenant_id: &str,
        inst: &str,
    ) -> Result<Vec<ManagedWebhook>> {
        Ok(on_pool!(self, |pool| sqlx::query_as::<_, ManagedWebhook>(
            "SELECT event, lever_webhook_id, url, created_at, checked_at
             FROM lever_managed_webhooks WHERE tenant_id = $1 AND installation_id = $2
             ORDER BY event"
        )
        .bind(tenant_id)
        .bind(inst)
        .fetch_all(pool)
        .await?))
    }

    /// The signature tokens of the installation's managed webhooks, opened, by event: a
    /// delivery signed with any of them is the installation's.
    pub async fn managed_webhook_tokens(
        &self,
        tenant_id: &str,
        inst: &str,
    ) -> Result<Vec<SecretString>> {
        let rows = on_pool!(self, |pool| sqlx::query_as::<_, SealedTokenRow>(
            "SELECT event, ciphertext, nonce, key_version
             FROM lever_managed_webhooks WHERE tenant_id = $1 AND installation_id = $2
             ORDER BY event"
        )
        .bind(tenant_id)
        .bind(inst)
        .fetch_all(pool)
        .await?);
        rows.into_iter()
            .map(|row| {
                Ok(self.key().decrypt_secret(
                    &webhook_identity(tenant_id, inst, &row.event),
                    &row.ciphertext,
                    &row.nonce,
                    row.key_version,
                )?)
            })
            .collect()
    }

    /// Forgets the managed webhook of `event`; `false` when there was none.
    pub async fn delete_managed_webhook(
        &self,
        tenant_id: &str,
        inst: &str,
        event: &str,
    ) -> Result<bool> {
        let n = on_pool!(self, |pool| sqlx::query(
            "DELETE FROM lever_managed_webhooks
             WHERE tenant_id = $1 AND installation_id = $2 AND event = $3"
        )
        .bind(tenant_id)
        .bind(inst)
        .bind(event)
        .execute(pool)
        .await?
        .rows_affected());
        Ok(n > 0)
    }

    /// Records that the webhook of `event` was seen configured in Lever at `at` (unix ms).
    /// `NotFound` when it is not (or no longer) recorded.
    pub async fn mark_managed_webhook_checked(
        &self,
        tenant_id: &str,
        inst: &str,
        event: &str,
        at: i64,
    ) -> Result<()> {
        let n = on_pool!(self, |pool| sqlx::query(
            "UPDATE lever_managed_webhooks SET checked_at = $4
             WHERE tenant_id = $1 AND installation_id = $2 AND event = $3"
        )
        .bind(tenant_id)
        .bind(inst)
        .bind(event)
        .bind(at)
        .execute(pool)
        .await?
        .rows_affected());
        expect_one(n, || webhook_missing(tenant_id, inst, event))
    }
}
