//! The admin REST API, `/admin/v1/...`: tenants and their Lever connection, plugins,
//! installations and their Lever connections, events, the audit log, plugin state and API
//! tokens.
//!
//! Every route is registered through utoipa-axum's [`OpenApiRouter`], so the served OpenAPI
//! document (`GET /admin/v1/openapi.json`, no token needed) is generated from the very list
//! of handlers the router serves. Every other route needs `Authorization: Bearer <token>`;
//! what each role may do is in `auth` and in the service README.
//!
//! Tenant isolation: a tenant token naming another tenant gets the same `404 unknown tenant`
//! as a tenant that does not exist, so tokens cannot even probe which tenants exist. Within
//! its own tenant, a role that is too low gets `403`; so do operator-only routes called with
//! a tenant token, and tenant-only decisions (enable, approve) called with an operator token.
//! Roles are checked before a request body is read. Refusals (401, 403, a tenant token's 404
//! on another tenant's path) are logged, rate-limited, without secrets (`refusals`).

mod audit;
mod auth;
mod connections;
mod events;
mod extract;
mod installations;
mod lever_oauth_apps;
mod lever_webhooks;
mod plugins;
mod refusals;
mod schemas;
mod state;
mod tenants;
mod tokens;

use crate::Host;
use crate::api_error::ApiError;
use axum::http::StatusCode;
use axum::{Json, Router};
use std::sync::OnceLock;
use utoipa::openapi::security::{HttpAuthScheme, HttpBuilder, SecurityScheme};
use utoipa::{Modify, OpenApi};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

const OPENAPI_PATH: &str = "/admin/v1/openapi.json";

#[derive(OpenApi)]
#[openapi(
    info(
        title = "Fulcrum admin API",
        description = "Manage tenants, plugins, installations, events, tokens. Send \
                       `Authorization: Bearer <token>`; the first platform-operator token comes \
                       from `fulcrum token issue --role platform-operator`."
    ),
    modifiers(&BearerAuth),
    tags(
        (name = "meta", description = "The API's own description"),
        (name = "tenants", description = "Tenants (Lever customers) and their Lever connection"),
        (name = "plugins", description = "Plugin components installed on the host"),
        (name = "installations", description = "A plugin as installed for one tenant"),
        (name = "connections", description = "An installation's own Lever connection (API key or OAuth) and Lever identity; the operator's Lever OAuth apps"),
        (name = "events", description = "The tenant's event queue: status, errors, replays, admin actions"),
        (name = "audit", description = "The tenant's audit log"),
        (name = "state", description = "Plugin state, for support"),
        (name = "tokens", description = "API bearer tokens"),
    )
)]
struct ApiDoc;

/// Declares the bearer scheme and requires it on every operation but the document itself;
/// every such operation can answer 401.
struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        components.add_security_scheme(
            "bearer",
            SecurityScheme::Http(
                HttpBuilder::new()
                    .scheme(HttpAuthScheme::Bearer)
                    .bearer_format("fulcrum_<base64url>")
                    .build(),
            ),
        );
    }
}

/// The error body of every admin route (and of the whole host).
pub(crate) use crate::api_error::ErrorBody;

/// Every admin route, with its OpenAPI description.
pub(crate) fn api() -> OpenApiRouter<Host> {
    let api = OpenApiRouter::with_openapi(ApiDoc::openapi())
        .routes(routes!(openapi_json))
        .merge(tenants::routes())
        .merge(lever_webhooks::routes())
        .merge(plugins::routes())
        .merge(installations::routes())
        .merge(connections::routes())
        .merge(lever_oauth_apps::routes())
        .merge(events::routes())
        .merge(audit::routes())
        .merge(state::routes())
        .merge(tokens::routes());
    document_common_answers(api)
}

/// An error answer of the [`ErrorBody`] envelope.
fn error_response(description: &str) -> utoipa::openapi::RefOr<utoipa::openapi::Response> {
    utoipa::openapi::ResponseBuilder::new()
        .description(description)
        .content(
            "application/json",
            utoipa::openapi::ContentBuilder::new()
                .schema(Some(utoipa::openapi::Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build()
        .into()
}

/// Name, in `components.responses`, of the answer to a documented path asked with a method it
/// does not take (OpenAPI has no operation to hang it on).
const METHOD_NOT_ALLOWED_RESPONSE: &str = "MethodNotAllowed";
/// Name, in `components.responses`, of the answer to a path under `/admin/` that is not in the
/// document.
const UNKNOWN_ROUTE_RESPONSE: &str = "UnknownRoute";

/// Documents what every operation can answer besides its own outcomes, as the code answers
/// it: every operation but the document needs the bearer token (401) and may fail inside
/// (500, or 503 when the token cannot be checked); one with parameters answers 400 to a bad
/// one; one with a JSON body answers 400 (malformed), 413 (over 2 MB), 415 (not JSON) and 422
/// (wrong shape, the offending value in `problems`).
fn document_common_answers(mut api: OpenApiRouter<Host>) -> OpenApiRouter<Host> {
    use utoipa::openapi::security::SecurityRequirement;
    let openapi = api.get_openapi_mut();
    for (path, item) in openapi.paths.paths.iter_mut() {
        if path == OPENAPI_PATH {
            continue;
        }
        for operation in operations_mut(item) {
            operation
                .security
                .get_or_insert_with(Vec::new)
                .push(SecurityRequirement::new("bearer", Vec::<String>::new()));
            let takes_json = operation
                .request_body
                .as_ref()
                .is_some_and(|body| match body {
                    utoipa::openapi::RefOr::T(body) => {
                        body.content.contains_key("application/json")
                    }
                    utoipa::openapi::RefOr::Ref(_) => false,
                });
            let has_parameters = operation
                .parameters
                .as_ref()
                .is_some_and(|parameters| !parameters.is_empty());
            let responses = &mut operation.responses.responses;
            let mut add = |status: &str, description: &str| {
                responses
                    .entry(status.into())
                    .or_insert_with(|| error_response(description));
            };
            let bad_request = match (has_parameters, takes_json) {
                (true, true) => Some("A parameter is malformed, or the body is not valid JSON"),
                (true, false) => Some("A path, query or header parameter is malformed"),
                (false, true) => Some("The body is not valid JSON"),
                (false, false) => None,
            };
            if let Some(description) = bad_request {
                add("400", description);
            }
            add("401", "No token, or an unknown, revoked or expired one");
            add(
                "500",
                "Internal error (logged, not shown); retry later, nothing was changed",
            );
            add(
                "503",
                "The token could not be checked (database unavailable); nothing was changed",
            );
            if takes_json {
                add("413", "The body is larger than 2 MB");
                add("415", "The body is not sent as application/json");
                // A route's own 422 (bad config, permissions, ...) can also be about the shape.
                let shape = "the body does not have the expected shape (`problems` points at \
                             the offending value)";
                match responses.get_mut("422") {
                    Some(utoipa::openapi::RefOr::T(own)) => {
                        own.description.push_str(&format!("; or {shape}"));
                    }
                    Some(utoipa::openapi::RefOr::Ref(_)) => {}
                    None => {
                        let mut shape = shape.to_owned();
                        shape[..1].make_ascii_uppercase();
                        responses.insert("422".into(), error_response(&shape));
                    }
                }
            }
        }
    }
    let components = openapi.components.get_or_insert_with(Default::default);
    components.responses.insert(
        METHOD_NOT_ALLOWED_RESPONSE.into(),
        error_response(
            "A documented path asked with a method it does not take (code \
             `method_not_allowed`)",
        ),
    );
    components.responses.insert(
        UNKNOWN_ROUTE_RESPONSE.into(),
        error_response("A path under /admin/ that is not in this document (code `not_found`)"),
    );
    api
}

fn operations_mut(
    item: &mut utoipa::openapi::PathItem,
) -> impl Iterator<Item = &mut utoipa::openapi::path::Operation> {
    [
        item.get.as_mut(),
        item.put.as_mut(),
        item.post.as_mut(),
        item.delete.as_mut(),
        item.patch.as_mut(),
        item.head.as_mut(),
        item.options.as_mut(),
        item.trace.as_mut(),
    ]
    .into_iter()
    .flatten()
}

/// The admin routes for [`crate::app`]. A known path with the wrong method gets a JSON 405
/// (unknown paths fall through to the app's JSON 404).
pub(crate) fn router() -> Router<Host> {
    let (router, _) = api().split_for_parts();
    router
        .route_layer(axum::middleware::from_fn(refusals::log_refusals))
        .method_not_allowed_fallback(|| async {
            ApiError::new(
                StatusCode::METHOD_NOT_ALLOWED,
                "method_not_allowed",
                format!(
                    "this route does not take that method; see GET {OPENAPI_PATH} for the admin API"
                ),
            )
        })
}

/// The OpenAPI document, built once from the same routes the router serves.
pub(crate) fn document() -> &'static utoipa::openapi::OpenApi {
    static DOCUMENT: OnceLock<utoipa::openapi::OpenApi> = OnceLock::new();
    DOCUMENT.get_or_init(|| api().into_openapi())
}

/// The OpenAPI 3 document of this API.
#[utoipa::path(
    get,
    path = "/admin/v1/openapi.json",
    tag = "meta",
    responses((status = 200, description = "The OpenAPI document", body = Object, content_type = "application/json"))
)]
async fn openapi_json() -> Json<&'static utoipa::openapi::OpenApi> {
    Json(document())
}
