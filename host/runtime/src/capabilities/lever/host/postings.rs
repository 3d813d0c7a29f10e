//! update-posting and apply-to-posting: the two posting writes that take more than one step.

use lever_client::FileUpload;
use lever_model::{self as lm, Operation};
use serde_json::json;

use crate::audit::Capability;
use crate::bindings::PluginError;
use crate::capabilities::HostCalls;
use crate::capabilities::lever::write::LeverWrite;
use crate::capabilities::lever::{LeverCall, LeverFunction, convert, lever_error, wit};

impl HostCalls {
    /// A partial update. Lever replaces a posting's categories as a whole, so an update of
    /// some of them first reads the posting (journaled, part of this call) and sends the
    /// others as they are.
    pub(super) async fn posting_update(
        &mut self,
        id: String,
        update: wit::PostingUpdate,
    ) -> Result<wit::Posting, PluginError> {
        let (call, lever) = self.lever_begin(LeverFunction::UpdatePosting)?;
        let (call, perform_as) = self.acting_user(call, &lever, update.acting_user.clone())?;
        let (call, current) = if convert::updates_categories(&update) {
            let read = async {
                lever
                    .client
                    .posting(&id)
                    .await
                    .map(|p| p.categories)
                    .map_err(lever_error)
            };
            let (call, categories) = self.lever_lookup(call, json!({ "id": id }), read).await?;
            (call, Some(categories))
        } else {
            (call, None)
        };
        let body = convert::posting_update(&update, current.as_ref());
        let write = LeverWrite::update_posting(perform_as, id, body);
        let updated: lm::Posting = self.lever_write(call, &lever, write).await?;
        Ok(convert::posting(&updated))
    }

    /// The résumé goes through `POST /uploads` first, then the application refers to it by
    /// its uri; both steps are journaled writes of this call (the upload audited as its own
    /// host call). Lever lets a key that may apply to postings use `/uploads` for that
    /// (reference §1.3), so the upload needs no grant of its own.
    pub(super) async fn application(
        &mut self,
        posting_id: String,
        application: wit::NewApplication,
    ) -> Result<String, PluginError> {
        let (call, lever) = self.lever_begin(LeverFunction::ApplyToPosting)?;
        // Checked before anything is uploaded.
        if let Err(e) = convert::application_request(&application, None) {
            return self.finish(call.host, Err(e));
        }
        let resume_uri = match &application.resume {
            None => None,
            Some(resume) => {
                let upload = match self.begin(Capability::Lever, Operation::CreateUpload.label()) {
                    Ok(host) => LeverCall {
                        function: LeverFunction::ApplyToPosting,
                        host,
                    },
                    Err(e) => return self.finish(call.host, Err(e)),
                };
                let file = FileUpload::new(
                    resume.name.clone(),
                    resume.content_type.clone(),
                    resume.bytes.clone(),
                );
                let write = LeverWrite::application_upload(file);
                match self.lever_write::<lm::Upload>(upload, &lever, write).await {
                    Ok(uploaded) => Some(uploaded.uri),
                    Err(e) => return self.finish(call.host, Err(e)),
                }
            }
        };
        let body = match convert::application_request(&application, resume_uri) {
            Ok(body) => body,
            Err(e) => return self.finish(call.host, Err(e)),
        };
        let write = LeverWrite::apply_to_posting(posting_id, body);
        let created: lm::CreatedApplication = self.lever_write(call, &lever, write).await?;
        Ok(created.application_id)
    }
}
