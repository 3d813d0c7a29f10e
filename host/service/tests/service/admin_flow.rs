//! The admin API end to end: an operator onboards a tenant and a new plugin version, the
//! tenant's super admin enables and approves, an admin configures and runs an admin action,
//! a member watches events; dead letters are replayed; support reads plugin state; tokens are
//! issued and revoked through the API.

use crate::admin::{OTHER, admin_audit_count, call, code, token};
use fulcrum_store::test_support::on_each_backend;
use fulcrum_store::{EventStatus, Role};
use fulcrum_testkit::*;
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admins_onboard_configure_and_operate_a_tenant_through_the_api() {
    on_each_backend(|db| async move {
        let world = World::start(&db).await;
        // The harness set up TENANT through the admin rules, which audit too.
        let audit_here = admin_audit_count(&world, TENANT).await;
        let operator = token(&world, Role::PlatformOperator, None).await;
        let operator = operator.as_str();
        let t = |rest: &str| format!("/admin/v1/tenants/{OTHER}{rest}");
        let inst = |rest: &str| t(&format!("/installations/{PLUGIN}{rest}"));

        // The operator creates the tenant and connects it to Lever; the key is never echoed.
        let (status, body) = call(&world, Method::POST, "/admin/v1/tenants", Some(operator),
            Some(json!({"id": OTHER, "name": "Globex"}))).await;
        assert_eq!(status, 201, "{body}");
        assert_eq!(body["lever"]["credential"], Value::Null);
        let (status, body) = call(&world, Method::PUT, &t("/lever-credential"), Some(operator),
            Some(json!({"api_key": world.api_key}))).await;
        assert_eq!(status, 204, "{body}");
        let (status, body) = call(&world, Method::PUT, &t("/lever-settings"), Some(operator),
            Some(json!({"base_url": world.sandbox.api_url(), "acting_user_id": world.sandbox.default_user_id()}))).await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = call(&world, Method::GET, &t(""), Some(operator), None).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["lever"]["credential"]["kind"], "api_key", "{body}");
        assert!(!body.to_string().contains(&world.api_key), "the key is never shown: {body}");

        // ... issues the tenant's first super admin token through the API.
        let (status, body) = call(&world, Method::POST, "/admin/v1/tokens", Some(operator),
            Some(json!({"role": "tenant-super-admin", "tenant": OTHER, "label": "Globex IT"}))).await;
        assert_eq!(status, 201, "{body}");
        let super_admin = body["token"].as_str().unwrap().to_owned();
        let super_admin = super_admin.as_str();
        assert!(super_admin.starts_with("fulcrum_"), "{body}");
        assert_eq!((body["role"].clone(), body["tenant"].clone()), (json!("tenant-super-admin"), json!(OTHER)));

        // The super admin issues its people's tokens.
        let mut tokens = Vec::new();
        for role in ["tenant-admin", "tenant-member"] {
            let (status, body) = call(&world, Method::POST, "/admin/v1/tokens", Some(super_admin),
                Some(json!({"role": role}))).await;
            assert_eq!(status, 201, "{body}");
            assert_eq!(body["tenant"], OTHER, "defaults to its own tenant");
            tokens.push(body["token"].as_str().unwrap().to_owned());
        }
        let (admin, member) = (tokens[0].as_str(), tokens[1].as_str());

        // Everyone reads the plugin's manifest and requested permissions.
        let (status, plugin) = call(&world, Method::GET, &format!("/admin/v1/plugins/{PLUGIN}"), Some(member), None).await;
        assert_eq!(status, 200, "{plugin}");
        let requested = plugin["manifest"]["requested_permissions"].as_array().unwrap().clone();
        assert!(requested.contains(&json!("create opportunity")), "{plugin}");
        assert_eq!(plugin["manifest"]["config_schema"]["type"], "object", "{plugin}");
        assert_eq!(plugin["manifest"]["secrets"], json!(["api-token"]));

        // The super admin adds the plugin (disabled, nothing approved) and approves.
        let (status, body) = call(&world, Method::PUT, &inst(""), Some(super_admin), None).await;
        assert_eq!(status, 201, "{body}");
        assert_eq!((body["enabled"].clone(), body["approved_permissions"].clone()), (json!(false), json!([])));
        assert_eq!(body["pending_permissions"].as_array().unwrap().len(), requested.len());
        let (status, _) = call(&world, Method::PUT, &inst(""), Some(super_admin), None).await;
        assert_eq!(status, 200, "adding again changes nothing");
        let (status, body) = call(&world, Method::PUT, &inst("/approved-permissions"), Some(super_admin),
            Some(json!({"permissions": requested}))).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body["pending_permissions"], json!([]), "{body}");

        // The admin sets the vendor secret (write-only), the config and schedule overrides.
        let (status, body) = call(&world, Method::PUT, &inst("/secrets/api-token"), Some(admin),
            Some(json!({"value": VENDOR_SECRET}))).await;
        assert_eq!(status, 204, "{body}");
        let (status, body) = call(&world, Method::GET, &inst("/secrets"), Some(member), None).await;
        assert_eq!((status, body), (200, json!({"declared": ["api-token"], "set": ["api-token"]})));
        let (status, body) = call(&world, Method::PUT, &inst("/config"), Some(admin),
            Some(json!({"greeting": "bonjour"}))).await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = call(&world, Method::PUT, &inst("/schedule-overrides"), Some(admin),
            Some(json!({"tick": {"enabled": false}}))).await;
        assert_eq!(status, 200, "{body}");
        let (status, body) = call(&world, Method::GET, &inst(""), Some(member), None).await;
        assert_eq!(status, 200, "{body}");
        assert!(!body.to_string().contains(VENDOR_SECRET), "secrets are never shown: {body}");
        assert_eq!(body["config"], json!({"greeting": "bonjour"}));
        assert!(world.store.list_schedules(OTHER).await.unwrap().is_empty(), "not enabled yet");
        // Set up, the super admin enables it (tick stays off: overridden before enabling).
        let (status, body) = call(&world, Method::POST, &inst("/enable"), Some(super_admin), None).await;
        assert_eq!((status, body["enabled"].clone()), (200, json!(true)), "{body}");
        assert!(world.store.list_schedules(OTHER).await.unwrap().is_empty(), "tick is off");

        // The admin runs the plugin's "create" action; it is queued and runs against Lever.
        let input = json!({"name": "Ada Admin", "email": "ada-admin@example.com"});
        let (status, queued) = call(&world, Method::POST, &inst("/actions/create"), Some(admin), Some(input.clone())).await;
        assert_eq!(status, 202, "{queued}");
        assert_eq!(queued["duplicate"], false);
        let action_event = queued["event_id"].as_i64().unwrap();
        // The same request again with an Idempotency-Key queues it once.
        let authorization = format!("Bearer {admin}");
        for _ in 0..2 {
            let (status, _) = world.admin_raw(Method::POST, &inst("/actions/stages"),
                &[("authorization", authorization.as_str()), ("idempotency-key", "stages-1"),
                  ("content-type", "application/json")], b"{}".to_vec()).await;
            assert_eq!(status, 202);
        }
        world.settle(Duration::from_secs(60)).await;
        assert_eq!(world.opportunities_with_email("ada-admin@example.com").len(), 1);

        // A member reads the events with their status.
        let (status, list) = call(&world, Method::GET, &t("/events?status=done"), Some(member), None).await;
        assert_eq!(status, 200, "{list}");
        let events = list["events"].as_array().unwrap();
        assert_eq!(events.len(), 2, "the action and one stages run: {list}");
        assert!(events.iter().all(|e| e["kind"] == "action" && e["plugin_id"] == PLUGIN));
        assert_eq!(list["counts"]["done"], 2);
        let (status, event) = call(&world, Method::GET, &t(&format!("/events/{action_event}")), Some(member), None).await;
        assert_eq!((status, event["status"].clone()), (200, json!("done")), "{event}");
        // What the action answered is kept with the event.
        let created = &world.opportunities_with_email("ada-admin@example.com")[0];
        assert_eq!(event["result"], json!({"opportunity_id": created.id}), "{event}");

        // A dead letter: the admin reads its error and replays it; a done event is not replayed.
        let (status, _) = world.post_event(OTHER, &json!({"op": "fail", "error": "invalid"}), None, None).await;
        assert_eq!(status, 202);
        world.settle(Duration::from_secs(60)).await;
        let (_, list) = call(&world, Method::GET, &t("/events?status=dead"), Some(admin), None).await;
        let dead = &list["events"][0];
        assert!(dead["last_error"].as_str().is_some_and(|e| !e.is_empty()), "{list}");
        let dead_id = dead["id"].as_i64().unwrap();
        let (status, body) = call(&world, Method::POST, &t(&format!("/events/{dead_id}/replay")), Some(admin), None).await;
        assert_eq!((status, body["id"].as_i64()), (202, Some(dead_id)), "{body}");
        world.settle(Duration::from_secs(60)).await;
        let replayed = world.store.get_event(dead_id).await.unwrap().unwrap();
        assert_eq!(replayed.status, EventStatus::Dead, "it fails the same way again");
        let (status, body) = call(&world, Method::POST, &t(&format!("/events/{action_event}/replay")), Some(admin), None).await;
        assert_eq!((status, code(&body)), (409, "not_dead"), "{body}");

        // Support reads the plugin's state for the tenant.
        let (status, _) = world.post_event(OTHER, &json!({"op": "append", "key": "seen", "value": 7}), None, None).await;
        assert_eq!(status, 202);
        world.settle(Duration::from_secs(60)).await;
        for who in [super_admin, operator] {
            let (status, keys) = call(&world, Method::GET, &inst("/state?prefix=se"), Some(who), None).await;
            assert_eq!((status, keys["keys"].clone()), (200, json!(["seen"])), "{keys}");
            let (status, entry) = call(&world, Method::GET, &inst("/state/entry?key=seen"), Some(who), None).await;
            assert_eq!(status, 200, "{entry}");
            assert_eq!(serde_json::from_str::<Value>(entry["text"].as_str().unwrap()).unwrap(), json!([7]));
        }

        // The operator ships a new version; everyone sees both, the newest active.
        let authorization = format!("Bearer {operator}");
        let (status, uploaded) = world.admin_raw(Method::POST, "/admin/v1/plugins",
            &[("authorization", authorization.as_str()), ("content-type", "application/wasm")],
            read(fulcrum_plugin_artifacts::WELL_BEHAVED_V2)).await;
        assert_eq!(status, 201, "{uploaded}");
        assert_eq!((uploaded["id"].clone(), uploaded["version"].clone()), (json!(PLUGIN), json!("0.2.0")));
        let (_, plugins) = call(&world, Method::GET, "/admin/v1/plugins", Some(member), None).await;
        let versions: Vec<_> = plugins[0]["versions"].as_array().unwrap().iter().map(|v| v["version"].clone()).collect();
        assert_eq!(versions, [json!("0.1.0"), json!("0.2.0")], "{plugins}");
        assert_eq!(plugins[0]["active_version"], "0.2.0");

        // The audit log shows who changed what (names only, never values).
        let (status, audit) = call(&world, Method::GET, &t("/audit"), Some(member), None).await;
        assert_eq!(status, 200, "{audit}");
        let operations: Vec<&str> = audit.as_array().unwrap().iter().filter_map(|a| a["operation"].as_str()).collect();
        for expected in ["admin: create tenant", "admin: set lever credential", "admin: issue token",
            "admin: add plugin", "admin: approve permissions", "admin: enable plugin", "admin: set secret",
            "admin: set config", "admin: run action", "admin: replay event"] {
            assert!(operations.contains(&expected), "{expected} in {operations:?}");
        }
        assert!(!audit.to_string().contains(VENDOR_SECRET) && !audit.to_string().contains(&world.api_key));
        assert_eq!(admin_audit_count(&world, TENANT).await, audit_here, "nothing landed in another tenant's log");

        // Tokens: the super admin sees its tenant's, revokes the member's; a token revokes itself.
        let (_, listed) = call(&world, Method::GET, "/admin/v1/tokens", Some(super_admin), None).await;
        let listed = listed.as_array().unwrap();
        assert_eq!(listed.len(), 3, "{listed:?}");
        let member_id = listed.iter().find(|t| t["role"] == "tenant-member").unwrap()["id"].as_i64().unwrap();
        let admin_id = listed.iter().find(|t| t["role"] == "tenant-admin").unwrap()["id"].as_i64().unwrap();
        let (status, _) = call(&world, Method::DELETE, &format!("/admin/v1/tokens/{member_id}"), Some(admin), None).await;
        assert_eq!(status, 403, "an admin revokes only itself");
        let (status, _) = call(&world, Method::DELETE, &format!("/admin/v1/tokens/{member_id}"), Some(super_admin), None).await;
        assert_eq!(status, 200);
        let (status, _) = call(&world, Method::GET, &t("/events"), Some(member), None).await;
        assert_eq!(status, 401);
        let (status, _) = call(&world, Method::DELETE, &format!("/admin/v1/tokens/{admin_id}"), Some(admin), None).await;
        assert_eq!(status, 200);
        let (status, _) = call(&world, Method::GET, &t("/events"), Some(admin), None).await;
        assert_eq!(status, 401);

        // Disabling stops the plugin's ingress for the tenant.
        let (status, _) = call(&world, Method::POST, &inst("/disable"), Some(super_admin), None).await;
        assert_eq!(status, 200);
        let (status, _) = world.post_event(OTHER, &create_event(99, false), None, None).await;
        // Refused like a bad signature (the ingress does not reveal disabled installations).
        assert_eq!(status, 401);
        world.stop().await;
    })
    .await;
}
