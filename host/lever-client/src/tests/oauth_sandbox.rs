//! The whole OAuth flow against the sandbox's OAuth server, as the host will drive it:
//! authorize URL → consent (a super admin accepts) → code exchange → Data API calls with a
//! token source that refreshes on 401 → refresh-token rotation → reconnect when revoked.

use super::*;
use crate::oauth::{OAuthApp, OAuthError, Pkce, new_state};
use lever_sandbox::{Sandbox, SandboxConfig};
use secrecy::{ExposeSecret, SecretString};
use std::sync::atomic::{AtomicUsize, Ordering};
use url::Url;

const REDIRECT: &str = "https://fulcrum.example/oauth/lever/callback";

/// An in-memory connection: refreshes through [`OAuthApp::refresh`], one at a time (the
/// host does the same across replicas with its database).
struct RefreshingSource {
    app: OAuthApp,
    tokens: tokio::sync::Mutex<(SecretString, Option<SecretString>)>,
    refreshes: AtomicUsize,
}

impl AccessTokenSource for Arc<RefreshingSource> {
    fn access_token(&self) -> BoxFuture<'_, Result<SecretString, LeverError>> {
        Box::pin(async move { Ok(self.tokens.lock().await.0.clone()) })
    }

    fn refreshed(
        &self,
        rejected: &SecretString,
    ) -> BoxFuture<'_, Result<SecretString, LeverError>> {
        let rejected = rejected.clone();
        Box::pin(async move {
            let mut tokens = self.tokens.lock().await;
            if tokens.0.expose_secret() != rejected.expose_secret() {
                return Ok(tokens.0.clone()); // someone else refreshed meanwhile
            }
            let refresh = tokens.1.clone().ok_or_else(|| LeverError::Reconnect {
                message: "the connection has no refresh token".into(),
            })?;
            self.refreshes.fetch_add(1, Ordering::SeqCst);
            let grant = self.app.refresh(&refresh).await?;
            *tokens = (
                grant.access_token.clone(),
                grant.refresh_token.or(Some(refresh)),
            );
            Ok(grant.access_token)
        })
    }

    fn connection_id(&self) -> &str {
        "sandbox-connection"
    }
}

/// GET the consent page, accept as `user_id`, return the callback URL.
async fn consent(
    browser: &reqwest::Client,
    sandbox: &Sandbox,
    authorize: Url,
    user_id: &str,
) -> Url {
    let page = browser.get(authorize).send().await.unwrap();
    assert_eq!(page.status(), 200);
    let html = page.text().await.unwrap();
    let marker = "name=\"transaction\" value=\"";
    let start = html.find(marker).expect("a transaction field") + marker.len();
    let transaction = &html[start..start + html[start..].find('"').unwrap()];
    let decision = browser
        .post(format!("{}/authorize/decision", sandbox.url()))
        .form(&[
            ("transaction", transaction),
            ("user_id", user_id),
            ("decision", "accept"),
        ])
        .send()
        .await
        .unwrap();
    assert!(decision.status().is_redirection(), "{}", decision.status());
    let location = decision.headers()["location"].to_str().unwrap();
    Url::parse(location).unwrap()
}

#[tokio::test]
async fn authorize_consent_exchange_call_and_rotate_against_the_sandbox() {
    let sandbox = Sandbox::start(SandboxConfig::default(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let registered = lever_sandbox::OAuthApp::generate("Fulcrum", vec![REDIRECT.to_owned()]);
    sandbox.register_oauth_app(registered.clone()).unwrap();
    let app = OAuthApp::new(
        registered.client_id.clone(),
        SecretString::from(registered.client_secret.clone()),
        &sandbox.authorize_url(),
        &sandbox.token_url(),
        sandbox.oauth_audience(),
    )
    .unwrap();
    let redirect = Url::parse(REDIRECT).unwrap();
    let mut scopes = ScopeSet::covering([Permission::ListStages, Permission::ReadStage]);
    scopes.insert(Scope::OfflineAccess);
    let (pkce, state) = (Pkce::new(), new_state());

    let browser = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let authorize = app.authorize_url(&redirect, &scopes, &state, &pkce.challenge);
    let callback = consent(&browser, &sandbox, authorize, &sandbox.default_user_id()).await;
    let query: std::collections::HashMap<String, String> =
        callback.query_pairs().into_owned().collect();
    assert_eq!(query["state"], state);
    let code = &query["code"];

    let grant = app
        .exchange_code(code, &redirect, &pkce.verifier)
        .await
        .unwrap();
    assert_eq!(grant.scopes_or(&scopes), scopes);
    assert!(
        grant.unknown_scopes.is_empty(),
        "{:?}",
        grant.unknown_scopes
    );
    let first_refresh = grant
        .refresh_token
        .clone()
        .expect("offline_access was granted");

    // Refresh rotates: a new refresh token, and the old one stops working.
    let rotated = app.refresh(&first_refresh).await.unwrap();
    let second_refresh = rotated
        .refresh_token
        .clone()
        .expect("a rotated refresh token");
    assert_ne!(
        second_refresh.expose_secret(),
        first_refresh.expose_secret()
    );
    assert_ne!(
        rotated.access_token.expose_secret(),
        grant.access_token.expose_secret()
    );

    // Data API with the connection's tokens; a token Lever rejects is refreshed once.
    let source = Arc::new(RefreshingSource {
        app: app.clone(),
        tokens: tokio::sync::Mutex::new((rotated.access_token.clone(), Some(second_refresh))),
        refreshes: AtomicUsize::new(0),
    });
    let client = LeverClient::new(
        fast_config(&sandbox.api_url()),
        Credential::oauth(source.clone()),
    )
    .unwrap();
    let stages: Vec<Stage> = client.stages().try_collect().await.unwrap();
    assert!(!stages.is_empty());
    assert_eq!(source.refreshes.load(Ordering::SeqCst), 0);
    sandbox.revoke(rotated.access_token.expose_secret());
    client.stage(&stages[0].id).await.unwrap();
    assert_eq!(source.refreshes.load(Ordering::SeqCst), 1);
    assert_eq!(sandbox.stats().count(Operation::GetStage, 401), 1);

    // The consumed refresh token is refused: the host would ask for a reconnect.
    let stale = app.refresh(&first_refresh).await.unwrap_err();
    assert!(stale.needs_reconnect(), "{stale:?}");
    assert!(!stale.to_string().contains(first_refresh.expose_secret()));

    // The admin removes the app in Lever: the next 401's refresh fails with Reconnect.
    assert!(sandbox.revoke_authorized_app(&registered.client_id));
    let err = client.stage(&stages[0].id).await.unwrap_err();
    assert!(matches!(err, LeverError::Reconnect { .. }), "{err:?}");
    assert_eq!(source.refreshes.load(Ordering::SeqCst), 2);
    let text = format!("{err} {err:?} {client:?}");
    assert!(!text.contains(&registered.client_secret), "{text}");

    // A code is single-use (a replay also revokes its grant, so this comes last).
    let replay = app
        .exchange_code(code, &redirect, &pkce.verifier)
        .await
        .unwrap_err();
    assert_eq!(replay.code(), Some("invalid_grant"), "{replay:?}");
    assert!(!replay.to_string().contains(code.as_str()), "{replay}");
}

#[tokio::test]
async fn a_wrong_client_secret_is_a_configuration_problem_not_a_reconnect() {
    let sandbox = Sandbox::start(SandboxConfig::default(), "127.0.0.1:0".parse().unwrap())
        .await
        .unwrap();
    let registered = lever_sandbox::OAuthApp::generate("Fulcrum", vec![REDIRECT.to_owned()]);
    sandbox.register_oauth_app(registered.clone()).unwrap();
    let app = OAuthApp::new(
        registered.client_id.clone(),
        SecretString::from("not-the-secret-0123"),
        &sandbox.authorize_url(),
        &sandbox.token_url(),
        sandbox.oauth_audience(),
    )
    .unwrap();
    let e = app
        .refresh(&SecretString::from("some-refresh-token"))
        .await
        .unwrap_err();
    assert!(
        matches!(e, OAuthError::Rejected { ref error, .. } if error == "invalid_client"),
        "{e:?}"
    );
    assert!(!e.needs_reconnect());
    assert!(!e.to_string().contains("not-the-secret-0123"), "{e}");
}
