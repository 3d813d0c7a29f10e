//! delete-note: only notes written as a user the installation may act as.

use serde::de::IgnoredAny;
use serde_json::json;

use crate::bindings::PluginError;
use crate::capabilities::HostCalls;
use crate::capabilities::lever::write::LeverWrite;
use crate::capabilities::lever::{LeverFunction, lever_error};

impl HostCalls {
    /// Reads the note first (journaled, part of this call): a note by anyone the installation
    /// may not act as is someone else's words, so deleting it is `forbidden`, audited, and
    /// nothing is deleted. Lever itself deletes only notes created through the API.
    pub(super) async fn note_deletion(
        &mut self,
        opportunity_id: String,
        note_id: String,
    ) -> Result<(), PluginError> {
        let (call, lever) = self.lever_begin(LeverFunction::DeleteNote)?;
        let read = async {
            lever
                .client
                .note(&opportunity_id, &note_id)
                .await
                .map_err(lever_error)
        };
        let request = json!({ "opportunity_id": opportunity_id, "id": note_id });
        let (call, note) = self.lever_lookup(call, request, read).await?;
        let ours = note
            .user
            .as_ref()
            .is_some_and(|author| lever.may_act_as(author.id()));
        if !ours {
            let refusal = format!(
                "delete opportunity note: note {note_id} was not written by this integration"
            );
            return Err(self.deny(call.host, PluginError::Forbidden(refusal)));
        }
        let write = LeverWrite::delete_note(opportunity_id, note_id);
        self.lever_write::<IgnoredAny>(call, &lever, write)
            .await
            .map(drop)
    }
}
