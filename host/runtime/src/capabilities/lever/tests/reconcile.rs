//! Reconciliation after unknown outcomes, one rule per write (see `write/reconcile.rs`):
//! the first attempt's answer is lost (the sandbox applies the write, then answers 500) or the
//! write never reaches Lever (500 before it is handled); meanwhile someone else may act in
//! Lever; then the event's next attempt runs with the same journal.

use super::*;
use lever_model::ArchiveReasonStatus;
use lever_sandbox::{FaultConfig, ScriptedFault};

const MARKER_PREFIX: &str = "fulcrum-attempt:";

/// The next Lever request fails: `AfterApply`, applied but answered 500; `Status(500)`,
/// refused before anything changes. Either way the outcome is unknown to the host.
fn fail_next(setup: &Setup, fault: ScriptedFault) {
    setup.sandbox.set_faults(FaultConfig {
        fail_next: vec![fault],
        ..Default::default()
    });
}

fn lost_answer() -> ScriptedFault {
    ScriptedFault::AfterApply(500)
}

fn not_applied() -> ScriptedFault {
    ScriptedFault::Status(500)
}

/// The attempt failed with the write's outcome unknown to the host (left unrecorded).
fn expect_unknown<T: std::fmt::Debug>(result: Result<T, PluginError>) {
    assert!(
        matches!(result, Err(PluginError::Unavailable(_))),
        "expected an unknown outcome, got {result:?}"
    );
}

/// Someone working in Lever directly: another active user, with their own key.
struct SomeoneElse {
    client: LeverClient,
    user: String,
}

impl SomeoneElse {
    fn new(setup: &Setup) -> Self {
        let default = setup.sandbox.default_user_id();
        let user = setup
            .sandbox
            .read(|db| {
                db.users()
                    .find(|u| u.is_active() && u.id != default && u.access_role == "admin")
                    .map(|u| u.id.clone())
            })
            .expect("another admin");
        SomeoneElse {
            client: access(&setup.sandbox, KeySpec::all("someone-else")).client,
            user,
        }
    }
}

fn opportunity(setup: &Setup, id: &str) -> lm::Opportunity {
    setup
        .sandbox
        .read(|db| db.opportunity(id).cloned())
        .expect("opportunity")
}

fn stages(setup: &Setup) -> Vec<String> {
    setup
        .sandbox
        .read(|db| db.stages().map(|s| s.id.clone()).collect())
}

/// The last `n` audited operations, oldest first.
fn last_audited(setup: &Setup, n: usize) -> Vec<String> {
    let records = setup.audit.records();
    records[records.len() - n..]
        .iter()
        .map(|r| r.operation.clone())
        .collect()
}

#[tokio::test]
async fn a_lost_create_answer_is_found_by_its_attempt_marker_which_is_then_removed() {
    let setup = Setup::new(SeedSpec::vocabulary_only(31)).await;
    let journal = Arc::new(MemoryJournal::new());
    fail_next(&setup, lost_answer());
    expect_unknown(
        setup
            .journaled(&journal)
            .create_opportunity(new_opportunity("Ada Lovelace", "ada@example.com"))
            .await,
    );
    let in_lever: Vec<lm::Opportunity> = setup
        .sandbox
        .read(|db| db.opportunities().cloned().collect());
    assert_eq!(in_lever.len(), 1, "the create was applied");
    let marker: Vec<&String> = in_lever[0]
        .tags
        .iter()
        .filter(|t| t.starts_with(MARKER_PREFIX))
        .collect();
    assert_eq!(marker.len(), 1, "{:?}", in_lever[0].tags);
    assert_eq!(marker[0].len(), MARKER_PREFIX.len() + 32);
    setup.sandbox.reset_stats();

    let created = setup
        .journaled(&journal)
        .create_opportunity(new_opportunity("Ada Lovelace", "ada@example.com"))
        .await
        .expect("reconciled");
    assert_eq!(created.id, in_lever[0].id, "the opportunity Lever created");
    assert!(created.tags.is_empty(), "{:?}", created.tags);
    let stats = setup.sandbox.stats();
    assert_eq!(stats.writes_to(Operation::CreateOpportunity), 0);
    assert_eq!(stats.writes_to(Operation::RemoveTags), 1, "marker removed");
    assert!(opportunity(&setup, &created.id).tags.is_empty());
    assert_eq!(
        last_audited(&setup, 1),
        ["POST /opportunities (reconciled)"]
    );
    let recorded = journal.entries()[0].response.clone().expect("recorded");
    assert_eq!(recorded["tags"], serde_json::json!([]), "{recorded}");
}

/// The old rule (oldest opportunity with the e-mail, created in a 5-minute slack) adopted an
/// opportunity of the same person created just before the write: not this write's.
#[tokio::test]
async fn an_earlier_opportunity_of_the_same_person_is_not_adopted() {
    let setup = Setup::new(SeedSpec::vocabulary_only(32)).await;
    let mut earlier = new_opportunity("Ada Lovelace", "ada@example.com");
    earlier.sources = vec!["Fixture".into()];
    let earlier = setup
        .all()
        .create_opportunity(earlier)
        .await
        .expect("an earlier opportunity of the same person")
        .id;

    let journal = Arc::new(MemoryJournal::new());
    let mut new = new_opportunity("Ada Lovelace", "ada@example.com");
    new.sources = vec!["Fixture".into()];
    fail_next(&setup, not_applied());
    expect_unknown(
        setup
            .journaled(&journal)
            .create_opportunity(new.clone())
            .await,
    );
    setup.sandbox.reset_stats();
    let created = setup
        .journaled(&journal)
        .create_opportunity(new)
        .await
        .expect("created");
    assert_ne!(created.id, earlier, "not someone else's create");
    let stats = setup.sandbox.stats();
    assert_eq!(stats.requests_to(Operation::ListOpportunities), 1);
    assert_eq!(stats.writes_to(Operation::CreateOpportunity), 1);
    assert_eq!(last_audited(&setup, 1), ["POST /opportunities"]);
    let with_email = setup.sandbox.read(|db| {
        db.opportunities()
            .filter(|o| o.emails.contains(&"ada@example.com".to_owned()))
            .count()
    });
    assert_eq!(with_email, 2);
    assert!(
        !opportunity(&setup, &created.id)
            .tags
            .iter()
            .any(|t| t.starts_with(MARKER_PREFIX))
    );
}

#[tokio::test]
async fn a_stage_changed_in_lever_after_the_write_began_is_never_overwritten() {
    let setup = Setup::new(SeedSpec::vocabulary_only(33)).await;
    let id = setup
        .all()
        .create_opportunity(new_opportunity("Grace Hopper", "grace@example.com"))
        .await
        .expect("created")
        .id;
    let stages = stages(&setup);
    let (ours, theirs, later) = (&stages[1], &stages[2], &stages[3]);
    let someone = SomeoneElse::new(&setup);
    let change_stage = |journal: &Arc<MemoryJournal>, stage: &str| {
        let mut host = setup.journaled(journal);
        let (id, stage) = (id.clone(), stage.to_owned());
        async move { host.change_stage(id, stage, None).await }
    };

    // Applied, answer lost; then someone moves the candidate on in Lever.
    let journal = Arc::new(MemoryJournal::new());
    fail_next(&setup, lost_answer());
    expect_unknown(change_stage(&journal, ours).await);
    assert_eq!(opportunity(&setup, &id).stage_id(), Some(ours.as_str()));
    someone
        .client
        .update_stage(&id, theirs, Some(someone.user.as_str()))
        .await
        .expect("their change");
    setup.sandbox.reset_stats();
    change_stage(&journal, ours).await.expect("retried");
    assert_eq!(opportunity(&setup, &id).stage_id(), Some(theirs.as_str()));
    assert_eq!(setup.sandbox.stats().writes_to(Operation::UpdateStage), 0);
    assert_eq!(
        last_audited(&setup, 1),
        ["PUT /opportunities/:opportunity/stage (superseded)"]
    );
    assert!(journal.entries()[0].is_done());

    // Never applied; someone changes the stage before the retry.
    let journal = Arc::new(MemoryJournal::new());
    fail_next(&setup, not_applied());
    expect_unknown(change_stage(&journal, ours).await);
    someone
        .client
        .update_stage(&id, later, Some(someone.user.as_str()))
        .await
        .expect("their change");
    setup.sandbox.reset_stats();
    change_stage(&journal, ours).await.expect("retried");
    assert_eq!(opportunity(&setup, &id).stage_id(), Some(later.as_str()));
    assert_eq!(setup.sandbox.stats().writes_to(Operation::UpdateStage), 0);

    // Never applied, nothing changed since: sent again.
    let journal = Arc::new(MemoryJournal::new());
    fail_next(&setup, not_applied());
    expect_unknown(change_stage(&journal, ours).await);
    // The write began after every change so far (a change in the same millisecond counts
    // as newer, so pin the order).
    let last_change = opportunity(&setup, &id)
        .stage_changes
        .iter()
        .map(|c| c.updated_at)
        .max()
        .expect("changes");
    assert!(journal.set_begun_at(0, last_change + 1));
    setup.sandbox.reset_stats();
    change_stage(&journal, ours).await.expect("sent again");
    assert_eq!(opportunity(&setup, &id).stage_id(), Some(ours.as_str()));
    assert_eq!(setup.sandbox.stats().writes_to(Operation::UpdateStage), 1);

    // Applied, answer lost, nothing newer: found, not sent again.
    let journal = Arc::new(MemoryJournal::new());
    fail_next(&setup, lost_answer());
    expect_unknown(change_stage(&journal, later).await);
    setup.sandbox.reset_stats();
    change_stage(&journal, later).await.expect("reconciled");
    assert_eq!(opportunity(&setup, &id).stage_id(), Some(later.as_str()));
    assert_eq!(setup.sandbox.stats().writes_to(Operation::UpdateStage), 0);
    assert_eq!(
        last_audited(&setup, 1),
        ["PUT /opportunities/:opportunity/stage (reconciled)"]
    );
}

#[tokio::test]
async fn an_archive_decision_made_in_lever_after_the_write_began_is_kept() {
    let setup = Setup::new(SeedSpec::vocabulary_only(34)).await;
    let id = setup
        .all()
        .create_opportunity(new_opportunity("Grace Hopper", "grace@example.com"))
        .await
        .expect("created")
        .id;
    let reasons: Vec<String> = setup.sandbox.read(|db| {
        db.archive_reasons()
            .filter(|r| r.status == ArchiveReasonStatus::Active)
            .map(|r| r.id.clone())
            .collect()
    });
    let (ours, theirs) = (&reasons[0], &reasons[1]);
    let someone = SomeoneElse::new(&setup);
    let archive = |journal: &Arc<MemoryJournal>| {
        let mut host = setup.journaled(journal);
        let (id, reason) = (id.clone(), ours.clone());
        async move { host.archive(id, reason, None).await }
    };
    let reason = || {
        opportunity(&setup, &id)
            .archive_state()
            .and_then(|a| a.reason)
    };

    // Never applied; someone archives with another reason before the retry.
    let journal = Arc::new(MemoryJournal::new());
    fail_next(&setup, not_applied());
    expect_unknown(archive(&journal).await);
    someone
        .client
        .archive(&id, theirs, Some(someone.user.as_str()))
        .await
        .expect("their decision");
    setup.sandbox.reset_stats();
    archive(&journal).await.expect("retried");
    assert_eq!(reason().as_ref(), Some(theirs));
    assert_eq!(
        setup.sandbox.stats().writes_to(Operation::UpdateArchived),
        0
    );
    assert_eq!(
        last_audited(&setup, 1),
        ["PUT /opportunities/:opportunity/archived (superseded)"]
    );

    // Applied, answer lost: found, not sent again.
    someone
        .client
        .unarchive(&id, Some(someone.user.as_str()))
        .await
        .expect("unarchived");
    let journal = Arc::new(MemoryJournal::new());
    fail_next(&setup, lost_answer());
    expect_unknown(archive(&journal).await);
    setup.sandbox.reset_stats();
    archive(&journal).await.expect("reconciled");
    assert_eq!(reason().as_ref(), Some(ours));
    assert_eq!(
        setup.sandbox.stats().writes_to(Operation::UpdateArchived),
        0
    );
    assert_eq!(
        last_audited(&setup, 1),
        ["PUT /opportunities/:opportunity/archived (reconciled)"]
    );
}

/// Notes cannot be bound to a write (Lever keeps no caller data on them): the same text by
/// another user, created after the write began, is not this write's note.
#[tokio::test]
async fn a_note_with_the_same_text_by_someone_else_is_not_adopted() {
    let setup = Setup::new(SeedSpec::vocabulary_only(35)).await;
    let id = setup
        .all()
        .create_opportunity(new_opportunity("Grace Hopper", "grace@example.com"))
        .await
        .expect("created")
        .id;
    let text = "Called, no answer";
    let someone = SomeoneElse::new(&setup);
    let journal = Arc::new(MemoryJournal::new());
    let add_note = |journal: &Arc<MemoryJournal>, text: &str| {
        let mut host = setup.journaled(journal);
        let (id, value) = (id.clone(), text.to_owned());
        async move {
            host.add_note(
                id,
                wit::NewNote {
                    value,
                    secret: false,
                    score: None,
                    acting_user: None,
                },
            )
            .await
        }
    };
    fail_next(&setup, not_applied());
    expect_unknown(add_note(&journal, text).await);
    let theirs = someone
        .client
        .create_note(
            &id,
            &lm::NewNote {
                value: text.into(),
                ..Default::default()
            },
            Some(someone.user.as_str()),
        )
        .await
        .expect("their note")
        .note_id;
    setup.sandbox.reset_stats();
    let ours = add_note(&journal, text).await.expect("sent again");
    assert_ne!(ours, theirs);
    assert_eq!(setup.sandbox.read(|db| db.notes(&id).len()), 2);
    assert_eq!(setup.sandbox.stats().writes_to(Operation::CreateNote), 1);

    // Our own note, its answer lost: found. (Another text: the same text by the same user
    // within the clock slack is indistinguishable, as the SDK's README says.)
    let journal = Arc::new(MemoryJournal::new());
    fail_next(&setup, lost_answer());
    expect_unknown(add_note(&journal, "Called back, interested").await);
    let applied = setup
        .sandbox
        .read(|db| db.notes(&id).last().map(|n| n.id.clone()))
        .expect("applied");
    setup.sandbox.reset_stats();
    assert_eq!(
        add_note(&journal, "Called back, interested")
            .await
            .expect("reconciled"),
        applied
    );
    assert_eq!(setup.sandbox.stats().writes_to(Operation::CreateNote), 0);
    assert_eq!(setup.sandbox.read(|db| db.notes(&id).len()), 3);
}
