//! One module per fixture component; each hostile fixture is stopped with an error that names
//! the cause, then the same plugin works again.

use crate::common::*;
use fulcrum_plugin_artifacts as artifacts;
use fulcrum_runtime::*;
use lever_model::Permission;
use serde_json::json;
use std::time::{Duration, Instant};

// A fixture without a test module here fails to compile.
macro_rules! assert_test_exists {
    ($name:ident) => {
        #[allow(unused_imports)]
        use self::$name as _;
    };
}
artifacts::foreach_fixture!(assert_test_exists);

mod well_behaved_hooks {
    use super::*;

    #[tokio::test]
    async fn asks_for_every_lifecycle_hook_and_records_each() {
        let rt = runtime();
        let plugin = install(&rt, artifacts::WELL_BEHAVED_HOOKS).await;
        assert_eq!(plugin.manifest().lifecycle_hooks.len(), 5);
        let plain = install(&rt, artifacts::WELL_BEHAVED).await;
        assert!(plain.manifest().lifecycle_hooks.is_empty());
        let env = Env::new();
        let event = bindings::LifecycleEvent {
            id: "hook-1".into(),
            kind: bindings::LifecycleKind::ConfigChanged,
            occurred_at: 1,
            detail: r#"{"previous":{}}"#.into(),
        };
        let out = rt
            .invoke(&plugin, env.ctx(&plugin), Call::Lifecycle(event))
            .await
            .expect("handled");
        assert_eq!(out, CallOutput::Handled(Ok(())));
        let state = env.state.dump(&StateScope {
            tenant_id: "t1".into(),
            plugin_id: plugin.id().into(),
        });
        assert_eq!(state["lifecycle:config-changed"], "hook-1");
        assert_eq!(
            state["lifecycle-detail:config-changed"],
            r#"{"previous":{}}"#
        );
    }
}

mod contract_tour {
    use super::*;

    /// Every Lever import contract 0.2.0 added, called by a real 0.2.0 component whose grants
    /// the admin did not approve: each is refused with its permission's words and audited, and
    /// nothing reaches Lever. (The service's `contract_tour` tests run them granted.)
    #[tokio::test]
    async fn every_new_import_is_refused_without_its_permission() {
        let rt = runtime();
        let lever = Lever::start().await;
        let plugin = install(&rt, artifacts::CONTRACT_TOUR).await;
        assert_eq!(plugin.contract(), ContractVersion::V0_2_0);
        let env = Env::new();
        let nothing: [Permission; 0] = [];
        let ctx = || {
            env.ctx(&plugin)
                .with_lever(lever.access.clone())
                .with_grants(Grants::new(plugin.requested_permissions(), nothing))
        };
        let input = json!({"opportunity_id": "o", "posting_id": "p", "contact_id": "c",
            "application_id": "a", "note_id": "n", "file_id": "f", "resume_id": "r",
            "user_id": "u", "interview_id": "i", "panel_id": "pa", "feedback_id": "fb",
            "referral_opportunity_id": "o", "hiring_opportunity_id": "o", "referral_id": "rf", "requisition_id": "rq",
            "requisition_field_id": "rqf", "suffix": "x"});
        let mut refused = 0;
        for name in ["tour-reads", "tour-writes"] {
            let out = action(&rt, &plugin, ctx(), name, input.clone())
                .await
                .expect("typed errors, not a trap");
            let report = json(&out);
            for (function, outcome) in report.as_object().unwrap() {
                assert_eq!(outcome["error"], "forbidden", "{function}: {outcome}");
                let words = outcome["detail"].as_str().unwrap();
                assert!(
                    words.parse::<Permission>().is_ok(),
                    "{function} names no permission: {words}"
                );
                refused += 1;
            }
        }
        assert!(refused >= 30, "only {refused} calls were made");
        assert_eq!(env.denied().len(), refused, "every refusal is audited");
        assert_eq!(
            lever.sandbox.stats().total_requests(),
            0,
            "refused before any I/O"
        );
    }
}

mod infinite_loop {
    use super::*;

    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn is_stopped_at_its_cpu_budget() {
        let rt = runtime();
        let plugin = install(&rt, artifacts::INFINITE_LOOP).await;
        let env = Env::new();
        let started = Instant::now();
        let err = try_action(&rt, &plugin, env.ctx(&plugin), "run", json!({}))
            .await
            .unwrap_err();
        let elapsed = started.elapsed();
        assert_eq!(
            err,
            InvocationError::CpuBudgetExceeded { budget: CPU_BUDGET }
        );
        assert!(err.to_string().contains("CPU budget of 250 ms"), "{err}");
        // It ran for its budget (not less) and was stopped soon after (ticks are 10 ms; the
        // slack is for a loaded, shared machine).
        assert!(elapsed >= CPU_BUDGET, "stopped after {elapsed:?}");
        assert!(
            elapsed < CPU_BUDGET + Duration::from_secs(2),
            "stopped after {elapsed:?}"
        );
        assert_still_works(&rt, &plugin, &env).await;
    }
}

mod memory_bomb {
    use super::*;

    #[tokio::test]
    async fn is_stopped_at_the_memory_limit() {
        let rt = runtime();
        let limit = rt.config().limits.max_memory_bytes;
        let plugin = install(&rt, artifacts::MEMORY_BOMB).await;
        let env = Env::new();
        let err = try_action(&rt, &plugin, env.ctx(&plugin), "run", json!({}))
            .await
            .unwrap_err();
        assert_eq!(
            err,
            InvocationError::MemoryLimitExceeded { limit_bytes: limit }
        );
        assert!(err.to_string().contains(&limit.to_string()), "{err}");
        assert_still_works(&rt, &plugin, &env).await;
    }
}

mod deep_recursion {
    use super::*;

    #[tokio::test]
    async fn overflows_its_stack_and_is_stopped() {
        let rt = runtime();
        let plugin = install(&rt, artifacts::DEEP_RECURSION).await;
        let env = Env::new();
        let err = try_action(&rt, &plugin, env.ctx(&plugin), "run", json!({}))
            .await
            .unwrap_err();
        assert_eq!(err, InvocationError::StackOverflow);
        assert_still_works(&rt, &plugin, &env).await;
    }
}

mod cv_render {
    use super::*;
    use base64::Engine as _;

    use crate::cv_samples;

    /// The Europass renderer inside the sandbox: the same bytes as the native build (fonts,
    /// layout and compression are deterministic across targets), within the size budget, with
    /// its text extractable.
    #[tokio::test]
    async fn renders_the_same_pdf_as_the_native_build_within_budget() {
        let rt = runtime();
        let plugin = install(&rt, artifacts::CV_RENDER).await;
        let env = Env::new();
        for cv in [cv_samples::full_cv(), cv_samples::cjk_cv()] {
            let input = serde_json::to_value(&cv).unwrap();
            let out = json(
                &action(&rt, &plugin, env.ctx(&plugin), "render", input)
                    .await
                    .expect("rendered"),
            );
            let pdf = base64::engine::general_purpose::STANDARD
                .decode(out["pdf_base64"].as_str().unwrap())
                .unwrap();
            assert_eq!(out["bytes"], json!(pdf.len()));
            assert!(pdf.len() <= 150 * 1024, "{} bytes", pdf.len());
            assert_eq!(
                pdf,
                europass::render(&cv).unwrap(),
                "wasm and native differ"
            );
            let doc = lopdf::Document::load_mem(&pdf).unwrap();
            let pages: Vec<u32> = doc.get_pages().keys().copied().collect();
            let text = doc.extract_text(&pages).unwrap();
            assert!(text.contains(&cv.full_name), "{text}");
        }
        let refused = action(
            &rt,
            &plugin,
            env.ctx(&plugin),
            "render",
            json!({"full_name": " "}),
        )
        .await
        .unwrap_err();
        assert!(
            matches!(&refused, PluginError::Invalid(m) if m.contains("name")),
            "{refused:?}"
        );
    }
}

mod oversized_return {
    use super::*;

    #[tokio::test]
    async fn result_is_rejected_by_size() {
        let rt = runtime();
        let limit = rt.config().limits.max_result_bytes;
        let plugin = install(&rt, artifacts::OVERSIZED_RETURN).await;
        let env = Env::new();
        let err = try_action(&rt, &plugin, env.ctx(&plugin), "run", json!({}))
            .await
            .unwrap_err();
        assert_eq!(
            err,
            InvocationError::ResultTooLarge {
                bytes: 48 << 20,
                limit
            }
        );
        assert_still_works(&rt, &plugin, &env).await;
    }
}

mod panic {
    use super::*;

    #[tokio::test]
    async fn is_reported_with_its_message() {
        let rt = runtime();
        let plugin = install(&rt, artifacts::PANIC).await;
        let env = Env::new();
        let err = try_action(&rt, &plugin, env.ctx(&plugin), "run", json!({}))
            .await
            .unwrap_err();
        let InvocationError::Panicked { message } = &err else {
            panic!("expected a panic, got {err:?}");
        };
        assert!(
            message.starts_with("fixture panic: something went wrong"),
            "{message}"
        );
        assert!(
            err.to_string()
                .contains("fixture panic: something went wrong"),
            "{err}"
        );
        assert_still_works(&rt, &plugin, &env).await;
    }
}

mod slow_host_call {
    use super::*;

    #[tokio::test]
    async fn is_cut_by_the_wall_clock_timeout() {
        let limit = Duration::from_millis(1_000);
        let rt = runtime_with(|c| c.limits.wall_clock_timeout = limit);
        let vendor = VendorServer::start().await;
        let plugin = install(&rt, artifacts::SLOW_HOST_CALL).await;
        let env = Env::new();
        let ctx = env.ctx(&plugin).with_vendor_http(vendor.policy());
        let started = Instant::now();
        let err = try_action(&rt, &plugin, ctx, "run", json!({}))
            .await
            .unwrap_err();
        let elapsed = started.elapsed();
        assert_eq!(err, InvocationError::WallClockTimeout { limit });
        // The guest was waiting in a host call: epochs could not stop it, the timer did.
        assert!(
            elapsed >= limit && elapsed < limit + Duration::from_secs(2),
            "{elapsed:?}"
        );
        assert_eq!(vendor.hits(), ["/slow"]);
        assert_still_works(&rt, &plugin, &env).await;
    }
}

mod ungranted_permission {
    use super::*;

    #[tokio::test]
    async fn requested_but_not_approved_is_forbidden_and_audited() {
        let rt = runtime();
        let lever = Lever::start().await;
        let plugin = install(&rt, artifacts::UNGRANTED_PERMISSION).await;
        let env = Env::new();
        // The admin approved only "list stages" of the two requested permissions.
        let ctx = env
            .ctx(&plugin)
            .with_lever(lever.access.clone())
            .with_grants(Grants::new(
                plugin.requested_permissions(),
                [Permission::ListStages],
            ));
        let out = action(&rt, &plugin, ctx, "run", json!({}))
            .await
            .expect("typed error, not a trap");
        assert_eq!(
            json(&out),
            json!({"error": "forbidden", "detail": "create opportunity"})
        );
        let denied = env.denied();
        assert_eq!(denied.len(), 1, "{denied:?}");
        assert_eq!(denied[0].operation, "POST /opportunities");
        assert_eq!(denied[0].capability, Capability::Lever);
        assert_eq!(denied[0].plugin_id, "ungranted-permission");
        assert_eq!(
            lever.sandbox.stats().total_requests(),
            0,
            "refused before any I/O"
        );
        assert_eq!(lever.opportunities(), 0);
        assert_still_works(&rt, &plugin, &env).await;
    }

    #[tokio::test]
    async fn not_requested_is_forbidden_even_if_approved_and_audited() {
        let rt = runtime();
        let lever = Lever::start().await;
        let plugin = install(&rt, artifacts::UNGRANTED_PERMISSION).await;
        let env = Env::new();
        // The admin approved everything; the manifest never asked for "list users".
        let ctx = env
            .ctx(&plugin)
            .with_lever(lever.access.clone())
            .with_grants(Grants::new(plugin.requested_permissions(), Permission::ALL));
        let out = action(&rt, &plugin, ctx, "unrequested", json!({}))
            .await
            .expect("typed error");
        assert_eq!(
            json(&out),
            json!({"error": "forbidden", "detail": "list users"})
        );
        let denied = env.denied();
        assert_eq!(denied.len(), 1, "{denied:?}");
        assert_eq!(denied[0].operation, "GET /users");
        assert_eq!(
            denied[0].outcome,
            AuditOutcome::Denied {
                reason: "forbidden: list users".into()
            }
        );
        assert_eq!(
            lever.sandbox.stats().total_requests(),
            0,
            "refused before any I/O"
        );
        assert_still_works(&rt, &plugin, &env).await;
    }
}

mod undeclared_host {
    use super::*;

    /// The vendor is reachable; "evil.example" is aliased to a second server too, so a policy
    /// hole would show up as a hit there.
    async fn setup() -> (
        Runtime,
        std::sync::Arc<PluginVersion>,
        Env,
        VendorServer,
        VendorServer,
        VendorHttpPolicy,
    ) {
        let rt = runtime();
        let plugin = install(&rt, artifacts::UNDECLARED_HOST).await;
        let vendor = VendorServer::start().await;
        let evil = VendorServer::start().await;
        let policy = vendor
            .policy()
            .with_alias("https://evil.example", evil.origin());
        (rt, plugin, Env::new(), vendor, evil, policy)
    }

    #[tokio::test]
    async fn direct_call_is_forbidden_and_audited() {
        let (rt, plugin, env, vendor, evil, policy) = setup().await;
        let ctx = env.ctx(&plugin).with_vendor_http(policy);
        let out = action(&rt, &plugin, ctx, "direct", json!({}))
            .await
            .expect("typed error");
        assert_eq!(
            json(&out),
            json!({"error": "forbidden", "detail": "https://evil.example"})
        );
        assert!(evil.hits().is_empty() && vendor.hits().is_empty());
        let denied = env.denied();
        assert_eq!(denied.len(), 1, "{denied:?}");
        assert_eq!(denied[0].operation, "GET https://evil.example/steal");
        assert_eq!(denied[0].capability, Capability::VendorHttp);
        assert_still_works(&rt, &plugin, &env).await;
    }

    #[tokio::test]
    async fn redirect_to_it_is_forbidden_and_audited() {
        let (rt, plugin, env, vendor, evil, policy) = setup().await;
        let ctx = env.ctx(&plugin).with_vendor_http(policy);
        let out = action(&rt, &plugin, ctx, "redirect", json!({}))
            .await
            .expect("typed error");
        assert_eq!(
            json(&out),
            json!({"error": "forbidden", "detail": "https://evil.example"})
        );
        assert_eq!(vendor.hits(), ["/redirect"]);
        assert!(evil.hits().is_empty(), "the redirect was not followed");
        let denied = env.denied();
        assert_eq!(denied.len(), 1, "{denied:?}");
        assert_eq!(denied[0].operation, "GET https://vendor.example/redirect");
        assert_still_works(&rt, &plugin, &env).await;
    }
}

mod reads_files_env {
    use super::*;

    #[tokio::test]
    async fn sees_no_files_env_args_or_sockets() {
        let rt = runtime();
        let plugin = install(&rt, artifacts::READS_FILES_ENV).await;
        let env = Env::new();
        let out = action(&rt, &plugin, env.ctx(&plugin), "run", json!({}))
            .await
            .expect("runs");
        assert_eq!(
            json(&out),
            json!({
                "read_dir_ok": false,
                "read_file_ok": false,
                "env_count": 0,
                "args_count": 0,
                "tcp_ok": false,
            })
        );
        assert_still_works(&rt, &plugin, &env).await;
    }
}

mod well_behaved {
    use super::*;
    const COMPONENT: &str = artifacts::WELL_BEHAVED;
    include!("well_behaved_suite.rs");
}

/// The same suite on the well-behaved connector as a vendor shipped it for contract 0.1.0
/// (a binary kept in `plugins/released/contract-0.1.0`): a released contract keeps working.
mod well_behaved_contract_0_1 {
    use super::*;
    const COMPONENT: &str = artifacts::WELL_BEHAVED_V0_1_0;
    include!("well_behaved_suite.rs");

    #[tokio::test]
    async fn speaks_contract_0_1_0_and_asks_for_no_hooks_or_queries() {
        let rt = runtime();
        let plugin = install(&rt, COMPONENT).await;
        assert_eq!(plugin.contract(), ContractVersion::V0_1_0);
        assert!(plugin.manifest().lifecycle_hooks.is_empty());
        assert!(!plugin.manifest().vendor_queries);
        let latest = install(&runtime(), artifacts::WELL_BEHAVED).await;
        assert_eq!(latest.contract(), ContractVersion::V0_2_0);
    }
}

/// The second build of `well-behaved`, used by the upgrade tests in `lifecycle.rs`.
mod well_behaved_v2 {
    use super::*;

    #[tokio::test]
    async fn is_the_same_plugin_at_a_newer_version_and_becomes_active() {
        let rt = runtime();
        let v1 = install(&rt, artifacts::WELL_BEHAVED).await;
        let v2 = install(&rt, artifacts::WELL_BEHAVED_V2).await;
        assert_eq!(v1.id(), v2.id());
        assert_eq!(v2.version().to_string(), "0.2.0");
        assert!(std::sync::Arc::ptr_eq(
            &rt.active("well-behaved").unwrap(),
            &v2
        ));
    }
}

mod well_behaved_twin {
    use super::*;

    #[tokio::test]
    async fn is_a_second_plugin_beside_well_behaved_with_its_own_state() {
        let rt = runtime();
        let original = install(&rt, artifacts::WELL_BEHAVED).await;
        let twin = install(&rt, artifacts::WELL_BEHAVED_TWIN).await;
        assert_eq!(twin.id(), "well-behaved-twin");
        assert_ne!(original.id(), twin.id());
        // Installing the twin did not replace the original.
        assert!(std::sync::Arc::ptr_eq(
            &rt.active("well-behaved").unwrap(),
            &original
        ));
        // Each plugin's state is its own, even in one tenant.
        let env = Env::new();
        let input = json!({"key": "k", "value": "original"});
        action(&rt, &original, env.ctx(&original), "state", input)
            .await
            .unwrap();
        let input = json!({"key": "k", "value": "twin"});
        action(&rt, &twin, env.ctx(&twin), "state", input)
            .await
            .unwrap();
        let dump = |plugin: &str| {
            env.state.dump(&StateScope {
                tenant_id: "t1".into(),
                plugin_id: plugin.into(),
            })
        };
        assert_eq!(
            dump("well-behaved").get("k").map(String::as_str),
            Some("original")
        );
        assert_eq!(
            dump("well-behaved-twin").get("k").map(String::as_str),
            Some("twin")
        );
    }
}
