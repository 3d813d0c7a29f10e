//! One tenant's plugin never sees another tenant's state, config, secrets or events, and one
//! tenant's people see, through the admin API, only their own tenant's.

use crate::admin::{call, token};
use fulcrum_service::installations;
use fulcrum_store::Role;
use fulcrum_store::test_support::on_each_backend;
use fulcrum_testkit::*;
use reqwest::Method;
use secrecy::SecretString;
use serde_json::{Value, json};
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenants_never_see_each_others_state_secrets_or_events() {
    on_each_backend(|db| async move {
        let world = World::start(&db).await;
        world.add_tenant("globex").await;
        installations::set_secret(
            &world.host,
            &harness(),
            "globex",
            PLUGIN,
            "api-token",
            &SecretString::from("globex-only-secret".to_owned()),
        )
        .await
        .unwrap();

        // acme's signature does not open globex's ingress: the plugin checks with globex's secret.
        let body = json!({"op": "append", "key": "shared-key", "value": "acme"});
        let (status, _) = world.post_event("globex", &body, None, None).await;
        assert_eq!(status, 401);

        // Same key, both tenants: each sees only its own value.
        let (status, acme_event) = world.post_event(TENANT, &body, None, None).await;
        assert_eq!(status, 202);
        let (status, globex_event) = world
            .post_vendor(
                "globex",
                PLUGIN,
                "/events",
                &[("x-fixture-signature", "globex-only-secret")],
                json!({"op": "append", "key": "shared-key", "value": "globex"})
                    .to_string()
                    .as_bytes(),
            )
            .await;
        assert_eq!(status, 202);
        world.settle(Duration::from_secs(30)).await;
        let id = |answer: &Value| -> i64 {
            answer["event_id"].as_str().unwrap()["evt-".len()..]
                .parse()
                .unwrap()
        };
        let events = [(TENANT, id(&acme_event)), ("globex", id(&globex_event))];

        // Through the admin API, as each tenant's people see it.
        for (tenant, own) in events {
            let (other, others) = events.into_iter().find(|(t, _)| *t != tenant).unwrap();
            let member = token(&world, Role::TenantMember, Some(tenant)).await;
            let super_admin = token(&world, Role::TenantSuperAdmin, Some(tenant)).await;
            let base = format!("/admin/v1/tenants/{tenant}");
            // Its events: its own only.
            let (status, list) = call(
                &world,
                Method::GET,
                &format!("{base}/events"),
                Some(member.as_str()),
                None,
            )
            .await;
            assert_eq!(status, 200, "{list}");
            let ids: Vec<i64> = list["events"]
                .as_array()
                .unwrap()
                .iter()
                .map(|e| e["id"].as_i64().unwrap())
                .collect();
            assert_eq!(ids, [own], "{tenant} lists only its own event");
            assert_eq!(list["counts"]["done"], 1, "{tenant}: {list}");
            // Another tenant's event is not found, under either tenant.
            for path in [
                format!("{base}/events/{others}"),
                format!("/admin/v1/tenants/{other}/events/{others}"),
                format!("/admin/v1/tenants/{other}/installations/{PLUGIN}/state"),
            ] {
                let (status, answer) =
                    call(&world, Method::GET, &path, Some(super_admin.as_str()), None).await;
                assert_eq!(status, 404, "{tenant} reads {path}: {answer}");
            }
            // Its plugin's state: its own value under the shared key.
            let (status, entry) = call(
                &world,
                Method::GET,
                &format!("{base}/installations/{PLUGIN}/state/entry?key=shared-key"),
                Some(super_admin.as_str()),
                None,
            )
            .await;
            assert_eq!(status, 200, "{entry}");
            let value = if tenant == TENANT { "acme" } else { "globex" };
            let list: Vec<String> = serde_json::from_str(entry["text"].as_str().unwrap()).unwrap();
            assert_eq!(list, [value], "{tenant}");
            // Its secrets: names only, never the other tenant's value.
            let (_, secrets) = call(
                &world,
                Method::GET,
                &format!("{base}/installations/{PLUGIN}/secrets"),
                Some(member.as_str()),
                None,
            )
            .await;
            assert_eq!(
                secrets,
                json!({"declared": ["api-token"], "set": ["api-token"]})
            );
        }
        world.stop().await;
    })
    .await;
}
