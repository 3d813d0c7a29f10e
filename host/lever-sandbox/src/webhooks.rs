//! Webhook delivery: handlers record events while they hold the data lock, then hand the
//! matching deliveries to a background worker through an unbounded channel, so a request
//! never waits on a receiver. Each delivery runs in its own task: POST with
//! `User-Agent: Lever-Webhooks`, success on any 2xx, otherwise (including 3xx and timeouts)
//! up to five retries after `base`, `2×base`, `4×base`, … The last 1000 delivery records are
//! kept for `webhook_deliveries()` and the admin API.

use crate::auth::random_string;
use crate::db::Db;
use lever_model::timestamp::now_millis;
use lever_model::{Origin, WebhookDelivery, WebhookEventType};
use parking_lot::Mutex;
use serde::Serialize;
use serde_json::{Map, Value};
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::{Semaphore, mpsc};
use tokio_util::sync::CancellationToken;

/// Retries after the first attempt (Lever: five).
pub const MAX_RETRIES: u32 = 5;
/// Delivery records kept (Lever's settings page keeps up to 1,000).
pub const MAX_RECORDS: usize = 1000;
/// Deliveries in flight at once.
const CONCURRENCY: usize = 64;

/// Something happened that webhooks may be subscribed to.
#[derive(Debug, Clone)]
pub(crate) struct Event {
    pub kind: WebhookEventType,
    pub data: Map<String, Value>,
    /// The opportunity's origin, for `configuration.conditions.origins`.
    pub origin: Option<Origin>,
}

impl Event {
    pub fn new(kind: WebhookEventType, origin: Option<Origin>, data: Value) -> Self {
        let data = match data {
            Value::Object(m) => m,
            _ => Map::new(),
        };
        Self { kind, data, origin }
    }
}

/// One delivery and how it went.
#[derive(Debug, Clone, Serialize)]
pub struct DeliveryRecord {
    pub webhook_id: String,
    pub event: String,
    pub url: String,
    /// Attempts made so far (1 + retries).
    pub attempts: u32,
    pub last_status: Option<u16>,
    pub delivered: bool,
    /// Why the last attempt failed, if it did (status, timeout, connection error).
    pub last_error: Option<String>,
    /// Whether the worker is done with it (delivered or retries exhausted).
    pub finished: bool,
    pub body: WebhookDelivery,
}

struct Job {
    url: String,
    body: WebhookDelivery,
}

struct Inner {
    records: Mutex<VecDeque<DeliveryRecord>>,
    client: reqwest::Client,
    retry_base: Duration,
    timeout: Duration,
    permits: Semaphore,
}

pub(crate) struct Webhooks {
    inner: Arc<Inner>,
    tx: mpsc::UnboundedSender<Job>,
}

impl Webhooks {
    /// Start the delivery worker; it stops when `cancel` fires.
    pub fn start(retry_base: Duration, timeout: Duration, cancel: CancellationToken) -> Self {
        let client = reqwest::Client::builder()
            .redirect(reqwest::redirect::Policy::none())
            .user_agent("Lever-Webhooks")
            .timeout(timeout)
            .build()
            .unwrap_or_default();
        let inner = Arc::new(Inner {
            records: Mutex::new(VecDeque::new()),
            client,
            retry_base,
            timeout,
            permits: Semaphore::new(CONCURRENCY),
        });
        let (tx, rx) = mpsc::unbounded_channel();
        tokio::spawn(run(inner.clone(), rx, cancel));
        Self { inner, tx }
    }

    /// Build signed deliveries for every subscription matching the events (call with the
    /// data lock held, then `enqueue` after releasing it).
    pub fn prepare(db: &Db, events: &[Event]) -> Vec<(String, String, WebhookDelivery)> {
        let mut out = Vec::new();
        for ev in events {
            for hook in db.webhooks.values().filter(|w| w.event == ev.kind.as_str()) {
                if ev.kind.supports_origin_conditions()
                    && let Some(cond) = &hook.configuration.conditions
                    && !cond.origins.is_empty()
                    && !ev.origin.is_some_and(|o| cond.origins.contains(&o))
                {
                    continue;
                }
                let mut body = WebhookDelivery {
                    id: Some(uuid::Uuid::new_v4().to_string()),
                    triggered_at: now_millis(),
                    event: ev.kind.as_str().to_owned(),
                    data: ev.data.clone(),
                    signature: None,
                    token: random_string(48),
                };
                if let Some(key) = &hook.configuration.signature_token {
                    body.sign(key);
                }
                out.push((hook.id.clone(), hook.url.clone(), body));
            }
        }
        out
    }

    /// Queue deliveries; never blocks.
    pub fn enqueue(&self, deliveries: Vec<(String, String, WebhookDelivery)>) {
        for (webhook_id, url, body) in deliveries {
            {
                let mut records = self.inner.records.lock();
                records.push_back(DeliveryRecord {
                    webhook_id,
                    event: body.event.clone(),
                    url: url.clone(),
                    attempts: 0,
                    last_status: None,
                    delivered: false,
                    last_error: None,
                    finished: false,
                    body: body.clone(),
                });
                while records.len() > MAX_RECORDS {
                    records.pop_front();
                }
            }
            if self.tx.send(Job { url, body }).is_err() {
                tracing::debug!("webhook worker stopped; delivery dropped");
            }
        }
    }

    pub fn records(&self) -> Vec<DeliveryRecord> {
        self.inner.records.lock().iter().cloned().collect()
    }
}

async fn run(inner: Arc<Inner>, mut rx: mpsc::UnboundedReceiver<Job>, cancel: CancellationToken) {
    loop {
        let job = tokio::select! {
            _ = cancel.cancelled() => break,
            job = rx.recv() => match job { Some(j) => j, None => break },
        };
        let inner = inner.clone();
        let cancel = cancel.clone();
        tokio::spawn(async move {
            tokio::select! {
                _ = cancel.cancelled() => {}
                _ = deliver(&inner, job) => {}
            }
        });
    }
}

async fn deliver(inner: &Inner, job: Job) {
    let id = job.body.id.clone().unwrap_or_default();
    let mut gap = inner.retry_base;
    for attempt in 1..=MAX_RETRIES + 1 {
        let outcome = {
            let Ok(_permit) = inner.permits.acquire().await else {
                return;
            };
            inner
                .client
                .post(&job.url)
                .header(http::header::USER_AGENT, "Lever-Webhooks")
                .timeout(inner.timeout)
                .json(&job.body)
                .send()
                .await
        };
        let (status, error) = match outcome {
            Ok(resp) if resp.status().is_success() => (Some(resp.status().as_u16()), None),
            Ok(resp) => (
                Some(resp.status().as_u16()),
                Some(format!("receiver answered {}", resp.status())),
            ),
            Err(e) if e.is_timeout() => (None, Some("timed out".to_owned())),
            Err(e) => (None, Some(format!("request failed: {e}"))),
        };
        let delivered = error.is_none();
        let finished = delivered || attempt == MAX_RETRIES + 1;
        {
            let mut records = inner.records.lock();
            if let Some(r) = records
                .iter_mut()
                .rev()
                .find(|r| r.body.id.as_deref() == Some(id.as_str()))
            {
                r.attempts = attempt;
                r.last_status = status;
                r.delivered = delivered;
                r.last_error = error;
                r.finished = finished;
            }
        }
        if finished {
            return;
        }
        tokio::time::sleep(gap).await;
        gap = gap.saturating_mul(2);
    }
}
