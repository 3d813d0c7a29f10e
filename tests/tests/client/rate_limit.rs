//! Bursting past Lever's limit: the client paces itself, so no 429 reaches the caller and the
//! sandbox never has to send one.

use fulcrum_tests::{client_config, start_sandbox};
use futures::future::join_all;
use lever_client::{Credential, LeverClient, RateLimits};
use lever_model::Operation;
use lever_sandbox::{KeySpec, SeedSpec};

#[tokio::test]
async fn a_burst_of_concurrent_requests_is_paced_without_429s() {
    let sandbox = start_sandbox(SeedSpec::vocabulary_only(11)).await;
    let key = sandbox.issue_api_key(KeySpec::all("burst"));
    let client = LeverClient::new(client_config(&sandbox), Credential::api_key(key)).unwrap();

    // 45 requests at once: 20 ride the burst, 25 must wait for the bucket to refill.
    let results = join_all((0..45).map(|_| {
        let client = client.clone();
        async move { client.stage("applicant-new").await }
    }))
    .await;

    assert!(
        results.iter().all(Result::is_ok),
        "every request succeeds: {:?}",
        results.iter().find(|r| r.is_err())
    );
    let stats = sandbox.stats();
    assert_eq!(stats.rate_limited, 0, "the sandbox never had to answer 429");
    assert_eq!(stats.requests[&Operation::GetStage.label()][&200], 45);
    let client_stats = client.stats();
    assert_eq!(client_stats.rate_limited_responses, 0);
    assert!(
        !client_stats.throttle_wait.is_zero(),
        "the client waited on its own limiter"
    );
}

#[tokio::test]
async fn clients_sharing_a_credential_share_one_budget() {
    let sandbox = start_sandbox(SeedSpec::vocabulary_only(12)).await;
    let key = sandbox.issue_api_key(KeySpec::all("shared"));
    let limits = RateLimits::new(10, 20);
    let a = LeverClient::with_rate_limits(
        client_config(&sandbox),
        Credential::api_key(key.clone()),
        limits.clone(),
    )
    .unwrap();
    let b =
        LeverClient::with_rate_limits(client_config(&sandbox), Credential::api_key(key), limits)
            .unwrap();

    let calls = (0..40).map(|i| {
        let client = if i % 2 == 0 { a.clone() } else { b.clone() };
        async move { client.stage("offer").await }
    });
    let results = join_all(calls).await;
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(
        sandbox.stats().rate_limited,
        0,
        "two clients of one key stayed inside one bucket"
    );
}

#[tokio::test]
async fn a_429_from_lever_is_retried_not_surfaced() {
    let sandbox = start_sandbox(SeedSpec::vocabulary_only(13)).await;
    let key = sandbox.issue_api_key(KeySpec::all("r"));
    let client = LeverClient::new(client_config(&sandbox), Credential::api_key(key)).unwrap();
    sandbox.set_faults(lever_sandbox::FaultConfig {
        fail_next: vec![
            lever_sandbox::ScriptedFault::Status(429),
            lever_sandbox::ScriptedFault::Status(429),
        ],
        ..Default::default()
    });
    let stage = client.stage("offer").await.unwrap();
    assert_eq!(stage.id, "offer");
    assert_eq!(client.stats().rate_limited_responses, 2);
}
