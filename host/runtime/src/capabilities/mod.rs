//! The host capabilities a plugin imports, one module per WIT interface, each with the same
//! shape: `add_to_linker`, the host implementation (`impl Host for HostCalls`), and its
//! policy checks, which run before any I/O, fail closed, return the typed WIT `error` (never
//! a trap) and are audited. Policy and port types a capability needs live apart from its
//! host impl (`vendor_http::policy`, `lever::function`, `crate::state_store`, ...).
//!
//! Host impls are written against `HostCalls`, not the store's data: the store embeds one and
//! passes a projection to `add_to_linker`, so nothing here depends on the store or the invoker.

pub mod config;
mod host_calls;
pub mod lever;
pub mod log;
pub mod state;
pub mod vendor_http;

#[cfg(test)]
pub(crate) use host_calls::testing;
pub(crate) use host_calls::{HostCall, HostCalls, Shared, truncate};

use wasmtime::component::{HasSelf, Linker};

use crate::bindings::fulcrum::connector::types;

/// How the store's data `T` reaches the capability side of an invocation.
pub(crate) type Project<T> = fn(&mut T) -> &mut HostCalls;

/// Adds the five capabilities (and the shared `types` interface) to `linker`.
pub(crate) fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    project: Project<T>,
) -> wasmtime::Result<()> {
    types::add_to_linker::<T, HasSelf<HostCalls>>(linker, project)?;
    lever::add_to_linker(linker, project)?;
    vendor_http::add_to_linker(linker, project)?;
    state::add_to_linker(linker, project)?;
    config::add_to_linker(linker, project)?;
    log::add_to_linker(linker, project)?;
    Ok(())
}

impl types::Host for HostCalls {}
