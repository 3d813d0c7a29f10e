//! Lifecycle hooks (contract 0.2.0): connecting Lever, enabling, disabling, saving a config
//! and removing an installation queue a durable event for its plugin when the manifest asks
//! for that kind, run by the pipeline like any other event (`well-behaved-hooks` asks for
//! every kind and records each in state `lifecycle:<kind>`, its detail in
//! `lifecycle-detail:<kind>`). A plugin that did not ask (`well-behaved`, every 0.1.0
//! component) gets nothing stored. Removal runs the `removing` hook before the installation's
//! data goes.

use crate::admin::{call, token};
use fulcrum_service::installations;
use fulcrum_store::test_support::on_each_backend;
use fulcrum_store::{EventStatus, Role};
use fulcrum_testkit::*;
use reqwest::Method;
use serde_json::{Value, json};
use std::time::Duration;

const SETTLE: Duration = Duration::from_secs(30);
const LIFECYCLE: &str = "lifecycle";
/// The fixture build that asks for every lifecycle hook.
const HOOKS: &str = "well-behaved-hooks";

/// `well-behaved-hooks` installed and enabled for the test tenant (which queues its
/// `enabled` hook).
async fn with_hooks(world: &World) {
    let plugin = world
        .install_connector(fulcrum_plugin_artifacts::WELL_BEHAVED_HOOKS)
        .await;
    assert_eq!(plugin, HOOKS);
    world.enable_plugin(TENANT, HOOKS).await;
}

async fn detail(world: &World, kind: &str) -> Value {
    let text = world
        .state_text(TENANT, HOOKS, &format!("lifecycle-detail:{kind}"))
        .await
        .unwrap_or_else(|| panic!("the {kind} hook did not run"));
    serde_json::from_str(&text).unwrap()
}

/// The installation runs the fixture as built for contract 0.1.0 (no hooks, no queries)
/// instead: swapped in the runtime only, so the store's records stay as they are.
pub(crate) async fn run_contract_0_1_0(world: &World) {
    let runtime = world.host.runtime();
    runtime.remove(PLUGIN);
    let old = runtime
        .install(read(fulcrum_plugin_artifacts::WELL_BEHAVED_V0_1_0))
        .await
        .expect("the 0.1.0 build installs");
    assert_eq!(old.contract().as_str(), "0.1.0");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn each_trigger_runs_the_hook_the_plugin_asked_for() {
    on_each_backend(|db| async move {
        // OAuth needs the host's public URL for Lever's callback.
        let mut options = Options::new();
        options.public_url_is_self = true;
        let world = World::start_with(&db, options).await;
        let (host, actor) = (&world.host, harness());
        with_hooks(&world).await;
        world.settle(SETTLE).await;
        let first = world
            .state_text(TENANT, HOOKS, "lifecycle:enabled")
            .await
            .expect("the enabled hook ran");
        assert!(first.starts_with("evt-"), "{first}");
        assert_eq!(detail(&world, "enabled").await, json!({}));

        // Disabled: the hook still reaches the plugin.
        installations::disable(host, &actor, TENANT, HOOKS)
            .await
            .unwrap();
        world.settle(SETTLE).await;
        assert_eq!(detail(&world, "disabled").await, json!({}));

        // A new config: the hook gets the previous one; saving the same again queues nothing.
        let config = json!({"greeting": "hi"});
        installations::configure(host, &actor, TENANT, HOOKS, &config)
            .await
            .unwrap();
        installations::configure(host, &actor, TENANT, HOOKS, &config)
            .await
            .unwrap();
        world.settle(SETTLE).await;
        assert_eq!(
            detail(&world, "config-changed").await,
            json!({"previous": {}})
        );

        // Lever connected with a key of its own (after the probe).
        world.connect_own_key(TENANT, HOOKS).await;
        world.settle(SETTLE).await;
        assert_eq!(
            detail(&world, "connected").await,
            json!({"method": "api-key"})
        );

        // Enabled again: a new event, so a new id.
        installations::enable(host, &actor, TENANT, HOOKS)
            .await
            .unwrap();
        world.settle(SETTLE).await;
        let second = world
            .state_text(TENANT, HOOKS, "lifecycle:enabled")
            .await
            .unwrap();
        assert_ne!(first, second);

        // Connected again, by OAuth consent this time.
        world.connect_oauth(TENANT, HOOKS).await;
        world.settle(SETTLE).await;
        assert_eq!(
            detail(&world, "connected").await,
            json!({"method": "oauth"})
        );

        let hooks = world.events_of_kind(LIFECYCLE).await;
        let kinds: Vec<&str> = hooks
            .iter()
            .map(|e| e.payload["kind"].as_str().unwrap())
            .collect();
        assert_eq!(
            kinds,
            [
                "enabled",
                "disabled",
                "config-changed",
                "connected",
                "enabled",
                "connected"
            ]
        );
        assert!(
            hooks
                .iter()
                .all(|e| e.status == EventStatus::Done && e.plugin_id == HOOKS),
            "{hooks:?}"
        );
        world.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_that_did_not_ask_gets_no_hook_stored() {
    on_each_backend(|db| async move {
        let world = World::start(&db).await;
        let (host, actor) = (&world.host, harness());
        world.settle(SETTLE).await;

        installations::disable(host, &actor, TENANT, PLUGIN)
            .await
            .unwrap();
        installations::configure(host, &actor, TENANT, PLUGIN, &json!({"greeting": "hi"}))
            .await
            .unwrap();
        world.connect_own_key(TENANT, PLUGIN).await;
        installations::enable(host, &actor, TENANT, PLUGIN)
            .await
            .unwrap();
        world.settle(SETTLE).await;
        assert_eq!(world.events_of_kind(LIFECYCLE).await.len(), 0);
        world.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn removal_runs_the_removing_hook_before_the_data_goes() {
    on_each_backend(|db| async move {
        let world = World::start(&db).await;
        with_hooks(&world).await;
        world.settle(SETTLE).await;
        let owner = token(&world, Role::TenantSuperAdmin, Some(TENANT)).await;
        let member = token(&world, Role::TenantMember, Some(TENANT)).await;
        let path = format!("/admin/v1/tenants/{TENANT}/installations/{HOOKS}");

        let (status, _) = call(&world, Method::DELETE, &path, Some(&member), None).await;
        assert_eq!(status, 403, "a member may not remove");

        let (status, body) = call(&world, Method::DELETE, &path, Some(&owner), None).await;
        assert_eq!(status, 202, "{body}");
        assert_eq!(body["status"], "removing");
        let hook = body["hook_event_id"].as_i64().unwrap();
        // Disabled at once: the vendor is refused while the hook waits.
        let (status, _) = world
            .post_event_to(HOOKS, TENANT, &create_event(1, false), None, None)
            .await;
        assert_eq!(status, 401);

        world.settle(SETTLE).await;
        let event = world.store.get_event(hook).await.unwrap().unwrap();
        assert_eq!(event.status, EventStatus::Done, "{event:?}");
        assert_eq!(event.payload["kind"], "removing");
        assert!(
            world
                .store
                .get_installation(TENANT, HOOKS)
                .await
                .unwrap()
                .is_none()
        );
        assert_eq!(
            world.state_text(TENANT, HOOKS, "lifecycle:removing").await,
            None
        );
        // Only the hook's event is kept, as the record of its outcome.
        let left: Vec<i64> = world
            .store
            .list_events(&fulcrum_store::EventFilter {
                tenant_id: Some(TENANT.into()),
                plugin_id: Some(HOOKS.into()),
                ..Default::default()
            })
            .await
            .unwrap()
            .iter()
            .map(|e| e.id)
            .collect();
        assert_eq!(left, [hook]);
        let audit = world.store.audit_list(TENANT, 50).await.unwrap();
        assert!(
            audit
                .iter()
                .filter(|a| a.operation == "admin: remove installation")
                .count()
                >= 2,
            "marked, then removed: {audit:?}"
        );

        let (status, _) = call(&world, Method::DELETE, &path, Some(&owner), None).await;
        assert_eq!(status, 404, "gone");
        world.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_installation_whose_plugin_did_not_ask_goes_at_once() {
    on_each_backend(|db| async move {
        let world = World::start(&db).await;
        world.settle(SETTLE).await;
        let owner = token(&world, Role::TenantSuperAdmin, Some(TENANT)).await;
        let path = format!("/admin/v1/tenants/{TENANT}/installations/{PLUGIN}");
        let (status, body) = call(&world, Method::DELETE, &path, Some(&owner), None).await;
        assert_eq!(status, 200, "{body}");
        assert_eq!(body, json!({"status": "removed", "hook_event_id": null}));
        assert!(
            world
                .store
                .get_installation(TENANT, PLUGIN)
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            world
                .events_of_kind(LIFECYCLE)
                .await
                .iter()
                .all(|e| e.payload["kind"] != "removing")
        );
        world.stop().await;
    })
    .await;
}
