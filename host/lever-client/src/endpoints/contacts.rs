//! Contacts: the person behind one or more opportunities.

use lever_model::{Contact, ContactUpdate, Operation};

use crate::transport::Body;
use crate::{LeverClient, LeverError};

impl LeverClient {
    /// `GET /contacts/:contact`.
    pub async fn contact(&self, id: &str) -> Result<Contact, LeverError> {
        self.inner
            .call(Operation::GetContact, &[id], vec![], Body::Empty)
            .await
    }

    /// `PUT /contacts/:contact`.
    pub async fn update_contact(
        &self,
        id: &str,
        body: &ContactUpdate,
    ) -> Result<Contact, LeverError> {
        self.inner
            .call(Operation::UpdateContact, &[id], vec![], Body::json(body)?)
            .await
    }
}
