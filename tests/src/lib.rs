//! Shared set-up for Fulcrum's cross-crate tests: a real Lever sandbox on a loopback port and
//! real clients talking to it over HTTP.

use lever_client::{ClientConfig, Credential, LeverClient};
use lever_sandbox::{KeySpec, Sandbox, SandboxConfig, SeedSpec};
use std::time::Duration;

/// Start a sandbox on 127.0.0.1:0 with the given seed data.
pub async fn start_sandbox(seed: SeedSpec) -> Sandbox {
    start_sandbox_with(SandboxConfig {
        seed,
        ..fast_config()
    })
    .await
}

pub async fn start_sandbox_with(config: SandboxConfig) -> Sandbox {
    Sandbox::start(config, "127.0.0.1:0".parse().expect("loopback address"))
        .await
        .expect("the Lever sandbox starts on a loopback port")
}

/// Sandbox defaults with webhook retries fast enough for tests.
pub fn fast_config() -> SandboxConfig {
    SandboxConfig {
        webhook_retry_base: Duration::from_millis(20),
        ..SandboxConfig::default()
    }
}

/// Client settings for tests: short backoff so retries don't slow the suite.
pub fn client_config(sandbox: &Sandbox) -> ClientConfig {
    let mut config = ClientConfig::new(&sandbox.api_url()).expect("sandbox URL is valid");
    config.min_backoff = Duration::from_millis(10);
    config.max_backoff = Duration::from_millis(200);
    config.request_timeout = Duration::from_secs(10);
    config
}

/// A client with a freshly issued API key of the given permissions.
pub fn client(sandbox: &Sandbox, spec: KeySpec) -> LeverClient {
    let key = sandbox.issue_api_key(spec);
    LeverClient::new(client_config(sandbox), Credential::api_key(key)).expect("client builds")
}

/// A client with every permission and access to confidential data (which Lever still hides
/// unless a request asks for it with `confidentiality=all`).
pub fn admin_client(sandbox: &Sandbox) -> LeverClient {
    client(
        sandbox,
        KeySpec {
            confidential: true,
            ..KeySpec::all("tests")
        },
    )
}
