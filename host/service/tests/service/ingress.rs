//! Bad vendor requests get a clear error and store nothing; an unknown tenant or plugin is
//! answered like a bad signature; a signed request resent under a new key is a duplicate;
//! credential headers are sealed; the HTTP server's timeouts, limits and body errors.

use fulcrum_runtime::Call;
use fulcrum_store::test_support::on_each_backend;
use fulcrum_testkit::*;
use serde_json::{Value, json};
use std::time::{Duration, Instant};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpStream;

async fn raw_post(
    world: &World,
    path: &str,
    content_type: &str,
    signature: &str,
    body: Vec<u8>,
) -> (u16, Value) {
    let response = world
        .http
        .post(world.url(path))
        .header("content-type", content_type)
        .header("x-fixture-signature", signature)
        .body(body)
        .send()
        .await
        .unwrap();
    let status = response.status().as_u16();
    (status, response.json().await.unwrap_or(Value::Null))
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_vendor_requests_are_refused_and_nothing_is_stored() {
    on_each_backend(|db| async move {
        let world = World::start(&db).await;
        let ok_body = create_event(1, false).to_string().into_bytes();
        let path = format!("/ingress/{TENANT}/{PLUGIN}/events");
        // (what, path, content type, signature, body, expected status, words in the message)
        type Case<'a> = (&'a str, String, &'a str, &'a str, Vec<u8>, u16, &'a str);
        let cases: Vec<Case<'_>> = vec![
            (
                "wrong signature",
                path.clone(),
                "application/json",
                "guess",
                ok_body.clone(),
                401,
                "could not be authenticated",
            ),
            (
                "not JSON content type",
                path.clone(),
                "text/plain",
                VENDOR_SECRET,
                ok_body.clone(),
                415,
                "application/json",
            ),
            (
                "oversize body",
                path.clone(),
                "application/json",
                VENDOR_SECRET,
                vec![b' '; 2 * 1024 * 1024],
                413,
                "larger than",
            ),
            (
                "unknown tenant",
                format!("/ingress/nobody/{PLUGIN}/events"),
                "application/json",
                VENDOR_SECRET,
                ok_body.clone(),
                401,
                "could not be authenticated",
            ),
            (
                "unknown plugin",
                format!("/ingress/{TENANT}/nothing/events"),
                "application/json",
                VENDOR_SECRET,
                ok_body.clone(),
                401,
                "could not be authenticated",
            ),
            (
                "unknown route",
                "/nowhere".into(),
                "application/json",
                VENDOR_SECRET,
                ok_body.clone(),
                404,
                "no such route",
            ),
        ];
        let mut unauthorized = Vec::new();
        for (what, path, content_type, signature, body, status, needle) in cases {
            let (got, body) = raw_post(&world, &path, content_type, signature, body).await;
            assert_eq!(got, status, "{what}: {body}");
            let message = body["error"]["message"].as_str().unwrap_or_default();
            assert!(message.contains(needle), "{what}: {message}");
            if got == 401 {
                unauthorized.push(body);
            }
        }
        // A caller without the signature cannot tell an unknown tenant or plugin from a bad
        // signature: the same answer, word for word.
        assert_eq!(unauthorized.len(), 3);
        assert!(
            unauthorized.windows(2).all(|w| w[0] == w[1]),
            "{unauthorized:?}"
        );

        // Headers beyond the ingress's cap are refused before anything else.
        let response = world
            .http
            .post(world.url(&path))
            .header("content-type", "application/json")
            .header("x-fixture-signature", VENDOR_SECRET)
            .header("x-junk", "j".repeat(20 * 1024))
            .body(ok_body.clone())
            .send()
            .await
            .unwrap();
        assert_eq!(response.status().as_u16(), 431);
        let answer: Value = response.json().await.unwrap();
        assert_eq!(answer["error"]["code"], "headers_too_large", "{answer}");

        // A disabled installation answers the same 401 too.
        fulcrum_service::installations::disable(
            &world.host,
            &fulcrum_service::Actor::local("test"),
            TENANT,
            PLUGIN,
        )
        .await
        .unwrap();
        let (got, body) = raw_post(&world, &path, "application/json", VENDOR_SECRET, ok_body).await;
        assert_eq!(got, 401, "{body}");
        assert_eq!(body, unauthorized[0]);
        let counts = world.counts().await;
        assert_eq!(
            counts.queued + counts.running + counts.done + counts.dead,
            0,
            "{counts:?}"
        );
        world.stop().await;
    })
    .await;
}

/// A verified request resent under another Idempotency-Key is the first event again; a
/// request with another body is new.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_request_resent_under_a_new_key_is_a_duplicate() {
    on_each_backend(|db| async move {
        let world = World::start(&db).await;
        let body = create_event(1, false);
        let (status, first) = world.post_event(TENANT, &body, Some("key-a"), None).await;
        assert_eq!(
            (status, first["duplicate"].clone()),
            (202, json!(false)),
            "{first}"
        );
        for key in ["key-b", "key-c"] {
            let (status, again) = world.post_event(TENANT, &body, Some(key), None).await;
            assert_eq!(status, 202, "{again}");
            assert_eq!(again["duplicate"], true, "{again}");
            assert_eq!(again["event_id"], first["event_id"]);
        }
        // Another body under a used key is still that key's delivery; a new body and key is new.
        let (_, other) = world
            .post_event(TENANT, &create_event(2, false), Some("key-d"), None)
            .await;
        assert_eq!(other["duplicate"], false, "{other}");
        assert_ne!(other["event_id"], first["event_id"]);
        world.settle(Duration::from_secs(30)).await;
        assert_eq!(world.counts().await.done, 2);
        assert_eq!(
            world
                .opportunities_with_email("candidate-1@example.com")
                .len(),
            1
        );
        world.stop().await;
    })
    .await;
}

/// Credential headers are not in the stored payload, and the event's call still carries
/// them, in place.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn credential_headers_are_sealed_and_handed_back_to_the_plugin() {
    on_each_backend(|db| async move {
        let mut options = Options::new();
        options.start_workers = false;
        options
            .host
            .credential_headers
            .push("x-vendor-token".into());
        let world = World::start_with(&db, options).await;
        let api_key = "k3y-0f5e9a7c2b";
        let cookie = "session=c00kie-4d1e";
        let vendor_token = "vt-7a2c9e";
        let (status, answer) = world
            .post_vendor(
                TENANT,
                PLUGIN,
                "/events",
                &[
                    ("x-fixture-signature", VENDOR_SECRET),
                    ("x-api-key", api_key),
                    ("cookie", cookie),
                    ("x-vendor-token", vendor_token),
                    ("x-request-id", "r-1"),
                ],
                create_event(1, false).to_string().as_bytes(),
            )
            .await;
        assert_eq!(status, 202, "{answer}");
        let id: i64 = answer["event_id"].as_str().unwrap()["evt-".len()..]
            .parse()
            .unwrap();
        let event = world.store.get_event(id).await.unwrap().unwrap();
        let stored = event.payload.to_string();
        for secret in [api_key, cookie, vendor_token] {
            assert!(
                !stored.contains(secret),
                "{secret} stored in clear: {stored}"
            );
        }
        assert!(stored.contains("x-request-id"), "{stored}");
        let sealed: Vec<&str> = event.payload["sealed_headers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|slot| slot[1].as_str().unwrap())
            .collect();
        assert_eq!(sealed, ["x-api-key", "cookie", "x-vendor-token"]);

        // What the plugin gets when the event runs: every header, where it was.
        let Call::VendorEvent(request) =
            fulcrum_service::event_payload::call_for_event(&world.store, &event)
                .await
                .unwrap()
        else {
            panic!("not a vendor event call");
        };
        let kept = event.payload["headers"].as_array().unwrap().len();
        assert_eq!(request.headers.len(), kept + 3);
        for (position, name) in event.payload["sealed_headers"]
            .as_array()
            .unwrap()
            .iter()
            .map(|slot| {
                (
                    slot[0].as_u64().unwrap() as usize,
                    slot[1].as_str().unwrap(),
                )
            })
        {
            assert_eq!(request.headers[position].name, name);
        }
        let value = |name: &str| {
            request
                .headers
                .iter()
                .find(|h| h.name == name)
                .map(|h| h.value.clone())
        };
        assert_eq!(value("x-api-key").as_deref(), Some(api_key));
        assert_eq!(value("cookie").as_deref(), Some(cookie));
        assert_eq!(value("x-vendor-token").as_deref(), Some(vendor_token));
        world.stop().await;
    })
    .await;
}

/// Sends `request` on a fresh connection; returns what the server wrote until it closed the
/// connection (or `limit` passed) and how long that took.
async fn exchange(world: &World, request: &[u8], limit: Duration) -> (String, Duration) {
    let mut stream = TcpStream::connect(world.addr).await.unwrap();
    let started = Instant::now();
    // The server may answer (and close) before reading all of an oversize request.
    let _ = stream.write_all(request).await;
    let mut answer = Vec::new();
    let _ = tokio::time::timeout(limit, stream.read_to_end(&mut answer)).await;
    (
        String::from_utf8_lossy(&answer).into_owned(),
        started.elapsed(),
    )
}

/// The server closes connections whose head or body stalls, and idle ones; answers a broken
/// chunked body with 400 and an oversize head with 431; and serves at most
/// `max_connections` connections at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_http_server_times_out_limits_and_refuses_broken_requests() {
    on_each_backend(|db| async move {
        let mut options = Options::new();
        options.start_workers = false;
        options.host.http.header_timeout = Duration::from_secs(2);
        options.host.http.body_timeout = Duration::from_secs(1);
        options.host.http.max_connections = 4;
        let world = World::start_with(&db, options).await;
        let ingress = format!("/ingress/{TENANT}/{PLUGIN}/events");

        // Connection limit: four connections that send nothing hold every slot; a fifth
        // request waits until the header timeout closes them.
        let mut idle = Vec::new();
        for _ in 0..4 {
            idle.push(TcpStream::connect(world.addr).await.unwrap());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
        let (answer, took) = exchange(
            &world,
            b"GET /healthz HTTP/1.1\r\nhost: x\r\nconnection: close\r\n\r\n",
            Duration::from_secs(10),
        )
        .await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(
            took >= Duration::from_millis(1200),
            "served at once despite the limit: {took:?}"
        );
        // The idle ones were closed by the server.
        for mut stream in idle {
            let mut buf = Vec::new();
            let read = tokio::time::timeout(Duration::from_secs(5), stream.read_to_end(&mut buf));
            assert!(read.await.is_ok(), "an idle connection stayed open");
        }

        // Partial head: closed after the header timeout.
        let (_, took) = exchange(
            &world,
            format!("POST {ingress} HTTP/1.1\r\nhost: x\r\ncontent-type: app").as_bytes(),
            Duration::from_secs(10),
        )
        .await;
        assert!(
            took < Duration::from_secs(6),
            "partial head kept open {took:?}"
        );

        // A kept-alive connection left idle after a response: closed too.
        let (answer, took) = exchange(
            &world,
            b"GET /healthz HTTP/1.1\r\nhost: x\r\n\r\n",
            Duration::from_secs(10),
        )
        .await;
        assert!(answer.starts_with("HTTP/1.1 200"), "{answer}");
        assert!(
            took < Duration::from_secs(6),
            "idle connection kept open {took:?}"
        );

        // A body that stops arriving: 408, connection closed.
        let head = format!(
            "POST {ingress} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
             x-fixture-signature: {VENDOR_SECRET}\r\ncontent-length: 100\r\n\r\n{{\"op\":"
        );
        let (answer, took) = exchange(&world, head.as_bytes(), Duration::from_secs(10)).await;
        assert!(answer.starts_with("HTTP/1.1 408"), "{answer}");
        assert!(took < Duration::from_secs(6), "{took:?}");

        // Malformed chunked encoding: 400, not 413.
        let broken = format!(
            "POST {ingress} HTTP/1.1\r\nhost: x\r\ncontent-type: application/json\r\n\
             x-fixture-signature: {VENDOR_SECRET}\r\ntransfer-encoding: chunked\r\n\r\n\
             zz\r\n{{}}\r\n0\r\n\r\n"
        );
        let (answer, _) = exchange(&world, broken.as_bytes(), Duration::from_secs(10)).await;
        assert!(answer.starts_with("HTTP/1.1 400"), "{answer}");
        assert!(answer.contains("could not be read"), "{answer}");

        // A head larger than the server reads at all: 431.
        let huge = format!(
            "POST {ingress} HTTP/1.1\r\nhost: x\r\nx-junk: {}\r\ncontent-length: 0\r\n\r\n",
            "j".repeat(66 * 1024)
        );
        let (answer, _) = exchange(&world, huge.as_bytes(), Duration::from_secs(10)).await;
        assert!(answer.starts_with("HTTP/1.1 431"), "{answer}");

        assert_eq!(world.counts().await, fulcrum_store::EventCounts::default());
        world.stop().await;
    })
    .await;
}
