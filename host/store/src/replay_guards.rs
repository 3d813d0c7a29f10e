//! What the ingress remembers so that a captured request cannot be replayed (migration 0008),
//! and the credential headers of vendor events, sealed.
//!
//! - Lever webhook deliveries are consumed once per tenant, by what Lever's signature covers
//!   ([`Store::accept_lever_delivery`]), whether or not any plugin subscribed.
//! - Verified vendor requests are remembered by a digest per installation for the replay
//!   window ([`Store::enqueue_vendor_request`]), whatever their `Idempotency-Key`.
//! - A vendor event's credential headers are sealed under the master key, bound to the event's
//!   id, and deleted with the event ([`Store::event_sealed_headers`]).
//!
//! Each check commits in the transaction that queues the events, so a refusal, a crash or a
//! failed enqueue leaves nothing consumed and the sender's retry goes through.

use crate::crypto::RowIdentity;
use crate::events::enqueue_on;
use crate::{Enqueued, NewEvent, Result, Store, StoreError, now_ms};

/// What [`Store::accept_lever_delivery`] did.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LeverDelivery {
    /// The queue ids the delivery led to (none when no plugin subscribed), in the order of
    /// the events given; for a duplicate, those of the first delivery.
    pub event_ids: Vec<i64>,
    /// The delivery was consumed before: nothing was queued now.
    pub duplicate: bool,
}

/// How [`Store::enqueue_vendor_request`] guards one verified vendor request.
#[derive(Debug, Clone, Copy)]
pub struct VendorRequestGuard<'a> {
    /// Names the signed request (the service uses the SHA-256 of its body, hex): an
    /// installation's second request with the same digest within the window is a duplicate.
    pub digest: &'a str,
    /// Digests recorded before this (unix ms) are expired: they no longer make a request a
    /// duplicate.
    pub fresh_since: i64,
    /// Credential headers to keep with the event, sealed under the master key (the service's
    /// serialization; opened again by [`Store::event_sealed_headers`]).
    pub sealed_headers: Option<&'a [u8]>,
}

fn sealed_headers_identity(event_id: i64) -> RowIdentity {
    RowIdentity::new("event_sealed_headers", &[&event_id.to_string()])
}

#[derive(sqlx::FromRow)]
struct SealedRow {
    ciphertext: Vec<u8>,
    nonce: Vec<u8>,
    key_version: i64,
}

impl Store {
    /// One cheap round trip (`SELECT 1`): whether the database answers.
    pub async fn ping(&self) -> Result<()> {
        on_pool!(self, |pool| sqlx::query_scalar::<_, i32>("SELECT 1")
            .fetch_one(pool)
            .await?);
        Ok(())
    }

    /// Consumes a verified Lever delivery of `tenant_id` named `delivery_key` and queues
    /// `events` (one per subscribed plugin; none is fine), all in one transaction. When the
    /// tenant consumed that key before, nothing is queued and the earlier delivery's ids come
    /// back with `duplicate: true`.
    pub async fn accept_lever_delivery(
        &self,
        tenant_id: &str,
        delivery_key: &str,
        triggered_at: i64,
        events: &[NewEvent],
    ) -> Result<LeverDelivery> {
        let now = now_ms();
        in_tx!(self, |tx| {
            let mut queued = Vec::with_capacity(events.len());
            for event in events {
                queued.push(enqueue_on!(&mut *tx, event)?);
            }
            let event_ids: Vec<i64> = queued.iter().map(|e| e.id).collect();
            let ids_text = serde_json::Value::from(event_ids.clone()).to_string();
            let consumed = sqlx::query_scalar::<_, String>(
                "INSERT INTO lever_webhook_deliveries (tenant_id, delivery_key, triggered_at, received_at, event_ids)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (tenant_id, delivery_key) DO NOTHING
                 RETURNING delivery_key",
            )
            .bind(tenant_id)
            .bind(delivery_key)
            .bind(triggered_at)
            .bind(now)
            .bind(&ids_text)
            .fetch_optional(&mut *tx)
            .await?;
            if consumed.is_some() {
                tx.commit().await?;
                return Ok(LeverDelivery {
                    duplicate: !queued.is_empty() && queued.iter().all(|e| e.duplicate),
                    event_ids,
                });
            }
            // Consumed before: answer as then; dropping `tx` rolls back what was queued now.
            let earlier = sqlx::query_scalar::<_, String>(
                "SELECT event_ids FROM lever_webhook_deliveries
                 WHERE tenant_id = $1 AND delivery_key = $2",
            )
            .bind(tenant_id)
            .bind(delivery_key)
            .fetch_one(&mut *tx)
            .await?;
            let event_ids =
                serde_json::from_str::<Vec<i64>>(&earlier).map_err(|_| StoreError::Corrupt {
                    what: "lever webhook delivery event ids",
                    value: earlier.clone(),
                })?;
            Ok(LeverDelivery {
                event_ids,
                duplicate: true,
            })
        })
    }

    /// Queues a verified vendor request's event, deduped twice in one transaction: by its
    /// dedupe key (as [`Store::enqueue_event`]), and by `guard.digest` — the installation's
    /// request with the same digest since `guard.fresh_since` is a duplicate, answered with
    /// that request's event. A new event gets `guard.sealed_headers` sealed with it.
    pub async fn enqueue_vendor_request(
        &self,
        event: &NewEvent,
        guard: VendorRequestGuard<'_>,
    ) -> Result<Enqueued> {
        let now = now_ms();
        in_tx!(self, |tx| {
            let enqueued = enqueue_on!(&mut *tx, event)?;
            // Inserted, or an expired digest taken over; no row when a fresh one holds it.
            let kept = sqlx::query_scalar::<_, i64>(
                "INSERT INTO vendor_request_digests (tenant_id, plugin_id, digest, event_id, received_at)
                 VALUES ($1, $2, $3, $4, $5)
                 ON CONFLICT (tenant_id, plugin_id, digest) DO UPDATE
                     SET event_id = excluded.event_id, received_at = excluded.received_at
                     WHERE vendor_request_digests.received_at < $6
                 RETURNING event_id",
            )
            .bind(&event.tenant_id)
            .bind(&event.plugin_id)
            .bind(guard.digest)
            .bind(enqueued.id)
            .bind(now)
            .bind(guard.fresh_since)
            .fetch_optional(&mut *tx)
            .await?;
            if kept.is_none() {
                let earlier = sqlx::query_scalar::<_, i64>(
                    "SELECT event_id FROM vendor_request_digests
                     WHERE tenant_id = $1 AND plugin_id = $2 AND digest = $3",
                )
                .bind(&event.tenant_id)
                .bind(&event.plugin_id)
                .bind(guard.digest)
                .fetch_one(&mut *tx)
                .await?;
                // Dropping `tx` rolls back the event queued above, if it was new.
                return Ok(Enqueued {
                    id: earlier,
                    duplicate: true,
                });
            }
            if let (false, Some(plaintext)) = (enqueued.duplicate, guard.sealed_headers) {
                let (ciphertext, nonce) = self
                    .key()
                    .encrypt(&sealed_headers_identity(enqueued.id), plaintext)?;
                sqlx::query(
                    "INSERT INTO event_sealed_headers (event_id, ciphertext, nonce, key_version)
                     VALUES ($1, $2, $3, $4)",
                )
                .bind(enqueued.id)
                .bind(&ciphertext)
                .bind(&nonce)
                .bind(self.key().version())
                .execute(&mut *tx)
                .await?;
            }
            tx.commit().await?;
            Ok(enqueued)
        })
    }

    /// The sealed headers kept with event `event_id`, opened; `None` when it has none.
    pub async fn event_sealed_headers(&self, event_id: i64) -> Result<Option<Vec<u8>>> {
        let row = on_pool!(self, |pool| {
            sqlx::query_as::<_, SealedRow>(
            "SELECT ciphertext, nonce, key_version FROM event_sealed_headers WHERE event_id = $1"
        )
        .bind(event_id)
        .fetch_optional(pool)
        .await?
        });
        row.map(|row| {
            self.key()
                .decrypt(
                    &sealed_headers_identity(event_id),
                    &row.ciphertext,
                    &row.nonce,
                    row.key_version,
                )
                .map_err(StoreError::from)
        })
        .transpose()
    }

    /// Forgets Lever deliveries received before `lever_before` and vendor request digests
    /// received before `vendor_before` (unix ms); returns how many rows of each.
    pub async fn prune_replay_guards(
        &self,
        lever_before: i64,
        vendor_before: i64,
    ) -> Result<(u64, u64)> {
        let lever = on_pool!(self, |pool| sqlx::query(
            "DELETE FROM lever_webhook_deliveries WHERE received_at < $1"
        )
        .bind(lever_before)
        .execute(pool)
        .await?
        .rows_affected());
        let vendor = on_pool!(self, |pool| sqlx::query(
            "DELETE FROM vendor_request_digests WHERE received_at < $1"
        )
        .bind(vendor_before)
        .execute(pool)
        .await?
        .rows_affected());
        Ok((lever, vendor))
    }
}

#[cfg(test)]
mod tests {
    use super::VendorRequestGuard;
    use crate::now_ms;
    use crate::test_support::on_each_backend;

    use crate::test_support::lever_event as event;

    #[tokio::test]
    async fn a_lever_delivery_is_consumed_once_per_tenant_whatever_it_queues() {
        on_each_backend(|db| async move {
            let store = db.open().await;
            store.create_tenant("t1", "T1").await.unwrap();
            store.create_tenant("t2", "T2").await.unwrap();
            let first = store
                .accept_lever_delivery("t1", "d1", 5, &[event("a", "k1"), event("b", "k1")])
                .await
                .unwrap();
            assert!(!first.duplicate);
            assert_eq!(first.event_ids.len(), 2);
            // Replayed for a plugin that did not get it the first time: still consumed.
            let again = store
                .accept_lever_delivery("t1", "d1", 5, &[event("c", "k1")])
                .await
                .unwrap();
            assert!(again.duplicate);
            assert_eq!(again.event_ids, first.event_ids);
            assert_eq!(store.count_events(None).await.unwrap().queued, 2);
            // A delivery no plugin wanted is consumed too.
            let ignored = store
                .accept_lever_delivery("t1", "d2", 5, &[])
                .await
                .unwrap();
            assert_eq!((ignored.event_ids.len(), ignored.duplicate), (0, false));
            let replayed = store
                .accept_lever_delivery("t1", "d2", 5, &[event("a", "k2")])
                .await
                .unwrap();
            assert_eq!((replayed.event_ids.len(), replayed.duplicate), (0, true));
            assert_eq!(store.count_events(None).await.unwrap().queued, 2);
            // Per tenant: another tenant's key of the same name is its own.
            let mut other = event("a", "k1");
            other.tenant_id = "t2".into();
            let t2 = store
                .accept_lever_delivery("t2", "d1", 5, &[other])
                .await
                .unwrap();
            assert!(!t2.duplicate);
            // Pruned: forgotten.
            let (lever, _) = store.prune_replay_guards(now_ms() + 1, 0).await.unwrap();
            assert_eq!(lever, 3);
            assert!(store.ping().await.is_ok());
        })
        .await;
    }

    #[tokio::test]
    async fn a_vendor_request_digest_is_a_duplicate_within_its_window_only() {
        on_each_backend(|db| async move {
            let store = db.open().await;
            store.create_tenant("t1", "T1").await.unwrap();
            let secret = b"[[0,\"x-api-key\",\"k3y-v4lue-9d2c\"]]";
            let guard = |fresh_since| VendorRequestGuard {
                digest: "body-1",
                fresh_since,
                sealed_headers: Some(secret),
            };
            let first = store
                .enqueue_vendor_request(&event("p", "key:a"), guard(0))
                .await
                .unwrap();
            assert!(!first.duplicate);
            // The same request under another Idempotency-Key: the first event, nothing new.
            let resent = store
                .enqueue_vendor_request(&event("p", "key:b"), guard(0))
                .await
                .unwrap();
            assert_eq!((resent.id, resent.duplicate), (first.id, true));
            assert_eq!(store.count_events(None).await.unwrap().queued, 1);
            // Another plugin of the tenant has its own digests.
            let other = store
                .enqueue_vendor_request(&event("q", "key:b"), guard(0))
                .await
                .unwrap();
            assert!(!other.duplicate);
            // Once the digest is older than the window, the request is new again.
            let later = store
                .enqueue_vendor_request(&event("p", "key:c"), guard(now_ms() + 1))
                .await
                .unwrap();
            assert!(!later.duplicate);
            assert_ne!(later.id, first.id);

            // Sealed headers open again, per event, and are not stored in clear.
            assert_eq!(
                store
                    .event_sealed_headers(first.id)
                    .await
                    .unwrap()
                    .as_deref(),
                Some(&secret[..])
            );
            let plain = event("p", "key:d");
            let unsealed = store
                .enqueue_vendor_request(
                    &plain,
                    VendorRequestGuard {
                        digest: "body-2",
                        fresh_since: 0,
                        sealed_headers: None,
                    },
                )
                .await
                .unwrap();
            assert_eq!(store.event_sealed_headers(unsealed.id).await.unwrap(), None);
            if let Some(path) = &db.sqlite_path {
                store.close().await;
                for file in [path.clone(), path.with_extension("db-wal")] {
                    let bytes = std::fs::read(file).unwrap_or_default();
                    assert!(
                        !bytes.windows(15).any(|w| w == b"k3y-v4lue-9d2c\""),
                        "credential header stored in clear"
                    );
                }
            }
        })
        .await;
    }
}
