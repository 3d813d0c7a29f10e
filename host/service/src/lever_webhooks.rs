//! Lever webhook ingress (issue 5): placeholder router until the Lever ingress work lands.

use crate::Host;
use axum::Router;

pub(crate) fn router() -> Router<Host> {
    Router::new()
}
