//! The token endpoint's HTTP client: the workspace's `reqwest`, handed to the `oauth2` crate
//! as a closure. Redirects are off (the `oauth2` docs require it: a redirecting endpoint
//! could lead the client secret and codes elsewhere, or the request to an internal address),
//! the whole exchange has a timeout, and the answer is bounded.

use oauth2::{AsyncHttpClient, HttpRequest, HttpResponse};
use reqwest::StatusCode;
use reqwest::header::CONTENT_TYPE;
use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use super::OAuthError;
use crate::transport::describe;

/// Connect, send and read the answer, all together.
pub const TOKEN_REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// A token answer is a few KiB; anything far larger is not one.
const MAX_ANSWER_BYTES: usize = 64 * 1024;

/// Why a token request got no usable HTTP answer. Messages never include the URL's query or
/// the request body.
#[derive(Debug, thiserror::Error)]
pub(crate) enum TokenHttpError {
    #[error("the token request could not be built: {0}")]
    Build(String),
    #[error("{0}")]
    Send(String),
    #[error("the token endpoint answered {0}")]
    Status(u16),
    #[error("the token endpoint's answer is larger than {MAX_ANSWER_BYTES} bytes")]
    TooLarge,
}

impl TokenHttpError {
    pub(crate) fn into_oauth_error(self) -> OAuthError {
        match self {
            TokenHttpError::Build(message) => OAuthError::Config { message },
            other => OAuthError::Unavailable {
                message: other.to_string(),
            },
        }
    }
}

/// The token endpoint's client. A named type with a boxed `Send` future rather than a
/// closure: a closure's future would make `exchange_code`/`refresh` not `Send` for every
/// lifetime, and so unusable in a spawned task or a `BoxFuture`.
#[derive(Clone)]
pub(crate) struct TokenHttp(reqwest::Client);

impl TokenHttp {
    pub(crate) fn new(user_agent: &str) -> Result<Self, OAuthError> {
        reqwest::Client::builder()
            .user_agent(user_agent)
            .redirect(reqwest::redirect::Policy::none())
            .timeout(TOKEN_REQUEST_TIMEOUT)
            .build()
            .map(TokenHttp)
            .map_err(|e| {
                OAuthError::config(format!(
                    "the HTTP client could not be built: {}",
                    describe(e)
                ))
            })
    }
}

impl<'c> AsyncHttpClient<'c> for TokenHttp {
    type Error = TokenHttpError;
    type Future = Pin<Box<dyn Future<Output = Result<HttpResponse, TokenHttpError>> + Send + 'c>>;

    fn call(&'c self, request: HttpRequest) -> Self::Future {
        Box::pin(send(&self.0, request))
    }
}

/// Sends one token request. 5xx and 429 become errors here (retry later) whatever their
/// body says; other statuses go back to `oauth2`, which reads OAuth's error JSON.
async fn send(
    http: &reqwest::Client,
    request: HttpRequest,
) -> Result<HttpResponse, TokenHttpError> {
    let request =
        reqwest::Request::try_from(request).map_err(|e| TokenHttpError::Build(describe(e)))?;
    let mut response = http.execute(request).await.map_err(send_error)?;
    let status = response.status();
    if status.is_server_error() || status == StatusCode::TOO_MANY_REQUESTS {
        return Err(TokenHttpError::Status(status.as_u16()));
    }
    let mut answer = oauth2::http::Response::builder().status(status);
    if let Some(content_type) = response.headers().get(CONTENT_TYPE) {
        answer = answer.header(CONTENT_TYPE, content_type.clone());
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await.map_err(send_error)? {
        if body.len() + chunk.len() > MAX_ANSWER_BYTES {
            return Err(TokenHttpError::TooLarge);
        }
        body.extend_from_slice(&chunk);
    }
    answer
        .body(body)
        .map_err(|e| TokenHttpError::Build(e.to_string()))
}

fn send_error(e: reqwest::Error) -> TokenHttpError {
    let text = if e.is_connect() {
        format!("could not connect: {}", describe(e))
    } else if e.is_timeout() {
        format!(
            "no complete answer within {} s",
            TOKEN_REQUEST_TIMEOUT.as_secs()
        )
    } else {
        format!("the connection failed: {}", describe(e))
    };
    TokenHttpError::Send(text)
}
