//! `/oauth/token`: code exchange, PKCE, client authentication, refresh rotation, expiry
//! and revocation in Authorized Apps.

use super::client::*;
use crate::common::*;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use serde_json::json;
use sha2::{Digest, Sha256};
use std::time::{Duration, Instant};

#[tokio::test]
async fn code_reuse_is_invalid_grant_and_revokes_its_tokens() {
    let l = lever().await;
    let q = l.consent("app-one", SCOPES, &[]).await;
    let first = l.exchange("app-one", &q["code"]).await;
    assert_eq!(first.status, 200);
    let access = &first.json["access_token"];
    assert_eq!(l.api(access, "/stages").await.status, 200);

    assert_token_error(
        &l.exchange("app-one", &q["code"]).await,
        403,
        "invalid_grant",
    );
    assert_error(&l.api(access, "/stages").await, 401);
    assert_token_error(
        &l.refresh("app-one", &first.json["refresh_token"]).await,
        403,
        "invalid_grant",
    );
    // A code is bound to its client and redirect URI.
    let q = l.consent("app-one", SCOPES, &[]).await;
    assert_token_error(
        &l.exchange("app-two", &q["code"]).await,
        403,
        "invalid_grant",
    );
    let wrong_uri = l
        .token(
            &[
                ("grant_type", "authorization_code"),
                ("code", &q["code"]),
                ("redirect_uri", "http://127.0.0.1:9/other"),
            ],
            Some(("app-one", "app-one-secret")),
        )
        .await;
    assert_token_error(&wrong_uri, 403, "invalid_grant");
    assert_token_error(
        &l.token(
            &[
                ("grant_type", "authorization_code"),
                ("redirect_uri", CALLBACK),
            ],
            Some(("app-one", "app-one-secret")),
        )
        .await,
        400,
        "invalid_request",
    );
}

#[tokio::test]
async fn pkce_s256_is_verified() {
    let l = lever().await;
    let verifier = "kV3n1bN0a9wq8mJpXz7sYc2rT5uE4oLdGhIfKjQ6Mvw-._~";
    let challenge = URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes()));
    let pkce = [
        ("code_challenge", challenge.as_str()),
        ("code_challenge_method", "S256"),
    ];
    let with_verifier = |code: &str, v: &str| {
        vec![
            ("grant_type", "authorization_code".to_owned()),
            ("code", code.to_owned()),
            ("redirect_uri", CALLBACK.to_owned()),
            ("code_verifier", v.to_owned()),
        ]
    };
    let basic = Some(("app-one", "app-one-secret"));

    let q = l.consent("app-one", SCOPES, &pkce).await;
    let form = with_verifier(&q["code"], &"x".repeat(43));
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    assert_token_error(&l.token(&form, basic).await, 403, "invalid_grant");

    let q = l.consent("app-one", SCOPES, &pkce).await;
    let missing = l.exchange("app-one", &q["code"]).await;
    assert_token_error(&missing, 400, "invalid_request");
    assert!(
        missing.json["error_description"]
            .as_str()
            .unwrap()
            .contains("code_verifier")
    );

    let q = l.consent("app-one", SCOPES, &pkce).await;
    let form = with_verifier(&q["code"], verifier);
    let form: Vec<(&str, &str)> = form.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let ok = l.token(&form, basic).await;
    assert_eq!(ok.status, 200, "{}", ok.json);
}

#[tokio::test]
async fn client_authentication_and_grant_types() {
    let l = lever().await;
    let q = l.consent("app-one", SCOPES, &[]).await;
    let code_form = [
        ("grant_type", "authorization_code"),
        ("code", q["code"].as_str()),
        ("redirect_uri", CALLBACK),
    ];
    let basic = l.token(&code_form, Some(("app-one", "wrong"))).await;
    assert_token_error(&basic, 401, "invalid_client");
    assert!(basic.headers.contains_key("www-authenticate"));
    let mut body_auth = code_form.to_vec();
    body_auth.extend([("client_id", "app-one"), ("client_secret", "wrong")]);
    assert_token_error(&l.token(&body_auth, None).await, 401, "invalid_client");
    assert_token_error(&l.token(&code_form, None).await, 401, "invalid_client");
    let mut both = code_form.to_vec();
    both.push(("client_secret", "app-one-secret"));
    assert_token_error(
        &l.token(&both, Some(("app-one", "app-one-secret"))).await,
        400,
        "invalid_request",
    );
    let secret = [
        ("client_id", "app-one"),
        ("client_secret", "app-one-secret"),
    ];
    assert_token_error(
        &l.token(
            &[&[("grant_type", "password")][..], &secret[..]].concat(),
            None,
        )
        .await,
        400,
        "unsupported_grant_type",
    );
    assert_token_error(&l.token(&secret, None).await, 400, "invalid_request");

    // The code survived the failed client authentications; body credentials work.
    let mut good = code_form.to_vec();
    good.extend(secret);
    assert_eq!(l.token(&good, None).await.status, 200);
}

#[tokio::test]
async fn refresh_tokens_rotate_and_need_offline_access() {
    let l = lever().await;
    let first = l.tokens_for("app-one", SCOPES).await;
    let second = l.refresh("app-one", &first["refresh_token"]).await;
    assert_eq!(second.status, 200, "{}", second.json);
    assert_ne!(second.json["refresh_token"], first["refresh_token"]);
    assert_ne!(second.json["access_token"], first["access_token"]);
    assert_eq!(
        l.api(&second.json["access_token"], "/stages").await.status,
        200
    );
    // The old refresh token is refused from now on; the new one works once.
    assert_token_error(
        &l.refresh("app-one", &first["refresh_token"]).await,
        403,
        "invalid_grant",
    );
    let third = l.refresh("app-one", &second.json["refresh_token"]).await;
    assert_eq!(third.status, 200);
    assert_token_error(
        &l.refresh("app-one", &second.json["refresh_token"]).await,
        403,
        "invalid_grant",
    );
    // Refresh tokens belong to their client.
    assert_token_error(
        &l.refresh("app-two", &third.json["refresh_token"]).await,
        403,
        "invalid_grant",
    );

    let online = l.tokens_for("app-one", "stages:read:admin").await;
    assert!(online.get("refresh_token").is_none(), "{online}");
    assert_eq!(online["scope"], "stages:read:admin");
}

#[tokio::test]
async fn short_lived_access_tokens_expire() {
    let l = lever().await;
    let config = format!("{}/_sandbox/oauth/config", l.sb.url());
    let bad = reply(
        l.http
            .put(&config)
            .json(&json!({"access_token_ttl_secs": 0}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_error(&bad, 400);
    let ok = reply(
        l.http
            .put(&config)
            .json(&json!({"access_token_ttl_secs": 1}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(ok.json["access_token_ttl_secs"], 1);

    let tokens = l.tokens_for("app-one", SCOPES).await;
    assert_eq!(tokens["expires_in"], 1);
    let deadline = Instant::now() + Duration::from_secs(30);
    let expired = loop {
        let r = l.api(&tokens["access_token"], "/stages").await;
        if r.status == 401 {
            break r;
        }
        assert_eq!(r.status, 200, "{}", r.json);
        assert!(Instant::now() < deadline, "the token never expired");
        tokio::time::sleep(Duration::from_millis(100)).await;
    };
    assert!(
        expired.json["message"]
            .as_str()
            .unwrap()
            .contains("expired; refresh it")
    );
    // The refresh token still works after the access token expired.
    let fresh = l.refresh("app-one", &tokens["refresh_token"]).await;
    assert_eq!(fresh.status, 200);
}

#[tokio::test]
async fn revoking_an_authorized_app_cuts_off_only_that_app() {
    let l = lever().await;
    let one = l.tokens_for("app-one", SCOPES).await;
    let two = l.tokens_for("app-two", SCOPES).await;
    let base = l.sb.url();
    let revoke = |id: &str| {
        l.http
            .delete(format!("{base}/_sandbox/authorized-apps/{id}"))
            .send()
    };
    assert_eq!(revoke("app-one").await.unwrap().status(), 204);
    assert_error(&l.api(&one["access_token"], "/stages").await, 401);
    assert_token_error(
        &l.refresh("app-one", &one["refresh_token"]).await,
        403,
        "invalid_grant",
    );
    assert_eq!(l.api(&two["access_token"], "/stages").await.status, 200);
    assert_eq!(revoke("no-such-app").await.unwrap().status(), 404);

    // The Settings page lists the remaining app; its Revoke button works the same way.
    let settings = l.get(&format!("{base}/settings/authorized-apps")).await;
    assert!(settings.text.contains("App Two") && !settings.text.contains("App One"));
    let back = page(
        l.http
            .post(format!("{base}/settings/authorized-apps/app-two/revoke"))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(back.status, 303);
    assert_eq!(back.location.as_deref(), Some("/settings/authorized-apps"));
    assert_error(&l.api(&two["access_token"], "/stages").await, 401);
    assert!(l.sb.authorized_apps().is_empty());
    // A new consent connects the app again.
    let again = l.tokens_for("app-one", SCOPES).await;
    assert_eq!(l.api(&again["access_token"], "/stages").await.status, 200);
}
