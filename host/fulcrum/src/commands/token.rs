//! `fulcrum token issue|list|revoke`: admin API bearer tokens, straight in the store. This is
//! how the first platform-operator token comes to exist; after that, tokens can also be
//! managed through the admin API. A token is printed once, when issued, and stored hashed; it
//! may be given an expiry (`--expires-in-days`), after which it answers 401 and its holder needs
//! a new one.

use crate::commands::serve::StoreArgs;
use anyhow::{Context, bail};
use fulcrum_store::{Role, StoreError, now_ms};
use secrecy::ExposeSecret;

/// Longest expiry `--expires-in-days` takes: ten years.
const MAX_EXPIRY_DAYS: u32 = 3650;
const DAY_MS: i64 = 24 * 60 * 60 * 1000;

#[derive(Debug, clap::Subcommand)]
pub enum TokenCommand {
    /// Issue a token and print it (once: it is stored hashed and cannot be shown again).
    Issue {
        /// platform-operator, tenant-super-admin, tenant-admin or tenant-member.
        #[arg(long)]
        role: Role,
        /// The tenant of a tenant role (not for platform-operator).
        #[arg(long)]
        tenant: Option<String>,
        /// Who or what the token is for.
        #[arg(long, default_value = "")]
        label: String,
        /// Make the token stop working after this many days (1-3650); without it, it works
        /// until revoked.
        #[arg(long, value_parser = clap::value_parser!(u32).range(1..=MAX_EXPIRY_DAYS as i64))]
        expires_in_days: Option<u32>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List the tokens (never their values), revoked ones included.
    List {
        /// Only this tenant's tokens.
        #[arg(long)]
        tenant: Option<String>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Revoke a token by id: it stops working at once.
    Revoke {
        id: i64,
        #[command(flatten)]
        store: StoreArgs,
    },
}

pub async fn run(command: TokenCommand) -> anyhow::Result<()> {
    match command {
        TokenCommand::Issue {
            role,
            tenant,
            label,
            expires_in_days,
            store,
        } => {
            let store = store.open().await?;
            let expires_at = expires_in_days.map(|days| now_ms() + i64::from(days) * DAY_MS);
            let issued = store
                .issue_api_token_with_expiry(role, tenant.as_deref(), label.trim(), expires_at)
                .await
                .map_err(|e| match e {
                    StoreError::Invalid(message) if role.is_tenant_role() => {
                        anyhow::anyhow!("{message}: pass --tenant TENANT")
                    }
                    StoreError::Invalid(message) => anyhow::anyhow!("{message} (no --tenant)"),
                    StoreError::NotFound(what) => anyhow::anyhow!(
                        "{what} does not exist; create it first (`fulcrum tenant create`)"
                    ),
                    other => anyhow::Error::new(other).context("could not issue the token"),
                })?;
            let token = &issued.token;
            eprintln!(
                "issued token {} ({}{}{}); it is shown once, store it now:",
                token.id,
                token.role,
                token
                    .tenant_id
                    .as_deref()
                    .map(|t| format!(", tenant {t}"))
                    .unwrap_or_default(),
                expires_in_days
                    .map(|days| format!(", expires in {days} days"))
                    .unwrap_or_default()
            );
            // Alone on stdout, so `TOKEN=$(fulcrum token issue ...)` captures just the token.
            println!("{}", issued.plaintext.expose_secret());
            Ok(())
        }
        TokenCommand::List { tenant, store } => {
            let store = store.open().await?;
            let tokens = store
                .list_api_tokens(tenant.as_deref())
                .await
                .context("could not list the tokens")?;
            if tokens.is_empty() {
                println!(
                    "no tokens; issue one with `fulcrum token issue --role platform-operator`"
                );
                return Ok(());
            }
            println!(
                "{:>6}  {:<20}  {:<20}  {:<8}  {:<14}  label",
                "id", "role", "tenant", "status", "expires"
            );
            let now = now_ms();
            for t in tokens {
                let status = if t.revoked_at.is_some() {
                    "revoked"
                } else if t.is_expired_at(now) {
                    "expired"
                } else {
                    "active"
                };
                println!(
                    "{:>6}  {:<20}  {:<20}  {:<8}  {:<14}  {}",
                    t.id,
                    t.role.as_str(),
                    t.tenant_id.as_deref().unwrap_or("-"),
                    status,
                    expiry_column(t.expires_at, now),
                    t.label
                );
            }
            Ok(())
        }
        TokenCommand::Revoke { id, store } => {
            let store = store.open().await?;
            match store.revoke_api_token(id).await {
                Ok(token) => {
                    println!("token {} ({}) is revoked", token.id, token.role);
                    Ok(())
                }
                Err(StoreError::NotFound(_)) => {
                    bail!("there is no token {id}; `fulcrum token list` shows the ids")
                }
                Err(e) => Err(anyhow::Error::new(e).context("could not revoke the token")),
            }
        }
    }
}

/// How long until `expires_at` (Unix milliseconds), for the listing: `never`, `expired`, or
/// days and hours left.
fn expiry_column(expires_at: Option<i64>, now: i64) -> String {
    const HOUR_MS: u64 = 60 * 60 * 1000;
    match expires_at {
        None => "never".to_owned(),
        Some(at) if at <= now => "expired".to_owned(),
        Some(at) => {
            let hours = (at - now).unsigned_abs().div_ceil(HOUR_MS);
            format!("in {} d {} h", hours / 24, hours % 24)
        }
    }
}

#[cfg(test)]
mod tests {
    use super::{DAY_MS, expiry_column};

    #[test]
    fn the_listing_says_how_long_a_token_has_left() {
        assert_eq!(expiry_column(None, 5), "never");
        assert_eq!(expiry_column(Some(5), 5), "expired");
        assert_eq!(expiry_column(Some(30 * DAY_MS), 0), "in 30 d 0 h");
        assert_eq!(expiry_column(Some(DAY_MS + 1), 0), "in 1 d 1 h");
    }
}
