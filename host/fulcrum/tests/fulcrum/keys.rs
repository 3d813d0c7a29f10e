//! `fulcrum keys rotate|status` on SQLite and PostgreSQL, and `serve` re-encrypting in the
//! background when started with the previous key.

use fulcrum_store::test_support::{TestDatabase, on_each_backend};
use fulcrum_store::{MasterKey, Store};
use secrecy::ExposeSecret;
use std::process::Output;
use std::time::Duration;

const LEVER_KEY: &str = "lever-key-rotated-4d1e";

async fn fulcrum(args: &[&str], envs: &[(&str, &str)]) -> Output {
    let mut command = tokio::process::Command::new(env!("CARGO_BIN_EXE_fulcrum"));
    command.args(args).env("RUST_LOG", "warn");
    for inherited in [
        "DATABASE_URL",
        "FULCRUM_DATA_DIR",
        "FULCRUM_MASTER_KEY",
        "FULCRUM_MASTER_KEY_FILE",
        "FULCRUM_PREVIOUS_MASTER_KEY",
        "FULCRUM_PREVIOUS_MASTER_KEY_FILE",
        "LEVER_API_KEY",
    ] {
        command.env_remove(inherited);
    }
    command.envs(envs.iter().copied());
    tokio::time::timeout(Duration::from_secs(180), command.output())
        .await
        .expect("fulcrum finished within 3 minutes")
        .expect("fulcrum runs")
}

fn text(out: &Output) -> String {
    format!(
        "{}\n{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    )
}

/// Before: there was no way to change the master key without losing every secret.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keys_rotate_moves_every_secret_to_the_new_key() {
    on_each_backend(|db: TestDatabase| async move {
        let dir = tempfile::tempdir().unwrap();
        let data_dir = dir.path().to_str().unwrap().to_owned();
        let new = MasterKey::generate();
        let new_b64 = new.to_base64().expose_secret().to_owned();
        let store_args = ["--data-dir", data_dir.as_str()];
        let old_env = [
            ("DATABASE_URL", db.url.as_str()),
            ("FULCRUM_MASTER_KEY", db.key_b64.as_str()),
            ("LEVER_API_KEY", LEVER_KEY),
        ];
        let created = fulcrum(
            &[
                &["tenant", "create", "acme", "--name", "Acme"][..],
                &store_args,
            ]
            .concat(),
            &old_env,
        )
        .await;
        assert!(created.status.success(), "{}", text(&created));

        // The new key alone cannot open the old rows: rotating without the old key says so.
        let new_only = [
            ("DATABASE_URL", db.url.as_str()),
            ("FULCRUM_MASTER_KEY", new_b64.as_str()),
        ];
        let refused = fulcrum(&[&["keys", "rotate"][..], &store_args].concat(), &new_only).await;
        assert!(!refused.status.success(), "{}", text(&refused));
        assert!(
            text(&refused).contains("FULCRUM_PREVIOUS_MASTER_KEY"),
            "{}",
            text(&refused)
        );

        // A previous key that is not a key, or that is the current key, is refused.
        for (previous, expected) in [
            (
                "not-a-key",
                "FULCRUM_PREVIOUS_MASTER_KEY is not valid base64 of 32 bytes",
            ),
            (
                new_b64.as_str(),
                "the previous master key is the current one",
            ),
        ] {
            let env = [
                new_only[0],
                new_only[1],
                ("FULCRUM_PREVIOUS_MASTER_KEY", previous),
            ];
            let out = fulcrum(&[&["keys", "status"][..], &store_args].concat(), &env).await;
            assert!(!out.status.success(), "{}", text(&out));
            assert!(text(&out).contains(expected), "{}", text(&out));
        }

        let rotating = [
            ("DATABASE_URL", db.url.as_str()),
            ("FULCRUM_MASTER_KEY", new_b64.as_str()),
            ("FULCRUM_PREVIOUS_MASTER_KEY", db.key_b64.as_str()),
        ];
        let status = fulcrum(&[&["keys", "status"][..], &store_args].concat(), &rotating).await;
        assert!(status.status.success(), "{}", text(&status));
        assert!(
            text(&status).contains("lever_credentials      1 not under the current key"),
            "{}",
            text(&status)
        );
        let rotated = fulcrum(&[&["keys", "rotate"][..], &store_args].concat(), &rotating).await;
        assert!(rotated.status.success(), "{}", text(&rotated));
        let out = text(&rotated);
        assert!(
            out.contains("lever_credentials      1 re-encrypted"),
            "{out}"
        );
        assert!(
            out.contains("FULCRUM_PREVIOUS_MASTER_KEY can be removed"),
            "{out}"
        );
        assert!(!out.contains(LEVER_KEY), "{out}");

        // Afterwards the new key alone reads the credential; the old one no longer does.
        let store = Store::connect(&db.url, MasterKey::from_base64(&new_b64, "new").unwrap())
            .await
            .unwrap();
        let credential = store.get_lever_credential("acme").await.unwrap().unwrap();
        assert_eq!(credential.secret.expose_secret(), LEVER_KEY);
        assert_eq!(store.rows_to_reencrypt().await.unwrap().total(), 0);
        store.close().await;
        let old = db.open().await;
        assert!(old.get_lever_credential("acme").await.is_err());
        old.close().await;
    })
    .await;
}

/// `serve` started with the previous key re-encrypts in the background while it serves.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn serve_with_the_previous_key_reencrypts_in_the_background() {
    on_each_backend(|db: TestDatabase| async move {
        let dir = tempfile::tempdir().unwrap();
        let data_dir = dir.path().to_str().unwrap().to_owned();
        let created = fulcrum(
            &[
                "tenant",
                "create",
                "acme",
                "--name",
                "Acme",
                "--data-dir",
                &data_dir,
            ],
            &[
                ("DATABASE_URL", db.url.as_str()),
                ("FULCRUM_MASTER_KEY", db.key_b64.as_str()),
                ("LEVER_API_KEY", LEVER_KEY),
            ],
        )
        .await;
        assert!(created.status.success(), "{}", text(&created));

        let new = MasterKey::generate();
        let new_b64 = new.to_base64().expose_secret().to_owned();
        let mut serve = tokio::process::Command::new(env!("CARGO_BIN_EXE_fulcrum"))
            .args(["serve", "--data-dir", &data_dir, "--listen", "127.0.0.1:0"])
            .env_remove("FULCRUM_MASTER_KEY_FILE")
            .env_remove("FULCRUM_PREVIOUS_MASTER_KEY_FILE")
            .env("DATABASE_URL", &db.url)
            .env("FULCRUM_MASTER_KEY", &new_b64)
            .env("FULCRUM_PREVIOUS_MASTER_KEY", &db.key_b64)
            .env("RUST_LOG", "warn")
            .stdout(std::process::Stdio::null())
            .stderr(std::process::Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .unwrap();

        let rotating = fulcrum_store::StoreOptions {
            previous_key: Some(db.key()),
            ..fulcrum_store::StoreOptions::default()
        };
        let store = Store::connect_with(
            &db.url,
            MasterKey::from_base64(&new_b64, "new").unwrap(),
            rotating,
        )
        .await
        .unwrap();
        let deadline = tokio::time::Instant::now() + Duration::from_secs(120);
        while store.rows_to_reencrypt().await.unwrap().total() > 0 {
            assert!(
                tokio::time::Instant::now() < deadline,
                "serve did not re-encrypt within 2 minutes"
            );
            assert!(serve.try_wait().unwrap().is_none(), "serve exited");
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        store.close().await;
        serve.kill().await.unwrap();
        let store = Store::connect(&db.url, new).await.unwrap();
        let credential = store.get_lever_credential("acme").await.unwrap().unwrap();
        assert_eq!(credential.secret.expose_secret(), LEVER_KEY);
        store.close().await;
    })
    .await;
}
