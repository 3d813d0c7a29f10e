//! Per-installation key-value state (links between vendor and Lever ids, sync cursors).

use crate::Error;
use crate::lever::paginate;
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use crate::bindings::fulcrum::connector::state::{delete, get, list_keys, set};

/// The value at `key` deserialized from JSON, or `None` when unset.
pub fn get_json<T: DeserializeOwned>(key: &str) -> Result<Option<T>, Error> {
    match get(key)? {
        Some(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| Error::invalid(format!("state {key:?}: {e}"))),
        None => Ok(None),
    }
}

/// Stores `value` as JSON at `key`.
pub fn set_json<T: Serialize + ?Sized>(key: &str, value: &T) -> Result<(), Error> {
    set(key, &serde_json::to_string(value)?)
}

/// Every key starting with `prefix`, in order, fetched in pages of 100.
pub fn keys_with_prefix(prefix: &str) -> impl Iterator<Item = Result<String, Error>> + '_ {
    const PAGE: u32 = 100;
    paginate(None, move |after| {
        let keys = list_keys(prefix, after.as_deref(), PAGE)?;
        let next = if keys.len() as u32 == PAGE {
            keys.last().cloned()
        } else {
            None
        };
        Ok((keys, next))
    })
}
