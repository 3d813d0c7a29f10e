//! `fulcrum:connector/log`: guest logs forwarded to `tracing`, tagged by the host with
//! tenant, installation, plugin and event, truncated and capped per invocation.
//!
//! Log lines are not audited one by one (they are a record themselves); reaching the cap is.

use std::time::Instant;
use wasmtime::component::{HasSelf, Linker};

use super::{HostCalls, Project, truncate};
use crate::audit::Capability;
use crate::bindings::LogLevel;
use crate::bindings::PluginError;
use crate::bindings::fulcrum::connector::log;

/// The `tracing` target of plugin logs.
pub const TARGET: &str = "fulcrum::plugin";

pub(crate) fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    project: Project<T>,
) -> wasmtime::Result<()> {
    log::add_to_linker::<T, HasSelf<HostCalls>>(linker, project)
}

impl log::Host for HostCalls {
    async fn log(&mut self, level: LogLevel, message: String) {
        let started = Instant::now();
        let limits = &self.shared.config.limits;
        if self.log_lines >= limits.max_log_lines {
            if self.log_lines == limits.max_log_lines {
                // Once per invocation: say that lines are being dropped, then stay quiet.
                self.log_lines += 1;
                let max = limits.max_log_lines;
                if let Ok(call) = self.begin(Capability::Log, "log") {
                    let _ = self.deny(
                        call,
                        PluginError::LimitExceeded(format!(
                            "more than {max} log lines; dropping the rest"
                        )),
                    );
                }
            }
            self.charge_host_time(started);
            return;
        }
        self.log_lines += 1;
        let text = truncate(&message, limits.max_log_message_bytes);
        let truncated = text.len() < message.len();
        if matches!(level, LogLevel::Error) {
            self.last_error_log = Some(text.to_owned());
        }
        let ctx = &self.ctx;
        let plugin = self.plugin.id.as_str();
        let event = ctx.event_id.as_deref().unwrap_or("");
        macro_rules! emit {
            ($level:expr) => {
                tracing::event!(
                    target: TARGET,
                    $level,
                    tenant = %ctx.tenant_id,
                    installation = %ctx.installation_id,
                    plugin = %plugin,
                    event = %event,
                    truncated,
                    "{text}"
                )
            };
        }
        match level {
            LogLevel::Trace => emit!(tracing::Level::TRACE),
            LogLevel::Debug => emit!(tracing::Level::DEBUG),
            LogLevel::Info => emit!(tracing::Level::INFO),
            LogLevel::Warn => emit!(tracing::Level::WARN),
            LogLevel::Error => emit!(tracing::Level::ERROR),
        }
        self.charge_host_time(started);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::audit::MemoryAuditLog;
    use crate::bindings::fulcrum::connector::log::Host as _;
    use crate::call::CallKind;
    use crate::capabilities::testing;
    use crate::config::RuntimeConfig;
    use crate::grants::InvocationContext;
    use crate::state_store::MemoryStateStore;
    use std::sync::Arc;

    #[tokio::test]
    async fn lines_are_capped_and_the_cap_is_audited_once() {
        let audit = Arc::new(MemoryAuditLog::new());
        let ctx = InvocationContext::new(
            "t",
            "i",
            "unit",
            Arc::new(MemoryStateStore::new()),
            audit.clone(),
        );
        let mut config = RuntimeConfig::default();
        config.limits.max_log_lines = 2;
        config.limits.max_log_message_bytes = 4;
        let mut host = testing::state(
            config,
            testing::plugin(&[], &[], &[]),
            ctx,
            CallKind::Describe,
        );
        for _ in 0..5 {
            host.log(LogLevel::Error, "panicked: long message".into())
                .await;
        }
        assert_eq!(host.last_error_log.as_deref(), Some("pani"), "truncated");
        let records = audit.records();
        assert_eq!(records.len(), 1, "{records:?}");
        assert!(records[0].is_denied());
    }
}
