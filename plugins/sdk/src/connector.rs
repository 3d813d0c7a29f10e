//! The [`Connector`] trait and the [`export_connector!`](crate::export_connector) macro.

use crate::{
    ActionRequest, ConfigProblem, Error, LeverEvent, LifecycleEvent, Manifest, QueryResponse,
    Rejection, ScheduledRun, VendorRequest,
};

/// A Fulcrum connector. Implement [`Connector::manifest`] and whichever handlers the manifest
/// subscribes to, then `export_connector!(YourType)`.
///
/// Handlers are plain functions: the host instantiates the component afresh for each call, so
/// keep durable data in [`crate::state`], never in statics.
///
/// **Exactly once.** The host calls handlers *at least* once and journals every Lever write per
/// (event id, call sequence): when an event is replayed, the n-th Lever call is answered from the
/// journal. A handler must therefore make the same Lever calls, with the same arguments, in the
/// same order on a replay: no randomness and no wall-clock reads between Lever calls; derive
/// times from the event (`triggered_at`, `received_at`, `scheduled_at`).
pub trait Connector {
    /// What the connector is: id, permissions, vendor hosts, secrets, config schema, events,
    /// schedules and actions. Must be constant (the host reads it once per build).
    fn manifest() -> Manifest;

    /// Checks an installation's configuration (already parsed from JSON) beyond its JSON
    /// Schema. Default: accept.
    fn validate_config(config: &serde_json::Value) -> Result<(), Vec<ConfigProblem>> {
        let _ = config;
        Ok(())
    }

    /// Called at the ingress before a vendor request is stored: check its signature and shape.
    /// Only [`crate::config`] and [`crate::log`] are usable here. Default: accept.
    fn verify_vendor_request(req: &VendorRequest) -> Result<(), Rejection> {
        let _ = req;
        Ok(())
    }

    /// A Lever webhook event the manifest subscribed to. Default: ignore.
    fn on_lever_event(event: LeverEvent) -> Result<(), Error> {
        let _ = event;
        Ok(())
    }

    /// A vendor request accepted by [`Connector::verify_vendor_request`]. Default: ignore.
    fn on_vendor_event(req: VendorRequest) -> Result<(), Error> {
        let _ = req;
        Ok(())
    }

    /// A scheduled run of one of the manifest's schedules. Default: nothing to do.
    fn on_schedule(run: ScheduledRun) -> Result<(), Error> {
        let _ = run;
        Ok(())
    }

    /// An admin-triggered action; returns its result as JSON text (see [`crate::to_json`]).
    /// Default: every action is unknown.
    fn on_action(req: ActionRequest) -> Result<String, Error> {
        Err(Error::invalid(format!("unknown action {:?}", req.name)))
    }

    /// A lifecycle hook the manifest asked for ([`Manifest::lifecycle_hooks`]): the
    /// installation was connected, enabled, disabled, reconfigured, or is being removed. Runs
    /// durably like an event. Default: nothing to do.
    fn on_lifecycle(event: LifecycleEvent) -> Result<(), Error> {
        let _ = event;
        Ok(())
    }

    /// A synchronous vendor query (`/ingress/{tenant}/{installation}/query/...`), already
    /// accepted by [`Connector::verify_vendor_request`], when the manifest enables them
    /// ([`Manifest::vendor_queries`]). Lever is read-only here. Default: 404.
    fn on_vendor_query(req: VendorRequest) -> Result<QueryResponse, Error> {
        Ok(QueryResponse::text(
            404,
            format!("no vendor query at {}", req.path),
        ))
    }
}

/// `validate-config`: the host hands over text; report non-JSON clearly, then ask the connector.
pub fn validate_config<C: Connector + ?Sized>(config: String) -> Result<(), Vec<ConfigProblem>> {
    match serde_json::from_str::<serde_json::Value>(&config) {
        Ok(value) => C::validate_config(&value),
        Err(e) => Err(vec![ConfigProblem::new(
            "",
            format!("the configuration is not valid JSON: {e}"),
        )]),
    }
}

/// Runs at the start of every export. On wasm it installs (once per instance) a panic hook that
/// also sends the panic message to the host's log, so a trap caused by a panic is explained in
/// the host's logs even when the component's stderr goes nowhere.
pub fn enter() {
    #[cfg(target_arch = "wasm32")]
    {
        static HOOK: std::sync::Once = std::sync::Once::new();
        HOOK.call_once(|| {
            let previous = std::panic::take_hook();
            std::panic::set_hook(Box::new(move |info| {
                crate::log::error(format_args!("plugin panicked: {info}"));
                previous(info);
            }));
        });
    }
}

/// Exports a [`Connector`] as the component's `plugin` interface.
///
/// Use it once per component, at the crate root or in any module:
/// `fulcrum_sdk::export_connector!(MyConnector);`. It defines an adapter implementing the
/// generated `Guest` trait by calling the [`Connector`] methods, and on `wasm32` invokes the
/// generated export macro. Off wasm nothing is exported, so several connector crates can be
/// linked into one native test or benchmark binary.
///
/// The expansion contains the generated `unsafe` FFI glue under `#[allow(unsafe_code)]`; a crate
/// that `forbid`s `unsafe_code` must `deny` it instead.
#[macro_export]
macro_rules! export_connector {
    ($connector:ty) => {
        #[allow(unsafe_code, dead_code, non_camel_case_types)]
        const _: () = {
            struct __FulcrumConnectorExport;

            impl $crate::__private::Guest for __FulcrumConnectorExport {
                fn describe() -> $crate::Manifest {
                    $crate::__private::enter();
                    <$connector as $crate::Connector>::manifest()
                }
                fn validate_config(
                    config: ::std::string::String,
                ) -> ::core::result::Result<(), ::std::vec::Vec<$crate::ConfigProblem>> {
                    $crate::__private::enter();
                    $crate::__private::validate_config::<$connector>(config)
                }
                fn verify_vendor_request(
                    request: $crate::VendorRequest,
                ) -> ::core::result::Result<(), $crate::Rejection> {
                    $crate::__private::enter();
                    <$connector as $crate::Connector>::verify_vendor_request(&request)
                }
                fn handle_lever_event(
                    event: $crate::LeverEvent,
                ) -> ::core::result::Result<(), $crate::Error> {
                    $crate::__private::enter();
                    <$connector as $crate::Connector>::on_lever_event(event)
                }
                fn handle_vendor_event(
                    request: $crate::VendorRequest,
                ) -> ::core::result::Result<(), $crate::Error> {
                    $crate::__private::enter();
                    <$connector as $crate::Connector>::on_vendor_event(request)
                }
                fn run_schedule(
                    run: $crate::ScheduledRun,
                ) -> ::core::result::Result<(), $crate::Error> {
                    $crate::__private::enter();
                    <$connector as $crate::Connector>::on_schedule(run)
                }
                fn run_action(
                    request: $crate::ActionRequest,
                ) -> ::core::result::Result<::std::string::String, $crate::Error> {
                    $crate::__private::enter();
                    <$connector as $crate::Connector>::on_action(request)
                }
                fn handle_lifecycle(
                    event: $crate::LifecycleEvent,
                ) -> ::core::result::Result<(), $crate::Error> {
                    $crate::__private::enter();
                    <$connector as $crate::Connector>::on_lifecycle(event)
                }
                fn handle_vendor_query(
                    request: $crate::VendorRequest,
                ) -> ::core::result::Result<$crate::QueryResponse, $crate::Error> {
                    $crate::__private::enter();
                    <$connector as $crate::Connector>::on_vendor_query(request)
                }
            }

            #[cfg(target_arch = "wasm32")]
    $crate::bindings::export!(__FulcrumConnectorExport with_types_in $crate::bindings);
        };
    };
}
