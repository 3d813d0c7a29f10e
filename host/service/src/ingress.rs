//! Vendor webhook ingress: `POST /ingress/{tenant}/{plugin}[/{path}]`.
//!
//! The order matters: header size (431), body size (413), a body that stalls (408) or is
//! malformed (400), content type (415); then the tenant and its installation, then the
//! plugin's own `verify-vendor-request` (the vendor's signature, with the installation's
//! secret); only then is the request committed to the event queue, and only after the commit
//! does the vendor get `202 Accepted`. Nothing is stored for a refused request.
//!
//! An unknown tenant, a plugin not installed, a disabled installation and a plugin's `401` or
//! `403` (a bad signature) all get the same `401` answer, so an unauthenticated caller cannot
//! tell which tenants or installations exist; the real reason goes to the log (rate-limited).
//!
//! Host-level contract for every vendor (documented in the SDK README):
//! - `Idempotency-Key` names the delivery: a redelivery with the same key is acknowledged
//!   again (`"duplicate": true`) and not queued twice. Without it, identical bodies are the
//!   same delivery.
//! - Whatever the key, a verified request whose body is byte-identical to one the
//!   installation accepted within `vendor_replay_window` is that request again (a captured
//!   signed request resent under a new key cannot become a new event).
//! - `Fulcrum-Subject` (optional) names what the event is about (e.g. a candidate id): events
//!   of one subject are handled in the order they were accepted.
//!
//! Headers that carry credentials (`HostConfig::credential_headers`) are stored sealed under
//! the master key, not in the payload; the plugin sees every header at verification and when
//! it handles the event.

use axum::body::{Body, Bytes};
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use fulcrum_runtime::bindings::VendorRequest;
use fulcrum_runtime::{Call, CallOutput, MemoryStateStore};
use fulcrum_store::{Enqueued, NewEvent, VendorRequestGuard, now_ms};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::sync::Arc;
use std::time::Duration;
use tokio_util::sync::CancellationToken;

use crate::api_error::ApiError;
use crate::audit_trail::InvocationAudit;
use crate::event_payload::{StoredVendorRequest, event_ref, kind};
use crate::observability::log_refusal;
use crate::tenancy::{Handles, TenancyError};
use crate::{Host, HostInner, metrics_names as m};

pub const IDEMPOTENCY_KEY: &str = "idempotency-key";
pub const SUBJECT_HEADER: &str = "fulcrum-subject";
/// Vendor request headers that carry credentials unless the operator configures others
/// (`HostConfig::credential_headers`): sealed, never stored in plaintext.
pub const DEFAULT_CREDENTIAL_HEADERS: &[&str] = &[
    "authorization",
    "proxy-authorization",
    "cookie",
    "x-api-key",
];
/// Longest `Idempotency-Key` / `Fulcrum-Subject` accepted.
const MAX_KEY_LEN: usize = 200;
/// The metric label of a URL's plugin that is not loaded on this host.
const OTHER_PLUGIN: &str = "other";
/// How often expired replay guards are deleted (at most).
const PRUNE_EVERY: Duration = Duration::from_secs(60);
/// Lever deliveries are remembered at least this long (longer when the freshness window is).
const MIN_LEVER_RETENTION: Duration = Duration::from_secs(24 * 3600);

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

/// The one answer to a request that could not be authenticated, whatever the reason: an
/// unknown tenant, a plugin not installed or disabled, a missing or bad signature.
pub(crate) fn not_authenticated() -> ApiError {
    ApiError::new(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        "the request could not be authenticated for this URL: the signature is missing, \
         malformed, stale or wrong, or the URL names no enabled installation; nothing was \
         stored (the host's operator can see the reason in the log)",
    )
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
        Ok(Enqueued {
            duplicate: false, ..
        }) => "accepted",
        Ok(Enqueued {
            duplicate: true, ..
        }) => "duplicate",
        Err(e) if e.status() == StatusCode::UNAUTHORIZED => "unauthorized",
        Err(e) if e.status().is_client_error() => "rejected",
        Err(_) => "error",
    };
    // Bounded: the URL's plugin is caller-chosen, so only loaded plugins get their own series.
    let label = if host.inner.runtime.active(&plugin).is_some() {
        plugin.clone()
    } else {
        OTHER_PLUGIN.to_owned()
    };
    metrics::counter!(m::INGRESS_TOTAL, "plugin" => label, "outcome" => outcome).increment(1);
    match result {
        Ok(enqueued) => Ok((
            StatusCode::ACCEPTED,
            Json(json!({ "event_id": event_ref(enqueued.id), "duplicate": enqueued.duplicate })),
        )
            .into_response()),
        Err(e) => {
            // Authentication refusals were logged with their real reason where they happened.
            if e.status().is_client_error() && e.status() != StatusCode::UNAUTHORIZED {
                log_refusal("ingress", &tenant, Some(&plugin), e.status(), e.message());
            }
            Err(e)
        }
    }
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
) -> Result<Enqueued, ApiError> {
    let inner = &host.inner;
    check_header_size(&headers, inner.config.max_ingress_header_bytes)?;
    let body = read_json_body(body, &headers, inner.config.max_ingress_body, "events").await?;
    let idempotency_key = header_text(&headers, IDEMPOTENCY_KEY)?;
    let subject = header_text(&headers, SUBJECT_HEADER)?;
    let refuse = |reason: &str| refused("ingress", tenant, plugin, reason);

    if inner.store.get_tenant(tenant).await?.is_none() {
        return Err(refuse("unknown tenant"));
    }
    let body_digest = hex::encode(Sha256::digest(&body));
    let dedupe_key = match &idempotency_key {
        Some(key) => format!("key:{key}"),
        None => format!("sha256:{body_digest}"),
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

    let request = checked
        .to_wit(dedupe_key.clone())
        .map_err(|e| ApiError::internal("vendor request", e))?;
    verify(inner, "ingress", tenant, plugin, request).await?;

    // What is stored leaves the credentials out; they are sealed with the event instead.
    let mut stored = checked;
    let sealed = stored.take_credentials(&inner.config.credential_headers);
    let payload = serde_json::to_value(&stored).map_err(|e| ApiError::internal("payload", e))?;
    let event = NewEvent {
        tenant_id: tenant.to_owned(),
        plugin_id: plugin.to_owned(),
        kind: kind::VENDOR.to_owned(),
        subject_key: subject.map_or_else(|| dedupe_key.clone(), |s| format!("subject:{s}")),
        payload,
        dedupe_key: Some(dedupe_key),
    };
    let window = i64::try_from(inner.config.vendor_replay_window.as_millis()).unwrap_or(i64::MAX);
    let enqueued = inner
        .store
        .enqueue_vendor_request(
            &event,
            VendorRequestGuard {
                digest: &body_digest,
                fresh_since: received_at.saturating_sub(window),
                sealed_headers: sealed.as_deref(),
            },
        )
        .await
        .map_err(|e| ApiError::unavailable("could not store the event", e))?;
    if enqueued.duplicate {
        tracing::info!(
            event_id = enqueued.id,
            "a request already accepted was sent again; not queued twice"
        );
    } else {
        inner.wake.notify_one();
    }
    Ok(enqueued)
}

/// The refusal of a request that could not be authenticated, with its real reason logged
/// (rate-limited) under `channel` (`ingress`, `query`).
pub(crate) fn refused(channel: &'static str, tenant: &str, plugin: &str, reason: &str) -> ApiError {
    log_refusal(
        channel,
        tenant,
        Some(plugin),
        StatusCode::UNAUTHORIZED,
        reason,
    );
    not_authenticated()
}

/// The plugin's `verify-vendor-request` of `request` for the tenant's installation: the
/// vendor's signature, with the installation's secret. It may only read config and log here
/// (the runtime enforces that). An installation that is missing or disabled and a signature
/// the plugin refuses (401/403) all get [`not_authenticated`]; another rejection keeps the
/// plugin's client-error status and message.
pub(crate) async fn verify(
    inner: &HostInner,
    channel: &'static str,
    tenant: &str,
    plugin: &str,
    request: VendorRequest,
) -> Result<(), ApiError> {
    let refuse = |reason: &str| refused(channel, tenant, plugin, reason);
    let prepared = match inner
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
                even_disabled: false,
            },
        )
        .await
    {
        Ok(prepared) => prepared,
        Err(TenancyError::NotInstalled { .. }) => return Err(refuse("plugin not installed")),
        Err(TenancyError::Disabled { .. }) => return Err(refuse("installation disabled")),
        Err(e @ TenancyError::PluginNotLoaded(_)) => {
            return Err(ApiError::unavailable(
                "the plugin is not loaded on this host",
                e,
            ));
        }
        Err(other) => {
            return Err(ApiError::unavailable(
                "could not load the installation",
                other,
            ));
        }
    };
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
        CallOutput::VendorRequestChecked(Ok(())) => Ok(()),
        CallOutput::VendorRequestChecked(Err(rejection))
            if rejection.status == 401 || rejection.status == 403 =>
        {
            Err(refuse(&format!(
                "the plugin refused the signature ({}): {}",
                rejection.status, rejection.message
            )))
        }
        CallOutput::VendorRequestChecked(Err(rejection)) => {
            // Only client errors: a plugin cannot make the host claim a server fault.
            let status = StatusCode::from_u16(rejection.status)
                .ok()
                .filter(StatusCode::is_client_error)
                .unwrap_or(StatusCode::BAD_REQUEST);
            Err(ApiError::new(
                status,
                "rejected_by_plugin",
                rejection.message,
            ))
        }
        other => Err(ApiError::internal(
            "verify-vendor-request",
            format!("unexpected output {other:?}"),
        )),
    }
}

/// Every [`PRUNE_EVERY`] until `shutdown`, deletes the Lever deliveries and vendor request
/// digests too old to matter: a Lever delivery older than its freshness window is refused as
/// stale anyway, a vendor digest older than the replay window no longer counts. A background
/// task of the host (not the request path), like the reaper and retention.
pub(crate) async fn replay_guard_pruning_loop(inner: Arc<HostInner>, shutdown: CancellationToken) {
    let config = &inner.config;
    let lever_keep = (config.lever_webhook_max_age + config.lever_webhook_clock_skew)
        .saturating_mul(2)
        .max(MIN_LEVER_RETENTION);
    let ms = |d: Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
    loop {
        tokio::select! {
            _ = tokio::time::sleep(PRUNE_EVERY) => {}
            _ = shutdown.cancelled() => return,
        }
        let now = now_ms();
        let lever_before = now.saturating_sub(ms(lever_keep));
        let vendor_before = now.saturating_sub(ms(config.vendor_replay_window));
        match inner
            .store
            .prune_replay_guards(lever_before, vendor_before)
            .await
        {
            Ok((0, 0)) => {}
            Ok((lever, vendor)) => {
                tracing::debug!(lever, vendor, "forgot expired replay guards")
            }
            Err(error) => tracing::warn!(%error, "could not delete expired replay guards"),
        }
    }
}

/// 431 when the request's headers (names and values) exceed `limit` bytes in all: they would
/// be stored with the event.
pub(crate) fn check_header_size(headers: &HeaderMap, limit: usize) -> Result<(), ApiError> {
    let total: usize = headers
        .iter()
        .map(|(name, value)| name.as_str().len() + value.len())
        .sum();
    if total <= limit {
        return Ok(());
    }
    Err(ApiError::new(
        StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE,
        "headers_too_large",
        format!(
            "the request's headers are {total} bytes; the ingress keeps at most {limit} bytes \
             of headers with an event: send fewer or shorter headers; nothing was stored"
        ),
    )
    .closing())
}

/// Most bytes read and thrown away to answer an oversize request on a connection that can be
/// kept alive; beyond it the connection is closed instead.
const DRAIN_CAP: usize = 16 * 1024 * 1024;

/// Why a body was not read.
enum BodyError {
    /// Larger than the limit; `drained`: the whole body was read (and dropped), so the
    /// connection stays usable.
    Oversize { drained: bool },
    /// No data arrived for the server's body timeout.
    Stalled,
    /// The body could not be read: malformed chunked encoding, the connection closed midway.
    Unreadable,
}

/// The body of a JSON request (vendor events, Lever webhooks; `what` names them in errors):
/// 413 when larger than `limit` bytes (closing the connection if it was not drained), 408 when
/// it stalls, 400 when it cannot be read (both closing the connection), 415 unless the content
/// type is JSON. Nothing has been stored when it refuses.
pub(crate) async fn read_json_body(
    body: Body,
    headers: &HeaderMap,
    limit: usize,
    what: &str,
) -> Result<Bytes, ApiError> {
    let body = read_body(body, limit, what).await?;
    check_content_type(headers, what)?;
    Ok(body)
}

/// The body of a request of any content type, refused as [`read_json_body`] refuses one
/// (413, 408, 400) when it is too large, stalls or cannot be read.
pub(crate) async fn read_body(body: Body, limit: usize, what: &str) -> Result<Bytes, ApiError> {
    let body = match read_limited(body, limit).await {
        Ok(bytes) => bytes,
        Err(BodyError::Oversize { drained }) => {
            let error = ApiError::new(
                StatusCode::PAYLOAD_TOO_LARGE,
                "payload_too_large",
                format!("the body is larger than {limit} bytes; send smaller {what}"),
            );
            return Err(if drained { error } else { error.closing() });
        }
        Err(BodyError::Stalled) => {
            return Err(ApiError::new(
                StatusCode::REQUEST_TIMEOUT,
                "request_timeout",
                "the request body stopped arriving; send it again in one go; nothing was stored",
            )
            .closing());
        }
        Err(BodyError::Unreadable) => {
            return Err(ApiError::bad_request(
                "the request body could not be read (malformed chunked encoding, or the \
                 connection ended before the body did); nothing was stored",
            )
            .closing());
        }
    };
    Ok(body)
}

/// The body if it fits in `limit` bytes. A larger one is read on (and discarded) up to
/// [`DRAIN_CAP`], so the client gets its 413 instead of a broken pipe mid-upload.
async fn read_limited(body: Body, limit: usize) -> Result<Bytes, BodyError> {
    use http_body_util::BodyExt as _;
    let mut body = body;
    let mut kept = bytes::BytesMut::new();
    let mut seen = 0usize;
    while let Some(frame) = body.frame().await {
        let frame = frame.map_err(|e| {
            if is_timeout(&*e.into_inner()) {
                BodyError::Stalled
            } else {
                BodyError::Unreadable
            }
        })?;
        let Ok(data) = frame.into_data() else {
            continue;
        };
        seen = seen.saturating_add(data.len());
        if seen > DRAIN_CAP {
            return Err(BodyError::Oversize { drained: false });
        }
        if seen <= limit {
            kept.extend_from_slice(&data);
        }
    }
    if seen > limit {
        Err(BodyError::Oversize { drained: true })
    } else {
        Ok(kept.freeze())
    }
}

/// Whether a body error is the server's body timeout (tower-http's), anywhere in its chain.
fn is_timeout(error: &(dyn std::error::Error + 'static)) -> bool {
    let mut current = Some(error);
    while let Some(e) = current {
        if e.is::<tower_http::timeout::TimeoutError>() {
            return true;
        }
        current = e.source();
    }
    false
}

fn check_content_type(headers: &HeaderMap, what: &str) -> Result<(), ApiError> {
    let content_type = headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("");
    if crate::media_type::is_json(headers) {
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

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn headers_over_the_cap_are_refused_with_431() {
        let mut headers = HeaderMap::new();
        headers.insert("x-junk", "a".repeat(100).parse().unwrap());
        assert!(check_header_size(&headers, 106).is_ok());
        let error = check_header_size(&headers, 105).unwrap_err();
        assert_eq!(error.status(), StatusCode::REQUEST_HEADER_FIELDS_TOO_LARGE);
    }

    #[tokio::test]
    async fn a_stalled_body_is_a_timeout_and_a_broken_one_is_unreadable() {
        let pending =
            Body::from_stream(futures::stream::pending::<Result<Bytes, std::io::Error>>());
        let stalled = Body::new(tower_http::timeout::TimeoutBody::new(
            Duration::from_millis(20),
            pending,
        ));
        assert!(matches!(
            read_limited(stalled, 100).await,
            Err(BodyError::Stalled)
        ));
        let broken = Body::from_stream(futures::stream::iter(vec![
            Ok(Bytes::from_static(b"{")),
            Err(std::io::Error::other("bad chunk")),
        ]));
        assert!(matches!(
            read_limited(broken, 100).await,
            Err(BodyError::Unreadable)
        ));
    }
}
