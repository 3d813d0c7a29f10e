//! Secrets stay secret: after events ran, neither the tenant's Lever API key nor the vendor's
//! credentials are readable in the database (raw SQLite file included) or in the host's logs
//! (captured at TRACE level). A separate test binary, because it installs a global subscriber.

#[path = "service/world.rs"]
#[allow(dead_code)]
mod world;

use fulcrum_store::EventFilter;
use fulcrum_store::test_support::on_each_backend;
use parking_lot::Mutex;
use std::io::Write;
use std::sync::{Arc, OnceLock};
use std::time::Duration;
use world::*;

#[derive(Clone, Default)]
struct Captured(Arc<Mutex<Vec<u8>>>);

impl Write for Captured {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0.lock().extend_from_slice(buf);
        Ok(buf.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

fn logs() -> &'static Captured {
    static LOGS: OnceLock<Captured> = OnceLock::new();
    LOGS.get_or_init(|| {
        let captured = Captured::default();
        let writer = captured.clone();
        // Everything at TRACE except the code generator's internals (cranelift, regalloc),
        // which never see a secret and would log gigabytes while compiling the component.
        let filter = tracing_subscriber::EnvFilter::new(
            "trace,cranelift_codegen=info,cranelift_frontend=info,regalloc2=info,\
             wasmtime_cranelift=info,cranelift_entity=info,wasmtime_environ=info",
        );
        tracing_subscriber::fmt()
            .with_env_filter(filter)
            .with_writer(move || writer.clone())
            .init();
        captured
    })
}

fn contains(haystack: &[u8], needle: &str) -> bool {
    haystack
        .windows(needle.len())
        .any(|w| w == needle.as_bytes())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_never_reach_the_database_or_the_logs() {
    let logs = logs();
    on_each_backend(move |db| async move {
        let world = World::start(&db).await;
        let vendor_token = "vendor-bearer-token-5d1c9e";
        for n in 0..5 {
            let response = world
                .http
                .post(world.url(&format!("/ingress/{TENANT}/{PLUGIN}/events")))
                .header("content-type", "application/json")
                .header("x-fixture-signature", VENDOR_SECRET)
                .header("authorization", format!("Bearer {vendor_token}"))
                .body(create_event(n, true).to_string())
                .send()
                .await
                .unwrap();
            assert_eq!(response.status().as_u16(), 202);
        }
        world.settle(Duration::from_secs(60)).await;
        assert_eq!(world.counts().await.done, 5);

        // What the store hands back: event payloads, audit trail.
        let events = world
            .store
            .list_events(&EventFilter::default())
            .await
            .unwrap();
        let audit = world.store.audit_list(TENANT, 1000).await.unwrap();
        let dumped = format!("{events:?}{audit:?}");
        for secret in [world.api_key.as_str(), vendor_token] {
            assert!(!dumped.contains(secret), "{} found in stored rows", secret);
        }
        // The raw database file and its WAL.
        if let Some(path) = &db.sqlite_path {
            for file in [path.clone(), path.with_extension("db-wal")] {
                let bytes = std::fs::read(&file).unwrap_or_default();
                // Not VENDOR_SECRET: the fixture's signature header is that secret verbatim and
                // is kept with the request (real connectors sign with HMAC). The secrets table
                // itself is covered by the store's ciphertext tests.
                for secret in [world.api_key.as_str(), vendor_token] {
                    assert!(
                        !contains(&bytes, secret),
                        "{secret} readable in {}",
                        file.display()
                    );
                }
            }
        }
        let api_key = world.api_key.clone();
        world.stop().await;
        let text = String::from_utf8_lossy(&logs.0.lock()).into_owned();
        assert!(text.contains("plugin installed"), "logs were captured");
        for secret in [api_key.as_str(), vendor_token, VENDOR_SECRET] {
            assert!(!text.contains(secret), "{secret} found in the logs");
        }
    })
    .await;
}
