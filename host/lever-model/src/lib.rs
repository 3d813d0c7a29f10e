//! Lever Data API v1 as data: the objects Lever returns, the bodies it accepts, the
//! permission words of its API keys and the OAuth scopes covering them, the table of operations Fulcrum uses, and the
//! webhook signature scheme.
//!
//! Both sides of Fulcrum's Lever boundary build on this crate: `lever-client` (the host
//! calling Lever) and `lever-sandbox` (the local Lever). Field names, types and nulls follow
//! Lever's documented shapes (`shared/reference/lever-api.md`); deserialisation is lenient
//! where Lever is known to vary (timestamps as numbers or strings, missing `hasNext`,
//! unknown fields and enum values).

// Shared by the resource modules (textual scope: defined before them).
macro_rules! has_id {
    ($($t:ty),*) => { $(impl HasId for $t { fn id(&self) -> &str { &self.id } })* };
}

macro_rules! string_enum {
    ($(#[$meta:meta])* $name:ident { $($variant:ident => $text:literal),* $(,)? }) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
        pub enum $name {
            $(#[serde(rename = $text)] $variant,)*
            /// A value this version of Fulcrum does not know; Lever may add values.
            #[serde(other, rename = "unknown")]
            Unknown,
        }

        impl $name {
            /// Every known value, in Lever's order.
            pub const ALL: &'static [$name] = &[$($name::$variant),*];

            pub const fn as_str(self) -> &'static str {
                match self { $($name::$variant => $text,)* $name::Unknown => "unknown" }
            }
            pub fn parse(s: &str) -> Option<Self> {
                match s { $($text => Some($name::$variant),)* _ => None }
            }
        }

        impl std::fmt::Display for $name {
            fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

/// Lever's documented defaults where it has one; `Unknown` otherwise.
macro_rules! defaults {
    ($($name:ident => $variant:ident),*) => {
        $(impl Default for $name { fn default() -> Self { $name::$variant } })*
    };
}

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
