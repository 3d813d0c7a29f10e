//! The WIT `cursor` of `list-postings` / `find-opportunities`: Lever's own offset token,
//! wrapped so that it stays opaque to plugins and is bound to the filter it was issued for.
//!
//! Format: lowercase hex of the JSON `{"o": "<Lever offset token>", "f": "<filter hash>"}`,
//! where the filter hash is 16 hex digits of SHA-256 over the normalised filter (the listing,
//! then the filter fields with lists sorted and de-duplicated; `cursor` and `limit` excluded,
//! so the page size may change between pages). Lever binds its tokens to the query too; the
//! hash lets the host refuse a misused cursor before spending a request on it.
//!
//! Hex rather than base64url only to avoid a new dependency; nothing may rely on the format.

use serde::{Deserialize, Serialize};
use serde_json::json;
use sha2::{Digest, Sha256};

use crate::bindings::PluginError;
use crate::bindings::fulcrum::connector::lever as wit;

/// What a plugin should do with a cursor it can no longer use.
pub(super) const RESTART: &str = "start again without a cursor";

/// The error for a cursor that is not a `next-cursor` of this listing with this filter.
pub(super) fn foreign() -> PluginError {
    PluginError::Invalid(format!("cursor does not belong to this filter; {RESTART}"))
}

/// The error for a cursor whose Lever offset token Lever no longer accepts (expired, or
/// Lever rotated its tokens).
pub(super) fn expired() -> PluginError {
    PluginError::Invalid(format!(
        "cursor is no longer accepted by Lever (its offset token expired); {RESTART}"
    ))
}

#[derive(Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
struct Wire {
    /// Lever's offset token.
    o: String,
    /// [`Filter`] hash.
    f: String,
}

/// The hash a cursor carries: which listing, with which filter.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(super) struct Filter(String);

impl Filter {
    fn of(normalised: serde_json::Value) -> Self {
        let digest = Sha256::digest(normalised.to_string().as_bytes());
        Filter(hex::encode(&digest[..8]))
    }

    pub(super) fn postings(f: &wit::PostingFilter) -> Self {
        let states = sorted(
            f.states
                .iter()
                .map(|s| super::convert::posting_state_to_lever(*s)),
        );
        let channels = sorted(
            f.channels
                .iter()
                .map(|c| super::convert::channel_to_lever(*c)),
        );
        Self::of(json!(["postings", states, channels, f.updated_since]))
    }

    pub(super) fn opportunities(f: &wit::OpportunityFilter) -> Self {
        Self::of(json!([
            "opportunities",
            f.email,
            f.posting_id,
            f.tag,
            f.stage_id,
            f.archived,
            f.updated_since
        ]))
    }

    /// The cursor for Lever's `offset` token under this filter.
    pub(super) fn cursor(&self, offset: &str) -> String {
        let wire = Wire {
            o: offset.to_owned(),
            f: self.0.clone(),
        };
        hex::encode(serde_json::to_vec(&wire).expect("two strings always serialise"))
    }

    /// Lever's `offset` token inside `cursor`, if `cursor` is a cursor of this filter.
    pub(super) fn offset(&self, cursor: &str) -> Result<String, PluginError> {
        let wire: Wire = hex::decode(cursor.trim())
            .ok()
            .and_then(|bytes| serde_json::from_slice(&bytes).ok())
            .ok_or_else(foreign)?;
        if wire.f != self.0 || wire.o.is_empty() {
            return Err(foreign());
        }
        Ok(wire.o)
    }
}

fn sorted<T: ToString>(values: impl Iterator<Item = T>) -> Vec<String> {
    let mut v: Vec<String> = values.map(|x| x.to_string()).collect();
    v.sort();
    v.dedup();
    v
}

#[cfg(test)]
mod tests {
    use super::*;

    fn postings(states: Vec<wit::PostingState>, since: Option<i64>) -> wit::PostingFilter {
        wit::PostingFilter {
            states,
            channels: vec![],
            updated_since: since,
            cursor: None,
            limit: None,
        }
    }

    #[test]
    fn cursors_round_trip_and_are_bound_to_the_filter() {
        use wit::PostingState::{Closed, Published};
        let a = Filter::postings(&postings(vec![Published, Closed], Some(5)));
        // Order, duplicates, cursor and limit do not change the filter.
        let mut same = postings(vec![Closed, Published, Closed], Some(5));
        same.cursor = Some("x".into());
        same.limit = Some(3);
        assert_eq!(a, Filter::postings(&same));
        let cursor = a.cursor("MTcwMC5hYmM");
        assert!(
            cursor.bytes().all(|b| b.is_ascii_hexdigit()),
            "opaque and URL-safe: {cursor}"
        );
        assert_eq!(a.offset(&cursor).unwrap(), "MTcwMC5hYmM");

        let other = Filter::postings(&postings(vec![Published], Some(5)));
        assert_ne!(a, other);
        assert_eq!(other.offset(&cursor), Err(foreign()));
        let opportunities = Filter::opportunities(&wit::OpportunityFilter {
            email: None,
            posting_id: None,
            tag: None,
            stage_id: None,
            archived: None,
            updated_since: None,
            cursor: None,
            limit: None,
        });
        assert_ne!(opportunities, Filter::postings(&postings(vec![], None)));
        for garbage in [
            "",
            "skip:5",
            "zz",
            "7b7d",
            &hex::encode(br#"{"o":"","f":"x"}"#),
            &hex::encode(br#"{"o":"t","f":"x","extra":1}"#),
        ] {
            assert_eq!(a.offset(garbage), Err(foreign()), "{garbage:?}");
        }
        let PluginError::Invalid(message) = foreign() else {
            unreachable!()
        };
        assert_eq!(
            message,
            "cursor does not belong to this filter; start again without a cursor"
        );
    }
}
