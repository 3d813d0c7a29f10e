//! A stand-in vendor HTTP server that records requests and answers with scripted replies.
//! See the README.

use axum::Router;
use axum::body::Bytes;
use axum::extract::{Request, State};
use axum::response::{IntoResponse, Response};
use parking_lot::{Mutex, RwLock};
use serde_json::{Value, json};
use std::net::SocketAddr;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio_util::sync::CancellationToken;

/// One request as the vendor received it.
#[derive(Debug, Clone)]
pub struct Recorded {
    pub method: String,
    pub path: String,
    pub query: String,
    /// Header names lower-cased, in arrival order.
    pub headers: Vec<(String, String)>,
    pub body: Bytes,
}

impl Recorded {
    /// The first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        let name = name.to_ascii_lowercase();
        self.headers
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, v)| v.as_str())
    }

    /// The body as JSON (`Value::Null` when it is not JSON).
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap_or(Value::Null)
    }
}

/// What the double answers.
#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    pub headers: Vec<(String, String)>,
    pub body: Vec<u8>,
}

impl Reply {
    pub fn json(status: u16, body: Value) -> Self {
        Reply {
            status,
            headers: vec![("content-type".into(), "application/json".into())],
            body: body.to_string().into_bytes(),
        }
    }

    pub fn with_header(mut self, name: &str, value: &str) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }
}

type Responder = Arc<dyn Fn(&Recorded) -> Reply + Send + Sync>;

struct Shared {
    recorded: Mutex<Vec<Recorded>>,
    responder: RwLock<Responder>,
}

/// A running double; stops when dropped.
pub struct VendorDouble {
    addr: SocketAddr,
    shared: Arc<Shared>,
    stop: CancellationToken,
}

impl VendorDouble {
    /// Listens on 127.0.0.1 on a free port.
    pub async fn start() -> std::io::Result<Self> {
        Self::start_on("127.0.0.1:0".parse().expect("literal address")).await
    }

    pub async fn start_on(addr: SocketAddr) -> std::io::Result<Self> {
        let listener = tokio::net::TcpListener::bind(addr).await?;
        let addr = listener.local_addr()?;
        let shared = Arc::new(Shared {
            recorded: Mutex::new(Vec::new()),
            responder: RwLock::new(Arc::new(|_: &Recorded| {
                Reply::json(200, json!({"ok": true}))
            })),
        });
        let stop = CancellationToken::new();
        let app = Router::new().fallback(record).with_state(shared.clone());
        let stopped = stop.clone();
        tokio::spawn(async move {
            let _ = axum::serve(listener, app)
                .with_graceful_shutdown(async move { stopped.cancelled().await })
                .await;
        });
        Ok(VendorDouble { addr, shared, stop })
    }

    /// `http://127.0.0.1:PORT`: the alias target for the connector's declared origin.
    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Replaces how requests are answered (requests already answered are not affected).
    pub fn respond_with(&self, responder: impl Fn(&Recorded) -> Reply + Send + Sync + 'static) {
        *self.shared.responder.write() = Arc::new(responder);
    }

    /// Every request so far, in arrival order.
    pub fn requests(&self) -> Vec<Recorded> {
        self.shared.recorded.lock().clone()
    }

    /// The requests so far that `matches` selects.
    pub fn requests_matching(&self, matches: impl Fn(&Recorded) -> bool) -> Vec<Recorded> {
        self.requests().into_iter().filter(|r| matches(r)).collect()
    }

    /// Waits until at least `count` requests match, then returns all that match; panics with
    /// what was received after `limit` (this is a test and demo aid).
    pub async fn wait_for(
        &self,
        matches: impl Fn(&Recorded) -> bool,
        count: usize,
        limit: Duration,
    ) -> Vec<Recorded> {
        let started = Instant::now();
        loop {
            let found = self.requests_matching(&matches);
            if found.len() >= count {
                return found;
            }
            if started.elapsed() > limit {
                let seen: Vec<String> = self
                    .requests()
                    .iter()
                    .map(|r| format!("{} {}", r.method, r.path))
                    .collect();
                panic!(
                    "the vendor double got {} of {count} expected requests within {limit:?}; all requests: {seen:?}",
                    found.len()
                );
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// Forgets the requests recorded so far.
    pub fn clear(&self) {
        self.shared.recorded.lock().clear();
    }
}

impl Drop for VendorDouble {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

async fn record(State(shared): State<Arc<Shared>>, request: Request) -> Response {
    let (parts, body) = request.into_parts();
    let body = match axum::body::to_bytes(body, 16 * 1024 * 1024).await {
        Ok(body) => body,
        Err(e) => {
            return (
                http::StatusCode::PAYLOAD_TOO_LARGE,
                format!("vendor double: body unreadable: {e}"),
            )
                .into_response();
        }
    };
    let recorded = Recorded {
        method: parts.method.to_string(),
        path: parts.uri.path().to_owned(),
        query: parts.uri.query().unwrap_or_default().to_owned(),
        headers: parts
            .headers
            .iter()
            .map(|(n, v)| {
                (
                    n.as_str().to_owned(),
                    String::from_utf8_lossy(v.as_bytes()).into_owned(),
                )
            })
            .collect(),
        body,
    };
    let responder = shared.responder.read().clone();
    let reply = responder(&recorded);
    shared.recorded.lock().push(recorded);
    let mut response = Response::new(axum::body::Body::from(reply.body));
    *response.status_mut() =
        http::StatusCode::from_u16(reply.status).unwrap_or(http::StatusCode::INTERNAL_SERVER_ERROR);
    for (name, value) in reply.headers {
        if let (Ok(name), Ok(value)) = (
            http::HeaderName::from_bytes(name.as_bytes()),
            http::HeaderValue::from_str(&value),
        ) {
            response.headers_mut().append(name, value);
        }
    }
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn records_requests_and_answers_as_scripted() {
        let vendor = VendorDouble::start().await.unwrap();
        vendor.respond_with(|r| {
            if r.path == "/v1/jobs" {
                Reply::json(201, json!({"id": "job_1", "got": r.json()["title"]}))
            } else {
                Reply::json(404, json!({"error": "no route"}))
            }
        });
        let http = reqwest::Client::new();
        let created = http
            .post(format!("{}/v1/jobs?x=1", vendor.origin()))
            .header("Idempotency-Key", "e1:0")
            .json(&json!({"title": "Engineer"}))
            .send()
            .await
            .unwrap();
        assert_eq!(created.status(), 201);
        let body: Value = created.json().await.unwrap();
        assert_eq!(body, json!({"id": "job_1", "got": "Engineer"}));
        let missing = http
            .get(format!("{}/nope", vendor.origin()))
            .send()
            .await
            .unwrap();
        assert_eq!(missing.status(), 404);

        let seen = vendor
            .wait_for(|r| r.path == "/v1/jobs", 1, Duration::from_secs(5))
            .await;
        assert_eq!(seen[0].method, "POST");
        assert_eq!(seen[0].query, "x=1");
        assert_eq!(seen[0].header("idempotency-key"), Some("e1:0"));
        assert_eq!(seen[0].json()["title"], "Engineer");
        assert_eq!(vendor.requests().len(), 2);
        vendor.clear();
        assert!(vendor.requests().is_empty());
    }
}
