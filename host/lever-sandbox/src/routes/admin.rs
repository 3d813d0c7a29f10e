//! The sandbox's control API under `/_sandbox`. No Lever authentication: this is a local
//! development server and must never be exposed beyond the machine or a private test network.
//! Payloads are plain JSON (no Lever envelope); errors still use Lever's error body.

use super::{no_content, parse_json};
use crate::config::{KeySpec, PermissionSet};
use crate::error::ApiError;
use crate::faults::FaultConfig;
use crate::state::Shared;
use crate::webhooks::Event;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{delete, get, post};
use axum::{Json, Router};
use bytes::Bytes;
use http::StatusCode;
use lever_model::timestamp::now_millis;
use lever_model::{NewWebhook, Permission, WebhookEventType};
use serde::Deserialize;
use serde_json::{Value, json};

pub fn router() -> Router<Shared> {
    Router::new()
        .route("/", get(summary))
        .route("/_sandbox", get(summary))
        .route("/_sandbox/keys", post(create_key))
        .route("/_sandbox/tokens", post(create_token))
        .route("/_sandbox/credentials", get(list_credentials))
        .route("/_sandbox/credentials/{credential}", delete(revoke))
        .route("/_sandbox/faults", get(get_faults).put(put_faults))
        .route(
            "/_sandbox/rate-limit",
            get(get_rate_limit).put(put_rate_limit),
        )
        .route("/_sandbox/stats", get(stats))
        .route("/_sandbox/stats/reset", post(reset_stats))
        .route("/_sandbox/offset-tokens/rotate", post(rotate_tokens))
        .route("/_sandbox/webhook-deliveries", get(deliveries))
        .route("/_sandbox/webhooks", post(create_webhook))
        .route("/_sandbox/opportunities/{id}", delete(delete_opportunity))
        .route(
            "/_sandbox/opportunities/{id}/interviews",
            post(super::hiring::admin_schedule_interview),
        )
        .route(
            "/_sandbox/opportunities/{id}/interviews/{interview}",
            delete(super::hiring::admin_delete_interview),
        )
}

async fn summary(State(s): State<Shared>) -> Response {
    let api = s.api_url();
    let key = &s.demo_key;
    let user = &s.default_user;
    let db = s.db.lock();
    Json(json!({
        "name": "Lever sandbox (Fulcrum)",
        "warning": "Local development server: the /_sandbox API is unauthenticated; do not expose it.",
        "url": s.url,
        "api_url": api,
        "public_url": db.base_url(),
        "demo_api_key": key,
        "default_user_id": user,
        "counts": {
            "postings": db.postings.len(),
            "opportunities": db.opportunities.len(),
            "deleted_opportunities": db.deleted.len(),
            "contacts": db.contacts.len(),
            "users": db.users.len(),
            "stages": db.stages.len(),
            "archive_reasons": db.archive_reasons.len(),
            "webhooks": db.webhooks.len(),
        },
        "rate_limit": s.rate_limit.enabled(),
        "faults_active": s.faults.get().is_active(),
        "examples": [
            format!("curl -u {key}: '{api}/postings?state=published&limit=5'"),
            format!("curl -u {key}: '{api}/opportunities?expand=stage&limit=5'"),
            format!("curl -u {key}: -X POST -H 'Content-Type: application/json' '{api}/opportunities?perform_as={user}' -d '{{\"name\":\"Ada Lovelace\",\"emails\":[\"ada@example.com\"]}}'"),
            format!("curl -X POST -H 'Content-Type: application/json' '{}/_sandbox/keys' -d '{{\"label\":\"my-plugin\",\"permissions\":[\"list postings\",\"read posting\"]}}'", s.url),
            format!("curl -X PUT -H 'Content-Type: application/json' '{}/_sandbox/faults' -d '{{\"fail_next\":[{{\"status\":503}},\"drop\"]}}'", s.url),
        ],
        "admin_endpoints": [
            "GET /_sandbox", "POST /_sandbox/keys", "POST /_sandbox/tokens",
            "GET /_sandbox/credentials", "DELETE /_sandbox/credentials/{credential}", "GET|PUT /_sandbox/faults",
            "GET|PUT /_sandbox/rate-limit", "GET /_sandbox/stats", "POST /_sandbox/stats/reset",
            "POST /_sandbox/offset-tokens/rotate", "GET /_sandbox/webhook-deliveries",
            "POST /_sandbox/webhooks", "DELETE /_sandbox/opportunities/{id}",
            "POST /_sandbox/opportunities/{id}/interviews",
            "DELETE /_sandbox/opportunities/{id}/interviews/{interview}",
            "GET|POST /_sandbox/oauth-apps", "GET /_sandbox/authorized-apps",
            "DELETE /_sandbox/authorized-apps/{client_id}", "GET|PUT /_sandbox/oauth/config",
        ],
        "oauth": {
            "authorize_url": format!("{}/authorize", s.url),
            "token_url": format!("{}/oauth/token", s.url),
            "audience": s.audience(),
            "apps": s.oauth.apps().iter().map(|a| a.client_id.clone()).collect::<Vec<_>>(),
            "authorized_apps_page": format!("{}/settings/authorized-apps", s.url),
            "endpoints": [
                "GET /authorize", "POST /authorize/decision", "POST /oauth/token",
                "GET /settings/authorized-apps", "POST /settings/authorized-apps/{client_id}/revoke",
            ],
        },
    }))
    .into_response()
}

#[derive(Deserialize)]
#[serde(untagged)]
enum Perms {
    Words(Vec<String>),
    One(String),
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct KeyRequest {
    label: Option<String>,
    permissions: Option<Perms>,
    confidential: bool,
}

fn key_spec(body: &Bytes) -> Result<KeySpec, ApiError> {
    let req: KeyRequest = if body.iter().all(u8::is_ascii_whitespace) {
        KeyRequest::default()
    } else {
        parse_json(body)?
    };
    let permissions = match req.permissions {
        None => PermissionSet::All,
        Some(Perms::One(s)) if s.eq_ignore_ascii_case("all") => PermissionSet::All,
        Some(Perms::One(s)) => PermissionSet::Only(
            [s.parse::<Permission>()
                .map_err(|e| ApiError::bad_request(e.to_string()))?]
            .into(),
        ),
        Some(Perms::Words(words)) => PermissionSet::Only(
            words
                .iter()
                .map(|w| {
                    w.parse::<Permission>()
                        .map_err(|e| ApiError::bad_request(e.to_string()))
                })
                .collect::<Result<_, _>>()?,
        ),
    };
    Ok(KeySpec {
        label: req.label.unwrap_or_else(|| "admin-api".into()),
        permissions,
        confidential: req.confidential,
    })
}

fn describe(spec: &KeySpec) -> Value {
    json!({
        "label": spec.label,
        "permissions": spec.permissions.words(),
        "confidential": spec.confidential,
    })
}

async fn create_key(State(s): State<Shared>, body: Bytes) -> Result<Response, ApiError> {
    let spec = key_spec(&body)?;
    let mut out = describe(&spec);
    out["key"] = json!(s.credentials.issue_api_key(spec));
    Ok((StatusCode::CREATED, Json(out)).into_response())
}

async fn create_token(State(s): State<Shared>, body: Bytes) -> Result<Response, ApiError> {
    let spec = key_spec(&body)?;
    let mut out = describe(&spec);
    out["accessToken"] = json!(
        s.credentials
            .issue_bearer_token(spec, &format!("{}/", s.api_url()))
    );
    out["tokenType"] = json!("Bearer");
    Ok((StatusCode::CREATED, Json(out)).into_response())
}

async fn list_credentials(State(s): State<Shared>) -> Response {
    let list: Vec<Value> = s
        .credentials
        .list()
        .iter()
        .map(|c| {
            json!({
                "credential": c.secret,
                "kind": c.kind,
                "label": c.label,
                "permissions": c.permissions.words(),
                "confidential": c.confidential,
                "revoked": c.revoked,
            })
        })
        .collect();
    Json(list).into_response()
}

async fn revoke(
    State(s): State<Shared>,
    Path(credential): Path<String>,
) -> Result<Response, ApiError> {
    if s.credentials.revoke(&credential) {
        Ok(no_content())
    } else {
        Err(ApiError::not_found("credentials", "(given)"))
    }
}

async fn get_faults(State(s): State<Shared>) -> Response {
    Json(s.faults.get()).into_response()
}

async fn put_faults(State(s): State<Shared>, body: Bytes) -> Result<Response, ApiError> {
    let cfg: FaultConfig = parse_json(&body)?;
    cfg.validate().map_err(ApiError::bad_request)?;
    s.faults.set(cfg);
    Ok(Json(s.faults.get()).into_response())
}

#[derive(Deserialize)]
struct RateLimitBody {
    enabled: bool,
}

async fn get_rate_limit(State(s): State<Shared>) -> Response {
    Json(json!({"enabled": s.rate_limit.enabled()})).into_response()
}

async fn put_rate_limit(State(s): State<Shared>, body: Bytes) -> Result<Response, ApiError> {
    let b: RateLimitBody = parse_json(&body)?;
    s.rate_limit.set_enabled(b.enabled);
    Ok(Json(json!({"enabled": b.enabled})).into_response())
}

async fn stats(State(s): State<Shared>) -> Response {
    let stats = s.stats.lock().clone();
    let total = stats.total_requests();
    let mut v = serde_json::to_value(stats).unwrap_or_default();
    v["total_requests"] = json!(total);
    Json(v).into_response()
}

async fn reset_stats(State(s): State<Shared>) -> Response {
    *s.stats.lock() = Default::default();
    no_content()
}

async fn rotate_tokens(State(s): State<Shared>) -> Response {
    s.tokens.rotate();
    no_content()
}

async fn deliveries(State(s): State<Shared>) -> Response {
    Json(s.webhooks.records()).into_response()
}

async fn create_webhook(State(s): State<Shared>, body: Bytes) -> Result<Response, ApiError> {
    let body: NewWebhook = parse_json(&body)?;
    let hook = super::webhooks::create_checked(&mut s.db.lock(), body)?;
    Ok((StatusCode::CREATED, Json(hook)).into_response())
}

/// A UI-style delete: the opportunity disappears (with its notes, files, résumés and
/// application), shows up in `/opportunities/deleted`, and `candidateDeleted` fires.
async fn delete_opportunity(
    State(s): State<Shared>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let event = {
        let mut db = s.db.lock();
        let o = db
            .delete_opportunity(&id, now_millis(), Some(s.default_user.clone()))
            .ok_or_else(|| ApiError::not_found("opportunities", &id))?;
        Event::new(
            WebhookEventType::CandidateDeleted,
            o.origin,
            json!({"opportunityId": o.id, "candidateId": o.id, "contactId": o.contact_id()}),
        )
    };
    s.emit(vec![event]);
    Ok(no_content())
}
