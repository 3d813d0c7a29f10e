//! Synchronous vendor queries: `ANY /ingress/{tenant}/{installation}/query[/{path}]`.
//!
//! The vendor asks and waits: the request is resolved and verified exactly as at the ingress
//! (same refusals: an unknown tenant or installation, a disabled one and a bad signature all
//! get the same `401`), then the plugin's `handle-vendor-query` answers it at once under a
//! short wall clock (`HostConfig::vendor_query_wall_clock`), with Lever read-only (the runtime
//! refuses writes as `forbidden`). Nothing is stored as an event: a query is a read. Its state
//! writes, if the plugin makes any, are thrown away for the same reason. Each query leaves
//! one audit row with its outcome (plus the rows of the Lever and vendor calls it made) and
//! is metered (`fulcrum_vendor_queries_total`, `fulcrum_vendor_query_seconds`). The Lever
//! client of the installation's connection keeps to its rate budget as for events.

use axum::Router;
use axum::body::Body;
use axum::extract::{Path, RawQuery, State};
use axum::http::{HeaderMap, HeaderName, HeaderValue, Method, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::any;
use fulcrum_runtime::bindings::QueryResponse;
use fulcrum_runtime::{Call, CallOutput, InvocationError, PluginError};
use fulcrum_store::{NewAuditEntry, now_ms};
use std::sync::Arc;
use std::time::Instant;

use crate::api_error::ApiError;
use crate::audit_trail::InvocationAudit;
use crate::event_payload::StoredVendorRequest;
use crate::ingress::{check_header_size, read_body, refused, verify};
use crate::observability::log_refusal;
use crate::staged_state::StagedState;
use crate::tenancy::{Handles, TenancyError};
use crate::{Host, metrics_names as m};

/// The metric label of a query whose installation was not resolved.
const OTHER_PLUGIN: &str = "other";

pub fn router() -> Router<Host> {
    Router::new()
        .route("/ingress/{tenant}/{installation}/query", any(query_root))
        .route("/ingress/{tenant}/{installation}/query/{*path}", any(query))
}

/// A query as the vendor sent it.
struct Asked {
    tenant: String,
    installation: String,
    /// Below `/query`, with its leading `/`.
    path: String,
    query: String,
    method: Method,
    headers: HeaderMap,
}

async fn query_root(
    State(host): State<Host>,
    Path((tenant, installation)): Path<(String, String)>,
    RawQuery(query): RawQuery,
    method: Method,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let asked = Asked {
        tenant,
        installation,
        path: "/".into(),
        query: query.unwrap_or_default(),
        method,
        headers,
    };
    answer(host, asked, body).await
}

async fn query(
    State(host): State<Host>,
    Path((tenant, installation, path)): Path<(String, String, String)>,
    RawQuery(query): RawQuery,
    method: Method,
    headers: HeaderMap,
    body: Body,
) -> Response {
    let asked = Asked {
        tenant,
        installation,
        path: format!("/{path}"),
        query: query.unwrap_or_default(),
        method,
        headers,
    };
    answer(host, asked, body).await
}

/// How a query ended, for its metric and audit row.
struct Ended {
    /// The installation's plugin, once resolved (a bounded metric label).
    plugin: Option<String>,
    outcome: &'static str,
}

async fn answer(host: Host, asked: Asked, body: Body) -> Response {
    let started = Instant::now();
    let span = tracing::info_span!("vendor_query", tenant = %asked.tenant,
        installation = %asked.installation, method = %asked.method);
    let mut ended = Ended {
        plugin: None,
        outcome: "error",
    };
    let result = tracing::Instrument::instrument(run(&host, &asked, body, &mut ended), span).await;
    let label = ended.plugin.unwrap_or_else(|| OTHER_PLUGIN.to_owned());
    let outcome = match &result {
        Ok(_) => ended.outcome,
        Err(e) if e.status() == StatusCode::UNAUTHORIZED => "unauthorized",
        Err(_) if ended.outcome != "error" => ended.outcome,
        Err(e) if e.status().is_client_error() => "rejected",
        Err(_) => "error",
    };
    metrics::counter!(m::VENDOR_QUERIES_TOTAL, "plugin" => label.clone(), "outcome" => outcome)
        .increment(1);
    metrics::histogram!(m::VENDOR_QUERY_SECONDS, "plugin" => label)
        .record(started.elapsed().as_secs_f64());
    match result {
        Ok(response) => response,
        Err(e) => {
            // Authentication refusals were logged with their real reason where they happened.
            if e.status().is_client_error() && e.status() != StatusCode::UNAUTHORIZED {
                log_refusal(
                    "query",
                    &asked.tenant,
                    Some(&asked.installation),
                    e.status(),
                    e.message(),
                );
            }
            e.into_response()
        }
    }
}

async fn run(
    host: &Host,
    asked: &Asked,
    body: Body,
    ended: &mut Ended,
) -> Result<Response, ApiError> {
    let inner = &host.inner;
    let (tenant, installation) = (asked.tenant.as_str(), asked.installation.as_str());
    check_header_size(&asked.headers, inner.config.max_ingress_header_bytes)?;
    let body = read_body(body, inner.config.max_ingress_body, "queries").await?;
    if inner.store.get_tenant(tenant).await?.is_none() {
        return Err(refused("query", tenant, installation, "unknown tenant"));
    }
    let header_pairs: Vec<(String, String)> = asked
        .headers
        .iter()
        .filter_map(|(name, value)| {
            Some((name.as_str().to_owned(), value.to_str().ok()?.to_owned()))
        })
        .collect();
    let request = StoredVendorRequest::new(
        asked.method.as_str(),
        &asked.path,
        &asked.query,
        header_pairs,
        &body,
        now_ms(),
    )
    .to_wit(format!("qry-{:016x}", rand::random::<u64>()))
    .map_err(|e| ApiError::internal("vendor query", e))?;
    verify(inner, "query", tenant, installation, request.clone()).await?;

    // Verified: from here on the caller may learn what the installation does not offer.
    let state = Arc::new(StagedState::new(inner.store.clone()));
    let audit = Arc::new(InvocationAudit::for_event(None));
    let handles = |lever: bool| Handles {
        state: state.clone(),
        audit: audit.clone(),
        journal: None,
        event_id: Some(request.id.clone()),
        lever,
        even_disabled: false,
    };
    let tenancy = &inner.tenancy;
    let prepared = match tenancy
        .prepare(&inner.runtime, tenant, installation, handles(true))
        .await
    {
        // Not connected to Lever: the plugin may still answer from the vendor's side.
        Err(TenancyError::NoCredential(_)) => {
            tenancy
                .prepare(&inner.runtime, tenant, installation, handles(false))
                .await
        }
        prepared => prepared,
    }
    .map_err(|e| match e {
        TenancyError::NotInstalled { .. } | TenancyError::Disabled { .. } => refused(
            "query",
            tenant,
            installation,
            "installation gone or disabled",
        ),
        e @ TenancyError::ReconnectNeeded { .. } => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "lever_reconnect_needed",
            format!(
                "the installation cannot reach Lever until a tenant admin reconnects it; ask \
                 them, then retry ({e})"
            ),
        ),
        other => ApiError::unavailable("could not load the installation", other),
    })?;
    let plugin_id = prepared.plugin.id().to_owned();
    ended.plugin = Some(plugin_id.clone());
    if !prepared.plugin.manifest().vendor_queries {
        ended.outcome = "not_offered";
        return Err(ApiError::not_found(format!(
            "installation {installation:?} does not answer vendor queries (its plugin \
             {plugin_id:?}, version {}, does not offer them); send events to \
             /ingress/{tenant}/{installation}/... instead",
            prepared.plugin.version()
        )));
    }
    let wall_clock = inner.config.vendor_query_wall_clock;
    let ctx = prepared.ctx.with_wall_clock(wall_clock);
    let operation = format!("vendor query {} {}", asked.method, asked.path);
    let invoked = Instant::now();
    let result = inner
        .runtime
        .invoke(&prepared.plugin, ctx, Call::VendorQuery(request))
        .await;
    let elapsed = invoked.elapsed();
    metrics::histogram!(m::INVOCATION_SECONDS,
        "plugin" => plugin_id.clone(), "call" => "handle-vendor-query")
    .record(elapsed.as_secs_f64());
    if let Err(e) = &result
        && let Some(limit) = crate::pipeline::limit_hit(e)
    {
        metrics::counter!(m::LIMIT_KILLS_TOTAL, "plugin" => plugin_id.clone(), "limit" => limit)
            .increment(1);
    }
    let (response, outcome, status, error) = match result {
        Ok(CallOutput::QueryAnswered(Ok(answer))) => match into_response(answer) {
            Ok(response) => {
                let status = response.status();
                (Ok(response), "answered", status, None)
            }
            Err(e) => (Err(e), "bad_answer", StatusCode::BAD_GATEWAY, None),
        },
        Ok(CallOutput::QueryAnswered(Err(e))) => {
            let error = plugin_error(&e);
            let status = error.status();
            let mut response = error.into_response();
            if let PluginError::RateLimited(Some(ms)) = e {
                let seconds = ms.div_ceil(1000).max(1);
                response
                    .headers_mut()
                    .insert(header::RETRY_AFTER, HeaderValue::from(seconds));
            }
            (
                Ok(response),
                "plugin_error",
                status,
                Some(fulcrum_runtime::describe_error(&e)),
            )
        }
        Ok(other) => (
            Err(ApiError::internal(
                "handle-vendor-query",
                format!("unexpected output {other:?}"),
            )),
            "error",
            StatusCode::INTERNAL_SERVER_ERROR,
            None,
        ),
        Err(e) => {
            let (error, outcome) = invocation_failed(&e);
            let status = error.status();
            (Err(error), outcome, status, Some(e.to_string()))
        }
    };
    ended.outcome = outcome;
    let mut entries = audit.take();
    entries.push(NewAuditEntry {
        tenant_id: tenant.to_owned(),
        plugin_id: Some(installation.to_owned()),
        event_id: None,
        operation,
        permission: None,
        outcome: outcome.to_owned(),
        detail: Some(
            serde_json::json!({
                "capability": "vendor-query",
                "plugin": plugin_id,
                "plugin_version": prepared.plugin.version().to_string(),
                "status": status.as_u16(),
                "duration_ms": elapsed.as_secs_f64() * 1000.0,
                "reason": error,
            })
            .to_string(),
        ),
    });
    if let Err(e) = inner.store.audit_append_many(&entries).await {
        tracing::warn!(error = %e, lost = entries.len(), "could not write the audit trail of a vendor query");
    }
    response
}

/// Headers that belong to one connection, not to the answer: the host's server sets its own.
const HOP_BY_HOP: &[&str] = &[
    "connection",
    "keep-alive",
    "proxy-authenticate",
    "proxy-authorization",
    "proxy-connection",
    "te",
    "trailer",
    "transfer-encoding",
    "upgrade",
    "content-length",
];

/// The plugin's answer as the vendor gets it: its status, its headers but hop-by-hop ones,
/// its body. A status that is not a final HTTP status is the plugin's fault: 502.
fn into_response(answer: QueryResponse) -> Result<Response, ApiError> {
    let status = StatusCode::from_u16(answer.status)
        .ok()
        .filter(|s| (200..=599).contains(&s.as_u16()))
        .ok_or_else(|| {
            tracing::warn!(
                status = answer.status,
                "a plugin answered a vendor query with an invalid status"
            );
            ApiError::new(
                StatusCode::BAD_GATEWAY,
                "bad_plugin_answer",
                format!(
                    "the plugin answered with HTTP status {}, which is not a final status; \
                     the plugin's maintainer must fix it",
                    answer.status
                ),
            )
        })?;
    let mut headers = HeaderMap::new();
    for h in answer.headers {
        let name = h.name.to_ascii_lowercase();
        if HOP_BY_HOP.contains(&name.as_str()) {
            continue;
        }
        match (
            HeaderName::from_bytes(name.as_bytes()),
            HeaderValue::from_str(&h.value),
        ) {
            (Ok(name), Ok(value)) => {
                headers.append(name, value);
            }
            _ => {
                tracing::debug!(header = %h.name, "dropped a malformed header of a query's answer")
            }
        }
    }
    Ok((status, headers, answer.body).into_response())
}

/// A plugin's typed error as the vendor gets it: the status of its kind and its message.
fn plugin_error(e: &PluginError) -> ApiError {
    let described = fulcrum_runtime::describe_error(e);
    let (status, code) = match e {
        PluginError::Forbidden(_) => (StatusCode::FORBIDDEN, "forbidden"),
        PluginError::NotFound(_) => (StatusCode::NOT_FOUND, "not_found"),
        PluginError::Invalid(_) => (StatusCode::BAD_REQUEST, "invalid"),
        PluginError::RateLimited(_) => (StatusCode::TOO_MANY_REQUESTS, "rate_limited"),
        PluginError::Unavailable(_) => (StatusCode::SERVICE_UNAVAILABLE, "unavailable"),
        PluginError::LimitExceeded(_) => (StatusCode::SERVICE_UNAVAILABLE, "limit_exceeded"),
        PluginError::VendorError(_) => (StatusCode::BAD_GATEWAY, "vendor_error"),
    };
    ApiError::new(status, code, format!("the plugin answered {described}"))
}

/// An invocation that ended without an answer: 504 for the wall clock, 502 otherwise. The
/// detail (a trap's backtrace) goes to the log, not to the vendor.
fn invocation_failed(e: &InvocationError) -> (ApiError, &'static str) {
    if let InvocationError::WallClockTimeout { limit } = e {
        let error = ApiError::new(
            StatusCode::GATEWAY_TIMEOUT,
            "query_timeout",
            format!(
                "the plugin did not answer within {} ms and was stopped; retry later, and if \
                 it keeps happening ask the plugin's maintainer to make this query cheaper \
                 (long work belongs in an event sent to the ingress)",
                limit.as_millis()
            ),
        );
        return (error, "timeout");
    }
    tracing::warn!(error = %e, "a vendor query's invocation failed");
    let error = ApiError::new(
        StatusCode::BAD_GATEWAY,
        "plugin_failed",
        "the plugin failed while answering (the host's operator can see why in the log); \
         retry later, and if it keeps failing tell the plugin's maintainer",
    );
    (error, "failed")
}

#[cfg(test)]
mod tests {
    use super::*;
    use fulcrum_runtime::bindings::Header;

    #[test]
    fn each_plugin_error_kind_has_its_status() {
        for (error, status) in [
            (PluginError::Forbidden("create opportunity".into()), 403),
            (PluginError::NotFound("x".into()), 404),
            (PluginError::Invalid("x".into()), 400),
            (PluginError::RateLimited(Some(1500)), 429),
            (PluginError::Unavailable("x".into()), 503),
            (PluginError::LimitExceeded("x".into()), 503),
            (PluginError::VendorError("x".into()), 502),
        ] {
            assert_eq!(plugin_error(&error).status().as_u16(), status, "{error:?}");
        }
        let forbidden = plugin_error(&PluginError::Forbidden("create opportunity".into()));
        assert_eq!(forbidden.code(), "forbidden");
        assert!(forbidden.message().contains("create opportunity"));
    }

    #[test]
    fn the_answer_keeps_its_headers_but_hop_by_hop_ones() {
        let header = |name: &str, value: &str| Header {
            name: name.into(),
            value: value.into(),
        };
        let response = into_response(QueryResponse {
            status: 201,
            headers: vec![
                header("Content-Type", "application/json"),
                header("Connection", "close"),
                header("transfer-encoding", "chunked"),
                header("x-vendor", "yes"),
                header("bad header", "x"),
            ],
            body: b"{}".to_vec(),
        })
        .unwrap();
        assert_eq!(response.status(), StatusCode::CREATED);
        let headers = response.headers();
        assert_eq!(headers["content-type"], "application/json");
        assert_eq!(headers["x-vendor"], "yes");
        assert!(headers.get("connection").is_none());
        assert!(headers.get("transfer-encoding").is_none());

        for status in [0, 101, 600, 999] {
            let refused = into_response(QueryResponse {
                status,
                headers: vec![],
                body: vec![],
            })
            .unwrap_err();
            assert_eq!(refused.status(), StatusCode::BAD_GATEWAY, "{status}");
        }
    }

    #[test]
    fn a_timeout_is_a_504_and_other_failures_a_502() {
        let (error, outcome) = invocation_failed(&InvocationError::WallClockTimeout {
            limit: std::time::Duration::from_secs(5),
        });
        assert_eq!((error.status().as_u16(), outcome), (504, "timeout"));
        assert!(error.message().contains("5000 ms"));
        let (error, outcome) = invocation_failed(&InvocationError::Trapped {
            message: "wasm backtrace: secret internals".into(),
        });
        assert_eq!((error.status().as_u16(), outcome), (502, "failed"));
        assert!(
            !error.message().contains("internals"),
            "details stay in the log"
        );
    }
}
