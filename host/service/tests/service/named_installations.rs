//! Several installations of one plugin per tenant (e.g. one per career site): each has its
//! own id (in its admin paths and ingress URL), name, config, secrets, Lever connection and
//! identity. The plugin's first installation keeps the plugin's id, so earlier paths and data
//! keep working.

use crate::admin::{call, code, token};
use fulcrum_service::{connections, installations};
use fulcrum_store::Role;
use fulcrum_store::test_support::on_each_backend;
use fulcrum_testkit::*;
use lever_sandbox::KeySpec;
use reqwest::Method;
use secrecy::SecretString;
use serde_json::json;
use std::time::{Duration, Instant};

const SITE_B: &str = "site-b";

fn owner_of(world: &World, email: &str) -> Option<String> {
    let found = world.opportunities_with_email(email);
    assert_eq!(found.len(), 1, "{email}: {found:?}");
    found[0].owner.as_ref().map(|o| o.id().to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_installations_of_one_plugin_run_on_their_own_connections() {
    on_each_backend(|db| async move {
        let world = World::start(&db).await;
        let (host, actor) = (&world.host, harness());
        let owner = token(&world, Role::TenantSuperAdmin, Some(TENANT)).await;

        // A second installation of the fixture, through the admin API.
        let path = format!("/admin/v1/tenants/{TENANT}/installations");
        let new = json!({"plugin": PLUGIN, "installation_id": SITE_B, "name": "Career site B"});
        let (status, body) =
            call(&world, Method::POST, &path, Some(&owner), Some(new.clone())).await;
        assert_eq!(status, 201, "{body}");
        assert_eq!(
            (
                body["plugin_id"].as_str(),
                body["plugin"].as_str(),
                body["name"].as_str()
            ),
            (Some(SITE_B), Some(PLUGIN), Some("Career site B"))
        );
        assert!(!body["requested_permissions"].as_array().unwrap().is_empty());
        let (status, _) = call(&world, Method::POST, &path, Some(&owner), Some(new)).await;
        assert_eq!(status, 200, "adding it again changes nothing");
        // The id is taken by the plugin's first installation, a bad id, a member: refused.
        let taken = json!({"plugin": "another-plugin", "installation_id": PLUGIN});
        let (status, body) = call(&world, Method::POST, &path, Some(&owner), Some(taken)).await;
        assert_eq!(status, 404, "unknown plugin first: {body}");
        let bad = json!({"plugin": PLUGIN, "installation_id": "Site B!"});
        let (status, body) = call(&world, Method::POST, &path, Some(&owner), Some(bad)).await;
        assert_eq!(
            (status, code(&body)),
            (422, "invalid_installation_id"),
            "{body}"
        );
        let member = token(&world, Role::TenantMember, Some(TENANT)).await;
        let other = json!({"plugin": PLUGIN, "installation_id": "site-c"});
        let (status, _) = call(&world, Method::POST, &path, Some(&member), Some(other)).await;
        assert_eq!(status, 403);

        // Set it up like the first: approved, its secret, config, enabled.
        installations::approve_requested(host, &actor, TENANT, SITE_B)
            .await
            .unwrap();
        installations::set_secret(
            host,
            &actor,
            TENANT,
            SITE_B,
            "api-token",
            &SecretString::from(VENDOR_SECRET.to_owned()),
        )
        .await
        .unwrap();
        installations::configure(host, &actor, TENANT, SITE_B, &json!({}))
            .await
            .unwrap();
        installations::enable(host, &actor, TENANT, SITE_B)
            .await
            .unwrap();

        // Each its own key and its own acting user.
        let users: Vec<String> = world.sandbox.read(|db| {
            db.users()
                .filter(|u| u.is_active() && u.access_role == "admin")
                .map(|u| u.id.clone())
                .collect()
        });
        let (user_a, user_b) = (world.sandbox.default_user_id(), users[0].clone());
        let key_b = world.sandbox.issue_api_key(KeySpec::all("site b"));
        for (installation, key, user) in [
            (
                PLUGIN,
                world.sandbox.issue_api_key(KeySpec::all("site a")),
                &user_a,
            ),
            (SITE_B, key_b.clone(), &user_b),
        ] {
            connections::connect_api_key(
                host,
                &actor,
                TENANT,
                installation,
                &SecretString::from(key),
                false,
            )
            .await
            .unwrap();
            connections::set_identity(host, &actor, TENANT, installation, user, &[])
                .await
                .unwrap();
        }

        let (status, body) = world
            .post_event_to(PLUGIN, TENANT, &create_event(1, false), None, None)
            .await;
        assert_eq!(status, 202, "{body}");
        let (status, body) = world
            .post_event_to(SITE_B, TENANT, &create_event(2, false), None, None)
            .await;
        assert_eq!(status, 202, "{body}");
        world.settle(Duration::from_secs(30)).await;
        assert_eq!(owner_of(&world, "candidate-1@example.com"), Some(user_a));
        assert_eq!(owner_of(&world, "candidate-2@example.com"), Some(user_b));

        // Site B's key is revoked in Lever: its events stop, site A's keep running.
        world.sandbox.revoke(&key_b);
        world
            .post_event_to(SITE_B, TENANT, &create_event(3, false), None, None)
            .await;
        world
            .post_event_to(PLUGIN, TENANT, &create_event(4, false), None, None)
            .await;
        let started = Instant::now();
        while world
            .opportunities_with_email("candidate-4@example.com")
            .is_empty()
        {
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "site A stopped too"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
        let events = world
            .store
            .list_events(&fulcrum_store::EventFilter {
                tenant_id: Some(TENANT.into()),
                plugin_id: Some(SITE_B.into()),
                ..Default::default()
            })
            .await
            .unwrap();
        let vendor: Vec<_> = events.iter().filter(|e| e.kind == "vendor").collect();
        assert_eq!(vendor.len(), 2, "site B's own events: {events:?}");
        assert!(
            vendor[1]
                .last_error
                .as_deref()
                .is_some_and(|e| e.contains("reconnect")),
            "{vendor:?}"
        );
        assert!(
            world
                .opportunities_with_email("candidate-3@example.com")
                .is_empty()
        );
        world.stop().await;
    })
    .await;
}
