//! Webhook subscriptions (Lever's Webhooks API): list, create, bulk update, delete.

use super::{Ctx, created, no_content, ok, page, parse_json};
use crate::auth::random_string;
use crate::db::Db;
use crate::error::ApiError;
use crate::pagination::Pager;
use crate::state::Shared;
use axum::Extension;
use axum::extract::{Path, State};
use axum::response::Response;
use bytes::Bytes;
use lever_model::timestamp::now_millis;
use lever_model::{NewWebhook, Origin, Webhook, WebhookConfiguration, WebhookEventType};
use serde::Deserialize;

fn validate(
    event: WebhookEventType,
    url: &str,
    cfg: Option<&WebhookConfiguration>,
) -> Result<(), ApiError> {
    match url::Url::parse(url) {
        // Real Lever accepts only https with a CA-signed certificate; the sandbox also takes
        // http so that loopback receivers work.
        Ok(u) if matches!(u.scheme(), "http" | "https") && u.host().is_some() => {}
        _ => {
            return Err(ApiError::bad_request(format!(
                "url {url:?} is not an absolute http(s) URL"
            )));
        }
    }
    if let Some(cond) = cfg.and_then(|c| c.conditions.as_ref()) {
        if !cond.origins.is_empty() && !event.supports_origin_conditions() {
            return Err(ApiError::bad_request(format!(
                "{} webhooks do not support conditions",
                event.as_str()
            )));
        }
        if cond.origins.contains(&Origin::Unknown) {
            return Err(ApiError::bad_request(
                "conditions.origins may contain applied, sourced, referred, university, agency, internal",
            ));
        }
    }
    Ok(())
}

fn parse_event(event: &str) -> Result<WebhookEventType, ApiError> {
    WebhookEventType::parse(event).ok_or_else(|| {
        ApiError::bad_request(format!(
            "Invalid event {event:?} (expected one of {})",
            WebhookEventType::ALL
                .iter()
                .map(|e| e.as_str())
                .collect::<Vec<_>>()
                .join(", ")
        ))
    })
}

/// Create a subscription with a fresh 48-character signature token.
pub(crate) fn register(
    db: &mut Db,
    event: WebhookEventType,
    url: &str,
    configuration: Option<WebhookConfiguration>,
) -> Webhook {
    let now = now_millis();
    let hook = Webhook {
        id: uuid::Uuid::new_v4().to_string(),
        event: event.as_str().to_owned(),
        url: url.to_owned(),
        configuration: WebhookConfiguration {
            signature_token: Some(random_string(48)),
            conditions: configuration.and_then(|c| c.conditions),
        },
        created_at: now,
        updated_at: Some(now),
    };
    db.webhooks.insert(hook.id.clone(), hook.clone());
    hook
}

/// Validate and create (API and admin API).
pub(crate) fn create_checked(db: &mut Db, body: NewWebhook) -> Result<Webhook, ApiError> {
    let event = parse_event(&body.event)?;
    validate(event, &body.url, body.configuration.as_ref())?;
    Ok(register(db, event, &body.url, body.configuration))
}

/// Lists do not repeat the signature token (only the create response carries it).
fn public(mut w: Webhook) -> Webhook {
    w.configuration.signature_token = None;
    w
}

pub async fn list(
    State(s): State<Shared>,
    Extension(ctx): Extension<Ctx>,
) -> Result<Response, ApiError> {
    let pager = Pager::new(&ctx.query, "/webhooks", &s.tokens)?;
    let db = s.db.lock();
    let mut hooks: Vec<&Webhook> = db.webhooks().collect();
    hooks.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    Ok(page(pager.page(hooks.into_iter().map(|w| {
        (w.created_at, w.id.as_str(), public(w.clone()))
    }))))
}

pub async fn create(
    State(s): State<Shared>,
    Extension(_ctx): Extension<Ctx>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body: NewWebhook = parse_json(&body)?;
    let hook = create_checked(&mut s.db.lock(), body)?;
    Ok(created(hook))
}

#[derive(Deserialize)]
struct BulkUpdate {
    data: Vec<WebhookPatch>,
}

#[derive(Deserialize)]
struct WebhookPatch {
    id: String,
    #[serde(default)]
    url: Option<String>,
    #[serde(default)]
    configuration: Option<WebhookConfiguration>,
}

/// `PUT /webhooks {"data": [{id, url, configuration}]}`: all-or-nothing.
pub async fn update(
    State(s): State<Shared>,
    Extension(_ctx): Extension<Ctx>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let body: BulkUpdate = parse_json(&body)?;
    let now = now_millis();
    let mut db = s.db.lock();
    for p in &body.data {
        let hook = db
            .webhooks
            .get(&p.id)
            .ok_or_else(|| ApiError::not_found("webhooks", &p.id))?;
        let event = parse_event(&hook.event)?;
        validate(
            event,
            p.url.as_deref().unwrap_or(&hook.url),
            p.configuration.as_ref(),
        )?;
    }
    let mut out = Vec::new();
    for p in body.data {
        if let Some(hook) = db.webhooks.get_mut(&p.id) {
            if let Some(u) = p.url {
                hook.url = u;
            }
            if let Some(c) = p.configuration {
                hook.configuration.conditions = c.conditions;
            }
            hook.updated_at = Some(now);
            out.push(public(hook.clone()));
        }
    }
    Ok(ok(out))
}

pub async fn delete(
    State(s): State<Shared>,
    Extension(_ctx): Extension<Ctx>,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    s.db.lock()
        .webhooks
        .shift_remove(&id)
        .ok_or_else(|| ApiError::not_found("webhooks", &id))?;
    Ok(no_content())
}
