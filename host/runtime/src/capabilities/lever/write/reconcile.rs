//! After an unknown outcome (the write was begun, Lever's answer never recorded): what Lever
//! has now, and whether the write must be sent again. One rule per kind of write, each as
//! strict as what Lever lets us observe:
//!
//! - create-opportunity: bound to its journal entry by an [`AttemptMarker`] tag sent with the
//!   create; the opportunity carrying that tag is the one this write created, whatever the
//!   person's other opportunities. No tagged opportunity: not created, send again.
//! - add-note: Lever notes carry no tag or other caller data, so no binding is possible. A
//!   live note with the same text, secrecy and score, by the acting user, created since the
//!   write began (minus [`CLOCK_SLACK_MS`]; at exactly the requested `createdAt` when the
//!   note is backdated) is taken to be this write's.
//! - upload-file: likewise unbindable; a file with the same name and size uploaded since the
//!   write began (minus the slack) is taken to be this write's.
//! - change-stage: the current stage is the requested one: applied. Otherwise any stage change
//!   Lever recorded at or after the write began (`stageChanges[].updatedAt`) is newer than
//!   this write, or this write superseded by it: kept, not overwritten. Otherwise send again.
//! - archive / unarchive: the archive state is the requested one: applied. Archived (or its
//!   reason changed) at or after the write began (`archived.archivedAt`): a newer decision,
//!   kept. Otherwise send again.
//! - tags, sources, links: already as requested: applied. Otherwise send again (Lever keeps
//!   no history of these, so a tag removed in Lever after this write was applied is added
//!   again: at-least-once).
//! - create-posting: no caller data survives on a posting that could bind it. A posting with
//!   the same title, created by the acting user since the write began (minus the slack), is
//!   taken to be this write's (at-least-once where Lever hides it: see [`created_posting`]).
//! - update-posting, update-contact, update-requisition, update-requisition-field: replaces
//!   of the fields sent, so sending again has the same effect: sent again (Lever keeps no
//!   history of them, so a change made in Lever since this write was applied is overwritten:
//!   at-least-once).
//! - apply-to-posting: its résumé upload is private to the key and expires within a day, so
//!   it is simply sent again. The application: an opportunity with the applicant's e-mail
//!   whose application to this posting was created since the write began (minus the slack) is
//!   this write's. Without confidential access an application to a confidential posting is
//!   hidden from that lookup: sent again (at-least-once).
//! - delete-note: the note is gone (or marked deleted): applied. Otherwise send again.
//! - create-user: e-mails are unique among Lever users: a user with the e-mail, created since
//!   the write began (minus the slack), is this write's; an older one is someone else's, and
//!   the resend is refused by Lever as a duplicate (exactly once).
//! - create-requisition: requisition codes are unique: a requisition with the code created
//!   since the write began (minus the slack) is this write's (exactly once).
//! - create-requisition-field: the caller chooses the field's id, unique per account: a field
//!   with that id is this write's.

use futures::TryStreamExt;
use lever_client::{LeverClient, LeverError, OpportunityQuery, PostingQuery, RequisitionQuery};
use lever_model as lm;
use serde_json::Value;
use sha2::{Digest, Sha256};

use super::{LeverWrite, WriteKind, wire};
use crate::capabilities::lever::convert;
use crate::grants::LeverAccess;
use crate::journal::CallSeq;

/// How far Lever's clock may be behind the host's when matching notes and files created
/// since a write was begun (the only writes matched by time).
pub const CLOCK_SLACK_MS: i64 = 30 * 1000;

/// The tag a journaled create-opportunity carries from its first send until its answer is
/// recorded: `fulcrum-attempt:<32 hex>`, derived from the tenant, installation, event, write
/// number and the time the journal first began the write, so every attempt of that write
/// derives the same tag and no other write does. The host removes it once the create is
/// recorded; plugins never see it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct AttemptMarker(String);

impl AttemptMarker {
    pub(crate) const PREFIX: &'static str = "fulcrum-attempt:";

    pub(crate) fn new(
        tenant_id: &str,
        installation_id: &str,
        event_id: Option<&str>,
        call_seq: CallSeq,
        begun_at_ms: i64,
    ) -> Self {
        let mut hash = Sha256::new();
        for part in [
            tenant_id,
            installation_id,
            event_id.unwrap_or(""),
            &call_seq.key().to_string(),
            &begun_at_ms.to_string(),
        ] {
            // Length-prefixed, so no two tuples hash the same text.
            hash.update((part.len() as u64).to_be_bytes());
            hash.update(part.as_bytes());
        }
        let digest = hash.finalize();
        AttemptMarker(format!("{}{}", Self::PREFIX, hex::encode(&digest[..16])))
    }

    pub(crate) fn tag(&self) -> &str {
        &self.0
    }

    /// `opportunity` as the plugin and the journal see it: without this marker.
    pub(crate) fn strip(&self, mut opportunity: lm::Opportunity) -> lm::Opportunity {
        opportunity.tags.retain(|t| t != &self.0);
        opportunity
    }
}

/// What reconciliation found at Lever.
#[derive(Debug, Clone, PartialEq)]
pub(crate) enum Reconciled {
    /// Lever has what the write does (this write's object, or the requested state): the
    /// answer, as the wire type of the write's response. Nothing is sent.
    Applied(Value),
    /// Lever has a newer change of the same thing, made since the write began: kept (the
    /// current opportunity is the answer), the write is not sent again.
    Superseded(Value),
    /// Not in Lever: send the write again.
    Absent,
}

impl LeverWrite {
    /// Looks at Lever after an unknown outcome of this write, begun (first) at `begun_at_ms`
    /// by the host's clock; `marker` is the create's [`AttemptMarker`]. Lookups include
    /// confidential opportunities when the connection may see them (asking otherwise is
    /// Lever's access error).
    pub(in crate::capabilities::lever) async fn reconcile(
        &self,
        lever: &LeverAccess,
        begun_at_ms: i64,
        marker: &AttemptMarker,
    ) -> Result<Reconciled, LeverError> {
        let client = &lever.client;
        let confidentiality = lever.confidential_access.then(|| "all".to_owned());
        let since = begun_at_ms - CLOCK_SLACK_MS;
        match &self.kind {
            WriteKind::CreateOpportunity { .. } => {
                find_marked_opportunity(client, marker, confidentiality).await
            }
            WriteKind::Note {
                opportunity_id,
                body,
            } => {
                let notes: Vec<lm::Note> = client.notes(opportunity_id).try_collect().await?;
                let found = notes
                    .iter()
                    .filter(|n| self.is_this_note(n, body, since))
                    .min_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
                found.map_or(Ok(Reconciled::Absent), |n| {
                    wire(lm::CreatedNote {
                        note_id: n.id.clone(),
                    })
                    .map(Reconciled::Applied)
                })
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
                            && f.uploaded_at.is_some_and(|at| at >= since)
                    })
                    .min_by(|a, b| (a.uploaded_at, &a.id).cmp(&(b.uploaded_at, &b.id)));
                found.map_or(Ok(Reconciled::Absent), |f| {
                    wire(f.clone()).map(Reconciled::Applied)
                })
            }
            WriteKind::Stage {
                opportunity_id,
                body,
            } => {
                let Some(o) = current(client, opportunity_id).await? else {
                    return Ok(Reconciled::Absent);
                };
                if o.stage_id() == Some(body.stage.as_str()) {
                    return wire(o).map(Reconciled::Applied);
                }
                // Lever's stage history: a change at or after our begin is newer than this
                // write (or superseded it after it was applied); never overwrite it.
                if o.stage_changes.iter().any(|c| c.updated_at >= begun_at_ms) {
                    return wire(o).map(Reconciled::Superseded);
                }
                Ok(Reconciled::Absent)
            }
            WriteKind::Archived {
                opportunity_id,
                body,
            } => {
                let Some(o) = current(client, opportunity_id).await? else {
                    return Ok(Reconciled::Absent);
                };
                match o.archive_state() {
                    Some(a) if a.reason.is_some() && a.reason == body.reason => {
                        wire(o).map(Reconciled::Applied)
                    }
                    None if body.reason.is_none() => wire(o).map(Reconciled::Applied),
                    Some(a) if a.archived_at >= begun_at_ms => wire(o).map(Reconciled::Superseded),
                    _ => Ok(Reconciled::Absent),
                }
            }
            WriteKind::AddTags {
                opportunity_id,
                body,
            } => {
                applied_if(client, opportunity_id, |o| {
                    contains_all(&o.tags, &body.tags)
                })
                .await
            }
            WriteKind::RemoveTags {
                opportunity_id,
                body,
            } => {
                applied_if(client, opportunity_id, |o| {
                    !body
                        .tags
                        .iter()
                        .any(|t| o.tags.iter().any(|h| h == t.trim()))
                })
                .await
            }
            WriteKind::AddSources {
                opportunity_id,
                body,
            } => {
                applied_if(client, opportunity_id, |o| {
                    contains_all(&o.sources, &body.sources)
                })
                .await
            }
            WriteKind::AddLinks {
                opportunity_id,
                body,
            } => {
                applied_if(client, opportunity_id, |o| {
                    contains_all(&o.links, &body.links)
                })
                .await
            }
            WriteKind::CreatePosting { body } => {
                created_posting(client, body, &self.perform_as, since).await
            }
            WriteKind::UpdatePosting { .. }
            | WriteKind::UpdateContact { .. }
            | WriteKind::UpdateRequisition { .. }
            | WriteKind::UpdateRequisitionField { .. }
            | WriteKind::ApplicationUpload { .. } => Ok(Reconciled::Absent),
            WriteKind::Apply { posting_id, body } => {
                created_application(client, posting_id, body, since, confidentiality).await
            }
            WriteKind::DeleteNote {
                opportunity_id,
                note_id,
            } => match client.note(opportunity_id, note_id).await {
                Err(LeverError::NotFound { .. }) => Ok(Reconciled::Applied(Value::Null)),
                Ok(n) if n.deleted_at.is_some() => Ok(Reconciled::Applied(Value::Null)),
                Ok(_) => Ok(Reconciled::Absent),
                Err(e) => Err(e),
            },
            WriteKind::CreateUser { body } => match client.user_by_email(&body.email).await? {
                Some(u) if u.created_at >= since => wire(u).map(Reconciled::Applied),
                _ => Ok(Reconciled::Absent),
            },
            WriteKind::CreateRequisition { body } => {
                let query = RequisitionQuery {
                    requisition_code: vec![body.requisition_code.clone()],
                    ..Default::default()
                };
                let found: Vec<lm::Requisition> = client.requisitions(query).try_collect().await?;
                found
                    .into_iter()
                    .find(|r| r.requisition_code == body.requisition_code && r.created_at >= since)
                    .map_or(Ok(Reconciled::Absent), |r| wire(r).map(Reconciled::Applied))
            }
            WriteKind::CreateRequisitionField { body } => {
                match client.requisition_field(&body.id).await {
                    Ok(f) => wire(f).map(Reconciled::Applied),
                    Err(LeverError::NotFound { .. }) => Ok(Reconciled::Absent),
                    Err(e) => Err(e),
                }
            }
        }
    }

    /// Whether `note` can be this add-note's: live, same text, secrecy and score, by the acting
    /// user, created since `since` (or exactly at a backdated `createdAt`).
    fn is_this_note(&self, note: &lm::Note, body: &lm::NewNote, since: i64) -> bool {
        let seen = convert::note(note);
        let score = note.fields.first().and_then(|f| f.score);
        let created = match body.created_at {
            Some(at) => note.created_at == at,
            None => note.created_at >= since,
        };
        note.deleted_at.is_none()
            && seen.value == body.value
            && seen.secret == body.secret
            && score == body.score
            && seen.user_id.as_deref() == Some(self.perform_as.as_str())
            && created
    }
}

/// The opportunity carrying `marker` (the oldest, should a late first try and a resend both
/// have landed), without the marker.
async fn find_marked_opportunity(
    client: &LeverClient,
    marker: &AttemptMarker,
    confidentiality: Option<String>,
) -> Result<Reconciled, LeverError> {
    let query = OpportunityQuery {
        tag: vec![marker.tag().to_owned()],
        // Lever hides confidential opportunities unless asked (and the key may see them).
        confidentiality,
        expand: vec!["applications".into()],
        ..Default::default()
    };
    let candidates: Vec<lm::Opportunity> = client.opportunities(query).try_collect().await?;
    let found = candidates
        .into_iter()
        .filter(|o| o.tags.iter().any(|t| t == marker.tag()))
        .min_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    found.map_or(Ok(Reconciled::Absent), |o| {
        wire(marker.strip(o)).map(Reconciled::Applied)
    })
}

/// The posting a create-posting made: same title, created by `perform_as` since `since`
/// (the oldest, should a late first try and a resend both have landed). Lever lists postings
/// updated since then (a new posting is), but hides published postings not on the public
/// site from a listing without a channel, so those are asked for too.
async fn created_posting(
    client: &LeverClient,
    body: &lm::PostingWrite,
    perform_as: &str,
    since: i64,
) -> Result<Reconciled, LeverError> {
    let recent = PostingQuery {
        updated_at_start: Some(since),
        ..Default::default()
    };
    let internal = PostingQuery {
        state: vec![lm::PostingState::Published],
        distribution_channel: vec![lm::DistributionChannel::Internal],
        ..Default::default()
    };
    let mut candidates: Vec<lm::Posting> = client.postings(recent).try_collect().await?;
    candidates.extend(
        client
            .postings(internal)
            .try_collect::<Vec<lm::Posting>>()
            .await?,
    );
    let found = candidates
        .into_iter()
        .filter(|p| {
            Some(p.text.as_str()) == body.text.as_deref()
                && p.user.as_ref().is_some_and(|u| u.id() == perform_as)
                && p.created_at >= since
        })
        .min_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    found.map_or(Ok(Reconciled::Absent), |p| wire(p).map(Reconciled::Applied))
}

/// The application an apply-to-posting made: on an opportunity with the applicant's e-mail,
/// to this posting, created since `since`.
async fn created_application(
    client: &LeverClient,
    posting_id: &str,
    body: &lm::ApplyRequest,
    since: i64,
    confidentiality: Option<String>,
) -> Result<Reconciled, LeverError> {
    let Some(email) = body
        .personal_information
        .iter()
        .find(|p| p.name == "email")
        .map(|p| p.value.clone())
    else {
        return Ok(Reconciled::Absent);
    };
    let query = OpportunityQuery {
        email: vec![email],
        posting_id: vec![posting_id.to_owned()],
        confidentiality,
        expand: vec!["applications".into()],
        ..Default::default()
    };
    let opportunities: Vec<lm::Opportunity> = client.opportunities(query).try_collect().await?;
    let found = opportunities
        .iter()
        .flat_map(|o| o.applications.iter().filter_map(lm::Expandable::expanded))
        .filter(|a| a.posting.as_deref() == Some(posting_id) && a.created_at >= since)
        .min_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
    found.map_or(Ok(Reconciled::Absent), |a| {
        wire(lm::CreatedApplication {
            application_id: a.id.clone(),
        })
        .map(Reconciled::Applied)
    })
}

/// The opportunity as Lever has it now; `None` when Lever does not show it (deleted, or
/// confidential and hidden from this read): then the write is sent again, which answers for
/// itself.
async fn current(client: &LeverClient, id: &str) -> Result<Option<lm::Opportunity>, LeverError> {
    match client.opportunity(id).await {
        Ok(o) => Ok(Some(o)),
        Err(LeverError::NotFound { .. }) => Ok(None),
        Err(e) => Err(e),
    }
}

async fn applied_if(
    client: &LeverClient,
    id: &str,
    applied: impl FnOnce(&lm::Opportunity) -> bool,
) -> Result<Reconciled, LeverError> {
    match current(client, id).await? {
        Some(o) if applied(&o) => wire(o).map(Reconciled::Applied),
        _ => Ok(Reconciled::Absent),
    }
}

/// Lever trims the strings it stores.
fn contains_all(have: &[String], wanted: &[String]) -> bool {
    wanted.iter().all(|w| have.iter().any(|h| h == w.trim()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn markers_are_stable_per_write_and_differ_between_writes() {
        let marker = |event: Option<&str>, seq: u32, at: i64| {
            AttemptMarker::new("t", "i", event, CallSeq::Write(seq), at)
        };
        let m = marker(Some("evt-1"), 0, 1_700_000_000_000);
        assert_eq!(m, marker(Some("evt-1"), 0, 1_700_000_000_000));
        assert!(m.tag().starts_with(AttemptMarker::PREFIX));
        assert_eq!(m.tag().len(), AttemptMarker::PREFIX.len() + 32);
        for other in [
            marker(Some("evt-2"), 0, 1_700_000_000_000),
            marker(Some("evt-1"), 1, 1_700_000_000_000),
            marker(Some("evt-1"), 0, 1_700_000_000_001),
            marker(None, 0, 1_700_000_000_000),
            AttemptMarker::new(
                "t2",
                "i",
                Some("evt-1"),
                CallSeq::Write(0),
                1_700_000_000_000,
            ),
        ] {
            assert_ne!(m, other);
        }
        let tagged = lm::Opportunity {
            tags: vec!["vip".into(), m.tag().to_owned()],
            ..Default::default()
        };
        assert_eq!(m.strip(tagged).tags, ["vip"]);
    }
}
