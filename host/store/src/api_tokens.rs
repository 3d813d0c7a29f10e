//! Bearer tokens of the admin API, each with a role and (for tenant roles) a tenant.
//!
//! A token is `fulcrum_` + base64url of 32 random bytes. It is handed out once, when issued;
//! the store keeps only its SHA-256 (a fast hash suffices: 256 random bits cannot be guessed
//! from the hash), so neither the database nor a listing ever shows a usable token. A token may
//! carry an expiry, set when it is issued (migration 0011); past it the token no longer
//! authenticates and [`Store::check_api_token`] says so, so the caller can tell its holder to
//! get a new one.

use crate::{Result, Store, StoreError, now_ms};
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use rand::RngCore as _;
use secrecy::SecretString;
use sha2::{Digest, Sha256};
use std::fmt;
use std::str::FromStr;

/// Every token starts with this, so a token pasted somewhere is recognisable (and scannable).
pub const API_TOKEN_PREFIX: &str = "fulcrum_";
/// Random bytes in a token.
const TOKEN_BYTES: usize = 32;

/// What a token may do. Tenant roles are ordered: a super admin can do what an admin can, an
/// admin what a member can.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Role {
    /// Runs the platform: installs plugins, manages tenants. Belongs to no tenant.
    PlatformOperator,
    /// The only tenant role that enables plugins and approves their permissions.
    TenantSuperAdmin,
    /// Configures installations and triggers admin actions.
    TenantAdmin,
    /// Reads status.
    TenantMember,
}

impl Role {
    pub const ALL: [Role; 4] = [
        Role::PlatformOperator,
        Role::TenantSuperAdmin,
        Role::TenantAdmin,
        Role::TenantMember,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::PlatformOperator => "platform-operator",
            Role::TenantSuperAdmin => "tenant-super-admin",
            Role::TenantAdmin => "tenant-admin",
            Role::TenantMember => "tenant-member",
        }
    }

    /// Whether tokens of this role belong to a tenant.
    pub fn is_tenant_role(self) -> bool {
        self != Role::PlatformOperator
    }

    /// Whether this tenant role includes everything `other` may do (always false for the
    /// platform operator, who holds no tenant role).
    pub fn includes(self, other: Role) -> bool {
        fn rank(role: Role) -> Option<u8> {
            match role {
                Role::PlatformOperator => None,
                Role::TenantMember => Some(1),
                Role::TenantAdmin => Some(2),
                Role::TenantSuperAdmin => Some(3),
            }
        }
        matches!((rank(self), rank(other)), (Some(a), Some(b)) if a >= b)
    }
}

impl fmt::Display for Role {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A role name that is not one of [`Role::ALL`].
#[derive(Debug, Clone, thiserror::Error)]
#[error(
    "unknown role {0:?}: use platform-operator, tenant-super-admin, tenant-admin or tenant-member"
)]
pub struct UnknownRole(pub String);

impl FromStr for Role {
    type Err = UnknownRole;

    fn from_str(s: &str) -> std::result::Result<Self, Self::Err> {
        Role::ALL
            .into_iter()
            .find(|role| role.as_str() == s)
            .ok_or_else(|| UnknownRole(s.to_owned()))
    }
}

/// A token's record: never its value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ApiToken {
    pub id: i64,
    pub role: Role,
    /// `None` exactly for platform operators.
    pub tenant_id: Option<String>,
    pub label: String,
    pub created_at: i64,
    pub revoked_at: Option<i64>,
    /// Unix milliseconds after which the token no longer works; `None`: it never expires.
    pub expires_at: Option<i64>,
}

impl ApiToken {
    /// Whether the token has expired at `now` (Unix milliseconds).
    pub fn is_expired_at(&self, now: i64) -> bool {
        self.expires_at.is_some_and(|at| at <= now)
    }
}

/// What a presented token turned out to be.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TokenCheck {
    /// Issued, not revoked, not expired.
    Valid(ApiToken),
    /// Issued and not revoked, but past its expiry: its holder needs a new one.
    Expired(ApiToken),
    /// Not a token this store issued, or a revoked one.
    Unknown,
}

/// A newly issued token: the only time its value exists outside the caller's hands.
#[derive(Debug)]
pub struct IssuedToken {
    pub token: ApiToken,
    pub plaintext: SecretString,
}

#[derive(sqlx::FromRow)]
struct ApiTokenRow {
    id: i64,
    role: String,
    tenant_id: Option<String>,
    label: String,
    created_at: i64,
    revoked_at: Option<i64>,
    expires_at: Option<i64>,
}

impl ApiTokenRow {
    fn into_token(self) -> Result<ApiToken> {
        let role = self.role.parse().map_err(|_| StoreError::Corrupt {
            what: "api token role",
            value: self.role.clone(),
        })?;
        Ok(ApiToken {
            id: self.id,
            role,
            tenant_id: self.tenant_id,
            label: self.label,
            created_at: self.created_at,
            revoked_at: self.revoked_at,
            expires_at: self.expires_at,
        })
    }
}

const TOKEN_COLUMNS: &str = "id, role, tenant_id, label, created_at, revoked_at, expires_at";
/// Longest label accepted.
pub const MAX_TOKEN_LABEL: usize = 200;

fn token_sha256(plaintext: &str) -> String {
    hex::encode(Sha256::digest(plaintext.as_bytes()))
}

impl Store {
    /// Issues a token for `role` that never expires: platform operators have no tenant, tenant
    /// roles must name an existing tenant. Returns the plaintext, which is not kept.
    pub async fn issue_api_token(
        &self,
        role: Role,
        tenant_id: Option<&str>,
        label: &str,
    ) -> Result<IssuedToken> {
        self.issue_api_token_with_expiry(role, tenant_id, label, None)
            .await
    }

    /// [`Store::issue_api_token`], working until `expires_at` (Unix milliseconds, in the
    /// future) when given.
    pub async fn issue_api_token_with_expiry(
        &self,
        role: Role,
        tenant_id: Option<&str>,
        label: &str,
        expires_at: Option<i64>,
    ) -> Result<IssuedToken> {
        match (role.is_tenant_role(), tenant_id) {
            (false, Some(_)) => {
                return Err(StoreError::Invalid(
                    "a platform-operator token belongs to no tenant; leave the tenant out".into(),
                ));
            }
            (true, None) => {
                return Err(StoreError::Invalid(format!(
                    "a {role} token needs the tenant it belongs to"
                )));
            }
            _ => {}
        }
        if label.chars().count() > MAX_TOKEN_LABEL {
            return Err(StoreError::Invalid(format!(
                "the label is longer than {MAX_TOKEN_LABEL} characters"
            )));
        }
        if let Some(tenant) = tenant_id
            && self.get_tenant(tenant).await?.is_none()
        {
            return Err(StoreError::NotFound(format!("tenant {tenant:?}")));
        }
        let created_at = now_ms();
        if let Some(at) = expires_at
            && at <= created_at
        {
            return Err(StoreError::Invalid(
                "the expiry must be in the future".into(),
            ));
        }
        let mut bytes = [0u8; TOKEN_BYTES];
        rand::rng().fill_bytes(&mut bytes);
        let plaintext = format!("{API_TOKEN_PREFIX}{}", URL_SAFE_NO_PAD.encode(bytes));
        let id = on_pool!(self, |pool| {
            sqlx::query_scalar::<_, i64>(
            "INSERT INTO api_tokens (token_sha256, role, tenant_id, label, created_at, expires_at)
             VALUES ($1, $2, $3, $4, $5, $6) RETURNING id"
        )
        .bind(token_sha256(&plaintext))
        .bind(role.as_str())
        .bind(tenant_id)
        .bind(label)
        .bind(created_at)
        .bind(expires_at)
        .fetch_one(pool)
        .await?
        });
        Ok(IssuedToken {
            token: ApiToken {
                id,
                role,
                tenant_id: tenant_id.map(str::to_owned),
                label: label.to_owned(),
                created_at,
                revoked_at: None,
                expires_at,
            },
            plaintext: SecretString::from(plaintext),
        })
    }

    /// The live (not revoked, not expired) token with this value, if any.
    pub async fn authenticate_api_token(&self, plaintext: &str) -> Result<Option<ApiToken>> {
        Ok(match self.check_api_token(plaintext, now_ms()).await? {
            TokenCheck::Valid(token) => Some(token),
            TokenCheck::Expired(_) | TokenCheck::Unknown => None,
        })
    }

    /// What the token with this value is at `now` (Unix milliseconds): valid, expired (so the
    /// caller can say a new one is needed), or unknown (never issued, or revoked).
    pub async fn check_api_token(&self, plaintext: &str, now: i64) -> Result<TokenCheck> {
        // Not our format: no need to ask the database.
        if !plaintext.starts_with(API_TOKEN_PREFIX) || plaintext.len() > 128 {
            return Ok(TokenCheck::Unknown);
        }
        let row = on_pool!(self, |pool| {
            sqlx::query_as::<_, ApiTokenRow>(
            sqlx::AssertSqlSafe(format!(
                "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE token_sha256 = $1 AND revoked_at IS NULL"
            ))
        )
        .bind(token_sha256(plaintext))
        .fetch_optional(pool)
        .await?
        });
        Ok(match row.map(ApiTokenRow::into_token).transpose()? {
            None => TokenCheck::Unknown,
            Some(token) if token.is_expired_at(now) => TokenCheck::Expired(token),
            Some(token) => TokenCheck::Valid(token),
        })
    }

    pub async fn get_api_token(&self, id: i64) -> Result<Option<ApiToken>> {
        let row = on_pool!(self, |pool| sqlx::query_as::<_, ApiTokenRow>(
            sqlx::AssertSqlSafe(format!(
                "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE id = $1"
            ))
        )
        .bind(id)
        .fetch_optional(pool)
        .await?);
        row.map(ApiTokenRow::into_token).transpose()
    }

    /// Tokens (revoked ones included), by id: of one tenant, or (`None`) every token.
    pub async fn list_api_tokens(&self, tenant_id: Option<&str>) -> Result<Vec<ApiToken>> {
        let rows = on_pool!(self, |pool| {
            sqlx::query_as::<_, ApiTokenRow>(
            sqlx::AssertSqlSafe(format!(
                "SELECT {TOKEN_COLUMNS} FROM api_tokens WHERE ($1 IS NULL OR tenant_id = $1) ORDER BY id"
            ))
        )
        .bind(tenant_id)
        .fetch_all(pool)
        .await?
        });
        rows.into_iter().map(ApiTokenRow::into_token).collect()
    }

    /// Revokes a token (revoking it again changes nothing); returns its record.
    pub async fn revoke_api_token(&self, id: i64) -> Result<ApiToken> {
        let now = now_ms();
        on_pool!(self, |pool| sqlx::query(
            "UPDATE api_tokens SET revoked_at = $2 WHERE id = $1 AND revoked_at IS NULL"
        )
        .bind(id)
        .bind(now)
        .execute(pool)
        .await?
        .rows_affected());
        self.get_api_token(id)
            .await?
            .ok_or_else(|| StoreError::NotFound(format!("api token {id}")))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn roles_round_trip_and_rank() {
        for role in Role::ALL {
            assert_eq!(role.as_str().parse::<Role>().unwrap(), role);
        }
        assert!("admin".parse::<Role>().is_err());
        assert!(Role::TenantSuperAdmin.includes(Role::TenantAdmin));
        assert!(Role::TenantAdmin.includes(Role::TenantMember));
        assert!(!Role::TenantMember.includes(Role::TenantAdmin));
        assert!(!Role::TenantAdmin.includes(Role::TenantSuperAdmin));
        assert!(!Role::PlatformOperator.includes(Role::TenantMember));
        assert!(!Role::TenantSuperAdmin.includes(Role::PlatformOperator));
    }
}
