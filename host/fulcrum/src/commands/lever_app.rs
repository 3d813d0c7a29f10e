//! `fulcrum lever-app register|list|remove`: the Lever OAuth apps this host connects
//! installations with (the client id and secret Lever issues through its partner programme),
//! through the host's rules (`fulcrum_service::connections::oauth_apps`), as the admin API's
//! operator routes do. The client secret is read from a file or the environment, never from
//! the command line (where `ps` and shell history would keep it), and never printed.

use crate::commands::serve::StoreArgs;
use anyhow::{Context, bail};
use fulcrum_service::connections::oauth_apps::{self, NewApp};
use fulcrum_service::{Actor, DomainError};
use fulcrum_store::StoreError;
use secrecy::SecretString;
use std::path::PathBuf;

/// Where `lever-app register` reads the client secret when no file is given.
pub const CLIENT_SECRET_ENV: &str = "LEVER_CLIENT_SECRET";

#[derive(Debug, clap::Subcommand)]
pub enum LeverAppCommand {
    /// Register a Lever OAuth app, or replace it (secret included).
    Register {
        /// The app's id, e.g. `lever`: lower-case letters, digits, `-` and `_`.
        id: String,
        /// Shown to admins.
        #[arg(long)]
        name: String,
        /// The client id Lever issued.
        #[arg(long)]
        client_id: String,
        /// File holding the client secret Lever issued (else the LEVER_CLIENT_SECRET
        /// environment variable; never taken on the command line).
        #[arg(long)]
        client_secret_file: Option<PathBuf>,
        /// Lever's authorize endpoint (default: production Lever's).
        #[arg(long)]
        authorize_url: Option<String>,
        /// Lever's token endpoint (default: production Lever's).
        #[arg(long)]
        token_url: Option<String>,
        /// The API audience (default: production Lever's API).
        #[arg(long)]
        audience: Option<String>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List the registered apps (never their secrets).
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
    /// Remove an app no plugin and no connection uses.
    Remove {
        id: String,
        #[command(flatten)]
        store: StoreArgs,
    },
}

pub async fn run(command: LeverAppCommand) -> anyhow::Result<()> {
    match command {
        LeverAppCommand::Register {
            id,
            name,
            client_id,
            client_secret_file,
            authorize_url,
            token_url,
            audience,
            store,
        } => {
            let client_secret = client_secret(client_secret_file.as_deref())?;
            let app = NewApp {
                id,
                name,
                client_id,
                client_secret,
                authorize_url,
                token_url,
                audience,
            };
            register(&store, app).await
        }
        LeverAppCommand::List { store } => list(&store).await,
        LeverAppCommand::Remove { id, store } => remove(&store, &id).await,
    }
}

/// The secret from `--client-secret-file`, else LEVER_CLIENT_SECRET.
fn client_secret(file: Option<&std::path::Path>) -> anyhow::Result<SecretString> {
    let (text, source) = match file {
        Some(path) => (
            std::fs::read_to_string(path).with_context(|| {
                format!(
                    "could not read the client secret file {}; check the path and its permissions",
                    path.display()
                )
            })?,
            path.display().to_string(),
        ),
        None => match std::env::var(CLIENT_SECRET_ENV) {
            Ok(text) => (text, CLIENT_SECRET_ENV.to_owned()),
            Err(_) => bail!(
                "no client secret: pass --client-secret-file FILE or set {CLIENT_SECRET_ENV} \
                 (never on the command line)"
            ),
        },
    };
    let secret = text.trim();
    if secret.is_empty() {
        bail!(
            "the client secret in {source} is empty; put the secret Lever issued with the \
             client id there"
        );
    }
    Ok(SecretString::from(secret.to_owned()))
}

/// A refusal of the host's rules, in words for the command line (the store's own refusals
/// are about the input, not a database failure).
pub(crate) fn refusal(e: DomainError) -> anyhow::Error {
    match e {
        DomainError::Store(StoreError::Conflict(message) | StoreError::Invalid(message)) => {
            anyhow::anyhow!("{message}; nothing was changed")
        }
        DomainError::Store(e) => anyhow::Error::new(e)
            .context("the database failed; check it is reachable and migrated (`fulcrum migrate`)"),
        refused => refused.into(),
    }
}

async fn register(args: &StoreArgs, app: NewApp) -> anyhow::Result<()> {
    let store = args.open().await?;
    let host = crate::commands::plugin::cli_host(store.clone(), args)?;
    let registered = oauth_apps::register(
        &host,
        &Actor::command_line("fulcrum lever-app register"),
        app,
    )
    .await
    .map_err(refusal);
    store.close().await;
    let app = registered?;
    println!(
        "registered Lever OAuth app {} ({}), client id {}; secret stored encrypted",
        app.id, app.name, app.client_id
    );
    println!(
        "assign it to a plugin with `fulcrum plugin lever-app PLUGIN {}`",
        app.id
    );
    Ok(())
}

async fn list(args: &StoreArgs) -> anyhow::Result<()> {
    let store = args.open().await?;
    let host = crate::commands::plugin::cli_host(store.clone(), args)?;
    let apps = oauth_apps::list(&host).await.map_err(refusal);
    store.close().await;
    let apps = apps?;
    if apps.is_empty() {
        println!(
            "no Lever OAuth apps; register one with `fulcrum lever-app register ID --name NAME \
             --client-id ID --client-secret-file FILE`"
        );
        return Ok(());
    }
    let rows: Vec<[String; 5]> = apps
        .into_iter()
        .map(|a| {
            [
                a.id,
                a.name,
                a.client_id,
                a.authorize_url,
                crate::commands::tenant::utc(a.updated_at),
            ]
        })
        .collect();
    print!(
        "{}",
        crate::commands::tenant::table(
            ["APP", "NAME", "CLIENT ID", "AUTHORIZE URL", "UPDATED (UTC)"],
            &rows
        )
    );
    Ok(())
}

async fn remove(args: &StoreArgs, id: &str) -> anyhow::Result<()> {
    let store = args.open().await?;
    let host = crate::commands::plugin::cli_host(store.clone(), args)?;
    let removed = oauth_apps::remove(&host, &Actor::command_line("fulcrum lever-app remove"), id)
        .await
        .map_err(refusal);
    store.close().await;
    if removed? {
        println!("removed Lever OAuth app {id}");
        Ok(())
    } else {
        bail!("no Lever OAuth app {id:?} is registered; `fulcrum lever-app list` lists them")
    }
}
