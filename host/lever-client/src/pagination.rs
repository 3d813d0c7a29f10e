//! Listing pages. [`fetch_page`] is the one place that asks Lever for a page: `limit` items
//! after an opaque `offset` token (none for the first page). The page-level methods
//! (`LeverClient::postings_page`, ...) return its result as is; the list streams are built
//! on it and follow Lever's `next` token while `hasNext` is true.
//!
//! Lever's offset tokens are bound to the query and can be rejected mid-listing ("Invalid
//! offset token: ..."). A page call returns that error (see
//! [`LeverError::is_invalid_offset_token`]); a stream starts over without `offset` and skips
//! what it has already yielded (tracked by id), at most [`MAX_RESTARTS`] times.

use futures::StreamExt;
use futures::stream::BoxStream;
use lever_model::{Operation, Page};
use serde::de::DeserializeOwned;
use std::collections::HashSet;
use std::sync::Arc;

use crate::query::QueryPairs;
use crate::transport::{Body, Inner, decode_page};
use crate::{LeverError, MAX_PAGE_SIZE};

/// How often one listing may start over after a rejected offset token.
pub const MAX_RESTARTS: usize = 3;

/// One page of `op`: `query` plus `limit` (clamped to 1..=[`MAX_PAGE_SIZE`]) and `offset`,
/// sent through the transport (rate budget, retries, typed errors). The next page's token is
/// `page.next_offset()`, `None` on the last page.
pub(crate) async fn fetch_page<T: DeserializeOwned>(
    inner: &Inner,
    op: Operation,
    params: &[&str],
    query: &QueryPairs,
    offset: Option<&str>,
    limit: u32,
) -> Result<Page<T>, LeverError> {
    let mut q = query.clone();
    q.push(("limit", limit.clamp(1, MAX_PAGE_SIZE).to_string()));
    if let Some(token) = offset {
        q.push(("offset", token.to_owned()));
    }
    let url = inner.url(op, params, &q)?;
    let bytes = inner.execute(op, &url, &Body::Empty).await?;
    let page = decode_page::<T>(op, &bytes)?;
    if offset.is_some() && page.next_offset() == offset {
        // Following the same token again would never end.
        return Err(LeverError::Decode {
            message: format!(
                "{}: Lever returned the offset token it was sent as the next one",
                op.label()
            ),
        });
    }
    Ok(page)
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
        let page_size = inner.config.page_size;
        let mut yielded: HashSet<String> = HashSet::new();
        let mut restarts = 0usize;
        let mut offset: Option<String> = None;
        let mut pages = 0u64;
        loop {
            let result =
                fetch_page::<T>(&inner, op, &params, &query, offset.as_deref(), page_size).await;
            let page = match result {
                Ok(page) => page,
                Err(e) if offset.is_some() && e.is_invalid_offset_token() && restarts < MAX_RESTARTS => {
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
                Some(token) => offset = Some(token),
            }
        }
    }
    .boxed()
}
