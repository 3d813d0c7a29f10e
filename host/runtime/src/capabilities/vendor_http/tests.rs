//! `send` through `HostCalls` against a real local server: redirects, limits, timeouts,
//! idempotency keys, and the call-kind policy.

use super::*;
use crate::audit::{AuditOutcome, MemoryAuditLog};
use crate::bindings::PluginError;
use crate::bindings::fulcrum::connector::vendor_http::{Header, Host as _, Method, Request};
use crate::call::CallKind;
use crate::capabilities::testing;
use crate::config::RuntimeConfig;
use crate::grants::InvocationContext;
use crate::state_store::MemoryStateStore;
use axum::Router;
use axum::http::{HeaderMap as AxumHeaders, Method as AxumMethod, StatusCode, header};
use axum::routing::{any, get};
use std::sync::Arc;
use std::time::Duration;

async fn server() -> String {
    let app = Router::new()
        .route(
            "/echo",
            any(
                |method: AxumMethod, headers: AxumHeaders, body: String| async move {
                    let tag = headers
                        .get("x-test")
                        .and_then(|v| v.to_str().ok())
                        .unwrap_or("-")
                        .to_owned();
                    format!("{method} {tag} {body}")
                },
            ),
        )
        .route(
            "/hop",
            get(|| async { (StatusCode::FOUND, [(header::LOCATION, "/echo")]) }),
        )
        .route(
            "/loop",
            get(|| async { (StatusCode::FOUND, [(header::LOCATION, "/loop")]) }),
        )
        .route(
            "/see-other",
            any(|| async { (StatusCode::SEE_OTHER, [(header::LOCATION, "/echo")]) }),
        )
        .route(
            "/idempotency-key",
            any(|headers: AxumHeaders| async move {
                let keys: Vec<&str> = headers
                    .get_all("idempotency-key")
                    .iter()
                    .filter_map(|v| v.to_str().ok())
                    .collect();
                keys.join(",")
            }),
        )
        .route(
            "/hop-to-key",
            get(|| async { (StatusCode::FOUND, [(header::LOCATION, "/idempotency-key")]) }),
        )
        .route("/big", get(|| async { vec![b'x'; 2_000] }))
        .route(
            "/stream",
            get(|| async {
                let chunks =
                    (0..20).map(|_| Ok::<_, std::io::Error>(bytes::Bytes::from(vec![b'y'; 100])));
                axum::body::Body::from_stream(futures::stream::iter(chunks))
            }),
        )
        .route(
            "/slow",
            get(|| async {
                tokio::time::sleep(Duration::from_secs(10)).await;
                "late"
            }),
        );
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let origin = format!("http://{}", listener.local_addr().expect("addr"));
    tokio::spawn(async move {
        let _ = axum::serve(listener, app).await;
    });
    origin
}

fn host(origin: &str, audit: &Arc<MemoryAuditLog>, kind: CallKind) -> HostCalls {
    host_for(origin, audit, kind, None)
}

fn host_for(
    origin: &str,
    audit: &Arc<MemoryAuditLog>,
    kind: CallKind,
    event_id: Option<&str>,
) -> HostCalls {
    let mut config = RuntimeConfig::default();
    config.limits.max_vendor_response_bytes = 1_000;
    config.limits.vendor_request_timeout = Duration::from_millis(500);
    let policy = VendorHttpPolicy::default()
        .with_alias("https://vendor.example", origin)
        .allowing_private_networks(true);
    let ctx = InvocationContext::new(
        "t",
        "i",
        "unit",
        Arc::new(MemoryStateStore::new()),
        audit.clone(),
    )
    .with_vendor_http(policy);
    let ctx = match event_id {
        Some(id) => ctx.with_event_id(id),
        None => ctx,
    };
    let plugin = testing::plugin(&[], &["https://vendor.example"], &[]);
    testing::state(config, plugin, ctx, kind)
}

fn request(method: Method, path: &str, body: Option<&str>) -> Request {
    Request {
        method,
        url: format!("https://vendor.example{path}"),
        headers: vec![Header {
            name: "x-test".into(),
            value: "t1".into(),
        }],
        body: body.map(|b| b.as_bytes().to_vec()),
    }
}

#[tokio::test]
async fn requests_redirects_limits_and_timeouts() {
    let origin = server().await;
    let audit = Arc::new(MemoryAuditLog::new());
    let mut h = host(&origin, &audit, CallKind::Action);

    let echoed = h
        .send(request(Method::Post, "/echo", Some("hello")))
        .await
        .expect("sent");
    assert_eq!(
        (echoed.status, echoed.body.as_slice()),
        (200, &b"POST t1 hello"[..])
    );

    // A relative redirect stays on the declared origin and is followed.
    let hopped = h
        .send(request(Method::Get, "/hop", None))
        .await
        .expect("followed");
    assert_eq!(hopped.body, b"GET t1 ");
    // 303 after POST continues as a bodiless GET.
    let seen = h
        .send(request(Method::Post, "/see-other", Some("data")))
        .await
        .expect("followed");
    assert_eq!(seen.body, b"GET t1 ");

    let looped = h.send(request(Method::Get, "/loop", None)).await;
    assert_eq!(
        looped,
        Err(PluginError::LimitExceeded("more than 5 redirects".into()))
    );
    let large = PluginError::LimitExceeded("vendor response larger than 1000 bytes".into());
    assert_eq!(
        h.send(request(Method::Get, "/big", None)).await,
        Err(large.clone())
    );
    assert_eq!(
        h.send(request(Method::Get, "/stream", None)).await,
        Err(large)
    );
    let slow = h.send(request(Method::Get, "/slow", None)).await;
    assert_eq!(
        slow,
        Err(PluginError::Unavailable(
            "the vendor did not answer within 500 ms".into()
        ))
    );

    let invalid = h
        .send(Request {
            method: Method::Get,
            url: "not a url".into(),
            headers: vec![],
            body: None,
        })
        .await;
    assert!(
        matches!(invalid, Err(PluginError::Invalid(_))),
        "{invalid:?}"
    );
    let ftp = h
        .send(Request {
            method: Method::Get,
            url: "ftp://vendor.example/x".into(),
            headers: vec![],
            body: None,
        })
        .await;
    assert!(matches!(ftp, Err(PluginError::Invalid(_))), "{ftp:?}");

    let outcomes: Vec<AuditOutcome> = audit.records().into_iter().map(|r| r.outcome).collect();
    assert_eq!(outcomes.len(), 9);
    assert_eq!(
        &outcomes[..3],
        &[
            AuditOutcome::Allowed,
            AuditOutcome::Allowed,
            AuditOutcome::Allowed
        ]
    );
    assert_eq!(
        outcomes[3],
        AuditOutcome::Failed {
            error_kind: "limit-exceeded".into()
        }
    );
    assert!(matches!(outcomes[7], AuditOutcome::Denied { .. }));
}

/// The Idempotency-Key the vendor received.
async fn key(h: &mut HostCalls, headers: Vec<Header>) -> String {
    let request = Request {
        method: Method::Post,
        url: "https://vendor.example/idempotency-key".into(),
        headers,
        body: Some(b"{}".to_vec()),
    };
    String::from_utf8(h.send(request).await.expect("sent").body).expect("text")
}

#[tokio::test]
async fn requests_of_an_event_carry_an_idempotency_key() {
    let origin = server().await;
    let audit = Arc::new(MemoryAuditLog::new());

    // Numbered per invocation: a retried event sends the same keys again.
    for _attempt in 0..2 {
        let mut h = host_for(&origin, &audit, CallKind::VendorEvent, Some("evt-7"));
        assert_eq!(key(&mut h, vec![]).await, "evt-7:0");
        assert_eq!(key(&mut h, vec![]).await, "evt-7:1");
        // A key the plugin sets itself wins (and still counts as a request).
        let own = vec![Header {
            name: "Idempotency-Key".into(),
            value: "vendor-order-42".into(),
        }];
        assert_eq!(key(&mut h, own).await, "vendor-order-42");
        assert_eq!(key(&mut h, vec![]).await, "evt-7:3");
    }
    // Redirect hops are the same request: the key follows.
    let mut h = host_for(&origin, &audit, CallKind::Action, Some("evt-8"));
    let hopped = h
        .send(request(Method::Get, "/hop-to-key", None))
        .await
        .expect("followed");
    assert_eq!(hopped.body, b"evt-8:0");
    assert_eq!(key(&mut h, vec![]).await, "evt-8:1");

    // No event id, no key.
    let mut h = host(&origin, &audit, CallKind::Action);
    assert_eq!(key(&mut h, vec![]).await, "");
}

#[tokio::test]
async fn not_available_while_verifying_a_vendor_request() {
    let origin = server().await;
    let audit = Arc::new(MemoryAuditLog::new());
    let mut h = host(&origin, &audit, CallKind::VerifyVendorRequest);
    let refused = h.send(request(Method::Get, "/echo", None)).await;
    assert_eq!(
        refused,
        Err(PluginError::Forbidden(
            "vendor-http is not available during verify-vendor-request".into()
        ))
    );
    assert!(audit.records()[0].is_denied());
}
