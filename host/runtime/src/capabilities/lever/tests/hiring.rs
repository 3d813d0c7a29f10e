//! `lever-hiring`: the seeded interviews, panels, feedback, offers and referrals in the WIT
//! shape; requisitions and requisition fields read, created, updated and replayed.

use super::*;
use futures::TryStreamExt;

/// The first seeded opportunity (confidential ones excluded) for which `has` finds something.
async fn first_with<T, F>(raw: &LeverClient, has: F) -> (String, Vec<T>)
where
    F: Fn(&LeverClient, &str) -> futures::stream::BoxStream<'static, Result<T, LeverError>>,
{
    let opportunities: Vec<lm::Opportunity> = raw
        .opportunities(Default::default())
        .try_collect()
        .await
        .expect("opportunities");
    for o in opportunities {
        let items: Vec<T> = has(raw, &o.id).try_collect().await.expect("items");
        if !items.is_empty() {
            return (o.id, items);
        }
    }
    panic!("the seed has none");
}

#[tokio::test]
async fn interviews_panels_and_feedback_are_the_seeded_ones() {
    let setup = Setup::new(SeedSpec::demo()).await;
    let raw = raw(&setup.sandbox);
    let mut host = setup.all();
    let (opportunity, panels) = first_with(&raw, |c, id| c.panels(id)).await;
    let listed = host.list_panels(opportunity.clone()).await.expect("panels");
    assert_eq!(
        listed,
        panels.iter().map(convert::panel).collect::<Vec<_>>()
    );
    let panel = &listed[0];
    assert_eq!(
        panel.interview_ids,
        panels[0]
            .interviews
            .iter()
            .map(|i| i.id.clone())
            .collect::<Vec<_>>()
    );
    assert_eq!(
        host.get_panel(opportunity.clone(), panel.id.clone())
            .await
            .as_ref(),
        Ok(panel)
    );

    let interviews = host
        .list_interviews(opportunity.clone())
        .await
        .expect("interviews");
    let seeded: Vec<lm::Interview> = raw
        .interviews(&opportunity)
        .try_collect()
        .await
        .expect("seeded");
    assert_eq!(interviews.len(), seeded.len());
    let first = &interviews[0];
    assert_eq!(first.id, seeded[0].id);
    assert_eq!(first.panel_id, seeded[0].panel);
    assert_eq!(first.date, Some(seeded[0].date));
    assert!(!first.interviewers.is_empty());
    assert_eq!(
        host.get_interview(opportunity.clone(), first.id.clone())
            .await
            .as_ref(),
        Ok(first)
    );

    let (opportunity, feedback) = first_with(&raw, |c, id| c.feedback(id)).await;
    let listed = host
        .list_feedback(opportunity.clone())
        .await
        .expect("feedback");
    assert_eq!(listed.len(), feedback.len());
    let form = &listed[0];
    assert_eq!(form.id, feedback[0].id);
    assert_eq!(form.interview_id, feedback[0].interview);
    let score = form
        .fields
        .iter()
        .find(|f| f.kind == lm::SCORE_FIELD_TYPE)
        .expect("a score field");
    assert_eq!(
        score.value,
        feedback[0].score().map(|v| v.to_string()),
        "answers are JSON"
    );
    assert_eq!(
        host.get_feedback(opportunity.clone(), form.id.clone())
            .await
            .as_ref(),
        Ok(form)
    );
    let missing = host
        .get_interview(opportunity, "no-such-interview".into())
        .await;
    assert!(
        matches!(missing, Err(PluginError::NotFound(_))),
        "{missing:?}"
    );
}

#[tokio::test]
async fn offers_and_referrals_are_the_seeded_ones() {
    let setup = Setup::new(SeedSpec::demo()).await;
    let raw = raw(&setup.sandbox);
    let mut host = setup.all();
    let (opportunity, offers) = first_with(&raw, |c, id| c.offers(id, false)).await;
    let listed = host.list_offers(opportunity).await.expect("offers");
    assert_eq!(
        listed,
        offers.iter().map(convert::offer).collect::<Vec<_>>()
    );
    assert!(!listed[0].fields.is_empty());
    assert_ne!(listed[0].status, hwit::OfferStatus::Other);

    let (opportunity, referrals) = first_with(&raw, |c, id| c.referrals(id)).await;
    let listed = host
        .list_referrals(opportunity.clone())
        .await
        .expect("referrals");
    assert_eq!(listed.len(), referrals.len());
    assert_eq!(listed[0].referrer_id, referrals[0].referrer);
    assert_eq!(
        host.get_referral(opportunity.clone(), listed[0].id.clone())
            .await
            .as_ref(),
        Ok(&listed[0])
    );
    // The referral application carries the referral form as its custom questions.
    let applications = host
        .list_applications(opportunity)
        .await
        .expect("applications");
    assert!(
        applications
            .iter()
            .any(|a| a.kind == wit::ApplicationKind::Referral && !a.custom_questions.is_empty()),
        "{applications:?}"
    );
}

#[tokio::test]
async fn requisitions_are_listed_filtered_created_and_updated() {
    let setup = Setup::new(SeedSpec::new(51, 20, 0)).await;
    let raw = raw(&setup.sandbox);
    let mut host = setup.all();
    // Lever's default listing: the non-confidential ones.
    let visible: Vec<lm::Requisition> = raw
        .requisitions(Default::default())
        .try_collect()
        .await
        .expect("seeded");
    assert!(visible.len() > 3, "several pages of 3: {}", visible.len());
    let listed = host
        .list_requisitions(requisition_filter())
        .await
        .expect("requisitions");
    assert_eq!(
        listed.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        visible.iter().map(|r| r.id.as_str()).collect::<Vec<_>>(),
        "every page, oldest first"
    );
    let mut by_code = requisition_filter();
    by_code.code = Some(visible[0].requisition_code.clone());
    let one = host.list_requisitions(by_code).await.expect("by code");
    assert_eq!(one, [convert::requisition(&visible[0])]);
    assert_eq!(
        host.get_requisition(visible[0].id.clone()).await,
        Ok(one[0].clone())
    );

    let mut input = requisition_input("ENG-NEW-1");
    input.custom_fields = r#"{"cost_center": "cc_rnd"}"#.into();
    let created = host
        .create_requisition(input.clone())
        .await
        .expect("created");
    assert_eq!(
        (created.code.as_str(), created.headcount_total),
        ("ENG-NEW-1", Some(2))
    );
    assert_eq!(created.status, hwit::RequisitionStatus::Open);
    input.headcount_total = None;
    input.status = Some(hwit::RequisitionStatus::OnHold);
    let updated = host
        .update_requisition(created.id.clone(), input)
        .await
        .expect("updated");
    assert_eq!(updated.headcount_total, None, "unlimited");
    assert_eq!(updated.status, hwit::RequisitionStatus::OnHold);
    assert_eq!(
        raw.requisition(&created.id).await.ok().map(|r| r.status),
        Some(lm::RequisitionStatus::OnHold)
    );
    let bad = host
        .create_requisition(requisition_input(&visible[0].requisition_code))
        .await;
    assert!(
        matches!(bad, Err(PluginError::Invalid(_))),
        "a taken code: {bad:?}"
    );
    let mut not_json = requisition_input("ENG-NEW-2");
    not_json.custom_fields = "[1]".into();
    setup.sandbox.reset_stats();
    let refused = host.create_requisition(not_json).await;
    assert!(
        matches!(refused, Err(PluginError::Invalid(_))),
        "{refused:?}"
    );
    assert_eq!(setup.sandbox.stats().total_requests(), 0);
}

#[tokio::test]
async fn requisition_fields_are_listed_created_and_updated() {
    let setup = Setup::new(SeedSpec::new(52, 5, 0)).await;
    let mut host = setup.all();
    let fields = host.list_requisition_fields().await.expect("fields");
    let seeded: Vec<String> = raw(&setup.sandbox)
        .requisition_fields()
        .map_ok(|f| f.id)
        .try_collect()
        .await
        .expect("seeded");
    assert_eq!(
        fields.iter().map(|f| f.id.clone()).collect::<Vec<_>>(),
        seeded
    );
    assert_eq!(
        host.get_requisition_field(fields[0].id.clone())
            .await
            .as_ref(),
        Ok(&fields[0])
    );
    let mut dropdown = requisition_field_input("office");
    dropdown.kind = "dropdown".into();
    dropdown.options = vec![hwit::RequisitionFieldOption {
        id: String::new(),
        text: "Berlin".into(),
    }];
    let created = host
        .create_requisition_field(dropdown.clone())
        .await
        .expect("created");
    assert_eq!(
        (created.id.as_str(), created.kind.as_str()),
        ("office", "dropdown")
    );
    assert_eq!(created.options[0].text, "Berlin");
    dropdown.text = "Office location".into();
    dropdown.required = true;
    let updated = host
        .update_requisition_field("office".into(), dropdown)
        .await
        .expect("updated");
    assert_eq!(updated.text, "Office location");
    assert!(updated.required);
    let missing = host.get_requisition_field("no_such_field".into()).await;
    assert!(
        matches!(missing, Err(PluginError::NotFound(_))),
        "{missing:?}"
    );
}

#[tokio::test]
async fn requisition_writes_replay_and_reconcile_by_their_keys() {
    use lever_sandbox::{FaultConfig, ScriptedFault};
    let setup = Setup::new(SeedSpec::vocabulary_only(53)).await;
    let journal = Arc::new(MemoryJournal::new());
    let attempt = |journal: &Arc<MemoryJournal>| {
        let mut host = setup.journaled(journal);
        async move {
            let r = host
                .create_requisition(requisition_input("OPS-1"))
                .await
                .expect("requisition");
            let f = host
                .create_requisition_field(requisition_field_input("budget_owner"))
                .await
                .expect("field");
            let mut replaced = requisition_input("OPS-1");
            replaced.status = Some(hwit::RequisitionStatus::Closed);
            let r = host
                .update_requisition(r.id, replaced)
                .await
                .expect("requisition updated");
            let mut renamed = requisition_field_input("budget_owner");
            renamed.text = "Budget owner".into();
            let f = host
                .update_requisition_field(f.id, renamed)
                .await
                .expect("field updated");
            (r, f)
        }
    };
    let first = attempt(&journal).await;
    assert_eq!(first.0.status, hwit::RequisitionStatus::Closed);
    assert_eq!(first.1.text, "Budget owner");
    setup.sandbox.reset_stats();
    assert_eq!(attempt(&journal).await, first);
    assert_eq!(
        setup.sandbox.stats().total_requests(),
        0,
        "answered from the journal"
    );

    // The answers are lost; the next attempt finds them by code and id.
    for (seq, write) in [(0, "OPS-2"), (1, "cost_owner")] {
        let journal = Arc::new(MemoryJournal::new());
        setup.sandbox.set_faults(FaultConfig {
            fail_next: vec![ScriptedFault::AfterApply(500)],
            ..Default::default()
        });
        let lost = if seq == 0 {
            setup
                .journaled(&journal)
                .create_requisition(requisition_input(write))
                .await
                .map(|r| r.id)
        } else {
            setup
                .journaled(&journal)
                .create_requisition_field(requisition_field_input(write))
                .await
                .map(|f| f.id)
        };
        assert!(matches!(lost, Err(PluginError::Unavailable(_))), "{lost:?}");
        setup.sandbox.reset_stats();
        let found = if seq == 0 {
            setup
                .journaled(&journal)
                .create_requisition(requisition_input(write))
                .await
                .map(|r| r.code)
        } else {
            setup
                .journaled(&journal)
                .create_requisition_field(requisition_field_input(write))
                .await
                .map(|f| f.id)
        };
        assert_eq!(found.as_deref(), Ok(write));
        let stats = setup.sandbox.stats();
        assert!(stats.writes.is_empty(), "not sent again: {stats:?}");
    }
}
