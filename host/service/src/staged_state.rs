//! Plugin state as a handler sees it: reads go to the store, writes are staged in memory and
//! committed in the same transaction that marks the event done. A handler that fails, traps
//! or is cut off by a crash leaves no state behind, so a retry sees the state exactly as the
//! first attempt did and makes the same decisions (and the same journaled Lever writes).

use async_trait::async_trait;
use fulcrum_runtime::{StateError, StateScope, StateStore};
use fulcrum_store::{StateWrite, Store};
use parking_lot::Mutex;
use std::collections::BTreeMap;

/// Most staged keys one invocation may hold (the runtime caps each key and value).
const MAX_STAGED_KEYS: usize = 10_000;

pub struct StagedState {
    store: Store,
    /// key → new value (`None`: deleted), per scope. The runtime scopes every call to the
    /// invocation's tenant × plugin, so in practice there is one scope.
    staged: Mutex<BTreeMap<StateScope, BTreeMap<String, Option<String>>>>,
}

impl StagedState {
    pub fn new(store: Store) -> Self {
        StagedState {
            store,
            staged: Mutex::new(BTreeMap::new()),
        }
    }

    /// The staged writes, to commit with the event's completion.
    pub fn writes(&self) -> Vec<StateWrite> {
        self.staged
            .lock()
            .iter()
            .flat_map(|(scope, keys)| {
                keys.iter().map(|(key, value)| StateWrite {
                    tenant_id: scope.tenant_id.clone(),
                    plugin_id: scope.plugin_id.clone(),
                    key: key.clone(),
                    value: value.as_ref().map(|v| v.as_bytes().to_vec()),
                })
            })
            .collect()
    }

    fn staged(&self, scope: &StateScope, key: &str) -> Option<Option<String>> {
        self.staged.lock().get(scope)?.get(key).cloned()
    }

    fn stage(
        &self,
        scope: &StateScope,
        key: &str,
        value: Option<String>,
    ) -> Result<(), StateError> {
        let mut staged = self.staged.lock();
        let keys = staged.entry(scope.clone()).or_default();
        if keys.len() >= MAX_STAGED_KEYS && !keys.contains_key(key) {
            return Err(StateError::Quota(format!(
                "more than {MAX_STAGED_KEYS} state keys changed in one invocation"
            )));
        }
        keys.insert(key.to_owned(), value);
        Ok(())
    }
}

fn unavailable(e: fulcrum_store::StoreError) -> StateError {
    StateError::Unavailable(e.to_string())
}

#[async_trait]
impl StateStore for StagedState {
    async fn get(&self, scope: &StateScope, key: &str) -> Result<Option<String>, StateError> {
        if let Some(staged) = self.staged(scope, key) {
            return Ok(staged);
        }
        let bytes = self
            .store
            .state_get(&scope.tenant_id, &scope.plugin_id, key)
            .await
            .map_err(unavailable)?;
        bytes
            .map(|b| {
                String::from_utf8(b).map_err(|_| {
                    StateError::Unavailable(format!("stored state {key:?} is not UTF-8"))
                })
            })
            .transpose()
    }

    async fn set(&self, scope: &StateScope, key: &str, value: &str) -> Result<(), StateError> {
        self.stage(scope, key, Some(value.to_owned()))
    }

    async fn delete(&self, scope: &StateScope, key: &str) -> Result<(), StateError> {
        self.stage(scope, key, None)
    }

    async fn list_keys(
        &self,
        scope: &StateScope,
        prefix: &str,
        after: Option<&str>,
        limit: usize,
    ) -> Result<Vec<String>, StateError> {
        // Stored keys merged with staged ones: staged deletes hide stored keys, staged sets
        // add theirs. Over-fetch by the number of staged deletes so a page stays full.
        let staged: BTreeMap<String, Option<String>> = self
            .staged
            .lock()
            .get(scope)
            .map(|keys| {
                keys.iter()
                    .filter(|(k, _)| k.starts_with(prefix) && after.is_none_or(|a| k.as_str() > a))
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect()
            })
            .unwrap_or_default();
        let deleted = staged.values().filter(|v| v.is_none()).count();
        let fetch = u32::try_from(limit.saturating_add(deleted)).unwrap_or(u32::MAX);
        let stored = self
            .store
            .state_list_keys(&scope.tenant_id, &scope.plugin_id, prefix, after, fetch)
            .await
            .map_err(unavailable)?;
        let mut keys: std::collections::BTreeSet<String> = stored
            .into_iter()
            .filter(|k| !matches!(staged.get(k), Some(None)))
            .collect();
        keys.extend(
            staged
                .iter()
                .filter(|(_, v)| v.is_some())
                .map(|(k, _)| k.clone()),
        );
        Ok(keys.into_iter().take(limit).collect())
    }
}
