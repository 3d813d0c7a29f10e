//! `fulcrum connection show|api-key|test|users|disconnect|identity TENANT PLUGIN`: an
//! installation's own Lever connection and the Lever user it acts as, through the host's
//! rules (`fulcrum_service::connections`), as the admin API does: a key is probed before it
//! is stored, the identity is checked against Lever, and every change is audited as the
//! command line. The API key is read from a file or standard input, never from the command
//! line (where `ps` and shell history would keep it), and never printed. OAuth connect needs
//! a browser: start it from the admin API (`POST .../connection/oauth`).

use crate::commands::lever_app::refusal;
use crate::commands::serve::StoreArgs;
use anyhow::{Context, bail};
use fulcrum_service::connections::{self, ConnectionInfo, ProbeReport};
use fulcrum_service::{Actor, Host};
use secrecy::SecretString;
use std::io::Read as _;
use std::path::{Path, PathBuf};

/// Which installation, and how to reach Lever.
#[derive(Debug, clap::Args)]
pub struct Target {
    /// The tenant's id.
    tenant: String,
    /// The plugin's id (the installation).
    plugin: String,
    /// Lever's API base URL for tenants that set none of their own (as `serve`'s).
    #[arg(long, default_value = lever_client::PRODUCTION_BASE_URL, env = "LEVER_BASE_URL")]
    lever_url: String,
    #[command(flatten)]
    store: StoreArgs,
}

#[derive(Debug, clap::Subcommand)]
pub enum ConnectionCommand {
    /// Show the installation's connection (never a key or token) and identity.
    Show {
        #[command(flatten)]
        target: Target,
    },
    /// Connect the installation with an API key made for it. The key is probed first: one
    /// Lever rejects is not stored; one lacking approved permissions is stored, and the
    /// missing permissions are listed.
    ApiKey {
        #[command(flatten)]
        target: Target,
        /// File holding the API key (`-` or nothing: standard input); never taken on the
        /// command line.
        #[arg(long)]
        api_key_file: Option<PathBuf>,
        /// The key was made with "Allow access to confidential data".
        #[arg(long)]
        confidential: bool,
    },
    /// Probe each approved permission through the connection (nothing is changed).
    Test {
        #[command(flatten)]
        target: Target,
    },
    /// List the active Lever users the connection sees (to choose an identity).
    Users {
        #[command(flatten)]
        target: Target,
    },
    /// Forget the installation's own connection (it then uses the tenant's key, if any).
    Disconnect {
        #[command(flatten)]
        target: Target,
    },
    /// Set the Lever user the installation's writes are attributed to, and the others a
    /// plugin may name; each must be an active Lever user.
    Identity {
        #[command(flatten)]
        target: Target,
        /// The acting user's Lever id (`fulcrum connection users` lists them).
        #[arg(long)]
        acting_user: String,
        /// Another user a plugin may name (repeatable).
        #[arg(long = "allow")]
        allowed: Vec<String>,
    },
}

pub async fn run(command: ConnectionCommand) -> anyhow::Result<()> {
    match command {
        ConnectionCommand::Show { target } => {
            let info = with_host(&target, |host, t, p| async move {
                connections::info(&host, &t, &p).await
            })
            .await?;
            print!("{}", describe(&info));
            Ok(())
        }
        ConnectionCommand::ApiKey {
            target,
            api_key_file,
            confidential,
        } => {
            let key = api_key(api_key_file.as_deref())?;
            let (info, probe) = with_host(&target, |host, t, p| async move {
                let actor = Actor::command_line("fulcrum connection api-key");
                connections::connect_api_key(&host, &actor, &t, &p, &key, confidential).await
            })
            .await?;
            println!(
                "connected {}/{} with an API key (stored encrypted)",
                target.tenant, target.plugin
            );
            print!("{}{}", describe(&info), report(&probe));
            Ok(())
        }
        ConnectionCommand::Test { target } => {
            let probe = with_host(&target, |host, t, p| async move {
                connections::test(&host, &t, &p).await
            })
            .await?;
            print!("{}", report(&probe));
            Ok(())
        }
        ConnectionCommand::Users { target } => {
            let users = with_host(&target, |host, t, p| async move {
                connections::lever_users(&host, &t, &p).await
            })
            .await?;
            let rows: Vec<[String; 4]> = users
                .into_iter()
                .map(|u| [u.id, u.name, u.email, u.access_role])
                .collect();
            print!(
                "{}",
                crate::commands::tenant::table(["ID", "NAME", "EMAIL", "ACCESS ROLE"], &rows)
            );
            Ok(())
        }
        ConnectionCommand::Disconnect { target } => {
            let removed = with_host(&target, |host, t, p| async move {
                let actor = Actor::command_line("fulcrum connection disconnect");
                connections::disconnect(&host, &actor, &t, &p).await
            })
            .await?;
            if !removed {
                bail!(
                    "{}/{} has no Lever connection of its own (it uses the tenant's key, if \
                     any); nothing to disconnect",
                    target.tenant,
                    target.plugin
                );
            }
            println!(
                "disconnected {}/{} from Lever",
                target.tenant, target.plugin
            );
            Ok(())
        }
        ConnectionCommand::Identity {
            target,
            acting_user,
            allowed,
        } => {
            let identity = with_host(&target, |host, t, p| async move {
                let actor = Actor::command_line("fulcrum connection identity");
                connections::set_identity(&host, &actor, &t, &p, &acting_user, &allowed).await
            })
            .await?;
            println!(
                "{}/{} acts as Lever user {}",
                target.tenant,
                target.plugin,
                identity
                    .acting_user_id
                    .as_deref()
                    .unwrap_or("(tenant default)")
            );
            if !identity.allowed_acting_users.is_empty() {
                println!(
                    "a plugin may also name: {}",
                    identity.allowed_acting_users.join(", ")
                );
            }
            Ok(())
        }
    }
}

/// Opens the store, runs `f` on a host over it, closes the store.
async fn with_host<T, F, Fut>(target: &Target, f: F) -> anyhow::Result<T>
where
    F: FnOnce(Host, String, String) -> Fut,
    Fut: Future<Output = Result<T, fulcrum_service::DomainError>>,
{
    let store = target.store.open().await?;
    let host = crate::commands::plugin::cli_host_for_lever(
        store.clone(),
        &target.store,
        &target.lever_url,
    );
    let result = match host {
        // The plugins' manifests decide what a probe checks (approved ∩ requested, plus what
        // the host needs), as on the server.
        Ok(host) => match host.load_recorded_plugins().await {
            Ok(_) => f(host, target.tenant.clone(), target.plugin.clone())
                .await
                .map_err(refusal),
            Err(e) => Err(anyhow::anyhow!(
                "could not load the installed plugins from the data dir: {e}"
            )),
        },
        Err(e) => Err(e),
    };
    store.close().await;
    result
}

/// The key from `--api-key-file` (`-`: standard input), else standard input.
fn api_key(file: Option<&Path>) -> anyhow::Result<SecretString> {
    let (text, source) = match file {
        Some(path) if path != Path::new("-") => (
            std::fs::read_to_string(path).with_context(|| {
                format!(
                    "could not read the API key file {}; check the path and its permissions",
                    path.display()
                )
            })?,
            path.display().to_string(),
        ),
        _ => {
            let mut text = String::new();
            std::io::stdin()
                .take(64 * 1024)
                .read_to_string(&mut text)
                .context("could not read the API key from standard input")?;
            (text, "standard input".to_owned())
        }
    };
    let key = text.trim();
    if key.is_empty() {
        bail!(
            "no API key in {source}; pass --api-key-file FILE or pipe the key in (Lever: \
             Settings → Integrations and API → API Credentials)"
        );
    }
    Ok(SecretString::from(key.to_owned()))
}

fn describe(c: &ConnectionInfo) -> String {
    let mut out = format!("connection: {} ({})\n", c.kind, c.status);
    if let Some(detail) = &c.status_detail {
        out.push_str(&format!("  why: {detail}\n"));
    }
    out.push_str(&format!(
        "  confidential data: {}\n",
        if c.confidential { "yes" } else { "no" }
    ));
    if let Some(app) = &c.app_id {
        out.push_str(&format!("  OAuth app: {app}\n"));
    }
    if !c.granted_scopes.is_empty() {
        out.push_str(&format!(
            "  granted scopes: {}\n",
            c.granted_scopes.join(" ")
        ));
    }
    if !c.not_granted_by_lever.is_empty() {
        out.push_str(&format!(
            "  approved but not granted by Lever: {}\n",
            c.not_granted_by_lever.join(", ")
        ));
    }
    if let (Some(by), Some(at)) = (&c.connected_by, c.updated_at) {
        out.push_str(&format!(
            "  connected by {by} at {} UTC\n",
            crate::commands::tenant::utc(at)
        ));
    }
    out.push_str(&format!(
        "identity: {}\n",
        c.acting_user_id.as_deref().unwrap_or("(tenant default)")
    ));
    if !c.allowed_acting_users.is_empty() {
        out.push_str(&format!(
            "  may also act as: {}\n",
            c.allowed_acting_users.join(", ")
        ));
    }
    out
}

fn report(p: &ProbeReport) -> String {
    let mut out = String::new();
    let mut list = |title: &str, items: &[String]| {
        if !items.is_empty() {
            out.push_str(&format!("{title}:\n"));
            for item in items {
                out.push_str(&format!("  - {item}\n"));
            }
        }
    };
    list("permissions Lever confirmed", &p.granted);
    list("permissions the credential LACKS", &p.missing);
    list("not checked", &p.unchecked);
    out.push_str(&p.summary);
    out.push('\n');
    out
}
