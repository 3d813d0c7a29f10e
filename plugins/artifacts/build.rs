//! Builds every fixture and connector component for `wasm32-wasip2` (the `plugin` profile: release with fat LTO) from source, in the
//! style of wasmtime's `crates/test-programs/artifacts/build.rs`, and writes
//! `OUT_DIR/artifacts.rs` with their paths.
//!
//! Each artifact is a nested `cargo build` of the same workspace with its own `--target-dir`
//! (`<target>/wasm-artifacts`): the outer cargo holds the lock on its own target dir, so
//! sharing it would deadlock. The nested builds share one target dir, so dependencies build once.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

const TARGET: &str = "wasm32-wasip2";
/// The workspace profile components are built with (fat LTO, one codegen unit).
const PROFILE: &str = "plugin";

/// One component to build: `cargo build -p <package> --no-default-features --features <features>`.
struct Artifact {
    /// Constant and macro name: `well_behaved` → `WELL_BEHAVED`, `foreach_fixture!`'s `well_behaved`.
    name: &'static str,
    package: &'static str,
    /// The crate's library name: the built file is `<lib>.wasm`.
    lib: &'static str,
    features: &'static [&'static str],
    /// The crate's directory, relative to the workspace root (for `rerun-if-changed`).
    dir: &'static str,
    fixture: bool,
}

const fn fixture(name: &'static str, features: &'static [&'static str]) -> Artifact {
    Artifact {
        name,
        package: "fulcrum-fixtures",
        lib: "fulcrum_fixtures",
        features,
        dir: "plugins/fixtures",
        fixture: true,
    }
}

/// A connector crate under `plugins/`, built with its default features; its library is named
/// like the artifact (`[lib] name = "remote_tech_work"`).
const fn connector(name: &'static str, package: &'static str, dir: &'static str) -> Artifact {
    Artifact {
        name,
        package,
        lib: name,
        features: &[],
        dir,
        fixture: false,
    }
}

/// Everything built. Adding a fixture (a feature of `fulcrum-fixtures`) or a connector crate
/// is one line here.
const ARTIFACTS: &[Artifact] = &[
    fixture("well_behaved", &["well_behaved"]),
    fixture("well_behaved_v2", &["well_behaved_v2"]),
    fixture("well_behaved_twin", &["well_behaved_twin"]),
    fixture("infinite_loop", &["infinite_loop"]),
    fixture("memory_bomb", &["memory_bomb"]),
    fixture("deep_recursion", &["deep_recursion"]),
    fixture("oversized_return", &["oversized_return"]),
    fixture("panic", &["panic"]),
    fixture("slow_host_call", &["slow_host_call"]),
    fixture("ungranted_permission", &["ungranted_permission"]),
    fixture("undeclared_host", &["undeclared_host"]),
    fixture("reads_files_env", &["reads_files_env"]),
    fixture("cv_render", &["cv_render"]),
    connector(
        "remote_tech_work",
        "fulcrum-connector-remote-tech-work",
        "plugins/remote-tech-work",
    ),
    connector("relode", "fulcrum-connector-relode", "plugins/relode"),
];

fn main() {
    let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap());
    let workspace = manifest_dir.join("../..").canonicalize().unwrap();
    let out_dir = PathBuf::from(env::var_os("OUT_DIR").unwrap());

    // plugins/europass: the Europass CV renderer the Remote Tech Work connector embeds.
    let mut watched = vec![
        "plugins/sdk",
        "plugins/europass",
        "wit",
        "Cargo.lock",
        "Cargo.toml",
    ];
    watched.extend(ARTIFACTS.iter().map(|a| a.dir));
    watched.dedup();
    for path in watched {
        println!("cargo:rerun-if-changed={}", workspace.join(path).display());
    }
    println!("cargo:rerun-if-env-changed=CARGO_TARGET_DIR");

    check_target_installed(&workspace);

    // `<target dir>/wasm-artifacts`: the workspace's target dir unless CARGO_TARGET_DIR moves it.
    let target_dir = env::var_os("CARGO_TARGET_DIR")
        .map(|d| workspace.join(d))
        .unwrap_or_else(|| workspace.join("target"))
        .join("wasm-artifacts");

    let started = Instant::now();
    let mut built = Vec::new();
    for artifact in ARTIFACTS {
        let t = Instant::now();
        let wasm = build(&workspace, &target_dir, artifact);
        // Features of one crate overwrite the same output file: copy after each build.
        let dest = out_dir.join(format!("{}.wasm", artifact.name));
        fs::copy(&wasm, &dest)
            .unwrap_or_else(|e| panic!("copy {} to {}: {e}", wasm.display(), dest.display()));
        let size = fs::metadata(&dest).map(|m| m.len()).unwrap_or(0);
        println!(
            "cargo:warning=wasm artifact {}: {} KiB in {:.1}s",
            artifact.name,
            size / 1024,
            t.elapsed().as_secs_f64()
        );
        built.push((artifact, dest));
    }
    eprintln!(
        "built {} components in {:.1}s",
        built.len(),
        started.elapsed().as_secs_f64()
    );

    fs::write(out_dir.join("artifacts.rs"), generate(&built)).unwrap();
}

/// Fails early with the fix when the target's standard library is missing.
fn check_target_installed(workspace: &Path) {
    let rustc = env::var_os("RUSTC").unwrap_or_else(|| "rustc".into());
    let sysroot = Command::new(&rustc)
        .args(["--print", "sysroot"])
        .current_dir(workspace)
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| PathBuf::from(String::from_utf8_lossy(&o.stdout).trim()));
    if let Some(sysroot) = sysroot
        && !sysroot.join("lib/rustlib").join(TARGET).exists()
    {
        panic!(
            "\n\nthe Rust target {TARGET} is not installed (needed to build the plugin \
             components).\nRun: rustup target add {TARGET}\n\n"
        );
    }
}

fn build(workspace: &Path, target_dir: &Path, artifact: &Artifact) -> PathBuf {
    let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let mut cmd = Command::new(cargo);
    cmd.current_dir(workspace)
        .args([
            "build",
            "--profile",
            PROFILE,
            "--target",
            TARGET,
            "-p",
            artifact.package,
        ])
        .arg("--target-dir")
        .arg(target_dir);
    if artifact.fixture {
        cmd.arg("--no-default-features");
    }
    if !artifact.features.is_empty() {
        cmd.arg("--features").arg(artifact.features.join(","));
    }
    clean_env(&mut cmd);
    // Our stdout is parsed by the outer cargo for `cargo:` lines: keep the nested build's off it.
    cmd.stdout(Stdio::from(std::io::stderr()));
    eprintln!("running: {cmd:?}");
    let status = cmd
        .status()
        .unwrap_or_else(|e| panic!("cannot run cargo: {e}"));
    assert!(
        status.success(),
        "building the {} component failed ({status}); the nested cargo's output is above",
        artifact.name
    );
    let file = format!("{}.wasm", artifact.lib);
    target_dir.join(TARGET).join(PROFILE).join(file)
}

/// Removes what the outer build leaks into the environment and would change the nested build:
/// its flags, target and target dir, wrappers (clippy-driver under `cargo clippy`), profile
/// settings, and the per-build-script variables. Keeps registry, network, terminal settings and
/// the jobserver (`CARGO_MAKEFLAGS`), so the nested build shares the outer build's job tokens.
fn clean_env(cmd: &mut Command) {
    const KEEP: &[&str] = &["CARGO_HOME", "CARGO_MAKEFLAGS"];
    const KEEP_PREFIXES: &[&str] = &[
        "CARGO_NET_",
        "CARGO_HTTP_",
        "CARGO_REGISTRIES_",
        "CARGO_REGISTRY_",
        "CARGO_TERM_",
    ];
    const REMOVE: &[&str] = &[
        "RUSTFLAGS",
        "RUSTDOCFLAGS",
        "RUSTC_WORKSPACE_WRAPPER",
        "RUSTC_WRAPPER",
        "RUSTC_LINKER",
        "TARGET",
        "HOST",
        "OUT_DIR",
        "PROFILE",
        "OPT_LEVEL",
        "DEBUG",
        "NUM_JOBS",
    ];
    for (key, _) in env::vars_os() {
        let Some(key) = key.to_str() else { continue };
        let cargo_var = key.starts_with("CARGO_")
            && !KEEP.contains(&key)
            && !KEEP_PREFIXES.iter().any(|p| key.starts_with(p));
        if cargo_var || REMOVE.contains(&key) {
            cmd.env_remove(key);
        }
    }
}

/// `artifacts.rs`: a `&str` path constant per artifact, `ALL`, and `foreach_fixture!` /
/// `foreach_connector!`.
fn generate(built: &[(&Artifact, PathBuf)]) -> String {
    let mut src = String::from("// @generated by build.rs\n\n");
    for (artifact, path) in built {
        writeln!(
            src,
            "/// The `{}` component (`{}`).\npub const {}: &str = {:?};",
            artifact.name,
            artifact.package,
            artifact.name.to_uppercase(),
            path.to_str().expect("OUT_DIR is UTF-8")
        )
        .unwrap();
    }
    src.push_str("\n/// Every artifact as (name, path).\npub const ALL: &[(&str, &str)] = &[\n");
    for (artifact, _) in built {
        writeln!(
            src,
            "    ({:?}, {}),",
            artifact.name,
            artifact.name.to_uppercase()
        )
        .unwrap();
    }
    src.push_str("];\n");
    for (macro_name, fixture) in [("foreach_fixture", true), ("foreach_connector", false)] {
        writeln!(
            src,
            "\n/// Calls `$mac!(name)` for every {}.\n#[macro_export]\nmacro_rules! {macro_name} {{\n    ($mac:ident) => {{",
            if fixture { "fixture" } else { "connector" }
        )
        .unwrap();
        for (artifact, _) in built.iter().filter(|(a, _)| a.fixture == fixture) {
            writeln!(src, "        $mac!({});", artifact.name).unwrap();
        }
        src.push_str("    };\n}\n");
    }
    src
}
