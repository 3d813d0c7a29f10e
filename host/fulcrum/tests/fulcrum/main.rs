//! The `fulcrum` command line's integration tests, as one test binary (each binary links every
//! dependency again): the commands (`cli`), `keygen`, and the crash test that kills a real
//! `fulcrum serve` (`crash`; its size comes from `FULCRUM_CRASH_EVENTS`/`FULCRUM_CRASH_KILLS`).

mod cli;
mod crash;
mod keygen;
