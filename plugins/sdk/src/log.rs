//! Structured logs; the host tags each line with tenant, plugin and event ids.
//! Off wasm (native tests) lines go to stderr instead.

use crate::LogLevel;
use core::fmt::Display;

/// Logs `message` at `level`. Accepts anything `Display`, e.g. `format_args!("{x}")`.
pub fn log(level: LogLevel, message: impl Display) {
    #[cfg(target_arch = "wasm32")]
    crate::bindings::fulcrum::connector::log::log(level, &message.to_string());
    #[cfg(not(target_arch = "wasm32"))]
    eprintln!("[{}] {message}", level_name(level));
}

#[cfg(not(target_arch = "wasm32"))]
fn level_name(level: LogLevel) -> &'static str {
    match level {
        LogLevel::Trace => "trace",
        LogLevel::Debug => "debug",
        LogLevel::Info => "info",
        LogLevel::Warn => "warn",
        LogLevel::Error => "error",
    }
}

pub fn trace(message: impl Display) {
    log(LogLevel::Trace, message)
}
pub fn debug(message: impl Display) {
    log(LogLevel::Debug, message)
}
pub fn info(message: impl Display) {
    log(LogLevel::Info, message)
}
pub fn warn(message: impl Display) {
    log(LogLevel::Warn, message)
}
pub fn error(message: impl Display) {
    log(LogLevel::Error, message)
}
