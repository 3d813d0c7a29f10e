//! Refused admin requests in the log: every 401 and 403 of the admin API, and the 404 a tenant
//! token gets for another tenant's path (it looks like a missing tenant to the caller, but is a
//! refusal), so an operator sees probing or misconfigured clients. A line names the method, the path (never the query), the
//! status, the error code and, when the token was recognised, its id, role and tenant; never
//! the token, a header or the body. Lines are rate-limited (a flood of refusals must not flood
//! the log); the next line that gets through says how many were left out.

use axum::extract::Request;
use axum::http::StatusCode;
use axum::middleware::Next;
use axum::response::Response;
use fulcrum_store::Role;
use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};
use parking_lot::Mutex;
use std::num::NonZeroU32;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, LazyLock};

use crate::api_error::ErrorCode;

/// Refusal lines per second, sustained.
const LINES_PER_SECOND: NonZeroU32 = NonZeroU32::new(10).unwrap();
/// Refusal lines at once after a quiet spell.
const BURST: NonZeroU32 = NonZeroU32::new(50).unwrap();

/// Who the token belonged to, once [`super::auth::Principal`] recognised it (in the request's
/// extensions, so the answer's log line can name it).
#[derive(Clone, Default)]
pub(crate) struct CallerSlot(Arc<Mutex<Option<Caller>>>);

#[derive(Clone)]
struct Caller {
    token_id: i64,
    role: Role,
    tenant: Option<String>,
}

impl CallerSlot {
    pub(crate) fn fill(&self, token_id: i64, role: Role, tenant: Option<&str>) {
        *self.0.lock() = Some(Caller {
            token_id,
            role,
            tenant: tenant.map(str::to_owned),
        });
    }
}

/// One limiter per process: the log is per process too.
struct RefusalLog {
    limiter: DefaultDirectRateLimiter,
    left_out: AtomicU64,
}

static LOG: LazyLock<RefusalLog> = LazyLock::new(|| RefusalLog {
    limiter: RateLimiter::direct(Quota::per_second(LINES_PER_SECOND).allow_burst(BURST)),
    left_out: AtomicU64::new(0),
});

/// Middleware of the admin routes: logs the request if its answer is a refusal.
pub(crate) async fn log_refusals(mut request: Request, next: Next) -> Response {
    let slot = CallerSlot::default();
    request.extensions_mut().insert(slot.clone());
    let method = request.method().clone();
    let path = request.uri().path().to_owned();
    let response = next.run(request).await;
    let status = response.status();
    let caller = slot.0.lock().clone();
    let refused = match status {
        StatusCode::UNAUTHORIZED | StatusCode::FORBIDDEN => true,
        StatusCode::NOT_FOUND => caller
            .as_ref()
            .and_then(|c| c.tenant.as_deref())
            .zip(path_tenant(&path))
            .is_some_and(|(own, asked)| own != asked),
        _ => false,
    };
    if !refused {
        return response;
    }
    if LOG.limiter.check().is_err() {
        LOG.left_out.fetch_add(1, Ordering::Relaxed);
        return response;
    }
    let left_out = LOG.left_out.swap(0, Ordering::Relaxed);
    let code = response.extensions().get::<ErrorCode>().map(|c| c.0);
    tracing::warn!(
        %method,
        path,
        status = status.as_u16(),
        code,
        token_id = caller.as_ref().map(|c| c.token_id),
        role = caller.as_ref().map(|c| c.role.as_str()),
        tenant = caller.as_ref().and_then(|c| c.tenant.as_deref()),
        refusals_left_out = left_out,
        "admin request refused"
    );
    response
}

/// The tenant a `/admin/v1/tenants/{tenant}/...` path names.
fn path_tenant(path: &str) -> Option<&str> {
    path.strip_prefix("/admin/v1/tenants/")?
        .split('/')
        .next()
        .filter(|tenant| !tenant.is_empty())
}

#[cfg(test)]
mod tests {
    use super::path_tenant;

    #[test]
    fn the_tenant_of_a_path_is_its_segment_after_tenants() {
        assert_eq!(path_tenant("/admin/v1/tenants/acme"), Some("acme"));
        assert_eq!(path_tenant("/admin/v1/tenants/acme/events/3"), Some("acme"));
        assert_eq!(path_tenant("/admin/v1/tenants"), None);
        assert_eq!(path_tenant("/admin/v1/tenants/"), None);
        assert_eq!(path_tenant("/admin/v1/tokens"), None);
    }
}
