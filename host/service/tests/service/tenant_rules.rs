//! The tenant rules (`fulcrum_service::tenants`) called directly, as the command line, the demo
//! and tools do: the name is trimmed, every change is audited with its actor, and every bad
//! input is refused with a typed error before anything is stored.

use crate::admin::snapshot;
use fulcrum_service::tenants::{self, LeverConnection};
use fulcrum_service::{Actor, DomainError, Missing};
use fulcrum_store::test_support::on_each_backend;
use fulcrum_store::{AuditEntry, LeverSettings};
use fulcrum_testkit::*;
use secrecy::{ExposeSecret, SecretString};

/// The admin changes in a tenant's audit log, oldest first.
pub async fn admin_changes(world: &World, tenant: &str) -> Vec<AuditEntry> {
    let mut entries: Vec<_> = world
        .store
        .audit_list(tenant, 1000)
        .await
        .unwrap()
        .into_iter()
        .filter(|a| a.operation.starts_with("admin: "))
        .collect();
    entries.reverse();
    entries
}

/// Every admin change of every tenant, to show a refusal recorded nothing.
pub async fn all_admin_changes(world: &World) -> usize {
    let mut count = 0;
    for tenant in world.store.list_tenants().await.unwrap() {
        count += admin_changes(world, &tenant.id).await.len();
    }
    count
}

#[track_caller]
pub fn invalid_code(result: Result<impl std::fmt::Debug, DomainError>) -> &'static str {
    match result {
        Err(DomainError::Invalid { code, message, .. }) => {
            assert!(
                message.contains("nothing was stored") || message.contains("nothing was approved"),
                "{message}"
            );
            code
        }
        other => panic!("expected an invalid input, got {other:?}"),
    }
}

fn connection(key: Option<&str>, base_url: Option<&str>) -> LeverConnection {
    LeverConnection {
        api_key: key.map(|k| SecretString::from(k.to_owned())),
        base_url: base_url.map(str::to_owned),
        acting_user_id: None,
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_tenant_is_created_with_its_name_trimmed_and_an_audit_entry_naming_the_actor() {
    on_each_backend(|db| async move {
        let world = World::start(&db).await;
        let store = world.host.store();
        let actor = Actor::local("onboarding script");

        let tenant = tenants::create(store, &actor, "initech", "  Initech Corp.\n")
            .await
            .unwrap();
        assert_eq!(tenant.name, "Initech Corp.");
        assert_eq!(
            store.get_tenant("initech").await.unwrap().unwrap().name,
            "Initech Corp."
        );
        let changes = admin_changes(&world, "initech").await;
        assert_eq!(changes.len(), 1, "{changes:?}");
        assert_eq!(changes[0].operation, "admin: create tenant");
        assert_eq!(changes[0].detail.as_deref(), Some("by onboarding script"));

        // Connected in one call: settings and key, each audited, the key never in the log.
        let lever = LeverConnection {
            api_key: Some(SecretString::from(" lever-key-9f8e7d \n".to_owned())),
            base_url: Some("https://api.eu.lever.co/v1/".into()),
            acting_user_id: Some(" user-1 ".into()),
        };
        tenants::connect_lever(store, &actor, "initech", &lever)
            .await
            .unwrap();
        assert_eq!(
            store.get_lever_settings("initech").await.unwrap(),
            LeverSettings {
                base_url: Some("https://api.eu.lever.co/v1".into()),
                acting_user_id: Some("user-1".into()),
            }
        );
        let credential = store
            .get_lever_credential("initech")
            .await
            .unwrap()
            .unwrap();
        assert_eq!(credential.secret.expose_secret(), "lever-key-9f8e7d");
        let operations: Vec<_> = admin_changes(&world, "initech")
            .await
            .into_iter()
            .map(|a| {
                assert!(!format!("{a:?}").contains("lever-key-9f8e7d"), "{a:?}");
                a.operation
            })
            .collect();
        assert_eq!(
            operations,
            [
                "admin: create tenant",
                "admin: set lever settings",
                "admin: set lever credential"
            ]
        );

        // `ensure` adds a missing tenant once and leaves an existing one (and its name) alone.
        let again = tenants::ensure(store, &actor, "initech", "Another Name")
            .await
            .unwrap();
        assert_eq!(again.name, "Initech Corp.");
        assert_eq!(admin_changes(&world, "initech").await.len(), 3);
        let fresh = tenants::ensure(store, &actor, "globex", " Globex ")
            .await
            .unwrap();
        assert_eq!(fresh.name, "Globex");
        assert_eq!(admin_changes(&world, "globex").await.len(), 1);

        // Created connected (the command line's call): checked first, then stored.
        let hooli = tenants::create_connected(
            store,
            &Actor::command_line("fulcrum tenant create"),
            "hooli",
            "Hooli",
            &connection(Some("hooli-key"), None),
        )
        .await
        .unwrap();
        assert_eq!(hooli.id, "hooli");
        assert_eq!(
            store.get_lever_settings("hooli").await.unwrap(),
            LeverSettings::default()
        );
        let changes = admin_changes(&world, "hooli").await;
        let operations: Vec<_> = changes.iter().map(|a| a.operation.as_str()).collect();
        assert_eq!(
            operations,
            ["admin: create tenant", "admin: set lever credential"]
        );
        assert!(
            changes
                .iter()
                .all(|a| a.detail.as_deref() == Some("by command line (fulcrum tenant create)")),
            "{changes:?}"
        );
        world.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_tenant_input_is_refused_with_a_typed_error_and_nothing_is_stored() {
    on_each_backend(|db| async move {
        let world = World::start(&db).await;
        let store = world.host.store();
        let actor = harness();
        let before = snapshot(&world).await;
        let changes_before = all_admin_changes(&world).await;

        assert_eq!(
            invalid_code(tenants::create(store, &actor, "Init Tech", "Initech").await),
            "invalid_tenant_id"
        );
        assert_eq!(
            invalid_code(tenants::create(store, &actor, "initech", "  \t ").await),
            "invalid_name"
        );
        assert_eq!(
            invalid_code(tenants::create(store, &actor, "initech", &"n".repeat(201)).await),
            "invalid_name"
        );
        assert_eq!(
            invalid_code(tenants::ensure(store, &actor, "initech", "").await),
            "invalid_name"
        );
        match tenants::create(store, &actor, TENANT, "Acme again").await {
            Err(DomainError::Conflict(message)) => {
                assert!(
                    message.contains("already exists") && message.contains("nothing was stored"),
                    "{message}"
                )
            }
            other => panic!("a taken id: {other:?}"),
        }
        // Created connected: a bad URL or key stores no tenant at all.
        for (lever, code) in [
            (
                connection(Some("key"), Some("ftp://lever.example")),
                "invalid_base_url",
            ),
            (
                connection(Some("two words"), Some("https://api.lever.co/v1")),
                "invalid_api_key",
            ),
            (connection(Some(&"k".repeat(513)), None), "invalid_api_key"),
        ] {
            let refused =
                tenants::create_connected(store, &actor, "initech", "Initech", &lever).await;
            assert_eq!(invalid_code(refused), code);
        }
        // The Lever connection of an existing tenant: checked before either part is stored.
        let key = SecretString::from("  ".to_owned());
        assert_eq!(
            invalid_code(tenants::set_lever_credential(store, &actor, TENANT, &key).await),
            "invalid_api_key"
        );
        assert_eq!(
            invalid_code(
                tenants::set_lever_settings(store, &actor, TENANT, Some("not a url"), None).await
            ),
            "invalid_base_url"
        );
        let half_bad = connection(Some("bad key"), Some("https://api.eu.lever.co/v1"));
        assert_eq!(
            invalid_code(tenants::connect_lever(store, &actor, TENANT, &half_bad).await),
            "invalid_api_key"
        );
        // Unknown tenants.
        let good_key = SecretString::from("good-key".to_owned());
        for refused in [
            tenants::set_lever_credential(store, &actor, "nobody", &good_key)
                .await
                .map(drop),
            tenants::set_lever_settings(store, &actor, "nobody", None, None)
                .await
                .map(drop),
            tenants::connect_lever(store, &actor, "nobody", &connection(None, None)).await,
        ] {
            match refused {
                Err(e @ DomainError::NotFound(Missing::Tenant(_))) => {
                    assert!(e.to_string().contains("nothing was stored"), "{e}")
                }
                other => panic!("an unknown tenant: {other:?}"),
            }
        }

        assert_eq!(snapshot(&world).await, before);
        assert_eq!(all_admin_changes(&world).await, changes_before);
        world.stop().await;
    })
    .await;
}
