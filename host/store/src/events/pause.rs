//! Holding back an installation's events while its Lever connection needs reconnecting: a
//! worker that finds the connection broken puts its event back without counting the try, and
//! reconnecting makes the held events due at once.

use super::claim::claim_lost;
use crate::events::Claim;
use crate::{Result, Store, now_ms};

impl Store {
    /// Puts the event `claim` holds back in the queue, paused: the try does not count
    /// (`attempts` goes back down), `last_error` says `reason`, and it is due again at
    /// `recheck_at` (unix ms) unless [`Store::resume_paused_events`] makes it due sooner.
    /// Later events of its subject keep waiting behind it. [`crate::StoreError::ClaimLost`]
    /// when the claim no longer holds the event.
    pub async fn pause_event(&self, claim: Claim, recheck_at: i64, reason: &str) -> Result<()> {
        let now = now_ms();
        let n = on_pool!(self, |pool| sqlx::query(
            "UPDATE events SET status = 'queued', paused = TRUE,
                 attempts = CASE WHEN attempts > 0 THEN attempts - 1 ELSE 0 END,
                 next_attempt_at = $3, last_error = $4, claimed_by = NULL, lease_until = NULL,
                 updated_at = $5
             WHERE id = $1 AND claims = $2 AND status = 'running'"
        )
        .bind(claim.event_id)
        .bind(claim.seq)
        .bind(recheck_at)
        .bind(reason)
        .bind(now)
        .execute(pool)
        .await?
        .rows_affected());
        if n == 1 {
            Ok(())
        } else {
            Err(claim_lost(claim, "paused"))
        }
    }

    /// Makes the installation's paused events due now (unpaused); returns how many.
    pub async fn resume_paused_events(&self, tenant_id: &str, inst: &str) -> Result<u64> {
        let now = now_ms();
        Ok(on_pool!(self, |pool| sqlx::query(
            "UPDATE events SET paused = FALSE, updated_at = $3,
                 next_attempt_at = CASE WHEN next_attempt_at > $3 THEN $3 ELSE next_attempt_at END
             WHERE tenant_id = $1 AND plugin_id = $2 AND paused AND status = 'queued'"
        )
        .bind(tenant_id)
        .bind(inst)
        .bind(now)
        .execute(pool)
        .await?
        .rows_affected()))
    }
}
