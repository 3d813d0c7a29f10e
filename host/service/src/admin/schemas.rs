//! Schemas of the OpenAPI document that no Rust type of the API carries: string enums whose
//! values are taken from the code that accepts or produces them (roles, Lever event names,
//! event statuses and kinds), so the document cannot drift from the code.

use fulcrum_store::{CredentialKind, EventStatus, Role};
use lever_model::WebhookEventType;
use utoipa::openapi::schema::{ArrayBuilder, ObjectBuilder, Type};

fn string_enum<'a>(values: impl IntoIterator<Item = &'a str>) -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(values.into_iter().map(str::to_owned)))
}

/// A token's role.
pub(super) fn role() -> ObjectBuilder {
    string_enum(Role::ALL.map(Role::as_str))
}

/// The Lever webhook events a plugin subscribes to, in Lever's words (`candidateStageChange`).
pub(super) fn lever_events() -> ArrayBuilder {
    ArrayBuilder::new().items(string_enum(
        WebhookEventType::ALL.iter().map(|event| event.as_str()),
    ))
}

/// The statuses an event goes through.
pub(crate) const EVENT_STATUSES: [EventStatus; 4] = [
    EventStatus::Queued,
    EventStatus::Running,
    EventStatus::Done,
    EventStatus::Dead,
];

/// An event's status.
pub(super) fn event_status() -> ObjectBuilder {
    string_enum(EVENT_STATUSES.map(EventStatus::as_str))
}

/// What kind of work an event is.
pub(super) fn event_kind() -> ObjectBuilder {
    use crate::event_payload::kind;
    string_enum([kind::VENDOR, kind::LEVER, kind::SCHEDULE, kind::ACTION])
}

/// How the tenant's Lever credential authenticates.
pub(super) fn credential_kind() -> ObjectBuilder {
    string_enum([CredentialKind::ApiKey, CredentialKind::OAuth].map(CredentialKind::as_str))
}

/// A tenant id as it sits in URLs.
pub(super) fn tenant_id() -> ObjectBuilder {
    ObjectBuilder::new()
        .schema_type(Type::String)
        .min_length(Some(1))
        .max_length(Some(63))
        .pattern(Some("^[a-z0-9][a-z0-9_-]{0,62}$"))
}

/// Lever permissions, in Lever's words (`create opportunity`).
pub(super) fn permissions() -> ArrayBuilder {
    ArrayBuilder::new().items(string_enum(
        lever_model::Permission::ALL
            .iter()
            .map(|permission| permission.as_str()),
    ))
}
