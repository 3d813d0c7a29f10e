//! List endpoints as streams. Each page asks for `limit=page_size` and the next one follows
//! Lever's opaque `next` token while `hasNext` is true.
//!
//! Lever's offset tokens are bound to the query and can be rejected mid-listing ("Invalid
//! offset token: ..."). Then the listing starts over without `offset` and skips what it has
//! already yielded (tracked by id), at most [`MAX_RESTARTS`] times.

use futures::StreamExt;
use futures::stream::BoxStream;
use lever_model::Operation;
use lever_model::envelope::INVALID_OFFSET_TOKEN;
use serde::de::DeserializeOwned;
use std::collections::HashSet;
use std::sync::Arc;

use crate::LeverError;
use crate::query::QueryPairs;
use crate::transport::{Body, Inner, decode_page};

/// How often one listing may start over after a rejected offset token.
pub const MAX_RESTARTS: usize = 3;

/// Whether Lever rejected the offset token (the only 4xx a restart can fix).
pub(crate) fn is_invalid_offset(error: &LeverError) -> bool {
    matches!(error, LeverError::Invalid { status: 400, message, .. }
        if message.trim_start().starts_with(INVALID_OFFSET_TOKEN))
}

pub(crate) fn paginate<T>(
    inner: Arc<Inner>,
    op: Operation,
    params: Vec<String>,
    query: QueryPairs,
    key: fn(&T) -> String,
) -> BoxStream<'static, Result<T, LeverError>>
where
    T: DeserializeOwned + Send + 'static,
{
    async_stream::stream! {
        let params: Vec<&str> = params.iter().map(String::as_str).collect();
        let page_size = inner.config.page_size.to_string();
        let mut yielded: HashSet<String> = HashSet::new();
        let mut restarts = 0usize;
        let mut offset: Option<String> = None;
        let mut pages = 0u64;
        loop {
            let mut q = query.clone();
            q.push(("limit", page_size.clone()));
            if let Some(token) = &offset {
                q.push(("offset", token.clone()));
            }
            let result = match inner.url(op, &params, &q) {
                Ok(url) => inner.execute(op, &url, &Body::Empty).await,
                Err(e) => Err(e),
            };
            let page = match result.and_then(|bytes| decode_page::<T>(op, &bytes)) {
                Ok(page) => page,
                Err(e) if offset.is_some() && is_invalid_offset(&e) && restarts < MAX_RESTARTS => {
                    restarts += 1;
                    tracing::warn!(
                        operation = %op.label(), restarts, already_yielded = yielded.len(),
                        "Lever rejected the offset token; restarting the listing"
                    );
                    offset = None;
                    continue;
                }
                Err(e) => {
                    yield Err(e);
                    return;
                }
            };
            pages += 1;
            let next = page.next_offset().map(str::to_owned);
            for item in page.data {
                // Also drops items that moved between pages while we were listing. An item
                // without a key (e.g. trimmed by `include=`) cannot be tracked, so it is kept.
                let k = key(&item);
                if k.is_empty() || yielded.insert(k) {
                    yield Ok(item);
                }
            }
            match next {
                None => {
                    tracing::debug!(operation = %op.label(), pages, items = yielded.len(), "listing complete");
                    return;
                }
                Some(token) if offset.as_deref() == Some(token.as_str()) => {
                    // Following the same token again would never end.
                    yield Err(LeverError::Decode {
                        message: format!("{}: Lever returned the same offset token twice", op.label()),
                    });
                    return;
                }
                Some(token) => offset = Some(token),
            }
        }
    }
    .boxed()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn invalid_offset_detection() {
        let invalid = |status, message: &str| LeverError::Invalid {
            status,
            code: "BadRequest".into(),
            message: message.into(),
        };
        assert!(is_invalid_offset(&invalid(
            400,
            "Invalid offset token: Offset token is invalid for sort"
        )));
        assert!(!is_invalid_offset(&invalid(400, "Invalid email")));
        assert!(!is_invalid_offset(&invalid(422, "Invalid offset token")));
        assert!(!is_invalid_offset(&LeverError::NotFound {
            message: "Invalid offset token".into()
        }));
    }
}
