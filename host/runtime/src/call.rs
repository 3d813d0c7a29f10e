//! What the host asks of a plugin and what comes back: a call of one export (`Call`), which
//! export it is (`CallKind`, which also decides the capabilities usable during it), its
//! output, and why an invocation failed (`InvocationError`). Plain types: no store, no engine.

use std::time::Duration;

use crate::audit::Capability;
use crate::bindings::{
    ActionRequest, ConfigProblem, LeverEvent, LifecycleEvent, Manifest, PluginError, QueryResponse,
    Rejection, ScheduledRun, VendorRequest,
};

/// A call of one of the plugin's exports.
#[derive(Debug, Clone)]
pub enum Call {
    Describe,
    ValidateConfig(String),
    VerifyVendorRequest(VendorRequest),
    LeverEvent(LeverEvent),
    VendorEvent(VendorRequest),
    Schedule(ScheduledRun),
    Action(ActionRequest),
    /// `handle-lifecycle` (contract 0.2.0 on).
    Lifecycle(LifecycleEvent),
    /// `handle-vendor-query` (contract 0.2.0 on).
    VendorQuery(VendorRequest),
}

impl Call {
    pub fn kind(&self) -> CallKind {
        match self {
            Call::Describe => CallKind::Describe,
            Call::ValidateConfig(_) => CallKind::ValidateConfig,
            Call::VerifyVendorRequest(_) => CallKind::VerifyVendorRequest,
            Call::LeverEvent(_) => CallKind::LeverEvent,
            Call::VendorEvent(_) => CallKind::VendorEvent,
            Call::Schedule(_) => CallKind::Schedule,
            Call::Action(_) => CallKind::Action,
            Call::Lifecycle(_) => CallKind::Lifecycle,
            Call::VendorQuery(_) => CallKind::VendorQuery,
        }
    }

    /// `run-action` with a JSON input.
    pub fn action(
        id: impl Into<String>,
        name: impl Into<String>,
        input: impl Into<String>,
    ) -> Call {
        Call::Action(ActionRequest {
            id: id.into(),
            name: name.into(),
            input: input.into(),
            requested_by: None,
        })
    }
}

/// Which export a call goes to; decides which capabilities are usable.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum CallKind {
    Describe,
    ValidateConfig,
    VerifyVendorRequest,
    LeverEvent,
    VendorEvent,
    Schedule,
    Action,
    Lifecycle,
    VendorQuery,
}

impl CallKind {
    /// The WIT export's name.
    pub const fn as_str(self) -> &'static str {
        match self {
            CallKind::Describe => "describe",
            CallKind::ValidateConfig => "validate-config",
            CallKind::VerifyVendorRequest => "verify-vendor-request",
            CallKind::LeverEvent => "handle-lever-event",
            CallKind::VendorEvent => "handle-vendor-event",
            CallKind::Schedule => "run-schedule",
            CallKind::Action => "run-action",
            CallKind::Lifecycle => "handle-lifecycle",
            CallKind::VendorQuery => "handle-vendor-query",
        }
    }

    /// `describe` must be pure (it runs at install, before any installation exists);
    /// `validate-config` and `verify-vendor-request` may read config and log only (the WIT
    /// says so for the ingress check, which runs before the request is even stored).
    pub(crate) fn allows(self, capability: Capability) -> bool {
        match self {
            CallKind::Describe => capability == Capability::Log,
            CallKind::ValidateConfig | CallKind::VerifyVendorRequest => {
                matches!(capability, Capability::Config | Capability::Log)
            }
            // A vendor query may use Lever too, but read-only (checked by the Lever policy).
            CallKind::LeverEvent
            | CallKind::VendorEvent
            | CallKind::Schedule
            | CallKind::Action
            | CallKind::Lifecycle
            | CallKind::VendorQuery => true,
        }
    }

    /// Whether Lever writes are allowed: not while a vendor waits for a query's answer
    /// (queries are not stored, so a write could not be journaled against an event).
    pub(crate) const fn allows_lever_writes(self) -> bool {
        !matches!(self, CallKind::VendorQuery)
    }
}

/// What a call returned. The plugin's own errors are values here, not `InvocationError`s.
#[derive(Debug, Clone, PartialEq)]
pub enum CallOutput {
    Manifest(Box<Manifest>),
    ConfigChecked(Result<(), Vec<ConfigProblem>>),
    VendorRequestChecked(Result<(), Rejection>),
    /// `handle-lever-event`, `handle-vendor-event`, `run-schedule`.
    Handled(Result<(), PluginError>),
    /// `run-action`: the result JSON.
    ActionResult(Result<String, PluginError>),
    /// `handle-vendor-query`: the answer for the vendor.
    QueryAnswered(Result<QueryResponse, PluginError>),
}

impl CallOutput {
    /// The action's result, if this was `run-action`.
    pub fn into_action_result(self) -> Option<Result<String, PluginError>> {
        match self {
            CallOutput::ActionResult(r) => Some(r),
            _ => None,
        }
    }

    /// Bytes of text the guest handed back (what `max_result_bytes` limits).
    pub(crate) fn size(&self) -> usize {
        fn error(e: &PluginError) -> usize {
            match e {
                PluginError::Forbidden(s)
                | PluginError::NotFound(s)
                | PluginError::Invalid(s)
                | PluginError::Unavailable(s)
                | PluginError::VendorError(s)
                | PluginError::LimitExceeded(s) => s.len(),
                PluginError::RateLimited(_) => 8,
            }
        }
        match self {
            CallOutput::Manifest(m) => {
                let strings = [
                    &m.id,
                    &m.name,
                    &m.version,
                    &m.vendor,
                    &m.description,
                    &m.config_schema,
                ];
                strings.iter().map(|s| s.len()).sum::<usize>()
                    + m.permissions
                        .iter()
                        .chain(&m.vendor_hosts)
                        .chain(&m.secrets)
                        .map(String::len)
                        .sum::<usize>()
                    + m.schedules
                        .iter()
                        .map(|s| s.name.len() + s.description.len())
                        .sum::<usize>()
                    + m.actions
                        .iter()
                        .map(|a| a.name.len() + a.description.len() + a.input_schema.len())
                        .sum::<usize>()
            }
            CallOutput::ConfigChecked(Ok(())) | CallOutput::VendorRequestChecked(Ok(())) => 0,
            CallOutput::ConfigChecked(Err(problems)) => problems
                .iter()
                .map(|p| p.pointer.len() + p.message.len())
                .sum(),
            CallOutput::VendorRequestChecked(Err(r)) => r.message.len(),
            CallOutput::Handled(Ok(())) => 0,
            CallOutput::Handled(Err(e)) => error(e),
            CallOutput::ActionResult(Ok(s)) => s.len(),
            CallOutput::ActionResult(Err(e)) => error(e),
            CallOutput::QueryAnswered(Ok(r)) => {
                r.body.len()
                    + r.headers
                        .iter()
                        .map(|h| h.name.len() + h.value.len())
                        .sum::<usize>()
            }
            CallOutput::QueryAnswered(Err(e)) => error(e),
        }
    }
}

/// Why an invocation did not produce a result, worded for the vendor or admin who has to
/// fix it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum InvocationError {
    #[error(
        "the plugin ran longer than its CPU budget of {} ms and was stopped: make the work \
         per event smaller (e.g. page through data across scheduled runs) or ask the operator \
         for a larger budget",
        .budget.as_millis()
    )]
    CpuBudgetExceeded { budget: Duration },

    #[error(
        "the invocation took longer than the wall-clock limit of {} ms (host calls included) \
         and was cancelled: check for slow vendor endpoints or too many sequential calls",
        .limit.as_millis()
    )]
    WallClockTimeout { limit: Duration },

    #[error(
        "the plugin needed more than {limit_bytes} bytes of linear memory and was stopped: \
         process data in smaller pieces"
    )]
    MemoryLimitExceeded { limit_bytes: usize },

    #[error("the plugin grew a table beyond {limit_elements} elements and was stopped")]
    TableLimitExceeded { limit_elements: usize },

    #[error(
        "the plugin overflowed its stack (unbounded or too deep recursion) and was stopped: \
         make the recursion iterative or bounded"
    )]
    StackOverflow,

    #[error(
        "the plugin returned {bytes} bytes, more than the limit of {limit}: return less (e.g. \
         a summary or a page) and store the rest in state"
    )]
    ResultTooLarge { bytes: usize, limit: usize },

    #[error("the plugin panicked: {message}")]
    Panicked { message: String },

    #[error("the plugin trapped: {message}")]
    Trapped { message: String },

    #[error("the plugin could not be instantiated: {message}")]
    Instantiation { message: String },

    #[error("the invocation is for plugin {expected:?} but the context names {found:?}")]
    WrongPlugin { expected: String, found: String },
}
