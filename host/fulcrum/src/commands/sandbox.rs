//! `fulcrum sandbox`: the local Lever, for vendors developing plugins and for the demo.

use anyhow::Context;
use clap::Args;
use lever_sandbox::{OAuthApp, Sandbox, SandboxConfig, SeedSpec};
use std::net::SocketAddr;
use std::time::Duration;

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
    /// Register an OAuth app, as CLIENT_ID:CLIENT_SECRET:REDIRECT_URI (the secret cannot
    /// contain ':'; the app's name is its client id). Repeat the flag for more apps, or with
    /// the same id and secret to add redirect URIs. Apps can also be added at runtime with
    /// POST /_sandbox/oauth-apps.
    #[arg(long = "oauth-app", value_name = "CLIENT_ID:CLIENT_SECRET:REDIRECT_URI", value_parser = parse_oauth_app)]
    pub oauth_apps: Vec<OAuthAppArg>,
    /// Lifetime of OAuth access tokens (`expires_in`), 1 s to one day; Lever's is 3600 s.
    #[arg(long, default_value_t = 3600, value_parser = clap::value_parser!(u64).range(1..=86_400))]
    pub access_token_ttl_secs: u64,
    /// Print the banner and exit once the sandbox is up (for scripts and smoke tests).
    #[arg(long)]
    pub once: bool,
}

/// One `--oauth-app` value.
#[derive(Clone)]
pub struct OAuthAppArg {
    pub client_id: String,
    pub client_secret: String,
    pub redirect_uri: String,
}

impl std::fmt::Debug for OAuthAppArg {
    // The secret stays out of logs.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthAppArg")
            .field("client_id", &self.client_id)
            .field("redirect_uri", &self.redirect_uri)
            .finish_non_exhaustive()
    }
}

fn parse_oauth_app(value: &str) -> Result<OAuthAppArg, String> {
    let mut parts = value.splitn(3, ':');
    match (parts.next(), parts.next(), parts.next()) {
        (Some(id), Some(secret), Some(uri)) if !id.is_empty() && !secret.is_empty() => {
            Ok(OAuthAppArg {
                client_id: id.to_owned(),
                client_secret: secret.to_owned(),
                redirect_uri: uri.to_owned(),
            })
        }
        _ => Err("expected CLIENT_ID:CLIENT_SECRET:REDIRECT_URI, e.g. \
                  my-app:my-secret:http://127.0.0.1:8080/callback"
            .to_owned()),
    }
}

/// Group the flags by client id: repeating one adds a redirect URI.
fn oauth_apps(args: &[OAuthAppArg]) -> anyhow::Result<Vec<OAuthApp>> {
    let mut apps: Vec<OAuthApp> = Vec::new();
    for a in args {
        match apps.iter_mut().find(|app| app.client_id == a.client_id) {
            Some(app) if app.client_secret != a.client_secret => anyhow::bail!(
                "--oauth-app {} is given twice with different secrets",
                a.client_id
            ),
            Some(app) => app.redirect_uris.push(a.redirect_uri.clone()),
            None => apps.push(OAuthApp {
                client_id: a.client_id.clone(),
                client_secret: a.client_secret.clone(),
                name: a.client_id.clone(),
                redirect_uris: vec![a.redirect_uri.clone()],
            }),
        }
    }
    for app in &apps {
        app.validate()
            .with_context(|| format!("--oauth-app {}", app.client_id))?;
    }
    Ok(apps)
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
        oauth_apps: oauth_apps(&args.oauth_apps)?,
        access_token_ttl: Duration::from_secs(args.access_token_ttl_secs),
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
    let apps = sandbox.oauth_client_ids();
    let apps = if apps.is_empty() {
        "none (add with --oauth-app or POST /_sandbox/oauth-apps)".to_owned()
    } else {
        apps.join(", ")
    };
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
         \n  Rate limit:    {limit}\
         \n  OAuth apps:    {apps}\
         \n  OAuth:         {url}/authorize, {url}/oauth/token, audience {audience}\
         \n  Authorized:    {url}/settings/authorized-apps\n\
         \nTry:\
         \n  curl -u {key}: '{api}/postings?state=published&limit=3'\
         \n  curl -u {key}: '{api}/opportunities?limit=2&expand=stage'\
         \n  curl -u {key}: '{api}/opportunities/{first_opportunity}/notes'\
         \n  curl -u {key}: -X POST '{api}/opportunities?perform_as={user}' \\\
         \n       -H 'Content-Type: application/json' \\\
         \n       -d '{{\"name\":\"Zoë Ødegård\",\"emails\":[\"zoe@example.com\"],\"tags\":[\"demo\"]}}'\
         \n  curl '{url}/_sandbox/stats'\n\n",
        url = sandbox.url(),
        audience = sandbox.oauth_audience(),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn oauth_app_flags_parse_and_group_by_client_id() {
        let a = parse_oauth_app("app:s3cret:http://127.0.0.1:8080/cb").unwrap();
        assert_eq!(
            (
                a.client_id.as_str(),
                a.client_secret.as_str(),
                a.redirect_uri.as_str()
            ),
            ("app", "s3cret", "http://127.0.0.1:8080/cb")
        );
        assert!(!format!("{a:?}").contains("s3cret"));
        assert!(parse_oauth_app("app:s3cret").is_err());
        assert!(parse_oauth_app(":s:http://h/cb").is_err());

        let b = parse_oauth_app("app:s3cret:https://example.com/cb").unwrap();
        let apps = oauth_apps(&[a.clone(), b]).unwrap();
        assert_eq!(apps.len(), 1);
        assert_eq!(apps[0].redirect_uris.len(), 2);
        let other_secret = parse_oauth_app("app:other:https://example.com/cb").unwrap();
        assert!(oauth_apps(&[a, other_secret]).is_err());
        let relative = parse_oauth_app("x:y:/cb").unwrap();
        let err = oauth_apps(&[relative]).unwrap_err();
        assert!(format!("{err:#}").contains("absolute"), "{err:#}");
    }
}
