//! Names of the metrics the host records (through the `metrics` facade; `fulcrum serve`
//! installs the Prometheus exporter, see [`crate::observability`]). Lever calls
//! (`fulcrum_lever_requests_total{lane,operation,status}`, the lane being the plugin) and
//! rate-limit waits are recorded by `lever-client`: see `lever_client::metrics_names`.
//!
//! Labels never carry secrets, bodies or ids chosen by unauthenticated callers beyond the
//! tenant and plugin of the URL.

/// Counter: events finished per attempt; labels `tenant`, `plugin`, `outcome` (done,
/// retrying, dead).
pub const EVENTS_TOTAL: &str = "fulcrum_events_total";
/// Histogram: time to handle one event attempt, queue-side included; label `plugin`.
pub const EVENT_SECONDS: &str = "fulcrum_event_seconds";
/// Histogram: time inside the plugin invocation; labels `plugin`, `call` (the WIT export:
/// `handle-lever-event`, `handle-vendor-event`, `run-schedule`, `run-action`).
pub const INVOCATION_SECONDS: &str = "fulcrum_invocation_seconds";
/// Counter: invocations stopped by one of the runtime's limits; labels `plugin`, `limit`
/// (`cpu`, `memory`, `wall_clock`, `table`, `stack`).
pub const LIMIT_KILLS_TOTAL: &str = "fulcrum_limit_kills_total";
/// Counter: vendor requests at the ingress; labels `plugin`, `outcome` (accepted, rejected,
/// error).
pub const INGRESS_TOTAL: &str = "fulcrum_ingress_requests_total";
/// Counter: Lever webhook deliveries; label `outcome` (accepted, duplicate, ignored — no
/// plugin subscribed —, unauthorized, rejected, error).
pub const LEVER_WEBHOOKS_TOTAL: &str = "fulcrum_lever_webhooks_total";
/// Counter: schedule runs fired by this node; label `plugin`.
pub const SCHEDULE_FIRES_TOTAL: &str = "fulcrum_schedule_fires_total";

/// Registers units and help texts with the installed recorder; harmless to call twice.
pub fn describe() {
    use metrics::{Unit, describe_counter, describe_histogram};
    describe_counter!(
        EVENTS_TOTAL,
        "Event attempts finished, by tenant, plugin and outcome (done, retrying, dead)."
    );
    describe_histogram!(
        EVENT_SECONDS,
        Unit::Seconds,
        "Time to handle one event attempt, queue work included, by plugin."
    );
    describe_histogram!(
        INVOCATION_SECONDS,
        Unit::Seconds,
        "Time inside one plugin invocation, by plugin and call (WIT export)."
    );
    describe_counter!(
        LIMIT_KILLS_TOTAL,
        "Plugin invocations stopped by a runtime limit, by plugin and limit (cpu, memory, wall_clock, table, stack)."
    );
    describe_counter!(
        INGRESS_TOTAL,
        "Vendor requests at the ingress, by plugin and outcome (accepted, rejected, error)."
    );
    describe_counter!(
        LEVER_WEBHOOKS_TOTAL,
        "Lever webhook deliveries, by outcome (accepted, duplicate, ignored, unauthorized, rejected, error)."
    );
    describe_counter!(
        SCHEDULE_FIRES_TOTAL,
        "Schedule runs fired by this node, by plugin."
    );
}
