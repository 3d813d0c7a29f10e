// TEMPORARY (managed-webhooks helper): runs tests/service/managed_webhooks.rs while the shared
// `service` test binary does not compile; deleted before the report.
#[path = "service/managed_webhooks.rs"]
mod managed_webhooks;
#[path = "service/lever_webhooks.rs"]
mod lever_webhooks;
#[path = "service/admin.rs"]
mod admin;
