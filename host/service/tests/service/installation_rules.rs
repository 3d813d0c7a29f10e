//! The installation rules (`fulcrum_service::installations`) called directly: approved ⊆
//! requested, the config checked by the schema then by the plugin, declared secrets only,
//! schedules following enable / overrides / disable, check calls seeing the installation's
//! secrets — and every refusal typed, with nothing stored.

use crate::admin::snapshot;
use crate::tenant_rules::{admin_changes, all_admin_changes, invalid_code};
use fulcrum_runtime::{Call, CallOutput};
use fulcrum_service::event_payload::StoredVendorRequest;
use fulcrum_service::{DomainError, Missing, ProblemSource, installations, tenants};
use fulcrum_store::test_support::on_each_backend;
use fulcrum_testkit::*;
use lever_model::Permission;
use secrecy::SecretString;
use serde_json::{Value, json};

const NEW_TENANT: &str = "initech";

/// A tenant without installations, set up by the harness.
async fn new_tenant(world: &World) {
    tenants::create(world.host.store(), &harness(), NEW_TENANT, "Initech")
        .await
        .unwrap();
}

fn secret(value: &str) -> SecretString {
    SecretString::from(value.to_owned())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn only_requested_permissions_are_approved_and_a_refusal_approves_nothing() {
    on_each_backend(|db| async move {
        let world = World::start(&db).await;
        new_tenant(&world).await;
        let (host, actor) = (&world.host, harness());

        let added = installations::add(host, &actor, NEW_TENANT, PLUGIN)
            .await
            .unwrap();
        assert!(added.created);
        assert!(!added.installation.enabled);
        assert_eq!(added.installation.approved_permissions, json!([]));
        let again = installations::add(host, &actor, NEW_TENANT, PLUGIN)
            .await
            .unwrap();
        assert!(!again.created, "adding again changes nothing");
        assert_eq!(
            admin_changes(&world, NEW_TENANT).await.len(),
            2,
            "create tenant, add plugin"
        );

        let before = snapshot(&world).await;
        let changes_before = all_admin_changes(&world).await;
        let refused = installations::approve(
            host,
            &actor,
            NEW_TENANT,
            PLUGIN,
            &["read everything", "list stages", "create posting"],
        )
        .await;
        let Err(DomainError::Invalid {
            code,
            message,
            problems,
        }) = refused
        else {
            panic!("approving what was not requested: {refused:?}");
        };
        assert_eq!(code, "invalid_permissions");
        assert!(
            message.contains("requests: ") && message.contains("create opportunity"),
            "{message}"
        );
        let pointers: Vec<_> = problems.iter().map(|p| p.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            ["/permissions/0", "/permissions/2"],
            "{problems:?}"
        );
        assert!(
            problems[0].message.contains("not a Lever permission"),
            "{problems:?}"
        );
        assert!(
            problems[1].message.contains("not requested"),
            "{problems:?}"
        );
        assert!(problems.iter().all(|p| p.source == ProblemSource::Host));
        assert_eq!(snapshot(&world).await, before, "nothing was approved");
        assert_eq!(all_admin_changes(&world).await, changes_before);

        let approved = installations::approve(
            host,
            &actor,
            NEW_TENANT,
            PLUGIN,
            &["create opportunity", "list stages", "create opportunity"],
        )
        .await
        .unwrap();
        // Each once, in the permission table's order.
        assert_eq!(
            approved.approved_permissions,
            json!(["list stages", "create opportunity"])
        );
        let last = admin_changes(&world, NEW_TENANT).await.pop().unwrap();
        assert_eq!(last.operation, "admin: approve permissions");
        assert_eq!(last.plugin_id.as_deref(), Some(PLUGIN));
        assert_eq!(
            last.detail.as_deref(),
            Some("approved: list stages, create opportunity; by test harness")
        );

        // What is missing is named, and nothing is stored.
        let before = snapshot(&world).await;
        let missing = [
            installations::add(host, &actor, NEW_TENANT, "nothing")
                .await
                .map(drop),
            installations::add(host, &actor, "nobody", PLUGIN)
                .await
                .map(drop),
            installations::approve(host, &actor, "nobody", PLUGIN, &["list stages"])
                .await
                .map(drop),
            installations::enable(host, &actor, NEW_TENANT, "nothing")
                .await
                .map(drop),
            installations::configure(host, &actor, "nobody", PLUGIN, &json!({}))
                .await
                .map(drop),
        ];
        let expected = [
            Missing::Plugin("nothing".into()),
            Missing::Tenant("nobody".into()),
            Missing::Tenant("nobody".into()),
            Missing::Installation {
                tenant: NEW_TENANT.into(),
                plugin: "nothing".into(),
            },
            Missing::Tenant("nobody".into()),
        ];
        for (result, expected) in missing.into_iter().zip(expected) {
            match result {
                Err(DomainError::NotFound(what)) => assert_eq!(what, expected),
                other => panic!("{expected:?}: {other:?}"),
            }
        }
        assert_eq!(snapshot(&world).await, before);
        world.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_config_passes_the_plugins_schema_then_its_own_check_before_it_is_stored() {
    on_each_backend(|db| async move {
        let world = World::start(&db).await;
        let relode = world
            .install_connector(fulcrum_plugin_artifacts::RELODE)
            .await;
        new_tenant(&world).await;
        let (host, actor) = (&world.host, harness());
        installations::add(host, &actor, NEW_TENANT, &relode)
            .await
            .unwrap();
        let before = snapshot(&world).await;
        let changes_before = all_admin_changes(&world).await;

        // Fails the schema (no career page; and a blank name the plugin would also refuse):
        // only the schema's problems, the plugin is not asked.
        let config = json!({"owner": {"name": "   ", "email": "owner@acme.example"}});
        let Err(DomainError::Invalid {
            code,
            message,
            problems,
        }) = installations::configure(host, &actor, NEW_TENANT, &relode, &config).await
        else {
            panic!("a config failing the schema was accepted");
        };
        assert_eq!(code, "invalid_config");
        assert!(
            message.contains("schema") && message.contains("nothing was stored"),
            "{message}"
        );
        assert!(
            !problems.is_empty() && problems.iter().all(|p| p.source == ProblemSource::Schema),
            "{problems:?}"
        );

        // Meets the schema, but the plugin's own check refuses the blank owner name.
        let config = json!({
            "owner": {"name": "   ", "email": "owner@acme.example"},
            "career_page_url": "https://careers.acme.example/jobs",
        });
        let Err(DomainError::Invalid {
            code,
            message,
            problems,
        }) = installations::configure(host, &actor, NEW_TENANT, &relode, &config).await
        else {
            panic!("a config the plugin refuses was accepted");
        };
        assert_eq!(code, "invalid_config");
        assert!(message.contains("the plugin refused"), "{message}");
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert_eq!(
            (problems[0].pointer.as_str(), problems[0].source),
            ("/owner/name", ProblemSource::Plugin)
        );

        assert_eq!(snapshot(&world).await, before, "no config was stored");
        assert_eq!(all_admin_changes(&world).await, changes_before);

        // A good one is stored (on a disabled installation: admins configure before enabling).
        let config = json!({
            "owner": {"name": "Olive Owner", "email": "owner@acme.example"},
            "career_page_url": "https://careers.acme.example/jobs",
        });
        let stored = installations::configure(host, &actor, NEW_TENANT, &relode, &config)
            .await
            .unwrap();
        assert_eq!(stored.config, config);
        assert!(!stored.enabled);
        let last = admin_changes(&world, NEW_TENANT).await.pop().unwrap();
        assert_eq!(
            (last.operation.as_str(), last.plugin_id.as_deref()),
            ("admin: set config", Some(relode.as_str()))
        );
        world.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn secrets_must_be_declared_and_1_to_8192_bytes() {
    on_each_backend(|db| async move {
        let world = World::start(&db).await;
        new_tenant(&world).await;
        let (host, actor) = (&world.host, harness());
        installations::add(host, &actor, NEW_TENANT, PLUGIN)
            .await
            .unwrap();
        let before = snapshot(&world).await;
        let changes_before = all_admin_changes(&world).await;

        let undeclared =
            installations::set_secret(host, &actor, NEW_TENANT, PLUGIN, "password", &secret("x"))
                .await;
        assert_eq!(invalid_code(undeclared), "unknown_secret");
        for value in [String::new(), "s".repeat(8193)] {
            let refused = installations::set_secret(
                host,
                &actor,
                NEW_TENANT,
                PLUGIN,
                "api-token",
                &secret(&value),
            )
            .await;
            assert_eq!(invalid_code(refused), "invalid_secret");
        }
        assert_eq!(snapshot(&world).await, before);
        assert_eq!(all_admin_changes(&world).await, changes_before);

        let value = "s".repeat(8192);
        installations::set_secret(
            host,
            &actor,
            NEW_TENANT,
            PLUGIN,
            "api-token",
            &secret(&value),
        )
        .await
        .unwrap();
        assert_eq!(
            world.store.secret_names(NEW_TENANT, PLUGIN).await.unwrap(),
            ["api-token"]
        );
        let last = admin_changes(&world, NEW_TENANT).await.pop().unwrap();
        assert_eq!(last.operation, "admin: set secret");
        assert!(
            !format!("{last:?}").contains(&value),
            "values are never logged"
        );
        world.stop().await;
    })
    .await;
}

/// The installation's schedules as (name, period in ms).
async fn schedules(world: &World) -> Vec<(String, i64)> {
    world
        .store
        .list_schedules(NEW_TENANT)
        .await
        .unwrap()
        .into_iter()
        .map(|s| (s.name, s.every_ms))
        .collect()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn schedules_follow_enable_overrides_and_disable_at_once() {
    on_each_backend(|db| async move {
        // No scheduler running: a schedule due at once would add events between snapshots.
        let options = Options {
            start_workers: false,
            ..Options::new()
        };
        let world = World::start_with(&db, options).await;
        new_tenant(&world).await;
        let (host, actor) = (&world.host, harness());
        installations::add(host, &actor, NEW_TENANT, PLUGIN)
            .await
            .unwrap();
        assert!(
            schedules(&world).await.is_empty(),
            "a disabled installation has none"
        );

        // Enabling needs the plugin's secret set.
        installations::set_secret(
            host,
            &actor,
            NEW_TENANT,
            PLUGIN,
            "api-token",
            &secret("schedules-s3cret"),
        )
        .await
        .unwrap();
        installations::enable(host, &actor, NEW_TENANT, PLUGIN)
            .await
            .unwrap();
        assert_eq!(schedules(&world).await, [("tick".to_owned(), 900_000)]);
        installations::set_schedule_overrides(
            host,
            &actor,
            NEW_TENANT,
            PLUGIN,
            &json!({"tick": {"every_seconds": 60}}),
        )
        .await
        .unwrap();
        assert_eq!(schedules(&world).await, [("tick".to_owned(), 60_000)]);

        let before = snapshot(&world).await;
        let changes_before = all_admin_changes(&world).await;
        for bad in [
            json!({"nightly": {"enabled": false}}),
            json!({"tick": {"every_seconds": 0}}),
            json!({"tick": {"when": "often"}}),
            json!(["tick"]),
        ] {
            let refused =
                installations::set_schedule_overrides(host, &actor, NEW_TENANT, PLUGIN, &bad).await;
            let Err(DomainError::Invalid {
                code,
                message,
                problems,
            }) = refused
            else {
                panic!("{bad} was accepted");
            };
            assert_eq!(code, "invalid_schedule_overrides");
            assert!(
                message.contains("tick") && !problems.is_empty(),
                "{message} {problems:?}"
            );
        }
        assert_eq!(snapshot(&world).await, before);
        assert_eq!(all_admin_changes(&world).await, changes_before);
        assert_eq!(schedules(&world).await, [("tick".to_owned(), 60_000)]);

        installations::set_schedule_overrides(
            host,
            &actor,
            NEW_TENANT,
            PLUGIN,
            &json!({"tick": {"enabled": false}}),
        )
        .await
        .unwrap();
        assert!(schedules(&world).await.is_empty(), "switched off");
        installations::set_schedule_overrides(host, &actor, NEW_TENANT, PLUGIN, &json!({}))
            .await
            .unwrap();
        assert_eq!(schedules(&world).await, [("tick".to_owned(), 900_000)]);
        installations::disable(host, &actor, NEW_TENANT, PLUGIN)
            .await
            .unwrap();
        assert!(schedules(&world).await.is_empty(), "disabled");

        let operations: Vec<_> = admin_changes(&world, NEW_TENANT)
            .await
            .into_iter()
            .map(|a| a.operation)
            .collect();
        assert_eq!(
            operations,
            [
                "admin: create tenant",
                "admin: add plugin",
                "admin: set secret",
                "admin: enable plugin",
                "admin: set schedule overrides",
                "admin: set schedule overrides",
                "admin: set schedule overrides",
                "admin: disable plugin",
            ]
        );
        world.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_installation_is_enabled_only_once_its_secrets_and_config_let_it_run() {
    on_each_backend(|db| async move {
        let world = World::start(&db).await;
        // Relode: two secrets, and a config schema that `{}` (what `add` stores) does not meet.
        let relode = world
            .install_connector(fulcrum_plugin_artifacts::RELODE)
            .await;
        new_tenant(&world).await;
        let (host, actor) = (&world.host, harness());
        installations::add(host, &actor, NEW_TENANT, &relode)
            .await
            .unwrap();
        installations::approve_requested(host, &actor, NEW_TENANT, &relode)
            .await
            .unwrap();

        let before = snapshot(&world).await;
        let changes_before = all_admin_changes(&world).await;
        let refused = installations::enable(host, &actor, NEW_TENANT, &relode).await;
        let Err(DomainError::NotReady { message, problems }) = refused else {
            panic!("enabled without secrets or config: {:?}", refused.map(drop));
        };
        assert!(message.contains("nothing was changed"), "{message}");
        let pointers: Vec<&str> = problems.iter().map(|p| p.pointer.as_str()).collect();
        assert_eq!(
            &pointers[..2],
            ["/secrets/api-token", "/secrets/webhook-secret"],
            "{problems:?}"
        );
        assert!(
            problems[2..]
                .iter()
                .any(|p| p.pointer.starts_with("/config") && p.message.contains("owner")),
            "the config's missing owner is named: {problems:?}"
        );
        assert_eq!(snapshot(&world).await, before, "nothing changed");
        assert_eq!(all_admin_changes(&world).await, changes_before);

        // With one secret still missing, that one alone is named.
        installations::set_secret(host, &actor, NEW_TENANT, &relode, "api-token", &secret("t"))
            .await
            .unwrap();
        let owner = world.sandbox.read(|db| {
            let user = db.users().find(|u| u.is_active()).unwrap();
            json!({"name": user.name.clone(), "email": user.email.clone()})
        });
        let config = json!({"owner": owner, "career_page_url": "https://careers.initech.example"});
        installations::configure(host, &actor, NEW_TENANT, &relode, &config)
            .await
            .unwrap();
        match installations::enable(host, &actor, NEW_TENANT, &relode).await {
            Err(DomainError::NotReady { problems, .. }) => {
                let pointers: Vec<&str> = problems.iter().map(|p| p.pointer.as_str()).collect();
                assert_eq!(pointers, ["/secrets/webhook-secret"]);
            }
            other => panic!("{:?}", other.map(drop)),
        }

        // Ready: enabled. Disabling needs nothing.
        installations::set_secret(
            host,
            &actor,
            NEW_TENANT,
            &relode,
            "webhook-secret",
            &secret("w"),
        )
        .await
        .unwrap();
        let enabled = installations::enable(host, &actor, NEW_TENANT, &relode)
            .await
            .unwrap();
        assert!(enabled.enabled);
        let disabled = installations::disable(host, &actor, NEW_TENANT, &relode)
            .await
            .unwrap();
        assert!(!disabled.enabled);
        world.stop().await;
    })
    .await;
}

/// The fixture's ingress check, which compares a header with its `api-token` secret.
fn signed_request(signature: &str) -> Call {
    let request = StoredVendorRequest::new(
        "POST",
        "/events",
        "",
        vec![("x-fixture-signature".into(), signature.into())],
        b"{}",
        0,
    );
    Call::VerifyVendorRequest(request.to_wit("check".into()).unwrap())
}

async fn check_passes(world: &World, call: Call) -> bool {
    let (plugin, ctx) = installations::check_context(&world.host, NEW_TENANT, PLUGIN, None)
        .await
        .unwrap();
    match world
        .host
        .runtime()
        .invoke(&plugin, ctx, call)
        .await
        .unwrap()
    {
        CallOutput::VendorRequestChecked(verdict) => verdict.is_ok(),
        other => panic!("{other:?}"),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_calls_see_the_installations_secrets_and_the_candidate_config() {
    on_each_backend(|db| async move {
        let world = World::start(&db).await;
        new_tenant(&world).await;
        let (host, actor) = (&world.host, harness());
        installations::add(host, &actor, NEW_TENANT, PLUGIN)
            .await
            .unwrap();
        installations::approve(host, &actor, NEW_TENANT, PLUGIN, &["list stages"])
            .await
            .unwrap();

        // No secret set yet: the plugin's check has nothing to compare with.
        assert!(!check_passes(&world, signed_request("check-s3cret")).await);
        installations::set_secret(
            host,
            &actor,
            NEW_TENANT,
            PLUGIN,
            "api-token",
            &secret("check-s3cret"),
        )
        .await
        .unwrap();
        assert!(
            check_passes(&world, signed_request("check-s3cret")).await,
            "the check sees the secret"
        );
        assert!(!check_passes(&world, signed_request("wrong")).await);

        // The candidate config, the grants of the installation, and no Lever at all.
        let candidate = json!({"greeting": "hi"});
        let (_, ctx) = installations::check_context(host, NEW_TENANT, PLUGIN, Some(&candidate))
            .await
            .unwrap();
        assert_eq!(
            serde_json::from_str::<Value>(&ctx.config_json).unwrap(),
            candidate
        );
        assert_eq!(ctx.secrets.names().collect::<Vec<_>>(), ["api-token"]);
        assert!(ctx.grants.allows(Permission::ListStages));
        assert!(
            !ctx.grants.allows(Permission::CreateOpportunity),
            "not approved"
        );
        assert!(ctx.lever.is_none() && ctx.journal.is_none());
        assert_eq!(ctx.tenant_id, NEW_TENANT);

        // validate-config runs in that context on a disabled installation.
        let stored = installations::configure(host, &actor, NEW_TENANT, PLUGIN, &candidate)
            .await
            .unwrap();
        assert_eq!((stored.config, stored.enabled), (candidate, false));
        match installations::check_context(host, NEW_TENANT, "nothing", None).await {
            Err(DomainError::NotFound(Missing::Installation { .. })) => {}
            other => panic!("{:?}", other.map(drop)),
        }
        world.stop().await;
    })
    .await;
}
