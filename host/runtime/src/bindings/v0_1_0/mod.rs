//! `fulcrum:connector@0.1.0`, frozen: components built against it keep running. Its imports
//! are implemented by converting to the latest contract and calling the latest host
//! implementation (`imports`), and its exports are called with the latest request types
//! converted down (`exports`); `convert` holds the conversions. Nothing here has policy of
//! its own, so a 0.1.0 component gets exactly the checks a 0.2.0 one gets.

wasmtime::component::bindgen!({
    path: "../../wit/connector-0.1.0",
    world: "connector",
    imports: { default: async },
    exports: { default: async },
});

mod calls;
mod convert;
mod imports;

pub(crate) use calls::call;
pub(crate) use imports::add_to_linker;
