//! Plugin key/value state (scoped by tenant × plugin) and the audit log.

use crate::{Result, Store, now_ms};

/// Most keys one `state_list_keys` call returns, whatever the caller asks.
pub const MAX_LIST_KEYS: i64 = 1000;

/// One staged plugin state change, applied by [`Store::complete_event_with_state`] in the same
/// transaction that completes the event.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StateWrite {
    pub tenant_id: String,
    pub plugin_id: String,
    pub key: String,
    /// The new value; `None` deletes the key.
    pub value: Option<Vec<u8>>,
}

pub(crate) const STATE_UPSERT: &str = "INSERT INTO plugin_state (tenant_id, plugin_id, key, value, updated_at) VALUES ($1, $2, $3, $4, $5)
     ON CONFLICT (tenant_id, plugin_id, key) DO UPDATE SET value = excluded.value, updated_at = excluded.updated_at";

pub(crate) const STATE_DELETE: &str =
    "DELETE FROM plugin_state WHERE tenant_id = $1 AND plugin_id = $2 AND key = $3";

/// One audit record to append. Holds no secrets: callers pass names and outcomes only.
#[derive(Debug, Clone, Default)]
pub struct NewAuditEntry {
    pub tenant_id: String,
    pub plugin_id: Option<String>,
    pub event_id: Option<i64>,
    pub operation: String,
    pub permission: Option<String>,
    pub outcome: String,
    pub detail: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, sqlx::FromRow)]
pub struct AuditEntry {
    pub id: i64,
    pub at: i64,
    pub tenant_id: String,
    pub plugin_id: Option<String>,
    pub event_id: Option<i64>,
    pub operation: String,
    pub permission: Option<String>,
    pub outcome: String,
    pub detail: Option<String>,
}

impl Store {
    pub async fn state_get(
        &self,
        tenant_id: &str,
        plugin_id: &str,
        key: &str,
    ) -> Result<Option<Vec<u8>>> {
        Ok(on_pool!(self, |pool| sqlx::query_scalar::<_, Vec<u8>>(
            "SELECT value FROM plugin_state WHERE tenant_id = $1 AND plugin_id = $2 AND key = $3"
        )
        .bind(tenant_id)
        .bind(plugin_id)
        .bind(key)
        .fetch_optional(pool)
        .await?))
    }

    pub async fn state_set(
        &self,
        tenant_id: &str,
        plugin_id: &str,
        key: &str,
        value: &[u8],
    ) -> Result<()> {
        let now = now_ms();
        on_pool!(self, |pool| {
            sqlx::query(STATE_UPSERT)
                .bind(tenant_id)
                .bind(plugin_id)
                .bind(key)
                .bind(value)
                .bind(now)
                .execute(pool)
                .await?
                .rows_affected()
        });
        Ok(())
    }

    /// Delete a key; returns whether it existed.
    pub async fn state_delete(&self, tenant_id: &str, plugin_id: &str, key: &str) -> Result<bool> {
        let n = on_pool!(self, |pool| sqlx::query(STATE_DELETE)
            .bind(tenant_id)
            .bind(plugin_id)
            .bind(key)
            .execute(pool)
            .await?
            .rows_affected());
        Ok(n > 0)
    }

    /// Keys starting with `prefix`, strictly after `after` (for paging), in byte order, at most
    /// `limit` (capped at [`MAX_LIST_KEYS`]).
    pub async fn state_list_keys(
        &self,
        tenant_id: &str,
        plugin_id: &str,
        prefix: &str,
        after: Option<&str>,
        limit: u32,
    ) -> Result<Vec<String>> {
        let limit = i64::from(limit).min(MAX_LIST_KEYS);
        // substr/length instead of LIKE: no wildcard escaping, and case-sensitive on both backends.
        Ok(on_pool!(self, |pool| sqlx::query_scalar::<_, String>(
            "SELECT key FROM plugin_state
             WHERE tenant_id = $1 AND plugin_id = $2 AND substr(key, 1, length($3)) = $3
               AND ($4 IS NULL OR key > $4)
             ORDER BY key LIMIT $5"
        )
        .bind(tenant_id)
        .bind(plugin_id)
        .bind(prefix)
        .bind(after)
        .bind(limit)
        .fetch_all(pool)
        .await?))
    }

    /// Append to the audit log; returns the entry id.
    pub async fn audit_append(&self, entry: &NewAuditEntry) -> Result<i64> {
        let at = now_ms();
        Ok(on_pool!(self, |pool| {
            sqlx::query_scalar::<_, i64>(
            "INSERT INTO audit_log (at, tenant_id, plugin_id, event_id, operation, permission, outcome, detail)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8) RETURNING id"
        )
        .bind(at)
        .bind(&entry.tenant_id)
        .bind(&entry.plugin_id)
        .bind(entry.event_id)
        .bind(&entry.operation)
        .bind(&entry.permission)
        .bind(&entry.outcome)
        .bind(&entry.detail)
        .fetch_one(pool)
        .await?
        }))
    }

    /// Append several entries in one transaction (one invocation's trail).
    pub async fn audit_append_many(&self, entries: &[NewAuditEntry]) -> Result<()> {
        if entries.is_empty() {
            return Ok(());
        }
        let at = now_ms();
        const INSERT: &str = "INSERT INTO audit_log (at, tenant_id, plugin_id, event_id, operation, permission, outcome, detail)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8)";
        on_pool!(self, |pool| {
            let mut tx = pool.begin().await?;
            for entry in entries {
                sqlx::query(INSERT)
                    .bind(at)
                    .bind(&entry.tenant_id)
                    .bind(&entry.plugin_id)
                    .bind(entry.event_id)
                    .bind(&entry.operation)
                    .bind(&entry.permission)
                    .bind(&entry.outcome)
                    .bind(&entry.detail)
                    .execute(&mut *tx)
                    .await?;
            }
            tx.commit().await?;
        });
        Ok(())
    }

    /// A tenant's audit entries, newest first, at most `limit`.
    pub async fn audit_list(&self, tenant_id: &str, limit: u32) -> Result<Vec<AuditEntry>> {
        Ok(on_pool!(self, |pool| sqlx::query_as::<_, AuditEntry>(
            "SELECT id, at, tenant_id, plugin_id, event_id, operation, permission, outcome, detail
             FROM audit_log WHERE tenant_id = $1 ORDER BY id DESC LIMIT $2"
        )
        .bind(tenant_id)
        .bind(i64::from(limit))
        .fetch_all(pool)
        .await?))
    }
}
