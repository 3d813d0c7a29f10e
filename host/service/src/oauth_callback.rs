//! `GET /oauth/lever/callback`: where Lever sends an admin's browser after the consent page.
//! No bearer token (it is a browser redirect): the single-use `state` is what authenticates
//! it (see `connections::oauth_flow`). The answer is a small HTML page saying what happened
//! and what to do next; codes and tokens are never shown or logged.

use axum::Router;
use axum::extract::{Query, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;

use crate::Host;
use crate::connections::oauth_flow::{self, CALLBACK_PATH, Callback};
use crate::domain_error::DomainError;

pub(crate) fn router() -> Router<Host> {
    Router::new().route(CALLBACK_PATH, get(callback))
}

#[derive(Deserialize)]
struct Params {
    state: Option<String>,
    code: Option<String>,
    error: Option<String>,
    error_description: Option<String>,
}

async fn callback(State(host): State<Host>, Query(params): Query<Params>) -> Response {
    let Some(state) = params.state.filter(|s| !s.is_empty()) else {
        return page(
            StatusCode::BAD_REQUEST,
            "Lever sign-in failed",
            "The link has no state parameter. Start \"Connect with Lever\" again from Fulcrum.",
        );
    };
    let callback = match (params.code, params.error) {
        (_, Some(error)) => Callback::Refused {
            error,
            description: params.error_description.unwrap_or_default(),
        },
        (Some(code), None) if !code.is_empty() => Callback::Code(code),
        _ => {
            return page(
                StatusCode::BAD_REQUEST,
                "Lever sign-in failed",
                "Lever sent neither a code nor an error. Start \"Connect with Lever\" again.",
            );
        }
    };
    match oauth_flow::finish(&host, &state, callback).await {
        Ok(done) => {
            let missing = &done.connection.not_granted_by_lever;
            let note = if missing.is_empty() {
                String::new()
            } else {
                format!(
                    " Lever did not grant scopes for: {}; those actions will be refused.",
                    missing.join(", ")
                )
            };
            page(
                StatusCode::OK,
                "Lever connected",
                &format!(
                    "Installation \"{}\" of tenant \"{}\" is connected to Lever.{note} You can \
                     close this window.",
                    done.installation, done.tenant
                ),
            )
        }
        Err(DomainError::Store(e)) => {
            tracing::error!(error = %e, "OAuth callback: the database failed");
            page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Lever sign-in failed",
                "Fulcrum's database is unavailable. Start \"Connect with Lever\" again in a \
                 few minutes.",
            )
        }
        Err(e) => {
            tracing::info!(error = %e, "OAuth callback refused");
            page(
                StatusCode::BAD_REQUEST,
                "Lever sign-in failed",
                &e.to_string(),
            )
        }
    }
}

fn page(status: StatusCode, title: &str, message: &str) -> Response {
    let title = html_escape::encode_text(title);
    let message = html_escape::encode_text(message);
    let html = format!(
        "<!doctype html><html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title>\
         </head><body><h1>{title}</h1><p>{message}</p></body></html>"
    );
    (
        status,
        [
            (header::CONTENT_TYPE, "text/html; charset=utf-8"),
            (header::CACHE_CONTROL, "no-store"),
            (header::REFERRER_POLICY, "no-referrer"),
        ],
        html,
    )
        .into_response()
}
