//! Tells the crate where cargo's `target/tmp` is (what `CARGO_TARGET_TMPDIR` is for
//! integration tests, which a library does not get): the component cache lives there, so
//! every test binary shares it and `cargo clean` removes it.

use std::path::PathBuf;

fn main() {
    let out_dir = PathBuf::from(std::env::var_os("OUT_DIR").expect("OUT_DIR"));
    // The target dir is the ancestor cargo tagged as a cache (follows CARGO_TARGET_DIR).
    let target = out_dir
        .ancestors()
        .find(|dir| dir.join("CACHEDIR.TAG").is_file())
        .map(PathBuf::from)
        .unwrap_or_else(std::env::temp_dir);
    println!(
        "cargo:rustc-env=FULCRUM_TESTKIT_TMPDIR={}",
        target.join("tmp").display()
    );
}
