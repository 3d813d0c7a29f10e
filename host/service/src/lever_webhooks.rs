//! Lever webhook ingress: `POST /webhooks/lever/{tenant}`.
//!
//! Lever signs a delivery in its JSON body, not a header: `signature` is the lowercase hex
//! HMAC-SHA256 of `token + triggeredAt` under the webhook's signature token. The host keeps
//! each tenant's signature tokens encrypted (`Store::set_lever_webhook_token`) and accepts a
//! delivery signed with any of them.
//!
//! Order: size (413) and content type (415), JSON (400), the tenant (404), the signature
//! (401; nothing stored); then one event of kind `lever` per enabled installation whose plugin
//! subscribed to the event type, all in one transaction, and only after the commit a 2xx.
//! Lever retries anything else, and its retries (and replays of the same delivery) are
//! deduped on its signed `token` + `triggeredAt` (not Lever's unsigned event `id`).
//! Events about one opportunity (or contact) are handled in order.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use fulcrum_store::NewEvent;
use lever_model::WebhookDelivery;
use secrecy::ExposeSecret;
use serde_json::json;
use sha2::{Digest, Sha256};
use tracing::Instrument as _;

use crate::api_error::ApiError;
use crate::event_payload::{StoredLeverEvent, event_ref, kind, lever_event_kind};
use crate::ingress::read_json_body;
use crate::{Host, metrics_names as m};

/// Longest Lever token used verbatim in a dedupe key; longer ones are hashed.
const MAX_KEY_PART: usize = 128;

pub(crate) fn router() -> Router<Host> {
    Router::new().route("/webhooks/lever/{tenant}", post(delivery))
}

/// What a delivery led to.
enum Accepted {
    /// Queued for these plugins (or already queued, for a replay).
    Queued {
        event_ids: Vec<String>,
        duplicate: bool,
    },
    /// No enabled plugin of the tenant subscribes to this event type.
    Ignored { event: String },
}

async fn delivery(
    State(host): State<Host>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let span = tracing::info_span!("lever_webhook", tenant = %tenant);
    let result = accept(&host, &tenant, &headers, body)
        .instrument(span)
        .await;
    let outcome = match &result {
        Ok(Accepted::Queued {
            duplicate: false, ..
        }) => "accepted",
        Ok(Accepted::Queued {
            duplicate: true, ..
        }) => "duplicate",
        Ok(Accepted::Ignored { .. }) => "ignored",
        Err(e) if e.status() == StatusCode::UNAUTHORIZED => "unauthorized",
        Err(e) if e.status().is_client_error() => "rejected",
        Err(_) => "error",
    };
    metrics::counter!(m::LEVER_WEBHOOKS_TOTAL, "outcome" => outcome).increment(1);
    Ok(match result? {
        Accepted::Queued {
            event_ids,
            duplicate,
        } => (
            StatusCode::ACCEPTED,
            Json(json!({ "event_ids": event_ids, "duplicate": duplicate })),
        )
            .into_response(),
        Accepted::Ignored { event } => (
            StatusCode::OK,
            Json(json!({
                "event_ids": [],
                "duplicate": false,
                "ignored": format!("no enabled plugin of this tenant subscribes to {event:?}"),
            })),
        )
            .into_response(),
    })
}

async fn accept(
    host: &Host,
    tenant: &str,
    headers: &HeaderMap,
    body: Body,
) -> Result<Accepted, ApiError> {
    let inner = &host.inner;
    let body = read_json_body(
        body,
        headers,
        inner.config.max_ingress_body,
        "Lever webhooks",
    )
    .await?;
    let delivery: WebhookDelivery = serde_json::from_slice(&body).map_err(|e| {
        ApiError::bad_request(format!(
            "the body is not a Lever webhook delivery ({e}); expected JSON with triggeredAt, \
             event, data, token and signature"
        ))
    })?;

    if inner.store.get_tenant(tenant).await?.is_none() {
        return Err(ApiError::not_found(format!(
            "unknown tenant {tenant:?}; check the webhook URL configured in Lever"
        )));
    }
    verify(host, tenant, &delivery).await?;

    let Some(event_kind) = lever_event_kind(&delivery.event) else {
        tracing::info!(event = %delivery.event, "Lever event unknown to the plugin contract; ignored");
        return Ok(Accepted::Ignored {
            event: delivery.event,
        });
    };
    let mut plugins = Vec::new();
    for installation in inner.store.list_installations(tenant).await? {
        if !installation.enabled {
            continue;
        }
        let Some(plugin) = inner.runtime.active(&installation.plugin_id) else {
            // Skipping it would lose the event for that plugin; refusing makes Lever retry
            // once the operator has loaded it.
            return Err(ApiError::unavailable(
                "a plugin enabled for this tenant is not loaded on this host",
                format!("plugin {:?} is not loaded", installation.plugin_id),
            ));
        };
        if plugin.manifest().lever_events.contains(&event_kind) {
            plugins.push(installation.plugin_id);
        }
    }
    if plugins.is_empty() {
        tracing::debug!(event = %delivery.event, "no plugin subscribes to this Lever event");
        return Ok(Accepted::Ignored {
            event: delivery.event,
        });
    }

    let dedupe_key = dedupe_key(&delivery);
    let stored = StoredLeverEvent {
        event: delivery.event.clone(),
        triggered_at: delivery.triggered_at,
        lever_id: delivery.id.clone(),
        data: delivery.data.clone(),
    };
    let subject_key = subject_key(&stored).unwrap_or_else(|| dedupe_key.clone());
    let payload = serde_json::to_value(&stored).map_err(|e| ApiError::internal("payload", e))?;
    let events: Vec<NewEvent> = plugins
        .iter()
        .map(|plugin| NewEvent {
            tenant_id: tenant.to_owned(),
            plugin_id: plugin.clone(),
            kind: kind::LEVER.to_owned(),
            subject_key: subject_key.clone(),
            payload: payload.clone(),
            dedupe_key: Some(dedupe_key.clone()),
        })
        .collect();
    let enqueued = inner
        .store
        .enqueue_events(&events)
        .await
        .map_err(|e| ApiError::unavailable("could not store the Lever event", e))?;
    for (plugin, queued) in plugins.iter().zip(&enqueued) {
        if !queued.duplicate {
            inner.wake.notify_one();
        }
        tracing::info!(
            plugin = %plugin, event_id = queued.id, lever_event = %delivery.event,
            duplicate = queued.duplicate, "Lever event queued"
        );
    }
    Ok(Accepted::Queued {
        event_ids: enqueued.iter().map(|e| event_ref(e.id)).collect(),
        duplicate: enqueued.iter().all(|e| e.duplicate),
    })
}

/// Checks the body's signature against every signature token of the tenant, each in
/// constant time (HMAC verification), without revealing which token matched.
async fn verify(host: &Host, tenant: &str, delivery: &WebhookDelivery) -> Result<(), ApiError> {
    let unauthorized = |message: &str| {
        tracing::warn!(reason = message, "Lever webhook refused");
        ApiError::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    };
    if delivery.signature.as_deref().is_none_or(str::is_empty) {
        return Err(unauthorized(
            "the delivery carries no signature; Lever signs every webhook created since 2021, \
             nothing was stored",
        ));
    }
    let tokens = host.inner.store.lever_webhook_tokens(tenant).await?;
    if tokens.is_empty() {
        return Err(unauthorized(
            "no Lever webhook signature token is registered for this tenant; a tenant admin \
             must add the webhook's signature token, nothing was stored",
        ));
    }
    let matched = tokens.iter().fold(false, |matched, t| {
        delivery.verify(t.token.expose_secret()).is_ok() | matched
    });
    if matched {
        Ok(())
    } else {
        Err(unauthorized(
            "the signature does not match any of this tenant's Lever webhook signature tokens; \
             nothing was stored",
        ))
    }
}

/// Names the delivery by what its signature covers: the one-time `token` and `triggeredAt`.
/// Not Lever's event `id`: it is outside the signature, so a captured delivery with an edited
/// id would otherwise run again. Long tokens are hashed to bound the key.
fn dedupe_key(delivery: &WebhookDelivery) -> String {
    let token = if delivery.token.len() <= MAX_KEY_PART {
        delivery.token.clone()
    } else {
        format!(
            "sha256:{}",
            hex::encode(Sha256::digest(delivery.token.as_bytes()))
        )
    };
    format!("lever:token:{token}:{}", delivery.triggered_at)
}

/// Events about one opportunity (else one contact) share a subject, so they run in order.
fn subject_key(event: &StoredLeverEvent) -> Option<String> {
    if let Some(id) = event.opportunity_id() {
        return Some(format!("opportunity:{id}"));
    }
    event
        .data
        .get("contactId")
        .and_then(|v| v.as_str())
        .map(|id| format!("contact:{id}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn delivery(id: Option<&str>, token: &str) -> WebhookDelivery {
        WebhookDelivery {
            id: id.map(str::to_owned),
            triggered_at: 1431454330072,
            event: "candidateStageChange".into(),
            data: serde_json::Map::new(),
            signature: None,
            token: token.into(),
        }
    }

    #[test]
    fn dedupe_key_is_what_the_signature_covers() {
        assert_eq!(
            dedupe_key(&delivery(None, "tok")),
            "lever:token:tok:1431454330072"
        );
        // An edited (unsigned) id does not make a replayed delivery new.
        assert_eq!(
            dedupe_key(&delivery(Some("e1"), "tok")),
            dedupe_key(&delivery(Some("e2"), "tok"))
        );
        let long = "x".repeat(1000);
        assert!(dedupe_key(&delivery(None, &long)).len() < 100);
    }

    #[test]
    fn subject_is_the_opportunity_else_the_contact() {
        let mut event = StoredLeverEvent {
            event: "candidateStageChange".into(),
            triggered_at: 1,
            lever_id: None,
            data: serde_json::Map::new(),
        };
        assert_eq!(subject_key(&event), None);
        event.data.insert("contactId".into(), json!("c1"));
        assert_eq!(subject_key(&event).as_deref(), Some("contact:c1"));
        event.data.insert("candidateId".into(), json!("o1"));
        assert_eq!(subject_key(&event).as_deref(), Some("opportunity:o1"));
    }
}
