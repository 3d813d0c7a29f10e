//! The sandbox over real HTTP, in one test binary (each test binary links the whole HTTP
//! stack again): raw-JSON shapes of every resource, and behaviour from auth to shutdown.

mod behaviour;
mod candidates;
mod common;
mod hiring;
mod oauth;
mod requisitions;
mod shapes;
