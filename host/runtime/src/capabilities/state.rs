//! `fulcrum:connector/state`: per tenant × plugin key-value state, stored through the
//! `StateStore` port (`crate::state_store`).
//!
//! Policy: available in event handlers and actions only; key and value sizes capped; the
//! scope comes from the invocation context, never from the guest, so one installation cannot
//! name another's keys.

use wasmtime::component::{HasSelf, Linker};

use super::{HostCalls, Project};
use crate::audit::Capability;
use crate::bindings::PluginError;
use crate::bindings::fulcrum::connector::state;
use crate::state_store::{StateError, StateScope};

pub(crate) fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    project: Project<T>,
) -> wasmtime::Result<()> {
    state::add_to_linker::<T, HasSelf<HostCalls>>(linker, project)
}

impl HostCalls {
    fn scope(&self) -> StateScope {
        StateScope {
            tenant_id: self.ctx.tenant_id.clone(),
            // The manifest id of the running version, which the invocation checked against
            // the context: the guest cannot pick it.
            plugin_id: self.plugin.id.clone(),
        }
    }

    fn check_key(&self, key: &str) -> Result<(), PluginError> {
        let max = self.shared.config.limits.max_state_key_bytes;
        if key.is_empty() {
            return Err(PluginError::Invalid("state keys must not be empty".into()));
        }
        if key.len() > max {
            return Err(PluginError::LimitExceeded(format!(
                "state key longer than {max} bytes"
            )));
        }
        Ok(())
    }
}

fn store_error(e: StateError) -> PluginError {
    match e {
        StateError::Unavailable(m) => PluginError::Unavailable(m),
        StateError::Quota(m) => PluginError::LimitExceeded(m),
    }
}

impl state::Host for HostCalls {
    async fn get(&mut self, key: String) -> Result<Option<String>, PluginError> {
        let call = self.begin(Capability::State, "state.get")?;
        if let Err(e) = self.check_key(&key) {
            return Err(self.deny(call, e));
        }
        let store = self.ctx.state.clone();
        let result = store.get(&self.scope(), &key).await.map_err(store_error);
        self.finish(call, result)
    }

    async fn set(&mut self, key: String, value: String) -> Result<(), PluginError> {
        let call = self.begin(Capability::State, "state.set")?;
        let max = self.shared.config.limits.max_state_value_bytes;
        let checked = self.check_key(&key).and_then(|()| {
            if value.len() > max {
                Err(PluginError::LimitExceeded(format!(
                    "state value larger than {max} bytes"
                )))
            } else {
                Ok(())
            }
        });
        if let Err(e) = checked {
            return Err(self.deny(call, e));
        }
        let store = self.ctx.state.clone();
        let result = store
            .set(&self.scope(), &key, &value)
            .await
            .map_err(store_error);
        self.finish(call, result)
    }

    async fn delete(&mut self, key: String) -> Result<(), PluginError> {
        let call = self.begin(Capability::State, "state.delete")?;
        if let Err(e) = self.check_key(&key) {
            return Err(self.deny(call, e));
        }
        let store = self.ctx.state.clone();
        let result = store.delete(&self.scope(), &key).await.map_err(store_error);
        self.finish(call, result)
    }

    async fn list_keys(
        &mut self,
        prefix: String,
        after: Option<String>,
        limit: u32,
    ) -> Result<Vec<String>, PluginError> {
        let call = self.begin(Capability::State, "state.list-keys")?;
        let limit = limit.min(self.shared.config.limits.max_state_list_keys) as usize;
        let store = self.ctx.state.clone();
        let result = store
            .list_keys(&self.scope(), &prefix, after.as_deref(), limit)
            .await
            .map_err(store_error);
        self.finish(call, result)
    }
}
