//! Names of the metrics this crate emits through the [`metrics`] facade. Nothing is exported
//! from here: the host installs a recorder (e.g. a Prometheus exporter) and may call
//! [`describe`] once to give the metrics units and help texts. Without a recorder, emitting is
//! a no-op.
//!
//! | name | kind | labels |
//! |---|---|---|
//! | [`RATE_WAIT_SECONDS`] | histogram (seconds) | `lane` |
//! | [`REQUESTS_TOTAL`] | counter | `lane`, `operation`, `status` |
//! | [`RATE_WAITERS`] | gauge | `lane` |

/// Histogram: time one attempt waited for its credential's local rate budget, in seconds
/// (0 when the budget had room). Recorded once per attempt, retries included.
pub const RATE_WAIT_SECONDS: &str = "fulcrum_lever_rate_wait_seconds";

/// Counter: attempts sent to Lever, retries included. `status` is the HTTP status
/// (`"200"`, `"429"`, ...) or `"error"` when no status came back (connect failure, timeout,
/// broken connection). An attempt that fails before anything is sent (e.g. a file whose form
/// cannot be built) is not counted.
pub const REQUESTS_TOTAL: &str = "fulcrum_lever_requests_total";

/// Gauge: requests currently queued for a rate budget (i.e. that found it exhausted or found
/// others already waiting). Requests that pass straight through are never counted.
pub const RATE_WAITERS: &str = "fulcrum_lever_rate_waiters";

/// Label: the client's lane (see `LeverClient::for_lane`); `"default"` for a plain client.
pub const LABEL_LANE: &str = "lane";

/// Label: the operation, as `Operation::label()` (e.g. `"GET /opportunities"`).
pub const LABEL_OPERATION: &str = "operation";

/// Label: the HTTP status or `"error"`.
pub const LABEL_STATUS: &str = "status";

/// The value of [`LABEL_STATUS`] for an attempt that got no HTTP status.
pub const STATUS_ERROR: &str = "error";

/// Registers units and help texts for the metrics above with the installed recorder. Call it
/// after installing the recorder; calling it more than once is harmless.
pub fn describe() {
    metrics::describe_histogram!(
        RATE_WAIT_SECONDS,
        metrics::Unit::Seconds,
        "Time a Lever request attempt waited for its credential's local rate budget."
    );
    metrics::describe_counter!(
        REQUESTS_TOTAL,
        "Lever request attempts sent, by lane, operation and HTTP status (or \"error\")."
    );
    metrics::describe_gauge!(
        RATE_WAITERS,
        "Lever requests currently queued for their credential's rate budget, by lane."
    );
}
