//! Lever webhook signature tokens per tenant (encrypted under the master key, bound to their
//! row like installation secrets) and the atomic enqueue of one delivery's events.
//!
//! Lever gives every webhook its own signature token, so a tenant may hold several; the
//! ingress accepts a delivery signed with any of them.

use crate::crypto::RowIdentity;
use crate::events::enqueue_on;
use crate::{Enqueued, NewEvent, Result, Store, StoreError, now_ms};
use secrecy::SecretString;

/// Longest token name accepted.
const MAX_NAME_LEN: usize = 200;

/// A tenant's Lever webhook signature token, decrypted.
#[derive(Debug, Clone)]
pub struct LeverWebhookToken {
    /// The admin's label for it (e.g. the Lever webhook id or its event type).
    pub name: String,
    pub token: SecretString,
    pub updated_at: i64,
}

#[derive(sqlx::FromRow)]
struct TokenRow {
    name: String,
    ciphertext: Vec<u8>,
    nonce: Vec<u8>,
    key_version: i64,
    updated_at: i64,
}

fn token_identity(tenant_id: &str, name: &str) -> RowIdentity {
    RowIdentity::new("lever_webhook_tokens", &[tenant_id, name])
}

impl Store {
    /// Stores (replaces) the Lever webhook signature token `name` of a tenant, encrypted.
    pub async fn set_lever_webhook_token(
        &self,
        tenant_id: &str,
        name: &str,
        token: &SecretString,
    ) -> Result<()> {
        if name.is_empty() || name.len() > MAX_NAME_LEN {
            return Err(StoreError::Invalid(format!(
                "a webhook token name must be 1 to {MAX_NAME_LEN} bytes"
            )));
        }
        if secrecy::ExposeSecret::expose_secret(token).is_empty() {
            return Err(StoreError::Invalid(
                "a webhook signature token cannot be empty".into(),
            ));
        }
        let (ciphertext, nonce) = self
            .key()
            .encrypt_secret(&token_identity(tenant_id, name), token)?;
        let key_version = self.key().version();
        let now = now_ms();
        let done = on_pool!(self, |pool| {
            sqlx::query(
                "INSERT INTO lever_webhook_tokens (tenant_id, name, ciphertext, nonce, key_version, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $6)
                 ON CONFLICT (tenant_id, name) DO UPDATE SET ciphertext = excluded.ciphertext,
                     nonce = excluded.nonce, key_version = excluded.key_version,
                     updated_at = excluded.updated_at",
            )
            .bind(tenant_id)
            .bind(name)
            .bind(&ciphertext)
            .bind(&nonce)
            .bind(key_version)
            .bind(now)
            .execute(pool)
            .await
            .map(|done| done.rows_affected())
        });
        match done {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_database_error()
                    .is_some_and(|d| d.is_foreign_key_violation()) =>
            {
                Err(StoreError::NotFound(format!("tenant {tenant_id:?}")))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// Every Lever webhook signature token of a tenant, decrypted, by name.
    pub async fn lever_webhook_tokens(&self, tenant_id: &str) -> Result<Vec<LeverWebhookToken>> {
        let rows = on_pool!(self, |pool| sqlx::query_as::<_, TokenRow>(
            "SELECT name, ciphertext, nonce, key_version, updated_at FROM lever_webhook_tokens
             WHERE tenant_id = $1 ORDER BY name"
        )
        .bind(tenant_id)
        .fetch_all(pool)
        .await?);
        rows.into_iter()
            .map(|row| {
                Ok(LeverWebhookToken {
                    token: self.key().decrypt_secret(
                        &token_identity(tenant_id, &row.name),
                        &row.ciphertext,
                        &row.nonce,
                        row.key_version,
                    )?,
                    name: row.name,
                    updated_at: row.updated_at,
                })
            })
            .collect()
    }

    /// Names of a tenant's Lever webhook tokens (never the values).
    pub async fn lever_webhook_token_names(&self, tenant_id: &str) -> Result<Vec<String>> {
        Ok(on_pool!(self, |pool| sqlx::query_scalar::<_, String>(
            "SELECT name FROM lever_webhook_tokens WHERE tenant_id = $1 ORDER BY name"
        )
        .bind(tenant_id)
        .fetch_all(pool)
        .await?))
    }

    /// Removes a token; `false` if the tenant had none of that name.
    pub async fn delete_lever_webhook_token(&self, tenant_id: &str, name: &str) -> Result<bool> {
        let n = on_pool!(self, |pool| sqlx::query(
            "DELETE FROM lever_webhook_tokens WHERE tenant_id = $1 AND name = $2"
        )
        .bind(tenant_id)
        .bind(name)
        .execute(pool)
        .await?
        .rows_affected());
        Ok(n > 0)
    }

    /// Queues several events in one transaction: all of them (each deduped as by
    /// [`Store::enqueue_event`]) or, on error, none. One Lever delivery fans out to every
    /// subscribed plugin this way, so Lever's retry after a failure never finds half of them.
    pub async fn enqueue_events(&self, events: &[NewEvent]) -> Result<Vec<Enqueued>> {
        if events.is_empty() {
            return Ok(Vec::new());
        }
        in_tx!(self, |tx| {
            let mut out = Vec::with_capacity(events.len());
            for event in events {
                out.push(enqueue_on!(&mut *tx, event)?);
            }
            tx.commit().await?;
            Ok(out)
        })
    }
}

#[cfg(test)]
mod tests {
    use crate::test_support::on_each_backend;
    use crate::{MasterKey, Store, StoreError};
    use secrecy::{ExposeSecret, SecretString};

    use crate::test_support::lever_event as event;

    #[tokio::test]
    async fn tokens_are_encrypted_listed_replaced_and_deleted() {
        on_each_backend(|db| async move {
            let store = db.open().await;
            store.create_tenant("t1", "T1").await.unwrap();
            store.create_tenant("t2", "T2").await.unwrap();
            let token = "s3cret-webhook-token-6c1f";
            store
                .set_lever_webhook_token("t1", "stage", &SecretString::from(token))
                .await
                .unwrap();
            store
                .set_lever_webhook_token("t1", "hired", &SecretString::from("other"))
                .await
                .unwrap();
            let tokens = store.lever_webhook_tokens("t1").await.unwrap();
            let names: Vec<_> = tokens.iter().map(|t| t.name.as_str()).collect();
            assert_eq!(names, ["hired", "stage"]);
            assert_eq!(tokens[1].token.expose_secret(), token);
            assert!(!format!("{tokens:?}").contains(token), "Debug redacts");
            assert!(store.lever_webhook_tokens("t2").await.unwrap().is_empty());

            // Replace, then delete.
            store
                .set_lever_webhook_token("t1", "stage", &SecretString::from("rotated"))
                .await
                .unwrap();
            let tokens = store.lever_webhook_tokens("t1").await.unwrap();
            assert_eq!(tokens[1].token.expose_secret(), "rotated");
            assert!(
                store
                    .delete_lever_webhook_token("t1", "hired")
                    .await
                    .unwrap()
            );
            assert!(
                !store
                    .delete_lever_webhook_token("t1", "hired")
                    .await
                    .unwrap()
            );
            assert_eq!(
                store.lever_webhook_token_names("t1").await.unwrap(),
                ["stage"]
            );

            // Unknown tenant and bad input are refused.
            assert!(matches!(
                store
                    .set_lever_webhook_token("nobody", "x", &SecretString::from("t"))
                    .await,
                Err(StoreError::NotFound(_))
            ));
            assert!(matches!(
                store
                    .set_lever_webhook_token("t1", "", &SecretString::from("t"))
                    .await,
                Err(StoreError::Invalid(_))
            ));

            // At rest the value is ciphertext, and another master key cannot open it.
            if let Some(path) = &db.sqlite_path {
                store.close().await;
                let bytes = std::fs::read(path).unwrap();
                let wal = std::fs::read(path.with_extension("db-wal")).unwrap_or_default();
                for file in [bytes, wal] {
                    assert!(
                        !file.windows(7).any(|w| w == b"rotated"),
                        "token stored in clear"
                    );
                }
                let other = Store::connect(&db.url, MasterKey::generate())
                    .await
                    .unwrap();
                assert!(other.lever_webhook_tokens("t1").await.is_err());
            }
        })
        .await;
    }

    #[tokio::test]
    async fn enqueue_events_is_atomic_and_dedupes_per_plugin() {
        on_each_backend(|db| async move {
            let store = db.open().await;
            store.create_tenant("t1", "T1").await.unwrap();
            let first = store
                .enqueue_events(&[event("a", "lever:id:1"), event("b", "lever:id:1")])
                .await
                .unwrap();
            assert!(first.iter().all(|e| !e.duplicate));
            let again = store
                .enqueue_events(&[event("a", "lever:id:1"), event("b", "lever:id:1")])
                .await
                .unwrap();
            assert_eq!(
                again
                    .iter()
                    .map(|e| (e.id, e.duplicate))
                    .collect::<Vec<_>>(),
                first.iter().map(|e| (e.id, true)).collect::<Vec<_>>()
            );
            // A failing member (unknown tenant) rolls the whole batch back.
            let mut bad = event("c", "lever:id:2");
            bad.tenant_id = "nobody".into();
            assert!(
                store
                    .enqueue_events(&[event("a", "lever:id:2"), bad])
                    .await
                    .is_err()
            );
            assert_eq!(store.count_events(None).await.unwrap().queued, 2);
            assert!(store.enqueue_events(&[]).await.unwrap().is_empty());
        })
        .await;
    }
}
