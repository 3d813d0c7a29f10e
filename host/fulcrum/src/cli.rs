use clap::{Parser, Subcommand, ValueEnum};

/// Fulcrum runs vendor WebAssembly connectors against Lever.
#[derive(Debug, Parser)]
#[command(name = "fulcrum", version, about)]
pub struct Cli {
    /// Log output format.
    #[arg(long, global = true, value_enum, default_value_t = LogFormat::Text, env = "FULCRUM_LOG_FORMAT")]
    pub log_format: LogFormat,
    #[command(subcommand)]
    pub command: Command,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LogFormat {
    Text,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the local Lever sandbox: Lever's Data API v1 with seeded demo data.
    Sandbox(crate::commands::sandbox::SandboxArgs),
    /// Run the host: vendor ingress, event workers and the scheduler, on SQLite or PostgreSQL.
    Serve(crate::commands::serve::ServeArgs),
    /// Apply the database migrations and exit (serve and demo also migrate on start).
    Migrate(crate::commands::migrate::MigrateArgs),
    /// Inspect, install and list plugin components.
    #[command(subcommand)]
    Plugin(crate::commands::plugin::PluginCommand),
    /// Manage tenants (Lever customers).
    #[command(subcommand)]
    Tenant(crate::commands::tenant::TenantCommand),
    /// Lever OAuth apps (client id and secret from Lever's partner programme).
    #[command(subcommand)]
    LeverApp(crate::commands::lever_app::LeverAppCommand),
    /// An installation's own Lever connection (API key) and the Lever user it acts as.
    #[command(subcommand)]
    Connection(crate::commands::connection::ConnectionCommand),
    /// Issue admin API bearer tokens (shown once, stored hashed).
    #[command(subcommand)]
    Token(crate::commands::token::TokenCommand),
    /// The demo: the Lever sandbox and the host on embedded SQLite, the connectors installed
    /// for a demo tenant, a realistic scenario sent through them, and what happened in Lever.
    #[cfg(feature = "demo")]
    Demo(fulcrum_demo::DemoArgs),
    /// The demo (not in this build: it was built with `--no-default-features`).
    #[cfg(not(feature = "demo"))]
    Demo {
        #[arg(trailing_var_arg = true, allow_hyphen_values = true, hide = true)]
        args: Vec<String>,
    },
    /// Print a new master key (base64 of 32 random bytes) for encrypting credentials and
    /// secrets at rest. Store it in a secret manager; set it as FULCRUM_MASTER_KEY.
    Keygen,
    /// Master key rotation: re-encrypt every encrypted column under a new key.
    #[command(subcommand)]
    Keys(crate::commands::keys::KeysCommand),
}
