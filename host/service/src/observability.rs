//! Prometheus metrics: [`install_recorder`] installs one process-global recorder (the
//! `metrics` facade allows only one) and `GET /metrics` renders it in the text exposition
//! format. Metric names: [`crate::metrics_names`] and `lever_client::metrics_names`.

use crate::ApiError;
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};
use metrics_exporter_prometheus::{PrometheusBuilder, PrometheusHandle};
use std::sync::OnceLock;
use std::time::Duration;

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

#[cfg(test)]
mod tests {
    use super::*;

    // No unit test of this crate installs the recorder (it is process-global), so here it is
    // absent and the endpoint must say so rather than serve an empty page.
    #[tokio::test]
    async fn without_a_recorder_the_endpoint_says_so() {
        let error = metrics().await.unwrap_err();
        assert_eq!(error.status(), StatusCode::SERVICE_UNAVAILABLE);
    }
}
