//! Every Lever function against the real sandbox, called directly on `HostCalls` (no guest
//! needed): mapping, cursors, limits, the policy around them, and the effect journal.

use super::*;
use crate::audit::{AuditOutcome, MemoryAuditLog};
use crate::bindings::fulcrum::connector::lever::Host as _;
use crate::call::CallKind;
use crate::capabilities::testing;
use crate::config::RuntimeConfig;
use crate::grants::{Grants, InvocationContext};
use crate::journal::MemoryJournal;
use crate::state_store::MemoryStateStore;
use lever_client::{ClientConfig, Credential, LeverClient};
use lever_model::{self as lm, Operation, Permission};
use lever_sandbox::{KeySpec, Sandbox, SandboxConfig, SeedSpec};
use std::collections::BTreeSet;
use std::sync::Arc;

struct Setup {
    sandbox: Sandbox,
    audit: Arc<MemoryAuditLog>,
}

async fn sandbox(seed: SeedSpec) -> Sandbox {
    Sandbox::start(
        SandboxConfig {
            seed,
            rate_limit: false,
            ..Default::default()
        },
        "127.0.0.1:0".parse().expect("addr"),
    )
    .await
    .expect("sandbox")
}

fn access(sandbox: &Sandbox, key: KeySpec) -> LeverAccess {
    let mut config = ClientConfig::new(&sandbox.api_url()).expect("url");
    config.max_retries = 0;
    config.page_size = 3; // several Lever pages per host page
    let client =
        LeverClient::new(config, Credential::api_key(sandbox.issue_api_key(key))).expect("client");
    LeverAccess::new(client, sandbox.default_user_id())
}

impl Setup {
    async fn new(seed: SeedSpec) -> Self {
        Setup {
            sandbox: sandbox(seed).await,
            audit: Arc::new(MemoryAuditLog::new()),
        }
    }

    fn host(&self, grants: &[Permission], kind: CallKind, config: RuntimeConfig) -> HostCalls {
        let lever = access(&self.sandbox, KeySpec::all("unit"));
        self.host_with(grants, kind, config, lever)
    }

    fn host_with(
        &self,
        grants: &[Permission],
        kind: CallKind,
        config: RuntimeConfig,
        lever: LeverAccess,
    ) -> HostCalls {
        let ctx = InvocationContext::new(
            "t",
            "i",
            "unit",
            Arc::new(MemoryStateStore::new()),
            self.audit.clone(),
        )
        .with_grants(Grants::new(Permission::ALL, grants))
        .with_lever(lever);
        testing::state(
            config,
            testing::plugin(Permission::ALL, &[], &[]),
            ctx,
            kind,
        )
    }

    fn all(&self) -> HostCalls {
        self.host(Permission::ALL, CallKind::Action, RuntimeConfig::default())
    }
}

fn new_opportunity(name: &str, email: &str) -> wit::NewOpportunity {
    wit::NewOpportunity {
        name: name.into(),
        headline: None,
        emails: vec![email.into()],
        phones: vec![],
        location: None,
        links: vec![],
        tags: vec![],
        sources: vec![],
        origin: None,
        posting_id: None,
        stage_id: None,
        owner_id: None,
        acting_user_id: None,
        resume: None,
        files: vec![],
    }
}

mod journal;
mod listing;
mod policy;
mod reconcile;
mod writes;
