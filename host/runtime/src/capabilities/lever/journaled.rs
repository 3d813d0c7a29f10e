//! The one path of every Lever *write*, after its policy check: straight to Lever without an
//! effect journal, through the journal with one (see `crate::journal`).
//!
//! With a journal, the n-th write of the invocation is `call_seq = n` and its request digest
//! covers the function, the Lever body, the target opportunity, `perform_as` and a SHA-256 of
//! any file's bytes. Then, by what the journal knows:
//! - `Done`: the recorded Lever response is returned, converted as a live answer would be;
//!   nothing is sent. Audited as "<operation> (journal)", outcome allowed.
//! - `Unknown` (begun, never recorded): reconcile. A create looks for the opportunity by
//!   e-mail (and posting), created since the write was begun (minus [`CLOCK_SLACK_MS`]) with
//!   every requested source; a note by its text, a file by name and size, likewise. A match
//!   is recorded and returned (audited as "<operation> (reconciled)"); otherwise the write is
//!   sent again. Writes that are idempotent at Lever (stage, archive, tags, sources, links)
//!   are simply sent again.
//! - `Fresh`: sent; Lever's response (the `lever_model` wire type as JSON) is recorded, then
//!   converted. A failed send leaves the entry unrecorded, so the next attempt reconciles.
//!
//! A diverging replay is a permanent `invalid` error (audited as denied: nothing was sent); an
//! unavailable journal, or one that cannot record a write Lever applied, is `unavailable`.

use futures::TryStreamExt;
use lever_client::{Attachments, FileUpload, LeverClient, LeverError, OpportunityQuery};
use lever_model as lm;
use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::{Value, json};

use super::{convert, lever_error};
use crate::bindings::PluginError;
use crate::grants::LeverAccess;
use crate::host::{HostCall, HostState};
use crate::journal::{CallSeq, JournalEntry, JournalError, bytes_digest, request_digest};

/// How far Lever's clock may be behind the host's when matching objects created since a
/// write was begun.
pub const CLOCK_SLACK_MS: i64 = 5 * 60 * 1000;

/// One Lever write, as sent and as digested.
pub(crate) struct LeverWrite {
    /// The WIT function, e.g. "create-opportunity".
    function: &'static str,
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
            "create-opportunity",
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
            "change-stage",
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
            "archive",
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
            "unarchive",
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
            "add-tags",
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
            "remove-tags",
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
            "add-sources",
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
            "add-links",
            perform_as,
            WriteKind::AddLinks {
                opportunity_id,
                body,
            },
        )
    }

    pub(crate) fn add_note(perform_as: String, opportunity_id: String, body: lm::NewNote) -> Self {
        Self::new(
            "add-note",
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
            "upload-file",
            perform_as,
            WriteKind::Upload {
                opportunity_id,
                file,
            },
        )
    }

    fn new(function: &'static str, perform_as: String, kind: WriteKind) -> Self {
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
            "function": self.function,
            "opportunity_id": self.opportunity_id(),
            "perform_as": self.perform_as,
            "body": body,
            "files": files,
        }))
    }

    /// `"sha256:<hex>"` of the function and [`LeverWrite::canonical`].
    pub(crate) fn digest(&self) -> Result<String, serde_json::Error> {
        Ok(request_digest(self.function, &self.canonical()?))
    }

    /// Sends the write; Lever's answer as JSON (the `lever_model` wire type).
    async fn send(&self, client: &LeverClient) -> Result<Value, LeverError> {
        let perform_as = Some(self.perform_as.as_str());
        match &self.kind {
            WriteKind::CreateOpportunity { body, attachments } => wire(
                client
                    .create_opportunity(&self.perform_as, body, attachments.clone())
                    .await?,
            ),
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

    /// After an unknown outcome: what this write created at Lever since `since_ms`, if it did
    /// (`Some`, Lever's object as JSON); `None` when it must be sent again.
    async fn reconcile(
        &self,
        client: &LeverClient,
        since_ms: i64,
    ) -> Result<Option<Value>, LeverError> {
        match &self.kind {
            WriteKind::CreateOpportunity { body, .. } => {
                if body.emails.is_empty() {
                    tracing::warn!(
                        "create-opportunity without an e-mail had an unknown outcome and cannot \
                         be reconciled: sending it again (it may create a duplicate)"
                    );
                    return Ok(None);
                }
                find_created_opportunity(client, body, since_ms).await
            }
            WriteKind::Note {
                opportunity_id,
                body,
            } => {
                let notes: Vec<lm::Note> = client.notes(opportunity_id).try_collect().await?;
                let found = notes
                    .iter()
                    .filter(|n| {
                        n.deleted_at.is_none()
                            && n.created_at >= since_ms
                            && n.secret == body.secret
                            && convert::note(n).value == body.value
                    })
                    .min_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
                found
                    .map(|n| {
                        wire(lm::CreatedNote {
                            note_id: n.id.clone(),
                        })
                    })
                    .transpose()
            }
            WriteKind::Upload {
                opportunity_id,
                file,
            } => {
                let files: Vec<lm::LeverFile> = client.files(opportunity_id).try_collect().await?;
                let size = file.bytes.len() as u64;
                let found = files
                    .iter()
                    .filter(|f| {
                        f.name == file.name
                            && f.size == size
                            && f.uploaded_at.is_some_and(|at| at >= since_ms)
                    })
                    .min_by(|a, b| (a.uploaded_at, &a.id).cmp(&(b.uploaded_at, &b.id)));
                found.cloned().map(wire).transpose()
            }
            // Idempotent at Lever: sending again is the reconciliation.
            WriteKind::Stage { .. }
            | WriteKind::Archived { .. }
            | WriteKind::AddTags { .. }
            | WriteKind::RemoveTags { .. }
            | WriteKind::AddSources { .. }
            | WriteKind::AddLinks { .. } => Ok(None),
        }
    }
}

/// The oldest opportunity with one of the requested e-mails (and the posting, if any),
/// created since `since_ms`, carrying every requested source.
async fn find_created_opportunity(
    client: &LeverClient,
    body: &lm::NewOpportunity,
    since_ms: i64,
) -> Result<Option<Value>, LeverError> {
    let query = OpportunityQuery {
        email: body.emails.clone(),
        posting_id: body.postings.clone(),
        created_at_start: Some(since_ms),
        expand: vec!["applications".into()],
        ..Default::default()
    };
    let candidates: Vec<lm::Opportunity> = client.opportunities(query).try_collect().await?;
    let found = candidates
        .into_iter()
        .filter(|o| o.created_at >= since_ms && body.sources.iter().all(|s| o.sources.contains(s)))
        .min_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    found.map(wire).transpose()
}

fn wire<T: Serialize>(response: T) -> Result<Value, LeverError> {
    serde_json::to_value(response).map_err(|e| LeverError::Decode {
        message: format!("cannot journal Lever's response: {e}"),
    })
}

/// A journaled response as the wire type `R`.
fn decode<R: DeserializeOwned>(function: &str, response: Value) -> Result<R, PluginError> {
    serde_json::from_value(response).map_err(|e| {
        PluginError::Unavailable(format!(
            "cannot read the journaled Lever response of {function} ({e}) (host bug)"
        ))
    })
}

fn diverged(message: String) -> PluginError {
    PluginError::Invalid(format!(
        "the handler is not deterministic: it made different Lever calls when this event was \
         handled again ({message}); a replay must make the same Lever calls, in the same \
         order, with the same arguments"
    ))
}

impl HostState {
    /// Sends `write` (allowed by `call`'s policy check) through the effect journal if the
    /// invocation has one, audits the outcome and returns Lever's answer as `R`.
    pub(crate) async fn lever_write<R: DeserializeOwned>(
        &mut self,
        mut call: HostCall,
        lever: &LeverAccess,
        write: LeverWrite,
    ) -> Result<R, PluginError> {
        let function = write.function;
        let Some(journal) = self.ctx.journal.clone() else {
            let result = match write.send(&lever.client).await {
                Ok(response) => decode(function, response),
                Err(e) => Err(lever_error(e)),
            };
            return self.finish(call, result);
        };
        let call_seq = CallSeq::Write(self.lever_writes);
        self.lever_writes += 1;
        let digest = match write.digest() {
            Ok(digest) => digest,
            Err(e) => {
                let error = PluginError::Unavailable(format!(
                    "cannot digest the {function} request ({e}) (host bug)"
                ));
                return self.finish(call, Err(error));
            }
        };
        let operation = call.operation().to_owned();
        let entry = match journal.begin(call_seq, &operation, &digest).await {
            Ok(entry) => entry,
            Err(JournalError::Diverged(message)) => {
                tracing::warn!(
                    plugin = %self.plugin.id, event = ?self.ctx.event_id, %call_seq, %message,
                    "handler diverged on replay"
                );
                return Err(self.deny(call, diverged(message)));
            }
            Err(e @ JournalError::Unavailable(_)) => {
                return self.finish(call, Err(PluginError::Unavailable(e.to_string())));
            }
        };
        let since = match entry {
            JournalEntry::Done(response) => {
                call.annotate("journal");
                return self.finish(call, decode(function, response));
            }
            JournalEntry::Fresh => None,
            JournalEntry::Unknown { begun_at_ms } => Some(begun_at_ms - CLOCK_SLACK_MS),
        };
        if let Some(since) = since {
            match write.reconcile(&lever.client, since).await {
                Ok(Some(found)) => {
                    tracing::info!(
                        plugin = %self.plugin.id, event = ?self.ctx.event_id, %call_seq, function,
                        "unknown outcome reconciled: Lever has the object, not sending again"
                    );
                    call.annotate("reconciled");
                    let result = match journal.record(call_seq, &found).await {
                        Ok(()) => decode(function, found),
                        Err(e) => Err(PluginError::Unavailable(e.to_string())),
                    };
                    return self.finish(call, result);
                }
                Ok(None) => tracing::info!(
                    plugin = %self.plugin.id, event = ?self.ctx.event_id, %call_seq, function,
                    "unknown outcome: Lever does not have the object, sending again"
                ),
                Err(e) => {
                    let error = lever_error(e);
                    return self.finish(call, Err(error));
                }
            }
        }
        let result = match write.send(&lever.client).await {
            Ok(response) => match journal.record(call_seq, &response).await {
                Ok(()) => decode(function, response),
                Err(e) => Err(PluginError::Unavailable(format!(
                    "Lever applied {function} but the effect journal could not record it ({e}); \
                     the event will be retried and reconciled"
                ))),
            },
            // Left unrecorded: the next attempt reconciles, which is right whether or not the
            // request reached Lever.
            Err(e) => Err(lever_error(e)),
        };
        self.finish(call, result)
    }
}

impl HostState {
    /// Makes a Lever read (allowed by `call`'s policy check) through the effect journal if the
    /// invocation has one: the n-th read of an event is answered from the journal when an
    /// earlier attempt recorded it, otherwise made and recorded. `request` identifies the read
    /// (function arguments) so a replay that reads something else at the same number is a
    /// divergence, as for writes. Answers and `not-found` are recorded; other errors are not
    /// (they fail the attempt or are worth asking again).
    pub(crate) async fn lever_read<R, F>(
        &mut self,
        mut call: HostCall,
        function: &'static str,
        request: Value,
        read: F,
    ) -> Result<R, PluginError>
    where
        R: Serialize + DeserializeOwned,
        F: std::future::Future<Output = Result<R, PluginError>>,
    {
        let Some(journal) = self.ctx.journal.clone() else {
            let result = read.await;
            return self.finish(call, result);
        };
        let seq = CallSeq::Read(self.lever_reads);
        self.lever_reads += 1;
        let digest = request_digest(function, &request);
        let operation = call.operation().to_owned();
        match journal.begin(seq, &operation, &digest).await {
            Ok(JournalEntry::Done(recorded)) => {
                call.annotate("journal");
                let result = serde_json::from_value::<Result<R, PluginError>>(recorded)
                    .unwrap_or_else(|e| {
                        Err(PluginError::Unavailable(format!(
                            "cannot read the journaled Lever answer of {function} ({e}) (host bug)"
                        )))
                    });
                return self.finish(call, result);
            }
            // Never recorded (or first time): reading again is harmless.
            Ok(JournalEntry::Fresh | JournalEntry::Unknown { .. }) => {}
            Err(JournalError::Diverged(message)) => {
                tracing::warn!(
                    plugin = %self.plugin.id, event = ?self.ctx.event_id, %seq, %message,
                    "handler diverged on replay"
                );
                return Err(self.deny(call, diverged(message)));
            }
            Err(e @ JournalError::Unavailable(_)) => {
                return self.finish(call, Err(PluginError::Unavailable(e.to_string())));
            }
        }
        let result = read.await;
        let recordable = matches!(&result, Ok(_) | Err(PluginError::NotFound(_)));
        if recordable {
            let recorded = serde_json::to_value(&result).map_err(|e| {
                PluginError::Unavailable(format!(
                    "cannot journal the Lever answer of {function} ({e}) (host bug)"
                ))
            });
            let stored = match recorded {
                Ok(value) => journal
                    .record(seq, &value)
                    .await
                    .map_err(|e| PluginError::Unavailable(e.to_string())),
                Err(e) => Err(e),
            };
            if let Err(e) = stored {
                return self.finish(call, Err(e));
            }
        }
        self.finish(call, result)
    }
}

/// The WIT opportunity of a create: Lever answers without expanded applications, so the
/// posting is the one sent (a reconciled or journaled answer converts the same way).
pub(super) fn created_opportunity(
    o: &lm::Opportunity,
    posting_id: Option<String>,
) -> crate::bindings::fulcrum::connector::lever::Opportunity {
    let mut created = convert::opportunity(o);
    if created.posting_ids.is_empty() {
        created.posting_ids.extend(posting_id);
    }
    created
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

    #[test]
    fn journaled_opportunities_convert_like_live_ones() {
        let live = lm::Opportunity {
            id: "o1".into(),
            name: Some("Ada".into()),
            emails: vec!["ada@example.com".into()],
            created_at: 1_700_000_000_000,
            updated_at: Some(1_700_000_000_001),
            sources: vec!["Fixture".into()],
            stage: Some(lm::Expandable::Id("s1".into())),
            applications: vec![lm::Expandable::Id("a1".into())],
            ..Default::default()
        };
        let replayed: lm::Opportunity = decode("create-opportunity", wire(&live).unwrap()).unwrap();
        assert_eq!(replayed, live);
        assert_eq!(
            created_opportunity(&replayed, Some("p1".into())),
            created_opportunity(&live, Some("p1".into()))
        );
        assert_eq!(
            created_opportunity(&replayed, Some("p1".into())).posting_ids,
            ["p1"]
        );
    }
}
