//! One Lever write as the journal sees it: what is sent (`send`), what identifies it across
//! attempts of an event (`canonical`, `digest`), and how an unknown outcome is looked up at
//! Lever (`reconcile`, with the create's [`AttemptMarker`]). No journal or host state here:
//! `journaled` drives it.

mod reconcile;

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
}

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

    fn new(function: LeverFunction, perform_as: String, kind: WriteKind) -> Self {
        LeverWrite {
            function,
            perform_as,
            kind,
        }
    }

    fn opportunity_id(&self) -> Option<&str> {
        match &self.kind {
            WriteKind::CreateOpportunity { .. } => None,
            WriteKind::Stage { opportunity_id, .. }
            | WriteKind::Archived { opportunity_id, .. }
            | WriteKind::AddTags { opportunity_id, .. }
            | WriteKind::RemoveTags { opportunity_id, .. }
            | WriteKind::AddSources { opportunity_id, .. }
            | WriteKind::AddLinks { opportunity_id, .. }
            | WriteKind::Note { opportunity_id, .. }
            | WriteKind::Upload { opportunity_id, .. } => Some(opportunity_id),
        }
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
            WriteKind::Upload { file: f, .. } => (Value::Null, vec![file("file", f)]),
        };
        Ok(json!({
            "function": self.function.name(),
            "opportunity_id": self.opportunity_id(),
            "perform_as": self.perform_as,
            "body": body,
            "files": files,
        }))
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

#[cfg(test)]
mod tests {
    use super::*;

    fn note(value: &str) -> LeverWrite {
        LeverWrite::add_note(
            "u1".into(),
            "o1".into(),
            lm::NewNote {
                value: value.into(),
                ..Default::default()
            },
        )
    }

    fn upload(bytes: &[u8]) -> LeverWrite {
        LeverWrite::upload_file(
            "u1".into(),
            "o1".into(),
            FileUpload::new("cv.pdf", "application/pdf", bytes.to_vec()),
        )
    }

    #[test]
    fn digests_are_stable_and_follow_the_request() {
        let digest = note("hello").digest().unwrap();
        assert_eq!(digest, note("hello").digest().unwrap(), "stable");
        assert!(
            digest.starts_with("sha256:") && digest.len() == 71,
            "{digest}"
        );
        assert_ne!(digest, note("hello!").digest().unwrap(), "body");
        let other_target = LeverWrite::add_note(
            "u1".into(),
            "o2".into(),
            lm::NewNote {
                value: "hello".into(),
                ..Default::default()
            },
        );
        assert_ne!(digest, other_target.digest().unwrap(), "opportunity");
        let other_user = LeverWrite::add_note(
            "u2".into(),
            "o1".into(),
            lm::NewNote {
                value: "hello".into(),
                ..Default::default()
            },
        );
        assert_ne!(digest, other_user.digest().unwrap(), "perform_as");
        // Same arguments, other function.
        let add = LeverWrite::add_tags("u1".into(), "o1".into(), vec!["t".into()]);
        let remove = LeverWrite::remove_tags("u1".into(), "o1".into(), vec!["t".into()]);
        assert_ne!(add.digest().unwrap(), remove.digest().unwrap());
        // Pinned: a change here breaks the replay of every event journaled before it.
        assert_eq!(
            LeverWrite::change_stage("u1".into(), "o1".into(), "s1".into())
                .canonical()
                .unwrap(),
            json!({
                "function": "change-stage",
                "opportunity_id": "o1",
                "perform_as": "u1",
                "body": {"stage": "s1"},
                "files": [],
            })
        );
    }

    #[test]
    fn file_bytes_are_digested_never_journaled() {
        let bytes = b"%PDF-1.4 a very personal document";
        let canonical = upload(bytes).canonical().unwrap();
        let text = canonical.to_string();
        assert!(!text.contains("very personal"), "{text}");
        assert_eq!(canonical["files"][0]["sha256"], json!(bytes_digest(bytes)));
        assert_eq!(canonical["files"][0]["size"], json!(bytes.len()));
        assert_eq!(
            upload(bytes).digest().unwrap(),
            upload(bytes).digest().unwrap()
        );
        assert_ne!(
            upload(bytes).digest().unwrap(),
            upload(b"%PDF-1.4 another document").digest().unwrap(),
            "other bytes, same name and type"
        );

        let create = |resume: &[u8]| {
            LeverWrite::create_opportunity(
                "u1".into(),
                lm::NewOpportunity {
                    name: Some("Ada".into()),
                    emails: vec!["ada@example.com".into()],
                    ..Default::default()
                },
                Attachments {
                    resume: Some(FileUpload::new(
                        "cv.pdf",
                        "application/pdf",
                        resume.to_vec(),
                    )),
                    files: vec![],
                },
            )
        };
        let canonical = create(bytes).canonical().unwrap();
        assert!(!canonical.to_string().contains("very personal"));
        assert_eq!(canonical["body"]["emails"], json!(["ada@example.com"]));
        assert_eq!(canonical["files"][0]["field"], "resumeFile");
        assert_ne!(
            create(bytes).digest().unwrap(),
            create(b"other").digest().unwrap()
        );
    }
}
