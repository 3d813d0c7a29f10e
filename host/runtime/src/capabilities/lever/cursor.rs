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
        let mut filter = vec![
            json!("postings"),
            json!(states),
            json!(channels),
            json!(f.updated_since),
        ];
        // Fields of contract 0.2.0, appended only when set: a 0.1.0 filter hashes as before,
        // so its cursors stay valid across the upgrade.
        let newer = json!({
            "confidentiality": super::convert::confidentiality_param(f.confidentiality),
            "team": f.team,
            "department": f.department,
            "location": f.location,
            "commitment": f.commitment,
            "tag": f.tag,
            "updated_until": f.updated_until,
        });
        filter.extend(set_fields(newer));
        Self::of(json!(filter))
    }

    pub(super) fn opportunities(f: &wit::OpportunityFilter) -> Self {
        let mut filter = vec![
            json!("opportunities"),
            json!(f.email),
            json!(f.posting_id),
            json!(f.tag),
            json!(f.stage_id),
            json!(f.archived),
            json!(f.updated_since),
        ];
        let newer = json!({
            "contact_id": f.contact_id,
            "archived_posting_id": f.archived_posting_id,
            "source": f.source,
            "origin": f.origin.map(|o| format!("{o:?}")),
            "archive_reason_id": f.archive_reason_id,
            "confidentiality": super::convert::confidentiality_param(f.confidentiality),
            "created_since": f.created_since,
            "created_until": f.created_until,
            "updated_until": f.updated_until,
            "advanced_since": f.advanced_since,
            "advanced_until": f.advanced_until,
        });
        filter.extend(set_fields(newer));
        Self::of(json!(filter))
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

/// The set fields of `fields` (a JSON object, whose keys serialize sorted) as `[key, value]`
/// pairs.
fn set_fields(fields: serde_json::Value) -> Vec<serde_json::Value> {
    match fields {
        serde_json::Value::Object(map) => map
            .into_iter()
            .filter(|(_, v)| !v.is_null())
            .map(|(k, v)| json!([k, v]))
            .collect(),
        _ => vec![],
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

    use crate::capabilities::lever::tests::{opportunity_filter as opportunities, posting_filter};

    fn postings(states: Vec<wit::PostingState>, since: Option<i64>) -> wit::PostingFilter {
        posting_filter(states, vec![], since)
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
        let opportunities = Filter::opportunities(&opportunities());
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

    #[test]
    fn every_field_of_a_filter_binds_its_cursors() {
        let base = Filter::postings(&postings(vec![], None));
        let mut confidential = postings(vec![], None);
        confidential.confidentiality = Some(wit::ConfidentialityFilter::All);
        let mut team = postings(vec![], None);
        team.team = Some("Platform".into());
        let mut until = postings(vec![], None);
        until.updated_until = Some(5);
        let mut default_confidentiality = postings(vec![], None);
        default_confidentiality.confidentiality = Some(wit::ConfidentialityFilter::NonConfidential);
        assert_eq!(
            base,
            Filter::postings(&default_confidentiality),
            "the default, spelled out"
        );
        let others = [confidential, team, until].map(|f| Filter::postings(&f));
        for (i, a) in others.iter().enumerate() {
            assert_ne!(*a, base);
            for b in &others[i + 1..] {
                assert_ne!(a, b);
            }
        }

        let base = Filter::opportunities(&opportunities());
        let mut origin = opportunities();
        origin.origin = Some(wit::Origin::Referred);
        let mut advanced = opportunities();
        advanced.advanced_since = Some(1);
        let mut contact = opportunities();
        contact.contact_id = Some("c1".into());
        for other in [origin, advanced, contact] {
            assert_ne!(Filter::opportunities(&other), base);
        }
        // A 0.1.0 filter hashes as it did: pinned.
        assert_eq!(
            base.0,
            Filter::of(json!(["opportunities", null, null, null, null, null, null])).0
        );
    }
}
