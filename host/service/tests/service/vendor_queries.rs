//! Synchronous vendor queries (contract 0.2.0): `ANY /ingress/{tenant}/{installation}/query/...`
//! is verified as the ingress verifies (same refusals), answered at once with the plugin's
//! status, headers and body, never stored as an event, audited once per query. Lever is
//! read-only there; the wall clock is short; a plugin that does not answer queries is a 404.

use crate::lifecycle_hooks::run_contract_0_1_0;
use fulcrum_service::installations;
use fulcrum_store::test_support::on_each_backend;
use fulcrum_testkit::*;
use reqwest::Method;
use serde_json::Value;
use std::time::{Duration, Instant};

const SETTLE: Duration = Duration::from_secs(30);

struct Answer {
    status: u16,
    body: Vec<u8>,
}

impl Answer {
    fn json(&self) -> Value {
        serde_json::from_slice(&self.body)
            .unwrap_or_else(|e| panic!("{e}: {}", String::from_utf8_lossy(&self.body)))
    }
}

async fn query(
    world: &World,
    tenant: &str,
    method: Method,
    path: &str,
    signature: Option<&str>,
) -> Answer {
    let mut request = world.http.request(
        method,
        world.url(&format!("/ingress/{tenant}/{PLUGIN}/query{path}")),
    );
    if let Some(signature) = signature {
        request = request.header("x-fixture-signature", signature);
    }
    let response = request.send().await.unwrap();
    Answer {
        status: response.status().as_u16(),
        body: response.bytes().await.unwrap().to_vec(),
    }
}

fn code(body: &Value) -> &str {
    body["error"]["code"].as_str().unwrap_or_default()
}

fn message(body: &Value) -> &str {
    body["error"]["message"].as_str().unwrap_or_default()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_is_answered_at_once_audited_and_not_stored() {
    on_each_backend(|db| async move {
        let world = World::start(&db).await;
        let before = world.settle(SETTLE).await;

        let answer = query(&world, TENANT, Method::GET, "/stages", Some(VENDOR_SECRET)).await;
        assert_eq!(
            answer.status,
            200,
            "{}",
            String::from_utf8_lossy(&answer.body)
        );
        let mut stages: Vec<String> = serde_json::from_value(answer.json()).unwrap();
        let mut expected: Vec<String> = world
            .sandbox
            .read(|db| db.stages().map(|s| s.id.clone()).collect());
        stages.sort();
        expected.sort();
        assert_eq!(stages, expected);
        assert!(!expected.is_empty());

        // Whatever the plugin answers goes back as is, its own 404 included.
        let answer = query(&world, TENANT, Method::GET, "/nope", Some(VENDOR_SECRET)).await;
        assert_eq!(answer.status, 404);
        assert_eq!(String::from_utf8_lossy(&answer.body), "no query at /nope");

        // Nothing queued; one audit row per query, with its outcome.
        assert_eq!(world.counts().await, before);
        let audit = world.store.audit_list(TENANT, 200).await.unwrap();
        let rows: Vec<_> = audit
            .iter()
            .filter(|a| a.operation.starts_with("vendor query "))
            .collect();
        assert_eq!(rows.len(), 2, "{rows:?}");
        let stages_row = rows
            .iter()
            .find(|a| a.operation == "vendor query GET /stages")
            .unwrap();
        assert_eq!(stages_row.outcome, "answered");
        assert_eq!(stages_row.plugin_id.as_deref(), Some(PLUGIN));
        let detail: Value = serde_json::from_str(stages_row.detail.as_deref().unwrap()).unwrap();
        assert_eq!(detail["status"], 200);
        // The Lever call it made is audited too.
        assert!(
            audit
                .iter()
                .any(|a| a.operation.starts_with("GET /stages") && a.outcome == "allowed"),
            "{audit:?}"
        );
        world.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_query_is_refused_as_the_ingress_refuses() {
    on_each_backend(|db| async move {
        let world = World::start(&db).await;
        world.settle(SETTLE).await;
        let ingress = world
            .http
            .post(world.url(&format!("/ingress/{TENANT}/{PLUGIN}/events")))
            .header("content-type", "application/json")
            .header("x-fixture-signature", "wrong")
            .body("{}")
            .send()
            .await
            .unwrap();
        assert_eq!(ingress.status(), 401);
        let refused: Value = ingress.json().await.unwrap();

        for (tenant, signature) in [
            (TENANT, None),
            (TENANT, Some("wrong")),
            ("no-such-tenant", Some(VENDOR_SECRET)),
        ] {
            let answer = query(&world, tenant, Method::GET, "/stages", signature).await;
            assert_eq!(answer.status, 401, "{tenant} {signature:?}");
            assert_eq!(answer.json(), refused, "the ingress's very answer");
        }
        let answer = world
            .http
            .get(world.url(&format!(
                "/ingress/{TENANT}/no-such-installation/query/stages"
            )))
            .header("x-fixture-signature", VENDOR_SECRET)
            .send()
            .await
            .unwrap();
        assert_eq!(answer.status(), 401);

        installations::disable(&world.host, &harness(), TENANT, PLUGIN)
            .await
            .unwrap();
        let answer = query(&world, TENANT, Method::GET, "/stages", Some(VENDOR_SECRET)).await;
        assert_eq!(
            answer.status, 401,
            "a disabled installation is not told apart"
        );
        world.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lever_is_read_only_in_a_query() {
    on_each_backend(|db| async move {
        let world = World::start(&db).await;
        world.settle(SETTLE).await;
        let count = || world.sandbox.read(|db| db.opportunities().count());
        let before = count();
        let answer = query(&world, TENANT, Method::POST, "/write", Some(VENDOR_SECRET)).await;
        // The fixture answers with the error it got from create-opportunity.
        assert_eq!(answer.status, 200);
        let body = answer.json();
        assert!(body.to_string().contains("forbidden"), "{body}");
        assert_eq!(count(), before, "nothing was written to Lever");
        let audit = world.store.audit_list(TENANT, 200).await.unwrap();
        assert!(
            audit
                .iter()
                .any(|a| a.operation.starts_with("POST /opportunities") && a.outcome == "denied"),
            "the refused write is audited: {audit:?}"
        );
        world.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_query_is_stopped_at_the_wall_clock_with_504() {
    on_each_backend(|db| async move {
        let mut options = Options::new();
        options.host.vendor_query_wall_clock = Duration::from_millis(300);
        let world = World::start_with(&db, options).await;
        world.settle(SETTLE).await;
        let started = Instant::now();
        let answer = query(&world, TENANT, Method::GET, "/slow", Some(VENDOR_SECRET)).await;
        assert_eq!(answer.status, 504);
        let body = answer.json();
        assert_eq!(code(&body), "query_timeout");
        assert!(message(&body).contains("300 ms"), "{body}");
        assert!(
            started.elapsed() < Duration::from_secs(5),
            "{:?}",
            started.elapsed()
        );
        let audit = world.store.audit_list(TENANT, 50).await.unwrap();
        assert!(
            audit
                .iter()
                .any(|a| a.operation == "vendor query GET /slow" && a.outcome == "timeout"),
            "{audit:?}"
        );
        world.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_plugin_without_queries_is_a_404() {
    on_each_backend(|db| async move {
        let world = World::start(&db).await;
        world.settle(SETTLE).await;
        run_contract_0_1_0(&world).await;
        let answer = query(&world, TENANT, Method::GET, "/stages", Some(VENDOR_SECRET)).await;
        assert_eq!(answer.status, 404);
        let body = answer.json();
        assert_eq!(code(&body), "not_found");
        assert!(
            message(&body).contains("does not answer vendor queries"),
            "{body}"
        );
        // Still verified first: without the signature it is the ingress's 401.
        let answer = query(&world, TENANT, Method::GET, "/stages", None).await;
        assert_eq!(answer.status, 401);
        world.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_plugin_view_shows_the_contract_hooks_and_queries() {
    on_each_backend(|db| async move {
        let world = World::start(&db).await;
        let member =
            crate::admin::token(&world, fulcrum_store::Role::TenantMember, Some(TENANT)).await;
        let (status, plugin) = crate::admin::call(
            &world,
            Method::GET,
            &format!("/admin/v1/plugins/{PLUGIN}"),
            Some(member.as_str()),
            None,
        )
        .await;
        assert_eq!(status, 200, "{plugin}");
        let manifest = &plugin["manifest"];
        assert_eq!(manifest["contract_version"], "0.2.0");
        assert_eq!(manifest["vendor_queries"], true);
        // This build asks for no hook (`well-behaved-hooks` asks for them all).
        assert_eq!(manifest["lifecycle_hooks"], serde_json::json!([]));
        let hooks = world
            .install_connector(fulcrum_plugin_artifacts::WELL_BEHAVED_HOOKS)
            .await;
        let (status, plugin) = crate::admin::call(
            &world,
            Method::GET,
            &format!("/admin/v1/plugins/{hooks}"),
            Some(member.as_str()),
            None,
        )
        .await;
        assert_eq!(status, 200, "{plugin}");
        assert_eq!(
            plugin["manifest"]["lifecycle_hooks"],
            serde_json::json!([
                "connected",
                "enabled",
                "disabled",
                "config-changed",
                "removing"
            ])
        );

        // The build for contract 0.1.0 asks for no hooks and answers no queries.
        run_contract_0_1_0(&world).await;
        let (_, plugin) = crate::admin::call(
            &world,
            Method::GET,
            &format!("/admin/v1/plugins/{PLUGIN}"),
            Some(member.as_str()),
            None,
        )
        .await;
        let manifest = &plugin["manifest"];
        assert_eq!(manifest["contract_version"], "0.1.0");
        assert_eq!(manifest["vendor_queries"], false);
        assert_eq!(manifest["lifecycle_hooks"], serde_json::json!([]));
        world.stop().await;
    })
    .await;
}
