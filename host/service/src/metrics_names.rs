//! Names of the metrics the host records (through the `metrics` facade; `fulcrum serve`
//! installs the Prometheus exporter, see [`crate::observability`]). Lever calls
//! (`fulcrum_lever_requests_total{lane,operation,status}`, the lane being the plugin) and
//! rate-limit waits are recorded by `lever-client`: see `lever_client::metrics_names`.
//!
//! Every label is bounded: its values are a fixed list, or ids of tenants and plugins this
//! host has (never a value taken from an unauthenticated request's URL as it came). Labels
//! never carry secrets or bodies. The tenant label makes `/metrics` tenant-identifying, which
//! is why it is served only with the metrics token or on a private listener.

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
/// Counter: vendor requests at the ingress; labels `plugin` (a plugin loaded on this host, else
/// `other`: the URL's plugin is caller-chosen), `outcome` (accepted, duplicate, unauthorized —
/// unknown tenant or plugin, disabled installation or bad signature, alike —, rejected, error).
pub const INGRESS_TOTAL: &str = "fulcrum_ingress_requests_total";
/// Counter: synchronous vendor queries; labels `plugin` (the installation's plugin once
/// resolved, else `other`), `outcome` (answered — whatever status the plugin chose —,
/// plugin_error, timeout, failed, bad_answer, not_offered, unauthorized, rejected, error).
pub const VENDOR_QUERIES_TOTAL: &str = "fulcrum_vendor_queries_total";
/// Histogram: time to answer a vendor query, verification included; label `plugin`.
pub const VENDOR_QUERY_SECONDS: &str = "fulcrum_vendor_query_seconds";
/// Counter: Lever webhook deliveries; label `outcome` (accepted, duplicate, ignored — no
/// plugin subscribed —, unauthorized, stale — `triggeredAt` outside the window —, rejected,
/// error).
pub const LEVER_WEBHOOKS_TOTAL: &str = "fulcrum_lever_webhooks_total";
/// Counter: schedule runs fired by this node; label `plugin`.
pub const SCHEDULE_FIRES_TOTAL: &str = "fulcrum_schedule_fires_total";
/// Counter: due schedule slots folded into a run of the schedule still queued (nothing new
/// queued); label `plugin`.
pub const SCHEDULE_RUNS_COALESCED_TOTAL: &str = "fulcrum_schedule_runs_coalesced_total";
/// Counter: events this node's workers gave up because their claim was lost (the lease ran
/// out and the event went to another worker); label `plugin`.
pub const CLAIMS_LOST_TOTAL: &str = "fulcrum_claims_lost_total";
/// Gauge: dead letters that hold back later events of their subject; labels `tenant`,
/// `plugin`. Replay (or resolve) them: nothing behind them runs until then.
pub const DEAD_LETTERS_BLOCKING: &str = "fulcrum_dead_letters_blocking";
/// Gauge: queued events waiting behind those dead letters; labels `tenant`, `plugin`.
pub const EVENTS_BLOCKED: &str = "fulcrum_events_blocked";
/// Counter: rows deleted by retention; label `table` (`events`, `effect_journal`,
/// `audit_log`).
pub const RETENTION_DELETED_TOTAL: &str = "fulcrum_retention_deleted_total";

/// Registers units and help texts with the installed recorder; harmless to call twice.
pub fn describe() {
    use metrics::{Unit, describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        EVENTS_TOTAL,
        "Event attempts finished, by tenant, plugin and outcome (done, retrying, dead)."
    );
    describe_counter!(
        VENDOR_QUERIES_TOTAL,
        "Synchronous vendor queries, by plugin and outcome."
    );
    describe_histogram!(
        VENDOR_QUERY_SECONDS,
        Unit::Seconds,
        "Time to answer a vendor query, verification included, by plugin."
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
        "Vendor requests at the ingress, by plugin (loaded plugins; other) and outcome (accepted, duplicate, unauthorized, rejected, error)."
    );
    describe_counter!(
        LEVER_WEBHOOKS_TOTAL,
        "Lever webhook deliveries, by outcome (accepted, duplicate, ignored, unauthorized, stale, rejected, error)."
    );
    describe_counter!(
        RETENTION_DELETED_TOTAL,
        "Rows deleted by retention for their age, by table (events, effect_journal, audit_log)."
    );
    describe_counter!(
        SCHEDULE_FIRES_TOTAL,
        "Schedule runs fired by this node, by plugin."
    );
    describe_counter!(
        SCHEDULE_RUNS_COALESCED_TOTAL,
        "Due schedule slots folded into a run still queued, by plugin."
    );
    describe_counter!(
        CLAIMS_LOST_TOTAL,
        "Events given up by this node's workers because their claim was lost, by plugin."
    );
    describe_gauge!(
        DEAD_LETTERS_BLOCKING,
        "Dead letters holding back later events of their subject, by tenant and plugin."
    );
    describe_gauge!(
        EVENTS_BLOCKED,
        "Queued events waiting behind a dead letter of their subject, by tenant and plugin."
    );
}
