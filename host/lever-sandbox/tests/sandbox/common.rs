//! Shared helpers: a started sandbox plus a raw-JSON HTTP client (deliberately not the
//! lever-model types, so field names and nulls are checked as they are on the wire).

use lever_sandbox::{Sandbox, SandboxConfig, SeedSpec};
use serde_json::Value;
use std::time::Duration;

pub async fn start(seed: SeedSpec) -> Sandbox {
    let config = SandboxConfig {
        seed,
        rate_limit: false,
        webhook_retry_base: Duration::from_millis(10),
        webhook_timeout: Duration::from_secs(2),
        ..Default::default()
    };
    Sandbox::start(config, "127.0.0.1:0".parse().unwrap())
        .await
        .expect("sandbox starts")
}

pub struct Api {
    pub http: reqwest::Client,
    pub base: String,
    pub key: String,
}

pub struct Reply {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub json: Value,
    pub bytes: Vec<u8>,
}

impl Api {
    pub fn new(sb: &Sandbox, key: &str) -> Self {
        Self {
            http: reqwest::Client::new(),
            base: sb.api_url(),
            key: key.to_owned(),
        }
    }

    pub async fn call(&self, method: &str, path: &str, body: Option<Value>) -> Reply {
        let mut req = self
            .http
            .request(method.parse().unwrap(), format!("{}{path}", self.base))
            .basic_auth(&self.key, Some(""));
        if let Some(b) = body {
            req = req.json(&b);
        }
        reply(req.send().await.expect("request")).await
    }

    pub async fn get(&self, path: &str) -> Reply {
        self.call("GET", path, None).await
    }
    pub async fn post(&self, path: &str, body: Value) -> Reply {
        self.call("POST", path, Some(body)).await
    }
    pub async fn put(&self, path: &str, body: Value) -> Reply {
        self.call("PUT", path, Some(body)).await
    }
}

pub async fn reply(resp: reqwest::Response) -> Reply {
    let status = resp.status().as_u16();
    let headers = resp.headers().clone();
    let bytes = resp.bytes().await.expect("body").to_vec();
    let json = serde_json::from_slice(&bytes).unwrap_or(Value::Null);
    Reply {
        status,
        headers,
        json,
        bytes,
    }
}

/// Every key must be present (value may be null).
pub fn assert_keys(v: &Value, keys: &[&str]) {
    let o = v
        .as_object()
        .unwrap_or_else(|| panic!("not an object: {v}"));
    for k in keys {
        assert!(o.contains_key(*k), "missing {k:?} in {v}");
    }
}

pub fn assert_error(r: &Reply, status: u16) {
    assert_eq!(r.status, status, "{}", r.json);
    assert_keys(&r.json, &["code", "message"]);
    assert!(r.json["code"].is_string() && r.json["message"].is_string());
}

/// Poll until `f` holds or 5 s pass.
pub async fn eventually(mut f: impl FnMut() -> bool) {
    for _ in 0..500 {
        if f() {
            return;
        }
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
    panic!("condition not reached in time");
}
