//! `POST /oauth/token`: the authorization-code and refresh-token grants (RFC 6749 §4.1.3,
//! §6), client authentication by HTTP Basic or body parameters (§2.3.1), PKCE (RFC 7636).
//!
//! Errors are RFC 6749 §5.2 JSON. `invalid_grant` is 403, as Auth0 (Lever's OAuth server)
//! answers it; `invalid_client` 401; everything else 400.

use super::Params;
use crate::auth::OAuthAccess;
use crate::oauth::{InvalidGrant, IssuedGrant};
use crate::state::Shared;
use axum::Json;
use axum::extract::State;
use axum::response::{IntoResponse, Response};
use base64::Engine;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use http::{HeaderMap, HeaderValue, StatusCode, header};
use lever_model::{Scope, ScopeSet};
use serde_json::{Value, json};
use std::time::Instant;

/// One RFC 6749 §5.2 error.
struct TokenError {
    status: StatusCode,
    error: &'static str,
    description: String,
    /// Ask for Basic credentials again (`invalid_client` after Basic auth, §5.2).
    challenge_basic: bool,
}

impl TokenError {
    fn new(status: StatusCode, error: &'static str, description: impl Into<String>) -> Self {
        Self {
            status,
            error,
            description: description.into(),
            challenge_basic: false,
        }
    }

    fn invalid_request(description: impl Into<String>) -> Self {
        Self::new(StatusCode::BAD_REQUEST, "invalid_request", description)
    }

    fn invalid_grant(description: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "invalid_grant", description)
    }
}

impl IntoResponse for TokenError {
    fn into_response(self) -> Response {
        let mut resp = (
            self.status,
            Json(json!({"error": self.error, "error_description": self.description})),
        )
            .into_response();
        no_store(resp.headers_mut());
        if self.challenge_basic {
            resp.headers_mut().insert(
                header::WWW_AUTHENTICATE,
                HeaderValue::from_static("Basic realm=\"lever-sandbox\""),
            );
        }
        resp
    }
}

/// RFC 6749 §5.1: token responses must not be cached.
fn no_store(h: &mut HeaderMap) {
    h.insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    h.insert(header::PRAGMA, HeaderValue::from_static("no-cache"));
}

pub(super) async fn token(State(s): State<Shared>, headers: HeaderMap, body: Bytes) -> Response {
    match handle(&s, &headers, &body) {
        Ok(resp) => resp,
        Err(e) => e.into_response(),
    }
}

fn handle(s: &Shared, headers: &HeaderMap, body: &[u8]) -> Result<Response, TokenError> {
    let p = parse_body(headers, body)?;
    let grant_type = p
        .required("grant_type")
        .map_err(TokenError::invalid_request)?;
    let client_id = authenticate_client(s, headers, &p)?;
    let grant = match grant_type {
        "authorization_code" => exchange_code(s, &client_id, &p)?,
        "refresh_token" => refresh(s, &client_id, &p)?,
        other => {
            return Err(TokenError::new(
                StatusCode::BAD_REQUEST,
                "unsupported_grant_type",
                format!(
                    "Unsupported grant_type {other:?}: use authorization_code or refresh_token"
                ),
            ));
        }
    };
    issue(s, grant)
}

/// Form-encoded as Lever documents; a JSON object of strings is accepted too, as by Auth0.
fn parse_body(headers: &HeaderMap, body: &[u8]) -> Result<Params, TokenError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or_default()
        .to_ascii_lowercase();
    if content_type.starts_with("application/x-www-form-urlencoded") {
        return Ok(Params::parse(body));
    }
    if content_type.starts_with("application/json") {
        let map: serde_json::Map<String, Value> = serde_json::from_slice(body).map_err(|e| {
            TokenError::invalid_request(format!("The body is not a JSON object: {e}"))
        })?;
        let pairs = map
            .into_iter()
            .map(|(k, v)| match v {
                Value::String(s) => Ok((k, s)),
                _ => Err(TokenError::invalid_request(format!(
                    "Parameter '{k}' must be a string"
                ))),
            })
            .collect::<Result<_, _>>()?;
        return Ok(Params::from_pairs(pairs));
    }
    Err(TokenError::invalid_request(
        "Send the parameters as application/x-www-form-urlencoded",
    ))
}

/// The authenticated client id. Exactly one method: HTTP Basic or `client_secret` in the body.
fn authenticate_client(s: &Shared, headers: &HeaderMap, p: &Params) -> Result<String, TokenError> {
    let body_id = p.one("client_id").map_err(TokenError::invalid_request)?;
    let body_secret = p
        .one("client_secret")
        .map_err(TokenError::invalid_request)?;
    let basic = basic_credentials(headers)?;
    let failed = |challenge_basic: bool| TokenError {
        challenge_basic,
        ..TokenError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication failed: unknown client_id or wrong client_secret",
        )
    };
    match (basic, body_secret) {
        (Some(_), Some(_)) => Err(TokenError::invalid_request(
            "Use one client authentication method: HTTP Basic or client_secret in the body, \
             not both",
        )),
        (Some(candidates), None) => {
            let id = candidates
                .iter()
                .find(|(id, secret)| s.oauth.authenticate_client(id, secret))
                .map(|(id, _)| id.clone())
                .ok_or_else(|| failed(true))?;
            match body_id {
                Some(other) if other != id => Err(TokenError::invalid_request(
                    "client_id in the body differs from the HTTP Basic client_id",
                )),
                _ => Ok(id),
            }
        }
        (None, Some(secret)) => {
            let id = body_id.ok_or_else(|| {
                TokenError::invalid_request("Missing required parameter: client_id")
            })?;
            if s.oauth.authenticate_client(id, secret) {
                Ok(id.to_owned())
            } else {
                Err(failed(false))
            }
        }
        (None, None) => Err(TokenError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Client authentication is required: send client_id and client_secret (HTTP Basic \
             or in the body)",
        )),
    }
}

/// `(id, secret)` pairs to try from `Authorization: Basic`: form-decoded as RFC 6749 §2.3.1
/// says (the `oauth2` crate does this), then verbatim (what most HTTP clients send).
fn basic_credentials(headers: &HeaderMap) -> Result<Option<Vec<(String, String)>>, TokenError> {
    let Some(value) = headers.get(header::AUTHORIZATION) else {
        return Ok(None);
    };
    let malformed = || {
        TokenError::new(
            StatusCode::UNAUTHORIZED,
            "invalid_client",
            "Malformed Authorization header: expected Basic base64(client_id:client_secret)",
        )
    };
    let value = value.to_str().map_err(|_| malformed())?.trim();
    let Some((scheme, encoded)) = value.split_once(' ') else {
        return Err(malformed());
    };
    if !scheme.eq_ignore_ascii_case("basic") {
        return Err(malformed());
    }
    let decoded = STANDARD
        .decode(encoded.trim())
        .ok()
        .and_then(|b| String::from_utf8(b).ok())
        .ok_or_else(malformed)?;
    let (id, secret) = decoded.split_once(':').ok_or_else(malformed)?;
    let form_decode = |v: &str| {
        percent_encoding::percent_decode_str(&v.replace('+', " "))
            .decode_utf8()
            .map(|c| c.into_owned())
            .ok()
    };
    let mut candidates = Vec::new();
    if let (Some(i), Some(s)) = (form_decode(id), form_decode(secret)) {
        candidates.push((i, s));
    }
    if !candidates.contains(&(id.to_owned(), secret.to_owned())) {
        candidates.push((id.to_owned(), secret.to_owned()));
    }
    Ok(Some(candidates))
}

fn refused(s: &Shared, e: InvalidGrant) -> TokenError {
    if let Some(grant) = &e.revoked_grant {
        s.credentials.revoke_grants(std::slice::from_ref(grant));
    }
    TokenError::invalid_grant(e.description)
}

fn exchange_code(s: &Shared, client_id: &str, p: &Params) -> Result<IssuedGrant, TokenError> {
    let code = p.required("code").map_err(TokenError::invalid_request)?;
    let redirect_uri = p
        .required("redirect_uri")
        .map_err(TokenError::invalid_request)?;
    let verifier = p
        .one("code_verifier")
        .map_err(TokenError::invalid_request)?;
    match (s.oauth.code_has_challenge(client_id, code), verifier) {
        (Some(true), None) => {
            return Err(TokenError::invalid_request(
                "Missing required parameter: code_verifier (the authorization request used PKCE)",
            ));
        }
        (Some(false), Some(_)) => {
            return Err(TokenError::invalid_request(
                "code_verifier was sent, but the authorization request had no code_challenge",
            ));
        }
        _ => {}
    }
    s.oauth
        .exchange_code(client_id, code, redirect_uri, verifier, Instant::now())
        .map_err(|e| refused(s, e))
}

/// Rotation: the presented refresh token dies, a new one comes back. An optional `scope`
/// may narrow (never widen) the new access token.
fn refresh(s: &Shared, client_id: &str, p: &Params) -> Result<IssuedGrant, TokenError> {
    let token = p
        .required("refresh_token")
        .map_err(TokenError::invalid_request)?;
    let narrowed = match p.one("scope").map_err(TokenError::invalid_request)? {
        Some(text) => Some(ScopeSet::parse(text).map_err(|e| {
            TokenError::new(StatusCode::BAD_REQUEST, "invalid_scope", e.to_string())
        })?),
        None => None,
    };
    // Checked before rotating, so a refused narrowing does not cost the client its token.
    if let (Some(wanted), Some(granted)) =
        (&narrowed, s.oauth.refresh_token_scopes(client_id, token))
        && let Some(extra) = wanted.iter().find(|w| !granted.contains(*w))
    {
        return Err(TokenError::new(
            StatusCode::BAD_REQUEST,
            "invalid_scope",
            format!("Scope {extra} was not granted; a refresh can only narrow the scopes"),
        ));
    }
    let mut grant = s
        .oauth
        .use_refresh_token(client_id, token)
        .map_err(|e| refused(s, e))?;
    if let Some(wanted) = narrowed {
        // The refresh token keeps the whole grant; only this access token is narrower.
        let offline = grant.scopes.contains(Scope::OfflineAccess);
        grant.scopes = wanted;
        if offline {
            grant.scopes.insert(Scope::OfflineAccess);
        }
    }
    Ok(grant)
}

fn issue(s: &Shared, grant: IssuedGrant) -> Result<Response, TokenError> {
    let ttl = s.oauth.access_ttl();
    let refresh_token = if grant.scopes.contains(Scope::OfflineAccess) {
        Some(s.oauth.issue_refresh_token(&grant).ok_or_else(|| {
            TokenError::invalid_grant(
                "The authorization was revoked; send the user through /authorize again",
            )
        })?)
    } else {
        None
    };
    let label = match s.oauth.app(&grant.client_id) {
        Some(app) => format!("OAuth: {}", app.name),
        None => format!("OAuth: {}", grant.client_id),
    };
    let access_token = s.credentials.issue_oauth_token(
        OAuthAccess {
            grant_id: grant.grant_id.clone(),
            client_id: grant.client_id.clone(),
            scopes: grant.scopes.clone(),
            expires_at: Instant::now() + ttl,
        },
        label,
        &grant.user_id,
        &s.audience(),
        ttl,
    );
    let mut out = json!({
        "access_token": access_token,
        "token_type": "Bearer",
        "scope": grant.scopes.to_string(),
        "expires_in": ttl.as_secs(),
    });
    if let Some(r) = refresh_token {
        out["refresh_token"] = json!(r);
    }
    let mut resp = Json(out).into_response();
    no_store(resp.headers_mut());
    Ok(resp)
}
