//! Writes and downloads reaching Lever, read back.

use super::*;

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
    host.change_stage(id.clone(), stage.clone(), None)
        .await
        .expect("stage");
    host.add_tags(id.clone(), vec!["navy".into()], None)
        .await
        .expect("tags");
    host.remove_tags(id.clone(), vec!["cobol".into()], None)
        .await
        .expect("untag");
    host.add_sources(id.clone(), vec!["Fixture".into()], None)
        .await
        .expect("sources");
    host.add_links(id.clone(), vec!["https://example.com/grace".into()], None)
        .await
        .expect("links");
    let note = host
        .add_note(
            id.clone(),
            wit::NewNote {
                value: "Invented the compiler".into(),
                secret: false,
                score: None,
                acting_user: None,
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
    host.archive(id.clone(), reason.clone(), None)
        .await
        .expect("archive");
    let archived = host.get_opportunity(id.clone()).await.expect("read");
    assert_eq!(archived.archived.map(|a| a.reason_id), Some(Some(reason)));
    host.unarchive(id.clone(), None).await.expect("unarchive");
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
            ..opportunity_filter()
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
        host.list_users(users_filter())
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
            None,
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
