//! `fulcrum migrate` (issue 5): placeholder until the CLI work lands.

#[derive(Debug, clap::Args)]
pub struct MigrateArgs {}

pub async fn run(_args: MigrateArgs) -> anyhow::Result<()> {
    anyhow::bail!("`fulcrum migrate` is not implemented yet")
}
