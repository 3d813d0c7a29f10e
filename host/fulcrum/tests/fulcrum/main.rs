//! The `fulcrum` command line's integration tests, as one test binary (each binary links every
//! dependency again): the commands (`cli`), `keygen`, master key rotation (`keys`), `serve`'s
//! shutdown on SIGTERM and its owner-only files (`serve`), "Connect with Lever" through a real
//! `fulcrum serve` (`oauth`), and the crash test that kills a real
//! `fulcrum serve` (`crash`; its size comes from `FULCRUM_CRASH_EVENTS`/`FULCRUM_CRASH_KILLS`).

mod cli;
mod crash;
mod keygen;
mod keys;
mod oauth;
mod serve;
