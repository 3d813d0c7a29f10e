//! Prometheus metrics endpoint (issue 5): placeholder until the observability work lands.

use crate::ApiError;

pub(crate) async fn metrics() -> Result<String, ApiError> {
    Err(ApiError::not_found("metrics are not enabled in this build"))
}
