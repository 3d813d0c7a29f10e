//! Builds crates of this workspace as WebAssembly components (`wasm32-wasip2`) from a build
//! script, in the style of wasmtime's `crates/test-programs/artifacts/build.rs`, and writes the
//! Rust source that exposes them. Used by `plugins/connectors` (the connectors, embedded as
//! bytes) and `plugins/artifacts` (the test fixtures, as paths).
//!
//! ```no_run
//! use fulcrum_component_build::{Component, ComponentBuild, Form};
//!
//! let mut build = ComponentBuild::new(&["plugins/sdk", "wit", "Cargo.lock", "Cargo.toml"]);
//! let built = build.build(
//!     "plugin",
//!     &[Component::new("relode", "fulcrum-connector-relode", "plugins/relode")],
//! );
//! build.finish();
//! let source = fulcrum_component_build::constants(&built, Form::Bytes)
//!     + &fulcrum_component_build::foreach_macro("foreach_connector", "connector", &built);
//! std::fs::write(build.out_dir().join("connectors.rs"), source).unwrap();
//! ```
//!
//! Each [`ComponentBuild::build`] is ONE nested `cargo build --profile P --target wasm32-wasip2
//! -p a -p b ...` of the same workspace, so cargo builds the components and their dependencies
//! in parallel. The nested build has its own target dir, `<target dir>/wasm-artifacts`: the
//! outer cargo holds the lock on its own target dir, so sharing it would deadlock. Every build
//! script using this crate shares that dir, so a dependency builds once per profile.

use std::env;
use std::fmt::Write as _;
use std::fs;
use std::io::{BufRead as _, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Instant;

use serde_json::Value;

/// What components are built for.
pub const TARGET: &str = "wasm32-wasip2";

/// A workspace crate whose library is a component (`crate-type` includes `cdylib`).
#[derive(Clone, Debug)]
pub struct Component {
    /// The artifact's name, in `snake_case`: constant `NAME`, file `OUT_DIR/<name>.wasm`,
    /// `foreach_*!(name)`.
    pub name: String,
    /// The package (`cargo build -p <package>`).
    pub package: String,
    /// The crate's directory, relative to the workspace root.
    pub dir: String,
}

impl Component {
    pub fn new(name: &str, package: &str, dir: &str) -> Self {
        Self {
            name: name.to_owned(),
            package: package.to_owned(),
            dir: dir.to_owned(),
        }
    }
}

/// A component ready for the generated source.
#[derive(Clone, Debug)]
pub struct Built {
    /// As [`Component::name`].
    pub name: String,
    /// The file, under `OUT_DIR` (the nested target dir is overwritten by later builds).
    pub path: PathBuf,
    /// Where it comes from, for the constant's doc: e.g. "`fulcrum-fixture-panic`, profile
    /// `fixture`".
    pub origin: String,
}

/// The nested builds of one build script; see the crate docs.
pub struct ComponentBuild {
    workspace: PathBuf,
    target_dir: PathBuf,
    out_dir: PathBuf,
    started: Instant,
    built: usize,
}

impl ComponentBuild {
    /// Prepares the nested builds of this build script: checks that the target is installed
    /// (panics with the fix if not) and prints `rerun-if-changed` for `watch` (paths relative
    /// to the workspace root, e.g. the shared crates the components depend on; each built
    /// component's directory is added by [`Self::build`]).
    pub fn new(watch: &[&str]) -> Self {
        let out_dir = PathBuf::from(env::var_os("OUT_DIR").expect("OUT_DIR: not a build script"));
        let manifest_dir = PathBuf::from(env::var_os("CARGO_MANIFEST_DIR").unwrap());
        let workspace = workspace_root(&manifest_dir);
        for path in watch {
            println!("cargo:rerun-if-changed={}", workspace.join(path).display());
        }
        check_target_installed(&workspace);
        let target_dir = outer_target_dir(&out_dir)
            .unwrap_or_else(|| workspace.join("target"))
            .join("wasm-artifacts");
        Self {
            workspace,
            target_dir,
            out_dir,
            started: Instant::now(),
            built: 0,
        }
    }

    /// This build script's `OUT_DIR`.
    pub fn out_dir(&self) -> &Path {
        &self.out_dir
    }

    /// Builds `components` with `profile` in one nested `cargo build`, copies each to
    /// `OUT_DIR/<name>.wasm` and prints a `cargo:warning` line with its size. Returns them in
    /// the order given; panics (the nested cargo's errors are above) if the build fails.
    pub fn build(&mut self, profile: &str, components: &[Component]) -> Vec<Built> {
        if components.is_empty() {
            return Vec::new();
        }
        let cargo = env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
        let mut cmd = Command::new(cargo);
        cmd.current_dir(&self.workspace)
            .args(["build", "--profile", profile, "--target", TARGET])
            // JSON on stdout says where each `.wasm` went; errors stay human on stderr.
            .args(["--message-format", "json-render-diagnostics"])
            .arg("--target-dir")
            .arg(&self.target_dir);
        let mut manifests = Vec::new();
        for component in components {
            let dir = self.workspace.join(&component.dir);
            println!("cargo:rerun-if-changed={}", dir.display());
            manifests.push(canonical(&dir.join("Cargo.toml")));
            cmd.args(["-p", &component.package]);
        }
        clean_env(&mut cmd);
        // Our stdout is parsed by the outer cargo for `cargo:` lines: the nested build's JSON
        // is read here, its human output goes to our stderr.
        cmd.stdout(Stdio::piped());
        eprintln!("running: {cmd:?}");
        let started = Instant::now();
        let mut child = cmd
            .spawn()
            .unwrap_or_else(|e| panic!("cannot run cargo: {e}"));
        let mut wasm: Vec<Option<PathBuf>> = vec![None; components.len()];
        for line in BufReader::new(child.stdout.take().unwrap()).lines() {
            let line = line.expect("reading the nested cargo's output");
            if let Some((index, file)) = component_file(&line, &manifests) {
                eprintln!(
                    "{} ready after {:.1}s",
                    components[index].name,
                    started.elapsed().as_secs_f64()
                );
                wasm[index] = Some(file);
            }
        }
        let status = child.wait().expect("waiting for the nested cargo");
        let names: Vec<&str> = components.iter().map(|c| c.name.as_str()).collect();
        assert!(
            status.success(),
            "building the components {names:?} (profile {profile}) failed ({status}); the nested \
             cargo's output is above"
        );
        let built = components
            .iter()
            .zip(wasm)
            .map(|(component, file)| {
                let file = file.unwrap_or_else(|| {
                    panic!("the nested cargo built no .wasm for {}", component.package)
                });
                self.copy(component, profile, &file)
            })
            .collect();
        eprintln!(
            "built {names:?} (profile {profile}) in {:.1}s",
            started.elapsed().as_secs_f64()
        );
        built
    }

    fn copy(&mut self, component: &Component, profile: &str, file: &Path) -> Built {
        let path = self.out_dir.join(format!("{}.wasm", component.name));
        fs::copy(file, &path)
            .unwrap_or_else(|e| panic!("copy {} to {}: {e}", file.display(), path.display()));
        let size = fs::metadata(&path).map(|m| m.len()).unwrap_or(0);
        println!(
            "cargo:warning=component {}: {} KiB (profile {profile})",
            component.name,
            size / 1024
        );
        self.built += 1;
        Built {
            name: component.name.clone(),
            path,
            origin: format!("`{}`, profile `{profile}`", component.package),
        }
    }

    /// Prints the total time of this build script's nested builds.
    pub fn finish(&self) {
        println!(
            "cargo:warning=built {} components for {TARGET} in {:.1}s",
            self.built,
            self.started.elapsed().as_secs_f64()
        );
    }
}

/// The nearest ancestor of `dir` with a `Cargo.toml` declaring `[workspace]`.
fn workspace_root(dir: &Path) -> PathBuf {
    dir.ancestors()
        .find(|d| {
            fs::read_to_string(d.join("Cargo.toml"))
                .is_ok_and(|toml| toml.lines().any(|l| l.trim() == "[workspace]"))
        })
        .map(canonical)
        .unwrap_or_else(|| panic!("no workspace Cargo.toml above {}", dir.display()))
}

/// The outer build's target dir: the ancestor of `OUT_DIR` that cargo tagged as a cache
/// (follows `CARGO_TARGET_DIR`, `--target-dir` and `build.target-dir`).
fn outer_target_dir(out_dir: &Path) -> Option<PathBuf> {
    out_dir
        .ancestors()
        .find(|d| d.join("CACHEDIR.TAG").is_file())
        .map(Path::to_path_buf)
}

fn canonical(path: &Path) -> PathBuf {
    path.canonicalize()
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

/// From one line of `cargo build --message-format json`: the `.wasm` of a `cdylib` whose
/// manifest is `manifests[i]`, as `(i, file)`.
fn component_file(line: &str, manifests: &[PathBuf]) -> Option<(usize, PathBuf)> {
    let message: Value = serde_json::from_str(line).ok()?;
    if message["reason"] != "compiler-artifact"
        || !message["target"]["kind"]
            .as_array()?
            .iter()
            .any(|kind| kind == "cdylib")
    {
        return None;
    }
    let manifest = Path::new(message["manifest_path"].as_str()?)
        .canonicalize()
        .ok()?;
    let index = manifests.iter().position(|m| *m == manifest)?;
    let file = message["filenames"]
        .as_array()?
        .iter()
        .filter_map(Value::as_str)
        .find(|f| f.ends_with(".wasm"))?;
    Some((index, PathBuf::from(file)))
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

/// How [`constants`] gives each component.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Form {
    /// `pub const NAME: &str`: the file's path.
    Path,
    /// `pub const NAME: &[u8]`: its bytes (`include_bytes!`), for a binary that ships them.
    Bytes,
}

/// Rust source for `include!`: a constant per component (`remote_tech_work` →
/// `REMOTE_TECH_WORK`), then `ALL`, every component as `(name, constant)` in this order.
pub fn constants(built: &[Built], form: Form) -> String {
    let (ty, what) = match form {
        Form::Path => ("&str", "path"),
        Form::Bytes => ("&[u8]", "bytes"),
    };
    let mut src = String::from("// @generated by fulcrum-component-build\n\n");
    for b in built {
        let path = b.path.to_str().expect("OUT_DIR is UTF-8");
        let value = match form {
            Form::Path => format!("{path:?}"),
            Form::Bytes => format!("include_bytes!({path:?})"),
        };
        writeln!(
            src,
            "/// The `{}` component ({}).\npub const {}: {ty} = {value};",
            b.name,
            b.origin,
            b.name.to_uppercase(),
        )
        .unwrap();
    }
    writeln!(
        src,
        "\n/// Every component as (name, {what}).\npub const ALL: &[(&str, {ty})] = &["
    )
    .unwrap();
    for b in built {
        writeln!(src, "    ({:?}, {}),", b.name, b.name.to_uppercase()).unwrap();
    }
    src.push_str("];\n");
    src
}

/// Rust source for `include!`: `#[macro_export] macro_rules! <macro_name>`, which calls
/// `$mac!(name)` for each of `built` (the `what`s, e.g. "fixture"), so a caller can make sure
/// each has a test or a scenario.
pub fn foreach_macro(macro_name: &str, what: &str, built: &[Built]) -> String {
    let mut src = format!(
        "\n/// Calls `$mac!(name)` for every {what}.\n#[macro_export]\nmacro_rules! {macro_name} {{\n    ($mac:ident) => {{\n"
    );
    for b in built {
        writeln!(src, "        $mac!({});", b.name).unwrap();
    }
    src.push_str("    };\n}\n");
    src
}
