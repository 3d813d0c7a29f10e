//! A browser and an app backend for the OAuth tests: no redirects followed, every
//! `Location` checked.

use crate::common::*;
use lever_sandbox::{OAuthApp, Sandbox, SandboxConfig, SeedSpec};
use serde_json::Value;
use std::collections::HashMap;

pub const CALLBACK: &str = "http://127.0.0.1:9/callback";
pub const SCOPES: &str = "offline_access stages:read:admin opportunities:read:admin";

pub fn app(id: &str, name: &str) -> OAuthApp {
    OAuthApp {
        client_id: id.into(),
        client_secret: format!("{id}-secret"),
        name: name.into(),
        redirect_uris: vec![CALLBACK.into()],
    }
}

pub struct Lever {
    pub sb: Sandbox,
    pub http: reqwest::Client,
}

pub async fn lever() -> Lever {
    let config = SandboxConfig {
        seed: SeedSpec::vocabulary_only(7),
        rate_limit: false,
        oauth_apps: vec![app("app-one", "App One"), app("app-two", "App Two")],
        ..Default::default()
    };
    let sb = Sandbox::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .expect("sandbox starts");
    let http = reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    Lever { sb, http }
}

pub struct Page {
    pub status: u16,
    pub location: Option<String>,
    pub content_type: String,
    pub text: String,
}

impl Lever {
    pub fn authorize_url(&self, client_id: &str, scope: &str, extra: &[(&str, &str)]) -> String {
        let audience = self.sb.oauth_audience();
        let mut params = vec![
            ("client_id", client_id),
            ("redirect_uri", CALLBACK),
            ("response_type", "code"),
            ("state", "st-123"),
            ("audience", audience.as_str()),
            ("scope", scope),
        ];
        for (k, v) in extra {
            params.retain(|(pk, _)| pk != k);
            if !v.is_empty() {
                params.push((k, v));
            }
        }
        url::Url::parse_with_params(&self.sb.authorize_url(), &params)
            .unwrap()
            .to_string()
    }

    pub async fn get(&self, url: &str) -> Page {
        page(self.http.get(url).send().await.unwrap()).await
    }

    pub async fn decide(&self, form: &[(&str, &str)]) -> Page {
        let url = format!("{}/authorize/decision", self.sb.url());
        page(self.http.post(url).form(form).send().await.unwrap()).await
    }

    /// Consent as `user` (default: the seed's super admin); the redirect's query.
    pub async fn consent(
        &self,
        client_id: &str,
        scope: &str,
        extra: &[(&str, &str)],
    ) -> HashMap<String, String> {
        let consent = self.get(&self.authorize_url(client_id, scope, extra)).await;
        assert_eq!(consent.status, 200, "{}", consent.text);
        let tx = transaction(&consent.text);
        let user = self.sb.default_user_id();
        let done = self
            .decide(&[
                ("transaction", &tx),
                ("user_id", &user),
                ("decision", "accept"),
            ])
            .await;
        redirect_query(&done)
    }

    pub async fn token(&self, form: &[(&str, &str)], basic: Option<(&str, &str)>) -> Reply {
        let mut req = self.http.post(self.sb.token_url()).form(form);
        if let Some((id, secret)) = basic {
            req = req.basic_auth(id, Some(secret));
        }
        reply(req.send().await.unwrap()).await
    }

    /// Code → tokens with HTTP Basic client auth (the `oauth2` crate's default).
    pub async fn exchange(&self, client_id: &str, code: &str) -> Reply {
        let secret = format!("{client_id}-secret");
        self.token(
            &[
                ("grant_type", "authorization_code"),
                ("code", code),
                ("redirect_uri", CALLBACK),
            ],
            Some((client_id, &secret)),
        )
        .await
    }

    pub async fn tokens_for(&self, client_id: &str, scope: &str) -> Value {
        let q = self.consent(client_id, scope, &[]).await;
        let r = self.exchange(client_id, &q["code"]).await;
        assert_eq!(r.status, 200, "{}", r.json);
        r.json
    }

    pub async fn api(&self, token: &Value, path: &str) -> Reply {
        let token = token.as_str().expect("token string");
        let url = format!("{}{path}", self.sb.api_url());
        reply(self.http.get(url).bearer_auth(token).send().await.unwrap()).await
    }

    pub async fn refresh(&self, client_id: &str, refresh_token: &Value) -> Reply {
        let secret = format!("{client_id}-secret");
        self.token(
            &[
                ("grant_type", "refresh_token"),
                ("refresh_token", refresh_token.as_str().unwrap()),
                ("client_id", client_id),
                ("client_secret", &secret),
            ],
            None,
        )
        .await
    }
}

pub async fn page(resp: reqwest::Response) -> Page {
    let header = |name| {
        resp.headers()
            .get(name)
            .map(|v: &reqwest::header::HeaderValue| v.to_str().unwrap().to_owned())
    };
    let location = header(reqwest::header::LOCATION);
    let content_type = header(reqwest::header::CONTENT_TYPE).unwrap_or_default();
    let status = resp.status().as_u16();
    Page {
        status,
        location,
        content_type,
        text: resp.text().await.unwrap(),
    }
}

pub fn transaction(html: &str) -> String {
    let marker = "name=\"transaction\" value=\"";
    let start = html.find(marker).expect("hidden transaction input") + marker.len();
    html[start..].split('"').next().unwrap().to_owned()
}

/// The query of a 302 to the registered callback.
pub fn redirect_query(p: &Page) -> HashMap<String, String> {
    assert_eq!(p.status, 302, "{}", p.text);
    let loc = p.location.as_deref().expect("Location");
    assert!(loc.starts_with(CALLBACK), "{loc}");
    url::Url::parse(loc)
        .unwrap()
        .query_pairs()
        .into_owned()
        .collect()
}

pub fn assert_oauth_error(q: &HashMap<String, String>, error: &str, description: &str) {
    assert_eq!(q.get("error").map(String::as_str), Some(error), "{q:?}");
    assert!(q["error_description"].contains(description), "{q:?}");
}

pub fn assert_token_error(r: &Reply, status: u16, error: &str) {
    assert_eq!(r.status, status, "{}", r.json);
    assert_eq!(r.json["error"], error, "{}", r.json);
    assert!(r.json["error_description"].is_string());
}

pub fn assert_error_page(p: &Page) {
    assert_eq!(p.status, 400, "{}", p.text);
    assert!(p.location.is_none(), "must not redirect: {:?}", p.location);
    assert!(
        p.content_type.starts_with("text/html"),
        "{}",
        p.content_type
    );
}
