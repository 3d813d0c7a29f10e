//! Lever Data API v1 as data: the objects Lever returns, the bodies it accepts, the
//! permission words of its API keys and the OAuth scopes covering them, the table of operations Fulcrum uses, and the
//! webhook signature scheme.
//!
//! Both sides of Fulcrum's Lever boundary build on this crate: `lever-client` (the host
//! calling Lever) and `lever-sandbox` (the local Lever). Field names, types and nulls follow
//! Lever's documented shapes (`shared/reference/lever-api.md`); deserialisation is lenient
//! where Lever is known to vary (timestamps as numbers or strings, missing `hasNext`,
//! unknown fields and enum values).

pub mod envelope;
pub mod hiring;
pub mod operation;
pub mod permission;
pub mod requisitions;
pub mod resources;
pub mod scope;
pub mod timestamp;
pub mod webhook;

pub use envelope::{Data, ErrorBody, Page};
pub use hiring::*;
pub use operation::{Method, Operation, PerformAs};
pub use permission::{Permission, UnknownPermission};
pub use requisitions::*;
pub use resources::*;
pub use scope::{Scope, ScopeSet, UnknownScope};
pub use webhook::{WebhookDelivery, WebhookEventType};
