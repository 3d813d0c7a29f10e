//! Lever webhooks the host manages per installation, against the sandbox's Webhooks API:
//! enabling an installation with its own connection creates them, Lever's deliveries reach
//! that installation only (never twice through the tenant's route too), the check recreates
//! one deleted in Lever, disabling and disconnecting delete them, a delivery signed for
//! another installation is refused, and a key without the webhook permissions gets a report
//! naming what to approve.

use fulcrum_service::connections;
use fulcrum_store::test_support::on_each_backend;
use fulcrum_testkit::*;
use lever_client::{ClientConfig, Credential, LeverClient};
use lever_model::{Permission, WebhookEventType};
use lever_sandbox::KeySpec;
use secrecy::SecretString;
use serde_json::Value;
use std::time::Duration;

const STAGE_CHANGE: &str = "candidateStageChange";
const WAIT: Duration = Duration::from_secs(30);

async fn world(db: &fulcrum_store::test_support::TestDatabase) -> World {
    let options = Options {
        public_url_is_self: true,
        ..Options::new()
    };
    World::start_with(db, options).await
}

fn installation_path(tenant: &str, installation: &str) -> String {
    format!("/webhooks/lever/{tenant}/{installation}")
}

/// Connects the installation with a new sandbox key of `spec`.
async fn connect(world: &World, tenant: &str, spec: KeySpec) {
    let key = SecretString::from(world.sandbox.issue_api_key(spec));
    connections::connect_api_key(&world.host, &harness(), tenant, PLUGIN, &key, false)
        .await
        .expect("the key is stored");
}

/// The sandbox's webhooks at `url`: (id, event).
fn lever_webhooks_at(world: &World, url: &str) -> Vec<(String, String)> {
    world.sandbox.read(|db| {
        db.webhooks()
            .filter(|w| w.url == url)
            .map(|w| (w.id.clone(), w.event.clone()))
            .collect()
    })
}

async fn post_json(world: &World, path: &str, body: &impl serde::Serialize) -> (u16, Value) {
    let response = world
        .http
        .post(world.url(path))
        .header("content-type", "application/json")
        .body(serde_json::to_vec(body).unwrap())
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_installation_gets_its_own_webhooks_and_only_its_events() {
    on_each_backend(|db| async move {
        let world = world(&db).await;
        let url = world.url(&installation_path(TENANT, PLUGIN));
        let (host, store) = (&world.host, &world.store);
        fulcrum_service::installations::disable(host, &harness(), TENANT, PLUGIN)
            .await
            .unwrap();
        connect(&world, TENANT, KeySpec::all("installation key")).await;
        assert!(lever_webhooks_at(&world, &url).is_empty(), "disabled: none");

        // Enabling creates one webhook per subscribed event, recorded with its token.
        fulcrum_service::installations::enable(host, &harness(), TENANT, PLUGIN)
            .await
            .unwrap();
        let in_lever = lever_webhooks_at(&world, &url);
        assert_eq!(in_lever.len(), 1, "{in_lever:?}");
        assert_eq!(in_lever[0].1, STAGE_CHANGE);
        let recorded = store.managed_webhooks(TENANT, PLUGIN).await.unwrap();
        assert_eq!(recorded.len(), 1);
        assert_eq!(
            (
                recorded[0].lever_webhook_id.as_str(),
                recorded[0].url.as_str()
            ),
            (in_lever[0].0.as_str(), url.as_str())
        );

        // A hand-registered tenant webhook for the same event: the installation still gets
        // Lever's stage change once, through its own route.
        let (manual_id, _) = world
            .subscribe_lever_webhook(TENANT, WebhookEventType::CandidateStageChange)
            .await;
        let opportunity = world.change_some_stage().await;
        for webhook_id in [&in_lever[0].0, &manual_id] {
            let records = world.lever_deliveries_to(webhook_id, WAIT).await;
            assert_eq!(records.len(), 1, "{records:?}");
            assert!(records[0].delivered, "{records:?}");
        }
        let managed = world.lever_deliveries_to(&in_lever[0].0, WAIT).await;
        assert_eq!(managed[0].last_status, Some(202), "{managed:?}");
        let manual = world.lever_deliveries_to(&manual_id, WAIT).await;
        assert_eq!(manual[0].last_status, Some(200), "ignored: {manual:?}");
        world.settle(WAIT).await;
        let events = world.events_of_kind("lever").await;
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0].plugin_id, PLUGIN);
        assert_eq!(events[0].status, fulcrum_store::EventStatus::Done);
        assert_eq!(events[0].payload["data"]["opportunityId"], opportunity);

        // Deleted in Lever: the check creates it again with a new token.
        let lever = LeverClient::new(
            ClientConfig::new(&world.sandbox.api_url()).unwrap(),
            Credential::api_key(&world.api_key),
        )
        .unwrap();
        lever.delete_webhook(&in_lever[0].0).await.unwrap();
        let old_tokens = store.managed_webhook_tokens(TENANT, PLUGIN).await.unwrap();
        let checked = host.check_lever_webhooks().await.unwrap();
        assert_eq!(checked.len(), 1, "{checked:?}");
        let report = &checked[0].report;
        assert_eq!(report.created, [STAGE_CHANGE], "{report:?}");
        assert!(report.errors.is_empty(), "{report:?}");
        let recreated = lever_webhooks_at(&world, &url);
        assert_eq!(recreated.len(), 1);
        assert_ne!(recreated[0].0, in_lever[0].0);
        let new_tokens = store.managed_webhook_tokens(TENANT, PLUGIN).await.unwrap();
        use secrecy::ExposeSecret as _;
        assert_ne!(old_tokens[0].expose_secret(), new_tokens[0].expose_secret());
        // In place now: kept and marked checked.
        let checked = host.check_lever_webhooks().await.unwrap();
        assert_eq!(checked[0].report.kept, [STAGE_CHANGE], "{checked:?}");
        let recorded = store.managed_webhooks(TENANT, PLUGIN).await.unwrap();
        assert!(recorded[0].checked_at.is_some(), "{recorded:?}");

        // Disabling deletes it in Lever and in the store; the manual one stays.
        fulcrum_service::installations::disable(host, &harness(), TENANT, PLUGIN)
            .await
            .unwrap();
        assert!(lever_webhooks_at(&world, &url).is_empty());
        assert!(
            store
                .managed_webhooks(TENANT, PLUGIN)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(
            lever_webhooks_at(&world, &world.url(&lever_webhook_path(TENANT))).len(),
            1
        );
        world.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_delivery_signed_for_another_installation_is_refused() {
    on_each_backend(|db| async move {
        let world = world(&db).await;
        world.add_tenant("globex").await;
        connect(&world, TENANT, KeySpec::all("acme key")).await;
        connect(&world, "globex", KeySpec::all("globex key")).await;
        let acme_token = world
            .store
            .managed_webhook_tokens(TENANT, PLUGIN)
            .await
            .unwrap();
        assert_eq!(acme_token.len(), 1);
        use secrecy::ExposeSecret as _;
        let delivery =
            signed_lever_delivery(acme_token[0].expose_secret(), STAGE_CHANGE, None, "opp-1");

        // Another installation's route, an unknown installation, an unknown tenant, and the
        // tenant's route (managed tokens are not the tenant's): the same 401, nothing stored.
        let mut answers = Vec::new();
        for path in [
            installation_path("globex", PLUGIN),
            installation_path(TENANT, "not-installed"),
            installation_path("nobody", PLUGIN),
        ] {
            let (status, answer) = post_json(&world, &path, &delivery).await;
            assert_eq!(status, 401, "{path}: {answer}");
            answers.push(answer);
        }
        assert!(answers.windows(2).all(|w| w[0] == w[1]), "{answers:?}");
        let (status, answer) = post_json(&world, &lever_webhook_path(TENANT), &delivery).await;
        assert_eq!(status, 401, "{answer}");
        assert!(world.events_of_kind("lever").await.is_empty());

        // Its own route takes it, once.
        let path = installation_path(TENANT, PLUGIN);
        let (status, answer) = post_json(&world, &path, &delivery).await;
        assert_eq!(status, 202, "{answer}");
        assert_eq!(answer["duplicate"], false, "{answer}");
        let (status, answer) = post_json(&world, &path, &delivery).await;
        assert_eq!((status, &answer["duplicate"]), (202, &Value::Bool(true)));
        world.settle(WAIT).await;
        let events = world.events_of_kind("lever").await;
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(
            (events[0].tenant_id.as_str(), events[0].plugin_id.as_str()),
            (TENANT, PLUGIN)
        );

        // Disconnecting deletes the installation's webhooks in Lever first, then forgets them.
        let globex_url = world.url(&installation_path("globex", PLUGIN));
        assert_eq!(lever_webhooks_at(&world, &globex_url).len(), 1);
        connections::disconnect(&world.host, &harness(), "globex", PLUGIN)
            .await
            .unwrap();
        assert!(lever_webhooks_at(&world, &globex_url).is_empty());
        let left = world
            .store
            .managed_webhooks("globex", PLUGIN)
            .await
            .unwrap();
        assert!(left.is_empty(), "{left:?}");
        world.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_key_without_webhook_permissions_gets_a_report_naming_them() {
    on_each_backend(|db| async move {
        let world = world(&db).await;
        let webhook_permissions = [
            Permission::ListWebhooks,
            Permission::CreateWebhook,
            Permission::UpdateWebhook,
            Permission::DeleteWebhook,
        ];
        let others = Permission::ALL
            .iter()
            .copied()
            .filter(|p| !webhook_permissions.contains(p));
        // Connecting works (the sync after it only logs).
        connect(&world, TENANT, KeySpec::only("no webhooks", others)).await;

        let report = world
            .host
            .sync_lever_webhooks(TENANT, PLUGIN)
            .await
            .unwrap();
        assert!(report.created.is_empty(), "{report:?}");
        let create = report
            .errors
            .iter()
            .find(|e| e.action == "create")
            .unwrap_or_else(|| panic!("{report:?}"));
        assert_eq!(create.event.as_deref(), Some(STAGE_CHANGE));
        assert_eq!(create.code, "forbidden");
        assert_eq!(create.missing_permission.as_deref(), Some("create webhook"));
        assert_eq!(
            create.missing_scope.as_deref(),
            Some("webhooks:write:admin")
        );
        assert!(create.message.contains("Super Admin"), "{}", create.message);
        let list = report.errors.iter().find(|e| e.action == "list").unwrap();
        assert_eq!(list.missing_permission.as_deref(), Some("list webhooks"));
        let url = world.url(&installation_path(TENANT, PLUGIN));
        assert!(lever_webhooks_at(&world, &url).is_empty());
        assert!(
            world
                .store
                .managed_webhooks(TENANT, PLUGIN)
                .await
                .unwrap()
                .is_empty()
        );

        // Asking for an installation that does not exist is an error, not a report.
        let error = world
            .host
            .sync_lever_webhooks(TENANT, "not-installed")
            .await
            .unwrap_err();
        assert!(
            matches!(error, fulcrum_service::DomainError::NotFound(_)),
            "{error}"
        );
        world.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn strays_are_deleted_and_a_lost_connections_webhooks_are_forgotten() {
    on_each_backend(|db| async move {
        let world = world(&db).await;
        let (host, store) = (&world.host, &world.store);
        let url = world.url(&installation_path(TENANT, PLUGIN));
        connect(&world, TENANT, KeySpec::all("installation key")).await;
        let managed = lever_webhooks_at(&world, &url);
        assert_eq!(managed.len(), 1, "{managed:?}");

        // A webhook at the installation's URL the host did not record (a create whose answer
        // was lost) is deleted; the recorded one stays.
        world
            .sandbox
            .register_webhook(WebhookEventType::CandidateStageChange, &url);
        let report = host.sync_lever_webhooks(TENANT, PLUGIN).await.unwrap();
        assert_eq!(
            (report.kept.as_slice(), report.strays_deleted),
            ([STAGE_CHANGE.to_owned()].as_slice(), 1),
            "{report:?}"
        );
        assert_eq!(lever_webhooks_at(&world, &url), managed);

        // The connection vanished without the disconnect hook: the check deletes the webhook
        // with the tenant's default key and forgets it.
        store.delete_lever_connection(TENANT, PLUGIN).await.unwrap();
        let checked = host.check_lever_webhooks().await.unwrap();
        assert_eq!(checked.len(), 1, "{checked:?}");
        assert_eq!(checked[0].report.deleted, [STAGE_CHANGE], "{checked:?}");
        assert!(lever_webhooks_at(&world, &url).is_empty());
        assert!(
            store
                .managed_webhooks(TENANT, PLUGIN)
                .await
                .unwrap()
                .is_empty()
        );

        // Again, and now no key can delete it in Lever: forgotten anyway, and reported with
        // what to do by hand.
        connect(&world, TENANT, KeySpec::all("second key")).await;
        let managed = lever_webhooks_at(&world, &url);
        assert_eq!(managed.len(), 1);
        store.delete_lever_connection(TENANT, PLUGIN).await.unwrap();
        world.sandbox.revoke(&world.api_key);
        let report = host.sync_lever_webhooks(TENANT, PLUGIN).await.unwrap();
        let not_deleted = report
            .errors
            .iter()
            .find(|e| e.code == "not_deleted_in_lever")
            .unwrap_or_else(|| panic!("{report:?}"));
        assert!(
            not_deleted.message.contains(&managed[0].0)
                && not_deleted.message.contains("delete it in Lever"),
            "{}",
            not_deleted.message
        );
        assert!(
            store
                .managed_webhooks(TENANT, PLUGIN)
                .await
                .unwrap()
                .is_empty()
        );
        assert_eq!(lever_webhooks_at(&world, &url), managed);
        world.stop().await;
    })
    .await;
}
