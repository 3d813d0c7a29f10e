//! The admin API: every route needs a token (401 without one, with a bad one, with a revoked
//! one), the OpenAPI document lists exactly the routes served, and every forbidden path of
//! every role is refused — with nothing changed.

use fulcrum_store::test_support::on_each_backend;
use fulcrum_store::{EventFilter, EventStatus, Role};
use fulcrum_testkit::*;
use reqwest::Method;
use serde_json::{Value, json};
use std::collections::BTreeSet;

/// A second tenant, set up like [`TENANT`].
pub const OTHER: &str = "globex";

/// Sends an admin request; `body` goes as JSON (recorded: [`World::stop`] checks the answer
/// against the OpenAPI document).
pub async fn call(
    world: &World,
    method: Method,
    path: &str,
    token: Option<&str>,
    body: Option<Value>,
) -> (u16, Value) {
    world.admin(method, path, token, body).await
}

/// Issues a token straight in the store (as `fulcrum token issue` does).
pub async fn token(world: &World, role: Role, tenant: Option<&str>) -> String {
    world.admin_token(role, tenant).await
}

pub fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

pub fn message(body: &Value) -> &str {
    body["error"]["message"].as_str().unwrap_or_default()
}

/// Everything the admin API can change, to compare before and after refused requests.
#[derive(Debug, PartialEq)]
pub struct Snapshot {
    tenants: Vec<String>,
    installations: Vec<String>,
    secrets: Vec<String>,
    pub tokens: usize,
    plugins: Vec<(String, String)>,
    loaded: Vec<String>,
    events: i64,
    lever: Vec<String>,
}

pub async fn snapshot(world: &World) -> Snapshot {
    let store = &world.store;
    let tenants: Vec<String> = store
        .list_tenants()
        .await
        .unwrap()
        .into_iter()
        .map(|t| t.id)
        .collect();
    let mut installations = Vec::new();
    let mut secrets = Vec::new();
    let mut lever = Vec::new();
    for tenant in &tenants {
        for i in store.list_installations(tenant).await.unwrap() {
            installations.push(format!(
                "{tenant}/{} enabled={} approved={} config={} overrides={}",
                i.plugin_id, i.enabled, i.approved_permissions, i.config, i.schedule_overrides
            ));
            secrets.extend(
                store
                    .secret_names(tenant, &i.plugin_id)
                    .await
                    .unwrap()
                    .into_iter()
                    .map(|n| format!("{tenant}/{}/{n}", i.plugin_id)),
            );
        }
        let settings = store.get_lever_settings(tenant).await.unwrap();
        let credential = store.get_lever_credential(tenant).await.unwrap();
        lever.push(format!(
            "{tenant} {settings:?} {:?}",
            credential.map(|c| c.updated_at)
        ));
    }
    let counts = store.count_events(None).await.unwrap();
    Snapshot {
        tenants,
        installations,
        secrets,
        tokens: store.list_api_tokens(None).await.unwrap().len(),
        plugins: store
            .list_plugins()
            .await
            .unwrap()
            .into_iter()
            .map(|p| (p.id, p.version))
            .collect(),
        loaded: world.host.runtime().plugin_ids(),
        events: counts.queued + counts.running + counts.done + counts.dead,
        lever,
    }
}

/// Admin audit entries ("admin: ...") of a tenant.
pub async fn admin_audit_count(world: &World, tenant: &str) -> usize {
    world
        .store
        .audit_list(tenant, 1000)
        .await
        .unwrap()
        .iter()
        .filter(|a| a.operation.starts_with("admin: "))
        .count()
}

/// A concrete path for a documented template.
fn concrete(template: &str) -> String {
    template
        .replace("{tenant}", TENANT)
        .replace("{plugin}", PLUGIN)
        .replace("{event}", "1")
        .replace("{id}", "1")
        .replace("{name}", "api-token")
        .replace("{action}", "create")
}

fn collect_refs(value: &Value, refs: &mut Vec<String>) {
    match value {
        Value::Object(map) => {
            for (key, v) in map {
                match (key.as_str(), v) {
                    ("$ref", Value::String(r)) => refs.push(r.clone()),
                    _ => collect_refs(v, refs),
                }
            }
        }
        Value::Array(items) => items.iter().for_each(|v| collect_refs(v, refs)),
        _ => {}
    }
}

fn method_of(name: &str) -> Method {
    name.to_ascii_uppercase().parse().unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_admin_route_is_documented_and_needs_a_token() {
    on_each_backend(|db| async move {
        let world = World::start(&db).await;
        let before = snapshot(&world).await;

        // The document is served without a token.
        let (status, doc) = call(&world, Method::GET, "/admin/v1/openapi.json", None, None).await;
        assert_eq!(status, 200, "{doc}");
        assert!(doc["openapi"].as_str().unwrap().starts_with("3."), "{doc}");
        let paths = doc["paths"].as_object().unwrap();
        // Every schema the document refers to is in it.
        let mut refs = Vec::new();
        collect_refs(&doc, &mut refs);
        assert!(refs.len() > 20, "{refs:?}");
        for reference in refs {
            let name = reference
                .strip_prefix("#/components/schemas/")
                .unwrap_or_else(|| panic!("{reference}"));
            assert!(
                doc["components"]["schemas"][name].is_object(),
                "{reference} is missing"
            );
        }

        // The router serves exactly the documented paths (axum lists its routes in `Debug`).
        let router = format!("{:?}", fulcrum_service::app(world.host.clone()));
        let served: BTreeSet<String> = router
            .split('"')
            .filter(|s| s.starts_with("/admin/"))
            .map(str::to_owned)
            .collect();
        let documented: BTreeSet<String> = paths.keys().cloned().collect();
        assert!(served.len() >= 20, "routes not found in {router}");
        assert_eq!(served, documented);

        let all_methods = ["get", "put", "post", "delete", "patch"];
        let mut operations = 0;
        for (template, item) in paths {
            let path = concrete(template);
            for method in all_methods {
                let documented = item.get(method).is_some();
                let (status, body) = call(
                    &world,
                    method_of(method),
                    &path,
                    None,
                    matches!(method, "put" | "post").then(|| json!({})),
                )
                .await;
                if template == "/admin/v1/openapi.json" {
                    assert_eq!(
                        status,
                        if documented { 200 } else { 405 },
                        "{method} {path}"
                    );
                    continue;
                }
                if documented {
                    // Served, and refused without a token.
                    operations += 1;
                    assert_eq!(status, 401, "{method} {path}: {body}");
                    assert_eq!(code(&body), "unauthorized");
                    assert!(message(&body).contains("Bearer"), "{body}");
                    let security = &item[method]["security"];
                    assert_eq!(security, &json!([{"bearer": []}]), "{method} {template}");
                } else {
                    // Not a route: a JSON 405, never a silent success.
                    assert_eq!(status, 405, "{method} {path}: {body}");
                    assert_eq!(code(&body), "method_not_allowed");
                }
            }
        }
        assert!(operations >= 25, "{operations} operations documented");

        // A bad token, a malformed header and a revoked token are refused the same way.
        let path = format!("/admin/v1/tenants/{TENANT}/installations");
        for header in [
            "Bearer fulcrum_not-a-real-token",
            "Bearer ",
            "Basic dXNlcjpwdw==",
            "fulcrum_x",
        ] {
            let (status, headers, body) = world
                .admin_full(Method::GET, &path, &[("authorization", header)], Vec::new())
                .await;
            assert_eq!(status, 401, "{header}");
            let challenge = headers.get("www-authenticate").unwrap();
            assert!(
                challenge.to_str().unwrap().starts_with("Bearer"),
                "{header}"
            );
            assert_eq!(code(&body), "unauthorized", "{header}: {body}");
        }
        let member = token(&world, Role::TenantMember, Some(TENANT)).await;
        let (status, body) = call(&world, Method::GET, &path, Some(member.as_str()), None).await;
        assert_eq!(status, 200, "{body}");
        let member_id = world.store.list_api_tokens(Some(TENANT)).await.unwrap()[0].id;
        let operator = token(&world, Role::PlatformOperator, None).await;
        let (status, body) = call(
            &world,
            Method::DELETE,
            &format!("/admin/v1/tokens/{member_id}"),
            Some(operator.as_str()),
            None,
        )
        .await;
        assert_eq!(status, 200, "{body}");
        assert!(body["revoked_at"].is_i64(), "{body}");
        let (status, body) = call(&world, Method::GET, &path, Some(member.as_str()), None).await;
        assert_eq!(status, 401, "{body}");
        assert!(message(&body).contains("revoked"), "{body}");

        // Nothing but the two tokens changed.
        let mut after = snapshot(&world).await;
        assert_eq!(after.tokens, before.tokens + 2);
        after.tokens = before.tokens;
        assert_eq!(after, before);
        world.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_role_is_refused_what_it_may_not_do_and_nothing_changes() {
    on_each_backend(|db| async move {
        let world = World::start(&db).await;
        world.add_tenant(OTHER).await;
        let operator = token(&world, Role::PlatformOperator, None).await;
        let super_admin = token(&world, Role::TenantSuperAdmin, Some(TENANT)).await;
        let admin = token(&world, Role::TenantAdmin, Some(TENANT)).await;
        let member = token(&world, Role::TenantMember, Some(TENANT)).await;
        let other_super_admin = token(&world, Role::TenantSuperAdmin, Some(OTHER)).await;
        let other_member_id = world.store.list_api_tokens(Some(OTHER)).await.unwrap()[0].id;
        let (operator, super_admin, admin, member, other_super_admin) = (
            operator.as_str(),
            super_admin.as_str(),
            admin.as_str(),
            member.as_str(),
            other_super_admin.as_str(),
        );
        // A dead letter of each tenant, so replays have something to refuse.
        for tenant in [TENANT, OTHER] {
            let (status, body) = world
                .post_event(
                    tenant,
                    &json!({"op": "fail", "error": "invalid"}),
                    None,
                    None,
                )
                .await;
            assert_eq!(status, 202, "{body}");
        }
        world.settle(std::time::Duration::from_secs(30)).await;
        let dead = |tenant: &'static str| {
            let store = world.store.clone();
            async move {
                store
                    .list_events(&EventFilter {
                        tenant_id: Some(tenant.into()),
                        ..Default::default()
                    })
                    .await
                    .unwrap()[0]
                    .id
            }
        };
        let (dead_here, dead_there) = (dead(TENANT).await, dead(OTHER).await);
        let before = snapshot(&world).await;
        let audit_before = (
            admin_audit_count(&world, TENANT).await,
            admin_audit_count(&world, OTHER).await,
        );

        let inst = |tenant: &str, rest: &str| {
            format!("/admin/v1/tenants/{tenant}/installations/{PLUGIN}{rest}")
        };
        let approve = json!({"permissions": ["list stages"]});
        let config = json!({"greeting": "hi"});
        let secret = json!({"value": "new-secret"});
        let new_token = json!({"role": "tenant-member", "tenant": TENANT});
        // (what, token, method, path, body, expected status)
        type Case<'a> = (&'a str, &'a str, Method, String, Option<Value>, u16);
        let refused: Vec<Case<'_>> = vec![
            // A member reads, and does nothing else.
            (
                "member enables",
                member,
                Method::POST,
                inst(TENANT, "/enable"),
                None,
                403,
            ),
            (
                "member disables",
                member,
                Method::POST,
                inst(TENANT, "/disable"),
                None,
                403,
            ),
            (
                "member approves",
                member,
                Method::PUT,
                inst(TENANT, "/approved-permissions"),
                Some(approve.clone()),
                403,
            ),
            (
                "member sets config",
                member,
                Method::PUT,
                inst(TENANT, "/config"),
                Some(config.clone()),
                403,
            ),
            (
                "member sets a secret",
                member,
                Method::PUT,
                inst(TENANT, "/secrets/api-token"),
                Some(secret.clone()),
                403,
            ),
            (
                "member overrides schedules",
                member,
                Method::PUT,
                inst(TENANT, "/schedule-overrides"),
                Some(json!({})),
                403,
            ),
            (
                "member replays",
                member,
                Method::POST,
                format!("/admin/v1/tenants/{TENANT}/events/{dead_here}/replay"),
                None,
                403,
            ),
            (
                "member reads state",
                member,
                Method::GET,
                inst(TENANT, "/state"),
                None,
                403,
            ),
            (
                "member issues a token",
                member,
                Method::POST,
                "/admin/v1/tokens".into(),
                Some(new_token.clone()),
                403,
            ),
            (
                "member lists tokens",
                member,
                Method::GET,
                "/admin/v1/tokens".into(),
                None,
                403,
            ),
            // An admin configures, but neither enables nor approves.
            (
                "admin enables",
                admin,
                Method::POST,
                inst(TENANT, "/enable"),
                None,
                403,
            ),
            (
                "admin disables",
                admin,
                Method::POST,
                inst(TENANT, "/disable"),
                None,
                403,
            ),
            (
                "admin approves",
                admin,
                Method::PUT,
                inst(TENANT, "/approved-permissions"),
                Some(approve.clone()),
                403,
            ),
            (
                "admin adds a plugin",
                admin,
                Method::PUT,
                inst(TENANT, ""),
                None,
                403,
            ),
            (
                "admin reads state",
                admin,
                Method::GET,
                inst(TENANT, "/state"),
                None,
                403,
            ),
            (
                "admin issues a token",
                admin,
                Method::POST,
                "/admin/v1/tokens".into(),
                Some(new_token.clone()),
                403,
            ),
            (
                "admin sets the Lever key",
                admin,
                Method::PUT,
                format!("/admin/v1/tenants/{TENANT}/lever-credential"),
                Some(json!({"api_key": "k"})),
                403,
            ),
            // Operator-only routes with tenant tokens.
            (
                "super admin creates a tenant",
                super_admin,
                Method::POST,
                "/admin/v1/tenants".into(),
                Some(json!({"id": "initech", "name": "Initech"})),
                403,
            ),
            (
                "super admin lists tenants",
                super_admin,
                Method::GET,
                "/admin/v1/tenants".into(),
                None,
                403,
            ),
            (
                "super admin uploads a plugin",
                super_admin,
                Method::POST,
                "/admin/v1/plugins".into(),
                None,
                403,
            ),
            (
                "super admin sets Lever settings",
                super_admin,
                Method::PUT,
                format!("/admin/v1/tenants/{TENANT}/lever-settings"),
                Some(json!({"base_url": "https://evil.example/v1"})),
                403,
            ),
            (
                "super admin issues an operator token",
                super_admin,
                Method::POST,
                "/admin/v1/tokens".into(),
                Some(json!({"role": "platform-operator"})),
                403,
            ),
            (
                "member creates a tenant",
                member,
                Method::POST,
                "/admin/v1/tenants".into(),
                Some(json!({"id": "initech", "name": "Initech"})),
                403,
            ),
            // Tenant decisions are the tenant's own: not even the operator makes them.
            (
                "operator enables",
                operator,
                Method::POST,
                inst(TENANT, "/enable"),
                None,
                403,
            ),
            (
                "operator approves",
                operator,
                Method::PUT,
                inst(TENANT, "/approved-permissions"),
                Some(approve.clone()),
                403,
            ),
            (
                "operator sets config",
                operator,
                Method::PUT,
                inst(TENANT, "/config"),
                Some(config.clone()),
                403,
            ),
            (
                "operator adds a plugin",
                operator,
                Method::PUT,
                inst(TENANT, ""),
                None,
                403,
            ),
            (
                "operator sets a secret",
                operator,
                Method::PUT,
                inst(TENANT, "/secrets/api-token"),
                Some(secret.clone()),
                403,
            ),
            (
                "operator overrides schedules",
                operator,
                Method::PUT,
                inst(TENANT, "/schedule-overrides"),
                Some(json!({})),
                403,
            ),
            (
                "operator replays",
                operator,
                Method::POST,
                format!("/admin/v1/tenants/{TENANT}/events/{dead_here}/replay"),
                None,
                403,
            ),
            (
                "operator runs an action",
                operator,
                Method::POST,
                inst(TENANT, "/actions/stages"),
                Some(json!({})),
                403,
            ),
            (
                "member reads a state value",
                member,
                Method::GET,
                inst(TENANT, "/state/entry?key=k"),
                None,
                403,
            ),
            // Tenant A's super admin on tenant B: as if B did not exist.
            (
                "A adds a plugin to B",
                super_admin,
                Method::PUT,
                inst(OTHER, ""),
                None,
                404,
            ),
            (
                "A reads B's installation",
                super_admin,
                Method::GET,
                inst(OTHER, ""),
                None,
                404,
            ),
            (
                "A reads B's secret names",
                super_admin,
                Method::GET,
                inst(OTHER, "/secrets"),
                None,
                404,
            ),
            (
                "A overrides B's schedules",
                super_admin,
                Method::PUT,
                inst(OTHER, "/schedule-overrides"),
                Some(json!({})),
                404,
            ),
            (
                "A reads B's event",
                super_admin,
                Method::GET,
                format!("/admin/v1/tenants/{OTHER}/events/{dead_there}"),
                None,
                404,
            ),
            (
                "A reads B's event as its own",
                super_admin,
                Method::GET,
                format!("/admin/v1/tenants/{TENANT}/events/{dead_there}"),
                None,
                404,
            ),
            (
                "A reads B's state value",
                super_admin,
                Method::GET,
                inst(OTHER, "/state/entry?key=k"),
                None,
                404,
            ),
            (
                "A on B's tenant",
                super_admin,
                Method::GET,
                format!("/admin/v1/tenants/{OTHER}"),
                None,
                404,
            ),
            (
                "A enables B's plugin",
                super_admin,
                Method::POST,
                inst(OTHER, "/enable"),
                None,
                404,
            ),
            (
                "A disables B's plugin",
                super_admin,
                Method::POST,
                inst(OTHER, "/disable"),
                None,
                404,
            ),
            (
                "A approves for B",
                super_admin,
                Method::PUT,
                inst(OTHER, "/approved-permissions"),
                Some(approve.clone()),
                404,
            ),
            (
                "A sets B's config",
                super_admin,
                Method::PUT,
                inst(OTHER, "/config"),
                Some(config.clone()),
                404,
            ),
            (
                "A sets B's secret",
                super_admin,
                Method::PUT,
                inst(OTHER, "/secrets/api-token"),
                Some(secret.clone()),
                404,
            ),
            (
                "A reads B's installations",
                super_admin,
                Method::GET,
                format!("/admin/v1/tenants/{OTHER}/installations"),
                None,
                404,
            ),
            (
                "A reads B's events",
                super_admin,
                Method::GET,
                format!("/admin/v1/tenants/{OTHER}/events"),
                None,
                404,
            ),
            (
                "A replays B's event",
                super_admin,
                Method::POST,
                format!("/admin/v1/tenants/{OTHER}/events/{dead_there}/replay"),
                None,
                404,
            ),
            (
                "A replays B's event as its own",
                super_admin,
                Method::POST,
                format!("/admin/v1/tenants/{TENANT}/events/{dead_there}/replay"),
                None,
                404,
            ),
            (
                "A runs B's action",
                super_admin,
                Method::POST,
                inst(OTHER, "/actions/stages"),
                Some(json!({})),
                404,
            ),
            (
                "A reads B's audit log",
                super_admin,
                Method::GET,
                format!("/admin/v1/tenants/{OTHER}/audit"),
                None,
                404,
            ),
            (
                "A reads B's state",
                super_admin,
                Method::GET,
                inst(OTHER, "/state"),
                None,
                404,
            ),
            (
                "A sets B's Lever key",
                super_admin,
                Method::PUT,
                format!("/admin/v1/tenants/{OTHER}/lever-credential"),
                Some(json!({"api_key": "k"})),
                404,
            ),
            (
                "A issues a token of B",
                super_admin,
                Method::POST,
                "/admin/v1/tokens".into(),
                Some(json!({"role": "tenant-super-admin", "tenant": OTHER})),
                404,
            ),
            (
                "A lists B's tokens",
                super_admin,
                Method::GET,
                format!("/admin/v1/tokens?tenant={OTHER}"),
                None,
                404,
            ),
            (
                "A revokes B's token",
                super_admin,
                Method::DELETE,
                format!("/admin/v1/tokens/{other_member_id}"),
                None,
                404,
            ),
            (
                "B's super admin on A",
                other_super_admin,
                Method::GET,
                format!("/admin/v1/tenants/{TENANT}/installations"),
                None,
                404,
            ),
        ];
        let (status, unknown) = call(
            &world,
            Method::GET,
            "/admin/v1/tenants/nobody",
            Some(super_admin),
            None,
        )
        .await;
        assert_eq!(status, 404);
        for (what, token, method, path, body, expected) in refused {
            let (status, body) = call(&world, method, &path, Some(token), body).await;
            assert_eq!(status, expected, "{what}: {body}");
            match expected {
                403 => assert_eq!(code(&body), "forbidden", "{what}: {body}"),
                _ => {
                    assert_eq!(code(&body), "not_found", "{what}: {body}");
                    // Another tenant looks exactly like no tenant at all.
                    if path.starts_with(&format!("/admin/v1/tenants/{OTHER}")) {
                        assert_eq!(
                            message(&body),
                            message(&unknown).replace("nobody", OTHER),
                            "{what}"
                        );
                    }
                }
            }
            assert!(!message(&body).is_empty(), "{what}: says what to do next");
        }
        assert_eq!(snapshot(&world).await, before);
        assert_eq!(
            (
                admin_audit_count(&world, TENANT).await,
                admin_audit_count(&world, OTHER).await
            ),
            audit_before
        );
        let events = world
            .store
            .list_events(&EventFilter::default())
            .await
            .unwrap();
        assert!(
            events.iter().all(|e| e.status == EventStatus::Dead),
            "no dead letter was replayed: {events:?}"
        );

        // What each role may do, it can.
        let allowed: Vec<(&str, &str, Method, String)> = vec![
            (
                "member reads the tenant",
                member,
                Method::GET,
                format!("/admin/v1/tenants/{TENANT}"),
            ),
            (
                "member reads installations",
                member,
                Method::GET,
                inst(TENANT, ""),
            ),
            (
                "member reads secrets' names",
                member,
                Method::GET,
                inst(TENANT, "/secrets"),
            ),
            (
                "member reads events",
                member,
                Method::GET,
                format!("/admin/v1/tenants/{TENANT}/events"),
            ),
            (
                "member reads the audit log",
                member,
                Method::GET,
                format!("/admin/v1/tenants/{TENANT}/audit"),
            ),
            (
                "member reads plugins",
                member,
                Method::GET,
                format!("/admin/v1/plugins/{PLUGIN}"),
            ),
            (
                "super admin reads state",
                super_admin,
                Method::GET,
                inst(TENANT, "/state"),
            ),
            (
                "super admin lists its tokens",
                super_admin,
                Method::GET,
                "/admin/v1/tokens".into(),
            ),
            (
                "operator reads B's events",
                operator,
                Method::GET,
                format!("/admin/v1/tenants/{OTHER}/events"),
            ),
            (
                "operator reads B's state",
                operator,
                Method::GET,
                inst(OTHER, "/state"),
            ),
            (
                "operator lists tenants",
                operator,
                Method::GET,
                "/admin/v1/tenants".into(),
            ),
        ];
        for (what, token, method, path) in allowed {
            let (status, body) = call(&world, method, &path, Some(token), None).await;
            assert_eq!(status, 200, "{what}: {body}");
        }
        let (_, tokens) = call(
            &world,
            Method::GET,
            "/admin/v1/tokens",
            Some(super_admin),
            None,
        )
        .await;
        let tenants: BTreeSet<_> = tokens
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["tenant"].as_str().unwrap_or("-"))
            .collect();
        assert_eq!(
            tenants,
            BTreeSet::from([TENANT]),
            "only its own tenant's tokens"
        );
        assert!(
            !tokens.to_string().contains("fulcrum_"),
            "listings never show a token: {tokens}"
        );

        // Roles that may change things, change them. Members trigger admin actions.
        let (status, body) = call(
            &world,
            Method::POST,
            &inst(TENANT, "/actions/stages"),
            Some(member),
            Some(json!({})),
        )
        .await;
        assert_eq!(status, 202, "{body}");
        let (status, body) = call(
            &world,
            Method::POST,
            &inst(TENANT, "/disable"),
            Some(super_admin),
            None,
        )
        .await;
        assert_eq!(
            (status, body["enabled"].clone()),
            (200, json!(false)),
            "{body}"
        );
        let (status, body) = call(
            &world,
            Method::PUT,
            &inst(TENANT, "/config"),
            Some(admin),
            Some(config.clone()),
        )
        .await;
        assert_eq!((status, body["config"].clone()), (200, config), "{body}");
        let (status, body) = call(
            &world,
            Method::POST,
            &format!("/admin/v1/tenants/{TENANT}/events/{dead_here}/replay"),
            Some(admin),
            None,
        )
        .await;
        assert_eq!(status, 202, "{body}");
        let installation = world
            .store
            .get_installation(TENANT, PLUGIN)
            .await
            .unwrap()
            .unwrap();
        assert!(!installation.enabled);
        assert_eq!(admin_audit_count(&world, TENANT).await, audit_before.0 + 4);
        let untouched = world
            .store
            .get_installation(OTHER, PLUGIN)
            .await
            .unwrap()
            .unwrap();
        assert!(untouched.enabled && untouched.config == json!({}));

        world.stop().await;
    })
    .await;
}
