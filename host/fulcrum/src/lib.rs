//! Fulcrum's command-line entry points. Each subcommand lives in `commands/`.

pub mod cli;
pub mod commands;
pub mod telemetry;
