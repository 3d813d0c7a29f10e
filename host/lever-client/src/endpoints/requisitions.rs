//! Requisitions, requisition fields and creating users.

use futures::StreamExt;
use futures::stream::BoxStream;
use lever_model::{
    NewRequisition, NewRequisitionField, NewUser, Operation, Requisition, RequisitionField,
    RequisitionFieldUpdate, RequisitionUpdate, User,
};

use super::id_key;
use crate::pagination::paginate;
use crate::query::RequisitionQuery;
use crate::transport::Body;
use crate::{LeverClient, LeverError, UserQuery};

impl LeverClient {
    /// `GET /requisitions`, oldest first.
    pub fn requisitions(
        &self,
        query: RequisitionQuery,
    ) -> BoxStream<'static, Result<Requisition, LeverError>> {
        paginate(
            self.inner.clone(),
            Operation::ListRequisitions,
            vec![],
            query.to_pairs(),
            id_key,
        )
    }

    /// `GET /requisitions/:requisition`.
    pub async fn requisition(&self, id: &str) -> Result<Requisition, LeverError> {
        self.inner
            .call(Operation::GetRequisition, &[id], vec![], Body::Empty)
            .await
    }

    /// `POST /requisitions` (`requisitionCode`, `name`, `headcountTotal` required; codes are
    /// unique). Not idempotent: an unknown outcome is reported, never resent — look the code
    /// up with [`requisitions`](Self::requisitions) to reconcile.
    pub async fn create_requisition(
        &self,
        body: &NewRequisition,
    ) -> Result<Requisition, LeverError> {
        self.inner
            .call(Operation::CreateRequisition, &[], vec![], Body::json(body)?)
            .await
    }

    /// `PUT /requisitions/:requisition`: a full replace — optional fields left out are cleared.
    pub async fn update_requisition(
        &self,
        id: &str,
        body: &RequisitionUpdate,
    ) -> Result<Requisition, LeverError> {
        self.inner
            .call(
                Operation::UpdateRequisition,
                &[id],
                vec![],
                Body::json(body)?,
            )
            .await
    }

    /// `GET /requisition_fields`: the account's custom requisition fields.
    pub fn requisition_fields(&self) -> BoxStream<'static, Result<RequisitionField, LeverError>> {
        paginate(
            self.inner.clone(),
            Operation::ListRequisitionFields,
            vec![],
            vec![],
            id_key,
        )
    }

    /// `GET /requisition_fields/:requisition_field` (ids are snake_case).
    pub async fn requisition_field(&self, id: &str) -> Result<RequisitionField, LeverError> {
        self.inner
            .call(Operation::GetRequisitionField, &[id], vec![], Body::Empty)
            .await
    }

    /// `POST /requisition_fields`.
    pub async fn create_requisition_field(
        &self,
        body: &NewRequisitionField,
    ) -> Result<RequisitionField, LeverError> {
        self.inner
            .call(
                Operation::CreateRequisitionField,
                &[],
                vec![],
                Body::json(body)?,
            )
            .await
    }

    /// `PUT /requisition_fields/:requisition_field`: a full replace.
    pub async fn update_requisition_field(
        &self,
        id: &str,
        body: &RequisitionFieldUpdate,
    ) -> Result<RequisitionField, LeverError> {
        self.inner
            .call(
                Operation::UpdateRequisitionField,
                &[id],
                vec![],
                Body::json(body)?,
            )
            .await
    }

    /// `POST /users`: `accessRole` defaults to `interviewer`; Lever sends no invitation. A
    /// second user with the same (canonical) e-mail is refused. Not idempotent: on an unknown
    /// outcome, reconcile with [`user_by_email`](Self::user_by_email).
    pub async fn create_user(&self, body: &NewUser) -> Result<User, LeverError> {
        self.inner
            .call(Operation::CreateUser, &[], vec![], Body::json(body)?)
            .await
    }

    /// The user with this e-mail (Lever matches it canonically), deactivated ones included,
    /// or `None`.
    pub async fn user_by_email(&self, email: &str) -> Result<Option<User>, LeverError> {
        let query = UserQuery {
            email: Some(email.to_owned()),
            include_deactivated: true,
            ..Default::default()
        };
        self.users(query).next().await.transpose()
    }
}
