//! Admin API requests for tests, each answer recorded; [`World::stop`] checks every recorded
//! answer against the OpenAPI document the host serves (`GET /admin/v1/openapi.json`). So
//! every admin response the test suite produces is one the document describes: a status it
//! does not list for the operation, or a body its schema refuses, fails the test.
//!
//! Answers the document has no operation for are checked against its reusable responses: a
//! documented path asked with another method must be its `MethodNotAllowed` (405), a path
//! under `/admin/` it does not have its `UnknownRoute` (404).

use crate::World;
use reqwest::Method;
use secrecy::ExposeSecret;
use serde_json::{Value, json};

/// The admin API's document.
pub const OPENAPI_PATH: &str = "/admin/v1/openapi.json";

/// One admin request and its answer, as recorded.
#[derive(Debug, Clone)]
pub struct AdminExchange {
    pub method: Method,
    /// The path without the query.
    pub path: String,
    pub status: u16,
    /// The body as JSON; `None` when it was empty, `Some(Value::String)` of the text when it
    /// was not JSON (a violation wherever JSON is documented).
    pub body: Option<Value>,
}

impl World {
    /// Sends an admin request (`body` as JSON) with `token` as bearer; returns the status and
    /// the JSON body (`null` if none). Recorded for the OpenAPI check.
    pub async fn admin(
        &self,
        method: Method,
        path: &str,
        token: Option<&str>,
        body: Option<Value>,
    ) -> (u16, Value) {
        let mut headers = Vec::new();
        let bytes = match &body {
            Some(body) => {
                headers.push(("content-type", "application/json"));
                body.to_string().into_bytes()
            }
            None => Vec::new(),
        };
        let authorization = token.map(|t| format!("Bearer {t}"));
        if let Some(authorization) = &authorization {
            headers.push(("authorization", authorization.as_str()));
        }
        self.admin_raw(method, path, &headers, bytes).await
    }

    /// Sends an admin request with exactly these headers and body bytes; returns the status
    /// and the JSON body (`null` if none). Recorded for the OpenAPI check.
    pub async fn admin_raw(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> (u16, Value) {
        let (status, _, body) = self.admin_full(method, path, headers, body).await;
        (status, body)
    }

    /// [`World::admin_raw`], with the answer's headers.
    pub async fn admin_full(
        &self,
        method: Method,
        path: &str,
        headers: &[(&str, &str)],
        body: Vec<u8>,
    ) -> (u16, reqwest::header::HeaderMap, Value) {
        let mut request = self.http.request(method.clone(), self.url(path)).body(body);
        for (name, value) in headers {
            request = request.header(*name, *value);
        }
        let response = request.send().await.unwrap();
        let status = response.status().as_u16();
        let answer_headers = response.headers().clone();
        let bytes = response.bytes().await.unwrap();
        let body = (!bytes.is_empty()).then(|| {
            serde_json::from_slice(&bytes)
                .unwrap_or_else(|_| Value::String(String::from_utf8_lossy(&bytes).into_owned()))
        });
        self.admin_exchanges.lock().unwrap().push(AdminExchange {
            method,
            path: path.split('?').next().unwrap_or(path).to_owned(),
            status,
            body: body.clone(),
        });
        (status, answer_headers, body.unwrap_or(Value::Null))
    }

    /// Issues a token straight in the store (as `fulcrum token issue` does).
    pub async fn admin_token(&self, role: fulcrum_store::Role, tenant: Option<&str>) -> String {
        self.store
            .issue_api_token(role, tenant, "test")
            .await
            .unwrap()
            .plaintext
            .expose_secret()
            .to_owned()
    }

    /// The admin answers recorded so far.
    pub fn admin_exchanges(&self) -> Vec<AdminExchange> {
        self.admin_exchanges.lock().unwrap().clone()
    }

    /// What the served OpenAPI document says about the recorded answers: one line per answer
    /// it does not describe.
    pub async fn admin_response_violations(&self) -> Vec<String> {
        let exchanges = self.admin_exchanges();
        if exchanges.is_empty() {
            return Vec::new();
        }
        let response = self.http.get(self.url(OPENAPI_PATH)).send().await.unwrap();
        assert_eq!(response.status(), 200, "the OpenAPI document is served");
        let document: Value = response.json().await.unwrap();
        openapi_violations(&document, &exchanges)
    }
}

/// Every answer in `exchanges` that `document` (an OpenAPI 3.1 document) does not describe:
/// an operation without that status, a body its schema refuses, a body where none is
/// documented or none where one is.
pub fn openapi_violations(document: &Value, exchanges: &[AdminExchange]) -> Vec<String> {
    exchanges
        .iter()
        .filter_map(|exchange| {
            violation(document, exchange).map(|problem| {
                format!(
                    "{} {} → {}: {problem}",
                    exchange.method, exchange.path, exchange.status
                )
            })
        })
        .collect()
}

fn violation(document: &Value, exchange: &AdminExchange) -> Option<String> {
    let method = exchange.method.as_str().to_ascii_lowercase();
    let documented = match path_item(document, &exchange.path) {
        None => match reusable_response(document, "UnknownRoute", 404, exchange.status) {
            Ok(response) => response,
            Err(problem) => return Some(format!("a path the document does not have: {problem}")),
        },
        Some(item) => match item.get(&method) {
            None => match reusable_response(document, "MethodNotAllowed", 405, exchange.status) {
                Ok(response) => response,
                Err(problem) => {
                    return Some(format!("a method the path does not take: {problem}"));
                }
            },
            Some(operation) => {
                let status = exchange.status.to_string();
                match operation["responses"]
                    .get(&status)
                    .or_else(|| operation["responses"].get("default"))
                {
                    Some(response) => resolve(document, response),
                    None => {
                        let listed: Vec<&String> = operation["responses"]
                            .as_object()
                            .map(|r| r.keys().collect())
                            .unwrap_or_default();
                        return Some(format!(
                            "status {status} is not documented for this operation (it lists \
                             {listed:?})"
                        ));
                    }
                }
            }
        },
    };
    body_violation(document, documented, exchange.body.as_ref())
}

/// The path item whose template matches `path`, preferring literal segments over `{params}`.
fn path_item<'a>(document: &'a Value, path: &str) -> Option<&'a Value> {
    let segments: Vec<&str> = path.split('/').collect();
    document["paths"]
        .as_object()?
        .iter()
        .filter_map(|(template, item)| {
            let parts: Vec<&str> = template.split('/').collect();
            let matches = parts.len() == segments.len()
                && parts.iter().zip(&segments).all(|(part, segment)| {
                    part == segment || (part.starts_with('{') && !segment.is_empty())
                });
            let literals = parts.iter().filter(|p| !p.starts_with('{')).count();
            matches.then_some((literals, item))
        })
        .max_by_key(|(literals, _)| *literals)
        .map(|(_, item)| item)
}

/// `components.responses[name]`, which must exist and be what `status` answers to.
fn reusable_response<'a>(
    document: &'a Value,
    name: &str,
    expected: u16,
    status: u16,
) -> Result<&'a Value, String> {
    if status != expected {
        return Err(format!("expected {expected}, got {status}"));
    }
    document["components"]["responses"]
        .get(name)
        .ok_or_else(|| format!("components.responses.{name} is missing"))
}

/// `value`, or what its `$ref` (into this document) points at (`null` if nothing).
fn resolve<'a>(document: &'a Value, value: &'a Value) -> &'a Value {
    static NOTHING: Value = Value::Null;
    match value.get("$ref").and_then(Value::as_str) {
        Some(reference) => reference
            .strip_prefix('#')
            .and_then(|pointer| document.pointer(pointer))
            .unwrap_or(&NOTHING),
        None => value,
    }
}

fn body_violation(document: &Value, response: &Value, body: Option<&Value>) -> Option<String> {
    let content = response.get("content").and_then(Value::as_object);
    let (content, body) = match (content, body) {
        (None, None) => return None,
        (None, Some(body)) => return Some(format!("a body where none is documented: {body}")),
        (Some(_), None) => return Some("no body where one is documented".into()),
        (Some(content), Some(body)) => (content, body),
    };
    let Some(json) = content.get("application/json") else {
        return Some(format!(
            "a JSON body where the document lists {:?}",
            content.keys().collect::<Vec<_>>()
        ));
    };
    // No schema: any JSON will do.
    let schema = json.get("schema")?;
    // The response's schema as the root, with the document's components beside it so its
    // `#/components/schemas/...` references resolve.
    let mut root = match schema {
        Value::Object(map) => map.clone(),
        other => return Some(format!("unusable schema {other}")),
    };
    root.insert(
        "components".into(),
        document.get("components").cloned().unwrap_or(json!({})),
    );
    let validator = match jsonschema::validator_for(&Value::Object(root)) {
        Ok(validator) => validator,
        Err(error) => return Some(format!("unusable schema ({error})")),
    };
    let errors: Vec<String> = validator
        .iter_errors(body)
        .map(|error| format!("{} at {:?}", error, error.instance_path().as_str()))
        .collect();
    (!errors.is_empty()).then(|| {
        format!(
            "the body breaks the schema: {}; body: {body}",
            errors.join("; ")
        )
    })
}
