//! Builds the fixture components (`plugins/fixtures/<name>`) for `wasm32-wasip2`, writes the
//! connectors of `fulcrum-connectors` (a build-dependency: built there once) next to them, and
//! writes `OUT_DIR/artifacts.rs` with their paths, `ALL`, `foreach_fixture!` and
//! `foreach_connector!`.
//!
//! All fixtures are built in ONE nested cargo build (see `fulcrum-component-build`) with the
//! `plugin` profile (fat LTO), the profile the connectors are built with: the two nested builds
//! then share every dependency, and the fixtures the runtime's benchmark measures
//! (`well_behaved`: instantiate + call, sandbox tax; `cv_render`) are built as connectors ship.

use std::fs;
use std::path::Path;

use fulcrum_component_build::{Built, Component, ComponentBuild, Form, constants, foreach_macro};

/// Every fixture, `plugins/fixtures/<name>` (package `fulcrum-fixture-<name>`, with dashes).
/// Adding one is one line.
const FIXTURES: &[&str] = &[
    "well_behaved",
    "well_behaved_v2",
    "well_behaved_twin",
    "well_behaved_hooks",
    "infinite_loop",
    "memory_bomb",
    "deep_recursion",
    "oversized_return",
    "panic",
    "slow_host_call",
    "ungranted_permission",
    "undeclared_host",
    "reads_files_env",
    "cv_render",
    "contract_tour",
];

fn main() {
    let mut build = ComponentBuild::new(&[
        "plugins/sdk",
        "plugins/fixtures/shared",
        "plugins/europass",
        "wit",
        "Cargo.lock",
        "Cargo.toml",
    ]);
    let fixtures = if cfg!(feature = "fixtures") {
        let components: Vec<Component> = FIXTURES.iter().map(|name| fixture(name)).collect();
        build.build("plugin", &components)
    } else {
        Vec::new()
    };
    build.finish();
    let connectors = connectors(build.out_dir());
    let all: Vec<Built> = fixtures.iter().chain(&connectors).cloned().collect();
    let source = constants(&all, Form::Path)
        + &foreach_macro("foreach_fixture", "fixture", &fixtures)
        + &foreach_macro("foreach_connector", "connector", &connectors);
    fs::write(build.out_dir().join("artifacts.rs"), source).unwrap();
}

fn fixture(name: &str) -> Component {
    Component::new(
        name,
        &format!("fulcrum-fixture-{}", name.replace('_', "-")),
        &format!("plugins/fixtures/{name}"),
    )
}

/// `fulcrum_connectors::ALL`, written to `out_dir/<name>.wasm`.
#[cfg(feature = "connectors")]
fn connectors(out_dir: &Path) -> Vec<Built> {
    fulcrum_connectors::ALL
        .iter()
        .map(|(name, bytes)| {
            let path = out_dir.join(format!("{name}.wasm"));
            fs::write(&path, bytes).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
            Built {
                name: (*name).to_owned(),
                path,
                origin: "from `fulcrum-connectors`, profile `plugin`".to_owned(),
            }
        })
        .collect()
}

#[cfg(not(feature = "connectors"))]
fn connectors(_: &Path) -> Vec<Built> {
    Vec::new()
}
