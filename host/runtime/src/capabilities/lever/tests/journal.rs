//! Lever writes through the effect journal: reconciliation after unknown outcomes, and
//! journal failures.

use super::*;

impl Setup {
    /// Every permission, and `journal` as the effect journal of the event being handled.
    pub(super) fn journaled(&self, journal: &Arc<MemoryJournal>) -> HostCalls {
        let mut host = self.all();
        host.ctx.journal = Some(journal.clone());
        host
    }
}

/// One attempt of a handler: create, note, file, tags, in that order. Returns the ids.
async fn journaled_attempt(host: &mut HostCalls) -> (String, String, String) {
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
                acting_user: None,
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
            None,
        )
        .await
        .expect("file");
    host.add_tags(id.clone(), vec!["navy".into()], None)
        .await
        .expect("tags");
    (id, note, file.id)
}

#[tokio::test]
async fn unknown_outcomes_are_reconciled_against_lever_without_sending_again() {
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
    assert!(stats.writes.is_empty(), "nothing sent again: {stats:?}");
    assert_eq!(stats.requests_to(Operation::ListNotes), 1);
    assert_eq!(stats.requests_to(Operation::ListFiles), 1);
    assert_eq!(
        stats.requests_to(Operation::GetOpportunity),
        1,
        "the tags were looked at"
    );
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
            "POST /opportunities/:opportunity/addTags (reconciled)",
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
                Ok(JournalEntry::Fresh {
                    begun_at_ms: lever_model::timestamp::now_millis(),
                })
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
    let stats = setup.sandbox.stats();
    assert_eq!(stats.writes_to(Operation::CreateOpportunity), 1);
    // Unrecorded, so the retry must find it: the attempt marker stays on the opportunity.
    assert_eq!(stats.writes_to(Operation::RemoveTags), 0);
    let tags: Vec<String> = setup
        .sandbox
        .read(|db| db.opportunities().flat_map(|o| o.tags.clone()).collect());
    assert!(
        tags.iter().any(|t| t.starts_with("fulcrum-attempt:")),
        "{tags:?}"
    );
}
