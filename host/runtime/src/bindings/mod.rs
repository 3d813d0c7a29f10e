//! Host bindings generated from the WIT contract (`wit/`), the single source of truth: no
//! hand-written mirror types. One module per contract version, the Zed way: `v0_2_0` is the
//! latest and its types are the host's own (re-exported here); `v0_1_0` is frozen and adapts
//! to the latest. Which version a component speaks is decided in one place,
//! [`contract_of`], at install; a [`ConnectorPre`] carries it from then on.
//!
//! Imports and exports are async because host functions do network I/O and guests run on
//! wasmtime fibers.

pub mod v0_1_0;
pub mod v0_2_0;

use std::fmt;
use wasmtime::Store;
use wasmtime::component::{Component, InstancePre, Linker};

use crate::call::{Call, CallOutput};
use crate::host::HostState;
use crate::registry::InstallError;

// The latest contract's types are the host's.
pub use exports::fulcrum::connector::plugin::{
    Action, ActionRequest, ConfigProblem, Header, LeverEvent, LeverEventKind, LifecycleEvent,
    LifecycleKind, Manifest, QueryResponse, Rejection, Schedule, ScheduledRun, VendorRequest,
};
pub use fulcrum::connector::types::{Error as PluginError, LogLevel};
pub use v0_2_0::{exports, fulcrum};

/// The WIT package this host implements.
pub const WIT_PACKAGE: &str = "fulcrum:connector";

/// A version of the `fulcrum:connector` contract this host runs.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum ContractVersion {
    V0_1_0,
    V0_2_0,
}

impl ContractVersion {
    /// Every version this host runs, oldest first.
    pub const SUPPORTED: [ContractVersion; 2] = [ContractVersion::V0_1_0, ContractVersion::V0_2_0];
    /// The version the SDK builds against.
    pub const LATEST: ContractVersion = ContractVersion::V0_2_0;

    pub const fn as_str(self) -> &'static str {
        match self {
            ContractVersion::V0_1_0 => "0.1.0",
            ContractVersion::V0_2_0 => "0.2.0",
        }
    }

    pub fn parse(version: &str) -> Option<ContractVersion> {
        Self::SUPPORTED.into_iter().find(|v| v.as_str() == version)
    }

    /// "0.1.0, 0.2.0": for messages.
    pub fn supported_list() -> String {
        Self::SUPPORTED.map(ContractVersion::as_str).join(", ")
    }
}

impl fmt::Display for ContractVersion {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// The contract version a component speaks: the version of the `fulcrum:connector/plugin`
/// interface it exports, which every `fulcrum:connector` import must share. A component of a
/// version this host does not run gets an error naming the versions it does, instead of a
/// link failure.
pub(crate) fn contract_of(
    engine: &wasmtime::Engine,
    component: &Component,
) -> Result<ContractVersion, InstallError> {
    let ty = component.component_type();
    let exports: Vec<String> = ty
        .exports(engine)
        .map(|(name, _)| name.to_owned())
        .collect();
    let exported = exports.iter().find_map(|e| {
        let (interface, version) = e.split_once('@')?;
        (interface == "fulcrum:connector/plugin").then_some(version)
    });
    let Some(found) = exported else {
        let found = if exports.is_empty() {
            "none (the component exports nothing)".to_owned()
        } else {
            format!("none (the component exports {})", exports.join(", "))
        };
        return Err(unsupported(found));
    };
    let version = ContractVersion::parse(found).ok_or_else(|| unsupported(found.to_owned()))?;
    // A component mixing contract versions would fail to link; name the odd one instead.
    for (name, _) in ty.imports(engine) {
        if let Some(import) = fulcrum_version(name)
            && import != version.as_str()
        {
            return Err(InstallError::MixedApiVersions {
                export: version.as_str().to_owned(),
                import: name.to_owned(),
            });
        }
    }
    Ok(version)
}

fn unsupported(found: String) -> InstallError {
    InstallError::UnsupportedApiVersion {
        found,
        supported: ContractVersion::supported_list(),
    }
}

/// The version of a `fulcrum:connector/...@version` name.
fn fulcrum_version(name: &str) -> Option<&str> {
    let rest = name.strip_prefix(WIT_PACKAGE)?.strip_prefix('/')?;
    Some(rest.split_once('@').map(|(_, v)| v).unwrap_or(""))
}

/// Adds every supported version's imports (they have distinct names) to the linker; WASI
/// is added once by the caller.
pub(crate) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    crate::capabilities::add_to_linker(linker, |s: &mut HostState| &mut s.calls)?;
    v0_1_0::add_to_linker(linker, |s: &mut HostState| &mut s.calls)?;
    Ok(())
}

/// A component pre-instantiated against its contract version.
#[derive(Clone)]
pub(crate) enum ConnectorPre {
    V0_1_0(v0_1_0::ConnectorPre<HostState>),
    V0_2_0(v0_2_0::ConnectorPre<HostState>),
}

impl ConnectorPre {
    pub(crate) fn new(
        version: ContractVersion,
        pre: InstancePre<HostState>,
    ) -> wasmtime::Result<Self> {
        Ok(match version {
            ContractVersion::V0_1_0 => ConnectorPre::V0_1_0(v0_1_0::ConnectorPre::new(pre)?),
            ContractVersion::V0_2_0 => ConnectorPre::V0_2_0(v0_2_0::ConnectorPre::new(pre)?),
        })
    }

    pub(crate) fn version(&self) -> ContractVersion {
        match self {
            ConnectorPre::V0_1_0(_) => ContractVersion::V0_1_0,
            ConnectorPre::V0_2_0(_) => ContractVersion::V0_2_0,
        }
    }

    pub(crate) async fn instantiate(
        &self,
        store: &mut Store<HostState>,
    ) -> wasmtime::Result<Connector> {
        Ok(match self {
            ConnectorPre::V0_1_0(pre) => Connector::V0_1_0(pre.instantiate_async(store).await?),
            ConnectorPre::V0_2_0(pre) => Connector::V0_2_0(pre.instantiate_async(store).await?),
        })
    }
}

/// An instance of a component, of its contract version.
pub(crate) enum Connector {
    V0_1_0(v0_1_0::Connector),
    V0_2_0(v0_2_0::Connector),
}

impl Connector {
    /// Calls the export `call` names. The plugin's own errors are values in the output; a
    /// trap is the `Err`.
    pub(crate) async fn call(
        &self,
        store: &mut Store<HostState>,
        call: &Call,
    ) -> wasmtime::Result<CallOutput> {
        match self {
            Connector::V0_1_0(instance) => v0_1_0::call(instance, store, call).await,
            Connector::V0_2_0(instance) => call_latest(instance, store, call).await,
        }
    }
}

async fn call_latest(
    instance: &v0_2_0::Connector,
    store: &mut Store<HostState>,
    call: &Call,
) -> wasmtime::Result<CallOutput> {
    let guest = instance.fulcrum_connector_plugin();
    Ok(match call {
        Call::Describe => CallOutput::Manifest(Box::new(guest.call_describe(store).await?)),
        Call::ValidateConfig(json) => {
            CallOutput::ConfigChecked(guest.call_validate_config(store, json).await?)
        }
        Call::VerifyVendorRequest(request) => CallOutput::VendorRequestChecked(
            guest.call_verify_vendor_request(store, request).await?,
        ),
        Call::LeverEvent(event) => {
            CallOutput::Handled(guest.call_handle_lever_event(store, event).await?)
        }
        Call::VendorEvent(request) => {
            CallOutput::Handled(guest.call_handle_vendor_event(store, request).await?)
        }
        Call::Schedule(run) => CallOutput::Handled(guest.call_run_schedule(store, run).await?),
        Call::Action(request) => {
            CallOutput::ActionResult(guest.call_run_action(store, request).await?)
        }
        Call::Lifecycle(event) => {
            CallOutput::Handled(guest.call_handle_lifecycle(store, event).await?)
        }
        Call::VendorQuery(request) => {
            CallOutput::QueryAnswered(guest.call_handle_vendor_query(store, request).await?)
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn fulcrum_versions_are_read_from_names() {
        assert_eq!(
            fulcrum_version("fulcrum:connector/lever@0.2.0"),
            Some("0.2.0")
        );
        assert_eq!(fulcrum_version("wasi:cli/environment@0.2.0"), None);
        assert_eq!(
            ContractVersion::parse("0.1.0"),
            Some(ContractVersion::V0_1_0)
        );
        assert_eq!(ContractVersion::parse("0.3.0"), None);
        assert_eq!(ContractVersion::supported_list(), "0.1.0, 0.2.0");
    }
}
