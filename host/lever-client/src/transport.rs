//! Sending one Lever operation: URL building, throttling, the retry policy and the mapping of
//! statuses and transport failures to [`LeverError`].
//!
//! Retry policy, in one place:
//! - 429 and 503 are always retried: Lever did not process the request.
//! - connect errors are always retried: the request never left this host.
//! - 500/502/504, timeouts and other transport failures are retried only for idempotent
//!   operations. For a non-idempotent write they may mean "applied, but the answer was lost",
//!   so the caller gets `Unavailable { outcome_unknown: true }` at once and must reconcile.
//! - a 401 with an OAuth connection ([`Credential::OAuth`]) asks the token source for a
//!   newer token once and resends once (Lever did not process the request, so this is safe
//!   for every operation); a second 401 is returned.

use backon::{ExponentialBuilder, Retryable};
use bytes::Bytes;
use lever_model::{Data, Method, Operation, Page, PerformAs};
use reqwest::StatusCode;
use reqwest::header::{AUTHORIZATION, CONTENT_TYPE, HeaderMap, HeaderValue, RETRY_AFTER};
use secrecy::{ExposeSecret, SecretString};
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use std::sync::Arc;
use std::time::{Duration, Instant};
use url::Url;

use crate::credential::{Authorization, bearer_header, redact_secret};
use crate::metrics_names::{
    LABEL_LANE, LABEL_OPERATION, LABEL_STATUS, RATE_WAIT_SECONDS, REQUESTS_TOTAL, STATUS_ERROR,
};
use crate::multipart::{FormFields, build_form};
use crate::query::QueryPairs;
use crate::stats::StatsCounters;
use crate::{ClientConfig, Credential, DEFAULT_LANE, LeverError, RateLimits};

/// Longest piece of a non-JSON error body kept in an error message.
const MAX_ERROR_TEXT: usize = 300;

/// Everything a client needs to talk to Lever; shared by its clones and its streams.
pub(crate) struct Inner {
    http: reqwest::Client,
    pub(crate) config: ClientConfig,
    credential: Credential,
    auth: Authorization,
    pub(crate) fingerprint: String,
    limits: Arc<RateLimits>,
    /// Whose turn this client's requests take in the credential's rate budget.
    pub(crate) lane: Arc<str>,
    pub(crate) stats: StatsCounters,
}

/// A request body, kept as data so each attempt can rebuild it.
#[derive(Debug)]
pub(crate) enum Body {
    Empty,
    Json(Bytes),
    Form(FormFields),
}

impl Body {
    pub(crate) fn json<B: Serialize + ?Sized>(body: &B) -> Result<Body, LeverError> {
        serde_json::to_vec(body)
            .map(|v| Body::Json(Bytes::from(v)))
            .map_err(|e| LeverError::Config {
                message: format!("the request body could not be encoded as JSON: {e}"),
            })
    }
}

/// Why one attempt failed, as far as the retry policy cares.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Failure {
    /// Lever answered with this non-2xx status.
    Status(u16),
    /// No connection was made: nothing was sent.
    Connect,
    /// No (complete) answer in time: the request may have been processed.
    Timeout,
    /// The connection broke after the request may have been sent.
    Transport,
}

/// Whether an attempt that failed this way may be sent again.
pub(crate) fn should_retry(op: Operation, failure: Failure) -> bool {
    match failure {
        Failure::Status(429 | 503) | Failure::Connect => true,
        Failure::Status(500 | 502 | 504) | Failure::Timeout | Failure::Transport => {
            op.is_idempotent()
        }
        Failure::Status(_) => false,
    }
}

/// Whether Lever may have acted on a request that failed this way. 503 is Lever's
/// maintenance answer (nothing processed); other 5xx and broken exchanges are unknown.
pub(crate) fn may_have_reached_lever(failure: Failure) -> bool {
    match failure {
        Failure::Status(503) | Failure::Connect => false,
        Failure::Status(s) => s >= 500,
        Failure::Timeout | Failure::Transport => true,
    }
}

fn outcome_unknown(op: Operation, failure: Failure) -> bool {
    !op.is_idempotent() && may_have_reached_lever(failure)
}

/// One failed attempt.
#[derive(Debug)]
struct AttemptError {
    error: LeverError,
    /// `None` for failures that are ours (e.g. a bad file content type): never retried.
    failure: Option<Failure>,
    retry_after: Option<Duration>,
    /// The OAuth access token Lever answered 401 to.
    rejected_token: Option<SecretString>,
}

impl AttemptError {
    fn fatal(error: LeverError) -> Self {
        AttemptError {
            error,
            failure: None,
            retry_after: None,
            rejected_token: None,
        }
    }

    fn retryable(&self, op: Operation) -> bool {
        self.failure.is_some_and(|f| should_retry(op, f))
    }
}

/// Lever's `{code, message}` body, read leniently: other JSON shapes (v0's `{ok, error}`) and
/// non-JSON bodies (proxies, load balancers) still give a useful message.
pub(crate) fn parse_error_body(status: u16, body: &[u8]) -> (String, String) {
    let reason = StatusCode::from_u16(status)
        .ok()
        .and_then(|s| s.canonical_reason())
        .unwrap_or("error");
    if let Ok(Value::Object(map)) = serde_json::from_slice::<Value>(body) {
        let text = |key: &str| map.get(key).and_then(Value::as_str).map(str::to_owned);
        let code = text("code").unwrap_or_default();
        if let Some(message) = text("message").or_else(|| text("error")) {
            return (code, message);
        }
        if !code.is_empty() {
            return (code, reason.to_owned());
        }
    }
    let text = String::from_utf8_lossy(body);
    let text = text.trim();
    let message = if text.is_empty() {
        reason.to_owned()
    } else {
        truncate(text, MAX_ERROR_TEXT)
    };
    (String::new(), message)
}

fn truncate(text: &str, max_chars: usize) -> String {
    match text.char_indices().nth(max_chars) {
        Some((cut, _)) => format!("{}…", &text[..cut]),
        None => text.to_owned(),
    }
}

/// Maps a non-2xx answer to an error. The 403's permission comes from the operation table,
/// not from Lever's text, whose wording is unpublished.
pub(crate) fn error_from_status(
    op: Operation,
    status: u16,
    body: &[u8],
    retry_after: Option<Duration>,
) -> LeverError {
    let (code, message) = parse_error_body(status, body);
    match status {
        401 => LeverError::Unauthorized { message },
        403 => LeverError::Forbidden {
            operation: op,
            permission: op.permission(),
            message,
        },
        404 => LeverError::NotFound { message },
        429 => LeverError::RateLimited { retry_after },
        500..=599 => LeverError::Unavailable {
            status: Some(status),
            message,
            outcome_unknown: outcome_unknown(op, Failure::Status(status)),
        },
        _ => {
            let code = if code.is_empty() {
                StatusCode::from_u16(status)
                    .ok()
                    .and_then(|s| s.canonical_reason())
                    .unwrap_or("Error")
                    .replace(' ', "")
            } else {
                code
            };
            LeverError::Invalid {
                status,
                code,
                message,
            }
        }
    }
}

/// Lever documents no `Retry-After`, but a proxy in front of it might send one (seconds form).
fn parse_retry_after(headers: &HeaderMap) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?;
    value.trim().parse::<u64>().ok().map(Duration::from_secs)
}

/// Classifies a `reqwest` error. Connect errors are checked first because a connect timeout
/// is both, and a connect failure means nothing was sent.
fn classify_transport(e: &reqwest::Error) -> Option<Failure> {
    if e.is_builder() {
        None
    } else if e.is_connect() {
        Some(Failure::Connect)
    } else if e.is_timeout() {
        Some(Failure::Timeout)
    } else {
        Some(Failure::Transport)
    }
}

/// The error and its causes, without the URL (it can carry filters such as e-mails).
pub(crate) fn describe(e: reqwest::Error) -> String {
    let e = e.without_url();
    let mut text = e.to_string();
    let mut source = std::error::Error::source(&e);
    while let Some(s) = source {
        text.push_str(": ");
        text.push_str(&s.to_string());
        source = s.source();
    }
    text
}

/// Builds `base + op.path()` with `:name` segments replaced, in order, by `params`
/// (percent-encoded, so an id can never change the route), plus the query.
pub(crate) fn build_url(
    base: &Url,
    op: Operation,
    params: &[&str],
    query: &QueryPairs,
) -> Result<Url, LeverError> {
    let mut url = base.clone();
    {
        let mut segments = url.path_segments_mut().map_err(|_| LeverError::Config {
            message: "the Lever base URL cannot have a path".into(),
        })?;
        segments.pop_if_empty();
        let mut params = params.iter();
        for part in op.path().split('/').filter(|s| !s.is_empty()) {
            match part.strip_prefix(':') {
                Some(name) => {
                    let value = params.next().ok_or_else(|| LeverError::Config {
                        message: format!("'{}' needs a {name} id", op.label()),
                    })?;
                    // `url` drops "." and ".." segments, which would silently change the route.
                    if value.is_empty() || *value == "." || *value == ".." {
                        return Err(LeverError::Config {
                            message: format!(
                                "'{}' was given an invalid {name} id {value:?}; pass a Lever id",
                                op.label()
                            ),
                        });
                    }
                    segments.push(value);
                }
                None => {
                    segments.push(part);
                }
            }
        }
        if params.next().is_some() {
            return Err(LeverError::Config {
                message: format!("'{}' was given too many ids", op.label()),
            });
        }
    }
    if !query.is_empty() {
        url.query_pairs_mut()
            .extend_pairs(query.iter().map(|(k, v)| (*k, v.as_str())));
    }
    Ok(url)
}

/// Adds `perform_as` where the operation takes it. A missing or empty one is not invented or
/// checked here: Lever validates it (a required one that is missing is Lever's 400), and its
/// rules about which users qualify are Lever's to enforce.
pub(crate) fn add_perform_as(op: Operation, perform_as: Option<&str>, query: &mut QueryPairs) {
    let user = perform_as.map(str::trim).filter(|u| !u.is_empty());
    if let Some(user) = user
        && op.perform_as() != PerformAs::NotAccepted
    {
        query.push(("perform_as", user.to_owned()));
    }
}

fn method(op: Operation) -> reqwest::Method {
    match op.method() {
        Method::Get => reqwest::Method::GET,
        Method::Post => reqwest::Method::POST,
        Method::Put => reqwest::Method::PUT,
        Method::Delete => reqwest::Method::DELETE,
    }
}

fn decode_error(op: Operation, e: serde_json::Error) -> LeverError {
    LeverError::Decode {
        message: format!("{}: {e}", op.label()),
    }
}

/// `{"data": T}`.
pub(crate) fn decode_data<T: DeserializeOwned>(
    op: Operation,
    body: &[u8],
) -> Result<T, LeverError> {
    serde_json::from_slice::<Data<T>>(body)
        .map(|d| d.data)
        .map_err(|e| decode_error(op, e))
}

/// `{"data": T}` or the double-wrapped `{"data": {"data": T}}` some of Lever's create examples
/// show; `T` is an object with an `id`, so an inner `data` without `id` is a wrapper.
pub(crate) fn decode_data_unwrapping<T: DeserializeOwned>(
    op: Operation,
    body: &[u8],
) -> Result<T, LeverError> {
    let Data { data: mut value } =
        serde_json::from_slice::<Data<Value>>(body).map_err(|e| decode_error(op, e))?;
    while let Value::Object(map) = &mut value {
        if map.contains_key("id") {
            break;
        }
        match map.remove("data") {
            Some(inner) => value = inner,
            None => break,
        }
    }
    serde_json::from_value(value).map_err(|e| decode_error(op, e))
}

/// A list page; a bare array (one of Lever's examples shows one) is a single last page.
pub(crate) fn decode_page<T: DeserializeOwned>(
    op: Operation,
    body: &[u8],
) -> Result<Page<T>, LeverError> {
    let first = body.iter().find(|b| !b.is_ascii_whitespace());
    if first == Some(&b'[') {
        let data = serde_json::from_slice::<Vec<T>>(body).map_err(|e| decode_error(op, e))?;
        return Ok(Page {
            data,
            has_next: false,
            next: None,
        });
    }
    serde_json::from_slice::<Page<T>>(body).map_err(|e| decode_error(op, e))
}

impl Inner {
    pub(crate) fn new(
        config: ClientConfig,
        credential: Credential,
        limits: Arc<RateLimits>,
    ) -> Result<Self, LeverError> {
        config.validate()?;
        let auth = credential.authorization()?;
        let http = reqwest::Client::builder()
            .user_agent(config.user_agent.clone())
            .connect_timeout(config.request_timeout.min(Duration::from_secs(10)))
            .build()
            .map_err(|e| LeverError::Config {
                message: format!("the HTTP client could not be built: {}", describe(e)),
            })?;
        Ok(Inner {
            http,
            fingerprint: credential.fingerprint(),
            config,
            credential,
            auth,
            limits,
            lane: Arc::from(DEFAULT_LANE),
            stats: StatsCounters::default(),
        })
    }

    /// The same connection pool, credential, configuration and rate budget, in another lane,
    /// with counters of its own.
    pub(crate) fn for_lane(&self, lane: String) -> Inner {
        Inner {
            http: self.http.clone(),
            config: self.config.clone(),
            credential: self.credential.clone(),
            auth: self.auth.clone(),
            fingerprint: self.fingerprint.clone(),
            limits: self.limits.clone(),
            lane: Arc::from(lane),
            stats: StatsCounters::default(),
        }
    }

    pub(crate) fn url(
        &self,
        op: Operation,
        params: &[&str],
        query: &QueryPairs,
    ) -> Result<Url, LeverError> {
        build_url(&self.config.base_url, op, params, query)
    }

    /// Sends `op` with retries and returns the 2xx body. For an OAuth connection, a 401 gets
    /// one newer token from the source and one resend (itself with retries).
    pub(crate) async fn execute(
        &self,
        op: Operation,
        url: &Url,
        body: &Body,
    ) -> Result<Bytes, LeverError> {
        let first = self.execute_with_retries(op, url, body, None).await;
        let (source, rejected) = match (first, &self.auth) {
            (Ok(bytes), _) => return Ok(bytes),
            (
                Err(AttemptError {
                    rejected_token: Some(rejected),
                    ..
                }),
                Authorization::Source(source),
            ) => (source, rejected),
            (Err(e), _) => return Err(e.error),
        };
        tracing::info!(
            operation = %op.label(), credential = %self.fingerprint,
            "Lever rejected the OAuth access token (401); resending once with a newer token"
        );
        let fresh = source.refreshed(&rejected).await.map_err(|mut e| {
            self.redact(&mut e, Some(&rejected));
            e
        })?;
        if fresh.expose_secret() == rejected.expose_secret() {
            // Resending the token Lever just refused would only fail again.
            return Err(LeverError::Unauthorized {
                message: "Lever refused the access token and the connection's token source \
                          returned the same token again"
                    .into(),
            });
        }
        self.execute_with_retries(op, url, body, Some(&fresh))
            .await
            .map_err(|e| e.error)
    }

    /// Sends `op`, retrying per the policy above. `token` pins the OAuth access token (the
    /// resend after a 401); otherwise each attempt asks the credential for its header.
    async fn execute_with_retries(
        &self,
        op: Operation,
        url: &Url,
        body: &Body,
        token: Option<&SecretString>,
    ) -> Result<Bytes, AttemptError> {
        let config = &self.config;
        let backoff = ExponentialBuilder::default()
            .with_jitter()
            .with_min_delay(config.min_backoff)
            .with_max_delay(config.max_backoff)
            .with_max_times(config.max_retries);
        let max_backoff = config.max_backoff;
        let mut attempt = 1usize;
        (|| self.attempt(op, url, body, token))
            .retry(backoff)
            .sleep(tokio::time::sleep)
            .when(|e: &AttemptError| e.retryable(op))
            .adjust(|e: &AttemptError, next: Option<Duration>| {
                // Jitter may overshoot max_backoff; a Retry-After is honoured up to it.
                next.map(|d| e.retry_after.map_or(d, |ra| d.max(ra)).min(max_backoff))
            })
            .notify(|e: &AttemptError, delay: Duration| {
                self.stats.retried();
                let status = e.error.status();
                let failure = e.failure.map(|f| format!("{f:?}"));
                if status == Some(429) {
                    tracing::info!(
                        operation = %op.label(), attempt, ?status, delay_ms = delay.as_millis() as u64,
                        "Lever rate limited the request; retrying"
                    );
                } else {
                    tracing::warn!(
                        operation = %op.label(), attempt, ?status, ?failure,
                        delay_ms = delay.as_millis() as u64,
                        "Lever request failed; retrying"
                    );
                }
                attempt += 1;
            })
            .await
    }

    /// Waits for this lane's turn in the credential's rate budget and records the wait.
    async fn throttle(&self, op: Operation) {
        let started = Instant::now();
        self.limits.until_ready(&self.fingerprint, &self.lane).await;
        let waited = started.elapsed();
        self.stats.throttled(waited);
        metrics::histogram!(RATE_WAIT_SECONDS, LABEL_LANE => self.lane.clone()).record(waited);
        if waited >= Duration::from_millis(1) {
            tracing::debug!(
                operation = %op.label(), credential = %self.fingerprint, lane = %self.lane,
                waited_ms = waited.as_millis() as u64,
                "waited for the local Lever rate budget"
            );
        }
    }

    /// The `Authorization` header for one attempt and, for OAuth, the token in it. Asked
    /// after the throttle wait so that the token is as fresh as possible when sent.
    async fn authorization(
        &self,
        pinned: Option<&SecretString>,
    ) -> Result<(HeaderValue, Option<SecretString>), LeverError> {
        match &self.auth {
            Authorization::Fixed(value) => Ok((value.clone(), None)),
            Authorization::Source(source) => {
                let token = match pinned {
                    Some(token) => token.clone(),
                    None => source.access_token().await?,
                };
                Ok((bearer_header(&token, &self.fingerprint)?, Some(token)))
            }
        }
    }

    async fn attempt(
        &self,
        op: Operation,
        url: &Url,
        body: &Body,
        pinned: Option<&SecretString>,
    ) -> Result<Bytes, AttemptError> {
        self.throttle(op).await;
        let (header, token) = self
            .authorization(pinned)
            .await
            .map_err(AttemptError::fatal)?;
        let mut request = self
            .http
            .request(method(op), url.clone())
            .header(AUTHORIZATION, header)
            .timeout(self.config.request_timeout);
        request = match body {
            Body::Empty => request,
            Body::Json(bytes) => request
                .header(CONTENT_TYPE, "application/json")
                .body(bytes.clone()),
            Body::Form(fields) => {
                request.multipart(build_form(fields).map_err(AttemptError::fatal)?)
            }
        };
        self.stats.request_sent();
        let response = match request.send().await {
            Ok(r) => r,
            Err(e) => {
                self.count_attempt(op, None);
                return Err(self.transport_error(op, e, token.as_ref()));
            }
        };
        let status = response.status();
        self.count_attempt(op, Some(status.as_u16()));
        if status.is_success() {
            // A body lost after a 2xx is as unknown as a lost response.
            return response
                .bytes()
                .await
                .map_err(|e| self.transport_error(op, e, token.as_ref()));
        }
        if status == StatusCode::TOO_MANY_REQUESTS {
            self.stats.rate_limited();
        }
        let retry_after = parse_retry_after(response.headers());
        // Best effort: the status alone decides what happens next.
        let body = response.bytes().await.unwrap_or_default();
        let mut error = error_from_status(op, status.as_u16(), &body, retry_after);
        self.redact(&mut error, token.as_ref());
        let rejected_token = token.filter(|_| status == StatusCode::UNAUTHORIZED);
        Err(AttemptError {
            error,
            failure: Some(Failure::Status(status.as_u16())),
            retry_after,
            rejected_token,
        })
    }

    /// One sent attempt in [`REQUESTS_TOTAL`]; `status` is `None` when no answer came back.
    fn count_attempt(&self, op: Operation, status: Option<u16>) {
        let status = match status {
            Some(code) => metrics::SharedString::from(code.to_string()),
            None => metrics::SharedString::from(STATUS_ERROR),
        };
        metrics::counter!(
            REQUESTS_TOTAL,
            LABEL_LANE => self.lane.clone(),
            LABEL_OPERATION => op.label(),
            LABEL_STATUS => status,
        )
        .increment(1);
    }

    fn transport_error(
        &self,
        op: Operation,
        e: reqwest::Error,
        token: Option<&SecretString>,
    ) -> AttemptError {
        let Some(failure) = classify_transport(&e) else {
            return AttemptError::fatal(LeverError::Config {
                message: format!("'{}' could not be built: {}", op.label(), describe(e)),
            });
        };
        let message = match failure {
            Failure::Timeout => format!(
                "no complete answer to '{}' within {} ms",
                op.label(),
                self.config.request_timeout.as_millis()
            ),
            Failure::Connect => format!("could not connect for '{}': {}", op.label(), describe(e)),
            _ => format!("connection failed during '{}': {}", op.label(), describe(e)),
        };
        let mut error = LeverError::Unavailable {
            status: None,
            message,
            outcome_unknown: outcome_unknown(op, failure),
        };
        self.redact(&mut error, token);
        AttemptError {
            error,
            failure: Some(failure),
            retry_after: None,
            rejected_token: None,
        }
    }

    /// Strips the credential (and the OAuth access token of the attempt) from text that came
    /// from the other side.
    fn redact(&self, error: &mut LeverError, token: Option<&SecretString>) {
        let redact = |text: &str| {
            let text = self.credential.redact(text);
            match token {
                Some(token) => redact_secret(&text, token),
                None => text,
            }
        };
        match error {
            LeverError::Unauthorized { message }
            | LeverError::Forbidden { message, .. }
            | LeverError::NotFound { message }
            | LeverError::Unavailable { message, .. }
            | LeverError::Decode { message }
            | LeverError::Reconnect { message }
            | LeverError::Config { message } => *message = redact(message),
            LeverError::Invalid { code, message, .. } => {
                *code = redact(code);
                *message = redact(message);
            }
            LeverError::RateLimited { .. } => {}
        }
    }

    // ---- helpers used by the endpoint modules ----

    /// Sends `op` and returns the raw 2xx body.
    pub(crate) async fn send(
        &self,
        op: Operation,
        params: &[&str],
        query: QueryPairs,
        body: Body,
    ) -> Result<Bytes, LeverError> {
        let url = self.url(op, params, &query)?;
        self.execute(op, &url, &body).await
    }

    /// Sends `op` and decodes `{"data": T}`.
    pub(crate) async fn call<T: DeserializeOwned>(
        &self,
        op: Operation,
        params: &[&str],
        query: QueryPairs,
        body: Body,
    ) -> Result<T, LeverError> {
        let bytes = self.send(op, params, query, body).await?;
        decode_data(op, &bytes)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use lever_model::{Permission, Webhook};

    #[test]
    fn retry_classification_table() {
        let create = Operation::CreateOpportunity; // non-idempotent
        let get = Operation::GetOpportunity; // idempotent
        for op in [create, get] {
            assert!(should_retry(op, Failure::Status(429)));
            assert!(should_retry(op, Failure::Status(503)));
            assert!(should_retry(op, Failure::Connect));
            for s in [400, 401, 403, 404, 409, 422, 501] {
                assert!(!should_retry(op, Failure::Status(s)), "{op:?} {s}");
            }
        }
        for f in [
            Failure::Status(500),
            Failure::Status(502),
            Failure::Status(504),
            Failure::Timeout,
            Failure::Transport,
        ] {
            assert!(should_retry(get, f), "{f:?}");
            assert!(!should_retry(create, f), "{f:?}");
            assert!(outcome_unknown(create, f), "{f:?}");
            assert!(!outcome_unknown(get, f), "{f:?}");
        }
        assert!(!outcome_unknown(create, Failure::Status(503)));
        assert!(!outcome_unknown(create, Failure::Connect));
        assert!(!outcome_unknown(create, Failure::Status(429)));
        // Idempotent writes are retried on ambiguous failures.
        assert!(should_retry(Operation::AddTags, Failure::Timeout));
        assert!(!should_retry(Operation::UploadFile, Failure::Timeout));
    }

    #[test]
    fn statuses_map_to_typed_errors() {
        let json = br#"{"code":"X","message":"m"}"#;
        let op = Operation::CreateNote;
        assert!(matches!(
            error_from_status(op, 401, json, None),
            LeverError::Unauthorized { message } if message == "m"
        ));
        match error_from_status(op, 403, json, None) {
            LeverError::Forbidden {
                operation,
                permission,
                message,
            } => {
                assert_eq!(operation, op);
                assert_eq!(permission, Permission::CreateOpportunityNote);
                assert_eq!(message, "m");
            }
            e => panic!("{e:?}"),
        }
        assert!(matches!(
            error_from_status(op, 404, br#"{"code":"ResourceNotFound","message":"stages x was not found"}"#, None),
            LeverError::NotFound { message } if message == "stages x was not found"
        ));
        assert!(matches!(
            error_from_status(op, 400, json, None),
            LeverError::Invalid { status: 400, code, message } if code == "X" && message == "m"
        ));
        assert!(matches!(
            error_from_status(Operation::DownloadFile, 422, b"", None),
            LeverError::Invalid { status: 422, code, message }
                if code == "UnprocessableEntity" && message == "Unprocessable Entity"
        ));
        assert!(matches!(
            error_from_status(op, 429, json, Some(Duration::from_secs(3))),
            LeverError::RateLimited { retry_after: Some(d) } if d == Duration::from_secs(3)
        ));
        assert!(matches!(
            error_from_status(op, 500, json, None),
            LeverError::Unavailable {
                status: Some(500),
                outcome_unknown: true,
                ..
            }
        ));
        assert!(matches!(
            error_from_status(op, 503, json, None),
            LeverError::Unavailable {
                status: Some(503),
                outcome_unknown: false,
                ..
            }
        ));
        assert!(matches!(
            error_from_status(Operation::ListNotes, 502, json, None),
            LeverError::Unavailable {
                status: Some(502),
                outcome_unknown: false,
                ..
            }
        ));
    }

    #[test]
    fn error_bodies_are_parsed_leniently() {
        assert_eq!(
            parse_error_body(400, br#"{"message":"Invalid offset token: x"}"#),
            (String::new(), "Invalid offset token: x".into())
        );
        assert_eq!(
            parse_error_body(400, br#"{"ok":false,"error":"v0 style"}"#),
            (String::new(), "v0 style".into())
        );
        assert_eq!(
            parse_error_body(502, b"<html>Bad gateway</html>"),
            (String::new(), "<html>Bad gateway</html>".into())
        );
        assert_eq!(
            parse_error_body(503, b"  "),
            (String::new(), "Service Unavailable".into())
        );
        let long = "é".repeat(1000);
        let (_, m) = parse_error_body(500, long.as_bytes());
        assert_eq!(m.chars().count(), MAX_ERROR_TEXT + 1);
        assert!(m.ends_with('…'));
        let (_, m) = parse_error_body(500, &[0xff, 0xfe, b'x']);
        assert!(m.ends_with('x'));
    }

    #[test]
    fn urls_follow_the_operation_table() {
        for base in ["http://127.0.0.1:9/v1", "http://127.0.0.1:9/v1/"] {
            let base = Url::parse(base).unwrap();
            let u = build_url(&base, Operation::GetNote, &["o 1", "n/2"], &vec![]).unwrap();
            assert_eq!(
                u.as_str(),
                "http://127.0.0.1:9/v1/opportunities/o%201/notes/n%2F2"
            );
            let u = build_url(
                &base,
                Operation::ListPostings,
                &[],
                &vec![("state", "published".into()), ("state", "internal".into())],
            )
            .unwrap();
            assert_eq!(
                u.as_str(),
                "http://127.0.0.1:9/v1/postings?state=published&state=internal"
            );
        }
        let base = Url::parse("https://api.lever.co/v1").unwrap();
        for bad in ["", ".", ".."] {
            assert!(matches!(
                build_url(&base, Operation::GetOpportunity, &[bad], &vec![]),
                Err(LeverError::Config { .. })
            ));
        }
        assert!(build_url(&base, Operation::GetOpportunity, &[], &vec![]).is_err());
        assert!(build_url(&base, Operation::ListStages, &["x"], &vec![]).is_err());
    }

    #[test]
    fn perform_as_follows_the_table() {
        let mut q = QueryPairs::new();
        add_perform_as(Operation::CreateOpportunity, None, &mut q);
        add_perform_as(Operation::CreateOpportunity, Some(" "), &mut q);
        add_perform_as(Operation::CreateOpportunity, Some("u1"), &mut q);
        add_perform_as(Operation::UpdateStage, None, &mut q);
        add_perform_as(Operation::UpdateStage, Some("u2"), &mut q);
        add_perform_as(Operation::GetOpportunity, Some("u3"), &mut q);
        assert_eq!(
            q,
            vec![
                ("perform_as", "u1".to_owned()),
                ("perform_as", "u2".to_owned())
            ]
        );
    }

    #[test]
    fn bodies_decode_defensively() {
        let single =
            br#"{"data":{"id":"w1","event":"candidateHired","url":"https://x","createdAt":1}}"#;
        let double = br#"{"data":{"data":{"id":"w1","event":"candidateHired","url":"https://x","createdAt":"1"}}}"#;
        for body in [&single[..], &double[..]] {
            let w: Webhook = decode_data_unwrapping(Operation::CreateWebhook, body).unwrap();
            assert_eq!((w.id.as_str(), w.created_at), ("w1", 1));
        }
        let p: Page<lever_model::Stage> =
            decode_page(Operation::ListStages, br#" [{"id":"a","text":"A"}]"#).unwrap();
        assert_eq!((p.data.len(), p.has_next), (1, false));
        let p: Page<lever_model::Stage> = decode_page(
            Operation::ListStages,
            br#"{"data":[{"id":"a","text":"A"}],"hasNext":true,"next":"t"}"#,
        )
        .unwrap();
        assert_eq!(p.next_offset(), Some("t"));
        let e = decode_data::<lever_model::Stage>(Operation::GetStage, b"<html>").unwrap_err();
        assert!(
            matches!(e, LeverError::Decode { ref message } if message.contains("GET /stages/:stage"))
        );
    }
}
