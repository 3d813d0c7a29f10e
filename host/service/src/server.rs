//! The HTTP server under [`crate::app`]: hyper's HTTP/1.1 connections with a header read
//! timeout (which also closes idle kept-alive connections), a body inactivity timeout
//! (tower-http), a cap on the request head, a limit on open connections, and a graceful
//! shutdown bounded in time. `axum::serve` sets none of these.
//!
//! HTTP/1.1 only: vendors and Lever post webhooks over HTTP/1.1 (TLS ends at the operator's
//! proxy), and the timeouts above are HTTP/1 ones.

use axum::Router;
use hyper::server::conn::http1;
use hyper_util::rt::{TokioIo, TokioTimer};
use hyper_util::service::TowerToHyperService;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;
use tokio::net::TcpListener;
use tokio::sync::Semaphore;
use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;
use tower_http::timeout::RequestBodyTimeoutLayer;

/// Limits of the HTTP server.
#[derive(Debug, Clone)]
pub struct HttpLimits {
    /// A request's head (request line and headers) must arrive within this, counted from
    /// when the connection starts waiting for it — so it is also how long an idle kept-alive
    /// connection stays open. The connection is closed.
    pub header_timeout: Duration,
    /// Longest pause while a request body is arriving; then the request fails (`408` from
    /// the ingress) and the connection is closed.
    pub body_timeout: Duration,
    /// Most connections open at once; further clients wait in the listen backlog until one
    /// closes.
    pub max_connections: usize,
    /// Largest request head (request line and headers) read; larger gets `431` and the
    /// connection is closed. The ingress has its own, smaller, cap on the headers it stores.
    pub max_header_bytes: usize,
    /// On shutdown, how long open connections get to finish their request.
    pub shutdown_grace: Duration,
}

impl Default for HttpLimits {
    fn default() -> Self {
        HttpLimits {
            header_timeout: Duration::from_secs(15),
            body_timeout: Duration::from_secs(15),
            max_connections: 1024,
            max_header_bytes: 64 * 1024,
            shutdown_grace: Duration::from_secs(30),
        }
    }
}

/// Serves `router` on `listener` under `limits` until `shutdown` completes; then stops
/// accepting, asks open connections to close after their current request, and waits for them
/// up to `limits.shutdown_grace`.
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: HttpLimits,
    shutdown: impl Future<Output = ()> + Send,
) -> std::io::Result<()> {
    let router = router.layer(RequestBodyTimeoutLayer::new(limits.body_timeout));
    let mut builder = http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(limits.header_timeout)
        .max_header_size(limits.max_header_bytes);
    let permits = Arc::new(Semaphore::new(limits.max_connections.max(1)));
    let stop = CancellationToken::new();
    let mut connections = JoinSet::new();
    let mut full_logged = false;
    tokio::pin!(shutdown);
    loop {
        if permits.available_permits() == 0 && !full_logged {
            tracing::warn!(
                max_connections = limits.max_connections,
                "connection limit reached; new clients wait until a connection closes"
            );
        }
        full_logged = permits.available_permits() == 0;
        let permit = tokio::select! {
            _ = &mut shutdown => break,
            permit = permits.clone().acquire_owned() => match permit {
                Ok(permit) => permit,
                Err(_) => break,
            },
        };
        let stream = tokio::select! {
            _ = &mut shutdown => break,
            accepted = listener.accept() => match accepted {
                Ok((stream, _)) => stream,
                Err(error) => {
                    // e.g. EMFILE: back off instead of spinning.
                    tracing::warn!(%error, "accepting a connection failed");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let _ = stream.set_nodelay(true);
        let connection = builder.serve_connection(
            TokioIo::new(stream),
            TowerToHyperService::new(router.clone()),
        );
        let stop = stop.clone();
        connections.spawn(async move {
            let _permit = permit;
            tokio::pin!(connection);
            let result = tokio::select! {
                result = connection.as_mut() => result,
                _ = stop.cancelled() => {
                    connection.as_mut().graceful_shutdown();
                    connection.await
                }
            };
            if let Err(error) = result {
                // Timeouts, resets and malformed requests: the client's problem, not ours.
                tracing::debug!(%error, "HTTP connection ended with an error");
            }
        });
        while connections.try_join_next().is_some() {}
    }
    drop(listener);
    stop.cancel();
    let drained = tokio::time::timeout(limits.shutdown_grace, async {
        while connections.join_next().await.is_some() {}
    })
    .await;
    if drained.is_err() {
        tracing::warn!(
            open = connections.len(),
            "closing connections still open after the shutdown grace period"
        );
        connections.abort_all();
    }
    Ok(())
}
