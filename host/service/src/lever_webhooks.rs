//! Lever webhook ingress: `POST /webhooks/lever/{tenant}` for the webhooks a tenant super
//! admin registered by hand, `POST /webhooks/lever/{tenant}/{installation}` for the ones the
//! host manages for an installation (`crate::managed_webhooks`).
//!
//! Lever signs a delivery in its JSON body, not a header: `signature` is the lowercase hex
//! HMAC-SHA256 of `token + triggeredAt` under the webhook's signature token. The host keeps
//! each tenant's signature tokens encrypted (`Store::set_lever_webhook_token`), and each
//! installation's managed webhook tokens (`Store::put_managed_webhook`); a route accepts a
//! delivery signed with any of its own tokens.
//!
//! Both routes check the same way and share the tenant's replay guard. The tenant route goes
//! to every subscribed installation except those with a managed webhook for the event (they
//! get it through their own route, so it is never queued twice for one); the installation
//! route goes to that installation only.
//!
//! Order: size (413), a stalled (408) or unreadable (400) body, content type (415), JSON
//! (400), a signature at all (401), `triggeredAt` within the freshness window (401 `stale`),
//! then the signature against the tenant's tokens (401; an unknown tenant, a tenant without
//! tokens and a wrong signature get the same answer). Nothing is stored for a refusal.
//!
//! Lever signs only `token + triggeredAt`, not `event`, `data` or `id`. So every verified
//! delivery is consumed once per tenant, named by exactly what the signature covers, before
//! anything else is decided from it (its event type, which plugins subscribe): a captured
//! delivery sent again — as is, or with `event`/`data` edited — is a duplicate, whatever
//! plugins are enabled by then. Then one event of kind `lever` per enabled installation whose
//! plugin subscribed to the event type, in the same transaction as the consumption, and only
//! after the commit a 2xx. `data` stays Lever's unsigned word: plugins that tell a vendor
//! about Lever state read that state from Lever (SDK README). Events about one opportunity (or
//! contact) are handled in order.

use axum::body::Body;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::post;
use axum::{Json, Router};
use fulcrum_store::{NewEvent, now_ms};
use lever_model::WebhookDelivery;
use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use sha2::{Digest, Sha256};
use std::time::Duration;
use tracing::Instrument as _;

use crate::api_error::ApiError;
use crate::event_payload::{StoredLeverEvent, event_ref, kind, lever_event_kind};
use crate::ingress::read_json_body;
use crate::observability::log_refusal;
use crate::{Host, metrics_names as m};

/// Longest Lever token used verbatim in a dedupe key; longer ones are hashed.
const MAX_KEY_PART: usize = 128;
/// Checked when a tenant has no signature token, so that answer takes as long as a mismatch.
const NO_TOKEN: &str = "no Lever webhook signature token is registered";

pub(crate) fn router() -> Router<Host> {
    Router::new()
        .route("/webhooks/lever/{tenant}", post(tenant_delivery))
        .route(
            "/webhooks/lever/{tenant}/{installation}",
            post(installation_delivery),
        )
}

/// Whose webhook a delivery came through.
#[derive(Clone, Copy)]
enum Receiver<'a> {
    /// The tenant's, registered by hand.
    Tenant,
    /// An installation's, managed by the host.
    Installation(&'a str),
}

impl<'a> Receiver<'a> {
    fn installation(self) -> Option<&'a str> {
        match self {
            Receiver::Tenant => None,
            Receiver::Installation(id) => Some(id),
        }
    }
}

/// What a delivery led to.
enum Accepted {
    /// Queued for these plugins (or already queued, for a replay).
    Queued {
        event_ids: Vec<String>,
        duplicate: bool,
    },
    /// No enabled plugin of the tenant subscribed to it (when it was first delivered).
    Ignored { duplicate: bool },
}

async fn tenant_delivery(
    State(host): State<Host>,
    Path(tenant): Path<String>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    respond(&host, &tenant, Receiver::Tenant, &headers, body).await
}

async fn installation_delivery(
    State(host): State<Host>,
    Path((tenant, installation)): Path<(String, String)>,
    headers: HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let receiver = Receiver::Installation(&installation);
    respond(&host, &tenant, receiver, &headers, body).await
}

async fn respond(
    host: &Host,
    tenant: &str,
    receiver: Receiver<'_>,
    headers: &HeaderMap,
    body: Body,
) -> Result<Response, ApiError> {
    let installation = receiver.installation();
    let span = tracing::info_span!("lever_webhook", tenant = %tenant, installation = installation);
    let result = accept(host, tenant, receiver, headers, body)
        .instrument(span)
        .await;
    let outcome = match &result {
        Ok(Accepted::Queued {
            duplicate: false, ..
        }) => "accepted",
        Ok(Accepted::Queued {
            duplicate: true, ..
        })
        | Ok(Accepted::Ignored { duplicate: true }) => "duplicate",
        Ok(Accepted::Ignored { duplicate: false }) => "ignored",
        Err(e) if e.code() == "stale" => "stale",
        Err(e) if e.status() == StatusCode::UNAUTHORIZED => "unauthorized",
        Err(e) if e.status().is_client_error() => "rejected",
        Err(_) => "error",
    };
    metrics::counter!(m::LEVER_WEBHOOKS_TOTAL, "outcome" => outcome).increment(1);
    Ok(match result {
        Err(e) => {
            // Signature refusals were logged with their real reason where they happened.
            if e.status().is_client_error() && e.status() != StatusCode::UNAUTHORIZED {
                log_refusal(
                    "lever_webhook",
                    tenant,
                    installation,
                    e.status(),
                    e.message(),
                );
            }
            return Err(e);
        }
        Ok(Accepted::Queued {
            event_ids,
            duplicate,
        }) => (
            StatusCode::ACCEPTED,
            Json(json!({ "event_ids": event_ids, "duplicate": duplicate })),
        )
            .into_response(),
        Ok(Accepted::Ignored { duplicate }) => (
            StatusCode::OK,
            Json(json!({
                "event_ids": [],
                "duplicate": duplicate,
                "ignored": match receiver {
                    Receiver::Tenant => "no enabled plugin of this tenant subscribes to this \
                                         event type (through this URL)",
                    Receiver::Installation(_) => "the installation is disabled or does not \
                                                  subscribe to this event type",
                },
            })),
        )
            .into_response(),
    })
}

async fn accept(
    host: &Host,
    tenant: &str,
    receiver: Receiver<'_>,
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
    if delivery.signature.as_deref().is_none_or(str::is_empty) {
        // Said as it is: it does not depend on the tenant, so it tells nothing about it.
        let installation = receiver.installation();
        log_refusal(
            "lever_webhook",
            tenant,
            installation,
            StatusCode::UNAUTHORIZED,
            "no signature",
        );
        return Err(ApiError::new(
            StatusCode::UNAUTHORIZED,
            "unauthorized",
            "the delivery carries no signature; Lever signs every webhook created since 2021, \
             nothing was stored",
        ));
    }
    check_fresh(
        tenant,
        delivery.triggered_at,
        now_ms(),
        inner.config.lever_webhook_max_age,
        inner.config.lever_webhook_clock_skew,
    )?;
    verify(host, tenant, receiver, &delivery).await?;
    let plugins = recipients(host, tenant, receiver, &delivery.event).await?;

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
    let accepted = inner
        .store
        .accept_lever_delivery(
            tenant,
            &signed_digest(&delivery),
            delivery.triggered_at,
            &events,
        )
        .await
        .map_err(|e| ApiError::unavailable("could not store the Lever event", e))?;
    if accepted.duplicate {
        tracing::info!(lever_event = %delivery.event, "a Lever delivery already consumed was sent again; nothing queued");
    } else {
        for (plugin, id) in plugins.iter().zip(&accepted.event_ids) {
            inner.wake.notify_one();
            tracing::info!(plugin = %plugin, event_id = id, lever_event = %delivery.event, "Lever event queued");
        }
    }
    if accepted.event_ids.is_empty() {
        tracing::debug!(event = %delivery.event, "no plugin subscribes to this Lever event");
        return Ok(Accepted::Ignored {
            duplicate: accepted.duplicate,
        });
    }
    Ok(Accepted::Queued {
        event_ids: accepted.event_ids.iter().map(|id| event_ref(*id)).collect(),
        duplicate: accepted.duplicate,
    })
}

/// Refuses a delivery whose `triggeredAt` (signed) is older than `max_age` or ahead of this
/// host's clock, each with `skew` of slack: a captured delivery can be sent again only within
/// that window, and within it the consumed signature makes it a duplicate.
fn check_fresh(
    tenant: &str,
    triggered_at: i64,
    now: i64,
    max_age: Duration,
    skew: Duration,
) -> Result<(), ApiError> {
    let ms = |d: Duration| i64::try_from(d.as_millis()).unwrap_or(i64::MAX);
    let age = now.saturating_sub(triggered_at);
    let problem = if age > ms(max_age).saturating_add(ms(skew)) {
        format!(
            "triggeredAt is {}s old; deliveries are accepted up to {}s after Lever sent them",
            age / 1000,
            max_age.as_secs()
        )
    } else if age < -ms(skew) {
        format!(
            "triggeredAt is {}s ahead of this host's clock (more than the {}s allowed)",
            -age / 1000,
            skew.as_secs()
        )
    } else {
        return Ok(());
    };
    log_refusal(
        "lever_webhook",
        tenant,
        None,
        StatusCode::UNAUTHORIZED,
        &problem,
    );
    Err(ApiError::new(
        StatusCode::UNAUTHORIZED,
        "stale",
        format!(
            "stale delivery: {problem}, so that a captured delivery cannot be replayed later; \
             check both clocks; nothing was stored"
        ),
    ))
}

/// The installations a verified delivery goes to: enabled, subscribed to the event; through
/// the tenant's route only those without a managed webhook for it. An enabled plugin not
/// loaded here makes Lever retry (nothing is consumed) instead of losing the event for it.
async fn recipients(
    host: &Host,
    tenant: &str,
    receiver: Receiver<'_>,
    event: &str,
) -> Result<Vec<String>, ApiError> {
    let inner = &host.inner;
    let Some(event_kind) = lever_event_kind(event) else {
        tracing::info!(event = %event, "Lever event unknown to the plugin contract; consumed, not queued");
        return Ok(Vec::new());
    };
    let installations = match receiver {
        Receiver::Tenant => inner.store.list_installations(tenant).await?,
        Receiver::Installation(id) => inner
            .store
            .get_installation(tenant, id)
            .await?
            .into_iter()
            .collect(),
    };
    let mut plugins = Vec::new();
    for installation in installations {
        if !installation.enabled {
            continue;
        }
        let Some(plugin) = inner.runtime.active(&installation.plugin) else {
            return Err(ApiError::unavailable(
                "a plugin enabled for this tenant is not loaded on this host",
                format!("plugin {:?} is not loaded", installation.plugin),
            ));
        };
        if !plugin.manifest().lever_events.contains(&event_kind) {
            continue;
        }
        if matches!(receiver, Receiver::Tenant)
            && inner
                .store
                .managed_webhooks(tenant, &installation.plugin_id)
                .await?
                .iter()
                .any(|w| w.event == event)
        {
            tracing::debug!(installation = %installation.plugin_id, "gets this event through its managed webhook");
            continue;
        }
        plugins.push(installation.plugin_id);
    }
    Ok(plugins)
}

/// Checks the body's signature against every signature token of the receiver (the tenant's
/// registered tokens, or the installation's managed ones), each in constant time (HMAC
/// verification), without revealing which token matched — or whether the tenant or
/// installation exists or has tokens: all of these get the same answer.
async fn verify(
    host: &Host,
    tenant: &str,
    receiver: Receiver<'_>,
    delivery: &WebhookDelivery,
) -> Result<(), ApiError> {
    let store = &host.inner.store;
    let tokens: Vec<SecretString> = match receiver {
        Receiver::Tenant => store
            .lever_webhook_tokens(tenant)
            .await?
            .into_iter()
            .map(|t| t.token)
            .collect(),
        Receiver::Installation(id) => store.managed_webhook_tokens(tenant, id).await?,
    };
    let matched = if tokens.is_empty() {
        let _ = delivery.verify(NO_TOKEN);
        false
    } else {
        tokens.iter().fold(false, |matched, t| {
            delivery.verify(t.expose_secret()).is_ok() | matched
        })
    };
    if matched {
        return Ok(());
    }
    let reason = match (receiver, tokens.is_empty()) {
        (Receiver::Tenant, false) => "the signature matches none of the tenant's signature tokens",
        (Receiver::Installation(_), false) => {
            "the signature matches none of the installation's managed webhook tokens"
        }
        _ if store.get_tenant(tenant).await?.is_none() => "unknown tenant",
        (Receiver::Tenant, true) => "the tenant has no Lever webhook signature token",
        (Receiver::Installation(_), true) => {
            "the installation is unknown or has no managed Lever webhook"
        }
    };
    let installation = receiver.installation();
    log_refusal(
        "lever_webhook",
        tenant,
        installation,
        StatusCode::UNAUTHORIZED,
        reason,
    );
    let what_to_do = match receiver {
        Receiver::Tenant => "a tenant super admin registers the token Lever shows for the webhook",
        Receiver::Installation(_) => {
            "the host creates this URL's webhooks itself: a tenant super admin syncs the \
             installation's Lever webhooks"
        }
    };
    Err(ApiError::new(
        StatusCode::UNAUTHORIZED,
        "unauthorized",
        format!(
            "the signature does not match any Lever webhook signature token registered for \
             this URL ({what_to_do}); nothing was stored"
        ),
    ))
}

/// Names the delivery by exactly what its signature covers: SHA-256 of the bytes Lever
/// signs, `token` then `triggeredAt` in decimal. So a delivery whose token and time are cut
/// differently from the same bytes is the same delivery.
fn signed_digest(delivery: &WebhookDelivery) -> String {
    let mut digest = Sha256::new();
    digest.update(delivery.token.as_bytes());
    digest.update(delivery.triggered_at.to_string().as_bytes());
    hex::encode(digest.finalize())
}

/// The events' dedupe key (per plugin, as before consumption existed): the one-time `token`
/// and `triggeredAt`. Not Lever's event `id`: it is outside the signature. Long tokens are
/// hashed to bound the key.
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
    fn the_consumed_name_is_the_signed_bytes_however_they_are_cut() {
        let mut a = delivery(None, "abc1");
        a.triggered_at = 23;
        let mut b = delivery(None, "abc");
        b.triggered_at = 123;
        // Lever signs "abc123" for both: the same signature, so the same delivery.
        assert_eq!(
            lever_model::webhook::sign("k", &a.token, a.triggered_at),
            lever_model::webhook::sign("k", &b.token, b.triggered_at)
        );
        assert_eq!(signed_digest(&a), signed_digest(&b));
        assert_ne!(signed_digest(&a), signed_digest(&delivery(None, "abc1")));
        // Unsigned fields do not change it.
        let mut edited = a.clone();
        edited.event = "candidateHired".into();
        edited.data.insert("toStageId".into(), json!("hired"));
        assert_eq!(signed_digest(&a), signed_digest(&edited));
    }

    #[test]
    fn only_fresh_deliveries_pass() {
        let (age, skew) = (Duration::from_secs(300), Duration::from_secs(60));
        let now = 1_000_000_000;
        let at = |offset_s: i64| now + offset_s * 1000;
        for ok in [0, -300, -359, 59] {
            assert!(check_fresh("t", at(ok), now, age, skew).is_ok(), "{ok}");
        }
        for stale in [-361, 61, -86_400] {
            let error = check_fresh("t", at(stale), now, age, skew).unwrap_err();
            assert_eq!(error.status(), StatusCode::UNAUTHORIZED);
            assert_eq!(error.code(), "stale", "{}", error.message());
        }
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
