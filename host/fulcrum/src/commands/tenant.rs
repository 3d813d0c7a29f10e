//! `fulcrum tenant` (issue 5): placeholder until the CLI work lands.

#[derive(Debug, clap::Subcommand)]
pub enum TenantCommand {
    /// Placeholder.
    List,
}

pub async fn run(_command: TenantCommand) -> anyhow::Result<()> {
    anyhow::bail!("`fulcrum tenant` is not implemented yet")
}
