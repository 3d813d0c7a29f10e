//! `fulcrum:connector@0.2.0`, the latest contract: the host's own types. Capabilities implement
//! these interfaces; older versions adapt to them (`super::v0_1_0`).

wasmtime::component::bindgen!({
    path: "../../wit/connector-0.2.0",
    world: "connector",
    imports: { default: async },
    exports: { default: async },
    // Serialize + Deserialize: journaled Lever reads are stored and replayed as these types.
    additional_derives: [PartialEq, serde::Serialize, serde::Deserialize],
});
