//! End-to-end tests of the host: real components, the Lever sandbox over HTTP, real SQLite and
//! PostgreSQL (each test runs on both; PostgreSQL is skipped loudly when absent, unless
//! FULCRUM_REQUIRE_POSTGRES=1).

// Connectors (one module per connector: every behaviour of its issue end to end).
mod relode;
mod remote_tech_work;

mod admin;
mod admin_flow;
mod admin_guards;
mod admin_input;
mod connections_api;
mod contract_tour;
mod exactly_once;
mod fairness;
mod ingress;
mod installation_rules;
mod isolation;
mod lever_webhooks;
mod lifecycle_hooks;
mod managed_webhooks;
mod named_installations;
mod oauth_connection;
mod observability;
mod openapi;
mod pipeline;
mod plugin_install;
mod retention;
mod scheduler;
mod tenant_rules;
mod vendor_queries;
