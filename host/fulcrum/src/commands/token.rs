//! `fulcrum token issue|list|revoke`: admin API bearer tokens, straight in the store. This is
//! how the first platform-operator token comes to exist; after that, tokens can also be
//! managed through the admin API. A token is printed once, when issued, and stored hashed.

use crate::commands::serve::StoreArgs;
use anyhow::{Context, bail};
use fulcrum_store::{Role, StoreError};
use secrecy::ExposeSecret;

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
            store,
        } => {
            let store = store.open().await?;
            let issued = store
                .issue_api_token(role, tenant.as_deref(), label.trim())
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
                "issued token {} ({}{}); it is shown once, store it now:",
                token.id,
                token.role,
                token
                    .tenant_id
                    .as_deref()
                    .map(|t| format!(", tenant {t}"))
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
                "{:>6}  {:<20}  {:<20}  {:<8}  label",
                "id", "role", "tenant", "status"
            );
            for t in tokens {
                println!(
                    "{:>6}  {:<20}  {:<20}  {:<8}  {}",
                    t.id,
                    t.role.as_str(),
                    t.tenant_id.as_deref().unwrap_or("-"),
                    if t.revoked_at.is_some() {
                        "revoked"
                    } else {
                        "active"
                    },
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
