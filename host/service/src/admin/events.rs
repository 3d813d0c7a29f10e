//! The tenant's event queue: status and errors (any role of the tenant, or a platform
//! operator), replaying dead letters (tenant admin or super admin) and triggering a plugin's admin
//! actions (any tenant role). An admin action is queued as an `action` event and runs like any other.

use axum::Json;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode};
use fulcrum_store::{Event, EventFilter, EventStatus, MAX_LIST_EVENTS, NewEvent, Role, StoreError};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::ErrorBody;
use super::auth::{Principal, audit, existing_tenant};
use super::extract::{DeferredJson, PathParams, QueryParams};
use super::installations::{installation, loaded_plugin};
use crate::Host;
use crate::api_error::ApiError;
use crate::event_payload::{StoredAction, event_ref, kind};
use crate::installations::schema_problems;

pub(super) fn routes() -> OpenApiRouter<Host> {
    OpenApiRouter::new()
        .routes(routes!(list_events))
        .routes(routes!(get_event))
        .routes(routes!(replay_event))
        .routes(routes!(run_action))
}

#[derive(Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub(super) struct EventQuery {
    /// Only events in this status.
    #[param(schema_with = super::schemas::event_status)]
    status: Option<String>,
    /// Only this plugin's events.
    plugin: Option<String>,
    /// Only events with a larger id (pass the previous page's `next_after`).
    after: Option<i64>,
    /// At most this many (default 100, at most 1000).
    limit: Option<u32>,
}

#[derive(Serialize, ToSchema)]
pub(super) struct EventView {
    id: i64,
    /// The id the plugin sees (`evt-<id>`).
    event_ref: String,
    plugin_id: String,
    /// What started the event.
    #[schema(schema_with = super::schemas::event_kind)]
    kind: String,
    /// Where the event is (`dead`: a dead letter; replay it once fixed).
    #[schema(schema_with = super::schemas::event_status)]
    status: String,
    /// Tries made so far (1 after a first try, whether it succeeded or not).
    attempts: i64,
    /// Queued, waiting for the installation's Lever connection to be reconnected (its try
    /// did not count); it runs as soon as a tenant super admin connects Lever again.
    paused: bool,
    /// A dead letter that holds back later events of its subject: they run only once it is
    /// replayed (`waiting_behind` says how many). A dead schedule run never blocks.
    blocking: bool,
    /// For a blocking dead letter, the events of its subject queued behind it; else 0.
    waiting_behind: i64,
    /// Why the last attempt failed.
    last_error: Option<String>,
    /// What an admin action answered, once done (its JSON: any value); absent for other
    /// events.
    #[serde(skip_serializing_if = "Option::is_none")]
    #[schema(value_type = Option<Value>)]
    result: Option<serde_json::Value>,
    /// Unix milliseconds.
    next_attempt_at: i64,
    created_at: i64,
    updated_at: i64,
}

impl From<Event> for EventView {
    fn from(e: Event) -> Self {
        EventView {
            event_ref: event_ref(e.id),
            id: e.id,
            plugin_id: e.plugin_id,
            kind: e.kind,
            status: e.status.as_str().to_owned(),
            attempts: e.attempts,
            paused: e.paused,
            blocking: e.waiting_behind > 0,
            waiting_behind: e.waiting_behind,
            last_error: e.last_error,
            result: e.result,
            next_attempt_at: e.next_attempt_at,
            created_at: e.created_at,
            updated_at: e.updated_at,
        }
    }
}

#[derive(Serialize, ToSchema)]
pub(super) struct EventCountsView {
    queued: i64,
    running: i64,
    done: i64,
    dead: i64,
}

#[derive(Serialize, ToSchema)]
pub(super) struct EventList {
    /// By id, oldest first.
    events: Vec<EventView>,
    /// The tenant's events in each status (all plugins).
    counts: EventCountsView,
    /// Pass as `after` for the next page; `null` when this page is the last.
    next_after: Option<i64>,
}

fn parse_status(text: &str) -> Result<EventStatus, ApiError> {
    [
        EventStatus::Queued,
        EventStatus::Running,
        EventStatus::Done,
        EventStatus::Dead,
    ]
    .into_iter()
    .find(|s| s.as_str() == text)
    .ok_or_else(|| {
        ApiError::bad_request(format!(
            "status {text:?} is not one of queued, running, done, dead"
        ))
    })
}

/// The tenant's events (any role of the tenant, or a platform operator).
#[utoipa::path(
    get, path = "/admin/v1/tenants/{tenant}/events", tag = "events",
    params(("tenant" = String, Path, description = "Tenant id"), EventQuery),
    responses(
        (status = 200, description = "A page of events", body = EventList),
        (status = 400, description = "Bad filter", body = ErrorBody),
        (status = 404, description = "Unknown tenant", body = ErrorBody),
    )
)]
async fn list_events(
    State(host): State<Host>,
    principal: Principal,
    PathParams(tenant): PathParams<String>,
    QueryParams(query): QueryParams<EventQuery>,
) -> Result<Json<EventList>, ApiError> {
    principal.require_tenant_or_operator(&tenant, Role::TenantMember)?;
    existing_tenant(&host, &tenant).await?;
    let limit = query.limit.unwrap_or(100).clamp(1, MAX_LIST_EVENTS);
    let filter = EventFilter {
        tenant_id: Some(tenant.clone()),
        plugin_id: query.plugin,
        status: query.status.as_deref().map(parse_status).transpose()?,
        after_id: query.after,
        limit,
    };
    let events = host.inner.store.list_events(&filter).await?;
    let counts = host.inner.store.count_events(Some(&tenant)).await?;
    let next_after = (events.len() == limit as usize)
        .then(|| events.last().map(|e| e.id))
        .flatten();
    Ok(Json(EventList {
        events: events.into_iter().map(EventView::from).collect(),
        counts: EventCountsView {
            queued: counts.queued,
            running: counts.running,
            done: counts.done,
            dead: counts.dead,
        },
        next_after,
    }))
}

/// One of the tenant's events, or 404 (also for another tenant's event).
async fn tenant_event(host: &Host, tenant: &str, id: i64) -> Result<Event, ApiError> {
    host.inner
        .store
        .get_event(id)
        .await?
        .filter(|e| e.tenant_id == tenant)
        .ok_or_else(|| {
            ApiError::not_found(format!(
                "tenant {tenant:?} has no event {id}; GET /admin/v1/tenants/{tenant}/events lists them"
            ))
        })
}

/// One event (any role of the tenant, or a platform operator).
#[utoipa::path(
    get, path = "/admin/v1/tenants/{tenant}/events/{event}", tag = "events",
    params(("tenant" = String, Path, description = "Tenant id"), ("event" = i64, Path, description = "Event id")),
    responses(
        (status = 200, description = "The event", body = EventView),
        (status = 404, description = "Unknown tenant or event", body = ErrorBody),
    )
)]
async fn get_event(
    State(host): State<Host>,
    principal: Principal,
    PathParams((tenant, id)): PathParams<(String, i64)>,
) -> Result<Json<EventView>, ApiError> {
    principal.require_tenant_or_operator(&tenant, Role::TenantMember)?;
    existing_tenant(&host, &tenant).await?;
    Ok(Json(tenant_event(&host, &tenant, id).await?.into()))
}

/// Put a dead letter back in the queue, attempts reset (tenant admin or super admin).
#[utoipa::path(
    post, path = "/admin/v1/tenants/{tenant}/events/{event}/replay", tag = "events",
    params(("tenant" = String, Path, description = "Tenant id"), ("event" = i64, Path, description = "Event id")),
    responses(
        (status = 202, description = "Queued again", body = EventView),
        (status = 403, description = "Role too low", body = ErrorBody),
        (status = 404, description = "Unknown tenant or event", body = ErrorBody),
        (status = 409, description = "The event is not a dead letter", body = ErrorBody),
    )
)]
async fn replay_event(
    State(host): State<Host>,
    principal: Principal,
    PathParams((tenant, id)): PathParams<(String, i64)>,
) -> Result<(StatusCode, Json<EventView>), ApiError> {
    principal.require_tenant(&tenant, Role::TenantAdmin)?;
    existing_tenant(&host, &tenant).await?;
    let event = tenant_event(&host, &tenant, id).await?;
    match host.inner.store.replay_event(id).await {
        Ok(()) => {}
        Err(StoreError::Conflict(_)) => {
            return Err(ApiError::new(
                StatusCode::CONFLICT,
                "not_dead",
                format!(
                    "event {id} is {}, not a dead letter; only dead letters can be replayed",
                    event.status.as_str()
                ),
            ));
        }
        Err(e) => return Err(e.into()),
    }
    host.inner.wake.notify_one();
    audit(
        &host,
        &principal,
        &tenant,
        Some(&event.plugin_id),
        "replay event",
        Some(format!("event {id}")),
    )
    .await;
    let replayed = tenant_event(&host, &tenant, id).await?;
    Ok((StatusCode::ACCEPTED, Json(replayed.into())))
}

#[derive(Serialize, ToSchema)]
pub(super) struct ActionQueued {
    event_id: i64,
    event_ref: String,
    /// The `Idempotency-Key` was used before: nothing new was queued, `event_id` is the
    /// earlier event.
    duplicate: bool,
}

/// Longest `Idempotency-Key` accepted.
const MAX_KEY_LEN: usize = 200;

/// Run one of the plugin's admin actions (any role of the tenant): the input is checked
/// against the action's input schema, then queued as an event (`202` once committed). An
/// `Idempotency-Key` header makes retries of the same request queue it once.
#[utoipa::path(
    post, path = "/admin/v1/tenants/{tenant}/installations/{plugin}/actions/{action}", tag = "events",
    params(
        ("tenant" = String, Path, description = "Tenant id"),
        ("plugin" = String, Path, description = "Plugin id"),
        ("action" = String, Path, description = "An action the plugin declares"),
        ("Idempotency-Key" = Option<String>, Header, max_length = 200, description = "Names this request (1-200 visible ASCII characters); a retry with the same key queues nothing new"),
    ),
    request_body(content = Object, description = "The action's input, as its input schema describes"),
    responses(
        (status = 202, description = "Queued", body = ActionQueued),
        (status = 403, description = "Role too low", body = ErrorBody),
        (status = 404, description = "Unknown tenant, plugin not installed, or no such action", body = ErrorBody),
        (status = 409, description = "The plugin is disabled for the tenant", body = ErrorBody),
        (status = 422, description = "The input fails the action's schema (each problem in `problems`)", body = ErrorBody),
    )
)]
async fn run_action(
    State(host): State<Host>,
    principal: Principal,
    PathParams((tenant, plugin, action)): PathParams<(String, String, String)>,
    headers: HeaderMap,
    body: DeferredJson<Value>,
) -> Result<(StatusCode, Json<ActionQueued>), ApiError> {
    // Members too: triggering an action the admins enabled (e.g. on-demand creation) is part
    // of a recruiter's daily work, as on Lever's integration pages.
    principal.require_tenant(&tenant, Role::TenantMember)?;
    let input = body.parse().await?;
    existing_tenant(&host, &tenant).await?;
    let installed = installation(&host, &tenant, &plugin).await?;
    let loaded = loaded_plugin(&host, &plugin)?;
    let declared = &loaded.manifest().actions;
    let Some(spec) = declared.iter().find(|a| a.name == action) else {
        let names: Vec<_> = declared.iter().map(|a| a.name.as_str()).collect();
        return Err(ApiError::not_found(format!(
            "plugin {plugin:?} has no action {action:?}; it has: {}",
            names.join(", ")
        )));
    };
    if !installed.enabled {
        return Err(ApiError::new(
            StatusCode::CONFLICT,
            "disabled",
            format!(
                "plugin {plugin:?} is disabled for this tenant; a tenant super admin must enable \
                 it first; nothing was queued"
            ),
        ));
    }
    let idempotency_key = match headers.get("idempotency-key") {
        None => None,
        Some(value) => Some(
            value
                .to_str()
                .ok()
                .map(str::trim)
                .filter(|k| !k.is_empty() && k.len() <= MAX_KEY_LEN)
                .ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "Idempotency-Key must be visible ASCII, 1 to {MAX_KEY_LEN} characters"
                    ))
                })?
                .to_owned(),
        ),
    };
    let problems = schema_problems(&spec.input_schema, "action input", &input)?;
    if !problems.is_empty() {
        return Err(ApiError::new(
            StatusCode::UNPROCESSABLE_ENTITY,
            "invalid_input",
            format!(
                "the input does not match the input schema of action {action:?}; fix it and \
                 send it again; nothing was queued"
            ),
        )
        .with_problems(problems));
    }
    let dedupe_key = idempotency_key.map(|key| format!("action-key:{key}"));
    // Each admin action is its own subject: actions do not wait for each other.
    let subject_key = match &dedupe_key {
        Some(key) => key.clone(),
        None => format!("action:{:032x}", rand::random::<u128>()),
    };
    let payload = serde_json::to_value(StoredAction {
        name: action.clone(),
        input: input.to_string(),
        requested_by: Some(principal.actor()),
    })
    .map_err(|e| ApiError::internal("action payload", e))?;
    let enqueued = host
        .enqueue(&NewEvent {
            tenant_id: tenant.clone(),
            plugin_id: plugin.clone(),
            kind: kind::ACTION.to_owned(),
            subject_key,
            payload,
            dedupe_key,
        })
        .await
        .map_err(|e| ApiError::unavailable("could not queue the action", e))?;
    if !enqueued.duplicate {
        audit(
            &host,
            &principal,
            &tenant,
            Some(&plugin),
            "run action",
            Some(format!("action {action:?}, event {}", enqueued.id)),
        )
        .await;
    }
    Ok((
        StatusCode::ACCEPTED,
        Json(ActionQueued {
            event_id: enqueued.id,
            event_ref: event_ref(enqueued.id),
            duplicate: enqueued.duplicate,
        }),
    ))
}
