//! `fulcrum plugin inspect|install|list|lever-app`: what a component asks for, installing it
//! into the host's store, what is installed, and which Lever OAuth app it connects with.

use crate::commands::serve::StoreArgs;
use anyhow::Context;
use fulcrum_runtime::bindings::{LeverEventKind, Manifest};
use fulcrum_runtime::{AllocatorChoice, PluginVersion, Runtime, RuntimeConfig};
use fulcrum_service::event_payload::lifecycle_kind_name;
use fulcrum_service::{Host, HostConfig, LeverDefaults, PluginInstallError};
use lever_client::ClientConfig;
use serde_json::{Value, json};
use std::path::{Path, PathBuf};
use std::sync::Arc;

#[derive(Debug, clap::Subcommand)]
pub enum PluginCommand {
    /// Show what a component is and asks for (no database needed): id, version, vendor, the
    /// Lever permissions it requests, vendor hosts, secrets, config schema, schedules,
    /// actions and Lever events.
    Inspect {
        /// The plugin component (`.wasm`, built for wasm32-wasip2 with the Fulcrum SDK).
        file: PathBuf,
        /// Print the manifest as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Install a component into the host's store (as an upload to a running host does);
    /// `fulcrum serve` loads it on its next start.
    Install {
        /// The plugin component (`.wasm`).
        file: PathBuf,
        #[command(flatten)]
        store: StoreArgs,
    },
    /// List the installed plugins and their versions.
    List {
        #[command(flatten)]
        store: StoreArgs,
        /// Print the list as JSON.
        #[arg(long)]
        json: bool,
    },
    /// Say which Lever OAuth app (`fulcrum lever-app list`) the plugin's installations
    /// connect with, or `--none` (API keys only).
    LeverApp {
        plugin: String,
        /// A registered app's id.
        #[arg(required_unless_present = "none", conflicts_with = "none")]
        app: Option<String>,
        /// No app: the plugin's installations connect with API keys only.
        #[arg(long)]
        none: bool,
        #[command(flatten)]
        store: StoreArgs,
    },
}

pub async fn run(command: PluginCommand) -> anyhow::Result<()> {
    match command {
        PluginCommand::Inspect { file, json } => inspect(&file, json).await,
        PluginCommand::Install { file, store } => install(&file, &store).await,
        PluginCommand::List { store, json } => list(&store, json).await,
        PluginCommand::LeverApp {
            plugin,
            app,
            none: _,
            store,
        } => set_lever_app(&store, &plugin, app.as_deref()).await,
    }
}

async fn set_lever_app(args: &StoreArgs, plugin: &str, app: Option<&str>) -> anyhow::Result<()> {
    let store = args.open().await?;
    let host = cli_host(store.clone(), args)?;
    // The rule checks the plugin is loaded, as on a running host.
    let set = match host.load_recorded_plugins().await {
        Ok(_) => fulcrum_service::connections::oauth_apps::set_plugin_app(
            &host,
            &fulcrum_service::Actor::command_line("fulcrum plugin lever-app"),
            plugin,
            app,
        )
        .await
        .map_err(crate::commands::lever_app::refusal),
        Err(e) => Err(anyhow::Error::new(e).context("could not load the installed plugins")),
    };
    store.close().await;
    set?;
    match app {
        Some(app) => println!("plugin {plugin} connects with Lever OAuth app {app}"),
        None => println!("plugin {plugin} has no Lever OAuth app: its installations use API keys"),
    }
    Ok(())
}

/// What to do when a file is not an installable plugin.
const NOT_A_PLUGIN_HINT: &str = "a Fulcrum plugin is a WebAssembly component built for \
    wasm32-wasip2 against fulcrum:connector@0.1.0 with the Fulcrum SDK (see plugins/sdk/README.md): \
    check you passed the component (target/wasm32-wasip2/.../<crate>.wasm), not a core module \
    or another file";

fn read_component(file: &Path) -> anyhow::Result<Vec<u8>> {
    std::fs::read(file).with_context(|| {
        format!(
            "could not read the plugin component {}; check the path",
            file.display()
        )
    })
}

async fn inspect(file: &Path, as_json: bool) -> anyhow::Result<()> {
    let bytes = read_component(file)?;
    // Inspecting reserves nothing up front and shares the runtime's default on-disk cache
    // (content-addressed, so any component may use it).
    let runtime = Runtime::new(RuntimeConfig {
        allocator: AllocatorChoice::OnDemand,
        ..RuntimeConfig::default()
    })
    .context("could not start the plugin runtime")?;
    let plugin = runtime
        .install(bytes)
        .await
        .map_err(anyhow::Error::new)
        .with_context(|| {
            format!(
                "{} is not an installable plugin ({NOT_A_PLUGIN_HINT})",
                file.display()
            )
        })?;
    if as_json {
        println!("{}", serde_json::to_string_pretty(&manifest_json(&plugin))?);
    } else {
        print!("{}", describe(&plugin));
    }
    Ok(())
}

/// The manifest as JSON, with its embedded JSON Schemas parsed (they travel as strings in WIT).
pub fn manifest_json(plugin: &PluginVersion) -> Value {
    let m = plugin.manifest();
    json!({
        "id": m.id,
        "name": m.name,
        "version": m.version,
        "vendor": m.vendor,
        "description": m.description,
        "sha256": plugin.content_hash(),
        "contract_version": plugin.contract().as_str(),
        "permissions": m.permissions,
        "vendor_hosts": m.vendor_hosts,
        "secrets": m.secrets,
        "config_schema": parse_schema(&m.config_schema),
        "schedules": m.schedules.iter().map(|s| json!({
            "name": s.name,
            "description": s.description,
            "every_seconds": s.every_seconds,
        })).collect::<Vec<_>>(),
        "actions": m.actions.iter().map(|a| json!({
            "name": a.name,
            "description": a.description,
            "input_schema": parse_schema(&a.input_schema),
        })).collect::<Vec<_>>(),
        "lever_events": m.lever_events.iter().map(|e| lever_event_name(*e)).collect::<Vec<_>>(),
        "lifecycle_hooks": m.lifecycle_hooks.iter().map(|k| lifecycle_kind_name(*k)).collect::<Vec<_>>(),
        "vendor_queries": m.vendor_queries,
    })
}

fn parse_schema(text: &str) -> Value {
    // The runtime validated the manifest; a schema that still is not JSON is shown as text.
    serde_json::from_str(text).unwrap_or_else(|_| Value::String(text.to_owned()))
}

/// The WIT name of a Lever event kind (what the vendor guide and Lever's docs call it).
pub fn lever_event_name(kind: LeverEventKind) -> &'static str {
    match kind {
        LeverEventKind::ApplicationCreated => "application-created",
        LeverEventKind::CandidateHired => "candidate-hired",
        LeverEventKind::CandidateStageChange => "candidate-stage-change",
        LeverEventKind::CandidateArchiveChange => "candidate-archive-change",
        LeverEventKind::CandidateDeleted => "candidate-deleted",
        LeverEventKind::ContactCreated => "contact-created",
        LeverEventKind::ContactUpdated => "contact-updated",
        LeverEventKind::InterviewCreated => "interview-created",
        LeverEventKind::InterviewUpdated => "interview-updated",
        LeverEventKind::InterviewDeleted => "interview-deleted",
    }
}

/// The human-readable manifest: what an operator reads before installing.
fn describe(plugin: &PluginVersion) -> String {
    let m: &Manifest = plugin.manifest();
    let mut out = format!("{} {} — {}\n", m.id, m.version, m.name);
    out.push_str(&format!("  vendor:       {}\n", m.vendor));
    out.push_str(&format!("  description:  {}\n", m.description));
    out.push_str(&format!("  sha256:       {}\n", plugin.content_hash()));
    out.push_str(&format!(
        "  contract:     fulcrum:connector@{}\n",
        plugin.contract()
    ));
    out.push_str(&format!(
        "  queries:      {}\n",
        if m.vendor_queries {
            "answers vendor queries (/ingress/{tenant}/{installation}/query/...)"
        } else {
            "none"
        }
    ));
    let section = |out: &mut String, title: &str, items: Vec<String>| {
        out.push_str(&format!("{title}:\n"));
        if items.is_empty() {
            out.push_str("  (none)\n");
        }
        for item in items {
            out.push_str(&format!("  - {item}\n"));
        }
    };
    section(
        &mut out,
        "Lever permissions requested (a tenant super admin approves them)",
        m.permissions.clone(),
    );
    section(&mut out, "Vendor hosts it may call", m.vendor_hosts.clone());
    section(
        &mut out,
        "Secrets the tenant's admin sets",
        m.secrets.clone(),
    );
    out.push_str("Config schema:\n");
    let schema = serde_json::to_string_pretty(&parse_schema(&m.config_schema))
        .unwrap_or_else(|_| m.config_schema.clone());
    for line in schema.lines() {
        out.push_str(&format!("  {line}\n"));
    }
    section(
        &mut out,
        "Schedules",
        m.schedules
            .iter()
            .map(|s| {
                format!(
                    "{}: every {} s — {}",
                    s.name, s.every_seconds, s.description
                )
            })
            .collect(),
    );
    section(
        &mut out,
        "Actions",
        m.actions
            .iter()
            .map(|a| format!("{} — {}", a.name, a.description))
            .collect(),
    );
    section(
        &mut out,
        "Lever events it handles",
        m.lever_events
            .iter()
            .map(|e| lever_event_name(*e).to_owned())
            .collect(),
    );
    section(
        &mut out,
        "Lifecycle hooks it asks for",
        m.lifecycle_hooks
            .iter()
            .map(|k| lifecycle_kind_name(*k).to_owned())
            .collect(),
    );
    out
}

/// A host over `store` for one-shot commands: the same runtime cache and components dir as
/// `serve`, no workers started.
pub(crate) fn cli_host(store: fulcrum_store::Store, args: &StoreArgs) -> anyhow::Result<Host> {
    cli_host_for_lever(store, args, lever_client::PRODUCTION_BASE_URL)
}

/// [`cli_host`] reaching Lever at `lever_url` for tenants that set no URL of their own.
pub(crate) fn cli_host_for_lever(
    store: fulcrum_store::Store,
    args: &StoreArgs,
    lever_url: &str,
) -> anyhow::Result<Host> {
    let runtime = Runtime::new(RuntimeConfig {
        cache_dir: args.component_cache_dir(),
        allocator: AllocatorChoice::OnDemand,
        ..RuntimeConfig::default()
    })
    .context("could not start the plugin runtime")?;
    let lever = LeverDefaults {
        client: ClientConfig::new(lever_url)
            .with_context(|| format!("bad Lever URL {lever_url:?}"))?,
        acting_user_id: None,
    };
    let config = HostConfig {
        components_dir: args.components_dir(),
        ..HostConfig::default()
    };
    Ok(Host::new(store, runtime, lever, None, config))
}

/// Installs `bytes` through the host (compile, record, keep the component) and explains a
/// refusal with what to do about it.
pub(crate) async fn install_bytes(
    host: &Host,
    bytes: Vec<u8>,
    what: &str,
) -> anyhow::Result<Arc<PluginVersion>> {
    host.install_plugin(bytes).await.map_err(|e| {
        let hint = match &e {
            PluginInstallError::Component(_) => NOT_A_PLUGIN_HINT,
            PluginInstallError::Store(fulcrum_store::StoreError::Conflict(_)) => {
                "bump the plugin's version for a new build; installed versions never change"
            }
            // Database or disk: the error says which; both are the operator's to fix.
            _ => "check the database is reachable and migrated (`fulcrum migrate`) and the data dir is writable",
        };
        anyhow::Error::new(e).context(format!("could not install {what} ({hint})"))
    })
}

async fn install(file: &Path, args: &StoreArgs) -> anyhow::Result<()> {
    let bytes = read_component(file)?;
    let store = args.open().await?;
    let host = cli_host(store.clone(), args)?;
    let plugin = install_bytes(&host, bytes, &file.display().to_string()).await?;
    store.close().await;
    println!(
        "installed {} {} (sha256 {}) into {}",
        plugin.id(),
        plugin.version(),
        plugin.content_hash(),
        crate::commands::migrate::redacted(&args.database_url())
    );
    println!(
        "requests {} Lever permission(s): {}",
        plugin.requested_permissions().len(),
        words(plugin.manifest().permissions.iter())
    );
    println!(
        "`fulcrum serve` loads it on start; a tenant super admin then enables it and approves \
         its permissions"
    );
    Ok(())
}

fn words<'a>(items: impl Iterator<Item = &'a String>) -> String {
    let list: Vec<&str> = items.map(String::as_str).collect();
    if list.is_empty() {
        "none".to_owned()
    } else {
        list.join(", ")
    }
}

async fn list(args: &StoreArgs, as_json: bool) -> anyhow::Result<()> {
    let store = args.open().await?;
    let plugins = store
        .list_plugins()
        .await
        .context("could not list the plugins; check the database is reachable")?;
    store.close().await;
    if as_json {
        let rows: Vec<Value> = plugins
            .iter()
            .map(|p| {
                json!({
                    "id": p.id,
                    "version": p.version,
                    "name": p.manifest.get("name"),
                    "sha256": p.component_sha256,
                    "installed_at": p.installed_at,
                    "permissions": p.manifest.get("permissions"),
                })
            })
            .collect();
        println!("{}", serde_json::to_string_pretty(&rows)?);
        return Ok(());
    }
    if plugins.is_empty() {
        println!("no plugins installed; install one with `fulcrum plugin install FILE.wasm`");
        return Ok(());
    }
    let rows: Vec<[String; 5]> = plugins
        .iter()
        .map(|p| {
            [
                p.id.clone(),
                p.version.clone(),
                p.component_sha256.chars().take(12).collect(),
                crate::commands::tenant::utc(p.installed_at),
                p.manifest
                    .get("name")
                    .and_then(Value::as_str)
                    .unwrap_or("")
                    .to_owned(),
            ]
        })
        .collect();
    print!(
        "{}",
        crate::commands::tenant::table(
            ["PLUGIN", "VERSION", "SHA256", "INSTALLED (UTC)", "NAME"],
            &rows
        )
    );
    Ok(())
}
