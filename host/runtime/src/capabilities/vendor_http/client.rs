//! The I/O of vendor HTTP, under the rules of `policy`: HTTP clients that never follow
//! redirects or use proxies, a resolver that only yields public addresses (no DNS-rebinding
//! window between the check and the connect), the host-followed redirect loop checking every
//! hop, and a response body streamed under a size cap. No wasmtime: the host impl
//! (`super`) calls [`send`] and audits its outcome.

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, LOCATION};
use std::net::{IpAddr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use url::Url;

use super::policy::{Hop, HopRefusal, Origin, Rules, is_public_ip, resolves_publicly};
use crate::bindings::PluginError;
use crate::bindings::fulcrum::connector::vendor_http::{Header, Method, Request, Response};
use crate::config::Limits;

/// A resolver that only yields public addresses, so a name that passed the policy check
/// cannot be re-resolved to a private address at connect time.
struct PublicOnlyResolver;

impl Resolve for PublicOnlyResolver {
    fn resolve(&self, name: Name) -> Resolving {
        let host = name.as_str().to_owned();
        Box::pin(async move {
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((host.as_str(), 0))
                .await?
                .filter(|a| is_public_ip(a.ip()))
                .collect();
            if addrs.is_empty() {
                return Err(format!("{host} has no public address").into());
            }
            Ok(Box::new(addrs.into_iter()) as Addrs)
        })
    }
}

/// The HTTP clients of vendor calls: redirects off, no proxies (a proxy would bypass the
/// address checks), one with the public-only resolver and one for operators who allow
/// private networks.
pub(crate) struct VendorClients {
    public_only: reqwest::Client,
    any_address: reqwest::Client,
}

impl VendorClients {
    pub(crate) fn new(connect_timeout: Duration) -> Result<Self, reqwest::Error> {
        let builder = || {
            reqwest::Client::builder()
                .redirect(reqwest::redirect::Policy::none())
                .no_proxy()
                .connect_timeout(connect_timeout)
                .user_agent(concat!("fulcrum-runtime/", env!("CARGO_PKG_VERSION")))
        };
        Ok(VendorClients {
            public_only: builder()
                .dns_resolver(Arc::new(PublicOnlyResolver))
                .build()?,
            any_address: builder().build()?,
        })
    }

    /// The client for `rules`: only the operator's allowance reaches private addresses.
    pub(crate) fn for_rules(&self, rules: &Rules) -> &reqwest::Client {
        if rules.private_networks_allowed() {
            &self.any_address
        } else {
            &self.public_only
        }
    }
}

pub(crate) enum Refused {
    /// Refused by policy, nothing sent (for this hop).
    Denied(PluginError),
    /// Allowed, and failed in transit or at a limit.
    Failed(PluginError),
}

impl From<HopRefusal> for Refused {
    fn from(refusal: HopRefusal) -> Self {
        let message = refusal.to_string();
        match refusal {
            HopRefusal::NotHttp { .. } => Refused::Denied(PluginError::Invalid(message)),
            HopRefusal::Undeclared(_) => Refused::Denied(PluginError::Forbidden(message)),
            HopRefusal::AliasUnusable(_) => Refused::Failed(PluginError::Unavailable(message)),
        }
    }
}

/// The header that lets a vendor recognise a request of a retried event.
pub const IDEMPOTENCY_KEY: &str = "idempotency-key";

/// Request headers the host sets itself.
const HOST_CONTROLLED: &[&str] = &[
    "host",
    "content-length",
    "transfer-encoding",
    "connection",
    "keep-alive",
    "upgrade",
    "te",
    "trailer",
    "proxy-authorization",
    "proxy-connection",
];

fn request_headers(headers: &[Header]) -> Result<HeaderMap, PluginError> {
    let mut map = HeaderMap::new();
    for h in headers {
        let name = HeaderName::from_bytes(h.name.as_bytes())
            .map_err(|_| PluginError::Invalid(format!("invalid header name {:?}", h.name)))?;
        if HOST_CONTROLLED.contains(&name.as_str()) {
            continue;
        }
        let value = HeaderValue::from_str(&h.value)
            .map_err(|_| PluginError::Invalid(format!("invalid value for header {}", h.name)))?;
        map.append(name, value);
    }
    Ok(map)
}

async fn check_address(url: &Url, shown: &Origin) -> Result<(), Refused> {
    let private = || {
        Refused::Denied(PluginError::Forbidden(format!(
            "{shown} resolves to a private or local address"
        )))
    };
    match url.host() {
        Some(url::Host::Ipv4(ip)) if !is_public_ip(IpAddr::V4(ip)) => Err(private()),
        Some(url::Host::Ipv6(ip)) if !is_public_ip(IpAddr::V6(ip)) => Err(private()),
        Some(url::Host::Domain(domain)) => {
            let port = url.port_or_known_default().unwrap_or(443);
            let addrs: Vec<SocketAddr> = tokio::net::lookup_host((domain, port))
                .await
                .map_err(|e| {
                    Refused::Failed(PluginError::Unavailable(format!(
                        "cannot resolve {shown}: {e}"
                    )))
                })?
                .collect();
            let ips: Vec<IpAddr> = addrs.iter().map(SocketAddr::ip).collect();
            if !resolves_publicly(&ips) {
                return Err(private());
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

/// Sends `request` under `rules`, following at most `max_vendor_redirects` redirects, each
/// checked as a new hop. The caller puts the whole exchange under the request timeout.
pub(crate) async fn send(
    client: &reqwest::Client,
    rules: &Rules,
    request: Request,
    idempotency_key: Option<&str>,
    limits: &Limits,
) -> Result<Response, Refused> {
    let mut url = Url::parse(&request.url)
        .map_err(|e| Refused::Denied(PluginError::Invalid(format!("invalid URL: {e}"))))?;
    let mut headers = request_headers(&request.headers).map_err(Refused::Denied)?;
    if let Some(key) = idempotency_key
        && !headers.contains_key(IDEMPOTENCY_KEY)
    {
        match HeaderValue::from_str(key) {
            Ok(value) => {
                headers.insert(IDEMPOTENCY_KEY, value);
            }
            Err(_) => tracing::debug!("event id is not a valid header value: no Idempotency-Key"),
        }
    }
    let mut method = match request.method {
        Method::Get => reqwest::Method::GET,
        Method::Post => reqwest::Method::POST,
        Method::Put => reqwest::Method::PUT,
        Method::Patch => reqwest::Method::PATCH,
        Method::Delete => reqwest::Method::DELETE,
    };
    let mut body = request.body;
    let mut redirects = 0usize;
    loop {
        let Hop { origin, target } = rules.hop(&url)?;
        if !rules.private_networks_allowed() {
            check_address(&target, &origin).await?;
        }
        let mut builder = client
            .request(method.clone(), target.clone())
            .headers(headers.clone());
        if let Some(b) = &body {
            builder = builder.body(b.clone());
        }
        let response = builder.send().await.map_err(|e| {
            Refused::Failed(PluginError::Unavailable(format!(
                "request to {origin} failed: {}",
                transport_error(&e)
            )))
        })?;
        let status = response.status();
        if status.is_redirection()
            && let Some(location) = response.headers().get(LOCATION)
        {
            if redirects >= limits.max_vendor_redirects {
                return Err(Refused::Failed(PluginError::LimitExceeded(format!(
                    "more than {} redirects",
                    limits.max_vendor_redirects
                ))));
            }
            redirects += 1;
            let next = location
                .to_str()
                .ok()
                .and_then(|l| target.join(l).ok())
                .ok_or_else(|| {
                    Refused::Failed(PluginError::VendorError(format!(
                        "{origin} redirected with an invalid Location"
                    )))
                })?;
            url = rules.declared_url(next);
            // Browser semantics: 303 (and 301/302 after POST) continue as a bodiless GET.
            let to_get = status == reqwest::StatusCode::SEE_OTHER
                || (matches!(status.as_u16(), 301 | 302) && method == reqwest::Method::POST);
            if to_get {
                method = reqwest::Method::GET;
                body = None;
            }
            continue;
        }
        return read_response(response, &origin, limits.max_vendor_response_bytes).await;
    }
}

async fn read_response(
    mut response: reqwest::Response,
    origin: &Origin,
    max: usize,
) -> Result<Response, Refused> {
    let too_large = || {
        Refused::Failed(PluginError::LimitExceeded(format!(
            "vendor response larger than {max} bytes"
        )))
    };
    if response
        .content_length()
        .is_some_and(|len| len > max as u64)
    {
        return Err(too_large());
    }
    let headers = response
        .headers()
        .iter()
        .map(|(name, value)| Header {
            name: name.as_str().to_owned(),
            value: String::from_utf8_lossy(value.as_bytes()).into_owned(),
        })
        .collect();
    let status = response.status().as_u16();
    let mut body = Vec::new();
    loop {
        match response.chunk().await {
            Ok(Some(chunk)) => {
                if body.len() + chunk.len() > max {
                    return Err(too_large());
                }
                body.extend_from_slice(&chunk);
            }
            Ok(None) => break,
            Err(e) => {
                return Err(Refused::Failed(PluginError::Unavailable(format!(
                    "reading the response of {origin} failed: {}",
                    transport_error(&e)
                ))));
            }
        }
    }
    Ok(Response {
        status,
        headers,
        body,
    })
}

/// A reqwest error without its URL (which may carry query tokens).
fn transport_error(e: &reqwest::Error) -> String {
    let kind = if e.is_timeout() {
        "timed out"
    } else if e.is_connect() {
        "could not connect"
    } else if e.is_body() || e.is_decode() {
        "broken response body"
    } else {
        "transport error"
    };
    let mut source = std::error::Error::source(e);
    let mut detail = String::new();
    while let Some(s) = source {
        detail = s.to_string();
        source = s.source();
    }
    if detail.is_empty() {
        kind.to_owned()
    } else {
        format!("{kind}: {detail}")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn host_controlled_headers_are_dropped() {
        let headers = request_headers(&[
            Header {
                name: "Host".into(),
                value: "evil.example".into(),
            },
            Header {
                name: "x-fixture-signature".into(),
                value: "abc".into(),
            },
        ])
        .unwrap();
        assert!(headers.get("host").is_none());
        assert_eq!(headers.get("x-fixture-signature").unwrap(), "abc");
        assert!(
            request_headers(&[Header {
                name: "bad name".into(),
                value: "x".into()
            }])
            .is_err()
        );
    }
}
