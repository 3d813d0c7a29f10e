//! Install, upgrade and remove while running; the on-disk cache; uploads that are refused.

use crate::common::*;
use fulcrum_plugin_artifacts as artifacts;
use fulcrum_runtime::*;
use serde_json::json;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn install_upgrade_and_remove_while_an_invocation_is_in_flight() {
    let rt = runtime();
    let vendor = VendorServer::start_gated(true).await;
    let v1 = rt.install(read(artifacts::WELL_BEHAVED)).await.unwrap();
    assert_eq!(v1.version().to_string(), "0.1.0");
    let env = Env::new();

    // In flight on v1: held at the vendor until the gate opens.
    let active = rt.active("well-behaved").unwrap();
    let ctx = env.ctx(&active).with_vendor_http(vendor.policy());
    let in_flight = tokio::spawn({
        let rt = rt.clone();
        async move { try_action(&rt, &active, ctx, "vendor-ping", json!({})).await }
    });
    let started = std::time::Instant::now();
    while vendor.hits().is_empty() {
        assert!(
            started.elapsed() < Duration::from_secs(30),
            "the invocation never reached the vendor"
        );
        tokio::time::sleep(Duration::from_millis(5)).await;
    }

    // Upgrade: v2 becomes active for new invocations.
    let v2 = rt.install(read(artifacts::WELL_BEHAVED_V2)).await.unwrap();
    assert_eq!(v2.version().to_string(), "0.2.0");
    assert_ne!(v1.content_hash(), v2.content_hash());
    assert!(std::sync::Arc::ptr_eq(
        &rt.active("well-behaved").unwrap(),
        &v2
    ));
    let out = action(&rt, &v2, env.ctx(&v2), "trivial", json!({})).await;
    assert_eq!(out.as_deref(), Ok("\"ok\""));

    // Remove v1 while it is still running.
    let removed = rt.remove_version("well-behaved", v1.version()).unwrap();
    assert!(std::sync::Arc::ptr_eq(&removed, &v1));
    let versions: Vec<String> = rt
        .versions("well-behaved")
        .iter()
        .map(|v| v.version().to_string())
        .collect();
    assert_eq!(versions, ["0.2.0"]);
    assert!(!in_flight.is_finished());

    // The in-flight invocation finishes on v1.
    vendor.open_gate();
    let out = in_flight
        .await
        .unwrap()
        .expect("the in-flight invocation completes");
    assert_eq!(json(&out.unwrap()), json!({"status": 200, "body": "pong"}));
    let audit = env.audit.records();
    let ping = audit
        .iter()
        .find(|r| r.operation.starts_with("GET https://vendor.example"))
        .unwrap();
    assert_eq!(ping.plugin_version, "0.1.0");

    // Remove the plugin entirely; a held version still runs, the registry has none.
    assert_eq!(rt.remove("well-behaved").len(), 1);
    assert!(rt.active("well-behaved").is_none());
    let out = action(&rt, &v2, env.ctx(&v2), "trivial", json!({})).await;
    assert_eq!(out.as_deref(), Ok("\"ok\""));
}

#[tokio::test]
async fn reinstalling_the_same_build_is_idempotent_and_a_different_build_of_the_same_version_conflicts()
 {
    let rt = runtime();
    let bytes = read(artifacts::WELL_BEHAVED);
    let first = rt.install(bytes.clone()).await.unwrap();
    let again = rt.install(bytes.clone()).await.unwrap();
    assert!(std::sync::Arc::ptr_eq(&first, &again));
    // Same manifest version, different bytes (a custom section appended).
    let mut other = bytes;
    other.extend_from_slice(&[0x00, 0x04, 0x03, b'x', b'y', b'z']);
    let err = rt.install(other).await.unwrap_err();
    assert!(matches!(err, InstallError::VersionConflict { .. }), "{err}");
}

#[tokio::test]
async fn a_second_load_is_a_cache_hit() {
    let dir = fresh_dir("cache-hit");
    let first = runtime_with(|c| c.cache_dir = dir.clone());
    first
        .install(read(artifacts::READS_FILES_ENV))
        .await
        .unwrap();
    assert_eq!(
        first.cache_stats(),
        CacheStats {
            hits: 0,
            misses: 1,
            rejected: 0
        }
    );

    // A new runtime (a restarted host) with the same cache directory loads precompiled code.
    let second = runtime_with(|c| c.cache_dir = dir.clone());
    let plugin = second
        .install(read(artifacts::READS_FILES_ENV))
        .await
        .unwrap();
    assert_eq!(
        second.cache_stats(),
        CacheStats {
            hits: 1,
            misses: 0,
            rejected: 0
        }
    );
    let env = Env::new();
    assert!(
        action(&second, &plugin, env.ctx(&plugin), "run", json!({}))
            .await
            .is_ok()
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn a_corrupt_cache_file_is_recompiled() {
    let dir = fresh_dir("cache-corrupt");
    let first = runtime_with(|c| c.cache_dir = dir.clone());
    first
        .install(read(artifacts::READS_FILES_ENV))
        .await
        .unwrap();
    let cached: Vec<_> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "cwasm"))
        .collect();
    assert_eq!(cached.len(), 1, "{cached:?}");
    // Unmap it first: a mapped artifact must never change in place (the cache itself only
    // ever replaces files by rename).
    drop(first);
    std::fs::write(&cached[0], b"\x7fELF not really").unwrap();

    let second = runtime_with(|c| c.cache_dir = dir.clone());
    let plugin = second
        .install(read(artifacts::READS_FILES_ENV))
        .await
        .unwrap();
    assert_eq!(
        second.cache_stats(),
        CacheStats {
            hits: 0,
            misses: 1,
            rejected: 1
        }
    );
    let env = Env::new();
    assert!(
        action(&second, &plugin, env.ctx(&plugin), "run", json!({}))
            .await
            .is_ok()
    );
    let _ = std::fs::remove_dir_all(dir);
}

#[tokio::test]
async fn uploads_that_are_not_components_are_refused_clearly() {
    let rt = runtime();
    let err = rt
        .install(b"PK\x03\x04 a zip file".to_vec())
        .await
        .unwrap_err();
    assert!(matches!(err, InstallError::NotAComponent { .. }), "{err}");
    assert!(err.to_string().contains("magic bytes"), "{err}");

    let core = wat::parse_str("(module (func (export \"run\")))").unwrap();
    let err = rt.install(core).await.unwrap_err();
    assert!(err.to_string().contains("core WebAssembly module"), "{err}");
    assert!(err.to_string().contains("wasm32-wasip2"), "{err}");
    assert_eq!(rt.cache_stats().misses, 0, "nothing was compiled");
}

#[tokio::test]
async fn a_component_of_an_unknown_contract_version_is_refused_naming_the_supported_ones() {
    let rt = runtime();
    let component = |export: &str| {
        wat::parse_str(format!(
            r#"(component
                (core module $m (func (export "describe")))
                (core instance $i (instantiate $m))
                (type $t (func))
                (func $describe (type $t) (canon lift (core func $i "describe")))
                (instance $plugin (export "describe" (func $describe)))
                (export "{export}" (instance $plugin))
            )"#
        ))
        .unwrap()
    };
    let err = rt
        .install(component("fulcrum:connector/plugin@0.3.0"))
        .await
        .unwrap_err();
    match &err {
        InstallError::UnsupportedApiVersion { found, supported } => {
            assert_eq!(found, "0.3.0");
            assert_eq!(supported, "0.1.0, 0.2.0");
        }
        other => panic!("expected UnsupportedApiVersion, got {other}"),
    }
    assert!(
        err.to_string().contains("0.3.0") && err.to_string().contains("0.1.0, 0.2.0"),
        "{err}"
    );

    let err = rt
        .install(component("acme:other/thing@1.0.0"))
        .await
        .unwrap_err();
    let InstallError::UnsupportedApiVersion { found, .. } = &err else {
        panic!("{err}")
    };
    assert!(found.contains("acme:other/thing@1.0.0"), "{found}");
}

#[tokio::test]
async fn the_allocator_is_reported_and_limits_come_from_config() {
    let rt = runtime();
    // This machine has the address space for the pool; elsewhere the probe falls back.
    assert_eq!(rt.allocator(), AllocatorKind::Pooling);
    let on_demand = runtime_with(|c| c.allocator = AllocatorChoice::OnDemand);
    assert_eq!(on_demand.allocator(), AllocatorKind::OnDemand);
    let plugin = install(&on_demand, artifacts::WELL_BEHAVED).await;
    let env = Env::new();
    let out = action(&on_demand, &plugin, env.ctx(&plugin), "trivial", json!({})).await;
    assert_eq!(out.as_deref(), Ok("\"ok\""));
}

#[tokio::test]
async fn the_context_must_name_the_invoked_plugin() {
    let rt = runtime();
    let plugin = install(&rt, artifacts::WELL_BEHAVED).await;
    let env = Env::new();
    let mut ctx = env.ctx(&plugin);
    ctx.plugin_id = "someone-else".into();
    let err = rt.invoke(&plugin, ctx, Call::Describe).await.unwrap_err();
    assert!(matches!(err, InvocationError::WrongPlugin { .. }), "{err}");
}
