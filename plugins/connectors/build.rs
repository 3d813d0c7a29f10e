//! Builds every connector crate under `plugins/` for `wasm32-wasip2` with the `plugin` profile
//! (release with fat LTO) in one nested cargo build, and writes `OUT_DIR/connectors.rs`: a
//! `&[u8]` constant per connector (`include_bytes!` of its copy in `OUT_DIR`), `ALL` and
//! `foreach_connector!`.

use fulcrum_component_build::{Component, ComponentBuild, Form, constants, foreach_macro};

fn main() {
    // Every connector: artifact name, package, crate directory. Adding one is one line.
    let connectors = [
        Component::new(
            "remote_tech_work",
            "fulcrum-connector-remote-tech-work",
            "plugins/remote-tech-work",
        ),
        Component::new("relode", "fulcrum-connector-relode", "plugins/relode"),
    ];
    // plugins/europass: the Europass CV renderer the Remote Tech Work connector embeds.
    let mut build = ComponentBuild::new(&[
        "plugins/sdk",
        "plugins/europass",
        "wit",
        "Cargo.lock",
        "Cargo.toml",
    ]);
    let built = build.build("plugin", &connectors);
    build.finish();
    let source =
        constants(&built, Form::Bytes) + &foreach_macro("foreach_connector", "connector", &built);
    std::fs::write(build.out_dir().join("connectors.rs"), source).unwrap();
}
