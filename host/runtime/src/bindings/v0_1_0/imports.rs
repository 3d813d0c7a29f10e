//! The 0.1.0 imports on the latest host implementation: convert up, call, convert down.
//! 0.1.0 writes name no acting user except `new-opportunity.acting-user-id`, so they act as
//! the installation's acting user, as they always did.

use wasmtime::component::{HasSelf, Linker};

use super::convert::down;
use super::fulcrum::connector::{config, lever, log, state, types, vendor_http};
use crate::bindings::fulcrum::connector as latest;
use crate::capabilities::{HostCalls, Project};

type Error = types::Error;

pub(crate) fn add_to_linker<T: Send + 'static>(
    linker: &mut Linker<T>,
    project: Project<T>,
) -> wasmtime::Result<()> {
    types::add_to_linker::<T, HasSelf<HostCalls>>(linker, project)?;
    lever::add_to_linker::<T, HasSelf<HostCalls>>(linker, project)?;
    vendor_http::add_to_linker::<T, HasSelf<HostCalls>>(linker, project)?;
    state::add_to_linker::<T, HasSelf<HostCalls>>(linker, project)?;
    config::add_to_linker::<T, HasSelf<HostCalls>>(linker, project)?;
    log::add_to_linker::<T, HasSelf<HostCalls>>(linker, project)?;
    Ok(())
}

impl types::Host for HostCalls {}

impl log::Host for HostCalls {
    async fn log(&mut self, level: types::LogLevel, message: String) {
        latest::log::Host::log(self, level.into(), message).await
    }
}

impl config::Host for HostCalls {
    async fn get_config(&mut self) -> String {
        latest::config::Host::get_config(self).await
    }

    async fn get_secret(&mut self, name: String) -> Option<String> {
        latest::config::Host::get_secret(self, name).await
    }
}

impl state::Host for HostCalls {
    async fn get(&mut self, key: String) -> Result<Option<String>, Error> {
        down(latest::state::Host::get(self, key).await)
    }

    async fn set(&mut self, key: String, value: String) -> Result<(), Error> {
        down(latest::state::Host::set(self, key, value).await)
    }

    async fn delete(&mut self, key: String) -> Result<(), Error> {
        down(latest::state::Host::delete(self, key).await)
    }

    async fn list_keys(
        &mut self,
        prefix: String,
        after: Option<String>,
        limit: u32,
    ) -> Result<Vec<String>, Error> {
        down(latest::state::Host::list_keys(self, prefix, after, limit).await)
    }
}

impl vendor_http::Host for HostCalls {
    async fn send(
        &mut self,
        request: vendor_http::Request,
    ) -> Result<vendor_http::Response, Error> {
        down(latest::vendor_http::Host::send(self, request.into()).await)
    }
}

fn many<A, B: From<A>>(r: Result<Vec<A>, latest::types::Error>) -> Result<Vec<B>, Error> {
    r.map(|xs| xs.into_iter().map(B::from).collect())
        .map_err(Error::from)
}

impl lever::Host for HostCalls {
    async fn list_postings(
        &mut self,
        filter: lever::PostingFilter,
    ) -> Result<lever::PostingPage, Error> {
        down(latest::lever::Host::list_postings(self, filter.into()).await)
    }

    async fn get_posting(&mut self, id: String) -> Result<lever::Posting, Error> {
        down(latest::lever::Host::get_posting(self, id).await)
    }

    async fn find_opportunities(
        &mut self,
        filter: lever::OpportunityFilter,
    ) -> Result<lever::OpportunityPage, Error> {
        down(latest::lever::Host::find_opportunities(self, filter.into()).await)
    }

    async fn get_opportunity(&mut self, id: String) -> Result<lever::Opportunity, Error> {
        down(latest::lever::Host::get_opportunity(self, id).await)
    }

    async fn create_opportunity(
        &mut self,
        opportunity: lever::NewOpportunity,
    ) -> Result<lever::Opportunity, Error> {
        down(latest::lever::Host::create_opportunity(self, opportunity.into()).await)
    }

    async fn change_stage(
        &mut self,
        opportunity_id: String,
        stage_id: String,
    ) -> Result<(), Error> {
        down(latest::lever::Host::change_stage(self, opportunity_id, stage_id, None).await)
    }

    async fn archive(&mut self, opportunity_id: String, reason_id: String) -> Result<(), Error> {
        down(latest::lever::Host::archive(self, opportunity_id, reason_id, None).await)
    }

    async fn unarchive(&mut self, opportunity_id: String) -> Result<(), Error> {
        down(latest::lever::Host::unarchive(self, opportunity_id, None).await)
    }

    async fn add_tags(&mut self, opportunity_id: String, tags: Vec<String>) -> Result<(), Error> {
        down(latest::lever::Host::add_tags(self, opportunity_id, tags, None).await)
    }

    async fn remove_tags(
        &mut self,
        opportunity_id: String,
        tags: Vec<String>,
    ) -> Result<(), Error> {
        down(latest::lever::Host::remove_tags(self, opportunity_id, tags, None).await)
    }

    async fn add_sources(
        &mut self,
        opportunity_id: String,
        sources: Vec<String>,
    ) -> Result<(), Error> {
        down(latest::lever::Host::add_sources(self, opportunity_id, sources, None).await)
    }

    async fn add_links(&mut self, opportunity_id: String, links: Vec<String>) -> Result<(), Error> {
        down(latest::lever::Host::add_links(self, opportunity_id, links, None).await)
    }

    async fn add_note(
        &mut self,
        opportunity_id: String,
        note: lever::NewNote,
    ) -> Result<String, Error> {
        down(latest::lever::Host::add_note(self, opportunity_id, note.into()).await)
    }

    async fn list_notes(&mut self, opportunity_id: String) -> Result<Vec<lever::Note>, Error> {
        many(latest::lever::Host::list_notes(self, opportunity_id).await)
    }

    async fn upload_file(
        &mut self,
        opportunity_id: String,
        file: lever::Attachment,
    ) -> Result<lever::FileInfo, Error> {
        down(latest::lever::Host::upload_file(self, opportunity_id, file.into(), None).await)
    }

    async fn list_files(&mut self, opportunity_id: String) -> Result<Vec<lever::FileInfo>, Error> {
        many(latest::lever::Host::list_files(self, opportunity_id).await)
    }

    async fn download_file(
        &mut self,
        opportunity_id: String,
        file_id: String,
    ) -> Result<Vec<u8>, Error> {
        down(latest::lever::Host::download_file(self, opportunity_id, file_id).await)
    }

    async fn list_resumes(
        &mut self,
        opportunity_id: String,
    ) -> Result<Vec<lever::ResumeInfo>, Error> {
        many(latest::lever::Host::list_resumes(self, opportunity_id).await)
    }

    async fn download_resume(
        &mut self,
        opportunity_id: String,
        resume_id: String,
    ) -> Result<Vec<u8>, Error> {
        down(latest::lever::Host::download_resume(self, opportunity_id, resume_id).await)
    }

    async fn list_stages(&mut self) -> Result<Vec<lever::Stage>, Error> {
        many(latest::lever::Host::list_stages(self).await)
    }

    async fn list_archive_reasons(&mut self) -> Result<Vec<lever::ArchiveReason>, Error> {
        many(latest::lever::Host::list_archive_reasons(self).await)
    }

    async fn list_users(&mut self) -> Result<Vec<lever::User>, Error> {
        let everyone = latest::lever::UserFilter {
            include_deactivated: false,
            email: None,
            access_role: None,
        };
        many(latest::lever::Host::list_users(self, everyone).await)
    }
}
