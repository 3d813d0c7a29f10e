//! The installation's settings and vendor secrets.

use crate::Error;
use crate::bindings::fulcrum::connector::config as wit;
use serde::de::DeserializeOwned;

/// The configuration deserialized into `T` (valid against the manifest's schema, with its
/// defaults applied by the host).
pub fn get<T: DeserializeOwned>() -> Result<T, Error> {
    serde_json::from_str(&raw()).map_err(|e| Error::invalid(format!("installation config: {e}")))
}

/// The configuration as JSON text.
pub fn raw() -> String {
    wit::get_config()
}

/// A vendor secret the admin set (declared in the manifest's `secrets`), or `None`.
/// Lever credentials are never available.
pub fn secret(name: &str) -> Option<String> {
    wit::get_secret(name)
}
