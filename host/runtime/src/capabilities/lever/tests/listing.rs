//! Listings: cursors bound to their filter, one Lever request per page, stale cursors.

use super::*;

#[tokio::test]
async fn cursors_page_through_postings_and_opportunities() {
    let setup = Setup::new(SeedSpec::new(7, 8, 12)).await;
    let mut host = setup.all();
    let filter = |cursor: Option<String>, limit| wit::PostingFilter {
        cursor,
        limit: Some(limit),
        ..posting_filter(vec![], vec![], None)
    };
    let everything = host
        .list_postings(filter(None, 100))
        .await
        .expect("postings");
    assert!(everything.next_cursor.is_none());
    assert!(
        everything.postings.len() > 3,
        "{}",
        everything.postings.len()
    );
    let mut paged = Vec::new();
    let mut cursor = None;
    loop {
        let page = host.list_postings(filter(cursor, 2)).await.expect("page");
        assert!(page.postings.len() <= 2);
        paged.extend(page.postings.into_iter().map(|p| p.id));
        match page.next_cursor {
            Some(next) => cursor = Some(next),
            None => break,
        }
    }
    let all_ids: Vec<String> = everything.postings.iter().map(|p| p.id.clone()).collect();
    assert_eq!(paged, all_ids);

    let opportunities = host
        .find_opportunities(wit::OpportunityFilter {
            limit: Some(5),
            ..opportunity_filter()
        })
        .await
        .expect("opportunities");
    assert_eq!(opportunities.opportunities.len(), 5);
    assert!(opportunities.next_cursor.is_some());
    let bad = host
        .list_postings(filter(Some("offset-token-from-elsewhere".into()), 2))
        .await;
    assert!(matches!(bad, Err(PluginError::Invalid(_))), "{bad:?}");
}

/// Follows `next-cursor` to the end: every id in order, and the number of pages.
async fn walk_postings(
    host: &mut HostCalls,
    mut filter: wit::PostingFilter,
    limit: u32,
) -> (Vec<String>, u64) {
    filter.limit = Some(limit);
    let (mut ids, mut pages) = (Vec::new(), 0);
    loop {
        let page = host.list_postings(filter.clone()).await.expect("page");
        pages += 1;
        assert!(page.postings.len() <= limit as usize);
        ids.extend(page.postings.into_iter().map(|p| p.id));
        match page.next_cursor {
            Some(next) => filter.cursor = Some(next),
            None => return (ids, pages),
        }
    }
}

async fn walk_opportunities(
    host: &mut HostCalls,
    mut filter: wit::OpportunityFilter,
    limit: u32,
) -> (Vec<String>, u64) {
    filter.limit = Some(limit);
    let (mut ids, mut pages) = (Vec::new(), 0);
    loop {
        let page = host.find_opportunities(filter.clone()).await.expect("page");
        pages += 1;
        assert!(page.opportunities.len() <= limit as usize);
        ids.extend(page.opportunities.into_iter().map(|o| o.id));
        match page.next_cursor {
            Some(next) => filter.cursor = Some(next),
            None => return (ids, pages),
        }
    }
}

/// Lever's visibility for a posting listing without filters: non-confidential, and published
/// postings only when they are on the public site.
fn listed_by_default(p: &lm::Posting) -> bool {
    p.confidentiality != lm::Confidentiality::Confidential
        && (p.state != lm::PostingState::Published
            || has_channel(p, lm::DistributionChannel::Public))
}

fn has_channel(p: &lm::Posting, c: lm::DistributionChannel) -> bool {
    p.distribution_channels.iter().flatten().any(|x| *x == c)
}

fn unique(ids: &[String]) -> BTreeSet<String> {
    let set: BTreeSet<String> = ids.iter().cloned().collect();
    assert_eq!(set.len(), ids.len(), "a record was listed twice");
    set
}

#[tokio::test]
async fn cursor_walks_list_every_record_once_with_one_lever_request_per_page() {
    let setup = Setup::new(SeedSpec::new(17, 250, 320)).await;
    let mut host = setup.all();
    let (postings, opportunities): (BTreeSet<String>, BTreeSet<String>) =
        setup.sandbox.read(|db| {
            (
                db.postings()
                    .filter(|p| listed_by_default(p))
                    .map(|p| p.id.clone())
                    .collect(),
                db.opportunities()
                    .filter(|o| o.confidentiality != lm::Confidentiality::Confidential)
                    .map(|o| o.id.clone())
                    .collect(),
            )
        });
    assert!(
        postings.len() > 200 && opportunities.len() > 200,
        "{} postings, {} opportunities",
        postings.len(),
        opportunities.len()
    );
    setup.sandbox.reset_stats();

    let (ids, pages) = walk_postings(&mut host, posting_filter(vec![], vec![], None), 100).await;
    assert_eq!(unique(&ids), postings);
    let expected_pages = postings.len().div_ceil(100) as u64;
    assert_eq!(pages, expected_pages);
    let stats = setup.sandbox.stats();
    assert_eq!(stats.requests_to(Operation::ListPostings), expected_pages);
    assert_eq!(stats.count(Operation::ListPostings, 200), expected_pages);

    let (ids, pages) = walk_opportunities(&mut host, opportunity_filter(), 100).await;
    assert_eq!(unique(&ids), opportunities);
    let expected_pages = opportunities.len().div_ceil(100) as u64;
    assert_eq!(pages, expected_pages);
    let stats = setup.sandbox.stats();
    assert_eq!(
        stats.requests_to(Operation::ListOpportunities),
        expected_pages
    );
    assert_eq!(
        stats.total_requests(),
        stats.requests_to(Operation::ListPostings) + expected_pages
    );
}

#[tokio::test]
async fn cursors_of_another_filter_or_garbage_are_invalid_before_any_request() {
    let setup = Setup::new(SeedSpec::new(19, 30, 30)).await;
    let mut host = setup.all();
    let restart = cursor::foreign();
    assert_eq!(
        restart,
        PluginError::Invalid(
            "cursor does not belong to this filter; start again without a cursor".into()
        )
    );

    let mut published = posting_filter(vec![wit::PostingState::Published], vec![], None);
    published.limit = Some(2);
    let posting_cursor = host
        .list_postings(published.clone())
        .await
        .expect("page")
        .next_cursor
        .expect("more than one page");
    let mut opportunities = opportunity_filter();
    opportunities.limit = Some(2);
    let opportunity_cursor = host
        .find_opportunities(opportunities.clone())
        .await
        .expect("page")
        .next_cursor
        .expect("more than one page");
    setup.sandbox.reset_stats();

    // Same listing, other filter.
    let mut closed = posting_filter(vec![wit::PostingState::Closed], vec![], None);
    closed.cursor = Some(posting_cursor.clone());
    assert_eq!(host.list_postings(closed).await, Err(restart.clone()));
    let mut archived = opportunity_filter();
    archived.archived = Some(true);
    archived.cursor = Some(opportunity_cursor.clone());
    assert_eq!(
        host.find_opportunities(archived).await,
        Err(restart.clone())
    );
    // Other listing.
    let mut swapped = published.clone();
    swapped.cursor = Some(opportunity_cursor.clone());
    assert_eq!(host.list_postings(swapped).await, Err(restart.clone()));
    let mut swapped = opportunities.clone();
    swapped.cursor = Some(posting_cursor.clone());
    assert_eq!(host.find_opportunities(swapped).await, Err(restart.clone()));
    // Garbage, including the old host cursors.
    for garbage in ["skip:2", "", "not a cursor", "7b7d", &posting_cursor[2..]] {
        let mut f = published.clone();
        f.cursor = Some(garbage.to_owned());
        assert_eq!(
            host.list_postings(f).await,
            Err(restart.clone()),
            "{garbage:?}"
        );
    }
    assert_eq!(
        setup.sandbox.stats().total_requests(),
        0,
        "refused before any request"
    );

    // The right filter (with another page size) continues where the cursor points.
    let mut next = published.clone();
    next.cursor = Some(posting_cursor);
    next.limit = Some(50);
    let rest = host.list_postings(next).await.expect("next page");
    let (all, _) = walk_postings(&mut host, published, 100).await;
    let rest: Vec<String> = rest.postings.into_iter().map(|p| p.id).collect();
    assert_eq!(rest, all[2..]);
}

#[tokio::test]
async fn rotated_offset_tokens_ask_the_plugin_to_restart() {
    let setup = Setup::new(SeedSpec::new(23, 40, 60)).await;
    let mut host = setup.all();
    let mut filter = opportunity_filter();
    filter.limit = Some(25);
    let first = host.find_opportunities(filter.clone()).await.expect("page");
    let mut postings = posting_filter(vec![], vec![], None);
    postings.limit = Some(10);
    let first_postings = host.list_postings(postings.clone()).await.expect("page");

    setup.sandbox.rotate_offset_tokens();
    filter.cursor = first.next_cursor;
    let stale = host.find_opportunities(filter.clone()).await;
    assert_eq!(stale, Err(cursor::expired()));
    let Err(PluginError::Invalid(message)) = stale else {
        unreachable!()
    };
    assert!(
        message.ends_with("; start again without a cursor"),
        "{message}"
    );
    postings.cursor = first_postings.next_cursor;
    assert_eq!(host.list_postings(postings).await, Err(cursor::expired()));
    assert_eq!(
        setup
            .sandbox
            .stats()
            .count(Operation::ListOpportunities, 400),
        1,
        "Lever was asked once and refused"
    );

    // Restarting without a cursor walks everything.
    filter.cursor = None;
    let (ids, _) = walk_opportunities(&mut host, filter, 25).await;
    let expected = setup.sandbox.read(|db| {
        db.opportunities()
            .filter(|o| o.confidentiality != lm::Confidentiality::Confidential)
            .count()
    });
    assert_eq!(unique(&ids).len(), expected);
    let failures: Vec<_> = setup
        .audit
        .records()
        .into_iter()
        .filter(|r| !matches!(r.outcome, AuditOutcome::Allowed))
        .map(|r| r.outcome)
        .collect();
    assert_eq!(
        failures,
        vec![
            AuditOutcome::Failed {
                error_kind: "invalid".into()
            };
            2
        ]
    );
}

#[tokio::test]
async fn updated_since_with_states_or_channels_is_filtered_in_the_host() {
    use wit::DistributionChannel::{Internal, Public};
    use wit::PostingState::{Closed, Internal as InternalState, Published};
    let setup = Setup::new(SeedSpec::new(29, 250, 0)).await;
    let mut host = setup.all();
    let since = setup.sandbox.read(|db| {
        let mut at: Vec<i64> = db.postings().filter_map(|p| p.updated_at).collect();
        at.sort_unstable();
        at[at.len() / 2]
    });
    let matching = |keep: &dyn Fn(&lm::Posting) -> bool| -> BTreeSet<String> {
        setup.sandbox.read(|db| {
            db.postings()
                .filter(|p| {
                    p.confidentiality != lm::Confidentiality::Confidential
                        && p.updated_at.is_some_and(|at| at >= since)
                        && keep(p)
                })
                .map(|p| p.id.clone())
                .collect()
        })
    };
    let updated = matching(&|p| listed_by_default(p));
    setup.sandbox.reset_stats();

    // States: Lever lists the updated postings, the host keeps the states asked for.
    let states = [
        lm::PostingState::Published,
        lm::PostingState::Closed,
        lm::PostingState::Internal,
    ];
    let expected = matching(&|p| listed_by_default(p) && states.contains(&p.state));
    assert!(
        !expected.is_empty() && expected.len() < updated.len(),
        "{expected:?}"
    );
    let filter = posting_filter(vec![Published, Closed, InternalState], vec![], Some(since));
    let (ids, pages) = walk_postings(&mut host, filter, 10).await;
    assert_eq!(unique(&ids), expected);
    // One Lever request per page, paging through what Lever matched (pages can be short).
    assert_eq!(pages, updated.len().div_ceil(10) as u64);
    assert_eq!(
        setup.sandbox.stats().count(Operation::ListPostings, 200),
        pages
    );

    // States and the public channel.
    let expected = matching(&|p| {
        p.state == lm::PostingState::Published && has_channel(p, lm::DistributionChannel::Public)
    });
    assert!(!expected.is_empty());
    let filter = posting_filter(vec![Published], vec![Public], Some(since));
    let (ids, _) = walk_postings(&mut host, filter, 100).await;
    assert_eq!(unique(&ids), expected);

    // The internal channel: Lever hides published internal-only postings from an
    // updated_at listing, so Lever filters by channel and the host by time.
    let expected = matching(&|p| has_channel(p, lm::DistributionChannel::Internal));
    assert!(
        setup.sandbox.read(|db| db
            .postings()
            .any(|p| { expected.contains(&p.id) && !listed_by_default(p) })),
        "the seed has an updated published internal-only posting"
    );
    let filter = posting_filter(vec![], vec![Internal], Some(since));
    let (ids, _) = walk_postings(&mut host, filter, 100).await;
    assert_eq!(unique(&ids), expected);

    assert_eq!(
        setup.sandbox.stats().count(Operation::ListPostings, 400),
        0,
        "updated_at_start was never combined with another filter"
    );
}
