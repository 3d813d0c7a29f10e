//! One tenant's plugin never sees another tenant's state, config, secrets or events.

use crate::world::*;
use fulcrum_store::EventFilter;
use fulcrum_store::test_support::on_each_backend;
use secrecy::SecretString;
use serde_json::json;
use std::time::Duration;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn tenants_never_see_each_others_state_secrets_or_events() {
    on_each_backend(|db| async move {
        let world = World::start(&db).await;
        world.add_tenant("globex").await;
        world
            .store
            .set_secret(
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
        let (status, _) = world.post_event(TENANT, &body, None, None).await;
        assert_eq!(status, 202);
        let response = world
            .http
            .post(world.url(&format!("/ingress/globex/{PLUGIN}/events")))
            .header("content-type", "application/json")
            .header("x-fixture-signature", "globex-only-secret")
            .body(json!({"op": "append", "key": "shared-key", "value": "globex"}).to_string())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 202);
        world.settle(Duration::from_secs(30)).await;
        for (tenant, value) in [(TENANT, "acme"), ("globex", "globex")] {
            let raw = world
                .store
                .state_get(tenant, PLUGIN, "shared-key")
                .await
                .unwrap()
                .unwrap();
            let list: Vec<String> = serde_json::from_slice(&raw).unwrap();
            assert_eq!(list, [value], "{tenant}");
        }
        for tenant in [TENANT, "globex"] {
            let events = world
                .store
                .list_events(&EventFilter {
                    tenant_id: Some(tenant.into()),
                    limit: 100,
                    ..EventFilter::default()
                })
                .await
                .unwrap();
            assert!(events.iter().all(|e| e.tenant_id == tenant));
            assert!(!events.is_empty());
        }
        world.stop().await;
    })
    .await;
}
