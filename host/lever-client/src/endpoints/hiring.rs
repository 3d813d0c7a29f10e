//! Hiring data of an opportunity (read-only): interviews, panels, feedback, offers and
//! referrals. An opportunity without any yields an empty stream.

use futures::stream::BoxStream;
use lever_model::{Feedback, Interview, Offer, Operation, Panel, Referral};

use super::id_key;
use crate::pagination::paginate;
use crate::query::QueryPairs;
use crate::transport::Body;
use crate::{LeverClient, LeverError};

impl LeverClient {
    /// `GET /opportunities/:opportunity/interviews`.
    pub fn interviews(
        &self,
        opportunity_id: &str,
    ) -> BoxStream<'static, Result<Interview, LeverError>> {
        self.hiring_list(Operation::ListInterviews, opportunity_id, vec![])
    }

    /// `GET /opportunities/:opportunity/interviews/:interview`.
    pub async fn interview(
        &self,
        opportunity_id: &str,
        interview_id: &str,
    ) -> Result<Interview, LeverError> {
        self.hiring_get(Operation::GetInterview, opportunity_id, interview_id)
            .await
    }

    /// `GET /opportunities/:opportunity/panels`; each panel carries its interviews.
    pub fn panels(&self, opportunity_id: &str) -> BoxStream<'static, Result<Panel, LeverError>> {
        self.hiring_list(Operation::ListPanels, opportunity_id, vec![])
    }

    /// `GET /opportunities/:opportunity/panels/:panel`.
    pub async fn panel(&self, opportunity_id: &str, panel_id: &str) -> Result<Panel, LeverError> {
        self.hiring_get(Operation::GetPanel, opportunity_id, panel_id)
            .await
    }

    /// `GET /opportunities/:opportunity/feedback`.
    pub fn feedback(
        &self,
        opportunity_id: &str,
    ) -> BoxStream<'static, Result<Feedback, LeverError>> {
        self.hiring_list(Operation::ListFeedback, opportunity_id, vec![])
    }

    /// `GET /opportunities/:opportunity/feedback/:feedback`.
    pub async fn feedback_form(
        &self,
        opportunity_id: &str,
        feedback_id: &str,
    ) -> Result<Feedback, LeverError> {
        self.hiring_get(Operation::GetFeedback, opportunity_id, feedback_id)
            .await
    }

    /// `GET /opportunities/:opportunity/offers[?expand=creator]`.
    pub fn offers(
        &self,
        opportunity_id: &str,
        expand_creator: bool,
    ) -> BoxStream<'static, Result<Offer, LeverError>> {
        let mut q = QueryPairs::new();
        if expand_creator {
            q.push(("expand", "creator".to_owned()));
        }
        self.hiring_list(Operation::ListOffers, opportunity_id, q)
    }

    /// `GET /opportunities/:opportunity/referrals`.
    pub fn referrals(
        &self,
        opportunity_id: &str,
    ) -> BoxStream<'static, Result<Referral, LeverError>> {
        self.hiring_list(Operation::ListReferrals, opportunity_id, vec![])
    }

    /// `GET /opportunities/:opportunity/referrals/:referral`.
    pub async fn referral(
        &self,
        opportunity_id: &str,
        referral_id: &str,
    ) -> Result<Referral, LeverError> {
        self.hiring_get(Operation::GetReferral, opportunity_id, referral_id)
            .await
    }

    fn hiring_list<T>(
        &self,
        op: Operation,
        opportunity_id: &str,
        query: QueryPairs,
    ) -> BoxStream<'static, Result<T, LeverError>>
    where
        T: serde::de::DeserializeOwned + lever_model::HasId + Send + 'static,
    {
        paginate(
            self.inner.clone(),
            op,
            vec![opportunity_id.to_owned()],
            query,
            id_key,
        )
    }

    async fn hiring_get<T: serde::de::DeserializeOwned>(
        &self,
        op: Operation,
        opportunity_id: &str,
        item_id: &str,
    ) -> Result<T, LeverError> {
        self.inner
            .call(op, &[opportunity_id, item_id], vec![], Body::Empty)
            .await
    }
}
