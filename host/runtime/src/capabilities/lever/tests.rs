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
use lever_client::{ClientConfig, Credential, LeverClient};
use lever_model::Permission;
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
    assert_eq!(opportunities.next_cursor.as_deref(), Some("skip:5"));
    let bad = host
        .list_postings(filter(Some("offset-token-from-elsewhere".into()), 2))
        .await;
    assert!(matches!(bad, Err(PluginError::Invalid(_))), "{bad:?}");
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
