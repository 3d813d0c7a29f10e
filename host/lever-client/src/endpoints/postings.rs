//! Postings and applying to them.

use futures::stream::BoxStream;
use lever_model::{ApplyRequest, CreatedApplication, Operation, Posting, PostingWrite};

use super::id_key;
use crate::pagination::paginate;
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
