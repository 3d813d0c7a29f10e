//! Contacts, notes, files, résumés, tags, sources and users of contract 0.2.0.

use super::*;

/// An opportunity created through the host, with a résumé and one file.
async fn candidate(host: &mut HostCalls) -> (wit::Opportunity, wit::FileInfo) {
    let mut new = new_opportunity("Ada Lovelace", "ada@example.com");
    new.resume = Some(attachment("ada.pdf", b"%PDF-1.4 ada"));
    new.tags = vec!["math".into()];
    new.sources = vec!["Fixture".into()];
    let created = host.create_opportunity(new).await.expect("created");
    let file = host
        .upload_file(
            created.id.clone(),
            attachment("notes.pdf", b"%PDF-1.4 notes"),
            None,
        )
        .await
        .expect("file");
    (created, file)
}

fn note(value: &str) -> wit::NewNote {
    wit::NewNote {
        value: value.into(),
        secret: false,
        score: Some(3),
        acting_user: None,
    }
}

#[tokio::test]
async fn contacts_files_resumes_tags_and_sources_read_back() {
    let setup = Setup::new(SeedSpec::new(41, 3, 10)).await;
    let mut host = setup.all();
    let (opportunity, file) = candidate(&mut host).await;

    let contact = host
        .get_contact(opportunity.contact_id.clone())
        .await
        .expect("contact");
    assert_eq!(contact.id, opportunity.contact_id);
    assert_eq!(contact.name.as_deref(), Some("Ada Lovelace"));
    assert_eq!(contact.emails, ["ada@example.com"]);
    assert!(!contact.is_anonymized);
    let mut update = contact_update();
    update.headline = Some("Analyst".into());
    update.location = Some("London".into());
    let updated = host
        .update_contact(contact.id.clone(), update)
        .await
        .expect("updated");
    assert_eq!(updated.headline.as_deref(), Some("Analyst"));
    assert_eq!(updated.location.as_deref(), Some("London"));
    assert_eq!(updated.name, contact.name, "not given, kept");
    assert_eq!(host.get_contact(contact.id.clone()).await, Ok(updated));

    assert_eq!(
        host.get_file(opportunity.id.clone(), file.id.clone()).await,
        Ok(file)
    );
    let resumes = host
        .list_resumes(opportunity.id.clone())
        .await
        .expect("resumes");
    let resume = host
        .get_resume(opportunity.id.clone(), resumes[0].id.clone())
        .await
        .expect("resume");
    assert_eq!(resume, resumes[0]);
    assert_eq!(resume.file.map(|f| f.name), Some("ada.pdf".into()));

    let counts = |v: Vec<lm::TextCount>| -> Vec<(String, u32)> {
        v.into_iter().map(|t| (t.text, t.count as u32)).collect()
    };
    let wit_counts = |v: Vec<wit::TextCount>| -> Vec<(String, u32)> {
        v.into_iter().map(|t| (t.text, t.count)).collect()
    };
    let tags = host.list_tags().await.expect("tags");
    assert!(tags.iter().any(|t| t.text == "math" && t.count == 1));
    assert_eq!(wit_counts(tags), counts(setup.sandbox.read(|db| db.tags())));
    let sources = host.list_sources().await.expect("sources");
    assert_eq!(
        wit_counts(sources),
        counts(setup.sandbox.read(|db| db.sources()))
    );

    for missing in [
        host.get_contact("no-such-contact".into()).await.err(),
        host.get_file(opportunity.id.clone(), "no-such-file".into())
            .await
            .err(),
        host.get_resume(opportunity.id.clone(), "no-such-resume".into())
            .await
            .err(),
    ] {
        assert!(
            matches!(missing, Some(PluginError::NotFound(_))),
            "{missing:?}"
        );
    }
}

#[tokio::test]
async fn notes_are_read_and_only_the_integrations_own_are_deleted() {
    let setup = Setup::new(SeedSpec::vocabulary_only(42)).await;
    let mut host = setup.all();
    let (opportunity, _) = candidate(&mut host).await;
    let id = opportunity.id.clone();
    let ours = host
        .add_note(id.clone(), note("Strong yes"))
        .await
        .expect("note");
    let read = host.get_note(id.clone(), ours.clone()).await.expect("read");
    assert_eq!(read.value, "Strong yes");
    assert_eq!(read.user_id, Some(setup.sandbox.default_user_id()));

    // A note someone else wrote in Lever: refused after reading it, nothing deleted.
    let someone = setup
        .sandbox
        .read(|db| {
            db.users()
                .find(|u| u.is_active() && u.id != setup.sandbox.default_user_id())
                .map(|u| u.id.clone())
        })
        .expect("another user");
    let theirs = raw(&setup.sandbox)
        .create_note(
            &id,
            &lm::NewNote {
                value: "Their words".into(),
                ..Default::default()
            },
            Some(&someone),
        )
        .await
        .expect("their note")
        .note_id;
    setup.sandbox.reset_stats();
    let refused = host.delete_note(id.clone(), theirs.clone()).await;
    assert_eq!(
        refused,
        Err(PluginError::Forbidden(format!(
            "delete opportunity note: note {theirs} was not written by this integration"
        )))
    );
    let stats = setup.sandbox.stats();
    assert_eq!(
        stats.requests_to(Operation::GetNote),
        1,
        "the note was read"
    );
    assert!(stats.writes.is_empty(), "nothing deleted: {stats:?}");
    let denied = setup.audit.denied();
    assert_eq!(
        denied.last().map(|r| r.operation.as_str()),
        Some("DELETE /opportunities/:opportunity/notes/:note")
    );

    host.delete_note(id.clone(), ours.clone())
        .await
        .expect("our own note");
    let gone = host.get_note(id.clone(), ours).await;
    assert!(matches!(gone, Err(PluginError::NotFound(_))), "{gone:?}");
    let left: Vec<String> = host
        .list_notes(id.clone())
        .await
        .expect("notes")
        .into_iter()
        .map(|n| n.id)
        .collect();
    assert_eq!(left, [theirs]);
    let missing = host.delete_note(id, "no-such-note".into()).await;
    assert!(
        matches!(missing, Err(PluginError::NotFound(_))),
        "{missing:?}"
    );
}

#[tokio::test]
async fn users_are_listed_by_filter_read_and_created_once() {
    let setup = Setup::new(SeedSpec::vocabulary_only(43)).await;
    let mut host = setup.all();
    let seeded: Vec<lm::User> = setup.sandbox.read(|db| db.users().cloned().collect());
    let active = host.list_users(users_filter()).await.expect("users");
    assert_eq!(
        active.len(),
        seeded.iter().filter(|u| u.is_active()).count()
    );
    assert!(active.iter().all(|u| u.active));
    let mut everyone = users_filter();
    everyone.include_deactivated = true;
    let everyone = host.list_users(everyone).await.expect("everyone");
    assert_eq!(everyone.len(), seeded.len());
    let role = seeded[0].access_role.clone();
    let mut by_role = users_filter();
    by_role.access_role = Some(role.clone());
    let by_role = host.list_users(by_role).await.expect("by role");
    assert!(!by_role.is_empty() && by_role.iter().all(|u| u.access_role == role));

    let user = host.get_user(seeded[0].id.clone()).await.expect("a user");
    assert_eq!(
        (user.id.as_str(), user.email.as_str()),
        (seeded[0].id.as_str(), seeded[0].email.as_str())
    );
    let missing = host.get_user("no-such-user".into()).await;
    assert!(
        matches!(missing, Err(PluginError::NotFound(_))),
        "{missing:?}"
    );

    // Created through the journal: the replay answers from it, nothing is sent again.
    let journal = Arc::new(MemoryJournal::new());
    let mut recruiter = new_user("Agency Recruiter", "recruiter@agency.example");
    recruiter.job_title = Some("External recruiter".into());
    let created = setup
        .journaled(&journal)
        .create_user(recruiter.clone())
        .await
        .expect("created");
    assert_eq!(created.access_role, "interviewer", "Lever's default");
    assert_eq!(created.job_title.as_deref(), Some("External recruiter"));
    setup.sandbox.reset_stats();
    let replayed = setup
        .journaled(&journal)
        .create_user(recruiter)
        .await
        .expect("replayed");
    assert_eq!(replayed, created);
    assert_eq!(setup.sandbox.stats().total_requests(), 0);
    let mut by_email = users_filter();
    by_email.email = Some("RECRUITER@agency.example".into());
    assert_eq!(
        host.list_users(by_email).await.expect("by e-mail"),
        [created]
    );
}

#[tokio::test]
async fn contact_updates_and_note_deletions_replay_from_the_journal() {
    let setup = Setup::new(SeedSpec::vocabulary_only(44)).await;
    let mut host = setup.all();
    let (opportunity, _) = candidate(&mut host).await;
    let ours = host
        .add_note(opportunity.id.clone(), note("To delete"))
        .await
        .expect("note");
    let journal = Arc::new(MemoryJournal::new());
    let attempt = |journal: &Arc<MemoryJournal>| {
        let mut host = setup.journaled(journal);
        let (opportunity, contact, note) = (
            opportunity.id.clone(),
            opportunity.contact_id.clone(),
            ours.clone(),
        );
        async move {
            let mut update = contact_update();
            update.headline = Some("Countess".into());
            let updated = host.update_contact(contact, update).await.expect("contact");
            host.delete_note(opportunity, note).await.expect("deleted");
            updated
        }
    };
    let first = attempt(&journal).await;
    setup.sandbox.reset_stats();
    let second = attempt(&journal).await;
    assert_eq!(second, first);
    let stats = setup.sandbox.stats();
    assert_eq!(
        stats.total_requests(),
        0,
        "the note lookup and both writes answered from the journal: {stats:?}"
    );
}
