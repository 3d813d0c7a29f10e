//! `fulcrum token` (issue 5): placeholder until the CLI work lands.

#[derive(Debug, clap::Subcommand)]
pub enum TokenCommand {
    /// Placeholder.
    List,
}

pub async fn run(_command: TokenCommand) -> anyhow::Result<()> {
    anyhow::bail!("`fulcrum token` is not implemented yet")
}
