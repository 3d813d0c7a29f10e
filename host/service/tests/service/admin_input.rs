//! Bad input to the admin API: each gets a clear JSON error and nothing is stored.

use crate::admin::{call, code, message, snapshot, token};
use fulcrum_store::Role;
use fulcrum_store::test_support::on_each_backend;
use fulcrum_testkit::*;
use reqwest::Method;
use serde_json::{Value, json};

/// Sends raw bytes with a content type (recorded for the OpenAPI check, like `call`).
async fn raw(
    world: &World,
    method: Method,
    path: &str,
    token: &str,
    content_type: &str,
    body: Vec<u8>,
) -> (u16, Value) {
    let authorization = format!("Bearer {token}");
    world
        .admin_raw(
            method,
            path,
            &[
                ("authorization", authorization.as_str()),
                ("content-type", content_type),
            ],
            body,
        )
        .await
}

/// A component exporting the plugin interface of another contract version.
fn component_of_version(version: &str) -> Vec<u8> {
    wat::parse_str(format!(
        r#"(component
            (core module $m (func (export "describe")))
            (core instance $i (instantiate $m))
            (type $t (func))
            (func $describe (type $t) (canon lift (core func $i "describe")))
            (instance $plugin (export "describe" (func $describe)))
            (export "fulcrum:connector/plugin@{version}" (instance $plugin))
        )"#
    ))
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_admin_input_gets_a_clear_error_and_stores_nothing() {
    on_each_backend(|db| async move {
        let world = World::start(&db).await;
        let operator = token(&world, Role::PlatformOperator, None).await;
        let super_admin = token(&world, Role::TenantSuperAdmin, Some(TENANT)).await;
        let admin = token(&world, Role::TenantAdmin, Some(TENANT)).await;
        let (operator, super_admin, admin) =
            (operator.as_str(), super_admin.as_str(), admin.as_str());
        let before = snapshot(&world).await;
        let inst = |rest: &str| format!("/admin/v1/tenants/{TENANT}/installations/{PLUGIN}{rest}");

        // Request bodies: (what, token, method, path, content type, body, status, code, words).
        type Case<'a> = (
            &'a str,
            &'a str,
            Method,
            String,
            &'a str,
            Vec<u8>,
            u16,
            &'a str,
            &'a str,
        );
        let json_bytes = |v: Value| v.to_string().into_bytes();
        let cases: Vec<Case<'_>> = vec![
            (
                "malformed JSON",
                operator,
                Method::POST,
                "/admin/v1/tenants".into(),
                "application/json",
                b"{\"id\": \"initech\", ".to_vec(),
                400,
                "malformed_json",
                "not valid JSON",
            ),
            (
                "wrong content type",
                operator,
                Method::POST,
                "/admin/v1/tenants".into(),
                "text/plain",
                json_bytes(json!({"id": "initech", "name": "Initech"})),
                415,
                "unsupported_media_type",
                "application/json",
            ),
            (
                "missing field",
                operator,
                Method::POST,
                "/admin/v1/tenants".into(),
                "application/json",
                json_bytes(json!({"id": "initech"})),
                422,
                "invalid_body",
                "name",
            ),
            (
                "unknown field",
                operator,
                Method::POST,
                "/admin/v1/tenants".into(),
                "application/json",
                json_bytes(json!({"id": "initech", "name": "I", "plan": "gold"})),
                422,
                "invalid_body",
                "plan",
            ),
            (
                "bad tenant id",
                operator,
                Method::POST,
                "/admin/v1/tenants".into(),
                "application/json",
                json_bytes(json!({"id": "Init Tech!", "name": "Initech"})),
                422,
                "invalid_tenant_id",
                "lower-case",
            ),
            (
                "existing tenant",
                operator,
                Method::POST,
                "/admin/v1/tenants".into(),
                "application/json",
                json_bytes(json!({"id": TENANT, "name": "Again"})),
                409,
                "conflict",
                "already exists",
            ),
            (
                "bad Lever URL",
                operator,
                Method::PUT,
                format!("/admin/v1/tenants/{TENANT}/lever-settings"),
                "application/json",
                json_bytes(json!({"base_url": "not a url"})),
                422,
                "invalid_base_url",
                "http",
            ),
            (
                "empty Lever key",
                operator,
                Method::PUT,
                format!("/admin/v1/tenants/{TENANT}/lever-credential"),
                "application/json",
                json_bytes(json!({"api_key": "  "})),
                422,
                "invalid_api_key",
                "api_key",
            ),
            (
                "config failing the schema",
                admin,
                Method::PUT,
                inst("/config"),
                "application/json",
                json_bytes(json!({"greeting": 1})),
                422,
                "invalid_config",
                "schema",
            ),
            (
                "config with an unknown setting",
                admin,
                Method::PUT,
                inst("/config"),
                "application/json",
                json_bytes(json!({"colour": "red"})),
                422,
                "invalid_config",
                "schema",
            ),
            (
                "config that is not an object",
                admin,
                Method::PUT,
                inst("/config"),
                "application/json",
                json_bytes(json!([1, 2])),
                422,
                "invalid_config",
                "schema",
            ),
            (
                "config as malformed JSON",
                admin,
                Method::PUT,
                inst("/config"),
                "application/json",
                b"{greeting: hi}".to_vec(),
                400,
                "malformed_json",
                "not valid JSON",
            ),
            (
                "approving what the plugin did not request",
                super_admin,
                Method::PUT,
                inst("/approved-permissions"),
                "application/json",
                json_bytes(json!({"permissions": ["list stages", "create posting"]})),
                422,
                "invalid_permissions",
                "requests",
            ),
            (
                "approving a word Lever does not have",
                super_admin,
                Method::PUT,
                inst("/approved-permissions"),
                "application/json",
                json_bytes(json!({"permissions": ["read everything"]})),
                422,
                "invalid_permissions",
                "requests",
            ),
            (
                "a secret the plugin does not declare",
                admin,
                Method::PUT,
                inst("/secrets/password"),
                "application/json",
                json_bytes(json!({"value": "x"})),
                422,
                "unknown_secret",
                "api-token",
            ),
            (
                "an empty secret",
                admin,
                Method::PUT,
                inst("/secrets/api-token"),
                "application/json",
                json_bytes(json!({"value": ""})),
                422,
                "invalid_secret",
                "1-8192",
            ),
            (
                "an override of an unknown schedule",
                admin,
                Method::PUT,
                inst("/schedule-overrides"),
                "application/json",
                json_bytes(json!({"nightly": {"enabled": false}})),
                422,
                "invalid_schedule_overrides",
                "tick",
            ),
            (
                "an override of zero seconds",
                admin,
                Method::PUT,
                inst("/schedule-overrides"),
                "application/json",
                json_bytes(json!({"tick": {"every_seconds": 0}})),
                422,
                "invalid_schedule_overrides",
                "tick",
            ),
            (
                "action input failing its schema",
                admin,
                Method::POST,
                inst("/actions/create"),
                "application/json",
                json_bytes(json!({"name": "No Email"})),
                422,
                "invalid_input",
                "create",
            ),
            (
                "an unknown action",
                admin,
                Method::POST,
                inst("/actions/launch"),
                "application/json",
                json_bytes(json!({})),
                404,
                "not_found",
                "stages",
            ),
            (
                "an unknown role",
                operator,
                Method::POST,
                "/admin/v1/tokens".into(),
                "application/json",
                json_bytes(json!({"role": "root"})),
                422,
                "invalid_role",
                "platform-operator",
            ),
            (
                "a tenant role without a tenant",
                operator,
                Method::POST,
                "/admin/v1/tokens".into(),
                "application/json",
                json_bytes(json!({"role": "tenant-admin"})),
                422,
                "invalid_token_request",
                "tenant",
            ),
            (
                "a token for an unknown tenant",
                operator,
                Method::POST,
                "/admin/v1/tokens".into(),
                "application/json",
                json_bytes(json!({"role": "tenant-admin", "tenant": "nobody"})),
                404,
                "not_found",
                "unknown tenant",
            ),
            // Uploads.
            (
                "not a component",
                operator,
                Method::POST,
                "/admin/v1/plugins".into(),
                "application/wasm",
                b"PK\x03\x04 a zip file".to_vec(),
                400,
                "not_a_component",
                "magic bytes",
            ),
            (
                "a core module",
                operator,
                Method::POST,
                "/admin/v1/plugins".into(),
                "application/wasm",
                wat::parse_str("(module (func (export \"run\")))").unwrap(),
                400,
                "not_a_component",
                "wasm32-wasip2",
            ),
            (
                "an unsupported WIT version",
                operator,
                Method::POST,
                "/admin/v1/plugins".into(),
                "application/wasm",
                component_of_version("0.9.0"),
                422,
                "unsupported_wit_version",
                "0.1.0, 0.2.0",
            ),
            (
                "an upload that is not application/wasm",
                operator,
                Method::POST,
                "/admin/v1/plugins".into(),
                "application/octet-stream",
                read(fulcrum_plugin_artifacts::WELL_BEHAVED_V2),
                415,
                "unsupported_media_type",
                "application/wasm",
            ),
            (
                "an oversize component",
                operator,
                Method::POST,
                "/admin/v1/plugins".into(),
                "application/wasm",
                vec![0u8; 16 * 1024 * 1024 + 1],
                413,
                "payload_too_large",
                "16 MiB",
            ),
            (
                "an empty upload",
                operator,
                Method::POST,
                "/admin/v1/plugins".into(),
                "application/wasm",
                Vec::new(),
                400,
                "bad_request",
                "empty",
            ),
        ];
        for (what, token, method, path, content_type, body, status, expected_code, words) in cases {
            let (got, body) = raw(&world, method, &path, token, content_type, body).await;
            assert_eq!(got, status, "{what}: {body}");
            assert_eq!(code(&body), expected_code, "{what}: {body}");
            assert!(message(&body).contains(words), "{what}: {body}");
        }

        // A config failing the schema names the setting and the schema's complaint.
        let (status, body) = call(
            &world,
            Method::PUT,
            &inst("/config"),
            Some(admin),
            Some(json!({"greeting": 1})),
        )
        .await;
        assert_eq!(status, 422);
        let problems = body["error"]["problems"].as_array().unwrap();
        assert_eq!(problems[0]["pointer"], "/greeting", "{body}");
        assert_eq!(problems[0]["source"], "schema", "{body}");
        assert!(
            problems[0]["message"].as_str().unwrap().contains("string"),
            "{body}"
        );
        // Every permission problem is listed at once.
        let (_, body) = call(
            &world,
            Method::PUT,
            &inst("/approved-permissions"),
            Some(super_admin),
            Some(json!({"permissions": ["read everything", "list stages", "create posting"]})),
        )
        .await;
        let pointers: Vec<_> = body["error"]["problems"]
            .as_array()
            .unwrap()
            .iter()
            .map(|p| p["pointer"].clone())
            .collect();
        assert_eq!(
            pointers,
            [json!("/permissions/0"), json!("/permissions/2")],
            "{body}"
        );

        // Unknown things are 404s, unknown routes too, and a bad id is a 400: all JSON.
        let lookups: Vec<(&str, &str, Method, String, u16, &str)> = vec![
            (
                "unknown tenant",
                operator,
                Method::GET,
                "/admin/v1/tenants/nobody".into(),
                404,
                "unknown tenant",
            ),
            (
                "unknown tenant's events",
                operator,
                Method::GET,
                "/admin/v1/tenants/nobody/events".into(),
                404,
                "unknown tenant",
            ),
            (
                "unknown plugin",
                operator,
                Method::GET,
                "/admin/v1/plugins/nothing".into(),
                404,
                "unknown plugin",
            ),
            (
                "adding an unknown plugin",
                super_admin,
                Method::PUT,
                format!("/admin/v1/tenants/{TENANT}/installations/nothing"),
                404,
                "unknown plugin",
            ),
            (
                "a plugin not installed",
                admin,
                Method::GET,
                format!("/admin/v1/tenants/{TENANT}/installations/nothing"),
                404,
                "not installed",
            ),
            (
                "unknown event",
                admin,
                Method::GET,
                format!("/admin/v1/tenants/{TENANT}/events/999999"),
                404,
                "no event",
            ),
            (
                "an event id that is not a number",
                admin,
                Method::GET,
                format!("/admin/v1/tenants/{TENANT}/events/abc"),
                400,
                "bad path",
            ),
            (
                "a bad status filter",
                admin,
                Method::GET,
                format!("/admin/v1/tenants/{TENANT}/events?status=lost"),
                400,
                "queued",
            ),
            (
                "a bad limit",
                admin,
                Method::GET,
                format!("/admin/v1/tenants/{TENANT}/events?limit=many"),
                400,
                "query",
            ),
            (
                "unknown token",
                operator,
                Method::DELETE,
                "/admin/v1/tokens/999999".into(),
                404,
                "unknown token",
            ),
            (
                "unknown route",
                operator,
                Method::GET,
                "/admin/v1/nowhere".into(),
                404,
                "no such route",
            ),
            (
                "unknown admin version",
                operator,
                Method::GET,
                "/admin/v2/tenants".into(),
                404,
                "no such route",
            ),
        ];
        for (what, token, method, path, status, words) in lookups {
            let (got, body) = call(&world, method, &path, Some(token), None).await;
            assert_eq!(got, status, "{what}: {body}");
            assert!(message(&body).contains(words), "{what}: {body}");
        }

        assert_eq!(snapshot(&world).await, before);
        world.stop().await;
    })
    .await;
}
