//! Webhook subscriptions made through the API.

use futures::stream::BoxStream;
use lever_model::{NewWebhook, Operation, Webhook};

use super::id_key;
use crate::pagination::paginate;
use crate::transport::{Body, decode_data_unwrapping};
use crate::{LeverClient, LeverError};

impl LeverClient {
    /// `GET /webhooks`.
    pub fn webhooks(&self) -> BoxStream<'static, Result<Webhook, LeverError>> {
        paginate(
            self.inner.clone(),
            Operation::ListWebhooks,
            vec![],
            vec![],
            id_key,
        )
    }

    /// `POST /webhooks`. The answer carries `configuration.signatureToken`, needed to verify
    /// deliveries; Lever's example wraps it twice (`{"data":{"data":{..}}}`), so both shapes
    /// are read. A Super Admin still has to enable the event group in Lever's settings.
    pub async fn create_webhook(&self, body: &NewWebhook) -> Result<Webhook, LeverError> {
        let op = Operation::CreateWebhook;
        let bytes = self.inner.send(op, &[], vec![], Body::json(body)?).await?;
        decode_data_unwrapping(op, &bytes)
    }

    /// `DELETE /webhooks/:webhook` (API-created webhooks only).
    pub async fn delete_webhook(&self, id: &str) -> Result<(), LeverError> {
        self.inner
            .send(Operation::DeleteWebhook, &[id], vec![], Body::Empty)
            .await
            .map(drop)
    }
}
