//! `fulcrum:connector/config`: the installation's configuration and vendor secrets.
//!
//! Policy: only secrets the manifest declares can be read; Lever credentials live in
//! `LeverAccess` and are not reachable from here by construction.

use wasmtime::component::{HasSelf, Linker};

use super::{HostCalls, Project};
use crate::audit::Capability;
use crate::bindings::PluginError;
use crate::bindings::fulcrum::connector::config;

pub(crate) fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    project: Project<T>,
) -> wasmtime::Result<()> {
    config::add_to_linker::<T, HasSelf<HostCalls>>(linker, project)
}

impl config::Host for HostCalls {
    async fn get_config(&mut self) -> String {
        match self.begin(Capability::Config, "config.get-config") {
            Ok(call) => {
                let json = self.ctx.config_json.clone();
                let _ = self.finish(call, Ok(()));
                json
            }
            // Not available in this call kind: an empty configuration, as before install.
            Err(_) => "{}".to_owned(),
        }
    }

    async fn get_secret(&mut self, name: String) -> Option<String> {
        // The name is safe to audit (the manifest publishes it); the value never is.
        let call = self
            .begin(Capability::Config, format!("config.get-secret {name}"))
            .ok()?;
        if !self.plugin.secrets.contains(&name) {
            let _ = self.deny(
                call,
                PluginError::Forbidden(format!("secret {name:?} is not declared in the manifest")),
            );
            return None;
        }
        let value = self.ctx.secrets.get(&name);
        let result = match &value {
            Some(_) => Ok(()),
            None => Err(PluginError::NotFound(format!("secret {name:?} is not set"))),
        };
        let _ = self.finish(call, result);
        value
    }
}

#[cfg(test)]
mod tests {
    use crate::audit::MemoryAuditLog;
    use crate::bindings::fulcrum::connector::config::Host as _;
    use crate::call::CallKind;
    use crate::capabilities::testing;
    use crate::config::RuntimeConfig;
    use crate::grants::{InvocationContext, Secrets};
    use crate::state_store::MemoryStateStore;
    use std::sync::Arc;

    #[tokio::test]
    async fn only_declared_secrets_are_readable() {
        let audit = Arc::new(MemoryAuditLog::new());
        let ctx = InvocationContext::new(
            "t",
            "i",
            "unit",
            Arc::new(MemoryStateStore::new()),
            audit.clone(),
        )
        .with_config(r#"{"a":1}"#)
        .with_secrets(
            Secrets::new()
                .with("api-token", "s3cr3t-value")
                .with("undeclared", "nope"),
        );
        let plugin = testing::plugin(&[], &[], &["api-token", "signing-key"]);
        let mut host = testing::state(RuntimeConfig::default(), plugin, ctx, CallKind::Action);
        assert_eq!(host.get_config().await, r#"{"a":1}"#);
        assert_eq!(
            host.get_secret("api-token".into()).await.as_deref(),
            Some("s3cr3t-value")
        );
        assert_eq!(
            host.get_secret("signing-key".into()).await,
            None,
            "declared, not set"
        );
        assert_eq!(
            host.get_secret("undeclared".into()).await,
            None,
            "set, not declared"
        );
        let records = audit.records();
        assert_eq!(records.len(), 4);
        assert!(records[3].is_denied());
        assert_eq!(records[3].operation, "config.get-secret undeclared");
        assert!(
            !format!("{records:?}").contains("s3cr3t"),
            "values never reach the audit log"
        );
    }
}
