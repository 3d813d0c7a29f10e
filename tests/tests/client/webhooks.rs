//! Webhooks: the sandbox delivers Lever's events to a real HTTP receiver, signed the way Lever
//! signs them, and retries deliveries that fail.

use axum::{Json, Router, extract::State, http::StatusCode, routing::post};
use fulcrum_tests::{admin_client, start_sandbox};
use lever_client::Attachments;
use lever_model::{NewOpportunity, NewWebhook, WebhookDelivery, WebhookEventType};
use lever_sandbox::SeedSpec;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;
use tokio::sync::mpsc;

/// A loopback receiver that answers 500 to the first `failures` deliveries, then 200.
async fn receiver(
    failures: usize,
) -> (
    String,
    mpsc::UnboundedReceiver<WebhookDelivery>,
    Arc<AtomicUsize>,
) {
    #[derive(Clone)]
    struct Inbox {
        tx: mpsc::UnboundedSender<WebhookDelivery>,
        hits: Arc<AtomicUsize>,
        failures: usize,
    }
    async fn receive(
        State(inbox): State<Inbox>,
        Json(delivery): Json<WebhookDelivery>,
    ) -> StatusCode {
        let hit = inbox.hits.fetch_add(1, Ordering::SeqCst);
        if hit < inbox.failures {
            return StatusCode::INTERNAL_SERVER_ERROR;
        }
        let _ = inbox.tx.send(delivery);
        StatusCode::OK
    }
    let (tx, rx) = mpsc::unbounded_channel();
    let hits = Arc::new(AtomicUsize::new(0));
    let app = Router::new()
        .route("/lever", post(receive))
        .with_state(Inbox {
            tx,
            hits: hits.clone(),
            failures,
        });
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/lever", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (url, rx, hits)
}

async fn next(rx: &mut mpsc::UnboundedReceiver<WebhookDelivery>) -> WebhookDelivery {
    tokio::time::timeout(Duration::from_secs(10), rx.recv())
        .await
        .expect("a delivery arrives")
        .unwrap()
}

#[tokio::test]
async fn stage_changes_are_delivered_signed_and_verifiable() {
    let sandbox = start_sandbox(SeedSpec::vocabulary_only(51)).await;
    let client = admin_client(&sandbox);
    let (url, mut rx, _) = receiver(0).await;

    // Subscribe through Lever's own Webhooks API.
    let hook = client
        .create_webhook(&NewWebhook {
            url: url.clone(),
            event: "candidateStageChange".into(),
            configuration: None,
        })
        .await
        .unwrap();
    let signing = hook
        .configuration
        .signature_token
        .clone()
        .expect("Lever returns the signature token");

    let user = sandbox.default_user_id();
    let opp = client
        .create_opportunity(
            &user,
            &NewOpportunity {
                name: Some("Alan Turing".into()),
                ..Default::default()
            },
            Attachments::default(),
        )
        .await
        .unwrap();
    client
        .update_stage(&opp.id, "offer", Some(&user))
        .await
        .unwrap();

    let delivery = next(&mut rx).await;
    assert_eq!(
        delivery.event_type(),
        Some(WebhookEventType::CandidateStageChange)
    );
    assert_eq!(delivery.data_str("opportunityId"), Some(opp.id.as_str()));
    assert_eq!(delivery.data_str("toStageId"), Some("offer"));
    assert_eq!(delivery.data_str("fromStageId"), Some("lead-new"));
    assert_eq!(delivery.token.len(), 48);

    // Valid with the webhook's token; invalid when tampered with or checked with another token.
    delivery.verify(&signing).expect("signature verifies");
    let mut tampered = delivery.clone();
    tampered.triggered_at += 1;
    assert!(tampered.verify(&signing).is_err());
    let mut swapped = delivery.clone();
    swapped.token = "x".repeat(48);
    assert!(swapped.verify(&signing).is_err());
    assert!(delivery.verify("not-the-signature-token").is_err());
}

#[tokio::test]
async fn failed_deliveries_are_retried_until_accepted() {
    let sandbox = start_sandbox(SeedSpec::vocabulary_only(52)).await;
    let client = admin_client(&sandbox);
    let (url, mut rx, hits) = receiver(2).await;
    let hook = sandbox.register_webhook(WebhookEventType::ApplicationCreated, &url);
    let signing = hook.configuration.signature_token.clone().unwrap();

    let posting = sandbox.read(|db| db.postings().next().map(|p| p.id.clone()));
    let posting = match posting {
        Some(p) => p,
        None => {
            // The vocabulary-only seed has no postings: make one through the API.
            let body = lever_model::PostingWrite {
                text: Some("Staff Engineer".into()),
                state: Some(lever_model::PostingState::Published),
                ..Default::default()
            };
            client
                .create_posting(&sandbox.default_user_id(), &body)
                .await
                .unwrap()
                .id
        }
    };
    let opp = client
        .create_opportunity(
            &sandbox.default_user_id(),
            &NewOpportunity {
                name: Some("Hedy Lamarr".into()),
                postings: vec![posting],
                ..Default::default()
            },
            Attachments::default(),
        )
        .await
        .unwrap();

    let delivery = next(&mut rx).await;
    assert_eq!(
        delivery.event_type(),
        Some(WebhookEventType::ApplicationCreated)
    );
    assert_eq!(delivery.data_str("opportunityId"), Some(opp.id.as_str()));
    delivery.verify(&signing).unwrap();
    assert_eq!(hits.load(Ordering::SeqCst), 3, "two failures, then success");

    // The sandbox records the outcome after it reads our 200; wait for that.
    let record = tokio::time::timeout(Duration::from_secs(10), async {
        loop {
            let found = sandbox
                .webhook_deliveries()
                .into_iter()
                .find(|r| r.event == "applicationCreated" && r.delivered);
            match found {
                Some(record) => break record,
                None => tokio::time::sleep(Duration::from_millis(10)).await,
            }
        }
    })
    .await
    .expect("the delivery is recorded as delivered");
    assert_eq!(record.attempts, 3);
    assert_eq!(record.last_status, Some(200));
}
