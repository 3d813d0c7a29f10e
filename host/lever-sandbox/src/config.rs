//! Sandbox configuration: seed size, rate limiting, webhook timing, credentials, OAuth apps.

use crate::oauth::{DEFAULT_ACCESS_TOKEN_TTL, OAuthApp};
use lever_model::Permission;
use std::collections::BTreeSet;
use std::time::Duration;

/// How the sandbox starts.
#[derive(Clone, Debug)]
pub struct SandboxConfig {
    /// What data to generate at start.
    pub seed: SeedSpec,
    /// Token bucket per credential (`rate_per_second` refill, `burst` capacity) → 429.
    pub rate_limit: bool,
    pub rate_per_second: u32,
    pub burst: u32,
    /// Delay before the first retry of a failed webhook delivery; later retries double it.
    pub webhook_retry_base: Duration,
    /// How long one webhook delivery attempt may take before it counts as failed.
    pub webhook_timeout: Duration,
    /// Base URL written into `urls.*` and `downloadUrl`; defaults to the bound address.
    pub public_url: Option<String>,
    /// The demo key (every permission, confidential access). Pin it so a plugin's settings
    /// survive a sandbox restart; a random key is issued when none is given.
    pub demo_api_key: Option<String>,
    /// OAuth clients that may use `/authorize` and `/oauth/token` from the start.
    pub oauth_apps: Vec<OAuthApp>,
    /// `expires_in` of OAuth access tokens (1 s to 1 day; Lever's is 3600 s).
    pub access_token_ttl: Duration,
}

impl Default for SandboxConfig {
    fn default() -> Self {
        Self {
            seed: SeedSpec::demo(),
            rate_limit: true,
            rate_per_second: 10,
            burst: 20,
            webhook_retry_base: Duration::from_secs(1),
            webhook_timeout: Duration::from_secs(10),
            public_url: None,
            demo_api_key: None,
            oauth_apps: Vec::new(),
            access_token_ttl: DEFAULT_ACCESS_TOKEN_TTL,
        }
    }
}

/// Size and randomness of the generated data. The same spec always yields the same data.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct SeedSpec {
    pub seed: u64,
    pub postings: usize,
    pub opportunities: usize,
}

impl SeedSpec {
    /// The demo company: seed 42, 40 postings, 200 opportunities.
    pub fn demo() -> Self {
        Self {
            seed: 42,
            postings: 40,
            opportunities: 200,
        }
    }

    /// Users, stages and archive reasons only: an empty pipeline for tests that create
    /// everything themselves.
    pub fn vocabulary_only(seed: u64) -> Self {
        Self {
            seed,
            postings: 0,
            opportunities: 0,
        }
    }

    pub fn new(seed: u64, postings: usize, opportunities: usize) -> Self {
        Self {
            seed,
            postings,
            opportunities,
        }
    }
}

impl Default for SeedSpec {
    fn default() -> Self {
        Self::demo()
    }
}

/// What a credential (API key or bearer token) may do.
#[derive(Clone, Debug)]
pub struct KeySpec {
    /// Free text shown in the admin API, e.g. the plugin or test that uses the key.
    pub label: String,
    pub permissions: PermissionSet,
    /// Lever's "Allow access to confidential data" toggle.
    pub confidential: bool,
}

impl KeySpec {
    /// Every permission, no confidential access.
    pub fn all(label: impl Into<String>) -> Self {
        Self {
            label: label.into(),
            permissions: PermissionSet::All,
            confidential: false,
        }
    }

    /// Exactly these permissions, no confidential access.
    pub fn only(label: impl Into<String>, perms: impl IntoIterator<Item = Permission>) -> Self {
        Self {
            label: label.into(),
            permissions: PermissionSet::Only(perms.into_iter().collect()),
            confidential: false,
        }
    }

    /// Same key with the confidential-data toggle set.
    pub fn with_confidential(mut self, confidential: bool) -> Self {
        self.confidential = confidential;
        self
    }
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum PermissionSet {
    All,
    Only(BTreeSet<Permission>),
}

impl PermissionSet {
    pub fn allows(&self, p: Permission) -> bool {
        match self {
            PermissionSet::All => true,
            PermissionSet::Only(set) => set.contains(&p),
        }
    }

    /// Permission words, for display.
    pub fn words(&self) -> Vec<&'static str> {
        match self {
            PermissionSet::All => Permission::ALL.iter().map(|p| p.as_str()).collect(),
            PermissionSet::Only(set) => set.iter().map(|p| p.as_str()).collect(),
        }
    }
}
