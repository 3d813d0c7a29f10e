//! `fulcrum:connector/config`: the installation's configuration and vendor secrets.
//!
//! Policy: only secrets the manifest declares can be read; Lever credentials live in
//! `LeverAccess` and are not reachable from here by construction.

use wasmtime::component::{HasSelf, Linker};

use crate::audit::Capability;
use crate::bindings::PluginError;
use crate::bindings::fulcrum::connector::config;
use crate::host::HostState;

pub(crate) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    config::add_to_linker::<HostState, HasSelf<HostState>>(linker, |s| s)
}

impl config::Host for HostState {
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
        if !self.plugin.manifest().secrets.contains(&name) {
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
