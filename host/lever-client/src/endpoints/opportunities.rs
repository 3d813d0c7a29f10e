//! Opportunities (candidacies) and their stage, archive state, tags, sources and links.

use futures::stream::BoxStream;
use lever_model::{
    ArchiveUpdate, LinksUpdate, NewOpportunity, Operation, Opportunity, Page, SourcesUpdate,
    StageUpdate, TagsUpdate,
};
use serde::Serialize;

use super::id_key;
use crate::multipart::opportunity_form;
use crate::pagination::{fetch_page, paginate};
use crate::query::QueryPairs;
use crate::transport::{Body, add_perform_as};
use crate::{Attachments, LeverClient, LeverError, OpportunityQuery};

impl LeverClient {
    /// `GET /opportunities`. `archived: None` lists active and archived ones.
    pub fn opportunities(
        &self,
        query: OpportunityQuery,
    ) -> BoxStream<'static, Result<Opportunity, LeverError>> {
        paginate(
            self.inner.clone(),
            Operation::ListOpportunities,
            vec![],
            query.to_pairs(),
            id_key,
        )
    }

    /// One page of `GET /opportunities`: up to `limit` opportunities (clamped to 1..=100)
    /// after Lever's `offset` token (`None` for the first page). The next page's token is
    /// `page.next_offset()`, `None` on the last page. Tokens are bound to the query: pass the
    /// same `query` with a token. A token Lever no longer accepts fails with an error whose
    /// [`LeverError::is_invalid_offset_token`] is true; start again without one.
    pub async fn opportunities_page(
        &self,
        query: &OpportunityQuery,
        offset: Option<&str>,
        limit: u32,
    ) -> Result<Page<Opportunity>, LeverError> {
        let op = Operation::ListOpportunities;
        fetch_page(&self.inner, op, &[], &query.to_pairs(), offset, limit).await
    }

    /// `GET /opportunities/:opportunity`.
    pub async fn opportunity(&self, id: &str) -> Result<Opportunity, LeverError> {
        self.inner
            .call(Operation::GetOpportunity, &[id], vec![], Body::Empty)
            .await
    }

    /// `GET /opportunities/:opportunity?expand=...` (e.g. `applications`, `stage`, `owner`).
    pub async fn opportunity_expanded(
        &self,
        id: &str,
        expand: &[&str],
    ) -> Result<Opportunity, LeverError> {
        let q = expand.iter().map(|e| ("expand", (*e).to_owned())).collect();
        self.inner
            .call(Operation::GetOpportunity, &[id], q, Body::Empty)
            .await
    }

    /// `POST /opportunities?perform_as=`: JSON when `attachments` is empty, multipart
    /// otherwise (`emails[]`, `phones[0][value]`, `archived[reason]`, `resumeFile`, `files[]`).
    /// Lever matches existing contacts by e-mail. Not idempotent: on an unknown outcome the
    /// caller gets `Unavailable { outcome_unknown: true }` and should search by e-mail before
    /// creating again.
    pub async fn create_opportunity(
        &self,
        perform_as: &str,
        body: &NewOpportunity,
        attachments: Attachments,
    ) -> Result<Opportunity, LeverError> {
        let op = Operation::CreateOpportunity;
        let mut q = QueryPairs::new();
        add_perform_as(op, Some(perform_as), &mut q);
        let body = if attachments.is_empty() {
            Body::json(body)?
        } else {
            Body::Form(opportunity_form(body, attachments)?)
        };
        self.inner.call(op, &[], q, body).await
    }

    async fn opportunity_write<B: Serialize>(
        &self,
        op: Operation,
        id: &str,
        perform_as: Option<&str>,
        body: &B,
    ) -> Result<Opportunity, LeverError> {
        let mut q = QueryPairs::new();
        add_perform_as(op, perform_as, &mut q);
        self.inner.call(op, &[id], q, Body::json(body)?).await
    }

    /// `PUT /opportunities/:opportunity/stage`.
    pub async fn update_stage(
        &self,
        id: &str,
        stage_id: &str,
        perform_as: Option<&str>,
    ) -> Result<Opportunity, LeverError> {
        let body = StageUpdate {
            stage: stage_id.to_owned(),
        };
        self.opportunity_write(Operation::UpdateStage, id, perform_as, &body)
            .await
    }

    /// `PUT /opportunities/:opportunity/archived` with a reason (archives, or changes the
    /// reason of an archived opportunity).
    pub async fn archive(
        &self,
        id: &str,
        reason_id: &str,
        perform_as: Option<&str>,
    ) -> Result<Opportunity, LeverError> {
        let body = ArchiveUpdate {
            reason: Some(reason_id.to_owned()),
            ..Default::default()
        };
        self.update_archived(id, &body, perform_as).await
    }

    /// `PUT /opportunities/:opportunity/archived` with `reason: null`.
    pub async fn unarchive(
        &self,
        id: &str,
        perform_as: Option<&str>,
    ) -> Result<Opportunity, LeverError> {
        self.update_archived(id, &ArchiveUpdate::default(), perform_as)
            .await
    }

    /// `PUT /opportunities/:opportunity/archived` with the full body (`cleanInterviews`,
    /// `requisitionId`).
    pub async fn update_archived(
        &self,
        id: &str,
        body: &ArchiveUpdate,
        perform_as: Option<&str>,
    ) -> Result<Opportunity, LeverError> {
        self.opportunity_write(Operation::UpdateArchived, id, perform_as, body)
            .await
    }

    /// `POST /opportunities/:opportunity/addTags` (unknown tags are created).
    pub async fn add_tags(
        &self,
        id: &str,
        tags: &[String],
        perform_as: Option<&str>,
    ) -> Result<Opportunity, LeverError> {
        let body = TagsUpdate {
            tags: tags.to_vec(),
        };
        self.opportunity_write(Operation::AddTags, id, perform_as, &body)
            .await
    }

    /// `POST /opportunities/:opportunity/removeTags`.
    pub async fn remove_tags(
        &self,
        id: &str,
        tags: &[String],
        perform_as: Option<&str>,
    ) -> Result<Opportunity, LeverError> {
        let body = TagsUpdate {
            tags: tags.to_vec(),
        };
        self.opportunity_write(Operation::RemoveTags, id, perform_as, &body)
            .await
    }

    /// `POST /opportunities/:opportunity/addSources` (unknown sources are created).
    pub async fn add_sources(
        &self,
        id: &str,
        sources: &[String],
        perform_as: Option<&str>,
    ) -> Result<Opportunity, LeverError> {
        let body = SourcesUpdate {
            sources: sources.to_vec(),
        };
        self.opportunity_write(Operation::AddSources, id, perform_as, &body)
            .await
    }

    /// `POST /opportunities/:opportunity/removeSources`.
    pub async fn remove_sources(
        &self,
        id: &str,
        sources: &[String],
        perform_as: Option<&str>,
    ) -> Result<Opportunity, LeverError> {
        let body = SourcesUpdate {
            sources: sources.to_vec(),
        };
        self.opportunity_write(Operation::RemoveSources, id, perform_as, &body)
            .await
    }

    /// `POST /opportunities/:opportunity/addLinks` (links live on the contact).
    pub async fn add_links(
        &self,
        id: &str,
        links: &[String],
        perform_as: Option<&str>,
    ) -> Result<Opportunity, LeverError> {
        let body = LinksUpdate {
            links: links.to_vec(),
        };
        self.opportunity_write(Operation::AddLinks, id, perform_as, &body)
            .await
    }

    /// `POST /opportunities/:opportunity/removeLinks`.
    pub async fn remove_links(
        &self,
        id: &str,
        links: &[String],
        perform_as: Option<&str>,
    ) -> Result<Opportunity, LeverError> {
        let body = LinksUpdate {
            links: links.to_vec(),
        };
        self.opportunity_write(Operation::RemoveLinks, id, perform_as, &body)
            .await
    }
}
