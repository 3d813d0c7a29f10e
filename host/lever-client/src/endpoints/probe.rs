//! Permission probes: does the credential hold the permission of an operation? Lever checks
//! the permission before it looks at the request, so a request naming an object that does
//! not exist (and, for writes, an empty body without `perform_as`) answers 403 without the
//! permission and 404/400 with it. Such requests are invalid by Lever's documented rules
//! (every write here needs an id that does not exist or a field the empty body lacks), so
//! they are refused either way; the probe relies on that to change nothing.

use lever_model::Operation;

use crate::transport::Body;
use crate::{LeverClient, LeverError};

/// What a probe found out.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ProbeAnswer {
    /// Lever let the request past its permission check.
    Permitted,
    /// Lever answered 403: the credential lacks the operation's permission.
    Forbidden,
}

/// Stands for every `:id` of a probed path: no Lever object has it.
const NO_SUCH_ID: &str = "fulcrum-permission-probe-0000";

impl LeverClient {
    /// Sends a harmless request for `op` and tells whether the credential may use it. A 401
    /// (the credential itself is rejected), an outage or a rate limit is an error.
    pub async fn probe(&self, op: Operation) -> Result<ProbeAnswer, LeverError> {
        let ids = op.path().split('/').filter(|s| s.starts_with(':')).count();
        let params = vec![NO_SUCH_ID; ids];
        let (query, body) = match op.method() {
            lever_model::Method::Get => (vec![("limit", "1".to_owned())], Body::Empty),
            lever_model::Method::Delete => (vec![], Body::Empty),
            // No `perform_as` and an empty body: refused after the permission check.
            _ => (vec![], Body::json(&serde_json::json!({}))?),
        };
        match self.inner.send(op, &params, query, body).await {
            Ok(_) | Err(LeverError::NotFound { .. }) | Err(LeverError::Invalid { .. }) => {
                Ok(ProbeAnswer::Permitted)
            }
            Err(LeverError::Forbidden { .. }) => Ok(ProbeAnswer::Forbidden),
            Err(e) => Err(e),
        }
    }
}
