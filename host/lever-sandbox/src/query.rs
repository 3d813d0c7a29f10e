//! Raw query-string parsing. Lever repeats keys for multi-valued parameters
//! (`?tag=a&tag=b`, sometimes `accessRole[]=admin`), which axum's `Query` cannot express, so
//! the sandbox keeps every pair in order and answers typed questions about them.

use crate::error::ApiError;
use lever_model::timestamp::Millis;

/// Page size bounds (Lever: 1..=100, default 100).
pub const MAX_LIMIT: usize = 100;

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct RawQuery {
    pairs: Vec<(String, String)>,
}

impl RawQuery {
    pub fn parse(query: Option<&str>) -> Self {
        let pairs = query
            .map(|q| {
                url::form_urlencoded::parse(q.as_bytes())
                    .map(|(k, v)| (k.into_owned(), v.into_owned()))
                    .collect()
            })
            .unwrap_or_default();
        Self { pairs }
    }

    /// Every value of `key`, also accepting the bracket form `key[]`; empty values are dropped.
    pub fn all(&self, key: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(k, _)| {
                k == key || (k.len() == key.len() + 2 && k.starts_with(key) && k.ends_with("[]"))
            })
            .map(|(_, v)| v.as_str())
            .filter(|v| !v.is_empty())
            .collect()
    }

    /// The last value of `key`, if any.
    pub fn one(&self, key: &str) -> Option<&str> {
        self.all(key).last().copied()
    }

    /// `true`/`false` (case-insensitive); anything else → 400.
    pub fn bool(&self, key: &str) -> Result<Option<bool>, ApiError> {
        match self.one(key) {
            None => Ok(None),
            Some(v) if v.eq_ignore_ascii_case("true") => Ok(Some(true)),
            Some(v) if v.eq_ignore_ascii_case("false") => Ok(Some(false)),
            Some(v) => Err(ApiError::bad_request(format!(
                "Invalid value for {key}: {v:?} (expected true or false)"
            ))),
        }
    }

    /// A millisecond timestamp; anything that is not an integer → 400.
    pub fn millis(&self, key: &str) -> Result<Option<Millis>, ApiError> {
        match self.one(key) {
            None => Ok(None),
            Some(v) => v.trim().parse::<Millis>().map(Some).map_err(|_| {
                ApiError::bad_request(format!(
                    "Invalid value for {key}: {v:?} is not a timestamp in milliseconds since the epoch"
                ))
            }),
        }
    }

    /// An inclusive `<prefix>start` / `<prefix>end` range (either end optional).
    pub fn range(&self, prefix: &str) -> Result<Range, ApiError> {
        Ok(Range {
            start: self.millis(&format!("{prefix}start"))?,
            end: self.millis(&format!("{prefix}end"))?,
        })
    }

    /// `limit`: 1..=100, default 100.
    pub fn limit(&self) -> Result<usize, ApiError> {
        match self.one("limit") {
            None => Ok(MAX_LIMIT),
            Some(v) => match v.trim().parse::<usize>() {
                Ok(n) if (1..=MAX_LIMIT).contains(&n) => Ok(n),
                _ => Err(ApiError::bad_request(format!(
                    "Invalid value for limit: {v:?} (must be an integer from 1 to {MAX_LIMIT})"
                ))),
            },
        }
    }

    /// What an offset token is bound to: every pair except `limit` and `offset`, order-independent.
    pub fn fingerprint(&self, path: &str) -> String {
        let mut pairs: Vec<_> = self
            .pairs
            .iter()
            .filter(|(k, _)| k != "limit" && k != "offset")
            .map(|(k, v)| format!("{}={}", k.trim_end_matches("[]"), v))
            .collect();
        pairs.sort();
        format!("{path}?{}", pairs.join("&"))
    }
}

/// An inclusive time range from `*_start` / `*_end`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Range {
    pub start: Option<Millis>,
    pub end: Option<Millis>,
}

impl Range {
    pub fn is_set(&self) -> bool {
        self.start.is_some() || self.end.is_some()
    }

    /// Whether `t` lies in the range; a missing timestamp never matches a set range.
    pub fn contains(&self, t: Option<Millis>) -> bool {
        if !self.is_set() {
            return true;
        }
        let Some(t) = t else { return false };
        self.start.is_none_or(|s| t >= s) && self.end.is_none_or(|e| t <= e)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn repeated_and_bracket_keys_are_collected() {
        let q = RawQuery::parse(Some(
            "state=published&state=internal&accessRole[]=admin&tag=a%20b&x=",
        ));
        assert_eq!(q.all("state"), vec!["published", "internal"]);
        assert_eq!(q.all("accessRole"), vec!["admin"]);
        assert_eq!(q.one("tag"), Some("a b"));
        assert!(q.all("x").is_empty());
    }

    #[test]
    fn limit_and_timestamps_are_validated() {
        assert_eq!(RawQuery::parse(None).limit().unwrap(), 100);
        assert_eq!(RawQuery::parse(Some("limit=5")).limit().unwrap(), 5);
        for bad in ["limit=0", "limit=101", "limit=x"] {
            assert!(RawQuery::parse(Some(bad)).limit().is_err(), "{bad}");
        }
        assert!(
            RawQuery::parse(Some("created_at_start=yesterday"))
                .range("created_at_")
                .is_err()
        );
        let r = RawQuery::parse(Some("created_at_start=10&created_at_end=20"))
            .range("created_at_")
            .unwrap();
        assert!(r.contains(Some(10)) && r.contains(Some(20)) && !r.contains(Some(21)));
        assert!(!r.contains(None));
    }

    #[test]
    fn fingerprint_ignores_paging_and_order() {
        let a = RawQuery::parse(Some("tag=a&state=b&limit=5&offset=xyz"));
        let b = RawQuery::parse(Some("state=b&tag=a"));
        assert_eq!(a.fingerprint("/p"), b.fingerprint("/p"));
        assert_ne!(
            a.fingerprint("/p"),
            RawQuery::parse(Some("tag=a")).fingerprint("/p")
        );
        assert_ne!(a.fingerprint("/p"), a.fingerprint("/q"));
    }
}
