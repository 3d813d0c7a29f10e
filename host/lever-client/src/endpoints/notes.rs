//! Opportunity notes.

use futures::stream::BoxStream;
use lever_model::{CreatedNote, NewNote, Note, Operation};

use super::id_key;
use crate::pagination::paginate;
use crate::query::QueryPairs;
use crate::transport::{Body, add_perform_as};
use crate::{LeverClient, LeverError};

impl LeverClient {
    /// `GET /opportunities/:opportunity/notes`.
    pub fn notes(&self, opportunity_id: &str) -> BoxStream<'static, Result<Note, LeverError>> {
        paginate(
            self.inner.clone(),
            Operation::ListNotes,
            vec![opportunity_id.to_owned()],
            vec![],
            id_key,
        )
    }

    /// `GET /opportunities/:opportunity/notes/:note`.
    pub async fn note(&self, opportunity_id: &str, note_id: &str) -> Result<Note, LeverError> {
        self.inner
            .call(
                Operation::GetNote,
                &[opportunity_id, note_id],
                vec![],
                Body::Empty,
            )
            .await
    }

    /// `POST /opportunities/:opportunity/notes[?perform_as=]`; Lever answers with the new
    /// note's id only. Not idempotent.
    pub async fn create_note(
        &self,
        opportunity_id: &str,
        note: &NewNote,
        perform_as: Option<&str>,
    ) -> Result<CreatedNote, LeverError> {
        let op = Operation::CreateNote;
        let mut q = QueryPairs::new();
        add_perform_as(op, perform_as, &mut q);
        self.inner
            .call(op, &[opportunity_id], q, Body::json(note)?)
            .await
    }

    /// `DELETE /opportunities/:opportunity/notes/:note` (API-created notes only).
    pub async fn delete_note(&self, opportunity_id: &str, note_id: &str) -> Result<(), LeverError> {
        self.inner
            .send(
                Operation::DeleteNote,
                &[opportunity_id, note_id],
                vec![],
                Body::Empty,
            )
            .await
            .map(drop)
    }
}
