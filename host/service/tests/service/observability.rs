//! `/metrics` after real work: event outcomes by tenant × plugin, invocation latency, Lever
//! calls and rate waits, Lever webhooks, limit kills — and no secret anywhere in it; served
//! only with the metrics token (or on a separate listener), with bounded labels; `/readyz`.
//!
//! The recorder is process-global and shared by every test in this binary, so the checks are
//! "contains", never exact counts.

use fulcrum_store::NewEvent;
use fulcrum_store::test_support::on_each_backend;
use fulcrum_testkit::*;
use secrecy::SecretString;
use serde_json::json;
use std::time::{Duration, Instant};

const LOOP_PLUGIN: &str = "infinite-loop";
const WEBHOOK_TOKEN: &str = "obs-lever-signature-token-51c0e7";
const METRICS_TOKEN: &str = "obs-metrics-token-8e2d4f1a";

/// Whether some sample line of `metric` carries every label in `labels`.
fn has_sample(text: &str, metric: &str, labels: &[&str]) -> bool {
    text.lines().any(|line| {
        line.strip_prefix(metric)
            .is_some_and(|rest| rest.starts_with('{'))
            && labels.iter().all(|l| line.contains(l))
    })
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn metrics_show_outcomes_latency_lever_calls_and_limit_kills_without_secrets() {
    let handle = fulcrum_service::observability::install_recorder();
    // Idempotent: a second install is the same recorder.
    fulcrum_service::observability::install_recorder();
    on_each_backend(move |db| {
        let handle = handle.clone();
        async move {
            let mut options = Options::new();
            options.host.metrics_token = Some(SecretString::from(METRICS_TOKEN));
            let world = World::start_with(&db, options).await;
            // Without the token, or with another one: refused, and nothing shown.
            for bearer in [None, Some("not-the-token")] {
                let mut request = world.http.get(world.url("/metrics"));
                if let Some(bearer) = bearer {
                    request = request.bearer_auth(bearer);
                }
                let response = request.send().await.unwrap();
                assert_eq!(response.status(), 401, "{bearer:?}");
                assert!(!response.text().await.unwrap().contains("fulcrum_"));
            }
            // A caller-chosen plugin in the URL does not become a label value.
            let junk_plugin = format!("junk-{:08x}", rand_suffix());
            let (status, _) = world
                .post_event_to(&junk_plugin, TENANT, &create_event(9, false), None, None)
                .await;
            assert_eq!(status, 401);
            let ready = world.http.get(world.url("/readyz")).send().await.unwrap();
            assert_eq!(ready.status(), 200);
            assert_eq!(ready.text().await.unwrap(), "ready");
            world
                .host
                .install_plugin(read(fulcrum_plugin_artifacts::INFINITE_LOOP))
                .await
                .expect("infinite-loop installs");
            world.enable_plugin(TENANT, LOOP_PLUGIN).await;
            world
                .store
                .set_lever_webhook_token(TENANT, "stage", &SecretString::from(WEBHOOK_TOKEN))
                .await
                .unwrap();

            // A vendor event that writes to Lever, a Lever webhook, and a plugin that spins
            // until its CPU budget stops it.
            let (status, answer) = world
                .post_event(TENANT, &create_event(1, true), None, None)
                .await;
            assert_eq!(status, 202, "{answer}");
            let delivery =
                signed_lever_delivery(WEBHOOK_TOKEN, "candidateStageChange", None, "o-1");
            let (status, answer) = world
                .post_lever_webhook(
                    TENANT,
                    "application/json",
                    serde_json::to_vec(&delivery).unwrap(),
                )
                .await;
            assert_eq!(status, 202, "{answer}");
            world
                .host
                .enqueue(&NewEvent {
                    tenant_id: TENANT.into(),
                    plugin_id: LOOP_PLUGIN.into(),
                    kind: "action".into(),
                    subject_key: "spin".into(),
                    payload: json!({"name": "run", "input": "{}", "requested_by": null}),
                    dedupe_key: None,
                })
                .await
                .unwrap();

            let tenant = format!("tenant=\"{TENANT}\"");
            let plugin = format!("plugin=\"{PLUGIN}\"");
            let lane = format!("lane=\"{PLUGIN}\"");
            let loop_plugin = format!("plugin=\"{LOOP_PLUGIN}\"");
            let expected: Vec<(&str, Vec<&str>)> = vec![
                (
                    "fulcrum_events_total",
                    vec![&tenant, &plugin, "outcome=\"done\""],
                ),
                (
                    "fulcrum_invocation_seconds_bucket",
                    vec![&plugin, "call=\"handle-vendor-event\""],
                ),
                (
                    "fulcrum_invocation_seconds_bucket",
                    vec![&plugin, "call=\"handle-lever-event\""],
                ),
                ("fulcrum_event_seconds_count", vec![&plugin]),
                (
                    "fulcrum_lever_requests_total",
                    vec![&lane, "operation=", "status=\"20"],
                ),
                ("fulcrum_lever_rate_wait_seconds_count", vec![&lane]),
                ("fulcrum_lever_webhooks_total", vec!["outcome=\"accepted\""]),
                (
                    "fulcrum_ingress_requests_total",
                    vec![&plugin, "outcome=\"accepted\""],
                ),
                (
                    "fulcrum_ingress_requests_total",
                    vec!["plugin=\"other\"", "outcome=\"unauthorized\""],
                ),
                (
                    "fulcrum_limit_kills_total",
                    vec![&loop_plugin, "limit=\"cpu\""],
                ),
                (
                    "fulcrum_events_total",
                    vec![&tenant, &loop_plugin, "outcome=\"retrying\""],
                ),
            ];
            let started = Instant::now();
            let text = loop {
                let response = world
                    .http
                    .get(world.url("/metrics"))
                    .bearer_auth(METRICS_TOKEN)
                    .send()
                    .await
                    .unwrap();
                assert_eq!(response.status(), 200);
                let content_type = response.headers()["content-type"].to_str().unwrap();
                assert!(
                    content_type.starts_with("text/plain; version=0.0.4"),
                    "{content_type}"
                );
                let text = response.text().await.unwrap();
                let missing: Vec<_> = expected
                    .iter()
                    .filter(|(metric, labels)| !has_sample(&text, metric, labels))
                    .collect();
                if missing.is_empty() {
                    break text;
                }
                assert!(
                    started.elapsed() < Duration::from_secs(60),
                    "missing from /metrics: {missing:?}\n{text}"
                );
                tokio::time::sleep(Duration::from_millis(200)).await;
            };
            // Help texts are registered, and the handle renders what /metrics serves.
            assert!(text.contains("# HELP fulcrum_events_total"), "{text}");
            assert!(
                text.contains("# HELP fulcrum_lever_requests_total"),
                "{text}"
            );
            assert!(handle.render().contains("fulcrum_limit_kills_total"));
            assert!(!text.contains(&junk_plugin), "an unbounded label value");

            for (what, secret) in [
                ("Lever API key", world.api_key.as_str()),
                ("vendor secret", VENDOR_SECRET),
                ("Lever webhook signature token", WEBHOOK_TOKEN),
                ("master key", db.key_b64.as_str()),
                ("webhook signature", delivery.signature.as_deref().unwrap()),
                ("metrics token", METRICS_TOKEN),
            ] {
                assert!(!text.contains(secret), "/metrics shows the {what}");
            }
            world.stop().await;
        }
    })
    .await;
}

fn rand_suffix() -> u32 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.subsec_nanos())
        .unwrap_or(7)
}

/// Without a metrics token the main listener does not serve `/metrics` at all (the 404 of any
/// unknown route); the metrics-only router serves it without one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_a_token_metrics_are_only_on_the_separate_listener() {
    fulcrum_service::observability::install_recorder();
    on_each_backend(|db| async move {
        let world = World::start(&db).await;
        let response = world.http.get(world.url("/metrics")).send().await.unwrap();
        assert_eq!(response.status(), 404);
        let answer: serde_json::Value = response.json().await.unwrap();
        assert!(
            answer["error"]["message"]
                .as_str()
                .unwrap()
                .contains("no such route"),
            "{answer}"
        );

        // Something to count.
        let (status, _) = world
            .post_event(TENANT, &create_event(1, false), None, None)
            .await;
        assert_eq!(status, 202);
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let stop = tokio_util::sync::CancellationToken::new();
        let served = tokio::spawn(fulcrum_service::server::serve(
            listener,
            fulcrum_service::observability::metrics_app(),
            fulcrum_service::HttpLimits::default(),
            stop.clone().cancelled_owned(),
        ));
        let response = world
            .http
            .get(format!("http://{addr}/metrics"))
            .send()
            .await
            .unwrap();
        assert_eq!(response.status(), 200);
        assert!(
            response
                .text()
                .await
                .unwrap()
                .contains("fulcrum_ingress_requests_total")
        );
        let other = world
            .http
            .get(format!("http://{addr}/admin/v1/tenants"))
            .send()
            .await
            .unwrap();
        assert_eq!(
            other.status(),
            404,
            "the metrics listener serves nothing else"
        );
        stop.cancel();
        served.await.unwrap().unwrap();
        world.stop().await;
    })
    .await;
}
