//! `fulcrum:connector/lever`: Lever's Data API through the host's client.
//!
//! Policy, before any I/O: each function names its `LeverFunction`, which maps to one
//! `lever_model::Operation` (see `function`), whose permission must be among the installation's effective grants (manifest-requested ∩
//! admin-approved); otherwise the guest gets `forbidden("<Lever's words>")` and the refusal
//! is audited. The host injects the tenant's credential; the plugin never sees it.
//!
//! `list-postings` and `find-opportunities` are one Lever request per page: the WIT cursor
//! wraps Lever's own offset token, bound to the filter (see `cursor`). A cursor of another
//! filter, a malformed one, or one whose token Lever no longer accepts is a typed
//! `invalid("...; start again without a cursor")`: the plugin restarts its listing.
//!
//! Writes (create-opportunity, change-stage, archive, unarchive, add-tags, remove-tags,
//! add-sources, add-links, add-note, upload-file) then take one path, `journaled`: with an
//! effect journal in the invocation context a retried or replayed event does not repeat them;
//! after an unknown outcome each is reconciled against Lever by its own rule, exactly once
//! where Lever lets the host tell, at least once where it does not (see `journaled`,
//! `write/reconcile.rs` and `crate::journal`). Reads that answer JSON take
//! `lever_read`: a retry or replay gets the first attempt's answer, so a handler's path
//! through its writes is the same. Downloads are not journaled (bytes stay out of the journal).

mod convert;
mod cursor;
mod function;
mod journaled;
mod write;

use futures::TryStreamExt;
use futures::stream::BoxStream;
use lever_client::{Attachments, FileUpload, LeverClient, LeverError, UserQuery};
use lever_model as lm;
use serde::de::IgnoredAny;
use serde_json::{Value, json};
use wasmtime::component::{HasSelf, Linker};

use super::{HostCall, HostCalls, Project};
use crate::audit::Capability;
use crate::bindings::PluginError;
use crate::bindings::fulcrum::connector::lever::{self as wit};
use crate::grants::LeverAccess;
use write::LeverWrite;

pub use function::LeverFunction;
pub use journaled::CLOCK_SLACK_MS;

pub(crate) fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    project: Project<T>,
) -> wasmtime::Result<()> {
    wit::add_to_linker::<T, HasSelf<HostCalls>>(linker, project)
}

/// A Lever call that passed its policy check: which function (the journal's name for it) and
/// the host call being audited.
pub(crate) struct LeverCall {
    function: LeverFunction,
    host: HostCall,
}

impl HostCalls {
    /// Policy of every Lever function: capability available, call budget, the permission of
    /// the function's operation granted, Lever connected.
    fn lever_begin(
        &mut self,
        function: LeverFunction,
    ) -> Result<(LeverCall, LeverAccess), PluginError> {
        let operation = function.operation();
        let host = self.begin(Capability::Lever, operation.label())?;
        let permission = operation.permission();
        if !self.ctx.grants.allows(permission) {
            return Err(self.deny(host, PluginError::Forbidden(permission.as_str().to_owned())));
        }
        match self.ctx.lever.clone() {
            Some(access) => Ok((LeverCall { function, host }, access)),
            None => Err(self.deny(
                host,
                PluginError::Unavailable("Lever is not connected for this installation".into()),
            )),
        }
    }

    fn max_download(&self) -> usize {
        self.shared.config.limits.max_lever_download_bytes
    }
}

/// LeverError → the WIT error a plugin can act on. Messages come from `lever-client`, which
/// never includes the credential.
pub(crate) fn lever_error(e: LeverError) -> PluginError {
    match e {
        LeverError::Forbidden { permission, .. } => {
            PluginError::Forbidden(permission.as_str().to_owned())
        }
        LeverError::NotFound { message } => PluginError::NotFound(message),
        LeverError::Invalid { message, .. } => PluginError::Invalid(message),
        LeverError::RateLimited { retry_after } => PluginError::RateLimited(
            retry_after.map(|d| u64::try_from(d.as_millis()).unwrap_or(u64::MAX)),
        ),
        e @ LeverError::Unavailable { .. } => PluginError::Unavailable(e.to_string()),
        // Not the plugin's to fix; the event is retried once an admin reconnects Lever.
        LeverError::Unauthorized { .. } | LeverError::Reconnect { .. } => PluginError::Unavailable(
            "Lever rejected the installation's credential; a tenant admin must reconnect \
                 Lever"
                .into(),
        ),
        LeverError::Config { message } => PluginError::Invalid(message),
        e => PluginError::Unavailable(e.to_string()),
    }
}

const DEFAULT_PAGE: u32 = 100;

/// The WIT `limit`: 1..=100, 100 when none.
fn page_limit(limit: Option<u32>) -> Result<u32, PluginError> {
    let limit = limit.unwrap_or(DEFAULT_PAGE);
    if !(1..=100).contains(&limit) {
        return Err(PluginError::Invalid(format!(
            "limit must be 1..=100, not {limit}"
        )));
    }
    Ok(limit)
}

/// A listing's Lever error; a rejected offset token means the plugin's cursor is stale.
fn listing_error(e: LeverError, had_cursor: bool) -> PluginError {
    if had_cursor && e.is_invalid_offset_token() {
        cursor::expired()
    } else {
        lever_error(e)
    }
}

/// One `list-postings` page: one Lever request (see `convert::posting_listing` for the
/// filters the host applies itself, which can leave a page short of `limit`).
async fn postings_page(
    client: &LeverClient,
    filter: &wit::PostingFilter,
) -> Result<wit::PostingPage, PluginError> {
    let limit = page_limit(filter.limit)?;
    let bound = cursor::Filter::postings(filter);
    let offset = filter
        .cursor
        .as_deref()
        .map(|c| bound.offset(c))
        .transpose()?;
    let listing = convert::posting_listing(filter);
    let page = client
        .postings_page(&listing.query, offset.as_deref(), limit)
        .await
        .map_err(|e| listing_error(e, offset.is_some()))?;
    Ok(wit::PostingPage {
        postings: page
            .data
            .iter()
            .filter(|p| listing.keeps(p))
            .map(convert::posting)
            .collect(),
        next_cursor: page.next_offset().map(|o| bound.cursor(o)),
    })
}

/// One `find-opportunities` page: one Lever request.
async fn opportunities_page(
    client: &LeverClient,
    filter: &wit::OpportunityFilter,
) -> Result<wit::OpportunityPage, PluginError> {
    let limit = page_limit(filter.limit)?;
    let bound = cursor::Filter::opportunities(filter);
    let offset = filter
        .cursor
        .as_deref()
        .map(|c| bound.offset(c))
        .transpose()?;
    let query = convert::opportunity_query(filter);
    let page = client
        .opportunities_page(&query, offset.as_deref(), limit)
        .await
        .map_err(|e| listing_error(e, offset.is_some()))?;
    Ok(wit::OpportunityPage {
        opportunities: page.data.iter().map(convert::opportunity).collect(),
        next_cursor: page.next_offset().map(|o| bound.cursor(o)),
    })
}

/// A read's arguments as journaled (a WIT filter record, serialized).
fn read_request<T: serde::Serialize>(args: &T) -> Value {
    // The WIT records serialize infallibly (strings, numbers, enums, options, lists).
    serde_json::to_value(args).unwrap_or(Value::Null)
}

async fn all<T>(stream: BoxStream<'static, Result<T, LeverError>>) -> Result<Vec<T>, PluginError> {
    stream.try_collect().await.map_err(lever_error)
}

fn check_size(bytes: bytes::Bytes, max: usize) -> Result<Vec<u8>, PluginError> {
    if bytes.len() > max {
        return Err(PluginError::LimitExceeded(format!(
            "Lever download larger than {max} bytes"
        )));
    }
    Ok(bytes.to_vec())
}

impl wit::Host for HostCalls {
    async fn list_postings(
        &mut self,
        filter: wit::PostingFilter,
    ) -> Result<wit::PostingPage, PluginError> {
        let (call, lever) = self.lever_begin(LeverFunction::ListPostings)?;
        let request = read_request(&filter);
        let read = postings_page(&lever.client, &filter);
        self.lever_read(call, request, read).await
    }

    async fn get_posting(&mut self, id: String) -> Result<wit::Posting, PluginError> {
        let (call, lever) = self.lever_begin(LeverFunction::GetPosting)?;
        let read = async {
            lever
                .client
                .posting(&id)
                .await
                .map(|p| convert::posting(&p))
                .map_err(lever_error)
        };
        self.lever_read(call, json!({ "id": id }), read).await
    }

    async fn find_opportunities(
        &mut self,
        filter: wit::OpportunityFilter,
    ) -> Result<wit::OpportunityPage, PluginError> {
        let (call, lever) = self.lever_begin(LeverFunction::FindOpportunities)?;
        let request = read_request(&filter);
        let read = opportunities_page(&lever.client, &filter);
        self.lever_read(call, request, read).await
    }

    async fn get_opportunity(&mut self, id: String) -> Result<wit::Opportunity, PluginError> {
        let (call, lever) = self.lever_begin(LeverFunction::GetOpportunity)?;
        // Expanded applications carry the posting ids.
        let read = async {
            lever
                .client
                .opportunity_expanded(&id, &["applications"])
                .await
                .map(|o| convert::opportunity(&o))
                .map_err(lever_error)
        };
        self.lever_read(call, json!({ "id": id }), read).await
    }

    async fn create_opportunity(
        &mut self,
        opportunity: wit::NewOpportunity,
    ) -> Result<wit::Opportunity, PluginError> {
        let (call, lever) = self.lever_begin(LeverFunction::CreateOpportunity)?;
        let perform_as = match &opportunity.acting_user_id {
            None => lever.acting_user_id.clone(),
            Some(user) if lever.may_act_as(user) => user.clone(),
            // Naming any Lever user would let a plugin forge who did something.
            Some(user) => {
                return Err(self.deny(
                    call.host,
                    PluginError::Forbidden(format!(
                        "act as Lever user {user}: a tenant admin has not listed that user for \
                         this installation"
                    )),
                ));
            }
        };
        let (body, attachments): (_, Attachments) = convert::new_opportunity(&opportunity);
        let write = LeverWrite::create_opportunity(perform_as, body, attachments);
        let created: lm::Opportunity = self.lever_write(call, &lever, write).await?;
        Ok(journaled::created_opportunity(
            &created,
            opportunity.posting_id,
        ))
    }

    async fn change_stage(
        &mut self,
        opportunity_id: String,
        stage_id: String,
    ) -> Result<(), PluginError> {
        let (call, lever) = self.lever_begin(LeverFunction::ChangeStage)?;
        let write =
            LeverWrite::change_stage(lever.acting_user_id.clone(), opportunity_id, stage_id);
        self.lever_write::<IgnoredAny>(call, &lever, write)
            .await
            .map(drop)
    }

    async fn archive(
        &mut self,
        opportunity_id: String,
        reason_id: String,
    ) -> Result<(), PluginError> {
        let (call, lever) = self.lever_begin(LeverFunction::Archive)?;
        let write = LeverWrite::archive(lever.acting_user_id.clone(), opportunity_id, reason_id);
        self.lever_write::<IgnoredAny>(call, &lever, write)
            .await
            .map(drop)
    }

    async fn unarchive(&mut self, opportunity_id: String) -> Result<(), PluginError> {
        let (call, lever) = self.lever_begin(LeverFunction::Unarchive)?;
        let write = LeverWrite::unarchive(lever.acting_user_id.clone(), opportunity_id);
        self.lever_write::<IgnoredAny>(call, &lever, write)
            .await
            .map(drop)
    }

    async fn add_tags(
        &mut self,
        opportunity_id: String,
        tags: Vec<String>,
    ) -> Result<(), PluginError> {
        let (call, lever) = self.lever_begin(LeverFunction::AddTags)?;
        let write = LeverWrite::add_tags(lever.acting_user_id.clone(), opportunity_id, tags);
        self.lever_write::<IgnoredAny>(call, &lever, write)
            .await
            .map(drop)
    }

    async fn remove_tags(
        &mut self,
        opportunity_id: String,
        tags: Vec<String>,
    ) -> Result<(), PluginError> {
        let (call, lever) = self.lever_begin(LeverFunction::RemoveTags)?;
        let write = LeverWrite::remove_tags(lever.acting_user_id.clone(), opportunity_id, tags);
        self.lever_write::<IgnoredAny>(call, &lever, write)
            .await
            .map(drop)
    }

    async fn add_sources(
        &mut self,
        opportunity_id: String,
        sources: Vec<String>,
    ) -> Result<(), PluginError> {
        let (call, lever) = self.lever_begin(LeverFunction::AddSources)?;
        let write = LeverWrite::add_sources(lever.acting_user_id.clone(), opportunity_id, sources);
        self.lever_write::<IgnoredAny>(call, &lever, write)
            .await
            .map(drop)
    }

    async fn add_links(
        &mut self,
        opportunity_id: String,
        links: Vec<String>,
    ) -> Result<(), PluginError> {
        let (call, lever) = self.lever_begin(LeverFunction::AddLinks)?;
        let write = LeverWrite::add_links(lever.acting_user_id.clone(), opportunity_id, links);
        self.lever_write::<IgnoredAny>(call, &lever, write)
            .await
            .map(drop)
    }

    async fn add_note(
        &mut self,
        opportunity_id: String,
        note: wit::NewNote,
    ) -> Result<String, PluginError> {
        let (call, lever) = self.lever_begin(LeverFunction::AddNote)?;
        let body = convert::new_note(&note);
        let write = LeverWrite::add_note(lever.acting_user_id.clone(), opportunity_id, body);
        let created: lm::CreatedNote = self.lever_write(call, &lever, write).await?;
        Ok(created.note_id)
    }

    async fn list_notes(&mut self, opportunity_id: String) -> Result<Vec<wit::Note>, PluginError> {
        let (call, lever) = self.lever_begin(LeverFunction::ListNotes)?;
        let read = async {
            all(lever.client.notes(&opportunity_id))
                .await
                .map(|notes| notes.iter().map(convert::note).collect::<Vec<_>>())
        };
        let request = json!({ "opportunity_id": opportunity_id });
        self.lever_read(call, request, read).await
    }

    async fn upload_file(
        &mut self,
        opportunity_id: String,
        file: wit::Attachment,
    ) -> Result<wit::FileInfo, PluginError> {
        let (call, lever) = self.lever_begin(LeverFunction::UploadFile)?;
        let upload = FileUpload::new(file.name, file.content_type, file.bytes);
        let write = LeverWrite::upload_file(lever.acting_user_id.clone(), opportunity_id, upload);
        let uploaded: lm::LeverFile = self.lever_write(call, &lever, write).await?;
        Ok(convert::file_info(&uploaded))
    }

    async fn list_files(
        &mut self,
        opportunity_id: String,
    ) -> Result<Vec<wit::FileInfo>, PluginError> {
        let (call, lever) = self.lever_begin(LeverFunction::ListFiles)?;
        let read = async {
            all(lever.client.files(&opportunity_id))
                .await
                .map(|files| files.iter().map(convert::file_info).collect::<Vec<_>>())
        };
        let request = json!({ "opportunity_id": opportunity_id });
        self.lever_read(call, request, read).await
    }

    async fn download_file(
        &mut self,
        opportunity_id: String,
        file_id: String,
    ) -> Result<Vec<u8>, PluginError> {
        let (call, lever) = self.lever_begin(LeverFunction::DownloadFile)?;
        let max = self.max_download();
        let result = lever
            .client
            .download_file(&opportunity_id, &file_id)
            .await
            .map_err(lever_error)
            .and_then(|bytes| check_size(bytes, max));
        self.finish(call.host, result)
    }

    async fn list_resumes(
        &mut self,
        opportunity_id: String,
    ) -> Result<Vec<wit::ResumeInfo>, PluginError> {
        let (call, lever) = self.lever_begin(LeverFunction::ListResumes)?;
        let read = async {
            all(lever.client.resumes(&opportunity_id))
                .await
                .map(|resumes| resumes.iter().map(convert::resume_info).collect::<Vec<_>>())
        };
        let request = json!({ "opportunity_id": opportunity_id });
        self.lever_read(call, request, read).await
    }

    async fn download_resume(
        &mut self,
        opportunity_id: String,
        resume_id: String,
    ) -> Result<Vec<u8>, PluginError> {
        let (call, lever) = self.lever_begin(LeverFunction::DownloadResume)?;
        let max = self.max_download();
        let result = lever
            .client
            .download_resume(&opportunity_id, &resume_id)
            .await
            .map_err(lever_error)
            .and_then(|bytes| check_size(bytes, max));
        self.finish(call.host, result)
    }

    async fn list_stages(&mut self) -> Result<Vec<wit::Stage>, PluginError> {
        let (call, lever) = self.lever_begin(LeverFunction::ListStages)?;
        let read = async {
            all(lever.client.stages())
                .await
                .map(|stages| stages.iter().map(convert::stage).collect::<Vec<_>>())
        };
        self.lever_read(call, Value::Null, read).await
    }

    async fn list_archive_reasons(&mut self) -> Result<Vec<wit::ArchiveReason>, PluginError> {
        let (call, lever) = self.lever_begin(LeverFunction::ListArchiveReasons)?;
        let read = async {
            all(lever.client.archive_reasons(None))
                .await
                .map(|reasons| {
                    reasons
                        .iter()
                        .map(convert::archive_reason)
                        .collect::<Vec<_>>()
                })
        };
        self.lever_read(call, Value::Null, read).await
    }

    async fn list_users(&mut self) -> Result<Vec<wit::User>, PluginError> {
        let (call, lever) = self.lever_begin(LeverFunction::ListUsers)?;
        let read = async {
            all(lever.client.users(UserQuery::default()))
                .await
                .map(|users| users.iter().map(convert::user).collect::<Vec<_>>())
        };
        self.lever_read(call, Value::Null, read).await
    }
}

#[cfg(test)]
mod tests;

#[cfg(test)]
mod mapping_tests {
    use super::*;
    use lever_model::{Operation, Permission};

    #[test]
    fn lever_errors_map_to_wit_errors() {
        let forbidden = lever_error(LeverError::Forbidden {
            operation: Operation::CreateOpportunity,
            permission: Permission::CreateOpportunity,
            message: "no".into(),
        });
        assert_eq!(
            forbidden,
            PluginError::Forbidden("create opportunity".into())
        );
        let limited = lever_error(LeverError::RateLimited {
            retry_after: Some(std::time::Duration::from_secs(2)),
        });
        assert_eq!(limited, PluginError::RateLimited(Some(2000)));
        assert!(matches!(
            lever_error(LeverError::NotFound {
                message: "x".into()
            }),
            PluginError::NotFound(_)
        ));
        assert!(matches!(
            lever_error(LeverError::Invalid { status: 422, code: "c".into(), message: "m".into() }),
            PluginError::Invalid(m) if m == "m"
        ));
        assert!(matches!(
            lever_error(LeverError::Unavailable { status: Some(503), message: "down".into(), outcome_unknown: true }),
            PluginError::Unavailable(m) if m.contains("reconcile")
        ));
    }

    #[test]
    fn rejected_offset_tokens_and_limits_are_typed() {
        let rejected = || LeverError::Invalid {
            status: 400,
            code: "BadRequest".into(),
            message: "Invalid offset token: Offset token is invalid for sort".into(),
        };
        let stale = listing_error(rejected(), true);
        assert_eq!(stale, cursor::expired());
        assert!(
            matches!(&stale, PluginError::Invalid(m) if m.ends_with("; start again without a cursor")),
            "{stale:?}"
        );
        // Without a cursor it is Lever's own message (a host bug, not the plugin's cursor).
        assert!(matches!(
            listing_error(rejected(), false),
            PluginError::Invalid(m) if m.starts_with("Invalid offset token")
        ));
        assert_eq!(page_limit(None), Ok(100));
        assert_eq!(page_limit(Some(1)), Ok(1));
        for bad in [0, 101] {
            assert!(matches!(
                page_limit(Some(bad)),
                Err(PluginError::Invalid(_))
            ));
        }
    }
}
