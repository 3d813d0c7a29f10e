//! `fulcrum:connector/state`: per tenant × plugin key-value state.
//!
//! Policy: available in event handlers and actions only; key and value sizes capped; the
//! scope comes from the invocation context, never from the guest, so one installation cannot
//! name another's keys.

use async_trait::async_trait;
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::ops::Bound;
use wasmtime::component::{HasSelf, Linker};

use crate::audit::Capability;
use crate::bindings::PluginError;
use crate::bindings::fulcrum::connector::state;
use crate::host::HostState;

/// Whose state a call sees.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct StateScope {
    pub tenant_id: String,
    pub plugin_id: String,
}

#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum StateError {
    /// The store cannot be reached; the event will be retried.
    #[error("state store unavailable: {0}")]
    Unavailable(String),
    /// A quota of the store (keys per scope, bytes per scope) is reached.
    #[error("state quota exceeded: {0}")]
    Quota(String),
}

/// Storage behind the `state` interface. Implementations must keep scopes apart.
#[async_trait]
pub trait StateStore: Send + Sync {
    async fn get(&self, scope: &StateScope, key: &str) -> Result<Option<String>, StateError>;
    async fn set(&self, scope: &StateScope, key: &str, value: &str) -> Result<(), StateError>;
    async fn delete(&self, scope: &StateScope, key: &str) -> Result<(), StateError>;
    /// Keys starting with `prefix`, ascending, strictly after `after`, at most `limit`.
    async fn list_keys(
        &self,
        scope: &StateScope,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>, StateError>;
}

/// State in process memory (tests, development).
#[derive(Debug, Default)]
pub struct MemoryStateStore {
    scopes: Mutex<BTreeMap<StateScope, BTreeMap<String, String>>>,
}

impl MemoryStateStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// A snapshot of one scope (for tests and admin tooling).
    pub fn dump(&self, scope: &StateScope) -> BTreeMap<String, String> {
        self.scopes.lock().get(scope).cloned().unwrap_or_default()
    }
}

#[async_trait]
impl StateStore for MemoryStateStore {
    async fn get(&self, scope: &StateScope, key: &str) -> Result<Option<String>, StateError> {
        Ok(self
            .scopes
            .lock()
            .get(scope)
            .and_then(|m| m.get(key).cloned()))
    }

    async fn set(&self, scope: &StateScope, key: &str, value: &str) -> Result<(), StateError> {
        self.scopes
            .lock()
            .entry(scope.clone())
            .or_default()
            .insert(key.to_owned(), value.to_owned());
        Ok(())
    }

    async fn delete(&self, scope: &StateScope, key: &str) -> Result<(), StateError> {
        if let Some(m) = self.scopes.lock().get_mut(scope) {
            m.remove(key);
        }
        Ok(())
    }

    async fn list_keys(
        &self,
        scope: &StateScope,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>, StateError> {
        let scopes = self.scopes.lock();
        let Some(m) = scopes.get(scope) else {
            return Ok(Vec::new());
        };
        let start = match after {
            Some(after) if after >= prefix => Bound::Excluded(after.to_owned()),
            _ => Bound::Included(prefix.to_owned()),
        };
        Ok(m.range((start, Bound::Unbounded))
            .map(|(k, _)| k)
            .take_while(|k| k.starts_with(prefix))
            .take(limit)
            .cloned()
            .collect())
    }
}

pub(crate) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    state::add_to_linker::<HostState, HasSelf<HostState>>(linker, |s| s)
}

impl HostState {
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

impl state::Host for HostState {
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

#[cfg(test)]
mod tests {
    use super::*;

    fn scope(t: &str) -> StateScope {
        StateScope {
            tenant_id: t.into(),
            plugin_id: "p".into(),
        }
    }

    #[tokio::test]
    async fn memory_store_keeps_scopes_apart_and_lists_in_order() {
        let store = MemoryStateStore::new();
        for k in ["link:b", "link:a", "link:c", "other"] {
            store.set(&scope("t1"), k, "v").await.unwrap();
        }
        store.set(&scope("t2"), "link:z", "v").await.unwrap();
        assert_eq!(store.get(&scope("t2"), "link:a").await.unwrap(), None);
        let all = store
            .list_keys(&scope("t1"), "link:", None, 10)
            .await
            .unwrap();
        assert_eq!(all, ["link:a", "link:b", "link:c"]);
        let page = store
            .list_keys(&scope("t1"), "link:", Some("link:a"), 1)
            .await
            .unwrap();
        assert_eq!(page, ["link:b"]);
        store.delete(&scope("t1"), "link:b").await.unwrap();
        assert_eq!(store.get(&scope("t1"), "link:b").await.unwrap(), None);
    }
}
