//! Vendor webhook ingress: `POST /ingress/{tenant}/{plugin}[/{path}]`.
//!
//! The order matters: size and content type are checked first, then the tenant and its
//! installation, then the plugin's own `verify-vendor-request` (the vendor's signature, with
//! the installation's secret); only then is the request committed to the event queue, and only
//! after the commit does the vendor get `202 Accepted`. Nothing is stored for a refused request.
//!
//! Host-level contract for every vendor (documented in the SDK README):
//! - `Idempotency-Key` names the delivery: a redelivery with the same key is acknowledged
//!   again (`"duplicate": true`) and not queued twice. Without it, identical bodies are the
//!   same delivery.
//! - `Fulcrum-Subject` (optional) names what the event is about (e.g. a candidate id): events
//!   of one subject are handled in the order they were accepted.

use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use fulcrum_runtime::{Call, CallOutput, MemoryStateStore};
use fulcrum_store::{NewEvent, now_ms};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::sync::Arc;

use crate::api_error::ApiError;
use crate::audit_trail::InvocationAudit;
use crate::event_payload::{StoredVendorRequest, event_ref, kind};
use crate::tenancy::{Handles, TenancyError};
use crate::{Host, metrics_names as m};

pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
pub const SUBJECT_HEADER: &str = "fulcrum-subject";
/// Headers never stored with an event.
const CREDENTIAL_HEADERS: &[&str] = &["authorization", "proxy-authorization", "cookie"];
/// Longest `Idempotency-Key` / `Fulcrum-Subject` accepted.
const MAX_KEY_LEN: usize = 200;

pub fn router() -> Router<Host> {
    Router::new()
        .route("/ingress/{tenant}/{plugin}", post(vendor_event_root))
        .route("/ingress/{tenant}/{plugin}/{*path}", post(vendor_event))
}

async fn vendor_event_root(
    State(host): State<Host>,
    Path((tenant, plugin)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    method: Method,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    accept(
        host,
        tenant,
        plugin,
        String::new(),
        query,
        method,
        headers,
        body,
    )
    .await
}

async fn vendor_event(
    State(host): State<Host>,
    Path((tenant, plugin, path)): Path<(String, String, String)>,
    RawQuery(query): RawQuery,
    method: Method,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    accept(host, tenant, plugin, path, query, method, headers, body).await
}

#[allow(clippy::too_many_arguments)]
async fn accept(
    host: Host,
    tenant: String,
    plugin: String,
    path: String,
    query: Option<String>,
    method: Method,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let span = tracing::info_span!("ingress", tenant = %tenant, plugin = %plugin);
    let result = tracing::Instrument::instrument(
        accept_inner(&host, &tenant, &plugin, path, query, method, headers, body),
        span,
    )
    .await;
    let outcome = match &result {
        Ok(_) => "accepted",
        Err(e) if e.status().is_client_error() => "rejected",
        Err(_) => "error",
    };
    metrics::counter!(m::INGRESS_TOTAL, "plugin" => plugin.clone(), "outcome" => outcome)
        .increment(1);
    result
}

#[allow(clippy::too_many_arguments)]
async fn accept_inner(
    host: &Host,
    tenant: &str,
    plugin: &str,
    path: String,
    query: Option<String>,
    method: Method,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let inner = &host.inner;
    let body = read_json_body(body, &headers, inner.config.max_ingress_body, "events").await?;
    let idempotency_key = header_text(&headers, IDEMPOTENCY_KEY)?;
    let subject = header_text(&headers, SUBJECT_HEADER)?;

    if inner.store.get_tenant(tenant).await?.is_none() {
        return Err(ApiError::not_found(format!(
            "unknown tenant {tenant:?}; check the ingress URL the tenant admin gave you"
        )));
    }
    let dedupe_key = match &idempotency_key {
        Some(key) => format!("key:{key}"),
        None => format!("sha256:{}", hex::encode(Sha256::digest(&body))),
    };
    let received_at = now_ms();
    let header_pairs: Vec<(String, String)> = headers
        .iter()
        .filter_map(|(name, value)| {
            Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
        })
        .collect();
    let path = format!("/{path}");
    let query = query.unwrap_or_default();
    let checked = StoredVendorRequest::new(
        method.as_str(),
        &path,
        &query,
        header_pairs,
        &body,
        received_at,
    );
    // What is stored (and handed to the event handler later) leaves out credentials the
    // vendor may have sent; the plugin sees them once, in `verify-vendor-request`.
    let mut stored = checked.clone();
    stored
        .headers
        .retain(|(name, _)| !CREDENTIAL_HEADERS.contains(&name.as_str()));

    // The plugin checks the vendor's signature with the installation's secret. It may only
    // read config and log here (the runtime enforces that).
    let prepared = inner
        .tenancy
        .prepare(
            &inner.runtime,
            tenant,
            plugin,
            Handles {
                state: Arc::new(MemoryStateStore::new()),
                audit: Arc::new(InvocationAudit::for_event(None)),
                journal: None,
                event_id: None,
                lever: false,
            },
        )
        .await
        .map_err(|e| match e {
            TenancyError::NotInstalled { .. } => ApiError::not_found(format!(
                "plugin {plugin:?} is not installed for tenant {tenant:?}"
            )),
            TenancyError::Disabled { .. } => ApiError::new(
                StatusCode::FORBIDDEN,
                "disabled",
                format!("the {plugin} integration is disabled for this tenant; nothing was stored"),
            ),
            TenancyError::PluginNotLoaded(_) => {
                ApiError::unavailable("the plugin is not loaded on this host", e)
            }
            other => ApiError::unavailable("could not load the installation", other),
        })?;
    let request = checked
        .to_wit(dedupe_key.clone())
        .map_err(|e| ApiError::internal("vendor request", e))?;
    let verdict = inner
        .runtime
        .invoke(
            &prepared.plugin,
            prepared.ctx,
            Call::VerifyVendorRequest(request),
        )
        .await
        .map_err(|e| ApiError::unavailable("the plugin could not check the request", e))?;
    match verdict {
        CallOutput::VendorRequestChecked(Ok(())) => {}
        CallOutput::VendorRequestChecked(Err(rejection)) => {
            // Only client errors: a plugin cannot make the host claim a server fault.
            let status = StatusCode::from_u16(rejection.status)
                .ok()
                .filter(StatusCode::is_client_error)
                .unwrap_or(StatusCode::BAD_REQUEST);
            return Err(ApiError::new(
                status,
                "rejected_by_plugin",
                rejection.message,
            ));
        }
        other => {
            return Err(ApiError::internal(
                "verify-vendor-request",
                format!("unexpected output {other:?}"),
            ));
        }
    }

    let payload = serde_json::to_value(&stored).map_err(|e| ApiError::internal("payload", e))?;
    let enqueued = inner
        .store
        .enqueue_event(&NewEvent {
            tenant_id: tenant.to_owned(),
            plugin_id: plugin.to_owned(),
            kind: kind::VENDOR.to_owned(),
            subject_key: subject.map_or_else(|| dedupe_key.clone(), |s| format!("subject:{s}")),
            payload,
            dedupe_key: Some(dedupe_key),
        })
        .await
        .map_err(|e| ApiError::unavailable("could not store the event", e))?;
    if !enqueued.duplicate {
        inner.wake.notify_one();
    }
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({ "event_id": event_ref(enqueued.id), "duplicate": enqueued.duplicate })),
    )
        .into_response())
}

/// Most bytes read and thrown away to answer an oversize request on a connection that can be
/// kept alive; beyond it the connection is closed instead.
const DRAIN_CAP: usize = 16 * 1024 * 1024;

struct Oversize {
    /// The whole body was read (and dropped), so the connection stays usable.
    drained: bool,
}

/// The body of a JSON request (vendor events, Lever webhooks; `what` names them in errors):
/// 413 when larger than `limit` bytes (closing the connection if it was not drained), 415
/// unless the content type is JSON. Nothing has been stored when it refuses.
pub(crate) async fn read_json_body(
    body: Body,
    headers: &HeaderMap,
    limit: usize,
    what: &str,
) -> Result<Bytes, ApiError> {
    let body = match read_limited(body, limit).await {
        Ok(bytes) => bytes,
        Err(Oversize { drained }) => {
            let error = ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("the body is larger than {limit} bytes; send smaller {what}"),
            );
            return Err(if drained { error } else { error.closing() });
        }
    };
    check_content_type(headers, what)?;
    Ok(body)
}

/// The body if it fits in `limit` bytes. A larger one is read on (and discarded) up to
/// [`DRAIN_CAP`], so the client gets its 413 instead of a broken pipe mid-upload.
async fn read_limited(body: Body, limit: usize) -> Result<Bytes, Oversize> {
    use http_body_util::BodyExt as _;
    let mut body = body;
    let mut kept = bytes::BytesMut::new();
    let mut seen = 0usize;
    while let Some(frame) = body.frame().await {
        let Ok(frame) = frame else {
            return Err(Oversize { drained: false });
        };
        let Ok(data) = frame.into_data() else {
            continue;
        };
        seen = seen.saturating_add(data.len());
        if seen > DRAIN_CAP {
            return Err(Oversize { drained: false });
        }
        if seen <= limit {
            kept.extend_from_slice(&data);
        }
    }
    if seen > limit {
        Err(Oversize { drained: true })
    } else {
        Ok(kept.freeze())
    }
}

fn check_content_type(headers: &HeaderMap, what: &str) -> Result<(), ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    let essence = content_type
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase();
    if essence == "application/json" || essence.ends_with("+json") {
        Ok(())
    } else {
        Err(ApiError::new(
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "unsupported_media_type",
            format!(
                "{what} are JSON: send them with Content-Type: application/json (got {content_type:?})"
            ),
        ))
    }
}

fn header_text(headers: &HeaderMap, name: &str) -> Result<Option<String>, ApiError> {
    let Some(value) = headers.get(name) else {
        return Ok(None);
    };
    let text = value
        .to_str()
        .ok()
        .map(str::trim)
        .filter(|t| !t.is_empty() && t.len() <= MAX_KEY_LEN)
        .ok_or_else(|| {
            ApiError::bad_request(format!(
                "{name} must be visible ASCII, 1 to {MAX_KEY_LEN} characters"
            ))
        })?;
    Ok(Some(text.to_owned()))
}
