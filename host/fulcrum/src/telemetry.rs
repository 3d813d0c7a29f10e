//! Structured logging. `RUST_LOG` picks the levels (default: info for Fulcrum's crates).

use crate::cli::LogFormat;
use tracing_subscriber::EnvFilter;

/// Levels when RUST_LOG is unset.
pub const DEFAULT_FILTER: &str = "warn,fulcrum=info,lever_sandbox=info,lever_client=info";
/// The demo prints its own progress on stdout: only problems on stderr (its generated master
/// key is expected there, so that warning is left out).
pub const DEMO_FILTER: &str = "warn,fulcrum::commands::serve=error";

pub fn init(format: LogFormat) {
    init_with_default(format, DEFAULT_FILTER);
}

/// [`init`] with other levels for when RUST_LOG is unset.
pub fn init_with_default(format: LogFormat, default_filter: &str) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(default_filter));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    // A second init (e.g. in tests) is harmless; ignore it.
    let _ = match format {
        LogFormat::Text => builder.try_init(),
        LogFormat::Json => builder.json().try_init(),
    };
}
