//! The admin REST API (issue 5): placeholder router until the admin work lands.

use crate::Host;
use axum::Router;

pub(crate) fn router() -> Router<Host> {
    Router::new()
}
