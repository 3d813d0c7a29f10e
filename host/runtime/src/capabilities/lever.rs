//! `fulcrum:connector/lever` and `fulcrum:connector/lever-hiring`: Lever's Data API through
//! the host's client (`host` and `hiring` implement the two interfaces).
//!
//! Policy, before any I/O: each function names its `LeverFunction`, which maps to one
//! `lever_model::Operation` (see `function`), whose permission must be among the
//! installation's effective grants (manifest-requested ∩ admin-approved); otherwise the guest
//! gets `forbidden("<Lever's words>")` and the refusal is audited. Writes are refused while
//! answering a vendor query; a write naming an `acting-user` the tenant admin did not list,
//! and a listing asking for confidential data on a connection without confidential access,
//! are `forbidden` too, audited, before any I/O. The host injects the tenant's credential;
//! the plugin never sees it.
//!
//! `list-postings` and `find-opportunities` are one Lever request per page: the WIT cursor
//! wraps Lever's own offset token, bound to the filter (see `cursor`). A cursor of another
//! filter, a malformed one, or one whose token Lever no longer accepts is a typed
//! `invalid("...; start again without a cursor")`: the plugin restarts its listing.
//!
//! Every write takes one path, `journaled`: with an effect journal in the invocation context
//! a retried or replayed event does not repeat it; after an unknown outcome each is
//! reconciled against Lever by its own rule, exactly once where Lever lets the host tell, at
//! least once where it does not (see `journaled`, `write/reconcile.rs` and `crate::journal`).
//! Reads that answer JSON take `lever_read`: a retry or replay gets the first attempt's
//! answer, so a handler's path through its writes is the same. Downloads are not journaled
//! (bytes stay out of the journal).

mod convert;
mod cursor;
mod function;
mod hiring;
mod host;
mod journaled;
mod listing;
mod write;

use futures::TryStreamExt;
use futures::stream::BoxStream;
use lever_client::LeverError;
use serde_json::Value;
use wasmtime::component::{HasSelf, Linker};

use super::{HostCall, HostCalls, Project};
use crate::audit::Capability;
use crate::bindings::PluginError;
use crate::bindings::fulcrum::connector::lever::{self as wit};
use crate::grants::LeverAccess;

pub use function::LeverFunction;
pub use journaled::CLOCK_SLACK_MS;

pub(crate) fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    project: Project<T>,
) -> wasmtime::Result<()> {
    wit::add_to_linker::<T, HasSelf<HostCalls>>(linker, project)?;
    crate::bindings::fulcrum::connector::lever_hiring::add_to_linker::<T, HasSelf<HostCalls>>(
        linker, project,
    )
}

/// A Lever call that passed its policy check: which function (the journal's name for it) and
/// the host call being audited.
pub(crate) struct LeverCall {
    function: LeverFunction,
    host: HostCall,
}

impl HostCalls {
    /// Policy of every Lever function: capability available, call budget, the permission of
    /// the function's operation granted, Lever connected.
    fn lever_begin(
        &mut self,
        function: LeverFunction,
    ) -> Result<(LeverCall, LeverAccess), PluginError> {
        let operation = function.operation();
        let host = self.begin(Capability::Lever, operation.label())?;
        let permission = operation.permission();
        if operation.is_write() && !self.kind.allows_lever_writes() {
            let refusal = format!(
                "{}: Lever is read-only while answering a vendor query; do writes in an event \
                 handler",
                permission.as_str()
            );
            return Err(self.deny(host, PluginError::Forbidden(refusal)));
        }
        if !self.ctx.grants.allows(permission) {
            return Err(self.deny(host, PluginError::Forbidden(permission.as_str().to_owned())));
        }
        match self.ctx.lever.clone() {
            Some(access) => Ok((LeverCall { function, host }, access)),
            None => Err(self.deny(
                host,
                PluginError::Unavailable("Lever is not connected for this installation".into()),
            )),
        }
    }

    /// The user a write is attributed to: the installation's acting user, or a user the
    /// tenant admin listed for it. Naming anyone else would let a plugin forge who did
    /// something in Lever: `forbidden`, audited, before any I/O.
    fn acting_user(
        &mut self,
        call: LeverCall,
        lever: &LeverAccess,
        requested: Option<String>,
    ) -> Result<(LeverCall, String), PluginError> {
        match requested {
            None => Ok((call, lever.acting_user_id.clone())),
            Some(user) if lever.may_act_as(&user) => Ok((call, user)),
            Some(user) => Err(self.deny(
                call.host,
                PluginError::Forbidden(format!(
                    "act as Lever user {user}: a tenant admin has not listed that user for \
                     this installation"
                )),
            )),
        }
    }

    /// A listing asking for confidential data needs the connection's confidential access;
    /// without it Lever would refuse the request anyway, so it is refused here, before any
    /// I/O, with what the tenant can do about it.
    fn confidential_access(
        &mut self,
        call: LeverCall,
        lever: &LeverAccess,
        asked: Option<wit::ConfidentialityFilter>,
    ) -> Result<LeverCall, PluginError> {
        match asked {
            None | Some(wit::ConfidentialityFilter::NonConfidential) => Ok(call),
            Some(_) if lever.confidential_access => Ok(call),
            Some(_) => Err(self.deny(
                call.host,
                PluginError::Forbidden(
                    "confidential data: this installation's Lever connection has no \
                     confidential access; reconnect with an API key that allows access to \
                     confidential data (or grant the confidential:access:admin scope)"
                        .into(),
                ),
            )),
        }
    }

    fn max_download(&self) -> usize {
        self.shared.config.limits.max_lever_download_bytes
    }
}

/// LeverError → the WIT error a plugin can act on. Messages come from `lever-client`, which
/// never includes the credential.
pub(crate) fn lever_error(e: LeverError) -> PluginError {
    match e {
        LeverError::Forbidden { permission, .. } => {
            PluginError::Forbidden(permission.as_str().to_owned())
        }
        LeverError::NotFound { message } => PluginError::NotFound(message),
        LeverError::Invalid { message, .. } => PluginError::Invalid(message),
        LeverError::RateLimited { retry_after } => PluginError::RateLimited(
            retry_after.map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
        ),
        e @ LeverError::Unavailable { .. } => PluginError::Unavailable(e.to_string()),
        // Not the plugin's to fix; the event is retried once an admin reconnects Lever.
        LeverError::Unauthorized { .. } | LeverError::Reconnect { .. } => PluginError::Unavailable(
            "Lever rejected the installation's credential; a tenant admin must reconnect \
                 Lever"
                .into(),
        ),
        LeverError::Config { message } => PluginError::Invalid(message),
        e => PluginError::Unavailable(e.to_string()),
    }
}

/// A read's arguments as journaled (a WIT filter record, serialized).
fn read_request<T: serde::Serialize>(args: &T) -> Value {
    // The WIT records serialize infallibly (strings, numbers, enums, options, lists).
    serde_json::to_value(args).unwrap_or(Value::Null)
}

async fn all<T>(stream: BoxStream<'static, Result<T, LeverError>>) -> Result<Vec<T>, PluginError> {
    stream.try_collect().await.map_err(lever_error)
}

fn check_size(bytes: bytes::Bytes, max: usize) -> Result<Vec<u8>, PluginError> {
    if bytes.len() > max {
        return Err(PluginError::LimitExceeded(format!(
            "Lever download larger than {max} bytes"
        )));
    }
    Ok(bytes.to_vec())
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod mapping_tests {
    use super::*;
    use lever_model::{Operation, Permission};

    #[test]
    fn lever_errors_map_to_wit_errors() {
        let forbidden = lever_error(LeverError::Forbidden {
            operation: Operation::CreateOpportunity,
            permission: Permission::CreateOpportunity,
            message: "no".into(),
        });
        assert_eq!(
            forbidden,
            PluginError::Forbidden("create opportunity".into())
        );
        let limited = lever_error(LeverError::RateLimited {
            retry_after: Some(std::time::Duration::from_secs(2)),
        });
        assert_eq!(limited, PluginError::RateLimited(Some(2000)));
        assert!(matches!(
            lever_error(LeverError::NotFound {
                message: "x".into()
            }),
            PluginError::NotFound(_)
        ));
        assert!(matches!(
            lever_error(LeverError::Invalid { status: 422, code: "c".into(), message: "m".into() }),
            PluginError::Invalid(m) if m == "m"
        ));
        assert!(matches!(
            lever_error(LeverError::Unavailable { status: Some(503), message: "down".into(), outcome_unknown: true }),
            PluginError::Unavailable(m) if m.contains("reconcile")
        ));
    }
}
