//! Listing through more than a thousand records, and recovering when Lever rejects an offset
//! token mid-listing.

use fulcrum_tests::{admin_client, start_sandbox};
use futures::{StreamExt, TryStreamExt};
use lever_client::{OpportunityQuery, PostingQuery};
use lever_model::{Confidentiality, DistributionChannel, Operation, PostingState};
use lever_sandbox::SeedSpec;
use std::collections::HashSet;

#[tokio::test]
async fn streams_every_record_across_pages_exactly_once() {
    let sandbox = start_sandbox(SeedSpec {
        seed: 7,
        postings: 1_050,
        opportunities: 1_234,
    })
    .await;
    let client = admin_client(&sandbox);

    // Lever lists confidential records only when asked; ask, so every seeded record counts.
    let everything = OpportunityQuery {
        confidentiality: Some("all".into()),
        ..Default::default()
    };
    let opportunities: Vec<_> = client
        .opportunities(everything)
        .try_collect()
        .await
        .unwrap();
    let ids: HashSet<_> = opportunities.iter().map(|o| o.id.clone()).collect();
    assert_eq!(
        opportunities.len(),
        1_234,
        "every seeded opportunity is listed"
    );
    assert_eq!(ids.len(), 1_234, "no opportunity is listed twice");

    // Without the parameter, confidential ones are silently left out, as Lever does.
    let visible: Vec<_> = client
        .opportunities(OpportunityQuery::default())
        .try_collect()
        .await
        .unwrap();
    let non_confidential = sandbox.read(|db| {
        db.opportunities()
            .filter(|o| o.confidentiality != Confidentiality::Confidential)
            .count()
    });
    assert!(
        non_confidential < 1_234,
        "the seed has confidential opportunities"
    );
    assert_eq!(visible.len(), non_confidential);

    let all_postings = PostingQuery {
        confidentiality: Some("all".into()),
        ..Default::default()
    };
    let postings: Vec<_> = client.postings(all_postings).try_collect().await.unwrap();
    let unique: HashSet<_> = postings.iter().map(|p| p.id.clone()).collect();
    // Lever hides published postings that are only on the internal site unless a
    // distributionChannel is asked for.
    let expected = sandbox.read(|db| {
        db.postings()
            .filter(|p| {
                p.state != PostingState::Published
                    || p.distribution_channels
                        .as_deref()
                        .unwrap_or(&[])
                        .contains(&DistributionChannel::Public)
            })
            .count()
    });
    assert!(
        expected > 1_000 && expected < 1_050,
        "the seed has internal-only published postings"
    );
    assert_eq!(
        (postings.len(), unique.len()),
        (expected, expected),
        "every visible posting, once"
    );

    let pages = sandbox.stats().requests[&Operation::ListOpportunities.label()][&200];
    let expected_pages = 13 + non_confidential.div_ceil(100) as u64;
    assert_eq!(
        pages, expected_pages,
        "100 records per page, and not one request more"
    );
}

#[tokio::test]
async fn a_rejected_offset_token_restarts_the_listing_without_duplicates() {
    let sandbox = start_sandbox(SeedSpec {
        seed: 8,
        postings: 5,
        opportunities: 450,
    })
    .await;
    let client = admin_client(&sandbox);

    let mut stream = client.opportunities(OpportunityQuery::default());
    let mut seen = Vec::new();
    // Two pages in, every offset token Lever issued so far becomes invalid.
    while seen.len() < 150 {
        seen.push(stream.next().await.unwrap().unwrap().id);
    }
    sandbox.rotate_offset_tokens();
    while let Some(item) = stream.next().await {
        seen.push(item.unwrap().id);
    }

    let unique: HashSet<_> = seen.iter().collect();
    assert_eq!(seen.len(), 450, "each opportunity is yielded once");
    assert_eq!(unique.len(), 450);
    let rejected = sandbox.stats().requests[&Operation::ListOpportunities.label()]
        .get(&400)
        .copied();
    assert_eq!(
        rejected,
        Some(1),
        "the sandbox rejected exactly one stale token"
    );
}

#[tokio::test]
async fn filters_are_applied_by_the_server() {
    let sandbox = start_sandbox(SeedSpec {
        seed: 9,
        postings: 60,
        opportunities: 300,
    })
    .await;
    let client = admin_client(&sandbox);

    let archived: Vec<_> = client
        .opportunities(OpportunityQuery {
            archived: Some(true),
            ..Default::default()
        })
        .try_collect()
        .await
        .unwrap();
    let expected = sandbox.read(|db| {
        db.opportunities()
            .filter(|o| o.archived.is_some() && o.confidentiality != Confidentiality::Confidential)
            .count()
    });
    assert!(expected > 0, "the seed archives some opportunities");
    assert_eq!(archived.len(), expected);
    assert!(archived.iter().all(|o| o.is_archived()));

    let published: Vec<_> = client
        .postings(PostingQuery {
            state: vec![lever_model::PostingState::Published],
            distribution_channel: vec![
                lever_model::DistributionChannel::Public,
                lever_model::DistributionChannel::Internal,
            ],
            ..Default::default()
        })
        .try_collect()
        .await
        .unwrap();
    assert!(!published.is_empty());
    assert!(
        published
            .iter()
            .all(|p| p.state == lever_model::PostingState::Published)
    );
}
