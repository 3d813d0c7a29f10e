//! The OpenAPI document matches the API. Every admin answer a test gets through
//! `World::admin`/`admin_raw` is checked against the served document when the test's world
//! stops (`fulcrum_testkit::openapi_violations`); here: that check itself catches what it
//! must, the error answers every route can give (400, 405, 413, 415, 422) are documented, and
//! the document states enums and limits as the code enforces them.

use crate::admin::{call, code, token};
use fulcrum_store::Role;
use fulcrum_store::test_support::on_each_backend;
use fulcrum_testkit::*;
use reqwest::Method;
use serde_json::{Value, json};

fn exchange(method: Method, path: &str, status: u16, body: Option<Value>) -> AdminExchange {
    AdminExchange {
        method,
        path: path.to_owned(),
        status,
        body,
    }
}

fn error(code: &str) -> Option<Value> {
    Some(json!({"error": {"code": code, "message": "what to do next"}}))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_check_refuses_answers_the_document_does_not_describe() {
    on_each_backend(|db| async move {
        let world = World::start(&db).await;
        let (status, document) = call(&world, Method::GET, OPENAPI_PATH, None, None).await;
        assert_eq!(status, 200);
        let tenant = format!("/admin/v1/tenants/{TENANT}");
        let secret = format!("{tenant}/installations/{PLUGIN}/secrets/api-token");
        let described = [
            exchange(Method::GET, &tenant, 404, error("not_found")),
            exchange(Method::PUT, &secret, 204, None),
            exchange(
                Method::PATCH,
                "/admin/v1/tenants",
                405,
                error("method_not_allowed"),
            ),
            exchange(Method::GET, "/admin/v1/nowhere", 404, error("not_found")),
            exchange(Method::GET, "/admin/v1/tokens", 200, Some(json!([]))),
        ];
        assert_eq!(
            openapi_violations(&document, &described),
            Vec::<String>::new()
        );
        let undescribed = [
            // A status the operation does not list.
            exchange(Method::GET, &tenant, 418, error("teapot")),
            // A body its schema refuses: a number for a string, an unknown role.
            exchange(Method::GET, &tenant, 200, Some(json!({"id": 5}))),
            exchange(
                Method::GET,
                "/admin/v1/tokens",
                200,
                Some(
                    json!([{"id": 1, "role": "root", "tenant": null, "label": "",
                             "created_at": 0, "revoked_at": null, "expires_at": null}]),
                ),
            ),
            // An error that is not the envelope.
            exchange(Method::GET, &tenant, 404, Some(json!({"message": "gone"}))),
            // A body where none is documented, none where one is.
            exchange(Method::PUT, &secret, 204, Some(json!({}))),
            exchange(Method::GET, &tenant, 200, None),
            // Not the answer of a method the path does not take, or of an unknown path.
            exchange(Method::PATCH, "/admin/v1/tenants", 200, Some(json!({}))),
            exchange(Method::GET, "/admin/v1/nowhere", 200, Some(json!({}))),
        ];
        let violations = openapi_violations(&document, &undescribed);
        assert_eq!(violations.len(), undescribed.len(), "{violations:#?}");
        assert!(
            violations[0].contains("418 is not documented"),
            "{violations:#?}"
        );
        world.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn error_answers_and_limits_are_in_the_document() {
    on_each_backend(|db| async move {
        let world = World::start(&db).await;
        let operator = token(&world, Role::PlatformOperator, None).await;
        let super_admin = token(&world, Role::TenantSuperAdmin, Some(TENANT)).await;
        let bearer = |token: &str| format!("Bearer {token}");
        let (operator_auth, super_auth) = (bearer(&operator), bearer(&super_admin));
        let (operator_auth, super_auth) = (operator_auth.as_str(), super_auth.as_str());
        let inst = |rest: &str| format!("/admin/v1/tenants/{TENANT}/installations/{PLUGIN}{rest}");
        let json_type = ("content-type", "application/json");

        // (what, method, path, headers, body, status, code)
        type Case<'a> = (
            &'a str,
            Method,
            String,
            Vec<(&'a str, &'a str)>,
            Vec<u8>,
            u16,
            &'a str,
        );
        let cases: Vec<Case<'_>> = vec![
            (
                "malformed JSON",
                Method::POST,
                "/admin/v1/tenants".into(),
                vec![("authorization", operator_auth), json_type],
                b"{\"id\":".to_vec(),
                400,
                "malformed_json",
            ),
            (
                "not JSON",
                Method::PUT,
                inst("/config"),
                vec![
                    ("authorization", super_auth),
                    ("content-type", "text/plain"),
                ],
                b"{}".to_vec(),
                415,
                "unsupported_media_type",
            ),
            (
                "over 2 MB",
                Method::PUT,
                inst("/config"),
                vec![("authorization", super_auth), json_type],
                json!({"greeting": "x".repeat(3 << 20)})
                    .to_string()
                    .into_bytes(),
                413,
                "payload_too_large",
            ),
            (
                "wrong shape",
                Method::PUT,
                inst("/approved-permissions"),
                vec![("authorization", super_auth), json_type],
                json!({"permissions": ["list stages", 5]})
                    .to_string()
                    .into_bytes(),
                422,
                "invalid_body",
            ),
            (
                "bad path",
                Method::GET,
                format!("/admin/v1/tenants/{TENANT}/events/abc"),
                vec![("authorization", super_auth)],
                Vec::new(),
                400,
                "bad_request",
            ),
            (
                "bad idempotency key",
                Method::POST,
                inst("/actions/stages"),
                vec![
                    ("authorization", super_auth),
                    json_type,
                    ("idempotency-key", "   "),
                ],
                b"{}".to_vec(),
                400,
                "bad_request",
            ),
            (
                "wrong method",
                Method::PATCH,
                "/admin/v1/tenants".into(),
                vec![("authorization", operator_auth)],
                Vec::new(),
                405,
                "method_not_allowed",
            ),
            (
                "wrong method on the document",
                Method::POST,
                OPENAPI_PATH.into(),
                Vec::new(),
                Vec::new(),
                405,
                "method_not_allowed",
            ),
            (
                "unknown route",
                Method::GET,
                "/admin/v1/nowhere".into(),
                vec![("authorization", operator_auth)],
                Vec::new(),
                404,
                "not_found",
            ),
        ];
        for (what, method, path, headers, body, status, expected) in cases {
            let (got, answer) = world.admin_raw(method, &path, &headers, body).await;
            assert_eq!((got, code(&answer)), (status, expected), "{what}: {answer}");
        }
        // A body of the wrong shape says where, as the document promises for this 422.
        let (_, answer) = call(
            &world,
            Method::PUT,
            &inst("/approved-permissions"),
            Some(super_admin.as_str()),
            Some(json!({"permissions": ["list stages", 5]})),
        )
        .await;
        assert_eq!(
            answer["error"]["problems"][0]["pointer"], "/permissions/1",
            "{answer}"
        );
        assert_eq!(
            world.admin_response_violations().await,
            Vec::<String>::new()
        );

        // Enums and limits, as the code enforces them.
        let (_, document) = call(&world, Method::GET, OPENAPI_PATH, None, None).await;
        let schemas = &document["components"]["schemas"];
        assert_eq!(
            schemas["NewToken"]["properties"]["role"]["enum"],
            json!([
                "platform-operator",
                "tenant-super-admin",
                "tenant-admin",
                "tenant-member"
            ])
        );
        let events = &schemas["ManifestView"]["properties"]["lever_events"]["items"]["enum"];
        assert!(
            events
                .as_array()
                .unwrap()
                .contains(&json!("candidateStageChange")),
            "{events}"
        );
        assert_eq!(schemas["NewTenant"]["properties"]["id"]["maxLength"], 63);
        assert_eq!(schemas["NewTenant"]["properties"]["name"]["maxLength"], 200);
        assert_eq!(
            schemas["SecretInput"]["properties"]["value"]["maxLength"],
            8192
        );
        assert_eq!(
            schemas["EventView"]["properties"]["status"]["enum"],
            json!(["queued", "running", "done", "dead"])
        );
        let filter = document["paths"]["/admin/v1/tenants/{tenant}/events"]["get"]["parameters"]
            .as_array()
            .unwrap()
            .iter()
            .find(|p| p["name"] == "status")
            .unwrap()
            .clone();
        assert_ne!(filter["required"], true, "an optional filter: {filter}");
        assert_eq!(filter["schema"]["enum"][3], "dead", "{filter}");
        world.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lever_events_are_shown_in_lever_words_however_the_manifest_was_recorded() {
    on_each_backend(|db| async move {
        let world = World::start(&db).await;
        let member = token(&world, Role::TenantMember, Some(TENANT)).await;
        let (status, plugin) = call(
            &world,
            Method::GET,
            &format!("/admin/v1/plugins/{PLUGIN}"),
            Some(member.as_str()),
            None,
        )
        .await;
        assert_eq!(status, 200, "{plugin}");
        assert_eq!(
            plugin["manifest"]["lever_events"],
            json!(["candidateStageChange"])
        );

        // A version recorded by an older host (the contract's Rust names) and not loaded here.
        let mut recorded = plugin["manifest"].clone();
        recorded["id"] = json!("retired");
        recorded["permissions"] = recorded["requested_permissions"].take();
        recorded["config_schema"] = json!(recorded["config_schema"].to_string());
        recorded["lever_events"] = json!(["CandidateStageChange", "CandidateHired"]);
        for action in recorded["actions"].as_array_mut().unwrap() {
            action["input_schema"] = json!(action["input_schema"].to_string());
        }
        world
            .store
            .record_plugin("retired", "0.1.0", &"0".repeat(64), &recorded)
            .await
            .unwrap();
        let (status, retired) = call(
            &world,
            Method::GET,
            "/admin/v1/plugins/retired",
            Some(member.as_str()),
            None,
        )
        .await;
        assert_eq!(status, 200, "{retired}");
        assert_eq!(retired["active_version"], Value::Null, "{retired}");
        assert_eq!(
            retired["manifest"]["lever_events"],
            json!(["candidateStageChange", "candidateHired"])
        );
        world.stop().await;
    })
    .await;
}
