//! Calling a 0.1.0 component's exports with the latest call types.

use wasmtime::Store;

use super::Connector;
use super::exports::fulcrum::connector::plugin as old;
use crate::call::{Call, CallOutput};
use crate::host::HostState;

pub(crate) async fn call(
    instance: &Connector,
    store: &mut Store<HostState>,
    call: &Call,
) -> wasmtime::Result<CallOutput> {
    let guest = instance.fulcrum_connector_plugin();
    Ok(match call {
        Call::Describe => {
            CallOutput::Manifest(Box::new(guest.call_describe(&mut *store).await?.into()))
        }
        Call::ValidateConfig(json) => CallOutput::ConfigChecked(
            guest
                .call_validate_config(&mut *store, json)
                .await?
                .map_err(|problems| problems.into_iter().map(Into::into).collect()),
        ),
        Call::VerifyVendorRequest(request) => CallOutput::VendorRequestChecked(
            guest
                .call_verify_vendor_request(&mut *store, &old::VendorRequest::from(request))
                .await?
                .map_err(Into::into),
        ),
        Call::LeverEvent(event) => CallOutput::Handled(
            guest
                .call_handle_lever_event(&mut *store, &old::LeverEvent::from(event))
                .await?
                .map_err(Into::into),
        ),
        Call::VendorEvent(request) => CallOutput::Handled(
            guest
                .call_handle_vendor_event(&mut *store, &old::VendorRequest::from(request))
                .await?
                .map_err(Into::into),
        ),
        Call::Schedule(run) => CallOutput::Handled(
            guest
                .call_run_schedule(&mut *store, &old::ScheduledRun::from(run))
                .await?
                .map_err(Into::into),
        ),
        Call::Action(request) => CallOutput::ActionResult(
            guest
                .call_run_action(&mut *store, &old::ActionRequest::from(request))
                .await?
                .map_err(Into::into),
        ),
        // A 0.1.0 manifest asks for no hooks and answers no queries (see `convert`), so the
        // host never queues these for it; refuse rather than guess if it does.
        Call::Lifecycle(_) | Call::VendorQuery(_) => {
            return Err(wasmtime::Error::msg(format!(
                "{} is not part of contract 0.1.0, which this component speaks",
                call.kind().as_str()
            )));
        }
    })
}
