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
    /// Print a new master key (base64 of 32 random bytes) for encrypting credentials and
    /// secrets at rest. Store it in a secret manager; set it as FULCRUM_MASTER_KEY.
    Keygen,
}
