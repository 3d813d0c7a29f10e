//! Lever's OAuth flow over real HTTP, the way a browser and an app's backend drive it:
//! `/authorize` → consent page → `/authorize/decision` → redirect with a code →
//! `/oauth/token` → Data API with the bearer token. This file: authorize, consent and the
//! control API; `tokens`: the token endpoint and what happens to tokens afterwards.

mod client;
mod tokens;

use crate::common::*;
use client::*;
use lever_model::Scope;
use serde_json::json;

#[tokio::test]
async fn consent_code_token_and_scoped_data_api() {
    let l = lever().await;
    let consent = l.get(&l.authorize_url("app-one", SCOPES, &[])).await;
    assert_eq!(consent.status, 200);
    assert!(consent.content_type.starts_with("text/html"));
    assert!(consent.text.contains("App One") && consent.text.contains("Who is signing in?"));
    for scope in [
        Scope::OfflineAccess,
        Scope::StagesRead,
        Scope::OpportunitiesRead,
    ] {
        assert!(consent.text.contains(scope.plain_words()), "{}", scope);
    }
    assert!(consent.text.contains(&l.sb.default_user_id()));

    let tx = transaction(&consent.text);
    let user = l.sb.default_user_id();
    let q = redirect_query(
        &l.decide(&[
            ("transaction", &tx),
            ("user_id", &user),
            ("decision", "accept"),
        ])
        .await,
    );
    assert_eq!(q["state"], "st-123");
    let r = l.exchange("app-one", &q["code"]).await;
    assert_eq!(r.status, 200, "{}", r.json);
    assert_eq!(r.headers["cache-control"], "no-store");
    assert_eq!(r.json["token_type"], "Bearer");
    assert_eq!(r.json["expires_in"], 3600);
    assert_eq!(
        r.json["scope"],
        "offline_access opportunities:read:admin stages:read:admin"
    );
    assert!(r.json["refresh_token"].is_string());
    let access = &r.json["access_token"];
    assert_eq!(access.as_str().unwrap().split('.').count(), 3, "JWT-shaped");

    assert_eq!(l.api(access, "/stages").await.status, 200);
    let denied = l.api(access, "/users").await;
    assert_error(&denied, 403);
    assert!(
        denied.json["message"]
            .as_str()
            .unwrap()
            .contains("users:read:admin"),
        "{}",
        denied.json
    );

    let apps = reply(
        l.http
            .get(format!("{}/_sandbox/authorized-apps", l.sb.url()))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(apps.json.as_array().unwrap().len(), 1, "{}", apps.json);
    assert_eq!(apps.json[0]["client_id"], "app-one");
    assert_eq!(apps.json[0]["user_id"], json!(user));
    assert!(apps.json[0]["last_used_at"].is_i64());
    // OAuth access tokens are not handed out by the credentials listing.
    let creds = reqwest::get(format!("{}/_sandbox/credentials", l.sb.url()))
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    assert!(!creds.contains(access.as_str().unwrap()));
}

/// Parameters to change, expected `error`, text expected in `error_description`.
type AuthorizeCase<'a> = (&'a [(&'a str, &'a str)], &'a str, &'a str);

#[tokio::test]
async fn authorize_errors_follow_auth0() {
    let l = lever().await;
    // Before the client and redirect URI are known good: an HTML page, never a redirect.
    assert_error_page(
        &l.get(&l.authorize_url("app-one", SCOPES, &[("client_id", "")]))
            .await,
    );
    let unknown = l.get(&l.authorize_url("nope", SCOPES, &[])).await;
    assert_error_page(&unknown);
    assert!(unknown.text.contains("nope"));
    assert_error_page(
        &l.get(&l.authorize_url(
            "app-one",
            SCOPES,
            &[("redirect_uri", "http://evil.example/cb")],
        ))
        .await,
    );
    assert_error_page(
        &l.get(&l.authorize_url("app-one", SCOPES, &[("redirect_uri", "")]))
            .await,
    );

    // After that: back to the app with error, error_description and state.
    let challenge = "a".repeat(43);
    let cases: &[AuthorizeCase<'_>] = &[
        (&[("state", "")], "invalid_request", "state"),
        (&[("scope", "")], "invalid_request", "scope"),
        (&[("audience", "")], "invalid_request", "audience"),
        (&[("response_type", "")], "invalid_request", "response_type"),
        (
            &[("response_type", "token")],
            "unsupported_response_type",
            "token",
        ),
        (
            &[("scope", "stages:read:admin everything:admin")],
            "invalid_scope",
            "everything:admin",
        ),
        (
            &[("audience", "https://api.lever.co/v1/")],
            "access_denied",
            "Service not found: https://api.lever.co/v1/",
        ),
        (
            &[
                ("code_challenge", challenge.as_str()),
                ("code_challenge_method", "plain"),
            ],
            "invalid_request",
            "plain",
        ),
        (
            &[("code_challenge", challenge.as_str())],
            "invalid_request",
            "code_challenge_method",
        ),
    ];
    for (extra, error, description) in cases {
        let p = l.get(&l.authorize_url("app-one", SCOPES, extra)).await;
        let q = redirect_query(&p);
        assert_oauth_error(&q, error, description);
        if !extra.iter().any(|(k, _)| *k == "state") {
            assert_eq!(q["state"], "st-123", "{extra:?}");
        }
    }
    // A repeated parameter is invalid too.
    let repeated = format!(
        "{}&scope=tags:read:admin",
        l.authorize_url("app-one", SCOPES, &[])
    );
    assert_oauth_error(
        &redirect_query(&l.get(&repeated).await),
        "invalid_request",
        "more than once",
    );
}

#[tokio::test]
async fn deny_non_super_admin_and_reused_transactions() {
    let l = lever().await;
    let consent = l.get(&l.authorize_url("app-one", SCOPES, &[])).await;
    let tx = transaction(&consent.text);
    let q = redirect_query(
        &l.decide(&[("transaction", &tx), ("decision", "deny")])
            .await,
    );
    assert_oauth_error(&q, "access_denied", "The user denied the request");
    assert_eq!(q["state"], "st-123");
    // The transaction was used up.
    let user = l.sb.default_user_id();
    assert_error_page(
        &l.decide(&[
            ("transaction", &tx),
            ("user_id", &user),
            ("decision", "accept"),
        ])
        .await,
    );
    assert_error_page(
        &l.decide(&[("transaction", "made-up"), ("decision", "deny")])
            .await,
    );

    let recruiter = l.sb.read(|db| {
        db.users()
            .find(|u| u.is_active() && u.access_role != "super admin")
            .map(|u| u.id.clone())
            .unwrap()
    });
    let consent = l.get(&l.authorize_url("app-one", SCOPES, &[])).await;
    let tx = transaction(&consent.text);
    // A form mistake leaves the request pending.
    assert_error_page(
        &l.decide(&[("transaction", &tx), ("decision", "maybe")])
            .await,
    );
    assert_error_page(
        &l.decide(&[
            ("transaction", &tx),
            ("user_id", "ghost"),
            ("decision", "accept"),
        ])
        .await,
    );
    let q = redirect_query(
        &l.decide(&[
            ("transaction", &tx),
            ("user_id", &recruiter),
            ("decision", "accept"),
        ])
        .await,
    );
    assert_oauth_error(
        &q,
        "access_denied",
        "Only a Lever Super Admin can authorize integrations",
    );
    assert!(!q.contains_key("code"));
    assert!(l.sb.authorized_apps().is_empty());
}

#[tokio::test]
async fn control_api_registers_apps_and_the_consent_page_escapes_them() {
    let l = lever().await;
    let apps = format!("{}/_sandbox/oauth-apps", l.sb.url());
    let name = "<script>alert(\"x\")</script> & Co";
    let created = reply(
        l.http
            .post(&apps)
            .json(&json!({"name": name, "redirect_uris": [CALLBACK]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(created.status, 201, "{}", created.json);
    let id = created.json["client_id"].as_str().unwrap().to_owned();
    let secret = created.json["client_secret"]
        .as_str()
        .expect("generated secret shown once");

    let chosen = reply(
        l.http
            .post(&apps)
            .json(&json!({"client_id": "mine", "client_secret": "chosen-secret", "redirect_uris": [CALLBACK]}))
            .send()
            .await
            .unwrap(),
    )
    .await;
    assert_eq!(chosen.status, 201);
    assert!(chosen.json.get("client_secret").is_none());
    let dup = l
        .http
        .post(&apps)
        .json(&json!({"client_id": "mine", "redirect_uris": [CALLBACK]}))
        .send()
        .await
        .unwrap();
    assert_eq!(dup.status(), 409);
    for bad in [
        json!({"redirect_uris": ["/relative"]}),
        json!({"redirect_uris": []}),
        json!({"redirect_uris": ["ftp://h/x"]}),
    ] {
        assert_error(
            &reply(l.http.post(&apps).json(&bad).send().await.unwrap()).await,
            400,
        );
    }
    let listed = reqwest::get(&apps).await.unwrap().text().await.unwrap();
    assert!(listed.contains(&id) && !listed.contains(secret) && !listed.contains("chosen-secret"));
    assert!(!listed.contains("app-one-secret"));

    let consent = l.get(&l.authorize_url(&id, SCOPES, &[])).await;
    assert_eq!(consent.status, 200);
    assert!(!consent.text.contains("<script>"), "unescaped app name");
    assert!(
        consent
            .text
            .contains("&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt; &amp; Co")
            || consent
                .text
                .contains("&lt;script&gt;alert(\"x\")&lt;/script&gt; &amp; Co")
    );

    // The generated credentials work end to end.
    let q = l.consent(&id, "stages:read:admin", &[]).await;
    let r = l
        .token(
            &[
                ("grant_type", "authorization_code"),
                ("code", &q["code"]),
                ("redirect_uri", CALLBACK),
            ],
            Some((&id, secret)),
        )
        .await;
    assert_eq!(r.status, 200, "{}", r.json);
}
