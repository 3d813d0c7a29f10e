//! The policy around every function: grants, call kinds, connection, Lever's own refusals.

use super::*;

#[tokio::test]
async fn policy_is_checked_before_any_io_and_audited() {
    let setup = Setup::new(SeedSpec::vocabulary_only(6)).await;
    // Not granted.
    let mut host = setup.host(
        &[Permission::ListStages],
        CallKind::Action,
        RuntimeConfig::default(),
    );
    let denied = host.download_resume("o".into(), "r".into()).await;
    assert_eq!(
        denied,
        Err(PluginError::Forbidden("download opportunity resume".into()))
    );
    // Not available in this kind of call, even with the grant.
    let mut verifying = setup.host(
        Permission::ALL,
        CallKind::VerifyVendorRequest,
        RuntimeConfig::default(),
    );
    let refused = verifying.list_stages().await;
    assert_eq!(
        refused,
        Err(PluginError::Forbidden(
            "lever is not available during verify-vendor-request".into()
        ))
    );
    // Out of host calls.
    let mut config = RuntimeConfig::default();
    config.limits.max_host_calls = 1;
    let mut budget = setup.host(Permission::ALL, CallKind::Action, config);
    budget.list_stages().await.expect("first call");
    let over = budget.list_stages().await;
    assert_eq!(
        over,
        Err(PluginError::LimitExceeded(
            "more than 1 host calls in one invocation".into()
        ))
    );
    // Only the allowed listing reached Lever (in several pages of 3).
    let reached: Vec<String> = setup.sandbox.stats().requests.into_keys().collect();
    assert_eq!(reached, ["GET /stages"]);
    let operations: Vec<String> = setup
        .audit
        .denied()
        .into_iter()
        .map(|r| r.operation)
        .collect();
    assert_eq!(
        operations,
        [
            "GET /opportunities/:opportunity/resumes/:resume/download",
            "GET /stages",
            "GET /stages"
        ]
    );
}

#[tokio::test]
async fn lever_refusals_are_typed_and_audited_as_failures() {
    let setup = Setup::new(SeedSpec::vocabulary_only(8)).await;
    // Granted by the admin, but the tenant's Lever key lacks the permission: Lever says 403.
    let ctx = InvocationContext::new(
        "t",
        "i",
        "unit",
        Arc::new(MemoryStateStore::new()),
        setup.audit.clone(),
    )
    .with_grants(Grants::new(Permission::ALL, Permission::ALL))
    .with_lever(access(
        &setup.sandbox,
        KeySpec::only("narrow", [Permission::ListStages]),
    ));
    let mut host = testing::state(
        RuntimeConfig::default(),
        testing::plugin(Permission::ALL, &[], &[]),
        ctx,
        CallKind::Action,
    );
    let refused = host.list_users(users_filter()).await;
    assert_eq!(refused, Err(PluginError::Forbidden("list users".into())));
    let records = setup.audit.records();
    assert_eq!(
        records[0].outcome,
        AuditOutcome::Failed {
            error_kind: "forbidden".into()
        }
    );

    // No Lever connection at all: unavailable, nothing sent.
    let ctx = InvocationContext::new(
        "t",
        "i",
        "unit",
        Arc::new(MemoryStateStore::new()),
        setup.audit.clone(),
    )
    .with_grants(Grants::new(Permission::ALL, Permission::ALL));
    let mut unconnected = testing::state(
        RuntimeConfig::default(),
        testing::plugin(Permission::ALL, &[], &[]),
        ctx,
        CallKind::Action,
    );
    let refused = unconnected.list_stages().await;
    assert!(
        matches!(refused, Err(PluginError::Unavailable(_))),
        "{refused:?}"
    );
}

#[tokio::test]
async fn a_plugin_may_act_only_as_the_installations_user_or_a_listed_one() {
    let setup = Setup::new(SeedSpec::vocabulary_only(8)).await;
    let users: Vec<String> = setup.sandbox.read(|db| {
        db.users()
            .filter(|u| u.is_active())
            .map(|u| u.id.clone())
            .collect()
    });
    let own = setup.sandbox.default_user_id();
    let listed = users
        .iter()
        .find(|u| **u != own)
        .expect("a second user")
        .clone();
    let stranger = users
        .iter()
        .find(|u| **u != own && **u != listed)
        .expect("a third user")
        .clone();
    let mut lever = access(&setup.sandbox, KeySpec::all("unit"));
    lever.allowed_acting_users.insert(listed.clone());
    let mut host = setup.host_with(
        Permission::ALL,
        CallKind::Action,
        RuntimeConfig::default(),
        lever,
    );

    let mut forged = new_opportunity("Forged", "forged@example.com");
    forged.acting_user = Some(stranger.clone());
    let refused = host.create_opportunity(forged).await;
    match refused {
        Err(PluginError::Forbidden(message)) => {
            assert!(message.contains(&stranger), "{message}")
        }
        other => panic!("expected forbidden, got {other:?}"),
    }
    assert_eq!(
        setup.sandbox.stats().total_requests(),
        0,
        "the refused create never reached Lever"
    );
    assert_eq!(setup.audit.denied().len(), 1);

    let mut allowed = new_opportunity("Listed", "listed@example.com");
    allowed.acting_user = Some(listed.clone());
    let created = host.create_opportunity(allowed).await.expect("listed user");
    let owner = setup.sandbox.read(|db| {
        db.opportunity(&created.id)
            .and_then(|o| o.owner.as_ref().map(|u| u.id().to_owned()))
    });
    assert_eq!(owner.as_deref(), Some(listed.as_str()));

    let own_user = host
        .create_opportunity(new_opportunity("Own", "own@example.com"))
        .await
        .expect("the installation's own user");
    let owner = setup.sandbox.read(|db| {
        db.opportunity(&own_user.id)
            .and_then(|o| o.owner.as_ref().map(|u| u.id().to_owned()))
    });
    assert_eq!(owner.as_deref(), Some(own.as_str()));
}
