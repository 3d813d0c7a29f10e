//! OAuth parts of the control API (`/_sandbox/oauth-apps`, `/_sandbox/authorized-apps`,
//! `/_sandbox/oauth/config`; plain JSON, Lever error bodies) and the Settings → Authorized
//! Apps page.

use super::pages::{authorized_apps_page, error_page};
use crate::error::ApiError;
use crate::oauth::{MAX_ACCESS_TOKEN_TTL, OAuthApp, OAuthAppError};
use crate::routes::{no_content, parse_json};
use crate::state::Shared;
use axum::Json;
use axum::extract::{Path, State};
use axum::response::{IntoResponse, Redirect, Response};
use bytes::Bytes;
use http::StatusCode;
use serde::Deserialize;
use serde_json::{Value, json};
use std::time::Duration;

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct NewApp {
    client_id: Option<String>,
    client_secret: Option<String>,
    name: Option<String>,
    redirect_uris: Vec<String>,
}

fn describe(app: &OAuthApp) -> Value {
    json!({
        "client_id": app.client_id,
        "name": app.name,
        "redirect_uris": app.redirect_uris,
    })
}

/// `POST /_sandbox/oauth-apps`. The secret is only answered when the sandbox generated it
/// (shown once, like a key screen); a caller-chosen secret is never echoed.
pub(super) async fn create_app(State(s): State<Shared>, body: Bytes) -> Result<Response, ApiError> {
    let req: NewApp = parse_json(&body)?;
    let generated = OAuthApp::generate("", Vec::new());
    let secret_generated = req.client_secret.is_none();
    let client_id = req.client_id.unwrap_or(generated.client_id);
    let app = OAuthApp {
        name: req.name.unwrap_or_else(|| client_id.clone()),
        client_id,
        client_secret: req.client_secret.unwrap_or(generated.client_secret),
        redirect_uris: req.redirect_uris,
    };
    s.oauth.register(app.clone()).map_err(|e| match e {
        OAuthAppError::DuplicateClientId(_) => {
            ApiError::new(StatusCode::CONFLICT, "Conflict", e.to_string())
        }
        other => ApiError::bad_request(other.to_string()),
    })?;
    let mut out = describe(&app);
    if secret_generated {
        out["client_secret"] = json!(app.client_secret);
    }
    Ok((StatusCode::CREATED, Json(out)).into_response())
}

/// `GET /_sandbox/oauth-apps`: never with secrets.
pub(super) async fn list_apps(State(s): State<Shared>) -> Response {
    Json(s.oauth.apps().iter().map(describe).collect::<Vec<_>>()).into_response()
}

pub(super) async fn authorized_apps(State(s): State<Shared>) -> Response {
    Json(s.oauth.authorized_apps()).into_response()
}

/// Revoke in Authorized Apps: all of the app's tokens stop working at once. 204, or 404 for
/// an unknown client id.
pub(super) async fn revoke_app(
    State(s): State<Shared>,
    Path(client_id): Path<String>,
) -> Result<Response, ApiError> {
    if s.revoke_oauth_app(&client_id) {
        Ok(no_content())
    } else {
        Err(ApiError::not_found("oauth app", &client_id))
    }
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OAuthConfig {
    access_token_ttl_secs: u64,
}

pub(super) async fn get_config(State(s): State<Shared>) -> Response {
    Json(json!({"access_token_ttl_secs": s.oauth.access_ttl().as_secs()})).into_response()
}

/// `PUT /_sandbox/oauth/config {"access_token_ttl_secs": N}`; applies to tokens issued later.
pub(super) async fn put_config(State(s): State<Shared>, body: Bytes) -> Result<Response, ApiError> {
    let cfg: OAuthConfig = parse_json(&body)?;
    let max = MAX_ACCESS_TOKEN_TTL.as_secs();
    if !(1..=max).contains(&cfg.access_token_ttl_secs) {
        return Err(ApiError::bad_request(format!(
            "access_token_ttl_secs must be between 1 and {max}"
        )));
    }
    s.oauth
        .set_access_ttl(Duration::from_secs(cfg.access_token_ttl_secs));
    Ok(get_config(State(s)).await)
}

pub(super) async fn settings_page(State(s): State<Shared>) -> Response {
    let apps = s.oauth.authorized_apps();
    let db = s.db.lock();
    authorized_apps_page(&apps, |id| {
        db.user(id)
            .map_or_else(|| id.to_owned(), |u| u.name.clone())
    })
}

/// The page's Revoke button; back to the list afterwards (303, so a reload does not re-post).
pub(super) async fn settings_revoke(
    State(s): State<Shared>,
    Path(client_id): Path<String>,
) -> Response {
    if s.revoke_oauth_app(&client_id) {
        Redirect::to("/settings/authorized-apps").into_response()
    } else {
        error_page(
            StatusCode::NOT_FOUND,
            "Unknown app",
            &format!("No OAuth app is registered with client_id {client_id:?}."),
        )
    }
}
