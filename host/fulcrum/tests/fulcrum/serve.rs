//! `fulcrum serve` as a real process: SIGTERM stops it as gracefully as Ctrl-C, and the data
//! dir, the database and the demo key are created readable by their owner only.

use fulcrum_store::MasterKey;
use secrecy::ExposeSecret;
use std::path::Path;
use std::process::Stdio;
use std::time::Duration;
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio::process::Command;

/// `fulcrum` with none of Fulcrum's settings inherited from the environment.
fn fulcrum() -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_fulcrum"));
    for inherited in [
        "DATABASE_URL",
        "FULCRUM_DATA_DIR",
        "FULCRUM_LISTEN",
        "FULCRUM_MASTER_KEY",
        "FULCRUM_MASTER_KEY_FILE",
        "FULCRUM_PREVIOUS_MASTER_KEY",
        "FULCRUM_PREVIOUS_MASTER_KEY_FILE",
    ] {
        command.env_remove(inherited);
    }
    command.kill_on_drop(true);
    command
}

fn key() -> String {
    MasterKey::generate().to_base64().expose_secret().to_owned()
}

/// Before: SIGTERM (what systemd, Docker and Kubernetes send) killed the process on the spot,
/// with the events in hand abandoned to the lease reaper; only Ctrl-C shut down gracefully.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sigterm_shuts_serve_down_gracefully() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("data");
    let mut child = fulcrum()
        .arg("serve")
        .args(["--data-dir", data_dir.to_str().unwrap()])
        .args(["--listen", "127.0.0.1:0", "--workers", "1"])
        .env("FULCRUM_MASTER_KEY", key())
        .env("RUST_LOG", "warn,fulcrum=info")
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("fulcrum serve starts");
    // Drained as it comes, so a full pipe never blocks the server's logging.
    let mut stderr_pipe = child.stderr.take().unwrap();
    let stderr = tokio::spawn(async move {
        let mut text = String::new();
        stderr_pipe.read_to_string(&mut text).await.unwrap();
        text
    });
    let mut stdout = BufReader::new(child.stdout.take().unwrap()).lines();
    let listening = tokio::time::timeout(Duration::from_secs(120), async {
        while let Some(line) = stdout.next_line().await.unwrap() {
            if let Some(rest) = line.strip_prefix("fulcrum listening on ") {
                return rest.split_whitespace().next().unwrap().to_owned();
            }
        }
        panic!("serve exited before listening");
    })
    .await
    .expect("serve listens within 2 minutes");
    let health = reqwest::get(format!("{listening}/healthz")).await.unwrap();
    assert_eq!(health.status(), 200);

    let pid = child.id().expect("running").to_string();
    let sent = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(sent.success());
    let status = tokio::time::timeout(Duration::from_secs(60), child.wait())
        .await
        .expect("serve stops within a minute of SIGTERM")
        .unwrap();
    let stderr = stderr.await.unwrap();
    assert!(status.success(), "{status:?}\n{stderr}");
    assert!(stderr.contains("shutting down"), "{stderr}");
    assert!(stderr.contains("SIGTERM"), "{stderr}");
    assert!(stderr.contains("stopped"), "{stderr}");
}

#[cfg(unix)]
fn mode(path: &Path) -> u32 {
    use std::os::unix::fs::PermissionsExt as _;
    std::fs::metadata(path)
        .unwrap_or_else(|e| panic!("{}: {e}", path.display()))
        .permissions()
        .mode()
        & 0o777
}

/// Before: the data dir was 0755 and the database, its WAL and the demo key 0644 (the
/// umask's defaults): any local user could read the hiring data and the demo's master key.
#[cfg(unix)]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_data_dir_database_and_demo_key_are_owner_only() {
    let dir = tempfile::tempdir().unwrap();
    let data_dir = dir.path().join("nested").join("data");
    // `--demo` without a key: the generated key is kept in the data dir.
    let out = fulcrum()
        .args([
            "migrate",
            "--demo",
            "--data-dir",
            data_dir.to_str().unwrap(),
        ])
        .env("RUST_LOG", "warn")
        .output()
        .await
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    assert_eq!(mode(&data_dir), 0o700, "data dir");
    assert_eq!(mode(data_dir.parent().unwrap()), 0o700, "created parent");
    assert_eq!(mode(&data_dir.join("fulcrum.db")), 0o600, "database");
    assert_eq!(mode(&data_dir.join("demo-master.key")), 0o600, "demo key");
}

/// A retention setting that cannot work is refused before anything starts.
#[tokio::test]
async fn a_zero_retention_interval_is_refused() {
    let out = fulcrum()
        .args(["serve", "--retention-every-minutes", "0"])
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("--retention-every-minutes must be at least 1"),
        "{stderr}"
    );
}
