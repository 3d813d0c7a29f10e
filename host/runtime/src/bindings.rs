//! Host bindings generated from the WIT contract (`wit/connector-0.1.0`), the single source of
//! truth: no hand-written mirror types. Imports and exports are async because host functions
//! do network I/O and guests run on wasmtime fibers.

wasmtime::component::bindgen!({
    path: "../../wit/connector-0.1.0",
    world: "connector",
    imports: { default: async },
    exports: { default: async },
    // Serialize + Deserialize: journaled Lever reads are stored and replayed as these types.
    additional_derives: [PartialEq, serde::Serialize, serde::Deserialize],
});

pub use exports::fulcrum::connector::plugin::{
    Action, ActionRequest, ConfigProblem, Header, LeverEvent, LeverEventKind, Manifest, Rejection,
    Schedule, ScheduledRun, VendorRequest,
};
pub use fulcrum::connector::types::{Error as PluginError, LogLevel};

/// The WIT package this host implements.
pub const WIT_PACKAGE: &str = "fulcrum:connector";
/// The contract version this host implements.
pub const WIT_VERSION: &str = "0.1.0";
/// The export every plugin must provide.
pub const PLUGIN_EXPORT: &str = "fulcrum:connector/plugin@0.1.0";
