//! Lever's response envelopes and error body.

use serde::{Deserialize, Serialize};

/// A single object: `{"data": {...}}`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Data<T> {
    pub data: T,
}

/// A list page: `{"data": [...], "hasNext": bool, "next": "<opaque offset token>"}`.
/// A missing `hasNext` means there is no further page; `next` is omitted on the last page.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Page<T> {
    pub data: Vec<T>,
    #[serde(default)]
    pub has_next: bool,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub next: Option<String>,
}

impl<T> Page<T> {
    /// The offset token of the next page, if Lever says there is one.
    pub fn next_offset(&self) -> Option<&str> {
        if self.has_next {
            self.next.as_deref().filter(|n| !n.is_empty())
        } else {
            None
        }
    }
}

/// Lever's error body: `{"code": "ResourceNotFound", "message": "..."}`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ErrorBody {
    #[serde(default)]
    pub code: String,
    #[serde(default)]
    pub message: String,
}

impl ErrorBody {
    pub fn new(code: impl Into<String>, message: impl Into<String>) -> Self {
        Self {
            code: code.into(),
            message: message.into(),
        }
    }
}

/// Message prefix Lever uses when it rejects an offset token (seen by tap-lever).
pub const INVALID_OFFSET_TOKEN: &str = "Invalid offset token";

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn missing_has_next_means_last_page() {
        let p: Page<u32> = serde_json::from_str(r#"{"data":[1,2]}"#).unwrap();
        assert!(!p.has_next);
        assert_eq!(p.next_offset(), None);
        let p: Page<u32> =
            serde_json::from_str(r#"{"data":[],"hasNext":true,"next":"0.1.abc"}"#).unwrap();
        assert_eq!(p.next_offset(), Some("0.1.abc"));
    }
}
