//! `fulcrum plugin` (issue 5): placeholder until the CLI work lands.

#[derive(Debug, clap::Subcommand)]
pub enum PluginCommand {
    /// Placeholder.
    List,
}

pub async fn run(_command: PluginCommand) -> anyhow::Result<()> {
    anyhow::bail!("`fulcrum plugin` is not implemented yet")
}
