//! Exactly-once Lever writes through the whole host: retried events answer their earlier
//! writes from the journal, and an unknown outcome is reconciled against Lever.

use fulcrum_store::test_support::on_each_backend;
use fulcrum_testkit::*;
use lever_client::{ClientConfig, Operation};
use lever_sandbox::{FaultConfig, ScriptedFault};
use std::time::Duration;

/// Successful writes of one operation the sandbox answered.
fn successful_writes(world: &World, op: lever_client::Operation) -> u64 {
    world.sandbox.stats().writes_to(op)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_retried_event_answers_its_earlier_writes_from_the_journal() {
    on_each_backend(|db| async move {
        let world = World::start(&db).await;
        // The create and the removal of its attempt marker succeed; the note gets a 500,
        // which the client does not resend (a POST of unknown outcome), so the event fails
        // and is retried.
        world.sandbox.set_faults(FaultConfig {
            fail_next: vec![
                ScriptedFault::SlowMs(0),
                ScriptedFault::SlowMs(0),
                ScriptedFault::Status(500),
            ],
            ..FaultConfig::default()
        });
        let (status, _) = world
            .post_event(TENANT, &create_event(1, true), Some("d-1"), None)
            .await;
        assert_eq!(status, 202);
        let counts = world.settle(Duration::from_secs(30)).await;
        assert_eq!((counts.done, counts.dead), (1, 0));
        let event = &world.store.list_events(&Default::default()).await.unwrap()[0];
        assert!(event.attempts >= 1, "the first attempt failed: {event:?}");
        let opportunities = world.opportunities_with_email("candidate-1@example.com");
        assert_eq!(opportunities.len(), 1);
        assert_eq!(world.note_count(&opportunities[0].id), 1);
        assert_eq!(
            successful_writes(&world, lever_client::Operation::CreateOpportunity),
            1,
            "the retry did not create again"
        );
        world.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn twenty_percent_faults_finish_every_event_without_duplicates() {
    on_each_backend(|db| async move {
        let mut options = Options::new();
        // Slow answers outlive the client's timeout: the create happened in Lever but its
        // answer was lost, the case the journal has to reconcile.
        let mut client = ClientConfig::new("http://127.0.0.1:1/v1").unwrap();
        client.request_timeout = Duration::from_millis(700);
        client.min_backoff = Duration::from_millis(5);
        client.max_backoff = Duration::from_millis(100);
        options.lever_client = client;
        let world = World::start_with(&db, options).await;
        world.sandbox.set_faults(FaultConfig {
            rate_429: 0.04,
            rate_500: 0.03,
            rate_503: 0.04,
            slow_rate: 0.03,
            slow_ms: 1_000,
            drop_rate: 0.03,
            // Writes Lever applies whose answer is lost: each must be reconciled.
            rate_after_apply: 0.03,
            // The first Lever requests are creates: at least one lost answer for sure.
            fail_next: vec![ScriptedFault::AfterApply(500); 2],
        });
        let events = 60;
        for n in 0..events {
            let (status, body) = world
                .post_event(
                    TENANT,
                    &create_event(n, true),
                    Some(&format!("f-{n}")),
                    None,
                )
                .await;
            assert_eq!(status, 202, "{body}");
        }
        let counts = world.settle(Duration::from_secs(240)).await;
        assert_eq!((counts.done, counts.dead), (events as i64, 0), "{counts:?}");
        for n in 0..events {
            let opportunities =
                world.opportunities_with_email(&format!("candidate-{n}@example.com"));
            assert_eq!(opportunities.len(), 1, "candidate {n}");
            assert_eq!(world.note_count(&opportunities[0].id), 1, "candidate {n}");
        }
        let stats = world.sandbox.stats();
        eprintln!("fault test: sandbox stats {stats:?}");
        // Every lost answer of a create or a note was found in Lever on the event's retry,
        // not sent again (more reconciles are fine: a timed-out slow answer is one too).
        let audit = world.store.audit_list(TENANT, 100_000).await.unwrap();
        let reconciled = |op: Operation| {
            let label = format!("{} (reconciled)", op.label());
            audit.iter().filter(|a| a.operation == label).count() as u64
        };
        let lost_creates = stats.lost_answers_of(Operation::CreateOpportunity);
        let lost_notes = stats.lost_answers_of(Operation::CreateNote);
        assert!(lost_creates >= 1, "{stats:?}");
        assert!(
            reconciled(Operation::CreateOpportunity) >= lost_creates,
            "{} reconciled creates for {lost_creates} lost answers",
            reconciled(Operation::CreateOpportunity)
        );
        assert!(
            reconciled(Operation::CreateNote) >= lost_notes,
            "{} reconciled notes for {lost_notes} lost answers",
            reconciled(Operation::CreateNote)
        );
        world.stop().await;
    })
    .await;
}
