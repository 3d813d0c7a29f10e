//! Lever webhooks: the sandbox's signed deliveries reach the subscribed plugin once; replays
//! are idempotent — also edited ones, ones nobody subscribed to and ones replayed after
//! another plugin was enabled; unsigned, badly signed, stale or malformed deliveries store
//! nothing, and an unknown tenant is answered like a bad signature.

use fulcrum_store::test_support::on_each_backend;
use fulcrum_testkit::*;
use lever_model::WebhookEventType;
use secrecy::SecretString;
use serde_json::json;
use std::time::Duration;

const LEVER: &str = "lever";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sandbox_stage_change_runs_the_subscribed_plugin_once_and_replays_are_idempotent() {
    on_each_backend(|db| async move {
        let world = World::start(&db).await;
        let (webhook_id, _token) = world
            .subscribe_lever_webhook(TENANT, WebhookEventType::CandidateStageChange)
            .await;

        let opportunity = world.change_some_stage().await;
        let records = world
            .lever_deliveries_to(&webhook_id, Duration::from_secs(30))
            .await;
        assert_eq!(records.len(), 1, "{records:?}");
        let record = &records[0];
        assert!(record.delivered, "{record:?}");
        assert_eq!(
            (record.attempts, record.last_status),
            (1, Some(202)),
            "accepted at the first attempt: {record:?}"
        );
        world.settle(Duration::from_secs(30)).await;

        let events = world.events_of_kind(LEVER).await;
        assert_eq!(events.len(), 1, "{events:?}");
        let event = &events[0];
        assert_eq!(
            (event.plugin_id.as_str(), event.subject_key.as_str()),
            (PLUGIN, format!("opportunity:{opportunity}").as_str())
        );
        assert_eq!(event.status, fulcrum_store::EventStatus::Done);
        assert_eq!(event.payload["event"], "candidateStageChange");
        assert_eq!(event.payload["data"]["opportunityId"], json!(opportunity));
        // The fixture's handle-lever-event stored the host's id of the event.
        assert_eq!(
            world.state_text(TENANT, PLUGIN, "last-event").await,
            Some(format!("evt-{}", event.id))
        );

        // Lever redelivers the same body (a retry, or "Rerun" in Lever's settings): same
        // answer, no second event.
        let body = serde_json::to_vec(&record.body).unwrap();
        for _ in 0..2 {
            let (status, answer) = world
                .post_lever_webhook(TENANT, "application/json", body.clone())
                .await;
            assert_eq!(status, 202, "{answer}");
            assert_eq!(
                answer,
                json!({"event_ids": [format!("evt-{}", event.id)], "duplicate": true})
            );
        }
        world.settle(Duration::from_secs(10)).await;
        assert_eq!(world.events_of_kind(LEVER).await.len(), 1);
        world.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_lever_deliveries_are_refused_and_nothing_is_stored() {
    on_each_backend(|db| async move {
        let world = World::start(&db).await;
        let token = "lever-signature-token-3b9d1e";
        world
            .store
            .set_lever_webhook_token(TENANT, "stage-change", &SecretString::from(token))
            .await
            .unwrap();
        // A second tenant with the plugin but no signature token registered.
        world.add_tenant("globex").await;

        let json_body = |d: &lever_model::WebhookDelivery| serde_json::to_vec(d).unwrap();
        let valid = signed_lever_delivery(token, "candidateStageChange", Some("ev-1"), "opp-1");
        let wrong_token =
            signed_lever_delivery("not-the-token", "candidateStageChange", None, "opp-1");
        let mut unsigned = valid.clone();
        unsigned.signature = None;
        let mut tampered = valid.clone();
        tampered.triggered_at += 1;
        let resigned = |delivery: &lever_model::WebhookDelivery, shift_ms: i64| {
            let mut d = delivery.clone();
            d.triggered_at += shift_ms;
            d.sign(token);
            d
        };
        let stale = resigned(&valid, -10 * 60 * 1000);
        let ahead = resigned(&valid, 5 * 60 * 1000);
        let mut oversize = serde_json::to_value(&valid).unwrap();
        oversize["data"]["padding"] = json!("x".repeat(2 * 1024 * 1024));

        // (what, tenant, content type, body, status, words in the message)
        type Case<'a> = (&'a str, &'a str, &'a str, Vec<u8>, u16, &'a str);
        let cases: Vec<Case<'_>> = vec![
            (
                "signed with another token",
                TENANT,
                "application/json",
                json_body(&wrong_token),
                401,
                "does not match",
            ),
            (
                "triggeredAt changed after signing",
                TENANT,
                "application/json",
                json_body(&tampered),
                401,
                "does not match",
            ),
            (
                "no signature",
                TENANT,
                "application/json",
                json_body(&unsigned),
                401,
                "no signature",
            ),
            (
                "tenant without a signature token",
                "globex",
                "application/json",
                json_body(&valid),
                401,
                "does not match",
            ),
            (
                "unknown tenant",
                "nobody",
                "application/json",
                json_body(&valid),
                401,
                "does not match",
            ),
            (
                "triggeredAt ten minutes old",
                TENANT,
                "application/json",
                json_body(&stale),
                401,
                "stale",
            ),
            (
                "triggeredAt five minutes ahead",
                TENANT,
                "application/json",
                json_body(&ahead),
                401,
                "ahead",
            ),
            (
                "malformed JSON",
                TENANT,
                "application/json",
                b"{\"triggeredAt\": 1, \"event\": ".to_vec(),
                400,
                "not a Lever webhook delivery",
            ),
            (
                "JSON that is not a delivery",
                TENANT,
                "application/json",
                b"[1, 2, 3]".to_vec(),
                400,
                "not a Lever webhook delivery",
            ),
            (
                "wrong content type",
                TENANT,
                "text/plain",
                json_body(&valid),
                415,
                "application/json",
            ),
            (
                "oversize body",
                TENANT,
                "application/json",
                serde_json::to_vec(&oversize).unwrap(),
                413,
                "larger than",
            ),
        ];
        let mut no_match = Vec::new();
        for (what, tenant, content_type, body, status, words) in cases {
            let (got, answer) = world.post_lever_webhook(tenant, content_type, body).await;
            assert_eq!(got, status, "{what}: {answer}");
            let message = answer["error"]["message"].as_str().unwrap_or_default();
            assert!(message.contains(words), "{what}: {answer}");
            assert!(
                !answer.to_string().contains(token),
                "{what}: the answer leaks the token"
            );
            if words == "does not match" {
                no_match.push(answer);
            }
        }
        // Wrong token, tampered time, a tenant without tokens, no such tenant: one answer.
        assert_eq!(no_match.len(), 4);
        assert!(no_match.windows(2).all(|w| w[0] == w[1]), "{no_match:?}");
        assert_eq!(world.counts().await, fulcrum_store::EventCounts::default());

        // A correctly signed event type no plugin subscribed to: acknowledged, nothing queued.
        let hired = signed_lever_delivery(token, "candidateHired", Some("ev-2"), "opp-1");
        let (status, answer) = world
            .post_lever_webhook(TENANT, "application/json", json_body(&hired))
            .await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["event_ids"], json!([]));
        // Its signature is consumed all the same: the capture edited into an event type the
        // plugin subscribes to is a duplicate, and queues nothing.
        let mut edited = hired.clone();
        edited.event = "candidateStageChange".into();
        let (status, answer) = world
            .post_lever_webhook(TENANT, "application/json", json_body(&edited))
            .await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(answer["duplicate"], json!(true), "{answer}");
        // So is an event type the contract does not know (Lever may add some).
        let novel = signed_lever_delivery(token, "somethingNew", None, "opp-1");
        let (status, _) = world
            .post_lever_webhook(TENANT, "application/json; charset=utf-8", json_body(&novel))
            .await;
        assert_eq!(status, 200);
        assert_eq!(world.counts().await, fulcrum_store::EventCounts::default());

        // The valid one, without Lever's optional `id` (deduped on token + triggeredAt), twice.
        let mut no_id = valid.clone();
        no_id.id = None;
        let (first, answer) = world
            .post_lever_webhook(TENANT, "application/json", json_body(&no_id))
            .await;
        assert_eq!(first, 202, "{answer}");
        assert_eq!(answer["duplicate"], json!(false));
        let (again, replay) = world
            .post_lever_webhook(TENANT, "application/json", json_body(&no_id))
            .await;
        assert_eq!(again, 202, "{replay}");
        assert_eq!(replay["event_ids"], answer["event_ids"]);
        assert_eq!(replay["duplicate"], json!(true));
        // A second plugin subscribing to the same event type, enabled after the delivery: a
        // replay gives it nothing (the delivery was consumed per tenant, not per plugin), even
        // with its unsigned fields edited.
        world
            .host
            .install_plugin(read(fulcrum_plugin_artifacts::WELL_BEHAVED_TWIN))
            .await
            .unwrap();
        world.enable_plugin(TENANT, "well-behaved-twin").await;
        let mut edited = no_id.clone();
        edited.id = Some("ev-forged".into());
        edited.data.insert("opportunityId".into(), json!("opp-9"));
        for replayed in [&no_id, &edited] {
            let (status, again) = world
                .post_lever_webhook(TENANT, "application/json", json_body(replayed))
                .await;
            assert_eq!(status, 202, "{again}");
            assert_eq!(again["event_ids"], answer["event_ids"], "{again}");
            assert_eq!(again["duplicate"], json!(true));
        }
        world.settle(Duration::from_secs(30)).await;
        let events = world.events_of_kind(LEVER).await;
        assert_eq!(events.len(), 1, "{events:?}");
        assert_eq!(events[0].subject_key, "opportunity:opp-1");
        assert_eq!(
            world.state_text(TENANT, PLUGIN, "last-event").await,
            Some(format!("evt-{}", events[0].id))
        );
        // The stored event keeps neither the signature nor the delivery token.
        let stored = events[0].payload.to_string();
        assert!(!stored.contains(valid.signature.as_deref().unwrap()));
        assert!(!stored.contains(&valid.token));

        // A disabled installation gets nothing.
        for plugin in [PLUGIN, "well-behaved-twin"] {
            fulcrum_service::installations::disable(
                &world.host,
                &fulcrum_service::Actor::local("test"),
                TENANT,
                plugin,
            )
            .await
            .unwrap();
        }
        let later = signed_lever_delivery(token, "candidateStageChange", Some("ev-3"), "opp-2");
        let (status, answer) = world
            .post_lever_webhook(TENANT, "application/json", json_body(&later))
            .await;
        assert_eq!(status, 200, "{answer}");
        assert_eq!(world.events_of_kind(LEVER).await.len(), 1);
        world.stop().await;
    })
    .await;
}

/// A tenant's super admin stores the token Lever showed through the admin API; from then on
/// deliveries signed with it are accepted, and after it is deleted they are refused. Members
/// see names only and cannot set one; another tenant's super admin cannot touch it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn webhook_tokens_are_managed_through_the_admin_api() {
    use crate::admin::{OTHER, call, token};
    use fulcrum_store::Role;
    use reqwest::Method;
    on_each_backend(|db| async move {
        let world = World::start(&db).await;
        world.add_tenant(OTHER).await;
        let super_admin = token(&world, Role::TenantSuperAdmin, Some(TENANT)).await;
        let member = token(&world, Role::TenantMember, Some(TENANT)).await;
        let other_super_admin = token(&world, Role::TenantSuperAdmin, Some(OTHER)).await;
        let hook = world.sandbox.register_webhook(
            WebhookEventType::CandidateStageChange,
            &world.url(&format!("/webhooks/lever/{TENANT}")),
        );
        let lever_token = hook.configuration.signature_token.clone().unwrap();
        let path = format!(
            "/admin/v1/tenants/{TENANT}/lever-webhook-tokens/{}",
            hook.id
        );
        let body = json!({"signature_token": lever_token});

        for (who, token, expected) in [
            ("member", &member, 403),
            ("other tenant", &other_super_admin, 404),
        ] {
            let (status, answer) =
                call(&world, Method::PUT, &path, Some(token), Some(body.clone())).await;
            assert_eq!(status, expected, "{who}: {answer}");
        }
        let (status, answer) = call(
            &world,
            Method::PUT,
            &path,
            Some(&super_admin),
            Some(json!({"signature_token": "has space"})),
        )
        .await;
        assert_eq!(status, 422, "{answer}");
        assert!(
            world
                .store
                .lever_webhook_token_names(TENANT)
                .await
                .unwrap()
                .is_empty()
        );

        let (status, answer) =
            call(&world, Method::PUT, &path, Some(&super_admin), Some(body)).await;
        assert_eq!(status, 204, "{answer}");
        let list = format!("/admin/v1/tenants/{TENANT}/lever-webhook-tokens");
        let (status, names) = call(&world, Method::GET, &list, Some(&member), None).await;
        assert_eq!(
            (status, names.clone()),
            (200, json!({"names": [hook.id.clone()]}))
        );
        assert!(!names.to_string().contains(&lever_token));

        // Deliveries signed with the stored token get through.
        world.change_some_stage().await;
        let records = world
            .lever_deliveries_to(&hook.id, Duration::from_secs(30))
            .await;
        assert_eq!(records[0].last_status, Some(202), "{records:?}");

        // Deleted: the same delivery is refused.
        let (status, answer) = call(&world, Method::DELETE, &path, Some(&super_admin), None).await;
        assert_eq!(status, 204, "{answer}");
        let (status, _) = call(&world, Method::DELETE, &path, Some(&super_admin), None).await;
        assert_eq!(status, 404);
        let replay = serde_json::to_vec(&records[0].body).unwrap();
        let (status, answer) = world
            .post_lever_webhook(TENANT, "application/json", replay)
            .await;
        assert_eq!(status, 401, "{answer}");
        world.stop().await;
    })
    .await;
}
