//! Opportunity semantics over HTTP: e-mail dedupe, stages, archive/unarchive, tags, sources,
//! links, notes, and Unicode names.

use fulcrum_tests::{admin_client, start_sandbox};
use futures::TryStreamExt;
use lever_client::{Attachments, LeverError, OpportunityQuery};
use lever_model::{ArchiveReasonType, NewNote, NewOpportunity, Origin, PostingState};
use lever_sandbox::SeedSpec;

async fn published_posting_ids(client: &lever_client::LeverClient, n: usize) -> Vec<String> {
    let query = lever_client::PostingQuery {
        state: vec![PostingState::Published],
        distribution_channel: vec![lever_model::DistributionChannel::Public],
        ..Default::default()
    };
    let postings: Vec<_> = client.postings(query).try_collect().await.unwrap();
    assert!(
        postings.len() >= n,
        "the seed has at least {n} public postings"
    );
    postings.into_iter().take(n).map(|p| p.id).collect()
}

#[tokio::test]
async fn the_same_email_lands_on_the_same_contact() {
    let sandbox = start_sandbox(SeedSpec {
        seed: 31,
        postings: 10,
        opportunities: 0,
    })
    .await;
    let client = admin_client(&sandbox);
    let user = sandbox.default_user_id();
    let postings = published_posting_ids(&client, 2).await;

    let first = NewOpportunity {
        name: Some("Mary Jackson".into()),
        emails: vec!["mary.jackson@example.com".into()],
        postings: vec![postings[0].clone()],
        ..Default::default()
    };
    let a = client
        .create_opportunity(&user, &first, Attachments::default())
        .await
        .unwrap();

    // Same person applies to another posting, with a differently-cased e-mail and another name.
    let second = NewOpportunity {
        name: Some("M. Jackson".into()),
        emails: vec!["Mary.Jackson@Example.com".into()],
        postings: vec![postings[1].clone()],
        ..Default::default()
    };
    let b = client
        .create_opportunity(&user, &second, Attachments::default())
        .await
        .unwrap();

    assert_ne!(a.id, b.id, "one opportunity per posting");
    assert_eq!(a.contact_id(), b.contact_id(), "one person");
    assert_eq!(
        b.name.as_deref(),
        Some("Mary Jackson"),
        "the stored contact's data wins"
    );
    let by_email: Vec<_> = client
        .opportunities(OpportunityQuery {
            email: vec!["mary.jackson@example.com".into()],
            ..Default::default()
        })
        .try_collect()
        .await
        .unwrap();
    assert_eq!(by_email.len(), 2);
    assert_eq!(sandbox.read(|db| db.contacts().count()), 1);
}

#[tokio::test]
async fn more_than_one_posting_is_rejected_with_levers_message() {
    let sandbox = start_sandbox(SeedSpec {
        seed: 32,
        postings: 10,
        opportunities: 0,
    })
    .await;
    let client = admin_client(&sandbox);
    let postings = published_posting_ids(&client, 2).await;
    let body = NewOpportunity {
        name: Some("Two Jobs".into()),
        postings,
        ..Default::default()
    };
    let err = client
        .create_opportunity(&sandbox.default_user_id(), &body, Attachments::default())
        .await
        .unwrap_err();
    match err {
        LeverError::Invalid {
            status: 400,
            message,
            ..
        } => assert!(!message.is_empty()),
        other => panic!("expected 400, got {other:?}"),
    }
    assert_eq!(sandbox.read(|db| db.opportunities().count()), 0);
}

#[tokio::test]
async fn stage_archive_tags_sources_links_and_notes() {
    let sandbox = start_sandbox(SeedSpec {
        seed: 33,
        postings: 5,
        opportunities: 0,
    })
    .await;
    let client = admin_client(&sandbox);
    let user = sandbox.default_user_id();
    let posting = published_posting_ids(&client, 1).await.remove(0);

    let body = NewOpportunity {
        name: Some("Nguyễn Thị Minh Khai".into()),
        emails: vec!["minh.khai@example.vn".into()],
        tags: vec!["Senior".into()],
        sources: vec!["Remote Tech Work".into()],
        origin: Some(Origin::Sourced),
        postings: vec![posting.clone()],
        ..Default::default()
    };
    let opp = client
        .create_opportunity(&user, &body, Attachments::default())
        .await
        .unwrap();
    assert_eq!(opp.stage_id(), Some("lead-new"), "Lever's default stage");
    assert_eq!(opp.applications.len(), 1, "created on the posting");

    let opp = client
        .update_stage(&opp.id, "applicant-new", Some(&user))
        .await
        .unwrap();
    assert_eq!(opp.stage_id(), Some("applicant-new"));
    assert_eq!(
        opp.stage_changes.last().unwrap().to_stage_id,
        "applicant-new"
    );
    assert_eq!(
        opp.stage_changes.last().unwrap().user_id.as_deref(),
        Some(user.as_str())
    );

    let withdrew = client
        .archive_reasons(Some(ArchiveReasonType::NonHired))
        .try_collect::<Vec<_>>()
        .await
        .unwrap()
        .into_iter()
        .find(|r| r.text.to_lowercase().contains("withdr"))
        .expect("a withdrawal archive reason exists");
    let archived = client
        .archive(&opp.id, &withdrew.id, Some(&user))
        .await
        .unwrap();
    assert_eq!(
        archived.archive_state().unwrap().reason.as_deref(),
        Some(withdrew.id.as_str())
    );
    let err = client
        .archive(&opp.id, "no-such-reason", None)
        .await
        .unwrap_err();
    assert!(
        matches!(err, LeverError::Invalid { status: 400, .. }),
        "{err:?}"
    );
    let unarchived = client.unarchive(&opp.id, Some(&user)).await.unwrap();
    assert!(!unarchived.is_archived());

    let tagged = client
        .add_tags(&opp.id, &["Backend".into(), "Rust".into()], None)
        .await
        .unwrap();
    assert!(
        ["Senior", "Backend", "Rust"]
            .iter()
            .all(|t| tagged.tags.iter().any(|x| x == t))
    );
    let tagged = client
        .remove_tags(&opp.id, &["Senior".into()], None)
        .await
        .unwrap();
    assert!(!tagged.tags.iter().any(|t| t == "Senior"));
    let sourced = client
        .add_sources(&opp.id, &["Referral".into()], None)
        .await
        .unwrap();
    assert!(sourced.sources.iter().any(|s| s == "Referral"));
    let linked = client
        .add_links(&opp.id, &["https://remotetech.work/p/42".into()], None)
        .await
        .unwrap();
    assert!(
        linked
            .links
            .iter()
            .any(|l| l == "https://remotetech.work/p/42")
    );

    let note = NewNote {
        value: "Archivée puis réactivée — 候选人重新申请 ✅".into(),
        ..Default::default()
    };
    let created = client
        .create_note(&opp.id, &note, Some(&user))
        .await
        .unwrap();
    let fetched = client.note(&opp.id, &created.note_id).await.unwrap();
    assert_eq!(fetched.value(), note.value);
    let notes: Vec<_> = client.notes(&opp.id).try_collect().await.unwrap();
    assert_eq!(notes.len(), 1);
    let empty = client
        .create_note(&opp.id, &NewNote::default(), None)
        .await
        .unwrap_err();
    assert!(
        matches!(empty, LeverError::Invalid { status: 400, .. }),
        "{empty:?}"
    );

    let tags: Vec<_> = client.tags().try_collect().await.unwrap();
    assert!(
        tags.iter().any(|t| t.text == "Rust" && t.count >= 1),
        "tags are created on write and counted"
    );
}

#[tokio::test]
async fn unicode_names_round_trip() {
    let sandbox = start_sandbox(SeedSpec::vocabulary_only(34)).await;
    let client = admin_client(&sandbox);
    let user = sandbox.default_user_id();
    for name in [
        "Zoë Ødegård",
        "Łukasz Żółć",
        "李雷",
        "Анна Петрова",
        "محمد علي",
        "😀 Emoji Person",
    ] {
        let body = NewOpportunity {
            name: Some(name.into()),
            ..Default::default()
        };
        let created = client
            .create_opportunity(&user, &body, Attachments::default())
            .await
            .unwrap();
        let fetched = client.opportunity(&created.id).await.unwrap();
        assert_eq!(fetched.name.as_deref(), Some(name));
        let contact = client.contact(fetched.contact_id().unwrap()).await.unwrap();
        assert_eq!(contact.name.as_deref(), Some(name));
    }
    // The seed itself carries Unicode names too.
    let seeded = start_sandbox(SeedSpec {
        seed: 35,
        postings: 5,
        opportunities: 300,
    })
    .await;
    let non_ascii = seeded.read(|db| {
        db.opportunities()
            .filter(|o| o.name.as_deref().is_some_and(|n| !n.is_ascii()))
            .count()
    });
    assert!(non_ascii > 0);
}

#[tokio::test]
async fn an_unknown_opportunity_is_not_found() {
    let sandbox = start_sandbox(SeedSpec::vocabulary_only(36)).await;
    let client = admin_client(&sandbox);
    let err = client
        .opportunity("00000000-0000-0000-0000-000000000000")
        .await
        .unwrap_err();
    assert!(matches!(err, LeverError::NotFound { .. }), "{err:?}");
}
