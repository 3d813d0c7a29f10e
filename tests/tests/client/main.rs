//! The Lever client against a real Lever sandbox on a loopback port, one module per concern,
//! in one test binary (each test binary links every dependency again; on two cores that
//! link time adds up).

mod auth;
mod files;
mod opportunities;
mod pagination;
mod rate_limit;
mod retries;
mod webhooks;
