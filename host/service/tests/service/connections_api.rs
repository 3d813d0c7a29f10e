//! An installation's own Lever connection through the admin API: an API key is probed before
//! it is stored (a rejected key stores nothing, a narrow one names what it lacks), the
//! connection is tested, listed users and the identity are checked against Lever, OAuth
//! connect starts at Lever with PKCE, and the operator's OAuth apps. Each route refuses the
//! roles that may not use it (another tenant's token gets the unknown-tenant 404), and no
//! answer ever carries an API key or a client secret.

use crate::admin::{OTHER, call, code, message, token};
use fulcrum_store::Role;
use fulcrum_store::test_support::on_each_backend;
use fulcrum_testkit::*;
use lever_model::Permission;
use lever_sandbox::KeySpec;
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::BTreeSet;

fn inst(rest: &str) -> String {
    format!("/admin/v1/tenants/{TENANT}/installations/{PLUGIN}{rest}")
}

/// Fails if any admin answer so far carries one of `secrets`.
fn assert_never_answered(world: &World, secrets: &[&str]) {
    for exchange in world.admin_exchanges() {
        let text = exchange.body.map(|b| b.to_string()).unwrap_or_default();
        for secret in secrets {
            assert!(
                !text.contains(secret),
                "{} {} answered a secret: {text}",
                exchange.method,
                exchange.path
            );
        }
    }
}

fn strings(value: &Value) -> BTreeSet<String> {
    value
        .as_array()
        .unwrap_or_else(|| panic!("not an array: {value}"))
        .iter()
        .map(|v| v.as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_api_key_is_probed_stored_tested_and_disconnected_by_the_right_roles() {
    on_each_backend(|db| async move {
        let world = World::start(&db).await;
        world.add_tenant(OTHER).await;
        let operator = token(&world, Role::PlatformOperator, None).await;
        let operator = operator.as_str();
        let owner = token(&world, Role::TenantSuperAdmin, Some(TENANT)).await;
        let owner = owner.as_str();
        let admin = token(&world, Role::TenantAdmin, Some(TENANT)).await;
        let admin = admin.as_str();
        let member = token(&world, Role::TenantMember, Some(TENANT)).await;
        let member = member.as_str();
        let stranger = token(&world, Role::TenantSuperAdmin, Some(OTHER)).await;
        let stranger = stranger.as_str();
        let narrow = world
            .sandbox
            .issue_api_key(KeySpec::only("narrow", [Permission::ListStages]));
        let full = world.sandbox.issue_api_key(KeySpec::all("full"));

        // Without its own connection the installation uses the tenant's key.
        for who in [member, operator] {
            let (status, body) =
                call(&world, Method::GET, &inst("/connection"), Some(who), None).await;
            assert_eq!(status, 200, "{body}");
            assert_eq!(
                (body["kind"].as_str(), body["status"].as_str()),
                (Some("tenant_default"), Some("connected")),
                "{body}"
            );
        }
        let (status, body) = call(
            &world,
            Method::GET,
            &inst("/connection"),
            Some(stranger),
            None,
        )
        .await;
        assert_eq!((status, code(&body)), (404, "not_found"), "{body}");
        let (status, body) = call(
            &world,
            Method::GET,
            &format!("/admin/v1/tenants/{TENANT}/installations/nope/connection"),
            Some(owner),
            None,
        )
        .await;
        assert_eq!(status, 404, "{body}");

        // Only the tenant's super admin connects; the key is never read for the others.
        let key_body = |key: &str| Some(json!({"api_key": key, "confidential": false}));
        for (who, t, expected) in [
            ("member", member, 403),
            ("admin", admin, 403),
            ("operator", operator, 403),
            ("another tenant", stranger, 404),
        ] {
            let (status, body) = call(
                &world,
                Method::PUT,
                &inst("/connection/api-key"),
                Some(t),
                key_body(&full),
            )
            .await;
            assert_eq!(status, expected, "{who}: {body}");
        }

        // Bad keys: refused with what to do, nothing stored.
        for (bad, expected) in [
            ("", "invalid_api_key"),
            ("lsk_has a space", "invalid_api_key"),
            ("lsk_not_a_key_lever_issued", "lever_key_rejected"),
        ] {
            let (status, body) = call(
                &world,
                Method::PUT,
                &inst("/connection/api-key"),
                Some(owner),
                key_body(bad),
            )
            .await;
            assert_eq!((status, code(&body)), (422, expected), "{bad:?}: {body}");
            assert!(message(&body).contains("nothing was stored"), "{body}");
        }
        let (status, body) = call(
            &world,
            Method::PUT,
            &inst("/connection/api-key"),
            Some(owner),
            Some(json!({"api_key": 7})),
        )
        .await;
        assert_eq!((status, code(&body)), (422, "invalid_body"), "{body}");
        let (_, body) = call(&world, Method::GET, &inst("/connection"), Some(owner), None).await;
        assert_eq!(body["kind"], "tenant_default", "{body}");

        // A key lacking approved permissions is stored, and the probe names what it lacks.
        let (status, body) = call(
            &world,
            Method::PUT,
            &inst("/connection/api-key"),
            Some(owner),
            Some(json!({"api_key": narrow, "confidential": true})),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["connection"]["kind"], "api_key", "{body}");
        assert_eq!(body["connection"]["confidential"], true, "{body}");
        assert_eq!(
            strings(&body["probe"]["granted"]),
            BTreeSet::from(["list stages".to_owned()])
        );
        let missing = strings(&body["probe"]["missing"]);
        assert!(missing.contains("create opportunity"), "{body}");
        assert!(!missing.contains("list stages"), "{body}");
        assert_eq!(body["probe"]["rejected"], false, "{body}");

        // Testing: admins and operators, not members or other tenants.
        for (who, t, expected) in [
            ("member", member, 403),
            ("another tenant", stranger, 404),
            ("admin", admin, 200),
            ("operator", operator, 200),
        ] {
            let (status, body) = call(
                &world,
                Method::POST,
                &inst("/connection/test"),
                Some(t),
                None,
            )
            .await;
            assert_eq!(status, expected, "{who}: {body}");
            if status == 200 {
                assert_eq!(strings(&body["missing"]), missing, "{body}");
            }
        }

        // A key with every permission lacks nothing.
        let (status, body) = call(
            &world,
            Method::PUT,
            &inst("/connection/api-key"),
            Some(owner),
            key_body(&full),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["probe"]["missing"], json!([]), "{body}");
        assert_eq!(body["connection"]["confidential"], false, "{body}");

        // Disconnecting: the super admin only; then there is nothing to disconnect.
        for (who, t, expected) in [
            ("member", member, 403),
            ("admin", admin, 403),
            ("operator", operator, 403),
            ("another tenant", stranger, 404),
            ("super admin", owner, 204),
        ] {
            let (status, body) =
                call(&world, Method::DELETE, &inst("/connection"), Some(t), None).await;
            assert_eq!(status, expected, "{who}: {body}");
        }
        let (status, body) = call(
            &world,
            Method::DELETE,
            &inst("/connection"),
            Some(owner),
            None,
        )
        .await;
        assert_eq!((status, code(&body)), (404, "not_connected"), "{body}");
        let (_, body) = call(&world, Method::GET, &inst("/connection"), Some(owner), None).await;
        assert_eq!(body["kind"], "tenant_default", "{body}");

        assert_never_answered(&world, &[&*narrow, &*full, &*world.api_key]);
        world.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lever_users_and_the_identity_are_checked_against_lever() {
    on_each_backend(|db| async move {
        let world = World::start(&db).await;
        world.add_tenant(OTHER).await;
        let operator = token(&world, Role::PlatformOperator, None).await;
        let operator = operator.as_str();
        let owner = token(&world, Role::TenantSuperAdmin, Some(TENANT)).await;
        let owner = owner.as_str();
        let admin = token(&world, Role::TenantAdmin, Some(TENANT)).await;
        let admin = admin.as_str();
        let member = token(&world, Role::TenantMember, Some(TENANT)).await;
        let member = member.as_str();
        let stranger = token(&world, Role::TenantSuperAdmin, Some(OTHER)).await;
        let stranger = stranger.as_str();

        for (who, t, expected) in [
            ("member", member, 403),
            ("operator", operator, 403),
            ("another tenant", stranger, 404),
        ] {
            let (status, body) =
                call(&world, Method::GET, &inst("/lever-users"), Some(t), None).await;
            assert_eq!(status, expected, "{who}: {body}");
        }
        let (status, users) = call(
            &world,
            Method::GET,
            &inst("/lever-users"),
            Some(admin),
            None,
        )
        .await;
        assert_eq!(status, 200, "{users}");
        let users = users.as_array().unwrap().clone();
        assert!(users.len() >= 2, "{users:?}");
        for user in &users {
            let fields: BTreeSet<&str> = user
                .as_object()
                .unwrap()
                .keys()
                .map(String::as_str)
                .collect();
            assert_eq!(
                fields,
                BTreeSet::from(["accessRole", "email", "id", "name"]),
                "{user}"
            );
        }
        let acting = world.sandbox.default_user_id();
        let other = users
            .iter()
            .map(|u| u["id"].as_str().unwrap().to_owned())
            .find(|id| *id != acting)
            .unwrap();

        let identity = |acting: &str, allowed: &[&str]| {
            Some(json!({"acting_user_id": acting, "allowed_acting_users": allowed}))
        };
        for (who, t, expected) in [
            ("member", member, 403),
            ("admin", admin, 403),
            ("operator", operator, 403),
            ("another tenant", stranger, 404),
        ] {
            let (status, body) = call(
                &world,
                Method::PUT,
                &inst("/identity"),
                Some(t),
                identity(acting.as_str(), &[]),
            )
            .await;
            assert_eq!(status, expected, "{who}: {body}");
        }
        for (acting, allowed, expected) in [
            ("", vec![], "invalid_user_id"),
            ("has space", vec![], "invalid_user_id"),
            ("no-such-user", vec![], "unknown_user"),
            (acting.as_str(), vec!["no-such-user"], "unknown_user"),
        ] {
            let (status, body) = call(
                &world,
                Method::PUT,
                &inst("/identity"),
                Some(owner),
                identity(acting, &allowed),
            )
            .await;
            assert_eq!((status, code(&body)), (422, expected), "{acting:?}: {body}");
            assert!(message(&body).contains("nothing was changed"), "{body}");
        }
        let (_, body) = call(
            &world,
            Method::GET,
            &inst("/connection"),
            Some(member),
            None,
        )
        .await;
        assert_eq!(
            body["acting_user_id"],
            Value::Null,
            "nothing stored: {body}"
        );

        let (status, body) = call(
            &world,
            Method::PUT,
            &inst("/identity"),
            Some(owner),
            identity(
                acting.as_str(),
                &[other.as_str(), acting.as_str(), other.as_str()],
            ),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["acting_user_id"], acting.as_str(), "{body}");
        assert_eq!(body["allowed_acting_users"], json!([other]), "{body}");
        let (_, body) = call(
            &world,
            Method::GET,
            &inst("/connection"),
            Some(member),
            None,
        )
        .await;
        assert_eq!(body["acting_user_id"], acting.as_str(), "{body}");
        assert_eq!(body["allowed_acting_users"], json!([other]), "{body}");
        world.stop().await;
    })
    .await;
}

fn app_body(world: &World, secret: &str) -> Value {
    json!({
        "name": "Fulcrum (sandbox)",
        "client_id": "fulcrum-client",
        "client_secret": secret,
        "authorize_url": world.sandbox.authorize_url(),
        "token_url": world.sandbox.token_url(),
        "audience": format!("{}/", world.sandbox.api_url()),
    })
}

const CLIENT_SECRET: &str = "cs_5f1b0e9d2c7a4e18b3";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth_apps_are_the_operators_and_never_show_their_secret() {
    on_each_backend(|db| async move {
        let world = World::start(&db).await;
        let operator = token(&world, Role::PlatformOperator, None).await;
        let operator = operator.as_str();
        let owner = token(&world, Role::TenantSuperAdmin, Some(TENANT)).await;
        let owner = owner.as_str();
        let apps = "/admin/v1/lever-oauth-apps";
        let app = format!("{apps}/sandbox");
        let plugin_app = format!("/admin/v1/plugins/{PLUGIN}/lever-oauth-app");

        for (method, path, body) in [
            (
                Method::PUT,
                app.as_str(),
                Some(app_body(&world, CLIENT_SECRET)),
            ),
            (Method::GET, apps, None),
            (Method::DELETE, app.as_str(), None),
            (
                Method::PUT,
                plugin_app.as_str(),
                Some(json!({"app_id": null})),
            ),
        ] {
            let (status, body) = call(&world, method.clone(), path, Some(owner), body).await;
            assert_eq!(status, 403, "{method} {path}: {body}");
        }

        // Bad apps: refused, nothing stored.
        let mut no_secret = app_body(&world, "");
        no_secret["client_secret"] = json!("");
        let mut bad_url = app_body(&world, CLIENT_SECRET);
        bad_url["token_url"] = json!("ftp://lever.example/token");
        for (path, body, expected) in [
            (app.as_str(), no_secret, "invalid_oauth_app"),
            (app.as_str(), bad_url, "invalid_oauth_app"),
            (
                "/admin/v1/lever-oauth-apps/Not%20An%20Id",
                app_body(&world, CLIENT_SECRET),
                "invalid_input",
            ),
        ] {
            let (status, answer) =
                call(&world, Method::PUT, path, Some(operator), Some(body)).await;
            assert_eq!((status, code(&answer)), (422, expected), "{answer}");
        }
        let (status, body) = call(&world, Method::GET, apps, Some(operator), None).await;
        assert_eq!((status, body), (200, json!([])));

        let (status, body) = call(
            &world,
            Method::PUT,
            &app,
            Some(operator),
            Some(app_body(&world, CLIENT_SECRET)),
        )
        .await;
        assert_eq!(status, 201, "{body}");
        assert_eq!(body["client_id"], "fulcrum-client", "{body}");
        let (status, body) = call(
            &world,
            Method::PUT,
            &app,
            Some(operator),
            Some(app_body(&world, CLIENT_SECRET)),
        )
        .await;
        assert_eq!(status, 200, "replaced: {body}");
        let (status, body) = call(&world, Method::GET, apps, Some(operator), None).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body.as_array().unwrap().len(), 1, "{body}");

        // Assigning it to a plugin.
        for (path, app_id, expected, expected_code) in [
            (plugin_app.as_str(), json!("nope"), 422, "unknown_oauth_app"),
            (
                "/admin/v1/plugins/nope/lever-oauth-app",
                json!("sandbox"),
                404,
                "not_found",
            ),
        ] {
            let (status, body) = call(
                &world,
                Method::PUT,
                path,
                Some(operator),
                Some(json!({"app_id": app_id})),
            )
            .await;
            assert_eq!((status, code(&body)), (expected, expected_code), "{body}");
        }
        let (status, body) = call(
            &world,
            Method::PUT,
            &plugin_app,
            Some(operator),
            Some(json!({"app_id": "sandbox"})),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body, json!({"plugin_id": PLUGIN, "app_id": "sandbox"}));

        // This host has no public URL: OAuth cannot start.
        let (status, body) = call(
            &world,
            Method::POST,
            &inst("/connection/oauth"),
            Some(owner),
            None,
        )
        .await;
        assert_eq!((status, code(&body)), (409, "not_ready"), "{body}");
        assert!(message(&body).contains("--public-url"), "{body}");

        // In use: a 409 that says by whom.
        let (status, body) = call(&world, Method::DELETE, &app, Some(operator), None).await;
        assert_eq!((status, code(&body)), (409, "conflict"), "{body}");
        assert!(message(&body).contains(PLUGIN), "{body}");
        let (status, _) = call(
            &world,
            Method::PUT,
            &plugin_app,
            Some(operator),
            Some(json!({"app_id": null})),
        )
        .await;
        assert_eq!(status, 200);
        let (status, body) = call(&world, Method::DELETE, &app, Some(operator), None).await;
        assert_eq!(status, 204, "{body}");
        let (status, body) = call(&world, Method::DELETE, &app, Some(operator), None).await;
        assert_eq!((status, code(&body)), (404, "not_found"), "{body}");

        assert_never_answered(&world, &[CLIENT_SECRET]);
        world.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth_connect_starts_at_lever_with_pkce_once_an_app_is_assigned() {
    on_each_backend(|db| async move {
        let mut options = Options::new();
        options.host.public_url = Some("https://fulcrum.example/".parse().unwrap());
        let world = World::start_with(&db, options).await;
        let operator = token(&world, Role::PlatformOperator, None).await;
        let operator = operator.as_str();
        let owner = token(&world, Role::TenantSuperAdmin, Some(TENANT)).await;
        let owner = owner.as_str();
        let admin = token(&world, Role::TenantAdmin, Some(TENANT)).await;
        let admin = admin.as_str();
        let start = inst("/connection/oauth");

        let (status, body) = call(&world, Method::POST, &start, Some(owner), None).await;
        assert_eq!((status, code(&body)), (422, "no_oauth_app"), "{body}");

        let (status, body) = call(
            &world,
            Method::PUT,
            "/admin/v1/lever-oauth-apps/sandbox",
            Some(operator),
            Some(app_body(&world, CLIENT_SECRET)),
        )
        .await;
        assert_eq!(status, 201, "{body}");
        let (status, body) = call(
            &world,
            Method::PUT,
            &format!("/admin/v1/plugins/{PLUGIN}/lever-oauth-app"),
            Some(operator),
            Some(json!({"app_id": "sandbox"})),
        )
        .await;
        assert_eq!(status, 200, "{body}");

        for (who, t) in [("admin", admin), ("operator", operator)] {
            let (status, body) = call(&world, Method::POST, &start, Some(t), None).await;
            assert_eq!(status, 403, "{who}: {body}");
        }
        let (status, body) = call(&world, Method::POST, &start, Some(owner), None).await;
        assert_eq!(status, 200, "{body}");
        let url: url::Url = body["authorize_url"].as_str().unwrap().parse().unwrap();
        assert!(
            url.as_str().starts_with(&world.sandbox.authorize_url()),
            "{url}"
        );
        let query: std::collections::BTreeMap<String, String> =
            url.query_pairs().into_owned().collect();
        for name in [
            "code_challenge",
            "state",
            "audience",
            "client_id",
            "redirect_uri",
        ] {
            assert!(query.contains_key(name), "{name} missing from {url}");
        }
        assert_eq!(query["code_challenge_method"], "S256", "{url}");
        assert_eq!(query["audience"], format!("{}/", world.sandbox.api_url()));
        assert_eq!(
            query["redirect_uri"],
            "https://fulcrum.example/oauth/lever/callback"
        );
        assert!(
            query["scope"].split(' ').any(|s| s == "offline_access"),
            "{url}"
        );
        assert!(
            strings(&body["scopes"]).contains("offline_access"),
            "{body}"
        );
        assert!(body["expires_at"].as_i64().unwrap() > fulcrum_store::now_ms());

        // Nothing approved: the consent would ask for nothing.
        let (status, body) = call(
            &world,
            Method::PUT,
            &inst("/approved-permissions"),
            Some(owner),
            Some(json!({"permissions": []})),
        )
        .await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = call(&world, Method::POST, &start, Some(owner), None).await;
        assert_eq!((status, code(&body)), (409, "not_ready"), "{body}");

        assert_never_answered(&world, &[CLIENT_SECRET]);
        world.stop().await;
    })
    .await;
}
