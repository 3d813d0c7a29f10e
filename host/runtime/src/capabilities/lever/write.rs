//! One Lever write as the journal sees it: what is sent (`send`), what identifies it across
//! attempts of an event (`canonical`, `digest`), and how an unknown outcome is looked up at
//! Lever (`reconcile`, with the create's [`AttemptMarker`]). No journal or host state here:
//! `journaled` drives it.

mod build;
mod reconcile;
#[cfg(test)]
mod tests;

use lever_client::{Attachments, FileUpload, LeverClient, LeverError};
use lever_model as lm;
use serde::Serialize;
use serde_json::{Value, json};

use super::LeverFunction;
use crate::journal::{bytes_digest, request_digest};

pub use reconcile::CLOCK_SLACK_MS;
pub(crate) use reconcile::{AttemptMarker, Reconciled};

/// One Lever write, as sent and as digested.
pub(crate) struct LeverWrite {
    /// The WIT function; its name is part of the digest.
    pub(super) function: LeverFunction,
    perform_as: String,
    kind: WriteKind,
}

enum WriteKind {
    CreateOpportunity {
        body: Box<lm::NewOpportunity>,
        attachments: Attachments,
    },
    Stage {
        opportunity_id: String,
        body: lm::StageUpdate,
    },
    /// `archive` and `unarchive` (`reason: None`).
    Archived {
        opportunity_id: String,
        body: lm::ArchiveUpdate,
    },
    AddTags {
        opportunity_id: String,
        body: lm::TagsUpdate,
    },
    RemoveTags {
        opportunity_id: String,
        body: lm::TagsUpdate,
    },
    AddSources {
        opportunity_id: String,
        body: lm::SourcesUpdate,
    },
    AddLinks {
        opportunity_id: String,
        body: lm::LinksUpdate,
    },
    Note {
        opportunity_id: String,
        body: lm::NewNote,
    },
    Upload {
        opportunity_id: String,
        file: FileUpload,
    },
    CreatePosting {
        body: Box<lm::PostingWrite>,
    },
    UpdatePosting {
        posting_id: String,
        body: Box<lm::PostingWrite>,
    },
    /// `POST /uploads`: an application's résumé.
    ApplicationUpload {
        file: FileUpload,
    },
    Apply {
        posting_id: String,
        body: lm::ApplyRequest,
    },
    UpdateContact {
        contact_id: String,
        body: lm::ContactUpdate,
    },
    DeleteNote {
        opportunity_id: String,
        note_id: String,
    },
    CreateUser {
        body: lm::NewUser,
    },
    CreateRequisition {
        body: Box<lm::NewRequisition>,
    },
    UpdateRequisition {
        requisition_id: String,
        body: Box<lm::NewRequisition>,
    },
    CreateRequisitionField {
        body: lm::NewRequisitionField,
    },
    UpdateRequisitionField {
        field_id: String,
        body: lm::NewRequisitionField,
    },
}

impl LeverWrite {
    fn new(function: LeverFunction, perform_as: String, kind: WriteKind) -> Self {
        LeverWrite {
            function,
            perform_as,
            kind,
        }
    }

    fn opportunity_id(&self) -> Option<&str> {
        match &self.kind {
            WriteKind::Stage { opportunity_id, .. }
            | WriteKind::Archived { opportunity_id, .. }
            | WriteKind::AddTags { opportunity_id, .. }
            | WriteKind::RemoveTags { opportunity_id, .. }
            | WriteKind::AddSources { opportunity_id, .. }
            | WriteKind::AddLinks { opportunity_id, .. }
            | WriteKind::Note { opportunity_id, .. }
            | WriteKind::Upload { opportunity_id, .. }
            | WriteKind::DeleteNote { opportunity_id, .. } => Some(opportunity_id),
            _ => None,
        }
    }

    /// What a write of contract 0.2.0 changes when it is not an opportunity: its own key in
    /// the digest, so the digests of the older writes stay as they were.
    fn target(&self) -> Option<Value> {
        Some(match &self.kind {
            WriteKind::UpdatePosting { posting_id, .. } | WriteKind::Apply { posting_id, .. } => {
                json!({ "posting": posting_id })
            }
            WriteKind::UpdateContact { contact_id, .. } => json!({ "contact": contact_id }),
            WriteKind::DeleteNote { note_id, .. } => json!({ "note": note_id }),
            WriteKind::UpdateRequisition { requisition_id, .. } => {
                json!({ "requisition": requisition_id })
            }
            WriteKind::UpdateRequisitionField { field_id, .. } => {
                json!({ "requisition_field": field_id })
            }
            _ => return None,
        })
    }

    /// The request as journaled: function, Lever body, target, `perform_as`, and files by
    /// name, type, size and SHA-256 (never their bytes).
    pub(crate) fn canonical(&self) -> Result<Value, serde_json::Error> {
        fn file(field: &str, f: &FileUpload) -> Value {
            json!({
                "field": field,
                "name": f.name,
                "content_type": f.content_type,
                "size": f.bytes.len(),
                "sha256": bytes_digest(&f.bytes),
            })
        }
        let (body, files) = match &self.kind {
            WriteKind::CreateOpportunity { body, attachments } => {
                let files: Vec<Value> = attachments
                    .resume
                    .iter()
                    .map(|r| file("resumeFile", r))
                    .chain(attachments.files.iter().map(|f| file("files[]", f)))
                    .collect();
                (serde_json::to_value(body)?, files)
            }
            WriteKind::Stage { body, .. } => (serde_json::to_value(body)?, vec![]),
            WriteKind::Archived { body, .. } => (serde_json::to_value(body)?, vec![]),
            WriteKind::AddTags { body, .. } | WriteKind::RemoveTags { body, .. } => {
                (serde_json::to_value(body)?, vec![])
            }
            WriteKind::AddSources { body, .. } => (serde_json::to_value(body)?, vec![]),
            WriteKind::AddLinks { body, .. } => (serde_json::to_value(body)?, vec![]),
            WriteKind::Note { body, .. } => (serde_json::to_value(body)?, vec![]),
            WriteKind::Upload { file: f, .. } | WriteKind::ApplicationUpload { file: f } => {
                (Value::Null, vec![file("file", f)])
            }
            WriteKind::CreatePosting { body } | WriteKind::UpdatePosting { body, .. } => {
                (serde_json::to_value(body)?, vec![])
            }
            WriteKind::Apply { body, .. } => (serde_json::to_value(body)?, vec![]),
            WriteKind::UpdateContact { body, .. } => (serde_json::to_value(body)?, vec![]),
            WriteKind::DeleteNote { .. } => (Value::Null, vec![]),
            WriteKind::CreateUser { body } => (serde_json::to_value(body)?, vec![]),
            WriteKind::CreateRequisition { body } | WriteKind::UpdateRequisition { body, .. } => {
                (serde_json::to_value(body)?, vec![])
            }
            WriteKind::CreateRequisitionField { body }
            | WriteKind::UpdateRequisitionField { body, .. } => {
                (serde_json::to_value(body)?, vec![])
            }
        };
        let mut canonical = json!({
            "function": self.function.name(),
            "opportunity_id": self.opportunity_id(),
            "perform_as": self.perform_as,
            "body": body,
            "files": files,
        });
        if let (Some(target), Some(fields)) = (self.target(), canonical.as_object_mut()) {
            fields.insert("target".into(), target);
        }
        Ok(canonical)
    }

    /// `"sha256:<hex>"` of the function and [`LeverWrite::canonical`].
    pub(crate) fn digest(&self) -> Result<String, serde_json::Error> {
        Ok(request_digest(self.function.name(), &self.canonical()?))
    }

    /// Sends the write; Lever's answer as JSON (the `lever_model` wire type). A create sends
    /// `marker`'s tag along (see [`AttemptMarker`]); the answer does not show it.
    pub(super) async fn send(
        &self,
        client: &LeverClient,
        marker: Option<&AttemptMarker>,
    ) -> Result<Value, LeverError> {
        let perform_as = Some(self.perform_as.as_str());
        match &self.kind {
            WriteKind::CreateOpportunity { body, attachments } => {
                let created = match marker {
                    Some(marker) => {
                        let mut marked = lm::NewOpportunity::clone(body);
                        marked.tags.push(marker.tag().to_owned());
                        let created = client
                            .create_opportunity(&self.perform_as, &marked, attachments.clone())
                            .await?;
                        marker.strip(created)
                    }
                    None => {
                        client
                            .create_opportunity(&self.perform_as, body, attachments.clone())
                            .await?
                    }
                };
                wire(created)
            }
            WriteKind::Stage {
                opportunity_id,
                body,
            } => wire(
                client
                    .update_stage(opportunity_id, &body.stage, perform_as)
                    .await?,
            ),
            WriteKind::Archived {
                opportunity_id,
                body,
            } => wire(
                client
                    .update_archived(opportunity_id, body, perform_as)
                    .await?,
            ),
            WriteKind::AddTags {
                opportunity_id,
                body,
            } => wire(
                client
                    .add_tags(opportunity_id, &body.tags, perform_as)
                    .await?,
            ),
            WriteKind::RemoveTags {
                opportunity_id,
                body,
            } => wire(
                client
                    .remove_tags(opportunity_id, &body.tags, perform_as)
                    .await?,
            ),
            WriteKind::AddSources {
                opportunity_id,
                body,
            } => wire(
                client
                    .add_sources(opportunity_id, &body.sources, perform_as)
                    .await?,
            ),
            WriteKind::AddLinks {
                opportunity_id,
                body,
            } => wire(
                client
                    .add_links(opportunity_id, &body.links, perform_as)
                    .await?,
            ),
            WriteKind::Note {
                opportunity_id,
                body,
            } => wire(client.create_note(opportunity_id, body, perform_as).await?),
            WriteKind::Upload {
                opportunity_id,
                file,
            } => wire(
                client
                    .upload_file(opportunity_id, file.clone(), &self.perform_as)
                    .await?,
            ),
            WriteKind::CreatePosting { body } => {
                wire(client.create_posting(&self.perform_as, body).await?)
            }
            WriteKind::UpdatePosting { posting_id, body } => wire(
                client
                    .update_posting(posting_id, &self.perform_as, body)
                    .await?,
            ),
            WriteKind::ApplicationUpload { file } => {
                wire(client.create_upload(file.clone()).await?)
            }
            WriteKind::Apply { posting_id, body } => {
                wire(client.apply_to_posting(posting_id, body).await?)
            }
            WriteKind::UpdateContact { contact_id, body } => {
                wire(client.update_contact(contact_id, body).await?)
            }
            WriteKind::DeleteNote {
                opportunity_id,
                note_id,
            } => {
                client.delete_note(opportunity_id, note_id).await?;
                Ok(Value::Null)
            }
            WriteKind::CreateUser { body } => wire(client.create_user(body).await?),
            WriteKind::CreateRequisition { body } => wire(client.create_requisition(body).await?),
            WriteKind::UpdateRequisition {
                requisition_id,
                body,
            } => wire(client.update_requisition(requisition_id, body).await?),
            WriteKind::CreateRequisitionField { body } => {
                wire(client.create_requisition_field(body).await?)
            }
            WriteKind::UpdateRequisitionField { field_id, body } => {
                wire(client.update_requisition_field(field_id, body).await?)
            }
        }
    }

    /// Once a create's answer is recorded the marker has done its job: removes it from the
    /// opportunity (`response`, the recorded answer). Other writes carry no marker.
    pub(super) async fn remove_marker(
        &self,
        client: &LeverClient,
        marker: &AttemptMarker,
        response: &Value,
    ) -> Result<(), LeverError> {
        let WriteKind::CreateOpportunity { .. } = &self.kind else {
            return Ok(());
        };
        let Some(id) = response.get("id").and_then(Value::as_str) else {
            return Err(LeverError::Decode {
                message: "the recorded create-opportunity answer has no id".into(),
            });
        };
        client
            .remove_tags(
                id,
                &[marker.tag().to_owned()],
                Some(self.perform_as.as_str()),
            )
            .await
            .map(drop)
    }
}

pub(super) fn wire<T: Serialize>(response: T) -> Result<Value, LeverError> {
    serde_json::to_value(response).map_err(|e| LeverError::Decode {
        message: format!("cannot journal Lever's response: {e}"),
    })
}
