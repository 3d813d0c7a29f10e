//! The authorize URL, configuration checks, and how answers of a token endpoint are read:
//! a real HTTP server on 127.0.0.1 answers each case with a fixed body (the flow against the
//! sandbox's OAuth server is in `crate::tests::oauth_sandbox`).

use super::*;
use axum::body::Bytes;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use base64::Engine as _;
use lever_model::{Permission, Scope, ScopeSet};
use secrecy::{ExposeSecret, SecretString};
use sha2::{Digest, Sha256};
use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use url::Url;

const CLIENT_SECRET: &str = "client-secret-DO-NOT-LEAK-42";
const REFRESH: &str = "refresh-token-DO-NOT-LEAK-17";
const CODE: &str = "auth-code-DO-NOT-LEAK-99";

/// One fixed answer, and every request seen (headers and form fields).
struct Endpoint {
    status: u16,
    content_type: &'static str,
    body: String,
    extra_header: Option<(&'static str, String)>,
    seen: Mutex<Vec<(HeaderMap, HashMap<String, String>)>>,
}

impl Endpoint {
    fn hits(&self) -> usize {
        self.seen.lock().unwrap().len()
    }
    fn form(&self, i: usize) -> HashMap<String, String> {
        self.seen.lock().unwrap()[i].1.clone()
    }
}

async fn answer(State(e): State<Arc<Endpoint>>, headers: HeaderMap, body: Bytes) -> Response {
    let form = url::form_urlencoded::parse(&body).into_owned().collect();
    e.seen.lock().unwrap().push((headers, form));
    let mut r = (
        StatusCode::from_u16(e.status).unwrap(),
        [(header::CONTENT_TYPE, e.content_type)],
        e.body.clone(),
    )
        .into_response();
    if let Some((name, value)) = &e.extra_header {
        r.headers_mut().insert(*name, value.parse().unwrap());
    }
    r
}

async fn serve_with(
    status: u16,
    content_type: &'static str,
    body: impl Into<String>,
    extra_header: Option<(&'static str, String)>,
) -> (String, Arc<Endpoint>) {
    let endpoint = Arc::new(Endpoint {
        status,
        content_type,
        body: body.into(),
        extra_header,
        seen: Mutex::new(Vec::new()),
    });
    let app = axum::Router::new()
        .route("/oauth/token", axum::routing::post(answer))
        .with_state(endpoint.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    (base, endpoint)
}

async fn serve(status: u16, body: serde_json::Value) -> (String, Arc<Endpoint>) {
    serve_with(status, "application/json", body.to_string(), None).await
}

fn app(base: &str) -> OAuthApp {
    OAuthApp::new(
        "fulcrum-client-id",
        SecretString::from(CLIENT_SECRET),
        &format!("{base}/authorize"),
        &format!("{base}/oauth/token"),
        "http://127.0.0.1/v1/",
    )
    .unwrap()
}

fn redirect() -> Url {
    Url::parse("https://fulcrum.example/oauth/callback?tenant=t1").unwrap()
}

fn assert_no_secret(text: &str) {
    for secret in [CLIENT_SECRET, REFRESH, CODE] {
        assert!(!text.contains(secret), "{secret} leaked: {text}");
    }
}

#[test]
fn authorize_url_carries_lever_params_and_s256_pkce() {
    let app = OAuthApp::lever("fulcrum-client-id", SecretString::from(CLIENT_SECRET)).unwrap();
    let pkce = Pkce::new();
    let mut scopes = ScopeSet::covering([Permission::ListOpportunities, Permission::ListStages]);
    scopes.insert(Scope::OfflineAccess);
    let state = new_state();
    let url = app.authorize_url(&redirect(), &scopes, &state, &pkce.challenge);
    assert_eq!(url.origin().ascii_serialization(), "https://auth.lever.co");
    assert_eq!(url.path(), "/authorize");
    let q: HashMap<String, String> = url.query_pairs().into_owned().collect();
    assert_eq!(q["client_id"], "fulcrum-client-id");
    assert_eq!(q["response_type"], "code");
    assert_eq!(q["redirect_uri"], redirect().as_str());
    assert_eq!(q["state"], state);
    assert_eq!(q["audience"], LEVER_AUDIENCE);
    assert_eq!(
        q["scope"],
        "offline_access opportunities:read:admin stages:read:admin"
    );
    assert_eq!(q["code_challenge_method"], "S256");
    let expected = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .encode(Sha256::digest(pkce.verifier.expose_secret().as_bytes()));
    assert_eq!(q["code_challenge"], expected);
    assert!(!url.as_str().contains(CLIENT_SECRET));
    assert!(!url.as_str().contains(pkce.verifier.expose_secret()));
    // Fresh values every time.
    assert_ne!(
        Pkce::new().verifier.expose_secret(),
        pkce.verifier.expose_secret()
    );
    assert_ne!(new_state(), state);
}

#[test]
fn debug_output_never_shows_secrets() {
    let app = OAuthApp::lever("id", SecretString::from(CLIENT_SECRET)).unwrap();
    let pkce = Pkce::new();
    let text = format!("{app:?} {app:#?} {pkce:?}");
    assert_no_secret(&text);
    assert!(!text.contains(pkce.verifier.expose_secret()), "{text}");
    assert!(text.contains("auth.lever.co/oauth/token"), "{text}");
}

#[tokio::test]
async fn bad_configuration_is_refused_before_sending() {
    let (base, endpoint) = serve(200, serde_json::json!({})).await;
    let secret = || SecretString::from(CLIENT_SECRET);
    let token = format!("{base}/oauth/token");
    let cases: Vec<(&str, Result<OAuthApp, OAuthError>)> = vec![
        (
            "empty id",
            OAuthApp::new(" ", secret(), &token, &token, "a"),
        ),
        (
            "empty secret",
            OAuthApp::new("id", SecretString::from(""), &token, &token, "a"),
        ),
        (
            "empty audience",
            OAuthApp::new("id", secret(), &token, &token, ""),
        ),
        (
            "not a url",
            OAuthApp::new("id", secret(), "auth.lever.co", &token, "a"),
        ),
        (
            "ftp",
            OAuthApp::new("id", secret(), &token, "ftp://auth.lever.co/t", "a"),
        ),
        (
            "plain http off loopback",
            OAuthApp::new(
                "id",
                secret(),
                &token,
                "http://auth.lever.co/oauth/token",
                "a",
            ),
        ),
        (
            "userinfo",
            OAuthApp::new(
                "id",
                secret(),
                &token,
                "https://u:pw-in-url@auth.lever.co/t",
                "a",
            ),
        ),
    ];
    for (what, result) in cases {
        match result {
            Err(e @ OAuthError::Config { .. }) => {
                assert!(!e.to_string().contains("pw-in-url"), "{what}: {e}");
                assert_no_secret(&e.to_string());
            }
            other => panic!("{what}: {other:?}"),
        }
    }
    OAuthApp::new("id", secret(), &token, "http://localhost:1/t", "a").unwrap();
    OAuthApp::new("id", secret(), &token, "http://[::1]:1/t", "a").unwrap();

    let app = app(&base);
    let good = Pkce::new().verifier;
    for bad in ["short", &"x".repeat(129), &format!("{}!", "a".repeat(50))] {
        let e = app
            .exchange_code(CODE, &redirect(), &SecretString::from(bad.to_owned()))
            .await
            .unwrap_err();
        assert!(matches!(e, OAuthError::Config { .. }), "{e:?}");
        assert!(!e.to_string().contains(bad), "{e}");
    }
    let e = app
        .exchange_code("  ", &redirect(), &good)
        .await
        .unwrap_err();
    assert!(matches!(e, OAuthError::Config { .. }), "{e:?}");
    let e = app.refresh(&SecretString::from("")).await.unwrap_err();
    assert!(matches!(e, OAuthError::Config { .. }), "{e:?}");
    // Fields are public: the token calls check them again.
    let mut broken = app.clone();
    broken.client_id.clear();
    let e = broken
        .refresh(&SecretString::from(REFRESH))
        .await
        .unwrap_err();
    assert!(matches!(e, OAuthError::Config { .. }), "{e:?}");
    assert_eq!(endpoint.hits(), 0);
}

#[tokio::test]
async fn exchange_code_posts_the_documented_form_and_reads_the_grant() {
    let (base, endpoint) = serve(
        200,
        serde_json::json!({
            "access_token": "at-1", "refresh_token": "rt-1", "token_type": "Bearer",
            "scope": "offline_access opportunities:read:admin future:scope:admin",
            "expires_in": 3600,
        }),
    )
    .await;
    let pkce = Pkce::new();
    let grant = app(&base)
        .exchange_code(CODE, &redirect(), &pkce.verifier)
        .await
        .unwrap();
    assert_eq!(grant.access_token.expose_secret(), "at-1");
    assert_eq!(
        grant.refresh_token.as_ref().unwrap().expose_secret(),
        "rt-1"
    );
    assert_eq!(
        grant.scopes.to_string(),
        "offline_access opportunities:read:admin"
    );
    assert_eq!(grant.unknown_scopes, vec!["future:scope:admin".to_owned()]);
    let form = endpoint.form(0);
    assert_eq!(form["grant_type"], "authorization_code");
    assert_eq!(form["code"], CODE);
    assert_eq!(form["redirect_uri"], redirect().as_str());
    assert_eq!(form["code_verifier"], pkce.verifier.expose_secret());
    // Lever documents the client credentials in the body.
    assert_eq!(form["client_id"], "fulcrum-client-id");
    assert_eq!(form["client_secret"], CLIENT_SECRET);
    let headers = &endpoint.seen.lock().unwrap()[0].0;
    assert!(headers.get(header::AUTHORIZATION).is_none());
    assert!(
        headers[header::CONTENT_TYPE]
            .to_str()
            .unwrap()
            .starts_with("application/x-www-form-urlencoded")
    );
}

#[tokio::test]
async fn refresh_sends_the_refresh_grant_and_returns_the_rotated_token() {
    let (base, endpoint) = serve(
        200,
        serde_json::json!({
            "access_token": "at-2", "refresh_token": "rt-2", "token_type": "bearer",
            "expires_in": 60,
        }),
    )
    .await;
    let grant = app(&base)
        .refresh(&SecretString::from(REFRESH))
        .await
        .unwrap();
    assert_eq!(grant.refresh_token.unwrap().expose_secret(), "rt-2");
    assert!(grant.scope_omitted);
    let form = endpoint.form(0);
    assert_eq!(form["grant_type"], "refresh_token");
    assert_eq!(form["refresh_token"], REFRESH);
    assert_eq!(form["client_secret"], CLIENT_SECRET);
}

#[tokio::test]
async fn token_endpoint_refusals_and_outages_are_typed() {
    use serde_json::json;
    let echo = format!("refresh token {REFRESH} was revoked (client {CLIENT_SECRET})");
    let cases: Vec<(u16, &'static str, String, &str)> = vec![
        (
            400,
            "application/json",
            json!({"error": "invalid_grant", "error_description": echo}).to_string(),
            "rejected invalid_grant",
        ),
        (
            401,
            "application/json",
            json!({"error": "invalid_client", "error_description": "Unknown client"}).to_string(),
            "rejected invalid_client",
        ),
        (
            403,
            "application/json",
            json!({"error": "access_denied"}).to_string(),
            "rejected access_denied",
        ),
        (
            400,
            "application/json",
            json!({"error": "temporarily_unavailable"}).to_string(),
            "unavailable",
        ),
        (
            500,
            "application/json",
            json!({"error": "server_error", "error_description": echo}).to_string(),
            "unavailable",
        ),
        (
            503,
            "text/html",
            "<html>maintenance</html>".into(),
            "unavailable",
        ),
        (
            429,
            "application/json",
            json!({"error": "too_many_requests"}).to_string(),
            "unavailable",
        ),
        (
            400,
            "text/html",
            "<html>bad gateway page</html>".into(),
            "unavailable",
        ),
        (400, "application/json", String::new(), "unavailable"),
        // A 2xx that cannot be read must not quote its body: it may hold a token.
        (
            200,
            "application/json",
            json!({"access_token": 7, "refresh_token": REFRESH, "token_type": "Bearer"})
                .to_string(),
            "unavailable",
        ),
        (
            200,
            "application/json",
            json!({"refresh_token": REFRESH, "token_type": "Bearer"}).to_string(),
            "unavailable",
        ),
        (
            200,
            "text/plain",
            format!("access_token={REFRESH}"),
            "unavailable",
        ),
        (
            200,
            "application/json",
            format!("{{\"access_token\": \"{REFRESH}\"").to_string(),
            "unavailable",
        ),
    ];
    for (status, content_type, body, expected) in cases {
        let (base, endpoint) = serve_with(status, content_type, body.clone(), None).await;
        let e = app(&base)
            .refresh(&SecretString::from(REFRESH))
            .await
            .unwrap_err();
        let what = format!("{status} {body}: {e:?}");
        assert_eq!(endpoint.hits(), 1, "{what}");
        assert_no_secret(&e.to_string());
        assert_no_secret(&format!("{e:?}"));
        match (expected, &e) {
            ("unavailable", OAuthError::Unavailable { .. }) => assert!(e.is_transient(), "{what}"),
            (rejected, OAuthError::Rejected { error, .. }) => {
                assert_eq!(rejected, format!("rejected {error}"), "{what}")
            }
            _ => panic!("expected {expected}: {what}"),
        }
    }
    // invalid_grant on refresh: reconnect, with the server's (redacted) reason.
    let body = json!({"error": "invalid_grant", "error_description": echo}).to_string();
    let (base, _) = serve_with(400, "application/json", body, None).await;
    let e = app(&base)
        .refresh(&SecretString::from(REFRESH))
        .await
        .unwrap_err();
    assert!(e.needs_reconnect() && e.code() == Some("invalid_grant"));
    assert!(e.to_string().contains("[REDACTED] was revoked"), "{e}");
    let lever = crate::LeverError::from(e);
    assert!(
        matches!(lever, crate::LeverError::Reconnect { .. }),
        "{lever:?}"
    );
    assert_no_secret(&lever.to_string());
}

#[tokio::test]
async fn redirects_are_not_followed() {
    let (elsewhere, target) = serve(200, serde_json::json!({})).await;
    let (base, endpoint) = serve_with(
        307,
        "text/plain",
        "",
        Some(("location", format!("{elsewhere}/oauth/token"))),
    )
    .await;
    let e = app(&base)
        .exchange_code(CODE, &redirect(), &Pkce::new().verifier)
        .await
        .unwrap_err();
    assert!(matches!(e, OAuthError::Unavailable { .. }), "{e:?}");
    assert_eq!((endpoint.hits(), target.hits()), (1, 0));
}

#[tokio::test]
async fn an_unreachable_endpoint_is_unavailable() {
    let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", listener.local_addr().unwrap());
    drop(listener);
    let e = app(&base)
        .refresh(&SecretString::from(REFRESH))
        .await
        .unwrap_err();
    match &e {
        OAuthError::Unavailable { message } => assert!(message.contains("connect"), "{e}"),
        other => panic!("{other:?}"),
    }
    assert!(e.to_string().ends_with("retry later"), "{e}");
}

#[tokio::test]
async fn an_oversized_answer_is_unavailable() {
    let body = format!("{{\"access_token\": \"{}\"}}", "a".repeat(100 * 1024));
    let (base, _) = serve_with(200, "application/json", body, None).await;
    let e = app(&base)
        .refresh(&SecretString::from(REFRESH))
        .await
        .unwrap_err();
    assert!(matches!(e, OAuthError::Unavailable { .. }), "{e:?}");
}

#[test]
fn token_calls_can_run_in_spawned_tasks() {
    // A token source returns these inside a `BoxFuture` (which must be `Send`).
    fn assert_send<T: Send>(_: &T) {}
    let app = OAuthApp::lever("id", SecretString::from(CLIENT_SECRET)).unwrap();
    let (verifier, refresh) = (Pkce::new().verifier, SecretString::from(REFRESH));
    assert_send(&app.exchange_code(CODE, &redirect(), &verifier));
    assert_send(&app.refresh(&refresh));
}
