//! `fulcrum sandbox`: the local Lever, for vendors developing plugins and for the demo.

use anyhow::Context;
use clap::Args;
use lever_sandbox::{Sandbox, SandboxConfig, SeedSpec};
use std::net::SocketAddr;

#[derive(Debug, Args)]
pub struct SandboxArgs {
    /// Address to listen on. Keep it on loopback: the `/_sandbox` control API has no auth.
    #[arg(long, default_value = "127.0.0.1:4010", env = "FULCRUM_SANDBOX_LISTEN")]
    pub listen: SocketAddr,
    /// Seed of the generated company; the same seed gives the same data.
    #[arg(long, default_value_t = SeedSpec::demo().seed)]
    pub seed: u64,
    /// Number of postings to generate.
    #[arg(long, default_value_t = SeedSpec::demo().postings)]
    pub postings: usize,
    /// Number of opportunities to generate.
    #[arg(long, default_value_t = SeedSpec::demo().opportunities)]
    pub opportunities: usize,
    /// Use this demo API key instead of a random one, so plugin settings survive restarts.
    #[arg(long, env = "FULCRUM_SANDBOX_API_KEY", hide_env_values = true)]
    pub api_key: Option<String>,
    /// Turn off Lever's 10 req/s (burst 20) per-key limit.
    #[arg(long)]
    pub no_rate_limit: bool,
    /// Print the banner and exit once the sandbox is up (for scripts and smoke tests).
    #[arg(long)]
    pub once: bool,
}

pub async fn run(args: SandboxArgs) -> anyhow::Result<()> {
    let seed = SeedSpec {
        seed: args.seed,
        postings: args.postings,
        opportunities: args.opportunities,
    };
    eprintln!(
        "Generating a company from seed {} ({} postings, {} opportunities)...",
        seed.seed, seed.postings, seed.opportunities
    );
    let config = SandboxConfig {
        seed,
        rate_limit: !args.no_rate_limit,
        demo_api_key: args.api_key,
        ..SandboxConfig::default()
    };
    let sandbox = Sandbox::start(config, args.listen).await.with_context(|| {
        format!(
            "could not start the Lever sandbox on {}; is the port free? Try --listen 127.0.0.1:0",
            args.listen
        )
    })?;

    print!("{}", banner(&sandbox, !args.no_rate_limit));
    if args.once {
        sandbox.shutdown().await;
        return Ok(());
    }
    eprintln!("Serving until Ctrl-C.");
    tokio::signal::ctrl_c()
        .await
        .context("could not listen for Ctrl-C")?;
    eprintln!("Shutting down.");
    sandbox.shutdown().await;
    Ok(())
}

/// What a vendor needs to start calling the sandbox: where it is, a key, a user, examples.
fn banner(sandbox: &Sandbox, rate_limited: bool) -> String {
    let api = sandbox.api_url();
    let key = sandbox.demo_api_key();
    let user = sandbox.default_user_id();
    let (postings, opportunities) =
        sandbox.read(|db| (db.postings().count(), db.opportunities().count()));
    let first_opportunity = sandbox
        .read(|db| db.opportunities().next().map(|o| o.id.clone()))
        .unwrap_or_default();
    let limit = if rate_limited {
        "on (10 req/s, burst 20 per key)"
    } else {
        "off"
    };
    format!(
        "\nLever sandbox listening on {url}\n\
         \n  Data API:      {api}\
         \n  Control API:   {url}/_sandbox   (stats, faults, keys; loopback only, no auth)\
         \n  API key:       {key}   (every permission, confidential access)\
         \n  perform_as:    {user}   (an active super admin)\
         \n  Data:          {postings} postings, {opportunities} opportunities\
         \n  Rate limit:    {limit}\n\
         \nTry:\
         \n  curl -u {key}: '{api}/postings?state=published&limit=3'\
         \n  curl -u {key}: '{api}/opportunities?limit=2&expand=stage'\
         \n  curl -u {key}: '{api}/opportunities/{first_opportunity}/notes'\
         \n  curl -u {key}: -X POST '{api}/opportunities?perform_as={user}' \\\
         \n       -H 'Content-Type: application/json' \\\
         \n       -d '{{\"name\":\"Zoë Ødegård\",\"emails\":[\"zoe@example.com\"],\"tags\":[\"demo\"]}}'\
         \n  curl '{url}/_sandbox/stats'\n\n",
        url = sandbox.url(),
    )
}
