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

    #[tokio::test]
    async fn creates_an_opportunity_in_lever_through_its_grants() {
        let rt = runtime();
        let lever = Lever::start().await;
        let plugin = install(&rt, artifacts::WELL_BEHAVED).await;
        let env = Env::new();
        let ctx = env.ctx(&plugin).with_lever(lever.access.clone());
        let input =
            json!({"name": "Ada Lovelace", "email": "ada@example.com", "note": "Met at the fair"});
        let out = action(&rt, &plugin, ctx, "create", input)
            .await
            .expect("created");
        let id = json(&out)["opportunity_id"]
            .as_str()
            .expect("an id")
            .to_owned();
        let (name, emails, sources, notes) = lever.sandbox.read(|db| {
            let o = db.opportunity(&id).expect("in the sandbox");
            let notes: Vec<String> = db.notes(&id).iter().map(|n| n.value().to_owned()).collect();
            (o.name.clone(), o.emails.clone(), o.sources.clone(), notes)
        });
        assert_eq!(name.as_deref(), Some("Ada Lovelace"));
        assert_eq!(emails, ["ada@example.com"]);
        assert_eq!(sources, ["Fixture"]);
        assert_eq!(notes, ["Met at the fair"]);
        let ops: Vec<(String, AuditOutcome)> = env
            .audit
            .records()
            .into_iter()
            .map(|r| (r.operation, r.outcome))
            .collect();
        assert_eq!(
            ops,
            [
                ("POST /opportunities".to_owned(), AuditOutcome::Allowed),
                (
                    "POST /opportunities/:opportunity/notes".to_owned(),
                    AuditOutcome::Allowed
                ),
            ]
        );
    }

    #[tokio::test]
    async fn lists_stages() {
        let rt = runtime();
        let lever = Lever::start().await;
        let plugin = install(&rt, artifacts::WELL_BEHAVED).await;
        let env = Env::new();
        let ctx = env.ctx(&plugin).with_lever(lever.access.clone());
        let out = action(&rt, &plugin, ctx, "stages", json!({}))
            .await
            .expect("stages");
        let expected: Vec<String> = lever
            .sandbox
            .read(|db| db.stages().map(|s| s.id.clone()).collect());
        assert!(!expected.is_empty());
        assert_eq!(json(&out), json!(expected));
    }

    /// A "no-permission" twin for each Lever permission the fixture uses: revoke it, and the
    /// action gets a typed `forbidden(<permission>)`, the refusal is audited, and nothing
    /// needing that permission reaches Lever.
    async fn revoked(
        permission: Permission,
        action_name: &str,
        input: serde_json::Value,
    ) -> (Lever, Env, Result<String, PluginError>) {
        let rt = runtime();
        let lever = Lever::start().await;
        let plugin = install(&rt, artifacts::WELL_BEHAVED).await;
        assert!(plugin.requested_permissions().contains(&permission));
        let env = Env::new();
        let ctx = env
            .ctx(&plugin)
            .with_lever(lever.access.clone())
            .with_grants(
                Grants::new(plugin.requested_permissions(), Permission::ALL).without(permission),
            );
        let out = action(&rt, &plugin, ctx, action_name, input).await;
        assert_eq!(
            out,
            Err(PluginError::Forbidden(permission.as_str().to_owned()))
        );
        let denied = env.denied();
        assert_eq!(denied.len(), 1, "{denied:?}");
        assert_eq!(
            denied[0].outcome,
            AuditOutcome::Denied {
                reason: format!("forbidden: {permission}")
            }
        );
        (lever, env, out)
    }

    #[tokio::test]
    async fn without_list_stages() {
        let (lever, env, _) = revoked(Permission::ListStages, "stages", json!({})).await;
        assert_eq!(env.denied()[0].operation, "GET /stages");
        assert_eq!(lever.sandbox.stats().total_requests(), 0);
    }

    #[tokio::test]
    async fn without_create_opportunity() {
        let input = json!({"name": "Ada", "email": "ada@example.com", "note": "hi"});
        let (lever, env, _) = revoked(Permission::CreateOpportunity, "create", input).await;
        assert_eq!(env.denied()[0].operation, "POST /opportunities");
        assert_eq!(lever.sandbox.stats().total_requests(), 0);
        assert_eq!(lever.opportunities(), 0);
    }

    #[tokio::test]
    async fn without_create_opportunity_note() {
        let input = json!({"name": "Ada", "email": "ada@example.com", "note": "hi"});
        let (lever, env, _) = revoked(Permission::CreateOpportunityNote, "create", input).await;
        assert_eq!(
            env.denied()[0].operation,
            "POST /opportunities/:opportunity/notes"
        );
        // The fixture creates the opportunity first (allowed), then the note (refused): no
        // note reached Lever.
        let notes = lever.sandbox.read(|db| {
            db.opportunities()
                .map(|o| db.notes(&o.id).len())
                .sum::<usize>()
        });
        assert_eq!(notes, 0);
        assert_eq!(
            lever
                .sandbox
                .stats()
                .writes
                .get("POST /opportunities/:opportunity/notes"),
            None
        );
    }

    /// An opportunity the plugin may look for, created straight in the sandbox.
    async fn seeded_opportunity(lever: &Lever) -> String {
        let client = lever_client::LeverClient::new(
            lever_client::ClientConfig::new(&lever.sandbox.api_url()).unwrap(),
            lever_client::Credential::api_key(lever.sandbox.demo_api_key()),
        )
        .unwrap();
        let body = lever_model::NewOpportunity {
            name: Some("Ada".into()),
            emails: vec!["ada@example.com".into()],
            ..Default::default()
        };
        let created = client
            .create_opportunity(
                &lever.sandbox.default_user_id(),
                &body,
                lever_client::Attachments::default(),
            )
            .await
            .unwrap();
        lever.sandbox.reset_stats();
        created.id
    }

    #[tokio::test]
    async fn without_read_opportunity() {
        let rt = runtime();
        let lever = Lever::start().await;
        let id = seeded_opportunity(&lever).await;
        let plugin = install(&rt, artifacts::WELL_BEHAVED).await;
        let env = Env::new();
        let granted = env.ctx(&plugin).with_lever(lever.access.clone());
        let out = action(&rt, &plugin, granted, "get", json!({"opportunity_id": id})).await;
        assert_eq!(json(&out.unwrap())["id"], json!(id), "allowed when granted");
        lever.sandbox.reset_stats();

        let env = Env::new();
        let ctx = env
            .ctx(&plugin)
            .with_lever(lever.access.clone())
            .with_grants(
                Grants::new(plugin.requested_permissions(), Permission::ALL)
                    .without(Permission::ReadOpportunity),
            );
        let out = action(&rt, &plugin, ctx, "get", json!({"opportunity_id": id})).await;
        assert_eq!(out, Err(PluginError::Forbidden("read opportunity".into())));
        assert_eq!(env.denied().len(), 1);
        assert_eq!(env.denied()[0].operation, "GET /opportunities/:opportunity");
        assert_eq!(
            lever.sandbox.stats().total_requests(),
            0,
            "nothing reached Lever"
        );
    }

    #[tokio::test]
    async fn without_list_opportunities() {
        let rt = runtime();
        let lever = Lever::start().await;
        let id = seeded_opportunity(&lever).await;
        let plugin = install(&rt, artifacts::WELL_BEHAVED).await;
        let env = Env::new();
        let granted = env.ctx(&plugin).with_lever(lever.access.clone());
        let out = action(
            &rt,
            &plugin,
            granted,
            "find",
            json!({"email": "ada@example.com"}),
        )
        .await;
        assert_eq!(json(&out.unwrap()), json!([id]), "allowed when granted");
        lever.sandbox.reset_stats();

        let env = Env::new();
        let ctx = env
            .ctx(&plugin)
            .with_lever(lever.access.clone())
            .with_grants(
                Grants::new(plugin.requested_permissions(), Permission::ALL)
                    .without(Permission::ListOpportunities),
            );
        let out = action(
            &rt,
            &plugin,
            ctx,
            "find",
            json!({"email": "ada@example.com"}),
        )
        .await;
        assert_eq!(
            out,
            Err(PluginError::Forbidden("list opportunities".into()))
        );
        assert_eq!(env.denied().len(), 1);
        assert_eq!(env.denied()[0].operation, "GET /opportunities");
        assert_eq!(
            lever.sandbox.stats().total_requests(),
            0,
            "nothing reached Lever"
        );
    }

    #[tokio::test]
    async fn reaches_its_declared_vendor_through_the_operator_alias() {
        let rt = runtime();
        let vendor = VendorServer::start().await;
        let plugin = install(&rt, artifacts::WELL_BEHAVED).await;
        let env = Env::new();
        let ctx = env.ctx(&plugin).with_vendor_http(vendor.policy());
        let out = action(&rt, &plugin, ctx, "vendor-ping", json!({}))
            .await
            .expect("pinged");
        assert_eq!(json(&out), json!({"status": 200, "body": "pong"}));
        assert_eq!(vendor.hits(), ["/ping"]);
        let records = env.audit.records();
        assert_eq!(records[0].operation, "GET https://vendor.example/ping");
        assert_eq!(records[0].outcome, AuditOutcome::Allowed);
    }

    #[tokio::test]
    async fn private_addresses_need_the_operator_opt_in() {
        let rt = runtime();
        let vendor = VendorServer::start().await;
        let plugin = install(&rt, artifacts::WELL_BEHAVED).await;
        let env = Env::new();
        // Aliased to loopback, but private networks are not allowed.
        let policy = vendor.policy().allowing_private_networks(false);
        let ctx = env.ctx(&plugin).with_vendor_http(policy);
        let out = action(&rt, &plugin, ctx, "vendor-ping", json!({})).await;
        let Err(PluginError::Forbidden(message)) = &out else {
            panic!("expected forbidden, got {out:?}");
        };
        assert!(message.contains("private"), "{message}");
        assert!(vendor.hits().is_empty());
        assert_eq!(env.denied().len(), 1);
    }

    #[tokio::test]
    async fn installations_do_not_see_each_others_config_secrets_or_state() {
        let rt = runtime();
        let plugin = install(&rt, artifacts::WELL_BEHAVED).await;
        // One store and one audit log for both: the host scopes them.
        let env = Env::new();
        let a = || {
            env.ctx_for("tenant-a", "inst-a", &plugin)
                .with_config(r#"{"greeting":"hi from A"}"#)
        };
        let b = || {
            env.ctx_for("tenant-b", "inst-b", &plugin)
                .with_config(r#"{"greeting":"hi from B"}"#)
                .with_secrets(Secrets::new())
        };
        let out_a = action(&rt, &plugin, a(), "config", json!({}))
            .await
            .unwrap();
        let out_b = action(&rt, &plugin, b(), "config", json!({}))
            .await
            .unwrap();
        assert_eq!(
            json(&out_a),
            json!({"config": {"greeting": "hi from A"}, "has_secret": true})
        );
        assert_eq!(
            json(&out_b),
            json!({"config": {"greeting": "hi from B"}, "has_secret": false})
        );

        assert_eq!(
            action(
                &rt,
                &plugin,
                a(),
                "state",
                json!({"key": "k", "value": "A"})
            )
            .await
            .unwrap(),
            "\"A\""
        );
        assert_eq!(
            action(
                &rt,
                &plugin,
                b(),
                "state",
                json!({"key": "k", "value": "B"})
            )
            .await
            .unwrap(),
            "\"B\""
        );
        let event = bindings::LeverEvent {
            id: "evt-a".into(),
            kind: bindings::LeverEventKind::CandidateStageChange,
            triggered_at: 1_700_000_000_000,
            opportunity_id: None,
            contact_id: None,
            posting_id: None,
            from_stage_id: None,
            to_stage_id: None,
            data: "{}".into(),
        };
        let handled = rt
            .invoke(&plugin, a(), Call::LeverEvent(event))
            .await
            .unwrap();
        assert_eq!(handled, CallOutput::Handled(Ok(())));
        let run = bindings::ScheduledRun {
            id: "run-b".into(),
            name: "tick".into(),
            scheduled_at: 1_700_000_000_000,
        };
        let handled = rt.invoke(&plugin, b(), Call::Schedule(run)).await.unwrap();
        assert_eq!(handled, CallOutput::Handled(Ok(())));

        let scope = |tenant: &str| StateScope {
            tenant_id: tenant.into(),
            plugin_id: "well-behaved".into(),
        };
        let state_a = env.state.dump(&scope("tenant-a"));
        let state_b = env.state.dump(&scope("tenant-b"));
        assert_eq!(state_a.get("k").map(String::as_str), Some("A"));
        assert_eq!(state_b.get("k").map(String::as_str), Some("B"));
        assert_eq!(state_a.get("last-event").map(String::as_str), Some("evt-a"));
        assert!(!state_b.contains_key("last-event"));
        assert_eq!(state_b.get("last-run").map(String::as_str), Some("tick"));
        assert!(!state_a.contains_key("last-run"));
    }

    #[tokio::test]
    async fn verifies_vendor_requests_with_its_secret_and_validates_config() {
        let rt = runtime();
        let plugin = install(&rt, artifacts::WELL_BEHAVED).await;
        let env = Env::new();
        let request = |signature: &str| bindings::VendorRequest {
            id: "in-1".into(),
            received_at: 1_700_000_000_000,
            method: "POST".into(),
            path: "/applicants".into(),
            query: String::new(),
            headers: vec![bindings::Header {
                name: "x-fixture-signature".into(),
                value: signature.into(),
            }],
            body: b"{}".to_vec(),
        };
        let ok = rt
            .invoke(
                &plugin,
                env.ctx(&plugin),
                Call::VerifyVendorRequest(request("s3cret")),
            )
            .await
            .unwrap();
        assert_eq!(ok, CallOutput::VendorRequestChecked(Ok(())));
        let bad = rt
            .invoke(
                &plugin,
                env.ctx(&plugin),
                Call::VerifyVendorRequest(request("guess")),
            )
            .await
            .unwrap();
        let CallOutput::VendorRequestChecked(Err(rejection)) = bad else {
            panic!("{bad:?}")
        };
        assert_eq!(rejection.status, 401);

        let checked = rt
            .invoke(
                &plugin,
                env.ctx(&plugin),
                Call::ValidateConfig(r#"{"greeting": 1, "colour": "red"}"#.into()),
            )
            .await
            .unwrap();
        let CallOutput::ConfigChecked(Err(problems)) = checked else {
            panic!("{checked:?}")
        };
        let mut pointers: Vec<&str> = problems.iter().map(|p| p.pointer.as_str()).collect();
        pointers.sort();
        assert_eq!(pointers, ["/colour", "/greeting"]);
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
