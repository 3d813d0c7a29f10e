//! Which Lever user an installation acts as (`perform_as`) and which users it may act as
//! (migration 0012).

use crate::lever_connections::check_installation_id;
use crate::{Result, Store, StoreError, now_ms};

/// Longest Lever user id accepted (Lever's are UUIDs).
const MAX_USER_ID_LEN: usize = 200;

/// An installation's Lever identity.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct InstallationIdentity {
    /// The Lever user writes are attributed to; `None`: the tenant's default.
    pub acting_user_id: Option<String>,
    /// The Lever users the installation may act as, in the order given, without repeats.
    pub allowed_acting_users: Vec<String>,
    pub updated_at: i64,
}

fn check_user_id(id: &str) -> Result<()> {
    if id.trim().is_empty() || id.len() > MAX_USER_ID_LEN {
        return Err(StoreError::Invalid(format!(
            "a Lever user id must be 1 to {MAX_USER_ID_LEN} bytes (the user's id from Lever's /users)"
        )));
    }
    Ok(())
}

impl Store {
    /// Sets (replaces) the installation's Lever identity. `NotFound` for an unknown tenant.
    pub async fn set_installation_identity(
        &self,
        tenant_id: &str,
        inst: &str,
        acting_user_id: Option<&str>,
        allowed_acting_users: &[String],
    ) -> Result<InstallationIdentity> {
        check_installation_id(inst)?;
        if let Some(id) = acting_user_id {
            check_user_id(id)?;
        }
        let mut allowed: Vec<String> = Vec::with_capacity(allowed_acting_users.len());
        for id in allowed_acting_users {
            check_user_id(id)?;
            if !allowed.contains(id) {
                allowed.push(id.clone());
            }
        }
        let allowed_text = serde_json::Value::from(allowed.clone()).to_string();
        let now = now_ms();
        let done = on_pool!(self, |pool| sqlx::query(
            "INSERT INTO installation_identities (tenant_id, installation_id, acting_user_id,
                 allowed_acting_users, updated_at)
             VALUES ($1, $2, $3, $4, $5)
             ON CONFLICT (tenant_id, installation_id) DO UPDATE SET
                 acting_user_id = excluded.acting_user_id,
                 allowed_acting_users = excluded.allowed_acting_users,
                 updated_at = excluded.updated_at"
        )
        .bind(tenant_id)
        .bind(inst)
        .bind(acting_user_id)
        .bind(&allowed_text)
        .bind(now)
        .execute(pool)
        .await
        .map(|done| done.rows_affected()));
        match done {
            Ok(_) => Ok(InstallationIdentity {
                acting_user_id: acting_user_id.map(str::to_owned),
                allowed_acting_users: allowed,
                updated_at: now,
            }),
            Err(e) if crate::lever_connections::is_foreign_key_violation(&e) => {
                Err(StoreError::NotFound(format!("tenant {tenant_id:?}")))
            }
            Err(e) => Err(e.into()),
        }
    }

    /// The installation's Lever identity; `None` when none was set.
    pub async fn installation_identity(
        &self,
        tenant_id: &str,
        inst: &str,
    ) -> Result<Option<InstallationIdentity>> {
        let row = on_pool!(self, |pool| sqlx::query_as::<
            _,
            (Option<String>, String, i64),
        >(
            "SELECT acting_user_id, allowed_acting_users, updated_at FROM installation_identities
             WHERE tenant_id = $1 AND installation_id = $2"
        )
        .bind(tenant_id)
        .bind(inst)
        .fetch_optional(pool)
        .await?);
        let Some((acting_user_id, allowed, updated_at)) = row else {
            return Ok(None);
        };
        let allowed_acting_users =
            serde_json::from_str::<Vec<String>>(&allowed).map_err(|_| StoreError::Corrupt {
                what: "installation allowed_acting_users",
                value: allowed.clone(),
            })?;
        Ok(Some(InstallationIdentity {
            acting_user_id,
            allowed_acting_users,
            updated_at,
        }))
    }
}
