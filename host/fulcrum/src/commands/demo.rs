//! `fulcrum demo` (issue 5): placeholder until the CLI work lands.

#[derive(Debug, clap::Args)]
pub struct DemoArgs {}

pub async fn run(_args: DemoArgs) -> anyhow::Result<()> {
    anyhow::bail!("`fulcrum demo` is not implemented yet")
}
