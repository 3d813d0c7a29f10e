//! Removing an installation: marked first (disabled, `removing_since` set) while its plugin's
//! `removing` hook runs, then everything keyed on it deleted in one transaction. The audit log
//! is kept (it is the tenant's record of what happened), and so is the event that ran the
//! hook, until retention deletes it like any other.

use crate::{Result, Store, now_ms};

/// Tables keyed on (tenant, installation) under the column that names the installation.
const INSTALLATION_TABLES: &[(&str, &str)] = &[
    ("installation_secrets", "plugin_id"),
    ("plugin_state", "plugin_id"),
    ("schedules", "plugin_id"),
    ("vendor_request_digests", "plugin_id"),
    ("lever_connections", "installation_id"),
    ("lever_oauth_states", "installation_id"),
    ("installation_identities", "installation_id"),
    ("lever_managed_webhooks", "installation_id"),
];

impl Store {
    /// Marks the installation as being removed and disables it (its ingress refuses, its
    /// schedules stop, its events wait); returns when it was first marked, `None` when there
    /// is no such installation. Marking it again keeps the first time.
    pub async fn mark_installation_removing(
        &self,
        tenant_id: &str,
        installation: &str,
    ) -> Result<Option<i64>> {
        let now = now_ms();
        on_pool!(self, |pool| {
            sqlx::query(
                "UPDATE installations SET enabled = FALSE, updated_at = $3,
                     removing_since = COALESCE(removing_since, $3)
                 WHERE tenant_id = $1 AND plugin_id = $2",
            )
            .bind(tenant_id)
            .bind(installation)
            .bind(now)
            .execute(pool)
            .await?
            .rows_affected()
        });
        self.installation_removing_since(tenant_id, installation)
            .await
            .map(|since| since.flatten())
    }

    /// When the installation was marked for removal: `Some(None)` when it is not being
    /// removed, `None` when there is no such installation.
    pub async fn installation_removing_since(
        &self,
        tenant_id: &str,
        installation: &str,
    ) -> Result<Option<Option<i64>>> {
        Ok(on_pool!(self, |pool| {
            sqlx::query_scalar::<_, Option<i64>>(
                "SELECT removing_since FROM installations WHERE tenant_id = $1 AND plugin_id = $2",
            )
            .bind(tenant_id)
            .bind(installation)
            .fetch_optional(pool)
            .await?
        }))
    }

    /// Deletes the installation and everything keyed on it (secrets, state, schedules, events
    /// with their journal and sealed headers, replay digests, Lever connection, OAuth states,
    /// identity, managed webhook rows) but the audit log and the event `keep_event` (the one
    /// that ran its `removing` hook). `false` when there was no such installation.
    pub async fn delete_installation(
        &self,
        tenant_id: &str,
        installation: &str,
        keep_event: Option<i64>,
    ) -> Result<bool> {
        in_tx!(self, |tx| {
            for (table, column) in INSTALLATION_TABLES {
                sqlx::query(sqlx::AssertSqlSafe(format!(
                    "DELETE FROM {table} WHERE tenant_id = $1 AND {column} = $2"
                )))
                .bind(tenant_id)
                .bind(installation)
                .execute(&mut *tx)
                .await?;
            }
            // The journal and sealed headers go with their events (ON DELETE CASCADE).
            sqlx::query(
                "DELETE FROM events WHERE tenant_id = $1 AND plugin_id = $2
                     AND id <> COALESCE($3, -1)",
            )
            .bind(tenant_id)
            .bind(installation)
            .bind(keep_event)
            .execute(&mut *tx)
            .await?;
            let removed =
                sqlx::query("DELETE FROM installations WHERE tenant_id = $1 AND plugin_id = $2")
                    .bind(tenant_id)
                    .bind(installation)
                    .execute(&mut *tx)
                    .await?
                    .rows_affected();
            tx.commit().await?;
            Ok(removed > 0)
        })
    }
}
