//! `list-postings` and `find-opportunities`: one Lever request per page, the WIT cursor
//! wrapping Lever's offset token (see `cursor`).

use lever_client::{LeverClient, LeverError};
use serde_json::Value;

use super::{convert, cursor, lever_error};
use crate::bindings::PluginError;
use crate::bindings::fulcrum::connector::lever as wit;

const DEFAULT_PAGE: u32 = 100;

/// The WIT `limit`: 1..=100, 100 when none.
fn page_limit(limit: Option<u32>) -> Result<u32, PluginError> {
    let limit = limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=100).contains(&limit) {
        return Err(PluginError::Invalid(format!(
            "limit must be 1..=100, not {limit}"
        )));
    }
    Ok(limit)
}

/// A listing's Lever error; a rejected offset token means the plugin's cursor is stale.
fn listing_error(e: LeverError, had_cursor: bool) -> PluginError {
    if had_cursor && e.is_invalid_offset_token() {
        cursor::expired()
    } else {
        lever_error(e)
    }
}

/// The filter fields contract 0.1.0 had: always journaled, null or not.
const V0_1_POSTING_FIELDS: [&str; 5] = ["states", "channels", "updated_since", "cursor", "limit"];
const V0_1_OPPORTUNITY_FIELDS: [&str; 8] = [
    "email",
    "posting_id",
    "tag",
    "stage_id",
    "archived",
    "updated_since",
    "cursor",
    "limit",
];

/// A listing's filter as journaled: the fields of contract 0.2.0 only when set, so a filter
/// 0.1.0 could express digests as it did before and an event journaled then replays.
fn listing_request<T: serde::Serialize>(filter: &T, older: &[&str]) -> Value {
    let mut request = super::read_request(filter);
    if let Some(fields) = request.as_object_mut() {
        fields.retain(|key, value| !value.is_null() || older.contains(&key.as_str()));
    }
    request
}

pub(super) fn postings_request(filter: &wit::PostingFilter) -> Value {
    listing_request(filter, &V0_1_POSTING_FIELDS)
}

pub(super) fn opportunities_request(filter: &wit::OpportunityFilter) -> Value {
    listing_request(filter, &V0_1_OPPORTUNITY_FIELDS)
}

/// One `list-postings` page: one Lever request (see `convert::posting_listing` for the
/// filters the host applies itself, which can leave a page short of `limit`).
pub(super) async fn postings_page(
    client: &LeverClient,
    filter: &wit::PostingFilter,
) -> Result<wit::PostingPage, PluginError> {
    let limit = page_limit(filter.limit)?;
    let bound = cursor::Filter::postings(filter);
    let offset = filter
        .cursor
        .as_deref()
        .map(|c| bound.offset(c))
        .transpose()?;
    let listing = convert::posting_listing(filter);
    let page = client
        .postings_page(&listing.query, offset.as_deref(), limit)
        .await
        .map_err(|e| listing_error(e, offset.is_some()))?;
    Ok(wit::PostingPage {
        postings: page
            .data
            .iter()
            .filter(|p| listing.keeps(p))
            .map(convert::posting)
            .collect(),
        next_cursor: page.next_offset().map(|o| bound.cursor(o)),
    })
}

/// One `find-opportunities` page: one Lever request.
pub(super) async fn opportunities_page(
    client: &LeverClient,
    filter: &wit::OpportunityFilter,
) -> Result<wit::OpportunityPage, PluginError> {
    let limit = page_limit(filter.limit)?;
    let bound = cursor::Filter::opportunities(filter);
    let offset = filter
        .cursor
        .as_deref()
        .map(|c| bound.offset(c))
        .transpose()?;
    let query = convert::opportunity_query(filter);
    let page = client
        .opportunities_page(&query, offset.as_deref(), limit)
        .await
        .map_err(|e| listing_error(e, offset.is_some()))?;
    Ok(wit::OpportunityPage {
        opportunities: page.data.iter().map(convert::opportunity).collect(),
        next_cursor: page.next_offset().map(|o| bound.cursor(o)),
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn filters_of_contract_0_1_0_journal_as_they_did() {
        let mut filter = wit::PostingFilter {
            states: vec![wit::PostingState::Published],
            channels: vec![],
            confidentiality: None,
            team: None,
            department: None,
            location: None,
            commitment: None,
            tag: None,
            updated_since: None,
            updated_until: None,
            cursor: None,
            limit: Some(10),
        };
        let request = postings_request(&filter);
        let keys: Vec<&str> = request
            .as_object()
            .expect("an object")
            .keys()
            .map(String::as_str)
            .collect();
        let mut expected = V0_1_POSTING_FIELDS.to_vec();
        expected.sort();
        let mut keys = keys;
        keys.sort();
        assert_eq!(keys, expected);
        assert_eq!(request["limit"], json!(10));
        filter.team = Some("Platform".into());
        assert_eq!(postings_request(&filter)["team"], "Platform");
    }

    #[test]
    fn rejected_offset_tokens_and_limits_are_typed() {
        let rejected = || LeverError::Invalid {
            status: 400,
            code: "BadRequest".into(),
            message: "Invalid offset token: Offset token is invalid for sort".into(),
        };
        let stale = listing_error(rejected(), true);
        assert_eq!(stale, cursor::expired());
        assert!(
            matches!(&stale, PluginError::Invalid(m) if m.ends_with("; start again without a cursor")),
            "{stale:?}"
        );
        // Without a cursor it is Lever's own message (a host bug, not the plugin's cursor).
        assert!(matches!(
            listing_error(rejected(), false),
            PluginError::Invalid(m) if m.starts_with("Invalid offset token")
        ));
        assert_eq!(page_limit(None), Ok(100));
        assert_eq!(page_limit(Some(1)), Ok(1));
        for bad in [0, 101] {
            assert!(matches!(
                page_limit(Some(bad)),
                Err(PluginError::Invalid(_))
            ));
        }
    }
}
