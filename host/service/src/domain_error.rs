//! What the rules for tenants and installations answer when they refuse a change: a
//! [`DomainError`], listing every [`Problem`] of the input at once. Every message says what to
//! do next and that nothing was stored; the admin API maps each case to its status and code
//! (`impl From<DomainError> for ApiError`), the command line prints the message.

use fulcrum_store::StoreError;
use serde::Serialize;
use std::fmt;
use utoipa::ToSchema;

/// One thing wrong with an input, at a JSON pointer into it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, ToSchema)]
pub struct Problem {
    /// JSON pointer of the offending value (`""` for the whole document).
    pub pointer: String,
    pub message: String,
    /// Who found it: the plugin's JSON Schema, the plugin's own check, or the host's rules.
    pub source: ProblemSource,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, ToSchema)]
#[serde(rename_all = "lowercase")]
pub enum ProblemSource {
    Schema,
    Plugin,
    Host,
}

impl Problem {
    pub(crate) fn host(pointer: impl Into<String>, message: impl Into<String>) -> Self {
        Problem {
            pointer: pointer.into(),
            message: message.into(),
            source: ProblemSource::Host,
        }
    }
}

/// What a change needed and did not find.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Missing {
    Tenant(String),
    /// The tenant exists but has not added the plugin.
    Installation {
        tenant: String,
        plugin: String,
    },
    /// No version of the plugin is loaded on this host.
    Plugin(String),
}

impl fmt::Display for Missing {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Missing::Tenant(tenant) => write!(
                f,
                "unknown tenant {tenant:?}; check the tenant id (`fulcrum tenant list` lists \
                 them); nothing was stored"
            ),
            Missing::Installation { tenant, plugin } => write!(
                f,
                "plugin {plugin:?} is not installed for tenant {tenant:?}; add it to the tenant \
                 first; nothing was stored"
            ),
            Missing::Plugin(plugin) => write!(
                f,
                "unknown plugin {plugin:?}: this host has not loaded it; install its component \
                 first (`fulcrum plugin install`); nothing was stored"
            ),
        }
    }
}

/// Why a change to a tenant or an installation was refused.
#[derive(Debug, thiserror::Error)]
pub enum DomainError {
    #[error("{0}")]
    NotFound(Missing),
    /// It exists already (a tenant id is taken).
    #[error("{0}")]
    Conflict(String),
    /// The input breaks a rule. `code` is stable and machine-readable (`invalid_config`, ...);
    /// `problems` lists every problem at once (empty when the message says it all).
    #[error("{}", with_problems(message, problems))]
    Invalid {
        code: &'static str,
        message: String,
        problems: Vec<Problem>,
    },
    /// The change needs something set first (enabling an installation whose secrets or config
    /// are missing or invalid): every missing thing is in `problems`.
    #[error("{}", with_problems(message, problems))]
    NotReady {
        message: String,
        problems: Vec<Problem>,
    },
    /// The plugin's check did not run to an answer (trap, limit, timeout).
    #[error("{message}")]
    PluginFailed { code: &'static str, message: String },
    #[error("the database failed ({0}); send the change again (repeating it is safe)")]
    Store(#[from] StoreError),
}

impl DomainError {
    pub(crate) fn invalid(code: &'static str, message: impl Into<String>) -> Self {
        DomainError::Invalid {
            code,
            message: message.into(),
            problems: Vec::new(),
        }
    }

    /// The problems listed with an [`DomainError::Invalid`] or [`DomainError::NotReady`] (none
    /// for the other cases).
    pub fn problems(&self) -> &[Problem] {
        match self {
            DomainError::Invalid { problems, .. } | DomainError::NotReady { problems, .. } => {
                problems
            }
            _ => &[],
        }
    }
}

/// The message, then each problem on its own line (the command line prints this).
fn with_problems(message: &str, problems: &[Problem]) -> String {
    let mut text = message.to_owned();
    for p in problems {
        let at = if p.pointer.is_empty() {
            "(whole document)"
        } else {
            &p.pointer
        };
        text.push_str(&format!("\n  {at}: {}", p.message));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_invalid_input_prints_every_problem_under_the_message() {
        let error = DomainError::Invalid {
            code: "invalid_config",
            message: "the config was refused; nothing was stored".into(),
            problems: vec![
                Problem::host("/greeting", "must be a string"),
                Problem::host("", "must be an object"),
            ],
        };
        assert_eq!(
            error.to_string(),
            "the config was refused; nothing was stored\n  /greeting: must be a string\n  \
             (whole document): must be an object"
        );
        assert_eq!(error.problems().len(), 2);
        assert_eq!(
            serde_json::to_value(&error.problems()[0]).unwrap(),
            serde_json::json!({"pointer": "/greeting", "message": "must be a string", "source": "host"})
        );
    }
}
