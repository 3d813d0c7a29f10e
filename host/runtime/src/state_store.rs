//! The port behind the `state` capability: per tenant × plugin key-value storage. The host
//! impl (`capabilities::state`) decides the scope and checks sizes; implementations only store
//! (`MemoryStateStore` here, the service's staged store on SQLite/PostgreSQL).

use async_trait::async_trait;
use parking_lot::Mutex;
use std::collections::BTreeMap;
use std::ops::Bound;

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
