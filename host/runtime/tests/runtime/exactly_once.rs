//! Exactly-once Lever writes: the `well-behaved` fixture's `create` action (create-opportunity,
//! then add-note) handled again and again with one `MemoryJournal` (one event), against the
//! real Lever sandbox over HTTP.

use crate::common::*;
use fulcrum_plugin_artifacts as artifacts;
use fulcrum_runtime::*;
use lever_client::{ClientConfig, Credential, LeverClient};
use lever_model::{Operation, Permission};
use lever_sandbox::{FaultConfig, KeySpec, ScriptedFault};
use serde_json::{Value, json};
use std::sync::Arc;

const CREATE: &str = "POST /opportunities";
const NOTE: &str = "POST /opportunities/:opportunity/notes";

struct Setup {
    rt: Runtime,
    lever: Lever,
    plugin: Arc<PluginVersion>,
    env: Env,
}

impl Setup {
    async fn new() -> Self {
        let rt = runtime();
        let lever = Lever::start().await;
        let plugin = install(&rt, artifacts::WELL_BEHAVED).await;
        Setup {
            rt,
            lever,
            plugin,
            env: Env::new(),
        }
    }

    /// One attempt at handling the event whose journal is `journal`: every attempt of an
    /// event carries its id (one journal, one event), as the host's do.
    fn ctx(&self, journal: &Arc<MemoryJournal>) -> InvocationContext {
        self.env
            .ctx(&self.plugin)
            .with_event_id(format!("evt-{:p}", Arc::as_ptr(journal)))
            .with_lever(self.lever.access.clone())
            .with_journal(journal.clone())
    }

    async fn create(&self, ctx: InvocationContext) -> Result<String, PluginError> {
        action(&self.rt, &self.plugin, ctx, "create", input())
            .await
            .map(|out| opportunity_id(&out))
    }

    /// (opportunities, notes) in the sandbox.
    fn counts(&self) -> (usize, usize) {
        self.lever.sandbox.read(|db| {
            let opportunities: Vec<String> = db.opportunities().map(|o| o.id.clone()).collect();
            let notes = opportunities.iter().map(|id| db.notes(id).len()).sum();
            (opportunities.len(), notes)
        })
    }

    /// Audited Lever operations since the last `clear`, with their outcomes.
    fn audited(&self) -> Vec<(String, AuditOutcome)> {
        self.env
            .audit
            .records()
            .into_iter()
            .filter(|r| r.capability == Capability::Lever)
            .map(|r| (r.operation, r.outcome))
            .collect()
    }

    fn reset(&self) {
        self.lever.sandbox.reset_stats();
        self.env.audit.clear();
    }
}

fn input() -> Value {
    json!({"name": "Ada Lovelace", "email": "ada@example.com", "note": "Met at the fair"})
}

fn opportunity_id(out: &str) -> String {
    json(out)["opportunity_id"]
        .as_str()
        .expect("an opportunity id")
        .to_owned()
}

fn done(journal: &MemoryJournal) -> Vec<(u32, String, bool)> {
    journal
        .entries()
        .into_iter()
        .map(|e| (e.call_seq, e.operation.clone(), e.is_done()))
        .collect()
}

fn both_done() -> Vec<(u32, String, bool)> {
    vec![(0, CREATE.to_owned(), true), (1, NOTE.to_owned(), true)]
}

#[tokio::test]
async fn a_replay_after_success_is_answered_from_the_journal() {
    let s = Setup::new().await;
    let journal = Arc::new(MemoryJournal::new());
    let first = s.create(s.ctx(&journal)).await.expect("created");
    assert_eq!(s.counts(), (1, 1));
    assert_eq!(done(&journal), both_done());
    let entries = journal.entries();
    assert!(entries[0].request_digest.starts_with("sha256:"));
    assert_eq!(entries[0].response.as_ref().unwrap()["id"], json!(first));
    // Lever's answer to the note ({"noteId"}), not the note itself.
    assert_eq!(
        entries[1]
            .response
            .as_ref()
            .unwrap()
            .as_object()
            .unwrap()
            .len(),
        1
    );
    assert_eq!(
        s.audited(),
        [
            (CREATE.to_owned(), AuditOutcome::Allowed),
            (NOTE.to_owned(), AuditOutcome::Allowed)
        ]
    );
    s.reset();

    let again = s.create(s.ctx(&journal)).await.expect("replayed");
    assert_eq!(again, first, "the same opportunity");
    assert_eq!(s.counts(), (1, 1));
    let stats = s.lever.sandbox.stats();
    assert_eq!(
        stats.total_requests(),
        0,
        "nothing reached Lever: {stats:?}"
    );
    assert!(stats.writes.is_empty());
    assert_eq!(
        s.audited(),
        [
            (format!("{CREATE} (journal)"), AuditOutcome::Allowed),
            (format!("{NOTE} (journal)"), AuditOutcome::Allowed)
        ]
    );
    assert_eq!(done(&journal), both_done());
}

#[tokio::test]
async fn a_crash_between_send_and_record_is_reconciled_against_lever() {
    let s = Setup::new().await;
    let journal = Arc::new(MemoryJournal::new());
    // Lever creates the opportunity but its answer is lost: to the host that is a crash
    // between sending and recording (the entry stays unrecorded), and the attempt fails.
    s.lever.sandbox.set_faults(FaultConfig {
        fail_next: vec![ScriptedFault::AfterApply(500)],
        ..Default::default()
    });
    let failed = s.create(s.ctx(&journal)).await;
    assert!(
        matches!(failed, Err(PluginError::Unavailable(_))),
        "{failed:?}"
    );
    assert_eq!(s.counts(), (1, 0));
    assert_eq!(done(&journal), [(0, CREATE.to_owned(), false)]);
    s.reset();

    let first = s.create(s.ctx(&journal)).await.expect("reconciled");
    assert_eq!(s.counts(), (1, 1), "found in Lever, not created again");
    assert_eq!(done(&journal), both_done());
    let stats = s.lever.sandbox.stats();
    assert_eq!(
        stats.writes_to(Operation::CreateOpportunity),
        0,
        "{stats:?}"
    );
    assert_eq!(stats.count(Operation::ListOpportunities, 200), 1);
    assert_eq!(
        stats.writes_to(Operation::RemoveTags),
        1,
        "the attempt marker removed"
    );
    assert_eq!(stats.writes_to(Operation::CreateNote), 1);
    assert_eq!(
        s.audited(),
        [
            (format!("{CREATE} (reconciled)"), AuditOutcome::Allowed),
            (NOTE.to_owned(), AuditOutcome::Allowed)
        ]
    );

    // The host crashed after Lever answered the note, before recording it.
    assert!(journal.forget_response(1));
    s.reset();
    assert_eq!(s.create(s.ctx(&journal)).await.expect("reconciled"), first);
    assert_eq!(s.counts(), (1, 1));
    let stats = s.lever.sandbox.stats();
    assert!(stats.writes.is_empty(), "nothing sent again: {stats:?}");
    assert_eq!(stats.count(Operation::ListNotes, 200), 1);
    assert_eq!(
        s.audited(),
        [
            (format!("{CREATE} (journal)"), AuditOutcome::Allowed),
            (format!("{NOTE} (reconciled)"), AuditOutcome::Allowed)
        ]
    );

    // Recorded by the reconciliation: the next replay is answered from the journal.
    s.reset();
    assert_eq!(s.create(s.ctx(&journal)).await.expect("replayed"), first);
    assert_eq!(s.lever.sandbox.stats().total_requests(), 0);
}

#[tokio::test]
async fn a_write_begun_but_never_sent_is_sent_once() {
    let s = Setup::new().await;
    // The digest of the create, from an attempt Lever refused (this key may not create).
    let narrow = {
        let key = s
            .lever
            .sandbox
            .issue_api_key(KeySpec::only("narrow", [Permission::ListStages]));
        let client = LeverClient::new(
            ClientConfig::new(&s.lever.sandbox.api_url()).expect("url"),
            Credential::api_key(key),
        )
        .expect("client");
        LeverAccess::new(client, s.lever.access.acting_user_id.clone())
    };
    let probe = Arc::new(MemoryJournal::new());
    let refused = s.create(s.ctx(&probe).with_lever(narrow)).await;
    assert_eq!(
        refused,
        Err(PluginError::Forbidden("create opportunity".into()))
    );
    let begun = probe.entries();
    assert_eq!(begun.len(), 1);
    assert_eq!(s.counts(), (0, 0));

    // A crash right after `begin`: the entry exists, the request never left the host.
    let journal = Arc::new(MemoryJournal::new());
    let entry = journal
        .begin(
            CallSeq::Write(0),
            &begun[0].operation,
            &begun[0].request_digest,
        )
        .await
        .expect("begun");
    assert!(matches!(entry, JournalEntry::Fresh { .. }), "{entry:?}");
    s.reset();

    let id = s.create(s.ctx(&journal)).await.expect("created");
    assert_eq!(s.counts(), (1, 1));
    assert_eq!(done(&journal), both_done());
    let stats = s.lever.sandbox.stats();
    assert_eq!(
        stats.count(Operation::ListOpportunities, 200),
        1,
        "reconciled first"
    );
    assert_eq!(stats.writes_to(Operation::CreateOpportunity), 1);
    assert_eq!(stats.writes_to(Operation::CreateNote), 1);
    assert_eq!(
        journal.entries()[0].response.as_ref().unwrap()["id"],
        json!(id)
    );
}

#[tokio::test]
async fn a_dropped_create_response_is_retried_without_a_duplicate() {
    let s = Setup::new().await;
    let journal = Arc::new(MemoryJournal::new());
    s.lever.sandbox.set_faults(FaultConfig {
        fail_next: vec![ScriptedFault::Drop],
        ..Default::default()
    });
    let failed = s.create(s.ctx(&journal)).await;
    let Err(PluginError::Unavailable(message)) = &failed else {
        panic!("expected unavailable, got {failed:?}");
    };
    assert!(message.contains("reconcile"), "{message}");
    assert_eq!(s.lever.sandbox.stats().dropped_connections, 1);
    assert_eq!(s.counts(), (0, 0));
    assert_eq!(done(&journal), [(0, CREATE.to_owned(), false)]);
    s.reset();

    // The retry of the event: reconcile (nothing there), send once, then the note.
    let id = s.create(s.ctx(&journal)).await.expect("created on retry");
    assert_eq!(s.counts(), (1, 1));
    assert_eq!(done(&journal), both_done());
    let stats = s.lever.sandbox.stats();
    assert_eq!(stats.count(Operation::ListOpportunities, 200), 1);
    assert_eq!(stats.writes_to(Operation::CreateOpportunity), 1);

    // And once more: all from the journal.
    s.reset();
    assert_eq!(s.create(s.ctx(&journal)).await.expect("replayed"), id);
    assert_eq!(s.lever.sandbox.stats().total_requests(), 0);
    assert_eq!(s.counts(), (1, 1));
}

#[tokio::test]
async fn a_diverging_replay_is_a_permanent_invalid_error_without_a_lever_write() {
    let s = Setup::new().await;
    let journal = Arc::new(MemoryJournal::new());
    // When the event was first handled, write #0 was a create with other arguments.
    journal
        .begin(CallSeq::Write(0), CREATE, "sha256:another-request")
        .await
        .expect("begun");
    journal
        .record(CallSeq::Write(0), &json!({"id": "someone-else"}))
        .await
        .expect("recorded");
    let before = journal.entries();

    let out = s.create(s.ctx(&journal)).await;
    let Err(PluginError::Invalid(message)) = &out else {
        panic!("expected invalid, got {out:?}");
    };
    assert!(message.contains("not deterministic"), "{message}");
    assert_eq!(s.lever.sandbox.stats().total_requests(), 0);
    assert_eq!(s.counts(), (0, 0));
    assert_eq!(journal.entries(), before, "the journal is unchanged");
    let denied = s.env.denied();
    assert_eq!(denied.len(), 1, "{denied:?}");
    assert_eq!(denied[0].operation, CREATE);
    assert!(
        matches!(&denied[0].outcome, AuditOutcome::Denied { reason } if reason.starts_with("invalid: the handler is not deterministic")),
        "{:?}",
        denied[0].outcome
    );
}

#[tokio::test]
async fn a_write_without_its_permission_never_touches_the_journal() {
    let s = Setup::new().await;
    let journal = Arc::new(MemoryJournal::new());
    let ctx = s.ctx(&journal).with_grants(
        Grants::new(s.plugin.requested_permissions(), Permission::ALL)
            .without(Permission::CreateOpportunity),
    );
    let out = s.create(ctx).await;
    assert_eq!(
        out,
        Err(PluginError::Forbidden("create opportunity".into()))
    );
    assert!(journal.entries().is_empty(), "{:?}", journal.entries());
    assert_eq!(s.lever.sandbox.stats().total_requests(), 0);
    assert_eq!(s.counts(), (0, 0));
    assert_eq!(s.env.denied().len(), 1);

    // Granted again (the admin fixed it): the event goes through, numbered from 0.
    s.create(s.ctx(&journal)).await.expect("created");
    assert_eq!(done(&journal), both_done());
    assert_eq!(s.counts(), (1, 1));
}

#[tokio::test]
async fn without_a_journal_every_attempt_writes_to_lever() {
    let s = Setup::new().await;
    let ctx = || s.env.ctx(&s.plugin).with_lever(s.lever.access.clone());
    let first = s.create(ctx()).await.expect("created");
    let second = s.create(ctx()).await.expect("created again");
    // Lever matches the contact by e-mail but creates a second opportunity: the duplicate
    // the journal exists to prevent.
    assert_ne!(first, second);
    assert_eq!(s.counts(), (2, 2));
}

/// A handler that reads, then writes depending on what it read ("find the candidate, create
/// if absent"): replayed after its first attempt created the opportunity, the read is answered
/// from the journal ("absent"), so the replay takes the same path and its create is answered
/// from the journal too, instead of diverging on the opportunity it created itself.
#[tokio::test]
async fn reads_are_journaled_so_a_replay_takes_the_same_path() {
    let s = Setup::new().await;
    let journal = Arc::new(MemoryJournal::new());
    let find_or_create = |ctx| action(&s.rt, &s.plugin, ctx, "find-or-create", input());
    let first = json(&find_or_create(s.ctx(&journal)).await.expect("created"));
    assert_eq!(first["created"], json!(true));
    assert_eq!(s.counts(), (1, 1));
    let reads = journal.read_entries();
    assert_eq!(reads.len(), 1, "{reads:?}");
    assert_eq!(reads[0].operation, "GET /opportunities");
    assert_eq!(
        reads[0].response.as_ref().unwrap()["Ok"]["opportunities"],
        json!([])
    );
    s.reset();

    // The replay (the host crashed before completing the event): Lever now has the
    // opportunity, the journal remembers that it did not.
    let again = json(&find_or_create(s.ctx(&journal)).await.expect("replayed"));
    assert_eq!(again, first, "same answer, same path");
    assert_eq!(s.counts(), (1, 1));
    assert_eq!(
        s.lever.sandbox.stats().total_requests(),
        0,
        "nothing reached Lever"
    );
    assert_eq!(
        s.audited(),
        [
            (
                "GET /opportunities (journal)".to_owned(),
                AuditOutcome::Allowed
            ),
            (format!("{CREATE} (journal)"), AuditOutcome::Allowed),
            (format!("{NOTE} (journal)"), AuditOutcome::Allowed)
        ]
    );

    // Another event reads afresh and finds it.
    let other = Arc::new(MemoryJournal::new());
    let found = json(&find_or_create(s.ctx(&other)).await.expect("found"));
    assert_eq!(found["created"], json!(false));
    assert_eq!(found["opportunity_id"], first["opportunity_id"]);
    assert_eq!(s.counts(), (1, 1));
    assert!(other.entries().is_empty(), "no write");
}

/// A replay whose read differs from the first attempt's (other arguments at the same read
/// number) is a permanent divergence, as for writes; nothing is written.
#[tokio::test]
async fn a_replay_that_reads_something_else_diverges() {
    let s = Setup::new().await;
    let journal = Arc::new(MemoryJournal::new());
    action(&s.rt, &s.plugin, s.ctx(&journal), "find-or-create", input())
        .await
        .expect("created");
    s.reset();
    let other_input = json!({"name": "Ada Lovelace", "email": "ada.l@example.com"});
    let out = action(
        &s.rt,
        &s.plugin,
        s.ctx(&journal),
        "find-or-create",
        other_input,
    )
    .await;
    let Err(PluginError::Invalid(message)) = &out else {
        panic!("expected invalid, got {out:?}");
    };
    assert!(message.contains("not deterministic"), "{message}");
    assert_eq!(s.counts(), (1, 1));
    assert!(s.lever.sandbox.stats().writes.is_empty());
}
