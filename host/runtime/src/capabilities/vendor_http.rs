//! `fulcrum:connector/vendor-http`: outbound HTTP to the plugin's own vendor.
//!
//! Policy, checked before anything is sent and again at every redirect hop:
//! - the target origin (scheme, host, port) is one the manifest declares;
//! - the address is public (no loopback, private, link-local, unique-local, ...) unless the
//!   operator allows private networks; names are resolved and checked, and the client only
//!   ever connects to addresses that passed the check (no DNS-rebinding window);
//! - redirects are not followed by the HTTP client: the host follows at most
//!   `max_vendor_redirects` of them, each to a declared origin;
//! - the response body is streamed with a size cap, the whole request has a timeout.
//!
//! An operator alias map (`declared origin → actual origin`) lets staging and tests point a
//! declared host at another server without the plugin knowing.
//!
//! Events are handled at least once, so a vendor may see the same request again when an
//! event is retried: when the invocation has an event id, every request carries
//! `Idempotency-Key: <event-id>:<n>` (n = 0, 1, ... the request's number in the invocation,
//! the same on every attempt of a deterministic handler) unless the plugin set the header
//! itself.

use reqwest::dns::{Addrs, Name, Resolve, Resolving};
use reqwest::header::{HeaderMap, HeaderName, HeaderValue, LOCATION};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::fmt;
use std::net::{IpAddr, Ipv4Addr, SocketAddr};
use std::sync::Arc;
use std::time::Duration;
use url::Url;
use wasmtime::component::{HasSelf, Linker};

use crate::audit::Capability;
use crate::bindings::PluginError;
use crate::bindings::fulcrum::connector::vendor_http::{self, Header, Method, Request, Response};
use crate::config::Limits;
use crate::host::HostState;

/// Operator policy for vendor HTTP.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default, deny_unknown_fields)]
pub struct VendorHttpPolicy {
    /// Allow loopback, private, link-local and unique-local addresses (development, tests,
    /// vendors reached over a private link). Off in production.
    pub allow_private_networks: bool,
    /// Declared origin → actual origin, e.g. `"https://vendor.example"` →
    /// `"http://127.0.0.1:8080"`. The plugin keeps using the declared origin.
    pub aliases: BTreeMap<String, String>,
}

impl VendorHttpPolicy {
    pub fn with_alias(mut self, declared: impl Into<String>, actual: impl Into<String>) -> Self {
        self.aliases.insert(declared.into(), actual.into());
        self
    }

    pub fn allowing_private_networks(mut self, allow: bool) -> Self {
        self.allow_private_networks = allow;
        self
    }

    fn parsed_aliases(&self) -> Result<Vec<(Origin, Origin)>, String> {
        self.aliases
            .iter()
            .map(|(from, to)| {
                let from = Origin::parse(from).map_err(|e| format!("alias {from:?}: {e}"))?;
                let to = Origin::parse(to).map_err(|e| format!("alias target {to:?}: {e}"))?;
                Ok((from, to))
            })
            .collect()
    }
}

/// A web origin: scheme, host and port.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize)]
pub struct Origin {
    scheme: String,
    host: String,
    port: u16,
}

impl Origin {
    /// Parses `scheme://host[:port]` (a trailing `/` is tolerated; paths, queries, fragments
    /// and credentials are not).
    pub fn parse(s: &str) -> Result<Origin, String> {
        let url = Url::parse(s).map_err(|e| format!("not a URL ({e})"))?;
        if !url.username().is_empty() || url.password().is_some() {
            return Err("must not contain credentials".into());
        }
        if !matches!(url.path(), "" | "/") || url.query().is_some() || url.fragment().is_some() {
            return Err(
                "must be an origin (scheme://host[:port]) without path, query or fragment".into(),
            );
        }
        Origin::of_url(&url).ok_or_else(|| "must be an http or https URL with a host".into())
    }

    /// The origin of an http(s) URL.
    pub fn of_url(url: &Url) -> Option<Origin> {
        if !matches!(url.scheme(), "http" | "https") {
            return None;
        }
        Some(Origin {
            scheme: url.scheme().to_owned(),
            host: url.host_str()?.to_owned(),
            port: url.port_or_known_default()?,
        })
    }

    pub fn scheme(&self) -> &str {
        &self.scheme
    }

    pub fn host(&self) -> &str {
        &self.host
    }

    pub fn port(&self) -> u16 {
        self.port
    }

    fn default_port(&self) -> bool {
        matches!(
            (self.scheme.as_str(), self.port),
            ("http", 80) | ("https", 443)
        )
    }

    /// `url` with this origin's scheme, host and port.
    fn rewrite(&self, url: &Url) -> Option<Url> {
        let mut out = url.clone();
        out.set_scheme(&self.scheme).ok()?;
        out.set_host(Some(&self.host)).ok()?;
        let port = if self.default_port() {
            None
        } else {
            Some(self.port)
        };
        out.set_port(port).ok()?;
        Some(out)
    }
}

impl fmt::Display for Origin {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.default_port() {
            write!(f, "{}://{}", self.scheme, self.host)
        } else {
            write!(f, "{}://{}:{}", self.scheme, self.host, self.port)
        }
    }
}

/// Whether an address may be reached without `allow_private_networks`.
pub fn is_public_ip(ip: IpAddr) -> bool {
    match ip {
        IpAddr::V4(v4) => is_public_v4(v4),
        IpAddr::V6(v6) => {
            if let Some(v4) = v6.to_ipv4_mapped() {
                return is_public_v4(v4);
            }
            let s = v6.segments();
            !(v6.is_loopback()
                || v6.is_unspecified()
                || v6.is_multicast()
                || (s[0] & 0xfe00) == 0xfc00 // unique local fc00::/7
                || (s[0] & 0xffc0) == 0xfe80 // link-local fe80::/10
                || (s[0] & 0xffc0) == 0xfec0 // site-local (deprecated) fec0::/10
                || (s[0] == 0x64 && s[1] == 0xff9b) // NAT64 64:ff9b::/96 reaches IPv4 space
                || (s[0] == 0x2001 && s[1] == 0x0db8)) // documentation
        }
    }
}

fn is_public_v4(ip: Ipv4Addr) -> bool {
    let o = ip.octets();
    !(ip.is_private()
        || ip.is_loopback()
        || ip.is_link_local() // includes 169.254.169.254, the cloud metadata service
        || ip.is_unspecified()
        || ip.is_broadcast()
        || ip.is_multicast()
        || ip.is_documentation()
        || o[0] == 0 // "this network"
        || (o[0] == 100 && (o[1] & 0xc0) == 64) // carrier-grade NAT 100.64.0.0/10
        || (o[0] == 192 && o[1] == 0 && o[2] == 0) // IETF protocol assignments
        || (o[0] == 198 && (o[1] & 0xfe) == 18) // benchmarking 198.18.0.0/15
        || o[0] >= 240) // reserved
}

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
}

pub(crate) fn add_to_linker(linker: &mut Linker<HostState>) -> wasmtime::Result<()> {
    vendor_http::add_to_linker::<HostState, HasSelf<HostState>>(linker, |s| s)
}

impl vendor_http::Host for HostState {
    async fn send(&mut self, request: Request) -> Result<Response, PluginError> {
        let call = self.begin(Capability::VendorHttp, audit_label(&request))?;
        let number = self.vendor_requests;
        self.vendor_requests += 1;
        let idempotency_key = self
            .ctx
            .event_id
            .as_ref()
            .map(|event| format!("{event}:{number}"));
        let policy = self
            .ctx
            .vendor_http
            .clone()
            .unwrap_or_else(|| self.shared.config.vendor_http.clone());
        let limits = self.shared.config.limits.clone();
        let client = if policy.allow_private_networks {
            self.shared.vendor.any_address.clone()
        } else {
            self.shared.vendor.public_only.clone()
        };
        let declared = self.plugin.vendor_origins.clone();
        let sent = tokio::time::timeout(
            limits.vendor_request_timeout,
            send(
                &client,
                &policy,
                &declared,
                request,
                idempotency_key.as_deref(),
                &limits,
            ),
        )
        .await;
        match sent {
            Ok(Ok(response)) => self.finish(call, Ok(response)),
            Ok(Err(Refused::Denied(error))) => Err(self.deny(call, error)),
            Ok(Err(Refused::Failed(error))) => self.finish(call, Err(error)),
            Err(_elapsed) => {
                let error = PluginError::Unavailable(format!(
                    "the vendor did not answer within {} ms",
                    limits.vendor_request_timeout.as_millis()
                ));
                self.finish(call, Err(error))
            }
        }
    }
}

/// "GET https://vendor.example/ping": method, origin and path; never the query (it may carry
/// tokens) or the body.
fn audit_label(request: &Request) -> String {
    let method = method_name(request.method);
    match Url::parse(&request.url) {
        Ok(url) => match Origin::of_url(&url) {
            Some(origin) => format!("{method} {origin}{}", url.path()),
            None => format!("{method} <{} URL>", url.scheme()),
        },
        Err(_) => format!("{method} <invalid URL>"),
    }
}

fn method_name(method: Method) -> &'static str {
    match method {
        Method::Get => "GET",
        Method::Post => "POST",
        Method::Put => "PUT",
        Method::Patch => "PATCH",
        Method::Delete => "DELETE",
    }
}

enum Refused {
    /// Refused by policy, nothing sent (for this hop).
    Denied(PluginError),
    /// Allowed, and failed in transit or at a limit.
    Failed(PluginError),
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
            // Any private answer taints the name: the client would pick among them.
            if addrs.is_empty() || addrs.iter().any(|a| !is_public_ip(a.ip())) {
                return Err(private());
            }
            Ok(())
        }
        _ => Ok(()),
    }
}

async fn send(
    client: &reqwest::Client,
    policy: &VendorHttpPolicy,
    declared: &[Origin],
    request: Request,
    idempotency_key: Option<&str>,
    limits: &Limits,
) -> Result<Response, Refused> {
    let aliases = policy.parsed_aliases().map_err(|e| {
        Refused::Failed(PluginError::Unavailable(format!(
            "the operator's vendor alias map is invalid ({e})"
        )))
    })?;
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
        let origin = Origin::of_url(&url).ok_or_else(|| {
            Refused::Denied(PluginError::Invalid(format!(
                "only http and https URLs can be requested, not {}:",
                url.scheme()
            )))
        })?;
        if !declared.contains(&origin) {
            return Err(Refused::Denied(PluginError::Forbidden(origin.to_string())));
        }
        let target = match aliases.iter().find(|(from, _)| *from == origin) {
            Some((_, to)) => to.rewrite(&url).ok_or_else(|| {
                Refused::Failed(PluginError::Unavailable(format!(
                    "the operator's alias for {origin} cannot be applied"
                )))
            })?,
            None => url.clone(),
        };
        if !policy.allow_private_networks {
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
            // A redirect to an alias target means its declared origin.
            url = match Origin::of_url(&next).and_then(|o| aliases.iter().find(|(_, to)| *to == o))
            {
                Some((from, _)) => from.rewrite(&next).unwrap_or(next),
                None => next,
            };
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
    fn origins_parse_and_print() {
        let o = Origin::parse("https://Vendor.Example").unwrap();
        assert_eq!(o.to_string(), "https://vendor.example");
        assert_eq!(o.port(), 443);
        assert_eq!(Origin::parse("https://vendor.example/").unwrap(), o);
        assert_eq!(
            Origin::parse("http://127.0.0.1:8080").unwrap().to_string(),
            "http://127.0.0.1:8080"
        );
        assert_ne!(
            Origin::parse("http://vendor.example").unwrap(),
            o,
            "scheme matters"
        );
        assert_ne!(
            Origin::parse("https://vendor.example:8443").unwrap(),
            o,
            "port matters"
        );
        for bad in [
            "vendor.example",
            "https://vendor.example/api",
            "https://user:pw@vendor.example",
            "ftp://vendor.example",
            "https://vendor.example?x=1",
        ] {
            assert!(Origin::parse(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn rewrite_keeps_path_and_query() {
        let to = Origin::parse("http://127.0.0.1:9999").unwrap();
        let url = Url::parse("https://vendor.example/a/b?c=d").unwrap();
        assert_eq!(
            to.rewrite(&url).unwrap().as_str(),
            "http://127.0.0.1:9999/a/b?c=d"
        );
    }

    #[test]
    fn private_addresses_are_recognised() {
        for ip in [
            "127.0.0.1",
            "10.1.2.3",
            "172.16.0.1",
            "192.168.1.1",
            "169.254.169.254",
            "100.64.0.1",
            "0.0.0.0",
            "::1",
            "fd00::1",
            "fe80::1",
            "::ffff:127.0.0.1",
            "::",
        ] {
            assert!(!is_public_ip(ip.parse().unwrap()), "{ip}");
        }
        for ip in [
            "93.184.216.34",
            "8.8.8.8",
            "2606:2800:220:1:248:1893:25c8:1946",
        ] {
            assert!(is_public_ip(ip.parse().unwrap()), "{ip}");
        }
    }

    #[test]
    fn audit_labels_omit_queries() {
        let request = Request {
            method: Method::Post,
            url: "https://vendor.example/v1/jobs?token=secret".into(),
            headers: vec![],
            body: None,
        };
        assert_eq!(audit_label(&request), "POST https://vendor.example/v1/jobs");
    }

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

    mod end_to_end {
        //! `send` through a `HostState` against a real local server.

        use super::*;
        use crate::audit::{AuditOutcome, MemoryAuditLog};
        use crate::bindings::fulcrum::connector::vendor_http::Host as _;
        use crate::capabilities::state::MemoryStateStore;
        use crate::config::RuntimeConfig;
        use crate::grants::InvocationContext;
        use crate::host::{HostState, testing};
        use crate::invoke::CallKind;
        use axum::Router;
        use axum::http::{HeaderMap as AxumHeaders, Method as AxumMethod, StatusCode, header};
        use axum::routing::{any, get};

        async fn server() -> String {
            let app = Router::new()
                .route(
                    "/echo",
                    any(
                        |method: AxumMethod, headers: AxumHeaders, body: String| async move {
                            let tag = headers
                                .get("x-test")
                                .and_then(|v| v.to_str().ok())
                                .unwrap_or("-")
                                .to_owned();
                            format!("{method} {tag} {body}")
                        },
                    ),
                )
                .route(
                    "/hop",
                    get(|| async { (StatusCode::FOUND, [(header::LOCATION, "/echo")]) }),
                )
                .route(
                    "/loop",
                    get(|| async { (StatusCode::FOUND, [(header::LOCATION, "/loop")]) }),
                )
                .route(
                    "/see-other",
                    any(|| async { (StatusCode::SEE_OTHER, [(header::LOCATION, "/echo")]) }),
                )
                .route(
                    "/idempotency-key",
                    any(|headers: AxumHeaders| async move {
                        let keys: Vec<&str> = headers
                            .get_all("idempotency-key")
                            .iter()
                            .filter_map(|v| v.to_str().ok())
                            .collect();
                        keys.join(",")
                    }),
                )
                .route(
                    "/hop-to-key",
                    get(|| async { (StatusCode::FOUND, [(header::LOCATION, "/idempotency-key")]) }),
                )
                .route("/big", get(|| async { vec![b'x'; 2_000] }))
                .route(
                    "/stream",
                    get(|| async {
                        let chunks = (0..20)
                            .map(|_| Ok::<_, std::io::Error>(bytes::Bytes::from(vec![b'y'; 100])));
                        axum::body::Body::from_stream(futures::stream::iter(chunks))
                    }),
                )
                .route(
                    "/slow",
                    get(|| async {
                        tokio::time::sleep(Duration::from_secs(10)).await;
                        "late"
                    }),
                );
            let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
                .await
                .expect("bind");
            let origin = format!("http://{}", listener.local_addr().expect("addr"));
            tokio::spawn(async move {
                let _ = axum::serve(listener, app).await;
            });
            origin
        }

        fn host(origin: &str, audit: &Arc<MemoryAuditLog>, kind: CallKind) -> HostState {
            host_for(origin, audit, kind, None)
        }

        fn host_for(
            origin: &str,
            audit: &Arc<MemoryAuditLog>,
            kind: CallKind,
            event_id: Option<&str>,
        ) -> HostState {
            let mut config = RuntimeConfig::default();
            config.limits.max_vendor_response_bytes = 1_000;
            config.limits.vendor_request_timeout = Duration::from_millis(500);
            let policy = VendorHttpPolicy::default()
                .with_alias("https://vendor.example", origin)
                .allowing_private_networks(true);
            let ctx = InvocationContext::new(
                "t",
                "i",
                "unit",
                Arc::new(MemoryStateStore::new()),
                audit.clone(),
            )
            .with_vendor_http(policy);
            let ctx = match event_id {
                Some(id) => ctx.with_event_id(id),
                None => ctx,
            };
            let plugin = testing::plugin(&[], &["https://vendor.example"], &[]);
            testing::state(config, plugin, ctx, kind)
        }

        fn request(method: Method, path: &str, body: Option<&str>) -> Request {
            Request {
                method,
                url: format!("https://vendor.example{path}"),
                headers: vec![Header {
                    name: "x-test".into(),
                    value: "t1".into(),
                }],
                body: body.map(|b| b.as_bytes().to_vec()),
            }
        }

        #[tokio::test]
        async fn requests_redirects_limits_and_timeouts() {
            let origin = server().await;
            let audit = Arc::new(MemoryAuditLog::new());
            let mut h = host(&origin, &audit, CallKind::Action);

            let echoed = h
                .send(request(Method::Post, "/echo", Some("hello")))
                .await
                .expect("sent");
            assert_eq!(
                (echoed.status, echoed.body.as_slice()),
                (200, &b"POST t1 hello"[..])
            );

            // A relative redirect stays on the declared origin and is followed.
            let hopped = h
                .send(request(Method::Get, "/hop", None))
                .await
                .expect("followed");
            assert_eq!(hopped.body, b"GET t1 ");
            // 303 after POST continues as a bodiless GET.
            let seen = h
                .send(request(Method::Post, "/see-other", Some("data")))
                .await
                .expect("followed");
            assert_eq!(seen.body, b"GET t1 ");

            let looped = h.send(request(Method::Get, "/loop", None)).await;
            assert_eq!(
                looped,
                Err(PluginError::LimitExceeded("more than 5 redirects".into()))
            );
            let large = PluginError::LimitExceeded("vendor response larger than 1000 bytes".into());
            assert_eq!(
                h.send(request(Method::Get, "/big", None)).await,
                Err(large.clone())
            );
            assert_eq!(
                h.send(request(Method::Get, "/stream", None)).await,
                Err(large)
            );
            let slow = h.send(request(Method::Get, "/slow", None)).await;
            assert_eq!(
                slow,
                Err(PluginError::Unavailable(
                    "the vendor did not answer within 500 ms".into()
                ))
            );

            let invalid = h
                .send(Request {
                    method: Method::Get,
                    url: "not a url".into(),
                    headers: vec![],
                    body: None,
                })
                .await;
            assert!(
                matches!(invalid, Err(PluginError::Invalid(_))),
                "{invalid:?}"
            );
            let ftp = h
                .send(Request {
                    method: Method::Get,
                    url: "ftp://vendor.example/x".into(),
                    headers: vec![],
                    body: None,
                })
                .await;
            assert!(matches!(ftp, Err(PluginError::Invalid(_))), "{ftp:?}");

            let outcomes: Vec<AuditOutcome> =
                audit.records().into_iter().map(|r| r.outcome).collect();
            assert_eq!(outcomes.len(), 9);
            assert_eq!(
                &outcomes[..3],
                &[
                    AuditOutcome::Allowed,
                    AuditOutcome::Allowed,
                    AuditOutcome::Allowed
                ]
            );
            assert_eq!(
                outcomes[3],
                AuditOutcome::Failed {
                    error_kind: "limit-exceeded".into()
                }
            );
            assert!(matches!(outcomes[7], AuditOutcome::Denied { .. }));
        }

        /// The Idempotency-Key the vendor received.
        async fn key(h: &mut HostState, headers: Vec<Header>) -> String {
            let request = Request {
                method: Method::Post,
                url: "https://vendor.example/idempotency-key".into(),
                headers,
                body: Some(b"{}".to_vec()),
            };
            String::from_utf8(h.send(request).await.expect("sent").body).expect("text")
        }

        #[tokio::test]
        async fn requests_of_an_event_carry_an_idempotency_key() {
            let origin = server().await;
            let audit = Arc::new(MemoryAuditLog::new());

            // Numbered per invocation: a retried event sends the same keys again.
            for _attempt in 0..2 {
                let mut h = host_for(&origin, &audit, CallKind::VendorEvent, Some("evt-7"));
                assert_eq!(key(&mut h, vec![]).await, "evt-7:0");
                assert_eq!(key(&mut h, vec![]).await, "evt-7:1");
                // A key the plugin sets itself wins (and still counts as a request).
                let own = vec![Header {
                    name: "Idempotency-Key".into(),
                    value: "vendor-order-42".into(),
                }];
                assert_eq!(key(&mut h, own).await, "vendor-order-42");
                assert_eq!(key(&mut h, vec![]).await, "evt-7:3");
            }
            // Redirect hops are the same request: the key follows.
            let mut h = host_for(&origin, &audit, CallKind::Action, Some("evt-8"));
            let hopped = h
                .send(request(Method::Get, "/hop-to-key", None))
                .await
                .expect("followed");
            assert_eq!(hopped.body, b"evt-8:0");
            assert_eq!(key(&mut h, vec![]).await, "evt-8:1");

            // No event id, no key.
            let mut h = host(&origin, &audit, CallKind::Action);
            assert_eq!(key(&mut h, vec![]).await, "");
        }

        #[tokio::test]
        async fn not_available_while_verifying_a_vendor_request() {
            let origin = server().await;
            let audit = Arc::new(MemoryAuditLog::new());
            let mut h = host(&origin, &audit, CallKind::VerifyVendorRequest);
            let refused = h.send(request(Method::Get, "/echo", None)).await;
            assert_eq!(
                refused,
                Err(PluginError::Forbidden(
                    "vendor-http is not available during verify-vendor-request".into()
                ))
            );
            assert!(audit.records()[0].is_denied());
        }
    }
}
