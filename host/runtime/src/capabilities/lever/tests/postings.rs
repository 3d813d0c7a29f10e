//! Postings of contract 0.2.0: create, update, apply, the new listing filters, applications.

use super::*;

#[tokio::test]
async fn postings_are_created_updated_and_read_back_in_the_wit_shape() {
    let setup = Setup::new(SeedSpec::vocabulary_only(21)).await;
    let mut host = setup.all();
    let created = host
        .create_posting(new_posting("Runtime Engineer"))
        .await
        .expect("created");
    assert_eq!(created.title, "Runtime Engineer");
    assert_eq!(created.state, wit::PostingState::Draft, "Lever's default");
    assert_eq!(created.team.as_deref(), Some("Platform"));
    assert_eq!(created.all_locations, ["Berlin"]);
    assert_eq!(created.workplace_type, wit::WorkplaceType::Hybrid);
    assert_eq!(created.tags, ["rust"]);
    assert_eq!(created.lists[0].title, "You will");
    assert_eq!(created.description, "Build the runtime.");
    assert_eq!(
        created.owner_id,
        Some(setup.sandbox.default_user_id()),
        "owner defaults to the acting user"
    );
    assert!(created.list_url.is_none(), "not published");
    assert_eq!(
        host.get_posting(created.id.clone()).await,
        Ok(created.clone())
    );

    // A partial update: only what is given changes, categories included.
    let mut update = posting_update();
    update.team = Some("Infrastructure".into());
    update.state = Some(wit::PostingState::Published);
    update.tags = Some(vec!["rust".into(), "wasm".into()]);
    let updated = host
        .update_posting(created.id.clone(), update)
        .await
        .expect("updated");
    assert_eq!(updated.team.as_deref(), Some("Infrastructure"));
    assert_eq!(updated.department.as_deref(), Some("Engineering"), "kept");
    assert_eq!(updated.location.as_deref(), Some("Berlin"), "kept");
    assert_eq!(updated.title, "Runtime Engineer", "kept");
    assert_eq!(updated.state, wit::PostingState::Published);
    assert!(updated.apply_url.is_some(), "published postings have URLs");
    assert_eq!(updated.tags, ["rust", "wasm"]);
    let stats = setup.sandbox.stats();
    assert_eq!(stats.writes_to(Operation::UpdatePosting), 1);
    assert_eq!(
        stats.requests_to(Operation::GetPosting),
        2,
        "the read back, and the categories the update merged into"
    );

    // Lever's refusals come back typed.
    let mut bad = new_posting("Bad");
    bad.salary = Some(wit::SalaryRange {
        min: 10.0,
        max: 1.0,
        currency: "EUR".into(),
        interval: "per-year-salary".into(),
    });
    let refused = host.create_posting(bad).await;
    assert!(
        matches!(refused, Err(PluginError::Invalid(_))),
        "{refused:?}"
    );
    let missing = host
        .update_posting("no-such-posting".into(), posting_update())
        .await;
    assert!(
        matches!(missing, Err(PluginError::NotFound(_))),
        "{missing:?}"
    );
}

#[tokio::test]
async fn posting_filters_reach_lever_or_are_applied_by_the_host() {
    let setup = Setup::new(SeedSpec::new(22, 30, 0)).await;
    let mut host = setup.all();
    let seeded: Vec<lm::Posting> = setup.sandbox.read(|db| {
        db.postings()
            .filter(|p| p.confidentiality == lm::Confidentiality::NonConfidential)
            .cloned()
            .collect()
    });
    let team = seeded
        .iter()
        .find_map(|p| p.categories.team.clone())
        .expect("a team");
    let visible = |p: &lm::Posting| {
        p.state != lm::PostingState::Published
            || p.distribution_channels
                .iter()
                .flatten()
                .any(|c| *c == lm::DistributionChannel::Public)
    };
    let mut expected: Vec<String> = seeded
        .iter()
        .filter(|p| p.categories.team.as_deref() == Some(team.as_str()) && visible(p))
        .map(|p| p.id.clone())
        .collect();
    expected.sort();
    let ids = |page: wit::PostingPage| {
        let mut ids: Vec<String> = page.postings.into_iter().map(|p| p.id).collect();
        ids.sort();
        ids
    };
    let mut by_team = posting_filter(vec![], vec![], None);
    by_team.team = Some(team.clone());
    assert_eq!(
        ids(host.list_postings(by_team.clone()).await.expect("team")),
        expected
    );

    // With an updated range Lever takes no team: the host applies it to the page.
    let oldest = seeded
        .iter()
        .filter_map(|p| p.updated_at)
        .min()
        .expect("dates");
    by_team.updated_since = Some(oldest);
    assert_eq!(
        ids(host.list_postings(by_team.clone()).await.expect("ranged")),
        expected
    );
    by_team.updated_until = Some(oldest - 1);
    assert!(ids(host.list_postings(by_team).await.expect("empty range")).is_empty());
    assert_eq!(
        setup.sandbox.stats().count(Operation::ListPostings, 400),
        0,
        "Lever never got an updated range with another filter"
    );
}

#[tokio::test]
async fn applications_upload_their_resume_and_read_back() {
    let setup = Setup::new(SeedSpec::vocabulary_only(23)).await;
    let mut host = setup.all();
    let mut published = new_posting("Compiler Engineer");
    published.state = Some(wit::PostingState::Published);
    let posting = host.create_posting(published).await.expect("posting").id;

    // Origin other than applied/internal: invalid, nothing sent.
    setup.sandbox.reset_stats();
    let mut sourced = new_application("Grace Hopper", "grace@example.com");
    sourced.origin = Some(wit::Origin::Sourced);
    sourced.resume = Some(attachment("cv.pdf", b"%PDF-1.4 cv"));
    let refused = host.apply_to_posting(posting.clone(), sourced).await;
    assert!(matches!(&refused, Err(PluginError::Invalid(m)) if m.contains("applied or internal")));
    assert_eq!(setup.sandbox.stats().total_requests(), 0);

    let mut application = new_application("Grace Hopper", "grace@example.com");
    application.resume = Some(attachment("grace.pdf", b"%PDF-1.4 grace"));
    application.links = vec!["https://github.com/grace".into()];
    application.source = Some("Fixture".into());
    application.origin = Some(wit::Origin::Internal);
    let application_id = host
        .apply_to_posting(posting.clone(), application)
        .await
        .expect("applied");
    let stats = setup.sandbox.stats();
    assert_eq!(stats.writes_to(Operation::CreateUpload), 1);
    assert_eq!(stats.writes_to(Operation::ApplyToPosting), 1);
    let audited: Vec<String> = setup
        .audit
        .records()
        .into_iter()
        .rev()
        .take(2)
        .map(|r| r.operation)
        .collect();
    assert_eq!(
        audited,
        ["POST /postings/:posting/apply", "POST /uploads"],
        "the upload is audited as its own host call"
    );

    let mut by_email = opportunity_filter();
    by_email.email = Some("grace@example.com".into());
    let found = host.find_opportunities(by_email).await.expect("found");
    let opportunity = &found.opportunities[0];
    assert_eq!(opportunity.origin, Some(wit::Origin::Internal));
    assert_eq!(
        opportunity.application_ids,
        std::slice::from_ref(&application_id)
    );
    let applications = host
        .list_applications(opportunity.id.clone())
        .await
        .expect("applications");
    assert_eq!(applications.len(), 1);
    let one = host
        .get_application(opportunity.id.clone(), application_id.clone())
        .await
        .expect("application");
    assert_eq!(one, applications[0]);
    assert_eq!(one.id, application_id);
    assert_eq!(one.opportunity_id, opportunity.id);
    assert_eq!(one.kind, wit::ApplicationKind::Posting);
    assert_eq!(one.posting_id.as_deref(), Some(posting.as_str()));
    let resumes = host
        .list_resumes(opportunity.id.clone())
        .await
        .expect("resumes");
    assert_eq!(
        resumes[0].file.as_ref().map(|f| f.name.as_str()),
        Some("grace.pdf"),
        "the uploaded résumé"
    );
    let missing = host
        .get_application(opportunity.id.clone(), "no-such-application".into())
        .await;
    assert!(
        matches!(missing, Err(PluginError::NotFound(_))),
        "{missing:?}"
    );
}

#[tokio::test]
async fn a_replayed_event_does_not_create_update_or_apply_twice() {
    let setup = Setup::new(SeedSpec::vocabulary_only(24)).await;
    let journal = Arc::new(MemoryJournal::new());
    let attempt = |journal: &Arc<MemoryJournal>| {
        let mut host = setup.journaled(journal);
        async move {
            let mut posting = new_posting("Journaled Engineer");
            posting.state = Some(wit::PostingState::Published);
            let id = host.create_posting(posting).await.expect("created").id;
            let mut update = posting_update();
            update.location = Some("Lisbon".into());
            host.update_posting(id.clone(), update)
                .await
                .expect("updated");
            let mut application = new_application("Ada", "ada@example.com");
            application.resume = Some(attachment("ada.pdf", b"%PDF-1.4 ada"));
            let applied = host
                .apply_to_posting(id.clone(), application)
                .await
                .expect("applied");
            (id, applied)
        }
    };
    let first = attempt(&journal).await;
    setup.sandbox.reset_stats();
    let second = attempt(&journal).await;
    assert_eq!(second, first, "the journal's answers");
    let stats = setup.sandbox.stats();
    assert_eq!(stats.total_requests(), 0, "nothing sent again: {stats:?}");
    assert_eq!(setup.sandbox.read(|db| db.postings().count()), 1);
    assert_eq!(setup.sandbox.read(|db| db.opportunities().count()), 1);
}

#[tokio::test]
async fn lost_answers_of_creates_and_applications_are_found_in_lever() {
    use lever_sandbox::{FaultConfig, ScriptedFault};
    let setup = Setup::new(SeedSpec::vocabulary_only(25)).await;
    let lose_next = || {
        setup.sandbox.set_faults(FaultConfig {
            fail_next: vec![ScriptedFault::AfterApply(500)],
            ..Default::default()
        })
    };
    let journal = Arc::new(MemoryJournal::new());
    let mut posting = new_posting("Reconciled Engineer");
    posting.state = Some(wit::PostingState::Published);
    lose_next();
    let lost = setup
        .journaled(&journal)
        .create_posting(posting.clone())
        .await;
    assert!(matches!(lost, Err(PluginError::Unavailable(_))), "{lost:?}");
    let created = setup
        .journaled(&journal)
        .create_posting(posting)
        .await
        .expect("reconciled");
    assert_eq!(
        setup.sandbox.read(|db| db.postings().count()),
        1,
        "created once"
    );
    assert_eq!(
        setup
            .sandbox
            .read(|db| db.posting(&created.id).map(|p| p.text.clone())),
        Some("Reconciled Engineer".into())
    );

    let journal = Arc::new(MemoryJournal::new());
    lose_next();
    let lost = setup
        .journaled(&journal)
        .apply_to_posting(
            created.id.clone(),
            new_application("Ada", "ada@example.com"),
        )
        .await;
    assert!(matches!(lost, Err(PluginError::Unavailable(_))), "{lost:?}");
    setup.sandbox.reset_stats();
    let application = setup
        .journaled(&journal)
        .apply_to_posting(
            created.id.clone(),
            new_application("Ada", "ada@example.com"),
        )
        .await
        .expect("reconciled");
    assert_eq!(
        setup.sandbox.stats().writes_to(Operation::ApplyToPosting),
        0
    );
    let applications: Vec<String> = setup.sandbox.read(|db| {
        db.opportunities()
            .flat_map(|o| db.applications(&o.id).iter().map(|a| a.id.clone()))
            .collect()
    });
    assert_eq!(applications, [application], "applied once");
    assert_eq!(
        last_operation(&setup),
        "POST /postings/:posting/apply (reconciled)"
    );
}

fn last_operation(setup: &Setup) -> String {
    setup
        .audit
        .records()
        .last()
        .expect("a record")
        .operation
        .clone()
}
