//! The `fulcrum` command line. Thin: parse arguments, set up logging, run the command.

use clap::Parser;
use fulcrum::cli::{Cli, Command};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let cli = Cli::parse();
    let default_filter = match cli.command {
        Command::Demo { .. } => fulcrum::telemetry::DEMO_FILTER,
        _ => fulcrum::telemetry::DEFAULT_FILTER,
    };
    fulcrum::telemetry::init_with_default(cli.log_format, default_filter);
    match cli.command {
        Command::Sandbox(args) => fulcrum::commands::sandbox::run(args).await,
        Command::Serve(args) => fulcrum::commands::serve::run(args).await,
        Command::Migrate(args) => fulcrum::commands::migrate::run(args).await,
        Command::Plugin(command) => fulcrum::commands::plugin::run(command).await,
        Command::Tenant(command) => fulcrum::commands::tenant::run(command).await,
        Command::Token(command) => fulcrum::commands::token::run(command).await,
        Command::LeverApp(command) => fulcrum::commands::lever_app::run(command).await,
        Command::Connection(command) => fulcrum::commands::connection::run(command).await,
        #[cfg(feature = "demo")]
        Command::Demo(args) => fulcrum::commands::demo::run(args).await,
        #[cfg(not(feature = "demo"))]
        Command::Demo { .. } => fulcrum::commands::demo::run().await,
        Command::Keygen => fulcrum::commands::keygen::run(),
        Command::Keys(command) => fulcrum::commands::keys::run(command).await,
    }
}
