//! The plugin components for tests and benchmarks, as files: one `&str` path constant per
//! fixture (`WELL_BEHAVED`, `INFINITE_LOOP`, ...) and connector (`REMOTE_TECH_WORK`, `RELODE`),
//! [`ALL`] as (name, path) pairs, and [`foreach_fixture!`] / [`foreach_connector!`] to make sure
//! every artifact has a test:
//!
//! ```
//! mod tests {
//!     // One test (or module) per fixture...
//!     # macro_rules! fixture_tests { ($($name:ident),*) => { $(#[allow(dead_code)] mod $name {})* } }
//!     # fixture_tests!(well_behaved, well_behaved_v2, well_behaved_twin, well_behaved_hooks, infinite_loop, memory_bomb, deep_recursion, oversized_return,
//!     #     panic, slow_host_call, ungranted_permission, undeclared_host, reads_files_env, cv_render, contract_tour);
//!
//!     // ...and a fixture without one fails to compile here.
//!     macro_rules! assert_test_exists {
//!         ($name:ident) => {
//!             #[allow(unused_imports)]
//!             use self::$name as _;
//!         };
//!     }
//!     fulcrum_plugin_artifacts::foreach_fixture!(assert_test_exists);
//! }
//! # fn main() {}
//! ```
//!
//! This crate's build script builds the fixtures (`plugins/fixtures/<name>`) from source for
//! `wasm32-wasip2` in one nested cargo build with the `plugin` profile (fat LTO, as connectors
//! ship: the runtime's benchmark measures `well_behaved` and `cv_render`). The connectors come
//! from `fulcrum-connectors` (built there once, same profile, same dependencies). Features
//! `fixtures` and `connectors` (both default) choose the groups; a disabled group has no
//! constants and an empty `foreach_*!`.
//!
//! Building needs the `wasm32-wasip2` target (`rustup target add wasm32-wasip2`).

include!(concat!(env!("OUT_DIR"), "/artifacts.rs"));

/// `well-behaved` as built against contract 0.1.0 and kept as shipped (not rebuilt): the
/// host must keep running released contracts. See `plugins/released/contract-0.1.0/README.md`.
pub const WELL_BEHAVED_V0_1_0: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../released/contract-0.1.0/well-behaved-0.1.0.wasm"
);

/// The Relode connector as built against contract 0.1.0, kept as shipped.
pub const RELODE_V0_1_0: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/../released/contract-0.1.0/relode-0.1.0.wasm"
);
