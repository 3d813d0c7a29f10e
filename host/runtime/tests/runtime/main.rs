//! The runtime against real fixture components (`fulcrum-plugin-artifacts`), a real Lever
//! (`lever-sandbox`) and a real local vendor server. One test binary: linking wasmtime once.

mod common;
mod exactly_once;
mod fixtures;
mod lifecycle;

// The Europass renderer's sample CVs (shared with its own tests).
use europass::samples as cv_samples;
