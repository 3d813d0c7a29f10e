//! Offset tokens and keyset pages.
//!
//! A token carries the position of the last item served — `(createdAt, id)` or another
//! stable sort key — so that inserts during a listing neither skip nor repeat items. It is
//! HMAC-signed with a per-sandbox secret over the endpoint and its filters (everything but
//! `limit` and `offset`): a token from another query, an altered token, a foreign token or one
//! issued before `rotate()` is rejected with Lever's "Invalid offset token" 400.

use crate::error::ApiError;
use crate::query::RawQuery;
use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use hmac::digest::KeyInit;
use hmac::{Hmac, Mac};
use lever_model::Page;
use parking_lot::RwLock;
use rand::RngCore;
use sha2::Sha256;

type HmacSha256 = Hmac<Sha256>;

/// Bytes of MAC kept in a token: short tokens, still unforgeable in practice.
const MAC_LEN: usize = 16;

/// Sort position: (primary key, tie-breaking id). Lists are ordered ascending by it.
pub type SortKey = (i64, String);

pub struct OffsetTokens {
    secret: RwLock<[u8; 64]>,
}

impl Default for OffsetTokens {
    fn default() -> Self {
        Self::new()
    }
}

impl OffsetTokens {
    pub fn new() -> Self {
        Self {
            secret: RwLock::new(random_secret()),
        }
    }

    /// Invalidate every token issued so far.
    pub fn rotate(&self) {
        *self.secret.write() = random_secret();
    }

    fn mac(&self, scope: &str, payload: &[u8]) -> HmacSha256 {
        // A block-sized key makes construction infallible (no panics on request paths).
        let mut mac = <HmacSha256 as KeyInit>::new(&(*self.secret.read()).into());
        mac.update(scope.as_bytes());
        mac.update(b"\n");
        mac.update(payload);
        mac
    }

    pub fn issue(&self, scope: &str, key: (i64, &str)) -> String {
        let payload = format!("{}.{}", key.0, key.1).into_bytes();
        let tag = self.mac(scope, &payload).finalize().into_bytes();
        let mut raw = payload;
        raw.extend_from_slice(&tag[..MAC_LEN]);
        URL_SAFE_NO_PAD.encode(raw)
    }

    pub fn verify(&self, scope: &str, token: &str) -> Result<SortKey, ApiError> {
        let raw = URL_SAFE_NO_PAD
            .decode(token.trim())
            .map_err(|_| ApiError::invalid_offset())?;
        if raw.len() <= MAC_LEN {
            return Err(ApiError::invalid_offset());
        }
        let (payload, tag) = raw.split_at(raw.len() - MAC_LEN);
        self.mac(scope, payload)
            .verify_truncated_left(tag)
            .map_err(|_| ApiError::invalid_offset())?;
        let text = std::str::from_utf8(payload).map_err(|_| ApiError::invalid_offset())?;
        let (n, id) = text.split_once('.').ok_or_else(ApiError::invalid_offset)?;
        let n = n.parse::<i64>().map_err(|_| ApiError::invalid_offset())?;
        Ok((n, id.to_owned()))
    }
}

fn random_secret() -> [u8; 64] {
    let mut s = [0u8; 64];
    rand::rng().fill_bytes(&mut s);
    s
}

/// One list request's paging parameters: page size, the position after which to continue,
/// and the scope new tokens are bound to.
pub struct Pager<'a> {
    pub limit: usize,
    after: Option<SortKey>,
    scope: String,
    tokens: &'a OffsetTokens,
}

impl<'a> Pager<'a> {
    pub fn new(query: &RawQuery, path: &str, tokens: &'a OffsetTokens) -> Result<Self, ApiError> {
        let limit = query.limit()?;
        let scope = query.fingerprint(path);
        let after = match query.one("offset") {
            None => None,
            Some(t) => Some(tokens.verify(&scope, t)?),
        };
        Ok(Self {
            limit,
            after,
            scope,
            tokens,
        })
    }

    /// The position the page continues after (for range scans over an ordered index).
    pub fn after(&self) -> Option<&SortKey> {
        self.after.as_ref()
    }

    /// Build the page from items in ascending key order. Items at or before the cursor are
    /// skipped here, so callers may pass the full ordered list.
    pub fn page<'k, T>(&self, items: impl IntoIterator<Item = (i64, &'k str, T)>) -> Page<T> {
        let mut data = Vec::new();
        let mut last: Option<(i64, String)> = None;
        let mut has_next = false;
        for (n, id, item) in items {
            if let Some((an, aid)) = &self.after
                && (n, id) <= (*an, aid.as_str())
            {
                continue;
            }
            if data.len() == self.limit {
                has_next = true;
                break;
            }
            last = Some((n, id.to_owned()));
            data.push(item);
        }
        let next = match (&last, has_next) {
            (Some((n, id)), true) => Some(self.tokens.issue(&self.scope, (*n, id))),
            _ => None,
        };
        Page {
            data,
            has_next,
            next,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tokens_round_trip_and_reject_tampering() {
        let t = OffsetTokens::new();
        let tok = t.issue("/p?a=1", (5, "id-1"));
        assert_eq!(t.verify("/p?a=1", &tok).unwrap(), (5, "id-1".to_owned()));
        // other query
        assert_eq!(
            t.verify("/p?a=2", &tok).unwrap_err(),
            ApiError::invalid_offset()
        );
        // altered token
        let mut bytes = URL_SAFE_NO_PAD.decode(&tok).unwrap();
        bytes[0] ^= 1;
        assert!(t.verify("/p?a=1", &URL_SAFE_NO_PAD.encode(bytes)).is_err());
        // foreign tokens, Lever-shaped and garbage
        for foreign in [
            "0.1414895548650.a6070140-33db-407c-91f5-2760e15c8e94",
            "",
            "!!",
            "abc",
        ] {
            assert!(t.verify("/p?a=1", foreign).is_err(), "{foreign}");
        }
        // another sandbox's token
        assert!(OffsetTokens::new().verify("/p?a=1", &tok).is_err());
        // rotation
        t.rotate();
        let err = t.verify("/p?a=1", &tok).unwrap_err();
        assert_eq!(err.status.as_u16(), 400);
        assert_eq!(
            err.message,
            "Invalid offset token: Offset token is invalid for sort"
        );
    }

    #[test]
    fn keyset_pages_do_not_skip_or_repeat_on_insert() {
        let tokens = OffsetTokens::new();
        let mut items: Vec<(i64, String)> = (0..5).map(|i| (i * 10, format!("id{i}"))).collect();
        let q = RawQuery::parse(Some("limit=2"));
        let pager = Pager::new(&q, "/x", &tokens).unwrap();
        let p1 = pager.page(items.iter().map(|(n, id)| (*n, id.as_str(), id.clone())));
        assert_eq!(p1.data, vec!["id0", "id1"]);
        assert!(p1.has_next);
        // insert an item before the cursor and one after it
        items.insert(0, (-1, "early".into()));
        items.push((100, "late".into()));
        let q2 = RawQuery::parse(Some(&format!("limit=2&offset={}", p1.next.unwrap())));
        let pager = Pager::new(&q2, "/x", &tokens).unwrap();
        let p2 = pager.page(items.iter().map(|(n, id)| (*n, id.as_str(), id.clone())));
        assert_eq!(p2.data, vec!["id2", "id3"]);
        let q3 = RawQuery::parse(Some(&format!("limit=2&offset={}", p2.next.unwrap())));
        let p3 = Pager::new(&q3, "/x", &tokens)
            .unwrap()
            .page(items.iter().map(|(n, id)| (*n, id.as_str(), id.clone())));
        assert_eq!(p3.data, vec!["id4", "late"]);
        assert!(!p3.has_next);
        assert!(p3.next.is_none());
    }
}
