//! Listing through more than a thousand records, and recovering when Lever rejects an offset
//! token mid-listing.

use fulcrum_tests::{admin_client, start_sandbox};
use futures::{StreamExt, TryStreamExt};
use lever_client::{OpportunityQuery, PostingQuery};
use lever_model::Operation;
use lever_sandbox::SeedSpec;
use std::collections::HashSet;

#[tokio::test]
async fn streams_every_record_across_pages_exactly_once() {
    let sandbox = start_sandbox(SeedSpec { seed: 7, postings: 1_050, opportunities: 1_234 }).await;
    let client = admin_client(&sandbox);

    let opportunities: Vec<_> = client.opportunities(OpportunityQuery::default()).try_collect().await.unwrap();
    let ids: HashSet<_> = opportunities.iter().map(|o| o.id.clone()).collect();
    assert_eq!(opportunities.len(), 1_234, "every seeded opportunity is listed");
    assert_eq!(ids.len(), 1_234, "no opportunity is listed twice");

    let postings: Vec<_> = client.postings(PostingQuery::default()).try_collect().await.unwrap();
    let expected = sandbox.read(|db| db.postings().filter(|p| p.confidentiality != lever_model::Confidentiality::Confidential).count());
    assert!(expected > 1_000);
    assert_eq!(postings.len(), expected);

    let pages = sandbox.stats().requests[&Operation::ListOpportunities.label()][&200];
    assert_eq!(pages, 13, "1,234 records at 100 per page is 13 pages");
}

#[tokio::test]
async fn a_rejected_offset_token_restarts_the_listing_without_duplicates() {
    let sandbox = start_sandbox(SeedSpec { seed: 8, postings: 5, opportunities: 450 }).await;
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
    let rejected = sandbox.stats().requests[&Operation::ListOpportunities.label()].get(&400).copied();
    assert_eq!(rejected, Some(1), "the sandbox rejected exactly one stale token");
}

#[tokio::test]
async fn filters_are_applied_by_the_server() {
    let sandbox = start_sandbox(SeedSpec { seed: 9, postings: 60, opportunities: 300 }).await;
    let client = admin_client(&sandbox);

    let archived: Vec<_> = client
        .opportunities(OpportunityQuery { archived: Some(true), ..Default::default() })
        .try_collect()
        .await
        .unwrap();
    let expected = sandbox.read(|db| db.opportunities().filter(|o| o.archived.is_some()).count());
    assert!(expected > 0, "the seed archives some opportunities");
    assert_eq!(archived.len(), expected);
    assert!(archived.iter().all(|o| o.is_archived()));

    let published: Vec<_> = client
        .postings(PostingQuery {
            state: vec![lever_model::PostingState::Published],
            distribution_channel: vec![lever_model::DistributionChannel::Public, lever_model::DistributionChannel::Internal],
            ..Default::default()
        })
        .try_collect()
        .await
        .unwrap();
    assert!(!published.is_empty());
    assert!(published.iter().all(|p| p.state == lever_model::PostingState::Published));
}
