//! `fulcrum tenant create|list`: the Lever customers this host serves. The Lever API key is
//! read from a file or the environment (never from the command line, where `ps` and shell
//! history would keep it), stored encrypted, and never printed. Creating goes through the
//! host's tenant rules (`fulcrum_service::tenants`), as the admin API does: the same checks,
//! the trimmed name, and an audit entry naming the command line.

use crate::commands::serve::StoreArgs;
use anyhow::{Context, bail};
use fulcrum_service::tenants::{self, LeverConnection};
use fulcrum_service::{Actor, DomainError};
use fulcrum_store::CredentialKind;
use secrecy::SecretString;
use std::path::PathBuf;

/// Where `tenant create` reads the Lever API key when no file is given.
pub const LEVER_API_KEY_ENV: &str = "LEVER_API_KEY";

#[derive(Debug, clap::Subcommand)]
pub enum TenantCommand {
    /// Create a tenant, optionally connected to Lever with an API key.
    Create {
        /// Stable tenant id, used in URLs (`/ingress/{tenant}/...`): lower-case letters,
        /// digits, `-` and `_`.
        id: String,
        /// Display name, e.g. the company's name.
        #[arg(long)]
        name: String,
        /// File holding the tenant's Lever API key (else the LEVER_API_KEY environment
        /// variable; the key is never taken on the command line).
        #[arg(long)]
        lever_api_key_file: Option<PathBuf>,
        /// The tenant's Lever API base URL, e.g. `https://api.eu.lever.co/v1` (default: the
        /// host's `--lever-url`).
        #[arg(long)]
        lever_url: Option<String>,
        /// The Lever user the tenant's writes are attributed to (`perform_as`).
        #[arg(long)]
        acting_user: Option<String>,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List the tenants and whether each is connected to Lever.
    List {
        #[command(flatten)]
        store: StoreArgs,
    },
}

pub async fn run(command: TenantCommand) -> anyhow::Result<()> {
    match command {
        TenantCommand::Create {
            id,
            name,
            lever_api_key_file,
            lever_url,
            acting_user,
            store,
        } => {
            let key = lever_api_key(lever_api_key_file.as_deref())?;
            create(&store, &id, &name, key, lever_url, acting_user).await
        }
        TenantCommand::List { store } => list(&store).await,
    }
}

/// The key from `--lever-api-key-file`, else LEVER_API_KEY, else none.
fn lever_api_key(file: Option<&std::path::Path>) -> anyhow::Result<Option<(SecretString, String)>> {
    let (text, source) = match file {
        Some(path) => (
            std::fs::read_to_string(path).with_context(|| {
                format!(
                    "could not read the Lever API key file {}; check the path and its permissions",
                    path.display()
                )
            })?,
            path.display().to_string(),
        ),
        None => match std::env::var(LEVER_API_KEY_ENV) {
            Ok(text) => (text, LEVER_API_KEY_ENV.to_owned()),
            Err(_) => return Ok(None),
        },
    };
    let key = text.trim();
    if key.is_empty() {
        bail!(
            "the Lever API key in {source} is empty; put the tenant's key there (Lever: Settings → Integrations and API → API credentials)"
        );
    }
    Ok(Some((SecretString::from(key.to_owned()), source)))
}

async fn create(
    args: &StoreArgs,
    id: &str,
    name: &str,
    key: Option<(SecretString, String)>,
    lever_url: Option<String>,
    acting_user: Option<String>,
) -> anyhow::Result<()> {
    // Checked before the database is touched, so a typo costs nothing.
    tenants::check_id(id)?;
    let lever = LeverConnection {
        api_key: key.as_ref().map(|(k, _)| k.clone()),
        base_url: lever_url,
        acting_user_id: acting_user,
    };
    let store = args.open().await?;
    let actor = Actor::command_line("fulcrum tenant create");
    let created = match tenants::create_connected(&store, &actor, id, name, &lever).await {
        Ok(tenant) => store
            .get_lever_settings(id)
            .await
            .map(|settings| (tenant, settings))
            .context("the tenant was created, but its Lever settings could not be read back"),
        Err(DomainError::Store(e)) => Err(anyhow::Error::new(e).context(
            "could not create the tenant; check the database is reachable and migrated \
             (`fulcrum migrate`), then see `fulcrum tenant list` before running it again",
        )),
        Err(refused) => Err(refused.into()),
    };
    store.close().await;
    let (tenant, settings) = created?;
    println!("created tenant {} ({})", tenant.id, tenant.name);
    match &key {
        Some((_, source)) => println!("Lever: API key from {source} stored encrypted"),
        None => println!(
            "Lever: not connected; its events cannot run until a Lever credential is set \
             (create it with --lever-api-key-file FILE or {LEVER_API_KEY_ENV} set)"
        ),
    }
    if let Some(url) = &settings.base_url {
        println!("Lever API: {url}");
    }
    if let Some(user) = &settings.acting_user_id {
        println!("writes attributed to Lever user {user}");
    }
    Ok(())
}

async fn list(args: &StoreArgs) -> anyhow::Result<()> {
    let store = args.open().await?;
    let tenants = store
        .list_tenants()
        .await
        .context("could not list the tenants; check the database is reachable")?;
    let mut rows = Vec::new();
    for tenant in &tenants {
        // Only the credential's kind is shown; decrypting also proves the master key fits.
        let lever = match store.get_lever_credential(&tenant.id).await {
            Ok(Some(c)) if c.kind == CredentialKind::ApiKey => "api key".to_owned(),
            Ok(Some(_)) => "oauth".to_owned(),
            Ok(None) => "not connected".to_owned(),
            Err(e) => format!("unreadable ({e}); is this the master key it was stored with?"),
        };
        let settings = store
            .get_lever_settings(&tenant.id)
            .await
            .context("could not read a tenant's Lever settings")?;
        let plugins = store
            .list_installations(&tenant.id)
            .await
            .context("could not read a tenant's installations")?
            .len();
        rows.push([
            tenant.id.clone(),
            tenant.name.clone(),
            lever,
            settings.base_url.unwrap_or_else(|| "(host default)".into()),
            plugins.to_string(),
            utc(tenant.created_at),
        ]);
    }
    store.close().await;
    if rows.is_empty() {
        println!("no tenants yet; create one with `fulcrum tenant create ID --name NAME`");
        return Ok(());
    }
    print!(
        "{}",
        table(
            [
                "TENANT",
                "NAME",
                "LEVER",
                "LEVER API",
                "PLUGINS",
                "CREATED (UTC)"
            ],
            &rows
        )
    );
    Ok(())
}

/// Unix milliseconds as `YYYY-MM-DD HH:MM:SS` (UTC), for the store commands' listings.
pub(crate) fn utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    // Howard Hinnant's civil-from-days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02} {:02}:{:02}:{:02}",
        rem / 3600,
        rem / 60 % 60,
        rem % 60
    )
}

/// Left-aligned columns, two spaces apart, for the store commands' listings.
pub(crate) fn table<const N: usize>(header: [&str; N], rows: &[[String; N]]) -> String {
    let mut widths = header.map(|h| h.chars().count());
    for row in rows {
        for (w, cell) in widths.iter_mut().zip(row) {
            *w = (*w).max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |cells: Vec<&str>| {
        let text: Vec<String> = cells
            .iter()
            .zip(widths)
            .map(|(cell, w)| format!("{cell:<w$}"))
            .collect();
        out.push_str(text.join("  ").trim_end());
        out.push('\n');
    };
    line(header.to_vec());
    for row in rows {
        line(row.iter().map(String::as_str).collect());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_unix_milliseconds_as_utc() {
        assert_eq!(utc(0), "1970-01-01 00:00:00");
        assert_eq!(utc(951_782_400_000), "2000-02-29 00:00:00");
        assert_eq!(utc(1_795_387_201_999), "2026-11-22 22:40:01");
    }
}
