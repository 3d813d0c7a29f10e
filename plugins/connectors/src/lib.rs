//! The vendor connectors, built from source for `wasm32-wasip2` with the `plugin` profile
//! (release with fat LTO) by this crate's build script and embedded as bytes: one `&[u8]`
//! constant per connector ([`REMOTE_TECH_WORK`], [`RELODE`]), [`ALL`] as (name, bytes) pairs,
//! and [`foreach_connector!`] to give every connector something (a demo scenario, a test):
//!
//! ```
//! for (name, component) in fulcrum_connectors::ALL {
//!     // `\0asm` and the component-model layer: install these bytes as they are.
//!     assert!(component.starts_with(b"\0asm\x0d\0\x01\0"), "{name}");
//! }
//!
//! mod scenarios {
//!     # pub mod remote_tech_work {} pub mod relode {}
//!     // A connector without a module here fails to compile.
//!     macro_rules! has_a_scenario {
//!         ($name:ident) => {
//!             #[allow(unused_imports)]
//!             use self::$name as _;
//!         };
//!     }
//!     fulcrum_connectors::foreach_connector!(has_a_scenario);
//! }
//! ```
//!
//! Adding a connector is one line in `build.rs`. Building needs the `wasm32-wasip2` target
//! (`rustup target add wasm32-wasip2`).

include!(concat!(env!("OUT_DIR"), "/connectors.rs"));
