//! Bad vendor requests get a clear error and store nothing.

use crate::world::*;
use fulcrum_store::test_support::on_each_backend;
use serde_json::Value;

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
                "x-fixture-signature",
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
                404,
                "unknown tenant",
            ),
            (
                "unknown plugin",
                format!("/ingress/{TENANT}/nothing/events"),
                "application/json",
                VENDOR_SECRET,
                ok_body.clone(),
                404,
                "not installed",
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
        for (what, path, content_type, signature, body, status, needle) in cases {
            let (got, body) = raw_post(&world, &path, content_type, signature, body).await;
            assert_eq!(got, status, "{what}: {body}");
            let message = body["error"]["message"].as_str().unwrap_or_default();
            assert!(message.contains(needle), "{what}: {message}");
        }
        // A disabled installation refuses traffic too.
        world
            .store
            .set_installation_enabled(TENANT, PLUGIN, false)
            .await
            .unwrap();
        let (got, body) = raw_post(&world, &path, "application/json", VENDOR_SECRET, ok_body).await;
        assert_eq!(got, 403, "{body}");
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
