//! Every Lever function against the real sandbox, called directly on a `HostState` (no guest
//! needed): mapping, cursors, limits, and the policy around them.

use super::*;
use crate::audit::{AuditOutcome, MemoryAuditLog};
use crate::bindings::fulcrum::connector::lever::Host as _;
use crate::capabilities::state::MemoryStateStore;
use crate::config::RuntimeConfig;
use crate::grants::{Grants, InvocationContext};
use crate::host::testing;
use crate::invoke::CallKind;
use crate::journal::MemoryJournal;
use lever_client::{ClientConfig, Credential, LeverClient};
use lever_model::{self as lm, Permission};
use lever_sandbox::{KeySpec, Sandbox, SandboxConfig, SeedSpec};
use std::collections::BTreeSet;
use std::sync::Arc;

struct Setup {
    sandbox: Sandbox,
    audit: Arc<MemoryAuditLog>,
}

async fn sandbox(seed: SeedSpec) -> Sandbox {
    Sandbox::start(
        SandboxConfig {
            seed,
            rate_limit: false,
            ..Default::default()
        },
        "127.0.0.1:0".parse().expect("addr"),
    )
    .await
    .expect("sandbox")
}

fn access(sandbox: &Sandbox, key: KeySpec) -> LeverAccess {
    let mut config = ClientConfig::new(&sandbox.api_url()).expect("url");
    config.max_retries = 0;
    config.page_size = 3; // several Lever pages per host page
    let client =
        LeverClient::new(config, Credential::api_key(sandbox.issue_api_key(key))).expect("client");
    LeverAccess {
        client,
        acting_user_id: sandbox.default_user_id(),
    }
}

impl Setup {
    async fn new(seed: SeedSpec) -> Self {
        Setup {
            sandbox: sandbox(seed).await,
            audit: Arc::new(MemoryAuditLog::new()),
        }
    }

    fn host(&self, grants: &[Permission], kind: CallKind, config: RuntimeConfig) -> HostState {
        let requested: BTreeSet<Permission> = Permission::ALL.iter().copied().collect();
        let approved: BTreeSet<Permission> = grants.iter().copied().collect();
        let ctx = InvocationContext::new(
            "t",
            "i",
            "unit",
            Arc::new(MemoryStateStore::new()),
            self.audit.clone(),
        )
        .with_grants(Grants::new(&requested, &approved))
        .with_lever(access(&self.sandbox, KeySpec::all("unit")));
        testing::state(
            config,
            testing::plugin(Permission::ALL, &[], &[]),
            ctx,
            kind,
        )
    }

    fn all(&self) -> HostState {
        self.host(Permission::ALL, CallKind::Action, RuntimeConfig::default())
    }
}

fn new_opportunity(name: &str, email: &str) -> wit::NewOpportunity {
    wit::NewOpportunity {
        name: name.into(),
        headline: None,
        emails: vec![email.into()],
        phones: vec![],
        location: None,
        links: vec![],
        tags: vec![],
        sources: vec![],
        origin: None,
        posting_id: None,
        stage_id: None,
        owner_id: None,
        acting_user_id: None,
        resume: None,
        files: vec![],
    }
}

#[tokio::test]
async fn cursors_page_through_postings_and_opportunities() {
    let setup = Setup::new(SeedSpec::new(7, 8, 12)).await;
    let mut host = setup.all();
    let filter = |cursor: Option<String>, limit| wit::PostingFilter {
        states: vec![],
        channels: vec![],
        updated_since: None,
        cursor,
        limit: Some(limit),
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
            email: None,
            posting_id: None,
            tag: None,
            stage_id: None,
            archived: None,
            updated_since: None,
            cursor: None,
            limit: Some(5),
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

fn posting_filter(
    states: Vec<wit::PostingState>,
    channels: Vec<wit::DistributionChannel>,
    updated_since: Option<i64>,
) -> wit::PostingFilter {
    wit::PostingFilter {
        states,
        channels,
        updated_since,
        cursor: None,
        limit: None,
    }
}

fn opportunity_filter() -> wit::OpportunityFilter {
    wit::OpportunityFilter {
        email: None,
        posting_id: None,
        tag: None,
        stage_id: None,
        archived: None,
        updated_since: None,
        cursor: None,
        limit: None,
    }
}

/// Follows `next-cursor` to the end: every id in order, and the number of pages.
async fn walk_postings(
    host: &mut HostState,
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
    host: &mut HostState,
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

#[tokio::test]
async fn opportunity_writes_reach_lever_and_read_back() {
    let setup = Setup::new(SeedSpec::new(3, 2, 0)).await;
    let mut host = setup.all();
    let posting = setup
        .sandbox
        .read(|db| db.postings().next().map(|p| p.id.clone()))
        .expect("a posting");
    let mut new = new_opportunity("Grace Hopper", "grace@example.com");
    new.posting_id = Some(posting.clone());
    new.origin = Some(wit::Origin::Sourced);
    new.tags = vec!["cobol".into()];
    let created = host.create_opportunity(new).await.expect("created");
    assert_eq!(created.posting_ids, std::slice::from_ref(&posting));
    assert_eq!(created.emails, ["grace@example.com"]);
    let id = created.id.clone();

    let stage = setup
        .sandbox
        .read(|db| db.stages().nth(1).map(|s| s.id.clone()))
        .expect("stage");
    host.change_stage(id.clone(), stage.clone())
        .await
        .expect("stage");
    host.add_tags(id.clone(), vec!["navy".into()])
        .await
        .expect("tags");
    host.remove_tags(id.clone(), vec!["cobol".into()])
        .await
        .expect("untag");
    host.add_sources(id.clone(), vec!["Fixture".into()])
        .await
        .expect("sources");
    host.add_links(id.clone(), vec!["https://example.com/grace".into()])
        .await
        .expect("links");
    let note = host
        .add_note(
            id.clone(),
            wit::NewNote {
                value: "Invented the compiler".into(),
                secret: false,
                score: None,
            },
        )
        .await
        .expect("note");
    let notes = host.list_notes(id.clone()).await.expect("notes");
    assert_eq!(notes.len(), 1);
    assert_eq!(
        (notes[0].id.as_str(), notes[0].value.as_str()),
        (note.as_str(), "Invented the compiler")
    );

    let read = host.get_opportunity(id.clone()).await.expect("read");
    assert_eq!(read.stage_id.as_deref(), Some(stage.as_str()));
    assert_eq!(read.tags, ["navy"]);
    assert!(read.sources.contains(&"Fixture".to_owned()));
    assert_eq!(read.links, ["https://example.com/grace"]);
    assert_eq!(read.posting_ids, [posting]);
    assert_eq!(read.origin, Some(wit::Origin::Sourced));

    let reason = host.list_archive_reasons().await.expect("reasons")[0]
        .id
        .clone();
    host.archive(id.clone(), reason.clone())
        .await
        .expect("archive");
    let archived = host.get_opportunity(id.clone()).await.expect("read");
    assert_eq!(archived.archived.map(|a| a.reason_id), Some(Some(reason)));
    host.unarchive(id.clone()).await.expect("unarchive");
    assert!(
        host.get_opportunity(id.clone())
            .await
            .expect("read")
            .archived
            .is_none()
    );

    let found = host
        .find_opportunities(wit::OpportunityFilter {
            email: Some("grace@example.com".into()),
            posting_id: None,
            tag: None,
            stage_id: None,
            archived: None,
            updated_since: None,
            cursor: None,
            limit: None,
        })
        .await
        .expect("found");
    assert_eq!(
        found
            .opportunities
            .iter()
            .map(|o| o.id.as_str())
            .collect::<Vec<_>>(),
        [id.as_str()]
    );

    let missing = host.get_opportunity("no-such-id".into()).await;
    assert!(
        matches!(missing, Err(PluginError::NotFound(_))),
        "{missing:?}"
    );
    assert!(
        host.list_users()
            .await
            .expect("users")
            .iter()
            .any(|u| u.id == setup.sandbox.default_user_id())
    );
    assert!(!host.list_stages().await.expect("stages").is_empty());
    let denied = setup.audit.denied();
    assert!(denied.is_empty(), "{denied:?}");
}

#[tokio::test]
async fn files_and_resumes_upload_list_and_download_within_the_limit() {
    let setup = Setup::new(SeedSpec::vocabulary_only(5)).await;
    let mut host = setup.all();
    let mut new = new_opportunity("Ada", "ada@example.com");
    new.resume = Some(wit::Attachment {
        name: "cv.pdf".into(),
        content_type: "application/pdf".into(),
        bytes: b"%PDF-1.4 resume".to_vec(),
    });
    let id = host.create_opportunity(new).await.expect("created").id;
    let file = host
        .upload_file(
            id.clone(),
            wit::Attachment {
                name: "notes.txt".into(),
                content_type: "text/plain".into(),
                bytes: vec![b'x'; 2_000],
            },
        )
        .await
        .expect("uploaded");
    assert_eq!(
        (file.name.as_str(), file.extension.as_str(), file.size),
        ("notes.txt", ".txt", 2_000)
    );
    assert_eq!(host.list_files(id.clone()).await.expect("files").len(), 1);
    assert_eq!(
        host.download_file(id.clone(), file.id.clone())
            .await
            .expect("bytes"),
        vec![b'x'; 2_000]
    );
    let resumes = host.list_resumes(id.clone()).await.expect("resumes");
    assert_eq!(resumes.len(), 1);
    assert_eq!(
        resumes[0].file.as_ref().map(|f| f.extension.as_str()),
        Some(".pdf")
    );
    assert_eq!(
        host.download_resume(id.clone(), resumes[0].id.clone())
            .await
            .expect("resume"),
        b"%PDF-1.4 resume"
    );

    // A download larger than the operator's limit is a typed limit error.
    let mut config = RuntimeConfig::default();
    config.limits.max_lever_download_bytes = 1_000;
    let mut small = setup.host(Permission::ALL, CallKind::Action, config);
    let too_big = small.download_file(id, file.id).await;
    assert_eq!(
        too_big,
        Err(PluginError::LimitExceeded(
            "Lever download larger than 1000 bytes".into()
        ))
    );
}

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
    .with_grants(Grants::new(
        &Permission::ALL.iter().copied().collect(),
        &Permission::ALL.iter().copied().collect(),
    ))
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
    let refused = host.list_users().await;
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
    .with_grants(Grants::new(
        &Permission::ALL.iter().copied().collect(),
        &Permission::ALL.iter().copied().collect(),
    ));
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

/// The "no-permission" twin of every Lever function: with every permission granted except the
/// one its operation needs, the call is refused with that permission's words, audited as
/// denied, and nothing reaches Lever.
#[tokio::test]
async fn every_function_is_refused_without_its_permission() {
    let setup = Setup::new(SeedSpec::vocabulary_only(11)).await;
    let attachment = || wit::Attachment {
        name: "cv.pdf".into(),
        content_type: "application/pdf".into(),
        bytes: b"%PDF-1.4".to_vec(),
    };
    let (o, f) = (|| "opp".to_owned(), || "file".to_owned());
    for function in FUNCTIONS {
        let permission = operation_of(function).unwrap().permission();
        let granted: Vec<Permission> = Permission::ALL
            .iter()
            .copied()
            .filter(|p| *p != permission)
            .collect();
        let mut host = setup.host(&granted, CallKind::Action, RuntimeConfig::default());
        let refused = match *function {
            "list-postings" => host
                .list_postings(wit::PostingFilter {
                    states: vec![],
                    channels: vec![],
                    updated_since: None,
                    cursor: None,
                    limit: None,
                })
                .await
                .err(),
            "get-posting" => host.get_posting("p".into()).await.err(),
            "find-opportunities" => host
                .find_opportunities(wit::OpportunityFilter {
                    email: None,
                    posting_id: None,
                    tag: None,
                    stage_id: None,
                    archived: None,
                    updated_since: None,
                    cursor: None,
                    limit: None,
                })
                .await
                .err(),
            "get-opportunity" => host.get_opportunity(o()).await.err(),
            "create-opportunity" => host
                .create_opportunity(new_opportunity("A", "a@example.com"))
                .await
                .err(),
            "change-stage" => host.change_stage(o(), "offer".into()).await.err(),
            "archive" => host.archive(o(), "reason".into()).await.err(),
            "unarchive" => host.unarchive(o()).await.err(),
            "add-tags" => host.add_tags(o(), vec!["t".into()]).await.err(),
            "remove-tags" => host.remove_tags(o(), vec!["t".into()]).await.err(),
            "add-sources" => host.add_sources(o(), vec!["s".into()]).await.err(),
            "add-links" => host
                .add_links(o(), vec!["https://x.example".into()])
                .await
                .err(),
            "add-note" => host
                .add_note(
                    o(),
                    wit::NewNote {
                        value: "n".into(),
                        secret: false,
                        score: None,
                    },
                )
                .await
                .err(),
            "list-notes" => host.list_notes(o()).await.err(),
            "upload-file" => host.upload_file(o(), attachment()).await.err(),
            "list-files" => host.list_files(o()).await.err(),
            "download-file" => host.download_file(o(), f()).await.err(),
            "list-resumes" => host.list_resumes(o()).await.err(),
            "download-resume" => host.download_resume(o(), f()).await.err(),
            "list-stages" => host.list_stages().await.err(),
            "list-archive-reasons" => host.list_archive_reasons().await.err(),
            "list-users" => host.list_users().await.err(),
            other => panic!("{other}: add it to this test"),
        };
        assert_eq!(
            refused,
            Some(PluginError::Forbidden(permission.as_str().to_owned())),
            "{function}"
        );
    }
    assert_eq!(
        setup.sandbox.stats().total_requests(),
        0,
        "no refused call reached Lever"
    );
    assert_eq!(setup.audit.denied().len(), FUNCTIONS.len());
}

impl Setup {
    /// Every permission, and `journal` as the effect journal of the event being handled.
    fn journaled(&self, journal: &Arc<MemoryJournal>) -> HostState {
        let mut host = self.all();
        host.ctx.journal = Some(journal.clone());
        host
    }
}

/// One attempt of a handler: create, note, file, tags, in that order. Returns the ids.
async fn journaled_attempt(host: &mut HostState) -> (String, String, String) {
    let id = host
        .create_opportunity(new_opportunity("Grace Hopper", "grace@example.com"))
        .await
        .expect("created")
        .id;
    let note = host
        .add_note(
            id.clone(),
            wit::NewNote {
                value: "Invented the compiler".into(),
                secret: false,
                score: None,
            },
        )
        .await
        .expect("note");
    let file = host
        .upload_file(
            id.clone(),
            wit::Attachment {
                name: "notes.txt".into(),
                content_type: "text/plain".into(),
                bytes: vec![b'x'; 100],
            },
        )
        .await
        .expect("file");
    host.add_tags(id.clone(), vec!["navy".into()])
        .await
        .expect("tags");
    (id, note, file.id)
}

#[tokio::test]
async fn unknown_outcomes_are_reconciled_by_lookup_or_sent_again_when_idempotent() {
    let setup = Setup::new(SeedSpec::vocabulary_only(13)).await;
    let journal = Arc::new(MemoryJournal::new());
    let first = journaled_attempt(&mut setup.journaled(&journal)).await;
    let operations: Vec<String> = journal.entries().into_iter().map(|e| e.operation).collect();
    assert_eq!(
        operations,
        [
            "POST /opportunities",
            "POST /opportunities/:opportunity/notes",
            "POST /opportunities/:opportunity/files",
            "POST /opportunities/:opportunity/addTags",
        ]
    );
    let count =
        |f: &dyn Fn(&lever_sandbox::Db, &str) -> usize| setup.sandbox.read(|db| f(db, &first.0));

    // Crash after Lever answered the note, the file and the tags, before recording them.
    for seq in 1..=3 {
        assert!(journal.forget_response(seq));
    }
    setup.sandbox.reset_stats();
    let second = journaled_attempt(&mut setup.journaled(&journal)).await;
    assert_eq!(second, first, "the same note and file, found in Lever");
    let stats = setup.sandbox.stats();
    assert_eq!(
        stats.writes.clone().into_iter().collect::<Vec<_>>(),
        [("POST /opportunities/:opportunity/addTags".to_owned(), 1)],
        "only the idempotent write was sent again"
    );
    assert_eq!(stats.requests_to(Operation::ListNotes), 1);
    assert_eq!(stats.requests_to(Operation::ListFiles), 1);
    assert_eq!(count(&|db, id| db.notes(id).len()), 1);
    assert_eq!(count(&|db, id| db.files(id).len()), 1);
    assert!(journal.entries().iter().all(|e| e.is_done()));
    let labels: Vec<String> = setup
        .audit
        .records()
        .into_iter()
        .rev()
        .take(4)
        .map(|r| r.operation)
        .collect();
    assert_eq!(
        labels,
        [
            "POST /opportunities/:opportunity/addTags",
            "POST /opportunities/:opportunity/files (reconciled)",
            "POST /opportunities/:opportunity/notes (reconciled)",
            "POST /opportunities (journal)",
        ]
    );

    // A note older than the write (beyond the clock slack) is someone else's: sent again.
    assert!(journal.forget_response(1));
    let later = lever_model::timestamp::now_millis() + CLOCK_SLACK_MS + 60_000;
    assert!(journal.set_begun_at(1, later));
    let third = journaled_attempt(&mut setup.journaled(&journal)).await;
    assert_eq!(third.0, first.0);
    assert_ne!(third.1, first.1, "a new note");
    assert_eq!(count(&|db, id| db.notes(id).len()), 2);
    assert_eq!(count(&|db, id| db.files(id).len()), 1);
}

#[tokio::test]
async fn journal_failures_are_typed_and_fail_closed() {
    use crate::journal::{CallSeq, EffectJournal, JournalEntry, JournalError};

    /// A journal whose store is down, or that cannot record.
    struct Broken {
        begin_fails: bool,
    }

    #[async_trait::async_trait]
    impl EffectJournal for Broken {
        async fn begin(&self, _: CallSeq, _: &str, _: &str) -> Result<JournalEntry, JournalError> {
            if self.begin_fails {
                Err(JournalError::Unavailable("database is down".into()))
            } else {
                Ok(JournalEntry::Fresh)
            }
        }
        async fn record(&self, _: CallSeq, _: &serde_json::Value) -> Result<(), JournalError> {
            Err(JournalError::Unavailable("disk full".into()))
        }
    }

    let setup = Setup::new(SeedSpec::vocabulary_only(14)).await;
    let mut host = setup.all();
    host.ctx.journal = Some(Arc::new(Broken { begin_fails: true }));
    let refused = host
        .create_opportunity(new_opportunity("Ada", "ada@example.com"))
        .await;
    assert_eq!(
        refused,
        Err(PluginError::Unavailable(
            "effect journal unavailable: database is down".into()
        ))
    );
    assert_eq!(setup.sandbox.stats().total_requests(), 0, "nothing sent");

    let mut host = setup.all();
    host.ctx.journal = Some(Arc::new(Broken { begin_fails: false }));
    let unrecorded = host
        .create_opportunity(new_opportunity("Ada", "ada@example.com"))
        .await;
    let Err(PluginError::Unavailable(message)) = &unrecorded else {
        panic!("expected unavailable, got {unrecorded:?}");
    };
    assert!(
        message.contains("Lever applied create-opportunity")
            && message.contains("retried and reconciled"),
        "{message}"
    );
    assert_eq!(
        setup
            .sandbox
            .stats()
            .writes_to(Operation::CreateOpportunity),
        1
    );
}
