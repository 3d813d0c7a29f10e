//! Interviews, panels, feedback, offers and referrals read through the client from the
//! sandbox: typed objects, pagination across small pages, empty lists, 404 and the 403 that
//! names the missing permission.

use super::*;
use lever_model::{Confidentiality, OfferStatus, Opportunity, Origin};
use lever_sandbox::{KeySpec, Sandbox, SandboxConfig, SeedSpec};

async fn sandbox() -> Sandbox {
    let config = SandboxConfig {
        seed: SeedSpec::demo(),
        rate_limit: false,
        ..Default::default()
    };
    Sandbox::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap()
}

fn client_for(sb: &Sandbox, key: String) -> LeverClient {
    let mut config = fast_config(&sb.api_url());
    // Small pages, so every list here spans several.
    config.page_size = 1;
    LeverClient::new(config, Credential::api_key(key)).unwrap()
}

/// A non-confidential seeded opportunity matching `f`.
fn pick(sb: &Sandbox, f: impl Fn(&Opportunity) -> bool) -> String {
    sb.read(|db| {
        db.opportunities()
            .find(|o| o.confidentiality == Confidentiality::NonConfidential && f(o))
            .map(|o| o.id.clone())
            .expect("the demo seed has one")
    })
}

#[tokio::test]
async fn hiring_data_reads_as_typed_objects_across_pages() {
    let sb = sandbox().await;
    let c = client_for(&sb, sb.demo_api_key());
    let onsite = pick(&sb, |o| {
        o.stage_changes.iter().any(|s| s.to_stage_index == Some(6))
    });

    let panels: Vec<_> = c.panels(&onsite).try_collect().await.unwrap();
    assert!(panels.len() >= 2);
    let interviews: Vec<_> = c.interviews(&onsite).try_collect().await.unwrap();
    let nested: Vec<_> = panels.iter().flat_map(|p| p.interviews.clone()).collect();
    let mut sorted = nested.clone();
    sorted.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    assert_eq!(interviews, sorted);
    assert_eq!(c.panel(&onsite, &panels[0].id).await.unwrap(), panels[0]);
    let i = &interviews[0];
    assert_eq!(&c.interview(&onsite, &i.id).await.unwrap(), i);
    assert!(!i.interviewers.is_empty() && i.duration > 0);

    let feedback: Vec<_> = c.feedback(&onsite).try_collect().await.unwrap();
    assert!(!feedback.is_empty());
    for f in &feedback {
        assert!(f.score().is_some(), "{f:?}");
        let owner = interviews
            .iter()
            .find(|i| Some(&i.id) == f.interview.as_ref())
            .unwrap();
        assert!(owner.feedback_forms.contains(&f.id));
    }
    assert_eq!(
        c.feedback_form(&onsite, &feedback[0].id).await.unwrap(),
        feedback[0]
    );

    let at_offer = pick(&sb, |o| o.stage_id() == Some("offer"));
    let offers: Vec<_> = c.offers(&at_offer, false).try_collect().await.unwrap();
    assert_eq!(offers.len(), 1);
    assert_ne!(offers[0].status, OfferStatus::Unknown);
    assert!(offers[0].field("salary").is_some());
    assert!(offers[0].creator.as_ref().unwrap().expanded().is_none());
    let expanded: Vec<_> = c.offers(&at_offer, true).try_collect().await.unwrap();
    let creator = expanded[0].creator.as_ref().unwrap().expanded().unwrap();
    assert_eq!(creator.id, offers[0].creator.as_ref().unwrap().id());

    let referred = pick(&sb, |o| o.origin == Some(Origin::Referred));
    let referrals: Vec<_> = c.referrals(&referred).try_collect().await.unwrap();
    assert_eq!(referrals.len(), 1);
    assert_eq!(referrals[0].kind, "referral");
    assert_eq!(
        c.referral(&referred, &referrals[0].id).await.unwrap(),
        referrals[0]
    );
    sb.shutdown().await;
}

#[tokio::test]
async fn empty_lists_404_and_the_named_permission() {
    let sb = sandbox().await;
    let c = client_for(&sb, sb.demo_api_key());
    let quiet = pick(&sb, |o| {
        o.origin != Some(Origin::Referred)
            && o.stage_changes
                .iter()
                .all(|s| s.to_stage_index.is_some_and(|i| i < 5))
    });
    // An opportunity without hiring data is empty lists, never an error.
    assert!(
        c.interviews(&quiet)
            .try_collect::<Vec<_>>()
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        c.panels(&quiet)
            .try_collect::<Vec<_>>()
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        c.feedback(&quiet)
            .try_collect::<Vec<_>>()
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        c.offers(&quiet, true)
            .try_collect::<Vec<_>>()
            .await
            .unwrap()
            .is_empty()
    );
    assert!(
        c.referrals(&quiet)
            .try_collect::<Vec<_>>()
            .await
            .unwrap()
            .is_empty()
    );

    let missing = c
        .interviews("nope")
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    assert!(matches!(missing, LeverError::NotFound { .. }), "{missing}");
    let missing = c.referral(&quiet, "nope").await.unwrap_err();
    assert!(matches!(missing, LeverError::NotFound { .. }), "{missing}");

    let narrow = client_for(
        &sb,
        sb.issue_api_key(KeySpec::only("notes", [Permission::ListOpportunityNotes])),
    );
    let err = narrow
        .offers(&quiet, false)
        .try_collect::<Vec<_>>()
        .await
        .unwrap_err();
    match &err {
        LeverError::Forbidden {
            operation,
            permission,
            ..
        } => {
            assert_eq!(*operation, Operation::ListOffers);
            assert_eq!(*permission, Permission::ListOpportunityOffers);
        }
        other => panic!("expected 403, got {other}"),
    }
    assert!(err.to_string().contains("list opportunity offers"), "{err}");
    let err = narrow.feedback_form(&quiet, "x").await.unwrap_err();
    assert!(
        matches!(
            err,
            LeverError::Forbidden {
                permission: Permission::ReadOpportunityFeedback,
                ..
            }
        ),
        "{err}"
    );
    sb.shutdown().await;
}
