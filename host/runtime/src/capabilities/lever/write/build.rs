//! The constructors of [`LeverWrite`], one per WIT write function (apply-to-posting has two:
//! its résumé upload and the application).

use lever_client::{Attachments, FileUpload};
use lever_model as lm;

use super::{LeverWrite, WriteKind};
use crate::capabilities::lever::LeverFunction;

/// The `perform_as` of writes Lever does not attribute to a user (contacts, users,
/// requisitions, deletes, apply): none, so a change of the installation's acting user does
/// not make a replay diverge.
const UNATTRIBUTED: String = String::new();

impl LeverWrite {
    pub(crate) fn create_opportunity(
        perform_as: String,
        body: lm::NewOpportunity,
        attachments: Attachments,
    ) -> Self {
        Self::new(
            LeverFunction::CreateOpportunity,
            perform_as,
            WriteKind::CreateOpportunity {
                body: Box::new(body),
                attachments,
            },
        )
    }

    pub(crate) fn change_stage(perform_as: String, opportunity_id: String, stage: String) -> Self {
        let body = lm::StageUpdate { stage };
        Self::new(
            LeverFunction::ChangeStage,
            perform_as,
            WriteKind::Stage {
                opportunity_id,
                body,
            },
        )
    }

    pub(crate) fn archive(perform_as: String, opportunity_id: String, reason: String) -> Self {
        let body = lm::ArchiveUpdate {
            reason: Some(reason),
            ..Default::default()
        };
        Self::new(
            LeverFunction::Archive,
            perform_as,
            WriteKind::Archived {
                opportunity_id,
                body,
            },
        )
    }

    pub(crate) fn unarchive(perform_as: String, opportunity_id: String) -> Self {
        let body = lm::ArchiveUpdate::default();
        Self::new(
            LeverFunction::Unarchive,
            perform_as,
            WriteKind::Archived {
                opportunity_id,
                body,
            },
        )
    }

    pub(crate) fn add_tags(perform_as: String, opportunity_id: String, tags: Vec<String>) -> Self {
        let body = lm::TagsUpdate { tags };
        Self::new(
            LeverFunction::AddTags,
            perform_as,
            WriteKind::AddTags {
                opportunity_id,
                body,
            },
        )
    }

    pub(crate) fn remove_tags(
        perform_as: String,
        opportunity_id: String,
        tags: Vec<String>,
    ) -> Self {
        let body = lm::TagsUpdate { tags };
        Self::new(
            LeverFunction::RemoveTags,
            perform_as,
            WriteKind::RemoveTags {
                opportunity_id,
                body,
            },
        )
    }

    pub(crate) fn add_sources(
        perform_as: String,
        opportunity_id: String,
        sources: Vec<String>,
    ) -> Self {
        let body = lm::SourcesUpdate { sources };
        Self::new(
            LeverFunction::AddSources,
            perform_as,
            WriteKind::AddSources {
                opportunity_id,
                body,
            },
        )
    }

    pub(crate) fn add_links(
        perform_as: String,
        opportunity_id: String,
        links: Vec<String>,
    ) -> Self {
        let body = lm::LinksUpdate { links };
        Self::new(
            LeverFunction::AddLinks,
            perform_as,
            WriteKind::AddLinks {
                opportunity_id,
                body,
            },
        )
    }

    pub(crate) fn add_note(perform_as: String, opportunity_id: String, body: lm::NewNote) -> Self {
        Self::new(
            LeverFunction::AddNote,
            perform_as,
            WriteKind::Note {
                opportunity_id,
                body,
            },
        )
    }

    pub(crate) fn upload_file(
        perform_as: String,
        opportunity_id: String,
        file: FileUpload,
    ) -> Self {
        Self::new(
            LeverFunction::UploadFile,
            perform_as,
            WriteKind::Upload {
                opportunity_id,
                file,
            },
        )
    }

    pub(crate) fn create_posting(perform_as: String, body: lm::PostingWrite) -> Self {
        Self::new(
            LeverFunction::CreatePosting,
            perform_as,
            WriteKind::CreatePosting {
                body: Box::new(body),
            },
        )
    }

    pub(crate) fn update_posting(
        perform_as: String,
        posting_id: String,
        body: lm::PostingWrite,
    ) -> Self {
        Self::new(
            LeverFunction::UpdatePosting,
            perform_as,
            WriteKind::UpdatePosting {
                posting_id,
                body: Box::new(body),
            },
        )
    }

    /// The résumé of an application, sent through `POST /uploads` first (step one of
    /// apply-to-posting).
    pub(crate) fn application_upload(file: FileUpload) -> Self {
        Self::new(
            LeverFunction::ApplyToPosting,
            UNATTRIBUTED,
            WriteKind::ApplicationUpload { file },
        )
    }

    pub(crate) fn apply_to_posting(posting_id: String, body: lm::ApplyRequest) -> Self {
        Self::new(
            LeverFunction::ApplyToPosting,
            UNATTRIBUTED,
            WriteKind::Apply { posting_id, body },
        )
    }

    pub(crate) fn update_contact(contact_id: String, body: lm::ContactUpdate) -> Self {
        Self::new(
            LeverFunction::UpdateContact,
            UNATTRIBUTED,
            WriteKind::UpdateContact { contact_id, body },
        )
    }

    pub(crate) fn delete_note(opportunity_id: String, note_id: String) -> Self {
        Self::new(
            LeverFunction::DeleteNote,
            UNATTRIBUTED,
            WriteKind::DeleteNote {
                opportunity_id,
                note_id,
            },
        )
    }

    pub(crate) fn create_user(body: lm::NewUser) -> Self {
        Self::new(
            LeverFunction::CreateUser,
            UNATTRIBUTED,
            WriteKind::CreateUser { body },
        )
    }

    pub(crate) fn create_requisition(body: lm::NewRequisition) -> Self {
        Self::new(
            LeverFunction::CreateRequisition,
            UNATTRIBUTED,
            WriteKind::CreateRequisition {
                body: Box::new(body),
            },
        )
    }

    pub(crate) fn update_requisition(requisition_id: String, body: lm::NewRequisition) -> Self {
        Self::new(
            LeverFunction::UpdateRequisition,
            UNATTRIBUTED,
            WriteKind::UpdateRequisition {
                requisition_id,
                body: Box::new(body),
            },
        )
    }

    pub(crate) fn create_requisition_field(body: lm::NewRequisitionField) -> Self {
        Self::new(
            LeverFunction::CreateRequisitionField,
            UNATTRIBUTED,
            WriteKind::CreateRequisitionField { body },
        )
    }

    pub(crate) fn update_requisition_field(
        field_id: String,
        body: lm::NewRequisitionField,
    ) -> Self {
        Self::new(
            LeverFunction::UpdateRequisitionField,
            UNATTRIBUTED,
            WriteKind::UpdateRequisitionField { field_id, body },
        )
    }
}
