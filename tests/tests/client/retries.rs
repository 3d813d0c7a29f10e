//! Injected 5xx, slow responses and dropped connections: reads and idempotent writes are
//! retried; a create whose outcome is unknown is reported, never blindly sent twice.

use fulcrum_tests::{admin_client, client_config, start_sandbox};
use lever_client::{Attachments, Credential, LeverClient, LeverError};
use lever_model::{NewOpportunity, Operation};
use lever_sandbox::{FaultConfig, KeySpec, ScriptedFault, SeedSpec};
use std::time::Duration;

fn script(faults: Vec<ScriptedFault>) -> FaultConfig {
    FaultConfig {
        fail_next: faults,
        ..Default::default()
    }
}

#[tokio::test]
async fn reads_survive_5xx_and_dropped_connections() {
    let sandbox = start_sandbox(SeedSpec::vocabulary_only(21)).await;
    let client = admin_client(&sandbox);
    sandbox.set_faults(script(vec![
        ScriptedFault::Status(503),
        ScriptedFault::Status(500),
        ScriptedFault::Drop,
        ScriptedFault::Status(502),
    ]));

    let stage = client.stage("lead-new").await.unwrap();
    assert_eq!(stage.id, "lead-new");
    let stats = sandbox.stats();
    assert_eq!(stats.dropped_connections, 1);
    assert_eq!(client.stats().retries, 4);
}

#[tokio::test]
async fn a_slow_response_times_out_and_is_retried() {
    let sandbox = start_sandbox(SeedSpec::vocabulary_only(22)).await;
    let key = sandbox.issue_api_key(KeySpec::all("slow"));
    let mut config = client_config(&sandbox);
    config.request_timeout = Duration::from_millis(300);
    let client = LeverClient::new(config, Credential::api_key(key)).unwrap();
    sandbox.set_faults(script(vec![ScriptedFault::SlowMs(3_000)]));

    let stage = client.stage("offer").await.unwrap();
    assert_eq!(stage.id, "offer");
    assert_eq!(client.stats().retries, 1);
}

#[tokio::test]
async fn random_fault_rates_are_ridden_out_by_retries() {
    let sandbox = start_sandbox(SeedSpec {
        seed: 23,
        postings: 10,
        opportunities: 600,
    })
    .await;
    // 30 pages at a 25% fault rate per attempt: the chance that no fault is drawn at all
    // (0.75^30) or that one page fails 11 times in a row (30 × 0.25^11) is below 1 in 5,000.
    let key = sandbox.issue_api_key(KeySpec::all("faults").with_confidential(true));
    let mut config = client_config(&sandbox);
    config.page_size = 20;
    config.max_retries = 10;
    let client = LeverClient::new(config, Credential::api_key(key)).unwrap();
    sandbox.set_faults(FaultConfig {
        rate_500: 0.1,
        rate_503: 0.1,
        drop_rate: 0.05,
        ..Default::default()
    });

    use futures::TryStreamExt;
    let everything = lever_client::OpportunityQuery {
        confidentiality: Some("all".into()),
        ..Default::default()
    };
    let all: Vec<_> = client
        .opportunities(everything)
        .try_collect()
        .await
        .unwrap();
    assert_eq!(all.len(), 600);
    let stats = sandbox.stats();
    assert!(
        stats.injected_faults + stats.dropped_connections > 0,
        "faults were injected: {stats:?}"
    );
}

#[tokio::test]
async fn a_create_retried_after_503_is_created_once() {
    let sandbox = start_sandbox(SeedSpec::vocabulary_only(24)).await;
    let client = admin_client(&sandbox);
    sandbox.set_faults(script(vec![
        ScriptedFault::Status(503),
        ScriptedFault::Status(429),
    ]));

    let body = NewOpportunity {
        name: Some("Katherine Johnson".into()),
        emails: vec!["kj@example.com".into()],
        ..Default::default()
    };
    let created = client
        .create_opportunity(&sandbox.default_user_id(), &body, Attachments::default())
        .await
        .unwrap();
    assert_eq!(created.name.as_deref(), Some("Katherine Johnson"));
    assert_eq!(sandbox.stats().writes_to(Operation::CreateOpportunity), 1);
    assert_eq!(sandbox.read(|db| db.opportunities().count()), 1);
}

#[tokio::test]
async fn a_create_whose_connection_drops_is_reported_as_unknown_not_resent() {
    let sandbox = start_sandbox(SeedSpec::vocabulary_only(25)).await;
    let client = admin_client(&sandbox);
    sandbox.set_faults(script(vec![ScriptedFault::Drop]));

    let body = NewOpportunity {
        name: Some("Dorothy Vaughan".into()),
        ..Default::default()
    };
    let err = client
        .create_opportunity(&sandbox.default_user_id(), &body, Attachments::default())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            LeverError::Unavailable {
                outcome_unknown: true,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(err.is_transient());
    let stats = sandbox.stats();
    assert_eq!(stats.dropped_connections, 1);
    assert_eq!(
        stats.writes_to(Operation::CreateOpportunity),
        0,
        "the request was never sent again"
    );
}

#[tokio::test]
async fn persistent_outage_ends_in_a_typed_unavailable_error() {
    let sandbox = start_sandbox(SeedSpec::vocabulary_only(26)).await;
    let client = admin_client(&sandbox);
    sandbox.set_faults(FaultConfig {
        rate_503: 1.0,
        ..Default::default()
    });

    let err = client.stage("offer").await.unwrap_err();
    assert!(
        matches!(
            err,
            LeverError::Unavailable {
                status: Some(503),
                outcome_unknown: false,
                ..
            }
        ),
        "{err:?}"
    );
    assert!(
        err.to_string().to_lowercase().contains("retry"),
        "the message says what to do: {err}"
    );
}
