//! `impl lever::Host`: each function is its policy check (`lever_begin`, then the acting
//! user or confidentiality check where it has one), then one journaled read or write.
//! Postings' update and apply and the deletion of notes take more than one step
//! (`postings`, `notes`).

use lever_client::{Attachments, FileUpload};
use lever_model as lm;
use serde::de::IgnoredAny;
use serde_json::{Value, json};

use super::write::LeverWrite;
use super::{
    LeverFunction, all, check_size, convert, journaled, lever_error, listing, read_request, wit,
};
use crate::bindings::PluginError;
use crate::capabilities::HostCalls;

mod notes;
mod postings;

impl wit::Host for HostCalls {
    async fn list_postings(
        &mut self,
        filter: wit::PostingFilter,
    ) -> Result<wit::PostingPage, PluginError> {
        let (call, lever) = self.lever_begin(LeverFunction::ListPostings)?;
        let call = self.confidential_access(call, &lever, filter.confidentiality)?;
        let request = listing::postings_request(&filter);
        let read = listing::postings_page(&lever.client, &filter);
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
        let call = self.confidential_access(call, &lever, filter.confidentiality)?;
        let request = listing::opportunities_request(&filter);
        let read = listing::opportunities_page(&lever.client, &filter);
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
        let (call, perform_as) = self.acting_user(call, &lever, opportunity.acting_user.clone())?;
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
        acting_user: Option<String>,
    ) -> Result<(), PluginError> {
        let (call, lever) = self.lever_begin(LeverFunction::ChangeStage)?;
        let (call, user) = self.acting_user(call, &lever, acting_user)?;
        let write = LeverWrite::change_stage(user, opportunity_id, stage_id);
        self.lever_write::<IgnoredAny>(call, &lever, write)
            .await
            .map(drop)
    }

    async fn archive(
        &mut self,
        opportunity_id: String,
        reason_id: String,
        acting_user: Option<String>,
    ) -> Result<(), PluginError> {
        let (call, lever) = self.lever_begin(LeverFunction::Archive)?;
        let (call, user) = self.acting_user(call, &lever, acting_user)?;
        let write = LeverWrite::archive(user, opportunity_id, reason_id);
        self.lever_write::<IgnoredAny>(call, &lever, write)
            .await
            .map(drop)
    }

    async fn unarchive(
        &mut self,
        opportunity_id: String,
        acting_user: Option<String>,
    ) -> Result<(), PluginError> {
        let (call, lever) = self.lever_begin(LeverFunction::Unarchive)?;
        let (call, user) = self.acting_user(call, &lever, acting_user)?;
        let write = LeverWrite::unarchive(user, opportunity_id);
        self.lever_write::<IgnoredAny>(call, &lever, write)
            .await
            .map(drop)
    }

    async fn add_tags(
        &mut self,
        opportunity_id: String,
        tags: Vec<String>,
        acting_user: Option<String>,
    ) -> Result<(), PluginError> {
        let (call, lever) = self.lever_begin(LeverFunction::AddTags)?;
        let (call, user) = self.acting_user(call, &lever, acting_user)?;
        let write = LeverWrite::add_tags(user, opportunity_id, tags);
        self.lever_write::<IgnoredAny>(call, &lever, write)
            .await
            .map(drop)
    }

    async fn remove_tags(
        &mut self,
        opportunity_id: String,
        tags: Vec<String>,
        acting_user: Option<String>,
    ) -> Result<(), PluginError> {
        let (call, lever) = self.lever_begin(LeverFunction::RemoveTags)?;
        let (call, user) = self.acting_user(call, &lever, acting_user)?;
        let write = LeverWrite::remove_tags(user, opportunity_id, tags);
        self.lever_write::<IgnoredAny>(call, &lever, write)
            .await
            .map(drop)
    }

    async fn add_sources(
        &mut self,
        opportunity_id: String,
        sources: Vec<String>,
        acting_user: Option<String>,
    ) -> Result<(), PluginError> {
        let (call, lever) = self.lever_begin(LeverFunction::AddSources)?;
        let (call, user) = self.acting_user(call, &lever, acting_user)?;
        let write = LeverWrite::add_sources(user, opportunity_id, sources);
        self.lever_write::<IgnoredAny>(call, &lever, write)
            .await
            .map(drop)
    }

    async fn add_links(
        &mut self,
        opportunity_id: String,
        links: Vec<String>,
        acting_user: Option<String>,
    ) -> Result<(), PluginError> {
        let (call, lever) = self.lever_begin(LeverFunction::AddLinks)?;
        let (call, user) = self.acting_user(call, &lever, acting_user)?;
        let write = LeverWrite::add_links(user, opportunity_id, links);
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
        let (call, user) = self.acting_user(call, &lever, note.acting_user.clone())?;
        let body = convert::new_note(&note);
        let write = LeverWrite::add_note(user, opportunity_id, body);
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
        acting_user: Option<String>,
    ) -> Result<wit::FileInfo, PluginError> {
        let (call, lever) = self.lever_begin(LeverFunction::UploadFile)?;
        let (call, user) = self.acting_user(call, &lever, acting_user)?;
        let upload = FileUpload::new(file.name, file.content_type, file.bytes);
        let write = LeverWrite::upload_file(user, opportunity_id, upload);
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

    async fn list_users(&mut self, filter: wit::UserFilter) -> Result<Vec<wit::User>, PluginError> {
        let (call, lever) = self.lever_begin(LeverFunction::ListUsers)?;
        let query = convert::user_query(&filter);
        let read = async {
            all(lever.client.users(query))
                .await
                .map(|users| users.iter().map(convert::user).collect::<Vec<_>>())
        };
        // The unfiltered listing is journaled as 0.1.0 journaled it (no arguments), so an
        // event journaled before the upgrade replays.
        let unfiltered =
            !filter.include_deactivated && filter.email.is_none() && filter.access_role.is_none();
        let request = if unfiltered {
            Value::Null
        } else {
            read_request(&filter)
        };
        self.lever_read(call, request, read).await
    }

    async fn get_user(&mut self, id: String) -> Result<wit::User, PluginError> {
        let (call, lever) = self.lever_begin(LeverFunction::GetUser)?;
        let read = async {
            lever
                .client
                .user(&id)
                .await
                .map(|u| convert::user(&u))
                .map_err(lever_error)
        };
        self.lever_read(call, json!({ "id": id }), read).await
    }

    async fn create_user(&mut self, user: wit::NewUser) -> Result<wit::User, PluginError> {
        let (call, lever) = self.lever_begin(LeverFunction::CreateUser)?;
        let write = LeverWrite::create_user(convert::new_user(&user));
        let created: lm::User = self.lever_write(call, &lever, write).await?;
        Ok(convert::user(&created))
    }

    async fn list_tags(&mut self) -> Result<Vec<wit::TextCount>, PluginError> {
        let (call, lever) = self.lever_begin(LeverFunction::ListTags)?;
        let read = async {
            all(lever.client.tags())
                .await
                .map(|tags| tags.iter().map(convert::text_count).collect::<Vec<_>>())
        };
        self.lever_read(call, Value::Null, read).await
    }

    async fn list_sources(&mut self) -> Result<Vec<wit::TextCount>, PluginError> {
        let (call, lever) = self.lever_begin(LeverFunction::ListSources)?;
        let read = async {
            all(lever.client.sources())
                .await
                .map(|sources| sources.iter().map(convert::text_count).collect::<Vec<_>>())
        };
        self.lever_read(call, Value::Null, read).await
    }

    async fn create_posting(
        &mut self,
        posting: wit::NewPosting,
    ) -> Result<wit::Posting, PluginError> {
        let (call, lever) = self.lever_begin(LeverFunction::CreatePosting)?;
        let (call, perform_as) = self.acting_user(call, &lever, posting.acting_user.clone())?;
        let write = LeverWrite::create_posting(perform_as, convert::new_posting(&posting));
        let created: lm::Posting = self.lever_write(call, &lever, write).await?;
        Ok(convert::posting(&created))
    }

    async fn update_posting(
        &mut self,
        id: String,
        update: wit::PostingUpdate,
    ) -> Result<wit::Posting, PluginError> {
        self.posting_update(id, update).await
    }

    async fn apply_to_posting(
        &mut self,
        posting_id: String,
        application: wit::NewApplication,
    ) -> Result<String, PluginError> {
        self.application(posting_id, application).await
    }

    async fn list_applications(
        &mut self,
        opportunity_id: String,
    ) -> Result<Vec<wit::Application>, PluginError> {
        let (call, lever) = self.lever_begin(LeverFunction::ListApplications)?;
        let read = async {
            all(lever.client.applications(&opportunity_id))
                .await
                .map(|a| a.iter().map(convert::application).collect::<Vec<_>>())
        };
        let request = json!({ "opportunity_id": opportunity_id });
        self.lever_read(call, request, read).await
    }

    async fn get_application(
        &mut self,
        opportunity_id: String,
        application_id: String,
    ) -> Result<wit::Application, PluginError> {
        let (call, lever) = self.lever_begin(LeverFunction::GetApplication)?;
        let read = async {
            lever
                .client
                .application(&opportunity_id, &application_id)
                .await
                .map(|a| convert::application(&a))
                .map_err(lever_error)
        };
        let request = json!({ "opportunity_id": opportunity_id, "id": application_id });
        self.lever_read(call, request, read).await
    }

    async fn get_contact(&mut self, id: String) -> Result<wit::Contact, PluginError> {
        let (call, lever) = self.lever_begin(LeverFunction::GetContact)?;
        let read = async {
            lever
                .client
                .contact(&id)
                .await
                .map(|c| convert::contact(&c))
                .map_err(lever_error)
        };
        self.lever_read(call, json!({ "id": id }), read).await
    }

    async fn update_contact(
        &mut self,
        id: String,
        update: wit::ContactUpdate,
    ) -> Result<wit::Contact, PluginError> {
        let (call, lever) = self.lever_begin(LeverFunction::UpdateContact)?;
        let write = LeverWrite::update_contact(id, convert::contact_update(&update));
        let updated: lm::Contact = self.lever_write(call, &lever, write).await?;
        Ok(convert::contact(&updated))
    }

    async fn get_note(
        &mut self,
        opportunity_id: String,
        note_id: String,
    ) -> Result<wit::Note, PluginError> {
        let (call, lever) = self.lever_begin(LeverFunction::GetNote)?;
        let read = async {
            lever
                .client
                .note(&opportunity_id, &note_id)
                .await
                .map(|n| convert::note(&n))
                .map_err(lever_error)
        };
        let request = json!({ "opportunity_id": opportunity_id, "id": note_id });
        self.lever_read(call, request, read).await
    }

    async fn delete_note(
        &mut self,
        opportunity_id: String,
        note_id: String,
    ) -> Result<(), PluginError> {
        self.note_deletion(opportunity_id, note_id).await
    }

    async fn get_file(
        &mut self,
        opportunity_id: String,
        file_id: String,
    ) -> Result<wit::FileInfo, PluginError> {
        let (call, lever) = self.lever_begin(LeverFunction::GetFile)?;
        let read = async {
            lever
                .client
                .file(&opportunity_id, &file_id)
                .await
                .map(|f| convert::file_info(&f))
                .map_err(lever_error)
        };
        let request = json!({ "opportunity_id": opportunity_id, "id": file_id });
        self.lever_read(call, request, read).await
    }

    async fn get_resume(
        &mut self,
        opportunity_id: String,
        resume_id: String,
    ) -> Result<wit::ResumeInfo, PluginError> {
        let (call, lever) = self.lever_begin(LeverFunction::GetResume)?;
        let read = async {
            lever
                .client
                .resume(&opportunity_id, &resume_id)
                .await
                .map(|r| convert::resume_info(&r))
                .map_err(lever_error)
        };
        let request = json!({ "opportunity_id": opportunity_id, "id": resume_id });
        self.lever_read(call, request, read).await
    }
}
