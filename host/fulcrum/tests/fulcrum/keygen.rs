//! `fulcrum keygen` prints a key the store accepts, and a different one each time.

use std::process::Command;

fn keygen() -> String {
    let out = Command::new(env!("CARGO_BIN_EXE_fulcrum"))
        .arg("keygen")
        .output()
        .expect("fulcrum runs");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8(out.stdout)
        .expect("utf-8")
        .trim()
        .to_owned()
}

#[test]
fn prints_a_fresh_key_the_store_accepts() {
    let (a, b) = (keygen(), keygen());
    assert_ne!(a, b, "keys are random");
    fulcrum_store::MasterKey::from_base64(&a, "keygen output")
        .expect("the store accepts the printed key");
}
