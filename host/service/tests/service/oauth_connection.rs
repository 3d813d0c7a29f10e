//! "Connect with Lever" end to end, through the sandbox's real consent page and token
//! endpoint: OAuth connect → events run on the installation's own connection as its chosen
//! user → the access token expires and is refreshed → the app is revoked in Lever's
//! Authorized Apps while events arrive (they pause, no try burned) → reconnect → the paused
//! events finish: none lost, none doubled. And the refusals: a forged, replayed or expired
//! state, `access_denied`, a non-super-admin consenting, a code used twice.

use fulcrum_service::connections::{self, oauth_apps, oauth_flow};
use fulcrum_store::test_support::on_each_backend;
use fulcrum_store::{ConnectionStatus, EventFilter, EventStatus};
use fulcrum_testkit::*;
use lever_sandbox::consent_client::{Decision, answer_consent};
use lever_sandbox::{OAuthApp, Sandbox};
use secrecy::SecretString;
use std::time::{Duration, Instant};

const APP: &str = "lever-sandbox";

/// A world whose host has a public URL (Lever's callback comes back to it).
async fn start(db: &fulcrum_store::test_support::TestDatabase) -> World {
    World::start_with(
        db,
        Options {
            public_url_is_self: true,
            ..Options::new()
        },
    )
    .await
}

/// Registers an OAuth app in the sandbox and with the host, for the fixture plugin.
async fn register_app(world: &World) -> OAuthApp {
    let callback = world.url(oauth_flow::CALLBACK_PATH);
    let app = OAuthApp::generate("Fulcrum (tests)", vec![callback]);
    world.sandbox.register_oauth_app(app.clone()).unwrap();
    register_with_host(world, &app, format!("{}/oauth/token", world.sandbox.url())).await;
    oauth_apps::set_plugin_app(&world.host, &harness(), PLUGIN, Some(APP))
        .await
        .unwrap();
    app
}

/// Registers (or replaces) `app` with the host, its token endpoint at `token_url`.
async fn register_with_host(world: &World, app: &OAuthApp, token_url: String) {
    oauth_apps::register(
        &world.host,
        &harness(),
        oauth_apps::NewApp {
            id: APP.into(),
            name: "Fulcrum (tests)".into(),
            client_id: app.client_id.clone(),
            client_secret: SecretString::from(app.client_secret.clone()),
            authorize_url: Some(format!("{}/authorize", world.sandbox.url())),
            token_url: Some(token_url),
            audience: Some(world.sandbox.oauth_audience()),
        },
    )
    .await
    .unwrap();
}

/// Starts a connect and plays `user` on the consent page; returns the callback URL Lever
/// sends the browser to.
async fn consent(world: &World, user: &str, decision: Decision) -> String {
    let started = oauth_flow::start(&world.host, &harness(), TENANT, PLUGIN)
        .await
        .unwrap();
    assert!(started.scopes.iter().any(|s| s == "offline_access"));
    answer_consent(&started.authorize_url, user, decision)
        .await
        .unwrap()
        .to_string()
}

/// GETs the host's callback as the browser would: (status, page).
async fn callback(world: &World, url: &str) -> (u16, String) {
    let response = world.http.get(url).send().await.unwrap();
    (response.status().as_u16(), response.text().await.unwrap())
}

fn active_users(sandbox: &Sandbox, role: &str) -> Vec<String> {
    sandbox.read(|db| {
        db.users()
            .filter(|u| u.is_active() && u.access_role == role)
            .map(|u| u.id.clone())
            .collect()
    })
}

async fn post_creates(world: &World, range: std::ops::Range<usize>) {
    for n in range {
        let (status, body) = world
            .post_event(TENANT, &create_event(n, true), None, None)
            .await;
        assert_eq!(status, 202, "{body}");
    }
}

async fn connection(world: &World) -> Option<fulcrum_store::LeverConnection> {
    world
        .store
        .get_lever_connection(TENANT, PLUGIN)
        .await
        .unwrap()
}

async fn queued(world: &World) -> Vec<fulcrum_store::Event> {
    world
        .store
        .list_events(&EventFilter {
            tenant_id: Some(TENANT.into()),
            status: Some(EventStatus::Queued),
            ..EventFilter::default()
        })
        .await
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn oauth_connect_refresh_revoke_and_reconnect_lose_and_double_nothing() {
    on_each_backend(|db| async move {
        let world = start(&db).await;
        let app = register_app(&world).await;
        world
            .sandbox
            .set_access_token_ttl(Duration::from_secs(2))
            .unwrap();
        let admin = world.sandbox.default_user_id();

        let (status, page) =
            callback(&world, &consent(&world, &admin, Decision::Accept).await).await;
        assert_eq!(status, 200, "{page}");
        assert!(page.contains("connected to Lever"), "{page}");
        let info = connections::info(&world.host, TENANT, PLUGIN)
            .await
            .unwrap();
        assert_eq!(
            (info.kind.as_str(), info.status.as_str()),
            ("oauth", "connected")
        );
        assert!(info.not_granted_by_lever.is_empty(), "{info:?}");
        assert_eq!(world.sandbox.authorized_apps().len(), 1);

        // The installation acts as a user its super admin chose, not the tenant default.
        let recruiter = active_users(&world.sandbox, "admin")
            .into_iter()
            .next()
            .expect("an active admin user");
        connections::set_identity(&world.host, &harness(), TENANT, PLUGIN, &recruiter, &[])
            .await
            .unwrap();

        post_creates(&world, 0..3).await;
        world.settle(Duration::from_secs(30)).await;
        let first = connection(&world).await.unwrap();
        for n in 0..3 {
            let found = world.opportunities_with_email(&format!("candidate-{n}@example.com"));
            assert_eq!(found.len(), 1, "candidate {n}: {found:?}");
            assert_eq!(
                found[0]
                    .owner
                    .as_ref()
                    .map(|o| o.id().to_owned())
                    .as_deref(),
                Some(recruiter.as_str()),
                "written as the installation's user"
            );
        }

        // The 2 s access token runs out: the next events refresh it first.
        tokio::time::sleep(Duration::from_millis(2500)).await;
        post_creates(&world, 3..5).await;
        world.settle(Duration::from_secs(30)).await;
        let refreshed = connection(&world).await.unwrap();
        assert!(
            refreshed.generation > first.generation,
            "refreshed: {first:?} -> {refreshed:?}"
        );
        assert_eq!(world.counts().await.dead, 0);

        // Revoked in Lever while events arrive: they pause without burning tries.
        let revoke = world
            .http
            .delete(format!(
                "{}/_sandbox/authorized-apps/{}",
                world.sandbox.url(),
                app.client_id
            ))
            .send()
            .await
            .unwrap();
        assert!(revoke.status().is_success(), "{}", revoke.status());
        post_creates(&world, 5..9).await;
        let started = Instant::now();
        let paused = loop {
            let queued = queued(&world).await;
            if queued.len() == 4 && queued.iter().all(|e| e.paused) {
                break queued;
            }
            assert!(
                started.elapsed() < Duration::from_secs(30),
                "the events did not pause: {queued:?}"
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        };
        assert!(
            paused.iter().all(|e| e.attempts == 0),
            "no try burned: {paused:?}"
        );
        let lost = connection(&world).await.unwrap();
        assert_eq!(lost.status, ConnectionStatus::ReconnectNeeded);
        assert!(
            world
                .opportunities_with_email("candidate-5@example.com")
                .is_empty()
        );

        // Reconnect: the paused events run at once and finish.
        let (status, page) =
            callback(&world, &consent(&world, &admin, Decision::Accept).await).await;
        assert_eq!(status, 200, "{page}");
        let counts = world.settle(Duration::from_secs(30)).await;
        assert_eq!(counts.dead, 0, "{counts:?}");
        assert_eq!(counts.done, 9, "{counts:?}");
        for n in 0..9 {
            assert_eq!(
                world
                    .opportunities_with_email(&format!("candidate-{n}@example.com"))
                    .len(),
                1,
                "candidate {n}: none lost, none doubled"
            );
        }
        world.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_callbacks_and_consents_are_refused_and_store_nothing() {
    on_each_backend(|db| async move {
        let world = start(&db).await;
        register_app(&world).await;
        let admin = world.sandbox.default_user_id();

        // A forged state.
        let forged = world.url(&format!(
            "{}?code=abc&state=forged-state-0123456789abcdef",
            oauth_flow::CALLBACK_PATH
        ));
        let (status, page) = callback(&world, &forged).await;
        assert_eq!(status, 400);
        assert!(page.contains("not one Fulcrum issued"), "{page}");

        // The admin clicks Deny: access_denied, and the state cannot be used again.
        let denied = consent(&world, &admin, Decision::Deny).await;
        assert!(denied.contains("error=access_denied"), "{denied}");
        let (status, page) = callback(&world, &denied).await;
        assert_eq!(status, 400);
        assert!(page.contains("did not authorize"), "{page}");

        // Someone who is not a Lever super admin accepts: Lever says access_denied.
        let member = active_users(&world.sandbox, "team member")
            .into_iter()
            .next()
            .expect("a team member");
        let refused = consent(&world, &member, Decision::Accept).await;
        assert!(refused.contains("error=access_denied"), "{refused}");
        let (status, _) = callback(&world, &refused).await;
        assert_eq!(status, 400);
        assert!(connection(&world).await.is_none());

        // A good callback works once; replayed, it is refused (state used, code spent).
        let good = consent(&world, &admin, Decision::Accept).await;
        let (status, page) = callback(&world, &good).await;
        assert_eq!(status, 200, "{page}");
        let before = connection(&world).await.unwrap();
        let (status, page) = callback(&world, &good).await;
        assert_eq!(status, 400);
        assert!(page.contains("used already"), "{page}");
        let after = connection(&world).await.unwrap();
        assert_eq!(before.generation, after.generation, "nothing changed");

        // No code, token or secret in any answer.
        assert!(!page.contains("code="), "{page}");
        world.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_permission_lever_did_not_grant_is_shown_and_refused_as_forbidden() {
    on_each_backend(|db| async move {
        let world = start(&db).await;
        let app = register_app(&world).await;
        let admin = world.sandbox.default_user_id();
        let (status, page) =
            callback(&world, &consent(&world, &admin, Decision::Accept).await).await;
        assert_eq!(status, 200, "{page}");

        // Lever answers with fewer scopes than asked (an admin narrowed them): the connection
        // is stored with what Lever granted, here everything but notes.
        let (stored, secret) = world
            .store
            .lever_connection_secret(TENANT, PLUGIN)
            .await
            .unwrap()
            .unwrap();
        let fulcrum_store::ConnectionSecret::OAuth(tokens) = secret else {
            panic!("an OAuth connection");
        };
        let narrowed: Vec<&str> = stored
            .granted_scopes
            .as_deref()
            .unwrap()
            .split_whitespace()
            .filter(|s| *s != "notes:write:admin")
            .collect();
        world
            .store
            .put_oauth_connection(
                TENANT,
                PLUGIN,
                &fulcrum_store::NewOAuthConnection {
                    app_id: APP,
                    tokens: &tokens,
                    access_expires_at: stored.access_expires_at.unwrap(),
                    granted_scopes: &narrowed.join(" "),
                    connected_by: "test",
                },
            )
            .await
            .unwrap();
        let info = connections::info(&world.host, TENANT, PLUGIN)
            .await
            .unwrap();
        assert_eq!(info.not_granted_by_lever, vec!["create opportunity note"]);

        // The plugin's note is refused by the host (typed forbidden) before Lever is asked.
        let before = world.sandbox.stats().total_requests();
        let (status, body) = world
            .post_event(TENANT, &create_event(1, true), None, None)
            .await;
        assert_eq!(status, 202, "{body}");
        let counts = world.settle(Duration::from_secs(30)).await;
        assert_eq!(counts.dead, 1, "{counts:?}");
        let dead = world.store.list_dead_events(10).await.unwrap();
        assert!(
            dead[0]
                .last_error
                .as_deref()
                .unwrap_or_default()
                .contains("create opportunity note"),
            "{dead:?}"
        );
        let created = world.opportunities_with_email("candidate-1@example.com");
        assert_eq!(created.len(), 1, "the create (granted) went through");
        assert_eq!(
            world.note_count(&created[0].id),
            0,
            "the note never reached Lever"
        );
        assert!(world.sandbox.stats().total_requests() > before);
        let _ = app;
        world.stop().await;
    })
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_token_endpoint_that_is_down_fails_the_connect_clearly_and_stores_nothing() {
    on_each_backend(|db| async move {
        let world = start(&db).await;
        let app = register_app(&world).await;
        // The same app, but its token endpoint is a port nobody listens on.
        let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
        let dead_end = format!("http://{}/oauth/token", closed.local_addr().unwrap());
        drop(closed);
        register_with_host(&world, &app, dead_end).await;
        let admin = world.sandbox.default_user_id();
        let (status, page) =
            callback(&world, &consent(&world, &admin, Decision::Accept).await).await;
        assert_eq!(status, 400, "{page}");
        assert!(page.contains("unavailable"), "{page}");
        assert!(page.contains("again"), "says what to do next: {page}");
        assert!(connection(&world).await.is_none(), "nothing stored");
        world.stop().await;
    })
    .await;
}

/// Each installation's own connection draws on its own Lever budget (10 req/s, burst 20 per
/// credential, as at Lever): exhausting one installation's budget leaves the other's whole.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn installations_with_their_own_connections_have_separate_rate_budgets() {
    use fulcrum_service::LeverDefaults;
    use fulcrum_service::tenancy::Tenancy;
    use fulcrum_store::Installation;
    use serde_json::json;
    on_each_backend(|db| async move {
        let store = db.open().await;
        store.create_tenant(TENANT, "Acme").await.unwrap();
        let sandbox = Sandbox::start(
            lever_sandbox::SandboxConfig {
                seed: lever_sandbox::SeedSpec::vocabulary_only(3),
                ..Default::default()
            },
            "127.0.0.1:0".parse().unwrap(),
        )
        .await
        .unwrap();
        let installations = ["alpha", "beta"];
        for (n, id) in installations.iter().enumerate() {
            store
                .upsert_installation(&Installation {
                    tenant_id: TENANT.into(),
                    plugin_id: (*id).into(),
                    plugin: (*id).into(),
                    name: None,
                    enabled: true,
                    approved_permissions: json!([]),
                    config: json!({}),
                    schedule_overrides: json!({}),
                    updated_at: 0,
                })
                .await
                .unwrap();
            let key = sandbox.issue_api_key(lever_sandbox::KeySpec::all(format!("key {n}")));
            store
                .put_api_key_connection(TENANT, id, &SecretString::from(key), false, "test")
                .await
                .unwrap();
        }
        let tenancy = Tenancy::new(
            store.clone(),
            LeverDefaults {
                client: lever_client::ClientConfig::new(&sandbox.api_url()).unwrap(),
                acting_user_id: None,
            },
            None,
            "test-node",
        );
        let alpha = tenancy.lever_client(TENANT, "alpha").await.unwrap();
        let beta = tenancy.lever_client(TENANT, "beta").await.unwrap();
        assert_ne!(alpha.fingerprint(), beta.fingerprint());
        let limits = tenancy.rate_limits();
        let mut taken = 0;
        while limits.try_acquire(alpha.fingerprint()) {
            taken += 1;
            assert!(taken <= 1000, "the budget never ran out");
        }
        assert!(taken >= 1, "alpha had a budget");
        assert!(
            limits.try_acquire(beta.fingerprint()),
            "beta's budget is its own"
        );
        sandbox.shutdown().await;
        store.close().await;
    })
    .await;
}
