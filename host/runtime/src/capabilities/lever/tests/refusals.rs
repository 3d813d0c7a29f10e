//! The refusals every function shares, over `LeverFunction::ALL`: no permission, writes while
//! answering a vendor query; and the refusals of some: acting users nobody listed,
//! confidential data without confidential access. All before any I/O, all audited.

use super::*;

/// The "no-permission" twin of every Lever function: with every permission granted except the
/// one its operation needs, the call is refused with that permission's words, audited as
/// denied, and nothing reaches Lever.
#[tokio::test]
async fn every_function_is_refused_without_its_permission() {
    let setup = Setup::new(SeedSpec::vocabulary_only(11)).await;
    for function in LeverFunction::ALL {
        let permission = function.operation().permission();
        let granted: Vec<Permission> = Permission::ALL
            .iter()
            .copied()
            .filter(|p| *p != permission)
            .collect();
        let mut host = setup.host(&granted, CallKind::Action, RuntimeConfig::default());
        let refused = call_any(&mut host, function).await;
        assert_eq!(
            refused,
            Some(PluginError::Forbidden(permission.as_str().to_owned())),
            "{}",
            function.name()
        );
    }
    assert_eq!(
        setup.sandbox.stats().total_requests(),
        0,
        "no refused call reached Lever"
    );
    let denied = setup.audit.denied();
    assert_eq!(denied.len(), LeverFunction::ALL.len());
    for (record, function) in denied.iter().zip(LeverFunction::ALL) {
        assert_eq!(record.operation, function.operation().label());
    }
}

/// A vendor query answers a vendor synchronously: Lever is read-only then. Every write is
/// refused before any I/O, whatever the grants; reads work.
#[tokio::test]
async fn writes_are_refused_while_answering_a_vendor_query() {
    let setup = Setup::new(SeedSpec::vocabulary_only(12)).await;
    let writes: Vec<LeverFunction> = LeverFunction::ALL
        .into_iter()
        .filter(|f| f.operation().is_write())
        .collect();
    assert_eq!(writes.len(), 20, "every write of both interfaces");
    for function in &writes {
        let mut host = setup.host(
            Permission::ALL,
            CallKind::VendorQuery,
            RuntimeConfig::default(),
        );
        let refused = call_any(&mut host, *function).await;
        let Some(PluginError::Forbidden(message)) = refused else {
            panic!("{}: expected forbidden, got {refused:?}", function.name());
        };
        assert!(
            message.starts_with(function.operation().permission().as_str())
                && message.contains("read-only while answering a vendor query"),
            "{message}"
        );
    }
    assert_eq!(setup.sandbox.stats().total_requests(), 0);
    assert_eq!(setup.audit.denied().len(), writes.len());

    let mut host = setup.host(
        Permission::ALL,
        CallKind::VendorQuery,
        RuntimeConfig::default(),
    );
    assert!(!host.list_stages().await.expect("a read").is_empty());
    assert!(
        !host
            .list_users(users_filter())
            .await
            .expect("a read")
            .is_empty()
    );
}

#[tokio::test]
async fn writes_attributed_to_an_unlisted_user_are_refused_listed_ones_reach_lever() {
    let setup = Setup::new(SeedSpec::vocabulary_only(13)).await;
    let users: Vec<String> = setup.sandbox.read(|db| {
        db.users()
            .filter(|u| u.is_active())
            .map(|u| u.id.clone())
            .collect()
    });
    let own = setup.sandbox.default_user_id();
    let mut others = users.iter().filter(|u| **u != own);
    let listed = others.next().expect("a second user").clone();
    let stranger = others.next().expect("a third user").clone();
    let mut lever = access(&setup.sandbox, KeySpec::all("unit"));
    lever.allowed_acting_users.insert(listed.clone());
    let mut host = setup.host_with(
        Permission::ALL,
        CallKind::Action,
        RuntimeConfig::default(),
        lever,
    );

    let mut forged = new_posting("Forged");
    forged.acting_user = Some(stranger.clone());
    let refused = host.create_posting(forged).await;
    assert!(
        matches!(&refused, Err(PluginError::Forbidden(m)) if m.contains(&stranger)),
        "{refused:?}"
    );
    let mut forged_update = posting_update();
    forged_update.acting_user = Some(stranger.clone());
    let refused = host.update_posting("p".into(), forged_update).await;
    assert!(
        matches!(refused, Err(PluginError::Forbidden(_))),
        "{refused:?}"
    );
    assert_eq!(setup.sandbox.stats().total_requests(), 0, "nothing sent");
    assert_eq!(setup.audit.denied().len(), 2);

    // Lever records who did it: the posting's creator is the user it was performed as.
    let mut listed_posting = new_posting("Listed");
    listed_posting.acting_user = Some(listed.clone());
    let created = host
        .create_posting(listed_posting)
        .await
        .expect("listed user");
    let creator = setup.sandbox.read(|db| {
        db.posting(&created.id)
            .and_then(|p| p.user.as_ref().map(|u| u.id().to_owned()))
    });
    assert_eq!(creator.as_deref(), Some(listed.as_str()));
    assert_eq!(created.owner_id.as_deref(), Some(listed.as_str()));
    let own_posting = host.create_posting(new_posting("Own")).await.expect("own");
    let creator = setup.sandbox.read(|db| {
        db.posting(&own_posting.id)
            .and_then(|p| p.user.as_ref().map(|u| u.id().to_owned()))
    });
    assert_eq!(creator.as_deref(), Some(own.as_str()));
}

#[tokio::test]
async fn confidential_listings_need_confidential_access() {
    // The seed's ninth posting is confidential, and so are the opportunities applying to it.
    let setup = Setup::new(SeedSpec::new(14, 12, 40)).await;
    let confidential_key = || KeySpec::all("unit").with_confidential(true);
    let mut without = setup.all();
    let mut confidential_postings = posting_filter(vec![], vec![], None);
    confidential_postings.confidentiality = Some(wit::ConfidentialityFilter::Confidential);
    let mut all_opportunities = opportunity_filter();
    all_opportunities.confidentiality = Some(wit::ConfidentialityFilter::All);
    let mut all_requisitions = requisition_filter();
    all_requisitions.confidentiality = Some(wit::ConfidentialityFilter::All);
    let refusals = [
        without
            .list_postings(confidential_postings.clone())
            .await
            .err(),
        without
            .find_opportunities(all_opportunities.clone())
            .await
            .err(),
        without
            .list_requisitions(all_requisitions.clone())
            .await
            .err(),
    ];
    for refused in refusals {
        let Some(PluginError::Forbidden(message)) = refused else {
            panic!("expected forbidden, got {refused:?}");
        };
        assert!(
            message.starts_with("confidential data: ")
                && message.contains("no confidential access; reconnect with"),
            "{message}"
        );
    }
    assert_eq!(setup.sandbox.stats().total_requests(), 0, "nothing sent");
    assert_eq!(setup.audit.denied().len(), 3);

    // With access: Lever is asked for them and they come back.
    let lever = access(&setup.sandbox, confidential_key()).with_confidential_access(true);
    let mut with = setup.host_with(
        Permission::ALL,
        CallKind::Action,
        RuntimeConfig::default(),
        lever,
    );
    let postings = with
        .list_postings(confidential_postings)
        .await
        .expect("confidential postings");
    assert!(!postings.postings.is_empty());
    assert!(
        postings
            .postings
            .iter()
            .all(|p| p.confidentiality == wit::Confidentiality::Confidential)
    );
    let opportunities = with
        .find_opportunities(all_opportunities)
        .await
        .expect("every opportunity");
    let expected: usize = setup.sandbox.read(|db| db.opportunities().count()).min(100);
    assert_eq!(opportunities.opportunities.len(), expected);
    assert!(
        opportunities
            .opportunities
            .iter()
            .any(|o| o.confidentiality == wit::Confidentiality::Confidential),
        "a confidential opportunity among them"
    );
    // The default stays non-confidential, even with access.
    let plain = with
        .find_opportunities(opportunity_filter())
        .await
        .expect("non-confidential");
    assert!(
        plain
            .opportunities
            .iter()
            .all(|o| o.confidentiality == wit::Confidentiality::NonConfidential)
    );
}
