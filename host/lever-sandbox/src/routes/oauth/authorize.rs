//! `GET /authorize` (validate, then show the consent page) and `POST /authorize/decision`.
//!
//! Errors follow Auth0: while the client or its redirect URI is unknown, the browser gets an
//! HTML error page (a redirect to an unregistered URI would leak the request to whoever owns
//! it); after that every problem goes back to the app as `error` + `error_description` +
//! `state` on the redirect URI.

use super::Params;
use super::pages::{Signer, consent_page, error_page};
use crate::oauth::{AuthorizeRequest, is_pkce_value};
use crate::state::Shared;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use bytes::Bytes;
use http::{StatusCode, Uri};
use lever_model::ScopeSet;
use std::time::Instant;

/// The seed's Super Admin role, the only one that may accept (as in Lever).
const SUPER_ADMIN: &str = "super admin";

/// Redirect back to the app with `pairs` (plus `state` when known) in the query.
fn back_to_app(redirect_uri: &str, pairs: &[(&str, &str)], state: Option<&str>) -> Response {
    // Registered URIs were validated as absolute URLs, so this parse cannot fail.
    let Ok(mut url) = url::Url::parse(redirect_uri) else {
        return error_page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Invalid redirect URI",
            "The registered redirect URI is not a URL.",
        );
    };
    {
        let mut q = url.query_pairs_mut();
        for (k, v) in pairs {
            q.append_pair(k, v);
        }
        if let Some(state) = state {
            q.append_pair("state", state);
        }
    }
    // 302, as Auth0 answers.
    (
        StatusCode::FOUND,
        [(http::header::LOCATION, url.to_string())],
    )
        .into_response()
}

fn oauth_error(
    redirect_uri: &str,
    error: &str,
    description: &str,
    state: Option<&str>,
) -> Response {
    back_to_app(
        redirect_uri,
        &[("error", error), ("error_description", description)],
        state,
    )
}

pub(super) async fn authorize(State(s): State<Shared>, uri: Uri) -> Response {
    let p = Params::parse(uri.query().unwrap_or_default().as_bytes());
    let bad_request =
        |heading: &str, message: &str| error_page(StatusCode::BAD_REQUEST, heading, message);
    let client_id = match p.required("client_id") {
        Ok(c) => c,
        Err(e) => return bad_request("Invalid request", &e),
    };
    let Some(app) = s.oauth.app(client_id) else {
        return bad_request(
            "Unknown client",
            &format!(
                "No OAuth app is registered with client_id {client_id:?}. Register it with \
                 POST /_sandbox/oauth-apps or `fulcrum sandbox --oauth-app`."
            ),
        );
    };
    let redirect_uri = match p.required("redirect_uri") {
        Ok(r) => r,
        Err(e) => return bad_request("Invalid request", &e),
    };
    if !app.redirect_uris.iter().any(|r| r == redirect_uri) {
        return bad_request(
            "Callback URL mismatch",
            &format!(
                "The redirect_uri {redirect_uri:?} is not in the list of allowed redirect URIs \
                 of {}. It must equal a registered URI exactly.",
                app.name
            ),
        );
    }
    // From here on errors go back to the app.
    let state = p.one("state").ok().flatten();
    let fail =
        |error: &str, description: &str| oauth_error(redirect_uri, error, description, state);
    let request = match validate(&s, &p, client_id, redirect_uri) {
        Ok(r) => r,
        Err((error, description)) => return fail(error, &description),
    };
    let transaction = s.oauth.begin(request.clone(), Instant::now());
    let db = s.db.lock();
    let signers: Vec<Signer<'_>> = db
        .users()
        .filter(|u| u.is_active())
        .map(|u| Signer {
            id: &u.id,
            name: &u.name,
            access_role: &u.access_role,
        })
        .collect();
    consent_page(
        &app.name,
        &request.scopes,
        &signers,
        &s.default_user,
        &transaction,
    )
}

/// Everything after the client and redirect URI, in the order Auth0 reports them.
fn validate(
    s: &Shared,
    p: &Params,
    client_id: &str,
    redirect_uri: &str,
) -> Result<AuthorizeRequest, (&'static str, String)> {
    let invalid = |d: String| ("invalid_request", d);
    match p.required("response_type").map_err(invalid)? {
        "code" => {}
        other => {
            return Err((
                "unsupported_response_type",
                format!("Unsupported response_type: {other} (only 'code' is supported)"),
            ));
        }
    }
    let state = p.required("state").map_err(invalid)?.to_owned();
    let audience = p.required("audience").map_err(invalid)?;
    if audience != s.audience() {
        return Err(("access_denied", format!("Service not found: {audience}")));
    }
    let scope = p.required("scope").map_err(invalid)?;
    let scopes = ScopeSet::parse(scope).map_err(|e| ("invalid_scope", e.to_string()))?;
    if scopes.is_empty() {
        return Err(("invalid_scope", "scope names no scope".into()));
    }
    let code_challenge = pkce_challenge(p)?;
    Ok(AuthorizeRequest {
        client_id: client_id.to_owned(),
        redirect_uri: redirect_uri.to_owned(),
        state,
        scopes,
        code_challenge,
    })
}

/// Optional PKCE (RFC 7636): only S256; `plain` would let an intercepted request be replayed.
fn pkce_challenge(p: &Params) -> Result<Option<String>, (&'static str, String)> {
    let invalid = |d: String| ("invalid_request", d);
    let challenge = p.one("code_challenge").map_err(invalid)?;
    let method = p.one("code_challenge_method").map_err(invalid)?;
    match (challenge, method) {
        (None, None) => Ok(None),
        (Some(_), None) => Err(invalid(
            "code_challenge_method is required with code_challenge; use S256".into(),
        )),
        (None, Some(_)) => Err(invalid(
            "code_challenge_method was sent without code_challenge".into(),
        )),
        (Some(_), Some("plain")) => Err(invalid(
            "code_challenge_method 'plain' is not supported; use S256".into(),
        )),
        (Some(_), Some(m)) if m != "S256" => Err(invalid(format!(
            "Unsupported code_challenge_method {m:?}; use S256"
        ))),
        (Some(c), Some(_)) if c.len() != 43 || !is_pkce_value(c) => Err(invalid(
            "code_challenge must be the 43-character base64url SHA-256 of the code_verifier".into(),
        )),
        (Some(c), Some(_)) => Ok(Some(c.to_owned())),
    }
}

/// The consent form's answer. Form mistakes (bad decision, unknown user) leave the pending
/// request in place; a decision uses it up.
pub(super) async fn decide(State(s): State<Shared>, body: Bytes) -> Response {
    let p = Params::parse(&body);
    let bad_request =
        |message: &str| error_page(StatusCode::BAD_REQUEST, "Invalid request", message);
    let transaction = match p.required("transaction") {
        Ok(t) => t,
        Err(e) => return bad_request(&e),
    };
    let accept = match p.one("decision") {
        Ok(Some("accept")) => true,
        Ok(Some("deny")) => false,
        Ok(_) => return bad_request("decision must be 'accept' or 'deny'"),
        Err(e) => return bad_request(&e),
    };
    let signer = if accept {
        let user_id = match p.required("user_id") {
            Ok(u) => u,
            Err(e) => return bad_request(&e),
        };
        let db = s.db.lock();
        match db.user(user_id) {
            Some(u) if u.is_active() => Some((u.id.clone(), u.name.clone(), u.access_role.clone())),
            _ => {
                return bad_request(&format!(
                    "user_id {user_id:?} is not an active Lever user; pick one from the list"
                ));
            }
        }
    } else {
        None
    };
    let Some(request) = s.oauth.take_pending(transaction, Instant::now()) else {
        return bad_request(
            "This authorization request has expired (10 minutes) or was already answered. \
             Start again from the app.",
        );
    };
    let state = Some(request.state.as_str());
    let denied =
        |description: &str| oauth_error(&request.redirect_uri, "access_denied", description, state);
    match signer {
        None => denied("The user denied the request"),
        Some((_, name, role)) if role != SUPER_ADMIN => denied(&format!(
            "Only a Lever Super Admin can authorize integrations ({name} is {role})"
        )),
        Some((user_id, _, _)) => {
            let code = s.oauth.approve(&request, &user_id, Instant::now());
            back_to_app(&request.redirect_uri, &[("code", &code)], state)
        }
    }
}
