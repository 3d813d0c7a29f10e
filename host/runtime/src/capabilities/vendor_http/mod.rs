//! `fulcrum:connector/vendor-http`: outbound HTTP to the plugin's own vendor.
//!
//! - `policy`: which origins a plugin may reach and how (declared origins, operator aliases,
//!   private networks), pure;
//! - `client`: the HTTP clients, the redirect loop checking every hop against the policy, the
//!   streamed body under a size cap;
//! - here: the host impl (policy first, audit, per-request timeout, idempotency keys).
//!
//! Events are handled at least once, so a vendor may see the same request again when an
//! event is retried: when the invocation has an event id, every request carries
//! `Idempotency-Key: <event-id>:<n>` (n = 0, 1, ... the request's number in the invocation,
//! the same on every attempt of a deterministic handler) unless the plugin set the header
//! itself.

pub(crate) mod client;
pub mod policy;

pub use client::IDEMPOTENCY_KEY;
pub use policy::{Origin, VendorHttpPolicy, is_public_ip};

use url::Url;
use wasmtime::component::{HasSelf, Linker};

use super::{HostCalls, Project};
use crate::audit::Capability;
use crate::bindings::PluginError;
use crate::bindings::fulcrum::connector::vendor_http::{self, Method, Request, Response};
use client::Refused;

pub(crate) fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    project: Project<T>,
) -> wasmtime::Result<()> {
    vendor_http::add_to_linker::<T, HasSelf<HostCalls>>(linker, project)
}

impl vendor_http::Host for HostCalls {
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
            .as_ref()
            .unwrap_or(&self.shared.config.vendor_http);
        let rules = match policy.rules(&self.plugin.vendor_origins) {
            Ok(rules) => rules,
            Err(e) => {
                let error = PluginError::Unavailable(format!(
                    "the operator's vendor alias map is invalid ({e})"
                ));
                return self.finish(call, Err(error));
            }
        };
        let shared = self.shared.clone();
        let limits = &shared.config.limits;
        let sent = tokio::time::timeout(
            limits.vendor_request_timeout,
            client::send(
                shared.vendor.for_rules(&rules),
                &rules,
                request,
                idempotency_key.as_deref(),
                limits,
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

#[cfg(test)]
mod tests;

#[cfg(test)]
mod label_tests {
    use super::*;

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
}
