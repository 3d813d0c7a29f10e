//! Outbound HTTP to the connector's own vendor. Only hosts declared in the manifest's
//! `vendor_hosts` are reachable; a non-2xx answer is a [`Response`], not an error.

use crate::Error;
use serde::Serialize;
use serde::de::DeserializeOwned;

pub use crate::bindings::fulcrum::connector::vendor_http::{Header, Method, Request, Response};

/// Sends a request.
pub fn send(request: &Request) -> Result<Response, Error> {
    crate::bindings::fulcrum::connector::vendor_http::send(request)
}

/// `GET url`.
pub fn get(url: &str) -> Result<Response, Error> {
    send(&Request::new(Method::Get, url))
}

/// `POST url` with `body` as JSON.
pub fn post_json<T: Serialize + ?Sized>(url: &str, body: &T) -> Result<Response, Error> {
    send(&Request::new(Method::Post, url).json(body)?)
}

impl Request {
    pub fn new(method: Method, url: impl Into<String>) -> Self {
        Request {
            method,
            url: url.into(),
            headers: Vec::new(),
            body: None,
        }
    }
    pub fn header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push(Header {
            name: name.into(),
            value: value.into(),
        });
        self
    }
    /// `authorization: Bearer <token>`.
    pub fn bearer(self, token: &str) -> Self {
        self.header("authorization", format!("Bearer {token}"))
    }
    pub fn body(mut self, bytes: impl Into<Vec<u8>>) -> Self {
        self.body = Some(bytes.into());
        self
    }
    /// `value` as the JSON body, with `content-type: application/json`.
    pub fn json<T: Serialize + ?Sized>(self, value: &T) -> Result<Self, Error> {
        let body = serde_json::to_vec(value)?;
        Ok(self.header("content-type", "application/json").body(body))
    }
}

impl Response {
    pub fn is_success(&self) -> bool {
        (200..300).contains(&self.status)
    }
    /// The first header with this name (case-insensitive).
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers
            .iter()
            .find(|h| h.name.eq_ignore_ascii_case(name))
            .map(|h| h.value.as_str())
    }
    /// The body as text (invalid UTF-8 replaced).
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }
    /// The body parsed as JSON.
    pub fn json<T: DeserializeOwned>(&self) -> Result<T, Error> {
        serde_json::from_slice(&self.body).map_err(|e| {
            Error::vendor_error(format!(
                "vendor answered {} with unexpected JSON: {e}",
                self.status
            ))
        })
    }
    /// `Ok(self)` for 2xx; otherwise `rate-limited` (429, honouring `retry-after` seconds),
    /// `unavailable` (5xx, retried by the host) or `vendor-error`.
    pub fn error_for_status(self) -> Result<Self, Error> {
        match self.status {
            200..=299 => Ok(self),
            429 => Err(Error::rate_limited(
                self.header("retry-after")
                    .and_then(|s| s.trim().parse::<u64>().ok())
                    .map(|secs| secs.saturating_mul(1000)),
            )),
            500..=599 => Err(Error::unavailable(format!(
                "vendor answered {}",
                self.status
            ))),
            status => Err(Error::vendor_error(format!(
                "vendor answered {status}: {}",
                self.text()
            ))),
        }
    }
}
