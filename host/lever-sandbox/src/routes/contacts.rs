//! Contacts (the person behind one or more opportunities).

use super::{Ctx, dedup_strings, ok, parse_json};
use crate::db::canonical_email;
use crate::error::ApiError;
use crate::state::Shared;
use crate::webhooks::Event;
use axum::Extension;
use axum::extract::{Path, State};
use axum::response::Response;
use bytes::Bytes;
use lever_model::timestamp::now_millis;
use lever_model::{ContactLocation, ContactUpdate, WebhookEventType};
use serde_json::json;

pub async fn get(
    State(s): State<Shared>,
    Extension(_ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    let db = s.db.lock();
    let c = db
        .contact(&id)
        .ok_or_else(|| ApiError::not_found("contacts", &id))?;
    Ok(ok(c))
}

/// Sent fields replace the stored ones; unsent fields stay. `location` is a string here and
/// an object in responses, as in Lever.
pub async fn update(
    State(s): State<Shared>,
    Extension(_ctx): Extension<Ctx>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let u: ContactUpdate = parse_json(&body)?;
    let now = now_millis();
    let contact = {
        let mut db = s.db.lock();
        if db.contact(&id).is_none() {
            return Err(ApiError::not_found("contacts", &id));
        }
        let emails = u.emails.map(dedup_strings);
        if let Some(emails) = &emails {
            for e in emails {
                if db.email_taken_by_other(e, &id) {
                    return Err(ApiError::bad_request(format!(
                        "E-mail {} belongs to another contact",
                        canonical_email(e)
                    )));
                }
            }
        }
        let Some(rec) = db.contacts.get_mut(&id) else {
            return Err(ApiError::not_found("contacts", &id));
        };
        let c = &mut rec.contact;
        if let Some(n) = u.name {
            c.name = Some(n);
        }
        if let Some(h) = u.headline {
            c.headline = Some(h);
        }
        if let Some(l) = u.location {
            c.location = Some(ContactLocation { name: l });
        }
        if let Some(e) = emails {
            c.emails = e;
        }
        if let Some(p) = u.phones {
            c.phones = p
                .into_iter()
                .filter(|p| !p.value.trim().is_empty())
                .collect();
        }
        let out = c.clone();
        db.reindex_contact_emails(&id);
        db.sync_contact(&id, Some(now));
        out
    };
    s.emit(vec![Event::new(
        WebhookEventType::ContactUpdated,
        None,
        json!({"contactId": id}),
    )]);
    Ok(ok(contact))
}
