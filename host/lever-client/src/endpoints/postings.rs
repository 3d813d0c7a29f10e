//! Postings and applying to them.

use futures::stream::BoxStream;
use lever_model::{ApplyRequest, CreatedApplication, Operation, Page, Posting, PostingWrite};

use super::id_key;
use crate::pagination::{fetch_page, paginate};
use crate::query::QueryPairs;
use crate::transport::{Body, add_perform_as};
use crate::{LeverClient, LeverError, PostingQuery};

impl LeverClient {
    /// `GET /postings`. Without `distribution_channel`, `state=published` lists only postings
    /// on the public site.
    pub fn postings(&self, query: PostingQuery) -> BoxStream<'static, Result<Posting, LeverError>> {
        paginate(
            self.inner.clone(),
            Operation::ListPostings,
            vec![],
            query.to_pairs(),
            id_key,
        )
    }

    /// One page of `GET /postings`: up to `limit` postings (clamped to 1..=100) after Lever's
    /// `offset` token (`None` for the first page). The next page's token is
    /// `page.next_offset()`, `None` on the last page. Tokens are bound to the query: pass the
    /// same `query` with a token. A token Lever no longer accepts fails with an error whose
    /// [`LeverError::is_invalid_offset_token`] is true; start again without one.
    pub async fn postings_page(
        &self,
        query: &PostingQuery,
        offset: Option<&str>,
        limit: u32,
    ) -> Result<Page<Posting>, LeverError> {
        let op = Operation::ListPostings;
        fetch_page(&self.inner, op, &[], &query.to_pairs(), offset, limit).await
    }

    /// `GET /postings/:posting`.
    pub async fn posting(&self, id: &str) -> Result<Posting, LeverError> {
        self.inner
            .call(Operation::GetPosting, &[id], vec![], Body::Empty)
            .await
    }

    /// `POST /postings?perform_as=`; Lever creates it as a draft unless `state` says otherwise.
    pub async fn create_posting(
        &self,
        perform_as: &str,
        body: &PostingWrite,
    ) -> Result<Posting, LeverError> {
        let op = Operation::CreatePosting;
        let mut q = QueryPairs::new();
        add_perform_as(op, Some(perform_as), &mut q);
        self.inner.call(op, &[], q, Body::json(body)?).await
    }

    /// `POST /postings/:posting?perform_as=`: a partial update, only the fields sent change.
    pub async fn update_posting(
        &self,
        id: &str,
        perform_as: &str,
        body: &PostingWrite,
    ) -> Result<Posting, LeverError> {
        let op = Operation::UpdatePosting;
        let mut q = QueryPairs::new();
        add_perform_as(op, Some(perform_as), &mut q);
        self.inner.call(op, &[id], q, Body::json(body)?).await
    }

    /// `POST /postings/:posting/apply` (published or internal postings only). Not
    /// idempotent: an unknown outcome is reported, never resent.
    pub async fn apply_to_posting(
        &self,
        id: &str,
        body: &ApplyRequest,
    ) -> Result<CreatedApplication, LeverError> {
        self.inner
            .call(Operation::ApplyToPosting, &[id], vec![], Body::json(body)?)
            .await
    }
}
