//! The admin REST API, `/admin/v1/...`: tenants and their Lever connection, plugins,
//! installations, events, the audit log, plugin state and API tokens.
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

mod audit;
mod auth;
mod events;
mod extract;
mod installations;
mod lever_webhooks;
mod plugins;
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
        .merge(events::routes())
        .merge(audit::routes())
        .merge(state::routes())
        .merge(tokens::routes());
    secure_operations(api)
}

/// Marks every operation except the document as needing the bearer token and answering 401
/// without one.
fn secure_operations(mut api: OpenApiRouter<Host>) -> OpenApiRouter<Host> {
    use utoipa::openapi::security::SecurityRequirement;
    let unauthorized = utoipa::openapi::ResponseBuilder::new()
        .description("No token, or an unknown or revoked one")
        .content(
            "application/json",
            utoipa::openapi::ContentBuilder::new()
                .schema(Some(utoipa::openapi::Ref::from_schema_name("ErrorBody")))
                .build(),
        )
        .build();
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
            operation
                .responses
                .responses
                .entry("401".into())
                .or_insert_with(|| unauthorized.clone().into());
        }
    }
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
    router.method_not_allowed_fallback(|| async {
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
    responses((status = 200, description = "The OpenAPI document", content_type = "application/json"))
)]
async fn openapi_json() -> Json<&'static utoipa::openapi::OpenApi> {
    Json(document())
}
