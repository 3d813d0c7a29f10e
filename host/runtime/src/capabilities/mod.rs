//! The host capabilities a plugin imports, one module per WIT interface, each with the same
//! shape: `add_to_linker`, the host implementation (`impl Host for HostState`), and its
//! policy checks, which run before any I/O, fail closed, return the typed WIT `error` (never
//! a trap) and are audited.

pub mod config;
pub mod lever;
pub mod log;
pub mod state;
pub mod vendor_http;

use wasmtime::component::{HasSelf, Linker};

use crate::bindings::fulcrum::connector::types;
use crate::host::HostState;

/// The linker every plugin is instantiated with: WASI p2 (with an empty context, see
/// `HostState::new`) and the five capabilities.
pub(crate) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    wasmtime_wasi::p2::add_to_linker_async(linker)?;
    types::add_to_linker::<HostState, HasSelf<HostState>>(linker, |s| s)?;
    lever::add_to_linker(linker)?;
    vendor_http::add_to_linker(linker)?;
    state::add_to_linker(linker)?;
    config::add_to_linker(linker)?;
    log::add_to_linker(linker)?;
    Ok(())
}

impl types::Host for HostState {}
