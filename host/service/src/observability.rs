//! Prometheus metrics: [`install_recorder`] installs one process-global recorder (the
//! `metrics` facade allows only one) and `GET /metrics` renders it in the text exposition
//! format: on the main listener only with the operator's metrics token
//! ([`crate::HostConfig::metrics_token`]), or without one on a separate, private listener
//! serving [`metrics_app`]. Metric names: [`crate::metrics_names`] and
//! `lever_client::metrics_names`.
//!
//! Also the log of refused ingress requests ([`log_refusal`]), rate-limited so a flood of
//! bad requests cannot flood the log.

use crate::{ApiError, Host};
use axum::Router;
use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use axum::routing::get;
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use secrecy::ExposeSecret as _;
use sha2::{Digest as _, Sha256};
use std::sync::OnceLock;
use std::time::{Duration, Instant};

/// The Prometheus text format's content type.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4";

/// Histogram buckets, in seconds (every histogram the host and lever-client record is a
/// duration): from a fast host call to the wall-clock limit of a long invocation.
const BUCKETS: &[f64] = &[
    0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0,
];

/// How often histogram samples are folded into the buckets even when nobody scrapes, so
/// they do not pile up in memory.
const UPKEEP_EVERY: Duration = Duration::from_secs(5);

struct Recorder {
    handle: PrometheusHandle,
    /// False when another recorder was installed first: `handle` then sees nothing.
    installed: bool,
}

static RECORDER: OnceLock<Recorder> = OnceLock::new();

/// Installs the Prometheus recorder for the whole process (once; later calls return the same
/// handle) and describes every metric. If some other recorder was installed first, logs a
/// warning and returns a handle that stays empty; `/metrics` then answers 503.
pub fn install_recorder() -> PrometheusHandle {
    RECORDER
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets(BUCKETS)
                .expect("the bucket list is not empty");
            let recorder = builder.build_recorder();
            let handle = recorder.handle();
            let installed = match metrics::set_global_recorder(recorder) {
                Ok(()) => true,
                Err(e) => {
                    tracing::warn!(error = %e, "another metrics recorder is installed; /metrics stays empty");
                    false
                }
            };
            if installed {
                crate::metrics_names::describe();
                lever_client::metrics_names::describe();
                let upkeep = handle.clone();
                let spawned = std::thread::Builder::new()
                    .name("metrics-upkeep".into())
                    .spawn(move || {
                        loop {
                            std::thread::sleep(UPKEEP_EVERY);
                            upkeep.run_upkeep();
                        }
                    });
                if let Err(e) = spawned {
                    // Rendering runs upkeep too, so scrapes still see every sample.
                    tracing::warn!(error = %e, "could not start the metrics upkeep thread");
                }
            }
            Recorder { handle, installed }
        })
        .handle
        .clone()
}

/// The router of a metrics-only listener: `GET /metrics` without a token. Serve it on an
/// address only the monitoring system reaches (`fulcrum serve --metrics-listen`).
pub fn metrics_app() -> Router {
    Router::new()
        .route("/metrics", get(metrics))
        .fallback(|| async { crate::no_such_route() })
}

/// `GET /metrics` on the main listener: only with `Authorization: Bearer <metrics token>`;
/// not served at all (the same 404 as any unknown route) when no token is configured.
pub(crate) async fn metrics_with_token(
    State(host): State<Host>,
    headers: HeaderMap,
) -> Result<Response, ApiError> {
    let Some(expected) = &host.config().metrics_token else {
        return Err(crate::no_such_route());
    };
    let given = headers
        .get(header::AUTHORIZATION)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::trim);
    // Digests compared, so the time taken says nothing about how much of the token matched.
    let matches = given.is_some_and(|given| {
        Sha256::digest(given.as_bytes()) == Sha256::digest(expected.expose_secret().as_bytes())
    });
    if !matches {
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "GET /metrics needs Authorization: Bearer <the metrics token the operator set with \
             --metrics-token>",
        ));
    }
    metrics().await
}

/// `GET /metrics`: the Prometheus text exposition of every metric recorded so far.
pub(crate) async fn metrics() -> Result<Response, ApiError> {
    let Some(recorder) = RECORDER.get().filter(|r| r.installed) else {
        return Err(ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "metrics_disabled",
            "no Prometheus recorder is installed in this process; `fulcrum serve` installs one \
             (embedders call fulcrum_service::observability::install_recorder at start)",
        ));
    };
    recorder.handle.run_upkeep();
    Ok((
        [(header::CONTENT_TYPE, CONTENT_TYPE)],
        recorder.handle.render(),
    )
        .into_response())
}

/// Refusals logged per window; the rest are counted and summed up in one line.
const REFUSALS_PER_WINDOW: u32 = 20;
const REFUSAL_WINDOW: Duration = Duration::from_secs(10);
/// Longest caller-chosen text (tenant, plugin, a plugin's message) put in a log line.
const MAX_LOGGED_CHARS: usize = 160;

struct RefusalWindow {
    started: Instant,
    logged: u32,
    suppressed: u64,
}

static REFUSALS: parking_lot::Mutex<Option<RefusalWindow>> = parking_lot::const_mutex(None);

/// Logs a refused ingress or Lever webhook request at `warn`: the route, the tenant and plugin
/// of its URL, the answer's status and the real reason (which the caller may not have been
/// told). At most [`REFUSALS_PER_WINDOW`] lines per 10 s in the whole process; the others are
/// counted and reported as one line when the next window opens. Never pass secrets, headers
/// or bodies: caller-chosen text is clipped and logged escaped.
pub(crate) fn log_refusal(
    route: &'static str,
    tenant: &str,
    plugin: Option<&str>,
    status: StatusCode,
    reason: &str,
) {
    let (log, suppressed) = {
        let mut window = REFUSALS.lock();
        let now = Instant::now();
        let mut suppressed = 0;
        let current = match &mut *window {
            Some(w) if now.duration_since(w.started) < REFUSAL_WINDOW => w,
            other => {
                suppressed = other.as_ref().map_or(0, |w| w.suppressed);
                other.insert(RefusalWindow {
                    started: now,
                    logged: 0,
                    suppressed: 0,
                })
            }
        };
        let log = current.logged < REFUSALS_PER_WINDOW;
        if log {
            current.logged += 1;
        } else {
            current.suppressed += 1;
        }
        (log, suppressed)
    };
    if suppressed > 0 {
        tracing::warn!(
            suppressed,
            "{suppressed} more refused requests were not logged in the previous window (rate limit)"
        );
    }
    if !log {
        return;
    }
    let (tenant, plugin, status, reason) = (
        clip(tenant),
        plugin.map(clip),
        status.as_u16(),
        clip(reason),
    );
    if route == "lever_webhook" {
        tracing::warn!(route, tenant = ?tenant, status, reason = ?reason, "Lever webhook refused");
    } else {
        tracing::warn!(
            route,
            tenant = ?tenant,
            plugin = ?plugin,
            status,
            reason = ?reason,
            "vendor request refused"
        );
    }
}

fn clip(text: &str) -> &str {
    match text.char_indices().nth(MAX_LOGGED_CHARS) {
        Some((at, _)) => &text[..at],
        None => text,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn logged_text_is_clipped() {
        assert_eq!(clip("short"), "short");
        let long = "é".repeat(500);
        assert_eq!(clip(&long).chars().count(), MAX_LOGGED_CHARS);
        // A burst of refusals does not panic or block; most are only counted.
        for _ in 0..(REFUSALS_PER_WINDOW * 3) {
            log_refusal("test", "t", None, StatusCode::UNAUTHORIZED, "bad signature");
        }
        let window = REFUSALS.lock();
        assert!(window.as_ref().is_some_and(|w| w.suppressed > 0));
    }

    // No unit test of this crate installs the recorder (it is process-global), so here it is
    // absent and the endpoint must say so rather than serve an empty page.
    #[tokio::test]
    async fn without_a_recorder_the_endpoint_says_so() {
        let error = metrics().await.unwrap_err();
        assert_eq!(error.status(), StatusCode::SERVICE_UNAVAILABLE);
    }
}
