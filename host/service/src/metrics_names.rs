//! Names of the metrics the host records (through the `metrics` facade; `fulcrum serve`
//! installs the Prometheus exporter).

/// Events finished per attempt; labels `tenant`, `plugin`, `outcome` (done, retrying, dead).
pub const EVENTS_TOTAL: &str = "fulcrum_events_total";
/// Time to handle one event attempt, queue-side included; label `plugin`.
pub const EVENT_SECONDS: &str = "fulcrum_event_seconds";
/// Time inside the plugin invocation; labels `plugin`, `kind`.
pub const INVOCATION_SECONDS: &str = "fulcrum_invocation_seconds";
/// Invocations stopped by a CPU or memory limit; label `plugin`.
pub const LIMIT_KILLS_TOTAL: &str = "fulcrum_limit_kills_total";
/// Vendor requests at the ingress; labels `plugin`, `outcome` (accepted, rejected, error).
pub const INGRESS_TOTAL: &str = "fulcrum_ingress_requests_total";
/// Schedule runs fired by this node; label `plugin`.
pub const SCHEDULE_FIRES_TOTAL: &str = "fulcrum_schedule_fires_total";
